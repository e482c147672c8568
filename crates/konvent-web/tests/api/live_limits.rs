//! Limits of the live socket over a real WebSocket: a socket loses its rights with its
//! session or its grants (issue 14, item 4), every durable command counts against one
//! budget per person (item 6), and a client that saw more than the log holds is told to
//! reload (item 14).

use konvent_core::authz::{Grant, Role, Scope};
use konvent_core::demo;
use konvent_core::ids::TableId;
use konvent_store::EventRole;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Error as WsError;

use crate::helpers::{CSRF, TestApp, spawn_app};
use crate::ws::{Client, connect, log_len, participants, request};

const EVENT: &str = "/konvent/strategiekonvent-2025";

/// The status and JSON error body of a refused upgrade.
fn refused(result: Result<Client, WsError>) -> (u16, Value) {
    match result {
        Err(WsError::Http(response)) => {
            let body = serde_json::from_slice(response.body().as_deref().unwrap_or_default())
                .expect("a JSON error body");
            (response.status().as_u16(), body)
        }
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("connected"),
    }
}

/// The close frame a socket ends with.
async fn closed(client: &mut Client) -> Value {
    client.until(|f| f["t"] == "close").await
}

#[tokio::test]
async fn signing_out_closes_every_socket_of_the_account_and_the_old_cookie_opens_no_new_one() {
    let app = spawn_app().await;
    let people = participants(&app, 2).await;
    let (anna_cookie, _) = &people[0];
    let mut in_room = connect(&app, anna_cookie, "?room=plenum").await;
    let mut other_tab = connect(&app, anna_cookie, "").await;
    let mut bert = connect(&app, &people[1].0, "?room=plenum").await;
    assert_eq!(in_room.chat("a1", "vorher").await["t"], "ack");

    let mut browser = app.visitor();
    browser.cookie = format!("konvent_csrf={CSRF}; {anna_cookie}");
    let response = browser.post("/abmelden", &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);

    for socket in [&mut in_room, &mut other_tab] {
        let close = closed(socket).await;
        assert_eq!(close["code"], 4001, "{close}");
        assert_eq!(close["reason"], "signed out");
    }
    // A new socket with the old cookie is refused before any command.
    let (status, body) = refused(request(&app, Some(anna_cookie), "?room=plenum", None).await);
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "sign_in_required");
    // Somebody else's socket is untouched.
    assert_eq!(bert.chat("b1", "noch da").await["t"], "ack");
}

