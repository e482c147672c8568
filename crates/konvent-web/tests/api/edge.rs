//! The edge of the server (issue 14): spreadsheet exports that cannot run formulas,
//! return paths that cannot leave the site, /metrics only for those allowed, and the
//! connection timeouts and limits.

use std::io::Read as _;
use std::time::{Duration, Instant};

use konvent_core::demo;
use konvent_core::export::is_formula_like;
use konvent_store::Who;
use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{TestApp, spawn_app, spawn_app_with};

const EVENT: &str = "/konvent/strategiekonvent-2025";

/// One text for every start of a cell that a spreadsheet runs as a formula.
const HOSTILE: [&str; 6] = [
    "=HYPERLINK(\"https://evil.example\";\"Klick\")",
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1;2)",
    "\t=1+1",
    "\r=1+1",
];

fn csv_cells(bytes: &[u8]) -> Vec<String> {
    let text = std::str::from_utf8(bytes).expect("utf-8");
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    reader
        .records()
        .flat_map(|r| {
            r.expect("record")
                .iter()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect()
}

fn zip_entry(bytes: &[u8], name: &str) -> String {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("xlsx is a zip");
    let mut text = String::new();
    archive
        .by_name(name)
        .expect("entry")
        .read_to_string(&mut text)
        .expect("read");
    text
}

#[tokio::test]
async fn every_spreadsheet_export_defuses_formula_like_impulses_pins_and_names() {
    let app = spawn_app().await;
    let event = app.store.event(demo::KONVENT_SLUG).await.expect("event");
    let rounds = app.store.rounds(event.id).await.expect("rounds");
    let table = rounds[0].tables[0].id;
    let who = Who::new(app.account_id(demo::KONVENT_MODERATOR.0).await, "Eve");
    for hostile in HOSTILE {
        app.store
            .add_impulse(table, &who, hostile, None)
            .await
            .expect("impulse");
        app.store
            .add_pin(event.id, None, &who, &format!("{hostile} (Pin)"), None)
            .await
            .expect("pin");
    }

    // The work results (CSV).
    let organizer = app.sign_in_existing(demo::KONVENT_MODERATOR.0).await;
    let response = organizer.get(&format!("{EVENT}/ergebnisse.csv")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let cells = csv_cells(&response.bytes().await.expect("csv"));
    for cell in &cells {
        assert!(!is_formula_like(cell), "a cell runs as a formula: {cell:?}");
    }
    for hostile in HOSTILE {
        assert!(
            cells.contains(&format!("'{hostile}")),
            "impulse {hostile:?}"
        );
        assert!(
            cells.contains(&format!("'{hostile} (Pin)")),
            "pin {hostile:?}"
        );
    }

    // The directory (CSV and XLSX), with such texts in a person's function.
    let admin = app.admin().await;
    let mut import = String::from("Konferenz;Rolle;Person;Funktion\n");
    for (i, hostile) in HOSTILE.iter().enumerate() {
        import.push_str(&format!(
            "VMK;Ansprechpartner:in;Person {i};\"{}\"\n",
            hostile.replace('"', "\"\"")
        ));
    }
    let response = admin.upload("verzeichnis.csv", import.into_bytes()).await;
    assert_eq!(response.status(), StatusCode::OK);
    let response = admin.get("/gremien/verzeichnis.csv").await;
    let cells = csv_cells(&response.bytes().await.expect("csv"));
    for cell in &cells {
        assert!(!is_formula_like(cell), "a cell runs as a formula: {cell:?}");
    }
    // The import trims cells, so "\t=1+1" arrives as "=1+1".
    for hostile in HOSTILE {
        let stored = hostile.trim();
        assert!(cells.contains(&format!("'{stored}")), "{hostile:?}");
    }
    let response = admin.get("/gremien/verzeichnis.xlsx").await;
    let bytes = response.bytes().await.expect("xlsx");
    let sheet = zip_entry(&bytes, "xl/worksheets/sheet1.xml");
    assert!(!sheet.contains("<f>"), "no formula cells");
    assert!(zip_entry(&bytes, "xl/styles.xml").contains("quotePrefix=\"1\""));
    let rows = konvent_core::gremien::transfer::parse_xlsx(&bytes).expect("readable");
    for hostile in HOSTILE {
        let stored = hostile.trim();
        assert!(
            rows.iter()
                .any(|r| r.person.as_ref().and_then(|p| p.function.as_deref()) == Some(stored)),
            "the text itself stays exact: {hostile:?}"
        );
    }
}

/// Values for a return path that must never lead to another site.
const HOSTILE_PATHS: [&str; 14] = [
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r/evil.example",
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\/evil.example",
    "/%09/evil.example",
    "/%2F%2Fevil.example",
    "/%5Cevil.example",
    "https://evil.example",
    "javascript:alert(1)",
    "/\u{200B}/evil.example",
    "evil.example",
];

/// Every byte but letters and digits as `%XX`, for a query string.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn location(response: &reqwest::Response) -> String {
    response.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned()
}

#[tokio::test]
async fn the_language_switch_never_redirects_to_another_site() {
    let app = spawn_app().await;
    let visitor = app.visitor();
    for hostile in HOSTILE_PATHS {
        let url = format!("/sprache/de?zurueck={}", encode(hostile));
        let response = visitor.get(&url).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&response), "/", "{hostile:?}");
    }
    let response = visitor.get("/sprache/en?zurueck=/gremien%3Fa%3D1").await;
    assert_eq!(location(&response), "/gremien?a=1");
}

