//! Deletion of an account (Art. 17 DSGVO, issue 21): a participant who chatted, gave an
//! impulse, pinned and wrote to the help desk asks for deletion, an admin confirms;
//! afterwards the old name is nowhere (pages, API, OParl, exports, the live replay over
//! a real WebSocket), the content stays under the pseudonym, the session and the open
//! socket are dead, and a new account with the same address starts empty.

use std::time::Duration;

use futures_util::StreamExt;
use konvent_core::authz::{Grant, Role, Scope};
use konvent_core::demo;
use konvent_store::{EventRole, Presence, Who};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::helpers::{spawn_app, text};
use crate::leaks::{api, crawl, live, oparl, pdf_text, starts, user_with};

const EVENT: &str = "/konvent/strategiekonvent-2025";
const NAME: &str = "Erika Vergessenwerden";
const EMAIL: &str = "erika.vergessenwerden@test.example";
const MINUTES: &str = "/gremien/sitzungen/47/niederschrift";

/// The minutes of the 47th session as the office reads them: the newest version's page,
/// and each version's page and PDF (as text).
async fn minutes_texts(office: &crate::helpers::User) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let (status, page) = office.get_text(MINUTES).await;
    assert_eq!(status, 200);
    out.push((MINUTES.to_owned(), text(&page)));
    for version in [1, 2] {
        let path = format!("{MINUTES}/fassungen/{version}");
        let (status, page) = office.get_text(&path).await;
        assert_eq!(status, 200, "{path}");
        out.push((path.clone(), text(&page)));
        let path = format!("{path}/niederschrift.pdf");
        let r = office.get(&path).await;
        assert_eq!(r.status().as_u16(), 200, "{path}");
        out.push((path, pdf_text(&r.bytes().await.expect("pdf"))));
    }
    out
}

