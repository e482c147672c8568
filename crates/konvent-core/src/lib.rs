//! konvent's domain: the types and rules of conventions, council work and strategy as
//! plain data and functions. No web framework and no database live here, so every rule
//! can be unit-tested and reused by the store, the web layer and the command line.

pub mod authz;
pub mod convention;
pub mod demo;
pub mod documents;
pub mod export;
pub mod gremien;
pub mod ids;
pub mod invitations;
pub mod notifications;
pub mod search;
pub mod strategy;
pub mod taken;
pub mod validation;

pub use validation::{FieldError, FieldErrors};

/// A rule of the domain refused a change: one of the typed refusals of the strategy
/// work ([`strategy::cafe`], [`strategy::impulses`], [`strategy::pinboard`],
/// [`strategy::consolidation`], [`strategy::target_pictures`]), of networking
/// ([`convention::networking`]), moderation ([`convention::moderation`]), registrations and
/// pseudonyms ([`convention::registration`]), the council's votes, minutes and directory
/// ([`gremien::votes`], [`gremien::minutes`], [`gremien::directory`]), documents, the mail
/// outbox, or a unique rule ([`taken`]). The store carries it to the web, which shows it
/// in the reader's language; its text here is the German one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error(transparent)]
    Round(#[from] strategy::cafe::RoundRefusal),
    #[error(transparent)]
    Seat(#[from] strategy::cafe::SeatRefusal),
    #[error(transparent)]
    Impulse(#[from] strategy::impulses::ImpulseRefusal),
    #[error(transparent)]
    Pin(#[from] strategy::pinboard::PinRefusal),
    #[error(transparent)]
    Group(#[from] strategy::consolidation::GroupRefusal),
    #[error(transparent)]
    TargetPicture(#[from] strategy::target_pictures::TargetPictureRefusal),
    #[error(transparent)]
    Contact(#[from] convention::networking::ContactRefusal),
    #[error(transparent)]
    Moderation(#[from] convention::moderation::ModerationRefusal),
    #[error(transparent)]
    FollowUp(#[from] convention::networking::FollowUpRefusal),
    #[error(transparent)]
    Registration(#[from] convention::registration::RegistrationRefusal),
    #[error(transparent)]
    Pseudonym(#[from] convention::registration::PseudonymRefusal),
    #[error(transparent)]
    Vote(#[from] gremien::votes::VoteRefusal),
    #[error(transparent)]
    Minutes(#[from] gremien::minutes::MinutesRefusal),
    #[error(transparent)]
    Assignment(#[from] gremien::directory::AssignmentRefusal),
    #[error(transparent)]
    Document(#[from] documents::DocumentRefusal),
    #[error(transparent)]
    Mail(#[from] notifications::MailRefusal),
    #[error(transparent)]
    Taken(#[from] taken::Taken),
    #[error(transparent)]
    Live(#[from] convention::live::LiveRefusal),
}
