//! Networking (K15+): what a profile may hold and who may see it, the limits on contact
//! requests and follow-up groups, and the vCard of one's contacts (RFC 6350).

use std::fmt;
use std::str::FromStr;

use crate::ids::AccountId;

/// Longest organisation, role, region and phone number.
pub const FIELD_MAX: usize = 120;
/// Longest line about oneself.
pub const ABOUT_MAX: usize = 300;
/// Most topics (focus topics and free tags) on a profile …
pub const TOPICS_MAX: usize = 8;
/// … each at most this long.
pub const TOPIC_MAX: usize = 40;
/// Longest message with a contact request.
pub const REQUEST_MESSAGE_MAX: usize = 300;
/// Contact requests a person may send per hour.
pub const REQUESTS_PER_HOUR: i64 = 20;
/// Profile saves a person may make per hour.
pub const PROFILE_SAVES_PER_HOUR: i64 = 30;
/// Longest name of a follow-up group, and most members.
pub const GROUP_NAME_MAX: usize = 80;
pub const GROUP_MEMBERS_MAX: usize = 20;
/// Follow-up groups a person may start per hour.
pub const GROUPS_PER_HOUR: i64 = 10;
/// Direct messages a person may send to contacts per hour (the help desk and staff
/// are not counted).
pub const DMS_PER_HOUR: i64 = 120;
/// Date proposals (calendar invitations) a person may send per hour.
pub const PROPOSALS_PER_HOUR: i64 = 10;
/// Longest place or note of a date proposal.
pub const PROPOSAL_TEXT_MAX: usize = 300;
/// Small rooms that follow-up groups may create in one event (the organizers' own
/// rooms do not count), so that a busy event's map and room list stay usable.
pub const GROUP_ROOMS_PER_EVENT: i64 = 50;
/// Longest name of a room created for a follow-up group (a room's name limit).
pub const GROUP_ROOM_NAME_MAX: usize = 100;

/// Who sees a profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProfileVisibility {
    /// Nobody but the person.
    #[default]
    Nobody,
    /// The event's participants (for the konvent-wide profile: the participants of an
    /// event the person takes part in).
    Event,
    /// Everybody signed in.
    SignedIn,
}

impl ProfileVisibility {
    pub const ALL: [Self; 3] = [Self::Nobody, Self::Event, Self::SignedIn];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Nobody => "nobody",
            Self::Event => "event",
            Self::SignedIn => "signed_in",
        }
    }
}

impl FromStr for ProfileVisibility {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| format!("unbekannte Sichtbarkeit {s:?}"))
    }
}

impl fmt::Display for ProfileVisibility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A profile's fields, checked.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProfileFields {
    pub organisation: String,
    pub role: String,
    /// Land or conference.
    pub region: String,
    pub topics: Vec<String>,
    pub about: String,
    /// Shared with accepted contacts only.
    pub phone: String,
    /// The account's address is shared with accepted contacts.
    pub share_email: bool,
    pub visibility: ProfileVisibility,
    /// Where on the map the person is right now may be shown.
    pub show_location: bool,
    /// The person may be found by others who marked the same connection point.
    pub match_points: bool,
}

/// A text that may be empty: trimmed, at most `max` characters, no invisible or control
/// characters (`what` names the field in the message).
pub fn optional_text(text: &str, max: usize, what: &str) -> Result<String, String> {
    if text.trim().is_empty() {
        return Ok(String::new());
    }
    let t = crate::strategy::text(text, max, what)?;
    if t.contains(['\n', '\r', '\t']) {
        return Err(format!("{what}: bitte nur eine Zeile."));
    }
    Ok(t)
}

/// The topics from a comma-separated list and the focus topics ticked: each trimmed,
/// duplicates (ignoring case) dropped, at most [`TOPICS_MAX`] of at most [`TOPIC_MAX`]
/// characters each.
pub fn topics<'a>(
    ticked: impl IntoIterator<Item = &'a str>,
    free: &'a str,
) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for raw in ticked.into_iter().chain(free.split(',')) {
        let t = optional_text(raw, TOPIC_MAX, "Themen")?;
        if t.is_empty() || out.iter().any(|o| o.to_lowercase() == t.to_lowercase()) {
            continue;
        }
        out.push(t);
    }
    if out.len() > TOPICS_MAX {
        return Err(format!(
            "Höchstens {TOPICS_MAX} Themen (jetzt {}).",
            out.len()
        ));
    }
    Ok(out)
}

