//! The council's votes (G9) through a real server: seats and the key on their page, a
//! vote in a session whose result reaches the members live over the WebSocket while two
//! of them change their ballots, and what is refused.

use std::time::Duration;

use futures_util::StreamExt;
use konvent_core::authz::Role;
use konvent_core::demo;
use konvent_core::gremien::majority::Seat;
use konvent_store::Visibility;
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::helpers::{TestApp, User, spawn_app, text};

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn socket(app: &TestApp, user: &User, number: i64) -> Result<Socket, String> {
    let url = format!(
        "{}/gremien/sitzungen/{number}/live",
        app.address.replacen("http://", "ws://", 1)
    );
    let mut req = url.into_client_request().expect("request");
    req.headers_mut()
        .insert("cookie", user.cookie.parse().expect("header"));
    tokio_tungstenite::connect_async(req)
        .await
        .map(|(ws, _)| ws)
        .map_err(|e| e.to_string())
}

/// Reads vote frames until one's region contains `needle`; the region's text.
async fn until(ws: &mut Socket, needle: &str) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let frame = tokio::time::timeout_at(deadline, ws.next())
            .await
            .unwrap_or_else(|_| panic!("no frame with {needle:?} within 10 s"))
            .expect("open")
            .expect("frame");
        if let Message::Text(t) = frame {
            let v: Value = serde_json::from_str(&t).expect("JSON");
            assert_eq!(v["t"], "vote");
            let html = v["html"].as_str().expect("html").to_owned();
            if text(&html).contains(needle) {
                return text(&html);
            }
        }
    }
}

async fn member(app: &TestApp, seat: Seat) -> User {
    app.sign_in_existing(&demo::seat_member(seat).0).await
}

/// A draft of session 46 of `kind`, entered through the form; its id.
async fn draft(app: &TestApp, admin: &User, number: &str, kind: &str) -> i64 {
    let r = admin
        .post(
            "/gremien/beschluesse/neu",
            &[
                ("number", number),
                ("title", "Entwurf zur Abstimmung"),
                ("body", "Text"),
                ("links", ""),
                ("session_number", "46"),
                ("state", "draft"),
                ("kind", kind),
                ("relevance", ""),
            ],
        )
        .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap_or_default());
    let (year, nn) = number.split_once('/').expect("number");
    app.store
        .resolution(
            year.parse().expect("year"),
            nn.parse().expect("nn"),
            Visibility::Confidential,
        )
        .await
        .expect("draft")
        .id
}

async fn open(app: &TestApp, admin: &User, resolution: i64) -> i64 {
    let r = admin
        .post(
            "/gremien/sitzungen/46/abstimmungen",
            &[("resolution", &resolution.to_string()), ("agenda_item", "")],
        )
        .await;
    assert_eq!(r.status(), 303);
    app.store
        .session_votes(46)
        .await
        .expect("votes")
        .into_iter()
        .find(|v| v.resolution_id == resolution)
        .expect("opened")
        .id
}

async fn ballot(user: &User, vote: i64, ballot: &str) -> u16 {
    user.post(
        &format!("/gremien/abstimmungen/{vote}/stimme"),
        &[("ballot", ballot), ("zurueck", "/gremien/sitzungen/46")],
    )
    .await
    .status()
    .as_u16()
}

