//! The live convention (DESIGN.md K1–K7, K12–K15): events with a timed agenda, rooms with
//! their microphone rule, and what the lobby says before and during the event. Live
//! commands are in [`live`], video links in [`video`].

pub mod live;
pub mod log;
pub mod map;
pub mod moderation;
pub mod networking;
pub mod podium;
pub mod registration;
pub mod video;

use std::fmt;
use std::str::FromStr;

use jiff::tz::TimeZone;
use jiff::{Timestamp, Zoned};
use serde::{Deserialize, Serialize};

/// Events are planned and shown in German local time.
pub const TIME_ZONE: &str = "Europe/Berlin";

/// Berlin's time zone (bundled with jiff, so it works without a system tz database).
pub fn berlin() -> TimeZone {
    TimeZone::get(TIME_ZONE).unwrap_or(TimeZone::UTC)
}

/// The default number of people from which joiners are muted (K4, "Ab 20 Personen").
pub const DEFAULT_MUTE_THRESHOLD: i64 = 20;

/// The default length of a pitch (K7, "5-minütige Impulse").
pub const PITCH_SECONDS: i64 = 300;

/// "beginnt in Kürze" is shown this long before the first item.
pub const SOON_MINUTES: i64 = 15;

/// What an agenda item is (K1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgendaKind {
    Opening,
    TechnicalBriefing,
    Welcome,
    Pitch,
    Break,
    CafeRound,
    Podium,
    Closing,
    Networking,
}

impl AgendaKind {
    pub const ALL: [AgendaKind; 9] = [
        Self::Opening,
        Self::TechnicalBriefing,
        Self::Welcome,
        Self::Pitch,
        Self::Break,
        Self::CafeRound,
        Self::Podium,
        Self::Closing,
        Self::Networking,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Opening => "opening",
            Self::TechnicalBriefing => "technical_briefing",
            Self::Welcome => "welcome",
            Self::Pitch => "pitch",
            Self::Break => "break",
            Self::CafeRound => "cafe_round",
            Self::Podium => "podium",
            Self::Closing => "closing",
            Self::Networking => "networking",
        }
    }

    /// The German phrase for "begins at … with …" ("mit einer technischen Einweisung").
    pub fn with_phrase_de(self) -> &'static str {
        match self {
            Self::Opening => "mit der Öffnung des Raums",
            Self::TechnicalBriefing => "mit einer technischen Einweisung",
            Self::Welcome => "mit der Begrüßung",
            Self::Pitch => "mit den Pitches",
            Self::Break => "mit einer Pause",
            Self::CafeRound => "mit einer World-Café-Runde",
            Self::Podium => "mit der Podiumsdiskussion",
            Self::Closing => "mit dem Abschluss",
            Self::Networking => "mit der Vernetzung",
        }
    }

    pub fn with_phrase_en(self) -> &'static str {
        match self {
            Self::Opening => "with the opening of the space",
            Self::TechnicalBriefing => "with a technical briefing",
            Self::Welcome => "with the welcome",
            Self::Pitch => "with the pitches",
            Self::Break => "with a break",
            Self::CafeRound => "with a World Café round",
            Self::Podium => "with the podium discussion",
            Self::Closing => "with the closing",
            Self::Networking => "with networking",
        }
    }
}

impl FromStr for AgendaKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unbekannte Art von Programmpunkt: {s:?}"))
    }
}

impl fmt::Display for AgendaKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a room is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoomKind {
    /// The main stage: welcome, pitches, podium.
    Plenary,
    /// Staffed help (K12): direct messages to it reach its staff.
    Helpdesk,
    /// Open for networking, also after the program (K15).
    Lounge,
    /// A World Café table.
    Table,
    /// Anything else the organizer creates.
    Other,
}

impl RoomKind {
    pub const ALL: [RoomKind; 5] = [
        Self::Plenary,
        Self::Helpdesk,
        Self::Lounge,
        Self::Table,
        Self::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Plenary => "plenary",
            Self::Helpdesk => "helpdesk",
            Self::Lounge => "lounge",
            Self::Table => "table",
            Self::Other => "other",
        }
    }
}

