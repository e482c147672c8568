//! The World Café's pages through the real server (issue 15): an ended round cannot be
//! started again, a summary saved with the plain form says so, "Am Tisch" names
//! everybody the headcount counts, a seat's live frame carries the same region, and
//! refusals (a round that ended, a full table) come in the reader's language.

use std::time::Duration;

use futures_util::StreamExt;
use konvent_core::demo;
use konvent_core::strategy::demo as strategy_demo;
use konvent_store::Round;
use reqwest::StatusCode;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::helpers::{TestApp, User, spawn_app, text};

const EVENT: &str = "/konvent/strategiekonvent-2025";

/// The organizer adds round 3 (two topics, `capacity` seats each) and returns it.
async fn round_three(app: &TestApp, organizer: &User, capacity: &str) -> Round {
    let r = organizer
        .post(
            &format!("{EVENT}/cafe/runden"),
            &[
                ("topic", "datennutzung"),
                ("topic", "digitale-anwendung"),
                ("minutes", "30"),
                ("capacity", capacity),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let event = app.store.event(demo::KONVENT_SLUG).await.expect("event");
    let round = app
        .store
        .rounds(event.id)
        .await
        .expect("rounds")
        .pop()
        .expect("round 3");
    assert_eq!(round.number, 3);
    round
}

async fn set_round(organizer: &User, round: &Round, running: bool) -> reqwest::Response {
    organizer
        .post(
            &format!("{EVENT}/aktion"),
            &[
                ("t", "round"),
                ("round", &round.id.to_string()),
                ("running", if running { "true" } else { "false" }),
            ],
        )
        .await
}

#[tokio::test]
async fn an_ended_round_offers_no_start_and_the_server_refuses_to_start_it_again() {
    let app = spawn_app().await;
    let organizer = app.registered(demo::KONVENT_MODERATOR.0).await;

    // The demo's rounds 1 and 2 have ended: the café offers no start for them.
    let (status, html) = organizer.get_text(&format!("{EVENT}/cafe")).await;
    assert_eq!(status, 200);
    let page = text(&html);
    assert!(!page.contains("Runde 1 für alle Tische starten"), "{page}");
    assert!(!page.contains("Runde 2 für alle Tische starten"), "{page}");
    assert!(page.contains("Beendete Runden (2)"), "{page}");

    // Round 3 is the next planned one: it alone offers the start.
    let round = round_three(&app, &organizer, "10").await;
    let (_, html) = organizer.get_text(&format!("{EVENT}/cafe")).await;
    assert!(text(&html).contains("Runde 3 für alle Tische starten"));
    assert_eq!(
        set_round(&organizer, &round, true).await.status(),
        StatusCode::SEE_OTHER
    );
    // Running: it stands first, before the ended rounds, with "Platz nehmen".
    let (_, html) = organizer.get_text(&format!("{EVENT}/cafe")).await;
    let running = html.find("Runde 3 für alle Tische beenden").expect("end");
    let ended = html.find("Beendete Runden (2)").expect("ended rounds");
    assert!(running < ended, "the running round comes first");
    assert_eq!(
        set_round(&organizer, &round, false).await.status(),
        StatusCode::SEE_OTHER
    );

    // Ended: no start on the page, and a start posted anyway is refused, clearly.
    let (_, html) = organizer.get_text(&format!("{EVENT}/cafe")).await;
    assert!(!text(&html).contains("Runde 3 für alle Tische starten"));
    let r = set_round(&organizer, &round, true).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let page = text(&r.text().await.expect("body"));
    assert!(
        page.contains("Runde 3 ist schon beendet und lässt sich nicht noch einmal starten"),
        "{page}"
    );
    let event = app.store.event(demo::KONVENT_SLUG).await.expect("event");
    let now = app.store.rounds(event.id).await.expect("rounds");
    assert_eq!(
        now.last().map(|r| r.status.as_str()),
        Some("ended"),
        "nothing half-written"
    );
}

#[tokio::test]
async fn a_refused_round_start_is_explained_in_english_to_an_english_reader() {
    let app = spawn_app().await;
    let mut organizer = app.registered(demo::KONVENT_MODERATOR.0).await;
    let round = round_three(&app, &organizer, "10").await;
    assert_eq!(
        set_round(&organizer, &round, true).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        set_round(&organizer, &round, false).await.status(),
        StatusCode::SEE_OTHER
    );

    organizer.reads_english();
    let r = set_round(&organizer, &round, true).await;

    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let page = text(&r.text().await.expect("body"));
    assert!(
        page.contains(
            "Round 3 has already ended and cannot be started again; only the next planned \
             round can be started."
        ),
        "{page}"
    );
    assert!(!page.contains("schon beendet"), "{page}");
}

#[tokio::test]
async fn a_summary_saved_with_the_plain_form_is_confirmed_beside_the_form() {
    let app = spawn_app().await;
    let organizer = app.registered(demo::KONVENT_MODERATOR.0).await;
    let round = round_three(&app, &organizer, "10").await;
    let table = round.tables[0].id;
    let page = format!("{EVENT}/cafe/tische/{table}");

    // Before saving, the confirmation is there but hidden.
    let (_, html) = organizer.get_text(&page).await;
    assert!(
        html.contains(
            r#"<p class="form-done" role="status" hidden>Zusammenfassung gespeichert</p>"#
        ),
        "{html}"
    );
    // The form's way back carries the confirmation.
    let back = format!("{page}?gespeichert=zusammenfassung");
    assert!(html.contains(&format!(r#"name="zurueck" value="{back}""#)));

    let summary = "Vorrang hat ein gemeinsamer Datenkatalog.";
    let r = organizer
        .post(
            &format!("{EVENT}/aktion"),
            &[
                ("t", "summary"),
                ("table", &table.to_string()),
                ("text", summary),
                ("zurueck", &back),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], back.as_str());
    let (status, html) = organizer.get_text(&back).await;
    assert_eq!(status, 200);
    assert!(
        html.contains(r#"<p class="form-done" role="status">Zusammenfassung gespeichert</p>"#),
        "{html}"
    );
    // Everybody at the table reads it in the summary region.
    let person = app
        .registered(&strategy_demo::participant_email("Jana Albers"))
        .await;
    let (_, html) = person.get_text(&page).await;
    assert!(html.contains(&format!(r#"<div id="summary-{table}""#)));
    assert!(text(&html).contains(summary));
}

/// The `ev` frame of the first entry of `kind` a socket in `room` receives within a few
/// seconds.
async fn next_frame(ws: &mut Socket, kind: &str) -> serde_json::Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next())
            .await
            .expect("a frame in time")
            .expect("open")
            .expect("frame");
        if let Message::Text(t) = msg {
            for line in t.as_str().lines() {
                let v: serde_json::Value = serde_json::from_str(line).expect("json");
                if v["t"] == "ev" && v["kind"] == kind {
                    return v;
                }
            }
        }
    }
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn socket(app: &TestApp, user: &User, room: &str) -> Socket {
    let url = format!(
        "{}/konvent/{}/live?room={room}",
        app.address.replacen("http://", "ws://", 1),
        demo::KONVENT_SLUG
    );
    let mut req = url.into_client_request().expect("request");
    req.headers_mut()
        .insert("cookie", user.cookie.parse().expect("header"));
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.expect("socket");
    // Up to having joined the table's room: what follows is new.
    loop {
        let Ok(Some(Ok(Message::Text(t)))) =
            tokio::time::timeout(Duration::from_secs(5), ws.next()).await
        else {
            panic!("the socket joins the room");
        };
        if t.as_str().contains(r#""t":"joined""#) {
            return ws;
        }
    }
}

#[tokio::test]
async fn am_tisch_names_everybody_the_headcount_counts_on_the_page_and_live() {
    let app = spawn_app().await;
    let organizer = app.registered(demo::KONVENT_MODERATOR.0).await;
    let round = round_three(&app, &organizer, "25").await;
    assert_eq!(
        set_round(&organizer, &round, true).await.status(),
        StatusCode::SEE_OTHER
    );
    let table = &round.tables[0];
    let page = format!("{EVENT}/cafe/tische/{}", table.id);
    let jana = app
        .registered(&strategy_demo::participant_email("Jana Albers"))
        .await;
    let tobias = app
        .registered(&strategy_demo::participant_email("Tobias Brandt"))
        .await;

    // Jana sits down first and keeps the table's room open.
    let r = jana
        .post(
            &format!("{EVENT}/cafe/platz"),
            &[("table", &table.id.to_string())],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let mut ws = socket(&app, &jana, &table.room_slug).await;

    // Tobias sits down: Jana's page learns the count and the names from one fragment.
    let r = tobias
        .post(
            &format!("{EVENT}/cafe/platz"),
            &[("table", &table.id.to_string())],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let frame = next_frame(&mut ws, "seat").await;
    let region = format!("table-people-{}", table.id);
    let html = frame["dom"]
        .as_array()
        .expect("dom")
        .iter()
        .find(|op| op["op"] == "replace" && op["id"] == region.as_str())
        .and_then(|op| op["html"].as_str())
        .expect("the Am-Tisch region")
        .to_owned();
    let live = text(&html);
    assert!(live.contains("2 / 25 Personen"), "{live}");
    assert!(
        live.contains("Jana Albers") && live.contains("Tobias Brandt"),
        "{live}"
    );

    // A reload shows the very same region.
    let (_, page_html) = jana.get_text(&page).await;
    let start = page_html
        .find(&format!(r#"<div id="{region}""#))
        .expect("region on the page");
    let end = start + page_html[start..].find("</div>").expect("end") + "</div>".len();
    assert_eq!(text(&page_html[start..end]), live);
    // …and the headcount is nowhere else on the page to disagree with it.
    assert_eq!(text(&page_html).matches("/ 25").count(), 1);
}

#[tokio::test]
async fn a_full_table_is_explained_in_english_to_an_english_reader() {
    let app = spawn_app().await;
    let organizer = app.registered(demo::KONVENT_MODERATOR.0).await;
    let round = round_three(&app, &organizer, "2").await;
    assert_eq!(
        set_round(&organizer, &round, true).await.status(),
        StatusCode::SEE_OTHER
    );
    let table = round.tables[0].id.to_string();
    for name in ["Jana Albers", "Tobias Brandt"] {
        let person = app
            .registered(&strategy_demo::participant_email(name))
            .await;
        let r = person
            .post(&format!("{EVENT}/cafe/platz"), &[("table", &table)])
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }
    let mut miriam = app
        .registered(&strategy_demo::participant_email("Miriam Celik"))
        .await;

    miriam.reads_english();
    let r = miriam
        .post(&format!("{EVENT}/cafe/platz"), &[("table", &table)])
        .await;

    assert_eq!(r.status(), StatusCode::CONFLICT);
    let page = text(&r.text().await.expect("body"));
    assert!(
        page.contains("This table is full. Please choose another table."),
        "{page}"
    );
    assert!(!page.contains("Tisch ist voll"), "{page}");
}

#[tokio::test]
async fn an_impulse_before_the_round_runs_is_refused_in_english_to_an_english_reader() {
    let app = spawn_app().await;
    let organizer = app.registered(demo::KONVENT_MODERATOR.0).await;
    let round = round_three(&app, &organizer, "10").await;
    let table = round.tables[0].id.to_string();
    let mut jana = app
        .registered(&strategy_demo::participant_email("Jana Albers"))
        .await;

    jana.reads_english();
    let r = jana
        .post(
            &format!("{EVENT}/aktion"),
            &[("t", "impulse"), ("table", &table), ("text", "Zu früh")],
        )
        .await;

    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let page = text(&r.text().await.expect("body"));
    assert!(
        page.contains("Impulses can be written while the round is running."),
        "{page}"
    );
    assert!(!page.contains("solange die Runde"), "{page}");
}
