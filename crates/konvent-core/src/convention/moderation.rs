//! Why the moderation of an event (K13) refuses a participant's report or a
//! moderator's readmission. The rules themselves are small and live where their facts
//! are: which items may be reported is the store's `ModeratedItem::reportable`, once per
//! person and item is a unique index, and only a removed person is let back in.

/// Why a report or a readmission is refused. The texts are German (the store's callers
/// have always shown them); the web shows each case in the reader's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ModerationRefusal {
    /// Questions and pins have their own ways (support, votes); they are not reported.
    #[error("Melden lassen sich Chatnachrichten, Impulse und Kontaktanfragen.")]
    NotReportable,
    /// Once per person and item.
    #[error("Sie haben diesen Beitrag schon gemeldet.")]
    AlreadyReported,
    #[error("Diese Person ist nicht von der Veranstaltung ausgeschlossen.")]
    NotRemoved,
}
