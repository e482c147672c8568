//! Council sessions, resolutions, reporting and follow-up meetings (G4–G6, G8 feeds).

use konvent_core::authz::{Grant, Role};

use crate::helpers::{User, spawn_app, text};
use crate::leaks::{conference, user_with};

async fn create_session(admin: &User, number: &str, date: &str, state: &str) -> reqwest::Response {
    admin
        .post(
            "/gremien/sitzungen/neu",
            &[
                ("number", number),
                ("date", date),
                ("start_time", "10:00"),
                ("end_time", "16:00"),
                ("place", "Berlin"),
                ("state", state),
            ],
        )
        .await
}

#[tokio::test]
async fn the_standard_item_appears_from_the_43rd_session_on_and_not_before() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    assert_eq!(
        create_session(&admin, "42", "2023-11-15", "held")
            .await
            .status(),
        303
    );
    assert_eq!(
        create_session(&admin, "49", "2099-03-25", "planned")
            .await
            .status(),
        303
    );
    let (_, s42) = admin.get_text("/gremien/sitzungen/42").await;
    let (_, s49) = admin.get_text("/gremien/sitzungen/49").await;
    assert!(
        !text(&s42).contains("Reporting FachMK"),
        "42 has no standard item"
    );
    assert!(text(&s49).contains("Reporting FachMK Standard-TOP"));
    let s42 = app.store.session(42).await.expect("42");
    assert!(app.store.agenda(s42.id).await.expect("agenda").is_empty());
}

#[tokio::test]
async fn the_standard_item_can_be_moved_and_is_removed_only_after_a_warning() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    create_session(&admin, "49", "2099-03-25", "planned").await;
    assert_eq!(
        admin
            .post(
                "/gremien/sitzungen/49/tagesordnung",
                &[("title", "Föderale Digitalstrategie")]
            )
            .await
            .status(),
        303
    );
    let session = app.store.session(49).await.expect("49");
    let agenda = app.store.agenda(session.id).await.expect("agenda");
    assert_eq!(
        agenda.iter().map(|a| a.title.as_str()).collect::<Vec<_>>(),
        ["Reporting FachMK", "Föderale Digitalstrategie"]
    );
    let reporting = agenda[0].id;
    let path = format!("/gremien/sitzungen/49/tagesordnung/{reporting}/verschieben");
    assert_eq!(
        admin.post(&path, &[("direction", "down")]).await.status(),
        303
    );
    let agenda = app.store.agenda(session.id).await.expect("agenda");
    assert_eq!(agenda[1].title, "Reporting FachMK");

    let remove = format!("/gremien/sitzungen/49/tagesordnung/{reporting}/entfernen");
    let (status, warning) = admin.get_text(&remove).await;
    assert_eq!(status, 200);
    assert!(text(&warning).contains(
        "Achtung: „Reporting FachMK“ ist seit der 43. Sitzung Standard-Tagesordnungspunkt"
    ));
    assert_eq!(admin.post(&remove, &[]).await.status(), 303);
    let agenda = app.store.agenda(session.id).await.expect("agenda");
    assert_eq!(agenda.len(), 1);
}

#[tokio::test]
async fn a_held_session_gets_its_follow_up_three_weeks_later_moved_off_a_holiday() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    // 28.03.2025 + 21 days = Karfreitag 18.04.2025; then weekend and Ostermontag.
    assert_eq!(
        create_session(&admin, "50", "2025-03-28", "held")
            .await
            .status(),
        303
    );
    let (_, page) = admin.get_text("/gremien/sitzungen/50").await;
    assert!(text(&page).contains("22.04.2025"), "{}", text(&page));

    // A planned session has none; marking it held schedules it.
    create_session(&admin, "51", "2025-06-04", "planned").await;
    assert!(
        text(&admin.get_text("/gremien/sitzungen/51").await.1)
            .contains("sobald die Sitzung als durchgeführt markiert ist")
    );
    let edit = [
        ("number", "51"),
        ("date", "2025-06-04"),
        ("start_time", "10:00"),
        ("end_time", "16:00"),
        ("state", "held"),
    ];
    assert_eq!(
        admin
            .post("/gremien/sitzungen/51/bearbeiten", &edit)
            .await
            .status(),
        303
    );
    let s51 = app.store.session(51).await.expect("51");
    assert_eq!(
        app.store
            .follow_up(s51.id)
            .await
            .expect("f")
            .expect("scheduled")
            .date
            .to_string(),
        "2025-06-25"
    );

    // A new date moves the unconfirmed follow-up; once confirmed it stays.
    let moved = [
        ("number", "51"),
        ("date", "2025-06-11"),
        ("start_time", "10:00"),
        ("end_time", "16:00"),
        ("state", "held"),
    ];
    admin.post("/gremien/sitzungen/51/bearbeiten", &moved).await;
    assert_eq!(
        app.store
            .follow_up(s51.id)
            .await
            .expect("f")
            .expect("f")
            .date
            .to_string(),
        "2025-07-02"
    );
    assert_eq!(
        admin
            .post("/gremien/sitzungen/51/nachbesprechung/bestaetigen", &[])
            .await
            .status(),
        303
    );
    admin.post("/gremien/sitzungen/51/bearbeiten", &edit).await;
    let f = app.store.follow_up(s51.id).await.expect("f").expect("f");
    assert_eq!(
        (f.date.to_string(), f.confirmed),
        ("2025-07-02".to_owned(), true)
    );
}

