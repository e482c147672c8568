//! The convention's pages: who sees what, the forms that work without JavaScript, the
//! organizers' console, feedback and video links.

use konvent_core::authz::Role;
use konvent_core::demo;
use konvent_core::ids::AccountId;
use konvent_store::{EventRole, Store};

use crate::helpers::{TestApp, User, spawn_app, spawn_app_with, text};

const EVENT: &str = "/konvent/strategiekonvent-2025";

/// A signed-in participant registered for the demo event.
async fn participant(app: &TestApp, n: u32) -> (User, i64) {
    let user = app
        .user_named(Role::Participant, &format!("teilnehmerin{n}"))
        .await;
    let id = user_id(&app.store, &format!("teilnehmerin{n}@test.example")).await;
    let event = app.store.event(demo::KONVENT_SLUG).await.expect("event");
    app.store
        .add_to_event(event.id, AccountId::new(id), EventRole::Participant)
        .await
        .expect("registered");
    (user, id)
}

async fn user_id(store: &Store, email: &str) -> i64 {
    (store
        .accounts()
        .await
        .expect("accounts")
        .into_iter()
        .find(|a| a.email == email)
        .expect("account")
        .id)
        .get()
}

async fn log_len(app: &TestApp) -> usize {
    let event = app.store.event(demo::KONVENT_SLUG).await.expect("event");
    app.store
        .live_since(event.id, 0, 10_000)
        .await
        .expect("log")
        .len()
}

#[tokio::test]
async fn the_lobby_shows_house_rules_and_agenda_to_everybody() {
    let app = spawn_app().await;
    let (status, html) = app.visitor().get_text(EVENT).await;
    assert_eq!(status, 200);
    let page = text(&html);
    assert!(page.contains("Ab 20 Personen werden die Mikrofone automatisch stummgeschaltet."));
    assert!(page.contains("12:50–13:00 Technische Einweisung"), "{page}");
    assert!(page.contains("16:00–16:45 Podiumsdiskussion mit Lena-Sophie Müller"));
    // Rooms and announcements are for participants.
    assert!(!page.contains("Info / Help Desk"));
    assert!(page.contains("Zum Mitmachen bitte anmelden."));
    let (_, list) = app.visitor().get_text("/konvent").await;
    assert!(text(&list).contains("Strategiekonvent 2025"));
}

