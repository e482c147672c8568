//! The live log's entries as every layer sees them: what the store commits with the
//! event's next sequence number, what the hub fans out, what a client replays.

pub mod payload;

use crate::ids::{AccountId, EventId};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use payload::Payload;

/// An account as live messages name it (`{"id", "name"}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Who {
    pub id: AccountId,
    pub name: String,
}

impl Who {
    pub fn new(id: AccountId, name: impl Into<String>) -> Self {
        Self {
            id,
            name: name.into(),
        }
    }
}

/// Who may see a live-log entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Everybody in the event.
    All,
    /// The sender, the recipient (if any) and the event's staff (organizers, helpers,
    /// admins).
    Staff,
    /// Only sender and recipient.
    Direct,
}

impl Audience {
    /// Whether `account` (staff or not) may see an entry for this audience that
    /// `sender` sent to `recipient`.
    pub fn admits(
        self,
        account: AccountId,
        staff: bool,
        sender: Option<AccountId>,
        recipient: Option<AccountId>,
    ) -> bool {
        let party = sender == Some(account) || recipient == Some(account);
        match self {
            Self::All => true,
            Self::Staff => staff || party,
            Self::Direct => party,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Staff => "staff",
            Self::Direct => "direct",
        }
    }

    /// The stored name back; an unknown one is a corrupt record.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "all" => Ok(Self::All),
            "staff" => Ok(Self::Staff),
            "direct" => Ok(Self::Direct),
            other => Err(format!("unknown audience {other:?}")),
        }
    }
}

/// One committed live-log entry.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveRecord {
    pub event_id: EventId,
    pub seq: i64,
    pub kind: String,
    pub room: Option<String>,
    pub audience: Audience,
    pub sender_id: Option<AccountId>,
    pub recipient_id: Option<AccountId>,
    pub data: Value,
    /// Unix microseconds.
    pub at: i64,
}

impl LiveRecord {
    /// Whether `account` (staff or not) may see this entry.
    pub fn visible_to(&self, account: AccountId, staff: bool) -> bool {
        self.audience
            .admits(account, staff, self.sender_id, self.recipient_id)
    }
}
