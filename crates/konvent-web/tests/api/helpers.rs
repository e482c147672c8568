//! `spawn_app()`: a real server on 127.0.0.1:0 with its own SQLite database holding the
//! demo data, plus clients signed in with each role.

use konvent_core::ids::{AccountId, EventId, RoomId, TopicId};
use std::path::PathBuf;

use jiff::SignedDuration;
use konvent_core::authz::{Grant, Role, Scope};
use konvent_store::Store;
use konvent_store::statements::StatementCounter;
use konvent_web::{AppState, Settings};
use reqwest::redirect::Policy;
use reqwest::{Client, Response};

/// The CSRF token every test client sends, as cookie and as form field.
pub const CSRF: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

pub struct TestApp {
    pub address: String,
    /// The data folder (its SQLite database), for tests that look inside.
    pub dir: PathBuf,
    pub store: Store,
    /// The server's state: the live hub and the metrics, for tests that look inside.
    pub state: AppState,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A client with a session (or none) and the CSRF cookie.
pub struct User {
    pub client: Client,
    pub cookie: String,
    pub base: String,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Like [`spawn_app`], with settings changed by `configure`.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_app_at(|settings, _| configure(settings)).await
}

/// Like [`spawn_app_with`]; `configure` also gets the server's address (for settings
/// that name it, such as `public_url`).
pub async fn spawn_app_at(configure: impl FnOnce(&mut Settings, &str)) -> TestApp {
    let dir = std::env::temp_dir().join(format!("konvent-test-{}", konvent_store::new_token()));
    let store = Store::open_data_dir(&dir).await.expect("store opens");
    konvent_store::demo::load(&store, 21)
        .await
        .expect("demo data loads");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = format!("http://{}", listener.local_addr().expect("address"));
    let mut settings = Settings {
        data_dir: dir.clone(),
        ..Settings::default()
    };
    configure(&mut settings, &address);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let state = AppState::new(store.clone(), settings);
    let server_state = state.clone();
    tokio::spawn(async move {
        konvent_web::serve(server_state, listener, async {
            let _ = rx.await;
        })
        .await
        .expect("server runs");
    });
    TestApp {
        address,
        store,
        state,
        dir,
        _shutdown: tx,
    }
}

fn client() -> Client {
    Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("client")
}

/// A grant of `role` with a fitting scope.
pub fn grant(role: Role) -> Grant {
    let scope = match role.scope_kind() {
        None => Scope::Global,
        Some(konvent_core::authz::ScopeKind::Conference) => {
            "conference:DMK".parse().expect("scope")
        }
        Some(konvent_core::authz::ScopeKind::Event) => Scope::Event(EventId::new(1)),
        Some(konvent_core::authz::ScopeKind::Room) => Scope::Room(RoomId::new(1)),
        Some(konvent_core::authz::ScopeKind::Topic) => Scope::Topic(TopicId::new(1)),
    };
    Grant::new(role, scope).expect("valid grant")
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// A visitor who is not signed in.
    pub fn visitor(&self) -> User {
        User {
            client: client(),
            cookie: format!("konvent_csrf={CSRF}"),
            base: self.address.clone(),
        }
    }

    /// A signed-in account holding `role`.
    pub async fn user(&self, role: Role) -> User {
        let email = format!("{}@test.example", role.as_str());
        let id = self
            .store
            .ensure_account(&email, &format!("Test {}", role.as_str()), &[grant(role)])
            .await
            .expect("account");
        let token = self
            .store
            .sign_in(id, SignedDuration::from_hours(1))
            .await
            .expect("session");
        User {
            client: client(),
            cookie: format!("konvent_csrf={CSRF}; konvent_session={token}"),
            base: self.address.clone(),
        }
    }

    /// A signed-in account `NAME@test.example` holding `role`.
    pub async fn user_named(&self, role: Role, name: &str) -> User {
        let id = self
            .store
            .ensure_account(&format!("{name}@test.example"), name, &[grant(role)])
            .await
            .expect("account");
        self.session(id).await
    }

    /// Signs in an account that exists already (e.g. from the demo data).
    pub async fn sign_in_existing(&self, email: &str) -> User {
        let id = self
            .store
            .accounts()
            .await
            .expect("accounts")
            .into_iter()
            .find(|a| a.email == email)
            .expect("account exists")
            .id;
        self.session(id).await
    }

    async fn session(&self, id: AccountId) -> User {
        let token = self
            .store
            .sign_in(id, SignedDuration::from_hours(1))
            .await
            .expect("session");
        User {
            client: client(),
            cookie: format!("konvent_csrf={CSRF}; konvent_session={token}"),
            base: self.address.clone(),
        }
    }

    /// The id of the account with this e-mail address (it must exist).
    pub async fn account_id(&self, email: &str) -> AccountId {
        self.store
            .accounts()
            .await
            .expect("accounts")
            .into_iter()
            .find(|a| a.email == email)
            .expect("account exists")
            .id
    }

    pub async fn admin(&self) -> User {
        self.user(Role::Admin).await
    }

    /// A demo person (the account exists), signed in and registered for the demo
    /// convention as a participant unless they already take part in it.
    pub async fn registered(&self, email: &str) -> User {
        let user = self.sign_in_existing(email).await;
        let event = self
            .store
            .event(konvent_core::demo::KONVENT_SLUG)
            .await
            .expect("event");
        let id = self.account_id(email).await;
        if self
            .store
            .event_role(event.id, id)
            .await
            .expect("role")
            .is_none()
        {
            self.store
                .add_to_event(event.id, id, konvent_store::EventRole::Participant)
                .await
                .expect("registered");
        }
        user
    }
}

impl User {
    /// From here on the person reads in English (the cookie the language switch sets).
    pub fn reads_english(&mut self) {
        self.cookie = format!("{}; konvent_lang=en", self.cookie);
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client
            .get(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .send()
            .await
            .expect("GET")
    }

    /// The SQL statements the server ran to answer `GET path`, and its status, counted
    /// by the process's [`StatementCounter`] from the request's span.
    pub async fn statements(&self, path: &str) -> (u16, u64) {
        let counter = StatementCounter::install();
        counter.clear();
        let (status, _) = self.get_text(path).await;
        // The request's span closes when the server has sent the body, which may be a
        // moment after the client has read it.
        for _ in 0..200 {
            if let Some(n) = counter.last("GET", path) {
                return (status, n);
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("GET {path}: the request's span never closed");
    }

    pub async fn get_text(&self, path: &str) -> (u16, String) {
        let r = self.get(path).await;
        let status = r.status().as_u16();
        (status, r.text().await.expect("body"))
    }

    /// Posts a form with the CSRF token.
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Response {
        let mut fields: Vec<(&str, &str)> = vec![("csrf", CSRF)];
        fields.extend_from_slice(form);
        self.post_raw(path, &fields).await
    }

    /// Posts exactly these fields (no CSRF token added).
    pub async fn post_raw(&self, path: &str, form: &[(&str, &str)]) -> Response {
        self.client
            .post(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .form(form)
            .send()
            .await
            .expect("POST")
    }

    /// Uploads a file to the import form.
    pub async fn upload(&self, name: &str, bytes: Vec<u8>) -> Response {
        self.upload_files("/gremien/import", &[("file", name, bytes)])
            .await
    }

    /// Posts files (field, file name, content) with the CSRF token as a multipart form.
    pub async fn upload_files(&self, path: &str, files: &[(&str, &str, Vec<u8>)]) -> Response {
        let mut form = reqwest::multipart::Form::new().text("csrf", CSRF);
        for (field, name, bytes) in files {
            form = form.part(
                field.to_string(),
                reqwest::multipart::Part::bytes(bytes.clone()).file_name(name.to_string()),
            );
        }
        self.client
            .post(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .multipart(form)
            .send()
            .await
            .expect("upload")
    }
}

/// The visible text of an HTML page, tags removed, whitespace collapsed.
pub fn text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&#38;", "&")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Everything the directory holds, to compare before and after a refused change.
pub async fn snapshot(store: &Store) -> String {
    let rows = store.directory_rows().await.expect("rows");
    let persons = store.persons().await.expect("persons");
    format!("{rows:?}{persons:?}")
}

/// A stopped server's database, to start again.
pub struct Stopped {
    dir: PathBuf,
}

impl TestApp {
    /// Stops this server (its schedulers with it) and closes its database.
    pub async fn stop(mut self) -> Stopped {
        let dir = std::mem::take(&mut self.dir);
        let store = self.store.clone();
        drop(self);
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        store.close().await;
        Stopped { dir }
    }

    /// Stops this server and starts a new one on the same database.
    pub async fn restart(self) -> TestApp {
        self.stop().await.start().await
    }
}

impl Stopped {
    /// A new server on the same database (the demo is not loaded again).
    pub async fn start(self) -> TestApp {
        let dir = self.dir;
        let store = Store::open_data_dir(&dir).await.expect("store opens again");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = format!("http://{}", listener.local_addr().expect("address"));
        let settings = Settings {
            data_dir: dir.clone(),
            ..Settings::default()
        };
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let state = AppState::new(store.clone(), settings);
        let server_state = state.clone();
        tokio::spawn(async move {
            konvent_web::serve(server_state, listener, async {
                let _ = rx.await;
            })
            .await
            .expect("server runs");
        });
        TestApp {
            address,
            store,
            state,
            dir,
            _shutdown: tx,
        }
    }
}
