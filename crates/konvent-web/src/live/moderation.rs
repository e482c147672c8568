//! Moderation commands (K17): organizers remove items, mute people in chat, remove people
//! from the event and let them back, lock a room's chat, and dismiss reports; anybody
//! reports a chat line or an impulse. Same path as every live command (authorize →
//! validate → one transaction with its live-log entry → publish), so the plain forms of
//! the moderation page and the WebSocket behave alike.
//!
//! Mutes and chat locks are checked before every write they concern ([`check_write`]);
//! they are cached per event for [`FRESH`]. The room page reads the same copy. The node
//! that changes them forgets its copy at once and rings the bus's doorbell
//! ([`super::info::MODERATION_KIND`]); the other nodes forget theirs when the notice
//! arrives, or within [`FRESH`] should it be lost.

use konvent_core::ids::{AccountId, EventId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use konvent_core::Refused;
use konvent_core::authz::event as rules;
use konvent_core::convention::live::{self, Command, LiveRefusal, Refusal};
use konvent_core::convention::moderation::ModerationRefusal;
use konvent_store::{
    ModeratedItem, REASON_MAX, Restrictions, Room, Store, StoreError, Who, Written,
};
use serde_json::json;

use super::{Actor, EventInfo, Live, refusal};
use crate::i18n::{Lang, Tr};

/// How long a node trusts its copy of an event's mutes and locks.
pub const FRESH: Duration = Duration::from_secs(2);
/// The longest mute with an end (a week); longer ones are "for the rest of the event".
pub const MAX_MUTE_MINUTES: i64 = 7 * 24 * 60;

/// Each event's mutes and chat locks, as last read.
#[derive(Default)]
pub struct Cache {
    events: Mutex<HashMap<EventId, (Instant, Arc<Restrictions>)>>,
}

impl Cache {
    /// The event's mutes and chat locks: the copy that [`check_write`] enforces, so a
    /// page shows a room locked exactly when its chat refuses participants' lines.
    pub async fn get(
        &self,
        store: &Store,
        event_id: EventId,
    ) -> Result<Arc<Restrictions>, StoreError> {
        if let Some((at, r)) = self
            .events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&event_id)
            && at.elapsed() < FRESH
        {
            return Ok(r.clone());
        }
        let fresh = Arc::new(store.restrictions(event_id).await?);
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(event_id, (Instant::now(), fresh.clone()));
        Ok(fresh)
    }

    pub(super) fn forget(&self, event_id: EventId) {
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&event_id);
    }

    pub(super) fn forget_all(&self) {
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

/// Refuses what a muted person writes (chat, impulses, questions, pins) with when the
/// mute ends, and participants' chat lines in a locked room. Organizers are never muted;
/// organizers and the room's moderators write in a locked room.
pub async fn check_write(
    live: &Live,
    info: &EventInfo,
    actor: &Actor,
    room: Option<&Room>,
    command: &Command,
) -> Result<(), Refusal> {
    let concerned = matches!(
        command,
        Command::Chat { .. }
            | Command::Impulse { .. }
            | Command::EditImpulse { .. }
            | Command::Ask { .. }
            | Command::Pin { .. }
    );
    if !concerned || !rules::bound_by_mutes(actor.organizer) {
        return Ok(());
    }
    let restrictions = live
        .moderation
        .get(&live.store, info.event.id)
        .await
        .map_err(refusal)?;
    if let Some(ends) = restrictions.mutes.get(&actor.who.id)
        && ends.is_none_or(|t| t > jiff::Timestamp::now())
    {
        return Err(Refusal::from(match ends {
            Some(until) => LiveRefusal::MutedUntil { until: *until },
            None => LiveRefusal::MutedForGood,
        }));
    }
    if let (Command::Chat { .. }, Some(room)) = (command, room)
        && restrictions.locked_rooms.contains(&room.slug)
        && rules::bound_by_chat_lock(actor.moderates(info, room))
    {
        return Err(Refusal::from(LiveRefusal::ChatLocked));
    }
    Ok(())
}

fn item_of(item: &str) -> Result<ModeratedItem, Refusal> {
    item.parse().map_err(|_| {
        let value = item.to_owned();
        Refusal::from(LiveRefusal::NoSuchItemKind { value })
    })
}

/// A reason: trimmed, at most [`REASON_MAX`] characters, required when `required`.
fn reason(value: &str, required: bool) -> Result<String, Refusal> {
    if value.trim().is_empty() {
        return if required {
            Err(Refusal::from(LiveRefusal::ReasonMissing))
        } else {
            Ok(String::new())
        };
    }
    let text = live::text(value)?;
    let chars = text.chars().count();
    if chars > REASON_MAX {
        return Err(Refusal::from(LiveRefusal::ReasonTooLong {
            chars,
            max: REASON_MAX,
        }));
    }
    Ok(text)
}

/// The person an action concerns: somebody else, and not an organizer. `registered`:
/// they must take part in the event now.
async fn target(
    live: &Live,
    info: &EventInfo,
    actor: &Actor,
    user: AccountId,
    registered: bool,
) -> Result<Who, Refusal> {
    rules::not_oneself(actor.who.id, user)?;
    let principal = live
        .store
        .principal(user)
        .await
        .map_err(refusal)?
        .ok_or_else(|| Refusal::from(LiveRefusal::NoSuchPerson))?;
    let who = Who::new(principal.user_id, principal.display_name.clone());
    if !registered {
        return Ok(who);
    }
    match Actor::of(&live.store, info, &principal)
        .await
        .map_err(refusal)?
    {
        Some(other) => {
            rules::restrictable(other.organizer)?;
            Ok(other.who)
        }
        None => Err(Refusal::from(LiveRefusal::NotInEvent)),
    }
}

/// Runs a moderation command (or a report) and publishes its entry.
pub async fn run(
    live: &Live,
    info: &EventInfo,
    actor: &Actor,
    command: Command,
) -> Result<Written, Refusal> {
    let store = &live.store;
    let event = info.event.id;
    let client_id = command.id().map(str::to_owned);
    let cid = client_id.as_deref();
    if !matches!(command, Command::Report { .. }) {
        rules::organizer_only(actor.organizer)?;
    }
    let written = match command {
        Command::Report {
            item,
            target: item_id,
            reason: why,
            ..
        } => {
            let item = item_of(&item)?;
            if !item.reportable() {
                return Err(Refused::from(ModerationRefusal::NotReportable).into());
            }
            let why = reason(&why, true)?;
            store
                .report(event, &actor.who, item, item_id, &why, cid)
                .await
        }
        Command::Remove {
            item,
            target: item_id,
            reason: why,
            ..
        } => {
            let item = item_of(&item)?;
            let why = reason(&why, false)?;
            store
                .remove_item(event, &actor.who, item, item_id, &why, cid)
                .await
        }
        Command::DismissReport {
            item,
            target: item_id,
            reason: why,
            ..
        } => {
            let item = item_of(&item)?;
            let why = reason(&why, false)?;
            store
                .dismiss_reports(event, &actor.who, item, item_id, &why, cid)
                .await
        }
        Command::Mute {
            user,
            minutes,
            reason: why,
            ..
        } => {
            let person = target(live, info, actor, user, true).await?;
            let why = reason(&why, false)?;
            let ends_at = match minutes {
                None => None,
                Some(m) if (1..=MAX_MUTE_MINUTES).contains(&m) => Some(
                    jiff::Timestamp::now()
                        .checked_add(jiff::SignedDuration::from_mins(m))
                        .map_err(|_| Refusal::from(LiveRefusal::TimeOutOfRange))?,
                ),
                Some(_) => {
                    return Err(Refusal::from(LiveRefusal::MuteRange {
                        max: MAX_MUTE_MINUTES,
                    }));
                }
            };
            let written = store
                .mute(event, &actor.who, &person, ends_at, &why, cid)
                .await;
            live.moderation_changed(event);
            written
        }
        Command::Unmute { user, .. } => {
            let person = target(live, info, actor, user, false).await?;
            let written = store.unmute(event, &actor.who, &person, cid).await;
            live.moderation_changed(event);
            written
        }
        Command::Expel {
            user, reason: why, ..
        } => {
            let person = target(live, info, actor, user, true).await?;
            let why = reason(&why, false)?;
            let written = store
                .expel(event, &actor.who, &person, &why, cid)
                .await
                .map_err(refusal)?;
            // Their open connections to this event end now, each told in its page's
            // language; the upgrade refuses them from here on.
            let goodbye = Lang::ALL.map(|lang| {
                let message = crate::refusals::text(Tr::new(lang), &LiveRefusal::Removed.into());
                let frame =
                    json!({ "t": "error", "id": null, "code": "removed", "message": message });
                konvent_live::Text::from(frame.to_string())
            });
            live.fanout
                .remove_account_from_event(event, person.id, &goodbye);
            Ok(written)
        }
        Command::Readmit { user, .. } => {
            let person = target(live, info, actor, user, false).await?;
            store.readmit(event, &actor.who, &person, cid).await
        }
        Command::LockChat {
            room,
            locked,
            reason: why,
            ..
        } => {
            let room = info
                .room(&room)
                .ok_or_else(|| Refusal::from(LiveRefusal::NoSuchRoom))?;
            let why = reason(&why, false)?;
            let written = store
                .lock_chat(event, &actor.who, room, locked, &why, cid)
                .await;
            live.moderation_changed(event);
            written
        }
        _ => {
            return Err(Refusal::from(LiveRefusal::NotAModerationCommand));
        }
    }
    .map_err(refusal)?;
    live.publish(&written);
    Ok(written)
}
