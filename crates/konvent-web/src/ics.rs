//! iCalendar (RFC 5545) for council meetings, so that invitations open correctly in
//! Outlook and Thunderbird: one VTIMEZONE for Europe/Berlin, local times with TZID,
//! escaped text, CRLF line ends and lines folded at 75 octets.
//!
//! Written by hand: the format is small, and a writer is all we need. The same writer
//! makes the calendar entries mails carry (iMIP, RFC 6047): [`message`] wraps one event
//! with an iTIP method (RFC 5546), organizer and attendees.

use jiff::Timestamp;
use jiff::civil::DateTime;

/// STATUS of a VEVENT (RFC 5545 §3.8.1.11).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IcsStatus {
    Tentative,
    Confirmed,
    Cancelled,
}

impl IcsStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::Tentative => "TENTATIVE",
            Self::Confirmed => "CONFIRMED",
            Self::Cancelled => "CANCELLED",
        }
    }
}

/// One meeting as a VEVENT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IcsEvent {
    /// Stable across changes, e.g. `session-46@konvent`, so calendars update the entry.
    pub uid: String,
    pub summary: String,
    pub description: Option<String>,
    /// A place or a video link.
    pub location: Option<String>,
    pub url: Option<String>,
    /// Local time in Europe/Berlin.
    pub start: DateTime,
    /// Local time in Europe/Berlin.
    pub end: DateTime,
    pub status: IcsStatus,
    /// Higher after each change of the meeting.
    pub sequence: u32,
    pub last_modified: Timestamp,
    pub created: Timestamp,
}

const TZID: &str = "Europe/Berlin";

/// The usual static definition of Central European Time with the EU summer time rules
/// (since 1996): CEST from the last Sunday of March, 02:00 CET, to the last Sunday of
/// October, 03:00 CEST. Outlook and Thunderbird accept it; DTSTART is local time.
const VTIMEZONE: &[&str] = &[
    "BEGIN:VTIMEZONE",
    "TZID:Europe/Berlin",
    "X-LIC-LOCATION:Europe/Berlin",
    "BEGIN:DAYLIGHT",
    "TZOFFSETFROM:+0100",
    "TZOFFSETTO:+0200",
    "TZNAME:CEST",
    "DTSTART:19700329T020000",
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
    "END:DAYLIGHT",
    "BEGIN:STANDARD",
    "TZOFFSETFROM:+0200",
    "TZOFFSETTO:+0100",
    "TZNAME:CET",
    "DTSTART:19701025T030000",
    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
    "END:STANDARD",
    "END:VTIMEZONE",
];

/// Longest physical line, in octets, not counting the CRLF (RFC 5545 §3.1).
const MAX_LINE_OCTETS: usize = 75;

/// The iTIP method of a calendar object (RFC 5546 §1.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// For information: add it to one's calendar, no reply expected.
    Publish,
    /// An invitation, or an update of one (same UID, higher SEQUENCE).
    Request,
    /// The meeting is off (same UID, STATUS:CANCELLED).
    Cancel,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Publish => "PUBLISH",
            Self::Request => "REQUEST",
            Self::Cancel => "CANCEL",
        }
    }
}

/// An organizer or attendee: a name and an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub name: String,
    pub email: String,
}

/// A calendar with the given events, published (not an invitation to reply).
pub fn calendar(name: &str, events: &[IcsEvent], now: Timestamp) -> String {
    let mut out = String::new();
    push_head(&mut out, Method::Publish);
    push_line(&mut out, &format!("X-WR-CALNAME:{}", escape(name)));
    push_line(&mut out, &format!("X-WR-TIMEZONE:{TZID}"));
    for content in VTIMEZONE {
        push_line(&mut out, content);
    }
    let dtstamp = utc(now);
    for event in events {
        push_event(&mut out, event, &dtstamp, None);
    }
    push_line(&mut out, "END:VCALENDAR");
    out
}

/// One event as a mail carries it (iMIP): with `method`, its organizer and attendees.
/// Replies are not processed by konvent, so no reply is asked for (`RSVP=FALSE`).
pub fn message(
    method: Method,
    event: &IcsEvent,
    organizer: &Person,
    attendees: &[Person],
    now: Timestamp,
) -> String {
    let mut out = String::new();
    push_head(&mut out, method);
    for content in VTIMEZONE {
        push_line(&mut out, content);
    }
    push_event(&mut out, event, &utc(now), Some((organizer, attendees)));
    push_line(&mut out, "END:VCALENDAR");
    out
}

