//! What the walk-through of Gremien and Strategie found (issue 15, items 14–20), each
//! checked through the real server.

use jiff::ToSpan;
use konvent_core::authz::{Grant, Role};
use konvent_core::strategy::demo as strategy_demo;
use reqwest::StatusCode;

use crate::helpers::{TestApp, User, spawn_app, text};
use crate::leaks::{conference, user_with};

/// A date `days` from today, as the session form takes it.
fn in_days(days: i64) -> String {
    konvent_store::today()
        .checked_add(days.days())
        .expect("date")
        .to_string()
}

async fn create_session(admin: &User, number: &str, date: &str, state: &str) {
    let response = admin
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
        .await;
    assert_eq!(response.status(), 303, "session {number}");
}

/// A concern of the DMK, submitted by its office; returns the concern's path.
async fn concern(app: &TestApp) -> String {
    let office = app.user(Role::FachmkOffice).await;
    let response = office
        .post(
            "/gremien/anliegen/neu",
            &[
                ("conference", "DMK"),
                ("kind", "topic"),
                ("title", "Registerzugang für die Länder"),
                ("body", "Bitte in einer der nächsten Sitzungen behandeln."),
            ],
        )
        .await;
    assert_eq!(response.status(), 303);
    response.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned()
}

#[tokio::test]
async fn a_concern_goes_only_onto_the_agenda_of_a_session_still_to_come() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let path = concern(&app).await;
    create_session(&admin, "49", &in_days(60), "planned").await;
    // A session the office forgot to mark held is past all the same.
    create_session(&admin, "50", &in_days(-3), "planned").await;

    // The session is a choice of the upcoming ones, none preselected.
    let (status, html) = admin.get_text(&path).await;
    assert_eq!(status, 200);
    let select = html
        .split("<select id=\"f-session_number\"")
        .nth(1)
        .and_then(|s| s.split("</select>").next())
        .expect("a select of sessions");
    assert!(
        select.contains("<option value=\"\" selected>Bitte wählen</option>"),
        "{select}"
    );
    assert!(
        select.contains("<option value=\"49\">49. Sitzung des IT-Planungsrats – "),
        "{select}"
    );
    assert!(
        !select.contains("value=\"48\"") && !select.contains("value=\"50\""),
        "{select}"
    );
    assert_eq!(select.matches(" selected").count(), 1, "{select}");

    // A held session is refused beside the field, and nothing lands on its agenda.
    let refused = admin
        .post(&path, &[("status", "accepted"), ("session_number", "48")])
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = refused.text().await.expect("body");
    assert!(
        html.contains("id=\"f-session_number-error\""),
        "the message stands beside the field"
    );
    assert!(
        text(&html).contains("Die 48. Sitzung hat am 26.11.2025 schon stattgefunden. Bitte eine kommende Sitzung wählen."),
        "{}",
        text(&html)
    );
    let refused = admin
        .post(&path, &[("status", "accepted"), ("session_number", "50")])
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text(&refused.text().await.expect("body")).contains("Die 50. Sitzung lag am"));
    let s48 = app.store.session(48).await.expect("48");
    assert!(
        !app.store
            .agenda(s48.id)
            .await
            .expect("agenda")
            .iter()
            .any(|a| a.title.contains("Registerzugang"))
    );

    // The upcoming one takes it.
    let accepted = admin
        .post(&path, &[("status", "accepted"), ("session_number", "49")])
        .await;
    assert_eq!(accepted.status(), 303);
    let s49 = app.store.session(49).await.expect("49");
    assert!(
        app.store
            .agenda(s49.id)
            .await
            .expect("agenda")
            .iter()
            .any(|a| a.title == "Anliegen der DMK: Registerzugang für die Länder")
    );
    // Saving the answer later keeps the session it is on.
    let (_, html) = admin.get_text(&path).await;
    assert!(html.contains("<option value=\"49\" selected>"), "{html}");

    // A held session takes no new agenda items: no form, and the server refuses.
    let (_, page) = admin.get_text("/gremien/sitzungen/48").await;
    assert!(!page.contains("id=\"f-agenda-title\""));
    assert!(text(&page).contains("Diese Sitzung nimmt keine neuen Tagesordnungspunkte mehr auf"));
    let refused = admin
        .post(
            "/gremien/sitzungen/48/tagesordnung",
            &[("title", "Nachzügler")],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        text(&refused.text().await.expect("body"))
            .contains("Die 48. Sitzung hat am 26.11.2025 schon stattgefunden")
    );
    let (_, page) = admin.get_text("/gremien/sitzungen/49").await;
    assert!(
        page.contains("id=\"f-agenda-title\""),
        "an upcoming session keeps its form"
    );
}