#[tokio::test]
async fn a_deleted_participant_is_nowhere_by_name_and_their_content_stays_under_a_pseudonym() {
    let app = spawn_app().await;
    let event = app.store.event(demo::KONVENT_SLUG).await.expect("event");
    let participant = Grant::new(Role::Participant, Scope::Global).expect("grant");
    let (id, erika) = user_with(&app, NAME, std::slice::from_ref(&participant)).await;
    app.store
        .add_to_event(event.id, id, EventRole::Participant)
        .await
        .expect("registered");
    let (other_id, other) = user_with(&app, "Bleibt Hier", &[participant]).await;
    app.store
        .add_to_event(event.id, other_id, EventRole::Participant)
        .await
        .expect("registered");

    // Erika takes part: a chat line, a message to the help desk, a question (through
    // the plain forms), an impulse and a pin.
    for form in [
        vec![
            ("t", "chat"),
            ("room", "plenum"),
            ("text", "DELzeile bleibt"),
        ],
        vec![
            ("t", "dm"),
            ("to", "helpdesk"),
            ("text", "DELnachricht geht"),
        ],
        vec![("t", "ask"), ("text", "DELfrage bleibt")],
    ] {
        let r = erika.post(&format!("{EVENT}/aktion"), &form).await;
        assert_eq!(r.status().as_u16(), 303, "{form:?}");
    }
    let me = Who::new(id, NAME);
    let rounds = app.store.rounds(event.id).await.expect("rounds");
    app.store
        .add_impulse(rounds[0].tables[0].id, &me, "DELimpuls bleibt", None)
        .await
        .expect("impulse");
    app.store
        .add_pin(event.id, None, &me, "DELpin bleibt", None)
        .await
        .expect("pin");
    let (_, room) = other.get_text(&format!("{EVENT}/raeume/plenum")).await;
    assert!(text(&room).contains(NAME), "before: the name is shown");

    // Erika's live socket, open while the deletion happens.
    let url = format!(
        "{}{EVENT}/live?since=0",
        app.address.replacen("http://", "ws://", 1)
    );
    let mut req = url.into_client_request().expect("request");
    req.headers_mut()
        .insert("cookie", erika.cookie.parse().expect("header"));
    let (mut socket, _) = tokio_tungstenite::connect_async(req)
        .await
        .expect("socket opens");

    // Erika was a guest of the 47th session: the minutes name her in the attendance
    // and in the office's notes, in a released version 1 and a draft version 2.
    let office = konvent_store::Actor::system("Geschäftsstelle");
    app.store
        .record_attendance(&office, 47, EMAIL, Presence::Guest, Some("DMK"))
        .await
        .expect("attendance");
    app.store
        .generate_minutes(&office, 47)
        .await
        .expect("generated");
    let session = app.store.session(47).await.expect("session");
    let item = app.store.agenda(session.id).await.expect("agenda")[0].id;
    app.store
        .edit_minutes(
            &office,
            47,
            &format!("Das Schlusswort hielt {NAME}."),
            &[(item, format!("{NAME} berichtete aus der DMK."))],
        )
        .await
        .expect("edited");
    app.store
        .finalise_minutes(&office, 47)
        .await
        .expect("final");
    app.store
        .release_minutes(&office, 47, &|_| None)
        .await
        .expect("released");
    app.store
        .edit_minutes(
            &office,
            47,
            &format!("Nachtrag: {NAME} reicht die Folien nach."),
            &[(item, format!("{NAME} berichtete aus der DMK."))],
        )
        .await
        .expect("draft 2");
    let admin = app.admin().await;
    for (place, content) in minutes_texts(&admin).await {
        assert!(content.contains(NAME), "before: {place} names her");
    }

    // The request, with its confirmation step.
    let (status, page) = erika.get_text("/konto/daten").await;
    assert_eq!(status, 200);
    assert!(page.contains("/konto/loeschen"));
    let (status, page) = erika.get_text("/konto/loeschen").await;
    assert_eq!(status, 200);
    assert!(
        text(&page).contains("Gelöschte Person"),
        "the page explains"
    );
    let r = erika.post("/konto/loeschen", &[]).await;
    assert_eq!(r.status().as_u16(), 422, "not without the confirmation");
    assert!(
        app.store
            .deletion_requested(id)
            .await
            .expect("db")
            .is_none()
    );
    let r = erika.post("/konto/loeschen", &[("confirm", "ja")]).await;
    assert_eq!(r.status().as_u16(), 303);
    let (_, page) = erika.get_text("/konto/loeschen").await;
    assert!(
        text(&page).contains("liegt der Administration vor"),
        "{page}"
    );

    // Only admins see and confirm requests.
    let (status, _) = other.get_text("/admin/loeschantraege").await;
    assert_eq!(status, 403);
    let r = other
        .post(&format!("/admin/loeschantraege/{id}/loeschen"), &[])
        .await;
    assert_eq!(r.status().as_u16(), 403);
    let (status, list) = admin.get_text("/admin/loeschantraege").await;
    assert_eq!(status, 200);
    assert!(text(&list).contains(NAME) && list.contains(EMAIL));
    let r = admin
        .post(&format!("/admin/loeschantraege/{id}/loeschen"), &[])
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let (_, list) = admin.get_text("/admin/loeschantraege").await;
    assert!(!text(&list).contains(NAME));
    // A second confirmation finds nothing to do.
    let r = admin
        .post(&format!("/admin/loeschantraege/{id}/loeschen"), &[])
        .await;
    assert_eq!(r.status().as_u16(), 404);

    // The open socket is closed, the session is dead.
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(msg) = socket.next().await {
            match msg {
                Ok(Message::Close(frame)) => return frame.map(|f| u16::from(f.code)),
                Ok(_) => continue,
                Err(_) => return None,
            }
        }
        None
    })
    .await
    .expect("the socket closes within 10 s");
    assert_eq!(closed, Some(4001), "closed as signed out");
    let r = erika.get("/konto/daten").await;
    assert_eq!(r.status().as_u16(), 303, "sent to sign in");

    // The name and the address are nowhere any viewer looks.
    let organizer = app.sign_in_existing(demo::KONVENT_MODERATOR.0).await;
    let rooms: Vec<String> = app
        .store
        .rooms(event.id)
        .await
        .expect("rooms")
        .into_iter()
        .map(|r| r.slug)
        .collect();
    let mut everything = Vec::new();
    for (who, user) in [
        ("admin", &admin),
        ("organizer", &organizer),
        ("participant", &other),
    ] {
        let mut corpus = crawl(user, &starts()).await;
        corpus.extend(api(user).await);
        corpus.extend(oparl(user).await);
        corpus.extend(live(&app, user, &rooms).await);
        for (place, content) in &corpus {
            assert!(
                !content.contains(NAME) && !content.contains(EMAIL),
                "{who} still finds the deleted person in {place}"
            );
        }
        everything.extend(corpus.into_iter().map(|(p, c)| (who, p, c)));
    }
    // The minutes: every version's page and PDF, attendance and notes alike.
    for (place, content) in minutes_texts(&admin).await {
        assert!(
            !content.contains(NAME) && !content.contains(EMAIL),
            "the minutes still name her in {place}"
        );
        assert!(content.contains("Gelöschte Person 1"), "{place}: {content}");
    }
    let stored = app.store.minutes(47).await.expect("minutes");
    assert!(!serde_json::to_string(&stored).expect("json").contains(NAME));

    // The content stays, under the pseudonym, in the pages and the live replay.
    let shows = |what: &str, prefix: &str| {
        everything
            .iter()
            .any(|(_, p, c)| p.starts_with(prefix) && c.contains(what))
    };
    for kept in ["DELzeile bleibt", "DELimpuls bleibt", "DELpin bleibt"] {
        assert!(shows(kept, "/"), "{kept} stays on a page");
        assert!(shows(kept, "live"), "{kept} stays in the live replay");
    }
    assert!(shows("DELfrage bleibt", "/"), "the question stays");
    assert!(shows("Gelöschte Person 1", "/") && shows("Gelöschte Person 1", "live"));
    assert!(
        !everything
            .iter()
            .any(|(_, _, c)| c.contains("DELnachricht geht")),
        "the direct message is gone"
    );
    let (_, room) = other.get_text(&format!("{EVENT}/raeume/plenum")).await;
    let room = text(&room);
    assert!(
        room.contains("Gelöschte Person 1") && room.contains("DELzeile bleibt"),
        "{room}"
    );

    // A new account with the same address starts empty.
    let fresh = app
        .store
        .ensure_account(EMAIL, "Erika Neu", &[])
        .await
        .expect("new account");
    assert_ne!(fresh, id);
    let data = app
        .store
        .personal_data(fresh)
        .await
        .expect("export")
        .expect("account");
    for section in data {
        if section.name != "account" {
            assert!(section.rows.is_empty(), "{} starts empty", section.name);
        }
    }

    // An admin's own request waits for another admin.
    let admin_id = app.account_id("admin@test.example").await;
    let r = admin.post("/konto/loeschen", &[("confirm", "ja")]).await;
    assert_eq!(r.status().as_u16(), 303);
    let r = admin
        .post(&format!("/admin/loeschantraege/{admin_id}/loeschen"), &[])
        .await;
    assert_eq!(r.status().as_u16(), 409);
    assert!(app.store.principal(admin_id).await.expect("db").is_some());
}
