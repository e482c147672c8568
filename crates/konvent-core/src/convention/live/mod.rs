//! The commands a participant's browser sends over the live WebSocket
//! (`docs/live-protocol.md`) or posts from a page's form ([`from_form`]), parsed and
//! checked before anything is stored.

mod form;
mod refusal;

use std::collections::VecDeque;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ids::{AccountId, ImpulseId, PinId, QuestionId, RoundId, TableId};
pub use form::{Expected, FormProblem, Recipient, from_form};
pub use refusal::{LiveRefusal, Refusal, RefusalKind, Wanted};

/// The largest client frame the server reads (16 KiB).
pub const MAX_FRAME_BYTES: usize = 16 * 1024;
/// The longest chat line, announcement, direct message or question, in characters.
pub const MAX_TEXT_CHARS: usize = 2000;
/// The longest client command id.
pub const MAX_ID_CHARS: usize = 64;
/// The per-person budget of durable live commands (chat lines, hands, votes, seats,
/// every command that writes a live-log entry): by default this many per window (the
/// setting `live_writes_per_10s`) …
pub const WRITE_LIMIT: usize = 10;
/// … and for organizers and the help desk's staff, whose moderation comes in bursts
/// (approving a row of questions), this many times as many. A cap, not an exemption: a
/// runaway script with an organizer's session cannot fill the disk either.
pub const STAFF_WRITE_FACTOR: usize = 10;
/// … of this many milliseconds.
pub const WRITE_WINDOW_MS: i64 = 10_000;
/// The longest timer an organizer may start.
pub const MAX_TIMER_SECONDS: i64 = 3600;