#[tokio::test]
async fn adding_a_role_needs_an_explicit_choice_of_role_and_scope() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (id, _) = user_with(&app, "Erika Mustermann", &[]).await;
    let (status, html) = admin.get_text("/admin/konten").await;
    assert_eq!(status, 200);
    assert!(html.contains("<th scope=\"col\">Name</th>"));
    assert!(!html.contains("Ihr Name"));
    let select = html
        .split(&format!("<select id=\"role-{id}\" name=\"role\" required>"))
        .nth(1)
        .and_then(|s| s.split("</select>").next())
        .expect("the row's role choice");
    assert!(
        select.starts_with("<option value=\"\">Bitte wählen</option>"),
        "no role preselected: {select}"
    );
    assert!(!select.contains("selected"));
    // The least privileged roles first, administration last.
    assert!(
        select
            .trim_end()
            .ends_with("<option value=\"admin\">Administration</option>"),
        "{select}"
    );
    let scopes = html
        .split(&format!("<select id=\"scope-{id}\" name=\"scope\">"))
        .nth(1)
        .and_then(|s| s.split("</select>").next())
        .expect("the row's scope choice");
    assert!(
        scopes.contains(
            "<option value=\"conference:DMK\">Konferenz: Digitalministerkonferenz (DMK)</option>"
        ),
        "{scopes}"
    );
    assert!(
        scopes.contains("<option value=\"event:1\">Veranstaltung: "),
        "{scopes}"
    );
    assert!(
        scopes.contains("<option value=\"topic:1\">Thema: "),
        "{scopes}"
    );
    assert!(scopes.contains("<option value=\"room:"), "{scopes}");

    // Without a chosen role, nothing is granted.
    let path = format!("/admin/konten/{id}/rollen");
    let refused = admin.post(&path, &[("role", ""), ("scope", "")]).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text(&refused.text().await.expect("body")).contains("Bitte eine Rolle wählen."));
    let grants = |app: &TestApp| {
        let store = app.store.clone();
        async move {
            store
                .accounts()
                .await
                .expect("accounts")
                .into_iter()
                .find(|a| a.id == id)
                .expect("account")
                .grants
        }
    };
    assert!(grants(&app).await.is_empty());
    let granted = admin
        .post(
            &path,
            &[("role", "spokesperson"), ("scope", "conference:DMK")],
        )
        .await;
    assert_eq!(granted.status(), 303);
    assert_eq!(
        grants(&app).await,
        [Grant::new(Role::Spokesperson, conference("DMK")).expect("grant")]
    );
}

