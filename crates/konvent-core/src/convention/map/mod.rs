//! The venue map (K8): a tile grid of walls and floor with areas on it; walking into an
//! area joins its room. [`generate`](fn@generate) builds a default venue from an event's
//! rooms, [`import_tiled`] reads a map drawn in the Tiled editor. Both hand out only maps
//! whose [`VenueMap::check`] is empty, so the web layer can trust a stored map on every move.
//!
//! Coordinates are tiles, `(x, y)` with `(0, 0)` top left, as in Tiled.

use std::collections::{HashMap, VecDeque};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::RoomKind;

mod generate;
#[cfg(test)]
mod testutil;
mod tiled;

pub use generate::generate;
pub use tiled::import_tiled;

/// The longest side of a map in tiles; keeps a map's grid at most 64 Ki tiles, so
/// a breadth-first search per move stays cheap.
pub const MAX_SIDE: u16 = 256;

/// The largest map or tileset file accepted; a 256×256 map with several layers as CSV
/// stays well below it.
pub const MAX_FILE_BYTES: usize = 4 * 1024 * 1024;

const WALL: u8 = b'#';
const FLOOR: u8 = b'.';

/// One room of the event as the map needs it.
#[derive(Debug, Clone)]
pub struct RoomRef {
    pub slug: String,
    pub name: String,
    pub kind: RoomKind,
}

/// What walking into an area does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AreaTarget {
    /// Joins the room with this slug.
    Room { room: String },
    /// Opens the event's pinboard.
    Pinboard,
}

/// A rectangle of the map, in tiles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Area {
    pub target: AreaTarget,
    pub name: String,
    pub x: u16,
    pub y: u16,
    pub w: u16,
    pub h: u16,
}

impl Area {
    pub fn contains(&self, x: u16, y: u16) -> bool {
        // u32 because `x + w` may pass u16::MAX in a hand-edited stored map.
        let (x, y) = (u32::from(x), u32::from(y));
        x >= u32::from(self.x)
            && x < u32::from(self.x) + u32::from(self.w)
            && y >= u32::from(self.y)
            && y < u32::from(self.y) + u32::from(self.h)
    }

    /// The slug of the room this area joins, if it joins one.
    pub fn room(&self) -> Option<&str> {
        match &self.target {
            AreaTarget::Room { room } => Some(room),
            AreaTarget::Pinboard => None,
        }
    }

    fn overlaps(&self, other: &Area) -> bool {
        let span = |start: u16, len: u16| (u32::from(start), u32::from(start) + u32::from(len));
        let ((ax0, ax1), (ay0, ay1)) = (span(self.x, self.w), span(self.y, self.h));
        let ((bx0, bx1), (by0, by1)) = (span(other.x, other.w), span(other.y, other.h));
        ax0 < bx1 && bx0 < ax1 && ay0 < by1 && by0 < ay1
    }
}

/// A venue: the grid, its areas and where newcomers appear.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VenueMap {
    pub width: u16,
    pub height: u16,
    /// Rows of the grid, '#' wall, '.' floor (serde-friendly and compact).
    pub rows: Vec<String>,
    pub areas: Vec<Area>,
    pub spawn: (u16, u16),
    /// Where the map came from: "generated" or the uploaded file's name.
    pub source: String,
}

impl VenueMap {
    /// In bounds and not a wall.
    pub fn walkable(&self, x: u16, y: u16) -> bool {
        x < self.width
            && y < self.height
            && self
                .rows
                .get(usize::from(y))
                .and_then(|row| row.as_bytes().get(usize::from(x)))
                == Some(&FLOOR)
    }

    /// The index of the area at a tile; the first one if a broken map has several.
    pub fn area_at(&self, x: u16, y: u16) -> Option<usize> {
        self.areas.iter().position(|a| a.contains(x, y))
    }

    pub fn area_of_room(&self, slug: &str) -> Option<usize> {
        self.areas.iter().position(|a| a.room() == Some(slug))
    }

