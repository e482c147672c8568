//! The directory of conferences, persons and role assignments (G1, G2), with history:
//! an assignment is never deleted, it ends. Every change is audited and logged.
//!
//! - [`conferences`]: the specialist minister conferences
//! - [`persons`]: the persons who hold roles
//! - [`assignments`]: a person's role in a conference, from a start to an end
//! - [`transfer`]: the directory as rows, exported and imported as a whole

mod assignments;
mod conferences;
mod persons;
mod transfer;

use jiff::civil::Date;

pub use assignments::{Assignment, AssignmentChange};
pub(crate) use conferences::conference_id;
pub use conferences::{ConferenceDetail, ConferenceSummary};
pub use persons::{Person, PersonDetail};
pub use transfer::ImportSummary;

/// The event-log scope of directory changes.
const SCOPE: &str = "directory";

type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// Today in Europe/Berlin, the council's calendar.
pub fn today() -> Date {
    jiff::Zoned::now()
        .in_tz("Europe/Berlin")
        .map(|z| z.date())
        .unwrap_or_else(|_| jiff::Zoned::now().date())
}
