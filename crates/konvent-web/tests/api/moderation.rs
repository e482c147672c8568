//! Moderating an event (K17) through the real server and real WebSockets: hidden and
//! removed items leave no text in the replay, the pages or the exports; mutes, removal
//! from the event, chat locks, reports, the moderation log, and that participants may
//! do none of it.

use konvent_core::ids::AccountId;
use std::time::Duration;

use konvent_core::authz::Role;
use konvent_core::demo;
use konvent_core::ids::TableId;
use konvent_store::{EventRole, Who};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, User, spawn_app, text};
use crate::ws::{Client, connect};

const EVENT: &str = "/konvent/strategiekonvent-2025";

/// A participant of the demo event: a client for pages and forms (its cookie also opens
/// sockets) and the account id.
async fn participant(app: &TestApp, name: &str) -> (User, i64) {
    let user = app.user_named(Role::Participant, name).await;
    let id = app
        .store
        .accounts()
        .await
        .expect("accounts")
        .into_iter()
        .find(|a| a.email == format!("{name}@test.example"))
        .expect("account")
        .id;
    let event = app.store.event(demo::KONVENT_SLUG).await.expect("event");
    app.store
        .add_to_event(event.id, id, EventRole::Participant)
        .await
        .expect("registered");
    (user, id.get())
}

async fn acked(client: &mut Client, frame: Value) -> i64 {
    let answer = client.command(frame.clone()).await;
    assert_eq!(answer["t"], "ack", "{frame} → {answer}");
    answer["seq"].as_i64().expect("seq")
}

