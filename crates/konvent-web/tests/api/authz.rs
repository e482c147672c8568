//! The authorization matrix: every admin form and its POST endpoint, for every role.

use konvent_core::authz::Role;
use konvent_core::ids::{AssignmentId, PersonId};

use crate::helpers::{TestApp, User, snapshot, spawn_app};

/// Every admin-only page, with ids of demo records filled in.
async fn admin_pages(app: &TestApp) -> Vec<String> {
    let (assignment, person, _) = ids(app).await;
    vec![
        "/gremien/konferenzen/neu".into(),
        "/gremien/konferenzen/VMK/bearbeiten".into(),
        "/gremien/konferenzen/VMK/rollen/neu".into(),
        "/gremien/konferenzen/VMK/protokoll".into(),
        format!("/gremien/rollen/{assignment}/bearbeiten"),
        format!("/gremien/rollen/{assignment}/beenden"),
        "/gremien/personen/neu".into(),
        format!("/gremien/personen/{person}/bearbeiten"),
        "/gremien/import".into(),
        "/admin/konten".into(),
        "/admin/mails".into(),
    ]
}

/// Every admin-only POST endpoint with a valid form that would change something.
async fn admin_posts(app: &TestApp) -> Vec<(String, Vec<(&'static str, String)>)> {
    let (assignment, person, account) = ids(app).await;
    let s = |v: &str| v.to_owned();
    vec![
        (
            "/gremien/konferenzen/neu".into(),
            vec![("abbreviation", s("NEU")), ("name", s("Neue Konferenz"))],
        ),
        (
            "/gremien/konferenzen/VMK/bearbeiten".into(),
            vec![("abbreviation", s("VMK")), ("name", s("Geändert"))],
        ),
        (
            "/gremien/konferenzen/VMK/rollen/neu".into(),
            vec![("role", s("contact")), ("person_id", person.to_string())],
        ),
        (
            format!("/gremien/rollen/{assignment}/bearbeiten"),
            vec![("role", s("rapporteur"))],
        ),
        (
            format!("/gremien/rollen/{assignment}/beenden"),
            vec![("ends_on", s("2030-01-01"))],
        ),
        (
            "/gremien/personen/neu".into(),
            vec![("name", s("Unbefugt Angelegt"))],
        ),
        (
            format!("/gremien/personen/{person}/bearbeiten"),
            vec![("name", s("Umbenannt"))],
        ),
        (
            "/admin/konten/einladen".into(),
            vec![("email", s("neu@example.org")), ("role", s("admin"))],
        ),
        (
            format!("/admin/konten/{account}/rollen"),
            vec![("role", s("admin")), ("scope", s(""))],
        ),
        (
            format!("/admin/konten/{account}/rollen/entfernen"),
            vec![("role", s("member")), ("scope", s(""))],
        ),
        ("/admin/mails/1/erneut-senden".into(), vec![]),
    ]
}

/// (an assignment of VMK, a person, the member test account).
async fn ids(app: &TestApp) -> (AssignmentId, PersonId, i64) {
    let assignment = app.store.conference("VMK").await.expect("VMK").assignments[0].id;
    let person = app.store.persons().await.expect("persons")[0].id;
    app.user(Role::Member).await;
    let account = app
        .store
        .accounts()
        .await
        .expect("accounts")
        .into_iter()
        .find(|a| a.email == "member@test.example")
        .expect("member account")
        .id;
    (assignment, person, account.get())
}

async fn post(user: &User, path: &str, form: &[(&'static str, String)]) -> u16 {
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    user.post(path, &form).await.status().as_u16()
}

#[tokio::test]
async fn visitors_are_sent_to_sign_in_for_every_admin_form_and_post() {
    let app = spawn_app().await;
    let visitor = app.visitor();
    let before = snapshot(&app.store).await;
    for path in admin_pages(&app).await {
        let response = visitor.get(&path).await;
        assert_eq!(response.status(), 303, "GET {path}");
        let location = response.headers()["location"].to_str().expect("ascii");
        assert!(
            location.starts_with("/anmelden?weiter="),
            "GET {path} → {location}"
        );
    }
    for (path, form) in admin_posts(&app).await {
        assert_eq!(post(&visitor, &path, &form).await, 303, "POST {path}");
    }
    let upload = visitor
        .upload("x.csv", b"Konferenz,Rolle\nVMK,Sprecher:in\n".to_vec())
        .await;
    assert_eq!(upload.status(), 303);
    assert_eq!(snapshot(&app.store).await, before);
}

#[tokio::test]
async fn every_role_but_admin_is_refused_every_admin_form_and_post() {
    let app = spawn_app().await;
    let before = snapshot(&app.store).await;
    let pages = admin_pages(&app).await;
    let posts = admin_posts(&app).await;
    for role in Role::ALL.into_iter().filter(|r| *r != Role::Admin) {
        let user = app.user(role).await;
        for path in &pages {
            assert_eq!(user.get(path).await.status(), 403, "{role} GET {path}");
        }
        for (path, form) in &posts {
            assert_eq!(post(&user, path, form).await, 403, "{role} POST {path}");
        }
        let upload = user
            .upload("x.csv", b"Konferenz,Rolle\nVMK,Sprecher:in\n".to_vec())
            .await;
        assert_eq!(upload.status(), 403, "{role} upload");
    }
    assert_eq!(
        snapshot(&app.store).await,
        before,
        "no role changed the directory"
    );
    // No role was granted or removed, and nobody was invited.
    let accounts = app.store.accounts().await.expect("accounts");
    assert!(
        accounts
            .iter()
            .filter(|a| a.email.ends_with("@test.example"))
            .all(|a| a.grants.len() == 1),
        "{accounts:?}"
    );
    assert!(
        accounts
            .iter()
            .filter(|a| a.email.ends_with("@konvent.example"))
            .all(|a| a.grants.len() <= 1),
        "{accounts:?}"
    );
    assert!(accounts.iter().all(|a| a.email != "neu@example.org"));
}

#[tokio::test]
async fn an_admin_reaches_every_admin_form() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    for path in admin_pages(&app).await {
        assert_eq!(admin.get(&path).await.status(), 200, "GET {path}");
    }
}

#[tokio::test]
async fn public_pages_are_open_to_everybody() {
    let app = spawn_app().await;
    let person = app.store.persons().await.expect("persons")[0].id;
    let pages = [
        "/".to_owned(),
        "/konvent".into(),
        "/gremien".into(),
        "/strategie".into(),
        "/gremien/konferenzen".into(),
        "/gremien/konferenzen/DMK".into(),
        "/gremien/personen".into(),
        format!("/gremien/personen/{person}"),
        "/gremien/verzeichnis.csv".into(),
        "/gremien/verzeichnis.xlsx".into(),
        "/anmelden".into(),
    ];
    let mut users = vec![app.visitor()];
    for role in Role::ALL {
        users.push(app.user(role).await);
    }
    for user in &users {
        for path in &pages {
            assert_eq!(user.get(path).await.status(), 200, "GET {path}");
        }
    }
}

#[tokio::test]
async fn a_form_without_the_csrf_token_or_from_another_site_is_refused() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let before = snapshot(&app.store).await;
    let response = admin
        .post_raw("/gremien/personen/neu", &[("name", "Ohne Token")])
        .await;
    assert_eq!(response.status(), 403);
    let response = admin
        .post_raw(
            "/gremien/personen/neu",
            &[("csrf", "falsch"), ("name", "Falsches Token")],
        )
        .await;
    assert_eq!(response.status(), 403);
    let response = admin
        .client
        .post(app.url("/gremien/personen/neu"))
        .header("cookie", &admin.cookie)
        .header("origin", "https://evil.example")
        .form(&[("csrf", crate::helpers::CSRF), ("name", "Fremde Seite")])
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), 403);
    assert_eq!(snapshot(&app.store).await, before);
}