/// One command from a client, the one definition for frames and forms alike: numbers,
/// flags and a direct message's recipient read through [`form`]'s readers, so a form's
/// text means what the frame's JSON value does. The connection's own commands (`join`,
/// `enter_map`, `move`, …) come only as frames and read plain JSON.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum Command {
    Join {
        room: String,
    },
    Leave,
    Chat {
        #[serde(default)]
        id: Option<String>,
        text: String,
    },
    Announce {
        #[serde(default)]
        id: Option<String>,
        text: String,
    },
    Dm {
        #[serde(default)]
        id: Option<String>,
        #[serde(default, deserialize_with = "form::recipient")]
        to: Option<Recipient>,
        #[serde(default, deserialize_with = "form::flag")]
        to_helpdesk: bool,
        text: String,
    },
    Hand {
        #[serde(default)]
        id: Option<String>,
        #[serde(deserialize_with = "form::flag")]
        up: bool,
    },
    Floor {
        #[serde(default)]
        id: Option<String>,
        #[serde(default, deserialize_with = "form::optional_account")]
        user: Option<AccountId>,
    },
    Agenda {
        #[serde(default)]
        id: Option<String>,
        #[serde(default, deserialize_with = "form::optional_number")]
        current: Option<i64>,
    },
    Timer {
        #[serde(default)]
        id: Option<String>,
        action: TimerAction,
        #[serde(default, deserialize_with = "form::optional_number")]
        seconds: Option<i64>,
        #[serde(default)]
        label: Option<String>,
    },
    Ask {
        #[serde(default)]
        id: Option<String>,
        text: String,
        #[serde(default, deserialize_with = "form::flag")]
        anonymous: bool,
    },
    Upvote {
        #[serde(default)]
        id: Option<String>,
        #[serde(deserialize_with = "form::number")]
        question: QuestionId,
    },
    Moderate {
        #[serde(default)]
        id: Option<String>,
        #[serde(deserialize_with = "form::number")]
        question: QuestionId,
        status: QuestionStatus,
    },
    /// A World Café impulse at a table (K10).
    Impulse {
        #[serde(default)]
        id: Option<String>,
        #[serde(deserialize_with = "form::number")]
        table: TableId,
        text: String,
    },
    /// The author changes their impulse while it may still be changed.
    EditImpulse {
        #[serde(default)]
        id: Option<String>,
        #[serde(deserialize_with = "form::number")]
        impulse: ImpulseId,
        text: String,
    },
    /// The table's moderator hides an impulse (or shows it again) or merges it into
    /// another.
    ModerateImpulse {
        #[serde(default)]
        id: Option<String>,
        #[serde(deserialize_with = "form::number")]
        impulse: ImpulseId,
        #[serde(default, deserialize_with = "form::flag")]
        hidden: bool,
        #[serde(default, deserialize_with = "form::optional_number")]
        merge_into: Option<ImpulseId>,
    },
    /// The table's moderator writes the round's summary (K9).
    Summary {
        #[serde(default)]
        id: Option<String>,
        #[serde(deserialize_with = "form::number")]
        table: TableId,
        text: String,
    },
    /// Organizers start or end a café round for all tables.
    Round {
        #[serde(default)]
        id: Option<String>,
        #[serde(deserialize_with = "form::number")]
        round: RoundId,
        #[serde(deserialize_with = "form::flag")]
        running: bool,
    },
    /// Take a seat at a table; organizers may seat somebody else (`user`).
    Seat {
        #[serde(default)]
        id: Option<String>,
        #[serde(deserialize_with = "form::number")]
        table: TableId,
        #[serde(default, deserialize_with = "form::optional_account")]
        user: Option<AccountId>,
    },
    /// Park a topic on the pinboard (K11), optionally for a focus topic (its slug).
    Pin {
        #[serde(default)]
        id: Option<String>,
        text: String,
        #[serde(default)]
        topic: Option<String>,
    },
    /// A dot vote for a pin, or taking it back.
    VotePin {
        #[serde(default)]
        id: Option<String>,
        #[serde(deserialize_with = "form::number")]
        pin: PinId,
        #[serde(deserialize_with = "form::flag")]
        on: bool,
    },
    /// Organizers pick a pin up (with where) or close it (with why).
    DecidePin {
        #[serde(default)]
        id: Option<String>,
        #[serde(deserialize_with = "form::number")]
        pin: PinId,
        status: String,
        outcome: String,
        #[serde(default)]
        url: Option<String>,
    },
    /// Organizers remove a chat line, an impulse, a pin or a question (K17): `item` is
    /// `chat`, `impulse`, `pin` or `question`, `target` its id (a chat line's is its seq).
    Remove {
        #[serde(default)]
        id: Option<String>,
        item: String,
        #[serde(deserialize_with = "form::number")]
        target: i64,
        #[serde(default)]
        reason: String,
    },
    /// Anybody reports a chat line or an impulse to the organizers, with a reason.
    Report {
        #[serde(default)]
        id: Option<String>,
        item: String,
        #[serde(deserialize_with = "form::number")]
        target: i64,
        reason: String,
    },
    /// Organizers dismiss the reports about an item (it stays).
    DismissReport {
        #[serde(default)]
        id: Option<String>,
        item: String,
        #[serde(deserialize_with = "form::number")]
        target: i64,
        #[serde(default)]
        reason: String,
    },
    /// Organizers mute a person in chat for `minutes`, or for the rest of the event.
    Mute {
        #[serde(default)]
        id: Option<String>,
        #[serde(deserialize_with = "form::account")]
        user: AccountId,
        #[serde(default, deserialize_with = "form::optional_number")]
        minutes: Option<i64>,
        #[serde(default)]
        reason: String,
    },
    Unmute {
        #[serde(default)]
        id: Option<String>,
        #[serde(deserialize_with = "form::account")]
        user: AccountId,
    },
    /// Organizers remove a person from the event (their sockets close).
    Expel {
        #[serde(default)]
        id: Option<String>,
        #[serde(deserialize_with = "form::account")]
        user: AccountId,
        #[serde(default)]
        reason: String,
    },
    /// Organizers let a removed person back in.
    Readmit {
        #[serde(default)]
        id: Option<String>,
        #[serde(deserialize_with = "form::account")]
        user: AccountId,
    },
    /// Organizers lock a room's chat for participants, or unlock it.
    LockChat {
        #[serde(default)]
        id: Option<String>,
        room: String,
        #[serde(deserialize_with = "form::flag")]
        locked: bool,
        #[serde(default)]
        reason: String,
    },
    /// Step onto the venue map (K8): the avatar appears at the entrance, or at `at` (where
    /// it stood before a reconnect) when that is free floor outside every area.
    /// Positions are ephemeral signals, not logged.
    EnterMap {
        #[serde(default)]
        at: Option<(i64, i64)>,
    },
    /// Walk to a tile next to the avatar (a client sends at most 5 per second).
    Move {
        x: i64,
        y: i64,
    },
    /// Go straight to an area (the list beside the map: keyboard and screen readers).
    /// `area` is the room's slug, or `pinnwand`.
    Goto {
        #[serde(default)]
        id: Option<String>,
        area: String,
    },
    Ping,
}