/// Every frame a new connection gets from `since=0` in `room`, up to the end of the
/// replay (the `joined` frame with its chat history included), as text.
async fn replay_from_start(app: &TestApp, cookie: &str, room: &str) -> String {
    let mut client = connect(app, cookie, &format!("?since=0&room={room}")).await;
    let frames = client.replay().await;
    frames
        .iter()
        .map(Value::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// The room of the first café table, and its id.
async fn first_table(app: &TestApp) -> (TableId, String) {
    let event = app.store.event(demo::KONVENT_SLUG).await.expect("event");
    let rounds = app.store.rounds(event.id).await.expect("rounds");
    let table = &rounds[0].tables[0];
    (table.id, table.room_slug.clone())
}

#[tokio::test]
async fn a_hidden_impulse_reaches_nobody_who_joins_later_not_even_in_its_own_entry() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (anna, _) = participant(&app, "anna").await;
    let (table, room) = first_table(&app).await;
    let secret = "Geheimimpuls Zebrastreifen Quittengelee";

    let mut moderator = connect(&app, &admin.cookie, &format!("?room={room}")).await;
    let added = acked(
        &mut moderator,
        json!({ "t": "impulse", "id": "i1", "table": table, "text": secret }),
    )
    .await;
    let impulse = app
        .store
        .event_impulses(app.store.event(demo::KONVENT_SLUG).await.expect("event").id)
        .await
        .expect("impulses")
        .into_iter()
        .find(|i| i.text == secret)
        .expect("stored")
        .id;
    // Before hiding, a replay carries the text (the test would pass trivially otherwise).
    assert!(
        replay_from_start(&app, &anna.cookie, &room)
            .await
            .contains(secret)
    );

    let hidden = acked(
        &mut moderator,
        json!({ "t": "moderate_impulse", "id": "h1", "impulse": impulse, "hidden": true }),
    )
    .await;
    assert!(hidden > added);

    let replay = replay_from_start(&app, &anna.cookie, &room).await;
    assert!(!replay.contains(secret), "{replay}");
    assert!(
        replay.contains(r#""redacted":true"#),
        "a tombstone keeps the place"
    );
    // No reader of the log gets it: every stored entry is redacted.
    let event = app.store.event(demo::KONVENT_SLUG).await.expect("event");
    for record in app
        .store
        .live_since(event.id, 0, 100_000)
        .await
        .expect("log")
    {
        assert!(!record.data.to_string().contains(secret), "{record:?}");
    }
    // Its author cannot bring the text back by editing it.
    let refused = moderator
        .command(json!({ "t": "edit_impulse", "id": "e1", "impulse": impulse, "text": secret }))
        .await;
    assert_eq!(refused["t"], "error", "{refused}");
    // The table's page for a participant does not show it either.
    let (_, page) = anna.get_text(&format!("{EVENT}/cafe/tische/{table}")).await;
    assert!(!text(&page).contains(secret));

    // Shown again, a new entry carries the text.
    acked(
        &mut moderator,
        json!({ "t": "moderate_impulse", "id": "s1", "impulse": impulse, "hidden": false }),
    )
    .await;
    assert!(
        replay_from_start(&app, &anna.cookie, &room)
            .await
            .contains(secret)
    );
    // Both are in the organizers' moderation log.
    let (_, page) = admin.get_text(&format!("{EVENT}/moderation")).await;
    let page = text(&page);
    assert!(
        page.contains("Impuls ausgeblendet") && page.contains("Impuls wieder gezeigt"),
        "{page}"
    );
}

#[tokio::test]
async fn a_removed_chat_line_disappears_live_from_the_replay_and_from_the_page() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (anna, _) = participant(&app, "anna").await;
    let (ben, _) = participant(&app, "ben").await;
    let spam = "Kaufen Sie Dosenbrot jetzt sofort";

    let mut writer = connect(&app, &anna.cookie, "?room=plenum").await;
    let mut reader = connect(&app, &ben.cookie, "?room=plenum").await;
    let mut organizer = connect(&app, &admin.cookie, "?room=plenum").await;
    let line = acked(
        &mut writer,
        json!({ "t": "chat", "id": "c1", "text": spam }),
    )
    .await;
    // A participant may not remove it.
    let refused = reader
        .command(json!({ "t": "remove", "id": "r0", "item": "chat", "target": line }))
        .await;
    assert_eq!(refused["code"], "forbidden", "{refused}");

    let removed = acked(
        &mut organizer,
        json!({ "t": "remove", "id": "r1", "item": "chat", "target": line, "reason": "Werbung" }),
    )
    .await;
    let gone = reader
        .until(|f| f["t"] == "ev" && f["kind"] == "removed")
        .await;
    assert_eq!(gone["seq"], removed);
    assert_eq!(gone["data"], json!({ "item": "chat", "id": line }));
    assert_eq!(gone["room"], "plenum");

    let replay = replay_from_start(&app, &ben.cookie, "plenum").await;
    assert!(!replay.contains(spam), "{replay}");
    let (status, page) = ben.get_text(&format!("{EVENT}/raeume/plenum")).await;
    assert_eq!(status, 200);
    assert!(!text(&page).contains(spam));
    // Removing it twice finds nothing.
    let again = organizer
        .command(json!({ "t": "remove", "id": "r2", "item": "chat", "target": line }))
        .await;
    assert_eq!(again["t"], "error");

    // The organizers' log keeps who removed what and why; participants do not see it.
    let (status, page) = admin.get_text(&format!("{EVENT}/moderation")).await;
    assert_eq!(status, 200);
    let page = text(&page);
    assert!(page.contains("Werbung"), "{page}");
    assert!(page.contains(spam), "{page}");
    assert!(page.contains("entfernt"), "{page}");
    let (status, _) = ben.get_text(&format!("{EVENT}/moderation")).await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn removed_impulses_pins_and_questions_leave_the_exports_and_the_replay() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (anna, _) = participant(&app, "anna").await;
    let (table, room) = first_table(&app).await;
    let impulse_text = "Impulsmarke Rhabarberkompott";
    let pin_text = "Pinmarke Stachelbeerkuchen";
    let question_text = "Fragemarke Johannisbeersaft";

    let mut organizer = connect(&app, &admin.cookie, &format!("?room={room}")).await;
    acked(
        &mut organizer,
        json!({ "t": "impulse", "id": "i1", "table": table, "text": impulse_text }),
    )
    .await;
    let mut participant_socket = connect(&app, &anna.cookie, "").await;
    acked(
        &mut participant_socket,
        json!({ "t": "pin", "id": "p1", "text": pin_text }),
    )
    .await;
    acked(
        &mut participant_socket,
        json!({ "t": "ask", "id": "q1", "text": question_text }),
    )
    .await;
    let event = app.store.event(demo::KONVENT_SLUG).await.expect("event");
    let impulse = app
        .store
        .event_impulses(event.id)
        .await
        .expect("impulses")
        .into_iter()
        .find(|i| i.text == impulse_text)
        .expect("impulse")
        .id;
    let (pins, _) = app
        .store
        .pins(event.id, AccountId::new(0))
        .await
        .expect("pins");
    let pin = pins.iter().find(|p| p.text == pin_text).expect("pin").id;
    let questions = app
        .store
        .questions(event.id, None, true)
        .await
        .expect("questions");
    let question = questions
        .iter()
        .find(|q| q.text == question_text)
        .expect("question")
        .id;
    let csv = admin.get_text(&format!("{EVENT}/ergebnisse.csv")).await.1;
    assert!(csv.contains(impulse_text) && csv.contains(pin_text));

    // Through the plain form (no JavaScript), the same path as the socket.
    let items = [
        ("impulse", impulse.get()),
        ("pin", pin.get()),
        ("question", question.get()),
    ];
    for (item, id) in items {
        let r = admin
            .post(
                &format!("{EVENT}/aktion"),
                &[
                    ("t", "remove"),
                    ("item", item),
                    ("target", &id.to_string()),
                    ("reason", "Beleidigend"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{item}");
    }
    for path in ["ergebnisse.csv", "ergebnisse.md", "pinnwand", "fragen"] {
        let (status, body) = admin.get_text(&format!("{EVENT}/{path}")).await;
        assert_eq!(status, 200, "{path}");
        for marker in [impulse_text, pin_text, question_text] {
            assert!(!body.contains(marker), "{path} shows {marker}");
        }
    }
    for cookie in [&anna.cookie, &admin.cookie] {
        let replay = replay_from_start(&app, cookie, &room).await;
        for marker in [impulse_text, pin_text, question_text] {
            assert!(!replay.contains(marker), "{marker} in {replay}");
        }
    }
    // The log lists each removal.
    let log = app.store.moderation_log(event.id).await.expect("log");
    assert_eq!(log.iter().filter(|a| a.action == "remove").count(), 3);
    assert!(
        log.iter()
            .all(|a| a.reason == "Beleidigend" && a.actor == "Test admin")
    );
}

#[tokio::test]
async fn a_muted_person_is_refused_until_the_mute_ends() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (anna, anna_id) = participant(&app, "anna").await;
    let mut socket = connect(&app, &anna.cookie, "?room=plenum").await;
    acked(
        &mut socket,
        json!({ "t": "chat", "id": "c0", "text": "Hallo" }),
    )
    .await;

    let r = admin
        .post(
            &format!("{EVENT}/aktion"),
            &[
                ("t", "mute"),
                ("user", &anna_id.to_string()),
                ("minutes", "10"),
                ("reason", "Beschimpfungen"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    for (id, frame) in [
        ("c1", json!({ "t": "chat", "id": "c1", "text": "Noch was" })),
        ("p1", json!({ "t": "pin", "id": "p1", "text": "Ein Thema" })),
        (
            "q1",
            json!({ "t": "ask", "id": "q1", "text": "Eine Frage" }),
        ),
    ] {
        let refused = socket.command(frame).await;
        assert_eq!(refused["code"], "muted", "{id}: {refused}");
        assert!(
            refused["message"].as_str().unwrap_or("").contains(" bis "),
            "says until when: {refused}"
        );
    }
    // The form says it too.
    let r = anna
        .post(
            &format!("{EVENT}/aktion"),
            &[("t", "chat"), ("room", "plenum"), ("text", "Per Formular")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(text(&r.text().await.expect("body")).contains("stummgeschaltet"));

    // Lifted early, then a short mute that runs out.
    let r = admin
        .post(
            &format!("{EVENT}/aktion"),
            &[("t", "unmute"), ("user", &anna_id.to_string())],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    acked(
        &mut socket,
        json!({ "t": "chat", "id": "c2", "text": "Wieder da" }),
    )
    .await;
    let event = app.store.event(demo::KONVENT_SLUG).await.expect("event");
    let admin_id = app
        .store
        .accounts()
        .await
        .expect("accounts")
        .into_iter()
        .find(|a| a.email == "admin@test.example")
        .expect("admin")
        .id;
    let ends = jiff::Timestamp::now() + jiff::SignedDuration::from_millis(3500);
    app.store
        .mute(
            event.id,
            &Who::new(admin_id, "Test admin"),
            &Who::new(AccountId::new(anna_id), "anna"),
            Some(ends),
            "",
            None,
        )
        .await
        .expect("muted");
    // Other nodes (and this one's cache) follow within two seconds.
    tokio::time::sleep(Duration::from_millis(2300)).await;
    let refused = socket
        .command(json!({ "t": "chat", "id": "c3", "text": "Zu früh" }))
        .await;
    assert_eq!(refused["code"], "muted", "{refused}");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    acked(
        &mut socket,
        json!({ "t": "chat", "id": "c4", "text": "Vorbei" }),
    )
    .await;

    // For the rest of the event.
    let r = admin
        .post(
            &format!("{EVENT}/aktion"),
            &[
                ("t", "mute"),
                ("user", &anna_id.to_string()),
                ("minutes", ""),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let refused = socket
        .command(json!({ "t": "chat", "id": "c5", "text": "Und jetzt?" }))
        .await;
    assert!(
        refused["message"]
            .as_str()
            .unwrap_or("")
            .contains("Rest der Veranstaltung"),
        "{refused}"
    );
}

#[tokio::test]
async fn a_removed_person_is_disconnected_and_cannot_return_until_let_back_in() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (anna, anna_id) = participant(&app, "anna").await;
    let (ben, ben_id) = participant(&app, "ben").await;
    let mut socket = connect(&app, &anna.cookie, "?room=plenum").await;
    socket.replay().await;
    let mut organizer = connect(&app, &admin.cookie, "").await;

    // A participant may not remove anybody.
    let mut other = connect(&app, &ben.cookie, "").await;
    let refused = other
        .command(json!({ "t": "expel", "id": "x0", "user": anna_id }))
        .await;
    assert_eq!(refused["code"], "forbidden");

    acked(
        &mut organizer,
        json!({ "t": "expel", "id": "x1", "user": anna_id, "reason": "Störung" }),
    )
    .await;
    let last = socket.until(|f| f["t"] == "error").await;
    assert_eq!(last["code"], "removed", "{last}");
    assert_eq!(
        last["message"], "Sie wurden von dieser Veranstaltung ausgeschlossen.",
        "in the language of the page"
    );
    assert!(socket.closed().await, "the socket closes");

    // No way back in: socket, pages, forms, registering anew.
    assert_eq!(upgrade_status(&app, &anna.cookie).await, 403);
    let (status, _) = anna.get_text(&format!("{EVENT}/raeume/plenum")).await;
    assert_eq!(status, 403);
    let r = anna
        .post(
            &format!("{EVENT}/aktion"),
            &[
                ("t", "chat"),
                ("room", "plenum"),
                ("text", "Ich bin noch da"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = anna.post(&format!("{EVENT}/anmelden"), &[]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let (_, page) = admin.get_text(&format!("{EVENT}/moderation")).await;
    assert!(text(&page).contains("Störung"));

    // Let back in from the moderation page's form.
    let r = admin
        .post(
            &format!("{EVENT}/aktion"),
            &[("t", "readmit"), ("user", &anna_id.to_string())],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let mut back = connect(&app, &anna.cookie, "?room=plenum").await;
    acked(
        &mut back,
        json!({ "t": "chat", "id": "c1", "text": "Wieder da" }),
    )
    .await;
    assert_ne!(ben_id, anna_id);
}

#[tokio::test]
async fn a_locked_room_refuses_participants_chat_but_not_announcements_or_organizers() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (anna, _) = participant(&app, "anna").await;
    let mut socket = connect(&app, &anna.cookie, "?room=plenum").await;
    let mut organizer = connect(&app, &admin.cookie, "?room=plenum").await;

    let refused = socket
        .command(json!({ "t": "lock_chat", "id": "l0", "room": "plenum", "locked": true }))
        .await;
    assert_eq!(refused["code"], "forbidden");
    let lock = acked(
        &mut organizer,
        json!({ "t": "lock_chat", "id": "l1", "room": "plenum", "locked": true }),
    )
    .await;
    let seen = socket
        .until(|f| f["t"] == "ev" && f["kind"] == "chat_lock")
        .await;
    assert_eq!(seen["seq"], lock);
    assert_eq!(seen["data"]["locked"], true);

    let refused = socket.chat("c1", "Darf ich?").await;
    assert_eq!(refused["code"], "locked", "{refused}");
    acked(
        &mut organizer,
        json!({ "t": "chat", "id": "o1", "text": "Wir übernehmen." }),
    )
    .await;
    let announcement = acked(
        &mut organizer,
        json!({ "t": "announce", "id": "a1", "text": "Gleich geht es weiter." }),
    )
    .await;
    let heard = socket
        .until(|f| f["t"] == "ev" && f["kind"] == "announcement")
        .await;
    assert_eq!(heard["seq"], announcement);
    let (_, page) = anna.get_text(&format!("{EVENT}/raeume/plenum")).await;
    assert!(text(&page).contains("Chat dieses Raums ist gesperrt"));

    acked(
        &mut organizer,
        json!({ "t": "lock_chat", "id": "l2", "room": "plenum", "locked": false }),
    )
    .await;
    acked(
        &mut socket,
        json!({ "t": "chat", "id": "c2", "text": "Jetzt ja." }),
    )
    .await;
}

#[tokio::test]
async fn a_second_report_is_refused_in_english_to_an_english_reader() {
    let app = spawn_app().await;
    let (anna, _) = participant(&app, "anna").await;
    let (mut ben, _) = participant(&app, "ben").await;
    let mut writer = connect(&app, &anna.cookie, "?room=plenum").await;
    let line = acked(
        &mut writer,
        json!({ "t": "chat", "id": "c1", "text": "Ein übler Satz" }),
    )
    .await;
    let report = vec![
        ("t", "report".to_owned()),
        ("item", "chat".to_owned()),
        ("target", line.to_string()),
        ("reason", "Beleidigung".to_owned()),
    ];
    let r = post(&ben, report.clone()).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    ben.reads_english();
    let r = post(&ben, report).await;

    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let page = text(&r.text().await.expect("body"));
    assert!(
        page.contains("You have already reported this post."),
        "{page}"
    );
    assert!(!page.contains("schon gemeldet"), "{page}");
}

#[tokio::test]
async fn a_report_lands_in_the_queue_once_per_person_and_counts_against_the_budget() {
    let app = spawn_app_limited().await;
    let admin = app.admin().await;
    let (anna, _) = participant(&app, "anna").await;
    let (ben, _) = participant(&app, "ben").await;
    let (carla, _) = participant(&app, "carla").await;
    let (dora, _) = participant(&app, "dora").await;
    let mut writer = connect(&app, &anna.cookie, "?room=plenum").await;
    let line = acked(
        &mut writer,
        json!({ "t": "chat", "id": "c1", "text": "Ein übler Satz" }),
    )
    .await;
    let target = line.to_string();
    let report = |reason: &str| {
        vec![
            ("t", "report".to_owned()),
            ("item", "chat".to_owned()),
            ("target", target.clone()),
            ("reason", reason.to_owned()),
        ]
    };

    // Through the form (no JavaScript), once per person.
    let r = post(&ben, report("Beleidigung")).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = post(&ben, report("Nochmal")).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "once per person");
    assert!(text(&r.text().await.expect("body")).contains("schon gemeldet"));
    // The reason is required and limited.
    let r = post(&dora, report("")).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = post(&dora, report(&"x".repeat(501))).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    let event = app.store.event(demo::KONVENT_SLUG).await.expect("event");
    let queue = app.store.report_queue(event.id).await.expect("queue");
    assert_eq!(queue.len(), 1);
    assert_eq!(queue[0].text, "Ein übler Satz");
    assert_eq!(
        queue[0].reasons,
        vec![("ben".to_owned(), "Beleidigung".to_owned())]
    );
    let (_, page) = admin.get_text(&format!("{EVENT}/moderation")).await;
    let page = text(&page);
    assert!(
        page.contains("Ein übler Satz") && page.contains("Beleidigung"),
        "{page}"
    );

    // Reports are durable commands through `live::run` and count against the person's
    // write budget (3 per 10 s here): the fourth is refused.
    let mut organizer = connect(&app, &admin.cookie, "?room=plenum").await;
    let mut reporter = connect(&app, &carla.cookie, "?room=plenum").await;
    let mut answers = Vec::new();
    for i in 0..4 {
        let line = acked(
            &mut organizer,
            json!({ "t": "chat", "id": format!("w{i}"), "text": format!("Satz {i}") }),
        )
        .await;
        answers.push(
            reporter
                .command(json!({
                    "t": "report", "id": format!("r{i}"), "item": "chat",
                    "target": line, "reason": "Spam",
                }))
                .await,
        );
    }
    for answer in &answers[..3] {
        assert_eq!(answer["t"], "ack", "{answers:?}");
    }
    assert_eq!(answers[3]["code"], "rate_limited", "{answers:?}");

    // Dismissed, it leaves the queue; the log lists it.
    let r = admin
        .post(
            &format!("{EVENT}/aktion"),
            &[
                ("t", "dismiss_report"),
                ("item", "chat"),
                ("target", &target),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let queue = app.store.report_queue(event.id).await.expect("queue");
    assert!(queue.iter().all(|q| q.item_id != line));
    let log = app.store.moderation_log(event.id).await.expect("log");
    assert!(log.iter().any(|a| a.action == "dismiss"));
}

#[tokio::test]
async fn participants_can_call_no_moderation_action() {
    let app = spawn_app().await;
    let (anna, _) = participant(&app, "anna").await;
    let (_, ben_id) = participant(&app, "ben").await;
    let ben = ben_id.to_string();
    let forms: [&[(&str, &str)]; 7] = [
        &[("t", "remove"), ("item", "chat"), ("target", "1")],
        &[("t", "dismiss_report"), ("item", "chat"), ("target", "1")],
        &[("t", "mute"), ("user", &ben), ("minutes", "10")],
        &[("t", "unmute"), ("user", &ben)],
        &[("t", "expel"), ("user", &ben)],
        &[("t", "readmit"), ("user", &ben)],
        &[("t", "lock_chat"), ("room", "plenum"), ("locked", "true")],
    ];
    for form in forms {
        let r = anna.post(&format!("{EVENT}/aktion"), form).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{form:?}");
    }
    let (status, _) = anna.get_text(&format!("{EVENT}/moderation")).await;
    assert_eq!(status, 403);
    let event = app.store.event(demo::KONVENT_SLUG).await.expect("event");
    assert!(
        app.store
            .moderation_log(event.id)
            .await
            .expect("log")
            .is_empty()
    );
}

/// Posts a form to the event's action path.
async fn post(user: &User, form: Vec<(&str, String)>) -> reqwest::Response {
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    user.post(&format!("{EVENT}/aktion"), &fields).await
}

/// A server whose per-person write budget is 3 per 10 s.
async fn spawn_app_limited() -> TestApp {
    crate::helpers::spawn_app_with(|s| s.live_writes_per_10s = 3).await
}

/// The status the WebSocket upgrade answers (101 when it succeeds).
async fn upgrade_status(app: &TestApp, cookie: &str) -> u16 {
    match crate::ws::try_connect(app, cookie, "").await {
        Ok(_) => 101,
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(e) => panic!("unexpected {e}"),
    }
}
