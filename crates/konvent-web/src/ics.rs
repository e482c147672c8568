//! iCalendar (RFC 5545) for council meetings, so that invitations open correctly in
//! Outlook and Thunderbird: one VTIMEZONE for Europe/Berlin, local times with TZID,
//! escaped text, CRLF line ends and lines folded at 75 octets.

use std::fmt::Write;

use jiff::Timestamp;
use jiff::civil::DateTime;

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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IcsEvent {
    pub uid: String,
    pub summary: String,
    pub description: Option<String>,
    pub location: Option<String>,
    pub url: Option<String>,
    /// Local time in Europe/Berlin.
    pub start: DateTime,
    pub end: DateTime,
    pub status: IcsStatus,
    pub sequence: u32,
    pub last_modified: Timestamp,
    pub created: Timestamp,
}

/// The usual static definition of Central European Time with its summer time rules.
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

/// Escapes a TEXT value (RFC 5545 §3.3.11).
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends one content line, folded at 75 octets without splitting a character.
fn line(out: &mut String, content: &str) {
    let mut width = 0;
    for c in content.chars() {
        let len = c.len_utf8();
        // Continuation lines start with a space, which counts toward their 75 octets.
        if width + len > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += len;
    }
    out.push_str("\r\n");
}

fn utc(ts: Timestamp) -> String {
    ts.strftime("%Y%m%dT%H%M%SZ").to_string()
}

fn local(dt: DateTime) -> String {
    dt.strftime("%Y%m%dT%H%M%S").to_string()
}

/// A calendar with the given events, published (not an invitation to reply).
pub fn calendar(name: &str, events: &[IcsEvent], now: Timestamp) -> String {
    let mut out = String::new();
    for l in [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//FITKO//konvent//DE",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
    ] {
        line(&mut out, l);
    }
    line(&mut out, &format!("X-WR-CALNAME:{}", escape(name)));
    line(&mut out, "X-WR-TIMEZONE:Europe/Berlin");
    for l in VTIMEZONE {
        line(&mut out, l);
    }
    for e in events {
        line(&mut out, "BEGIN:VEVENT");
        line(&mut out, &format!("UID:{}", escape(&e.uid)));
        line(&mut out, &format!("DTSTAMP:{}", utc(now)));
        line(
            &mut out,
            &format!("DTSTART;TZID=Europe/Berlin:{}", local(e.start)),
        );
        line(
            &mut out,
            &format!("DTEND;TZID=Europe/Berlin:{}", local(e.end)),
        );
        line(&mut out, &format!("SUMMARY:{}", escape(&e.summary)));
        let mut optional = String::new();
        if let Some(d) = &e.description {
            let _ = write!(optional, "DESCRIPTION:{}", escape(d));
            line(&mut out, &optional);
            optional.clear();
        }
        if let Some(l) = &e.location {
            line(&mut out, &format!("LOCATION:{}", escape(l)));
        }
        if let Some(u) = &e.url {
            // URL is of type URI, not TEXT: no escaping of commas.
            line(&mut out, &format!("URL:{u}"));
        }
        line(&mut out, &format!("STATUS:{}", e.status.as_str()));
        line(&mut out, &format!("SEQUENCE:{}", e.sequence));
        line(&mut out, &format!("CREATED:{}", utc(e.created)));
        line(&mut out, &format!("LAST-MODIFIED:{}", utc(e.last_modified)));
        line(&mut out, "END:VEVENT");
    }
    line(&mut out, "END:VCALENDAR");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(summary: &str, start: DateTime) -> IcsEvent {
        IcsEvent {
            uid: "session-1@konvent".into(),
            summary: summary.into(),
            description: Some("Zeile 1\nZeile 2; mit, Zeichen".into()),
            location: Some("Schwerin".into()),
            url: Some("http://127.0.0.1:8080/gremien/sitzungen/46".into()),
            start,
            end: start.checked_add(jiff::Span::new().hours(6)).expect("end"),
            status: IcsStatus::Confirmed,
            sequence: 2,
            last_modified: Timestamp::UNIX_EPOCH,
            created: Timestamp::UNIX_EPOCH,
        }
    }

    /// Joins folded lines again.
    fn unfold(ics: &str) -> String {
        ics.replace("\r\n ", "")
    }

    #[test]
    fn a_calendar_has_the_berlin_time_zone_and_local_times() {
        let ics = calendar(
            "IT-Planungsrat",
            &[event(
                "46. Sitzung",
                jiff::civil::datetime(2025, 3, 26, 10, 0, 0, 0),
            )],
            Timestamp::UNIX_EPOCH,
        );
        assert!(ics.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"));
        assert!(ics.ends_with("END:VCALENDAR\r\n"));
        assert!(ics.contains("BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n"));
        assert!(ics.contains("TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST"));
        assert!(ics.contains("DTSTART;TZID=Europe/Berlin:20250326T100000\r\n"));
        assert!(ics.contains("DTEND;TZID=Europe/Berlin:20250326T160000\r\n"));
        assert!(ics.contains("DTSTAMP:19700101T000000Z\r\n"));
        assert!(ics.contains("DESCRIPTION:Zeile 1\\nZeile 2\\; mit\\, Zeichen\r\n"));
        assert!(
            !ics.replace("\r\n", "").contains('\n'),
            "every line ends with CRLF"
        );
    }

    #[test]
    fn long_lines_fold_at_75_octets_without_splitting_umlauts() {
        let summary = "Nachbesprechung für Geschäftsstellen, Arbeitsgruppen und Digitalisierungsakteure der Fachressorts – Übersicht";
        let ics = calendar(
            "K",
            &[event(
                summary,
                jiff::civil::datetime(2025, 11, 26, 10, 0, 0, 0),
            )],
            Timestamp::UNIX_EPOCH,
        );
        for physical in ics.split("\r\n") {
            assert!(
                physical.len() <= 75,
                "{physical:?} has {} octets",
                physical.len()
            );
        }
        assert!(unfold(&ics).contains(&format!("SUMMARY:{}", escape(summary))));
    }
}
