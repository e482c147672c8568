//! A live client that behaves like `live.js` behind a load balancer: it keeps one socket
//! to a node, records every entry it receives, and when the socket dies it reconnects to
//! the next node that answers with `since` = the last sequence it saw, and sends again
//! the commands it has no answer for (with their ids, so none is stored twice).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use super::{EVENT, ROOM};

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// What one client received over all its connections.
#[derive(Clone, Debug, Default)]
pub struct Seen {
    /// The event's sequence in the first `hello`: every entry after it is the client's.
    pub start: Option<i64>,
    /// The `seq` of every `ev`, in the order received.
    pub seqs: Vec<i64>,
    /// The text of every chat line received, by `seq`.
    pub lines: HashMap<i64, String>,
    /// Commands acknowledged: client id → seq.
    pub acked: HashMap<String, i64>,
    /// `error` frames and close frames the client did not expect.
    pub refused: Vec<String>,
    /// The port of each node the client was connected to, in order.
    pub nodes: Vec<u16>,
    /// Commands sent and not yet answered.
    pub pending: usize,
    /// Commands sent again after a reconnect, for want of an answer.
    pub resent: usize,
    /// The log's epoch from `hello`, handed back on a reconnect (`&epoch=`).
    pub epoch: Option<String>,
    /// The client's own name, from `hello`.
    pub name: String,
    /// Names of the other avatars the client was shown on the venue map.
    pub avatars: BTreeSet<String>,
}

impl Seen {
    /// The last sequence this client can resume from.
    pub fn last(&self) -> Option<i64> {
        self.seqs.last().copied().or(self.start)
    }
}

pub struct Client {
    pub name: String,
    commands: mpsc::UnboundedSender<Value>,
    seen: Arc<Mutex<Seen>>,
    task: tokio::task::JoinHandle<()>,
}

impl Client {
    /// Connects to `ports[0]` (falling back to the others in order) and returns once the
    /// client is in [`ROOM`].
    pub async fn connect(name: String, ports: Vec<u16>, token: String) -> Self {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let (commands, rx) = mpsc::unbounded_channel();
        let (ready, is_ready) = oneshot::channel();
        let task = tokio::spawn(run(ports, token, seen.clone(), rx, ready));
        tokio::time::timeout(Duration::from_secs(20), is_ready)
            .await
            .unwrap_or_else(|_| panic!("{name} joined {ROOM} in time"))
            .unwrap_or_else(|_| panic!("{name} connected"));
        Self {
            name,
            commands,
            seen,
            task,
        }
    }

    /// Sends a command (it carries its own `id`); answers are recorded in [`Seen`].
    pub fn send(&self, command: Value) {
        self.commands.send(command).expect("client running");
    }

