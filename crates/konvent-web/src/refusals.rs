//! konvent-core's typed refusals (a rule of the domain said no) in the reader's
//! language, through the Fluent files. The German texts are the same the core types
//! display; a test below holds them equal.

use konvent_core::Refused;
use konvent_core::konvent::live::Refusal;
use konvent_core::konvent::moderation::ModerationRefusal;
use konvent_core::konvent::networking::ContactRefusal;
use konvent_core::strategy::cafe::{RoundRefusal, SeatRefusal};
use konvent_core::strategy::consolidation::GroupRefusal;
use konvent_core::strategy::impulses::ImpulseRefusal;
use konvent_core::strategy::pinboard::PinRefusal;
use konvent_core::strategy::target_pictures::TargetPictureRefusal;

use crate::i18n::Tr;

/// The message id of `refused` and its arguments.
fn message(refused: &Refused) -> (&'static str, Option<(&'static str, String)>) {
    match refused {
        Refused::Round(r) => match r {
            RoundRefusal::AlreadyEnded { number } => (
                "refused-round-already-ended",
                Some(("number", number.to_string())),
            ),
            RoundRefusal::EarlierPlanned { number } => (
                "refused-round-earlier-planned",
                Some(("number", number.to_string())),
            ),
            RoundRefusal::AnotherRunning => ("refused-round-another-running", None),
            RoundRefusal::WrongState => ("refused-round-wrong-state", None),
        },
        Refused::Seat(SeatRefusal::TableFull) => ("refused-seat-table-full", None),
        Refused::Impulse(r) => (
            match r {
                ImpulseRefusal::NotTheAuthor => "refused-impulse-not-the-author",
                ImpulseRefusal::Hidden => "refused-impulse-hidden",
                ImpulseRefusal::EditTimeOver => "refused-impulse-edit-time-over",
                ImpulseRefusal::MergeElsewhere => "refused-impulse-merge-elsewhere",
                ImpulseRefusal::AlreadyMerged => "refused-impulse-already-merged",
            },
            None,
        ),
        Refused::Pin(PinRefusal::NoDecision) => ("refused-pin-no-decision", None),
        Refused::Group(r) => (
            match r {
                GroupRefusal::Empty => "refused-group-empty",
                GroupRefusal::ForeignImpulse => "refused-group-foreign-impulse",
                GroupRefusal::NotTwoOpenGroups => "refused-group-not-two-open-groups",
                GroupRefusal::AlreadyAccepted => "refused-group-already-accepted",
            },
            None,
        ),
        Refused::Contact(r) => (
            match r {
                ContactRefusal::ToOneself => "refused-contact-to-oneself",
                ContactRefusal::Blocked => "refused-contact-blocked",
                ContactRefusal::AlreadyConnected => "refused-contact-already-connected",
                ContactRefusal::AlreadyAsked => "refused-contact-already-asked",
                ContactRefusal::BlockOneself => "refused-contact-block-oneself",
            },
            None,
        ),
        Refused::Moderation(r) => (
            match r {
                ModerationRefusal::NotReportable => "refused-moderation-not-reportable",
                ModerationRefusal::AlreadyReported => "refused-moderation-already-reported",
                ModerationRefusal::NotRemoved => "refused-moderation-not-removed",
            },
            None,
        ),
        Refused::TargetPicture(r) => match r {
            TargetPictureRefusal::NotADraft => ("refused-target-picture-not-a-draft", None),
            TargetPictureRefusal::ResolutionMissing => {
                ("refused-target-picture-resolution-missing", None)
            }
            TargetPictureRefusal::BackToDraft => ("refused-target-picture-back-to-draft", None),
            TargetPictureRefusal::WrongState => ("refused-target-picture-wrong-state", None),
        },
    }
}

/// Why `refused`, in the language of `t`.
pub fn text(t: Tr, refused: &Refused) -> String {
    match message(refused) {
        (id, Some((name, value))) => t.with(id, &[(name, value.as_str())]),
        (id, None) => t.get(id),
    }
}

/// A live command's refusal in the language of `t`: translated when a rule of the
/// domain refused it, else its message as it was written.
pub fn live(t: Tr, refusal: &Refusal) -> String {
    match &refusal.rule {
        Some(refused) => text(t, refused),
        None => refusal.message.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    fn every_refusal() -> Vec<Refused> {
        vec![
            RoundRefusal::AlreadyEnded { number: 3 }.into(),
            RoundRefusal::EarlierPlanned { number: 4 }.into(),
            RoundRefusal::AnotherRunning.into(),
            RoundRefusal::WrongState.into(),
            SeatRefusal::TableFull.into(),
            ImpulseRefusal::NotTheAuthor.into(),
            ImpulseRefusal::Hidden.into(),
            ImpulseRefusal::EditTimeOver.into(),
            ImpulseRefusal::MergeElsewhere.into(),
            ImpulseRefusal::AlreadyMerged.into(),
            PinRefusal::NoDecision.into(),
            GroupRefusal::Empty.into(),
            GroupRefusal::ForeignImpulse.into(),
            GroupRefusal::NotTwoOpenGroups.into(),
            GroupRefusal::AlreadyAccepted.into(),
            TargetPictureRefusal::NotADraft.into(),
            TargetPictureRefusal::ResolutionMissing.into(),
            TargetPictureRefusal::BackToDraft.into(),
            TargetPictureRefusal::WrongState.into(),
            ContactRefusal::ToOneself.into(),
            ContactRefusal::Blocked.into(),
            ContactRefusal::AlreadyConnected.into(),
            ContactRefusal::AlreadyAsked.into(),
            ContactRefusal::BlockOneself.into(),
            ModerationRefusal::NotReportable.into(),
            ModerationRefusal::AlreadyReported.into(),
            ModerationRefusal::NotRemoved.into(),
        ]
    }

    #[test]
    fn the_german_text_is_the_one_core_displays() {
        for refused in every_refusal() {
            assert_eq!(text(Tr::new(Lang::De), &refused), refused.to_string());
        }
    }

    #[test]
    fn every_refusal_has_an_english_text() {
        for refused in every_refusal() {
            let english = text(Tr::new(Lang::En), &refused);
            assert!(!english.starts_with("refused-"), "{english}");
            assert_ne!(english, refused.to_string());
        }
        assert_eq!(
            text(
                Tr::new(Lang::En),
                &RoundRefusal::AlreadyEnded { number: 3 }.into()
            ),
            "Round 3 has already ended and cannot be started again; only the next planned \
             round can be started."
        );
    }
}
