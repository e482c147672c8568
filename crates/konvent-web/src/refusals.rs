//! konvent-core's typed refusals (a rule of the domain said no) in the reader's
//! language, through the Fluent files. The German texts are the same the core types
//! display; a test below holds them equal.

use konvent_core::Refused;
use konvent_core::convention::live::{
    Expected, FormProblem, LiveRefusal, MAX_FRAME_BYTES, MAX_ID_CHARS, MAX_TIMER_SECONDS, Refusal,
};
use konvent_core::convention::moderation::ModerationRefusal;
use konvent_core::convention::networking::ContactRefusal;
use konvent_core::convention::networking::{FollowUpRefusal, GROUP_ROOMS_PER_EVENT};
use konvent_core::convention::registration::{PseudonymRefusal, RegistrationRefusal};
use konvent_core::documents::{DocumentRefusal, MAX_PER_OWNER, MAX_VERSIONS};
use konvent_core::gremien::directory::AssignmentRefusal;
use konvent_core::gremien::minutes::MinutesRefusal;
use konvent_core::gremien::votes::VoteRefusal;
use konvent_core::notifications::MailRefusal;
use konvent_core::strategy::cafe::{RoundRefusal, SeatRefusal};
use konvent_core::strategy::consolidation::GroupRefusal;
use konvent_core::strategy::impulses::ImpulseRefusal;
use konvent_core::strategy::pinboard::PinRefusal;
use konvent_core::strategy::target_pictures::TargetPictureRefusal;
use konvent_core::taken::Taken;

use crate::i18n::Tr;

