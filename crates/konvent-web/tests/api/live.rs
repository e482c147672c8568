//! The live hub through real WebSockets: resume after a disconnect, acknowledgements after
//! commit, the microphone rule, who may do what, bad frames and refused upgrades.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use konvent_core::authz::Role;
use konvent_core::demo;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::helpers::{TestApp, spawn_app};

const WAIT: Duration = Duration::from_secs(10);

struct Client {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// The `hello` frame.
    hello: Value,
}

/// The cookie header for a session token.
fn cookie(token: &str) -> String {
    format!("konvent_session={token}")
}

async fn request(
    app: &TestApp,
    cookie: Option<&str>,
    query: &str,
    origin: Option<&str>,
) -> Result<Client, WsError> {
    let url = format!(
        "{}/konvent/{}/live{query}",
        app.address.replacen("http://", "ws://", 1),
        demo::KONVENT_SLUG
    );
    let mut req = url.into_client_request().expect("request");
    if let Some(c) = cookie {
        req.headers_mut()
            .insert("cookie", c.parse().expect("header"));
    }
    if let Some(o) = origin {
        req.headers_mut()
            .insert("origin", o.parse().expect("header"));
    }
    let (ws, _) = tokio_tungstenite::connect_async(req).await?;
    let mut client = Client {
        ws,
        hello: Value::Null,
    };
    client.hello = client.until(|f| f["t"] == "hello").await;
    Ok(client)
}

async fn connect(app: &TestApp, cookie: &str, query: &str) -> Client {
    request(app, Some(cookie), query, None)
        .await
        .expect("connected")
}

impl Client {
    async fn send(&mut self, frame: Value) {
        self.ws
            .send(Message::Text(frame.to_string().into()))
            .await
            .expect("sent");
    }

    /// The next JSON frame.
    async fn next(&mut self) -> Value {
        loop {
            let msg = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("a frame within the wait")
                .expect("socket open")
                .expect("valid frame");
            match msg {
                Message::Text(t) => return serde_json::from_str(t.as_str()).expect("JSON frame"),
                Message::Close(c) => return json!({ "t": "close", "close": format!("{c:?}") }),
                _ => {}
            }
        }
    }

    /// Reads frames until one matches; returns it.
    async fn until(&mut self, matches: impl Fn(&Value) -> bool) -> Value {
        loop {
            let f = self.next().await;
            if matches(&f) {
                return f;
            }
        }
    }

    /// Everything before the `pong` answering a ping: what the server had queued.
    async fn drain(&mut self) -> Vec<Value> {
        self.send(json!({ "t": "ping" })).await;
        let mut frames = Vec::new();
        loop {
            let f = self.next().await;
            if f["t"] == "pong" {
                return frames;
            }
            frames.push(f);
        }
    }

    /// Sends a command and returns its answer (`ack` or `error`).
    async fn command(&mut self, frame: Value) -> Value {
        let id = frame["id"].clone();
        self.send(frame).await;
        self.until(|f| (f["t"] == "ack" || f["t"] == "error") && f["id"] == id)
            .await
    }

    async fn chat(&mut self, id: &str, text: &str) -> Value {
        self.command(json!({ "t": "chat", "id": id, "text": text }))
            .await
    }
}

/// Session tokens of `n` new participants of the demo event, with their account ids.
async fn participants(app: &TestApp, n: usize) -> Vec<(String, i64)> {
    let event = app.store.event(demo::KONVENT_SLUG).await.expect("event");
    let tokens = app
        .store
        .load_test_sessions(event.id, n)
        .await
        .expect("sessions");
    let mut out = Vec::new();
    for token in tokens {
        let p = app
            .store
            .signed_in(&token)
            .await
            .expect("query")
            .expect("valid");
        out.push((cookie(&token), p.user_id));
    }
    out
}