fn push_head(out: &mut String, method: Method) {
    for content in [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//FITKO//konvent//DE",
        "CALSCALE:GREGORIAN",
    ] {
        push_line(out, content);
    }
    push_line(out, &format!("METHOD:{}", method.as_str()));
}

/// `;CN="…":mailto:…` of an organizer or attendee. A quoted parameter value may hold
/// neither a double quote nor a control character (RFC 5545 §3.2); the address is a URI.
fn party(who: &Person) -> String {
    let name: String = who
        .name
        .chars()
        .filter(|c| *c != '"' && !c.is_control())
        .collect();
    format!("CN=\"{name}\":mailto:{}", without_controls(&who.email))
}

fn push_event(
    out: &mut String,
    e: &IcsEvent,
    dtstamp: &str,
    parties: Option<(&Person, &[Person])>,
) {
    push_line(out, "BEGIN:VEVENT");
    push_line(out, &format!("UID:{}", escape(&e.uid)));
    push_line(out, &format!("DTSTAMP:{dtstamp}"));
    push_line(out, &format!("DTSTART;TZID={TZID}:{}", local(e.start)));
    push_line(out, &format!("DTEND;TZID={TZID}:{}", local(e.end)));
    push_line(out, &format!("SUMMARY:{}", escape(&e.summary)));
    if let Some(description) = &e.description {
        push_line(out, &format!("DESCRIPTION:{}", escape(description)));
    }
    if let Some(location) = &e.location {
        push_line(out, &format!("LOCATION:{}", escape(location)));
    }
    if let Some(url) = &e.url {
        // URL has the type URI, not TEXT: commas and semicolons stay as they are.
        push_line(out, &format!("URL:{}", without_controls(url)));
    }
    push_line(out, &format!("STATUS:{}", e.status.as_str()));
    push_line(out, &format!("SEQUENCE:{}", e.sequence));
    push_line(out, &format!("CREATED:{}", utc(e.created)));
    push_line(out, &format!("LAST-MODIFIED:{}", utc(e.last_modified)));
    if let Some((organizer, attendees)) = parties {
        push_line(out, &format!("ORGANIZER;{}", party(organizer)));
        for attendee in attendees {
            push_line(
                out,
                &format!(
                    "ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=FALSE;{}",
                    party(attendee)
                ),
            );
        }
    }
    push_line(out, "END:VEVENT");
}

/// Escapes a TEXT value (RFC 5545 §3.3.11): backslash, semicolon, comma, and line
/// breaks (LF, CRLF or a lone CR) as `\n`. Other control characters are not allowed in
/// TEXT and are dropped; a tab stays.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\r' => out.push_str("\\n"),
            '\t' => out.push('\t'),
            c if c.is_ascii_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A URI value may not break the line it is on.
fn without_controls(value: &str) -> String {
    value.chars().filter(|c| !c.is_ascii_control()).collect()
}