impl Command {
    /// The client's id for this command, echoed in `ack` and `error`.
    pub fn id(&self) -> Option<&str> {
        match self {
            Self::Chat { id, .. }
            | Self::Announce { id, .. }
            | Self::Dm { id, .. }
            | Self::Hand { id, .. }
            | Self::Floor { id, .. }
            | Self::Agenda { id, .. }
            | Self::Timer { id, .. }
            | Self::Ask { id, .. }
            | Self::Upvote { id, .. }
            | Self::Moderate { id, .. }
            | Self::Impulse { id, .. }
            | Self::EditImpulse { id, .. }
            | Self::ModerateImpulse { id, .. }
            | Self::Summary { id, .. }
            | Self::Round { id, .. }
            | Self::Seat { id, .. }
            | Self::Pin { id, .. }
            | Self::VotePin { id, .. }
            | Self::DecidePin { id, .. }
            | Self::Remove { id, .. }
            | Self::Report { id, .. }
            | Self::DismissReport { id, .. }
            | Self::Mute { id, .. }
            | Self::Unmute { id, .. }
            | Self::Expel { id, .. }
            | Self::Readmit { id, .. }
            | Self::LockChat { id, .. }
            | Self::Goto { id, .. } => id.as_deref(),
            Self::Join { .. }
            | Self::Leave
            | Self::Ping
            | Self::EnterMap { .. }
            | Self::Move { .. } => None,
        }
    }

    /// Whether the command belongs to the connection (rooms, the map, keep-alive) and
    /// is answered by the socket without a durable write. Every other command is
    /// durable and counts against the per-person budget (`live_writes_per_10s`): the
    /// list names the exemptions, so a new command counts unless it is added here.
    /// (`goto` is here because walking is ephemeral; the seat it takes at a café table
    /// is a `seat` command of its own and counts.)
    pub fn belongs_to_connection(&self) -> bool {
        matches!(
            self,
            Self::Join { .. }
                | Self::Leave
                | Self::Ping
                | Self::EnterMap { .. }
                | Self::Move { .. }
                | Self::Goto { .. }
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TimerAction {
    Start,
    Stop,
}

/// Where a podium question stands (K13).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionStatus {
    Pending,
    Approved,
    Answered,
    Rejected,
}

impl QuestionStatus {
    pub const ALL: [QuestionStatus; 4] = [
        Self::Pending,
        Self::Approved,
        Self::Answered,
        Self::Rejected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Answered => "answered",
            Self::Rejected => "rejected",
        }
    }
}

impl FromStr for QuestionStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unbekannter Status: {s:?}"))
    }
}

/// Parses one text frame. Oversized frames, malformed JSON and unknown commands are
/// refused with a message that says what was wrong.
pub fn parse(frame: &str) -> Result<Command, Refusal> {
    if frame.len() > MAX_FRAME_BYTES {
        return Err(Refusal::from(LiveRefusal::FrameTooLarge));
    }
    let command: Command = serde_json::from_str(frame).map_err(|e| {
        let reason = e.to_string();
        Refusal::from(LiveRefusal::Unreadable { reason })
    })?;
    checked(command)
}

/// What every command must hold however it came: a client's id of 1 to
/// [`MAX_ID_CHARS`] characters, if it has one.
fn checked(command: Command) -> Result<Command, Refusal> {
    if let Some(id) = command.id()
        && (id.is_empty() || id.chars().count() > MAX_ID_CHARS)
    {
        return Err(Refusal::from(LiveRefusal::IdLength));
    }
    Ok(command)
}

