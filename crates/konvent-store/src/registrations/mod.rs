//! Registration for an event through its public form (issue 18): a person leaves name,
//! address and organisation, confirms the address through a mailed single-use link,
//! and is then registered, put on the waiting list (the event is full), or waits for an
//! organizer's approval. A registered person is a participant of the event, with their
//! existing account or a new one without password (it signs in by link). Cancelling a
//! registered place moves the first of the waiting list up (first confirmed, first
//! served), in the same transaction and with its mail.
//!
//! The links' tokens are stored as hashes only. The cancellation link of a registration
//! is renewed with every mail that carries it, so that the newest mail always holds a
//! working one without the token itself being kept.
//!
//! - [`settings`]: an event's registration mode and capacity
//! - [`registration`]: a registration, from the form to its confirmation, approval,
//!   decline or cancellation
//! - [`places`]: placing a registration (registered, waiting or awaiting approval),
//!   ending it, and moving the waiting list up

mod places;
mod registration;
mod settings;

pub use places::{Compose, Placement};
pub use registration::{NewRegistration, Registration, RegistrationStatus};
pub use settings::{RegistrationMode, RegistrationSettings};

type Tx = sqlx::Transaction<'static, sqlx::Any>;

const COLUMNS: &str = "id, event_id, email, name, organisation, language, status, \
                       confirmed_at, created_at, updated_at";
