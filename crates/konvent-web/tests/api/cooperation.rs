//! Duties, concerns and workshops (G3, G7).

use konvent_core::authz::{Grant, Role};
use konvent_core::ids::DutyId;
use konvent_store::Visibility;

use crate::helpers::{spawn_app, text};
use crate::leaks::{conference, user_with};

#[tokio::test]
async fn a_spokesperson_sees_and_ticks_off_the_duties_of_their_conference_only() {
    let app = spawn_app().await;
    let spokesperson = app.user(Role::Spokesperson).await; // conference:DMK
    let (status, page) = spokesperson.get_text("/gremien/aufgaben").await;
    assert_eq!(status, 200);
    let page = text(&page);
    assert!(
        page.contains("Beschluss als Tagesordnungspunkt bei der FachMK vorstellen"),
        "{page}"
    );
    assert!(
        page.contains("Martina Klement, Markus Richter"),
        "owners are the DMK's spokespersons"
    );
    assert!(!page.contains(" IMK "), "only the DMK's duties");
    let duties = app
        .store
        .duties(None, Visibility::Confidential)
        .await
        .expect("duties");
    assert_eq!(
        duties.len(),
        4 * 13 * 7,
        "every resolution × relevant conference × task"
    );
    let dmk = duties
        .iter()
        .find(|d| {
            d.conference == "DMK"
                && d.resolution
                    .as_ref()
                    .is_some_and(|r| r.reference == "2024/15")
        })
        .expect("DMK duty");
    let imk = duties
        .iter()
        .find(|d| d.conference == "IMK")
        .expect("IMK duty");
    assert_eq!(
        dmk.due_on.map(|d| d.to_string()).as_deref(),
        Some("2024-03-06"),
        "two weeks before the 43rd session"
    );
    assert_eq!(
        spokesperson
            .post(
                &format!("/gremien/aufgaben/{}/erledigt", dmk.id),
                &[("done", "1")]
            )
            .await
            .status(),
        303
    );
    assert!(
        app.store
            .duty(dmk.id, Visibility::Confidential)
            .await
            .expect("duty")
            .done_at
            .is_some()
    );
    assert_eq!(
        spokesperson
            .post(
                &format!("/gremien/aufgaben/{}/erledigt", imk.id),
                &[("done", "1")]
            )
            .await
            .status(),
        403
    );
    assert!(
        app.store
            .duty(imk.id, Visibility::Confidential)
            .await
            .expect("duty")
            .done_at
            .is_none()
    );
    for role in [Role::Participant, Role::Member, Role::FachmkOffice] {
        assert_eq!(
            app.user(role).await.get("/gremien/aufgaben").await.status(),
            403,
            "{role}"
        );
    }
    assert_eq!(app.visitor().get("/gremien/aufgaben").await.status(), 303);
    let (_, all) = app
        .admin()
        .await
        .get_text("/gremien/aufgaben?konferenz=IMK")
        .await;
    assert!(text(&all).contains("IMK"));
}

/// The duties' ids in the order a page of the list shows them.
fn duty_ids(html: &str) -> Vec<DutyId> {
    html.split("action=\"/gremien/aufgaben/")
        .skip(1)
        .map(|rest| {
            rest.split('/')
                .next()
                .and_then(|id| id.parse().ok())
                .expect("a duty's id")
        })
        .collect()
}

