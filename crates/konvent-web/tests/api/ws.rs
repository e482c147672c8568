//! The WebSocket test client the live tests share: a signed-in connection to the demo
//! event, its frames parsed, commands sent and their answers awaited, and the live log
//! read back from the store.

use konvent_core::ids::AccountId;
use std::collections::VecDeque;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use konvent_core::demo;
use konvent_store::LiveRecord;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::client::Request;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::helpers::TestApp;

pub(crate) const WAIT: Duration = Duration::from_secs(10);

pub(crate) type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

pub(crate) struct Client {
    pub(crate) ws: Socket,
    /// The `hello` frame.
    pub(crate) hello: Value,
    /// Frames read while looking for another one (an answer, say), in order: what
    /// `next` returns before reading on.
    backlog: VecDeque<Value>,
    /// The rest of a frame that carried several messages (one per line), not read yet.
    unread: VecDeque<Value>,
    /// The `seq` of the last `replayed` frame.
    pub(crate) replayed: i64,
}

/// The cookie header for a session token.
pub(crate) fn cookie(token: &str) -> String {
    format!("konvent_session={token}")
}

pub(crate) fn live_request(
    app: &TestApp,
    cookie: Option<&str>,
    query: &str,
    origin: Option<&str>,
) -> Request {
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
    req
}

pub(crate) async fn request(
    app: &TestApp,
    cookie: Option<&str>,
    query: &str,
    origin: Option<&str>,
) -> Result<Client, WsError> {
    let (ws, _) =
        tokio_tungstenite::connect_async(live_request(app, cookie, query, origin)).await?;
    Client::start(ws).await
}

pub(crate) async fn connect(app: &TestApp, cookie: &str, query: &str) -> Client {
    request(app, Some(cookie), query, None)
        .await
        .expect("connected")
}

/// Like [`connect`], but answers a refused upgrade instead of failing.
pub(crate) async fn try_connect(
    app: &TestApp,
    cookie: &str,
    query: &str,
) -> Result<Client, WsError> {
    request(app, Some(cookie), query, None).await
}

/// A connection whose socket takes in little (a small receive buffer), so that a client
/// that stops reading backs up into the server quickly.
pub(crate) async fn connect_small_buffer(app: &TestApp, cookie: &str, query: &str) -> Client {
    let addr: std::net::SocketAddr = app
        .address
        .trim_start_matches("http://")
        .parse()
        .expect("address");
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("buffer size");
    let stream = socket.connect(addr).await.expect("TCP connect");
    let (ws, _) = tokio_tungstenite::client_async(
        live_request(app, Some(cookie), query, None),
        MaybeTlsStream::Plain(stream),
    )
    .await
    .expect("connected");
    Client::start(ws).await.expect("hello")
}

/// Parses a text frame into its messages (one per line; the server puts several into
/// one frame under load); a close frame becomes `{"t":"close","code":…,"reason":…}`.
pub(crate) fn parse(msg: Message) -> Vec<Value> {
    match msg {
        Message::Text(t) => t
            .as_str()
            .split('\n')
            .map(|line| serde_json::from_str(line).expect("JSON line"))
            .collect(),
        Message::Close(c) => vec![json!({
            "t": "close",
            "code": c.as_ref().map(|c| u16::from(c.code)),
            "reason": c.as_ref().map(|c| c.reason.to_string()),
        })],
        _ => Vec::new(),
    }
}

impl Client {
    pub(crate) async fn start(ws: Socket) -> Result<Self, WsError> {
        let mut client = Self {
            ws,
            hello: Value::Null,
            backlog: VecDeque::new(),
            unread: VecDeque::new(),
            replayed: -1,
        };
        client.hello = client.until(|f| f["t"] == "hello").await;
        Ok(client)
    }

    pub(crate) async fn send(&mut self, frame: Value) {
        self.ws
            .send(Message::Text(frame.to_string().into()))
            .await
            .expect("sent");
    }

