//! What the main pages cost in SQL statements (issue 17, "Pages at the start of an
//! event"): each page is requested with the demo data and again with several times the
//! rows (rooms, agenda, people, chat, hands, topics, café tables, impulses, pins,
//! duties), and must run the same number of statements both times, within a small fixed
//! bound: no page runs a query per row.

use konvent_core::authz::{Grant, Role};
use konvent_core::convention::RoomKind;
use konvent_core::demo;
use konvent_core::ids::AccountId;
use konvent_core::strategy::FollowTarget;
use konvent_core::strategy::demo as strategy_demo;
use konvent_store::{ChatLine, EventRole, NewImpulse, NewRoom, NewTable, NewTopic, Who};

use serde_json::json;

use crate::helpers::{TestApp, User, spawn_app};
use crate::ws::connect;

const EVENT: &str = "/konvent/strategiekonvent-2025";

/// Who opens a page.
#[derive(Clone, Copy, Debug)]
enum Opener {
    /// A demo participant registered for the convention.
    Participant,
    /// An administrator.
    Admin,
}

/// The pages, who opens them, and the most statements each may run.
fn pages() -> Vec<(Opener, String, u64)> {
    use Opener::{Admin, Participant};
    let e = |p: &str| format!("{EVENT}{p}");
    vec![
        (Participant, e(""), 1),
        (Participant, e("/raeume/plenum"), 3),
        (Participant, e("/karte"), 2),
        (Participant, e("/cafe"), 3),
        (Participant, "/meine-ergebnisse".into(), 1),
        (
            Participant,
            format!("/strategie/themen/{}", first_topic()),
            12,
        ),
        (Participant, e("/pinnwand"), 4),
        (Participant, e("/fragen"), 2),
        (Participant, e("/nachrichten"), 5),
        (Admin, e("/podium"), 5),
        (Participant, e("/teilnehmende"), 3),
        (Participant, "/konvent".into(), 1),
        (Admin, e(""), 1),
        (Admin, e("/cafe"), 5),
        (Admin, e("/organisation"), 2),
        (Admin, e("/moderation"), 7),
        (Admin, "/gremien/aufgaben".into(), 1),
        (Admin, "/gremien".into(), 2),
        (Admin, "/gremien/sitzungen".into(), 8),
        (Admin, "/gremien/beschluesse".into(), 2),
        (Admin, "/gremien/anliegen".into(), 1),
        (Admin, "/strategie".into(), 3),
    ]
}

/// The slug of the demo's first topic.
fn first_topic() -> String {
    strategy_demo::topics().expect("demo topics")[0]
        .slug
        .clone()
}

/// Each page's status and statements, in the order of [`pages`].
async fn count(participant: &User, admin: &User) -> Vec<(u16, u64)> {
    let mut counts = Vec::new();
    for (opener, path, _) in pages() {
        let user = match opener {
            Opener::Participant => participant,
            Opener::Admin => admin,
        };
        // The second request: the event's cached parts are read on the first.
        user.statements(&path).await;
        counts.push(user.statements(&path).await);
    }
    counts
}

