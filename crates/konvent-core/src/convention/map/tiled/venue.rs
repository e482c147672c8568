//! The venue made of what an import found: the objects become areas and the start on
//! the map's tiles, checked for overlaps, and the map is handed out only without problems.

use super::{Import, Object};
use crate::convention::map::{Area, AreaTarget, VenueMap, overlap_problems};

/// Tiled writes coordinates as floats; without this slack, 95.99999 px on 32 px tiles
/// would spill into the next tile.
const SNAP: f64 = 1.0e-6;

impl Import<'_> {
    /// Turns the collected objects into areas and a start, checks them, builds the map.
    pub(super) fn finish(mut self, file_name: &str) -> Result<VenueMap, Vec<String>> {
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
