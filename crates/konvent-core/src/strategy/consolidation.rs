//! The rules for the project team's groups of impulses in the consolidation (S3): a
//! group holds impulses of its own topic, two open groups of the topic merge into one,
//! and a group is accepted into the draft of the next target picture once. (Which
//! impulses belong together is suggested by [`super::grouping`].) The store asks these
//! functions before it writes.

use crate::ids::{ImpulseGroupId, ImpulseId, TargetPictureId, TopicId};

/// Why a group may not be saved, merged or accepted. The texts are German (the store's
/// callers have always shown them); the web shows each case in the reader's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum GroupRefusal {
    /// A group without impulses.
    #[error("Eine Gruppe braucht Impulse.")]
    Empty,
    /// An impulse of another topic, or none at all.
    #[error("Ein Impuls gehört nicht zu diesem Thema.")]
    ForeignImpulse,
    /// Merging needs two different groups, both of the topic and not yet accepted.
    #[error("Zusammenführen geht nur mit zwei offenen Gruppen dieses Themas.")]
    NotTwoOpenGroups,
    /// The group is in a version already.
    #[error("Diese Gruppe ist schon übernommen.")]
    AlreadyAccepted,
}

/// Whether a group of `impulses` may be saved: it needs at least one.
pub fn save(impulses: &[ImpulseId]) -> Result<(), GroupRefusal> {
    if impulses.is_empty() {
        Err(GroupRefusal::Empty)
    } else {
        Ok(())
    }
}

/// Whether an impulse of topic `owner` (`None`: no such impulse) may join a group of
/// topic `topic`.
pub fn member(topic: TopicId, owner: Option<TopicId>) -> Result<(), GroupRefusal> {
    if owner == Some(topic) {
        Ok(())
    } else {
        Err(GroupRefusal::ForeignImpulse)
    }
}

/// Whether group `from` may merge into group `into`, when `open` of the two are open
/// groups of the topic.
pub fn merge(into: ImpulseGroupId, from: ImpulseGroupId, open: i64) -> Result<(), GroupRefusal> {
    if into == from || open != 2 {
        Err(GroupRefusal::NotTwoOpenGroups)
    } else {
        Ok(())
    }
}

/// Whether a group, already accepted into version `accepted_into` or not, may be
/// accepted.
pub fn accept(accepted_into: Option<TargetPictureId>) -> Result<(), GroupRefusal> {
    match accepted_into {
        None => Ok(()),
        Some(_) => Err(GroupRefusal::AlreadyAccepted),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_holds_impulses_of_its_own_topic() {
        assert_eq!(save(&[ImpulseId::new(1)]), Ok(()));
        assert_eq!(save(&[]), Err(GroupRefusal::Empty));
        let topic = TopicId::new;
        assert_eq!(member(topic(3), Some(topic(3))), Ok(()));
        assert_eq!(
            member(topic(3), Some(topic(4))),
            Err(GroupRefusal::ForeignImpulse)
        );
        assert_eq!(member(topic(3), None), Err(GroupRefusal::ForeignImpulse));
    }

    #[test]
    fn two_different_open_groups_merge() {
        let group = ImpulseGroupId::new;
        assert_eq!(merge(group(1), group(2), 2), Ok(()));
        assert_eq!(
            merge(group(1), group(2), 1),
            Err(GroupRefusal::NotTwoOpenGroups)
        );
        assert_eq!(
            merge(group(1), group(1), 2),
            Err(GroupRefusal::NotTwoOpenGroups),
            "a group does not merge into itself"
        );
    }

    #[test]
    fn a_group_is_accepted_once() {
        assert_eq!(accept(None), Ok(()));
        assert_eq!(
            accept(Some(TargetPictureId::new(5))),
            Err(GroupRefusal::AlreadyAccepted)
        );
    }
}