/// Appends one content line with CRLF, folded after 75 octets without splitting a UTF-8
/// character; each continuation line starts with a single space, which counts.
fn push_line(out: &mut String, content: &str) {
    let mut width = 0;
    for c in content.chars() {
        let len = c.len_utf8();
        if width + len > MAX_LINE_OCTETS {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += len;
    }
    out.push_str("\r\n");
}

/// DATE-TIME in UTC ("form #2").
fn utc(ts: Timestamp) -> String {
    ts.strftime("%Y%m%dT%H%M%SZ").to_string()
}

/// DATE-TIME as local time, to go with a TZID ("form #3").
fn local(dt: DateTime) -> String {
    dt.strftime("%Y%m%dT%H%M%S").to_string()
}

#[cfg(test)]
mod tests {
    use jiff::civil::{Date, Weekday, datetime};
    use jiff::tz::{Offset, TimeZone};

    use super::*;

    fn ts(text: &str) -> Timestamp {
        text.parse().expect("a timestamp")
    }

    fn event(summary: &str, start: DateTime) -> IcsEvent {
        IcsEvent {
            uid: "session-46@konvent".into(),
            summary: summary.into(),
            description: None,
            location: None,
            url: None,
            start,
            end: start
                .checked_add(jiff::Span::new().hours(6))
                .expect("an end"),
            status: IcsStatus::Confirmed,
            sequence: 0,
            last_modified: ts("2025-01-15T09:00:00Z"),
            created: ts("2025-01-15T09:00:00Z"),
        }
    }

    /// Joins folded lines again (RFC 5545 §3.1).
    fn unfold(ics: &str) -> String {
        ics.replace("\r\n ", "")
    }

    /// The inverse of `escape`, for round trips.
    fn unescape(value: &str) -> String {
        let mut out = String::new();
        let mut chars = value.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some('n' | 'N') => out.push('\n'),
                Some(escaped) => out.push(escaped),
                None => break,
            }
        }
        out
    }

    #[test]
    fn a_small_calendar_is_written_exactly() {
        let mut e = event(
            "46. Sitzung des IT-Planungsrats",
            datetime(2025, 3, 26, 10, 0, 0, 0),
        );
        e.description = Some("Tagesordnung: TOP 1, TOP 2".into());
        e.location = Some("Berlin; Bundesrat".into());
        e.url = Some("https://konvent.example/gremien/sitzungen/46".into());
        e.sequence = 2;
        e.last_modified = ts("2025-03-01T12:30:00Z");

        let ics = calendar("IT-Planungsrat", &[e], ts("2025-03-02T08:00:00Z"));

        let expected = "BEGIN:VCALENDAR\r\n\
            VERSION:2.0\r\n\
            PRODID:-//FITKO//konvent//DE\r\n\
            CALSCALE:GREGORIAN\r\n\
            METHOD:PUBLISH\r\n\
            X-WR-CALNAME:IT-Planungsrat\r\n\
            X-WR-TIMEZONE:Europe/Berlin\r\n\
            BEGIN:VTIMEZONE\r\n\
            TZID:Europe/Berlin\r\n\
            X-LIC-LOCATION:Europe/Berlin\r\n\
            BEGIN:DAYLIGHT\r\n\
            TZOFFSETFROM:+0100\r\n\
            TZOFFSETTO:+0200\r\n\
            TZNAME:CEST\r\n\
            DTSTART:19700329T020000\r\n\
            RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n\
            END:DAYLIGHT\r\n\
            BEGIN:STANDARD\r\n\
            TZOFFSETFROM:+0200\r\n\
            TZOFFSETTO:+0100\r\n\
            TZNAME:CET\r\n\
            DTSTART:19701025T030000\r\n\
            RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\n\
            END:STANDARD\r\n\
            END:VTIMEZONE\r\n\
            BEGIN:VEVENT\r\n\
            UID:session-46@konvent\r\n\
            DTSTAMP:20250302T080000Z\r\n\
            DTSTART;TZID=Europe/Berlin:20250326T100000\r\n\
            DTEND;TZID=Europe/Berlin:20250326T160000\r\n\
            SUMMARY:46. Sitzung des IT-Planungsrats\r\n\
            DESCRIPTION:Tagesordnung: TOP 1\\, TOP 2\r\n\
            LOCATION:Berlin\\; Bundesrat\r\n\
            URL:https://konvent.example/gremien/sitzungen/46\r\n\
            STATUS:CONFIRMED\r\n\
            SEQUENCE:2\r\n\
            CREATED:20250115T090000Z\r\n\
            LAST-MODIFIED:20250301T123000Z\r\n\
            END:VEVENT\r\n\
            END:VCALENDAR\r\n";
        assert_eq!(ics, expected);
    }

    #[test]
    fn an_invitation_names_its_method_organizer_and_attendee_and_folds() {
        let mut e = event("46. Sitzung", datetime(2025, 3, 26, 10, 0, 0, 0));
        e.sequence = 3;
        let organizer = Person {
            name: "Geschäftsstelle \"IT-PLR\"".into(),
            email: "noreply@konvent.example".into(),
        };
        let attendee = Person {
            name: "Ä".repeat(40),
            email: "eva@example.org".into(),
        };
        let ics = message(
            Method::Request,
            &e,
            &organizer,
            std::slice::from_ref(&attendee),
            Timestamp::UNIX_EPOCH,
        );
        assert!(ics.starts_with("BEGIN:VCALENDAR\r\n"));
        assert!(ics.contains("\r\nMETHOD:REQUEST\r\n"));
        assert!(ics.contains("\r\nUID:session-46@konvent\r\nDTSTAMP:"));
        assert!(ics.contains("\r\nSEQUENCE:3\r\n"));
        assert!(!ics.contains("X-WR-CALNAME"), "one event, not a feed");
        let unfolded = unfold(&ics);
        assert!(unfolded.contains(
            "\r\nORGANIZER;CN=\"Geschäftsstelle IT-PLR\":mailto:noreply@konvent.example\r\n"
        ));
        assert!(unfolded.contains(&format!(
            "\r\nATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=FALSE;CN=\"{}\":mailto:eva@example.org\r\n",
            "Ä".repeat(40)
        )));
        for line in ics.split("\r\n") {
            assert!(line.len() <= MAX_LINE_OCTETS, "{line:?}");
        }
        let cancel = message(Method::Cancel, &e, &organizer, &[], Timestamp::UNIX_EPOCH);
        assert!(cancel.contains("\r\nMETHOD:CANCEL\r\n"));
        assert!(!cancel.contains("ATTENDEE"));
    }

    #[test]
    fn an_empty_calendar_still_has_the_time_zone() {
        let ics = calendar("Leer", &[], ts("2025-03-02T08:00:00Z"));
        assert_eq!(ics.matches("BEGIN:VTIMEZONE\r\n").count(), 1);
        assert!(!ics.contains("BEGIN:VEVENT"));
        assert!(ics.ends_with("END:VTIMEZONE\r\nEND:VCALENDAR\r\n"));
    }

    #[test]
    fn text_values_escape_backslash_semicolon_comma_and_line_breaks() {
        assert_eq!(
            escape("a\\b;c,d\ne\r\nf\rg:h\u{7}i\tj"),
            "a\\\\b\\;c\\,d\\ne\\nf\\ng:hi\tj"
        );
        assert_eq!(escape("Grüße, Ihr IT-PLR"), "Grüße\\, Ihr IT-PLR");
    }

    #[test]
    fn every_value_is_escaped_but_the_url() {
        let mut e = event("Sitzung; 46, Teil 1", datetime(2025, 3, 26, 10, 0, 0, 0));
        e.uid = "a,b@konvent".into();
        e.description = Some("Zeile 1\nZeile 2".into());
        e.location = Some("Raum 1, Haus 2".into());
        e.url = Some("https://konvent.example/a?b=1;c=2,3\r\nX-EVIL:1".into());

        let ics = calendar("Kalender, IT-PLR", &[e], Timestamp::UNIX_EPOCH);

        assert!(ics.contains("\r\nX-WR-CALNAME:Kalender\\, IT-PLR\r\n"));
        assert!(ics.contains("\r\nUID:a\\,b@konvent\r\n"));
        assert!(ics.contains("\r\nSUMMARY:Sitzung\\; 46\\, Teil 1\r\n"));
        assert!(ics.contains("\r\nDESCRIPTION:Zeile 1\\nZeile 2\r\n"));
        assert!(ics.contains("\r\nLOCATION:Raum 1\\, Haus 2\r\n"));
        assert!(ics.contains("\r\nURL:https://konvent.example/a?b=1;c=2,3X-EVIL:1\r\n"));
        assert!(
            !ics.contains("\r\nX-EVIL"),
            "no line injected through the URL"
        );
    }

    #[test]
    fn long_german_text_folds_at_75_octets_without_splitting_a_character() {
        let description = "Nachbesprechung der 46. Sitzung für Geschäftsstellen, \
            Arbeitsgruppen und Digitalisierungsverantwortliche der Fachressorts – \
            Übersicht über alle für die Fachministerkonferenzen relevanten Beschlüsse; \
            Rückfragen bitte vorab an die Geschäftsstelle.\nGrüße aus Köln 🗓";
        let summary = "ä".repeat(80);
        let mut e = event(&summary, datetime(2025, 11, 26, 10, 0, 0, 0));
        e.description = Some(description.into());

        let ics = calendar("K", &[e], Timestamp::UNIX_EPOCH);

        let lines: Vec<&str> = ics.split("\r\n").collect();
        for physical in &lines {
            assert!(
                physical.len() <= MAX_LINE_OCTETS,
                "{physical:?} has {} octets",
                physical.len()
            );
        }
        // "SUMMARY:" and 33 two-octet umlauts make 74 octets; a 34th would not fit.
        assert!(lines.contains(&format!("SUMMARY:{}", "ä".repeat(33)).as_str()));
        assert!(
            lines.iter().filter(|l| l.starts_with(' ')).count() >= 4,
            "the long lines were folded"
        );
        for continuation in lines.iter().filter(|l| l.starts_with(' ')) {
            assert!(!continuation.starts_with("  "), "{continuation:?}");
        }

        let unfolded = unfold(&ics);
        let value = |name: &str| {
            unfolded
                .split("\r\n")
                .find_map(|l| l.strip_prefix(name))
                .map(unescape)
                .expect("the property")
        };
        assert_eq!(value("DESCRIPTION:"), description);
        assert_eq!(value("SUMMARY:"), summary);
    }

    #[test]
    fn every_line_ends_with_crlf() {
        let mut e = event("Sitzung", datetime(2025, 3, 26, 10, 0, 0, 0));
        e.description = Some(format!("CRLF\r\nLF\nCR\r{}", "x".repeat(200)));
        let ics = calendar("K", &[e], Timestamp::UNIX_EPOCH);

        assert!(ics.ends_with("\r\n"));
        let bytes = ics.as_bytes();
        for (i, b) in bytes.iter().enumerate() {
            match b {
                b'\n' => assert_eq!(bytes.get(i.wrapping_sub(1)), Some(&b'\r'), "at {i}"),
                b'\r' => assert_eq!(bytes.get(i + 1), Some(&b'\n'), "at {i}"),
                _ => {}
            }
        }
        assert!(!ics.contains("\r\n\r\n"), "no empty lines");
    }

    /// The offset the static VTIMEZONE above gives a local time.
    fn vtimezone_offset(dt: DateTime) -> Offset {
        let last_sunday = |month: i8| {
            jiff::civil::date(dt.year(), month, 1)
                .nth_weekday_of_month(-1, Weekday::Sunday)
                .expect("a last Sunday")
        };
        let summer_from = last_sunday(3).at(2, 0, 0, 0);
        let summer_until = last_sunday(10).at(3, 0, 0, 0);
        if summer_from <= dt && dt < summer_until {
            Offset::constant(2)
        } else {
            Offset::constant(1)
        }
    }

    #[test]
    fn summer_and_winter_events_keep_their_local_time_and_the_berlin_offsets() {
        let summer = datetime(2025, 6, 11, 10, 0, 0, 0);
        let winter = datetime(2025, 12, 10, 10, 0, 0, 0);
        let mut second = event("47. Sitzung", winter);
        second.uid = "session-47@konvent".into();

        let ics = calendar(
            "IT-Planungsrat",
            &[event("46. Sitzung", summer), second],
            Timestamp::UNIX_EPOCH,
        );

        // Wall-clock times, never converted; the one VTIMEZONE says which offset applies.
        assert_eq!(ics.matches("BEGIN:VTIMEZONE").count(), 1);
        assert!(ics.contains("\r\nDTSTART;TZID=Europe/Berlin:20250611T100000\r\n"));
        assert!(ics.contains("\r\nDTEND;TZID=Europe/Berlin:20250611T160000\r\n"));
        assert!(ics.contains("\r\nDTSTART;TZID=Europe/Berlin:20251210T100000\r\n"));
        assert!(ics.contains("\r\nDTEND;TZID=Europe/Berlin:20251210T160000\r\n"));

        // The static rules agree with the time zone database: for the two events and on
        // both sides of every switch in the years ahead.
        let berlin = TimeZone::get(TZID).expect("the tz database knows Europe/Berlin");
        let tzdb_offset = |dt: DateTime| dt.to_zoned(berlin.clone()).expect("a time").offset();
        assert_eq!(vtimezone_offset(summer), Offset::constant(2));
        assert_eq!(vtimezone_offset(winter), Offset::constant(1));
        let mut checked = vec![summer, winter];
        for year in 2000..=2037 {
            for month in [3, 10] {
                let switch = Date::new(year, month, 1)
                    .and_then(|d| d.nth_weekday_of_month(-1, Weekday::Sunday))
                    .expect("a last Sunday");
                // Before and after the switch, away from the skipped or repeated hour.
                checked.extend([switch.at(1, 0, 0, 0), switch.at(4, 0, 0, 0)]);
            }
        }
        for dt in checked {
            assert_eq!(vtimezone_offset(dt), tzdb_offset(dt), "at {dt}");
        }
    }
}
