use crate::helpers::{snapshot, spawn_app, text};

/// The slide "Übersicht benannter Personen" of the FachMK deck.
const CONFERENCES: [&str; 13] = [
    "Wirtschaftsministerkonferenz",
    "Innenministerkonferenz",
    "Finanzministerkonferenz",
    "E-Justice-Rat",
    "Umweltministerkonferenz",
    "Bauministerkonferenz",
    "Verkehrsministerkonferenz",
    "Arbeits- und Sozialministerkonferenz",
    "Gesundheitsministerkonferenz",
    "Kultusministerkonferenz",
    "Energieministerkonferenz",
    "Sportministerkonferenz",
    "Digitalministerkonferenz",
];
const PERSONS: [&str; 13] = [
    "Jan Pörksen",
    "Stephan Manke",
    "Ina-Maria Ulbrich",
    "Dr. Martin Hagen",
    "Dr. Hartmut Schubert",
    "Dirk Schrödter",
    "Daniel Sieveke",
    "Fedor Ruhose",
    "Bernd Schlömer",
    "Martina Klement",
    "Markus Richter",
    "Berlin & Bund (Vorsitz IT-PLR)",
    "N.N.",
];

#[tokio::test]
async fn the_directory_lists_every_conference_and_spokesperson_of_the_seed_deck() {
    let app = spawn_app().await;
    let (status, html) = app.visitor().get_text("/gremien/konferenzen").await;
    assert_eq!(status, 200);
    let page = text(&html);
    for name in CONFERENCES.iter().chain(PERSONS.iter()) {
        assert!(page.contains(name), "{name} missing");
    }
    assert!(page.contains("Beschluss 2022/43"));
}

#[tokio::test]
async fn a_conference_page_shows_vacancies_and_planned_reappointments() {
    let app = spawn_app().await;
    let visitor = app.visitor();
    let (_, vmk) = visitor.get_text("/gremien/konferenzen/VMK").await;
    let vmk = text(&vmk);
    assert!(
        vmk.contains("Verkehrsministerkonferenz")
            && vmk.contains("N.N.")
            && vmk.contains("unbesetzt")
    );
    let (_, jumiko) = visitor.get_text("/gremien/konferenzen/JuMiKo").await;
    assert!(text(&jumiko).contains("geplant zur 44. IT-PLR-Sitzung"));
    let (_, dmk) = visitor.get_text("/gremien/konferenzen/DMK").await;
    let dmk = text(&dmk);
    assert!(dmk.contains("Martina Klement") && !dmk.contains("GO IT-PLR"));
    assert!(dmk.contains("IT-Staatsvertrag § 1 Abs. 2"));
    assert_eq!(visitor.get("/gremien/konferenzen/XYZ").await.status(), 404);
}

#[tokio::test]
async fn an_admin_replaces_a_vacancy_and_finds_it_in_the_history_and_the_audit_log() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let response = admin
        .post(
            "/gremien/personen/neu",
            &[
                ("name", "Erika Mustermann"),
                ("function", "StS"),
                ("organisation", "Hessen"),
            ],
        )
        .await;
    assert_eq!(response.status(), 303);
    let person = response.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let person_id = person.rsplit('/').next().expect("id").to_owned();
    let vacancy = app.store.conference("VMK").await.expect("VMK").assignments[0]
        .id
        .to_string();

    let response = admin
        .post(
            "/gremien/konferenzen/VMK/rollen/neu",
            &[
                ("role", "spokesperson"),
                ("person_id", &person_id),
                ("starts_on", "2025-07-01"),
                ("appointing_resolution", "2025/12"),
                ("replaces", &vacancy),
            ],
        )
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/gremien/konferenzen/VMK");

    let (_, page) = admin.get_text("/gremien/konferenzen/VMK").await;
    let page = text(&page);
    let current = &page
        [page.find("Aktuelle Besetzung").expect("current")..page.find("Verlauf").expect("history")];
    assert!(
        current.contains("Erika Mustermann") && !current.contains("N.N."),
        "{current}"
    );
    let history = &page[page.find("Verlauf").expect("history")..];
    assert!(
        history.contains("N.N.") && history.contains("bis 01.07.2025"),
        "{history}"
    );

    let (status, audit) = admin.get_text("/gremien/konferenzen/VMK/protokoll").await;
    assert_eq!(status, 200);
    let audit = text(&audit);
    assert!(
        audit.contains("Rolle zugewiesen") && audit.contains("Besetzung beendet"),
        "{audit}"
    );
    assert!(
        audit.contains("Erika Mustermann") && audit.contains("Test admin"),
        "{audit}"
    );
    assert!(
        audit.contains("Person angelegt"),
        "person changes of holders belong to the log"
    );
}