fn chat_texts(frames: &[Value]) -> Vec<String> {
    frames
        .iter()
        .filter(|f| f["t"] == "ev")
        .map(|f| {
            format!(
                "{}:{}",
                f["kind"].as_str().unwrap_or(""),
                f["data"]["text"].as_str().unwrap_or("")
            )
        })
        .collect()
}

async fn log_len(app: &TestApp) -> usize {
    let event = app.store.event(demo::KONVENT_SLUG).await.expect("event");
    app.store
        .live_since(event.id, 0, 100_000)
        .await
        .expect("log")
        .len()
}

#[tokio::test]
async fn a_client_that_resumes_gets_exactly_what_it_missed() {
    let app = spawn_app().await;
    let people = participants(&app, 3).await;
    let admin = app.admin().await.cookie;

    let mut anna = connect(&app, &people[0].0, "?room=plenum").await;
    let ack = anna.chat("a1", "vor der Pause").await;
    assert_eq!(ack["t"], "ack");
    let last = ack["seq"].as_i64().expect("seq");
    anna.drain().await;
    drop(anna);

    let mut bert = connect(&app, &people[1].0, "?room=plenum").await;
    bert.chat("b1", "p1").await;
    bert.chat("b2", "p2").await;
    let mut organizer = connect(&app, &admin, "").await;
    let ack = organizer
        .command(json!({ "t": "announce", "id": "n1", "text": "Durchsage" }))
        .await;
    assert_eq!(ack["t"], "ack", "{ack}");
    bert.send(json!({ "t": "join", "room": "lounge" })).await;
    bert.until(|f| f["t"] == "joined").await;
    bert.chat("b3", "nur in der Lounge").await;
    let mut carl = connect(&app, &people[2].0, "").await;
    let ack = carl
        .command(json!({ "t": "dm", "id": "d1", "to_helpdesk": true, "text": "geheim" }))
        .await;
    assert_eq!(ack["t"], "ack", "{ack}");

    let mut anna = connect(&app, &people[0].0, &format!("?room=plenum&since={last}")).await;
    let mut replay = Vec::new();
    loop {
        let f = anna.next().await;
        if f["t"] == "replayed" {
            break;
        }
        replay.push(f);
    }
    assert_eq!(
        chat_texts(&replay),
        vec!["chat:p1", "chat:p2", "announcement:Durchsage"],
        "exactly the missed plenum lines and the announcement, in order"
    );
    let seqs: Vec<i64> = replay
        .iter()
        .filter(|f| f["t"] == "ev")
        .filter_map(|f| f["seq"].as_i64())
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    assert!(seqs[0] > last);

    // Live frames continue after the replay, and nothing is sent twice.
    bert.send(json!({ "t": "join", "room": "plenum" })).await;
    bert.until(|f| f["t"] == "joined").await;
    bert.chat("b4", "p3").await;
    let live = anna.until(|f| f["t"] == "ev").await;
    assert_eq!(live["data"]["text"], "p3");
    let rest = anna.drain().await;
    assert!(chat_texts(&rest).is_empty(), "{rest:?}");
}

#[tokio::test]
async fn acknowledged_commands_are_stored_once() {
    let app = spawn_app().await;
    let people = participants(&app, 1).await;
    let mut anna = connect(&app, &people[0].0, "?room=plenum").await;
    let first = anna.chat("same-id", "einmal").await;
    assert_eq!(first["t"], "ack");
    let before = log_len(&app).await;
    let again = anna.chat("same-id", "einmal").await;
    assert_eq!(again["t"], "ack");
    assert_eq!(
        again["seq"], first["seq"],
        "the first entry is acknowledged again"
    );
    assert_eq!(log_len(&app).await, before, "nothing stored twice");
    let event = app.store.event(demo::KONVENT_SLUG).await.expect("event");
    let stored = app
        .store
        .live_since(event.id, first["seq"].as_i64().expect("seq") - 1, 1)
        .await
        .expect("log");
    assert_eq!(stored[0].data["text"], "einmal");
}

