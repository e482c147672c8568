//! The venue map (K8) through real WebSockets and the upload form: walking into an area
//! joins its room and walking out leaves it, a full area refuses, a broken Tiled file is
//! refused with its reasons while the old map stays, and nobody hears of avatars far away.

use konvent_core::ids::EventId;
use std::time::Duration;

use konvent_core::authz::Role;
use konvent_core::convention::RoomKind;
use konvent_core::convention::map::{Area, AreaTarget, VenueMap};
use konvent_core::demo;
use konvent_store::{EventRole, NewRoom};
use serde_json::{Value, json};

use crate::helpers::{TestApp, User, spawn_app};
use crate::ws::{Client, connect, participants};

/// Steps are sent a little slower than the server's limit of 10 a second.
const STEP: Duration = Duration::from_millis(110);

async fn event_id(app: &TestApp) -> i64 {
    (app.store.event(demo::KONVENT_SLUG).await.expect("event").id).get()
}

/// A signed-in member `NAME@test.example` who takes part in the demo event.
async fn registered(app: &TestApp, name: &str) -> User {
    let user = app.user_named(Role::Member, name).await;
    let account = app
        .store
        .accounts()
        .await
        .expect("accounts")
        .into_iter()
        .find(|a| a.email == format!("{name}@test.example"))
        .expect("account")
        .id;
    app.store
        .add_to_event(
            EventId::new(event_id(app).await),
            account,
            EventRole::Participant,
        )
        .await
        .expect("registered");
    user
}

/// The map the event walks on, as the server has it.
async fn current_map(app: &TestApp) -> std::sync::Arc<VenueMap> {
    app.state
        .live
        .info(demo::KONVENT_SLUG)
        .await
        .expect("event info")
        .map
        .clone()
}

/// Steps onto the map; answers the avatar's id and where it stands.
async fn enter(client: &mut Client) -> (u64, (u16, u16)) {
    client.send(json!({ "t": "enter_map" })).await;
    let you = client.until(|f| f["t"] == "you").await;
    (
        you["avatar"].as_u64().expect("avatar id"),
        (
            you["x"].as_u64().expect("x") as u16,
            you["y"].as_u64().expect("y") as u16,
        ),
    )
}

/// Walks along `path` (the first tile is where the avatar stands), step by step.
async fn walk(client: &mut Client, path: &[(u16, u16)]) {
    for &(x, y) in path.iter().skip(1) {
        client.send(json!({ "t": "move", "x": x, "y": y })).await;
        tokio::time::sleep(STEP).await;
    }
}

fn area_index(map: &VenueMap, room: &str) -> usize {
    map.area_of_room(room).expect("the room has an area")
}

/// The way from `from` to the nearest tile of `area`, and on to just outside it again.
fn way_in(map: &VenueMap, from: (u16, u16), area: usize) -> Vec<(u16, u16)> {
    let a = &map.areas[area];
    let mut best: Option<Vec<(u16, u16)>> = None;
    for y in a.y..a.y + a.h {
        for x in a.x..a.x + a.w {
            if let Some(p) = map.path(from, (x, y))
                && best.as_ref().is_none_or(|b| p.len() < b.len())
            {
                best = Some(p);
            }
        }
    }
    best.expect("the area is reachable")
}

/// Whether any `pos` frame among `frames` names `avatar`.
fn mentions(frames: &[Value], avatar: u64) -> bool {
    frames.iter().filter(|f| f["t"] == "pos").any(|f| {
        f["m"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|m| m[0].as_u64() == Some(avatar))
    })
}

