//! Who a direct message can go to (K12), grouped by who they are for the sender: the
//! help desk and its helpers, the rooms' moderation, the café tables' patrons, the
//! event's organizers, one's accepted contacts (K15+), and for the help desk's staff
//! whoever wrote to them.

use konvent_core::authz::{Grant, Role, Scope};
use konvent_core::convention::RoomKind;
use konvent_core::ids::AccountId;
use konvent_store::LiveRecord;

use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::live::{Actor, EventInfo};

/// Recipients under a heading that says who they are.
pub(super) struct RecipientGroup {
    pub label: String,
    /// (value of the option, its text)
    pub people: Vec<(String, String)>,
}

/// The recipients `actor` may write to, in groups (empty groups left out); `records`
/// are the direct messages the actor sees.
pub(super) async fn groups(
    state: &AppState,
    info: &EventInfo,
    actor: &Actor,
    records: &[LiveRecord],
    t: &Tr,
) -> AppResult<Vec<RecipientGroup>> {
    // Everybody once, under the first heading that fits: the help desk and its helpers,
    // the rooms' moderation, the café tables' patrons, the organizers, and for staff
    // whoever wrote to them.
    let mut seen = std::collections::HashSet::from([actor.who.id]);
    let mut desk = vec![("helpdesk".to_owned(), t.get("dm-helpdesk"))];
    for helper in state.store.helpers(info.event.id).await? {
        if seen.insert(helper.id) {
            desk.push((helper.id.to_string(), helper.name));
        }
    }
    // A moderator is named with the rooms they moderate.
    let mut moderation: Vec<(AccountId, String, Vec<String>)> = Vec::new();
    let mut patrons: Vec<(AccountId, String, Vec<String>)> = Vec::new();
    for room in &info.rooms {
        let Some(m) = &room.moderator else { continue };
        if let Some((_, _, rooms)) = moderation
            .iter_mut()
            .chain(patrons.iter_mut())
            .find(|(id, _, _)| *id == m.id)
        {
            rooms.push(room.name.clone());
        } else if seen.insert(m.id) {
            let list = if room.kind == RoomKind::Table {
                &mut patrons
            } else {
                &mut moderation
            };
            list.push((m.id, m.name.clone(), vec![room.name.clone()]));
        }
    }
    let named = |list: Vec<(AccountId, String, Vec<String>)>| -> Vec<(String, String)> {
        list.into_iter()
            .map(|(id, name, rooms)| (id.to_string(), format!("{name} – {}", rooms.join(", "))))
            .collect()
    };
    let organizers = Grant::new(Role::Organizer, Scope::Event(info.event.id))
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let mut organisation = Vec::new();
    for who in state.store.grant_holders(&organizers).await? {
        if seen.insert(who.id) {
            organisation.push((who.id.to_string(), who.name));
        }
    }
    // Accepted contacts (K15+) who take part in the event.
    let mut contacts = Vec::new();
    let overview = state.store.contact_overview(actor.who.id).await?;
    for (id, card) in overview.contact_ids.iter().zip(&overview.contacts) {
        if state.store.event_role(info.event.id, *id).await?.is_some() && seen.insert(*id) {
            contacts.push((id.to_string(), card.name.clone()));
        }
    }
    let mut writers = Vec::new();
    if actor.staff {
        // Staff answer whoever wrote to them or to the help desk.
        for r in records {
            if let (Some(id), Some(name)) = (r.sender_id, r.data["from"]["name"].as_str())
                && seen.insert(id)
            {
                writers.push((id.to_string(), name.to_owned()));
            }
        }
    }
    Ok([
        ("dm-group-helpdesk", desk),
        ("dm-group-organisation", organisation),
        ("dm-group-moderation", named(moderation)),
        ("dm-group-patrons", named(patrons)),
        ("net-dm-group-contacts", contacts),
        ("dm-group-writers", writers),
    ]
    .into_iter()
    .filter(|(_, people)| !people.is_empty())
    .map(|(key, people)| RecipientGroup {
        label: t.get(key),
        people,
    })
    .collect())
}