/// Checks and tidies a text people write live (chat, messages, questions): the one
/// check of [`crate::validation::text`] for several lines of 1 to [`MAX_TEXT_CHARS`]
/// characters; every line break becomes `\n`, so that tidy text stays the same when
/// checked again.
pub fn text(value: &str) -> Result<String, Refusal> {
    tidy_lines(value, MAX_TEXT_CHARS, LiveRefusal::TextEmpty)
}

/// Checks and tidies a text of the strategy work (an impulse, a summary, a pin, a pin's
/// outcome) of at most `max` characters, with the same check as [`text`]; `what` names
/// it when it is empty.
pub fn strategy_text(value: &str, max: usize, what: Wanted) -> Result<String, Refusal> {
    tidy_lines(value, max, LiveRefusal::TextMissing { what })
}

fn tidy_lines(value: &str, max: usize, empty: LiveRefusal) -> Result<String, Refusal> {
    use crate::validation::text::{Problem, Shape, tidy};
    tidy(value, Shape::Lines, max).map_err(|problem| {
        let rule = match problem {
            Problem::Empty => empty,
            Problem::TooLong { chars, max } => LiveRefusal::TextTooLong { chars, max },
            Problem::Control => LiveRefusal::TextControl,
            Problem::Hidden => LiveRefusal::TextHidden,
        };
        Refusal::from(rule)
    })
}

/// Checks a timer's length.
pub fn timer_seconds(seconds: Option<i64>) -> Result<i64, Refusal> {
    let seconds = seconds.unwrap_or(super::PITCH_SECONDS);
    if (1..=MAX_TIMER_SECONDS).contains(&seconds) {
        Ok(seconds)
    } else {
        Err(Refusal::from(LiveRefusal::TimerRange))
    }
}

/// A sliding-window rate limit for one person: at most `limit` writes per
/// [`WRITE_WINDOW_MS`] ([`WRITE_LIMIT`] by default). Times are milliseconds from any
/// fixed origin.
#[derive(Debug, Default, Clone)]
pub struct RateWindow {
    recent: VecDeque<i64>,
}

impl RateWindow {
    /// Records a write at `now_ms` if the window has room for one more of `limit`;
    /// false when it has none.
    pub fn try_write(&mut self, now_ms: i64, limit: usize) -> bool {
        while self
            .recent
            .front()
            .is_some_and(|t| now_ms - t >= WRITE_WINDOW_MS)
        {
            self.recent.pop_front();
        }
        if self.recent.len() >= limit {
            return false;
        }
        self.recent.push_back(now_ms);
        true
    }

