//! The tilesets of a Tiled map, embedded or external (.tsj): which gids they cover and
//! which of their tiles collide.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::{
    GID_MASK, Gid, Import, Tileset, basename, integer, json_problem, property, shown, too_large,
    unread,
};
use crate::convention::map::MAX_FILE_BYTES;

impl Import<'_> {
    pub(super) fn tilesets(&mut self, doc: &Map<String, Value>, files: &HashMap<String, Vec<u8>>) {
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

    pub(super) fn gid(&self, gid: u32) -> Gid {
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
}
