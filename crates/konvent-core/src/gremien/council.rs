//! Council sessions, their agendas, resolutions and the conferences' reports (G4, G5):
//! the input types forms are parsed into, with their rules.

use std::fmt;
use std::str::FromStr;

use jiff::civil::{Date, Time};
use serde::{Deserialize, Serialize};

use super::directory::{MAX_TEXT, ResolutionNumber};
use super::majority::DraftKind;
use crate::validation::{FieldErrors, optional_date, optional_text};

/// From this session on, every agenda carries "Reporting FachMK" (seed deck, slide
/// "Reporting zu jeder IT-PLR Sitzung").
pub const FIRST_SESSION_WITH_REPORTING: i64 = 43;
/// The title of the standard agenda item.
pub const REPORTING_ITEM_TITLE: &str = "Reporting FachMK";
/// The longest Markdown text of a resolution or report answer.
pub const MAX_BODY: usize = 20_000;

/// Whether a session of this number gets the standard item by itself.
pub fn has_standard_reporting_item(number: i64) -> bool {
    number >= FIRST_SESSION_WITH_REPORTING
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionState {
    Planned,
    Invited,
    Held,
    Cancelled,
}

impl SessionState {
    pub const ALL: [Self; 4] = [Self::Planned, Self::Invited, Self::Held, Self::Cancelled];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Planned => "planned",
            Self::Invited => "invited",
            Self::Held => "held",
            Self::Cancelled => "cancelled",
        }
    }
}

impl FromStr for SessionState {
    type Err = &'static str;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|x| x.as_str() == s.trim())
            .ok_or("Unbekannter Stand der Sitzung.")
    }
}

impl fmt::Display for SessionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A council session as entered in a form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInput {
    pub number: i64,
    pub date: Date,
    pub start_time: Time,
    pub end_time: Time,
    pub place: Option<String>,
    pub video_url: Option<String>,
    pub state: SessionState,
}

/// A clock time written `13:00` (seconds are dropped).
pub fn parse_time(value: &str) -> Option<Time> {
    let (h, m) = value.trim().split_once(':')?;
    let m = m.get(..2).unwrap_or(m);
    Time::new(h.parse().ok()?, m.parse().ok()?, 0, 0).ok()
}

/// An `http(s)://` address, for video links and resolution links.
pub fn parse_web_address(value: &str) -> Option<String> {
    let value = value.trim();
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"))?;
    let valid = !rest.is_empty()
        && value.len() <= 2000
        && !value
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '<' || c == '>');
    valid.then(|| value.to_owned())
}

/// A meeting's required date and its times (from 10:00 to `default_end` when left
/// empty), the end after the beginning.
fn meeting_time(
    errors: &mut FieldErrors,
    [date, start_time, end_time]: [&str; 3],
    default_end: Time,
) -> (Option<Date>, Time, Time) {
    let date = optional_date(errors, "date", date);
    if date.is_none() && errors.get("date").is_none() {
        errors.add("date", "required", "Bitte ausfüllen.");
    }
    let start_time = time_field(
        errors,
        "start_time",
        start_time,
        Time::constant(10, 0, 0, 0),
    );
    let end_time = time_field(errors, "end_time", end_time, default_end);
    if end_time <= start_time && errors.get("start_time").is_none() {
        errors.add(
            "end_time",
            "end-before-start",
            "Das Ende liegt vor dem Beginn.",
        );
    }
    (date, start_time, end_time)
}

/// An optional video link: an https:// address, or none when left empty.
fn video_field(errors: &mut FieldErrors, value: &str) -> Option<String> {
    match value.trim() {
        "" => None,
        v => parse_web_address(v).or_else(|| {
            errors.add(
                "video_url",
                "invalid-url",
                "Bitte eine Adresse mit https:// angeben.",
            );
            None
        }),
    }
}

fn time_field(errors: &mut FieldErrors, field: &'static str, value: &str, default: Time) -> Time {
    if value.trim().is_empty() {
        return default;
    }
    parse_time(value).unwrap_or_else(|| {
        errors.add(
            field,
            "invalid-time",
            "Bitte eine Uhrzeit wie 10:00 angeben.",
        );
        default
    })
}

