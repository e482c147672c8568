//! The venue map (K8): a tile grid of walls and floor with areas on it; walking into an
//! area joins its room. [`generate`] builds a default venue from an event's rooms,
//! [`import_tiled`] reads a map drawn in the Tiled editor. Both hand out only maps whose
//! [`VenueMap::check`] is empty, so the web layer can trust a stored map on every move.
//!
//! Coordinates are tiles, `(x, y)` with `(0, 0)` top left, as in Tiled.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::RoomKind;

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

/// At most this many rooms get an area in a generated map; with the largest areas (the
/// stage) 400 still fit into [`MAX_SIDE`]² (a test checks it). Further rooms stay
/// reachable from the room list.
const MAX_GENERATED_AREAS: usize = 400;

/// An area still to be placed by [`generate`].
struct Spot {
    target: AreaTarget,
    name: String,
    w: u32,
    h: u32,
}

/// Where [`layout`] put things, in u32 so that a too-large attempt cannot overflow.
struct Layout {
    width: u32,
    height: u32,
    /// Rows of the inner walls between the bands.
    walls: Vec<u32>,
    /// Band, index within the band, x, y.
    placed: Vec<(usize, usize, u32, u32)>,
}

/// The default venue for an event's rooms: stage (plenary rooms), one table area per
/// Table room, help desk, a pinboard wall (AreaTarget::Pinboard, name "Pinnwand"),
/// lounge, Other rooms too; outer walls, a few inner walls with wide openings so that it
/// looks like a venue and paths go around something; spawn at an entrance.
/// Deterministic; size grows with the number of rooms. Every area is reachable from
/// spawn and `check()` is empty for it.
///
/// The venue is three bands from top to bottom, separated by walls with openings: the
/// stage, the World Café tables, and the foyer (help desk, pinboard, lounge, other
/// rooms) with the entrance in the bottom wall. Inside a band there are no walls, so
/// every band is one connected floor and every opening joins two of them.
pub fn generate(rooms: &[RoomRef]) -> VenueMap {
    // A duplicated slug would give a room two areas; the first one wins.
    let mut seen = HashSet::new();
    let rooms: Vec<&RoomRef> = rooms
        .iter()
        .filter(|r| seen.insert(r.slug.as_str()))
        .take(MAX_GENERATED_AREAS)
        .collect();
    let spots = |kind: RoomKind, w: u32, h: u32| -> Vec<Spot> {
        rooms
            .iter()
            .filter(|r| r.kind == kind)
            .map(|r| Spot {
                target: AreaTarget::Room {
                    room: r.slug.clone(),
                },
                name: if r.name.trim().is_empty() {
                    r.slug.clone()
                } else {
                    r.name.clone()
                },
                w,
                h,
            })
            .collect()
    };
    let mut foyer = spots(RoomKind::Helpdesk, 6, 4);
    foyer.push(Spot {
        target: AreaTarget::Pinboard,
        name: "Pinnwand".to_string(),
        w: 8,
        h: 3,
    });
    foyer.extend(spots(RoomKind::Lounge, 10, 6));
    foyer.extend(spots(RoomKind::Other, 6, 5));
    let mut bands: Vec<Vec<Spot>> = vec![
        spots(RoomKind::Plenary, 14, 6),
        spots(RoomKind::Table, 6, 5),
        foyer,
    ];
    bands.retain(|band| !band.is_empty());

    // Grow the width with the square root of the number of areas, so that the venue
    // stays roughly square; widen further only if it would get too tall.
    let count: usize = bands.iter().map(Vec::len).sum();
    let max_inner = u32::from(MAX_SIDE) - 2;
    let mut inner = (8 * ceil_sqrt(count) + 12).clamp(36, max_inner);
    let mut plan = layout(inner, &bands);
    while plan.height > u32::from(MAX_SIDE) && inner < max_inner {
        inner = (inner + 8).min(max_inner);
        plan = layout(inner, &bands);
    }
    // Cannot happen below MAX_GENERATED_AREAS; a last resort that still yields a map.
    while plan.height > u32::from(MAX_SIDE) {
        let Some(band) = bands.iter_mut().rev().find(|b| b.len() > 1) else {
            break;
        };
        band.pop();
        plan = layout(inner, &bands);
    }
    build(&plan, &bands)
}

/// Smallest `n` with `n * n >= count`.
fn ceil_sqrt(count: usize) -> u32 {
    let mut n = 0u32;
    while (n as usize) * (n as usize) < count {
        n += 1;
    }
    n
}

/// Packs the bands' spots into rows ("shelves") of the given inner width, centred, with
/// two tiles between spots and one tile of margin to walls.
fn layout(inner: u32, bands: &[Vec<Spot>]) -> Layout {
    let usable = inner - 2;
    let mut placed = Vec::new();
    let mut walls = Vec::new();
    // The first floor row of the current band.
    let mut top = 1;
    for (b, band) in bands.iter().enumerate() {
        if b > 0 {
            walls.push(top);
            top += 1;
        }
        let mut y = top + 1;
        let mut i = 0;
        while i < band.len() {
            let mut used = band[i].w;
            let mut j = i + 1;
            while j < band.len() && used + 2 + band[j].w <= usable {
                used += 2 + band[j].w;
                j += 1;
            }
            let shelf_height = band[i..j].iter().map(|s| s.h).max().unwrap_or(0);
            let mut x = 2 + usable.saturating_sub(used) / 2;
            for (k, spot) in band.iter().enumerate().take(j).skip(i) {
                placed.push((b, k, x, y));
                x += spot.w + 2;
            }
            y += shelf_height + 2;
            i = j;
        }
        // One margin row below the last shelf; the next wall comes after it.
        top = y - 1;
    }
    Layout {
        width: inner + 2,
        // Below the foyer: a second free row in front of the entrance, then the wall.
        height: top + 2,
        walls,
        placed,
    }
}