#[tokio::test]
async fn the_microphone_rule_switches_at_the_twentieth_joiner() {
    let app = spawn_app().await;
    let people = participants(&app, 21).await;
    let mut clients = Vec::new();
    for (i, (c, _)) in people.iter().take(20).enumerate() {
        let mut client = connect(&app, c, "?room=plenum").await;
        let joined = client.until(|f| f["t"] == "joined").await;
        assert_eq!(joined["count"], i as i64 + 1);
        assert_eq!(
            joined["muted"],
            i + 1 >= 20,
            "joiner {} muted: {}",
            i + 1,
            joined["muted"]
        );
        clients.push(client);
    }
    // Everybody in the room learns that the rule is in force.
    let presence = clients[0]
        .until(|f| f["t"] == "presence" && f["count"] == 20)
        .await;
    assert_eq!(presence["muted"], true);
    assert_eq!(presence["threshold"], 20);
    // Two leave: under the threshold the next joiner is not muted.
    drop(clients.pop());
    drop(clients.pop());
    clients[0]
        .until(|f| f["t"] == "presence" && f["count"] == 18)
        .await;
    let mut late = connect(&app, &people[20].0, "?room=plenum").await;
    let joined = late.until(|f| f["t"] == "joined").await;
    assert_eq!(joined["count"], 19);
    assert_eq!(joined["muted"], false);
}

