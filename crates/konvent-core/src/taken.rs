//! What is already there when a unique rule of the database refuses a second one: a
//! slug, a number or a once-per-person action. The store maps the unique violation to it
//! (`StoreError::refused_on_unique`); the texts are German and the web shows each case in
//! the reader's language.

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Taken {
    #[error("Eine Konferenz mit diesem Kürzel gibt es schon.")]
    ConferenceAbbreviation,
    #[error("Eine Veranstaltung mit dieser Kurzbezeichnung gibt es schon.")]
    EventSlug,
    #[error("Einen Raum mit dieser Kurzbezeichnung gibt es schon.")]
    RoomSlug,
    #[error("Diese Runde gibt es schon.")]
    Round,
    #[error("Jedes Thema hat nur einen Tisch pro Runde.")]
    TopicTable,
    #[error("Dieses Thema gibt es schon.")]
    Topic,
    #[error("Sie haben schon eine Rückmeldung gegeben.")]
    Feedback,
    #[error("Sie haben für diese Frage schon gestimmt.")]
    QuestionVote,
    #[error("Eine Sitzung mit dieser Nummer gibt es schon.")]
    SessionNumber,
    #[error("Diese Beschlussnummer ist in diesem Jahr schon vergeben.")]
    ResolutionNumber,
    #[error("Über diesen Entwurf läuft schon eine Abstimmung.")]
    DraftVote,
}