impl SessionInput {
    #[allow(clippy::too_many_arguments)]
    pub fn parse(
        number: &str,
        date: &str,
        start_time: &str,
        end_time: &str,
        place: &str,
        video_url: &str,
        state: &str,
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let number = match number.trim().parse::<i64>() {
            Ok(n) if (1..=9999).contains(&n) => Some(n),
            _ => {
                errors.add(
                    "number",
                    "invalid-number",
                    "Bitte die Nummer der Sitzung angeben, z. B. 47.",
                );
                None
            }
        };
        let (date, start_time, end_time) = meeting_time(
            &mut errors,
            [date, start_time, end_time],
            Time::constant(16, 0, 0, 0),
        );
        let place = optional_text(&mut errors, "place", place, MAX_TEXT);
        let video_url = video_field(&mut errors, video_url);
        let state = state
            .parse::<SessionState>()
            .map_err(|m| errors.add("state", "invalid-choice", m))
            .ok();
        match (number, date, state) {
            (Some(number), Some(date), Some(state)) if errors.is_empty() => Ok(Self {
                number,
                date,
                start_time,
                end_time,
                place,
                video_url,
                state,
            }),
            _ => Err(errors),
        }
    }
}

/// A follow-up meeting's date, time and video link as the office edits them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUpInput {
    pub date: Date,
    pub start_time: Time,
    pub end_time: Time,
    pub video_url: Option<String>,
}

impl FollowUpInput {
    pub fn parse(
        date: &str,
        start_time: &str,
        end_time: &str,
        video_url: &str,
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let (date, start_time, end_time) = meeting_time(
            &mut errors,
            [date, start_time, end_time],
            Time::constant(11, 30, 0, 0),
        );
        let video_url = video_field(&mut errors, video_url);
        match date {
            Some(date) if errors.is_empty() => Ok(Self {
                date,
                start_time,
                end_time,
                video_url,
            }),
            _ => Err(errors),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResolutionState {
    Draft,
    Decided,
    Published,
}

impl ResolutionState {
    pub const ALL: [Self; 3] = [Self::Draft, Self::Decided, Self::Published];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Decided => "decided",
            Self::Published => "published",
        }
    }

    /// Until it is published a resolution is part of the confidential decision papers:
    /// only council members and admins see it.
    pub fn is_public(self) -> bool {
        self == Self::Published
    }
}

impl FromStr for ResolutionState {
    type Err = &'static str;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|x| x.as_str() == s.trim())
            .ok_or("Unbekannter Stand des Beschlusses.")
    }
}

/// Which resolutions a reader may see: the public sees published ones only; council
/// members and admins see the confidential decision papers too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    Public,
    Confidential,
}

impl Visibility {
    pub fn allows(self, state: ResolutionState) -> bool {
        self == Self::Confidential || state.is_public()
    }
}

/// A resolution as entered in a form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolutionInput {
    pub number: ResolutionNumber,
    pub title: String,
    /// Markdown; rendered sanitized.
    pub body: String,
    pub links: Vec<String>,
    pub session_number: Option<i64>,
    pub state: ResolutionState,
    /// Which majority the draft needs (G9); `parse` gives a binding decision, forms set it.
    #[serde(default)]
    pub kind: DraftKind,
}

impl ResolutionInput {
    pub fn parse(
        number: &str,
        title: &str,
        body: &str,
        links: &str,
        session_number: &str,
        state: &str,
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let number = ResolutionNumber::parse(number)
            .map_err(|m| errors.add("number", "invalid-resolution", m))
            .ok();
        let title = crate::validation::required_name(&mut errors, "title", title, MAX_TEXT);
        let body = optional_text(&mut errors, "body", body, MAX_BODY).unwrap_or_default();
        let mut parsed_links = Vec::new();
        for line in links.lines().map(str::trim).filter(|l| !l.is_empty()) {
            match parse_web_address(line) {
                Some(l) if parsed_links.len() < 20 => parsed_links.push(l),
                Some(_) => {
                    errors.add("links", "too-many", "Höchstens 20 Links.");
                    break;
                }
                None => {
                    errors.add(
                        "links",
                        "invalid-url",
                        format!("Kein gültiger Link: {line}"),
                    );
                    break;
                }
            }
        }
        let session_number = match session_number.trim() {
            "" => None,
            v => v.parse::<i64>().ok().filter(|n| *n > 0).or_else(|| {
                errors.add(
                    "session_number",
                    "invalid-number",
                    "Bitte die Nummer der Sitzung angeben.",
                );
                None
            }),
        };
        let state = state
            .parse::<ResolutionState>()
            .map_err(|m| errors.add("state", "invalid-choice", m))
            .ok();
        match (number, state) {
            (Some(number), Some(state)) if errors.is_empty() => Ok(Self {
                number,
                title,
                body,
                links: parsed_links,
                session_number,
                state,
                kind: DraftKind::default(),
            }),
            _ => Err(errors),
        }
    }
}