/// Draws a [`Layout`]: outer walls, inner walls with openings, the entrance.
fn build(plan: &Layout, bands: &[Vec<Spot>]) -> VenueMap {
    let to_u16 = |v: u32| u16::try_from(v).unwrap_or(MAX_SIDE);
    let (width, height) = (plan.width as usize, plan.height as usize);
    let mut grid = vec![vec![FLOOR; width]; height];
    for (y, row) in grid.iter_mut().enumerate() {
        for (x, cell) in row.iter_mut().enumerate() {
            if x == 0 || y == 0 || x + 1 == width || y + 1 == height {
                *cell = WALL;
            }
        }
    }
    let inner = width - 2;
    // Openings of four tiles, about one per 14 tiles of wall, at least three.
    let openings = (inner / 14).max(3);
    for &wall in &plan.walls {
        let Some(row) = grid.get_mut(wall as usize) else {
            continue;
        };
        for cell in row.iter_mut().take(width - 1).skip(1) {
            *cell = WALL;
        }
        for k in 0..openings {
            let centre = 1 + (2 * k + 1) * inner / (2 * openings);
            for cell in row.iter_mut().take(centre + 2).skip(centre - 2) {
                *cell = FLOOR;
            }
        }
    }
    // The entrance: a gap in the bottom wall, newcomers appear in it.
    let door = width / 2;
    if let Some(row) = grid.last_mut() {
        for cell in row.iter_mut().take(door + 2).skip(door - 1) {
            *cell = FLOOR;
        }
    }
    let areas = plan
        .placed
        .iter()
        .filter_map(|&(b, k, x, y)| {
            let spot = bands.get(b)?.get(k)?;
            Some(Area {
                target: spot.target.clone(),
                name: spot.name.clone(),
                x: to_u16(x),
                y: to_u16(y),
                w: to_u16(spot.w),
                h: to_u16(spot.h),
            })
        })
        .collect();
    VenueMap {
        width: to_u16(plan.width),
        height: to_u16(plan.height),
        rows: grid
            .into_iter()
            .map(|row| row.into_iter().map(char::from).collect())
            .collect(),
        areas,
        spawn: (to_u16(door as u32), to_u16(plan.height - 1)),
        source: "generated".to_string(),
    }
}

/// Tile layers with these names (compared in lower case) are walls wherever they have a tile.
const WALL_LAYERS: [&str; 6] = ["walls", "wände", "waende", "wand", "collision", "kollision"];

/// Tiled keeps three flip flags in the top bits of a gid (and a fourth for hexagonal
/// maps); the tile itself is the rest.
const GID_MASK: u32 = 0x0FFF_FFFF;

/// Objects further out than this (in pixels) are absurd, and converting them to tiles
/// could overflow.
const MAX_PIXELS: f64 = 1.0e7;

/// Tiled writes coordinates as floats; without this slack, 95.99999 px on 32 px tiles
/// would spill into the next tile.
const SNAP: f64 = 1.0e-6;

/// A map drawn in the Tiled editor (JSON map format, .tmj), with external tilesets (.tsj
/// JSON) given by file name as referenced in the map's `source`. Err = every problem
/// found (German sentences, each names the object, layer or tileset), not only the
/// first, so that an organizer can fix the file in one go.
pub fn import_tiled(
    file_name: &str,
    tmj: &[u8],
    tilesets: &HashMap<String, Vec<u8>>,
    rooms: &[RoomRef],
) -> Result<VenueMap, Vec<String>> {
    let what = format!("Die Datei „{file_name}“");
    if tmj.len() > MAX_FILE_BYTES {
        return Err(vec![too_large(&what, tmj.len())]);
    }
    let doc: Value = serde_json::from_slice(tmj).map_err(|e| vec![json_problem(&what, &e)])?;
    let Some(doc) = doc.as_object() else {
        return Err(vec![format!(
            "{what} ist keine Tiled-Karte (kein JSON-Objekt)."
        )]);
    };
    let mut import = Import {
        problems: Vec::new(),
        rooms,
        width: None,
        height: None,
        tile_width: None,
        tile_height: None,
        tilesets: Vec::new(),
        walls: None,
        objects: Vec::new(),
        gids_unknowable: false,
    };
    import.header(doc, &what);
    import.tilesets(doc, tilesets);
    match doc.get("layers") {
        Some(layers) => import.layers(layers, "Die Karte"),
        None => import.problem("Die Karte hat keine Ebenen (layers).".to_string()),
    }
    import.finish(file_name)
}

/// What an import has found so far; every step adds problems and goes on.
struct Import<'a> {
    problems: Vec<String>,
    rooms: &'a [RoomRef],
    /// Sizes, None when missing or absurd (then the checks that need them are skipped).
    width: Option<u16>,
    height: Option<u16>,
    tile_width: Option<f64>,
    tile_height: Option<f64>,
    /// Sorted by `first_gid`.
    tilesets: Vec<Tileset>,
    /// `y * width + x`; present once the size is known.
    walls: Option<Vec<bool>>,
    objects: Vec<Object>,
    /// Set when a tileset entry was unusable: then no gid can be said to be stray.
    gids_unknowable: bool,
}

struct Tileset {
    first_gid: u32,
    /// None if the tileset could not be read: then its tiles count as known (no
    /// follow-up problem per tile) and as not colliding.
    count: Option<u32>,
    /// Local ids of tiles with the property `collides`.
    collides: HashSet<u32>,
}

/// An object that matters to the venue: an area or the start.
struct Object {
    /// "Objekt „Tisch 1“", for messages.
    label: String,
    name: String,
    /// None for the start.
    target: Option<AreaTarget>,
    /// x, y, width, height in pixels, top left.
    rect: Option<(f64, f64, f64, f64)>,
}

enum Gid {
    /// Belongs to no tileset.
    Stray,
    Tile {
        collides: bool,
    },
}