#[tokio::test]
async fn signed_in_people_register_and_then_enter_rooms() {
    let app = spawn_app().await;
    let user = app.user_named(Role::Participant, "neu").await;
    let (status, _) = user.get_text(&format!("{EVENT}/raeume/plenum")).await;
    assert_eq!(status, 400, "not registered yet");
    // The demo's event is by invitation only; open it for registration.
    let organizer = app.sign_in_existing(demo::KONVENT_MODERATOR.0).await;
    let r = organizer
        .post(
            &format!("{EVENT}/anmeldungen/einstellungen"),
            &[("mode", "open"), ("capacity", "")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let r = user.post(&format!("{EVENT}/anmelden"), &[]).await;
    assert_eq!(r.status().as_u16(), 303);
    let (status, html) = user.get_text(&format!("{EVENT}/raeume/plenum")).await;
    assert_eq!(status, 200);
    assert!(text(&html).contains("Ab 20 Personen werden die Mikrofone beim Betreten"));
    let (_, lobby) = user.get_text(EVENT).await;
    assert!(text(&lobby).contains("Info / Help Desk"));
    // Visitors are sent to sign in.
    let r = app.visitor().get(&format!("{EVENT}/raeume/plenum")).await;
    assert_eq!(r.status().as_u16(), 303);
}

#[tokio::test]
async fn chat_works_without_javascript_and_is_escaped() {
    let app = spawn_app().await;
    let (anna, _) = participant(&app, 1).await;
    let r = anna
        .post(
            &format!("{EVENT}/aktion"),
            &[
                ("t", "chat"),
                ("room", "plenum"),
                ("text", "**Guten Tag** <img src=x onerror=alert(1)>"),
                ("zurueck", "/konvent/strategiekonvent-2025/raeume/plenum"),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(
        r.headers()["location"],
        "/konvent/strategiekonvent-2025/raeume/plenum"
    );
    let (_, html) = anna.get_text(&format!("{EVENT}/raeume/plenum")).await;
    assert!(html.contains("<strong>Guten Tag</strong>"), "{html}");
    assert!(!html.contains("<img src=x"));
    assert!(html.contains("&lt;img src=x"));
    // A foreign return address is not followed.
    let r = anna
        .post(
            &format!("{EVENT}/aktion"),
            &[
                ("t", "chat"),
                ("room", "plenum"),
                ("text", "noch eine"),
                ("zurueck", "https://evil.example/"),
            ],
        )
        .await;
    assert_eq!(r.headers()["location"], EVENT);
    // Empty and oversized lines are refused with a message, nothing stored.
    let before = log_len(&app).await;
    for bad in ["   ", &"x".repeat(2001)] {
        let r = anna
            .post(
                &format!("{EVENT}/aktion"),
                &[("t", "chat"), ("room", "plenum"), ("text", bad)],
            )
            .await;
        assert_eq!(r.status().as_u16(), 400);
    }
    assert_eq!(log_len(&app).await, before);
}

#[tokio::test]
async fn participants_cannot_run_the_event() {
    let app = spawn_app().await;
    let (anna, _) = participant(&app, 1).await;
    let (bert, bert_id) = participant(&app, 2).await;
    bert.post(
        &format!("{EVENT}/aktion"),
        &[("t", "hand"), ("room", "plenum"), ("up", "true")],
    )
    .await;
    let before = log_len(&app).await;
    let bert_id = bert_id.to_string();
    for form in [
        vec![("t", "announce"), ("text", "Alle mal herhören")],
        vec![("t", "agenda"), ("current", "3")],
        vec![("t", "timer"), ("action", "start"), ("seconds", "300")],
        vec![
            ("t", "floor"),
            ("room", "plenum"),
            ("user", bert_id.as_str()),
        ],
    ] {
        let r = anna.post(&format!("{EVENT}/aktion"), &form).await;
        assert_eq!(r.status().as_u16(), 403, "{form:?}");
    }
    assert_eq!(log_len(&app).await, before, "nothing was stored");
    for page in ["organisation", "feedback/ergebnisse"] {
        let (status, _) = anna.get_text(&format!("{EVENT}/{page}")).await;
        assert_eq!(status, 403, "{page}");
    }
    let r = anna
        .post(
            &format!("{EVENT}/raeume"),
            &[
                ("slug", "geheim"),
                ("name", "Geheim"),
                ("kind", "other"),
                ("capacity", "5"),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 403);
}

#[tokio::test]
async fn organizers_run_agenda_timer_rooms_and_feedback() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (status, html) = admin.get_text(&format!("{EVENT}/organisation")).await;
    assert_eq!(status, 200);
    assert!(text(&html).contains("Ablauf steuern"));
    let r = admin
        .post(
            &format!("{EVENT}/aktion"),
            &[("t", "agenda"), ("current", "1")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let (_, lobby) = admin.get_text(EVENT).await;
    assert!(
        text(&lobby).contains("Jetzt: Technische Einweisung"),
        "{}",
        text(&lobby)
    );
    assert!(text(&lobby).contains("Danach, 13:00 Uhr: Begrüßung"));
    admin
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
    let (_, lobby) = admin.get_text(EVENT).await;
    assert!(text(&lobby).contains("Pitch Datennutzung"));
    assert!(lobby.contains("data-ends-at="));
    // A new room; a bad one gets its reasons.
    let r = admin
        .post(
            &format!("{EVENT}/raeume"),
            &[
                ("slug", "ag-1"),
                ("name", "Arbeitsgruppe 1"),
                ("kind", "other"),
                ("capacity", "12"),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let (status, _) = admin.get_text(&format!("{EVENT}/raeume/ag-1")).await;
    assert_eq!(status, 200);
    let r = admin
        .post(
            &format!("{EVENT}/raeume"),
            &[
                ("slug", "AG 2"),
                ("name", ""),
                ("kind", "other"),
                ("capacity", "0"),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 422);
    let r = admin
        .post(
            &format!("{EVENT}/raeume"),
            &[
                ("slug", "ag-1"),
                ("name", "Doppelt"),
                ("kind", "other"),
                ("capacity", "3"),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 409);

    // Feedback: closed until opened; one answer per person; results without names.
    let (anna, _) = participant(&app, 1).await;
    let r = anna
        .post(&format!("{EVENT}/feedback"), &[("rating", "5")])
        .await;
    assert_eq!(r.status().as_u16(), 409);
    admin
        .post(&format!("{EVENT}/feedback/freigabe"), &[("open", "true")])
        .await;
    let r = anna
        .post(&format!("{EVENT}/feedback"), &[("rating", "9")])
        .await;
    assert_eq!(r.status().as_u16(), 422);
    let r = anna
        .post(
            &format!("{EVENT}/feedback"),
            &[("rating", "4"), ("comment", "Gute Tische, zu kurze Pausen")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    anna.post(&format!("{EVENT}/feedback"), &[("rating", "1")])
        .await;
    let (_, page) = anna.get_text(&format!("{EVENT}/feedback")).await;
    assert!(text(&page).contains("Vielen Dank für Ihr Feedback!"));
    let (_, results) = admin
        .get_text(&format!("{EVENT}/feedback/ergebnisse"))
        .await;
    let results = text(&results);
    assert!(results.contains("Antworten: 1"), "{results}");
    assert!(results.contains("Durchschnitt: 4,0"));
    assert!(results.contains("Gute Tische, zu kurze Pausen"));
    assert!(!results.contains("teilnehmerin1"));
}

#[tokio::test]
async fn questions_wait_for_approval_and_stay_anonymous() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (anna, _) = participant(&app, 1).await;
    let (bert, _) = participant(&app, 2).await;
    anna.post(
        &format!("{EVENT}/aktion"),
        &[
            ("t", "ask"),
            ("text", "Wann kommen die Zielbilder?"),
            ("anonymous", "on"),
        ],
    )
    .await;
    let (_, page) = bert.get_text(&format!("{EVENT}/fragen")).await;
    assert!(
        !text(&page).contains("Wann kommen die Zielbilder?"),
        "pending"
    );
    let (_, page) = admin.get_text(&format!("{EVENT}/fragen")).await;
    assert!(text(&page).contains("Wann kommen die Zielbilder?"));
    assert!(text(&page).contains("anonym"));
    let id = page
        .split("<li id=\"question-")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("question id")
        .to_owned();
    admin
        .post(
            &format!("{EVENT}/aktion"),
            &[("t", "moderate"), ("question", &id), ("status", "approved")],
        )
        .await;
    let r = bert
        .post(
            &format!("{EVENT}/aktion"),
            &[("t", "upvote"), ("question", &id)],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let r = bert
        .post(
            &format!("{EVENT}/aktion"),
            &[("t", "upvote"), ("question", &id)],
        )
        .await;
    assert_eq!(
        r.status().as_u16(),
        303,
        "one vote each: back with a notice"
    );
    let (_, page) = bert.get_text(&format!("{EVENT}/fragen")).await;
    let page = text(&page);
    assert!(page.contains("Wann kommen die Zielbilder?"));
    assert!(page.contains("1 Stimme"));
    assert!(!page.contains("1 Stimmen"));
    assert!(!page.contains("teilnehmerin1"), "anonymous");
}

#[tokio::test]
async fn help_desk_messages_reach_the_helpers_and_nobody_else() {
    let app = spawn_app().await;
    let (anna, _) = participant(&app, 1).await;
    let (bert, bert_id) = participant(&app, 2).await;
    anna.post(
        &format!("{EVENT}/aktion"),
        &[
            ("t", "dm"),
            ("to", "helpdesk"),
            ("text", "Mein Ton geht nicht"),
        ],
    )
    .await;
    let (_, own) = anna.get_text(&format!("{EVENT}/nachrichten")).await;
    assert!(text(&own).contains("Mein Ton geht nicht"));
    let (_, other) = bert.get_text(&format!("{EVENT}/nachrichten")).await;
    assert!(!text(&other).contains("Mein Ton geht nicht"));
    // A helper of the demo sees it.
    let helper = app.sign_in_existing(demo::KONVENT_HELPERS[0].0).await;
    let (_, desk) = helper.get_text(&format!("{EVENT}/nachrichten")).await;
    assert!(text(&desk).contains("Mein Ton geht nicht"));
    // Participants write to staff only.
    let r = anna
        .post(
            &format!("{EVENT}/aktion"),
            &[
                ("t", "dm"),
                ("to", &bert_id.to_string()),
                ("text", "Hallo Bert"),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 403);
}

#[tokio::test]
async fn video_says_when_it_is_not_configured() {
    let app = spawn_app().await;
    let (anna, _) = participant(&app, 1).await;
    let (status, page) = anna.get_text(&format!("{EVENT}/raeume/plenum/video")).await;
    assert_eq!(status, 200);
    assert!(text(&page).contains("Für diese Installation ist kein Videodienst eingerichtet."));
}

#[tokio::test]
async fn video_opens_jitsi_with_a_signed_token_and_the_microphone_rule() {
    let app = spawn_app_with(|s| {
        s.video_backend = "jitsi".into();
        s.jitsi_url = "https://meet.example.org".into();
        s.jitsi_app_id = "konvent".into();
        s.jitsi_app_secret = "geheim".into();
    })
    .await;
    let (anna, _) = participant(&app, 1).await;
    let r = anna.get(&format!("{EVENT}/raeume/plenum/video")).await;
    assert_eq!(r.status().as_u16(), 303);
    let location = r.headers()["location"].to_str().expect("ascii").to_owned();
    assert!(
        location.starts_with("https://meet.example.org/strategiekonvent-2025-plenum?jwt=ey"),
        "{location}"
    );
    assert!(location.contains("config.startAudioMuted=19"));
    let (_, room) = anna.get_text(&format!("{EVENT}/raeume/plenum")).await;
    assert!(text(&room).contains("Videoraum öffnen"));
}

#[tokio::test]
async fn video_offers_bigbluebutton_links_with_checksums() {
    let app = spawn_app_with(|s| {
        s.video_backend = "bigbluebutton".into();
        s.bbb_api_url = "https://bbb.example.org/bigbluebutton/api".into();
        s.bbb_secret = "geheim".into();
    })
    .await;
    let admin = app.admin().await;
    let (status, page) = admin
        .get_text(&format!("{EVENT}/raeume/plenum/video"))
        .await;
    assert_eq!(status, 200);
    assert!(page.contains("https://bbb.example.org/bigbluebutton/api/create?name=Plenum"));
    assert!(page.contains("https://bbb.example.org/bigbluebutton/api/join?fullName="));
    assert!(page.contains("role=MODERATOR"));
    assert!(page.contains("checksum="));
    let (anna, _) = participant(&app, 1).await;
    let (_, page) = anna.get_text(&format!("{EVENT}/raeume/plenum/video")).await;
    assert!(
        !page.contains("/create?"),
        "only moderators create the meeting"
    );
    assert!(page.contains("role=VIEWER"));
}
