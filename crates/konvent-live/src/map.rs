//! Avatars on the venue map (K8): where everybody stands, and who hears of it.
//!
//! Positions are ephemeral signals: they skip the live log. A connection that stepped
//! onto the map has an avatar; its moves land here at once (latest value wins) and go
//! out at a fixed tick, batched: the map is cut into square cells, and everybody hears
//! only of avatars in their own cell and the eight around it (area of interest). All
//! viewers in one cell share one frame per tick, serialised once. Someone who walks into
//! a new cell gets, instead, a frame of their own with their whole new view (`reset`):
//! at most one frame per viewer and tick.
//!
//! Frames (`docs/live-protocol.md`):
//! - `{"t":"pos","m":[[id,x,y],[id,x,y,"Name"],…],"g":[id,…]}` — moves (with the name
//!   when the avatar is new to this cell's viewers) and avatars gone out of sight;
//!   with `"reset":true` the whole view (everybody else is out of sight);
//! - `{"t":"areas","counts":{"plenum":12,…}}` — headcounts of the areas, every second
//!   when they changed.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use bytes::Bytes;
use konvent_core::konvent::map::{AreaTarget, VenueMap};
use serde_json::{Value, json};

use serde::{Deserialize, Serialize};

use crate::fanout::{Fanout, HEARTBEAT, PEER_TIMEOUT};

/// Positions go out at most this often: at most 10 frames a second per viewer.
pub const TICK: Duration = Duration::from_millis(100);
/// Headcounts of the areas go out at most every this many ticks (a second).
pub const COUNTS_EVERY: u32 = 10;
/// Side of an area-of-interest cell, in tiles.
pub const CELL: u16 = 8;
/// A move goes at most this many tiles (in each direction) from the last position;
/// longer ways are walked step by step, or taken with `goto`.
pub const MAX_STEP: u16 = 2;
/// Moves the server takes per avatar and second (clients send at most 5).
pub const MOVES_PER_SECOND: u32 = 10;

/// Why a move was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoveRefusal {
    /// The connection has no avatar on the map.
    NotOnMap,
    /// A wall, or off the map.
    Blocked,
    /// Further than [`MAX_STEP`] from the last position.
    TooFar,
    /// More than [`MOVES_PER_SECOND`]: dropped without a word (the next one counts).
    TooFast,
}

/// Where an avatar stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spot {
    pub x: u16,
    pub y: u16,
    /// Index into the map's areas.
    pub area: Option<usize>,
}

struct Avatar {
    name: Arc<str>,
    /// Whether its connection is on this node (others' avatars come over the bus).
    local: bool,
    x: u16,
    y: u16,
    cell: u32,
    /// The cell the viewers last heard of (`None`: not announced yet).
    shown: Option<u32>,
    dirty: bool,
    area: Option<usize>,
    window: Instant,
    moves: u32,
}

struct EventMap {
    map: Arc<VenueMap>,
    cols: u32,
    rows: u32,
    avatars: HashMap<u64, Avatar>,
    /// Avatars per cell.
    cells: HashMap<u32, Vec<u64>>,
    /// Avatars per tile (`y * width + x`), for free spots.
    tiles: HashMap<u32, u16>,
    dirty: Vec<u64>,
    /// Avatars that left, with the cell viewers last saw them in.
    gone: Vec<(u64, u32)>,
    counts_dirty: bool,
    /// Avatars of this node that left since the other nodes last heard.
    gone_local: Vec<u64>,
    /// When each other node last told of its avatars.
    peers: HashMap<u32, Instant>,
    /// When this node last told the others of all its avatars.
    told_all: Instant,
}

/// Where an avatar of one node stands, for the other nodes serving the event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Move {
    pub id: u64,
    pub x: u16,
    pub y: u16,
    pub name: String,
}

/// What one node tells the others of its avatars in one tick: who moved (or all of them,
/// `full`, as a heartbeat: whoever is not listed is gone), and who left.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MapNews {
    pub moves: Vec<Move>,
    pub gone: Vec<u64>,
    pub full: bool,
}

/// The node a connection id belongs to (its high bits, [`Fanout`]).
fn node_of(id: u64) -> u32 {
    (id >> 32) as u32
}

/// The avatars of every event on this node.
pub struct Maps {
    events: Mutex<HashMap<i64, EventMap>>,
    fanout: Arc<Fanout>,
    ticking: AtomicBool,
}