#[tokio::test]
async fn the_duties_list_pages_through_a_filter_and_shows_the_last_page_past_the_end() {
    // Arrange: the demo's 364 duties, three of the DMK's and one of the IMK's done.
    let app = spawn_app().await;
    let admin = app.admin().await;
    let mut done = Vec::new();
    for (conference, n) in [("DMK", 3), ("IMK", 1)] {
        let duties = app
            .store
            .duties(Some(&[conference.to_owned()]), Visibility::Confidential)
            .await
            .expect("duties");
        for duty in duties.iter().take(n) {
            let path = format!("/gremien/aufgaben/{}/erledigt", duty.id);
            assert_eq!(admin.post(&path, &[("done", "1")]).await.status(), 303);
            done.push(duty.id);
        }
    }
    let mut dmk = done[..3].to_vec();
    dmk.sort_unstable();

    // Act: the first, second and a page past the last of all duties, and the DMK's
    // done ones.
    let (_, first) = admin.get_text("/gremien/aufgaben?status=alle").await;
    let (status, second) = admin
        .get_text("/gremien/aufgaben?status=alle&seite=2")
        .await;
    let (_, last) = admin
        .get_text("/gremien/aufgaben?status=alle&seite=99")
        .await;
    let (_, dmk_done) = admin
        .get_text("/gremien/aufgaben?konferenz=DMK&status=erledigt")
        .await;

    // Assert: 50 to a page, each duty on one page only, the links keep the filter.
    assert_eq!(status, 200);
    let page = text(&second);
    assert!(page.contains("Offene Aufgaben: 360"), "{page}");
    assert!(page.contains("in dieser Auswahl: 364"), "{page}");
    assert!(page.contains("Seite 2 von 8"), "{page}");
    assert!(second.contains("href=\"/gremien/aufgaben?status=alle&amp;seite=1\" rel=\"prev\""));
    assert!(second.contains("href=\"/gremien/aufgaben?status=alle&amp;seite=3\" rel=\"next\""));
    let (first_ids, second_ids) = (duty_ids(&first), duty_ids(&second));
    assert_eq!((first_ids.len(), second_ids.len()), (50, 50));
    assert!(
        second_ids.iter().all(|id| !first_ids.contains(id)),
        "page 2 goes on where page 1 ended"
    );
    // Past the end the last page: the 14 duties after 7 full pages, the done ones last.
    assert!(text(&last).contains("Seite 8 von 8"), "{}", text(&last));
    assert!(!last.contains("rel=\"next\""));
    let last_ids = duty_ids(&last);
    assert_eq!(last_ids.len(), 14);
    let mut last_four = last_ids[10..].to_vec();
    last_four.sort_unstable();
    done.sort_unstable();
    assert_eq!(last_four, done, "the done duties come last");
    // The status filter with a conference: the DMK's three done ones, on one page.
    let page = text(&dmk_done);
    assert!(page.contains("Offene Aufgaben: 360"), "{page}");
    assert!(page.contains("in dieser Auswahl: 3"), "{page}");
    let mut dmk_ids = duty_ids(&dmk_done);
    dmk_ids.sort_unstable();
    assert_eq!(dmk_ids, dmk, "the DMK's done duties, no other");
    assert_eq!(dmk_done.matches(">wieder öffnen</button>").count(), 3);
    assert!(
        !dmk_done.contains("Seite 1 von"),
        "one page needs no paging"
    );
}

#[tokio::test]
async fn a_conference_office_submits_a_concern_and_sees_how_the_office_decided() {
    let app = spawn_app().await;
    let office = app.user(Role::FachmkOffice).await; // conference:DMK
    let form = [
        ("conference", "DMK"),
        ("kind", "topic"),
        ("title", "Registerzugang für die Länder"),
        ("body", "Bitte in einer der nächsten Sitzungen behandeln."),
    ];
    let response = office.post("/gremien/anliegen/neu", &form).await;
    assert_eq!(response.status(), 303);
    let path = response.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(text(&office.get_text(&path).await.1).contains("offen"));
    // Not for a conference they do not work for; empty forms are refused.
    let before = app.store.concerns(None).await.expect("concerns").len();
    assert_eq!(
        office
            .post(
                "/gremien/anliegen/neu",
                &[
                    ("conference", "IMK"),
                    ("kind", "concern"),
                    ("title", "x"),
                    ("body", "y")
                ]
            )
            .await
            .status(),
        403
    );
    assert_eq!(
        office
            .post(
                "/gremien/anliegen/neu",
                &[
                    ("conference", "DMK"),
                    ("kind", "concern"),
                    ("title", ""),
                    ("body", "")
                ]
            )
            .await
            .status(),
        422
    );
    assert_eq!(
        app.store.concerns(None).await.expect("concerns").len(),
        before
    );
    assert_eq!(
        app.user(Role::Participant).await.get(&path).await.status(),
        403
    );
    let other_office = app.user(Role::Spokesperson).await;
    assert_eq!(
        other_office.get(&path).await.status(),
        200,
        "the DMK's spokesperson follows it too"
    );

    let admin = app.admin().await;
    let response = admin
        .post(&path, &[("status", "declined"), ("answer", "")])
        .await;
    assert_eq!(response.status(), 422);
    // The 48th session is held: the concern goes onto the 49th, still to come.
    let created = admin
        .post(
            "/gremien/sitzungen/neu",
            &[
                ("number", "49"),
                ("date", "2099-03-25"),
                ("state", "planned"),
            ],
        )
        .await;
    assert_eq!(created.status(), 303);
    let response = admin
        .post(&path, &[("status", "accepted"), ("session_number", "49")])
        .await;
    assert_eq!(response.status(), 303);
    let (_, page) = office.get_text(&path).await;
    assert!(
        text(&page).contains("auf die Tagesordnung genommen – 49. Sitzung des IT-Planungsrats"),
        "{}",
        text(&page)
    );
    let s49 = app.store.session(49).await.expect("49");
    let agenda = app.store.agenda(s49.id).await.expect("agenda");
    assert!(
        agenda
            .iter()
            .any(|a| a.title == "Anliegen der DMK: Registerzugang für die Länder")
    );
    // The office cannot decide itself.
    assert_eq!(
        office
            .post(&path, &[("status", "answered"), ("answer", "selbst")])
            .await
            .status(),
        403
    );
}

