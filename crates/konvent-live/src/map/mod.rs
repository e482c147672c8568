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
//!
//! This file holds the avatars' state and what a connection does on the map (enter,
//! move, go to an area, leave); the placement on tiles and cells is in [`cells`], the
//! tick with its frames and the news the nodes tell each other in [`tick`].

use konvent_core::ids::EventId;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use konvent_core::convention::map::{AreaTarget, VenueMap};
use serde::{Deserialize, Serialize};

use crate::fanout::Fanout;

mod cells;
mod tick;

use tick::tick_loop;

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
    events: Mutex<HashMap<EventId, EventMap>>,
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

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<EventId, EventMap>> {
        self.events.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Makes `map` the event's map. A different map than before sends everybody off it
    /// (their pages load the new one and step on again).
    pub fn ensure(self: &Arc<Self>, event_id: EventId, map: Arc<VenueMap>) {
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
    pub fn map(&self, event_id: EventId) -> Option<Arc<VenueMap>> {
        self.lock().get(&event_id).map(|m| m.map.clone())
    }

    /// Puts the connection's avatar on the map: at `at` when that is free floor outside
    /// every area (where it stood before a reconnect), else at the entrance. An avatar
    /// that is on the map already stays where it is.
    pub fn enter(
        &self,
        event_id: EventId,
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
    pub fn plan(&self, event_id: EventId, conn: u64, x: i64, y: i64) -> Result<Spot, MoveRefusal> {
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
    pub fn spot_in(&self, event_id: EventId, conn: u64, area: usize) -> Result<Spot, MoveRefusal> {
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
    pub fn place(&self, event_id: EventId, conn: u64, spot: Spot) {
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
    pub fn remove(&self, event_id: EventId, conn: u64) {
        let mut events = self.lock();
        let Some(em) = events.get_mut(&event_id) else {
            return;
        };
        if em.drop_avatar(conn) {
            em.gone_local.push(conn);
        }
    }

    /// How many avatars stand in each area (index into the map's areas).
    pub fn area_counts(&self, event_id: EventId) -> Vec<usize> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::LiveMetrics;
    use crate::testing::MemoryLog;
    use konvent_core::convention::map::Area;

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
        maps.ensure(EventId::new(1), Arc::new(map));
        (maps, ())
    }

    #[tokio::test]
    async fn a_crowd_arriving_at_once_spreads_out_around_the_entrance() {
        let (maps, ()) = maps(hall(40, 20)).await;
        let mut spots = std::collections::HashSet::new();
        for conn in 0..200 {
            let spot = maps
                .enter(EventId::new(1), conn, "Gast", None)
                .expect("on the map");
            assert!(spot.area.is_none(), "nobody arrives inside a room");
            assert!(spots.insert((spot.x, spot.y)), "one per tile");
        }
        assert!(
            spots.contains(&(20, 10)),
            "the first stands at the entrance"
        );
        // Somebody leaving frees the tile for the next.
        maps.remove(EventId::new(1), 0);
        assert_eq!(
            maps.enter(EventId::new(1), 999, "Gast", None)
                .map(|s| (s.x, s.y)),
            Some((20, 10))
        );
    }

    #[tokio::test]
    async fn steps_are_checked_against_walls_length_and_rate() {
        let (maps, ()) = maps(hall(40, 20)).await;
        maps.enter(EventId::new(1), 7, "Gast", None)
            .expect("on the map");
        assert_eq!(
            maps.plan(EventId::new(1), 8, 20, 9),
            Err(MoveRefusal::NotOnMap)
        );
        assert_eq!(
            maps.plan(EventId::new(1), 7, 20, 0),
            Err(MoveRefusal::TooFar)
        );
        assert_eq!(
            maps.plan(EventId::new(1), 7, 23, 10),
            Err(MoveRefusal::TooFar)
        );
        assert_eq!(
            maps.plan(EventId::new(1), 7, -1, 10),
            Err(MoveRefusal::Blocked)
        );
        let spot = maps.plan(EventId::new(1), 7, 21, 9).expect("a step");
        maps.place(EventId::new(1), 7, spot);
        // Ten a second are taken (the refused ones above count too); then they drop.
        let mut taken = 4;
        while maps.plan(EventId::new(1), 7, 21, 10).is_ok() {
            taken += 1;
        }
        assert_eq!(taken, MOVES_PER_SECOND);
        assert_eq!(
            maps.plan(EventId::new(1), 7, 21, 10),
            Err(MoveRefusal::TooFast)
        );
    }

    #[tokio::test]
    async fn a_viewer_that_changes_cells_gets_its_whole_new_view() {
        let (maps, ()) = maps(hall(60, 20)).await;
        maps.enter(EventId::new(1), 1, "Anna", Some((10, 10)));
        maps.enter(EventId::new(1), 2, "Ben", Some((50, 10)));
        let mut events = maps.lock();
        let em = events.get_mut(&EventId::new(1)).expect("event");
        let first: Vec<String> = em.frames().iter().map(|(_, f)| f.to_string()).collect();
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
        maps.place(EventId::new(1), 2, spot);
        let mut events = maps.lock();
        let em = events.get_mut(&EventId::new(1)).expect("event");
        let frames = em.frames();
        let to_ben: Vec<&str> = frames
            .iter()
            .filter(|(conns, _)| conns == &vec![2])
            .map(|(_, f)| f.as_str())
            .collect();
        assert!(
            to_ben
                .iter()
                .any(|f| f.contains("\"reset\":true") && f.contains("Anna"))
        );
        let to_anna: Vec<&str> = frames
            .iter()
            .filter(|(conns, _)| conns.contains(&1))
            .map(|(_, f)| f.as_str())
            .collect();
        assert!(
            to_anna.iter().any(|f| f.contains("[2,12,10,\"Ben\"]")),
            "{to_anna:?}"
        );
        drop(events);
    }
}