    pub fn seen(&self) -> Seen {
        self.seen.lock().expect("seen").clone()
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Close codes after which a client resumes with `since` (docs/live-protocol.md): going
/// away and service restart (a node drained), rights changed, slow consumer. Any other
/// close (signed out, reload) is a failure here.
const RESUME_CODES: [u16; 5] = [1001, 1012, 1013, 4003, 4008];

/// The client's life: connect, read and write until the socket dies, reconnect.
async fn run(
    ports: Vec<u16>,
    token: String,
    seen: Arc<Mutex<Seen>>,
    mut commands: mpsc::UnboundedReceiver<Value>,
    ready: oneshot::Sender<()>,
) {
    let mut ready = Some(ready);
    // Sent and unanswered, by id, in the order sent.
    let mut pending: BTreeMap<(u64, String), Value> = BTreeMap::new();
    let mut sent = 0u64;
    let mut next = 0usize;
    loop {
        let resume = {
            let seen = seen.lock().expect("seen");
            let since = seen
                .last()
                .map(|s| format!("&since={s}"))
                .unwrap_or_default();
            let epoch = seen.epoch.as_ref().map(|e| format!("&epoch={e}"));
            since + &epoch.unwrap_or_default()
        };
        let (mut socket, port) = reconnect(&ports, &mut next, &token, &resume).await;
        {
            let mut seen = seen.lock().expect("seen");
            seen.nodes.push(port);
            if seen.nodes.len() > 1 {
                seen.resent += pending.len();
            }
        }
        let mut alive = true;
        for command in pending.values() {
            alive &= socket.send(text(command)).await.is_ok();
        }
        while alive {
            tokio::select! {
                command = commands.recv() => {
                    let Some(command) = command else { return };
                    // Only commands with an id are answered (and worth sending again).
                    if let Some(id) = command["id"].as_str() {
                        sent += 1;
                        pending.insert((sent, id.to_owned()), command.clone());
                        seen.lock().expect("seen").pending = pending.len();
                    }
                    alive = socket.send(text(&command)).await.is_ok();
                }
                frame = socket.next() => {
                    alive = match frame {
                        Some(Ok(Message::Text(t))) => {
                            let mut seen = seen.lock().expect("seen");
                            for line in t.lines() {
                                let f: Value = serde_json::from_str(line).expect("json");
                                record(&mut seen, &f, &mut pending);
                                if f["t"] == "joined" && let Some(r) = ready.take() {
                                    let _ = r.send(());
                                }
                            }
                            seen.pending = pending.len();
                            true
                        }
                        Some(Ok(Message::Close(Some(close)))) => {
                            let code = u16::from(close.code);
                            if !RESUME_CODES.contains(&code) {
                                let mut seen = seen.lock().expect("seen");
                                seen.refused.push(format!("closed {code}: {}", close.reason));
                            }
                            false
                        }
                        Some(Ok(_)) => true,
                        Some(Err(_)) | None => false,
                    };
                }
            }
        }
    }
}

/// Notes one server frame; an answer takes its command off `pending`.
fn record(seen: &mut Seen, f: &Value, pending: &mut BTreeMap<(u64, String), Value>) {
    match f["t"].as_str() {
        Some("hello") => {
            if seen.start.is_none() {
                seen.start = f["seq"].as_i64();
            }
            seen.name = f["you"]["name"].as_str().unwrap_or_default().to_owned();
            seen.epoch = match &f["epoch"] {
                Value::Null => None,
                Value::String(e) => Some(e.clone()),
                e => Some(e.to_string()),
            };
        }
        Some("pos") => {
            // A move names the avatar when it is new to the viewer: [id, x, y, name].
            let moves = f["m"].as_array().into_iter().flatten();
            let names = moves.filter_map(|m| m.get(3)?.as_str());
            seen.avatars.extend(names.map(str::to_owned));
        }
        Some("ev") => {
            let seq = f["seq"].as_i64().expect("ev with seq");
            seen.seqs.push(seq);
            if f["kind"] == "chat" {
                let line = f["data"]["text"].as_str().unwrap_or_default();
                seen.lines.insert(seq, line.to_owned());
            }
        }
        Some(t @ ("ack" | "error")) => {
            let id = f["id"].as_str().unwrap_or_default().to_owned();
            pending.retain(|(_, pending_id), _| *pending_id != id);
            if t == "ack" {
                seen.acked
                    .insert(id, f["seq"].as_i64().expect("ack with seq"));
            } else {
                seen.refused.push(f.to_string());
            }
        }
        _ => {}
    }
}

/// Tries the nodes in turn, starting where the last connection was, until one accepts.
/// `resume` is the query's tail after `room` (`&since=…&epoch=…`, or empty).
async fn reconnect(ports: &[u16], next: &mut usize, token: &str, resume: &str) -> (Socket, u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let port = ports[*next % ports.len()];
        if let Ok(socket) = connect(port, token, resume).await {
            return (socket, port);
        }
        *next += 1;
        assert!(Instant::now() < deadline, "no node accepts the client");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn connect(
    port: u16,
    token: &str,
    resume: &str,
) -> Result<Socket, tokio_tungstenite::tungstenite::Error> {
    let mut req = format!("ws://127.0.0.1:{port}/konvent/{EVENT}/live?room={ROOM}{resume}")
        .into_client_request()?;
    req.headers_mut().insert(
        "cookie",
        format!("konvent_session={token}")
            .parse()
            .expect("cookie header"),
    );
    let connecting = tokio_tungstenite::connect_async(req);
    match tokio::time::timeout(Duration::from_secs(5), connecting).await {
        Ok(result) => result.map(|(socket, _)| socket),
        Err(_) => Err(tokio_tungstenite::tungstenite::Error::ConnectionClosed),
    }
}

fn text(command: &Value) -> Message {
    Message::Text(command.to_string().into())
}
