//! konvent-core's typed refusals (a rule of the domain said no) in the reader's
//! language, through the Fluent files. The German texts are the same the core types
//! display; a test below holds them equal.

use konvent_core::Refused;
use konvent_core::documents::{DocumentRefusal, MAX_PER_OWNER, MAX_VERSIONS};
use konvent_core::gremien::directory::AssignmentRefusal;
use konvent_core::gremien::minutes::MinutesRefusal;
use konvent_core::gremien::votes::VoteRefusal;
use konvent_core::konvent::live::{Expected, FormProblem, LiveRefusal, Refusal};
use konvent_core::konvent::moderation::ModerationRefusal;
use konvent_core::konvent::networking::ContactRefusal;
use konvent_core::konvent::networking::{FollowUpRefusal, GROUP_ROOMS_PER_EVENT};
use konvent_core::konvent::registration::{PseudonymRefusal, RegistrationRefusal};
use konvent_core::notifications::MailRefusal;
use konvent_core::strategy::cafe::{RoundRefusal, SeatRefusal};
use konvent_core::strategy::consolidation::GroupRefusal;
use konvent_core::strategy::impulses::ImpulseRefusal;
use konvent_core::strategy::pinboard::PinRefusal;
use konvent_core::strategy::target_pictures::TargetPictureRefusal;
use konvent_core::taken::Taken;

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
        Refused::FollowUp(r) => match r {
            FollowUpRefusal::NobodyElse => ("refused-follow-up-nobody-else", None),
            FollowUpRefusal::OtherConnectionPoint => {
                ("refused-follow-up-other-connection-point", None)
            }
            FollowUpRefusal::RoomNotYours => ("refused-follow-up-room-not-yours", None),
            FollowUpRefusal::TooManyRooms => (
                "refused-follow-up-too-many-rooms",
                Some(("max", GROUP_ROOMS_PER_EVENT.to_string())),
            ),
        },
        Refused::Registration(r) => (
            match r {
                RegistrationRefusal::InvitationOnly => "refused-registration-invitation-only",
                RegistrationRefusal::NotAwaitingApproval => {
                    "refused-registration-not-awaiting-approval"
                }
                RegistrationRefusal::AlreadyEnded => "refused-registration-already-ended",
            },
            None,
        ),
        Refused::Pseudonym(r) => (
            match r {
                PseudonymRefusal::NotAllowed => "refused-pseudonym-not-allowed",
                PseudonymRefusal::SomebodysName => "refused-pseudonym-somebodys-name",
                PseudonymRefusal::Taken => "refused-pseudonym-taken",
            },
            None,
        ),
        Refused::Vote(r) => (vote(*r), None),
        Refused::Minutes(r) => (
            match r {
                MinutesRefusal::NotGenerated => "refused-minutes-not-generated",
                MinutesRefusal::NoDraft => "refused-minutes-no-draft",
                MinutesRefusal::NotFinal => "refused-minutes-not-final",
            },
            None,
        ),
        Refused::Assignment(AssignmentRefusal::AlreadyEnded) => {
            ("refused-assignment-already-ended", None)
        }
        Refused::Document(r) => match r {
            DocumentRefusal::TooManyDocuments => (
                "refused-document-too-many",
                Some(("max", MAX_PER_OWNER.to_string())),
            ),
            DocumentRefusal::TooManyVersions => (
                "refused-document-too-many-versions",
                Some(("max", MAX_VERSIONS.to_string())),
            ),
        },
        Refused::Mail(MailRefusal::NotFailed) => ("refused-mail-not-failed", None),
        Refused::Taken(r) => (taken(*r), None),
        Refused::Live(r) => (
            match r {
                LiveRefusal::ShuttingDown => "refused-live-shutting-down",
                LiveRefusal::NotFound => "refused-live-not-found",
                LiveRefusal::NoSuchTable => "refused-live-no-such-table",
                LiveRefusal::NoSuchImpulse => "refused-live-no-such-impulse",
                LiveRefusal::NoSuchTopic => "refused-live-no-such-topic",
                LiveRefusal::TableLeadOnly => "refused-live-table-lead-only",
                LiveRefusal::NotACafeCommand => "refused-live-not-a-cafe-command",
                LiveRefusal::RoundNotRunning => "refused-live-round-not-running",
                LiveRefusal::SitDownFirst => "refused-live-sit-down-first",
                LiveRefusal::RoundOver => "refused-live-round-over",
                LiveRefusal::LinkTooLong => "refused-live-link-too-long",
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

fn vote(refusal: VoteRefusal) -> &'static str {
    match refusal {
        VoteRefusal::Stopped => "refused-vote-stopped",
        VoteRefusal::Closed => "refused-vote-closed",
        VoteRefusal::AlreadyClosed => "refused-vote-already-closed",
        VoteRefusal::MemberVoted => "refused-vote-member-voted",
        VoteRefusal::TooManyChanges => "refused-vote-too-many-changes",
        VoteRefusal::NotADraft => "refused-vote-not-a-draft",
        VoteRefusal::NoKey => "refused-vote-no-key",
        VoteRefusal::MemberPresent => "refused-vote-member-present",
        VoteRefusal::NotPresent => "refused-vote-not-present",
        VoteRefusal::StopAlreadyRequested => "refused-vote-stop-already-requested",
        VoteRefusal::NotRunning => "refused-vote-not-running",
        VoteRefusal::NoOpenStopRequest => "refused-vote-no-open-stop-request",
        VoteRefusal::NotWritten => "refused-vote-not-written",
        VoteRefusal::AlreadyStopped => "refused-vote-already-stopped",
        VoteRefusal::AlreadyOver => "refused-vote-already-over",
    }
}

fn taken(taken: Taken) -> &'static str {
    match taken {
        Taken::ConferenceAbbreviation => "refused-taken-conference-abbreviation",
        Taken::EventSlug => "refused-taken-event-slug",
        Taken::RoomSlug => "refused-taken-room-slug",
        Taken::Round => "refused-taken-round",
        Taken::TopicTable => "refused-taken-topic-table",
        Taken::Topic => "refused-taken-topic",
        Taken::Feedback => "refused-taken-feedback",
        Taken::QuestionVote => "refused-taken-question-vote",
        Taken::SessionNumber => "refused-taken-session-number",
        Taken::ResolutionNumber => "refused-taken-resolution-number",
        Taken::DraftVote => "refused-taken-draft-vote",
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
/// domain refused it or a form could not be read, else its message as it was written.
pub fn live(t: Tr, refusal: &Refusal) -> String {
    match (&refusal.rule, &refusal.form) {
        (Some(refused), _) => text(t, refused),
        (None, Some(problem)) => form(t, problem),
        (None, None) => refusal.message.clone(),
    }
}

/// What was wrong with a posted form, in the language of `t`.
pub fn form(t: Tr, problem: &FormProblem) -> String {
    let (id, name, value) = match problem {
        FormProblem::UnknownCommand(value) => ("refused-form-unknown-command", "value", value),
        FormProblem::Missing(field) => ("refused-form-missing", "field", field),
        FormProblem::Wrong { value, expected } => (
            match expected {
                Expected::Number => "refused-form-not-a-number",
                Expected::NumberOrNothing => "refused-form-not-a-number-or-nothing",
                Expected::Flag => "refused-form-not-a-flag",
                Expected::Recipient => "refused-form-not-a-recipient",
                Expected::Other => "refused-form-wrong",
            },
            "value",
            value,
        ),
        FormProblem::Other(reason) => ("refused-form-other", "reason", reason),
    };
    t.with(id, &[(name, value.as_str())])
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
            FollowUpRefusal::NobodyElse.into(),
            FollowUpRefusal::OtherConnectionPoint.into(),
            FollowUpRefusal::RoomNotYours.into(),
            FollowUpRefusal::TooManyRooms.into(),
            RegistrationRefusal::InvitationOnly.into(),
            RegistrationRefusal::NotAwaitingApproval.into(),
            RegistrationRefusal::AlreadyEnded.into(),
            PseudonymRefusal::NotAllowed.into(),
            PseudonymRefusal::SomebodysName.into(),
            PseudonymRefusal::Taken.into(),
            VoteRefusal::Stopped.into(),
            VoteRefusal::Closed.into(),
            VoteRefusal::AlreadyClosed.into(),
            VoteRefusal::MemberVoted.into(),
            VoteRefusal::TooManyChanges.into(),
            VoteRefusal::NotADraft.into(),
            VoteRefusal::NoKey.into(),
            VoteRefusal::MemberPresent.into(),
            VoteRefusal::NotPresent.into(),
            VoteRefusal::StopAlreadyRequested.into(),
            VoteRefusal::NotRunning.into(),
            VoteRefusal::NoOpenStopRequest.into(),
            VoteRefusal::NotWritten.into(),
            VoteRefusal::AlreadyStopped.into(),
            VoteRefusal::AlreadyOver.into(),
            MinutesRefusal::NotGenerated.into(),
            MinutesRefusal::NoDraft.into(),
            MinutesRefusal::NotFinal.into(),
            AssignmentRefusal::AlreadyEnded.into(),
            DocumentRefusal::TooManyDocuments.into(),
            DocumentRefusal::TooManyVersions.into(),
            MailRefusal::NotFailed.into(),
            Taken::ConferenceAbbreviation.into(),
            Taken::EventSlug.into(),
            Taken::RoomSlug.into(),
            Taken::Round.into(),
            Taken::TopicTable.into(),
            Taken::Topic.into(),
            Taken::Feedback.into(),
            Taken::QuestionVote.into(),
            Taken::SessionNumber.into(),
            Taken::ResolutionNumber.into(),
            Taken::DraftVote.into(),
            LiveRefusal::ShuttingDown.into(),
            LiveRefusal::NotFound.into(),
            LiveRefusal::NoSuchTable.into(),
            LiveRefusal::NoSuchImpulse.into(),
            LiveRefusal::NoSuchTopic.into(),
            LiveRefusal::TableLeadOnly.into(),
            LiveRefusal::NotACafeCommand.into(),
            LiveRefusal::RoundNotRunning.into(),
            LiveRefusal::SitDownFirst.into(),
            LiveRefusal::RoundOver.into(),
            LiveRefusal::LinkTooLong.into(),
        ]
    }

    #[test]
    fn the_german_text_is_the_one_core_displays() {
        for refused in every_refusal() {
            assert_eq!(text(Tr::new(Lang::De), &refused), refused.to_string());
        }
    }

    #[test]
    fn a_form_problem_reads_in_german_as_core_says_it_and_in_english() {
        let problems = [
            FormProblem::UnknownCommand("explode".into()),
            FormProblem::Missing("text".into()),
            FormProblem::Wrong {
                value: "zwölf".into(),
                expected: Expected::Number,
            },
            FormProblem::Wrong {
                value: "x".into(),
                expected: Expected::NumberOrNothing,
            },
            FormProblem::Wrong {
                value: "vielleicht".into(),
                expected: Expected::Flag,
            },
            FormProblem::Wrong {
                value: "x".into(),
                expected: Expected::Recipient,
            },
            FormProblem::Wrong {
                value: "x".into(),
                expected: Expected::Other,
            },
            FormProblem::Other("serde".into()),
        ];
        for problem in problems {
            assert_eq!(form(Tr::new(Lang::De), &problem), problem.to_string());
            let english = form(Tr::new(Lang::En), &problem);
            assert!(
                english.starts_with("The form could not be read: "),
                "{english}"
            );
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