#[tokio::test]
async fn walking_into_an_area_joins_its_room_and_walking_out_leaves_it() {
    let app = spawn_app().await;
    let people = participants(&app, 2).await;
    let map = current_map(&app).await;
    let mut walker = connect(&app, &people[0].0, "").await;
    let mut speaker = connect(&app, &people[1].0, "?room=plenum").await;
    let (_, spawn) = enter(&mut walker).await;
    assert!(
        map.area_at(spawn.0, spawn.1).is_none(),
        "the entrance is in no room"
    );

    let way = way_in(&map, spawn, area_index(&map, "plenum"));
    walk(&mut walker, &way).await;
    // The way may cross a table on its way to the stage.
    let joined = walker
        .until(|f| f["t"] == "joined" && f["room"] == "plenum")
        .await;
    assert_eq!(joined["name"], "Plenum");

    // The plenary's chat reaches the walker now.
    let said = speaker.chat("m1", "Willkommen auf der Bühne").await;
    assert_eq!(said["t"], "ack");
    let line = walker
        .until(|f| f["t"] == "ev" && f["kind"] == "chat")
        .await;
    assert_eq!(line["room"], "plenum");

    // Back the way it came: out of the area, out of the room.
    let back: Vec<(u16, u16)> = way.iter().rev().copied().collect();
    walk(&mut walker, &back[..3.min(back.len())]).await;
    let outside = back[1.min(back.len() - 1)];
    if map.area_at(outside.0, outside.1).is_none() {
        walker.until(|f| f["t"] == "left").await;
        speaker.chat("m2", "Noch jemand da?").await;
        let after = walker.drain().await;
        assert!(
            !after.iter().any(|f| f["t"] == "ev" && f["kind"] == "chat"),
            "no chat of a room left behind: {after:?}"
        );
    } else {
        panic!("the way in should start outside the area");
    }
}

/// `goto` answers with `you` (the new spot) or an `error`, both with the command's id.
async fn goto(client: &mut Client, id: &str, area: &str) -> Value {
    client
        .send(json!({ "t": "goto", "id": id, "area": area }))
        .await;
    client
        .until(|f| (f["t"] == "you" || f["t"] == "error") && f["id"] == id)
        .await
}

#[tokio::test]
async fn a_full_area_refuses_entry_and_the_avatar_stays_outside() {
    let app = spawn_app().await;
    let event = event_id(&app).await;
    app.store
        .create_room(
            EventId::new(event),
            &NewRoom {
                slug: "kabine".into(),
                name: "Kabine".into(),
                kind: RoomKind::Other,
                capacity: 1,
                moderator_id: None,
            },
        )
        .await
        .expect("room");
    app.state.live.invalidate(EventId::new(event));
    let map = current_map(&app).await;
    let cabin = area_index(&map, "kabine");
    let people = participants(&app, 2).await;
    let mut first = connect(&app, &people[0].0, "").await;
    let mut second = connect(&app, &people[1].0, "").await;
    enter(&mut first).await;
    let (_, spawn) = enter(&mut second).await;

    let inside = goto(&mut first, "g1", "kabine").await;
    assert_eq!(inside["t"], "you", "{inside}");
    assert_eq!(inside["area"], "kabine");
    assert_eq!(first.until(|f| f["t"] == "joined").await["room"], "kabine");

    let refused = goto(&mut second, "g2", "kabine").await;
    assert_eq!(refused["t"], "error", "{refused}");
    assert_eq!(refused["code"], "full");
    assert!(
        refused["message"].as_str().unwrap_or("").contains("voll"),
        "{refused}"
    );
    // The server says where the avatar really stands: where it was, outside.
    let stays = second.until(|f| f["t"] == "you").await;
    assert_eq!(
        (stays["x"].as_u64(), stays["y"].as_u64()),
        (Some(u64::from(spawn.0)), Some(u64::from(spawn.1)))
    );
    assert!(stays["area"].is_null());

    // Walking in is refused the same way, at the area's edge.
    let way = way_in(&map, spawn, cabin);
    walk(&mut second, &way).await;
    let edge = second.until(|f| f["t"] == "error").await;
    assert_eq!(edge["code"], "full", "{edge}");
    let held = second.until(|f| f["t"] == "you").await;
    let (x, y) = (
        held["x"].as_u64().expect("x") as u16,
        held["y"].as_u64().expect("y") as u16,
    );
    assert!(
        !map.areas[cabin].contains(x, y),
        "stopped outside at {x},{y}"
    );

    // Once the first has gone, the cabin takes the second.
    assert_eq!(goto(&mut first, "g3", "lounge").await["area"], "lounge");
    tokio::time::sleep(Duration::from_millis(50)).await;
    let admitted = goto(&mut second, "g4", "kabine").await;
    assert_eq!(admitted["t"], "you", "{admitted}");
    assert_eq!(admitted["area"], "kabine");
}