#[tokio::test]
async fn signing_in_never_redirects_to_another_site() {
    let app = spawn_app().await;
    let hash = konvent_store::password::hash("richtiges-passwort").expect("hash");
    let token = app
        .store
        .create_login_token(
            konvent_store::TokenPurpose::Invitation,
            "weiter@example.org",
            None,
            None,
            jiff::SignedDuration::from_hours(1),
        )
        .await
        .expect("token");
    app.store
        .redeem_invitation(&token.token, "Weiter", &hash)
        .await
        .expect("account");
    for hostile in HOSTILE_PATHS {
        // The sign-in page carries no hostile value on to its form.
        let visitor = app.visitor();
        let url = format!("/anmelden?weiter={}", encode(hostile));
        let (status, html) = visitor.get_text(&url).await;
        assert_eq!(status, 200);
        assert!(
            html.contains("name=\"weiter\" value=\"/\""),
            "{hostile:?}: {html}"
        );
        let response = visitor
            .post(
                "/anmelden",
                &[
                    ("email", "weiter@example.org"),
                    ("password", "richtiges-passwort"),
                    ("weiter", hostile),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{hostile:?}");
        assert_eq!(location(&response), "/", "{hostile:?}");
    }
}

#[tokio::test]
async fn a_picked_up_pin_links_only_to_the_web_or_this_site() {
    let app = spawn_app().await;
    let event = app.store.event(demo::KONVENT_SLUG).await.expect("event");
    let who = Who::new(app.account_id(demo::KONVENT_MODERATOR.0).await, "Eve");
    let written = app
        .store
        .add_pin(event.id, None, &who, "Später besprechen", None)
        .await
        .expect("pin");
    let (pins, _) = app.store.pins(event.id, who.id).await.expect("pins");
    let pin = pins
        .iter()
        .find(|p| p.text == "Später besprechen")
        .expect("the pin")
        .id
        .to_string();
    let _ = written;
    let organizer = app.sign_in_existing(demo::KONVENT_MODERATOR.0).await;
    let decide = |url: &'static str| {
        let pin = pin.clone();
        let organizer = &organizer;
        async move {
            organizer
                .post(
                    &format!("{EVENT}/aktion"),
                    &[
                        ("t", "decide_pin"),
                        ("pin", &pin),
                        ("status", "picked_up"),
                        ("outcome", "Im Workshop am Nachmittag"),
                        ("url", url),
                    ],
                )
                .await
                .status()
        }
    };
    for hostile in HOSTILE_PATHS
        .into_iter()
        .filter(|p| !p.starts_with("https://"))
        .chain(["https://\t/evil.example", "data:text/html,x"])
    {
        assert_eq!(
            decide(hostile).await,
            StatusCode::BAD_REQUEST,
            "{hostile:?}"
        );
    }
    assert_eq!(
        decide("/konvent/strategiekonvent-2025/cafe").await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        decide("https://beispiel.de/workshop").await,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn metrics_are_served_to_loopback_clients_and_the_token_only() {
    // Default: clients on this machine, not through a proxy.
    let app = spawn_app().await;
    let visitor = app.visitor();
    let response = visitor.get("/metrics").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.text().await.expect("body").contains("# EOF"));
    let response = visitor
        .client
        .get(app.url("/metrics"))
        .header("x-forwarded-for", "203.0.113.9")
        .send()
        .await
        .expect("GET");
    assert_eq!(
        response.status(),
        StatusCode::FORBIDDEN,
        "came through a proxy"
    );
    let body: serde_json::Value = response.json().await.expect("JSON error body");
    assert_eq!(body["error"]["code"], "forbidden");

    // Only the token: loopback is not enough, a wrong token is refused.
    let app = spawn_app_with(|s| {
        s.metrics_loopback = false;
        s.metrics_token = "scrape-geheim".into();
    })
    .await;
    let client = reqwest::Client::new();
    let response = client.get(app.url("/metrics")).send().await.expect("GET");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.headers().contains_key("www-authenticate"));
    let body: serde_json::Value = response.json().await.expect("JSON error body");
    assert_eq!(body["error"]["code"], "unauthorized");
    let response = client
        .get(app.url("/metrics"))
        .bearer_auth("falsch")
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let response = client
        .get(app.url("/metrics"))
        .bearer_auth("scrape-geheim")
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status(), StatusCode::OK);
}

