//! The World Café and the strategy process through the real server: a full table refuses
//! and offers the others, round 2 opens with round 1's summary, exports, consolidation,
//! and a confidential target picture that no page, export or live message shows to
//! those who may not read decision papers.

use std::time::Duration;

use futures_util::StreamExt;
use konvent_core::authz::Role;
use konvent_core::demo;
use konvent_core::strategy::demo as strategy_demo;
use reqwest::StatusCode;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::helpers::{TestApp, User, spawn_app, text};

const EVENT: &str = "/konvent/strategiekonvent-2025";

/// Words of the confidential version that the earlier, published one does not have:
/// the longest run of plain words (letters only, so no HTML escaping changes them).
fn confidential_words() -> String {
    let topic = &strategy_demo::topics().expect("demo topics")[0];
    let earlier = topic.earlier_target_picture();
    let hidden: Vec<&str> = topic
        .target_picture
        .lines()
        .filter(|l| !earlier.contains(*l))
        .collect();
    let mut best: Vec<&str> = Vec::new();
    for line in hidden {
        let mut run: Vec<&str> = Vec::new();
        for word in line.split_whitespace() {
            if word.chars().all(char::is_alphabetic) {
                run.push(word);
                if run.len() > best.len() {
                    best = run.clone();
                }
            } else {
                run.clear();
            }
        }
    }
    assert!(best.len() >= 3, "a distinctive phrase: {best:?}");
    best.join(" ")
}

fn organizer_email() -> &'static str {
    demo::KONVENT_MODERATOR.0
}

