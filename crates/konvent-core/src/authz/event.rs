//! The rules of who may do what in a live event (K1–K17), over plain data: who leads a
//! room or a café table, what only organizers do, who may write to whom, and what the
//! staff are exempt from. The web reads the facts from the store (a person's part in
//! the event, a room's moderator, whether two people are contacts) and asks these
//! functions, so each rule is written once and tested here without a database.

use super::{Action, Principal};
use crate::convention::live::{LiveRefusal, Refusal, STAFF_WRITE_FACTOR};
use crate::ids::{AccountId, EventId, RoomId};

/// What only the event's organizers do (announcements, the agenda, the timer, the
/// podium's moderation, café rounds, moderation K17): refused for everybody else.
pub fn organizer_only(organizer: bool) -> Result<(), Refusal> {
    if organizer {
        Ok(())
    } else {
        Err(Refusal::from(LiveRefusal::OrganizersOnly))
    }
}

/// Whether `principal` leads the room `room` of `event`: its named moderator (the
/// account `moderator`), somebody with a moderator grant for it, or the event's
/// organizers.
pub fn moderates(
    principal: &Principal,
    event: EventId,
    room: RoomId,
    moderator: Option<AccountId>,
) -> bool {
    moderator == Some(principal.user_id) || principal.may(Action::ModerateRoom { event, room })
}

/// Whether `person` leads a café table: an organizer, the table's own moderator
/// (`table_moderator`), or somebody who moderates the table's room.
pub fn leads_table(
    organizer: bool,
    person: AccountId,
    table_moderator: Option<AccountId>,
    moderates_room: bool,
) -> bool {
    organizer || table_moderator == Some(person) || moderates_room
}

/// How many durable live commands a person may send per window when `per_window` is
/// the setting (`live_writes_per_10s`, 0: no limit): organizers and the help desk's
/// staff moderate in bursts, so they get [`STAFF_WRITE_FACTOR`] times as many. A cap,
/// not an exemption.
pub fn write_limit(per_window: usize, staff: bool) -> usize {
    if staff {
        per_window.saturating_mul(STAFF_WRITE_FACTOR)
    } else {
        per_window
    }
}

/// Whether a mute binds the person (K17): organizers are never muted.
pub fn bound_by_mutes(organizer: bool) -> bool {
    !organizer
}

/// Whether a locked chat binds the person in that room (K17): who moderates the room
/// (its moderators and the organizers) still writes there.
pub fn bound_by_chat_lock(moderates_room: bool) -> bool {
    !moderates_room
}

/// Whom an organizer mutes, removes from the event or lets back in (K17): somebody else
/// than `actor`.
pub fn not_oneself(actor: AccountId, person: AccountId) -> Result<(), Refusal> {
    if actor == person {
        Err(Refusal::from(LiveRefusal::NotOneself))
    } else {
        Ok(())
    }
}

/// Whether a person can be muted or removed from the event (K17): never an organizer.
pub fn restrictable(organizer: bool) -> Result<(), Refusal> {
    if organizer {
        Err(Refusal::from(LiveRefusal::OrganizersUnrestrictable))
    } else {
        Ok(())
    }
}

/// The facts a direct message's rule needs (K12, K15+).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirectMessage {
    /// The sender is an organizer or a helper of the help desk.
    pub sender_staff: bool,
    /// The recipient is an organizer or a helper of the help desk …
    pub recipient_staff: bool,
    /// … or moderates one of the event's rooms (a café table's patron too).
    pub recipient_moderates: bool,
    /// The two are accepted contacts (K15+), not blocked.
    pub contacts: bool,
}

/// Why a direct message may go, which decides whether it counts against the hourly
/// budget of messages between contacts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirectMessageAllowed {
    /// The staff or the moderation take part: no budget beyond the live one, so that
    /// nobody is kept from asking for help and the staff can answer everybody.
    WithStaff,
    /// Between accepted contacts: at most
    /// [`crate::convention::networking::DMS_PER_HOUR`] an hour on top of the live budget.
    BetweenContacts,
}