#[tokio::test]
async fn workshop_groups_capture_results_per_question_and_export_them() {
    let app = spawn_app().await;
    let (id, _, _) = app.store.workshops().await.expect("workshops")[0].clone();
    let workshop = app.store.workshop(id).await.expect("workshop");
    assert_eq!(workshop.questions.len(), 4);
    let question = workshop.questions[2].id;
    let path = format!("/gremien/workshops/{id}/fragen/{question}/ergebnisse");
    let participant = app.user(Role::Participant).await;
    assert_eq!(
        participant
            .post(
                &path,
                &[
                    ("group", "Gruppe A"),
                    ("text", "Regelmäßige Videokonferenz der Geschäftsstellen")
                ]
            )
            .await
            .status(),
        303
    );
    assert_eq!(
        participant
            .post(&path, &[("group", "Gruppe B"), ("text", "")])
            .await
            .status(),
        422
    );
    assert_eq!(
        app.visitor()
            .post(&path, &[("group", "X"), ("text", "Y")])
            .await
            .status(),
        303
    );
    let (_, page) = app
        .visitor()
        .get_text(&format!("/gremien/workshops/{id}"))
        .await;
    assert!(text(&page).contains("Gruppe A: Regelmäßige Videokonferenz der Geschäftsstellen"));
    let (status, md) = app
        .visitor()
        .get_text(&format!("/gremien/workshops/{id}/ergebnisse.md"))
        .await;
    assert_eq!(status, 200);
    assert!(
        md.contains("## 3. Welche zukünftigen Formate")
            && md.contains("**Gruppe A:** Regelmäßige Videokonferenz")
    );
    assert_eq!(
        app.store.workshop(id).await.expect("w").questions[2]
            .results
            .len(),
        1
    );
}

#[tokio::test]
async fn a_spokesperson_learns_of_a_resolution_in_preparation_but_not_its_number_or_title() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let form = |state| {
        [
            ("number", "2025/77"),
            ("title", "Abwasserregister im Entwurf"),
            ("body", "Nur für Mitglieder."),
            ("session_number", "48"),
            ("state", state),
            ("relevance", "UMK: Betrifft die Umweltministerkonferenz"),
        ]
    };
    let (_, umk) = user_with(
        &app,
        "UMK-Sprecherin",
        &[Grant::new(Role::Spokesperson, conference("UMK")).expect("grant")],
    )
    .await;
    let created = admin.post("/gremien/beschluesse/neu", &form("draft")).await;
    assert_eq!(created.status(), 303);
    for state in ["draft", "decided"] {
        let saved = admin
            .post("/gremien/beschluesse/2025/77/bearbeiten", &form(state))
            .await;
        assert_eq!(saved.status(), 303, "{state}");
        let (status, page) = umk.get_text("/gremien/aufgaben").await;
        assert_eq!(status, 200);
        assert!(
            !page.contains("2025/77") && !page.contains("Abwasserregister"),
            "{state}: neither number nor title nor link"
        );
        assert!(
            text(&page).contains("Ein Beschluss in Vorbereitung"),
            "{state}: the spokesperson learns that one concerns the UMK: {}",
            text(&page)
        );
        assert_eq!(
            umk.get("/gremien/beschluesse/2025/77").await.status(),
            404,
            "{state}"
        );
        // Admins (and members, who read the resolution itself) see which one it is.
        let (_, all) = admin.get_text("/gremien/aufgaben?konferenz=UMK").await;
        assert!(all.contains("2025/77") && all.contains("Abwasserregister"));
    }
    // Published, it is the spokesperson's like any other.
    let published = admin
        .post(
            "/gremien/beschluesse/2025/77/bearbeiten",
            &form("published"),
        )
        .await;
    assert_eq!(published.status(), 303);
    let (_, page) = umk.get_text("/gremien/aufgaben").await;
    assert!(page.contains("/gremien/beschluesse/2025/77") && page.contains("Abwasserregister"));
    let public = app
        .store
        .duties(Some(&["UMK".to_owned()]), Visibility::Public)
        .await
        .expect("duties");
    assert!(public.iter().all(|d| d.resolution.is_some()));
}
