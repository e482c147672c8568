//! Clients that resume: when its socket ends, a client dials the next node with `since`
//! (its last `seq`) and `epoch` (when its `hello` had one), as `live.js` does behind a
//! load balancer. Each keeps the sequence numbers of the chat lines it received, so
//! after a run every client's list can be checked for gaps and duplicates against the
//! lines the server acknowledged.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::clients::{self, contains, needle, number_after};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

needle!(SEQ, br#""seq":"#);
needle!(T_HELLO, br#""t":"hello""#);
needle!(T_ACK, br#""t":"ack""#);
needle!(T_REPLAYED, br#""t":"replayed""#);
needle!(T_RELOAD, br#""t":"reload""#);
needle!(T_ERROR, br#""t":"error""#);
needle!(CODE_FULL, br#""code":"full""#);

/// What all clients share: the clock, the kill, the acknowledged lines.
pub struct Shared {
    base: Instant,
    /// ns since `base` when a node was killed (0: not yet).
    kill_ns: AtomicU64,
    /// The sequence numbers of every acknowledged chat line.
    acked: Mutex<Vec<u64>>,
    errors: AtomicU64,
    stop: AtomicBool,
    ports: Vec<u16>,
    tokens: Vec<String>,
}

impl Shared {
    pub fn new(ports: Vec<u16>, tokens: Vec<String>) -> Arc<Self> {
        Arc::new(Self {
            base: Instant::now(),
            kill_ns: AtomicU64::new(0),
            acked: Mutex::new(Vec::new()),
            errors: AtomicU64::new(0),
            stop: AtomicBool::new(false),
            ports,
            tokens,
        })
    }

    fn now_ns(&self) -> u64 {
        (self.base.elapsed().as_nanos() as u64).max(1)
    }

    /// Marks the moment of the kill; resume times count from here.
    pub fn killed_now(&self) {
        self.kill_ns.store(self.now_ns(), Ordering::Relaxed);
    }

    pub fn acked(&self) -> Vec<u64> {
        self.acked.lock().map(|a| a.clone()).unwrap_or_default()
    }

    pub fn errors(&self) -> u64 {
        self.errors.load(Ordering::Relaxed)
    }

    /// Ends every client's loop at its next frame or reconnect.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// What one client saw over the run.
#[derive(Debug, Default, Clone)]
pub struct Log {
    /// The node it is on now.
    pub node: usize,
    /// The event's sequence when it first connected (`hello`): it expects everything after.
    pub start_seq: Option<u64>,
    /// The highest `seq` it received (its `since` when it resumes).
    pub last_seq: u64,
    /// The `epoch` of its last `hello`, as the text to send back.
    pub epoch: Option<String>,
    /// Chat lines' sequence numbers in the order they arrived.
    pub chat: Vec<u64>,
    /// An `ev` whose seq was not above the one before on the same socket.
    pub out_of_order: u64,
    pub reconnects: u32,
    /// Reconnects after the kill: ms from the kill to the first frame on the new node,
    /// and to its `replayed` frame.
    pub resumed_ms: Option<f64>,
    pub replayed_ms: Option<f64>,
    /// `reload` frames (the server could not resume it).
    pub reloads: u32,
    /// Dials that failed (it then tried the next node).
    pub failed_dials: u32,
    /// `error` frames it got, and of those `full` (its room refused it on a (re)join).
    pub errors: u32,
    pub refused_full: u32,
}

/// One client: its sender and what it saw.
pub struct Client {
    pub out: mpsc::UnboundedSender<String>,
    pub log: Arc<Mutex<Log>>,
    task: JoinHandle<()>,
}

impl Client {
    pub fn log(&self) -> Log {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    pub fn abort(&self) {
        self.task.abort();
    }
}

async fn dial(shared: &Shared, i: usize, log: &Log) -> Result<Ws> {
    let port = shared.ports[log.node % shared.ports.len()];
    let mut url = clients::live_url(port);
    if log.start_seq.is_some() {
        url.push_str(&format!("&since={}", log.last_seq));
        if let Some(epoch) = &log.epoch {
            url.push_str(&format!("&epoch={}", query_value(epoch)));
        }
    }
    let mut req = url.into_client_request()?;
    if let Some(token) = shared.tokens.get(i) {
        req.headers_mut()
            .insert("cookie", format!("konvent_session={token}").parse()?);
    }
    let (ws, _) = tokio::time::timeout(
        Duration::from_secs(10),
        tokio_tungstenite::connect_async(req),
    )
    .await
    .context("dial timed out")?
    .context("WebSocket handshake")?;
    Ok(ws)
}

/// Connects client `i` to node `i % nodes` (the first dial waits for `ready`'s permit so
/// that not all dial at once) and keeps it connected until `shared.stop()`.
pub async fn spawn(
    shared: Arc<Shared>,
    i: usize,
    ready: Arc<tokio::sync::Semaphore>,
    jitter: Duration,
) -> Result<Client> {
    let log = Arc::new(Mutex::new(Log {
        node: i % shared.ports.len(),
        ..Log::default()
    }));
    let first = {
        let _permit = ready.acquire().await?;
        let at = lock(&log).clone();
        dial(&shared, i, &at)
            .await
            .with_context(|| format!("client {i}"))?
    };
    let (out, out_rx) = mpsc::unbounded_channel();
    let task = tokio::spawn(run(shared, i, first, out_rx, log.clone(), jitter));
    Ok(Client { out, log, task })
}

fn lock(log: &Mutex<Log>) -> std::sync::MutexGuard<'_, Log> {
    log.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The client's life: read and send on a socket; when it ends, resume on the next node.
async fn run(
    shared: Arc<Shared>,
    i: usize,
    first: Ws,
    mut out_rx: mpsc::UnboundedReceiver<String>,
    log: Arc<Mutex<Log>>,
    jitter: Duration,
) {
    let mut ws = Some(first);
    let nodes = shared.ports.len();
    while !shared.stop.load(Ordering::Relaxed) {
        let Some(mut socket) = ws.take() else {
            // Resume: after a spread-out pause, the next node, until one answers.
            let pause = spread(i, jitter);
            tokio::time::sleep(pause).await;
            let at = {
                let mut l = lock(&log);
                l.node = (l.node + 1) % nodes;
                l.clone()
            };
            match dial(&shared, i, &at).await {
                Ok(s) => {
                    lock(&log).reconnects += 1;
                    ws = Some(s);
                }
                Err(_) => {
                    lock(&log).failed_dials += 1;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
            continue;
        };
        let after_kill = shared.kill_ns.load(Ordering::Relaxed) > 0;
        let mut fresh = true;
        let mut last_on_socket = 0u64;
        loop {
            tokio::select! {
                line = out_rx.recv() => match line {
                    Some(text) => {
                        if socket.send(Message::Text(text.into())).await.is_err() {
                            break;
                        }
                    }
                    None => return,
                },
                msg = socket.next() => match msg {
                    Some(Ok(Message::Text(t))) => {
                        let mut l = lock(&log);
                        if fresh && after_kill && l.reconnects > 0 {
                            let kill = shared.kill_ns.load(Ordering::Relaxed);
                            l.resumed_ms.get_or_insert(shared.now_ns().saturating_sub(kill) as f64 / 1e6);
                        }
                        fresh = false;
                        for line in t.as_bytes().split(|b| *b == b'\n') {
                            read_line(&shared, &mut l, line, &mut last_on_socket, after_kill);
                        }
                    }
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                    Some(Ok(_)) => {}
                },
            }
            if shared.stop.load(Ordering::Relaxed) {
                let _ = socket.close(None).await;
                return;
            }
        }
    }
}

/// `value` percent-encoded for a query string (an epoch is hex today; this keeps any
/// other name intact).
fn query_value(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A pause in `0..jitter` that differs from client to client (no randomness needed).
fn spread(i: usize, jitter: Duration) -> Duration {
    let ms = jitter.as_millis() as u64;
    if ms == 0 {
        return Duration::ZERO;
    }
    Duration::from_millis((i as u64).wrapping_mul(2_654_435_761) % ms)
}

/// One message of a frame.
fn read_line(
    shared: &Shared,
    l: &mut Log,
    line: &[u8],
    last_on_socket: &mut u64,
    after_kill: bool,
) {
    if let Some((seq, chat)) = clients::ev_head(line) {
        if seq <= *last_on_socket {
            l.out_of_order += 1;
        }
        *last_on_socket = seq;
        l.last_seq = l.last_seq.max(seq);
        if chat {
            l.chat.push(seq);
        }
    } else if contains(line, &T_HELLO) {
        hello(l, line);
    } else if contains(line, &T_ACK) {
        if let Some(seq) = number_after(line, &SEQ)
            && let Ok(mut acked) = shared.acked.lock()
        {
            acked.push(seq);
        }
    } else if contains(line, &T_REPLAYED) {
        if after_kill && l.reconnects > 0 && l.replayed_ms.is_none() {
            let kill = shared.kill_ns.load(Ordering::Relaxed);
            l.replayed_ms = Some(shared.now_ns().saturating_sub(kill) as f64 / 1e6);
        }
    } else if contains(line, &T_RELOAD) {
        // The server cannot resume this client: it starts over as a page reload would.
        l.reloads += 1;
        l.start_seq = None;
    } else if contains(line, &T_ERROR) {
        l.errors += 1;
        if contains(line, &CODE_FULL) {
            l.refused_full += 1;
        }
        if shared.errors.fetch_add(1, Ordering::Relaxed) < 3 {
            eprintln!("error frame: {}", String::from_utf8_lossy(line));
        }
    }
}

/// `hello`: the event's sequence now (where a first connection starts) and the log's
/// epoch, if the server sends one.
fn hello(l: &mut Log, line: &[u8]) {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(line) else {
        return;
    };
    if l.start_seq.is_none()
        && let Some(seq) = value.get("seq").and_then(serde_json::Value::as_u64)
    {
        l.start_seq = Some(seq);
        l.last_seq = seq;
    }
    l.epoch = match value.get("epoch") {
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_first_hello_sets_the_start_and_a_later_one_only_the_epoch() {
        let mut log = Log::default();
        hello(
            &mut log,
            br#"{"t":"hello","seq":41,"epoch":"e7","room":"lasttest"}"#,
        );
        assert_eq!((log.start_seq, log.last_seq), (Some(41), 41));
        assert_eq!(log.epoch.as_deref(), Some("e7"));
        log.last_seq = 50;
        hello(&mut log, br#"{"t":"hello","seq":60,"epoch":3}"#);
        assert_eq!((log.start_seq, log.last_seq), (Some(41), 50));
        assert_eq!(log.epoch.as_deref(), Some("3"));
    }

    #[test]
    fn an_epoch_goes_into_the_query_string_intact() {
        assert_eq!(query_value("3f9a-b_c"), "3f9a-b_c");
        assert_eq!(query_value("a b&c"), "a%20b%26c");
    }

    #[test]
    fn reconnect_pauses_stay_within_the_jitter() {
        let jitter = Duration::from_millis(300);
        assert!((0..1000).all(|i| spread(i, jitter) < jitter));
        assert_eq!(spread(5, Duration::ZERO), Duration::ZERO);
    }
}