/// Reads until the server closes the connection (or `limit` passes): what it sent.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> Option<String> {
    let mut all = Vec::new();
    let mut buf = [0u8; 1024];
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.checked_duration_since(Instant::now())?;
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(String::from_utf8_lossy(&all).into_owned()),
            Ok(Ok(n)) => all.extend_from_slice(&buf[..n]),
        }
    }
}

#[tokio::test]
async fn a_connection_that_sends_no_request_is_closed_after_the_header_timeout() {
    let app = spawn_app_with(|s| s.header_timeout_secs = 1).await;
    let addr = app.address.trim_start_matches("http://").to_owned();

    // Nothing at all.
    let start = Instant::now();
    let mut silent = TcpStream::connect(&addr).await.expect("connect");
    let closed = read_until_closed(&mut silent, Duration::from_secs(5)).await;
    assert!(closed.is_some(), "still open after 5 s");
    assert!(start.elapsed() < Duration::from_secs(3));

    // One header line every 300 ms never completes the head.
    let start = Instant::now();
    let mut slow = TcpStream::connect(&addr).await.expect("connect");
    slow.write_all(b"GET /healthz HTTP/1.1\r\n")
        .await
        .expect("send");
    let mut closed = false;
    for i in 0..20 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        if slow
            .write_all(format!("x-slow-{i}: 1\r\n").as_bytes())
            .await
            .is_err()
        {
            closed = true;
            break;
        }
    }
    let closed = closed
        || read_until_closed(&mut slow, Duration::from_millis(500))
            .await
            .is_some();
    assert!(closed, "a head sent drop by drop keeps its connection");
    assert!(start.elapsed() < Duration::from_secs(7));

    // A kept-alive connection is served and then closed when idle.
    let mut kept = TcpStream::connect(&addr).await.expect("connect");
    kept.write_all(format!("GET /healthz HTTP/1.1\r\nhost: {addr}\r\n\r\n").as_bytes())
        .await
        .expect("send");
    let answer = read_until_closed(&mut kept, Duration::from_secs(5))
        .await
        .expect("closed when idle");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[tokio::test]