impl FromStr for RoomKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unbekannte Raumart: {s:?}"))
    }
}

/// One timed item of an event's agenda; times are instants, shown in Berlin time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgendaEntry {
    pub kind: AgendaKind,
    pub title: String,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
}

/// Where an event stands at a moment, for the lobby (K1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase<'a> {
    /// Before the program proper: "beginnt um 12:50 Uhr mit einer technischen
    /// Einweisung", and within [`SOON_MINUTES`] of it "beginnt in Kürze" (`soon`). `open`
    /// is the open space ("Ab 12:00 Uhr Öffnung des Raums") when it already runs.
    Before {
        first: &'a AgendaEntry,
        soon: bool,
        open: Option<&'a AgendaEntry>,
    },
    /// During the program: the current item and the next one.
    Running {
        current: Option<&'a AgendaEntry>,
        next: Option<&'a AgendaEntry>,
    },
    /// After the last item.
    Over,
    /// No agenda yet.
    Unplanned,
}

/// The phase at `now` from the agenda's clock times. `announced` is the item the organizer
/// has advanced to live; it wins over the clock, because programs drift.
pub fn phase(agenda: &[AgendaEntry], now: Timestamp, announced: Option<usize>) -> Phase<'_> {
    if agenda.is_empty() {
        return Phase::Unplanned;
    }
    if let Some(i) = announced.filter(|i| *i < agenda.len()) {
        return Phase::Running {
            current: agenda.get(i),
            next: agenda.get(i + 1),
        };
    }
    let running = |e: &&AgendaEntry| e.starts_at <= now && now < e.ends_at;
    // The lobby counts down to the first item that is not the open space.
    let first = agenda
        .iter()
        .find(|e| e.kind != AgendaKind::Opening)
        .unwrap_or(&agenda[0]);
    if now < first.starts_at {
        let until = first.starts_at.as_second() - now.as_second();
        return Phase::Before {
            first,
            soon: until <= SOON_MINUTES * 60,
            open: agenda.iter().find(running),
        };
    }
    if agenda.iter().all(|e| e.ends_at <= now) {
        return Phase::Over;
    }
    Phase::Running {
        current: agenda.iter().rfind(running),
        next: agenda.iter().find(|e| e.starts_at > now),
    }
}

/// "12:50" in Berlin time.
pub fn clock(t: Timestamp) -> String {
    t.to_zoned(berlin()).strftime("%H:%M").to_string()
}

/// "20.02.2025" in Berlin time.
pub fn day(t: Timestamp) -> String {
    t.to_zoned(berlin()).strftime("%d.%m.%Y").to_string()
}

/// A Berlin wall-clock time on a day, as an instant (for the demo and for forms).
pub fn berlin_time(date: jiff::civil::Date, hour: i8, minute: i8) -> Option<Timestamp> {
    let dt = date.at(hour, minute, 0, 0);
    dt.to_zoned(berlin()).ok().map(|z: Zoned| z.timestamp())
}

/// The microphone rule (K4): with `present` people already in the room, does the next
/// joiner start muted? From `threshold` people on (the joiner counted) everybody who
/// joins is muted; a threshold of 0 switches the rule off.
pub fn joins_muted(present: i64, threshold: i64) -> bool {
    threshold > 0 && present + 1 >= threshold
}

/// Whether the room is in "muted" mode with `present` people in it.
pub fn rule_in_force(present: i64, threshold: i64) -> bool {
    threshold > 0 && present >= threshold
}