#[tokio::test]
async fn the_demo_shows_sessions_with_reporting_status_resolutions_and_follow_up_agendas() {
    let app = spawn_app().await;
    let visitor = app.visitor();
    let (_, list) = visitor.get_text("/gremien/sitzungen").await;
    let list = text(&list);
    for n in 43..=46 {
        assert!(
            list.contains(&format!("{n}. Sitzung des IT-Planungsrats")),
            "{n}"
        );
    }
    assert!(
        list.contains("2 berichtet, 1 kein Austausch, 10 offen"),
        "{list}"
    );
    let (_, s46) = visitor.get_text("/gremien/sitzungen/46").await;
    let s46 = text(&s46);
    assert!(
        s46.contains("26.03.2025") && s46.contains("Kein Austausch – kein Bericht"),
        "{s46}"
    );
    assert!(
        s46.contains("16.04.2025"),
        "follow-up three weeks later: {s46}"
    );
    let (_, s43) = visitor.get_text("/gremien/sitzungen/43").await;
    let s43 = text(&s43);
    assert!(
        s43.contains("Beschluss 2024/15: Registermodernisierung")
            && s43.contains("Digitalministerkonferenz (DMK): Martina Klement (Sprecher:in)"),
        "{s43}"
    );
    let (_, resolutions) = visitor.get_text("/gremien/beschluesse").await;
    let resolutions = text(&resolutions);
    for n in ["2022/43", "2023/07", "2024/02", "2024/15"] {
        assert!(resolutions.contains(n), "{n}");
    }
    let (status, r) = visitor.get_text("/gremien/beschluesse/2023/07").await;
    assert_eq!(status, 200);
    assert!(r.contains(
        "<strong>Mindestanforderungen an den Betrieb von „Einer für Alle“-Services</strong>"
    ));
    let (_, follow_ups) = visitor.get_text("/gremien/nachbesprechungen").await;
    assert!(text(&follow_ups).contains("Nachbesprechung der 43. Sitzung des IT-Planungsrats"));
}

#[tokio::test]
async fn a_confidential_resolution_is_seen_by_members_only() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let draft = [
        ("number", "2026/03"),
        ("title", "Vertraulicher Entwurf Zielbild"),
        ("body", "Nur für Mitglieder."),
        ("session_number", "48"),
        ("state", "draft"),
        ("relevance", "DMK: Betrifft die Digitalministerkonferenz"),
    ];
    assert_eq!(
        admin
            .post("/gremien/beschluesse/neu", &draft)
            .await
            .status(),
        303
    );
    let member = app.user(Role::Member).await;
    assert!(
        text(&member.get_text("/gremien/beschluesse").await.1).contains("Vertraulicher Entwurf")
    );
    assert_eq!(
        member.get("/gremien/beschluesse/2026/03").await.status(),
        200
    );
    let mut outsiders = vec![
        app.visitor(),
        app.user(Role::Participant).await,
        app.user(Role::Spokesperson).await,
    ];
    outsiders.push(app.user(Role::FachmkOffice).await);
    for user in &outsiders {
        for path in [
            "/gremien/beschluesse",
            "/gremien/sitzungen/48",
            "/gremien/nachbesprechungen",
            "/calendar.ics",
            "/gremien/sitzungen/48/nachbesprechung.ics",
            "/gremien/verzeichnis.csv",
        ] {
            let (_, body) = user.get_text(path).await;
            assert!(
                !body.contains("Vertraulicher Entwurf"),
                "{path} leaks the draft"
            );
        }
        assert_eq!(user.get("/gremien/beschluesse/2026/03").await.status(), 404);
        for path in [
            "/api/v1/resolutions",
            "/api/v1/sessions/48",
            "/api/v1/resolutions/2026/3",
        ] {
            let (_, body) = user.get_text(path).await;
            assert!(
                !body.contains("Vertraulicher Entwurf"),
                "{path} leaks the draft"
            );
        }
    }
    let (status, body) = member.get_text("/api/v1/resolutions/2026/3").await;
    assert_eq!(status, 200);
    assert!(body.contains("Vertraulicher Entwurf"));
    let (_, body) = member.get_text("/api/v1/sessions/48").await;
    assert!(
        body.contains("Vertraulicher Entwurf"),
        "members see it in the session's JSON"
    );
}

