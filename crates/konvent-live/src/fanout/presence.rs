//! Headcounts and the microphone rule (K4) over all nodes: who is in which room here and
//! on the other nodes serving the event (from the snapshots they tell), the `presence`
//! frames each changed room gets at the next tick, and this node's own snapshots and
//! heartbeats.

use konvent_core::ids::{AccountId, EventId};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::Text;
use konvent_core::convention::rule_in_force;
use serde_json::json;

use super::{EventHub, Fanout, RemoteNode};

/// Headcounts go out at most this often per room: a join would otherwise tell every one
/// of a thousand people in the room, a thousand times over while a room fills.
pub const PRESENCE_TICK: Duration = Duration::from_millis(500);

/// A node tells the others its headcounts at least this often …
pub const HEARTBEAT: Duration = Duration::from_secs(2);
/// … and is forgotten (its people no longer counted) after this long without a word.
pub const PEER_TIMEOUT: Duration = Duration::from_secs(7);

/// A room's headcount after a change, and whether the microphone rule is in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Presence {
    pub count: i64,
    pub muted: bool,
}

impl Fanout {
    /// The microphone threshold of an event changed.
    pub fn set_mute_threshold(&self, event_id: EventId, mute_threshold: i64) {
        if let Some(hub) = self.lock().get_mut(&event_id) {
            hub.mute_threshold = mute_threshold;
        }
    }

    /// The headcount of every room of an event with someone in it, over all nodes.
    pub fn headcounts(&self, event_id: EventId) -> HashMap<String, i64> {
        let events = self.lock();
        let Some(hub) = events.get(&event_id) else {
            return HashMap::new();
        };
        let rooms: HashSet<&Arc<str>> = hub
            .rooms
            .keys()
            .chain(hub.remote.values().flat_map(|node| node.rooms.keys()))
            .collect();
        rooms
            .into_iter()
            .map(|room| (room.to_string(), people_in(hub, room)))
            .filter(|(_, n)| *n > 0)
            .collect()
    }

    /// Everybody connected to the event, over all nodes, with the room they are in
    /// (`None`: connected, in no room; other nodes tell only of people in rooms). For
    /// "who is here" (K15+).
    pub fn whereabouts(&self, event_id: EventId) -> HashMap<AccountId, Option<Arc<str>>> {
        let events = self.lock();
        let Some(hub) = events.get(&event_id) else {
            return HashMap::new();
        };
        let mut out: HashMap<AccountId, Option<Arc<str>>> = HashMap::new();
        for node in hub.remote.values() {
            for (room, people) in &node.rooms {
                for account in people {
                    out.insert(*account, Some(room.clone()));
                }
            }
        }
        for conn in hub.conns.values() {
            match &conn.room {
                Some(room) => {
                    out.insert(conn.account, Some(room.clone()));
                }
                None => {
                    out.entry(conn.account).or_insert(None);
                }
            }
        }
        out
    }

    /// Who another node serving the event last said is in its rooms (its whole
    /// snapshot: rooms it leaves out are empty there). Rooms whose people changed hear of
    /// it at the next presence tick.
    pub fn remote_presence(
        &self,
        event_id: EventId,
        node: u32,
        snapshot: HashMap<String, Vec<AccountId>>,
    ) {
        if node == self.node {
            return;
        }
        let mut events = self.lock();
        let Some(hub) = events.get_mut(&event_id) else {
            return;
        };
        let rooms: HashMap<Arc<str>, HashSet<AccountId>> = snapshot
            .into_iter()
            .filter(|(_, people)| !people.is_empty())
            .map(|(room, people)| (Arc::from(room), people.into_iter().collect()))
            .collect();
        let before = hub.remote.insert(
            node,
            RemoteNode {
                rooms: rooms.clone(),
                heard: Instant::now(),
            },
        );
        let before = before.map(|b| b.rooms).unwrap_or_default();
        for room in rooms.keys().chain(before.keys()) {
            if rooms.get(room) != before.get(room) {
                hub.presence_dirty.insert(room.clone());
            }
        }
    }

    /// Whether the microphone rule is in force in a room right now.
    pub fn presence(&self, event_id: EventId, room: &str) -> Presence {
        let events = self.lock();
        events
            .get(&event_id)
            .map(|hub| presence_of(hub, room))
            .unwrap_or(Presence {
                count: 0,
                muted: false,
            })
    }

    /// Notes that a room's headcount changed; the next presence tick tells the room.
    pub fn presence_changed(&self, event_id: EventId, room: &str) {
        let mut events = self.lock();
        if let Some(hub) = events.get_mut(&event_id) {
            hub.presence_dirty.insert(Arc::from(room));
        }
    }

    /// Sends each changed room its headcount and microphone mode (ephemeral, not logged);
    /// tells the other nodes this node's headcounts when they changed (and as a
    /// heartbeat), and forgets nodes that stopped telling.
    pub fn send_presence(&self) {
        let mut snapshots = Vec::new();
        {
            let mut events = self.lock();
            for (event_id, hub) in events.iter_mut() {
                hub.remote.retain(|_, node| {
                    let alive = node.heard.elapsed() < PEER_TIMEOUT;
                    if !alive {
                        hub.presence_dirty.extend(node.rooms.keys().cloned());
                    }
                    alive
                });
                if hub.told_dirty || hub.told_at.elapsed() >= HEARTBEAT {
                    hub.told_dirty = false;
                    hub.told_at = Instant::now();
                    let own: HashMap<String, Vec<AccountId>> = hub
                        .rooms
                        .iter()
                        .map(|(room, r)| (room.to_string(), r.people.keys().copied().collect()))
                        .collect();
                    snapshots.push((*event_id, own));
                }
                let dirty: Vec<Arc<str>> = hub.presence_dirty.drain().collect();
                for room in dirty {
                    let Some(presence) = hub.rooms.get(&room) else {
                        continue;
                    };
                    let frame = presence_frame(&room, presence_of(hub, &room), hub.mute_threshold);
                    for id in &presence.conns {
                        if let Some(conn) = hub.conns.get(id) {
                            self.offer(conn, None, &frame);
                        }
                    }
                }
            }
        }
        if let Some(bus) = self.bus() {
            for (event_id, snapshot) in snapshots {
                bus.presence(event_id, &snapshot);
            }
        }
    }
}

pub(super) fn presence_of(hub: &EventHub, room: &str) -> Presence {
    let count = people_in(hub, room);
    Presence {
        count,
        muted: rule_in_force(count, hub.mute_threshold),
    }
}

/// The people in a room over all nodes: this node's and those the others last told of,
/// each person once however many tabs on however many nodes.
pub(super) fn people_in(hub: &EventHub, room: &str) -> i64 {
    let here = hub.rooms.get(room);
    let mut elsewhere: HashSet<AccountId> = HashSet::new();
    for people in hub.remote.values().filter_map(|node| node.rooms.get(room)) {
        elsewhere.extend(
            people
                .iter()
                .filter(|a| here.is_none_or(|r| !r.people.contains_key(*a))),
        );
    }
    here.map_or(0, |r| r.people.len() as i64) + elsewhere.len() as i64
}

/// The `presence` frame.
pub fn presence_frame(room: &str, p: Presence, threshold: i64) -> Text {
    Text::from(
        json!({
            "t": "presence",
            "room": room,
            "count": p.count,
            "muted": p.muted,
            "threshold": threshold,
        })
        .to_string(),
    )
}
