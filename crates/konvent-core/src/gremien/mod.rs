//! Council work with the specialist minister conferences (DESIGN.md G1–G8).

pub mod calendar;
pub mod cooperation;
pub mod council;
pub mod directory;
pub mod majority;
pub mod minutes;
pub mod transfer;
pub mod votes;

pub use directory::{
    Abbreviation, AssignmentInput, ConferenceInput, PersonInput, ResolutionNumber, RoleKind,
};
