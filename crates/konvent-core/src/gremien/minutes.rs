//! Why a council session's minutes (G7) refuse an edit or a step on. Their states are
//! the store's; the texts are German and the web shows each case in the reader's language.

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MinutesRefusal {
    #[error("Die Niederschrift ist noch nicht erzeugt.")]
    NotGenerated,
    #[error("Es gibt keinen Entwurf der Niederschrift, der abgeschlossen werden könnte.")]
    NoDraft,
    #[error("Es gibt keine abgeschlossene Niederschrift, die freigegeben werden könnte.")]
    NotFinal,
}