/// Why a contact request or a block is refused. The texts are German (the store's
/// callers have always shown them); the web shows each case in the reader's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ContactRefusal {
    #[error("Eine Kontaktanfrage an sich selbst geht nicht.")]
    ToOneself,
    /// One of the two blocks the other.
    #[error("Mit dieser Person ist keine Kontaktaufnahme möglich.")]
    Blocked,
    #[error("Sie sind mit dieser Person schon verbunden.")]
    AlreadyConnected,
    /// Asked before, whatever the answer was: a declined request reads as still open.
    #[error("Sie haben diese Person schon angefragt.")]
    AlreadyAsked,
    #[error("Sich selbst sperren geht nicht.")]
    BlockOneself,
}

/// Whether `from` may ask `to` at all: nobody asks themselves.
pub fn request(from: AccountId, to: AccountId) -> Result<(), ContactRefusal> {
    if from == to {
        Err(ContactRefusal::ToOneself)
    } else {
        Ok(())
    }
}

/// Whether `from` may ask somebody, given whether either of the two blocks the other
/// and the requests between them so far (who asked, and whether it was accepted).
pub fn request_again(
    from: AccountId,
    blocked: bool,
    earlier: &[(AccountId, bool)],
) -> Result<(), ContactRefusal> {
    if blocked {
        Err(ContactRefusal::Blocked)
    } else if earlier.iter().any(|&(_, accepted)| accepted) {
        Err(ContactRefusal::AlreadyConnected)
    } else if earlier.iter().any(|&(asker, _)| asker == from) {
        Err(ContactRefusal::AlreadyAsked)
    } else {
        Ok(())
    }
}

/// Whether `account` may block (or unblock) `other`: nobody blocks themselves.
pub fn block(account: AccountId, other: AccountId) -> Result<(), ContactRefusal> {
    if account == other {
        Err(ContactRefusal::BlockOneself)
    } else {
        Ok(())
    }
}

/// One contact as a vCard shows it: only what the contact's profile shares.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Card {
    pub name: String,
    pub organisation: String,
    pub role: String,
    pub email: Option<String>,
    pub phone: String,
    pub note: String,
}

