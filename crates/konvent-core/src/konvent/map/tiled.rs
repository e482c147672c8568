//! The Tiled import: [`import_tiled`] reads a map drawn in the Tiled editor (.tmj) with
//! its external tilesets (.tsj), collects every problem it finds and hands out only a
//! [`VenueMap`] whose [`VenueMap::check`] is empty.

use std::collections::{BTreeSet, HashMap, HashSet};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};

use super::{Area, AreaTarget, MAX_FILE_BYTES, MAX_SIDE, RoomRef, VenueMap, overlap_problems};

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
    use serde_json::json;

    use super::*;
    use crate::konvent::map::testutil::{
        H, W, embedded_tileset, has, import, rect, room_prop, valid_map, wall_gids,
    };

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
}
