//! Council sessions with their agendas, resolutions with their relevance for the
//! conferences, reports, and the follow-up meetings (G4–G6). Sessions from the 43rd on
//! get the standard item "Reporting FachMK" when they are created; a session marked held
//! gets its follow-up meeting three weeks later, which moves with the session's date
//! until it is confirmed.
//!
//! - [`sessions`]: sessions, their dates and states
//! - [`agenda`]: a session's agenda items
//! - [`resolutions`]: resolutions with their relevance for the conferences
//! - [`reports`]: the conferences' reports to a session
//! - [`follow_ups`]: the follow-up meeting after a held session

mod agenda;
mod follow_ups;
mod reports;
mod resolutions;
mod sessions;

use jiff::civil::{Date, Time};

use crate::{Result, StoreError};

pub use konvent_core::gremien::council::Visibility;

pub use agenda::AgendaItem;
pub(crate) use agenda::insert_agenda_item;
pub use follow_ups::FollowUp;
pub use reports::Report;
pub use resolutions::{Relevance, Resolution};
pub use sessions::{Session, is_upcoming};
pub(crate) use sessions::{check_upcoming, session_in};

type Tx = sqlx::Transaction<'static, sqlx::Any>;

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what}: {value:?}"))
}

fn invalid(field: &'static str, code: &'static str, message: &str) -> StoreError {
    let mut errors = konvent_core::FieldErrors::new();
    errors.add(field, code, message);
    StoreError::Invalid(errors)
}

fn parse_date(value: &str) -> Result<Date> {
    value.parse().map_err(|_| corrupt("date", value))
}

fn parse_time(value: &str) -> Result<Time> {
    konvent_core::gremien::council::parse_time(value).ok_or_else(|| corrupt("time", value))
}

fn time_text(t: Time) -> String {
    t.strftime("%H:%M").to_string()
}
