//! The lobby (K1, K7, K14): what its now/next panel says while the clock or the
//! organizers lead, names said once, and its live regions equal to a reload.

use jiff::{SignedDuration, Timestamp};
use konvent_core::authz::Role;
use konvent_core::convention::{AgendaEntry, AgendaKind, clock};
use konvent_core::demo;
use konvent_store::{EventRole, NewEvent};
use serde_json::Value;

use crate::helpers::{TestApp, User, spawn_app, text};
use crate::ws::connect;

const EVENT: &str = "/konvent/strategiekonvent-2025";
const LOUNGE: &str = "Die Lounge bleibt zur Vernetzung geöffnet.";

/// A participant registered for the demo event.
async fn participant(app: &TestApp) -> User {
    let user = app.user_named(Role::Participant, "lobbygast").await;
    let id = app.account_id("lobbygast@test.example").await;
    let event = app.store.event(demo::KONVENT_SLUG).await.expect("event");
    app.store
        .add_to_event(event.id, id, EventRole::Participant)
        .await
        .expect("registered");
    user
}

async fn set_current(admin: &User, current: &str) {
    set_current_in(admin, EVENT, current).await;
}

async fn set_current_in(admin: &User, event: &str, current: &str) {
    let r = admin
        .post(
            &format!("{event}/aktion"),
            &[("t", "agenda"), ("current", current)],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A live connection to the event `slug` (`crate::ws::connect` knows only the demo's).
async fn socket(app: &TestApp, slug: &str, cookie: &str) -> Socket {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let url = format!(
        "{}/konvent/{slug}/live",
        app.address.replacen("http://", "ws://", 1)
    );
    let mut req = url.into_client_request().expect("request");
    req.headers_mut()
        .insert("cookie", cookie.parse().expect("header"));
    tokio_tungstenite::connect_async(req)
        .await
        .expect("connected")
        .0
}

/// The next `ev` frame of `kind` (a frame may carry several messages, one per line).
async fn next_ev(socket: &mut Socket, kind: &str) -> Value {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    let wait = std::time::Duration::from_secs(10);
    loop {
        let message = tokio::time::timeout(wait, socket.next())
            .await
            .expect("a frame in time")
            .expect("open")
            .expect("a frame");
        let Message::Text(frame) = message else {
            continue;
        };
        for line in frame.as_str().lines() {
            let value: Value = serde_json::from_str(line).expect("JSON");
            if value["t"] == "ev" && value["kind"] == kind {
                return value;
            }
        }
    }
}

/// The fragment an `ev` frame puts in place of the region `id`.
fn replaced<'a>(ev: &'a Value, id: &str) -> &'a str {
    ev["dom"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|op| op["op"] == "replace" && op["id"] == id)
        .and_then(|op| op["html"].as_str())
        .unwrap_or_else(|| panic!("no replace of #{id} in {ev}"))
}

/// The `data-refresh-at` of the region `id` on a page, if any.
fn refresh_at(page: &str, id: &str) -> Option<String> {
    let start = page.find(&format!(r#"id="{id}""#))?;
    let tag = &page[start..start + page[start..].find('>')?];
    let at = tag.find(r#"data-refresh-at=""#)? + r#"data-refresh-at=""#.len();
    Some(tag[at..at + tag[at..].find('"')?].to_owned())
}

#[tokio::test]
async fn an_item_run_after_the_program_replaces_the_lounge_note_until_the_clock_leads_again() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let guest = participant(&app).await;
    // The demo convention was held in February 2025: by the clock, it is over.
    let (_, lobby) = guest.get_text(EVENT).await;
    let page = text(&lobby);
    assert!(page.contains("Das Programm ist beendet."), "{page}");
    assert!(page.contains(LOUNGE));

    // The organizers run the pitches once more, after the program.
    set_current(&admin, "3").await;
    let (_, lobby) = guest.get_text(EVENT).await;
    let page = text(&lobby);
    assert!(
        page.contains("Jetzt: Pitch der Zielbilder durch die Themenpaten"),
        "{page}"
    );
    assert!(page.contains("Danach, 13:40 Uhr: Pause und Orientierung auf der Karte"));
    assert!(!page.contains(LOUNGE), "{page}");
    assert!(!page.contains("Das Programm ist beendet."));
    assert!(
        lobby.contains(
            r#"<tr class="current" aria-current="step"><td class="agenda-time">13:15–13:40</td>"#
        ),
        "the pitches are marked in the programme"
    );
    // Nothing changes by the clock while the organizers lead.
    assert!(!lobby.contains("data-refresh-at"));

    // "Der Uhr folgen": the clock says the program is over again.
    set_current(&admin, "").await;
    let (_, lobby) = guest.get_text(EVENT).await;
    let page = text(&lobby);
    assert!(page.contains("Das Programm ist beendet."), "{page}");
    assert!(page.contains(LOUNGE));
    assert!(!page.contains("Jetzt:"));
    assert!(!lobby.contains("aria-current=\"step\""));
}

#[tokio::test]
async fn rooms_and_items_are_named_once_and_times_stay_on_one_line() {
    let app = spawn_app().await;
    let guest = participant(&app).await;
    let (_, lobby) = guest.get_text(EVENT).await;
    let page = text(&lobby);
    assert!(!page.contains("Plenum Plenum"), "{page}");
    assert!(
        page.contains("Plenum 0 /"),
        "the plenum's headcount follows its name: {page}"
    );
    assert!(!page.contains("Technische Einweisung (Technische Einweisung)"));
    assert!(page.contains("13:00–13:15 Begrüßung sowie Vorstellung der Agenda und Methodik 13:15"));
    // The kind stays where the title does not say it.
    assert!(page.contains("Gemeinsame Arbeit an den Zielbildern – Teil 1 (World-Café-Runde)"));
    assert!(page.contains("Ausblick, Schlussworte und Verabschiedung (Abschluss)"));
    assert!(lobby.contains(r#"<td class="agenda-time">12:00–12:50</td>"#));
}

#[tokio::test]
async fn the_destinations_lead_the_lobby_and_the_survey_joins_them_when_it_opens() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let guest = participant(&app).await;
    let (_, lobby) = guest.get_text(EVENT).await;
    let destinations = lobby
        .find(r#"<nav id="destinations""#)
        .expect("destinations");
    let program = lobby.find(r#"<table id="program""#).expect("programme");
    let announcements = lobby.find(r#"id="announcements""#).expect("announcements");
    let rules = lobby.find(r#"id="regeln""#).expect("house rules");
    assert!(destinations < program && program < announcements && announcements < rules);
    let nav = text(&lobby[destinations..program]);
    for place in [
        "Auf die Karte",
        "World Café",
        "Postkasten & Pinnwand",
        "Fragen ans Podium",
        "Help Desk",
    ] {
        assert!(nav.contains(place), "{place} in {nav}");
    }
    assert!(!nav.contains("Feedback"));
    // The organizers' console is there for everybody to see only when they may use it.
    assert!(
        lobby
            .contains(r#"<li class="destination destination-staff" data-gate="organizer" hidden>"#)
    );

    let r = admin
        .post(&format!("{EVENT}/feedback/freigabe"), &[("open", "true")])
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let (_, lobby) = guest.get_text(EVENT).await;
    assert!(lobby.contains(&format!(r#"<a href="{EVENT}/feedback">Feedback</a>"#)));
    let (_, own) = admin.get_text(EVENT).await;
    assert!(own.contains(r#"<li class="destination destination-staff" data-gate="organizer">"#));
}

#[tokio::test]
async fn the_pitch_timer_runs_in_the_plenum_too_but_not_at_the_tables() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let guest = participant(&app).await;
    let plenum = format!("{EVENT}/raeume/plenum");
    let (_, room) = guest.get_text(&plenum).await;
    assert!(
        room.contains(
            r#"<div id="timer" class="timer" role="timer" aria-live="off" hidden></div>"#
        )
    );
    let r = admin
        .post(
            &format!("{EVENT}/aktion"),
            &[
                ("t", "timer"),
                ("action", "start"),
                ("seconds", "300"),
                ("label", "Pitch Datennutzung"),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    for page in [plenum.as_str(), EVENT] {
        let (_, html) = guest.get_text(page).await;
        assert!(html.contains("data-ends-at="), "{page}");
        assert!(text(&html).contains("Pitch Datennutzung"), "{page}");
    }
    let (_, html) = admin.get_text(&format!("{EVENT}/organisation")).await;
    assert!(html.contains("data-ends-at="));
    let (_, lounge) = guest.get_text(&format!("{EVENT}/raeume/lounge")).await;
    assert!(!lounge.contains(r#"id="timer""#));
}

#[tokio::test]
async fn an_agenda_frame_brings_the_regions_a_reload_shows() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let guest = participant(&app).await;
    let mut socket = connect(&app, &guest.cookie, "").await;
    // An item after the program, then "Der Uhr folgen" (the clock: over).
    for current in ["3", ""] {
        set_current(&admin, current).await;
        let ev = socket
            .until(|f| f["t"] == "ev" && f["kind"] == "agenda")
            .await;
        let (_, page) = guest.get_text(EVENT).await;
        for id in ["lobby-now", "program"] {
            let fragment = replaced(&ev, id);
            assert!(
                page.contains(fragment),
                "after current={current:?}, #{id} of the frame is not the page's:\n{fragment}"
            );
        }
    }
    let r = admin
        .post(&format!("{EVENT}/feedback/freigabe"), &[("open", "true")])
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let ev = socket
        .until(|f| f["t"] == "ev" && f["kind"] == "feedback_open")
        .await;
    let (_, page) = guest.get_text(EVENT).await;
    assert!(page.contains(replaced(&ev, "destinations")));
}

#[tokio::test]
async fn while_the_clock_leads_the_lobby_names_its_next_change_and_after_der_uhr_folgen_too() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    // An event that runs now: a briefing until in ten minutes, then the pitches.
    let now = Timestamp::from_second(Timestamp::now().as_second()).expect("now");
    let mins = |m: i64| now + SignedDuration::from_mins(m);
    let item = |kind, title: &str, from: i64, to: i64| AgendaEntry {
        kind,
        title: title.into(),
        starts_at: mins(from),
        ends_at: mins(to),
    };
    app.store
        .create_event(&NewEvent {
            slug: "heute".into(),
            title: "Konvent heute".into(),
            house_rules: String::new(),
            mute_threshold: 20,
            feedback_url: None,
            agenda: vec![
                item(AgendaKind::TechnicalBriefing, "Einweisung", -20, 10),
                item(AgendaKind::Pitch, "Pitches", 10, 40),
                item(AgendaKind::Closing, "Abschluss", 40, 50),
            ],
            rooms: Vec::new(),
        })
        .await
        .expect("event");
    let event = "/konvent/heute";
    let (_, page) = admin.get_text(event).await;
    assert!(text(&page).contains("Jetzt: Einweisung"), "{}", text(&page));
    assert!(text(&page).contains(&format!("Danach, {} Uhr: Pitches", clock(mins(10)))));
    let briefing_ends = mins(10).to_string();
    assert_eq!(refresh_at(&page, "lobby-now"), Some(briefing_ends.clone()));
    assert_eq!(refresh_at(&page, "program"), Some(briefing_ends.clone()));

    // The organizers start the closing early: the clock changes nothing until they let
    // it lead again.
    set_current_in(&admin, event, "2").await;
    let (_, page) = admin.get_text(event).await;
    assert!(text(&page).contains("Jetzt: Abschluss"));
    assert_eq!(refresh_at(&page, "lobby-now"), None);
    assert_eq!(refresh_at(&page, "program"), None);

    // "Der Uhr folgen": the entry's frame says what the clock says, as a reload does.
    let mut socket = socket(&app, "heute", &admin.cookie).await;
    set_current_in(&admin, event, "").await;
    let ev = next_ev(&mut socket, "agenda").await;
    let (_, page) = admin.get_text(event).await;
    let fragment = replaced(&ev, "lobby-now");
    assert!(fragment.contains("Jetzt: Einweisung"), "{fragment}");
    assert!(page.contains(fragment), "{fragment}");
    assert!(page.contains(replaced(&ev, "program")));
    assert_eq!(refresh_at(&page, "lobby-now"), Some(briefing_ends));
}
