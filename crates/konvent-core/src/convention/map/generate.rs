//! The default venue: [`generate`] lays out an event's rooms in three bands (stage,
//! tables, foyer) with walls between them and an entrance at the bottom.

use std::collections::HashSet;

use super::{Area, AreaTarget, FLOOR, MAX_SIDE, RoomRef, VenueMap, WALL};
use crate::convention::RoomKind;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convention::map::testutil::{generated_rooms, room};

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
}
