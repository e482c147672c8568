//! Reminders and notifications (issue 18) seen from the outbox: the scheduler's step
//! queues a duty's reminder once, however often it runs, and not for a person who
//! turned it off on /konto/benachrichtigungen; an answered concern mails its author in
//! their language; a draft resolution's text reaches no mail.

use std::time::{Duration, Instant};

use jiff::{Span, Timestamp};
use konvent_core::authz::Role;
use konvent_core::gremien::council::{ResolutionInput, SessionInput};
use konvent_core::notifications::berlin_date;
use konvent_store::{Actor, OutboxMail};

use crate::helpers::{TestApp, spawn_app};

async fn mails_of(app: &TestApp, kind: &str) -> Vec<OutboxMail> {
    app.store
        .mails(500)
        .await
        .expect("mails")
        .into_iter()
        .filter(|m| m.kind == kind)
        .collect()
}

/// A session three weeks ahead with a resolution relevant for the DMK: its first duty
/// ("14 days before the session") falls due in exactly 7 days.
async fn duty_due_in_a_week(app: &TestApp) {
    let office = Actor::system("Geschäftsstelle");
    let session_day = berlin_date(Timestamp::now())
        .checked_add(Span::new().days(21))
        .expect("date");
    let session = SessionInput::parse(
        "90",
        &session_day.to_string(),
        "10:00",
        "12:00",
        "",
        "",
        "planned",
    )
    .expect("session");
    app.store
        .create_session(&office, &session, 21)
        .await
        .expect("session");
    let resolution = ResolutionInput::parse(
        "2031/07",
        "Föderales Datenmanagement",
        "Text",
        "",
        "90",
        "decided",
    )
    .expect("resolution");
    app.store
        .save_resolution(
            &office,
            None,
            &resolution,
            &[("DMK".to_owned(), "Daten".to_owned())],
        )
        .await
        .expect("resolution");
}

#[tokio::test]
async fn a_duty_due_in_a_week_reminds_its_spokesperson_once_and_not_who_turned_it_off() {
    let app = spawn_app().await;
    let spokesperson = app.user(Role::Spokesperson).await; // conference:DMK
    let quiet = app.user_named(Role::Spokesperson, "ruhig").await; // conference:DMK too
    let (status, page) = quiet.get_text("/konto/benachrichtigungen").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("name=\"on\" value=\"duty_due\" checked"),
        "{page}"
    );
    // Everything stays on but duty reminders.
    let response = quiet
        .post(
            "/konto/benachrichtigungen",
            &[
                ("on", "report_due"),
                ("on", "event_tomorrow"),
                ("on", "concern_answered"),
                ("on", "duty_assigned"),
                ("on", "resolution_published"),
                ("language", "de"),
            ],
        )
        .await;
    assert_eq!(response.status(), 200);
    let (_, page) = quiet.get_text("/konto/benachrichtigungen").await;
    assert!(
        page.contains("name=\"on\" value=\"duty_due\">"),
        "now off: {page}"
    );
    duty_due_in_a_week(&app).await;

    // The node's own scheduler may look meanwhile: however often, one mail.
    for _ in 0..2 {
        konvent_web::notifications::scheduler::step(
            &app.store,
            &app.state.mail,
            &app.state.settings,
            Timestamp::now(),
        )
        .await
        .expect("step");
    }
    let reminders = mails_of(&app, "duty_due").await;
    assert_eq!(reminders.len(), 1, "{reminders:?}");
    assert_eq!(reminders[0].recipient, "spokesperson@test.example");
    assert!(
        reminders[0].subject.contains("DMK"),
        "{}",
        reminders[0].subject
    );
    assert_eq!(app.store.reminders_queued().await.expect("count"), 1);
    drop(spokesperson);
}

