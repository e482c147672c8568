//! The map's tick: every event's position frames (one per cell with news, one per viewer
//! that changed cells), the areas' headcounts, and the news of its avatars each node
//! tells the others (with the heartbeat that lets them forget a silent node).

use konvent_core::ids::EventId;
use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::Instant;

use crate::Text;
use konvent_core::convention::map::{AreaTarget, VenueMap};
use serde_json::{Value, json};

use super::{Avatar, COUNTS_EVERY, EventMap, MapNews, Maps, Move, PINBOARD_KEY, TICK, node_of};
use crate::fanout::{HEARTBEAT, PEER_TIMEOUT};

pub(super) async fn tick_loop(maps: Weak<Maps>) {
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut n: u32 = 0;
    loop {
        tick.tick().await;
        let Some(maps) = maps.upgrade() else {
            return;
        };
        n = n.wrapping_add(1);
        maps.tick(n);
    }
}

impl Maps {
    /// What another node told of its avatars: they appear, move and leave on this
    /// node's map like its own, for this node's viewers.
    pub fn remote_news(&self, event_id: EventId, node: u32, news: MapNews) {
        if node == self.fanout.node() {
            return;
        }
        let mut events = self.lock();
        let Some(em) = events.get_mut(&event_id) else {
            return;
        };
        em.peers.insert(node, Instant::now());
        for id in news.gone {
            if node_of(id) == node {
                em.drop_avatar(id);
            }
        }
        if news.full {
            let listed: std::collections::HashSet<u64> = news.moves.iter().map(|m| m.id).collect();
            let stale: Vec<u64> = em
                .avatars
                .keys()
                .copied()
                .filter(|id| node_of(*id) == node && !listed.contains(id))
                .collect();
            for id in stale {
                em.drop_avatar(id);
            }
        }
        for m in news.moves {
            if node_of(m.id) == node && em.map.walkable(m.x, m.y) {
                em.set_remote(m);
            }
        }
    }

    /// Tick `n`: every event's position frames, then (every [`COUNTS_EVERY`] ticks) the
    /// areas' headcounts.
    fn tick(&self, n: u32) {
        let with_counts = n.is_multiple_of(COUNTS_EVERY);
        let mut out = Vec::new();
        let mut counts = Vec::new();
        let mut tell = Vec::new();
        {
            let mut events = self.lock();
            for (event_id, em) in events.iter_mut() {
                em.forget_silent_peers();
                if let Some(news) = em.news() {
                    tell.push((*event_id, news));
                }
                let frames = em.frames();
                if !frames.is_empty() {
                    out.push((*event_id, frames));
                }
                if with_counts && em.counts_dirty && !em.avatars.is_empty() {
                    em.counts_dirty = false;
                    counts.push((
                        *event_id,
                        em.map.clone(),
                        em.avatars.keys().copied().collect(),
                    ));
                }
            }
        }
        if let Some(bus) = self.fanout.bus() {
            for (event_id, news) in tell {
                bus.moves(event_id, &news);
            }
        }
        for (event_id, frames) in out {
            self.fanout.to_many(event_id, &frames);
        }
        for (event_id, map, viewers) in counts {
            let frame = self.counts_frame(event_id, &map);
            self.fanout.to_many(event_id, &[(viewers, frame)]);
        }
    }

    /// Headcounts of the areas: a room's people (however they came in) and the avatars
    /// standing at the pinboard.
    fn counts_frame(&self, event_id: EventId, map: &VenueMap) -> Text {
        let rooms = self.fanout.headcounts(event_id);
        let standing = self.area_counts(event_id);
        let counts: serde_json::Map<String, Value> = map
            .areas
            .iter()
            .enumerate()
            .map(|(i, area)| match &area.target {
                AreaTarget::Room { room } => {
                    (room.clone(), json!(rooms.get(room).copied().unwrap_or(0)))
                }
                AreaTarget::Pinboard => (
                    PINBOARD_KEY.to_owned(),
                    json!(standing.get(i).copied().unwrap_or(0)),
                ),
            })
            .collect();
        Text::from(json!({ "t": "areas", "counts": counts }).to_string())
    }

    /// Sends the headcounts now (after somebody entered or left a room).
    pub fn counts_changed(&self, event_id: EventId) {
        if let Some(em) = self.lock().get_mut(&event_id) {
            em.counts_dirty = true;
        }
    }
}

/// What the viewers of one cell hear in one tick.
#[derive(Default)]
struct Delta {
    moves: Vec<(u64, u16, u16, Option<Arc<str>>)>,
    gone: Vec<u64>,
    /// The whole view: whoever is not in `moves` is out of sight.
    reset: bool,
}

impl EventMap {
    /// Puts another node's avatar where that node says it stands.
    fn set_remote(&mut self, m: Move) {
        let cell = self.cell_of(m.x, m.y);
        let area = self.map.area_at(m.x, m.y);
        let Some(a) = self.avatars.get_mut(&m.id) else {
            self.add_avatar(m.id, Arc::from(m.name), false, m.x, m.y);
            return;
        };
        if (a.x, a.y) == (m.x, m.y) {
            return;
        }
        let (old, old_cell) = ((a.x, a.y), a.cell);
        if a.area != area {
            self.counts_dirty = true;
        }
        (a.x, a.y, a.area, a.cell) = (m.x, m.y, area, cell);
        if !a.dirty {
            a.dirty = true;
            self.dirty.push(m.id);
        }
        if old_cell != cell {
            self.unindex(m.id, old_cell);
            self.cells.entry(cell).or_default().push(m.id);
        }
        self.vacate(old.0, old.1);
        self.occupy(m.x, m.y);
    }