/// The guiding questions of the informal report (seed deck, "Beispiele für Leitfragen").
pub const GUIDING_QUESTIONS: [(&str, &str); 4] = [
    (
        "collaboration",
        "Welche Formen der Zusammenarbeit gibt es aktuell oder wurden ggf. neu implementiert? Hat ein Austausch stattgefunden?",
    ),
    (
        "perception",
        "Wie wird der IT-PLR von der FachMK wahrgenommen? Ist die FachMK an einem Austausch interessiert?",
    ),
    (
        "topics",
        "Gibt es anschlussfähige Themen oder andere Anliegen aus der FachMK für den IT-PLR?",
    ),
    (
        "problems",
        "Wo gibt es aktuell Probleme und oder Hindernisse in der Zusammenarbeit?",
    ),
];

/// A spokesperson's report for one session: answers along the guiding questions, or
/// "Kein Austausch – kein Bericht".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportInput {
    pub no_exchange: bool,
    pub collaboration: Option<String>,
    pub perception: Option<String>,
    pub topics: Option<String>,
    pub problems: Option<String>,
}

impl ReportInput {
    /// "No exchange, no report": a valid answer with nothing else.
    pub fn no_exchange() -> Self {
        Self {
            no_exchange: true,
            collaboration: None,
            perception: None,
            topics: None,
            problems: None,
        }
    }

    /// A report needs at least one answer.
    pub fn parse(
        collaboration: &str,
        perception: &str,
        topics: &str,
        problems: &str,
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let report = Self {
            no_exchange: false,
            collaboration: optional_text(&mut errors, "collaboration", collaboration, MAX_BODY),
            perception: optional_text(&mut errors, "perception", perception, MAX_BODY),
            topics: optional_text(&mut errors, "topics", topics, MAX_BODY),
            problems: optional_text(&mut errors, "problems", problems, MAX_BODY),
        };
        let empty = report.collaboration.is_none()
            && report.perception.is_none()
            && report.topics.is_none()
            && report.problems.is_none();
        if empty && errors.is_empty() {
            errors.add(
                "collaboration",
                "report-empty",
                "Bitte mindestens eine Leitfrage beantworten – oder „Kein Austausch – kein Bericht“ wählen.",
            );
        }
        errors.into_result(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_item_starts_with_the_43rd_session() {
        assert!(!has_standard_reporting_item(42));
        assert!(has_standard_reporting_item(43));
        assert!(has_standard_reporting_item(48));
    }

    #[test]
    fn a_session_needs_number_and_date_and_an_end_after_its_start() {
        let s = SessionInput::parse("46", "26.03.2025", "10:00", "15:30", "Schwerin", "", "held")
            .expect("valid");
        assert_eq!(
            (s.number, s.date.to_string()),
            (46, "2025-03-26".to_owned())
        );
        let e = SessionInput::parse("x", "", "14:00", "13:00", "", "javascript:alert(1)", "soon")
            .expect_err("invalid");
        for field in ["number", "date", "end_time", "video_url", "state"] {
            assert!(e.get(field).is_some(), "{field} must be refused");
        }
    }

    #[test]
    fn resolutions_need_a_valid_number_title_and_links() {
        let r = ResolutionInput::parse(
            "2024/15",
            "Registermodernisierung",
            "Text",
            "https://example.org/a\n",
            "43",
            "published",
        )
        .expect("valid");
        assert_eq!(r.links, vec!["https://example.org/a".to_owned()]);
        let e = ResolutionInput::parse("24/15", "", "", "ftp://x", "x", "decided")
            .expect_err("invalid");
        for field in ["number", "title", "links", "session_number"] {
            assert!(e.get(field).is_some(), "{field} must be refused");
        }
        assert!(ResolutionInput::parse("2025/01", "Entwurf", "", "", "", "draft").is_ok());
    }

    #[test]
    fn an_empty_report_is_refused_but_no_exchange_is_valid() {
        assert!(ReportInput::parse("", " ", "", "").is_err());
        assert!(ReportInput::parse("Austausch mit der AG", "", "", "").is_ok());
        assert!(ReportInput::no_exchange().no_exchange);
    }

    #[test]
    fn times_are_read_as_hours_and_minutes() {
        assert_eq!(parse_time("13:05"), Some(Time::constant(13, 5, 0, 0)));
        assert_eq!(parse_time("13:05:00"), Some(Time::constant(13, 5, 0, 0)));
        assert_eq!(parse_time("25:00"), None);
        assert_eq!(parse_time("1300"), None);
    }
}
