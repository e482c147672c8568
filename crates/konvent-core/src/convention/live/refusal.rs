//! Why a live command was refused: one type for the WebSocket and the plain forms, with
//! a typed kind the edges decide on (a page answers "forbidden" with 403, a socket with
//! an `error` frame) and the protocol's code for the wire.

use std::fmt;

/// What kind of "no" a refusal is. Each kind has the error code of
/// `docs/live-protocol.md` ([`RefusalKind::code`]); the edges match on the kind, never
/// on the code's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefusalKind {
    /// The frame is larger than [`super::MAX_FRAME_BYTES`].
    TooLarge,
    /// The frame or form is not a command (malformed, unknown, or not for this path).
    BadFrame,
    /// The command is understood but its content is not acceptable.
    Invalid,
    /// The person may not do this.
    Forbidden,
    /// The person's budget of writes is spent for now.
    RateLimited,
    /// The server failed; trying again may help.
    Internal,
    /// The room does not exist, or the command needs a room and none was entered.
    UnknownRoom,
    /// The place on the map does not exist.
    UnknownArea,
    /// The room is full.
    Full,
    /// The event has no venue map.
    NoMap,
    /// The avatar is not on the map yet.
    NotOnMap,
    /// The tile cannot be walked on.
    Blocked,
    /// The tile is not next to the avatar.
    TooFar,
    /// More steps than a client may send.
    TooFast,
    /// The person is muted (K17).
    Muted,
    /// The room's chat is locked (K17).
    Locked,
}

impl RefusalKind {
    /// The protocol's error code, as the `error` frame carries it.
    pub fn code(self) -> &'static str {
        match self {
            Self::TooLarge => "too_large",
            Self::BadFrame => "bad_frame",
            Self::Invalid => "invalid",
            Self::Forbidden => "forbidden",
            Self::RateLimited => "rate_limited",
            Self::Internal => "internal",
            Self::UnknownRoom => "unknown_room",
            Self::UnknownArea => "unknown_area",
            Self::Full => "full",
            Self::NoMap => "no_map",
            Self::NotOnMap => "not_on_map",
            Self::Blocked => "blocked",
            Self::TooFar => "too_far",
            Self::TooFast => "too_fast",
            Self::Muted => "muted",
            Self::Locked => "locked",
        }
    }
}

/// Why a command was refused: always by a typed rule or a form's problem, so that the
/// edges can say it in the reader's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub kind: RefusalKind,
    /// In German.
    pub message: String,
    /// The domain rule that refused, if one did: the edges show it in the reader's
    /// language (`message` is its German text).
    pub rule: Option<crate::Refused>,
    /// What was wrong with a posted form, if that was it: the edges say it in the
    /// reader's language (`message` keeps serde's words after a German prefix).
    pub form: Option<super::FormProblem>,
}

impl Refusal {
    /// The protocol's error code of its kind.
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }
}

/// A refusal by a typed rule, shown by the edges in the reader's language: a live rule
/// refuses with its own kind ([`LiveRefusal::kind`]), every other rule of the domain as
/// invalid.
impl From<crate::Refused> for Refusal {
    fn from(refused: crate::Refused) -> Self {
        let kind = match &refused {
            crate::Refused::Live(rule) => rule.kind(),
            _ => RefusalKind::Invalid,
        };
        Self {
            kind,
            message: refused.to_string(),
            rule: Some(refused),
            form: None,
        }
    }
}

