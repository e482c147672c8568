//! The live convention's data, one file per aggregate: events with their agenda, rooms
//! and people ([`events`]), the live log ([`log`]), chat, announcements and direct
//! messages ([`chat`]), the floor ([`floor`]), the agenda item and the pitch timer
//! ([`lobby`]), podium questions ([`questions`]), the feedback survey ([`feedback`]) and
//! load-test sessions ([`load_test`]). Every live write stores its effect and its
//! live-log entry with the event's next sequence number in one transaction; the hub
//! broadcasts only what was committed.

mod chat;
mod events;
mod feedback;
mod floor;
mod load_test;
mod lobby;
mod log;
mod questions;

pub use konvent_core::convention::log::{Audience, LiveRecord, Who};

pub use chat::ChatLine;
pub use events::{Event, EventRole, NewEvent, NewRoom, Room};
pub(crate) use events::{event_role, insert_room};
pub use feedback::FeedbackResults;
pub use lobby::Timer;
pub use log::Written;
pub(crate) use log::{Entry, LiveTx, Tx, append, append_many, live_from_row};
pub use questions::Question;