#[tokio::test]
async fn bad_resolutions_are_refused_and_nothing_is_written() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let before = app
        .store
        .resolutions(konvent_store::Visibility::Confidential)
        .await
        .expect("list")
        .len();
    let response = admin
        .post(
            "/gremien/beschluesse/neu",
            &[("number", "24/15"), ("title", "X"), ("state", "draft")],
        )
        .await;
    assert_eq!(response.status(), 422);
    assert!(text(&response.text().await.expect("body")).contains("JJJJ/NN"));
    let response = admin
        .post(
            "/gremien/beschluesse/neu",
            &[
                ("number", "2024/15"),
                ("title", "Doppelt"),
                ("state", "draft"),
            ],
        )
        .await;
    assert_eq!(response.status(), 422);
    assert!(text(&response.text().await.expect("body")).contains("schon vergeben"));
    let response = admin
        .post(
            "/gremien/beschluesse/neu",
            &[
                ("number", "2026/04"),
                ("title", "Y"),
                ("state", "draft"),
                ("relevance", "XYZ: unbekannt"),
            ],
        )
        .await;
    assert_eq!(response.status(), 422);
    let response = admin
        .post(
            "/gremien/beschluesse/neu",
            &[
                ("number", "2026/05"),
                ("title", "Z"),
                ("state", "draft"),
                ("body", "<script>alert(1)</script>"),
            ],
        )
        .await;
    assert_eq!(response.status(), 303);
    let (_, page) = admin.get_text("/gremien/beschluesse/2026/05").await;
    assert!(!page.contains("<script>alert") && page.contains("&lt;script&gt;"));
    let after = app
        .store
        .resolutions(konvent_store::Visibility::Confidential)
        .await
        .expect("list")
        .len();
    assert_eq!(after, before + 1, "only the valid one was stored");
}

#[tokio::test]
async fn a_spokesperson_reports_for_their_own_conference_only() {
    let app = spawn_app().await;
    let spokesperson = app.user(Role::Spokesperson).await; // conference:DMK
    let (status, form) = spokesperson
        .get_text("/gremien/sitzungen/47/berichte/DMK")
        .await;
    assert_eq!(status, 200);
    assert!(text(&form).contains("Wie wird der IT-PLR von der FachMK wahrgenommen?"));
    let response = spokesperson
        .post(
            "/gremien/sitzungen/47/berichte/DMK",
            &[("collaboration", " ")],
        )
        .await;
    assert_eq!(response.status(), 422);
    assert_eq!(
        spokesperson
            .post("/gremien/sitzungen/47/berichte/DMK/kein-austausch", &[])
            .await
            .status(),
        303
    );
    let (_, page) = app.visitor().get_text("/gremien/sitzungen/47").await;
    let page = text(&page);
    assert!(
        page.contains("Digitalministerkonferenz (DMK) Kein Austausch – kein Bericht"),
        "{page}"
    );
    // Another conference's report is refused and nothing is written.
    assert_eq!(
        spokesperson
            .get("/gremien/sitzungen/47/berichte/IMK")
            .await
            .status(),
        403
    );
    assert_eq!(
        spokesperson
            .post("/gremien/sitzungen/47/berichte/IMK/kein-austausch", &[])
            .await
            .status(),
        403
    );
    assert_eq!(
        spokesperson
            .post("/gremien/sitzungen/47/berichte/IMK", &[("topics", "fremd")])
            .await
            .status(),
        403
    );
    let s47 = app.store.session(47).await.expect("47");
    let reports = app.store.reports(s47.id).await.expect("reports");
    assert_eq!(
        reports
            .iter()
            .map(|r| r.conference.as_str())
            .collect::<Vec<_>>(),
        ["DMK"]
    );
    // A full report replaces "no exchange".
    let response = spokesperson
        .post(
            "/gremien/sitzungen/47/berichte/DMK",
            &[
                ("collaboration", "Gemeinsame AG-Sitzung"),
                ("problems", "Zu wenig Zeit"),
            ],
        )
        .await;
    assert_eq!(response.status(), 303);
    let (_, page) = spokesperson.get_text("/gremien/sitzungen/47").await;
    assert!(text(&page).contains("Gemeinsame AG-Sitzung"));
}

