//! A target picture's lifecycle (S2): the project team writes the next version as the
//! draft, moves it into the decision papers (confidential), and it is published with the
//! council's published resolution that decided it. Only the draft is edited; no version
//! goes back. The store asks [`edit`] and [`advance`] before it writes.

use super::Visibility;

/// Why a version may not be edited or moved on. The texts are German (the store's
/// callers have always shown them); the web shows each case in the reader's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TargetPictureRefusal {
    /// Only the draft is edited.
    #[error("Nur der Entwurf kann bearbeitet werden.")]
    NotADraft,
    /// Publishing needs the resolution that decided the version.
    #[error("Bitte den Beschluss angeben, der es beschlossen hat.")]
    ResolutionMissing,
    /// No version becomes the draft again.
    #[error("Eine Fassung wird nicht wieder zum Entwurf.")]
    BackToDraft,
    /// Confidential only from the draft, published only from confidential and with a
    /// published resolution.
    #[error(
        "Das geht in diesem Stand nicht (vertraulich erst aus dem Entwurf, \
         veröffentlicht erst mit einem veröffentlichten Beschluss)."
    )]
    WrongState,
}

/// Whether a version standing at `from` may be edited. `None`: there is no such
/// version, refused like one that is no draft (as the store always answered).
pub fn edit(from: Option<Visibility>) -> Result<(), TargetPictureRefusal> {
    match from {
        Some(Visibility::Draft) => Ok(()),
        _ => Err(TargetPictureRefusal::NotADraft),
    }
}

/// Whether a version standing at `from` may move `to`. `resolution` says, when one was
/// given, whether that resolution is published (an unknown one is not). `None` for
/// `from`: there is no such version, refused like one in the wrong state.
pub fn advance(
    from: Option<Visibility>,
    to: Visibility,
    resolution: Option<bool>,
) -> Result<(), TargetPictureRefusal> {
    match to {
        Visibility::Draft => Err(TargetPictureRefusal::BackToDraft),
        Visibility::Confidential if from == Some(Visibility::Draft) => Ok(()),
        Visibility::Confidential => Err(TargetPictureRefusal::WrongState),
        Visibility::Published => match resolution {
            None => Err(TargetPictureRefusal::ResolutionMissing),
            Some(true) if from == Some(Visibility::Confidential) => Ok(()),
            Some(_) => Err(TargetPictureRefusal::WrongState),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Visibility::{Confidential, Draft, Published};

    #[test]
    fn only_the_draft_is_edited() {
        assert_eq!(edit(Some(Draft)), Ok(()));
        for from in [Some(Confidential), Some(Published), None] {
            assert_eq!(edit(from), Err(TargetPictureRefusal::NotADraft), "{from:?}");
        }
    }

    #[test]
    fn a_draft_goes_into_the_decision_papers_and_then_out_with_its_resolution() {
        assert_eq!(advance(Some(Draft), Confidential, None), Ok(()));
        assert_eq!(advance(Some(Confidential), Published, Some(true)), Ok(()));
    }

    #[test]
    fn publishing_needs_a_published_resolution_and_a_confidential_version() {
        assert_eq!(
            advance(Some(Confidential), Published, None),
            Err(TargetPictureRefusal::ResolutionMissing)
        );
        assert_eq!(
            advance(Some(Confidential), Published, Some(false)),
            Err(TargetPictureRefusal::WrongState)
        );
        assert_eq!(
            advance(Some(Draft), Published, Some(true)),
            Err(TargetPictureRefusal::WrongState),
            "not past the decision papers"
        );
        assert_eq!(
            advance(Some(Published), Published, Some(true)),
            Err(TargetPictureRefusal::WrongState)
        );
    }

    #[test]
    fn nothing_goes_back_and_only_the_draft_becomes_confidential() {
        for from in [Some(Draft), Some(Confidential), Some(Published), None] {
            assert_eq!(
                advance(from, Draft, None),
                Err(TargetPictureRefusal::BackToDraft)
            );
        }
        for from in [Some(Confidential), Some(Published), None] {
            assert_eq!(
                advance(from, Confidential, None),
                Err(TargetPictureRefusal::WrongState),
                "{from:?}"
            );
        }
    }

    #[test]
    fn a_missing_version_is_refused_like_one_in_the_wrong_state() {
        assert_eq!(
            advance(None, Published, Some(true)),
            Err(TargetPictureRefusal::WrongState)
        );
        assert_eq!(
            advance(None, Published, None),
            Err(TargetPictureRefusal::ResolutionMissing),
            "the missing resolution is named first, as before"
        );
    }
}