/// A small map drawn in Tiled: 30 × 20 tiles with a wall layer, the plenary, the
/// pinboard and an entrance.
fn tiled_map(areas: Vec<Value>, width: i64, tilesets: Value) -> Vec<u8> {
    let height = 20;
    // An absurd width comes with a grid of a sensible size (itself a problem).
    let w = width.clamp(1, 100);
    let mut walls = vec![0; (w * height) as usize];
    for x in 0..w {
        walls[x as usize] = 1;
        walls[((height - 1) * w + x) as usize] = 1;
    }
    json!({
        "type": "map", "version": "1.10", "orientation": "orthogonal", "renderorder": "right-down",
        "infinite": false, "width": width, "height": height, "tilewidth": 32, "tileheight": 32,
        "tilesets": tilesets,
        "layers": [
            { "type": "tilelayer", "name": "Boden", "width": width, "height": height, "data": vec![2; walls.len()] },
            { "type": "tilelayer", "name": "Wände", "width": width, "height": height, "data": walls },
            { "type": "objectgroup", "name": "Bereiche", "objects": areas },
        ],
    })
    .to_string()
    .into_bytes()
}

fn area_object(name: &str, room: Option<&str>, x: i64, y: i64, w: i64, h: i64) -> Value {
    let mut properties = vec![];
    match room {
        Some(room) => properties.push(json!({ "name": "room", "type": "string", "value": room })),
        None => properties.push(json!({ "name": "pinboard", "type": "bool", "value": true })),
    }
    json!({ "name": name, "x": x * 32, "y": y * 32, "width": w * 32, "height": h * 32, "properties": properties })
}

fn start_object(x: i64, y: i64) -> Value {
    json!({ "name": "start", "point": true, "x": x * 32 + 16, "y": y * 32 + 16, "width": 0, "height": 0 })
}

fn embedded_tileset() -> Value {
    json!([{ "firstgid": 1, "name": "Raum", "tilecount": 4, "columns": 2, "tilewidth": 32, "tileheight": 32 }])
}

async fn map_json(user: &User) -> Value {
    let r = user
        .get(&format!("/konvent/{}/karte.json", demo::KONVENT_SLUG))
        .await;
    assert_eq!(r.status(), 200);
    r.json().await.expect("map JSON")
}

