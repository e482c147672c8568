//! The store's error type.

use konvent_core::FieldErrors;
use konvent_core::Refused;
use konvent_core::convention::moderation::ModerationRefusal;
use konvent_core::convention::networking::{ContactRefusal, FollowUpRefusal};
use konvent_core::convention::registration::{PseudonymRefusal, RegistrationRefusal};
use konvent_core::documents::DocumentRefusal;
use konvent_core::gremien::directory::AssignmentRefusal;
use konvent_core::gremien::minutes::MinutesRefusal;
use konvent_core::gremien::transfer::ImportReport;
use konvent_core::gremien::votes::VoteRefusal;
use konvent_core::notifications::MailRefusal;
use konvent_core::strategy::cafe::{RoundRefusal, SeatRefusal};
use konvent_core::strategy::consolidation::GroupRefusal;
use konvent_core::strategy::impulses::ImpulseRefusal;
use konvent_core::strategy::pinboard::PinRefusal;
use konvent_core::strategy::target_pictures::TargetPictureRefusal;
use konvent_core::taken::Taken;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A rule of the domain (konvent-core) refused the change; the web translates it.
    #[error(transparent)]
    Refused(#[from] Refused),
    #[error("invalid input: {0}")]
    Invalid(FieldErrors),
    #[error("import refused:\n{0}")]
    Import(ImportReport),
    /// An invitation or sign-in link that is unknown, used or expired.
    #[error("this link is unknown, already used or expired")]
    InvalidToken,
    /// An admin disabled the account that tried to sign in.
    #[error("this account is disabled")]
    AccountDisabled,
    #[error("DATABASE_URL must start with sqlite: or postgres://")]
    UnsupportedUrl,
    #[error("cannot create the data folder: {0}")]
    DataDir(std::io::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("stored data could not be read: {0}")]
    Corrupt(String),
    /// A live-log payload did not serialize (its types allow no such case today).
    #[error("a live-log entry could not be encoded: {0}")]
    Encode(serde_json::Error),
}

impl StoreError {
    /// Maps a unique-constraint violation to [`StoreError::Refused`] with `refusal`: two
    /// writes raced, and the one that lost is refused by the same rule it would have met
    /// had it come second.
    pub(crate) fn refused_on_unique(err: sqlx::Error, refusal: impl Into<Refused>) -> Self {
        match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => Self::Refused(refusal.into()),
            _ => Self::Database(err),
        }
    }
}

/// Each kind of refusal of [`Refused`] converts straight into [`StoreError::Refused`],
/// so the store's methods answer a core rule with `?`.
macro_rules! refused_from {
    ($($refusal:ty),+ $(,)?) => {$(
        impl From<$refusal> for StoreError {
            fn from(refusal: $refusal) -> Self {
                Self::Refused(refusal.into())
            }
        }
    )+};
}

refused_from!(
    RoundRefusal,
    SeatRefusal,
    ImpulseRefusal,
    PinRefusal,
    GroupRefusal,
    TargetPictureRefusal,
    ContactRefusal,
    ModerationRefusal,
    FollowUpRefusal,
    RegistrationRefusal,
    PseudonymRefusal,
    VoteRefusal,
    MinutesRefusal,
    AssignmentRefusal,
    DocumentRefusal,
    MailRefusal,
    Taken,
);
