//! The council's votes (G9) through a real server: seats and the key on their page, a
//! vote in a session whose result reaches the members live over the WebSocket while two
//! of them change their ballots, and what is refused.

use konvent_core::ids::{AgendaItemId, ResolutionId, VoteId};
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
async fn draft(app: &TestApp, admin: &User, number: &str, kind: &str) -> ResolutionId {
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

async fn open(app: &TestApp, admin: &User, resolution: ResolutionId) -> VoteId {
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

async fn ballot(user: &User, vote: VoteId, ballot: &str) -> u16 {
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

async fn wait_closed(app: &TestApp, vote: VoteId) -> konvent_store::Vote {
    for _ in 0..100 {
        let v = app.store.vote(vote).await.expect("vote");
        if !v.is_open() {
            return v;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the written procedure was not closed after the restart");
}

/// A vote on an agenda item, opened through the session page; its id.
async fn open_on_item(
    app: &TestApp,
    admin: &User,
    resolution: ResolutionId,
    item: AgendaItemId,
) -> VoteId {
    let r = admin
        .post(
            "/gremien/sitzungen/46/abstimmungen",
            &[
                ("resolution", &resolution.to_string()),
                ("agenda_item", &item.to_string()),
            ],
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

async fn oparl_item(app: &TestApp, item: AgendaItemId) -> Value {
    let r = reqwest::get(app.url(&format!("/oparl/v1/agendaitem/{item}")))
        .await
        .expect("GET");
    assert_eq!(r.status(), 200);
    r.json().await.expect("JSON")
}

#[tokio::test]
async fn oparl_gives_an_agenda_items_vote_result_for_public_resolutions_only() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let session = app.store.session(46).await.expect("46");
    let item = app.store.agenda(session.id).await.expect("agenda")[0].id;
    let adopted = draft(&app, &admin, "2026/11", "binding").await;
    let rejected = draft(&app, &admin, "2026/12", "recommendation").await;

    // The binding draft: every seat yes. The recommendation: two seats no. Both closed.
    let vote = open_on_item(&app, &admin, adopted, item).await;
    for seat in Seat::ALL {
        assert_eq!(ballot(&member(&app, seat).await, vote, "yes").await, 303);
    }
    let other = open_on_item(&app, &admin, rejected, item).await;
    for seat in [Seat::He, Seat::Sn] {
        assert_eq!(ballot(&member(&app, seat).await, other, "no").await, 303);
    }
    for v in [vote, other] {
        let r = admin
            .post(
                &format!("/gremien/abstimmungen/{v}/schliessen"),
                &[("zurueck", "")],
            )
            .await;
        assert_eq!(r.status(), 303);
    }

    // Decided but not yet published, and a rejected draft: no result in OParl.
    let object = oparl_item(&app, item).await;
    assert!(
        object.get("result").is_none(),
        "no result before publication: {object}"
    );
    let before = object["modified"].as_str().expect("modified").to_owned();

    // Published: the result with its arithmetic, the rejected draft still left out.
    let r = admin
        .post(
            "/gremien/beschluesse/2026/11/bearbeiten",
            &[
                ("number", "2026/11"),
                ("title", "Entwurf zur Abstimmung"),
                ("body", "Text"),
                ("links", ""),
                ("session_number", "46"),
                ("state", "published"),
                ("kind", "binding"),
                ("relevance", ""),
            ],
        )
        .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap_or_default());
    let object = oparl_item(&app, item).await;
    let result = object["result"].as_str().expect("a result");
    assert!(
        result.starts_with("Beschluss 2026/11: Bund: ja; 16 Länder ja (")
            && result.ends_with("% der Finanzierungsanteile) — angenommen"),
        "{result}"
    );
    assert!(!result.contains("2026/12"), "{result}");
    assert!(!result.contains("Mitglied"), "no names: {result}");
    // (OParl's times have whole seconds: within one second it may stay the same.)
    assert!(
        object["modified"].as_str().expect("modified") >= before.as_str(),
        "the item's modified time follows its result"
    );
}

/// Session 49, still to come (in a month); the demo's sessions are all held.
async fn upcoming_session(app: &TestApp) {
    let date = jiff::Zoned::now()
        .date()
        .checked_add(jiff::Span::new().days(30))
        .expect("date")
        .to_string();
    let input = konvent_core::gremien::council::SessionInput::parse(
        "49", &date, "10:00", "16:00", "Berlin", "", "planned",
    )
    .expect("valid session");
    app.store
        .create_session(&konvent_store::Actor::system("Test"), &input, 14)
        .await
        .expect("session 49");
}

/// A written procedure on a new draft, started through the page; its id.
async fn written(app: &TestApp, admin: &User, number: &str) -> VoteId {
    let resolution = draft(app, admin, number, "recommendation").await;
    let tomorrow = jiff::Zoned::now()
        .date()
        .tomorrow()
        .expect("date")
        .to_string();
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
    app.store
        .written_procedures()
        .await
        .expect("list")
        .into_iter()
        .find(|v| v.resolution_id == resolution)
        .expect("started")
        .id
}

async fn ask_stop(user: &User, vote: VoteId, reason: &str) -> (u16, String) {
    let r = user
        .post(
            &format!("/gremien/abstimmungen/{vote}/abbruch-antrag"),
            &[("reason", reason), ("zurueck", "/gremien/umlaufverfahren")],
        )
        .await;
    let status = r.status().as_u16();
    (status, text(&r.text().await.unwrap_or_default()))
}

/// The audit actions of `email`'s account (from its personal data export).
async fn audit_actions(app: &TestApp, email: &str) -> Vec<String> {
    let id = app.account_id(email).await;
    let sections = app
        .store
        .personal_data(id)
        .await
        .expect("export")
        .expect("account");
    sections
        .iter()
        .find(|s| s.name == "audit_entries")
        .expect("audit section")
        .rows
        .iter()
        .map(|r| format!("{} {}", r["entity"], r["action"]).replace('"', ""))
        .collect()
}

#[tokio::test]
async fn a_member_asks_to_stop_a_written_procedure_and_the_office_stops_it() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    upcoming_session(&app).await;
    let vote = written(&app, &admin, "2026/21").await;
    let mut ws = {
        let url = format!(
            "{}/gremien/umlaufverfahren/live",
            app.address.replacen("http://", "ws://", 1)
        );
        let mut req = url.into_client_request().expect("request");
        req.headers_mut()
            .insert("cookie", admin.cookie.parse().expect("header"));
        tokio_tungstenite::connect_async(req).await.expect("ws").0
    };

    // Refused: no reason, too long a reason, not a seat holder.
    let he = member(&app, Seat::He).await;
    let (status, page) = ask_stop(&he, vote, "  ").await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("Bitte kurz begründen"), "{page}");
    let (status, page) = ask_stop(&he, vote, &"x".repeat(1001)).await;
    assert_eq!(status, 422);
    assert!(page.contains("höchstens 1000 Zeichen"), "{page}");
    let (status, _) = ask_stop(&app.user(Role::Member).await, vote, "Bitte beraten").await;
    assert_eq!(status, 403, "a member without a seat");

    // Hessen asks, once; a second request of its seat is refused.
    let (status, _) = ask_stop(&he, vote, "Bedarf der Beratung in der Sitzung").await;
    assert_eq!(status, 303);
    let (status, page) = ask_stop(&he, vote, "Noch einmal").await;
    assert_eq!(status, 409);
    assert!(page.contains("schon ein Antrag"), "{page}");
    let live = until(&mut ws, "Bedarf der Beratung in der Sitzung").await;
    assert!(live.contains("Hessen"), "{live}");
    assert!(live.contains("noch nicht entschieden"), "{live}");

    // The office continues: the request is decided, the procedure runs on.
    let r = admin
        .post(
            &format!("/gremien/abstimmungen/{vote}/fortsetzen"),
            &[("zurueck", "/gremien/umlaufverfahren")],
        )
        .await;
    assert_eq!(r.status(), 303);
    until(&mut ws, "das Verfahren läuft weiter").await;
    assert!(app.store.vote(vote).await.expect("vote").is_open());
    let r = admin
        .post(
            &format!("/gremien/abstimmungen/{vote}/fortsetzen"),
            &[("zurueck", "")],
        )
        .await;
    assert_eq!(r.status(), 409, "nothing pending");

    // Saxony asks; the office stops the procedure for session 49.
    let sn = member(&app, Seat::Sn).await;
    assert_eq!(ballot(&sn, vote, "no").await, 303);
    assert_eq!(ask_stop(&sn, vote, "Grundsätzliche Fragen").await.0, 303);
    let r = admin
        .post(
            &format!("/gremien/abstimmungen/{vote}/abbrechen"),
            &[("session", "48"), ("zurueck", "")],
        )
        .await;
    assert_eq!(r.status(), 422, "a held session takes no item");
    let member_of_council = app.user(Role::Member).await;
    let r = member_of_council
        .post(
            &format!("/gremien/abstimmungen/{vote}/abbrechen"),
            &[("session", "49"), ("zurueck", "")],
        )
        .await;
    assert_eq!(r.status(), 403, "only the office decides");
    let r = admin
        .post(
            &format!("/gremien/abstimmungen/{vote}/abbrechen"),
            &[("session", "49"), ("zurueck", "")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let live = until(&mut ws, "Umlaufverfahren abgebrochen").await;
    assert!(
        live.contains("Der Entwurf steht auf der Tagesordnung der 49. Sitzung"),
        "{live}"
    );

    // No result; the draft is an item of session 49 and may be voted on there.
    let stopped = app.store.vote(vote).await.expect("vote");
    assert!(!stopped.is_open());
    assert!(stopped.closed_at.is_none(), "ended without a result");
    let draft = app
        .store
        .resolution(2026, 21, Visibility::Confidential)
        .await
        .expect("draft");
    assert!(draft.vote_result.is_none());
    assert_eq!(draft.state.as_str(), "draft");
    assert_eq!(draft.session_number, Some(49));
    let session = app.store.session(49).await.expect("49");
    let agenda = app.store.agenda(session.id).await.expect("agenda");
    assert!(
        agenda
            .iter()
            .any(|a| a.title == "Beschlussentwurf 2026/21: Entwurf zur Abstimmung"),
        "{:?}",
        agenda.iter().map(|a| &a.title).collect::<Vec<_>>()
    );
    // Ballots and requests on a stopped procedure are refused.
    assert_eq!(ballot(&sn, vote, "yes").await, 409);
    assert_eq!(ask_stop(&he, vote, "Noch einmal").await.0, 409);
    // The draft comes to a vote in session 49.
    let r = admin
        .post(
            "/gremien/sitzungen/49/abstimmungen",
            &[("resolution", &draft.id.to_string()), ("agenda_item", "")],
        )
        .await;
    assert_eq!(r.status(), 303);

    // Audit entries: the members' requests and the office's decisions.
    let he_actions = audit_actions(&app, &demo::seat_member(Seat::He).0).await;
    assert!(
        he_actions.contains(&"vote stop_requested".to_owned()),
        "{he_actions:?}"
    );
    let office = audit_actions(&app, "admin@test.example").await;
    for action in ["vote continued", "vote stopped"] {
        assert!(office.contains(&action.to_owned()), "{office:?}");
    }
    // The request is in the member's personal data export.
    let id = app.account_id(&demo::seat_member(Seat::He).0).await;
    let export = app
        .store
        .personal_data(id)
        .await
        .expect("export")
        .expect("account");
    let requests = &export
        .iter()
        .find(|s| s.name == "council_stop_requests")
        .expect("section")
        .rows;
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0]["reason"], "Bedarf der Beratung in der Sitzung");
    assert_eq!(requests[0]["decision"], "continued");
}

#[tokio::test]
async fn only_present_members_and_the_deputy_of_an_absent_member_vote_in_a_session() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let resolution = draft(&app, &admin, "2026/31", "recommendation").await;
    let vote = open(&app, &admin, resolution).await;
    let watcher = app.user(Role::Member).await;
    let mut ws = socket(&app, &watcher, 46).await.expect("connected");
    until(&mut ws, "nicht erfasst").await;

    let record = |email: String, role: &'static str, conference: &'static str| {
        let admin = &admin;
        async move {
            admin
                .post(
                    "/gremien/sitzungen/46/anwesenheit",
                    &[
                        ("email", email.as_str()),
                        ("role", role),
                        ("conference", conference),
                    ],
                )
                .await
                .status()
                .as_u16()
        }
    };
    // Bayern's member is present; the Bund's member is absent, its deputy present; a
    // guest of the DMK; Hessen sent apologies.
    assert_eq!(
        record(demo::seat_member(Seat::By).0, "member", "").await,
        303
    );
    assert_eq!(
        record(demo::SEAT_DEPUTY.0.to_owned(), "deputy", "").await,
        303
    );
    assert_eq!(
        record(demo::seat_member(Seat::He).0, "apology", "").await,
        303
    );
    app.user_named(Role::Participant, "gast-dmk").await;
    assert_eq!(
        record("gast-dmk@test.example".to_owned(), "guest", "DMK").await,
        303
    );
    // Refused with a message: a member role for a deputy, a guest without conference,
    // an unknown address, a member of the council by a non-office account.
    assert_eq!(
        record(demo::SEAT_DEPUTY.0.to_owned(), "member", "").await,
        422
    );
    assert_eq!(
        record("gast-dmk@test.example".to_owned(), "guest", "").await,
        422
    );
    assert_eq!(
        record("niemand@test.example".to_owned(), "member", "").await,
        422
    );
    let r = watcher
        .post(
            "/gremien/sitzungen/46/anwesenheit",
            &[
                ("email", "x@test.example"),
                ("role", "member"),
                ("conference", ""),
            ],
        )
        .await;
    assert_eq!(r.status(), 403);
    let live = until(&mut ws, "vertreten durch").await;
    assert!(
        live.contains("Es zählen nur die Stimmen anwesender Mitglieder"),
        "{live}"
    );

    // The absent member of Hessen is refused, with a clear message.
    let he = member(&app, Seat::He).await;
    let r = he
        .post(
            &format!("/gremien/abstimmungen/{vote}/stimme"),
            &[("ballot", "yes"), ("zurueck", "/gremien/sitzungen/46")],
        )
        .await;
    assert_eq!(r.status(), 409);
    let page = text(&r.text().await.expect("body"));
    assert!(
        page.contains("Sie sind in dieser Sitzung nicht als anwesend erfasst"),
        "{page}"
    );
    // … and an English reader reads why in English.
    let mut he = he;
    he.reads_english();
    let r = he
        .post(
            &format!("/gremien/abstimmungen/{vote}/stimme"),
            &[("ballot", "yes"), ("zurueck", "/gremien/sitzungen/46")],
        )
        .await;
    assert_eq!(r.status(), 409);
    let page = text(&r.text().await.expect("body"));
    assert!(
        page.contains("You are not recorded as present in this session."),
        "{page}"
    );
    assert!(!page.contains("anwesend erfasst"), "{page}");
    // The absent Bund's member too; its present deputy votes for it.
    assert_eq!(
        ballot(&member(&app, Seat::Bund).await, vote, "no").await,
        409
    );
    let deputy = app.sign_in_existing(demo::SEAT_DEPUTY.0).await;
    assert_eq!(ballot(&deputy, vote, "yes").await, 303);
    assert_eq!(
        ballot(&member(&app, Seat::By).await, vote, "yes").await,
        303
    );
    let live = until(&mut ws, "2 ja").await;
    assert!(live.contains("(Stellvertretung)"), "{live}");
    let v = app.store.vote(vote).await.expect("vote");
    assert_eq!(v.ballots.len(), 2);
    assert!(v.ballot_of(Seat::Bund).expect("Bund").by_deputy);
    assert!(v.ballot_of(Seat::He).is_none());

    // The session page lists the attendance; the guest's FachMK is named.
    let (_, page) = watcher.get_text("/gremien/sitzungen/46").await;
    let page = text(&page);
    assert!(
        page.contains("Gäste aus den Fachministerkonferenzen"),
        "{page}"
    );
    assert!(page.contains("DMK"), "{page}");
    assert!(page.contains("entschuldigt"), "{page}");

    // Once the member is recorded present, the deputy's ballot no longer may change.
    assert_eq!(
        record(demo::seat_member(Seat::Bund).0, "member", "").await,
        303
    );
    let r = deputy
        .post(
            &format!("/gremien/abstimmungen/{vote}/stimme"),
            &[("ballot", "no"), ("zurueck", "")],
        )
        .await;
    assert_eq!(r.status(), 409);
    assert_eq!(
        ballot(&member(&app, Seat::Bund).await, vote, "no").await,
        303
    );
    // In the member's personal data export.
    let id = app.account_id(&demo::seat_member(Seat::By).0).await;
    let export = app
        .store
        .personal_data(id)
        .await
        .expect("export")
        .expect("account");
    let rows = &export
        .iter()
        .find(|s| s.name == "council_attendance")
        .expect("section")
        .rows;
    let session = app.store.session(46).await.expect("46");
    assert!(
        rows.iter()
            .any(|r| r["session_id"] == session.id.get() && r["role"] == "member"),
        "{rows:?}"
    );
}