#[tokio::test]
async fn participants_cannot_give_the_floor_announce_or_read_others_messages() {
    let app = spawn_app().await;
    let people = participants(&app, 3).await;
    let mut anna = connect(&app, &people[0].0, "?room=plenum").await;
    let mut bert = connect(&app, &people[1].0, "?room=plenum").await;
    let before = log_len(&app).await;
    for (i, frame) in [
        json!({ "t": "floor", "user": people[1].1 }),
        json!({ "t": "announce", "text": "Achtung" }),
        json!({ "t": "agenda", "current": 2 }),
        json!({ "t": "timer", "action": "start", "seconds": 300 }),
        json!({ "t": "moderate", "question": 1, "status": "approved" }),
        json!({ "t": "dm", "to": people[1].1, "text": "privat" }),
    ]
    .into_iter()
    .enumerate()
    {
        let mut frame = frame;
        frame["id"] = json!(format!("x{i}"));
        let answer = anna.command(frame.clone()).await;
        assert_eq!(answer["t"], "error", "{frame}");
        assert_eq!(answer["code"], "forbidden", "{frame} → {answer}");
    }
    assert_eq!(log_len(&app).await, before, "nothing was stored");

    // A message to the help desk reaches its helpers and the sender, nobody else.
    let helper = app
        .sign_in_existing(demo::KONVENT_HELPERS[0].0)
        .await
        .cookie;
    let mut desk = connect(&app, &helper, "").await;
    let ack = bert
        .command(json!({ "t": "dm", "id": "h1", "to_helpdesk": true, "text": "Ton weg" }))
        .await;
    assert_eq!(ack["t"], "ack");
    let seen = desk.until(|f| f["t"] == "ev" && f["kind"] == "dm").await;
    assert_eq!(seen["data"]["text"], "Ton weg");
    let anna_saw = anna.drain().await;
    assert!(!anna_saw.iter().any(|f| f["kind"] == "dm"), "{anna_saw:?}");
    // Nor on replay.
    let mut again = connect(&app, &people[0].0, "?room=plenum&since=0").await;
    let replay = {
        let mut frames = Vec::new();
        loop {
            let f = again.next().await;
            if f["t"] == "replayed" {
                break frames;
            }
            frames.push(f);
        }
    };
    assert!(!replay.iter().any(|f| f["kind"] == "dm"), "{replay:?}");

    // The moderator gives the floor; everybody in the room sees speaker and queue.
    bert.command(json!({ "t": "hand", "id": "h", "up": true }))
        .await;
    anna.command(json!({ "t": "hand", "id": "h", "up": true }))
        .await;
    let admin = app.admin().await.cookie;
    let mut chair = connect(&app, &admin, "?room=plenum").await;
    let ack = chair
        .command(json!({ "t": "floor", "id": "f1", "user": people[1].1 }))
        .await;
    assert_eq!(ack["t"], "ack", "{ack}");
    let floor = anna.until(|f| f["t"] == "ev" && f["kind"] == "floor").await;
    assert_eq!(floor["data"]["speaker"]["id"], people[1].1);
    assert_eq!(floor["data"]["queue"][0]["id"], people[0].1);
    assert_eq!(floor["data"]["queue"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn bad_frames_get_reasons_and_never_crash_the_server() {
    let app = spawn_app().await;
    let people = participants(&app, 2).await;
    let mut anna = connect(&app, &people[0].0, "?room=plenum").await;
    for bad in [
        "{",
        "null",
        r#"{"t":"explode"}"#,
        r#"{"t":"chat","text":7}"#,
    ] {
        anna.ws.send(Message::Text(bad.into())).await.expect("sent");
        let answer = anna.until(|f| f["t"] == "error").await;
        assert_eq!(answer["code"], "bad_frame", "{bad}");
    }
    anna.ws
        .send(Message::Binary(vec![1u8, 2, 3].into()))
        .await
        .expect("sent");
    assert_eq!(anna.until(|f| f["t"] == "error").await["code"], "bad_frame");
    anna.drain().await; // still answers pings
    let long = anna.chat("long", &"x".repeat(2001)).await;
    assert_eq!(long["code"], "invalid");

    // Over 16 KiB: closed with 1009 and a reason.
    let huge = json!({ "t": "chat", "text": "x".repeat(20_000) }).to_string();
    let _ = anna.ws.send(Message::Text(huge.into())).await;
    let closed = loop {
        match tokio::time::timeout(WAIT, anna.ws.next())
            .await
            .expect("answer")
        {
            Some(Ok(Message::Close(Some(frame)))) => break Some(frame),
            Some(Ok(_)) => continue,
            _ => break None,
        }
    };
    let frame = closed.expect("a close frame with a reason");
    assert_eq!(u16::from(frame.code), 1009);
    assert!(frame.reason.contains("too large"), "{}", frame.reason);

    // The server goes on serving.
    let mut bert = connect(&app, &people[1].0, "?room=plenum").await;
    assert_eq!(bert.chat("ok", "weiter geht's").await["t"], "ack");
}

#[tokio::test]
async fn upgrades_are_refused_to_strangers() {
    let app = spawn_app().await;
    let status = |r: Result<Client, WsError>| match r {
        Err(WsError::Http(response)) => response.status().as_u16(),
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("connected"),
    };
    assert_eq!(status(request(&app, None, "", None).await), 401);
    let stranger = app.user_named(Role::Participant, "fremd").await.cookie;
    assert_eq!(status(request(&app, Some(&stranger), "", None).await), 403);
    let people = participants(&app, 1).await;
    assert_eq!(
        status(request(&app, Some(&people[0].0), "", Some("https://evil.example")).await),
        403
    );
    assert_eq!(
        status(request(&app, Some(&people[0].0), "?room=keller", None).await),
        404
    );
}

#[tokio::test]
async fn the_eleventh_line_in_ten_seconds_is_rate_limited() {
    let app = spawn_app().await;
    let people = participants(&app, 1).await;
    let mut anna = connect(&app, &people[0].0, "?room=plenum").await;
    for i in 0..10 {
        assert_eq!(anna.chat(&format!("r{i}"), "hallo").await["t"], "ack");
    }
    let refused = anna.chat("r10", "hallo").await;
    assert_eq!(refused["code"], "rate_limited");
}