    /// A walkable tile inside the area not in `taken` (closest to its centre first), or
    /// any walkable tile of the area if all are taken; None if the area has no walkable
    /// tile. Avatars then stack rather than being refused: a full table is still joinable.
    pub fn free_tile_in(
        &self,
        area: usize,
        taken: &dyn Fn(u16, u16) -> bool,
    ) -> Option<(u16, u16)> {
        let a = self.areas.get(area)?;
        let mut tiles: Vec<(u16, u16)> = self
            .tiles_of(a)
            .filter(|&(x, y)| self.walkable(x, y))
            .collect();
        // Doubled coordinates keep the centre of an even-sized area integral.
        let (cx, cy) = (
            2 * i64::from(a.x) + i64::from(a.w),
            2 * i64::from(a.y) + i64::from(a.h),
        );
        tiles.sort_by_key(|&(x, y)| {
            let dx = 2 * i64::from(x) + 1 - cx;
            let dy = 2 * i64::from(y) + 1 - cy;
            (dx * dx + dy * dy, y, x)
        });
        tiles
            .iter()
            .copied()
            .find(|&(x, y)| !taken(x, y))
            .or_else(|| tiles.first().copied())
    }

    /// Shortest 4-neighbour path over walkable tiles, both ends included; None if
    /// unreachable.
    pub fn path(&self, from: (u16, u16), to: (u16, u16)) -> Option<Vec<(u16, u16)>> {
        if !self.walkable(from.0, from.1) || !self.walkable(to.0, to.1) || !self.side_ok() {
            return None;
        }
        let index = |(x, y): (u16, u16)| usize::from(y) * usize::from(self.width) + usize::from(x);
        let mut came_from: Vec<Option<(u16, u16)>> = vec![None; self.cells()];
        came_from[index(from)] = Some(from);
        let mut queue = VecDeque::from([from]);
        while let Some(tile) = queue.pop_front() {
            if tile == to {
                let mut path = vec![to];
                let mut at = to;
                while at != from {
                    at = came_from[index(at)]?;
                    path.push(at);
                }
                path.reverse();
                return Some(path);
            }
            for next in self.steps(tile) {
                if came_from[index(next)].is_none() {
                    came_from[index(next)] = Some(tile);
                    queue.push_back(next);
                }
            }
        }
        None
    }

    /// Checks the invariants (sizes, rows, areas in bounds, no overlaps, spawn walkable,
    /// every area has a walkable tile reachable from spawn); list of German problems.
    pub fn check(&self) -> Vec<String> {
        let label = |i: usize| match self.areas.get(i) {
            Some(a) if !a.name.trim().is_empty() => format!("Bereich „{}“", a.name),
            _ => format!("Bereich Nr. {}", i + 1),
        };
        if !self.side_ok() {
            return vec![format!(
                "Die Karte ist {}×{} Kacheln groß; erlaubt sind 1×1 bis {MAX_SIDE}×{MAX_SIDE}.",
                self.width, self.height
            )];
        }
        let mut problems = Vec::new();
        if self.rows.len() != usize::from(self.height) {
            problems.push(format!(
                "Die Karte hat {} Zeilen statt {}.",
                self.rows.len(),
                self.height
            ));
        }
        for (y, row) in self.rows.iter().enumerate() {
            if row.len() != usize::from(self.width) {
                problems.push(format!(
                    "Zeile {} ist {} Zeichen lang statt {}.",
                    y + 1,
                    row.chars().count(),
                    self.width
                ));
            }
            if row.bytes().any(|b| b != WALL && b != FLOOR) {
                problems.push(format!(
                    "Zeile {} enthält andere Zeichen als „#“ (Wand) und „.“ (Boden).",
                    y + 1
                ));
            }
        }
        for (i, a) in self.areas.iter().enumerate() {
            if a.w == 0 || a.h == 0 {
                problems.push(format!("{} hat keine Fläche.", label(i)));
            } else if u32::from(a.x) + u32::from(a.w) > u32::from(self.width)
                || u32::from(a.y) + u32::from(a.h) > u32::from(self.height)
            {
                problems.push(format!("{} liegt außerhalb der Karte.", label(i)));
            }
            if a.name.trim().is_empty() {
                problems.push(format!("{} hat keinen Namen.", label(i)));
            }
        }
        problems.extend(overlap_problems(&self.areas, &label));
        problems.extend(self.reach_problems(&label, true));
        problems
    }

