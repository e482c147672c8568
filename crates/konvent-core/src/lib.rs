//! konvent's domain: the types and rules of conventions, council work and strategy as
//! plain data and functions. No web framework and no database live here, so every rule
//! can be unit-tested and reused by the store, the web layer and the command line.

pub mod authz;
pub mod demo;
pub mod documents;
pub mod export;
pub mod gremien;
pub mod invitations;
pub mod konvent;
pub mod notifications;
pub mod search;
pub mod strategy;
pub mod validation;

pub use validation::{FieldError, FieldErrors};