/// The live commands' own checks, before or around the store's: the texts are German
/// and the edges show each case in the reader's language. Not `Copy`: a full room names
/// itself and the others, and an unreadable frame carries serde's reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LiveRefusal {
    /// The server is going down; the command was not committed.
    #[error("Der Server fährt herunter.")]
    ShuttingDown,
    /// What the command names does not exist (or not in this event).
    #[error("Nicht gefunden.")]
    NotFound,
    #[error("Diesen Tisch gibt es nicht.")]
    NoSuchTable,
    #[error("Diesen Impuls gibt es nicht.")]
    NoSuchImpulse,
    #[error("Dieses Schwerpunktthema gibt es nicht.")]
    NoSuchTopic,
    /// Only the table's lead moderates it.
    #[error("Das macht die Moderation dieses Tisches.")]
    TableLeadOnly,
    #[error("Kein Befehl des World Cafés oder der Pinnwand.")]
    NotACafeCommand,
    #[error("Impulse gibt es, solange die Runde läuft.")]
    RoundNotRunning,
    #[error("Bitte zuerst an diesem Tisch Platz nehmen.")]
    SitDownFirst,
    #[error("Diese Runde ist schon vorbei.")]
    RoundOver,
    /// A pin's link is longer than the web's limit.
    #[error("Der Link ist zu lang.")]
    LinkTooLong,
    /// What only the event's organizers do.
    #[error("Das dürfen nur die Organisatorinnen und Organisatoren der Veranstaltung.")]
    OrganizersOnly,
    /// An organizer mutes, removes or lets back in somebody else (K17).
    #[error("Das geht nicht mit sich selbst.")]
    NotOneself,
    /// Organizers are never muted or removed (K17).
    #[error(
        "Organisatorinnen und Organisatoren lassen sich nicht stummschalten oder \
         ausschließen."
    )]
    OrganizersUnrestrictable,
    /// A participant writes to the staff and to their contacts only (K12, K15+).
    #[error(
        "Direktnachrichten gehen an den Help Desk, die Helferinnen und Helfer, die \
         Moderation und Ihre Kontakte."
    )]
    DirectMessageNotAllowed,
    /// The frame is larger than [`super::MAX_FRAME_BYTES`].
    #[error("Nachricht zu groß (höchstens {} Bytes)", super::MAX_FRAME_BYTES)]
    FrameTooLarge,
    /// The frame is not a command; `reason` is serde's, in English.
    #[error("Nachricht nicht lesbar: {reason}")]
    Unreadable { reason: String },
    /// A client's id is empty or longer than [`super::MAX_ID_CHARS`].
    #[error("id muss 1 bis {} Zeichen lang sein", super::MAX_ID_CHARS)]
    IdLength,
    #[error("Der Text ist leer.")]
    TextEmpty,
    #[error("Der Text ist zu lang ({chars} Zeichen, höchstens {max}).")]
    TextTooLong { chars: usize, max: usize },
    #[error("Der Text enthält Steuerzeichen.")]
    TextControl,
    #[error("{}", crate::validation::text::HIDDEN_MESSAGE)]
    TextHidden,
    /// A timer's length is not 1 to [`super::MAX_TIMER_SECONDS`] seconds.
    #[error(
        "Die Dauer muss zwischen 1 und {} Sekunden liegen.",
        super::MAX_TIMER_SECONDS
    )]
    TimerRange,
    /// A mute's length is not 1 to `max` minutes (K17).
    #[error("Die Dauer muss zwischen 1 und {max} Minuten liegen.")]
    MuteRange { max: i64 },
    /// A time computed from the command lies outside what a timestamp holds.
    #[error("Zeit außerhalb des Bereichs.")]
    TimeOutOfRange,
    /// The person is muted until `until` (K17).
    #[error(
        "Sie sind bis {}, {} Uhr stummgeschaltet und können bis dahin nichts schreiben.",
        crate::convention::day(*.until),
        crate::convention::clock(*.until)
    )]
    MutedUntil { until: jiff::Timestamp },
    /// The person is muted for the rest of the event (K17).
    #[error(
        "Sie sind für den Rest der Veranstaltung stummgeschaltet und können nichts mehr \
         schreiben."
    )]
    MutedForGood,
    /// The room's chat is locked (K17).
    #[error(
        "Der Chat dieses Raums ist gesperrt; hier schreiben gerade nur Organisation und \
         Moderation."
    )]
    ChatLocked,
    #[error("Bitte einen Grund angeben.")]
    ReasonMissing,
    #[error("Der Grund ist zu lang ({chars} Zeichen, höchstens {max}).")]
    ReasonTooLong { chars: usize, max: usize },
    #[error("Diese Person gibt es nicht.")]
    NoSuchPerson,
    #[error("Diese Person nimmt nicht an der Veranstaltung teil.")]
    NotInEvent,
    #[error("Diesen Raum gibt es nicht.")]
    NoSuchRoom,
    #[error("Kein Befehl der Moderation.")]
    NotAModerationCommand,
    #[error("Diesen Ort gibt es auf der Karte nicht.")]
    NoSuchArea,
    /// A binary WebSocket frame.
    #[error("Nur Text-Nachrichten (JSON).")]
    TextFramesOnly,
    #[error("Diese Veranstaltung hat keine Karte.")]
    NoMap,
    #[error("Bitte zuerst die Karte betreten.")]
    EnterMapFirst,
    #[error("Dort geht es nicht weiter.")]
    Blocked,
    /// A step longer than `max` tiles.
    #[error("Schritte gehen höchstens {max} Felder weit.")]
    StepTooFar { max: u16 },
    #[error("Zu viele Schritte auf einmal.")]
    TooManySteps,
    /// The room `room` is full at `capacity` people; `others` names the other rooms.
    #[error("{room} ist leider voll ({capacity} Personen). Andere Räume: {others}.")]
    RoomFull {
        room: String,
        capacity: i64,
        others: String,
    },
    /// The server failed; the details are in its log.
    #[error("Interner Fehler; bitte erneut versuchen.")]
    Internal,
    #[error("Zu viele Aktionen in kurzer Zeit; bitte einen Moment warten.")]
    TooManyActions,
    #[error("Bitte zuerst einen Raum betreten.")]
    EnterRoomFirst,
    #[error("Bitte eine Empfängerin, einen Empfänger oder den Help Desk wählen.")]
    NoRecipient,
    /// Only the room's moderation gives the floor.
    #[error("Das Wort erteilt die Moderation dieses Raums.")]
    FloorByModeration,
    #[error("Diesen Programmpunkt gibt es nicht.")]
    NoSuchAgendaItem,
    /// Join, leave, ping and the map's commands are the socket's, not a form's.
    #[error("Dieser Befehl gehört zur Verbindung.")]
    ConnectionCommand,
    /// The hourly budget of direct messages between contacts is spent (K15+).
    #[error("Zu viele Direktnachrichten in der letzten Stunde; bitte später weiter.")]
    TooManyDirectMessages,
    /// A text of the strategy work (an impulse, a summary, a pin, a pin's outcome) is
    /// empty; `what` names it.
    #[error("Bitte {} eingeben.", what.accusative())]
    TextMissing { what: Wanted },
    /// A pin's link is neither a web address nor a path on this site.
    #[error("Der Link ist keine gültige Adresse.")]
    LinkInvalid,
    /// A pin's decision names no status a pin has.
    #[error("Diesen Stand einer Karte gibt es nicht: „{value}“.")]
    NoSuchPinStatus { value: String },
    /// A report or moderation names no kind of contribution there is.
    #[error("Diese Art von Beitrag gibt es nicht: „{value}“.")]
    NoSuchItemKind { value: String },
    /// The person was removed from the event (K17): their open connections end with
    /// this, and a new one is refused.
    #[error("Sie wurden von dieser Veranstaltung ausgeschlossen.")]
    Removed,
}