    /// Records `n` writes at `now_ms` that were counted elsewhere (by another node), as
    /// far as the window holds them (at most `limit`).
    pub fn spent_elsewhere(&mut self, now_ms: i64, n: usize, limit: usize) {
        for _ in 0..n.min(limit) {
            if !self.try_write(now_ms, limit) {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse_from_the_documented_frames() {
        assert_eq!(
            parse(r#"{"t":"chat","id":"m1","text":"Hallo"}"#),
            Ok(Command::Chat {
                id: Some("m1".into()),
                text: "Hallo".into()
            })
        );
        assert_eq!(
            parse(r#"{"t":"join","room":"plenum"}"#),
            Ok(Command::Join {
                room: "plenum".into()
            })
        );
        assert_eq!(
            parse(r#"{"t":"floor","id":"f","user":null}"#),
            Ok(Command::Floor {
                id: Some("f".into()),
                user: None
            })
        );
        assert_eq!(parse(r#"{"t":"ping"}"#), Ok(Command::Ping));
        assert!(matches!(
            parse(r#"{"t":"moderate","question":3,"status":"answered"}"#),
            Ok(Command::Moderate {
                status: QuestionStatus::Answered,
                ..
            })
        ));
    }

    #[test]
    fn malformed_unknown_and_oversized_frames_are_refused_with_a_reason() {
        for bad in [
            "",
            "{",
            "null",
            "[]",
            r#"{"t":"explode"}"#,
            r#"{"t":"chat"}"#,
            r#"{"t":"chat","text":5}"#,
            r#"{"t":"chat","id":"","text":"x"}"#,
        ] {
            let refusal = parse(bad).expect_err(bad);
            assert_eq!(refusal.code(), "bad_frame", "{bad}");
            assert!(!refusal.message.is_empty());
        }
        let long_id = format!(r#"{{"t":"chat","id":"{}","text":"x"}}"#, "i".repeat(65));
        assert_eq!(parse(&long_id).expect_err("long id").code(), "bad_frame");
        let huge = format!(r#"{{"t":"chat","text":"{}"}}"#, "x".repeat(MAX_FRAME_BYTES));
        assert_eq!(parse(&huge).expect_err("huge").code(), "too_large");
    }

    #[test]
    fn texts_are_trimmed_and_limited() {
        assert_eq!(
            text("  Guten Tag \r\n zusammen ").as_deref(),
            Ok("Guten Tag \n zusammen")
        );
        assert!(text("   ").is_err());
        assert!(text(&"ä".repeat(MAX_TEXT_CHARS)).is_ok());
        assert!(text(&"ä".repeat(MAX_TEXT_CHARS + 1)).is_err());
        assert!(text("a\u{0}b").is_err());
        // Found by fuzzing: a lone carriage return stayed, and "\r\r\n" became "\r\n".
        assert_eq!(text("!\r!").as_deref(), Ok("!\n!"));
        assert_eq!(text("a\r\r\nb").as_deref(), Ok("a\n\nb"));
        assert!(text("a\u{1b}[31mb").is_err());
    }

    #[test]
    fn the_rate_window_allows_ten_writes_per_ten_seconds() {
        let mut w = RateWindow::default();
        for i in 0..10 {
            assert!(w.try_write(i * 100, WRITE_LIMIT), "write {i}");
        }
        assert!(!w.try_write(1_000, WRITE_LIMIT));
        assert!(!w.try_write(9_999, WRITE_LIMIT));
        assert!(
            w.try_write(10_000, WRITE_LIMIT),
            "the first write has left the window"
        );
        assert!(!w.try_write(10_001, WRITE_LIMIT));
    }

    #[test]
    fn only_the_connection_s_own_commands_are_outside_the_write_budget() {
        let durable = [
            r#"{"t":"chat","text":"x"}"#,
            r#"{"t":"hand","up":true}"#,
            r#"{"t":"upvote","question":1}"#,
            r#"{"t":"seat","table":1}"#,
            r#"{"t":"vote_pin","pin":1,"on":true}"#,
            r#"{"t":"timer","action":"stop"}"#,
            r#"{"t":"round","round":1,"running":true}"#,
        ];
        for frame in durable {
            let command = parse(frame).expect(frame);
            assert!(!command.belongs_to_connection(), "{frame} counts");
        }
        for frame in [
            r#"{"t":"join","room":"plenum"}"#,
            r#"{"t":"leave"}"#,
            r#"{"t":"ping"}"#,
            r#"{"t":"move","x":1,"y":1}"#,
            r#"{"t":"goto","area":"plenum"}"#,
        ] {
            let command = parse(frame).expect(frame);
            assert!(
                command.belongs_to_connection(),
                "{frame} is the connection's"
            );
        }
    }

    #[test]
    fn moderation_commands_parse_from_the_documented_frames() {
        assert_eq!(
            parse(r#"{"t":"remove","id":"r","item":"chat","target":12,"reason":"Spam"}"#),
            Ok(Command::Remove {
                id: Some("r".into()),
                item: "chat".into(),
                target: 12,
                reason: "Spam".into()
            })
        );
        assert!(matches!(
            parse(r#"{"t":"mute","user":3,"minutes":10}"#),
            Ok(Command::Mute {
                user,
                minutes: Some(10),
                ..
            }) if user == AccountId::new(3)
        ));
        assert!(matches!(
            parse(r#"{"t":"lock_chat","room":"plenum","locked":true}"#),
            Ok(Command::LockChat { locked: true, .. })
        ));
        assert!(
            parse(r#"{"t":"report","item":"impulse","target":4,"reason":"x"}"#)
                .is_ok_and(|c| !c.belongs_to_connection())
        );
    }

    #[test]
    fn timers_default_to_a_five_minute_pitch() {
        assert_eq!(timer_seconds(None), Ok(300));
        assert!(timer_seconds(Some(0)).is_err());
        assert!(timer_seconds(Some(3601)).is_err());
    }
}