#[tokio::test]
async fn a_report_is_read_by_the_council_and_its_conference_only_others_see_its_status() {
    let app = spawn_app().await;
    let spokesperson = app.user(Role::Spokesperson).await; // conference:DMK, "Test spokesperson"
    let response = spokesperson
        .post(
            "/gremien/sitzungen/47/berichte/DMK",
            &[("collaboration", "Vertraulicher Stand der AG Register")],
        )
        .await;
    assert_eq!(response.status(), 303);
    let (_, dmk_office) = user_with(
        &app,
        "DMK-Geschäftsstelle",
        &[Grant::new(Role::FachmkOffice, conference("DMK")).expect("grant")],
    )
    .await;
    let (_, imk_spokesperson) = user_with(
        &app,
        "IMK-Sprecher",
        &[Grant::new(Role::Spokesperson, conference("IMK")).expect("grant")],
    )
    .await;
    let (_, imk_office) = user_with(
        &app,
        "IMK-Geschäftsstelle",
        &[Grant::new(Role::FachmkOffice, conference("IMK")).expect("grant")],
    )
    .await;
    let readers = [
        ("admin", app.admin().await),
        ("member", app.user(Role::Member).await),
        ("the DMK's spokesperson", spokesperson),
        ("the DMK's office", dmk_office),
    ];
    let others = [
        ("visitor", app.visitor()),
        ("participant", app.user(Role::Participant).await),
        ("patron", app.user(Role::Patron).await),
        ("the IMK's spokesperson", imk_spokesperson),
        ("the IMK's office", imk_office),
    ];
    for (who, user) in &readers {
        let (_, page) = user.get_text("/gremien/sitzungen/47").await;
        let page = text(&page);
        assert!(
            page.contains("Vertraulicher Stand der AG Register")
                && page.contains("Test spokesperson"),
            "{who} reads the report and its author"
        );
        let api: serde_json::Value = user
            .get("/api/v1/sessions/47")
            .await
            .json()
            .await
            .expect("JSON");
        assert_eq!(
            api["reports"][0]["input"]["collaboration"], "Vertraulicher Stand der AG Register",
            "{who}"
        );
    }
    for (who, user) in &others {
        let (status, page) = user.get_text("/gremien/sitzungen/47").await;
        assert_eq!(status, 200);
        let page = text(&page);
        assert!(
            !page.contains("Vertraulicher Stand") && !page.contains("Test spokesperson"),
            "{who} reads neither the answers nor the author: {page}"
        );
        assert!(
            page.contains("Digitalministerkonferenz (DMK) berichtet"),
            "{who} sees that the DMK reported: {page}"
        );
        assert!(page.contains("Der Bericht ist intern"), "{who}");
        let (_, api) = user.get_text("/api/v1/sessions/47").await;
        assert!(
            !api.contains("Vertraulicher Stand") && !api.contains("Test spokesperson"),
            "{who}: {api}"
        );
        let api: serde_json::Value = serde_json::from_str(&api).expect("JSON");
        assert_eq!(api["reports"][0]["conference"], "DMK");
        assert_eq!(api["reports"][0]["status"], "filed", "{who}");
    }
}

