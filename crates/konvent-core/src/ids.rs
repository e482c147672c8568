//! Typed ids: one newtype per kind of record, so an event's id cannot be passed where a
//! table's is meant. Each wraps the database's row id; the store converts at the SQL
//! edge (`.bind(id.get())`, `EventId::new(row_id)`), the web parses them from paths with
//! [`std::str::FromStr`], and JSON carries them as plain numbers.

use std::fmt;
use std::num::NonZeroI64;
use std::str::FromStr;

/// A path or form held something that is not a record's id (a row id is a positive
/// whole number).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("keine gültige Kennung")]
pub struct NotAnId;

macro_rules! ids {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash,
            serde::Serialize, serde::Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(i64);

        impl $name {
            /// The id of the database row `raw`.
            pub const fn new(raw: i64) -> Self {
                Self(raw)
            }

            /// The database row id, for binding into a statement.
            pub const fn get(self) -> i64 {
                self.0
            }
        }

        /// The id of the database row `raw`, for readers that convert by `TryFrom`
        /// (the store's rows: `#[sqlx(try_from = "i64")]`).
        impl From<i64> for $name {
            fn from(raw: i64) -> Self {
                Self(raw)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl FromStr for $name {
            type Err = NotAnId;

            /// Only a positive whole number in plain digits: `"12"`, not `"+12"`,
            /// `"012"`, `"0"` or `"-3"`, so one record has one spelling in its address.
            fn from_str(raw: &str) -> Result<Self, NotAnId> {
                parse_row_id(raw).map(Self)
            }
        }
    )*};
}

fn parse_row_id(raw: &str) -> Result<i64, NotAnId> {
    let canonical =
        !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit()) && !raw.starts_with('0');
    if !canonical {
        return Err(NotAnId);
    }
    raw.parse::<NonZeroI64>()
        .map(NonZeroI64::get)
        .map_err(|_| NotAnId)
}

ids! {
    // People and events (K).
    /// A person's account.
    AccountId;
    /// An event (a convention).
    EventId;
    /// A room of an event.
    RoomId;
}

// The ids of the live and strategy side (K, S) follow here.
ids! {
    // The live event (K).
    /// A question to the podium (K13).
    QuestionId;
    // The strategy (S) and its World Café (K9).
    /// A focus topic of the strategy (S1).
    TopicId;
    /// A version of a topic's target picture (S2).
    TargetPictureId;
    /// A round of an event's World Café (K9).
    RoundId;
    /// A table of a café round (K9).
    TableId;
    /// An impulse written at a café table (K10).
    ImpulseId;
    /// A saved group of a topic's impulses, made while consolidating (S3).
    ImpulseGroupId;
    /// A note on an event's pinboard (K11).
    PinId;
    /// A title a moderator gave a group of the podium bundle (K13).
    PodiumTitleId;
}

// The ids of the council side (G) follow here.

ids! {
    // Council (G).
    /// A council session (a meeting of the council, not a sign-in).
    SessionId;
    /// A resolution (a draft until it is decided).
    ResolutionId;
    /// A vote on a resolution, in a session or in writing.
    VoteId;
    /// An item on a council session's agenda (G4).
    AgendaItemId;
    /// The follow-up meeting scheduled after a held council session (G4).
    FollowUpId;
    // Directory (G1, G2).
    /// A specialist minister conference (G1).
    ConferenceId;
    /// A person of the directory, who holds roles (G2; not an account).
    PersonId;
    /// A person's role in a conference, from a start to an end (G2).
    AssignmentId;
    // Cooperation (G3, G7) and documents (G12).
    /// A spokesperson's duty around a relevant resolution (G3).
    DutyId;
    /// A conference's concern, submitted to the office (G7).
    ConcernId;
    /// A workshop with its questions and work results (G7).
    WorkshopId;
    /// A document with its versions (G12).
    DocumentId;
    /// A bulk invitation: an uploaded list, its rows and the batches it writes (A2).
    BulkInvitationId;
    /// A mail in the outbox, queued until a worker sends it (issue 18).
    MailId;
    // Follow-up groups (K16), kept with the follow-ups they resemble.
    /// A small follow-up group of the people who marked the same connection point (K16).
    FollowUpGroupId;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_reads_only_its_one_spelling() {
        assert_eq!("12".parse(), Ok(EventId::new(12)));
        assert_eq!("9223372036854775807".parse(), Ok(EventId::new(i64::MAX)));
        for wrong in [
            "",
            "0",
            "012",
            "+12",
            "-3",
            "1 ",
            "12a",
            "9223372036854775808",
            "１２",
        ] {
            assert_eq!(wrong.parse::<EventId>(), Err(NotAnId), "{wrong:?}");
        }
    }

    #[test]
    fn an_id_is_a_plain_number_in_json_and_text() {
        let id = RoomId::new(7);
        assert_eq!(serde_json::to_string(&id).expect("json"), "7");
        assert_eq!(serde_json::from_str::<RoomId>("7").expect("id"), id);
        assert_eq!(id.to_string(), "7");
        assert_eq!(id.get(), 7);
    }
}