/// Adds `factor - 1` times the demo's rows of what the pages list, through the store as
/// the server would write them (and a few rows copied in SQL where no store method adds
/// them one by one).
async fn grow(app: &TestApp, participant: i64, factor: usize) {
    let store = &app.store;
    let event = store.event(demo::KONVENT_SLUG).await.expect("event");
    let more = factor - 1;
    // Rooms and the agenda (the cached event is read again afterwards).
    for i in 0..more * demo::KONVENT_ROOMS.len() {
        store
            .create_room(
                event.id,
                &NewRoom {
                    slug: format!("raum-{i}"),
                    name: format!("Raum {i}"),
                    kind: RoomKind::Other,
                    capacity: 100,
                    moderator_id: None,
                },
            )
            .await
            .expect("room");
    }
    let pool = sqlx::SqlitePool::connect(&format!(
        "sqlite://{}",
        app.dir.join("konvent.db").display()
    ))
    .await
    .expect("database");
    for k in 1..factor as i64 {
        sqlx::query(
            "INSERT INTO event_agenda (event_id, position, kind, title, starts_at, ends_at) \
             SELECT event_id, position + $1, kind, title, starts_at, ends_at FROM event_agenda \
             WHERE event_id = $2 AND position < 1000",
        )
        .bind(k * 1000)
        .bind(event.id.get())
        .execute(&pool)
        .await
        .expect("agenda");
        // Duties: the same checklists again, at later positions.
        sqlx::query(
            "INSERT INTO duties (resolution_id, conference_id, phase, position, task, owner, \
             due_on, done_at, done_by, created_at, modified_at) \
             SELECT resolution_id, conference_id, phase, position + $1, task, owner, due_on, \
             done_at, done_by, created_at, modified_at FROM duties WHERE position < 1000",
        )
        .bind(k * 1000)
        .execute(&pool)
        .await
        .expect("duties");
    }
    pool.close().await;
    app.state.live.invalidate(event.id);
    let plenum = store
        .rooms(event.id)
        .await
        .expect("rooms")
        .into_iter()
        .find(|r| r.slug == "plenum")
        .expect("plenum");
    // People: registered, speaking for a conference, in the plenum's queue, chatting,
    // asking.
    let mut lines = Vec::new();
    for i in 0..20 * more {
        let id = store
            .ensure_account(
                &format!("mehr-{i}@test.example"),
                &format!("Mehr {i}"),
                &[
                    Grant::new(Role::Spokesperson, "conference:DMK".parse().expect("scope"))
                        .expect("grant"),
                ],
            )
            .await
            .expect("account");
        store
            .add_to_event(event.id, id, EventRole::Participant)
            .await
            .expect("registered");
        let who = Who::new(id, format!("Mehr {i}"));
        store
            .set_hand(event.id, &plenum, &who, true, None)
            .await
            .expect("hand");
        store
            .ask(event.id, &who, &format!("Frage {i}?"), false, None)
            .await
            .expect("question");
        for n in 0..5 {
            lines.push(ChatLine {
                event_id: event.id,
                room: "plenum".into(),
                from: who.clone(),
                client_id: None,
                text: format!("Zeile {n}"),
                html: format!("<p>Zeile {n}</p>"),
            });
        }
    }
    for written in store.post_chats(&lines).await {
        written.expect("chat line");
    }
    let organizer = Who::new(AccountId::new(participant), "Jana Albers");
    for i in 0..3 * more {
        store
            .announce(
                event.id,
                &organizer,
                None,
                &format!("Hinweis {i}"),
                "<p>Hinweis</p>",
            )
            .await
            .expect("announcement");
    }
    // Versions of the first topic's target picture, each published with a resolution.
    let topic = store.topic(&first_topic()).await.expect("topic");
    let resolution = store
        .resolution(2024, 2, konvent_store::Visibility::Public)
        .await
        .expect("resolution");
    for i in 0..3 * more {
        let id = store
            .add_target_picture(
                topic.id,
                &format!("Zielbild, Fassung {i}"),
                konvent_core::strategy::Visibility::Confidential,
                "Test",
            )
            .await
            .expect("version");
        store
            .advance_target_picture(
                id,
                konvent_core::strategy::Visibility::Published,
                Some(resolution.id),
            )
            .await
            .expect("published");
    }
    // Topics, a café round with a table for each, impulses, pins and follows.
    let topics = store.topics().await.expect("topics").len();
    for i in 0..topics * more {
        store
            .create_topic(&NewTopic {
                slug: format!("thema-{i}"),
                title: format!("Thema {i}"),
                patron: "Patenschaft".into(),
                question: format!("Frage zu Thema {i}?"),
                guiding_questions: vec!["Leitfrage?".into()],
            })
            .await
            .expect("topic");
    }
    let topics = store.topics().await.expect("topics");
    let tables: Vec<NewTable> = topics
        .iter()
        .map(|t| NewTable {
            topic_id: t.id,
            moderator_id: None,
            capacity: 20,
        })
        .collect();
    let number = store.rounds(event.id).await.expect("rounds").len() as i64 + 1;
    let round = store
        .create_round(event.id, number, 30, &tables)
        .await
        .expect("round");
    let round = store
        .rounds(event.id)
        .await
        .expect("rounds")
        .into_iter()
        .find(|r| r.id == round)
        .expect("the new round");
    let jana = Who::new(AccountId::new(participant), "Jana Albers");
    let impulses: Vec<NewImpulse> = round
        .tables
        .iter()
        .flat_map(|t| {
            (0..factor).map(|n| NewImpulse {
                table_id: t.id,
                author: jana.clone(),
                text: format!("Impuls {n}"),
                client_id: None,
            })
        })
        .collect();
    for written in store.add_impulses(&impulses).await {
        written.expect("impulse");
    }
    for topic in &topics {
        store
            .follow(
                AccountId::new(participant),
                FollowTarget::Topic,
                topic.id.get(),
                true,
            )
            .await
            .expect("follow");
        store
            .add_pin(event.id, Some(topic.id), &jana, "Merken", None)
            .await
            .expect("pin");
    }
}