#[tokio::test]
async fn removing_the_organizer_grant_ends_announcements_and_timers_of_open_sockets() {
    let app = spawn_app().await;
    let event = app.store.event(demo::KONVENT_SLUG).await.expect("event");
    let organizer_grant = Grant::new(Role::Organizer, Scope::Event(event.id)).expect("grant");
    let orga = app
        .store
        .ensure_account(
            "orga@test.example",
            "Olga Orga",
            std::slice::from_ref(&organizer_grant),
        )
        .await
        .expect("account");
    // Also registered: after the grant goes, the account still takes part.
    app.store
        .add_to_event(event.id, orga, EventRole::Participant)
        .await
        .expect("registered");
    let orga_cookie = app.sign_in_existing("orga@test.example").await.cookie;
    let mut socket = connect(&app, &orga_cookie, "?room=plenum").await;
    let answer = socket
        .command(json!({ "t": "announce", "id": "a1", "text": "Gleich geht es los." }))
        .await;
    assert_eq!(answer["t"], "ack", "{answer}");

    let admin = app.admin().await;
    let response = admin
        .post(
            &format!("/admin/konten/{orga}/rollen/entfernen"),
            &[
                ("role", "organizer"),
                ("scope", &Scope::Event(event.id).to_string()),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);

    let close = closed(&mut socket).await;
    assert_eq!(close["code"], 4003, "{close}");
    // The reconnect gets the rights the account has now.
    let mut socket = connect(&app, &orga_cookie, "?room=plenum").await;
    assert_eq!(socket.hello["you"]["organizer"], false);
    for frame in [
        json!({ "t": "announce", "id": "a2", "text": "Noch eine Durchsage" }),
        json!({ "t": "timer", "id": "t1", "action": "start", "seconds": 300 }),
    ] {
        let answer = socket.command(frame.clone()).await;
        assert_eq!(answer["t"], "error", "{frame} → {answer}");
        assert_eq!(answer["code"], "forbidden", "{frame} → {answer}");
    }
}

/// A café round with two tables, running.
async fn running_round(app: &TestApp) -> Vec<TableId> {
    let admin = app.admin().await;
    let response = admin
        .post(
            &format!("{EVENT}/cafe/runden"),
            &[
                ("topic", "datennutzung"),
                ("topic", "digitale-anwendung"),
                ("minutes", "30"),
                ("capacity", "50"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let event = app.store.event(demo::KONVENT_SLUG).await.expect("event");
    let round = app
        .store
        .rounds(event.id)
        .await
        .expect("rounds")
        .pop()
        .expect("the new round");
    let response = admin
        .post(
            &format!("{EVENT}/aktion"),
            &[
                ("t", "round"),
                ("round", &round.id.to_string()),
                ("running", "true"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    round.tables.iter().map(|t| t.id).collect()
}

#[tokio::test]
async fn a_participant_flooding_hands_votes_and_seats_is_refused_after_the_budget() {
    let app = spawn_app().await;
    let event = app.store.event(demo::KONVENT_SLUG).await.expect("event");
    let tables = running_round(&app).await;
    let people = participants(&app, 2).await;
    let (pins, _) = app.store.pins(event.id, people[0].1).await.expect("pins");
    let pin = pins.first().expect("a demo pin").id;
    let mut anna = connect(&app, &people[0].0, "?room=plenum").await;
    let before = log_len(&app).await;

    // 200 commands in one burst, without waiting for the answers.
    let burst: usize = 200;
    for i in 0..burst {
        let id = format!("f{i}");
        let frame = match i % 3 {
            0 => json!({ "t": "hand", "id": id, "up": i.is_multiple_of(2) }),
            1 => json!({ "t": "vote_pin", "id": id, "pin": pin, "on": i % 2 == 1 }),
            _ => json!({ "t": "seat", "id": id, "table": tables[i % 2] }),
        };
        anna.send(frame).await;
    }
    let (mut acked, mut limited) = (0, 0);
    while acked + limited < burst {
        let frame = anna.next().await;
        match frame["t"].as_str() {
            Some("ack") => acked += 1,
            Some("error") => {
                assert_eq!(frame["code"], "rate_limited", "{frame}");
                limited += 1;
            }
            _ => {}
        }
    }
    let budget = 10;
    assert_eq!(acked, budget, "the budget of 10 per 10 s");
    assert_eq!(limited, burst - budget);
    let grown = log_len(&app).await - before;
    assert!(grown <= budget, "the live log grew by {grown} entries");

    // The budget is per person: somebody else still raises a hand.
    let mut bert = connect(&app, &people[1].0, "?room=plenum").await;
    let answer = bert
        .command(json!({ "t": "hand", "id": "b1", "up": true }))
        .await;
    assert_eq!(answer["t"], "ack", "{answer}");
}

#[tokio::test]
async fn a_client_ahead_of_the_log_is_told_to_reload_and_a_bad_since_gets_a_json_error() {
    let app = spawn_app().await;
    let people = participants(&app, 1).await;
    let event = app.store.event(demo::KONVENT_SLUG).await.expect("event");

    // The page saw sequence numbers the restored database never had.
    let ahead = event.last_seq + 1000;
    let mut client = connect(&app, &people[0].0, &format!("?room=plenum&since={ahead}")).await;
    let reload = client
        .until(|f| f["t"] == "reload" || f["t"] == "replayed")
        .await;
    assert_eq!(reload["t"], "reload", "{reload}");
    assert_eq!(reload["seq"], event.last_seq);
    assert!(reload["reason"].as_str().is_some_and(|r| !r.is_empty()));
    let close = client.until(|f| f["t"] == "close").await;
    assert_eq!(close["code"], 4010, "{close}");

    // A client that is up to date resumes as before.
    let mut current = connect(
        &app,
        &people[0].0,
        &format!("?room=plenum&since={}", event.last_seq),
    )
    .await;
    assert!(current.replay().await.iter().all(|f| f["t"] != "reload"));

    for query in ["?since=abc", "?since=1.5", "?since="] {
        let (status, body) = refused(request(&app, Some(&people[0].0), query, None).await);
        assert_eq!(status, 400, "{query}");
        assert_eq!(body["error"]["code"], "bad_request", "{query}: {body}");
        assert!(body["error"]["message"].is_string(), "{query}: {body}");
    }
}

#[tokio::test]
async fn a_request_that_is_no_websocket_handshake_gets_a_json_error_in_its_language() {
    let app = spawn_app().await;
    let people = participants(&app, 1).await;
    let mut browser = app.visitor();
    browser.cookie.clone_from(&people[0].0);
    // A page's link followed by hand: a plain GET, no upgrade.
    let response = browser.get(&format!("{EVENT}/live")).await;
    assert_eq!(response.status(), StatusCode::UPGRADE_REQUIRED);
    let body: Value = response.json().await.expect("a JSON error body");
    assert_eq!(body["error"]["code"], "not_websocket", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Diese Adresse öffnet eine WebSocket-Verbindung")),
        "{body}"
    );
}