#[tokio::test]
async fn two_members_change_their_ballots_and_the_result_arrives_live() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let resolution = draft(&app, &admin, "2026/01", "recommendation").await;
    let vote = open(&app, &admin, resolution).await;

    // A member without a seat watches the session.
    let watcher = app.user(Role::Member).await;
    let mut ws = socket(&app, &watcher, 46).await.expect("connected");
    let first = until(&mut ws, "Stand:").await;
    assert!(
        first.contains("0 ja, 0 nein, 0 Enthaltungen, 17 ohne Stimme"),
        "{first}"
    );

    let bw = member(&app, Seat::Bw).await;
    let by = member(&app, Seat::By).await;
    assert_eq!(ballot(&bw, vote, "no").await, 303);
    assert_eq!(ballot(&by, vote, "no").await, 303);
    until(&mut ws, "0 ja, 2 nein").await;
    // Both change their minds.
    assert_eq!(ballot(&bw, vote, "yes").await, 303);
    assert_eq!(ballot(&by, vote, "abstain").await, 303);
    let live = until(&mut ws, "1 ja, 0 nein, 1 Enthaltungen, 15 ohne Stimme").await;
    assert!(
        live.contains("Mitglied Baden-Württemberg (Demo)"),
        "named: {live}"
    );
    assert!(live.contains("angenommen"));

    // The office closes the vote: frozen, stored on the resolution, live and on reload.
    let r = admin
        .post(
            &format!("/gremien/abstimmungen/{vote}/schliessen"),
            &[("zurueck", "")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let closed = until(&mut ws, "Abstimmung geschlossen").await;
    assert!(closed.contains("1 ja, 0 nein, 1 Enthaltungen, 15 ohne Stimme — angenommen"));
    let (_, page) = watcher.get_text("/gremien/sitzungen/46").await;
    assert!(
        text(&page).contains("1 ja, 0 nein, 1 Enthaltungen, 15 ohne Stimme — angenommen"),
        "the page equals the live region"
    );
    let (_, page) = watcher.get_text("/gremien/beschluesse/2026/01").await;
    assert!(
        text(&page).contains("Abstimmungsergebnis"),
        "{}",
        text(&page)
    );
    let stored = app
        .store
        .resolution(2026, 1, Visibility::Confidential)
        .await
        .expect("resolution");
    assert_eq!(stored.state.as_str(), "decided");
}

#[tokio::test]
async fn a_binding_decision_shows_its_arithmetic_in_both_languages() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let resolution = draft(&app, &admin, "2026/02", "binding").await;
    let vote = open(&app, &admin, resolution).await;
    for seat in Seat::ALL {
        let b = if matches!(seat, Seat::Nw | Seat::By | Seat::Bw) {
            "no"
        } else {
            "yes"
        };
        assert_eq!(ballot(&member(&app, seat).await, vote, b).await, 303);
    }
    let (_, page) = admin.get_text("/gremien/sitzungen/46").await;
    assert!(
        text(&page)
            .contains("Bund: ja; 13 Länder ja (50,3 % der Finanzierungsanteile) — abgelehnt"),
        "{}",
        text(&page)
    );
    assert!(text(&page).contains("Nicht erreicht: zwei Drittel der Finanzierungsanteile."));
    let en = admin
        .client
        .get(app.url("/gremien/sitzungen/46"))
        .header("cookie", format!("{}; konvent_lang=en", admin.cookie))
        .send()
        .await
        .expect("GET")
        .text()
        .await
        .expect("body");
    assert!(
        text(&en).contains("Bund: yes; 13 Länder yes (50.3 % of the financing shares) — rejected"),
        "{}",
        text(&en)
    );
}