impl Import<'_> {
    fn problem(&mut self, problem: String) {
        self.problems.push(problem);
    }

    fn header(&mut self, doc: &Map<String, Value>, what: &str) {
        match doc.get("type").and_then(Value::as_str) {
            Some("map") | None => {}
            Some(other) => self.problem(format!(
                "{what} ist keine Tiled-Karte, sondern vom Typ „{other}“."
            )),
        }
        match doc.get("orientation").and_then(Value::as_str) {
            Some("orthogonal") => {}
            Some(other) => self.problem(format!(
                "Die Karte ist „{other}“ ausgerichtet; unterstützt werden nur orthogonale Karten."
            )),
            None => self.problem(
                "Die Ausrichtung der Karte (orientation) fehlt; unterstützt werden nur orthogonale Karten."
                    .to_string(),
            ),
        }
        if doc.get("infinite").and_then(Value::as_bool) == Some(true) {
            self.problem(
                "Unendliche Karten werden nicht unterstützt; bitte in Tiled unter Karte → \
                 Karteneigenschaften „Unendlich“ ausschalten."
                    .to_string(),
            );
        }
        let side = u32::from(MAX_SIDE);
        self.width = self.size(doc, "width", "Karte", "Breite", "Kacheln", (1, side));
        self.height = self.size(doc, "height", "Karte", "Höhe", "Kacheln", (1, side));
        let tile = (8, 256);
        self.tile_width = self
            .size(doc, "tilewidth", "Kacheln", "Kachelbreite", "Pixel", tile)
            .map(f64::from);
        self.tile_height = self
            .size(doc, "tileheight", "Kacheln", "Kachelhöhe", "Pixel", tile)
            .map(f64::from);
        if let (Some(w), Some(h)) = (self.width, self.height) {
            self.walls = Some(vec![false; usize::from(w) * usize::from(h)]);
        }
    }

    /// Reads a size field; `whole` and `part` name it in messages ("Karte zu groß:
    /// Breite 100000 Kacheln, höchstens 256 erlaubt.").
    fn size(
        &mut self,
        doc: &Map<String, Value>,
        key: &str,
        whole: &str,
        part: &str,
        unit: &str,
        (low, high): (u32, u32),
    ) -> Option<u16> {
        match integer(doc.get(key)) {
            None => self.problem(format!("{part} der {whole} ({key}) fehlt.")),
            Some(Err(shown)) => self.problem(format!(
                "{part} der {whole} ({key}) ist keine brauchbare ganze Zahl: {shown}."
            )),
            Some(Ok(v)) if v > i64::from(high) => self.problem(format!(
                "{whole} zu groß: {part} {v} {unit}, höchstens {high} erlaubt."
            )),
            Some(Ok(v)) if v < i64::from(low) => self.problem(format!(
                "{whole} zu klein: {part} {v} {unit}, mindestens {low} nötig."
            )),
            Some(Ok(v)) => return u16::try_from(v).ok(),
        }
        None
    }

    fn tilesets(&mut self, doc: &Map<String, Value>, files: &HashMap<String, Vec<u8>>) {
        let Some(list) = doc.get("tilesets") else {
            return;
        };
        let Some(list) = list.as_array() else {
            self.problem("Die Tilesets der Karte (tilesets) sind keine Liste.".to_string());
            self.gids_unknowable = true;
            return;
        };
        for (i, entry) in list.iter().enumerate() {
            let number = format!("Tileset Nr. {}", i + 1);
            let Some(entry) = entry.as_object() else {
                self.problem(format!("{number} ist kein JSON-Objekt."));
                self.gids_unknowable = true;
                continue;
            };
            let first_gid = integer(entry.get("firstgid"));
            if !matches!(first_gid, Some(Ok(gid)) if (1..=i64::from(GID_MASK)).contains(&gid)) {
                self.gids_unknowable = true;
            }
            let first_gid = match first_gid {
                Some(Ok(gid)) if (1..=i64::from(GID_MASK)).contains(&gid) => gid as u32,
                None => {
                    self.problem(format!(
                        "{number}: Die erste Kachelnummer (firstgid) fehlt."
                    ));
                    continue;
                }
                Some(Ok(gid)) => {
                    self.problem(format!(
                        "{number}: Die erste Kachelnummer (firstgid) {gid} ist ungültig."
                    ));
                    continue;
                }
                Some(Err(shown)) => {
                    self.problem(format!(
                        "{number}: Die erste Kachelnummer (firstgid) ist keine Zahl: {shown}."
                    ));
                    continue;
                }
            };
            let tileset = match entry.get("source") {
                None => {
                    let label = match entry.get("name").and_then(Value::as_str) {
                        Some(name) if !name.trim().is_empty() => format!("Tileset „{name}“"),
                        _ => number,
                    };
                    self.tileset_body(entry, &label, first_gid)
                }
                Some(Value::String(source)) => self.external_tileset(source, files, first_gid),
                Some(other) => {
                    self.problem(format!(
                        "{number}: Die Quelle (source) ist kein Dateiname: {}.",
                        shown(other)
                    ));
                    unread(first_gid)
                }
            };
            self.tilesets.push(tileset);
        }
        self.tilesets.sort_by_key(|t| t.first_gid);
    }

    fn external_tileset(
        &mut self,
        source: &str,
        files: &HashMap<String, Vec<u8>>,
        first_gid: u32,
    ) -> Tileset {
        let label = format!("Tileset „{source}“");
        let lower = source.to_lowercase();
        if lower.ends_with(".tsx") || lower.ends_with(".xml") {
            self.problem(format!(
                "{label} ist im XML-Format; unterstützt werden nur JSON-Tilesets (.tsj). \
                 Bitte in Tiled als JSON exportieren und die Karte darauf verweisen lassen."
            ));
            return unread(first_gid);
        }
        // The map may point into a folder ("../tiles/x.tsj") while uploads are flat, and
        // Windows users' file names may differ in case.
        let base = basename(source);
        let bytes = files.get(source).or_else(|| files.get(base)).or_else(|| {
            files
                .iter()
                .find(|(name, _)| basename(name).eq_ignore_ascii_case(base))
                .map(|(_, bytes)| bytes)
        });
        let Some(bytes) = bytes else {
            self.problem(format!("{label} fehlt; bitte die Datei mit hochladen."));
            return unread(first_gid);
        };
        if bytes.len() > MAX_FILE_BYTES {
            self.problem(too_large(&label, bytes.len()));
            return unread(first_gid);
        }
        match serde_json::from_slice::<Value>(bytes) {
            Err(e) => {
                self.problem(json_problem(&label, &e));
                unread(first_gid)
            }
            Ok(Value::Object(body)) => {
                if let Some(kind) = body.get("type").and_then(Value::as_str)
                    && kind != "tileset"
                {
                    self.problem(format!(
                        "{label} ist kein Tileset, sondern vom Typ „{kind}“."
                    ));
                    return unread(first_gid);
                }
                self.tileset_body(&body, &label, first_gid)
            }
            Ok(_) => {
                self.problem(format!("{label} ist kein Tileset (kein JSON-Objekt)."));
                unread(first_gid)
            }
        }
    }

    /// The part of a tileset that is the same embedded and external.
    fn tileset_body(&mut self, body: &Map<String, Value>, label: &str, first_gid: u32) -> Tileset {
        let count = match integer(body.get("tilecount")) {
            Some(Ok(n)) if (0..=i64::from(GID_MASK)).contains(&n) => Some(n as u32),
            None => {
                self.problem(format!(
                    "{label}: Die Anzahl der Kacheln (tilecount) fehlt."
                ));
                None
            }
            Some(Ok(n)) => {
                self.problem(format!("{label}: Die Anzahl der Kacheln {n} ist ungültig."));
                None
            }
            Some(Err(shown)) => {
                self.problem(format!(
                    "{label}: Die Anzahl der Kacheln (tilecount) ist keine Zahl: {shown}."
                ));
                None
            }
        };
        let mut collides = HashSet::new();
        match body.get("tiles") {
            None => {}
            Some(Value::Array(tiles)) => {
                for tile in tiles {
                    let Some(tile) = tile.as_object() else {
                        continue;
                    };
                    let id = tile
                        .get("id")
                        .and_then(Value::as_u64)
                        .and_then(|id| u32::try_from(id).ok());
                    if let Some(id) = id
                        && property(tile, "collides").and_then(Value::as_bool) == Some(true)
                    {
                        collides.insert(id);
                    }
                }
            }
            Some(_) => self.problem(format!("{label}: Die Kacheln (tiles) sind keine Liste.")),
        }
        Tileset {
            first_gid,
            count,
            collides,
        }
    }

    fn gid(&self, gid: u32) -> Gid {
        // The owning tileset is the one with the largest first gid not above the gid.
        let after = self.tilesets.partition_point(|t| t.first_gid <= gid);
        let Some(tileset) = after.checked_sub(1).and_then(|i| self.tilesets.get(i)) else {
            return Gid::Stray;
        };
        let local = gid - tileset.first_gid;
        match tileset.count {
            None => Gid::Tile { collides: false },
            Some(count) if local < count => Gid::Tile {
                collides: tileset.collides.contains(&local),
            },
            Some(_) => Gid::Stray,
        }
    }

    /// Walks a list of layers, descending into groups.
    fn layers(&mut self, layers: &Value, parent: &str) {
        let Some(layers) = layers.as_array() else {
            self.problem(format!("{parent}: Die Ebenen (layers) sind keine Liste."));
            return;
        };
        for (i, layer) in layers.iter().enumerate() {
            let Some(layer) = layer.as_object() else {
                self.problem(format!(
                    "{parent}: Ebene Nr. {} ist kein JSON-Objekt.",
                    i + 1
                ));
                continue;
            };
            let name = layer.get("name").and_then(Value::as_str).unwrap_or("");
            let label = if name.trim().is_empty() {
                format!("Ebene Nr. {}", i + 1)
            } else {
                format!("Ebene „{name}“")
            };
            match layer.get("type").and_then(Value::as_str) {
                Some("tilelayer") => self.tile_layer(layer, name, &label),
                Some("objectgroup") => self.object_layer(layer, &label),
                Some("group") => {
                    if let Some(children) = layer.get("layers") {
                        self.layers(children, &label);
                    }
                }
                // Image layers and anything newer do not change the venue.
                _ => {}
            }
        }
    }

    fn tile_layer(&mut self, layer: &Map<String, Value>, name: &str, label: &str) {
        let Some(gids) = self.layer_data(layer, label) else {
            return;
        };
        let mut stray = BTreeSet::new();
        let mut collides = Vec::with_capacity(gids.len());
        for &raw in &gids {
            let gid = raw & GID_MASK;
            let wall = match self.gid(gid) {
                _ if gid == 0 => false,
                Gid::Tile { collides } => collides,
                Gid::Stray => {
                    stray.insert(gid);
                    false
                }
            };
            collides.push(wall);
        }
        if self.gids_unknowable {
            stray.clear();
        }
        // A wrong firstgid makes every tile stray; ten examples say enough.
        for gid in stray.iter().take(10) {
            self.problem(format!("Kachel {gid} in {label} gehört zu keinem Tileset."));
        }
        if stray.len() > 10 {
            self.problem(format!(
                "{label}: {} weitere Kachelnummern gehören zu keinem Tileset.",
                stray.len() - 10
            ));
        }
        let (Some(width), Some(height)) = (self.width, self.height) else {
            return;
        };
        let Some(walls) = self.walls.as_mut() else {
            return;
        };
        if gids.len() != walls.len() {
            self.problems.push(format!(
                "{label} hat {} Kacheln, die Karte aber {width}×{height} = {}.",
                gids.len(),
                walls.len()
            ));
            return;
        }
        let wall_layer = WALL_LAYERS.contains(&name.trim().to_lowercase().as_str());
        for ((cell, &raw), &collides) in walls.iter_mut().zip(&gids).zip(&collides) {
            if collides || (wall_layer && raw & GID_MASK != 0) {
                *cell = true;
            }
        }
    }

    /// The gids of a tile layer, as CSV-style array or uncompressed base64.
    fn layer_data(&mut self, layer: &Map<String, Value>, label: &str) -> Option<Vec<u32>> {
        let Some(data) = layer.get("data") else {
            self.problem(format!("{label} hat keine Kacheldaten (data)."));
            return None;
        };
        match layer
            .get("encoding")
            .and_then(Value::as_str)
            .unwrap_or("csv")
        {
            "csv" => {
                let Some(items) = data.as_array() else {
                    self.problem(format!("{label}: Die Kacheldaten sind keine Liste."));
                    return None;
                };
                let gids: Vec<Option<u32>> = items
                    .iter()
                    .map(|v| v.as_u64().and_then(|g| u32::try_from(g).ok()))
                    .collect();
                if gids.iter().any(Option::is_none) {
                    self.problem(format!(
                        "{label} enthält ungültige Kachelnummern (erlaubt sind ganze Zahlen ab 0)."
                    ));
                    return None;
                }
                Some(gids.into_iter().flatten().collect())
            }
            "base64" => {
                let compression = layer.get("compression").and_then(Value::as_str);
                if let Some(compression) = compression.filter(|c| !c.is_empty()) {
                    self.problem(format!(
                        "{label} ist komprimiert ({compression}); bitte in Tiled als Format \
                         der Kachelebenen „Base64 (unkomprimiert)“ oder „CSV“ wählen."
                    ));
                    return None;
                }
                let bytes = data.as_str().and_then(|s| STANDARD.decode(s.trim()).ok());
                match bytes {
                    Some(bytes) if bytes.len() % 4 == 0 => Some(
                        bytes
                            .chunks_exact(4)
                            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                            .collect(),
                    ),
                    _ => {
                        self.problem(format!("{label}: Die Base64-Kacheldaten sind fehlerhaft."));
                        None
                    }
                }
            }
            other => {
                self.problem(format!(
                    "{label}: Die Kodierung „{other}“ wird nicht unterstützt (nur CSV und Base64)."
                ));
                None
            }
        }
    }

    fn object_layer(&mut self, layer: &Map<String, Value>, label: &str) {
        match layer.get("objects") {
            None => {}
            Some(Value::Array(objects)) => {
                for (i, object) in objects.iter().enumerate() {
                    match object.as_object() {
                        Some(object) => self.object(object, label),
                        None => self.problem(format!(
                            "{label}: Objekt Nr. {} ist kein JSON-Objekt.",
                            i + 1
                        )),
                    }
                }
            }
            Some(_) => self.problem(format!("{label}: Die Objekte (objects) sind keine Liste.")),
        }
    }

    /// Keeps objects that are areas (property `room` or `pinboard`, class "pinboard") or
    /// the start (named or classed "start"/"spawn"); everything else is decoration.
    fn object(&mut self, object: &Map<String, Value>, layer: &str) {
        let name = object
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .trim();
        // Tiled 1.9 wrote "class", 1.10 writes "type" again.
        let class = ["type", "class"]
            .iter()
            .filter_map(|key| object.get(*key).and_then(Value::as_str))
            .find(|c| !c.is_empty())
            .unwrap_or("")
            .to_lowercase();
        let label = if !name.is_empty() {
            format!("Objekt „{name}“")
        } else if let Some(id) = object.get("id").and_then(Value::as_u64) {
            format!("Objekt Nr. {id} in {layer}")
        } else {
            format!("Ein Objekt ohne Namen in {layer}")
        };
        let pinboard = property(object, "pinboard").and_then(Value::as_bool) == Some(true)
            || class == "pinboard";
        let target = match property(object, "room") {
            Some(Value::String(slug)) if !slug.trim().is_empty() => Some(AreaTarget::Room {
                room: slug.trim().to_string(),
            }),
            Some(other) => {
                self.problem(format!(
                    "{label}: Die Eigenschaft „room“ muss der Kurzname eines Raums sein, \
                     nicht {}.",
                    shown(other)
                ));
                return;
            }
            None if pinboard => Some(AreaTarget::Pinboard),
            None => None,
        };
        let start = ["start", "spawn"].contains(&name.to_lowercase().as_str())
            || ["start", "spawn"].contains(&class.as_str());
        if target.is_none() && !start {
            return;
        }
        let rect = self.rect(object, &label);
        self.objects.push(Object {
            label,
            name: name.to_string(),
            target,
            rect,
        });
    }

    fn rect(&mut self, object: &Map<String, Value>, label: &str) -> Option<(f64, f64, f64, f64)> {
        let mut read = |key: &str| match object.get(key) {
            None => Some(0.0),
            Some(v) => match v.as_f64() {
                Some(n) if n.is_finite() && n.abs() <= MAX_PIXELS => Some(n),
                _ => {
                    self.problems.push(format!(
                        "{label}: Die Angabe „{key}“ ist unbrauchbar: {}.",
                        shown(v)
                    ));
                    None
                }
            },
        };
        let (x, y, w, h) = (read("x")?, read("y")?, read("width")?, read("height")?);
        // Tile objects are anchored at their bottom left corner.
        let y = if object.contains_key("gid") { y - h } else { y };
        Some((x, y, w, h))
    }

    /// Turns the collected objects into areas and a start, checks them, builds the map.
    fn finish(mut self, file_name: &str) -> Result<VenueMap, Vec<String>> {
        let objects = std::mem::take(&mut self.objects);
        // Areas outside the map still count for overlaps and rooms with two areas, so
        // that fixing one problem does not reveal the next.
        let (mut shapes, mut shape_labels) = (Vec::new(), Vec::new());
        let (mut areas, mut labels) = (Vec::new(), Vec::new());
        for object in objects.iter().filter(|o| o.target.is_some()) {
            if let Some((area, inside)) = self.area(object) {
                if inside {
                    areas.push(area.clone());
                    labels.push(object.label.clone());
                }
                shapes.push(area);
                shape_labels.push(object.label.clone());
            }
        }
        let shape_label = |i: usize| shape_labels.get(i).cloned().unwrap_or_default();
        self.problems
            .extend(overlap_problems(&shapes, &shape_label));
        let label = |i: usize| labels.get(i).cloned().unwrap_or_default();

        let (Some(width), Some(height), Some(walls)) = (self.width, self.height, &self.walls)
        else {
            return Err(self.problems);
        };
        let rows: Vec<String> = walls
            .chunks(usize::from(width))
            .map(|row| row.iter().map(|&w| if w { '#' } else { '.' }).collect())
            .collect();
        let mut map = VenueMap {
            width,
            height,
            rows,
            areas,
            spawn: (0, 0),
            source: file_name.to_string(),
        };
        let spawn = self.spawn(&objects, &map);
        map.spawn = spawn.unwrap_or_default();
        self.problems
            .extend(map.reach_problems(&label, spawn.is_some()));
        if !self.problems.is_empty() {
            return Err(self.problems);
        }
        // A safety net: the import's own checks should have caught everything.
        let problems = map.check();
        if problems.is_empty() {
            Ok(map)
        } else {
            Err(problems)
        }
    }

    /// An object's area in tiles and whether it lies on the map, or None after
    /// reporting why it cannot be one.
    fn area(&mut self, object: &Object) -> Option<(Area, bool)> {
        let label = &object.label;
        let target = object.target.clone()?;
        let room_name = match &target {
            AreaTarget::Room { room } => {
                let known = self.rooms.iter().find(|r| r.slug == *room);
                if known.is_none() {
                    self.problem(format!(
                        "{label}: Raum „{room}“ gibt es in dieser Veranstaltung nicht."
                    ));
                }
                known.map_or_else(|| room.clone(), |r| r.name.clone())
            }
            AreaTarget::Pinboard => "Pinnwand".to_string(),
        };
        let (x, y, w, h) = object.rect?;
        if w <= 0.0 || h <= 0.0 {
            self.problem(format!(
                "{label} hat keine Fläche; Bereiche bitte als Rechteck zeichnen."
            ));
            return None;
        }
        let (tw, th) = (self.tile_width?, self.tile_height?);
        let (x0, x1) = ((x / tw + SNAP).floor(), ((x + w) / tw - SNAP).ceil());
        let (y0, y1) = ((y / th + SNAP).floor(), ((y + h) / th - SNAP).ceil());
        let beyond = |end: f64, side: Option<u16>| side.is_some_and(|s| end > f64::from(s));
        let inside = !(beyond(x1, self.width) || beyond(y1, self.height));
        let limit = f64::from(u16::MAX);
        if x0 < 0.0 || y0 < 0.0 || x1 > limit || y1 > limit || !inside {
            self.problem(format!("{label} liegt (teilweise) außerhalb der Karte."));
        }
        if x0 < 0.0 || y0 < 0.0 || x1 > limit || y1 > limit {
            return None;
        }
        // In range by the checks above, so the casts are exact.
        let (x0, y0) = (x0 as u16, y0 as u16);
        let (w, h) = (
            (x1 as u16).saturating_sub(x0),
            (y1 as u16).saturating_sub(y0),
        );
        let area = Area {
            target,
            name: if object.name.is_empty() {
                room_name
            } else {
                object.name.clone()
            },
            x: x0,
            y: y0,
            w: w.max(1),
            h: h.max(1),
        };
        Some((area, inside))
    }

    /// The start object's tile or, without one, the first floor tile in reading order
    /// outside all areas; None after reporting a problem.
    fn spawn(&mut self, objects: &[Object], map: &VenueMap) -> Option<(u16, u16)> {
        if let Some(start) = objects.iter().find(|o| o.target.is_none()) {
            let (x, y, w, h) = start.rect?;
            let (tw, th) = (self.tile_width?, self.tile_height?);
            // A point is its own tile; a rectangle counts with its centre.
            let (tx, ty) = (((x + w / 2.0) / tw).floor(), ((y + h / 2.0) / th).floor());
            if tx < 0.0 || ty < 0.0 || tx >= f64::from(map.width) || ty >= f64::from(map.height) {
                self.problem(format!("{} liegt außerhalb der Karte.", start.label));
                return None;
            }
            return Some((tx as u16, ty as u16));
        }
        let free = (0..map.height)
            .flat_map(|y| (0..map.width).map(move |x| (x, y)))
            .find(|&(x, y)| map.walkable(x, y) && map.area_at(x, y).is_none());
        if free.is_none() {
            self.problem(
                "Die Karte hat keinen Startpunkt: Bitte ein Objekt „start“ anlegen oder eine \
                 begehbare Kachel außerhalb der Bereiche frei lassen."
                    .to_string(),
            );
        }
        free
    }
}

