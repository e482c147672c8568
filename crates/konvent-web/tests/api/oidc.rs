//! Single sign-on (issue 19) against a real OpenID provider: panva's oidc-provider from
//! e2e/node_modules, run by e2e/oidc/provider.mjs on a loopback port. Without node or the
//! package the tests print a visible skip line; under `CI=true` they fail instead.

use konvent_core::ids::EventId;
use std::io::BufRead;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use konvent_core::authz::{Role, Scope};
use konvent_web::oidc::ProviderSettings;
use reqwest::redirect::Policy;
use reqwest::{Client, StatusCode};

use crate::helpers::{CSRF, TestApp, spawn_app_at, text};

/// The running provider; stopped when dropped.
struct Provider {
    child: Child,
    issuer: String,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn e2e_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../e2e")
}

/// Whether node and oidc-provider are there; prints the skip line (or fails in CI).
fn provider_available(test: &str) -> bool {
    let node = Command::new("node").arg("--version").output().is_ok();
    let package = e2e_dir().join("node_modules/oidc-provider").is_dir();
    if node && package {
        return true;
    }
    let in_ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false");
    assert!(
        !in_ci,
        "{test}: node or oidc-provider is missing (cd e2e && npm ci), and CI must run the OIDC tests"
    );
    eprintln!(
        "skipped: {test}: node or e2e/node_modules/oidc-provider is missing (cd e2e && npm ci)"
    );
    false
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Starts the provider on `port` for a konvent at `konvent` (provider id `test`).
fn start_provider(port: u16, konvent: &str) -> Provider {
    let mut child = Command::new("node")
        .arg("oidc/provider.mjs")
        .current_dir(e2e_dir())
        .env("OIDC_PORT", port.to_string())
        .env(
            "OIDC_REDIRECT_URI",
            format!("{konvent}/anmelden/oidc/test/zurueck"),
        )
        .env("OIDC_POST_LOGOUT_URI", format!("{konvent}/"))
        .env(
            "OIDC_BACKCHANNEL_URI",
            format!("{konvent}/oidc/test/backchannel-logout"),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("node starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    let mut reader = std::io::BufReader::new(stdout);
    reader
        .read_line(&mut line)
        .expect("the provider says where it listens");
    // Keep reading: a closed pipe would end the provider at its next line of output.
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    let issuer = line
        .trim()
        .strip_prefix("listening ")
        .unwrap_or_else(|| panic!("unexpected provider output {line:?}"))
        .to_owned();
    Provider { child, issuer }
}

fn provider_settings(issuer: &str) -> ProviderSettings {
    let mut roles = std::collections::BTreeMap::new();
    roles.insert("konvent-admin".to_owned(), vec!["admin".to_owned()]);
    roles.insert(
        "fachmk-DMK-sprecher".to_owned(),
        vec!["spokesperson conference:DMK".to_owned()],
    );
    roles.insert("it-plr-mitglied".to_owned(), vec!["member".to_owned()]);
    ProviderSettings {
        id: "test".into(),
        label: "Testportal".into(),
        issuer: issuer.to_owned(),
        client_id: "konvent".into(),
        client_secret: "konvent-test-secret".into(),
        scopes: vec![
            "openid".into(),
            "email".into(),
            "profile".into(),
            "groups".into(),
        ],
        role_claim: "groups".into(),
        roles,
        require_role: false,
    }
}

/// konvent with the provider configured, and the provider running.
async fn setup(test: &str) -> Option<(TestApp, Provider)> {
    setup_with(test, |_| {}).await
}

/// Like [`setup`], with konvent's provider settings changed by `change`.
async fn setup_with(
    test: &str,
    change: impl FnOnce(&mut ProviderSettings),
) -> Option<(TestApp, Provider)> {
    if !provider_available(test) {
        return None;
    }
    let port = free_port();
    let issuer = format!("http://127.0.0.1:{port}");
    let mut settings = provider_settings(&issuer);
    change(&mut settings);
    let app = spawn_app_at(|s, address| {
        s.public_url = address.to_owned();
        s.oidc = vec![settings];
    })
    .await;
    let provider = start_provider(port, &app.address);
    assert_eq!(provider.issuer, issuer);
    Some((app, provider))
}

fn no_redirects() -> Client {
    Client::builder()
        .redirect(Policy::none())
        .cookie_store(true)
        .build()
        .expect("client")
}

fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("a redirect, got {}", response.status()))
        .to_owned()
}

/// A browser: konvent's cookies and the provider's.
struct Browser {
    http: Client,
}

impl Browser {
    fn new() -> Self {
        Self {
            http: no_redirects(),
        }
    }

    /// Clicks the provider's button; returns the provider's authorization URL.
    async fn start(&self, app: &TestApp) -> String {
        let response = self
            .http
            .get(app.url("/anmelden/oidc/test?weiter=/gremien"))
            .send()
            .await
            .expect("start");
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        location(&response)
    }

    /// Signs in at the provider as `login`; returns konvent's callback URL (not followed).
    async fn at_provider(&self, auth_url: &str, login: &str) -> String {
        let mut url = auth_url.to_owned();
        for _ in 0..10 {
            if !url.starts_with("http") {
                let base = reqwest::Url::parse(auth_url).expect("url");
                url = base.join(&url).expect("joined").to_string();
            }
            if url.contains("/anmelden/oidc/test/zurueck") {
                return url;
            }
            let response = if url.contains("/interaction/") {
                let page = self.http.get(&url).send().await.expect("interaction");
                if page.status().is_redirection() {
                    url = location(&page);
                    continue;
                }
                self.http
                    .post(&url)
                    .form(&[("prompt", "login"), ("login", login), ("password", "x")])
                    .send()
                    .await
                    .expect("login")
            } else {
                self.http.get(&url).send().await.expect("provider")
            };
            assert!(
                response.status().is_redirection(),
                "provider answered {} at {url}",
                response.status()
            );
            url = location(&response);
        }
        panic!("the provider never sent the browser back");
    }

    /// Follows konvent's callback URL.
    async fn back(&self, callback: &str) -> reqwest::Response {
        self.http.get(callback).send().await.expect("callback")
    }

    async fn sign_in(&self, app: &TestApp, login: &str) -> reqwest::Response {
        let auth = self.start(app).await;
        let callback = self.at_provider(&auth, login).await;
        self.back(&callback).await
    }
}

async fn account_count(app: &TestApp) -> usize {
    app.store.accounts().await.expect("accounts").len()
}

async fn control(provider: &Provider, query: &str) {
    let response = Client::new()
        .post(format!("{}/__test/mode?{query}", provider.issuer))
        .send()
        .await
        .expect("control");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn a_first_sign_in_creates_the_account_with_the_roles_from_the_groups_claim() {
    let Some((app, provider)) = setup("oidc first sign-in").await else {
        return;
    };
    let page = reqwest::get(app.url("/anmelden")).await.expect("page");
    // Signing out posts a form that the provider's end-session endpoint answers.
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        csp.contains(&format!("form-action 'self' {};", provider.issuer)),
        "{csp}"
    );
    let html = page.text().await.expect("html");
    let button = html
        .find("Anmelden mit Testportal")
        .expect("the provider's button");
    let password = html.find("name=\"password\"").expect("the local form");
    assert!(button < password, "the provider comes first");

    let before = account_count(&app).await;
    let browser = Browser::new();
    let response = browser.sign_in(&app, "anna").await;
    if response.status() != StatusCode::SEE_OTHER {
        panic!("{}", response.text().await.unwrap_or_default());
    }
    assert_eq!(location(&response), "/gremien");
    assert_eq!(account_count(&app).await, before + 1);
    let id = app.account_id("anna@land.example").await;
    let person = app.store.principal(id).await.expect("db").expect("account");
    assert_eq!(person.display_name, "Anna Adler");
    assert!(person.is_admin(), "{:?}", person.grants);
    let from_provider = app.store.provider_grants(id).await.expect("grants");
    assert_eq!(
        from_provider,
        [("admin".to_owned(), "global".to_owned(), "test".to_owned())]
    );
    // Signed in: the browser's session reaches an admin page.
    let admin = browser
        .http
        .get(app.url("/admin/konten"))
        .send()
        .await
        .expect("admin page");
    assert_eq!(admin.status(), StatusCode::OK);

    // A second sign-in finds the same account.
    let again = Browser::new().sign_in(&app, "anna").await;
    assert_eq!(again.status(), StatusCode::SEE_OTHER);
    assert_eq!(account_count(&app).await, before + 1);
}

#[tokio::test]
async fn provider_grants_follow_the_claim_and_grants_given_in_konvent_stay() {
    let Some((app, provider)) = setup("oidc grants follow the claim").await else {
        return;
    };
    let response = Browser::new().sign_in(&app, "bert").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let id = app.account_id("bert@land.example").await;
    let grants = app
        .store
        .principal(id)
        .await
        .expect("db")
        .expect("p")
        .grants;
    assert!(grants.iter().any(|g| g.role == Role::Spokesperson));
    assert!(grants.iter().any(|g| g.role == Role::Member));
    // konvent gives bert a role of its own.
    let organizer =
        konvent_core::authz::Grant::new(Role::Organizer, Scope::Event(EventId::new(1))).expect("g");
    let admin = konvent_store::Actor::system("test");
    app.store
        .add_grant(&admin, id, &organizer)
        .await
        .expect("grant");

    // The provider now lists bert in no group that konvent maps.
    control(&provider, "person=bert&groups=sonstige").await;
    let response = Browser::new().sign_in(&app, "bert").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let grants = app
        .store
        .principal(id)
        .await
        .expect("db")
        .expect("p")
        .grants;
    assert_eq!(
        grants,
        [organizer],
        "provider grants gone, konvent's grant stays"
    );
    assert!(
        app.store
            .provider_grants(id)
            .await
            .expect("grants")
            .is_empty()
    );
}

/// The refused sign-in's page: status, the message (German by default), no account.
async fn assert_refused(
    app: &TestApp,
    response: reqwest::Response,
    status: StatusCode,
    text: &str,
    before: usize,
) {
    assert_eq!(response.status(), status);
    let html = response.text().await.expect("html");
    assert!(html.contains(text), "expected {text:?} in {html}");
    assert_eq!(account_count(app).await, before, "no account was created");
}

#[tokio::test]
async fn a_wrong_or_missing_state_is_refused() {
    let Some((app, _provider)) = setup("oidc wrong state").await else {
        return;
    };
    let before = account_count(&app).await;
    let browser = Browser::new();
    let auth = browser.start(&app).await;
    let callback = browser.at_provider(&auth, "anna").await;
    let mut url = reqwest::Url::parse(&callback).expect("url");
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "state" {
                "gefaelscht".to_owned()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    url.query_pairs_mut().clear().extend_pairs(pairs);
    let response = browser.back(url.as_str()).await;
    assert_refused(
        &app,
        response,
        StatusCode::BAD_REQUEST,
        "Diese Anmeldung ist abgelaufen",
        before,
    )
    .await;
    // The flow is used up: the right state afterwards is refused too.
    let response = browser.back(&callback).await;
    assert_refused(
        &app,
        response,
        StatusCode::BAD_REQUEST,
        "Diese Anmeldung ist abgelaufen",
        before,
    )
    .await;
    // A browser that never started a sign-in.
    let response = Browser::new().back(&callback).await;
    assert_refused(
        &app,
        response,
        StatusCode::BAD_REQUEST,
        "Diese Anmeldung ist abgelaufen",
        before,
    )
    .await;
}

#[tokio::test]
async fn a_replayed_code_is_refused_by_the_provider() {
    let Some((app, _provider)) = setup("oidc replayed code").await else {
        return;
    };
    let browser = Browser::new();
    let first = browser.start(&app).await;
    let callback = browser.at_provider(&first, "anna").await;
    assert_eq!(
        browser.back(&callback).await.status(),
        StatusCode::SEE_OTHER
    );
    let before = account_count(&app).await;
    // The same code again, under a fresh sign-in's state.
    let attacker = Browser::new();
    let second = attacker.start(&app).await;
    let state = reqwest::Url::parse(&second)
        .expect("url")
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .expect("state");
    let mut url = reqwest::Url::parse(&callback).expect("url");
    let code = url
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("code");
    url.query_pairs_mut()
        .clear()
        .append_pair("code", &code)
        .append_pair("state", &state);
    let response = attacker.back(url.as_str()).await;
    assert_refused(
        &app,
        response,
        StatusCode::BAD_REQUEST,
        "Anmeldecode war schon benutzt",
        before,
    )
    .await;
}

#[tokio::test]
async fn a_wrong_nonce_is_refused() {
    let Some((app, _provider)) = setup("oidc wrong nonce").await else {
        return;
    };
    let before = account_count(&app).await;
    let browser = Browser::new();
    let auth = browser.start(&app).await;
    let callback = browser.at_provider(&auth, "anna").await;
    // The provider's code and PKCE are right; only the nonce konvent expects differs
    // (as when a token minted for another sign-in is injected).
    let db = sqlx::SqlitePool::connect(&format!("sqlite:{}", app.dir.join("konvent.db").display()))
        .await
        .expect("db");
    sqlx::query("UPDATE oidc_flows SET nonce = 'ein-anderer-nonce'")
        .execute(&db)
        .await
        .expect("update");
    let response = browser.back(&callback).await;
    assert_refused(
        &app,
        response,
        StatusCode::BAD_REQUEST,
        "Sicherheitsprüfung nicht bestanden",
        before,
    )
    .await;
}

#[tokio::test]
async fn an_expired_id_token_is_refused() {
    let Some((app, provider)) = setup("oidc expired token").await else {
        return;
    };
    let before = account_count(&app).await;
    control(&provider, "expire=1").await;
    let response = Browser::new().sign_in(&app, "anna").await;
    assert_refused(
        &app,
        response,
        StatusCode::BAD_REQUEST,
        "Sicherheitsprüfung nicht bestanden",
        before,
    )
    .await;
}

#[tokio::test]
async fn an_id_token_for_another_client_is_refused() {
    let Some((app, provider)) = setup("oidc foreign audience").await else {
        return;
    };
    // The provider re-signs its ID tokens with its own key: naming konvent, the token
    // is taken (so the re-signing itself is sound)…
    control(&provider, "audience=konvent").await;
    let taken = Browser::new().sign_in(&app, "anna").await;
    assert_eq!(taken.status(), StatusCode::SEE_OTHER);
    // …naming another client, it is refused and nobody is signed in or created.
    let before = account_count(&app).await;
    control(&provider, "audience=andere-anwendung").await;
    let response = Browser::new().sign_in(&app, "bert").await;
    assert_refused(
        &app,
        response,
        StatusCode::BAD_REQUEST,
        "Sicherheitsprüfung nicht bestanden",
        before,
    )
    .await;
}

#[tokio::test]
async fn an_id_token_signed_with_an_unknown_key_is_refused() {
    let Some((app, provider)) = setup("oidc unknown key").await else {
        return;
    };
    let before = account_count(&app).await;
    // The provider publishes a key the tokens are not signed with, from before konvent
    // first reads its keys; reading them again at the failed signature changes nothing.
    control(&provider, "jwks=foreign").await;
    let browser = Browser::new();
    let auth = browser.start(&app).await;
    let callback = browser.at_provider(&auth, "anna").await;
    let response = browser.back(&callback).await;
    assert_refused(
        &app,
        response,
        StatusCode::BAD_REQUEST,
        "Sicherheitsprüfung nicht bestanden",
        before,
    )
    .await;
}

#[tokio::test]
async fn a_provider_that_is_down_is_named_as_unreachable() {
    let Some((app, provider)) = setup("oidc provider down").await else {
        return;
    };
    let before = account_count(&app).await;
    drop(provider);
    let response = Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("client")
        .get(app.url("/anmelden/oidc/test"))
        .header("cookie", format!("konvent_csrf={CSRF}; konvent_lang=en"))
        .send()
        .await
        .expect("start");
    assert_refused(
        &app,
        response,
        StatusCode::BAD_GATEWAY,
        "cannot be reached",
        before,
    )
    .await;
}

async fn sessions_from_the_provider(app: &TestApp) -> i64 {
    let db = sqlx::SqlitePool::connect(&format!("sqlite:{}", app.dir.join("konvent.db").display()))
        .await
        .expect("db");
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM sessions WHERE oidc_provider = 'test'")
        .fetch_one(&db)
        .await
        .expect("count");
    n
}

/// The CSRF token of a page the browser gets from konvent.
async fn csrf_of(browser: &Browser, app: &TestApp) -> String {
    let html = browser
        .http
        .get(app.url("/admin/anmeldung"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    let start = html.find("name=\"csrf\" value=\"").expect("a form") + 19;
    html[start..start + 64].to_owned()
}

#[tokio::test]
async fn signing_out_ends_the_provider_session_and_its_back_channel_logout_ends_the_others() {
    let Some((app, provider)) = setup("oidc logout").await else {
        return;
    };
    let browser = Browser::new();
    // Two konvent sessions from one provider session (two sign-ins in one browser).
    let first = browser.sign_in(&app, "anna").await;
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    let first_session = session_cookie(&first);
    assert_eq!(
        browser.sign_in(&app, "anna").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(sessions_from_the_provider(&app).await, 2);
    let with_first = || async {
        no_redirects()
            .get(app.url("/admin/konten"))
            .header("cookie", format!("konvent_session={first_session}"))
            .send()
            .await
            .expect("admin page")
            .status()
    };
    assert_eq!(with_first().await, StatusCode::OK);
    // The first session has a live socket open in the event.
    let mut socket =
        crate::ws::connect(&app, &crate::ws::cookie(&first_session), "?room=plenum").await;

    // A forged logout token changes nothing.
    let forged = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbm5hIn0.";
    let refused = Client::new()
        .post(app.url("/oidc/test/backchannel-logout"))
        .form(&[("logout_token", forged)])
        .send()
        .await
        .expect("post");
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert_eq!(sessions_from_the_provider(&app).await, 2);

    // konvent's sign-out sends the browser to the provider's end-session endpoint.
    let csrf = csrf_of(&browser, &app).await;
    let out = browser
        .http
        .post(app.url("/abmelden"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("sign out");
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    let end = location(&out);
    assert!(end.starts_with(&provider.issuer), "{end}");
    assert!(end.contains("id_token_hint="), "{end}");
    assert!(
        end.contains(&format!(
            "post_logout_redirect_uri={}",
            url::form_urlencoded::byte_serialize(format!("{}/", app.address).as_bytes())
                .collect::<String>()
        )),
        "{end}"
    );
    assert_eq!(sessions_from_the_provider(&app).await, 1);

    // The person confirms at the provider; it ends its session and tells konvent
    // through the back channel, which ends the other konvent session.
    let page = browser.http.get(&end).send().await.expect("end page");
    let html = page.text().await.expect("html");
    let xsrf_at = html.find("name=\"xsrf\" value=\"").expect("confirm form") + 19;
    let xsrf: String = html[xsrf_at..].chars().take_while(|c| *c != '"').collect();
    let action_at = html.find("action=\"").expect("action") + 8;
    let action: String = html[action_at..]
        .chars()
        .take_while(|c| *c != '"')
        .collect();
    let confirm_url = reqwest::Url::parse(&provider.issuer)
        .expect("issuer")
        .join(&action)
        .expect("action url");
    let done = browser
        .http
        .post(confirm_url)
        .form(&[("xsrf", xsrf.as_str()), ("logout", "yes")])
        .send()
        .await
        .expect("confirm");
    assert!(done.status().is_redirection(), "{}", done.status());
    assert_eq!(location(&done), format!("{}/", app.address));
    assert_eq!(sessions_from_the_provider(&app).await, 0);
    assert_ne!(
        with_first().await,
        StatusCode::OK,
        "the other session ended"
    );
    // …and its live socket closed as signed out.
    let close = socket.until(|f| f["t"] == "close").await;
    assert_eq!(close["code"], 4001, "{close}");
}

/// An account with a password, invited with `role`.
async fn with_password(app: &TestApp, email: &str, role: Role) {
    let token = app
        .store
        .create_login_token(
            konvent_store::TokenPurpose::Invitation,
            email,
            Some(&crate::helpers::grant(role)),
            None,
            jiff::SignedDuration::from_hours(1),
        )
        .await
        .expect("link")
        .token;
    let hash = konvent_store::password::hash("richtiges-passwort").expect("hash");
    app.store
        .redeem_invitation(&token, "Jemand", &hash)
        .await
        .expect("account");
}

#[tokio::test]
async fn an_admin_switches_local_passwords_off_for_everyone_but_admins() {
    let app = crate::helpers::spawn_app().await;
    with_password(&app, "mitglied@example.org", Role::Member).await;
    with_password(&app, "chefin@example.org", Role::Admin).await;
    let sign_in = |email: &'static str| {
        let visitor = app.visitor();
        async move {
            visitor
                .post(
                    "/anmelden",
                    &[("email", email), ("password", "richtiges-passwort")],
                )
                .await
        }
    };
    assert_eq!(sign_in("mitglied@example.org").await.status(), 303);

    // Only admins may turn the switch.
    let member = app.user(Role::Member).await;
    assert_eq!(
        member
            .post("/admin/anmeldung", &[("local_passwords", "off")])
            .await
            .status(),
        403
    );
    assert!(app.store.local_passwords_allowed().await.expect("db"));
    let admin = app.admin().await;
    assert_eq!(admin.get("/admin/anmeldung").await.status(), 200);
    let bad = admin
        .post("/admin/anmeldung", &[("local_passwords", "vielleicht")])
        .await;
    assert_eq!(bad.status(), 422);
    let off = admin
        .post("/admin/anmeldung", &[("local_passwords", "off")])
        .await;
    assert_eq!(off.status(), 303);
    assert!(!app.store.local_passwords_allowed().await.expect("db"));

    let refused = sign_in("mitglied@example.org").await;
    assert_eq!(refused.status(), 403);
    let page = refused.text().await.expect("html");
    assert!(page.contains("nur noch für die Administration"), "{page}");
    assert_eq!(
        sign_in("chefin@example.org").await.status(),
        303,
        "admins still may"
    );
    let (_, form) = app.visitor().get_text("/anmelden").await;
    assert!(form.contains("steht nur der Administration offen"));
}

#[tokio::test]
async fn an_existing_account_is_linked_only_after_its_owner_signs_in_with_the_password() {
    let Some((app, _provider)) = setup("oidc linking").await else {
        return;
    };
    with_password(&app, "bert@land.example", Role::Participant).await;
    let before = account_count(&app).await;
    // Same address at the provider: refused, nothing linked, nothing created.
    let browser = Browser::new();
    let response = browser.sign_in(&app, "bert").await;
    assert_refused(
        &app,
        response,
        StatusCode::CONFLICT,
        "gibt es schon ein konvent-Konto",
        before,
    )
    .await;

    // Bert signs in with the password, then connects the provider account (a form
    // with the CSRF token; a plain link cannot do it).
    let signed_in = browser
        .http
        .post(app.url("/anmelden"))
        .header("cookie", format!("konvent_csrf={CSRF}"))
        .form(&[
            ("csrf", CSRF),
            ("email", "bert@land.example"),
            ("password", "richtiges-passwort"),
        ])
        .send()
        .await
        .expect("sign in");
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    let session = session_cookie(&signed_in);
    let cookie = format!("konvent_csrf={CSRF}; konvent_session={session}");
    let (_, page) = {
        let r = browser
            .http
            .get(app.url("/anmelden"))
            .header("cookie", &cookie)
            .send()
            .await
            .expect("page");
        (r.status(), r.text().await.expect("html"))
    };
    assert!(page.contains("Verbinden mit Testportal"), "{page}");
    let start = browser
        .http
        .post(app.url("/anmelden/oidc/test"))
        .header("cookie", &cookie)
        .form(&[("csrf", CSRF)])
        .send()
        .await
        .expect("start");
    assert_eq!(start.status(), StatusCode::SEE_OTHER);
    let flow_cookie = start
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("konvent_oidc="))
        .and_then(|c| c.split(';').next())
        .expect("flow cookie")
        .to_owned();
    let callback = browser.at_provider(&location(&start), "bert").await;
    let back = browser
        .http
        .get(&callback)
        .header("cookie", format!("konvent_oidc={flow_cookie}"))
        .send()
        .await
        .expect("callback");
    assert_eq!(back.status(), StatusCode::SEE_OTHER);
    assert_eq!(account_count(&app).await, before, "linked, not created");
    let id = app.account_id("bert@land.example").await;
    let grants = app
        .store
        .principal(id)
        .await
        .expect("db")
        .expect("p")
        .grants;
    assert!(
        grants.iter().any(|g| g.role == Role::Spokesperson),
        "{grants:?}"
    );
    // From now on the provider alone signs bert in.
    let again = Browser::new().sign_in(&app, "bert").await;
    assert_eq!(again.status(), StatusCode::SEE_OTHER);
    assert_eq!(account_count(&app).await, before);
}

/// The session a response sets.
fn session_cookie(response: &reqwest::Response) -> String {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("konvent_session="))
        .and_then(|c| c.split(';').next())
        .expect("a session cookie")
        .to_owned()
}

#[tokio::test]
async fn a_provider_that_requires_a_role_lets_in_only_people_with_one() {
    let Some((app, provider)) = setup_with("oidc require role", |p| p.require_role = true).await
    else {
        return;
    };
    // Bert's groups map to nothing here: refused, and no account is left behind.
    control(&provider, "person=bert&groups=kantine").await;
    let before = account_count(&app).await;
    let response = Browser::new().sign_in(&app, "bert").await;
    assert_refused(
        &app,
        response,
        StatusCode::FORBIDDEN,
        "keine Rolle für dieses konvent",
        before,
    )
    .await;
    // With a mapped group he is let in…
    control(&provider, "person=bert&groups=it-plr-mitglied").await;
    assert_eq!(
        Browser::new().sign_in(&app, "bert").await.status(),
        StatusCode::SEE_OTHER
    );
    // …and a role given in konvent keeps him in when the provider's group goes.
    let id = app.account_id("bert@land.example").await;
    app.store
        .add_grant(
            &konvent_store::Actor::system("Test"),
            id,
            &crate::helpers::grant(Role::Participant),
        )
        .await
        .expect("grant");
    control(&provider, "person=bert&groups=kantine").await;
    assert_eq!(
        Browser::new().sign_in(&app, "bert").await.status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn an_admin_allows_an_existing_account_to_be_linked_and_can_disable_it() {
    let Some((app, _provider)) = setup("oidc admin link").await else {
        return;
    };
    with_password(&app, "bert@land.example", Role::Participant).await;
    let id = app.account_id("bert@land.example").await;
    let admin = app.admin().await;
    let participant = app.user(Role::Participant).await;
    let before = account_count(&app).await;
    assert_eq!(
        Browser::new().sign_in(&app, "bert").await.status(),
        StatusCode::CONFLICT
    );

    let path = format!("/admin/konten/{id}/verbinden");
    assert_eq!(
        admin
            .post(&path, &[("provider", "unbekannt")])
            .await
            .status(),
        422
    );
    assert_eq!(
        participant
            .post(&path, &[("provider", "test")])
            .await
            .status(),
        403
    );
    assert_eq!(
        admin.post(&path, &[("provider", "test")]).await.status(),
        303
    );
    let (_, page) = admin.get_text("/admin/konten").await;
    assert!(
        text(&page).contains("Verbindung mit Testportal bei der nächsten Anmeldung erlaubt"),
        "{}",
        text(&page)
    );

    // Bert's next sign-in at the provider (with his verified address) links the account.
    assert_eq!(
        Browser::new().sign_in(&app, "bert").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(account_count(&app).await, before, "linked, not created");
    let (_, page) = admin.get_text("/admin/konten").await;
    let page = text(&page);
    assert!(page.contains("Meldet sich an über Testportal"), "{page}");
    assert!(
        page.contains("vom Anmeldedienst Testportal"),
        "the provider's grant is marked: {page}"
    );
    assert!(
        !page.contains("bei der nächsten Anmeldung erlaubt"),
        "used once"
    );

    // Disabled, the provider no longer signs him in, and he is told why.
    assert_eq!(
        admin
            .post(&format!("/admin/konten/{id}/sperren"), &[("gesperrt", "1")])
            .await
            .status(),
        303
    );
    let refused = Browser::new().sign_in(&app, "bert").await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(
        refused
            .text()
            .await
            .expect("html")
            .contains("Konto ist gesperrt")
    );
}