#[tokio::test]
async fn an_admin_edits_a_conference_a_person_and_ends_an_assignment() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let response = admin
        .post(
            "/gremien/konferenzen/VMK/bearbeiten",
            &[
                ("abbreviation", "VMK"),
                ("name", "Verkehrsministerkonferenz"),
                ("lead_states", "Hessen"),
                ("office_contact", "Geschäftsstelle der VMK, Bonn"),
            ],
        )
        .await;
    assert_eq!(response.status(), 303);
    assert!(
        text(&admin.get_text("/gremien/konferenzen/VMK").await.1)
            .contains("Geschäftsstelle der VMK, Bonn")
    );

    let manke = app
        .store
        .persons()
        .await
        .expect("persons")
        .into_iter()
        .find(|p| p.name == "Stephan Manke")
        .expect("Manke");
    let response = admin
        .post(
            &format!("/gremien/personen/{}/bearbeiten", manke.id),
            &[
                ("name", "Stephan Manke"),
                ("function", "StS im Ministerium für Inneres und Sport"),
                ("organisation", "Niedersachsen"),
            ],
        )
        .await;
    assert_eq!(response.status(), 303);

    let gmk = app.store.conference("GMK").await.expect("GMK").assignments[0].id;
    let response = admin
        .post(
            &format!("/gremien/rollen/{gmk}/beenden"),
            &[("ends_on", "2025-12-31")],
        )
        .await;
    assert_eq!(response.status(), 303);
    let ended = app.store.assignment(gmk).await.expect("assignment");
    assert_eq!(
        ended.ends_on.map(|d| d.to_string()).as_deref(),
        Some("2025-12-31")
    );
    // Ending it twice is refused with a message, not an error page.
    let response = admin
        .post(
            &format!("/gremien/rollen/{gmk}/beenden"),
            &[("ends_on", "2026-01-31")],
        )
        .await;
    assert_eq!(response.status(), 422);
    assert!(text(&response.text().await.expect("body")).contains("bereits beendet"));

    let (_, person) = admin
        .get_text(&format!("/gremien/personen/{}", manke.id))
        .await;
    let person = text(&person);
    assert!(
        person.contains("Gesundheitsministerkonferenz") && person.contains("bis 31.12.2025"),
        "{person}"
    );
}

#[tokio::test]
async fn invalid_forms_answer_with_the_message_beside_the_field_and_store_nothing() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let before = snapshot(&app.store).await;

    let response = admin
        .post(
            "/gremien/konferenzen/neu",
            &[("abbreviation", "X Y"), ("name", "")],
        )
        .await;
    assert_eq!(response.status(), 422);
    let html = response.text().await.expect("body");
    assert!(html.contains("id=\"f-name-error\"") && html.contains("aria-invalid=\"true\""));
    assert!(text(&html).contains("Bitte ausfüllen."));
    assert!(html.contains("id=\"f-abbreviation-error\""));

    let response = admin
        .post(
            "/gremien/konferenzen/neu",
            &[("abbreviation", "DMK"), ("name", "Doppelt")],
        )
        .await;
    assert_eq!(response.status(), 422);
    assert!(text(&response.text().await.expect("body")).contains("gibt es schon"));

    let response = admin
        .post(
            "/gremien/konferenzen/VMK/rollen/neu",
            &[
                ("role", "contact"),
                ("starts_on", "2025-05-01"),
                ("ends_on", "2025-04-30"),
                ("appointing_resolution", "43/2022"),
            ],
        )
        .await;
    assert_eq!(response.status(), 422);
    let html = text(&response.text().await.expect("body"));
    assert!(
        html.contains("Das Ende liegt vor dem Beginn.") && html.contains("JJJJ/NN"),
        "{html}"
    );

    let response = admin
        .post("/gremien/personen/neu", &[("name", "N.N.")])
        .await;
    assert_eq!(response.status(), 422);
    let response = admin
        .post("/gremien/personen/neu", &[("name", &"x".repeat(600))])
        .await;
    assert_eq!(response.status(), 422);
    let response = admin
        .post("/gremien/konferenzen/VMK/rollen/neu", &[("role", "chair")])
        .await;
    assert_eq!(response.status(), 422);
    let response = admin
        .post(
            "/gremien/konferenzen/VMK/rollen/neu",
            &[("role", "contact"), ("person_id", "999999")],
        )
        .await;
    assert_eq!(response.status(), 404);

    assert_eq!(snapshot(&app.store).await, before, "nothing half-written");
}
