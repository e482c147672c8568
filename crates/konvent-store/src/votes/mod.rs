//! The council's votes (G9, G10): the seventeen seats with their representative and
//! deputies, the Königsteiner Schlüssel per year, and votes on a draft resolution — in a
//! session or in writing by a deadline — with one named row per seat's ballot. Closing a
//! vote computes the result with `konvent_core::gremien::majority::decide`, freezes it on
//! the vote and stores it on the resolution, in one transaction, exactly once.
//!
//! - [`seats`]: the seats' holders, representatives and deputies
//! - [`key_tables`]: the Königsteiner Schlüssel per year
//! - [`vote`]: a vote with its ballots, as read back
//! - [`ballots`]: opening a vote, casting ballots, closing it with its result
//! - [`written`]: written procedures (Umlaufverfahren): their deadline, requests to stop
//!   them and the office's decision

mod ballots;
mod key_tables;
mod seats;
mod vote;
mod written;

use crate::StoreError;

pub use ballots::MAX_BALLOT_CHANGES;
pub use seats::SeatHolder;
pub use vote::{AgendaResult, CastBallot, Closed, Vote};
pub use written::{MAX_STOP_REASON, StopRequest};

type Tx = sqlx::Transaction<'static, sqlx::Any>;

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what}: {value:?}"))
}

fn invalid(field: &'static str, code: &'static str, message: &str) -> StoreError {
    let mut errors = konvent_core::FieldErrors::new();
    errors.add(field, code, message);
    StoreError::Invalid(errors)
}