#[tokio::test]
async fn the_preferences_page_refuses_an_unknown_language_beside_the_field() {
    let app = spawn_app().await;
    let user = app.user(Role::Member).await;
    let response = user
        .post("/konto/benachrichtigungen", &[("language", "fr")])
        .await;
    assert_eq!(response.status(), 422);
    let page = response.text().await.expect("page");
    assert!(page.contains("aria-invalid=\"true\""), "{page}");
    // Saving counts against a budget.
    let mut statuses = Vec::new();
    for _ in 0..31 {
        let response = user
            .post("/konto/benachrichtigungen", &[("language", "en")])
            .await;
        statuses.push(response.status().as_u16());
    }
    assert!(statuses[..30].iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(statuses[30], 429);
    assert_eq!(
        app.visitor()
            .get("/konto/benachrichtigungen")
            .await
            .status(),
        303,
        "visitors are sent to sign in"
    );
}

#[tokio::test]
async fn an_answered_concern_mails_its_author_in_their_language() {
    let app = spawn_app().await;
    let author = app.user(Role::Spokesperson).await;
    let admin = app.admin().await;
    author
        .post(
            "/konto/benachrichtigungen",
            &[("on", "concern_answered"), ("language", "en")],
        )
        .await;
    let id = app.account_id("spokesperson@test.example").await;
    let concern = app
        .store
        .submit_concern(
            &Actor::account(id, "Test spokesperson"),
            "DMK",
            &konvent_core::gremien::cooperation::ConcernInput::parse(
                "concern",
                "Schnittstellen zum Register",
                "Bitte klären.",
            )
            .expect("concern"),
        )
        .await
        .expect("submitted");
    let response = admin
        .post(
            &format!("/gremien/anliegen/{concern}"),
            &[
                ("status", "answered"),
                ("answer", "Der IT-PLR berät es im Juni."),
                ("session_number", ""),
            ],
        )
        .await;
    assert_eq!(response.status(), 303);
    let mails = mails_of(&app, "concern_answered").await;
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mails[0].recipient, "spokesperson@test.example");
    assert_eq!(mails[0].language, "en");
    assert_eq!(
        mails[0].subject,
        "Your concern was answered: Schnittstellen zum Register"
    );
}

/// Every mail konvent wrote so far, as the worker left it in outbox-files/.
async fn delivered(app: &TestApp, at_least: usize) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let dir = app.state.settings.data_dir.join("outbox-files");
        let texts: Vec<String> = std::fs::read_dir(&dir)
            .map(|d| {
                d.filter_map(Result::ok)
                    .filter_map(|f| std::fs::read_to_string(f.path()).ok())
                    .collect()
            })
            .unwrap_or_default();
        if texts.len() >= at_least {
            return texts.join("\n");
        }
        assert!(
            Instant::now() < deadline,
            "only {} mails delivered",
            texts.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_draft_resolution_reaches_no_mail_and_its_publication_notifies_the_conference() {
    let app = spawn_app().await;
    let _spokesperson = app.user(Role::Spokesperson).await;
    let _office = app.user(Role::FachmkOffice).await;
    let admin = app.admin().await;
    let title = "Vertraulicher Entwurf Quellcode-Hinterlegung";
    let body = "Geheimer Beschlusstext zur Hinterlegung";
    let form = |state: &'static str| {
        vec![
            ("number", "2031/11"),
            ("title", title),
            ("body", body),
            ("links", ""),
            ("session_number", ""),
            ("state", state),
            ("relevance", "DMK: betrifft die Digitalministerkonferenz"),
        ]
    };
    let response = admin.post("/gremien/beschluesse/neu", &form("draft")).await;
    assert_eq!(response.status(), 303);
    let assigned = mails_of(&app, "duty_assigned").await;
    assert_eq!(assigned.len(), 1, "the spokesperson hears of new duties");
    let mail = delivered(&app, 1).await;
    assert!(mail.contains("/gremien/aufgaben"), "{mail}");
    assert!(mail.contains("/konto/benachrichtigungen"), "{mail}");
    assert!(
        !mail.contains("Quellcode-Hinterlegung"),
        "a draft's title: {mail}"
    );
    assert!(
        !mail.contains("Geheimer Beschlusstext"),
        "a draft's text: {mail}"
    );
    assert!(mails_of(&app, "resolution_published").await.is_empty());

    let response = admin
        .post(
            "/gremien/beschluesse/2031/11/bearbeiten",
            &form("published"),
        )
        .await;
    assert_eq!(response.status(), 303);
    let published = mails_of(&app, "resolution_published").await;
    let mut to: Vec<_> = published.iter().map(|m| m.recipient.as_str()).collect();
    to.sort_unstable();
    assert_eq!(
        to,
        ["fachmk_office@test.example", "spokesperson@test.example"],
        "the conference's spokesperson and office"
    );
    assert!(published[0].subject.contains("2031/11"));
}