    /// The map as the browser's canvas needs it: everything but `source`, which only the
    /// organizer's settings page shows.
    pub fn client_json(&self) -> Value {
        let mut value = serde_json::to_value(self).unwrap_or(Value::Null);
        if let Some(object) = value.as_object_mut() {
            object.remove("source");
        }
        value
    }

    /// Whether the sizes are sane enough to allocate a grid for.
    fn side_ok(&self) -> bool {
        (1..=MAX_SIDE).contains(&self.width) && (1..=MAX_SIDE).contains(&self.height)
    }

    fn cells(&self) -> usize {
        usize::from(self.width) * usize::from(self.height)
    }

    /// The tiles of an area that lie on the map; clamped, so a broken area cannot make
    /// us walk billions of tiles.
    fn tiles_of(&self, a: &Area) -> impl Iterator<Item = (u16, u16)> + use<> {
        let end = |start: u16, len: u16, side: u16| start.saturating_add(len).min(side);
        let (xs, xe) = (a.x, end(a.x, a.w, self.width));
        let (ys, ye) = (a.y, end(a.y, a.h, self.height));
        (ys..ye).flat_map(move |y| (xs..xe).map(move |x| (x, y)))
    }

    /// The walkable 4-neighbours of a tile.
    fn steps(&self, (x, y): (u16, u16)) -> impl Iterator<Item = (u16, u16)> + '_ {
        [
            x.checked_sub(1).map(|x| (x, y)),
            x.checked_add(1).map(|x| (x, y)),
            y.checked_sub(1).map(|y| (x, y)),
            y.checked_add(1).map(|y| (x, y)),
        ]
        .into_iter()
        .flatten()
        .filter(|&(x, y)| self.walkable(x, y))
    }

    /// Which tiles can be reached from `from` (indexed `y * width + x`).
    fn reachable_from(&self, from: (u16, u16)) -> Vec<bool> {
        let index = |(x, y): (u16, u16)| usize::from(y) * usize::from(self.width) + usize::from(x);
        let mut seen = vec![false; self.cells()];
        if !self.side_ok() || !self.walkable(from.0, from.1) {
            return seen;
        }
        seen[index(from)] = true;
        let mut queue = VecDeque::from([from]);
        while let Some(tile) = queue.pop_front() {
            for next in self.steps(tile) {
                if !seen[index(next)] {
                    seen[index(next)] = true;
                    queue.push_back(next);
                }
            }
        }
        seen
    }

    /// Spawn on floor, every area with floor, every area reachable (the last two
    /// only `with_spawn`); shared by [`VenueMap::check`] and the import, which names
    /// areas by their Tiled objects and may have found no start.
    fn reach_problems(&self, label: &dyn Fn(usize) -> String, with_spawn: bool) -> Vec<String> {
        let mut problems = Vec::new();
        let (sx, sy) = self.spawn;
        if with_spawn && !self.walkable(sx, sy) {
            let place = if sx < self.width && sy < self.height {
                "auf einer Wand"
            } else {
                "außerhalb der Karte"
            };
            problems.push(format!("Der Startpunkt ({sx}, {sy}) liegt {place}."));
        }
        // Without a spawn on floor every area would be "unreachable": one problem is enough.
        let spawn_ok = with_spawn && problems.is_empty();
        let reached = self.reachable_from(self.spawn);
        let index = |(x, y): (u16, u16)| usize::from(y) * usize::from(self.width) + usize::from(x);
        for (i, a) in self.areas.iter().enumerate() {
            let floor: Vec<(u16, u16)> = self
                .tiles_of(a)
                .filter(|&(x, y)| self.walkable(x, y))
                .collect();
            if floor.is_empty() {
                if a.w > 0 && a.h > 0 {
                    problems.push(format!("{} enthält keine begehbare Kachel.", label(i)));
                }
            } else if spawn_ok && !floor.iter().any(|&t| reached.get(index(t)) == Some(&true)) {
                problems.push(format!(
                    "{} ist vom Startpunkt aus nicht erreichbar.",
                    label(i)
                ));
            }
        }
        problems
    }
}