async fn a_request_body_that_does_not_arrive_in_time_is_refused() {
    let app = spawn_app_with(|s| s.body_timeout_secs = 1).await;
    let addr = app.address.trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(&addr).await.expect("connect");
    let start = Instant::now();
    stream
        .write_all(
            format!(
                "POST /anmelden HTTP/1.1\r\nhost: {addr}\r\ncontent-type: \
                 application/x-www-form-urlencoded\r\ncontent-length: 1000\r\n\r\nemail=a"
            )
            .as_bytes(),
        )
        .await
        .expect("send");
    // The server answers (not with success) or closes; it does not wait forever.
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
            if head.windows(4).any(|w| w == b"\r\n\r\n") {
                break;
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the server still waits for the body");
    assert!(start.elapsed() < Duration::from_secs(5));
    let head = String::from_utf8_lossy(&head);
    assert!(!head.starts_with("HTTP/1.1 2"), "{head}");
}

#[tokio::test]
async fn connections_over_the_per_address_limit_are_refused() {
    let app = spawn_app_with(|s| {
        s.max_connections_per_address = 2;
        s.connection_limit_exempt = vec![];
    })
    .await;
    let addr = app.address.trim_start_matches("http://").to_owned();
    let first = TcpStream::connect(&addr).await.expect("connect");
    let _second = TcpStream::connect(&addr).await.expect("connect");
    let mut third = TcpStream::connect(&addr).await.expect("connect");
    let answer = read_until_closed(&mut third, Duration::from_secs(5))
        .await
        .expect("closed");
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    // The whole message, as long as its content-length says.
    let (head, body) = answer.split_once("\r\n\r\n").expect("head and body");
    assert!(
        head.contains(&format!("content-length: {}", body.len())),
        "{answer}"
    );
    assert!(body.contains("Zu viele Verbindungen"), "{answer}");

    // A place is free again once a connection closes.
    drop(first);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut fourth = TcpStream::connect(&addr).await.expect("connect");
    fourth
        .write_all(
            format!("GET /healthz HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n")
                .as_bytes(),
        )
        .await
        .expect("send");
    let answer = read_until_closed(&mut fourth, Duration::from_secs(5))
        .await
        .expect("answered");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    // The default exempts loopback, where a reverse proxy on this machine connects from.
    let app = spawn_app_with(|s| s.max_connections_per_address = 2).await;
    let addr = app.address.trim_start_matches("http://").to_owned();
    let _a = TcpStream::connect(&addr).await.expect("connect");
    let _b = TcpStream::connect(&addr).await.expect("connect");
    let (status, _) = app.visitor().get_text("/healthz").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn an_open_websocket_outlives_the_header_and_send_timeouts() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;

    let app = spawn_app_with(|s| {
        s.header_timeout_secs = 1;
        s.send_timeout_secs = 1;
    })
    .await;
    let user = app.sign_in_existing(demo::KONVENT_MODERATOR.0).await;
    let event = app.store.event(demo::KONVENT_SLUG).await.expect("event");
    let id = app.account_id(demo::KONVENT_MODERATOR.0).await;
    if app
        .store
        .event_role(event.id, id)
        .await
        .expect("role")
        .is_none()
    {
        app.store
            .add_to_event(event.id, id, konvent_store::EventRole::Participant)
            .await
            .expect("registered");
    }
    let url = format!(
        "{}{EVENT}/live?since=0",
        app.address.replacen("http://", "ws://", 1)
    );
    let mut req = url.into_client_request().expect("request");
    req.headers_mut()
        .insert("cookie", user.cookie.parse().expect("header"));
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.expect("socket");
    // Take what the server sends at first, then stay quiet past both timeouts.
    while let Ok(Some(Ok(_))) = tokio::time::timeout(Duration::from_millis(500), ws.next()).await {}
    tokio::time::sleep(Duration::from_secs(3)).await;
    ws.send(Message::Ping(b"noch da?".to_vec().into()))
        .await
        .expect("still open");
    let pong = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(Ok(msg)) = ws.next().await {
            if matches!(msg, Message::Pong(_)) {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(pong, Ok(true), "the socket was closed");
}

#[tokio::test]
async fn a_display_name_with_invisible_or_direction_changing_characters_is_refused() {
    let app = spawn_app().await;
    let token = app
        .store
        .create_login_token(
            konvent_store::TokenPurpose::Invitation,
            "neu@example.org",
            None,
            None,
            jiff::SignedDuration::from_hours(1),
        )
        .await
        .expect("token")
        .token;
    let visitor = app.visitor();
    for hostile in [
        "Admin\u{202E}nimdA",
        "Ad\u{200B}min",
        "\u{2066}Admin\u{2069}",
        "Admin\u{200F}",
        "\u{FEFF}Admin",
    ] {
        let response = visitor
            .post(
                &format!("/einladung/{token}"),
                &[
                    ("display_name", hostile),
                    ("password", "ein-langes-passwort"),
                    ("password_repeat", "ein-langes-passwort"),
                ],
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{hostile:?}"
        );
        let page = crate::helpers::text(&response.text().await.expect("body"));
        assert!(page.contains("unsichtbare"), "{page}");
    }
    // A name in decomposed form is stored composed (NFC).
    let response = visitor
        .post(
            &format!("/einladung/{token}"),
            &[
                ("display_name", "Rene\u{301} Mu\u{308}ller"),
                ("password", "ein-langes-passwort"),
                ("password_repeat", "ein-langes-passwort"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let accounts = app.store.accounts().await.expect("accounts");
    let account = accounts
        .iter()
        .find(|a| a.email == "neu@example.org")
        .expect("account");
    assert_eq!(account.display_name, "Ren\u{e9} M\u{fc}ller");
}

/// A client whose connections come from `ip` (any 127.x address reaches the server).
fn client_from(ip: [u8; 4]) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .local_address(std::net::IpAddr::from(ip))
        .build()
        .expect("client")
}

async fn try_sign_in(
    app: &TestApp,
    client: &reqwest::Client,
    cookie: &str,
    password: &str,
) -> reqwest::Response {
    client
        .post(app.url("/anmelden"))
        .header("cookie", cookie)
        .form(&[
            ("csrf", crate::helpers::CSRF),
            ("email", "besitzerin@example.org"),
            ("password", password),
        ])
        .send()
        .await
        .expect("POST")
}

fn retry_after(response: &reqwest::Response) -> u64 {
    response.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds")
}

#[tokio::test]
async fn an_attacker_failing_at_sign_in_does_not_lock_the_owner_out() {
    let app = spawn_app().await;
    let hash = konvent_store::password::hash("richtiges-passwort").expect("hash");
    let token = app
        .store
        .create_login_token(
            konvent_store::TokenPurpose::Invitation,
            "besitzerin@example.org",
            None,
            None,
            jiff::SignedDuration::from_hours(1),
        )
        .await
        .expect("token")
        .token;
    app.store
        .redeem_invitation(&token, "Besitzerin", &hash)
        .await
        .expect("account");
    let csrf = format!("konvent_csrf={}", crate::helpers::CSRF);

    // The attacker fails five times, then has to wait, longer after every failure.
    let attacker = client_from([127, 0, 0, 2]);
    for _ in 0..5 {
        let r = try_sign_in(&app, &attacker, &csrf, "falsch-falsch-falsch").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = try_sign_in(&app, &attacker, &csrf, "richtiges-passwort").await;
    assert_eq!(
        r.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "even the right one"
    );
    assert_eq!(retry_after(&r), 1);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let r = try_sign_in(&app, &attacker, &csrf, "falsch-falsch-falsch").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = try_sign_in(&app, &attacker, &csrf, "falsch-falsch-falsch").await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(retry_after(&r), 2, "the delay grows");

    // The owner, from another client, signs in and gets a device cookie.
    let owner = client_from([127, 0, 0, 3]);
    let r = try_sign_in(&app, &owner, &csrf, "richtiges-passwort").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "the owner gets in");
    let device = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("konvent_device="))
        .map(|v| v.split(';').next().unwrap_or_default().to_owned())
        .expect("device cookie");

    // Guessing spread over many clients reaches the address's ceiling: new clients wait,
    // the owner's known device does not.
    let keys = ["email:besitzerin@example.org"];
    for _ in 0..100 {
        app.store
            .record_sign_in_failure(&keys)
            .await
            .expect("failure noted");
    }
    let stranger = client_from([127, 0, 0, 4]);
    let r = try_sign_in(&app, &stranger, &csrf, "richtiges-passwort").await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let r = try_sign_in(
        &app,
        &stranger,
        &format!("{csrf}; {device}"),
        "richtiges-passwort",
    )
    .await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "the owner's device, even from a new network"
    );
}
