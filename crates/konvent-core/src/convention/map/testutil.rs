//! Fixtures shared by the map's tests: rooms, a valid Tiled map and its pieces, and a
//! helper to look for a problem.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::{RoomRef, VenueMap, import_tiled};
use crate::convention::RoomKind;

pub(super) fn room(slug: &str, name: &str, kind: RoomKind) -> RoomRef {
    RoomRef {
        slug: slug.to_string(),
        name: name.to_string(),
        kind,
    }
}

pub(super) fn rooms() -> Vec<RoomRef> {
    vec![
        room("plenum", "Plenum", RoomKind::Plenary),
        room("tisch-1", "Tisch 1", RoomKind::Table),
        room("tisch-2", "Tisch 2", RoomKind::Table),
        room("hilfe", "Hilfe", RoomKind::Helpdesk),
    ]
}

pub(super) const W: usize = 20;
pub(super) const H: usize = 15;

/// Outer walls and a wall down x = 10 from y = 1 to 12, open at y = 13.
pub(super) fn wall_gids(wall: u32) -> Vec<u32> {
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

pub(super) fn embedded_tileset() -> Value {
    json!({
        "firstgid": 1, "name": "Basis", "tilecount": 16, "columns": 4,
        "tilewidth": 32, "tileheight": 32,
        "tiles": [{"id": 3, "properties": [{"name": "collides", "type": "bool", "value": true}]}]
    })
}

pub(super) fn rect(id: u32, name: &str, tiles: (u32, u32, u32, u32), props: Value) -> Value {
    let (x, y, w, h) = tiles;
    json!({"id": id, "name": name, "type": "", "x": x * 32, "y": y * 32,
           "width": w * 32, "height": h * 32, "rotation": 0, "visible": true,
           "properties": props})
}

pub(super) fn room_prop(slug: &str) -> Value {
    json!([{"name": "room", "type": "string", "value": slug}])
}

/// A valid 20×15 map: floor, walls (in a group), two tables and a start.
pub(super) fn valid_map() -> Value {
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

pub(super) fn import(
    doc: &Value,
    files: &HashMap<String, Vec<u8>>,
) -> Result<VenueMap, Vec<String>> {
    let bytes = serde_json::to_vec(doc).expect("json");
    import_tiled("halle.tmj", &bytes, files, &rooms())
}

pub(super) fn has(problems: &[String], part: &str) -> bool {
    problems.iter().any(|p| p.contains(part))
}

pub(super) fn generated_rooms(tables: usize) -> Vec<RoomRef> {
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
