//! An event's parts that change rarely (the event itself, its agenda, rooms and venue map),
//! kept in memory for the pages and the live hot path instead of read on every request.
//!
//! Several nodes serve one event, and each keeps its own copy. The node that changes a
//! part forgets its copy at once and rings the bus's doorbell ([`CHANGED_KIND`]); every
//! other node forgets its copy when the notice arrives. The bus may lose a notice, so no
//! copy is trusted for longer than [`FRESH`]: a node that missed one follows within that
//! time, and one that fell behind the bus forgets everything.

use konvent_core::ids::{AccountId, EventId};
use std::collections::HashMap;
use std::sync::{Arc, RwLock, Weak};
use std::time::{Duration, Instant};

use konvent_core::convention::AgendaEntry;
use konvent_core::convention::map::{AreaTarget, RoomRef, VenueMap, generate};
use konvent_live::Changed;
use konvent_store::{Event, Forget, Room, Store, StoreError};
use tokio::sync::broadcast;

use super::Live;

/// How long a node trusts its copy of an event's parts when it heard of no change.
pub const FRESH: Duration = Duration::from_secs(5);

/// The kind of the bus's notice "this event's parts changed" (its id is the event's).
pub const CHANGED_KIND: &str = "event";

/// The kind of the notice "this account's sessions, grants or parts in events changed"
/// (the store's [`Forget::Account`]; its id is the account's).
pub const ACCOUNT_KIND: &str = "account";

/// The kind of the notice "the parts of everybody in this event may have changed" (the
/// store's [`Forget::Event`]; its id is the event's).
pub const PEOPLE_KIND: &str = "people";

/// The kind of the notice "this event's mutes or chat locks changed" (its id is the
/// event's).
pub const MODERATION_KIND: &str = "moderation";

/// An event's parts that change rarely (rooms, agenda), cached for the hot path.
#[derive(Debug, Clone)]
pub struct EventInfo {
    pub event: Event,
    pub agenda: Vec<AgendaEntry>,
    pub rooms: Vec<Room>,
    /// The venue map (K8): the organizer's own, or the one generated from the rooms.
    pub map: Arc<VenueMap>,
}

impl EventInfo {
    pub fn room(&self, slug: &str) -> Option<&Room> {
        self.rooms.iter().find(|r| r.slug == slug)
    }

    /// Reads the event's parts from the store.
    pub(super) async fn read(store: &Store, slug: &str) -> Result<Self, StoreError> {
        let event = store.event(slug).await?;
        let rooms = store.rooms(event.id).await?;
        let map = Arc::new(venue_map(store, event.id, &rooms).await?);
        Ok(Self {
            agenda: store.event_agenda(event.id).await?,
            rooms,
            map,
            event,
        })
    }
}

/// This node's copies, by event slug.
#[derive(Default)]
pub struct Infos {
    by_slug: RwLock<HashMap<String, Kept>>,
}

struct Kept {
    read_at: Instant,
    info: Arc<EventInfo>,
}

impl Infos {
    /// The event's parts, if this node read them less than [`FRESH`] ago and heard of no
    /// change since.
    pub fn fresh(&self, slug: &str) -> Option<Arc<EventInfo>> {
        self.by_slug
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(slug)
            .filter(|copy| copy.read_at.elapsed() < FRESH)
            .map(|copy| copy.info.clone())
    }

    pub fn keep(&self, info: Arc<EventInfo>) {
        self.by_slug
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(
                info.event.slug.clone(),
                Kept {
                    read_at: Instant::now(),
                    info,
                },
            );
    }

