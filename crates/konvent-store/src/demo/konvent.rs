//! The demo convention: the Strategiekonvent 2025 (K1, K2) and its pseudonymous
//! participants.

use konvent_core::authz::{Grant, Role, Scope};
use konvent_core::convention::{self, AgendaEntry};
use konvent_core::demo;
use konvent_core::ids::EventId;
use konvent_core::strategy::demo as strategy_demo;

use super::invalid;
use crate::{Actor, EventRole, NewEvent, NewRoom, Result, Store};

/// The Strategiekonvent 2025 with the deck's agenda, rooms, house rules and helpers.
pub(super) async fn load_konvent(store: &Store, actor: &Actor) -> Result<EventId> {
    let (y, m, d) = demo::KONVENT_DATE;
    let day = jiff::civil::date(y, m, d);
    let at = |(h, min): (i8, i8)| {
        convention::berlin_time(day, h, min).ok_or_else(|| invalid(format!("time {h}:{min}")))
    };
    let mut agenda = Vec::new();
    for (kind, title, from, to) in demo::KONVENT_AGENDA {
        agenda.push(AgendaEntry {
            kind: kind.parse().map_err(invalid)?,
            title: title.to_owned(),
            starts_at: at(from)?,
            ends_at: at(to)?,
        });
    }
    let (mod_email, mod_name) = demo::KONVENT_MODERATOR;
    let moderator = store.ensure_account(mod_email, mod_name, &[]).await?;
    let mut rooms = Vec::new();
    for (slug, name, kind, capacity) in demo::KONVENT_ROOMS {
        rooms.push(NewRoom {
            slug: slug.to_owned(),
            name: name.to_owned(),
            kind: kind.parse().map_err(invalid)?,
            capacity,
            moderator_id: (kind == "plenary").then_some(moderator),
        });
    }
    let event = store
        .create_event(&NewEvent {
            slug: demo::KONVENT_SLUG.to_owned(),
            title: demo::KONVENT_TITLE.to_owned(),
            house_rules: demo::HOUSE_RULES.to_owned(),
            mute_threshold: convention::DEFAULT_MUTE_THRESHOLD,
            feedback_url: None,
            agenda,
            rooms,
        })
        .await?;
    let organizer = Grant::new(Role::Organizer, Scope::Event(event)).map_err(invalid)?;
    store.add_grant(actor, moderator, &organizer).await?;
    store
        .add_to_event(event, moderator, EventRole::Participant)
        .await?;
    for (email, name) in demo::KONVENT_HELPERS {
        let helper = store.ensure_account(email, name, &[]).await?;
        store.add_to_event(event, helper, EventRole::Helper).await?;
    }
    Ok(event)
}

/// Pseudonymous participation (issue 21): the convention allows it, and two of its
/// participants appear under a chosen name (what they wrote shows it too).
pub(super) async fn load_pseudonyms(store: &Store, actor: &Actor, event: EventId) -> Result<()> {
    store.set_pseudonyms_allowed(event, true, actor).await?;
    // The last two of the twelve, so the first ones keep their names in the tests that
    // follow them by name.
    for (name, pseudonym) in strategy_demo::PARTICIPANTS
        .iter()
        .rev()
        .zip(["Stille Beobachterin", "Datenlotse"])
    {
        let id = store
            .ensure_account(&strategy_demo::participant_email(name), name, &[])
            .await?;
        store.set_pseudonym(event, id, Some(pseudonym)).await?;
    }
    Ok(())
}