impl DirectMessage {
    /// Participants write to the staff (helpers, organizers, moderators) and to their
    /// accepted contacts; the staff write to anybody in the event.
    pub fn check(self) -> Result<DirectMessageAllowed, Refusal> {
        if self.sender_staff || self.recipient_staff || self.recipient_moderates {
            Ok(DirectMessageAllowed::WithStaff)
        } else if self.contacts {
            Ok(DirectMessageAllowed::BetweenContacts)
        } else {
            Err(Refusal::from(LiveRefusal::DirectMessageNotAllowed))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authz::{Grant, Role, Scope};
    use crate::convention::live::RefusalKind;

    fn person(id: i64, grants: Vec<Grant>) -> Principal {
        Principal {
            user_id: AccountId::new(id),
            display_name: "Test".into(),
            email: "t@example.org".into(),
            grants,
        }
    }

    fn grant(role: Role, scope: Scope) -> Grant {
        Grant::new(role, scope).expect("fitting scope")
    }

    #[test]
    fn only_organizers_pass_the_organizers_rule() {
        assert_eq!(organizer_only(true), Ok(()));
        assert_eq!(
            organizer_only(false).map_err(|r| r.kind),
            Err(RefusalKind::Forbidden)
        );
    }

    #[test]
    fn a_room_is_led_by_its_moderator_a_grant_for_it_or_the_organizers() {
        let named = person(5, vec![]);
        assert!(moderates(
            &named,
            EventId::new(1),
            RoomId::new(10),
            Some(AccountId::new(5))
        ));
        assert!(!moderates(
            &named,
            EventId::new(1),
            RoomId::new(10),
            Some(AccountId::new(6))
        ));
        assert!(!moderates(&named, EventId::new(1), RoomId::new(10), None));
        let granted = person(
            6,
            vec![grant(Role::Moderator, Scope::Room(RoomId::new(10)))],
        );
        assert!(moderates(&granted, EventId::new(1), RoomId::new(10), None));
        assert!(
            !moderates(&granted, EventId::new(1), RoomId::new(11), None),
            "another room"
        );
        let organizer = person(
            7,
            vec![grant(Role::Organizer, Scope::Event(EventId::new(1)))],
        );
        assert!(moderates(
            &organizer,
            EventId::new(1),
            RoomId::new(10),
            Some(AccountId::new(5))
        ));
        assert!(
            !moderates(&organizer, EventId::new(2), RoomId::new(20), None),
            "another event"
        );
    }

    #[test]
    fn a_table_is_led_by_its_moderator_its_room_s_moderation_or_an_organizer() {
        assert!(leads_table(true, AccountId::new(1), None, false));
        assert!(leads_table(
            false,
            AccountId::new(1),
            Some(AccountId::new(1)),
            false
        ));
        assert!(leads_table(false, AccountId::new(1), None, true));
        assert!(!leads_table(
            false,
            AccountId::new(1),
            Some(AccountId::new(2)),
            false
        ));
    }

    #[test]
    fn the_staff_get_a_larger_budget_and_organizers_are_never_muted() {
        assert_eq!(write_limit(10, false), 10);
        assert_eq!(write_limit(10, true), 10 * STAFF_WRITE_FACTOR);
        assert_eq!(write_limit(0, true), 0, "no limit stays no limit");
        assert_eq!(write_limit(usize::MAX, true), usize::MAX);
        assert!(bound_by_mutes(false));
        assert!(!bound_by_mutes(true));
        assert!(bound_by_chat_lock(false));
        assert!(!bound_by_chat_lock(true));
    }

    #[test]
    fn organizers_restrict_somebody_else_and_never_another_organizer() {
        assert_eq!(not_oneself(AccountId::new(1), AccountId::new(2)), Ok(()));
        assert_eq!(
            not_oneself(AccountId::new(1), AccountId::new(1)).map_err(|r| r.kind),
            Err(RefusalKind::Invalid)
        );
        assert_eq!(restrictable(false), Ok(()));
        assert_eq!(
            restrictable(true).map_err(|r| r.kind),
            Err(RefusalKind::Invalid)
        );
    }

    #[test]
    fn participants_write_to_the_staff_and_their_contacts_and_the_staff_to_anybody() {
        let none = DirectMessage {
            sender_staff: false,
            recipient_staff: false,
            recipient_moderates: false,
            contacts: false,
        };
        assert_eq!(
            none.check().map_err(|r| r.kind),
            Err(RefusalKind::Forbidden)
        );
        for allowed in [
            DirectMessage {
                sender_staff: true,
                ..none
            },
            DirectMessage {
                recipient_staff: true,
                ..none
            },
            DirectMessage {
                recipient_moderates: true,
                ..none
            },
            DirectMessage {
                recipient_staff: true,
                contacts: true,
                ..none
            },
        ] {
            assert_eq!(allowed.check(), Ok(DirectMessageAllowed::WithStaff));
        }
        assert_eq!(
            DirectMessage {
                contacts: true,
                ..none
            }
            .check(),
            Ok(DirectMessageAllowed::BetweenContacts)
        );
    }
}