#[tokio::test]
async fn the_main_pages_run_a_fixed_number_of_statements_whatever_the_size_of_the_data() {
    let app = spawn_app().await;
    let email = strategy_demo::participant_email(strategy_demo::PARTICIPANTS[0]);
    let participant = app.registered(&email).await;
    let jana = app.account_id(&email).await;
    let admin = app.admin().await;
    let demo_counts = count(&participant, &admin).await;
    grow(&app, jana.get(), 4).await;
    let grown_counts = count(&participant, &admin).await;

    let mut failures = Vec::new();
    for (((opener, path, bound), (status, small)), (grown_status, large)) in
        pages().into_iter().zip(demo_counts).zip(grown_counts)
    {
        eprintln!(
            "{opener:?} {path}: {small} statements with the demo data, {large} with four \
             times the rows (at most {bound})"
        );
        if status != 200 || grown_status != 200 {
            failures.push(format!(
                "{opener:?} {path}: answered {status}, then {grown_status}"
            ));
        } else if small != large || large > bound {
            failures.push(format!(
                "{opener:?} {path}: {small} statements with the demo data, {large} with four \
                 times the rows, at most {bound} allowed"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// While people of the event are connected, the parts of its pages that only the live
/// log changes (a room's chat, its raised hands, the announcements, the café's rounds)
/// are read once and served from memory; the next entry of the event makes the node read
/// them anew, so a reload shows at once what the live page shows.
#[tokio::test]
async fn pages_come_from_memory_while_the_event_is_live_and_follow_its_next_entry() {
    let app = spawn_app().await;
    let email = strategy_demo::participant_email(strategy_demo::PARTICIPANTS[0]);
    let participant = app.registered(&email).await;
    let jana = app.account_id(&email).await;
    let plenum = format!("{EVENT}/raeume/plenum");
    let pages = [
        EVENT.to_owned(),
        plenum.clone(),
        format!("{EVENT}/karte"),
        format!("{EVENT}/cafe"),
    ];
    // Without a connection, each page reads its parts from the database every time.
    for page in &pages {
        participant.statements(page).await;
        let (status, n) = participant.statements(page).await;
        assert_eq!(status, 200, "{page}");
        assert!(
            n > 0,
            "{page}: read from the database with nobody connected"
        );
    }

    let mut live = connect(&app, &participant.cookie, "?room=plenum").await;
    live.replay().await;
    for page in &pages {
        participant.statements(page).await;
        assert_eq!(
            participant.statements(page).await,
            (200, 0),
            "{page}: from memory while the event is live"
        );
    }

    // A chat line and a raised hand: the next reload shows both, as the live page does.
    live.acked(json!({ "t": "chat", "id": "c1", "text": "Frisch aus dem Log" }))
        .await;
    live.acked(json!({ "t": "hand", "id": "h1", "up": true }))
        .await;
    let (status, html) = participant.get_text(&plenum).await;
    assert_eq!(status, 200);
    assert!(html.contains("Frisch aus dem Log"), "the new chat line");
    let queue = html
        .split("<ol id=\"queue\"")
        .nth(1)
        .and_then(|rest| rest.split("</ol>").next())
        .expect("the speaker queue");
    assert!(
        queue.contains(&format!("data-user=\"{jana}\"")),
        "the raised hand is in the queue: {queue}"
    );

    // A round the organizer creates writes no entry, and still shows on the next reload.
    let cafe = format!("{EVENT}/cafe");
    let (_, before) = participant.get_text(&cafe).await;
    assert!(!before.contains("id=\"round3\""), "no third round yet");
    let admin = app.admin().await;
    let created = admin
        .post(
            &format!("{EVENT}/cafe/runden"),
            &[
                ("topic", "datennutzung"),
                ("minutes", "30"),
                ("capacity", "8"),
            ],
        )
        .await;
    assert_eq!(created.status(), 303);
    let (_, after) = participant.get_text(&cafe).await;
    assert!(
        after.contains("id=\"round3\""),
        "the new round on the reload"
    );
}
