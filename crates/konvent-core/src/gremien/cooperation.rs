//! The spokespersons' duties, the conferences' concerns, and workshop results (G3, G7):
//! their rules and the input types forms are parsed into.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::council::MAX_BODY;
use super::directory::MAX_TEXT;
use crate::validation::{FieldErrors, optional_text, required_text};

/// When a duty falls due relative to the decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DutyPhase {
    Before,
    During,
    After,
}

impl DutyPhase {
    pub const ALL: [Self; 3] = [Self::Before, Self::During, Self::After];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Before => "before",
            Self::During => "during",
            Self::After => "after",
        }
    }
}

impl FromStr for DutyPhase {
    type Err = &'static str;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or("Unbekannte Phase.")
    }
}

/// The spokesperson's tasks around a resolution relevant for their conference, from the
/// deck's slide "Rolle und Aufgaben der fachpolitischen Sprecher:innen". Days are
/// relative to the session that decides (negative: before).
pub const RESOLUTION_DUTIES: [(DutyPhase, &str, i64); 7] = [
    (
        DutyPhase::Before,
        "Anliegen der FachMK zum Beschluss entgegennehmen und in den IT-PLR einbringen",
        -14,
    ),
    (
        DutyPhase::Before,
        "Umsetzungseinbindung, fachliche Unterstützung und erforderliche Ressourcen der FachMK vor dem Beschluss sicherstellen",
        -7,
    ),
    (
        DutyPhase::During,
        "Vertreter:innen der FachMK zur Teilnahme oder zu einem Impulsvortrag in der Sitzung einladen",
        0,
    ),
    (
        DutyPhase::After,
        "Beschluss als Tagesordnungspunkt bei der FachMK vorstellen",
        42,
    ),
    (
        DutyPhase::After,
        "Umsetzungseinbindung der FachMK nach dem Beschluss sicherstellen",
        56,
    ),
    (
        DutyPhase::After,
        "Gemeinsame Kommunikation prüfen (z. B. Pressegespräch)",
        28,
    ),
    (
        DutyPhase::After,
        "FITKO bei Unterstützungsbedarf einbinden",
        56,
    ),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConcernKind {
    /// An Anliegen of the conference for the council.
    Concern,
    /// A topic proposed for the collaboration.
    Topic,
}

impl ConcernKind {
    pub const ALL: [Self; 2] = [Self::Concern, Self::Topic];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Concern => "concern",
            Self::Topic => "topic",
        }
    }
}

impl FromStr for ConcernKind {
    type Err = &'static str;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or("Bitte Anliegen oder Themenvorschlag wählen.")
    }
}

/// How the office dealt with a concern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConcernStatus {
    Open,
    /// Taken onto the agenda of a council session.
    Accepted,
    Answered,
    Declined,
}

impl ConcernStatus {
    pub const ALL: [Self; 4] = [Self::Open, Self::Accepted, Self::Answered, Self::Declined];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Accepted => "accepted",
            Self::Answered => "answered",
            Self::Declined => "declined",
        }
    }
}

impl FromStr for ConcernStatus {
    type Err = &'static str;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or("Unbekannter Stand.")
    }
}

/// A concern or topic proposal as submitted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConcernInput {
    pub kind: ConcernKind,
    pub title: String,
    pub body: String,
}

impl ConcernInput {
    pub fn parse(kind: &str, title: &str, body: &str) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let kind = kind
            .parse::<ConcernKind>()
            .map_err(|m| errors.add("kind", "invalid-choice", m))
            .ok();
        let title = crate::validation::required_name(&mut errors, "title", title, MAX_TEXT);
        let body = required_text(&mut errors, "body", body, MAX_BODY);
        match kind {
            Some(kind) if errors.is_empty() => Ok(Self { kind, title, body }),
            _ => Err(errors),
        }
    }
}

/// The office's decision on a concern: accepted onto a session's agenda, answered or
/// declined (both with an answer the submitter reads).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TriageInput {
    pub status: ConcernStatus,
    pub answer: Option<String>,
    pub session_number: Option<i64>,
}

impl TriageInput {
    pub fn parse(status: &str, answer: &str, session_number: &str) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let status = status
            .parse::<ConcernStatus>()
            .map_err(|m| errors.add("status", "invalid-choice", m))
            .ok();
        let answer = optional_text(&mut errors, "answer", answer, MAX_BODY);
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
        match status {
            Some(ConcernStatus::Accepted)
                if session_number.is_none() && errors.get("session_number").is_none() =>
            {
                errors.add(
                    "session_number",
                    "accepted-needs-session",
                    "Für „auf die Tagesordnung genommen“ bitte die Sitzung angeben.",
                );
            }
            Some(ConcernStatus::Answered | ConcernStatus::Declined)
                if answer.is_none() && errors.get("answer").is_none() =>
            {
                errors.add(
                    "answer",
                    "answer-needed",
                    "Bitte eine Antwort oder Begründung für die Konferenz angeben.",
                );
            }
            _ => {}
        }
        match status {
            Some(status) if errors.is_empty() => Ok(Self {
                status,
                answer,
                session_number,
            }),
            _ => Err(errors),
        }
    }
}

/// One group's work result for one workshop question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkResultInput {
    pub group: String,
    pub text: String,
}

impl WorkResultInput {
    pub fn parse(group: &str, text: &str) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let group = required_text(&mut errors, "group", group, 100);
        let text = required_text(&mut errors, "text", text, MAX_BODY);
        errors.into_result(Self { group, text })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_duties_cover_before_during_and_after_the_decision() {
        for phase in DutyPhase::ALL {
            assert!(
                RESOLUTION_DUTIES.iter().any(|(p, _, _)| *p == phase),
                "{phase:?}"
            );
        }
    }

    #[test]
    fn an_accepted_concern_needs_a_session_and_a_declined_one_an_answer() {
        assert!(TriageInput::parse("accepted", "", "").is_err());
        assert!(TriageInput::parse("accepted", "", "49").is_ok());
        let e = TriageInput::parse("declined", " ", "").expect_err("needs answer");
        assert_eq!(e.get("answer").map(|e| e.code), Some("answer-needed"));
        assert!(TriageInput::parse("answered", "Siehe Beschluss 2024/15.", "").is_ok());
    }

    #[test]
    fn concerns_need_a_title_and_a_text() {
        assert!(
            ConcernInput::parse("topic", "Registerzugang", "Bitte in der 49. Sitzung.").is_ok()
        );
        let e = ConcernInput::parse("wish", "", "").expect_err("invalid");
        for field in ["kind", "title", "body"] {
            assert!(e.get(field).is_some(), "{field}");
        }
    }
}