#[tokio::test]
async fn only_the_office_publishes_a_version_and_only_with_a_chosen_published_resolution() {
    let app = spawn_app().await;
    let topics = strategy_demo::topics().expect("topics");
    let slug = &topics[1].slug;
    let path = format!("/strategie/themen/{slug}/konsolidierung");
    let patron = app
        .sign_in_existing(&strategy_demo::patron_email(slug))
        .await;
    let admin = app.admin().await;
    // A draft, handed into the decision papers.
    let r = patron
        .post(
            &path,
            &[
                ("aktion", "entwurf"),
                ("body", "Zielbild, Fassung für den Rat."),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let topic = app.store.topic(slug).await.expect("topic");
    let draft = app
        .store
        .target_pictures(topic.id, true)
        .await
        .expect("versions")
        .into_iter()
        .find(|v| v.visibility == konvent_core::strategy::Visibility::Draft)
        .expect("draft");
    let version = draft.id.to_string();
    let r = patron
        .post(&path, &[("aktion", "vertraulich"), ("version", &version)])
        .await;
    assert_eq!(r.status(), 303);

    // The patron is told who publishes; no button that would fail.
    let (_, html) = patron.get_text(&path).await;
    assert!(
        !html.contains("Mit diesem Beschluss veröffentlichen"),
        "no publish for the patron"
    );
    assert!(text(&html).contains("Veröffentlichen kann die Geschäftsstelle"));
    let refused = patron
        .post(
            &path,
            &[
                ("aktion", "veroeffentlichen"),
                ("version", &version),
                ("resolution", "1"),
            ],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // The office chooses the resolution itself: none preselected, published ones only,
    // versions oldest first.
    let (_, html) = admin.get_text(&path).await;
    let select = html
        .split(&format!(
            "<select id=\"res{version}\" name=\"resolution\" required"
        ))
        .nth(1)
        .and_then(|s| s.split("</select>").next())
        .expect("a resolution choice");
    assert!(
        select.contains("<option value=\"\">Bitte den Beschluss wählen</option>"),
        "{select}"
    );
    assert!(!select.contains("selected"), "{select}");
    assert!(select.contains("2024/15 "), "{select}");
    let versions: Vec<usize> = app
        .store
        .target_pictures(topic.id, true)
        .await
        .expect("versions")
        .iter()
        .map(|v| {
            html.find(&format!("id=\"fassung-{}\"", v.version))
                .expect("listed")
        })
        .collect();
    assert!(
        versions.windows(2).all(|w| w[0] > w[1]),
        "oldest version first"
    );

    // Without a choice, the refusal stands beside the choice.
    let refused = admin
        .post(
            &path,
            &[
                ("aktion", "veroeffentlichen"),
                ("version", &version),
                ("resolution", ""),
            ],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = refused.text().await.expect("body");
    assert!(
        html.contains(&format!("id=\"res{version}-error\"")),
        "beside the field"
    );
    assert!(text(&html).contains("Bitte den veröffentlichten Beschluss wählen"));

    let resolution = app
        .store
        .resolution(2024, 15, konvent_store::Visibility::Public)
        .await
        .expect("2024/15");
    let published = admin
        .post(
            &path,
            &[
                ("aktion", "veroeffentlichen"),
                ("version", &version),
                ("resolution", &resolution.id.to_string()),
            ],
        )
        .await;
    assert_eq!(published.status(), 303);
    let (_, html) = admin.get_text(&path).await;
    assert!(
        html.contains(&format!(
            "<li id=\"fassung-{}\" aria-current=\"true\">",
            draft.version
        )),
        "the published version is marked current"
    );
    assert!(text(&html).contains("aktuelle Fassung"));
}

#[tokio::test]
async fn unpublished_resolutions_carry_a_confidential_mark_on_the_office_pages() {
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
    let (_, page) = admin.get_text("/gremien/sitzungen/48").await;
    let page = text(&page);
    assert!(
        page.contains("Vertraulicher Entwurf Zielbild Entwurf · vertraulich"),
        "{page}"
    );
    let (_, follow_ups) = admin.get_text("/gremien/nachbesprechungen").await;
    assert!(
        text(&follow_ups).contains(
            "Vertraulicher Entwurf Zielbild vertraulich · für Eingeladene noch nicht sichtbar"
        ),
        "{}",
        text(&follow_ups)
    );
    // Published resolutions carry none.
    assert!(!page.contains("Föderale Digitalstrategie Entwurf"));
    let (_, s43) = admin.get_text("/gremien/sitzungen/43").await;
    assert!(!text(&s43).contains("vertraulich"), "{}", text(&s43));
}

#[tokio::test]
async fn duties_read_as_open_or_done_name_the_spokesperson_and_page_with_filters() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (_, html) = admin.get_text("/gremien/aufgaben").await;
    let page = text(&html);
    // 4 resolutions × 13 conferences × 7 tasks, 50 to a page.
    assert!(page.contains("Offene Aufgaben: 364"), "{page}");
    assert!(page.contains("Seite 1 von 8"), "{page}");
    assert_eq!(html.matches("<tr").count(), 51, "a header and 50 rows");
    assert!(html.contains(">Als erledigt markieren</button>"));
    assert!(page.contains("offen"));
    assert!(page.contains("überfällig"));
    let (_, second) = admin
        .get_text("/gremien/aufgaben?status=offen&seite=2")
        .await;
    assert!(text(&second).contains("Seite 2 von 8"));
    assert!(second.contains("rel=\"prev\""));

    // The decided resolutions of 2022 have no session date: their tasks before the
    // decision are overdue.
    let (_, overdue) = admin
        .get_text("/gremien/aufgaben?konferenz=DMK&status=ueberfaellig")
        .await;
    let overdue = text(&overdue);
    assert!(overdue.contains("2022/43"), "{overdue}");
    assert!(
        overdue.contains("vor dem Beschluss – Beschluss gefasst"),
        "{overdue}"
    );
    assert!(!overdue.contains(" IMK "), "{overdue}");

    // The signed-in spokesperson is named as responsible.
    let (_, klement) = user_with(
        &app,
        "Martina Klement",
        &[Grant::new(Role::Spokesperson, conference("DMK")).expect("grant")],
    )
    .await;
    let (status, html) = klement.get_text("/gremien/aufgaben").await;
    assert_eq!(status, 200);
    let page = text(&html);
    assert!(page.contains("Martina Klement (Sie)"), "{page}");
    assert!(!page.contains("Martina Klement, Martina Klement"), "{page}");

    // Done reads "erledigt" with a way back, open "offen" with the action.
    let duty = app
        .store
        .duties(
            Some(&["DMK".to_owned()]),
            konvent_store::Visibility::Confidential,
        )
        .await
        .expect("duties")[0]
        .id;
    let done = klement
        .post(
            &format!("/gremien/aufgaben/{duty}/erledigt"),
            &[("done", "1")],
        )
        .await;
    assert_eq!(done.status(), 303);
    let (_, html) = klement.get_text("/gremien/aufgaben?status=erledigt").await;
    let page = text(&html);
    assert!(
        page.contains("erledigt") && page.contains("wieder öffnen"),
        "{page}"
    );
    assert!(!html.contains(">Als erledigt markieren</button>"));
}

#[tokio::test]
async fn the_office_edits_a_follow_up_which_lists_its_invitees_with_weekdays() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    // The next number is prefilled.
    let (_, form) = admin.get_text("/gremien/sitzungen/neu").await;
    assert!(
        form.contains("name=\"number\" type=\"text\" value=\"49\""),
        "{form}"
    );

    let path = "/gremien/sitzungen/43/nachbesprechung/bearbeiten";
    let (status, _) = admin.get_text(path).await;
    assert_eq!(status, 200);
    let refused = admin
        .post(
            path,
            &[
                ("date", "2024-04-16"),
                ("start_time", "14:00"),
                ("end_time", "15:30"),
                ("video_url", "kein Link"),
            ],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .text()
            .await
            .expect("body")
            .contains("id=\"f-video_url-error\"")
    );
    let saved = admin
        .post(
            path,
            &[
                ("date", "2024-04-16"),
                ("start_time", "14:00"),
                ("end_time", "15:30"),
                ("video_url", "https://video.example/nachbesprechung-43"),
            ],
        )
        .await;
    assert_eq!(saved.status(), 303);
    let (_, page) = admin.get_text("/gremien/sitzungen/43").await;
    let page = text(&page);
    assert!(page.contains("Di., 16.04.2024, 14:00–15:30 Uhr"), "{page}");
    assert!(
        page.contains("https://video.example/nachbesprechung-43"),
        "{page}"
    );
    assert!(
        page.contains("Mi., 20.03.2024"),
        "the session's date with its weekday"
    );
    let f = app
        .store
        .follow_up(app.store.session(43).await.expect("43").id)
        .await
        .expect("follow-up")
        .expect("scheduled");
    assert!(f.confirmed, "a date the office set stays put");

    // Invitees are people, not a department's name.
    let (_, list) = app.visitor().get_text("/gremien/nachbesprechungen").await;
    let list = text(&list);
    assert!(
        !list.contains("Geschäftsstelle und Arbeitsebene der"),
        "{list}"
    );
    assert!(
        list.contains("Digitalministerkonferenz (DMK): Martina Klement (Sprecher:in)"),
        "{list}"
    );
    // Accounts with their addresses only for the office.
    user_with(
        &app,
        "Büro DMK",
        &[Grant::new(Role::FachmkOffice, conference("DMK")).expect("grant")],
    )
    .await;
    let (_, office) = admin.get_text("/gremien/nachbesprechungen").await;
    assert!(
        office.contains("büro.dmk@test.example"),
        "{}",
        text(&office)
    );
    let (_, public) = app.visitor().get_text("/gremien/nachbesprechungen").await;
    assert!(!public.contains("test.example"));

    // Non-admins cannot edit it.
    for role in [Role::Member, Role::Spokesperson, Role::FachmkOffice] {
        let user = app.user(role).await;
        assert_eq!(user.get(path).await.status(), 403, "{role}");
        assert_eq!(
            user.post(path, &[("date", "2024-04-17")]).await.status(),
            403,
            "{role}"
        );
    }
}

#[tokio::test]
async fn hidden_labels_have_no_stray_space_and_gremien_cards_wrap() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (_, page) = admin.get_text("/gremien/sitzungen/46").await;
    assert!(
        page.contains("aria-label=\"Entfernen: Reporting FachMK\""),
        "{page}"
    );
    for path in [
        "/gremien/sitzungen/46",
        "/gremien/aufgaben",
        "/admin/konten",
        "/gremien/konferenzen/DMK",
        "/gremien/nachbesprechungen",
    ] {
        let (_, html) = admin.get_text(path).await;
        assert!(
            !html.contains("<span class=\"visually-hidden\">:"),
            "{path}: a hidden label that starts with its colon"
        );
    }
    let (_, gremien) = admin.get_text("/gremien").await;
    assert!(gremien.contains("<ul class=\"cards cards-wide\">"));
}