/// Escapes a vCard text value (RFC 6350 §3.4).
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ',' => out.push_str("\\,"),
            ';' => out.push_str("\\;"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Folds a content line at 75 octets (RFC 6350 §3.2), never inside a character.
fn fold(line: &str, out: &mut String) {
    let mut width = 0;
    for c in line.chars() {
        if width + c.len_utf8() > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += c.len_utf8();
    }
    out.push_str("\r\n");
}

/// The vCards (version 4.0) of `cards`, one after the other.
pub fn vcards(cards: &[Card]) -> String {
    let mut out = String::new();
    for card in cards {
        fold("BEGIN:VCARD", &mut out);
        fold("VERSION:4.0", &mut out);
        fold(&format!("FN:{}", escape(&card.name)), &mut out);
        if !card.organisation.is_empty() {
            fold(&format!("ORG:{}", escape(&card.organisation)), &mut out);
        }
        if !card.role.is_empty() {
            fold(&format!("TITLE:{}", escape(&card.role)), &mut out);
        }
        if let Some(email) = &card.email {
            fold(&format!("EMAIL:{}", escape(email)), &mut out);
        }
        if !card.phone.is_empty() {
            fold(&format!("TEL;VALUE=text:{}", escape(&card.phone)), &mut out);
        }
        if !card.note.is_empty() {
            fold(&format!("NOTE:{}", escape(&card.note)), &mut out);
        }
        fold("END:VCARD", &mut out);
    }
    out
}

/// Why a follow-up group or its room is refused. The texts are German; the web shows
/// each case in the reader's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FollowUpRefusal {
    #[error("Bitte mindestens eine weitere Person wählen.")]
    NobodyElse,
    /// Members come from the same connection point as the one who starts the group.
    #[error("Die Gruppe kann nur Menschen mit demselben Anknüpfungspunkt aufnehmen.")]
    OtherConnectionPoint,
    #[error("Bitte einen Raum einer Veranstaltung wählen, an der Sie teilnehmen.")]
    RoomNotYours,
    /// The event has [`GROUP_ROOMS_PER_EVENT`] rooms of follow-up groups already.
    #[error(
        "In dieser Veranstaltung gibt es schon {} Räume für Folgegruppen. Bitte einen \
         vorhandenen Raum wählen.",
        GROUP_ROOMS_PER_EVENT
    )]
    TooManyRooms,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visibility_reads_back_what_it_writes() {
        for v in ProfileVisibility::ALL {
            assert_eq!(v.as_str().parse::<ProfileVisibility>(), Ok(v));
        }
        assert!("public".parse::<ProfileVisibility>().is_err());
    }

    #[test]
    fn topics_are_merged_deduplicated_and_limited() {
        assert_eq!(
            topics(["Daten"], " daten, Cloud ,, KI "),
            Ok(vec!["Daten".into(), "Cloud".into(), "KI".into()])
        );
        let many = (0..9)
            .map(|i| format!("t{i}"))
            .collect::<Vec<_>>()
            .join(",");
        assert!(topics([], &many).is_err());
        assert!(topics([], &"x".repeat(41)).is_err());
    }

    #[test]
    fn optional_texts_may_be_empty_but_not_multi_line() {
        assert_eq!(optional_text("  ", 10, "Rolle"), Ok(String::new()));
        assert!(optional_text("a\nb", 10, "Rolle").is_err());
        assert!(optional_text(&"a".repeat(11), 10, "Rolle").is_err());
    }

    #[test]
    fn a_vcard_escapes_folds_and_leaves_out_what_is_not_shared() {
        let text = vcards(&[Card {
            name: "Anna; Beispiel".into(),
            organisation: "FITKO".into(),
            email: None,
            note: "ä".repeat(60),
            ..Card::default()
        }]);
        assert!(text.starts_with("BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Anna\\; Beispiel\r\n"));
        assert!(text.contains("ORG:FITKO\r\n"));
        assert!(!text.contains("EMAIL"));
        assert!(!text.contains("TEL"));
        assert!(text.ends_with("END:VCARD\r\n"));
        assert!(text.split("\r\n").all(|line| line.len() <= 75));
    }

    #[test]
    fn nobody_asks_or_blocks_themselves() {
        assert_eq!(request(AccountId::new(1), AccountId::new(2)), Ok(()));
        assert_eq!(
            request(AccountId::new(1), AccountId::new(1)),
            Err(ContactRefusal::ToOneself)
        );
        assert_eq!(block(AccountId::new(1), AccountId::new(2)), Ok(()));
        assert_eq!(
            block(AccountId::new(1), AccountId::new(1)),
            Err(ContactRefusal::BlockOneself)
        );
    }

    #[test]
    fn a_request_is_refused_when_blocked_connected_or_asked_before() {
        assert_eq!(request_again(AccountId::new(1), false, &[]), Ok(()));
        assert_eq!(
            request_again(AccountId::new(1), false, &[(AccountId::new(2), false)]),
            Ok(()),
            "the other one asked first: asking back connects"
        );
        assert_eq!(
            request_again(AccountId::new(1), true, &[(AccountId::new(2), true)]),
            Err(ContactRefusal::Blocked),
            "a block is named first"
        );
        assert_eq!(
            request_again(AccountId::new(1), false, &[(AccountId::new(1), true)]),
            Err(ContactRefusal::AlreadyConnected)
        );
        assert_eq!(
            request_again(AccountId::new(1), false, &[(AccountId::new(2), true)]),
            Err(ContactRefusal::AlreadyConnected)
        );
        assert_eq!(
            request_again(AccountId::new(1), false, &[(AccountId::new(1), false)]),
            Err(ContactRefusal::AlreadyAsked)
        );
    }
}