/// A message's Fluent arguments.
type Args = Vec<(&'static str, String)>;

/// The message id of `refused` and its arguments.
fn message(refused: &Refused) -> (&'static str, Args) {
    match refused {
        Refused::Round(r) => match r {
            RoundRefusal::AlreadyEnded { number } => (
                "refused-round-already-ended",
                vec![("number", number.to_string())],
            ),
            RoundRefusal::EarlierPlanned { number } => (
                "refused-round-earlier-planned",
                vec![("number", number.to_string())],
            ),
            RoundRefusal::AnotherRunning => ("refused-round-another-running", vec![]),
            RoundRefusal::WrongState => ("refused-round-wrong-state", vec![]),
        },
        Refused::Seat(SeatRefusal::TableFull) => ("refused-seat-table-full", vec![]),
        Refused::Impulse(r) => (
            match r {
                ImpulseRefusal::NotTheAuthor => "refused-impulse-not-the-author",
                ImpulseRefusal::Hidden => "refused-impulse-hidden",
                ImpulseRefusal::EditTimeOver => "refused-impulse-edit-time-over",
                ImpulseRefusal::MergeElsewhere => "refused-impulse-merge-elsewhere",
                ImpulseRefusal::AlreadyMerged => "refused-impulse-already-merged",
            },
            vec![],
        ),
        Refused::Pin(PinRefusal::NoDecision) => ("refused-pin-no-decision", vec![]),
        Refused::Group(r) => (
            match r {
                GroupRefusal::Empty => "refused-group-empty",
                GroupRefusal::ForeignImpulse => "refused-group-foreign-impulse",
                GroupRefusal::NotTwoOpenGroups => "refused-group-not-two-open-groups",
                GroupRefusal::AlreadyAccepted => "refused-group-already-accepted",
            },
            vec![],
        ),
        Refused::Contact(r) => (
            match r {
                ContactRefusal::ToOneself => "refused-contact-to-oneself",
                ContactRefusal::Blocked => "refused-contact-blocked",
                ContactRefusal::AlreadyConnected => "refused-contact-already-connected",
                ContactRefusal::AlreadyAsked => "refused-contact-already-asked",
                ContactRefusal::BlockOneself => "refused-contact-block-oneself",
            },
            vec![],
        ),
        Refused::Moderation(r) => (
            match r {
                ModerationRefusal::NotReportable => "refused-moderation-not-reportable",
                ModerationRefusal::AlreadyReported => "refused-moderation-already-reported",
                ModerationRefusal::NotRemoved => "refused-moderation-not-removed",
            },
            vec![],
        ),
        Refused::FollowUp(r) => match r {
            FollowUpRefusal::NobodyElse => ("refused-follow-up-nobody-else", vec![]),
            FollowUpRefusal::OtherConnectionPoint => {
                ("refused-follow-up-other-connection-point", vec![])
            }
            FollowUpRefusal::RoomNotYours => ("refused-follow-up-room-not-yours", vec![]),
            FollowUpRefusal::TooManyRooms => (
                "refused-follow-up-too-many-rooms",
                vec![("max", GROUP_ROOMS_PER_EVENT.to_string())],
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
            vec![],
        ),
        Refused::Pseudonym(r) => (
            match r {
                PseudonymRefusal::NotAllowed => "refused-pseudonym-not-allowed",
                PseudonymRefusal::SomebodysName => "refused-pseudonym-somebodys-name",
                PseudonymRefusal::Taken => "refused-pseudonym-taken",
            },
            vec![],
        ),
        Refused::Vote(r) => (vote(*r), vec![]),
        Refused::Minutes(r) => (
            match r {
                MinutesRefusal::NotGenerated => "refused-minutes-not-generated",
                MinutesRefusal::NoDraft => "refused-minutes-no-draft",
                MinutesRefusal::NotFinal => "refused-minutes-not-final",
            },
            vec![],
        ),
        Refused::Assignment(AssignmentRefusal::AlreadyEnded) => {
            ("refused-assignment-already-ended", vec![])
        }
        Refused::Document(r) => match r {
            DocumentRefusal::TooManyDocuments => (
                "refused-document-too-many",
                vec![("max", MAX_PER_OWNER.to_string())],
            ),
            DocumentRefusal::TooManyVersions => (
                "refused-document-too-many-versions",
                vec![("max", MAX_VERSIONS.to_string())],
            ),
        },
        Refused::Mail(MailRefusal::NotFailed) => ("refused-mail-not-failed", vec![]),
        Refused::Taken(r) => (taken(*r), vec![]),
        Refused::Live(r) => live_rule(r),
        Refused::TargetPicture(r) => match r {
            TargetPictureRefusal::NotADraft => ("refused-target-picture-not-a-draft", vec![]),
            TargetPictureRefusal::ResolutionMissing => {
                ("refused-target-picture-resolution-missing", vec![])
            }
            TargetPictureRefusal::BackToDraft => ("refused-target-picture-back-to-draft", vec![]),
            TargetPictureRefusal::WrongState => ("refused-target-picture-wrong-state", vec![]),
        },
    }
}

/// The message id of a live command's own refusal and its arguments.
fn live_rule(refusal: &LiveRefusal) -> (&'static str, Args) {
    let id = match refusal {
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
        LiveRefusal::OrganizersOnly => "refused-live-organizers-only",
        LiveRefusal::NotOneself => "refused-live-not-oneself",
        LiveRefusal::OrganizersUnrestrictable => "refused-live-organizers-unrestrictable",
        LiveRefusal::DirectMessageNotAllowed => "refused-live-direct-message-not-allowed",
        LiveRefusal::FrameTooLarge => {
            return (
                "refused-live-frame-too-large",
                vec![("max", MAX_FRAME_BYTES.to_string())],
            );
        }
        LiveRefusal::Unreadable { reason } => {
            return ("refused-live-unreadable", vec![("reason", reason.clone())]);
        }
        LiveRefusal::IdLength => {
            return (
                "refused-live-id-length",
                vec![("max", MAX_ID_CHARS.to_string())],
            );
        }
        LiveRefusal::TextEmpty => "refused-live-text-empty",
        LiveRefusal::TextTooLong { chars, max } => {
            return (
                "refused-live-text-too-long",
                vec![("chars", chars.to_string()), ("max", max.to_string())],
            );
        }
        LiveRefusal::TextControl => "refused-live-text-control",
        LiveRefusal::TextHidden => "refused-live-text-hidden",
        LiveRefusal::TimerRange => {
            return (
                "refused-live-timer-range",
                vec![("max", MAX_TIMER_SECONDS.to_string())],
            );
        }
        LiveRefusal::MuteRange { max } => {
            return ("refused-live-mute-range", vec![("max", max.to_string())]);
        }
        LiveRefusal::TimeOutOfRange => "refused-live-time-out-of-range",
        LiveRefusal::MutedUntil { until } => {
            return (
                "refused-live-muted-until",
                vec![
                    ("day", konvent_core::convention::day(*until)),
                    ("time", konvent_core::convention::clock(*until)),
                ],
            );
        }
        LiveRefusal::MutedForGood => "refused-live-muted-for-good",
        LiveRefusal::ChatLocked => "refused-live-chat-locked",
        LiveRefusal::ReasonMissing => "refused-live-reason-missing",
        LiveRefusal::ReasonTooLong { chars, max } => {
            return (
                "refused-live-reason-too-long",
                vec![("chars", chars.to_string()), ("max", max.to_string())],
            );
        }
        LiveRefusal::NoSuchPerson => "refused-live-no-such-person",
        LiveRefusal::NotInEvent => "refused-live-not-in-event",
        LiveRefusal::NoSuchRoom => "refused-live-no-such-room",
        LiveRefusal::NotAModerationCommand => "refused-live-not-a-moderation-command",
        LiveRefusal::NoSuchArea => "refused-live-no-such-area",
        LiveRefusal::TextFramesOnly => "refused-live-text-frames-only",
        LiveRefusal::NoMap => "refused-live-no-map",
        LiveRefusal::EnterMapFirst => "refused-live-enter-map-first",
        LiveRefusal::Blocked => "refused-live-blocked",
        LiveRefusal::TextMissing { what } => {
            return (
                "refused-live-text-missing",
                vec![("what", what.code().to_owned())],
            );
        }
        LiveRefusal::NoSuchPinStatus { value } => {
            return (
                "refused-live-no-such-pin-status",
                vec![("value", value.clone())],
            );
        }
        LiveRefusal::NoSuchItemKind { value } => {
            return (
                "refused-live-no-such-item-kind",
                vec![("value", value.clone())],
            );
        }
        LiveRefusal::StepTooFar { max } => {
            return ("refused-live-step-too-far", vec![("max", max.to_string())]);
        }
        LiveRefusal::TooManySteps => "refused-live-too-many-steps",
        LiveRefusal::RoomFull {
            room,
            capacity,
            others,
        } => {
            return (
                "refused-live-room-full",
                vec![
                    ("room", room.clone()),
                    ("capacity", capacity.to_string()),
                    ("others", others.clone()),
                ],
            );
        }
        LiveRefusal::Internal => "refused-live-internal",
        LiveRefusal::TooManyActions => "refused-live-too-many-actions",
        LiveRefusal::EnterRoomFirst => "refused-live-enter-room-first",
        LiveRefusal::NoRecipient => "refused-live-no-recipient",
        LiveRefusal::FloorByModeration => "refused-live-floor-by-moderation",
        LiveRefusal::NoSuchAgendaItem => "refused-live-no-such-agenda-item",
        LiveRefusal::ConnectionCommand => "refused-live-connection-command",
        LiveRefusal::TooManyDirectMessages => "refused-live-too-many-direct-messages",
        LiveRefusal::LinkInvalid => "refused-live-link-invalid",
        LiveRefusal::Removed => "refused-live-removed",
    };
    (id, vec![])
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
    let (id, args) = message(refused);
    if args.is_empty() {
        return t.get(id);
    }
    let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
    t.with(id, &args)
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
    use konvent_core::convention::live::Wanted;

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
            LiveRefusal::OrganizersOnly.into(),
            LiveRefusal::NotOneself.into(),
            LiveRefusal::OrganizersUnrestrictable.into(),
            LiveRefusal::DirectMessageNotAllowed.into(),
            LiveRefusal::FrameTooLarge.into(),
            LiveRefusal::Unreadable {
                reason: "expected value at line 1 column 1".into(),
            }
            .into(),
            LiveRefusal::IdLength.into(),
            LiveRefusal::TextEmpty.into(),
            LiveRefusal::TextTooLong {
                chars: 2001,
                max: 2000,
            }
            .into(),
            LiveRefusal::TextControl.into(),
            LiveRefusal::TextHidden.into(),
            LiveRefusal::TimerRange.into(),
            LiveRefusal::MuteRange { max: 10080 }.into(),
            LiveRefusal::TimeOutOfRange.into(),
            LiveRefusal::MutedUntil {
                until: "2026-05-04T12:30:00Z".parse().expect("a timestamp"),
            }
            .into(),
            LiveRefusal::MutedForGood.into(),
            LiveRefusal::ChatLocked.into(),
            LiveRefusal::ReasonMissing.into(),
            LiveRefusal::ReasonTooLong {
                chars: 501,
                max: 500,
            }
            .into(),
            LiveRefusal::NoSuchPerson.into(),
            LiveRefusal::NotInEvent.into(),
            LiveRefusal::NoSuchRoom.into(),
            LiveRefusal::NotAModerationCommand.into(),
            LiveRefusal::NoSuchArea.into(),
            LiveRefusal::TextFramesOnly.into(),
            LiveRefusal::NoMap.into(),
            LiveRefusal::EnterMapFirst.into(),
            LiveRefusal::Blocked.into(),
            LiveRefusal::StepTooFar { max: 2 }.into(),
            LiveRefusal::TooManySteps.into(),
            LiveRefusal::RoomFull {
                room: "Foyer".into(),
                capacity: 20,
                others: "Saal, Help Desk".into(),
            }
            .into(),
            LiveRefusal::Internal.into(),
            LiveRefusal::TooManyActions.into(),
            LiveRefusal::EnterRoomFirst.into(),
            LiveRefusal::NoRecipient.into(),
            LiveRefusal::FloorByModeration.into(),
            LiveRefusal::NoSuchAgendaItem.into(),
            LiveRefusal::ConnectionCommand.into(),
            LiveRefusal::TooManyDirectMessages.into(),
            LiveRefusal::TextMissing {
                what: Wanted::Impulse,
            }
            .into(),
            LiveRefusal::TextMissing {
                what: Wanted::Summary,
            }
            .into(),
            LiveRefusal::TextMissing { what: Wanted::Pin }.into(),
            LiveRefusal::TextMissing {
                what: Wanted::Reason,
            }
            .into(),
            LiveRefusal::TextMissing {
                what: Wanted::WhereNext,
            }
            .into(),
            LiveRefusal::LinkInvalid.into(),
            LiveRefusal::NoSuchPinStatus {
                value: "erledigt".into(),
            }
            .into(),
            LiveRefusal::NoSuchItemKind {
                value: "umfrage".into(),
            }
            .into(),
            LiveRefusal::Removed.into(),
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
    fn a_mute_ends_at_the_berlin_time_the_pages_show() {
        let until: jiff::Timestamp = "2026-05-04T12:30:00Z".parse().expect("a timestamp");
        assert_eq!(
            LiveRefusal::MutedUntil { until }.to_string(),
            format!(
                "Sie sind bis {} Uhr stummgeschaltet und können bis dahin nichts schreiben.",
                crate::layout::datetime_de(until.as_microsecond())
            )
        );
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
