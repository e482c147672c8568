//! What each kind of live-log entry carries (`ev.data` in docs/live-protocol.md): one
//! type per kind, tied to its kind name in [`kinds!`]'s one list. The store commits
//! them as they serialize, so field names and shapes are the wire format and the
//! stored rows alike; a test below pins each to the JSON it has always had.
//!
//! The types own their strings rather than borrowing: readers can deserialize them
//! from a stored `data` as well, and a copy per entry costs nothing beside its
//! transaction.

use jiff::Timestamp;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

use super::Who;
use crate::convention::AgendaEntry;
use crate::convention::live::QuestionStatus;
use crate::ids::{AccountId, ImpulseId, PinId, QuestionId, RoundId, TableId};

/// The data of one kind of live-log entry.
pub trait Payload: Serialize {
    /// The entry's `kind`.
    const KIND: &'static str;

    /// The entry's `data` as the log stores it.
    fn data(&self) -> Result<Value, serde_json::Error> {
        serde_json::to_value(self)
    }
}

/// Ties each payload type to its kind name, and lists the names once.
macro_rules! kinds {
    ($($ty:ident => $kind:literal),+ $(,)?) => {
        $(impl Payload for $ty {
            const KIND: &'static str = $kind;
        })+

        /// Every kind of entry the live log holds, in the protocol's order.
        pub const KINDS: &[&str] = &[$($kind),+];
    };
}

kinds! {
    Chat => "chat",
    Announcement => "announcement",
    Dm => "dm",
    Hand => "hand",
    Floor => "floor",
    Agenda => "agenda",
    Timer => "timer",
    Question => "question",
    FeedbackOpen => "feedback_open",
    Round => "round",
    Seat => "seat",
    Impulse => "impulse",
    Summary => "summary",
    Pin => "pin",
    Removed => "removed",
    ChatLock => "chat_lock",
    Report => "report",
    Moderation => "moderation",
    VenueMap => "map",
}

/// A written line: a chat line, an announcement or a direct message. `id` is the
/// entry's own sequence number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    pub id: i64,
    pub from: Who,
    pub text: String,
    /// `text` rendered (Markdown-lite) and sanitised.
    pub html: String,
}

/// A line in a room's chat (K3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Chat(pub Line);

/// A line to every room (K3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Announcement(pub Line);

/// A direct message to a person (`to`) or to the help desk (`to_helpdesk`), K12.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dm {
    #[serde(flatten)]
    pub line: Line,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Who>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub to_helpdesk: bool,
}

impl Dm {
    /// A message to `to`, or to the help desk without one.
    pub fn new(line: Line, to: Option<Who>) -> Self {
        Self {
            line,
            to_helpdesk: to.is_none(),
            to,
        }
    }
}

/// A hand raised or lowered (K6), with the queue after the change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hand {
    pub user: Who,
    pub up: bool,
    pub queue: Vec<Who>,
}

/// The floor given (or taken back: no speaker), with the queue after the change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Floor {
    pub speaker: Option<Who>,
    pub queue: Vec<Who>,
}

/// The agenda advanced to item `current` (or back to the clock), with the whole
/// programme so a lobby renders from the entry alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agenda {
    pub current: Option<usize>,
    pub item: Option<AgendaEntry>,
    pub agenda: Vec<AgendaEntry>,
}

/// The pitch timer (K7): running until `ends_at`, or stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timer {
    pub running: bool,
    pub seconds: i64,
    pub ends_at: Option<Timestamp>,
    pub label: String,
}

/// A podium question as it stands (K13); `asker` is `None` when anonymous.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    pub id: QuestionId,
    pub text: String,
    pub asker: Option<Who>,
    pub status: QuestionStatus,
    pub votes: i64,
}

/// The feedback survey opened or closed (K14).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedbackOpen {
    pub open: bool,
}

/// A café round started or ended (K9), with every round as it stands after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Round {
    pub round: i64,
    pub status: String,
    pub ends_at: Option<Timestamp>,
    pub rounds: Vec<CafeRound>,
}

/// One café round as `round` entries and the café page carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CafeRound {
    pub id: RoundId,
    pub number: i64,
    pub status: String,
    pub ends_at: Option<Timestamp>,
    pub tables: Vec<CafeTable>,
}

