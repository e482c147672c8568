//! One event's map on the tiles and the area-of-interest cells: putting avatars on and
//! taking them off, which tiles are taken, the free spot nearest to the entrance, and
//! which cells are near each other.

use std::sync::Arc;
use std::time::Instant;

use super::{Avatar, CELL, EventMap};

/// How far from the entrance a newcomer looks for a free tile (tiles searched).
const SPAWN_SEARCH: usize = 4096;

impl EventMap {
    /// Takes an avatar off the map; answers whether there was one.
    pub(super) fn drop_avatar(&mut self, id: u64) -> bool {
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
    pub(super) fn add_avatar(
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

    fn tile(&self, x: u16, y: u16) -> u32 {
        u32::from(y) * u32::from(self.map.width) + u32::from(x)
    }

    pub(super) fn occupied(&self, x: u16, y: u16) -> bool {
        self.tiles.contains_key(&self.tile(x, y))
    }

    pub(super) fn occupy(&mut self, x: u16, y: u16) {
        *self.tiles.entry(self.tile(x, y)).or_default() += 1;
    }

    pub(super) fn vacate(&mut self, x: u16, y: u16) {
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
    pub(super) fn free_near_spawn(&self) -> (u16, u16) {
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

    pub(super) fn cell_of(&self, x: u16, y: u16) -> u32 {
        u32::from(y / CELL) * self.cols + u32::from(x / CELL)
    }

    pub(super) fn unindex(&mut self, conn: u64, cell: u32) {
        if let Some(ids) = self.cells.get_mut(&cell) {
            ids.retain(|id| *id != conn);
            if ids.is_empty() {
                self.cells.remove(&cell);
            }
        }
    }

    /// The cell and its neighbours.
    pub(super) fn around(&self, cell: u32) -> impl Iterator<Item = u32> + use<> {
        let (cols, rows) = (self.cols as i64, self.rows as i64);
        let (cx, cy) = ((cell as i64) % cols, (cell as i64) / cols);
        (-1..=1).flat_map(move |dy| {
            (-1..=1).filter_map(move |dx| {
                let (x, y) = (cx + dx, cy + dy);
                (x >= 0 && y >= 0 && x < cols && y < rows).then(|| (y * cols + x) as u32)
            })
        })
    }

    pub(super) fn near(&self, a: u32, b: u32) -> bool {
        let (ax, ay) = (a % self.cols, a / self.cols);
        let (bx, by) = (b % self.cols, b / self.cols);
        ax.abs_diff(bx) <= 1 && ay.abs_diff(by) <= 1
    }
}
