//! Mail through the durable outbox, end to end: the real binary sends to a real SMTP
//! server (aiosmtpd, `tests/smtp/server.py`) on a free loopback port. An admin invites
//! through the real form; the tests read what the server received and follow its links.
//!
//! The Python with aiosmtpd is `KONVENT_TEST_PYTHON` (scripts/test installs it into a
//! virtual environment under target/), else `python3`. Without aiosmtpd the tests print a
//! visible skip line, except under `CI=true`, where they fail.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::redirect::Policy;
use serde_json::Value;

/// The CSRF token the test's admin sends, as cookie and as form field.
const CSRF: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn konvent() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_konvent"));
    for var in [
        "DATABASE_URL",
        "NATS_URL",
        "KONVENT_DATA",
        "KONVENT_BIND",
        "KONVENT_PUBLIC_URL",
        "KONVENT_SMTP_URL",
        "KONVENT_MAIL_FROM",
        "KONVENT_TEST_MAIL_SECONDS",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("RUST_LOG", "warn");
    cmd
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A folder of one test, removed at its end.
struct TempDir(PathBuf);

impl TempDir {
    fn new(test: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "konvent-mail-{test}-{}-{}",
            std::process::id(),
            free_port()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A process killed (SIGKILL) and reaped when dropped.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The Python that has aiosmtpd, or None after a visible skip line (a failure in CI).
fn python_with_aiosmtpd(test: &str) -> Option<String> {
    let python = std::env::var("KONVENT_TEST_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let found = Command::new(&python)
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if found {
        return Some(python);
    }
    let in_ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false");
    assert!(
        !in_ci,
        "{test}: {python} has no aiosmtpd (set KONVENT_TEST_PYTHON), and CI must run the mail tests"
    );
    eprintln!(
        "skipped: {test}: {python} has no aiosmtpd (scripts/test installs it; or set KONVENT_TEST_PYTHON)"
    );
    None
}

/// A test SMTP server and konvent sending to it, in a folder of their own; None after a
/// visible skip line when aiosmtpd is missing (a failure in CI).
async fn with_mail_server(test: &str, name: &str) -> Option<(TempDir, Smtp, Konvent)> {
    let python = python_with_aiosmtpd(test)?;
    let dir = TempDir::new(name);
    let smtp = Smtp::start(&python, &dir.0);
    let app = Konvent::start(&dir.0.join("data"), &[("KONVENT_SMTP_URL", smtp.url())]).await;
    Some((dir, smtp, app))
}

/// The test SMTP server on a port of its own.
struct Smtp {
    port: u16,
    dir: PathBuf,
    python: String,
    /// Certificate and key, and whether TLS starts with the first byte (else STARTTLS,
    /// required).
    tls: Option<(PathBuf, PathBuf, bool)>,
    process: Option<Process>,
}

impl Smtp {
    /// A server that is not running yet: its port is reserved only by convention.
    fn down(python: &str, dir: &Path) -> Self {
        Self {
            port: free_port(),
            dir: dir.join("smtp"),
            python: python.to_owned(),
            tls: None,
            process: None,
        }
    }

    fn start(python: &str, dir: &Path) -> Self {
        let mut smtp = Self::down(python, dir);
        smtp.up();
        smtp
    }

    fn up(&mut self) {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smtp/server.py");
        let mut command = Command::new(&self.python);
        command
            .arg(script)
            .args(["--port", &self.port.to_string(), "--dir"])
            .arg(&self.dir);
        if let Some((cert, key, implicit)) = &self.tls {
            command
                .arg("--tls-cert")
                .arg(cert)
                .arg("--tls-key")
                .arg(key);
            if *implicit {
                command.arg("--implicit-tls");
            }
        }
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the SMTP server starts");
        let stdout = child.stdout.take().expect("stdout");
        let process = Process(child);
        let first = BufReader::new(stdout).lines().next();
        assert!(
            matches!(&first, Some(Ok(line)) if line == "ready"),
            "the SMTP server did not get ready: {first:?}"
        );
        self.process = Some(process);
    }

    fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}?tls=none", self.port)
    }

    /// Every message received so far, decoded, oldest first.
    fn messages(&self) -> Vec<Value> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut names: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        names.sort();
        names
            .iter()
            .map(|p| {
                serde_json::from_str(&std::fs::read_to_string(p).expect("message"))
                    .expect("message JSON")
            })
            .collect()
    }

    /// Refusals the server answered, one line each ("550 reject@…").
    fn refusals(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.join("refusals.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// Connections the server saw (one EHLO each).
    fn connections(&self) -> usize {
        std::fs::read_to_string(self.dir.join("connections.log"))
            .unwrap_or_default()
            .lines()
            .count()
    }

    async fn wait_for_messages(&self, count: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let messages = self.messages();
            if messages.len() >= count {
                return messages;
            }
            assert!(
                Instant::now() < deadline,
                "{count} messages expected, {} arrived",
                messages.len()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// `konvent serve --demo` with its demo admin signed in.
struct Konvent {
    base: String,
    session: String,
    client: reqwest::Client,
    _process: Process,
}

impl Konvent {
    async fn start(data: &Path, env: &[(&str, String)]) -> Self {
        let port = free_port();
        let mut child = konvent()
            .args([
                "serve",
                "--demo",
                "--bind",
                &format!("127.0.0.1:{port}"),
                "--data",
            ])
            .arg(data)
            .envs(env.iter().map(|(k, v)| (*k, v)))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("konvent starts");
        let stdout = child.stdout.take().expect("stdout");
        let process = Process(child);
        let mut lines = BufReader::new(stdout).lines();
        let first = lines.next().expect("a line").expect("utf-8");
        let link = first
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("a sign-in link: {first}"))
            .to_owned();
        // The rest of the output is not read: keep the pipe drained.
        std::thread::spawn(move || lines.for_each(drop));
        let client = reqwest::Client::builder()
            .redirect(Policy::none())
            .build()
            .expect("client");
        let base = format!("http://127.0.0.1:{port}");
        let signed_in = client
            .post(&link)
            .header("cookie", format!("konvent_csrf={CSRF}"))
            .form(&[("csrf", CSRF)])
            .send()
            .await
            .expect("sign in");
        let session = signed_in
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|c| c.strip_prefix("konvent_session="))
            .and_then(|c| c.split(';').next())
            .unwrap_or_else(|| panic!("a session: {}", signed_in.status()))
            .to_owned();
        Self {
            base,
            session,
            client,
            _process: process,
        }
    }

    fn cookie(&self) -> String {
        format!("konvent_csrf={CSRF}; konvent_session={}", self.session)
    }

    async fn get(&self, path: &str) -> (u16, String) {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .header("cookie", self.cookie())
            .send()
            .await
            .expect("GET");
        (r.status().as_u16(), r.text().await.expect("body"))
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> (u16, String) {
        let mut fields = form.to_vec();
        fields.push(("csrf", CSRF));
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie())
            .form(&fields)
            .send()
            .await
            .expect("POST");
        (r.status().as_u16(), r.text().await.expect("body"))
    }

    /// Invites `email` as council member through the admin form, mail in German.
    async fn invite(&self, email: &str) {
        let (status, page) = self
            .post(
                "/admin/konten/einladen",
                &[
                    ("email", email),
                    ("role", "member"),
                    ("scope", ""),
                    ("language", "de"),
                ],
            )
            .await;
        assert_eq!(status, 200, "{page}");
        assert!(page.contains(email), "the page names the invited address");
    }

    /// Uploads a bulk invitation list as the admin; returns the progress page's path.
    async fn invite_list(&self, csv: &str) -> String {
        let form = reqwest::multipart::Form::new().text("csrf", CSRF).part(
            "file",
            reqwest::multipart::Part::bytes(csv.as_bytes().to_vec()).file_name("liste.csv"),
        );
        let r = self
            .client
            .post(format!("{}/admin/einladungen", self.base))
            .header("cookie", self.cookie())
            .multipart(form)
            .send()
            .await
            .expect("upload");
        assert_eq!(r.status(), 303, "{}", r.text().await.unwrap_or_default());
        r.headers()["location"]
            .to_str()
            .expect("location")
            .to_owned()
    }

    /// Follows a mailed link as the person it was sent to, with a browser of their own:
    /// an invitation is accepted with a name and password, a sign-in link used. Returns
    /// where konvent sends them and their session.
    async fn follow_link(&self, link: &str) -> (String, String) {
        let path = link.trim_start_matches(&self.base);
        let cookie = format!("konvent_csrf={CSRF}");
        let page = self
            .client
            .get(format!("{}{path}", self.base))
            .header("cookie", &cookie)
            .send()
            .await
            .expect("GET");
        assert_eq!(page.status(), 200, "{path}");
        let form: Vec<(&str, &str)> = if path.starts_with("/einladung/") {
            vec![
                ("csrf", CSRF),
                ("display_name", "Neue Person"),
                ("password", "ein-langes-Passwort-2026"),
                ("password_repeat", "ein-langes-Passwort-2026"),
            ]
        } else {
            vec![("csrf", CSRF)]
        };
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .header("cookie", &cookie)
            .form(&form)
            .send()
            .await
            .expect("POST");
        assert_eq!(r.status(), 303, "{path}: {}", r.status());
        let location = r.headers()["location"]
            .to_str()
            .expect("location")
            .to_owned();
        let session = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|c| c.strip_prefix("konvent_session="))
            .and_then(|c| c.split(';').next())
            .expect("a session")
            .to_owned();
        (location, session)
    }

    /// Waits until the admin page shows what `done` looks for; returns the page.
    async fn wait_for_mails_page(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let (status, page) = self.get("/admin/mails").await;
            assert_eq!(status, 200);
            if done(&page) {
                return page;
            }
            assert!(Instant::now() < deadline, "{what}:\n{page}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

fn first_link(message: &Value, path: &str) -> String {
    let text = message["text"].as_str().expect("a plain-text part");
    text.split_whitespace()
        .find(|w| w.contains(path))
        .unwrap_or_else(|| panic!("a link to {path} in:\n{text}"))
        .to_owned()
}

#[tokio::test]
async fn an_invited_person_gets_one_mail_whose_link_opens_the_invitation_page() {
    let Some((_dir, smtp, app)) = with_mail_server("invitation mail", "invite").await else {
        return;
    };

    app.invite("neu.person@example.org").await;

    let messages = smtp.wait_for_messages(1).await;
    let mail = &messages[0];
    assert_eq!(
        mail["envelope_to"],
        serde_json::json!(["neu.person@example.org"])
    );
    assert!(
        mail["subject"]
            .as_str()
            .is_some_and(|s| s.contains("Einladung"))
    );
    assert!(
        mail["from"]
            .as_str()
            .is_some_and(|s| s.contains("noreply@localhost"))
    );
    assert!(
        mail["message_id"]
            .as_str()
            .is_some_and(|s| s.ends_with("@localhost>"))
    );
    let html = mail["html"].as_str().expect("an HTML part");
    assert!(
        !html.contains("<img") && !html.contains("src="),
        "nothing loaded: {html}"
    );
    let link = first_link(mail, "/einladung/");
    assert!(link.starts_with(&app.base), "{link}");
    assert!(html.contains(&link), "the HTML part carries the same link");
    let (status, page) = app.get(link.trim_start_matches(&app.base)).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("neu.person@example.org"), "{page}");
    assert!(
        page.contains("name=\"password\""),
        "the invitation form: {page}"
    );

    app.wait_for_mails_page("the mail is listed as sent", |p| {
        p.contains("neu.person@example.org") && p.contains(">gesendet<")
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(smtp.messages().len(), 1, "exactly one mail");
}

#[tokio::test]
async fn mails_wait_while_the_mail_server_is_down_and_arrive_once_when_it_is_back() {
    let Some(python) = python_with_aiosmtpd("server down") else {
        return;
    };
    let dir = TempDir::new("down");
    let mut smtp = Smtp::down(&python, &dir.0);
    let app = Konvent::start(
        &dir.0.join("data"),
        &[
            ("KONVENT_SMTP_URL", smtp.url()),
            ("KONVENT_TEST_MAIL_SECONDS", "1".to_owned()),
        ],
    )
    .await;

    app.invite("wartet@example.org").await;
    app.wait_for_mails_page("a failed attempt is shown, the mail still queued", |p| {
        p.contains("wartet@example.org")
            && p.contains("class=\"mail-error\"")
            && p.contains(">wartet<")
    })
    .await;
    smtp.up();

    let messages = smtp.wait_for_messages(1).await;
    assert_eq!(
        messages[0]["envelope_to"],
        serde_json::json!(["wartet@example.org"])
    );
    app.wait_for_mails_page("the mail is listed as sent", |p| p.contains(">gesendet<"))
        .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(smtp.messages().len(), 1, "sent once, not again");
}

#[tokio::test]
async fn a_refused_mail_fails_with_the_servers_reason_and_can_be_sent_again() {
    let Some((_dir, smtp, app)) = with_mail_server("refused mail", "refused").await else {
        return;
    };

    app.invite("reject.me@example.org").await;
    let page = app
        .wait_for_mails_page("the mail failed with the server's reason", |p| {
            p.contains(">fehlgeschlagen<")
        })
        .await;
    assert!(page.contains("No such mailbox here"), "{page}");
    assert_eq!(smtp.refusals(), ["550 reject.me@example.org"]);
    let action = page
        .split("action=\"")
        .map(|rest| rest.split('"').next().unwrap_or_default())
        .find(|a| a.ends_with("/erneut-senden"))
        .expect("a send-again button")
        .to_owned();

    let (status, _) = app.post(&action, &[]).await;
    assert_eq!(status, 303);
    // Queued again and tried at once: the server refuses it a second time.
    let deadline = Instant::now() + Duration::from_secs(30);
    while smtp.refusals().len() < 2 {
        assert!(Instant::now() < deadline, "the mail was not tried again");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    app.wait_for_mails_page("failed again", |p| p.contains(">fehlgeschlagen<"))
        .await;
    assert!(smtp.messages().is_empty(), "nothing was delivered");
    // Only a failed mail can be sent again: a made-up one is not found.
    let (status, _) = app.post("/admin/mails/999999/erneut-senden", &[]).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn mails_queued_when_konvent_is_killed_arrive_after_the_restart_none_twice() {
    let Some(python) = python_with_aiosmtpd("kill -9") else {
        return;
    };
    let dir = TempDir::new("kill");
    let data = dir.0.join("data");
    let mut smtp = Smtp::down(&python, &dir.0);
    let env = [
        ("KONVENT_SMTP_URL", smtp.url()),
        ("KONVENT_TEST_MAIL_SECONDS", "1".to_owned()),
    ];
    let people = ["eins@example.org", "zwei@example.org", "drei@example.org"];
    {
        let app = Konvent::start(&data, &env).await;
        for person in people {
            app.invite(person).await;
        }
        app.wait_for_mails_page("every mail tried once", |p| {
            p.matches("class=\"mail-error\"").count() >= people.len()
        })
        .await;
        // `app` drops here: SIGKILL, no shutdown.
    }
    smtp.up();
    let app = Konvent::start(&data, &env).await;

    smtp.wait_for_messages(people.len()).await;
    app.wait_for_mails_page("all sent", |p| {
        p.matches(">gesendet<").count() == people.len()
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let messages = smtp.messages();
    let mut received: Vec<String> = messages
        .iter()
        .map(|m| m["envelope_to"][0].as_str().unwrap_or_default().to_owned())
        .collect();
    received.sort();
    let mut expected: Vec<String> = people.iter().map(|p| (*p).to_owned()).collect();
    expected.sort();
    assert_eq!(received, expected, "each mail arrived, none twice");
}

#[tokio::test]
async fn without_a_mail_server_mails_are_written_as_files() {
    let dir = TempDir::new("files");
    let data = dir.0.join("data");
    let app = Konvent::start(&data, &[]).await;

    app.invite("datei@example.org").await;

    let outbox = data.join("outbox-files");
    let deadline = Instant::now() + Duration::from_secs(30);
    let file = loop {
        let found = std::fs::read_dir(&outbox).ok().and_then(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .find(|p| p.extension().is_some_and(|x| x == "eml"))
        });
        if let Some(file) = found {
            break file;
        }
        assert!(
            Instant::now() < deadline,
            "no .eml file in {}",
            outbox.display()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let eml = std::fs::read_to_string(&file).expect("the file");
    assert!(eml.contains("To: datei@example.org"), "{eml}");
    assert!(eml.contains("Message-ID: <"), "{eml}");
    let page = app
        .wait_for_mails_page("counted as sent", |p| p.contains(">gesendet<"))
        .await;
    assert!(
        page.contains(".eml"),
        "the admin page says where mails go: {page}"
    );
}

impl Konvent {
    /// A POST as a visitor who is not signed in (only the CSRF cookie).
    async fn post_anonymous(&self, path: &str, form: &[(&str, &str)]) -> (u16, String) {
        let mut fields = form.to_vec();
        fields.push(("csrf", CSRF));
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .header("cookie", format!("konvent_csrf={CSRF}"))
            .form(&fields)
            .send()
            .await
            .expect("POST");
        (r.status().as_u16(), r.text().await.expect("body"))
    }

    async fn get_anonymous(&self, path: &str) -> (u16, String) {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .header("cookie", format!("konvent_csrf={CSRF}"))
            .send()
            .await
            .expect("GET");
        (r.status().as_u16(), r.text().await.expect("body"))
    }

    /// Follows a mailed link as the visitor: its page has one button, which is pressed.
    async fn press_link(&self, link: &str) -> String {
        let path = link.trim_start_matches(&self.base);
        let (status, page) = self.get_anonymous(path).await;
        assert_eq!(status, 200, "{path}: {page}");
        assert!(page.contains(&format!("action=\"{path}\"")), "{page}");
        let (status, page) = self.post_anonymous(path, &[]).await;
        assert_eq!(status, 200, "{path}: {page}");
        page
    }
}

/// Checks an iCalendar text the way a strict reader would: CRLF line ends only, no line
/// over 75 octets, continuation lines start with one space; returns the unfolded lines.
fn ics_lines(ics: &str) -> Vec<String> {
    assert!(ics.ends_with("\r\n"), "{ics:?}");
    let bytes = ics.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'\n' {
            assert_eq!(bytes.get(i.wrapping_sub(1)), Some(&b'\r'), "bare LF at {i}");
        }
    }
    for line in ics.split("\r\n") {
        assert!(line.len() <= 75, "{line:?} has {} octets", line.len());
    }
    let unfolded = ics.replace("\r\n ", "");
    let lines: Vec<String> = unfolded
        .split("\r\n")
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    assert_eq!(lines.first().map(String::as_str), Some("BEGIN:VCALENDAR"));
    assert_eq!(lines.last().map(String::as_str), Some("END:VCALENDAR"));
    assert_eq!(
        lines.iter().filter(|l| *l == "BEGIN:VEVENT").count(),
        1,
        "one event"
    );
    lines
}

/// A property's parameters and value (`;…:…` or `:…`): of the event, or for METHOD of
/// the calendar.
fn property<'a>(lines: &'a [String], name: &str) -> &'a str {
    let from = match name {
        "METHOD" => 0,
        _ => lines
            .iter()
            .position(|l| l == "BEGIN:VEVENT")
            .expect("an event"),
    };
    lines[from..]
        .iter()
        .find_map(|l| {
            l.strip_prefix(name)
                .filter(|rest| rest.starts_with(':') || rest.starts_with(';'))
        })
        .unwrap_or_else(|| panic!("{name} in {lines:#?}"))
}

/// The one calendar entry of a mail, inline as iMIP and attached as `.ics`, the same.
fn calendar_of(mail: &Value, method: &str) -> Vec<String> {
    let parts = mail["calendars"].as_array().expect("calendar parts");
    assert_eq!(parts.len(), 2, "inline and attached: {parts:#?}");
    let inline = parts
        .iter()
        .find(|p| p["disposition"].is_null() || p["disposition"] == "inline")
        .expect("an inline part");
    let content_type = inline["content_type"].as_str().unwrap_or_default();
    assert!(content_type.starts_with("text/calendar"), "{content_type}");
    assert!(
        content_type.contains(&format!("method={method}"))
            || content_type.contains(&format!("method=\"{method}\"")),
        "{content_type}"
    );
    let attached = parts
        .iter()
        .find(|p| p["disposition"] == "attachment")
        .expect("an attachment");
    assert!(
        attached["filename"]
            .as_str()
            .is_some_and(|f| f.ends_with(".ics"))
    );
    assert_eq!(inline["text"], attached["text"]);
    assert!(
        mail["content_type"]
            .as_str()
            .is_some_and(|c| c.starts_with("multipart/mixed")),
        "{}",
        mail["content_type"]
    );
    let lines = ics_lines(inline["text"].as_str().expect("text"));
    assert_eq!(property(&lines, "METHOD"), format!(":{method}"));
    lines
}

#[tokio::test]
async fn a_registration_is_confirmed_by_mail_gets_a_calendar_entry_and_the_waiting_list_moves_up() {
    let Some((_dir, smtp, app)) = with_mail_server("event registration", "registration").await
    else {
        return;
    };
    let slug = "strategiekonvent-2025";

    // By invitation only (the default): the form refuses, nothing is written.
    let (status, page) = app
        .post_anonymous(
            &format!("/konvent/{slug}/anmeldung"),
            &[("name", "Eva"), ("email", "eva@example.org")],
        )
        .await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("nur auf Einladung"), "{page}");

    let (status, page) = app
        .post(
            &format!("/konvent/{slug}/anmeldungen/einstellungen"),
            &[("mode", "open"), ("capacity", "1")],
        )
        .await;
    assert_eq!(status, 303, "{page}");

    // The first registrant confirms and is registered: the mail carries the event.
    let (status, page) = app
        .post_anonymous(
            &format!("/konvent/{slug}/anmeldung"),
            &[
                ("name", "Erste Person"),
                ("email", "erste@example.org"),
                ("organisation", "Land Bremen"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{page}");
    let messages = smtp.wait_for_messages(1).await;
    assert_eq!(
        messages[0]["envelope_to"],
        serde_json::json!(["erste@example.org"])
    );
    assert!(
        messages[0]["calendars"]
            .as_array()
            .is_some_and(Vec::is_empty)
    );
    let confirm = first_link(&messages[0], "/anmeldung/bestaetigen/");
    let page = app.press_link(&confirm).await;
    assert!(page.contains("angemeldet"), "{page}");
    // The link works once.
    let (status, _) = app
        .post_anonymous(confirm.trim_start_matches(&app.base), &[])
        .await;
    assert_eq!(status, 404);

    let messages = smtp.wait_for_messages(2).await;
    let registered = &messages[1];
    assert!(
        registered["subject"]
            .as_str()
            .is_some_and(|s| s.contains("Anmeldung bestätigt")),
        "{registered}"
    );
    // A personal sign-in link for the new account, which works.
    let sign_in = first_link(registered, "/anmelden/link/");
    let (status, page) = app
        .get_anonymous(sign_in.trim_start_matches(&app.base))
        .await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("erste@example.org"), "{page}");
    let ics = calendar_of(registered, "PUBLISH");
    let uid = property(&ics, "UID").to_owned();
    assert!(
        uid.starts_with(":event-") && uid.ends_with("@localhost"),
        "{uid}"
    );
    assert!(property(&ics, "DTSTART").starts_with(";TZID=Europe/Berlin:20"));
    assert!(property(&ics, "ATTENDEE").ends_with(":mailto:erste@example.org"));

    // Capacity 1: the second registrant waits.
    app.post_anonymous(
        &format!("/konvent/{slug}/anmeldung"),
        &[("name", "Zweite Person"), ("email", "zweite@example.org")],
    )
    .await;
    let messages = smtp.wait_for_messages(3).await;
    let page = app
        .press_link(&first_link(&messages[2], "/anmeldung/bestaetigen/"))
        .await;
    assert!(page.contains("Warteliste"), "{page}");
    let messages = smtp.wait_for_messages(4).await;
    assert!(
        messages[3]["subject"]
            .as_str()
            .is_some_and(|s| s.contains("Warteliste")),
        "{}",
        messages[3]
    );
    assert!(
        messages[3]["calendars"]
            .as_array()
            .is_some_and(Vec::is_empty)
    );
    let (_, list) = app.get(&format!("/konvent/{slug}/anmeldungen")).await;
    assert!(list.contains("registration-registered") && list.contains("registration-waiting"));

    // The first cancels: the second moves up and is mailed the event, same UID.
    let page = app
        .press_link(&first_link(&messages[1], "/anmeldung/stornieren/"))
        .await;
    assert!(page.contains("storniert"), "{page}");
    let messages = smtp.wait_for_messages(5).await;
    let moved = &messages[4];
    assert_eq!(
        moved["envelope_to"],
        serde_json::json!(["zweite@example.org"])
    );
    assert!(
        moved["subject"]
            .as_str()
            .is_some_and(|s| s.contains("nachgerückt")),
        "{moved}"
    );
    assert_eq!(property(&calendar_of(moved, "PUBLISH"), "UID"), uid);

    let (status, csv) = app
        .get(&format!("/konvent/{slug}/anmeldungen/export.csv"))
        .await;
    assert_eq!(status, 200);
    assert!(
        csv.contains("erste@example.org") && csv.contains("storniert"),
        "{csv}"
    );
    assert!(
        csv.contains("zweite@example.org") && csv.contains("angemeldet"),
        "{csv}"
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(smtp.messages().len(), 5, "no further mail");
}

/// The messages for `recipient`, oldest first.
fn to<'a>(messages: &'a [Value], recipient: &str) -> Vec<&'a Value> {
    messages
        .iter()
        .filter(|m| m["envelope_to"][0] == recipient)
        .collect()
}

/// Waits until no further message arrives for a second; returns them all.
async fn settled(smtp: &Smtp, at_least: usize) -> Vec<Value> {
    let mut count = smtp.wait_for_messages(at_least).await.len();
    loop {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let now = smtp.messages();
        if now.len() == count {
            return now;
        }
        count = now.len();
    }
}

#[tokio::test]
async fn session_invitations_are_requests_a_move_updates_them_and_a_cancellation_cancels() {
    let Some((_dir, smtp, app)) = with_mail_server("meeting invitations", "meetings").await else {
        return;
    };

    // Two council members (the demo has none): invited, and their accounts created.
    for (n, member) in ["mitglied.eins@example.org", "mitglied.zwei@example.org"]
        .into_iter()
        .enumerate()
    {
        app.invite(member).await;
        let messages = smtp.wait_for_messages(n + 1).await;
        let link = first_link(&messages[n], "/einladung/");
        let (status, page) = app
            .post_anonymous(
                link.trim_start_matches(&app.base),
                &[
                    ("display_name", "Mitglied"),
                    ("password", "ein langes Passwort 123"),
                    ("password_repeat", "ein langes Passwort 123"),
                ],
            )
            .await;
        assert_eq!(status, 303, "{page}");
    }
    let before = smtp.messages().len();

    let (status, page) = app.get("/gremien/sitzungen/48").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("/gremien/sitzungen/48/einladungen"),
        "the button"
    );
    let (status, page) = app.post("/gremien/sitzungen/48/einladungen", &[]).await;
    assert_eq!(status, 303, "{page}");
    let first: Vec<Value> = settled(&smtp, before + 1).await.split_off(before);
    let invited = first.len();
    assert!(invited >= 2, "{first:#?}");
    let recipient = first[0]["envelope_to"][0]
        .as_str()
        .expect("a recipient")
        .to_owned();
    let mut recipients: Vec<&str> = first
        .iter()
        .filter_map(|m| m["envelope_to"][0].as_str())
        .collect();
    recipients.sort_unstable();
    recipients.dedup();
    assert_eq!(recipients.len(), invited, "one invitation each");
    let invitation = calendar_of(&first[0], "REQUEST");
    let uid = property(&invitation, "UID").to_owned();
    let sequence = |lines: &[String]| -> i64 {
        property(lines, "SEQUENCE")
            .trim_start_matches(':')
            .parse()
            .expect("a number")
    };
    let first_sequence = sequence(&invitation);
    assert!(uid.contains("session-"), "{uid}");
    assert!(property(&invitation, "ORGANIZER").contains("mailto:"));
    assert!(
        property(&invitation, "ATTENDEE").ends_with(&format!("mailto:{recipient}")),
        "{invitation:?}"
    );

    // Pressing again invites nobody twice.
    app.post("/gremien/sitzungen/48/einladungen", &[]).await;
    assert_eq!(
        settled(&smtp, before + invited).await.len(),
        before + invited
    );

    // Moved: an update to everybody, same UID, higher SEQUENCE, the new date.
    let edit = |date: &'static str, state: &'static str| {
        [
            ("number", "48"),
            ("date", date),
            ("start_time", "10:00"),
            ("end_time", "15:00"),
            ("place", "Berlin, Bundesrat"),
            ("video_url", ""),
            ("state", state),
        ]
    };
    let (status, page) = app
        .post(
            "/gremien/sitzungen/48/bearbeiten",
            &edit("2027-03-17", "invited"),
        )
        .await;
    assert_eq!(status, 303, "{page}");
    let moved = settled(&smtp, before + 2 * invited).await;
    assert_eq!(moved.len(), before + 2 * invited);
    let update = *to(&moved, &recipient).last().expect("a mail");
    assert!(
        update["subject"]
            .as_str()
            .is_some_and(|s| s.contains("Geändert")),
        "{update}"
    );
    let update = calendar_of(update, "REQUEST");
    assert_eq!(property(&update, "UID"), uid);
    assert!(sequence(&update) > first_sequence);
    assert_eq!(
        property(&update, "DTSTART"),
        ";TZID=Europe/Berlin:20270317T100000"
    );

    // Saved unchanged: nothing sent.
    app.post(
        "/gremien/sitzungen/48/bearbeiten",
        &edit("2027-03-17", "invited"),
    )
    .await;
    assert_eq!(
        settled(&smtp, before + 2 * invited).await.len(),
        before + 2 * invited
    );

    // Cancelled: METHOD:CANCEL, same UID, higher SEQUENCE still.
    let (status, _) = app
        .post(
            "/gremien/sitzungen/48/bearbeiten",
            &edit("2027-03-17", "cancelled"),
        )
        .await;
    assert_eq!(status, 303);
    let all = settled(&smtp, before + 3 * invited).await;
    assert_eq!(all.len(), before + 3 * invited);
    let cancel = calendar_of(to(&all, &recipient).last().expect("a mail"), "CANCEL");
    assert_eq!(property(&cancel, "UID"), uid);
    assert_eq!(property(&cancel, "STATUS"), ":CANCELLED");
    assert!(sequence(&cancel) > sequence(&update));
}

#[tokio::test]
async fn a_bulk_invitation_of_three_sends_three_mails_whose_links_sign_each_person_in() {
    let Some((_dir, smtp, app)) = with_mail_server("bulk invitation", "bulk").await else {
        return;
    };

    // Two new addresses and the demo's helper Moritz Dittrich, who has an account.
    let progress = app
        .invite_list(
            "E-Mail;Name;Veranstaltung\n\
             eins@example.org;Erste Person;strategiekonvent-2025\n\
             zwei@example.org;Zweite Person;strategiekonvent-2025\n\
             moritz.dittrich@konvent.example;Moritz Dittrich;strategiekonvent-2025\n",
        )
        .await;

    let messages = smtp.wait_for_messages(3).await;
    let mut to: Vec<&str> = messages
        .iter()
        .map(|m| m["envelope_to"][0].as_str().expect("a recipient"))
        .collect();
    to.sort_unstable();
    assert_eq!(
        to,
        [
            "eins@example.org",
            "moritz.dittrich@konvent.example",
            "zwei@example.org"
        ]
    );
    for mail in &messages {
        let recipient = mail["envelope_to"][0].as_str().expect("recipient");
        let existing = recipient == "moritz.dittrich@konvent.example";
        let link = first_link(
            mail,
            if existing {
                "/anmelden/link/"
            } else {
                "/einladung/"
            },
        );
        let (location, session) = app.follow_link(&link).await;
        assert_eq!(location, "/konvent/strategiekonvent-2025", "{recipient}");
        // Signed in as that person, in the event's lobby.
        let lobby = app
            .client
            .get(format!("{}{location}", app.base))
            .header(
                "cookie",
                format!("konvent_csrf={CSRF}; konvent_session={session}"),
            )
            .send()
            .await
            .expect("lobby");
        assert_eq!(lobby.status(), 200);
        let page = lobby.text().await.expect("page");
        let name = if existing {
            "Moritz Dittrich"
        } else {
            "Neue Person"
        };
        assert!(
            page.contains(&format!("<strong>{name}</strong>")),
            "{recipient} is signed in: {page}"
        );
    }

    let (status, page) = app.get(&progress).await;
    assert_eq!(status, 200);
    assert!(page.contains("3 von 3 Einladungen geschrieben"), "{page}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(smtp.messages().len(), 3, "one mail per person");
    // The three mails went one after another over one connection (kept open).
    assert_eq!(smtp.connections(), 1, "one connection for the list");
}

/// A certificate authority of the test's own and a certificate it issued for
/// `localhost`, made with openssl: (authority, certificate, key).
fn authority_and_certificate(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl runs (Debian's package openssl)");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .expect("extensions");
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    openssl(
        &[
            &["req", "-x509"][..],
            &ec,
            &[
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "2",
                "-subj",
                "/CN=konvent test authority",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
        ]
        .concat(),
    );
    openssl(
        &[
            &["req"][..],
            &ec,
            &[
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
                "-subj",
                "/CN=localhost",
            ],
        ]
        .concat(),
    );
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "server.ext",
    ]);
    (
        dir.join("ca.pem"),
        dir.join("server.pem"),
        dir.join("server.key"),
    )
}

#[tokio::test]
async fn mails_go_over_starttls_and_implicit_tls_and_an_unknown_authority_is_refused() {
    let test = "mail over TLS";
    let Some(python) = python_with_aiosmtpd(test) else {
        return;
    };
    let dir = TempDir::new("tls");
    let (authority, cert, key) = authority_and_certificate(&dir.0);

    for (name, implicit, scheme) in [("starttls", false, "smtp"), ("implicit", true, "smtps")] {
        let mut smtp = Smtp::down(&python, &dir.0.join(name));
        smtp.tls = Some((cert.clone(), key.clone(), implicit));
        smtp.up();
        let app = Konvent::start(
            &dir.0.join(format!("data-{name}")),
            &[
                (
                    "KONVENT_SMTP_URL",
                    format!("{scheme}://localhost:{}", smtp.port),
                ),
                (
                    "KONVENT_SMTP_CA_FILE",
                    authority.to_string_lossy().into_owned(),
                ),
            ],
        )
        .await;
        app.invite(&format!("{name}@example.org")).await;
        let messages = smtp.wait_for_messages(1).await;
        assert_eq!(messages[0]["tls"], true, "{name}: {}", messages[0]);
        assert_eq!(messages[0]["envelope_to"][0], format!("{name}@example.org"));
    }

    // Without being told of the authority, konvent does not trust the server: the mail
    // waits, with the reason on the admin page, and nothing reaches the server.
    let mut smtp = Smtp::down(&python, &dir.0.join("untrusted"));
    smtp.tls = Some((cert, key, false));
    smtp.up();
    let app = Konvent::start(
        &dir.0.join("data-untrusted"),
        &[(
            "KONVENT_SMTP_URL",
            format!("smtp://localhost:{}", smtp.port),
        )],
    )
    .await;
    app.invite("untrusted@example.org").await;
    let page = app
        .wait_for_mails_page("the certificate refused", |p| {
            p.to_lowercase().contains("certificate")
        })
        .await;
    assert!(page.contains("untrusted@example.org"), "{page}");
    assert!(smtp.messages().is_empty());
}