/// A tileset whose file could not be read; see [`Tileset::count`].
fn unread(first_gid: u32) -> Tileset {
    Tileset {
        first_gid,
        count: None,
        collides: HashSet::new(),
    }
}

/// An integer field: None if missing, Err with the value shown if it is not a whole
/// number (Tiled writes `20`, hand edits may give `20.0`, which is fine).
fn integer(value: Option<&Value>) -> Option<Result<i64, String>> {
    let value = value?;
    let whole = value.as_i64().or_else(|| {
        value
            .as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() < 1.0e15)
            .map(|f| f as i64)
    });
    Some(whole.ok_or_else(|| shown(value)))
}

/// A Tiled custom property: the 1.10 list of `{name, type, value}`, or the object map of
/// files written before Tiled 1.2.
fn property<'v>(holder: &'v Map<String, Value>, name: &str) -> Option<&'v Value> {
    match holder.get("properties")? {
        Value::Array(list) => list
            .iter()
            .find(|p| p.get("name").and_then(Value::as_str) == Some(name))
            .and_then(|p| p.get("value")),
        Value::Object(map) => map.get(name),
        _ => None,
    }
}

/// A value for a message, cut short so a stray array does not flood it.
fn shown(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 40 {
        format!("{}…", text.chars().take(40).collect::<String>())
    } else {
        text
    }
}

