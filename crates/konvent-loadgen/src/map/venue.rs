//! The benchmark's venue: a generated 256×256 map with walls and one area, written as
//! Tiled JSON, and the seeded random numbers that scatter the avatars on it.

use serde_json::json;

use super::SIDE;

const TILE: u32 = 32;
/// The one area ("Bühne", joins the room `plenum`), in tiles: x, y, width, height.
const AREA: (u16, u16, u16, u16) = (1, 1, 10, 6);
/// The start point, in tiles.
pub(super) const START: (u16, u16) = (128, 128);

/// xorshift64*: small, seeded, good enough to scatter avatars and pick directions.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        // Never zero (xorshift stays at zero), and different seeds spread apart.
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// 0..n (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (((self.next_u64() >> 32) * n as u64) >> 32) as usize
    }
}

/// The benchmark's venue: floor, walls (border and a few inner walls with gaps), one area.
pub struct Venue {
    pub width: u16,
    pub height: u16,
    wall: Vec<bool>,
}

impl Venue {
    pub fn generate() -> Self {
        let (w, h) = (SIDE, SIDE);
        let mut wall = vec![false; usize::from(w) * usize::from(h)];
        let mut set =
            |x: u16, y: u16| wall[usize::from(y) * usize::from(w) + usize::from(x)] = true;
        for i in 0..w {
            set(i, 0);
            set(i, h - 1);
        }
        for i in 0..h {
            set(0, i);
            set(w - 1, i);
        }
        // Two vertical walls and one horizontal, each with a gap of 4 tiles every 32.
        for y in 1..h - 1 {
            if y % 32 >= 4 {
                set(64, y);
                set(192, y);
            }
        }
        for x in 1..w - 1 {
            if x % 32 >= 4 && x != 64 && x != 192 {
                set(x, 96);
            }
        }
        Self {
            width: w,
            height: h,
            wall,
        }
    }

    fn in_area(x: u16, y: u16) -> bool {
        let (ax, ay, aw, ah) = AREA;
        x >= ax && x < ax + aw && y >= ay && y < ay + ah
    }

    /// Floor, on the map, outside the area.
    pub fn free(&self, x: i32, y: i32) -> bool {
        if x < 0 || y < 0 || x >= i32::from(self.width) || y >= i32::from(self.height) {
            return false;
        }
        let (x, y) = (x as u16, y as u16);
        !self.wall[usize::from(y) * usize::from(self.width) + usize::from(x)]
            && !Self::in_area(x, y)
    }

    pub fn free_tiles(&self) -> Vec<(u16, u16)> {
        (0..self.height)
            .flat_map(|y| (0..self.width).map(move |x| (x, y)))
            .filter(|&(x, y)| self.free(i32::from(x), i32::from(y)))
            .collect()
    }

    /// `n` different free tiles, picked with the seeded generator.
    pub fn scatter(&self, n: usize, rng: &mut Rng) -> Vec<(u16, u16)> {
        let mut tiles = self.free_tiles();
        // A partial Fisher–Yates shuffle: the first n are the pick.
        let n = n.min(tiles.len());
        for i in 0..n {
            let j = i + rng.below(tiles.len() - i);
            tiles.swap(i, j);
        }
        tiles.truncate(n);
        tiles
    }

    /// The map as Tiled JSON (.tmj): layers "Boden" (floor everywhere) and "Wände",
    /// an object group with the area "Bühne" (room `plenum`) and the start point.
    pub fn tiled_json(&self) -> String {
        let cells = usize::from(self.width) * usize::from(self.height);
        let walls: Vec<u8> = self.wall.iter().map(|&w| u8::from(w)).collect();
        let (ax, ay, aw, ah) = AREA;
        let px = |tiles: u16| u32::from(tiles) * TILE;
        json!({
            "type": "map",
            "version": "1.10",
            "orientation": "orthogonal",
            "renderorder": "right-down",
            "infinite": false,
            "width": self.width,
            "height": self.height,
            "tilewidth": TILE,
            "tileheight": TILE,
            "layers": [
                {
                    "type": "tilelayer", "id": 1, "name": "Boden",
                    "width": self.width, "height": self.height,
                    "x": 0, "y": 0, "opacity": 1, "visible": true,
                    "data": vec![1u8; cells],
                },
                {
                    "type": "tilelayer", "id": 2, "name": "Wände",
                    "width": self.width, "height": self.height,
                    "x": 0, "y": 0, "opacity": 1, "visible": true,
                    "data": walls,
                },
                {
                    "type": "objectgroup", "id": 3, "name": "Bereiche",
                    "x": 0, "y": 0, "opacity": 1, "visible": true,
                    "objects": [
                        {
                            "id": 1, "name": "Bühne",
                            "x": px(ax), "y": px(ay), "width": px(aw), "height": px(ah),
                            "rotation": 0, "visible": true,
                            "properties": [{ "name": "room", "type": "string", "value": "plenum" }],
                        },
                        {
                            "id": 2, "name": "start", "point": true,
                            "x": px(START.0), "y": px(START.1), "width": 0, "height": 0,
                            "rotation": 0, "visible": true,
                        },
                    ],
                },
            ],
            "tilesets": [
                { "firstgid": 1, "name": "b", "tilecount": 4, "columns": 2,
                  "tilewidth": TILE, "tileheight": TILE, "margin": 0, "spacing": 0,
                  "image": "b.png", "imagewidth": 64, "imageheight": 64 },
            ],
            "nextlayerid": 4,
            "nextobjectid": 3,
        })
        .to_string()
    }
}
