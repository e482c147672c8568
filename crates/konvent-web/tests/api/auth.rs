use jiff::SignedDuration;
use konvent_core::authz::Role;
use konvent_store::TokenPurpose;

use crate::helpers::{CSRF, User, grant, spawn_app, text};

/// A single-use link's token, as an admin or the command line would create it.
async fn link(
    app: &crate::helpers::TestApp,
    purpose: TokenPurpose,
    email: &str,
    grant: Option<&konvent_core::authz::Grant>,
    valid_for: SignedDuration,
) -> String {
    app.store
        .create_login_token(purpose, email, grant, None, valid_for)
        .await
        .expect("link created")
        .token
}

fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("konvent_session="))
        .map(|v| v.split(';').next().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn an_invitation_creates_an_account_with_its_role_once() {
    let app = spawn_app().await;
    let token = link(
        &app,
        TokenPurpose::Invitation,
        "Sprecherin@Example.org",
        Some(&grant(Role::Spokesperson)),
        SignedDuration::from_hours(1),
    )
    .await;
    let visitor = app.visitor();
    let path = format!("/einladung/{token}");
    let (status, page) = visitor.get_text(&path).await;
    assert_eq!(status, 200);
    assert!(text(&page).contains("sprecherin@example.org"));

    let response = visitor
        .post(
            &path,
            &[
                ("display_name", "Martina Klement"),
                ("password", "kurz"),
                ("password_repeat", "kurz"),
            ],
        )
        .await;
    assert_eq!(response.status(), 422);
    assert!(text(&response.text().await.expect("body")).contains("mindestens 12 Zeichen"));
    let response = visitor
        .post(
            &path,
            &[
                ("display_name", "Martina Klement"),
                ("password", "ein-langes-passwort"),
                ("password_repeat", "ein-anderes-passwort"),
            ],
        )
        .await;
    assert_eq!(response.status(), 422);

    let response = visitor
        .post(
            &path,
            &[
                ("display_name", "Martina Klement"),
                ("password", "ein-langes-passwort"),
                ("password_repeat", "ein-langes-passwort"),
            ],
        )
        .await;
    assert_eq!(response.status(), 303);
    let cookie = session_cookie(&response).expect("session cookie");
    let set_cookie = response.headers()["set-cookie"].to_str().expect("ascii");
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"));
    let user = User {
        client: visitor.client.clone(),
        cookie: format!("konvent_csrf={CSRF}; {cookie}"),
        base: app.address.clone(),
    };
    assert!(text(&user.get_text("/").await.1).contains("Angemeldet als Martina Klement"));
    let account = app
        .store
        .accounts()
        .await
        .expect("accounts")
        .into_iter()
        .find(|a| a.email == "sprecherin@example.org")
        .expect("account");
    assert_eq!(account.grants, vec![grant(Role::Spokesperson)]);

    // Used once: the link is gone.
    let (status, _) = visitor.get_text(&path).await;
    assert_eq!(status, 400);
    let response = visitor
        .post(
            &path,
            &[
                ("display_name", "Zweiter Versuch"),
                ("password", "ein-langes-passwort"),
                ("password_repeat", "ein-langes-passwort"),
            ],
        )
        .await;
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn an_expired_invitation_is_refused() {
    let app = spawn_app().await;
    let token = link(
        &app,
        TokenPurpose::Invitation,
        "spaet@example.org",
        None,
        SignedDuration::from_secs(-1),
    )
    .await;
    let (status, body) = app.visitor().get_text(&format!("/einladung/{token}")).await;
    assert_eq!(status, 400);
    assert!(text(&body).contains("abgelaufen"));
}

#[tokio::test]
async fn a_sign_in_link_signs_in_once_after_a_button_press() {
    let app = spawn_app().await;
    app.store
        .ensure_account("demo@example.org", "Demo", &[grant(Role::Admin)])
        .await
        .expect("account");
    let token = link(
        &app,
        TokenPurpose::SignIn,
        "demo@example.org",
        None,
        SignedDuration::from_hours(1),
    )
    .await;
    let visitor = app.visitor();
    let path = format!("/anmelden/link/{token}");
    // Opening the link (as a mail scanner would) does not use it up.
    for _ in 0..2 {
        let (status, page) = visitor.get_text(&path).await;
        assert_eq!(status, 200);
        assert!(text(&page).contains("demo@example.org"));
    }
    let response = visitor.post(&path, &[]).await;
    assert_eq!(response.status(), 303);
    assert!(session_cookie(&response).is_some());
    assert_eq!(visitor.post(&path, &[]).await.status(), 410);
    assert_eq!(visitor.get(&path).await.status(), 410);
    assert_eq!(visitor.get("/anmelden/link/unbekannt").await.status(), 410);
}

#[tokio::test]
async fn signing_in_with_a_password_works_and_failures_are_rate_limited() {
    let app = spawn_app().await;
    let token = link(
        &app,
        TokenPurpose::Invitation,
        "mitglied@example.org",
        Some(&grant(Role::Member)),
        SignedDuration::from_hours(1),
    )
    .await;
    let hash = konvent_store::password::hash("richtiges-passwort").expect("hash");
    app.store
        .redeem_invitation(&token, "Mitglied", &hash)
        .await
        .expect("account");
    let visitor = app.visitor();

    let response = visitor
        .post(
            "/anmelden",
            &[
                ("email", "mitglied@example.org"),
                ("password", "richtiges-passwort"),
                ("weiter", "/gremien"),
            ],
        )
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/gremien");
    let cookie = session_cookie(&response).expect("session");

    // Signing out ends the session on the server, not only in the browser.
    let user = User {
        client: visitor.client.clone(),
        cookie: format!("konvent_csrf={CSRF}; {cookie}"),
        base: app.address.clone(),
    };
    assert_eq!(user.post("/abmelden", &[]).await.status(), 303);
    assert!(!text(&user.get_text("/").await.1).contains("Angemeldet als"));

    let response = visitor
        .post(
            "/anmelden",
            &[
                ("email", "mitglied@example.org"),
                ("password", "falsch-falsch-falsch"),
            ],
        )
        .await;
    assert_eq!(response.status(), 401);
    assert!(text(&response.text().await.expect("body")).contains("stimmen nicht"));
    let response = visitor
        .post(
            "/anmelden",
            &[
                ("email", "niemand@example.org"),
                ("password", "egal-egal-egal"),
            ],
        )
        .await;
    assert_eq!(response.status(), 401, "unknown addresses answer the same");
    for _ in 0..4 {
        visitor
            .post(
                "/anmelden",
                &[
                    ("email", "mitglied@example.org"),
                    ("password", "falsch-falsch-falsch"),
                ],
            )
            .await;
    }
    let response = visitor
        .post(
            "/anmelden",
            &[
                ("email", "mitglied@example.org"),
                ("password", "richtiges-passwort"),
            ],
        )
        .await;
    assert_eq!(
        response.status(),
        429,
        "locked after five failures, even with the right password"
    );
    assert!(session_cookie(&response).is_none());

    // After signing in, an open redirect to another site is not followed.
    let other = app.visitor();
    let token = link(
        &app,
        TokenPurpose::Invitation,
        "zwei@example.org",
        None,
        SignedDuration::from_hours(1),
    )
    .await;
    app.store
        .redeem_invitation(&token, "Zwei", &hash)
        .await
        .expect("account");
    let response = other
        .post(
            "/anmelden",
            &[
                ("email", "zwei@example.org"),
                ("password", "richtiges-passwort"),
                ("weiter", "//evil.example/"),
            ],
        )
        .await;
    assert_eq!(response.headers()["location"], "/");
}

#[tokio::test]
async fn a_disabled_account_cannot_sign_in_its_sessions_and_sockets_end_and_enabling_restores_it() {
    let app = spawn_app().await;
    let token = link(
        &app,
        TokenPurpose::Invitation,
        "gesperrt@example.org",
        Some(&grant(Role::Member)),
        SignedDuration::from_hours(1),
    )
    .await;
    let hash = konvent_store::password::hash("richtiges-passwort").expect("hash");
    let id = app
        .store
        .redeem_invitation(&token, "Gesperrte Person", &hash)
        .await
        .expect("account");
    let event = app
        .store
        .event(konvent_core::demo::KONVENT_SLUG)
        .await
        .expect("event");
    app.store
        .add_to_event(event.id, id, konvent_store::EventRole::Participant)
        .await
        .expect("participant");
    let session = app
        .store
        .sign_in(id, SignedDuration::from_hours(1))
        .await
        .expect("session");
    let person = User {
        client: app.visitor().client,
        cookie: format!("konvent_csrf={CSRF}; konvent_session={session}"),
        base: app.address.clone(),
    };
    assert!(text(&person.get_text("/").await.1).contains("Angemeldet als"));
    let mut socket = crate::ws::connect(&app, &crate::ws::cookie(&session), "").await;

    let admin = app.admin().await;
    let path = format!("/admin/konten/{id}/sperren");
    // An admin cannot disable their own account; a wrong value is a bad request.
    let own = app.account_id("admin@test.example").await;
    let refused = admin
        .post(
            &format!("/admin/konten/{own}/sperren"),
            &[("gesperrt", "1")],
        )
        .await;
    assert_eq!(refused.status(), 409);
    assert_eq!(admin.post(&path, &[("gesperrt", "ja")]).await.status(), 400);
    // Nobody else may disable anybody.
    assert_eq!(person.post(&path, &[("gesperrt", "1")]).await.status(), 403);

    assert_eq!(admin.post(&path, &[("gesperrt", "1")]).await.status(), 303);
    let (_, page) = admin.get_text("/admin/konten").await;
    assert!(text(&page).contains("Gesperrt"), "{}", text(&page));
    // The open session and its live socket end at once.
    assert!(!text(&person.get_text("/").await.1).contains("Angemeldet als"));
    let close = socket.until(|f| f["t"] == "close").await;
    assert_eq!(close["code"], 4001, "{close}");
    // Neither the password nor a new session lets it in, and it says why.
    let visitor = app.visitor();
    let sign_in = [
        ("email", "gesperrt@example.org"),
        ("password", "richtiges-passwort"),
    ];
    let response = visitor.post("/anmelden", &sign_in).await;
    assert_eq!(response.status(), 403);
    assert!(session_cookie(&response).is_none());
    assert!(text(&response.text().await.expect("body")).contains("Konto ist gesperrt"));
    assert!(matches!(
        app.store.sign_in(id, SignedDuration::from_hours(1)).await,
        Err(konvent_store::StoreError::AccountDisabled)
    ));

    // Enabled again, the password works as before.
    assert_eq!(admin.post(&path, &[("gesperrt", "0")]).await.status(), 303);
    let response = visitor.post("/anmelden", &sign_in).await;
    assert_eq!(response.status(), 303);
    assert!(session_cookie(&response).is_some());
    let db = sqlx::SqlitePool::connect(&format!("sqlite:{}", app.dir.join("konvent.db").display()))
        .await
        .expect("db");
    let actions: Vec<(String,)> = sqlx::query_as(
        "SELECT action FROM audit_log WHERE entity = 'account' AND entity_id = ? ORDER BY id",
    )
    .bind(id.get())
    .fetch_all(&db)
    .await
    .expect("audit");
    let actions: Vec<&str> = actions.iter().map(|(a,)| a.as_str()).collect();
    assert!(
        actions.ends_with(&["account_disabled", "account_enabled"]),
        "{actions:?}"
    );
}