#[tokio::test]
async fn only_admins_reach_the_council_forms() {
    let app = spawn_app().await;
    let s46 = app.store.session(46).await.expect("46");
    let item = app.store.agenda(s46.id).await.expect("agenda")[0].id;
    let pages = [
        "/gremien/sitzungen/neu".to_owned(),
        "/gremien/sitzungen/46/bearbeiten".into(),
        format!("/gremien/sitzungen/46/tagesordnung/{item}/entfernen"),
        "/gremien/beschluesse/neu".into(),
        "/gremien/beschluesse/2024/15/bearbeiten".into(),
    ];
    let posts: Vec<(String, Vec<(&str, &str)>)> = vec![
        (
            "/gremien/sitzungen/neu".into(),
            vec![
                ("number", "60"),
                ("date", "2027-01-01"),
                ("state", "planned"),
            ],
        ),
        (
            "/gremien/sitzungen/46/bearbeiten".into(),
            vec![("number", "46"), ("date", "2025-03-27"), ("state", "held")],
        ),
        (
            "/gremien/sitzungen/46/tagesordnung".into(),
            vec![("title", "Unbefugt")],
        ),
        (
            format!("/gremien/sitzungen/46/tagesordnung/{item}/verschieben"),
            vec![("direction", "down")],
        ),
        (
            format!("/gremien/sitzungen/46/tagesordnung/{item}/entfernen"),
            vec![],
        ),
        (
            "/gremien/sitzungen/46/nachbesprechung/bestaetigen".into(),
            vec![],
        ),
        (
            "/gremien/beschluesse/neu".into(),
            vec![
                ("number", "2026/09"),
                ("title", "Unbefugt"),
                ("state", "draft"),
            ],
        ),
        (
            "/gremien/beschluesse/2024/15/bearbeiten".into(),
            vec![
                ("number", "2024/15"),
                ("title", "Unbefugt"),
                ("state", "draft"),
            ],
        ),
    ];
    for role in Role::ALL.into_iter().filter(|r| *r != Role::Admin) {
        let user = app.user(role).await;
        for path in &pages {
            assert_eq!(user.get(path).await.status(), 403, "{role} GET {path}");
        }
        for (path, form) in &posts {
            assert_eq!(
                user.post(path, form).await.status(),
                403,
                "{role} POST {path}"
            );
        }
    }
    let visitor = app.visitor();
    for path in &pages {
        assert_eq!(visitor.get(path).await.status(), 303, "visitor GET {path}");
    }
    assert_eq!(app.store.sessions().await.expect("sessions").len(), 6);
    assert_eq!(app.store.agenda(s46.id).await.expect("agenda").len(), 1);
    assert!(
        !app.store
            .follow_up(s46.id)
            .await
            .expect("f")
            .expect("f")
            .confirmed
    );
    assert_eq!(
        app.store
            .resolution(2024, 15, konvent_store::Visibility::Confidential)
            .await
            .expect("r")
            .title,
        "Registermodernisierung"
    );
}

#[tokio::test]
async fn the_calendar_feeds_are_rfc_5545_with_the_berlin_time_zone() {
    let app = spawn_app().await;
    let visitor = app.visitor();
    let response = visitor.get("/calendar.ics").await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/calendar")
    );
    let ics = response.text().await.expect("body");
    assert!(ics.starts_with("BEGIN:VCALENDAR\r\n") && ics.trim_end().ends_with("END:VCALENDAR"));
    assert!(ics.contains("BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin"));
    assert_eq!(
        ics.matches("BEGIN:VEVENT").count(),
        12,
        "6 sessions and their 6 follow-ups"
    );
    assert!(ics.contains("DTSTART;TZID=Europe/Berlin:20250326T100000"));
    assert!(
        ics.contains("DTSTART;TZID=Europe/Berlin:20250416T100000"),
        "follow-up of the 46th"
    );
    assert!(ics.lines().all(|l| l.len() <= 75 + 1), "lines are folded");
    let one = visitor
        .get_text("/gremien/sitzungen/46/kalender.ics")
        .await
        .1;
    assert_eq!(one.matches("BEGIN:VEVENT").count(), 1);
    assert!(one.contains("SUMMARY:46. Sitzung des IT-Planungsrats"));
    let follow = visitor
        .get_text("/gremien/sitzungen/46/nachbesprechung.ics")
        .await
        .1;
    assert!(follow.contains("Nachbesprechung der 46. Sitzung"));
    assert_eq!(
        visitor
            .get("/gremien/sitzungen/99/kalender.ics")
            .await
            .status(),
        404
    );
}
