//! The rules for changing an impulse (K10) once it is written: its author edits it for a
//! quarter of an hour while it is shown, and the table's moderation merges it into
//! another impulse of the same table. The store asks [`edit`] and [`merge`] before it
//! writes.

use super::IMPULSE_EDIT_SECONDS;
use crate::ids::{AccountId, ImpulseId, TableId};

/// Why an impulse may not be edited or merged. The texts are German (the store's callers
/// have always shown them); the web shows each case in the reader's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ImpulseRefusal {
    /// Only its author edits an impulse.
    #[error("Nur wer einen Impuls geschrieben hat, kann ihn ändern.")]
    NotTheAuthor,
    /// The moderation hid it; editing would show it again under another text.
    #[error("Dieser Impuls ist ausgeblendet und kann nicht geändert werden.")]
    Hidden,
    /// Written more than [`IMPULSE_EDIT_SECONDS`] ago.
    #[error("Impulse können nur in der ersten Viertelstunde geändert werden.")]
    EditTimeOver,
    /// Merged only into another impulse, and only one of the same table.
    #[error("Zusammenführen geht nur mit einem anderen Impuls desselben Tisches.")]
    MergeElsewhere,
    /// The impulse to merge into is merged itself: the chain would not end where it shows.
    #[error("Dieser Impuls ist selbst schon zusammengeführt.")]
    AlreadyMerged,
}

/// Whether `who` may edit an impulse by `author` (`None` once that account is deleted),
/// `hidden` or not, written at `written`, at `now`.
pub fn edit(
    author: Option<AccountId>,
    who: AccountId,
    hidden: bool,
    written: jiff::Timestamp,
    now: jiff::Timestamp,
) -> Result<(), ImpulseRefusal> {
    if author != Some(who) {
        Err(ImpulseRefusal::NotTheAuthor)
    } else if hidden {
        Err(ImpulseRefusal::Hidden)
    } else if now.as_second() - written.as_second() > IMPULSE_EDIT_SECONDS {
        Err(ImpulseRefusal::EditTimeOver)
    } else {
        Ok(())
    }
}

/// Whether impulse `id` at table `table` may be merged into impulse `into` at table
/// `into_table`, which is itself merged into another one when `into_merged`.
pub fn merge(
    id: ImpulseId,
    table: TableId,
    into: ImpulseId,
    into_table: TableId,
    into_merged: bool,
) -> Result<(), ImpulseRefusal> {
    if into == id || into_table != table {
        Err(ImpulseRefusal::MergeElsewhere)
    } else if into_merged {
        Err(ImpulseRefusal::AlreadyMerged)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(second: i64) -> jiff::Timestamp {
        jiff::Timestamp::from_second(second).unwrap_or_default()
    }

    #[test]
    fn the_author_edits_a_shown_impulse_for_a_quarter_of_an_hour() {
        assert_eq!(
            edit(
                Some(AccountId::new(7)),
                AccountId::new(7),
                false,
                at(1000),
                at(1000)
            ),
            Ok(())
        );
        assert_eq!(
            edit(
                Some(AccountId::new(7)),
                AccountId::new(7),
                false,
                at(1000),
                at(1000 + IMPULSE_EDIT_SECONDS)
            ),
            Ok(()),
            "the last second still counts"
        );
        assert_eq!(
            edit(
                Some(AccountId::new(7)),
                AccountId::new(7),
                false,
                at(1000),
                at(1001 + IMPULSE_EDIT_SECONDS)
            ),
            Err(ImpulseRefusal::EditTimeOver)
        );
    }

    #[test]
    fn nobody_else_edits_it_and_nobody_edits_a_hidden_one() {
        assert_eq!(
            edit(
                Some(AccountId::new(7)),
                AccountId::new(8),
                false,
                at(0),
                at(0)
            ),
            Err(ImpulseRefusal::NotTheAuthor)
        );
        assert_eq!(
            edit(None, AccountId::new(8), false, at(0), at(0)),
            Err(ImpulseRefusal::NotTheAuthor),
            "a deleted author's impulse stays as it is"
        );
        assert_eq!(
            edit(
                Some(AccountId::new(7)),
                AccountId::new(7),
                true,
                at(0),
                at(0)
            ),
            Err(ImpulseRefusal::Hidden)
        );
        assert_eq!(
            edit(
                Some(AccountId::new(7)),
                AccountId::new(8),
                true,
                at(0),
                at(10_000)
            ),
            Err(ImpulseRefusal::NotTheAuthor),
            "the author is asked first"
        );
    }

    #[test]
    fn an_impulse_merges_into_another_unmerged_one_of_its_table() {
        let (impulse, table) = (ImpulseId::new, TableId::new);
        assert_eq!(
            merge(impulse(1), table(10), impulse(2), table(10), false),
            Ok(())
        );
        assert_eq!(
            merge(impulse(1), table(10), impulse(1), table(10), false),
            Err(ImpulseRefusal::MergeElsewhere)
        );
        assert_eq!(
            merge(impulse(1), table(10), impulse(2), table(11), false),
            Err(ImpulseRefusal::MergeElsewhere)
        );
        assert_eq!(
            merge(impulse(1), table(10), impulse(2), table(10), true),
            Err(ImpulseRefusal::AlreadyMerged)
        );
    }
}