impl LiveRefusal {
    /// The kind of "no" this rule is: each rule always refuses the same way, so the edges
    /// (and the wire's `code`) follow from the rule alone.
    pub fn kind(&self) -> RefusalKind {
        match self {
            Self::ShuttingDown
            | Self::NotFound
            | Self::NoSuchTable
            | Self::NoSuchImpulse
            | Self::NoSuchTopic
            | Self::RoundNotRunning
            | Self::RoundOver
            | Self::LinkTooLong
            | Self::NotOneself
            | Self::OrganizersUnrestrictable
            | Self::TextEmpty
            | Self::TextTooLong { .. }
            | Self::TextControl
            | Self::TextHidden
            | Self::TimerRange
            | Self::MuteRange { .. }
            | Self::TimeOutOfRange
            | Self::ReasonMissing
            | Self::ReasonTooLong { .. }
            | Self::NoSuchPerson
            | Self::NotInEvent
            | Self::NoRecipient
            | Self::NoSuchAgendaItem
            | Self::TextMissing { .. }
            | Self::LinkInvalid
            | Self::NoSuchPinStatus { .. }
            | Self::NoSuchItemKind { .. } => RefusalKind::Invalid,
            Self::TableLeadOnly
            | Self::SitDownFirst
            | Self::OrganizersOnly
            | Self::DirectMessageNotAllowed
            | Self::FloorByModeration
            | Self::Removed => RefusalKind::Forbidden,
            Self::NotACafeCommand
            | Self::Unreadable { .. }
            | Self::IdLength
            | Self::NotAModerationCommand
            | Self::TextFramesOnly
            | Self::ConnectionCommand => RefusalKind::BadFrame,
            Self::FrameTooLarge => RefusalKind::TooLarge,
            Self::TooManyActions | Self::TooManyDirectMessages => RefusalKind::RateLimited,
            Self::Internal => RefusalKind::Internal,
            Self::NoSuchRoom | Self::EnterRoomFirst => RefusalKind::UnknownRoom,
            Self::NoSuchArea => RefusalKind::UnknownArea,
            Self::RoomFull { .. } => RefusalKind::Full,
            Self::NoMap => RefusalKind::NoMap,
            Self::EnterMapFirst => RefusalKind::NotOnMap,
            Self::Blocked => RefusalKind::Blocked,
            Self::StepTooFar { .. } => RefusalKind::TooFar,
            Self::TooManySteps => RefusalKind::TooFast,
            Self::MutedUntil { .. } | Self::MutedForGood => RefusalKind::Muted,
            Self::ChatLocked => RefusalKind::Locked,
        }
    }
}