    /// Forgets the copy of the event `event_id`.
    pub fn forget(&self, event_id: EventId) {
        self.by_slug
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|_, copy| copy.info.event.id != event_id);
    }

    pub fn forget_all(&self) {
        self.by_slug
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

impl Live {
    /// The event's rooms, agenda or map changed (committed): this node forgets its copy
    /// of its parts, and tells the other nodes to forget theirs.
    pub fn invalidate(&self, event_id: EventId) {
        self.infos.forget(event_id);
        self.parts.forget(event_id);
        self.ring(CHANGED_KIND, event_id);
    }

    /// The event's mutes or chat locks changed (committed): this node forgets its copy,
    /// and tells the other nodes to forget theirs (each trusts its copy no longer than
    /// [`super::moderation::FRESH`] should a notice be lost).
    pub fn moderation_changed(&self, event_id: EventId) {
        self.moderation.forget(event_id);
        self.ring(MODERATION_KIND, event_id);
    }

    /// Rings the bus's doorbell: the other nodes forget their copies of `kind`.
    fn ring(&self, kind: &str, event_id: EventId) {
        self.fanout.changed_here(&Changed {
            kind: kind.to_owned(),
            id: event_id.get(),
        });
    }
}

/// Forgets this node's copies of what other nodes changed, for as long as the node runs.
pub(super) async fn follow_other_nodes(
    live: Weak<Live>,
    mut changes: broadcast::Receiver<Changed>,
) {
    loop {
        let changed = changes.recv().await;
        let Some(live) = live.upgrade() else { return };
        match changed {
            Ok(changed) => match changed.kind.as_str() {
                CHANGED_KIND => {
                    live.infos.forget(EventId::new(changed.id));
                    live.parts.forget(EventId::new(changed.id));
                }
                MODERATION_KIND => live.moderation.forget(EventId::new(changed.id)),
                ACCOUNT_KIND => live
                    .store
                    .forget_remembered(Some(Forget::Account(AccountId::new(changed.id)))),
                PEOPLE_KIND => live
                    .store
                    .forget_remembered(Some(Forget::Event(EventId::new(changed.id)))),
                _ => {}
            },
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                tracing::warn!(
                    missed,
                    "live: fell behind the other nodes' changes; forgetting every copy"
                );
                live.infos.forget_all();
                live.moderation.forget_all();
                live.parts.forget_all();
                live.store.forget_remembered(None);
            }
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}

/// Tells the other nodes what this node's store changed of the sessions, grants and
/// people in events it keeps copies of (see `konvent_store`'s memo), for as long as the
/// node runs.
pub(super) async fn tell_other_nodes(live: Weak<Live>, mut forgets: broadcast::Receiver<Forget>) {
    loop {
        let forget = forgets.recv().await;
        let Some(live) = live.upgrade() else { return };
        let changed = match forget {
            Ok(Forget::Account(id)) => Changed {
                kind: ACCOUNT_KIND.to_owned(),
                id: id.get(),
            },
            Ok(Forget::Event(id)) => Changed {
                kind: PEOPLE_KIND.to_owned(),
                id: id.get(),
            },
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                // The other nodes trust their copies no longer than the store's FRESH.
                tracing::warn!(
                    missed,
                    "live: changes of people not passed on to the other nodes"
                );
                continue;
            }
            Err(broadcast::error::RecvError::Closed) => return,
        };
        live.fanout.changed_here(&changed);
    }
}

/// The rooms as the map sees them.
pub fn room_refs(rooms: &[Room]) -> Vec<RoomRef> {
    rooms
        .iter()
        .map(|r| RoomRef {
            slug: r.slug.clone(),
            name: r.name.clone(),
            kind: r.kind,
        })
        .collect()
}

/// The event's own map, or the one generated from its rooms. A stored map whose rooms
/// are gone loses those areas (the rooms were deleted after the upload).
async fn venue_map(
    store: &Store,
    event_id: EventId,
    rooms: &[Room],
) -> Result<VenueMap, StoreError> {
    let refs = room_refs(rooms);
    if let Some(stored) = store.venue_map(event_id).await? {
        match serde_json::from_str::<VenueMap>(&stored.map_json) {
            Ok(mut map) => {
                map.areas.retain(|a| match &a.target {
                    AreaTarget::Room { room } => rooms.iter().any(|r| &r.slug == room),
                    AreaTarget::Pinboard => true,
                });
                return Ok(map);
            }
            Err(e) => {
                tracing::error!(error = %e, %event_id, "stored venue map unreadable; using the generated one");
            }
        }
    }
    Ok(generate(&refs))
}
