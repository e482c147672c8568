//! The strategy process and the World Café (K9–K11, K16, S1–S4), one file per
//! aggregate. Focus topics live across events; café rounds, tables, seats, impulses and
//! pins belong to an event. Every change people should see at once (an impulse, a
//! summary, a round started, a pin) is written with its live-log entry in one
//! transaction, like the live convention's commands, and published by the caller.
//!
//! - [`topics`]: focus topics (S1)
//! - [`target_pictures`]: a topic's target-picture versions and their lifecycle (S2)
//! - [`cafe`]: café rounds (K9); [`cafe_tables`]: their tables, seats and summaries
//! - [`impulses`]: impulses at a table (K10); [`impulse_batch`]: those that arrive together
//! - [`pinboard`]: pins and their votes (K11)
//! - [`connection_points`]: what a person follows (K16)
//! - [`consolidation`]: saved groups of impulses, accepted into a draft (S3, S4)
//! - [`mine`]: what "Meine Ergebnisse" shows a person, kept by node
//!
//! Confidential target-picture versions are filtered in SQL, by the `confidential` flag
//! the caller passes after checking the reader's rights: no query returns them otherwise.

mod cafe;
mod cafe_tables;
mod connection_points;
mod consolidation;
mod impulse_batch;
mod impulses;
mod mine;
mod pinboard;
mod target_pictures;
mod topics;

use crate::StoreError;

pub use cafe::{NewTable, Round};
pub use cafe_tables::CafeTable;
pub use connection_points::ConnectionPoint;
pub use consolidation::SavedGroup;
pub use impulse_batch::NewImpulse;
pub use impulses::Impulse;
pub use mine::MyResults;
pub use pinboard::Pin;
pub use target_pictures::TargetPicture;
pub use topics::{NewTopic, Topic};

fn corrupt(e: String) -> StoreError {
    StoreError::Corrupt(e)
}
