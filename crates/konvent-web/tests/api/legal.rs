//! What a public body must offer (issue 21): the legal pages, linked from every page.

use konvent_core::authz::Role;
use konvent_core::ids::{PinId, QuestionId};
use konvent_web::legal::LegalSettings;

use crate::helpers::{spawn_app, spawn_app_with, text};

const LEGAL_PAGES: [&str; 4] = [
    "/barrierefreiheit",
    "/leichte-sprache",
    "/impressum",
    "/datenschutz",
];

fn links_every_legal_page(html: &str) -> bool {
    LEGAL_PAGES
        .iter()
        .all(|path| html.contains(&format!("<a href=\"{path}\">")))
}

#[tokio::test]
async fn every_page_links_the_statement_plain_language_imprint_and_privacy_in_its_footer() {
    let app = spawn_app().await;
    let visitor = app.visitor();
    let participant = app.user(Role::Participant).await;
    let admin = app.admin().await;
    let mut pages = vec![
        "/",
        "/konvent",
        "/gremien",
        "/strategie",
        "/gremien/konferenzen",
        "/anmelden",
        "/gibt-es-nicht",
    ];
    pages.extend(LEGAL_PAGES);
    for path in &pages {
        let (status, html) = visitor.get_text(path).await;
        assert!(status == 200 || status == 404, "{path}: {status}");
        let footer = html.split("<footer").nth(1).expect("a footer");
        assert!(links_every_legal_page(footer), "{path} lacks a legal link");
    }
    for (who, path) in [
        (&participant, "/konvent/strategiekonvent-2025"),
        (&admin, "/admin/konten"),
        (&admin, "/admin/mails"),
    ] {
        let (status, html) = who.get_text(path).await;
        assert_eq!(status, 200, "{path}");
        assert!(links_every_legal_page(&html), "{path} lacks a legal link");
    }
}

#[tokio::test]
async fn the_default_statement_names_konvents_barriers_and_the_hessian_enforcement_body() {
    let app = spawn_app().await;
    let (status, html) = app.visitor().get_text("/barrierefreiheit").await;
    assert_eq!(status, 200);
    let page = text(&html);
    for expected in [
        "Erklärung zur Barrierefreiheit",
        "teilweise vereinbar",
        "Liste der Orte",
        "Videoräume eines anderen Anbieters",
        "sechs Wochen",
        "Landesbeauftragte für barrierefreie IT",
        "Regierungspräsidium Gießen",
        "noch nicht angegeben",
        "HVBIT",
    ] {
        assert!(page.contains(expected), "missing {expected:?}: {page}");
    }
    let mut english = app.visitor();
    english.reads_english();
    let (_, html) = english.get_text("/barrierefreiheit").await;
    let page = text(&html);
    assert!(page.contains("Accessibility statement"), "{page}");
    assert!(page.contains("six weeks"), "{page}");
}

#[tokio::test]
async fn the_statement_renders_from_the_operators_settings() {
    let app = spawn_app_with(|s| {
        s.legal = LegalSettings {
            operator: "Bundesamt für Beispiele".into(),
            conformity: "fully".into(),
            prepared_on: "2026-11-02".into(),
            reviewed_on: "2026-12-01".into(),
            feedback_email: "barrieren@bund.example".into(),
            feedback_phone: "+49 30 1234".into(),
            enforcement: "bund".into(),
            enforcement_form: "https://www.schlichtungsstelle-bgg.de/antrag".into(),
            barriers: "- **Alte Protokolle** sind eingescannt. Alternative: auf Anfrage als Text."
                .into(),
            ..LegalSettings::default()
        }
    })
    .await;
    let (_, html) = app.visitor().get_text("/barrierefreiheit").await;
    let page = text(&html);
    for expected in [
        "Bundesamt für Beispiele",
        "vollständig vereinbar",
        "02.11.2026",
        "01.12.2026",
        "barrieren@bund.example",
        "+49 30 1234",
        "eines Monats",
        "§ 16 BGG",
        "Formular der Schlichtungsstelle",
        "Mauerstraße 53",
        "BITV 2.0",
        "Alte Protokolle",
    ] {
        assert!(page.contains(expected), "missing {expected:?}: {page}");
    }
    assert!(!page.contains("sechs Wochen"), "{page}");
    assert!(
        !page.contains("Videoräume eines anderen Anbieters"),
        "{page}"
    );
}