#[tokio::test]
async fn a_malformed_tiled_file_is_refused_with_reasons_and_the_old_map_stays() {
    let app = spawn_app().await;
    let organizer = app.sign_in_existing(demo::KONVENT_MODERATOR.0).await;
    let import = format!("/konvent/{}/karte/import", demo::KONVENT_SLUG);
    let before = map_json(&organizer).await;

    // Everything wrong at once: a room the event does not have, two areas on top of each
    // other, a tileset that was not uploaded.
    let broken = tiled_map(
        vec![
            area_object("Tisch 9", Some("tisch-9"), 2, 2, 4, 4),
            area_object("Bühne", Some("plenum"), 10, 2, 8, 6),
            area_object("Lounge", Some("lounge"), 14, 4, 6, 6),
            start_object(1, 10),
        ],
        30,
        json!([{ "firstgid": 1, "source": "fehlt.tsj" }]),
    );
    let r = organizer
        .upload_files(&import, &[("karte", "kaputt.tmj", broken)])
        .await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.expect("page");
    for reason in ["tisch-9", "fehlt.tsj", "Bühne", "Lounge"] {
        assert!(page.contains(reason), "the refusal names {reason}");
    }
    assert_eq!(map_json(&organizer).await, before, "the old map stays");

    // An absurd size is refused too, and not a JSON file at all.
    let huge = tiled_map(vec![start_object(1, 10)], 100_000, embedded_tileset());
    let r = organizer
        .upload_files(&import, &[("karte", "riesig.tmj", huge)])
        .await;
    assert_eq!(r.status(), 422);
    let r = organizer
        .upload_files(
            &import,
            &[("karte", "bild.tmj", b"\x89PNG not a map".to_vec())],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert_eq!(map_json(&organizer).await, before, "the old map stays");

    // A participant may not replace the map.
    let participant = registered(&app, "teilnehmerin").await;
    let good = tiled_map(
        vec![
            area_object("Bühne", Some("plenum"), 10, 2, 8, 6),
            area_object("Pinnwand", None, 2, 12, 6, 4),
            start_object(1, 10),
        ],
        30,
        embedded_tileset(),
    );
    let r = participant
        .upload_files(&import, &[("karte", "eigene.tmj", good.clone())])
        .await;
    assert_eq!(r.status(), 403);

    // The organizer's good map is taken; everybody on the map hears of it.
    let people = participants(&app, 1).await;
    let mut watcher = connect(&app, &people[0].0, "").await;
    let r = organizer
        .upload_files(&import, &[("karte", "eigene.tmj", good)])
        .await;
    assert!(
        r.status().is_success() || r.status().is_redirection(),
        "{}",
        r.status()
    );
    let after = map_json(&organizer).await;
    assert_eq!(after["width"], 30);
    let keys: Vec<&str> = after["areas"]
        .as_array()
        .expect("areas")
        .iter()
        .filter_map(|a| a["key"].as_str())
        .collect();
    assert_eq!(keys, ["plenum", "pinnwand"]);
    assert_eq!(after["spawn"], json!([1, 10]));
    let news = watcher
        .until(|f| f["t"] == "ev" && f["kind"] == "map")
        .await;
    assert_eq!(news["data"]["source"], "eigene.tmj");

    // And back to the generated map.
    let r = organizer
        .post(
            &format!("/konvent/{}/karte/standard", demo::KONVENT_SLUG),
            &[],
        )
        .await;
    assert!(r.status().is_success() || r.status().is_redirection());
    assert_eq!(map_json(&organizer).await, before);
}

/// A long hall: the plenary at the west end, the lounge at the east end, 60 tiles apart.
fn long_hall() -> VenueMap {
    let (width, height) = (80u16, 12u16);
    let rows = (0..height)
        .map(|y| {
            (0..width)
                .map(|x| {
                    if x == 0 || y == 0 || x == width - 1 || y == height - 1 {
                        '#'
                    } else {
                        '.'
                    }
                })
                .collect()
        })
        .collect();
    let area = |room: &str, name: &str, x| Area {
        target: AreaTarget::Room { room: room.into() },
        name: name.into(),
        x,
        y: 2,
        w: 8,
        h: 8,
    };
    VenueMap {
        width,
        height,
        rows,
        areas: vec![area("plenum", "Bühne", 2), area("lounge", "Lounge", 70)],
        spawn: (40, 6),
        source: "halle.tmj".into(),
    }
}

#[tokio::test]
async fn positions_of_people_far_away_are_not_sent() {
    let app = spawn_app().await;
    let hall = long_hall();
    assert!(hall.check().is_empty(), "{:?}", hall.check());
    let json = serde_json::to_string(&hall).expect("JSON");
    app.store
        .set_venue_map(
            EventId::new(event_id(&app).await),
            None,
            Some(("halle.tmj", &json)),
        )
        .await
        .expect("stored");
    app.state
        .live
        .invalidate(EventId::new(event_id(&app).await));
    assert_eq!(*current_map(&app).await, hall);

    let people = participants(&app, 3).await;
    let mut west = connect(&app, &people[0].0, "").await;
    let mut neighbour = connect(&app, &people[1].0, "").await;
    let mut east = connect(&app, &people[2].0, "").await;
    let (walker, _) = enter(&mut west).await;
    enter(&mut neighbour).await;
    let (far, _) = enter(&mut east).await;
    // At the entrance they see each other.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(goto(&mut east, "e", "lounge").await["area"], "lounge");
    assert_eq!(goto(&mut neighbour, "n", "plenum").await["area"], "plenum");
    let there = goto(&mut west, "w", "plenum").await;
    let (x, y) = (
        there["x"].as_i64().expect("x"),
        there["y"].as_i64().expect("y"),
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    // They all came in at the entrance; at the far end the view starts afresh, without
    // the walker.
    let east_before = east.drain().await;
    let view = east_before
        .iter()
        .rfind(|f| f["t"] == "pos" && f["reset"] == true)
        .expect("a new view at the far end");
    assert!(!mentions(std::slice::from_ref(view), walker), "{view}");
    west.drain().await;
    let near_before = neighbour.drain().await;
    let named =
        near_before.iter().filter(|f| f["t"] == "pos").any(|f| {
            f["m"].as_array().into_iter().flatten().any(|m| {
                m[0].as_u64() == Some(walker) && m.get(3).and_then(Value::as_str).is_some()
            })
        });
    assert!(
        named,
        "the neighbour learned the walker's name: {near_before:?}"
    );

    // The walker paces up and down the stage.
    for step in 0..6 {
        let ny = if step % 2 == 0 { y + 1 } else { y };
        west.send(json!({ "t": "move", "x": x, "y": ny })).await;
        tokio::time::sleep(STEP).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;

    let near = neighbour.drain().await;
    assert!(
        mentions(&near, walker),
        "the neighbour sees the walker: {near:?}"
    );
    let east_after = east.drain().await;
    assert!(
        !mentions(&east_after, walker),
        "nothing of the walker reaches the far end: {east_after:?}"
    );
    let west_frames = west.drain().await;
    assert!(!mentions(&west_frames, far), "nor the other way round");
}

#[tokio::test]
async fn without_javascript_the_list_leads_to_every_place() {
    let app = spawn_app().await;
    let participant = registered(&app, "ohne-skript").await;
    let page = format!("/konvent/{}/karte", demo::KONVENT_SLUG);
    let (status, html) = participant.get_text(&page).await;
    assert_eq!(status, 200);
    let map = current_map(&app).await;
    assert!(
        map.areas.len() >= 8,
        "stage, five tables, help desk, pinboard, lounge"
    );
    for area in &map.areas {
        assert!(html.contains(&area.name), "the list names {}", area.name);
    }
    assert_eq!(html.matches("Hierhin gehen").count(), map.areas.len());
    assert!(html.contains("Patenschaft"), "tables name their patron");

    let go = format!("/konvent/{}/karte/gehen", demo::KONVENT_SLUG);
    let r = participant.post(&go, &[("area", "lounge")]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        r.headers()["location"],
        format!("/konvent/{}/raeume/lounge", demo::KONVENT_SLUG).as_str()
    );
    let r = participant.post(&go, &[("area", "pinnwand")]).await;
    assert_eq!(
        r.headers()["location"],
        format!("/konvent/{}/pinnwand", demo::KONVENT_SLUG).as_str()
    );
    let r = participant.post(&go, &[("area", "keller")]).await;
    assert_eq!(r.status(), 404);

    // Visitors who are not signed in are sent to sign in; the map is no open data.
    let (status, _) = app.visitor().get_text(&format!("{page}.json")).await;
    assert_ne!(status, 200);
}
