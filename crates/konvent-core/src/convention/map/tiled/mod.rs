//! The Tiled import: [`import_tiled`] reads a map drawn in the Tiled editor (.tmj) with
//! its external tilesets (.tsj), collects every problem it finds and hands out only a
//! [`VenueMap`] whose [`VenueMap::check`] is empty.
//!
//! This file holds the import's state, the map's header and the helpers of its messages;
//! the steps go on by what they read: the tilesets ([`tilesets`]), the layers with their
//! walls and objects ([`layers`]), and the venue made of what was found ([`venue`]).

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::{AreaTarget, MAX_FILE_BYTES, MAX_SIDE, RoomRef, VenueMap};

mod layers;
mod tilesets;
mod venue;

/// Tiled keeps three flip flags in the top bits of a gid (and a fourth for hexagonal
/// maps); the tile itself is the rest.
const GID_MASK: u32 = 0x0FFF_FFFF;

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
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde_json::json;

    use super::*;
    use crate::convention::map::Area;
    use crate::convention::map::testutil::{
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