#[tokio::test]
async fn votes_refuse_strangers_late_ballots_and_reopening() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let resolution = draft(&app, &admin, "2026/03", "procedural").await;
    let vote = open(&app, &admin, resolution).await;

    // Not a seat holder: a member without a seat, a participant, a visitor.
    assert_eq!(
        ballot(&app.user(Role::Member).await, vote, "yes").await,
        403
    );
    assert_eq!(
        ballot(&app.user(Role::Participant).await, vote, "yes").await,
        403
    );
    ballot(&app.visitor(), vote, "yes").await;
    assert!(
        app.store.vote(vote).await.expect("vote").ballots.is_empty(),
        "nobody without a seat has voted"
    );
    // Nor may a member open or close a vote.
    let hb = member(&app, Seat::Hb).await;
    let r = hb
        .post(
            &format!("/gremien/abstimmungen/{vote}/schliessen"),
            &[("zurueck", "")],
        )
        .await;
    assert_eq!(r.status(), 403);
    assert_eq!(
        ballot(&hb, vote, "maybe").await,
        400,
        "a ballot is yes, no or abstain"
    );
    // The live socket is for the members and the office only.
    let participant = app.user(Role::Participant).await;
    assert!(socket(&app, &participant, 46).await.is_err());
    assert!(socket(&app, &app.visitor(), 46).await.is_err());
    // The Bund's deputy votes; the member overrides; the deputy may not override back.
    let deputy = app.sign_in_existing(demo::SEAT_DEPUTY.0).await;
    assert_eq!(ballot(&deputy, vote, "no").await, 303);
    assert_eq!(
        ballot(&member(&app, Seat::Bund).await, vote, "yes").await,
        303
    );
    assert_eq!(ballot(&deputy, vote, "no").await, 409);

    let r = admin
        .post(
            &format!("/gremien/abstimmungen/{vote}/schliessen"),
            &[("zurueck", "")],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        ballot(&hb, vote, "yes").await,
        409,
        "a closed vote takes no ballot"
    );
    let r = admin
        .post(
            &format!("/gremien/abstimmungen/{vote}/schliessen"),
            &[("zurueck", "")],
        )
        .await;
    assert_eq!(r.status(), 409, "closed once");
    let r = admin
        .post(
            "/gremien/sitzungen/46/abstimmungen",
            &[("resolution", &resolution.to_string()), ("agenda_item", "")],
        )
        .await;
    assert_eq!(r.status(), 409, "a decided draft is not reopened");
    let frozen = app.store.vote(vote).await.expect("vote");
    assert_eq!((frozen.tally.yes, frozen.tally.no), (1, 0));
}