fn basename(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

fn too_large(what: &str, bytes: usize) -> String {
    format!(
        "{what} ist mit {:.1} MiB zu groß; höchstens {} MiB sind erlaubt.",
        bytes as f64 / (1024.0 * 1024.0),
        MAX_FILE_BYTES / (1024 * 1024)
    )
}

/// serde's error with its position, in German.
fn json_problem(what: &str, e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let kind = match e.classify() {
        Category::Eof => "unerwartetes Ende",
        Category::Syntax => "Syntaxfehler",
        Category::Data | Category::Io => "ungültiger Wert",
    };
    format!(
        "{what} ist kein gültiges JSON ({kind} in Zeile {}, Spalte {}).",
        e.line(),
        e.column()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn room(slug: &str, name: &str, kind: RoomKind) -> RoomRef {
        RoomRef {
            slug: slug.to_string(),
            name: name.to_string(),
            kind,
        }
    }

    fn rooms() -> Vec<RoomRef> {
        vec![
            room("plenum", "Plenum", RoomKind::Plenary),
            room("tisch-1", "Tisch 1", RoomKind::Table),
            room("tisch-2", "Tisch 2", RoomKind::Table),
            room("hilfe", "Hilfe", RoomKind::Helpdesk),
        ]
    }

    const W: usize = 20;
    const H: usize = 15;

    /// Outer walls and a wall down x = 10 from y = 1 to 12, open at y = 13.
    fn wall_gids(wall: u32) -> Vec<u32> {
        let mut gids = vec![0; W * H];
        for y in 0..H {
            for x in 0..W {
                if x == 0 || y == 0 || x == W - 1 || y == H - 1 || (x == 10 && y <= 12) {
                    gids[y * W + x] = wall;
                }
            }
        }
        gids
    }

    fn embedded_tileset() -> Value {
        json!({
            "firstgid": 1, "name": "Basis", "tilecount": 16, "columns": 4,
            "tilewidth": 32, "tileheight": 32,
            "tiles": [{"id": 3, "properties": [{"name": "collides", "type": "bool", "value": true}]}]
        })
    }

    fn rect(id: u32, name: &str, tiles: (u32, u32, u32, u32), props: Value) -> Value {
        let (x, y, w, h) = tiles;
        json!({"id": id, "name": name, "type": "", "x": x * 32, "y": y * 32,
               "width": w * 32, "height": h * 32, "rotation": 0, "visible": true,
               "properties": props})
    }

    fn room_prop(slug: &str) -> Value {
        json!([{"name": "room", "type": "string", "value": slug}])
    }

    /// A valid 20×15 map: floor, walls (in a group), two tables and a start.
    fn valid_map() -> Value {
        json!({
            "type": "map", "version": "1.10", "tiledversion": "1.10.2",
            "orientation": "orthogonal", "renderorder": "right-down", "infinite": false,
            "width": W, "height": H, "tilewidth": 32, "tileheight": 32,
            "layers": [
                {"id": 1, "name": "Boden", "type": "tilelayer", "width": W, "height": H,
                 "x": 0, "y": 0, "opacity": 1, "visible": true, "data": vec![1; W * H]},
                {"id": 2, "name": "Bauten", "type": "group", "layers": [
                    {"id": 3, "name": "Wände", "type": "tilelayer", "width": W, "height": H,
                     "data": wall_gids(2)}
                ]},
                {"id": 4, "name": "Bereiche", "type": "objectgroup", "objects": [
                    rect(1, "Tisch 1", (2, 2, 4, 3), room_prop("tisch-1")),
                    rect(2, "", (13, 2, 5, 4), room_prop("tisch-2")),
                    {"id": 3, "name": "Start", "point": true, "x": 3 * 32 + 16, "y": 12 * 32 + 16,
                     "width": 0, "height": 0},
                    {"id": 4, "name": "Pflanze", "x": 0, "y": 0, "width": 32, "height": 32}
                ]}
            ],
            "tilesets": [embedded_tileset()]
        })
    }

    fn import(doc: &Value, files: &HashMap<String, Vec<u8>>) -> Result<VenueMap, Vec<String>> {
        let bytes = serde_json::to_vec(doc).expect("json");
        import_tiled("halle.tmj", &bytes, files, &rooms())
    }

    fn has(problems: &[String], part: &str) -> bool {
        problems.iter().any(|p| p.contains(part))
    }

    #[test]
    fn a_valid_tiled_map_imports_with_rows_areas_and_start() {
        let map = import(&valid_map(), &HashMap::new()).expect("valid map");
        assert_eq!((map.width, map.height), (20, 15));
        assert_eq!(map.rows[0], "#".repeat(20));
        assert_eq!(map.rows[5], "#.........#........#");
        assert_eq!(map.rows[13], "#..................#");
        assert_eq!(map.spawn, (3, 12));
        assert_eq!(map.source, "halle.tmj");
        assert_eq!(
            map.areas,
            vec![
                Area {
                    target: AreaTarget::Room {
                        room: "tisch-1".into()
                    },
                    name: "Tisch 1".into(),
                    x: 2,
                    y: 2,
                    w: 4,
                    h: 3
                },
                Area {
                    target: AreaTarget::Room {
                        room: "tisch-2".into()
                    },
                    // No object name: the room's name.
                    name: "Tisch 2".into(),
                    x: 13,
                    y: 2,
                    w: 5,
                    h: 4
                },
            ]
        );
        assert!(map.check().is_empty());
        assert_eq!(map.area_of_room("tisch-2"), Some(1));
        assert_eq!(map.area_at(14, 3), Some(1));
        assert_eq!(map.area_at(9, 9), None);
    }

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
    fn an_external_tileset_is_found_by_its_base_name_and_collides_makes_walls() {
        let mut doc = valid_map();
        doc["tilesets"] = json!([{"firstgid": 1, "source": "../kacheln/basis.tsj"}]);
        // No wall layer; the tile with id 3 (gid 4) collides.
        let mut floor = vec![1u32; W * H];
        floor[7 * W + 7] = 4;
        doc["layers"][0]["data"] = json!(floor);
        doc["layers"][1]["layers"][0]["name"] = json!("Deko");
        let mut tileset = embedded_tileset();
        tileset["type"] = json!("tileset");
        let files = HashMap::from([(
            "basis.tsj".to_string(),
            serde_json::to_vec(&tileset).expect("json"),
        )]);
        let map = import(&doc, &files).expect("imports");
        assert!(!map.walkable(7, 7), "collides");
        assert!(map.walkable(10, 5), "the layer Deko is no wall layer");
        assert_eq!(map.rows.iter().filter(|r| r.contains('#')).count(), 1);
    }

    #[test]
    fn a_missing_or_xml_tileset_is_named() {
        let mut doc = valid_map();
        doc["tilesets"] = json!([
            {"firstgid": 1, "source": "basis.tsj"},
            {"firstgid": 17, "source": "moebel.tsx"}
        ]);
        let problems = import(&doc, &HashMap::new()).expect_err("tilesets missing");
        assert!(has(&problems, "Tileset „basis.tsj“ fehlt"), "{problems:?}");
        assert!(
            has(&problems, "Tileset „moebel.tsx“ ist im XML-Format"),
            "{problems:?}"
        );
        // Tiles of an unreadable tileset are not reported once more.
        assert_eq!(problems.len(), 2, "{problems:?}");
    }

    #[test]
    fn a_broken_map_reports_every_problem_at_once() {
        let mut doc = valid_map();
        doc["width"] = json!(100000);
        doc["height"] = json!(2);
        doc["tilesets"] = json!([embedded_tileset(), {"firstgid": 17, "source": "fehlt.tsj"}]);
        doc["layers"][2]["objects"] = json!([
            rect(1, "Tisch 9", (2, 2, 4, 3), room_prop("tisch-9")),
            rect(2, "Tisch 1", (20, 0, 6, 5), room_prop("tisch-1")),
            rect(3, "Tisch 2", (24, 3, 6, 5), room_prop("tisch-2")),
            rect(4, "Noch mal Tisch 2", (40, 0, 6, 5), room_prop("tisch-2")),
        ]);
        let problems = import(&doc, &HashMap::new()).expect_err("broken");
        for part in [
            "Karte zu groß: Breite 100000 Kacheln, höchstens 256 erlaubt.",
            "Objekt „Tisch 9“: Raum „tisch-9“ gibt es in dieser Veranstaltung nicht.",
            "Objekt „Tisch 1“ und Objekt „Tisch 2“ überschneiden sich.",
            "Der Raum „tisch-2“ hat mehrere Bereiche: Objekt „Tisch 2“ und Objekt „Noch mal Tisch 2“.",
            "Tileset „fehlt.tsj“ fehlt",
        ] {
            assert!(has(&problems, part), "{part} not in {problems:?}");
        }
        // Height 2 puts the tables (partly) outside; that is reported as well.
        assert!(has(
            &problems,
            "Objekt „Tisch 1“ liegt (teilweise) außerhalb der Karte."
        ));
    }

    #[test]
    fn absurd_values_are_problems_not_panics() {
        let mut doc = valid_map();
        doc["width"] = json!(-3);
        doc["height"] = json!("viel");
        doc["tilewidth"] = json!(1.5);
        doc["tileheight"] = json!(1e300);
        doc["layers"][2]["objects"][0]["x"] = json!(-1e200);
        doc["tilesets"][0]["firstgid"] = json!(-1);
        let problems = import(&doc, &HashMap::new()).expect_err("absurd");
        assert!(has(&problems, "Karte zu klein: Breite -3"), "{problems:?}");
        assert!(
            has(
                &problems,
                "Höhe der Karte (height) ist keine brauchbare ganze Zahl"
            ),
            "{problems:?}"
        );
        assert!(has(
            &problems,
            "Kachelbreite der Kacheln (tilewidth) ist keine brauchbare"
        ));
        assert!(has(
            &problems,
            "Kachelhöhe der Kacheln (tileheight) ist keine brauchbare"
        ));
        assert!(
            has(&problems, "Objekt „Tisch 1“: Die Angabe „x“"),
            "{problems:?}"
        );
        assert!(
            has(&problems, "Tileset Nr. 1: Die erste Kachelnummer"),
            "{problems:?}"
        );
        assert_eq!(problems.len(), 6, "no follow-up problems: {problems:?}");
    }

    #[test]
    fn base64_data_with_flip_flags_is_decoded() {
        let mut doc = valid_map();
        // Walls drawn flipped horizontally, vertically and diagonally: still gid 2.
        let flipped: Vec<u8> = wall_gids(2)
            .into_iter()
            .map(|g| if g == 0 { 0 } else { g | 0xE000_0000 })
            .flat_map(u32::to_le_bytes)
            .collect();
        let wall_layer = &mut doc["layers"][1]["layers"][0];
        wall_layer["encoding"] = json!("base64");
        wall_layer["compression"] = json!("");
        wall_layer["data"] = json!(STANDARD.encode(flipped));
        let map = import(&doc, &HashMap::new()).expect("imports");
        assert_eq!(map, import(&valid_map(), &HashMap::new()).expect("valid"));
    }

    #[test]
    fn compressed_infinite_and_isometric_maps_are_refused() {
        let mut doc = valid_map();
        doc["orientation"] = json!("isometric");
        doc["infinite"] = json!(true);
        let wall_layer = &mut doc["layers"][1]["layers"][0];
        wall_layer["encoding"] = json!("base64");
        wall_layer["compression"] = json!("zlib");
        wall_layer["data"] = json!("eJxjYAAAAAEAAQ==");
        let problems = import(&doc, &HashMap::new()).expect_err("refused");
        assert!(has(&problems, "Unendliche Karten werden nicht unterstützt"));
        assert!(has(&problems, "nur orthogonale Karten"));
        assert!(has(&problems, "Ebene „Wände“ ist komprimiert (zlib)"));
    }

    #[test]
    fn stray_gids_are_reported_once_per_layer_and_short_data_is_named() {
        let mut doc = valid_map();
        let mut floor = vec![1u32; W * H];
        floor[3] = 57;
        floor[4] = 57;
        doc["layers"][0]["data"] = json!(floor);
        doc["layers"][2]["name"] = json!("Bereiche");
        doc["layers"].as_array_mut().expect("layers").push(json!(
            {"name": "Kurz", "type": "tilelayer", "data": [1, 2, 3]}
        ));
        let problems = import(&doc, &HashMap::new()).expect_err("stray");
        assert_eq!(
            problems,
            vec![
                "Kachel 57 in Ebene „Boden“ gehört zu keinem Tileset.".to_string(),
                "Ebene „Kurz“ hat 3 Kacheln, die Karte aber 20×15 = 300.".to_string(),
            ]
        );
    }

    #[test]
    fn unreachable_and_walled_areas_and_a_start_on_a_wall_are_problems() {
        let mut doc = valid_map();
        // Close the opening at (10, 13): Tisch 2 is cut off from the start.
        let mut walls = wall_gids(2);
        walls[13 * W + 10] = 2;
        doc["layers"][1]["layers"][0]["data"] = json!(walls);
        let problems = import(&doc, &HashMap::new()).expect_err("cut off");
        assert_eq!(
            problems,
            vec!["Objekt Nr. 2 in Ebene „Bereiche“ ist vom Startpunkt aus nicht erreichbar."]
        );

        let mut doc = valid_map();
        doc["layers"][2]["objects"][2]["x"] = json!(10 * 32 + 5);
        doc["layers"][2]["objects"][1] =
            rect(2, "In der Wand", (10, 2, 1, 3), room_prop("tisch-2"));
        let problems = import(&doc, &HashMap::new()).expect_err("walls");
        assert!(
            has(&problems, "Der Startpunkt (10, 12) liegt auf einer Wand."),
            "{problems:?}"
        );
        assert!(has(
            &problems,
            "Objekt „In der Wand“ enthält keine begehbare Kachel."
        ));
    }

    #[test]
    fn without_a_start_object_the_first_free_floor_tile_is_used() {
        let mut doc = valid_map();
        doc["layers"][2]["objects"]
            .as_array_mut()
            .expect("objects")
            .remove(2);
        let map = import(&doc, &HashMap::new()).expect("imports");
        assert_eq!(map.spawn, (1, 1));
    }

    #[test]
    fn pinboards_come_from_a_property_or_the_class() {
        let mut doc = valid_map();
        let objects = doc["layers"][2]["objects"].as_array_mut().expect("objects");
        objects.push(rect(
            5,
            "",
            (2, 7, 4, 3),
            json!([{"name": "pinboard", "type": "bool", "value": true}]),
        ));
        let mut by_class = rect(6, "Infowand", (2, 11, 4, 1), json!([]));
        by_class["type"] = json!("Pinboard");
        objects.push(by_class);
        let map = import(&doc, &HashMap::new()).expect("imports");
        assert_eq!(map.areas[2].target, AreaTarget::Pinboard);
        assert_eq!(map.areas[2].name, "Pinnwand");
        assert_eq!(map.areas[3].name, "Infowand");
        assert_eq!(map.areas[3].room(), None);
    }

    #[test]
    fn invalid_json_and_oversized_files_are_refused() {
        let problems = import_tiled(
            "kaputt.tmj",
            b"{\n  \"width\": 20,\n  oops",
            &HashMap::new(),
            &[],
        )
        .expect_err("invalid");
        assert_eq!(
            problems,
            vec![
                "Die Datei „kaputt.tmj“ ist kein gültiges JSON (Syntaxfehler in Zeile 3, Spalte 3)."
            ]
        );
        let big = vec![b' '; MAX_FILE_BYTES + 1];
        let problems = import_tiled("riesig.tmj", &big, &HashMap::new(), &[]).expect_err("big");
        assert!(has(&problems, "zu groß"), "{problems:?}");
    }

    fn generated_rooms(tables: usize) -> Vec<RoomRef> {
        let mut list = vec![
            room("plenum", "Plenum", RoomKind::Plenary),
            room("hilfe", "Helpdesk", RoomKind::Helpdesk),
            room("lounge", "Lounge", RoomKind::Lounge),
            room("technik", "Technik", RoomKind::Other),
        ];
        list.extend((1..=tables).map(|i| {
            room(
                &format!("tisch-{i}"),
                &format!("Tisch {i}"),
                RoomKind::Table,
            )
        }));
        list
    }

    /// `check()` covers reachability; `paths` also walks to every area, which is too slow
    /// for hundreds of areas in an unoptimized test build.
    fn assert_sound(map: &VenueMap, rooms: &[RoomRef], paths: bool) {
        assert_eq!(map.check(), Vec::<String>::new());
        assert!(map.width <= MAX_SIDE && map.height <= MAX_SIDE);
        for r in rooms {
            assert!(
                map.area_of_room(&r.slug).is_some(),
                "{} has an area",
                r.slug
            );
        }
        for (i, area) in map.areas.iter().enumerate() {
            assert!(area.w >= 4 && area.h >= 3, "{area:?}");
            let tile = map.free_tile_in(i, &|_, _| false).expect("floor");
            if paths {
                assert!(
                    map.path(map.spawn, tile).is_some(),
                    "{} reachable",
                    area.name
                );
            }
        }
        assert_eq!(map.area_at(map.spawn.0, map.spawn.1), None);
    }

    #[test]
    fn generated_venues_are_sound_for_0_1_5_and_30_tables() {
        for tables in [0, 1, 5, 30] {
            let rooms = generated_rooms(tables);
            let map = generate(&rooms);
            assert_sound(&map, &rooms, true);
            assert_eq!(map, generate(&rooms), "deterministic");
            assert_eq!(map.source, "generated");
            assert_eq!(
                map.areas
                    .iter()
                    .filter(|a| a.target == AreaTarget::Pinboard)
                    .count(),
                1
            );
            // Inner walls: more wall rows than the two outer ones.
            let walled = map
                .rows
                .iter()
                .filter(|r| r.matches('#').count() > 2)
                .count();
            assert!(walled > 2 || tables == 0, "{tables}: {walled}");
        }
        let five = generate(&generated_rooms(5));
        assert!((30..=50).contains(&five.width) && (25..=40).contains(&five.height));
    }

    #[test]
    fn generation_without_rooms_and_with_very_many_rooms_still_works() {
        let map = generate(&[]);
        assert_sound(&map, &[], true);
        assert_eq!(map.areas.len(), 1);

        let stages: Vec<RoomRef> = (0..MAX_GENERATED_AREAS)
            .map(|i| room(&format!("b-{i}"), "Bühne", RoomKind::Plenary))
            .collect();
        assert_sound(&generate(&stages), &stages, false);
        let lounges: Vec<RoomRef> = (0..MAX_GENERATED_AREAS)
            .map(|i| room(&format!("l-{i}"), "", RoomKind::Lounge))
            .collect();
        assert_sound(&generate(&lounges), &lounges, false);

        let crowd: Vec<RoomRef> = (0..2000)
            .map(|i| room(&format!("t-{i}"), "Tisch", RoomKind::Table))
            .collect();
        let map = generate(&crowd);
        assert!(map.check().is_empty());
        assert_eq!(map.areas.len(), MAX_GENERATED_AREAS + 1);
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