/// Slugs for events and rooms: lowercase ASCII letters, digits and dashes, 1–60 long.
pub fn valid_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 60
        && !s.starts_with('-')
        && !s.ends_with('-')
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn at(h: i8, m: i8) -> Timestamp {
        berlin_time(date(2025, 2, 20), h, m).expect("valid time")
    }

    fn agenda() -> Vec<AgendaEntry> {
        let item = |kind, title: &str, from: (i8, i8), to: (i8, i8)| AgendaEntry {
            kind,
            title: title.into(),
            starts_at: at(from.0, from.1),
            ends_at: at(to.0, to.1),
        };
        vec![
            item(AgendaKind::Opening, "Öffnung des Raums", (12, 0), (12, 50)),
            item(
                AgendaKind::TechnicalBriefing,
                "Technische Einweisung",
                (12, 50),
                (13, 0),
            ),
            item(AgendaKind::Welcome, "Begrüßung", (13, 0), (13, 15)),
            item(AgendaKind::Pitch, "Pitches", (13, 15), (13, 40)),
            item(AgendaKind::Networking, "Vernetzung", (17, 0), (19, 0)),
        ]
    }

    #[test]
    fn the_lobby_counts_down_to_the_technical_briefing() {
        let agenda = agenda();
        match phase(&agenda, at(11, 0), None) {
            Phase::Before { first, soon, open } => {
                assert_eq!(first.kind, AgendaKind::TechnicalBriefing);
                assert_eq!(clock(first.starts_at), "12:50");
                assert!(!soon);
                assert_eq!(open, None);
            }
            other => panic!("expected Before, got {other:?}"),
        }
        // The space is open from 12:00; the briefing is still what the event begins with.
        match phase(&agenda, at(12, 10), None) {
            Phase::Before { first, soon, open } => {
                assert_eq!(first.kind, AgendaKind::TechnicalBriefing);
                assert!(!soon);
                assert_eq!(open.map(|o| o.kind), Some(AgendaKind::Opening));
            }
            other => panic!("expected Before, got {other:?}"),
        }
        assert!(matches!(
            phase(&agenda, at(12, 40), None),
            Phase::Before { soon: true, .. }
        ));
    }

    #[test]
    fn during_the_program_the_current_and_next_item_show() {
        let agenda = agenda();
        match phase(&agenda, at(13, 20), None) {
            Phase::Running { current, next } => {
                assert_eq!(current.map(|c| c.kind), Some(AgendaKind::Pitch));
                assert_eq!(next.map(|n| n.kind), Some(AgendaKind::Networking));
            }
            other => panic!("expected Running, got {other:?}"),
        }
        assert_eq!(phase(&agenda, at(19, 0), None), Phase::Over);
        assert_eq!(phase(&[], at(19, 0), None), Phase::Unplanned);
    }

    #[test]
    fn the_organizer_s_announced_item_wins_over_the_clock() {
        let agenda = agenda();
        match phase(&agenda, at(13, 20), Some(2)) {
            Phase::Running { current, next } => {
                assert_eq!(current.map(|c| c.kind), Some(AgendaKind::Welcome));
                assert_eq!(next.map(|n| n.kind), Some(AgendaKind::Pitch));
            }
            other => panic!("expected Running, got {other:?}"),
        }
    }

    #[test]
    fn the_microphone_rule_switches_at_the_twentieth_joiner() {
        for present in 0..19 {
            assert!(!joins_muted(present, 20), "joiner number {}", present + 1);
        }
        assert!(joins_muted(19, 20), "the 20th joiner is muted");
        assert!(joins_muted(250, 20));
        assert!(!rule_in_force(19, 20));
        assert!(rule_in_force(20, 20));
        assert!(!joins_muted(1000, 0), "0 switches the rule off");
    }

    #[test]
    fn slugs_are_plain() {
        assert!(valid_slug("strategiekonvent-2025"));
        assert!(!valid_slug("Strategie"));
        assert!(!valid_slug("-a"));
        assert!(!valid_slug(""));
        assert!(!valid_slug("a/b"));
    }

    #[test]
    fn times_are_shown_in_berlin() {
        assert_eq!(clock(at(12, 50)), "12:50");
        assert_eq!(day(at(12, 50)), "20.02.2025");
        // Summer time: 12:50 in July is 10:50 UTC.
        let summer = berlin_time(date(2025, 7, 1), 12, 50).expect("valid");
        assert_eq!(summer.to_string(), "2025-07-01T10:50:00Z");
    }
}