fn as_ref(f: &[(String, String)]) -> Vec<(&str, &str)> {
    f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

#[tokio::test]
async fn the_office_maintains_seats_and_the_key_per_year() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (status, page) = admin.get_text("/gremien/stimmen").await;
    assert_eq!(status, 200);
    let page = text(&page);
    assert!(
        page.contains("Königsteiner Schlüssel 2016"),
        "the demo's year is named"
    );
    assert!(page.contains("21,14424"));
    assert!(page.contains("Mitglied Thüringen (Demo)"));

    let mut form: Vec<(String, String)> = vec![("year".into(), "2024".into())];
    for land in Seat::laender() {
        form.push((land.code().into(), "6,25".into()));
    }
    let mut wrong = form.clone();
    wrong[1].1 = "6,26".into();
    let r = admin
        .post("/gremien/stimmen/schluessel", &as_ref(&wrong))
        .await;
    assert_eq!(r.status(), 422);
    assert!(text(&r.text().await.expect("body")).contains("ergeben 100,01000 %"));
    assert_eq!(
        app.store.key_tables().await.expect("keys").len(),
        1,
        "nothing stored"
    );
    let r = admin
        .post("/gremien/stimmen/schluessel", &as_ref(&form))
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(app.store.key_tables().await.expect("keys")[0].year, 2024);

    // A member reads the page but may not change it.
    let member = app.user(Role::Member).await;
    assert_eq!(member.get_text("/gremien/stimmen").await.0, 200);
    assert_eq!(
        member
            .post("/gremien/stimmen/schluessel", &as_ref(&form))
            .await
            .status(),
        403
    );
    assert_ne!(app.visitor().get_text("/gremien/stimmen").await.0, 200);
    // Seats: an unknown address is refused, a known one gets the seat.
    let r = admin
        .post(
            "/gremien/stimmen/sitze",
            &[
                ("seat", "be"),
                ("email", "nobody@example.org"),
                ("role", "deputy"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    let r = admin
        .post(
            "/gremien/stimmen/sitze",
            &[
                ("seat", "be"),
                ("email", "member@test.example"),
                ("role", "deputy"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let id = app.account_id("member@test.example").await;
    assert_eq!(
        app.store.seat_of(id).await.expect("seat"),
        Some((Seat::Be, true))
    );
}

#[tokio::test]
async fn the_office_starts_a_written_procedure_and_the_members_hear_of_it() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let resolution = draft(&app, &admin, "2026/04", "recommendation").await;
    let tomorrow = jiff::Zoned::now()
        .date()
        .tomorrow()
        .expect("date")
        .to_string();
    let r = admin
        .post(
            "/gremien/umlaufverfahren",
            &[("resolution", "x"), ("date", &tomorrow), ("time", "12:00")],
        )
        .await;
    assert_eq!(r.status(), 422);
    let r = admin
        .post(
            "/gremien/umlaufverfahren",
            &[
                ("resolution", &resolution.to_string()),
                ("date", "2020-01-01"),
                ("time", "12:00"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422, "a deadline in the past");
    let r = admin
        .post(
            "/gremien/umlaufverfahren",
            &[
                ("resolution", &resolution.to_string()),
                ("date", &tomorrow),
                ("time", "12:00"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let procedure = &app.store.written_procedures().await.expect("list")[0];
    assert!(procedure.is_open());
    // Every seat holder gets a mail; it names no draft.
    let mails = app.store.mails(500).await.expect("outbox");
    let notices: Vec<_> = mails
        .iter()
        .filter(|m| m.subject.contains("Umlaufverfahren"))
        .collect();
    assert_eq!(notices.len(), 18, "17 members and the Bund's deputy");
    assert!(
        notices
            .iter()
            .all(|m| !m.subject.contains("Entwurf zur Abstimmung"))
    );
    // A member votes on the page.
    let nw = member(&app, Seat::Nw).await;
    let r = nw
        .post(
            &format!("/gremien/abstimmungen/{}/stimme", procedure.id),
            &[("ballot", "yes"), ("zurueck", "/gremien/umlaufverfahren")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let (_, page) = nw.get_text("/gremien/umlaufverfahren").await;
    assert!(text(&page).contains("Mitglied Nordrhein-Westfalen (Demo)"));
}

#[tokio::test]
async fn a_deadline_that_passes_while_konvent_is_stopped_is_counted_once_after_the_restart() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let resolution = draft(&app, &admin, "2026/05", "recommendation").await;
    let deadline = jiff::Timestamp::now().as_microsecond() + 2_000_000;
    let (vote, _) = app
        .store
        .start_written_procedure(
            &konvent_store::Actor::system("Test"),
            resolution,
            deadline,
            &|_| None,
        )
        .await
        .expect("started");
    assert_eq!(
        ballot(&member(&app, Seat::Hb).await, vote, "yes").await,
        303
    );
    assert_eq!(ballot(&member(&app, Seat::Sl).await, vote, "no").await, 303);
    assert_eq!(
        ballot(&member(&app, Seat::Be).await, vote, "yes").await,
        303
    );

    // konvent stops before the deadline, which passes meanwhile.
    let stopped = app.stop().await;
    let wait = deadline - jiff::Timestamp::now().as_microsecond() + 500_000;
    tokio::time::sleep(std::time::Duration::from_micros(
        u64::try_from(wait).unwrap_or(0),
    ))
    .await;
    let app = stopped.start().await;
    let closed = wait_closed(&app, vote).await;
    assert_eq!(closed.closed_at, Some(deadline), "decided at the deadline");
    assert_eq!(
        (
            closed.tally.yes,
            closed.tally.no,
            closed.tally.abstain,
            closed.tally.absent
        ),
        (2, 1, 14, 0),
        "the silent seats abstain"
    );
    // Another restart computes nothing again.
    let version = closed.version;
    let app = app.restart().await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let again = app.store.vote(vote).await.expect("vote");
    assert_eq!((again.version, again.closed_at), (version, Some(deadline)));
    let r = app
        .store
        .resolution(2026, 5, Visibility::Confidential)
        .await
        .expect("resolution");
    assert_eq!(r.vote_result.as_ref(), Some(&again.tally));
    let admin = app.admin().await;
    let (_, page) = admin.get_text("/gremien/beschluesse/2026/05").await;
    assert!(text(&page).contains("Im Umlaufverfahren zählt ein Sitz ohne Stimme als Enthaltung"));
}

async fn wait_closed(app: &TestApp, vote: i64) -> konvent_store::Vote {
    for _ in 0..100 {
        let v = app.store.vote(vote).await.expect("vote");
        if !v.is_open() {
            return v;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the written procedure was not closed after the restart");
}