/// Pairs of overlapping areas and rooms with more than one area; both would make
/// [`VenueMap::area_at`] or [`VenueMap::area_of_room`] ambiguous.
fn overlap_problems(areas: &[Area], label: &dyn Fn(usize) -> String) -> Vec<String> {
    let mut problems = Vec::new();
    for (i, a) in areas.iter().enumerate() {
        for (j, b) in areas.iter().enumerate().skip(i + 1) {
            if a.overlaps(b) {
                problems.push(format!("{} und {} überschneiden sich.", label(i), label(j)));
            }
        }
    }
    let mut first_of_room: HashMap<&str, usize> = HashMap::new();
    for (i, a) in areas.iter().enumerate() {
        if let Some(room) = a.room() {
            if let Some(&first) = first_of_room.get(room) {
                problems.push(format!(
                    "Der Raum „{room}“ hat mehrere Bereiche: {} und {}.",
                    label(first),
                    label(i)
                ));
            } else {
                first_of_room.insert(room, i);
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::testutil::{generated_rooms, has, import, valid_map};
    use super::*;

    #[test]
    fn the_path_goes_around_the_inner_wall() {
        let map = import(&valid_map(), &HashMap::new()).expect("valid map");
        let path = map.path(map.spawn, (15, 4)).expect("reachable");
        assert_eq!(path.first(), Some(&map.spawn));
        assert_eq!(path.last(), Some(&(15, 4)));
        assert!(path.iter().all(|&(x, y)| map.walkable(x, y)));
        assert!(
            path.windows(2)
                .all(|s| s[0].0.abs_diff(s[1].0) + s[0].1.abs_diff(s[1].1) == 1)
        );
        assert!(path.contains(&(10, 13)), "through the opening");
        // Manhattan distance is 12 + 8 = 20; the detour via y = 13 is 12 + 1 + 9 = 22 steps.
        assert_eq!(path.len(), 23);
        assert_eq!(
            map.path(map.spawn, (10, 5)),
            None,
            "a wall is no destination"
        );
        assert_eq!(map.path((3, 12), (3, 12)), Some(vec![(3, 12)]));
    }

    #[test]
    fn free_tile_in_prefers_the_centre_and_skips_taken_tiles() {
        let map = import(&valid_map(), &HashMap::new()).expect("valid map");
        // Tisch 1 is x 2..6, y 2..5: its centre tiles are (3, 3) and (4, 3).
        assert_eq!(map.free_tile_in(0, &|_, _| false), Some((3, 3)));
        assert_eq!(map.free_tile_in(0, &|x, y| (x, y) == (3, 3)), Some((4, 3)));
        let taken = |x: u16, y: u16| !(x == 5 && y == 4);
        assert_eq!(map.free_tile_in(0, &taken), Some((5, 4)));
        // All taken: still a tile, avatars stack.
        assert_eq!(map.free_tile_in(0, &|_, _| true), Some((3, 3)));
        assert_eq!(map.free_tile_in(7, &|_, _| false), None);
    }

    #[test]
    fn check_names_broken_stored_maps() {
        let mut map = generate(&generated_rooms(2));
        map.areas[1].x = map.areas[0].x;
        map.areas[1].y = map.areas[0].y;
        map.rows[0].push('#');
        map.spawn = (0, 0);
        let problems = map.check();
        assert!(has(&problems, "überschneiden sich"), "{problems:?}");
        assert!(has(&problems, "Zeile 1 ist"), "{problems:?}");
        assert!(
            has(&problems, "Der Startpunkt (0, 0) liegt auf einer Wand."),
            "{problems:?}"
        );

        map.width = 60000;
        assert_eq!(map.check().len(), 1);
        assert_eq!(map.path((1, 1), (2, 2)), None);
    }

    #[test]
    fn the_map_round_trips_through_json_and_the_client_gets_no_source() {
        let map = generate(&generated_rooms(1));
        let text = serde_json::to_string(&map).expect("json");
        assert_eq!(serde_json::from_str::<VenueMap>(&text).expect("back"), map);
        let client = map.client_json();
        assert!(client.get("source").is_none());
        assert_eq!(
            client["areas"][0]["target"],
            json!({"kind": "room", "room": "plenum"})
        );
        let pinboard = serde_json::to_value(AreaTarget::Pinboard).expect("json");
        assert_eq!(pinboard, json!({"kind": "pinboard"}));
    }
}
