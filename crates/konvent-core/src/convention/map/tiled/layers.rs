//! The layers of a Tiled map: tile layers (walls where a wall layer or a colliding tile
//! has a tile; CSV or base64 data, uncompressed), groups, and object layers with the
//! areas and the start.

use std::collections::BTreeSet;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};

use super::{GID_MASK, Gid, Import, Object, property, shown};
use crate::convention::map::AreaTarget;

/// Tile layers with these names (compared in lower case) are walls wherever they have a tile.
const WALL_LAYERS: [&str; 6] = ["walls", "wände", "waende", "wand", "collision", "kollision"];

/// Objects further out than this (in pixels) are absurd, and converting them to tiles
/// could overflow.
const MAX_PIXELS: f64 = 1.0e7;

impl Import<'_> {
    /// Walks a list of layers, descending into groups.
    pub(super) fn layers(&mut self, layers: &Value, parent: &str) {
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
}