    /// Drops the avatars of nodes that stopped telling (killed, or cut off).
    fn forget_silent_peers(&mut self) {
        let silent: Vec<u32> = self
            .peers
            .iter()
            .filter(|(_, heard)| heard.elapsed() >= PEER_TIMEOUT)
            .map(|(node, _)| *node)
            .collect();
        for node in silent {
            self.peers.remove(&node);
            let ids: Vec<u64> = self
                .avatars
                .keys()
                .copied()
                .filter(|id| node_of(*id) == node)
                .collect();
            for id in ids {
                self.drop_avatar(id);
            }
        }
    }

    /// What the other nodes should hear of this node's avatars this tick: who moved and
    /// who left, or everybody as a heartbeat. Read before [`EventMap::frames`] clears
    /// the moves.
    fn news(&mut self) -> Option<MapNews> {
        let gone = std::mem::take(&mut self.gone_local);
        let full = self.told_all.elapsed() >= HEARTBEAT;
        if full {
            self.told_all = Instant::now();
        }
        let told = |(id, a): (&u64, &Avatar)| Move {
            id: *id,
            x: a.x,
            y: a.y,
            name: a.name.to_string(),
        };
        let moves: Vec<Move> = if full {
            self.avatars
                .iter()
                .filter(|(_, a)| a.local)
                .map(told)
                .collect()
        } else {
            self.dirty
                .iter()
                .filter_map(|id| self.avatars.get_key_value(id))
                .filter(|(_, a)| a.local)
                .map(told)
                .collect()
        };
        (!moves.is_empty() || !gone.is_empty()).then_some(MapNews { moves, gone, full })
    }

    /// This tick's frames: one per cell with viewers and news, one per viewer that
    /// changed cells.
    pub(super) fn frames(&mut self) -> Vec<(Vec<u64>, Text)> {
        if self.dirty.is_empty() && self.gone.is_empty() {
            return Vec::new();
        }
        let mut deltas: HashMap<u32, Delta> = HashMap::new();
        let mut changed = Vec::new();
        for (conn, cell) in std::mem::take(&mut self.gone) {
            for n in self.around(cell) {
                if self.cells.contains_key(&n) {
                    deltas.entry(n).or_default().gone.push(conn);
                }
            }
        }
        for conn in std::mem::take(&mut self.dirty) {
            let Some(a) = self.avatars.get_mut(&conn) else {
                continue;
            };
            a.dirty = false;
            let (prev, cur, x, y, name) = (a.shown, a.cell, a.x, a.y, a.name.clone());
            a.shown = Some(cur);
            for n in self.around(cur) {
                if !self.cells.contains_key(&n) {
                    continue;
                }
                let new_here = prev.is_none_or(|p| !self.near(p, n));
                deltas.entry(n).or_default().moves.push((
                    conn,
                    x,
                    y,
                    new_here.then(|| name.clone()),
                ));
            }
            if let Some(p) = prev
                && p != cur
            {
                for n in self.around(p) {
                    if !self.near(cur, n) && self.cells.contains_key(&n) {
                        deltas.entry(n).or_default().gone.push(conn);
                    }
                }
            }
            if prev != Some(cur) && self.avatars.get(&conn).is_some_and(|a| a.local) {
                changed.push((conn, cur));
            }
        }
        // A viewer that changed cells gets only its new view: at most one frame per tick.
        let fresh: std::collections::HashSet<u64> = changed.iter().map(|(c, _)| *c).collect();
        let mut frames: Vec<(Vec<u64>, Text)> = deltas
            .into_iter()
            .filter_map(|(cell, delta)| {
                let viewers: Vec<u64> = self
                    .cells
                    .get(&cell)?
                    .iter()
                    .copied()
                    .filter(|c| !fresh.contains(c))
                    .collect();
                (!viewers.is_empty()).then(|| (viewers, pos_frame(&delta)))
            })
            .collect();
        // After the shared frames, so that they see the view as it is now.
        frames.extend(
            changed
                .into_iter()
                .map(|(conn, cell)| (vec![conn], self.surroundings(cell))),
        );
        frames
    }

    /// Everybody around `cur`, with names: the whole view of a viewer that changed
    /// cells (`reset`: whoever is not listed is out of sight). Whoever moved in the same
    /// tick is where they stand now, so a view never keeps somebody who left it.
    fn surroundings(&self, cur: u32) -> Text {
        let mut delta = Delta {
            reset: true,
            ..Delta::default()
        };
        for n in self.around(cur) {
            for id in self.cells.get(&n).into_iter().flatten() {
                if let Some(a) = self.avatars.get(id) {
                    delta.moves.push((*id, a.x, a.y, Some(a.name.clone())));
                }
            }
        }
        pos_frame(&delta)
    }
}

fn pos_frame(delta: &Delta) -> Text {
    let moves: Vec<Value> = delta
        .moves
        .iter()
        .map(|(id, x, y, name)| match name {
            Some(name) => json!([id, x, y, name.as_ref()]),
            None => json!([id, x, y]),
        })
        .collect();
    let mut frame = json!({ "t": "pos", "m": moves });
    if !delta.gone.is_empty() {
        frame["g"] = json!(delta.gone);
    }
    if delta.reset {
        frame["reset"] = json!(true);
    }
    Text::from(frame.to_string())
}