    /// The next JSON frame (from the backlog first).
    pub(crate) async fn next(&mut self) -> Value {
        match self.backlog.pop_front() {
            Some(f) => f,
            None => self.read().await,
        }
    }

    /// The next JSON message from the socket.
    pub(crate) async fn read(&mut self) -> Value {
        if let Some(first) = self.unread.pop_front() {
            return first;
        }
        loop {
            let msg = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("a frame within the wait")
                .expect("socket open")
                .expect("valid frame");
            self.unread.extend(parse(msg));
            if let Some(first) = self.unread.pop_front() {
                return first;
            }
        }
    }

    /// Whether the server closes the socket (within the wait), whatever it sends first.
    pub(crate) async fn closed(&mut self) -> bool {
        loop {
            match tokio::time::timeout(WAIT, self.ws.next()).await {
                Err(_) => return false,
                Ok(None | Some(Err(_)) | Some(Ok(Message::Close(_)))) => return true,
                Ok(Some(Ok(_))) => {}
            }
        }
    }

    /// The first frame that matches; the ones before it stay for `next`.
    pub(crate) async fn until(&mut self, matches: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.backlog.iter().position(&matches) {
            return self.backlog.remove(i).expect("in the backlog");
        }
        loop {
            let f = self.read().await;
            if matches(&f) {
                return f;
            }
            self.backlog.push_back(f);
        }
    }

    /// Everything up to the `replayed` frame (which is not included; its `seq` goes to
    /// `self.replayed`).
    pub(crate) async fn replay(&mut self) -> Vec<Value> {
        let mut frames = Vec::new();
        loop {
            let f = self.next().await;
            if f["t"] == "replayed" {
                self.replayed = f["seq"].as_i64().expect("replayed seq");
                return frames;
            }
            frames.push(f);
        }
    }

    /// Frames up to and including the `ev` with sequence number `seq` (or the first
    /// after it). Entries reach connections in sequence order, so this is everything
    /// the client was sent up to that entry: a barrier where a ping is none (the hub
    /// may hold entries a few milliseconds to send several in one write).
    pub(crate) async fn through(&mut self, seq: i64) -> Vec<Value> {
        let mut frames = Vec::new();
        loop {
            let f = self.next().await;
            let done = f["t"] == "ev" && f["seq"].as_i64().is_some_and(|s| s >= seq);
            frames.push(f);
            if done {
                return frames;
            }
        }
    }

    /// Everything before the `pong` answering a ping: what the server had queued.
    pub(crate) async fn drain(&mut self) -> Vec<Value> {
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
    pub(crate) async fn command(&mut self, frame: Value) -> Value {
        let id = frame["id"].clone();
        self.send(frame).await;
        self.until(|f| (f["t"] == "ack" || f["t"] == "error") && f["id"] == id)
            .await
    }

    pub(crate) async fn chat(&mut self, id: &str, text: &str) -> Value {
        self.command(json!({ "t": "chat", "id": id, "text": text }))
            .await
    }

    /// Sends a command that must be acknowledged; returns its sequence number.
    pub(crate) async fn acked(&mut self, frame: Value) -> i64 {
        let answer = self.command(frame.clone()).await;
        assert_eq!(answer["t"], "ack", "{frame} → {answer}");
        answer["seq"].as_i64().expect("seq")
    }
}

/// Session tokens of `n` new participants of the demo event, with their account ids.
pub(crate) async fn participants(app: &TestApp, n: usize) -> Vec<(String, AccountId)> {
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

pub(crate) async fn log(app: &TestApp, after: i64) -> Vec<LiveRecord> {
    let event = app.store.event(demo::KONVENT_SLUG).await.expect("event");
    app.store
        .live_since(event.id, after, 1_000_000)
        .await
        .expect("log")
}

pub(crate) async fn log_len(app: &TestApp) -> usize {
    log(app, 0).await.len()
}