#[tokio::test]
async fn imprint_and_privacy_come_from_markdown_text_or_a_file_and_raw_html_stays_text() {
    let dir = std::env::temp_dir().join(format!("konvent-legal-{}", konvent_store::new_token()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("datenschutz.md");
    std::fs::write(&file, "## Aus der Datei\n\nDatenschutz der Musterbehörde.").expect("write");
    let file = file.to_string_lossy().into_owned();
    let app = spawn_app_with(move |s| {
        s.legal.imprint = "## Herausgeber\n\nMusterbehörde <script>alert(1)</script>".into();
        s.legal.privacy_file = file;
    })
    .await;
    let visitor = app.visitor();
    let (status, imprint) = visitor.get_text("/impressum").await;
    assert_eq!(status, 200);
    assert!(imprint.contains("<h2>Herausgeber</h2>"), "{imprint}");
    assert!(!imprint.contains("<script>"), "raw HTML must stay text");
    let (status, privacy) = visitor.get_text("/datenschutz").await;
    assert_eq!(status, 200);
    assert!(privacy.contains("<h2>Aus der Datei</h2>"), "{privacy}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn the_default_privacy_notice_follows_the_settings_it_describes() {
    let app = spawn_app_with(|s| {
        s.session_hours = 9;
        s.invitation_hours = 72;
        s.legal.operator = "Musterstelle".into();
    })
    .await;
    let (status, html) = app.visitor().get_text("/datenschutz").await;
    assert_eq!(status, 200);
    let page = text(&html);
    for expected in [
        "Musterstelle",
        "höchstens 9 Stunden",
        "Einladungen gelten 72 Stunden",
        "nicht gespeichert",
        "Art. 15 DSGVO",
        "keine Videoräume",
    ] {
        assert!(page.contains(expected), "missing {expected:?}: {page}");
    }
    let (_, imprint) = app.visitor().get_text("/impressum").await;
    assert!(text(&imprint).contains("noch kein Impressum"), "{imprint}");
}

#[tokio::test]
async fn the_plain_language_page_names_the_help_desk_and_the_sign_language_video() {
    let app = spawn_app_with(|s| s.legal = LegalSettings::demo()).await;
    let (status, html) = app.visitor().get_text("/leichte-sprache").await;
    assert_eq!(status, 200);
    let page = text(&html);
    for expected in [
        "Was ist konvent?",
        "Wie mache ich mit?",
        "hilfe@musterstelle.example",
        "Gebärdensprache",
    ] {
        assert!(page.contains(expected), "missing {expected:?}: {page}");
    }
    assert!(
        html.contains("href=\"https://video.musterstelle.example/"),
        "{html}"
    );
    // Without a video, the page says so, and the file route has nothing to serve.
    let plain = spawn_app().await;
    let (_, html) = plain.visitor().get_text("/leichte-sprache").await;
    assert!(text(&html).contains("gibt es noch nicht"), "{html}");
    let (status, _) = plain.visitor().get_text("/gebaerdensprache/video").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_sign_language_video_file_is_served_from_disk() {
    let dir = std::env::temp_dir().join(format!("konvent-video-{}", konvent_store::new_token()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("dgs.webm");
    let bytes: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&file, &bytes).expect("write");
    let path = file.to_string_lossy().into_owned();
    let app = spawn_app_with(move |s| s.legal.sign_language_video = path).await;
    let (_, html) = app.visitor().get_text("/leichte-sprache").await;
    assert!(html.contains("<video controls"), "{html}");
    let response = app.visitor().get("/gebaerdensprache/video").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "video/webm");
    assert_eq!(response.bytes().await.expect("body").to_vec(), bytes);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The mails queued so far: (kind, recipient, subject).
async fn outbox(app: &crate::helpers::TestApp) -> Vec<(String, String, String)> {
    let mut mails: Vec<_> = app
        .store
        .mails(100)
        .await
        .expect("mails")
        .into_iter()
        .map(|m| (m.kind, m.recipient, m.subject))
        .collect();
    mails.sort();
    mails
}

#[tokio::test]
async fn a_barrier_report_mails_the_office_and_a_copy_to_the_reporter_without_javascript() {
    let app = spawn_app_with(|s| s.legal.feedback_email = "barrieren@amt.example".into()).await;
    let visitor = app.visitor();
    let (_, html) = visitor.get_text("/barrierefreiheit").await;
    assert!(
        html.contains("action=\"/barrierefreiheit/meldung\""),
        "{html}"
    );
    let response = visitor
        .post(
            "/barrierefreiheit/meldung",
            &[
                ("name", "Erika Meldend"),
                ("email", "Erika@Example.org"),
                ("page", "/konvent/strategiekonvent-2025/karte"),
                (
                    "message",
                    "Die Karte lässt sich mit dem Screenreader nicht bedienen.",
                ),
            ],
        )
        .await;
    assert_eq!(response.status(), 200);
    let page = text(&response.text().await.expect("body"));
    assert!(page.contains("erika@example.org"), "{page}");
    let mails = outbox(&app).await;
    assert_eq!(mails.len(), 2, "{mails:?}");
    assert_eq!(mails[0].0, "barrier_report");
    assert_eq!(mails[0].1, "barrieren@amt.example");
    assert_eq!(mails[1].0, "barrier_report_copy");
    assert_eq!(mails[1].1, "erika@example.org");
}

#[tokio::test]
async fn without_an_office_address_every_admin_gets_the_report() {
    let app = spawn_app().await;
    app.admin().await;
    let response = app
        .visitor()
        .post(
            "/barrierefreiheit/meldung",
            &[
                ("email", "a@example.org"),
                ("message", "Kontrast zu schwach."),
            ],
        )
        .await;
    assert_eq!(response.status(), 200);
    let mails = outbox(&app).await;
    let admins: Vec<_> = mails
        .iter()
        .filter(|m| m.0 == "barrier_report")
        .map(|m| m.1.as_str())
        .collect();
    assert!(admins.contains(&"admin@test.example"), "{mails:?}");
    assert!(mails.iter().any(|m| m.0 == "barrier_report_copy"));
}

#[tokio::test]
async fn a_bad_report_gets_its_messages_beside_the_fields_and_sends_nothing() {
    let app = spawn_app_with(|s| s.legal.feedback_email = "barrieren@amt.example".into()).await;
    let visitor = app.visitor();
    let long = "x".repeat(5_001);
    for (form, field, message) in [
        (
            vec![("email", ""), ("message", "Etwas")],
            "f-email",
            "damit wir antworten",
        ),
        (
            vec![("email", "kein-postfach"), ("message", "Etwas")],
            "f-email",
            "gültige E-Mail-Adresse",
        ),
        (
            vec![("email", "a@example.org"), ("message", "  ")],
            "f-message",
            "beschreiben Sie",
        ),
        (
            vec![("email", "a@example.org"), ("message", long.as_str())],
            "f-message",
            "höchstens 5000 Zeichen",
        ),
        (
            vec![
                ("email", "a@example.org"),
                ("message", "x"),
                ("name", "a\u{7}b"),
            ],
            "f-name",
            "Steuerzeichen",
        ),
    ] {
        let response = visitor.post("/barrierefreiheit/meldung", &form).await;
        assert_eq!(response.status(), 422, "{form:?}");
        let html = response.text().await.expect("body");
        assert!(
            html.contains(&format!("id=\"{field}-error\"")),
            "{field} has no error: {html}"
        );
        assert!(text(&html).contains(message), "{message:?} missing");
        assert!(html.contains("aria-invalid=\"true\""));
    }
    // What was typed stays in the form.
    let response = visitor
        .post(
            "/barrierefreiheit/meldung",
            &[("email", "kein-postfach"), ("message", "Mein langer Text")],
        )
        .await;
    assert!(
        response
            .text()
            .await
            .expect("body")
            .contains("Mein langer Text")
    );
    assert!(outbox(&app).await.is_empty(), "nothing is sent");
    // Without the CSRF token nothing happens either.
    let response = visitor
        .post_raw(
            "/barrierefreiheit/meldung",
            &[("email", "a@example.org"), ("message", "x")],
        )
        .await;
    assert_eq!(response.status(), 403);
    assert!(outbox(&app).await.is_empty());
}

#[tokio::test]
async fn one_address_may_send_five_reports_an_hour() {
    let app = spawn_app_with(|s| s.legal.feedback_email = "barrieren@amt.example".into()).await;
    let visitor = app.visitor();
    let form = [
        ("email", "viel@example.org"),
        ("message", "Noch eine Barriere."),
    ];
    for _ in 0..5 {
        let response = visitor.post("/barrierefreiheit/meldung", &form).await;
        assert_eq!(response.status(), 200);
    }
    let response = visitor.post("/barrierefreiheit/meldung", &form).await;
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "3600");
    assert!(text(&response.text().await.expect("body")).contains("später noch einmal"));
    assert_eq!(
        outbox(&app).await.len(),
        10,
        "five reports, each with its copy"
    );
    // Another address from the same client still gets through (the client's budget is
    // larger), until the client's own budget of twenty is spent.
    for i in 0..15 {
        let email = format!("person{i}@example.org");
        let response = visitor
            .post(
                "/barrierefreiheit/meldung",
                &[("email", email.as_str()), ("message", "Barriere.")],
            )
            .await;
        assert_eq!(response.status(), 200, "report {i}");
    }
    let response = visitor
        .post(
            "/barrierefreiheit/meldung",
            &[("email", "neu@example.org"), ("message", "Barriere.")],
        )
        .await;
    assert_eq!(response.status(), 429);
}

#[tokio::test]
async fn a_participant_downloads_everything_they_did_and_nothing_of_anybody_else() {
    use konvent_core::convention::live::QuestionStatus;
    use konvent_store::Who;

    let app = spawn_app().await;
    let event = app
        .store
        .event(konvent_core::demo::KONVENT_SLUG)
        .await
        .expect("event");
    let me_user = app.user_named(Role::Participant, "exportmensch").await;
    let me = Who::new(
        app.account_id("exportmensch@test.example").await,
        "exportmensch",
    );
    app.user_named(Role::Participant, "anderemensch").await;
    let other = Who::new(
        app.account_id("anderemensch@test.example").await,
        "anderemensch",
    );
    let organizer = Who::new(
        app.account_id(konvent_core::demo::KONVENT_MODERATOR.0)
            .await,
        konvent_core::demo::KONVENT_MODERATOR.1,
    );
    let s = &app.store;
    // What the other person does: none of it may appear in my export.
    s.post_chat(event.id, "plenum", &other, None, "FREMDchat", "FREMDchat")
        .await
        .expect("chat");
    let their_pin = s
        .add_pin(event.id, None, &other, "FREMDpin", None)
        .await
        .expect("pin");
    let their_pin = their_pin.record.data["id"].as_i64().expect("pin id");
    let their_question = s
        .ask(event.id, &other, "FREMDfrage", false, None)
        .await
        .expect("question");
    let their_question = their_question.record.data["id"].as_i64().expect("id");
    s.moderate_question(
        event.id,
        &organizer,
        QuestionId::new(their_question),
        QuestionStatus::Approved,
        None,
    )
    .await
    .expect("approved");
    // What I do: chat, a direct message, an impulse, a pin, votes, a question.
    s.post_chat(event.id, "plenum", &me, None, "MEINchat", "MEINchat")
        .await
        .expect("chat");
    s.direct_message(event.id, &me, None, None, "MEINEdm", "MEINEdm")
        .await
        .expect("dm");
    let rounds = s.rounds(event.id).await.expect("rounds");
    s.add_impulse(rounds[0].tables[0].id, &me, "MEINimpuls", None)
        .await
        .expect("impulse");
    s.add_pin(event.id, None, &me, "MEINpin", None)
        .await
        .expect("pin");
    s.vote_pin(event.id, PinId::new(their_pin), &me, true)
        .await
        .expect("pin vote");
    s.ask(event.id, &me, "MEINEfrage", false, None)
        .await
        .expect("question");
    s.upvote(event.id, &me, QuestionId::new(their_question), None)
        .await
        .expect("upvote");

    let response = me_user.get("/konto/daten.json").await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .expect("ascii")
            .starts_with("attachment")
    );
    let export: serde_json::Value = response.json().await.expect("json");
    let sections = &export["sections"];
    let text_of = |name: &str| sections[name].to_string();
    assert!(text_of("account").contains("exportmensch@test.example"));
    assert!(text_of("roles").contains("participant"));
    assert!(text_of("chat_lines").contains("MEINchat"));
    assert!(text_of("direct_messages").contains("MEINEdm"));
    assert!(text_of("impulses").contains("MEINimpuls"));
    assert!(text_of("pins").contains("MEINpin"));
    assert_eq!(sections["pin_votes"][0]["pin_id"], their_pin);
    assert!(text_of("questions").contains("MEINEfrage"));
    assert_eq!(sections["question_votes"][0]["question_id"], their_question);
    assert!(text_of("sessions").contains("expires_at"));
    for section in konvent_store::personal_data_sections() {
        assert!(sections[section].is_array(), "section {section} present");
    }
    let all = export.to_string();
    for theirs in ["FREMDchat", "FREMDpin", "FREMDfrage", "anderemensch"] {
        assert!(!all.contains(theirs), "{theirs} is another person's");
    }
    assert!(!all.contains("password_hash") && !all.contains("token_hash"));

    // The page shows the same, readable; visitors are sent to sign in.
    let (status, html) = me_user.get_text("/konto/daten").await;
    assert_eq!(status, 200);
    let page = text(&html);
    assert!(
        page.contains("MEINimpuls") && page.contains("Chatzeilen"),
        "{page}"
    );
    assert!(!page.contains("FREMDchat"));
    for path in ["/konto/daten", "/konto/daten.json"] {
        let response = app.visitor().get(path).await;
        assert_eq!(response.status(), 303, "{path}");
    }
}

#[tokio::test]
async fn admins_see_the_retention_periods_and_the_last_run_and_the_privacy_notice_states_them() {
    let app = spawn_app_with(|s| {
        s.retention.chat_days = 77;
        s.retention.access_log_days = 9;
    })
    .await;
    let admin = app.admin().await;
    let (status, html) = admin.get_text("/admin/aufbewahrung").await;
    assert_eq!(status, 200);
    let page = text(&html);
    assert!(
        page.contains("77") && page.contains("noch nicht gelaufen"),
        "{page}"
    );
    let periods = konvent_store::RetentionPeriods {
        chat_days: 77,
        feedback_days: 365,
        sign_in_days: 30,
        mail_days: 90,
    };
    app.store
        .apply_retention(jiff::Timestamp::now(), &periods)
        .await
        .expect("run");
    let (_, html) = admin.get_text("/admin/aufbewahrung").await;
    assert!(text(&html).contains("Letzter Lauf"), "{html}");
    let (status, _) = app
        .user(Role::Participant)
        .await
        .get_text("/admin/aufbewahrung")
        .await;
    assert_eq!(status, 403);
    let (_, privacy) = app.visitor().get_text("/datenschutz").await;
    let privacy = text(&privacy);
    // One line per kind of the retention settings, named as on the admin page.
    for line in [
        "Chatzeilen und Direktnachrichten (ab Ende der Veranstaltung): 77 Tage.",
        "Feedback (ab Ende der Veranstaltung): 365 Tage.",
        "Anmeldeversuche, Geräte, abgelaufene Anmeldungen und Links: 30 Tage.",
        "Versandte und gescheiterte E-Mails: 90 Tage.",
        "Protokolle des Servers: 9 Tage.",
    ] {
        assert!(privacy.contains(line), "{line} missing in {privacy}");
        let label = line.split(": ").next().expect("label");
        assert!(page.contains(label), "{label} missing on the admin page");
    }
}

#[tokio::test]
async fn a_demo_servers_retention_run_leaves_the_chat_and_feedback_written_in_it_in_place() {
    // Every test app is a demo server: its event is dated on the seed's day in 2025.
    let app = spawn_app().await;
    let event = app
        .store
        .event(konvent_core::demo::KONVENT_SLUG)
        .await
        .expect("event");
    assert!(
        event.ends_at < jiff::Timestamp::now(),
        "the demo event is over"
    );
    let _participant = app.user(Role::Participant).await;
    let me = konvent_store::Who::new(
        app.account_id("participant@test.example").await,
        "Demo-Gast",
    );
    app.store
        .post_chat(event.id, "plenum", &me, None, "DEMOzeile", "DEMOzeile")
        .await
        .expect("chat");
    app.store
        .submit_feedback(event.id, me.id, 5, Some("DEMOfeedback"))
        .await
        .expect("feedback");
    let periods = konvent_web::legal::RetentionSettings::default().periods();
    let run = app
        .store
        .apply_retention(jiff::Timestamp::now(), &periods)
        .await
        .expect("run");
    assert_eq!((run.chat_lines, run.feedback), (0, 0));
    let lines = app
        .store
        .live_recent(event.id, Some("plenum"), "chat", 50)
        .await
        .expect("chat");
    assert!(
        lines
            .iter()
            .any(|l| l.data.to_string().contains("DEMOzeile")),
        "the demo chat stays"
    );
}