impl Maps {
    pub fn new(fanout: Arc<Fanout>) -> Arc<Self> {
        Arc::new(Self {
            events: Mutex::new(HashMap::new()),
            fanout,
            ticking: AtomicBool::new(false),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, EventMap>> {
        self.events.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Makes `map` the event's map. A different map than before sends everybody off it
    /// (their pages load the new one and step on again).
    pub fn ensure(self: &Arc<Self>, event_id: i64, map: Arc<VenueMap>) {
        if !self.ticking.swap(true, Ordering::Relaxed) {
            let maps = Arc::downgrade(self);
            tokio::spawn(tick_loop(maps));
        }
        let mut events = self.lock();
        if let Some(current) = events.get(&event_id)
            && (Arc::ptr_eq(&current.map, &map) || *current.map == *map)
        {
            return;
        }
        let cols = u32::from(map.width.div_ceil(CELL));
        let rows = u32::from(map.height.div_ceil(CELL));
        events.insert(
            event_id,
            EventMap {
                map,
                cols,
                rows,
                avatars: HashMap::new(),
                cells: HashMap::new(),
                tiles: HashMap::new(),
                dirty: Vec::new(),
                gone: Vec::new(),
                counts_dirty: true,
                gone_local: Vec::new(),
                peers: HashMap::new(),
                told_all: Instant::now(),
            },
        );
    }

    /// The event's map, once [`Maps::ensure`] was called.
    pub fn map(&self, event_id: i64) -> Option<Arc<VenueMap>> {
        self.lock().get(&event_id).map(|m| m.map.clone())
    }

    /// Puts the connection's avatar on the map: at `at` when that is free floor outside
    /// every area (where it stood before a reconnect), else at the entrance. An avatar
    /// that is on the map already stays where it is.
    pub fn enter(
        &self,
        event_id: i64,
        conn: u64,
        name: &str,
        at: Option<(i64, i64)>,
    ) -> Option<Spot> {
        let mut events = self.lock();
        let em = events.get_mut(&event_id)?;
        if let Some(a) = em.avatars.get(&conn) {
            return Some(Spot {
                x: a.x,
                y: a.y,
                area: a.area,
            });
        }
        let wanted = at.and_then(|(x, y)| Some((u16::try_from(x).ok()?, u16::try_from(y).ok()?)));
        let (x, y) = match wanted {
            Some((x, y)) if em.map.walkable(x, y) && em.map.area_at(x, y).is_none() => (x, y),
            _ => em.free_near_spawn(),
        };
        let area = em.add_avatar(conn, Arc::from(name), true, x, y);
        Some(Spot { x, y, area })
    }

    /// Checks a step to (x, y): where it would stand. Nothing changes yet; the caller
    /// joins the area's room first and then calls [`Maps::place`].
    pub fn plan(&self, event_id: i64, conn: u64, x: i64, y: i64) -> Result<Spot, MoveRefusal> {
        let mut events = self.lock();
        let em = events.get_mut(&event_id).ok_or(MoveRefusal::NotOnMap)?;
        let a = em.avatars.get_mut(&conn).ok_or(MoveRefusal::NotOnMap)?;
        let now = Instant::now();
        if now.duration_since(a.window) >= Duration::from_secs(1) {
            a.window = now;
            a.moves = 0;
        }
        a.moves += 1;
        if a.moves > MOVES_PER_SECOND {
            return Err(MoveRefusal::TooFast);
        }
        let (Ok(x), Ok(y)) = (u16::try_from(x), u16::try_from(y)) else {
            return Err(MoveRefusal::Blocked);
        };
        if a.x.abs_diff(x) > MAX_STEP || a.y.abs_diff(y) > MAX_STEP {
            return Err(MoveRefusal::TooFar);
        }
        if !em.map.walkable(x, y) {
            return Err(MoveRefusal::Blocked);
        }
        Ok(Spot {
            x,
            y,
            area: em.map.area_at(x, y),
        })
    }

    /// A free spot in an area (the list's "go there").
    pub fn spot_in(&self, event_id: i64, conn: u64, area: usize) -> Result<Spot, MoveRefusal> {
        let events = self.lock();
        let em = events.get(&event_id).ok_or(MoveRefusal::NotOnMap)?;
        if !em.avatars.contains_key(&conn) {
            return Err(MoveRefusal::NotOnMap);
        }
        let taken = |x: u16, y: u16| em.occupied(x, y);
        let (x, y) = em
            .map
            .free_tile_in(area, &taken)
            .ok_or(MoveRefusal::Blocked)?;
        Ok(Spot {
            x,
            y,
            area: Some(area),
        })
    }

    /// Moves the avatar; viewers hear of it at the next tick.
    pub fn place(&self, event_id: i64, conn: u64, spot: Spot) {
        let mut events = self.lock();
        let Some(em) = events.get_mut(&event_id) else {
            return;
        };
        let cell = em.cell_of(spot.x, spot.y);
        let Some(a) = em.avatars.get_mut(&conn) else {
            return;
        };
        let old_cell = a.cell;
        let old = (a.x, a.y);
        if a.area != spot.area {
            em.counts_dirty = true;
        }
        a.x = spot.x;
        a.y = spot.y;
        a.area = spot.area;
        a.cell = cell;
        if !a.dirty {
            a.dirty = true;
            em.dirty.push(conn);
        }
        if old_cell != cell {
            em.unindex(conn, old_cell);
            em.cells.entry(cell).or_default().push(conn);
        }
        em.vacate(old.0, old.1);
        em.occupy(spot.x, spot.y);
    }

    /// Takes the connection's avatar off the map.
    pub fn remove(&self, event_id: i64, conn: u64) {
        let mut events = self.lock();
        let Some(em) = events.get_mut(&event_id) else {
            return;
        };
        if em.drop_avatar(conn) {
            em.gone_local.push(conn);
        }
    }

    /// What another node told of its avatars: they appear, move and leave on this
    /// node's map like its own, for this node's viewers.
    pub fn remote_news(&self, event_id: i64, node: u32, news: MapNews) {
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

    /// How many avatars stand in each area (index into the map's areas).
    pub fn area_counts(&self, event_id: i64) -> Vec<usize> {
        let events = self.lock();
        events.get(&event_id).map_or_else(Vec::new, |em| {
            let mut counts = vec![0; em.map.areas.len()];
            for a in em.avatars.values() {
                if let Some(i) = a.area {
                    counts[i] += 1;
                }
            }
            counts
        })
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
    fn counts_frame(&self, event_id: i64, map: &VenueMap) -> Bytes {
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
        Bytes::from(json!({ "t": "areas", "counts": counts }).to_string())
    }

    /// Sends the headcounts now (after somebody entered or left a room).
    pub fn counts_changed(&self, event_id: i64) {
        if let Some(em) = self.lock().get_mut(&event_id) {
            em.counts_dirty = true;
        }
    }
}

/// The key of the pinboard's area in `goto` and in the headcounts.
pub const PINBOARD_KEY: &str = "pinnwand";

/// The key of an area: its room's slug, or [`PINBOARD_KEY`].
pub fn area_key(target: &AreaTarget) -> &str {
    match target {
        AreaTarget::Room { room } => room,
        AreaTarget::Pinboard => PINBOARD_KEY,
    }
}

async fn tick_loop(maps: Weak<Maps>) {
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

/// What the viewers of one cell hear in one tick.
#[derive(Default)]
struct Delta {
    moves: Vec<(u64, u16, u16, Option<Arc<str>>)>,
    gone: Vec<u64>,
    /// The whole view: whoever is not in `moves` is out of sight.
    reset: bool,
}

/// How far from the entrance a newcomer looks for a free tile (tiles searched).
const SPAWN_SEARCH: usize = 4096;

impl EventMap {
    /// Takes an avatar off the map; answers whether there was one.
    fn drop_avatar(&mut self, id: u64) -> bool {
        let Some(a) = self.avatars.remove(&id) else {
            return false;
        };
        self.unindex(id, a.cell);
        self.vacate(a.x, a.y);
        if let Some(shown) = a.shown {
            self.gone.push((id, shown));
        }
        self.counts_dirty = true;
        a.local
    }

    /// Puts a new avatar at (x, y), for the viewers' next tick; answers its area.
    fn add_avatar(
        &mut self,
        id: u64,
        name: Arc<str>,
        local: bool,
        x: u16,
        y: u16,
    ) -> Option<usize> {
        self.occupy(x, y);
        let cell = self.cell_of(x, y);
        let area = self.map.area_at(x, y);
        self.avatars.insert(
            id,
            Avatar {
                name,
                local,
                x,
                y,
                cell,
                shown: None,
                dirty: true,
                area,
                window: Instant::now(),
                moves: 0,
            },
        );
        self.cells.entry(cell).or_default().push(id);
        self.dirty.push(id);
        self.counts_dirty = true;
        area
    }

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

    fn tile(&self, x: u16, y: u16) -> u32 {
        u32::from(y) * u32::from(self.map.width) + u32::from(x)
    }

    fn occupied(&self, x: u16, y: u16) -> bool {
        self.tiles.contains_key(&self.tile(x, y))
    }

    fn occupy(&mut self, x: u16, y: u16) {
        *self.tiles.entry(self.tile(x, y)).or_default() += 1;
    }

    fn vacate(&mut self, x: u16, y: u16) {
        let tile = self.tile(x, y);
        if let Some(n) = self.tiles.get_mut(&tile) {
            *n -= 1;
            if *n == 0 {
                self.tiles.remove(&tile);
            }
        }
    }

    /// The free floor tile outside every area nearest to the entrance: a crowd arriving
    /// at once spreads out instead of standing on one tile (where everybody would see
    /// everybody). The entrance itself when nothing is free nearby.
    fn free_near_spawn(&self) -> (u16, u16) {
        let map = &self.map;
        let start = map.spawn;
        let mut seen = std::collections::HashSet::from([start]);
        let mut queue = std::collections::VecDeque::from([start]);
        while let Some((x, y)) = queue.pop_front() {
            if !self.occupied(x, y) && map.area_at(x, y).is_none() {
                return (x, y);
            }
            if seen.len() >= SPAWN_SEARCH {
                break;
            }
            let next = [
                (x.wrapping_add(1), y),
                (x.wrapping_sub(1), y),
                (x, y.wrapping_add(1)),
                (x, y.wrapping_sub(1)),
            ];
            for (nx, ny) in next {
                if map.walkable(nx, ny) && seen.insert((nx, ny)) {
                    queue.push_back((nx, ny));
                }
            }
        }
        start
    }

    fn cell_of(&self, x: u16, y: u16) -> u32 {
        u32::from(y / CELL) * self.cols + u32::from(x / CELL)
    }

    fn unindex(&mut self, conn: u64, cell: u32) {
        if let Some(ids) = self.cells.get_mut(&cell) {
            ids.retain(|id| *id != conn);
            if ids.is_empty() {
                self.cells.remove(&cell);
            }
        }
    }

    /// The cell and its neighbours.
    fn around(&self, cell: u32) -> impl Iterator<Item = u32> + use<> {
        let (cols, rows) = (self.cols as i64, self.rows as i64);
        let (cx, cy) = ((cell as i64) % cols, (cell as i64) / cols);
        (-1..=1).flat_map(move |dy| {
            (-1..=1).filter_map(move |dx| {
                let (x, y) = (cx + dx, cy + dy);
                (x >= 0 && y >= 0 && x < cols && y < rows).then(|| (y * cols + x) as u32)
            })
        })
    }

    fn near(&self, a: u32, b: u32) -> bool {
        let (ax, ay) = (a % self.cols, a / self.cols);
        let (bx, by) = (b % self.cols, b / self.cols);
        ax.abs_diff(bx) <= 1 && ay.abs_diff(by) <= 1
    }

    /// This tick's frames: one per cell with viewers and news, one per viewer that
    /// changed cells.
    fn frames(&mut self) -> Vec<(Vec<u64>, Bytes)> {
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
        let mut frames: Vec<(Vec<u64>, Bytes)> = deltas
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
    fn surroundings(&self, cur: u32) -> Bytes {
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

fn pos_frame(delta: &Delta) -> Bytes {
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
    Bytes::from(frame.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::LiveMetrics;
    use crate::testing::MemoryLog;
    use konvent_core::konvent::map::Area;

    fn hall(width: u16, height: u16) -> VenueMap {
        let rows = (0..height)
            .map(|y| {
                (0..width)
                    .map(|x| {
                        if x == 0 || y == 0 || x == width - 1 || y == height - 1 {
                            '#'
                        } else {
                            '.'
                        }
                    })
                    .collect()
            })
            .collect();
        VenueMap {
            width,
            height,
            rows,
            areas: vec![Area {
                target: AreaTarget::Room {
                    room: "plenum".into(),
                },
                name: "Bühne".into(),
                x: 1,
                y: 1,
                w: 4,
                h: 4,
            }],
            spawn: (20, 10),
            source: "test".into(),
        }
    }

    async fn maps(map: VenueMap) -> (Arc<Maps>, ()) {
        let maps = Maps::new(Fanout::new(MemoryLog::new(), LiveMetrics::default()));
        maps.ensure(1, Arc::new(map));
        (maps, ())
    }

    #[tokio::test]
    async fn a_crowd_arriving_at_once_spreads_out_around_the_entrance() {
        let (maps, ()) = maps(hall(40, 20)).await;
        let mut spots = std::collections::HashSet::new();
        for conn in 0..200 {
            let spot = maps.enter(1, conn, "Gast", None).expect("on the map");
            assert!(spot.area.is_none(), "nobody arrives inside a room");
            assert!(spots.insert((spot.x, spot.y)), "one per tile");
        }
        assert!(
            spots.contains(&(20, 10)),
            "the first stands at the entrance"
        );
        // Somebody leaving frees the tile for the next.
        maps.remove(1, 0);
        assert_eq!(
            maps.enter(1, 999, "Gast", None).map(|s| (s.x, s.y)),
            Some((20, 10))
        );
    }

    #[tokio::test]
    async fn steps_are_checked_against_walls_length_and_rate() {
        let (maps, ()) = maps(hall(40, 20)).await;
        maps.enter(1, 7, "Gast", None).expect("on the map");
        assert_eq!(maps.plan(1, 8, 20, 9), Err(MoveRefusal::NotOnMap));
        assert_eq!(maps.plan(1, 7, 20, 0), Err(MoveRefusal::TooFar));
        assert_eq!(maps.plan(1, 7, 23, 10), Err(MoveRefusal::TooFar));
        assert_eq!(maps.plan(1, 7, -1, 10), Err(MoveRefusal::Blocked));
        let spot = maps.plan(1, 7, 21, 9).expect("a step");
        maps.place(1, 7, spot);
        // Ten a second are taken (the refused ones above count too); then they drop.
        let mut taken = 4;
        while maps.plan(1, 7, 21, 10).is_ok() {
            taken += 1;
        }
        assert_eq!(taken, MOVES_PER_SECOND);
        assert_eq!(maps.plan(1, 7, 21, 10), Err(MoveRefusal::TooFast));
    }

    #[tokio::test]
    async fn a_viewer_that_changes_cells_gets_its_whole_new_view() {
        let (maps, ()) = maps(hall(60, 20)).await;
        maps.enter(1, 1, "Anna", Some((10, 10)));
        maps.enter(1, 2, "Ben", Some((50, 10)));
        let mut events = maps.lock();
        let em = events.get_mut(&1).expect("event");
        let first: Vec<String> = em
            .frames()
            .iter()
            .map(|(_, f)| String::from_utf8_lossy(f).into_owned())
            .collect();
        assert!(
            first
                .iter()
                .any(|f| f.contains("\"reset\":true") && f.contains("Anna"))
        );
        assert!(
            !first
                .iter()
                .any(|f| f.contains("Anna") && f.contains("Ben")),
            "40 tiles apart, neither sees the other: {first:?}"
        );
        drop(events);
        // Ben walks over to Anna's cell: a new view for him, with her in it.
        let spot = Spot {
            x: 12,
            y: 10,
            area: None,
        };
        maps.place(1, 2, spot);
        let mut events = maps.lock();
        let em = events.get_mut(&1).expect("event");
        let frames = em.frames();
        let to_ben: Vec<&str> = frames
            .iter()
            .filter(|(conns, _)| conns == &vec![2])
            .map(|(_, f)| std::str::from_utf8(f).expect("UTF-8"))
            .collect();
        assert!(
            to_ben
                .iter()
                .any(|f| f.contains("\"reset\":true") && f.contains("Anna"))
        );
        let to_anna: Vec<&str> = frames
            .iter()
            .filter(|(conns, _)| conns.contains(&1))
            .map(|(_, f)| std::str::from_utf8(f).expect("UTF-8"))
            .collect();
        assert!(
            to_anna.iter().any(|f| f.contains("[2,12,10,\"Ben\"]")),
            "{to_anna:?}"
        );
        drop(events);
    }
}