impl From<LiveRefusal> for Refusal {
    fn from(rule: LiveRefusal) -> Self {
        Self::from(crate::Refused::from(rule))
    }
}

/// Which text of the strategy work a person left empty ([`LiveRefusal::TextMissing`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wanted {
    Impulse,
    Summary,
    Pin,
    /// Why a pin was closed.
    Reason,
    /// Where a pin that was taken up goes on.
    WhereNext,
}

impl Wanted {
    /// The wire and Fluent name.
    pub fn code(self) -> &'static str {
        match self {
            Self::Impulse => "impulse",
            Self::Summary => "summary",
            Self::Pin => "pin",
            Self::Reason => "reason",
            Self::WhereNext => "where-next",
        }
    }

    /// The German object of "Bitte … eingeben."
    fn accusative(self) -> &'static str {
        match self {
            Self::Impulse => "einen Impuls",
            Self::Summary => "eine Zusammenfassung",
            Self::Pin => "ein Thema",
            Self::Reason => "einen Grund",
            Self::WhereNext => "einen Hinweis, wo es weitergeht,",
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code(), self.message)
    }
}

impl std::error::Error for Refusal {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_own_snake_case_code() {
        use RefusalKind::*;
        let all = [
            TooLarge,
            BadFrame,
            Invalid,
            Forbidden,
            RateLimited,
            Internal,
            UnknownRoom,
            UnknownArea,
            Full,
            NoMap,
            NotOnMap,
            Blocked,
            TooFar,
            TooFast,
            Muted,
            Locked,
        ];
        let codes: std::collections::HashSet<_> = all.iter().map(|k| k.code()).collect();
        assert_eq!(codes.len(), all.len());
        assert!(
            codes
                .iter()
                .all(|c| c.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_'))
        );
        assert_eq!(
            Refusal::from(LiveRefusal::OrganizersOnly).to_string(),
            "forbidden: Das dürfen nur die Organisatorinnen und Organisatoren der Veranstaltung."
        );
    }

    #[test]
    fn a_live_rule_refuses_with_its_own_kind_however_it_travels() {
        let rule = LiveRefusal::TooManyActions;
        assert_eq!(Refusal::from(rule.clone()).kind, RefusalKind::RateLimited);
        // Through a store error, as a refused write comes back.
        let refused = crate::Refused::from(rule);
        assert_eq!(Refusal::from(refused).code(), "rate_limited");
        // Every other rule of the domain is an invalid command.
        let round = crate::strategy::cafe::RoundRefusal::AnotherRunning;
        assert_eq!(
            Refusal::from(crate::Refused::from(round)).kind,
            RefusalKind::Invalid
        );
    }
}