/// One café table: `people` are who sit there (its headcount counts exactly these);
/// `status` is its round's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CafeTable {
    pub id: TableId,
    pub topic: String,
    pub question: String,
    /// The moderator's name.
    pub moderator: Option<String>,
    pub capacity: i64,
    pub people: Vec<Who>,
    pub status: String,
}

/// Somebody took a seat at `table` (K9), with the tables concerned after the change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seat {
    pub account: AccountId,
    pub table: TableId,
    pub tables: Vec<SeatedTable>,
}

/// A table of a `seat` entry: the table's line plus its id as `table` and its
/// headcount as `seated`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeatedTable {
    #[serde(flatten)]
    pub line: CafeTable,
    pub table: TableId,
    pub seated: usize,
}

impl From<CafeTable> for SeatedTable {
    fn from(line: CafeTable) -> Self {
        Self {
            table: line.id,
            seated: line.people.len(),
            line,
        }
    }
}

/// An impulse at a café table (K9) after an `action`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Impulse {
    pub id: ImpulseId,
    pub table: TableId,
    pub round: i64,
    pub author: Author,
    pub text: String,
    pub hidden: bool,
    pub merged_into: Option<ImpulseId>,
    pub edited: bool,
    /// The 15 minutes of editing count from it.
    pub created_at: Timestamp,
    pub action: ImpulseAction,
}

/// An impulse's author; the account may be gone, the name stays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Author {
    pub id: Option<i64>,
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImpulseAction {
    Added,
    Edited,
    Moderated,
}

/// A table's summary written or edited by its moderator (K9); `by` is their name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub table: TableId,
    pub round: i64,
    pub text: String,
    pub by: String,
}

/// A pinboard entry (K11) after an `action`; `topic` and `author` are names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pin {
    pub id: PinId,
    pub topic: Option<String>,
    pub author: String,
    pub text: String,
    pub status: String,
    pub outcome: String,
    pub outcome_url: Option<String>,
    pub votes: i64,
    pub action: PinAction,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PinAction {
    Added,
    Voted,
    Decided,
}

/// An organizer removed an item (`chat`, `impulse`, `pin`, `question`; a chat line's
/// id is its sequence number), or a public question was withdrawn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Removed {
    pub item: String,
    pub id: i64,
}

/// A room's chat locked or open again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatLock {
    pub locked: bool,
}

/// Somebody reported an item; the reason stays on the moderation page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub report: i64,
    pub item: String,
    pub id: i64,
}

/// A moderation action about a person or an item, for the staff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Moderation {
    /// `until` `None`: for the rest of the event.
    Mute {
        user: Who,
        until: Option<Timestamp>,
        reason: String,
    },
    Unmute {
        user: Who,
    },
    Expel {
        user: Who,
        reason: String,
    },
    Readmit {
        user: Who,
    },
    Dismiss {
        item: String,
        id: i64,
    },
}

/// The venue map replaced: `source` is the uploaded file's name (`None`: back to the
/// generated map), `by` who did it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VenueMap {
    pub source: Option<String>,
    pub by: String,
}

/// The keys a [`tombstone`] keeps: ids, author and structure, so a client can find and
/// drop the element.
const TOMBSTONE_KEEPS: [&str; 8] = [
    "id", "from", "author", "table", "round", "action", "topic", "status",
];

/// An entry's data without what people wrote; `redacted: true` marks it, and an
/// impulse's is `hidden` as well. Works on stored data of any kind, so the store can
/// rewrite old rows with it.
pub fn tombstone(kind: &str, data: &Value) -> Value {
    let mut out = serde_json::Map::new();
    for key in TOMBSTONE_KEEPS {
        if let Some(v) = data.get(key) {
            out.insert(key.to_owned(), v.clone());
        }
    }
    if kind == Impulse::KIND {
        out.insert("hidden".into(), Value::Bool(true));
    }
    out.insert("redacted".into(), Value::Bool(true));
    Value::Object(out)
}

/// A payload committed as its [`tombstone`] right away (an impulse hidden by its
/// moderator: its own entry carries no text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tombstone<P>(pub P);

impl<P: Payload> Serialize for Tombstone<P> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let data = self.0.data().map_err(serde::ser::Error::custom)?;
        tombstone(P::KIND, &data).serialize(serializer)
    }
}

impl<P: Payload> Payload for Tombstone<P> {
    const KIND: &'static str = P::KIND;
}

#[cfg(test)]
mod tests;