/// Every frame the live hub replays to `cookie` from the start, in `room` (or none).
async fn live_replay(app: &TestApp, cookie: &str, room: Option<&str>) -> String {
    let query = match room {
        Some(r) => format!("?since=0&room={r}"),
        None => "?since=0".to_owned(),
    };
    let url = format!(
        "{}/konvent/{}/live{query}",
        app.address.replacen("http://", "ws://", 1),
        demo::KONVENT_SLUG
    );
    let mut req = url.into_client_request().expect("request");
    req.headers_mut()
        .insert("cookie", cookie.parse().expect("header"));
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.expect("socket");
    let mut all = String::new();
    let mut replayed = 0;
    while let Ok(Some(Ok(msg))) = tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
        if let Message::Text(t) = msg {
            all.push_str(t.as_str());
            all.push('\n');
            if t.as_str().contains(r#""t":"replayed""#) {
                replayed += 1;
                // The lobby replay, then the room's (when joining one).
                if replayed == 1 + usize::from(room.is_some()) || room.is_none() {
                    break;
                }
            }
        }
    }
    assert!(all.contains(r#""t":"hello""#), "{all:.500}");
    all
}

#[tokio::test]
async fn a_confidential_target_picture_never_reaches_a_participant() {
    let app = spawn_app().await;
    let secret = confidential_words();
    let topics = strategy_demo::topics().expect("topics");
    let slug = &topics[0].slug;

    // Those who may read decision papers see it (so the search below can find it).
    let admin = app.admin().await;
    let (status, html) = admin.get_text(&format!("/strategie/themen/{slug}")).await;
    assert_eq!(status, 200);
    assert!(
        text(&html).contains(&secret),
        "admin sees the confidential version"
    );
    let patron = app
        .sign_in_existing(&strategy_demo::patron_email(slug))
        .await;
    let (_, html) = patron.get_text(&format!("/strategie/themen/{slug}")).await;
    assert!(text(&html).contains(&secret), "the patron sees it");
    let member = app.user(Role::Member).await;
    let (_, html) = member.get_text(&format!("/strategie/themen/{slug}")).await;
    assert!(text(&html).contains(&secret), "a council member sees it");

    // A participant of the convention, a spokesperson and a visitor do not: not on any
    // page, in any export or API answer, nor in any live message.
    let participant = app
        .registered(&strategy_demo::participant_email("Jana Albers"))
        .await;
    let spokesperson = app.user(Role::Spokesperson).await;
    let visitor = app.visitor();
    let event = app.store.event(demo::KONVENT_SLUG).await.expect("event");
    let rounds = app.store.rounds(event.id).await.expect("rounds");
    let mut paths = vec![
        "/".to_owned(),
        "/strategie".to_owned(),
        "/meine-ergebnisse".to_owned(),
        format!("{EVENT}"),
        format!("{EVENT}/cafe"),
        format!("{EVENT}/pinnwand"),
        format!("{EVENT}/podium"),
        format!("{EVENT}/ergebnisse.md"),
        format!("{EVENT}/ergebnisse.csv"),
        format!("{EVENT}/ergebnisse.pdf"),
        "/api/v1/resolutions".to_owned(),
        "/calendar.ics".to_owned(),
        "/oparl/v1/papers".to_owned(),
    ];
    for t in &topics {
        paths.push(format!("/strategie/themen/{}", t.slug));
        paths.push(format!("/strategie/themen/{}/konsolidierung", t.slug));
    }
    for r in &rounds {
        for t in &r.tables {
            paths.push(format!("{EVENT}/cafe/tische/{}", t.id));
        }
    }
    for (who, user) in [
        ("participant", &participant),
        ("spokesperson", &spokesperson),
        ("visitor", &visitor),
    ] {
        for path in &paths {
            let (status, body) = user.get_text(path).await;
            assert!(status < 500, "{who} {path}: {status}");
            assert!(
                !body.contains(&secret) && !text(&body).contains(&secret),
                "{who} {path} shows the confidential version"
            );
        }
    }
    // Consolidation is the project team's and the patron's.
    let (status, _) = participant
        .get_text(&format!("/strategie/themen/{slug}/konsolidierung"))
        .await;
    assert_eq!(status, 403);

    let cookie = participant.cookie.clone();
    let mut frames = live_replay(&app, &cookie, None).await;
    for t in &topics {
        frames.push_str(&live_replay(&app, &cookie, Some(&t.slug)).await);
    }
    assert!(
        frames.contains(r#""kind":"impulse""#),
        "the replay has impulses"
    );
    assert!(
        !frames.contains(&secret),
        "a live message shows the confidential version"
    );
}

#[tokio::test]
async fn a_full_table_refuses_and_the_next_round_opens_with_the_summary() {
    let app = spawn_app().await;
    let organizer = app.registered(organizer_email()).await;
    let people: Vec<User> = {
        let mut v = Vec::new();
        for name in ["Jana Albers", "Tobias Brandt", "Miriam Celik"] {
            v.push(
                app.registered(&strategy_demo::participant_email(name))
                    .await,
            );
        }
        v
    };
    let event = app.store.event(demo::KONVENT_SLUG).await.expect("event");

    // Round 3 with two tables of two seats.
    let response = organizer
        .post(
            &format!("{EVENT}/cafe/runden"),
            &[
                ("topic", "datennutzung"),
                ("topic", "digitale-anwendung"),
                ("minutes", "30"),
                ("capacity", "2"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let round = app
        .store
        .rounds(event.id)
        .await
        .expect("rounds")
        .pop()
        .expect("round 3");
    assert_eq!(round.number, 3);
    assert_eq!(round.tables.len(), 2);
    let data = &round.tables[0];
    let other = &round.tables[1];
    let round_id = round.id.to_string();
    let response = organizer
        .post(
            &format!("{EVENT}/aktion"),
            &[("t", "round"), ("round", &round_id), ("running", "true")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);

    let table = data.id.to_string();
    for p in &people[..2] {
        let r = p
            .post(&format!("{EVENT}/cafe/platz"), &[("table", &table)])
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }
    // The third finds the table full, politely, with the table that has room.
    let r = people[2]
        .post(&format!("{EVENT}/cafe/platz"), &[("table", &table)])
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let page = text(&r.text().await.expect("body"));
    assert!(page.contains("Dieser Tisch ist voll."), "{page}");
    assert!(
        page.contains(&format!("{} (0 / 2)", other.topic.title)),
        "{page}"
    );
    assert_eq!(
        app.store
            .seat(round.id, {
                let accounts = app.store.accounts().await.expect("accounts");
                accounts
                    .iter()
                    .find(|a| a.email == strategy_demo::participant_email("Miriam Celik"))
                    .expect("account")
                    .id
            })
            .await
            .expect("seat"),
        None,
        "nothing half-written"
    );

    // An impulse at the table shows for the other person there; one from somebody who
    // does not sit there is refused.
    let r = people[0]
        .post(
            &format!("{EVENT}/aktion"),
            &[
                ("t", "impulse"),
                ("table", &table),
                (
                    "text",
                    "Ein Datenkatalog für alle Ebenen, gepflegt wie ein Register.",
                ),
            ],
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap_or_default()
    );
    let (_, html) = people[1]
        .get_text(&format!("{EVENT}/cafe/tische/{table}"))
        .await;
    assert!(text(&html).contains("Ein Datenkatalog für alle Ebenen"));
    let r = people[2]
        .post(
            &format!("{EVENT}/aktion"),
            &[("t", "impulse"), ("table", &table), ("text", "Von außen")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Only the table's moderation writes the summary.
    let r = people[0]
        .post(
            &format!("{EVENT}/aktion"),
            &[("t", "summary"), ("table", &table), ("text", "Von mir")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let summary = "Runde 3 am Tisch Datennutzung: ein gemeinsamer Datenkatalog hat Vorrang.";
    let r = organizer
        .post(
            &format!("{EVENT}/aktion"),
            &[("t", "summary"), ("table", &table), ("text", summary)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = organizer
        .post(
            &format!("{EVENT}/aktion"),
            &[("t", "round"), ("round", &round_id), ("running", "false")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    // Round 4 opens at the same topic's table with round 3's summary.
    let r = organizer
        .post(
            &format!("{EVENT}/cafe/runden"),
            &[
                ("topic", "datennutzung"),
                ("minutes", "30"),
                ("capacity", "10"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let next = app
        .store
        .rounds(event.id)
        .await
        .expect("rounds")
        .pop()
        .expect("round 4");
    assert_eq!(next.number, 4);
    let (status, html) = people[2]
        .get_text(&format!("{EVENT}/cafe/tische/{}", next.tables[0].id))
        .await;
    assert_eq!(status, 200);
    let page = text(&html);
    assert!(page.contains("Zusammenfassung aus Runde 3"), "{page}");
    assert!(page.contains(summary));
}

#[tokio::test]
async fn organizers_export_the_work_results_and_the_podium_bundle() {
    let app = spawn_app().await;
    let organizer = app.registered(organizer_email()).await;
    let topics = strategy_demo::topics().expect("topics");
    let r = organizer.get(&format!("{EVENT}/ergebnisse.md")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let md = r.text().await.expect("markdown");
    assert!(md.starts_with("# Arbeitsergebnisse – Strategiekonvent 2025"));
    assert!(md.contains("## World Café – Runde 2"));
    assert!(md.contains("## Postkasten & Pinnwand"));
    assert!(md.contains("## Feedback"));
    let r = organizer.get(&format!("{EVENT}/ergebnisse.csv")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let csv = r.text().await.expect("csv");
    // With a BOM, so that Excel reads the umlauts (the one export writer adds it).
    let csv = csv.strip_prefix('\u{feff}').expect("BOM");
    assert!(csv.starts_with("Art,Runde,Thema,Von,Text,Stimmen,Stand,Ergebnis"));
    let impulses: usize = topics
        .iter()
        .map(|t| t.impulses.iter().map(Vec::len).sum::<usize>())
        .sum();
    assert_eq!(
        csv.lines().filter(|l| l.starts_with("Impuls,")).count(),
        impulses
    );
    let r = organizer.get(&format!("{EVENT}/ergebnisse.pdf")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers()["content-type"].to_str().expect("type"),
        "application/pdf"
    );
    assert!(r.bytes().await.expect("pdf").starts_with(b"%PDF-"));
    let (status, html) = organizer.get_text(&format!("{EVENT}/podium")).await;
    assert_eq!(status, 200);
    for t in &topics {
        assert!(text(&html).contains(&t.title));
    }
    let participant = app
        .registered(&strategy_demo::participant_email("Jana Albers"))
        .await;
    for path in [
        "ergebnisse.md",
        "ergebnisse.csv",
        "ergebnisse.pdf",
        "podium",
    ] {
        let (status, _) = participant.get_text(&format!("{EVENT}/{path}")).await;
        assert_eq!(status, 403, "{path}");
    }
}

#[tokio::test]
async fn the_patron_consolidates_impulses_into_the_next_draft() {
    let app = spawn_app().await;
    let topics = strategy_demo::topics().expect("topics");
    let slug = &topics[1].slug;
    let patron = app
        .sign_in_existing(&strategy_demo::patron_email(slug))
        .await;
    let path = format!("/strategie/themen/{slug}/konsolidierung");
    let (status, html) = patron.get_text(&path).await;
    assert_eq!(status, 200);
    assert!(text(&html).contains("Gemeinsame Begriffe"));
    // The same suggestions on every visit.
    let (_, again) = patron.get_text(&path).await;
    assert_eq!(html, again);
    let topic = app.store.topic(slug).await.expect("topic");
    let impulses = app.store.topic_impulses(topic.id).await.expect("impulses");
    let (a, b) = (impulses[0].id.to_string(), impulses[1].id.to_string());
    let r = patron
        .post(
            &path,
            &[
                ("aktion", "speichern"),
                ("label", "Datenkompetenz in der Fläche"),
                ("impulse", &a),
                ("impulse", &b),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let groups = app.store.saved_groups(topic.id).await.expect("groups");
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].members.len(), 2);
    // An empty label is refused beside the form, nothing saved.
    let r = patron
        .post(
            &path,
            &[("aktion", "speichern"), ("label", " "), ("impulse", &a)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text(&r.text().await.expect("body")).contains("Bitte eine Bezeichnung eingeben."));
    let group = groups[0].id.to_string();
    let r = patron
        .post(&path, &[("aktion", "uebernehmen"), ("group", &group)])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = patron.get_text(&format!("/strategie/themen/{slug}")).await;
    let page = text(&html);
    assert!(page.contains("Datenkompetenz in der Fläche"), "{page}");
    assert!(page.contains("Entwurf"));
    // Participants see neither the draft nor its groups.
    let participant = app
        .registered(&strategy_demo::participant_email("Jana Albers"))
        .await;
    let (_, html) = participant
        .get_text(&format!("/strategie/themen/{slug}"))
        .await;
    assert!(!text(&html).contains("Datenkompetenz in der Fläche"));
    // She marks the topic as a connection point; it shows on her page and for the
    // project team.
    let topic_id = topic.id.to_string();
    let r = participant
        .post(
            "/strategie/folgen",
            &[
                ("target", "topic"),
                ("id", &topic_id),
                ("on", "true"),
                ("zurueck", "/meine-ergebnisse"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = participant.get_text("/meine-ergebnisse").await;
    let page = text(&html);
    assert!(page.contains("Meine Impulse"));
    assert!(
        page.contains(&format!("Thema: {}", topics[1].title)),
        "{page}"
    );
    let (status, html) = app
        .admin()
        .await
        .get_text("/strategie/anknuepfungspunkte")
        .await;
    assert_eq!(status, 200);
    assert!(text(&html).contains("Jana Albers"));
    let (status, _) = participant.get_text("/strategie/anknuepfungspunkte").await;
    assert_eq!(status, 403);
}

/// The Python that has pikepdf for `scripts/pdf_check.py` (`KONVENT_TEST_PDF_PYTHON`,
/// which scripts/test installs into target/pdf-check-venv), or None after a visible skip
/// line (a failure in CI).
pub(crate) fn python_with_pikepdf(test: &str) -> Option<String> {
    let python = std::env::var("KONVENT_TEST_PDF_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let found = std::process::Command::new(&python)
        .args(["-c", "import pikepdf"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if found {
        return Some(python);
    }
    let in_ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false");
    assert!(
        !in_ci,
        "{test}: {python} has no pikepdf (set KONVENT_TEST_PDF_PYTHON), and CI must check the PDFs"
    );
    eprintln!(
        "skipped: {test}: {python} has no pikepdf (scripts/test installs it; or set KONVENT_TEST_PDF_PYTHON)"
    );
    None
}

/// The results PDF is tagged PDF (PDF/UA-1): scripts/pdf_check.py reads it with pikepdf
/// and checks language, title, metadata, embedded fonts, the structure tree's headings,
/// lists and table, and that every piece of page content belongs to the tree or is an
/// artifact.
#[tokio::test]
async fn the_results_pdf_is_tagged_for_screen_readers() {
    let Some(python) = python_with_pikepdf("the_results_pdf_is_tagged_for_screen_readers") else {
        return;
    };
    let app = spawn_app().await;
    let participant = app
        .registered(&strategy_demo::participant_email("Jana Albers"))
        .await;
    let r = participant
        .post(
            &format!("{EVENT}/aktion"),
            &[
                ("t", "pin"),
                ("text", "Barrierefreie Formulare – für alle"),
                ("topic", ""),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let organizer = app.registered(organizer_email()).await;
    let r = organizer.get(&format!("{EVENT}/ergebnisse.pdf")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let pdf = r.bytes().await.expect("pdf");
    check_tagged_pdf(
        &python,
        &pdf,
        "ergebnisse.pdf",
        "Arbeitsergebnisse – Strategiekonvent 2025",
    );
}

/// Runs `scripts/pdf_check.py` (pikepdf) on a generated PDF: its title, language
/// and the tags of headings, lists and tables (PDF/UA-1).
pub(crate) fn check_tagged_pdf(python: &str, pdf: &[u8], name: &str, title: &str) {
    let dir = std::env::temp_dir().join(format!("konvent-pdf-check-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join(name);
    std::fs::write(&file, pdf).expect("written");
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/pdf_check.py");
    let out = std::process::Command::new(python)
        .arg(script)
        .args(["--title", title])
        .args(["--lang", "de-DE"])
        .args([
            "--tags",
            "Document,H1,H2,H3,P,L,LI,Lbl,LBody,Table,TR,TH,TD",
        ])
        .arg(&file)
        .output()
        .expect("pdf_check.py runs");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "pdf_check.py:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains(": ok ("));
}
