//! The clients: N WebSockets in one room, an open-loop sender, and what arrived when.
//!
//! Every message carries an id ("lg 123"); the sender stores the time it was *meant* to
//! go out (the open-loop schedule), so a server that falls behind shows up as latency
//! and not as a slower schedule. Latencies go into sharded HDR histograms (µs).

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use tokio::sync::{Notify, Semaphore, mpsc};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::servers::{Running, Target};

/// Message ids over the whole run.
const MAX_MESSAGES: usize = 1 << 21;
const SHARDS: usize = 16;
/// How long a phase waits for stragglers after its last send.
const DRAIN: Duration = Duration::from_secs(5);

struct Shared {
    base: Instant,
    intended: Vec<AtomicU64>,
    arrivals: Vec<AtomicU32>,
    last: Vec<AtomicU64>,
    hist: Vec<Mutex<Histogram<u64>>>,
    errors: AtomicU64,
    next_id: AtomicUsize,
    next_sender: AtomicUsize,
}

impl Shared {
    fn now_ns(&self) -> u64 {
        self.base.elapsed().as_nanos() as u64
    }

    fn arrived(&self, id: usize, shard: usize) {
        let Some(intended) = self.intended.get(id) else {
            return;
        };
        let intended = intended.load(Ordering::Relaxed);
        if intended == 0 {
            return;
        }
        let now = self.now_ns();
        let micros = now.saturating_sub(intended) / 1000;
        if let Ok(mut h) = self.hist[shard % SHARDS].lock() {
            h.saturating_record(micros.max(1));
        }
        self.arrivals[id].fetch_add(1, Ordering::Relaxed);
        self.last[id].fetch_max(now, Ordering::Relaxed);
    }
}

struct Client {
    out: mpsc::UnboundedSender<String>,
    stalled: Arc<AtomicBool>,
    resume: Arc<Notify>,
    closed: Arc<AtomicBool>,
    task: JoinHandle<()>,
}

/// N connected clients.
pub struct Crowd {
    target: Target,
    clients: Vec<Client>,
    shared: Arc<Shared>,
    stalled: AtomicUsize,
}

/// The id in "lg 123", wherever it is in the frame.
fn message_id(frame: &[u8]) -> Option<usize> {
    let at = memchr::memmem::find(frame, b"lg ")? + 3;
    let digits = frame[at..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    std::str::from_utf8(&frame[at..at + digits])
        .ok()?
        .parse()
        .ok()
}

/// A frame about as large as konvent's `ev` frame for a chat line (≈ 200 bytes), for
/// the baselines that broadcast what they receive.
fn padded(id: usize) -> String {
    format!(
        r#"{{"t":"ev","seq":{id},"at":"2026-11-23T12:00:00.000000Z","kind":"chat","room":"lasttest","data":{{"from":{{"id":1234,"name":"Lasttest 1234"}},"html":"<p>lg {id}</p>\n","id":{id},"text":"lg {id}"}}}}"#
    )
}

fn frame_for(target: Target, id: usize) -> String {
    match target {
        Target::Konvent => format!(r#"{{"t":"chat","id":"m{id}","text":"lg {id}"}}"#),
        Target::Tokio => padded(id),
        // A JSON string inside the socket.io packet.
        Target::SocketIo => format!(
            "42[\"chat\",\"lg {id} {}\"]",
            "x".repeat(padded(id).len().saturating_sub(20))
        ),
    }
}

impl Crowd {
    pub async fn connect(server: &Running, n: usize) -> Result<Self> {
        let shared = Arc::new(Shared {
            base: Instant::now(),
            intended: (0..MAX_MESSAGES).map(|_| AtomicU64::new(0)).collect(),
            arrivals: (0..MAX_MESSAGES).map(|_| AtomicU32::new(0)).collect(),
            last: (0..MAX_MESSAGES).map(|_| AtomicU64::new(0)).collect(),
            hist: (0..SHARDS)
                .map(|_| Mutex::new(Histogram::new_with_bounds(1, 120_000_000, 3).expect("bounds")))
                .collect(),
            errors: AtomicU64::new(0),
            next_id: AtomicUsize::new(1),
            next_sender: AtomicUsize::new(0),
        });
        let limit = Arc::new(Semaphore::new(64));
        let mut pending = Vec::with_capacity(n);
        for i in 0..n {
            let permit = limit.clone().acquire_owned().await?;
            let url = match server.target {
                Target::Konvent => format!(
                    "ws://127.0.0.1:{}/konvent/strategiekonvent-2025/live?room=lasttest",
                    server.port
                ),
                Target::Tokio => format!("ws://127.0.0.1:{}/", server.port),
                Target::SocketIo => format!(
                    "ws://127.0.0.1:{}/socket.io/?EIO=4&transport=websocket",
                    server.port
                ),
            };
            let token = server.tokens.get(i).cloned();
            let target = server.target;
            pending.push(tokio::spawn(async move {
                let _permit = permit;
                let mut req = url.into_client_request()?;
                if let Some(token) = token {
                    req.headers_mut()
                        .insert("cookie", format!("konvent_session={token}").parse()?);
                }
                let config = WebSocketConfig::default()
                    .read_buffer_size(4096)
                    .write_buffer_size(0);
                let (mut ws, _) =
                    tokio_tungstenite::connect_async_with_config(req, Some(config), false).await?;
                if target == Target::SocketIo {
                    // Engine.IO open packet, then the socket.io connect.
                    let _open = ws.next().await.context("no open packet")??;
                    ws.send(Message::Text("40".into())).await?;
                    loop {
                        let m = ws.next().await.context("no connect ack")??;
                        if m.to_text().is_ok_and(|t| t.starts_with("40")) {
                            break;
                        }
                    }
                }
                anyhow::Ok(ws)
            }));
        }
        let mut clients = Vec::with_capacity(n);
        for (i, p) in pending.into_iter().enumerate() {
            let ws = p.await?.with_context(|| format!("client {i}"))?;
            let (out, mut out_rx) = mpsc::unbounded_channel::<String>();
            let stalled = Arc::new(AtomicBool::new(false));
            let resume = Arc::new(Notify::new());
            let closed = Arc::new(AtomicBool::new(false));
            let shared = shared.clone();
            let (st, rs, cl) = (stalled.clone(), resume.clone(), closed.clone());
            let target = server.target;
            let task = tokio::spawn(async move {
                let (mut tx, mut rx) = ws.split();
                loop {
                    if st.load(Ordering::Relaxed) {
                        rs.notified().await;
                    }
                    tokio::select! {
                        out = out_rx.recv() => match out {
                            Some(text) => {
                                if tx.send(Message::Text(text.into())).await.is_err() {
                                    break;
                                }
                            }
                            None => break,
                        },
                        msg = rx.next() => match msg {
                            Some(Ok(Message::Text(t))) => {
                                let bytes = t.as_bytes();
                                if target == Target::SocketIo && bytes == b"2" {
                                    let _ = tx.send(Message::Text("3".into())).await;
                                    continue;
                                }
                                if target == Target::Konvent
                                    && memchr::memmem::find(bytes, br#""t":"error""#).is_some()
                                {
                                    shared.errors.fetch_add(1, Ordering::Relaxed);
                                    continue;
                                }
                                // konvent's chat lines arrive as `ev` frames; `joined`
                                // frames repeat old lines as history and do not count.
                                if target != Target::Konvent
                                    || memchr::memmem::find(bytes, br#""t":"ev""#).is_some()
                                        && memchr::memmem::find(bytes, br#""t":"joined""#).is_none()
                                {
                                    if let Some(id) = message_id(bytes) {
                                        shared.arrived(id, i);
                                    }
                                }
                            }
                            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                            Some(Ok(_)) => {}
                        },
                    }
                }
                cl.store(true, Ordering::Relaxed);
            });
            clients.push(Client {
                out,
                stalled,
                resume,
                closed,
                task,
            });
        }
        Ok(Self {
            target: server.target,
            clients,
            shared,
            stalled: AtomicUsize::new(0),
        })
    }

    pub fn errors(&self) -> u64 {
        self.shared.errors.load(Ordering::Relaxed)
    }

    /// The last `k` clients stop reading; returns their indices.
    pub fn stall(&self, k: usize) -> Vec<usize> {
        let n = self.clients.len();
        let stalled: Vec<usize> = (n - k..n).collect();
        for &i in &stalled {
            self.clients[i].stalled.store(true, Ordering::Relaxed);
        }
        self.stalled.store(k, Ordering::Relaxed);
        stalled
    }

    /// Lets stalled clients read again and counts how many of them the server had
    /// closed (they read what was queued, then the close).
    pub async fn count_closed(&self, stalled: &[usize]) -> usize {
        for &i in stalled {
            self.clients[i].stalled.store(false, Ordering::Relaxed);
            self.clients[i].resume.notify_one();
        }
        tokio::time::sleep(Duration::from_secs(5)).await;
        stalled
            .iter()
            .filter(|&&i| self.clients[i].closed.load(Ordering::Relaxed))
            .count()
    }

    fn reading(&self) -> usize {
        self.clients.len() - self.stalled.load(Ordering::Relaxed)
    }

    pub async fn close(self) {
        for c in self.clients {
            c.task.abort();
        }
    }
}

/// One open-loop phase: `count` messages at `rate` per second.
pub struct Phase {
    shared: Arc<Shared>,
    first: usize,
    count: usize,
    latency: Histogram<u64>,
}

impl Phase {
    pub async fn run(crowd: &Crowd, count: usize, rate: f64) -> Self {
        Self::send(crowd, count, rate).await
    }

    /// Like `run`, while some clients are stalled: only the reading ones count.
    pub async fn run_healthy(crowd: &Crowd, count: usize, rate: f64) -> Self {
        Self::send(crowd, count, rate).await
    }

    async fn send(crowd: &Crowd, count: usize, rate: f64) -> Self {
        let shared = crowd.shared.clone();
        for h in &shared.hist {
            if let Ok(mut h) = h.lock() {
                h.reset();
            }
        }
        let first = shared.next_id.fetch_add(count, Ordering::Relaxed);
        let senders = crowd.reading();
        let start = tokio::time::Instant::now() + Duration::from_millis(50);
        for i in 0..count {
            let id = first + i;
            if id >= MAX_MESSAGES {
                break;
            }
            let due = start + Duration::from_secs_f64(i as f64 / rate);
            tokio::time::sleep_until(due).await;
            let intended = due.into_std().duration_since(shared.base).as_nanos() as u64;
            shared.intended[id].store(intended.max(1), Ordering::Relaxed);
            let sender = shared.next_sender.fetch_add(1, Ordering::Relaxed) % senders;
            let _ = crowd.clients[sender].out.send(frame_for(crowd.target, id));
        }
        // Wait until every reading client has every message, or the drain time is up.
        let expected = crowd.reading() as u32;
        let deadline = Instant::now() + DRAIN;
        while Instant::now() < deadline {
            let done = (first..first + count)
                .filter(|&id| id < MAX_MESSAGES)
                .all(|id| shared.arrivals[id].load(Ordering::Relaxed) >= expected);
            if done {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let mut latency = Histogram::new_with_bounds(1, 120_000_000, 3).expect("bounds");
        for h in &shared.hist {
            if let Ok(h) = h.lock() {
                let _ = latency.add(&*h);
            }
        }
        Self {
            shared,
            first,
            count,
            latency,
        }
    }

    fn ids(&self) -> impl Iterator<Item = usize> + '_ {
        (self.first..self.first + self.count).filter(|&id| id < MAX_MESSAGES)
    }

    pub fn deliveries(&self) -> u64 {
        self.ids()
            .map(|id| u64::from(self.shared.arrivals[id].load(Ordering::Relaxed)))
            .sum()
    }

    /// Deliveries missing for `expected` receivers per message.
    pub fn lost(&self, expected: usize) -> u64 {
        self.ids()
            .map(|id| {
                (expected as u64)
                    .saturating_sub(u64::from(self.shared.arrivals[id].load(Ordering::Relaxed)))
            })
            .sum()
    }

    pub fn duplicates(&self, expected: usize) -> u64 {
        self.ids()
            .map(|id| {
                u64::from(self.shared.arrivals[id].load(Ordering::Relaxed))
                    .saturating_sub(expected as u64)
            })
            .sum()
    }

    /// Latency percentile in ms.
    pub fn p(&self, q: f64) -> f64 {
        if self.latency.is_empty() {
            return f64::INFINITY;
        }
        self.latency.value_at_quantile(q / 100.0) as f64 / 1000.0
    }

    /// Per message that reached all `expected` receivers: ms from its intended send time
    /// until the last receiver had it.
    pub fn time_to_all(&self, expected: usize) -> Vec<f64> {
        self.ids()
            .filter(|&id| self.shared.arrivals[id].load(Ordering::Relaxed) as usize >= expected)
            .map(|id| {
                let last = self.shared.last[id].load(Ordering::Relaxed);
                let intended = self.shared.intended[id].load(Ordering::Relaxed);
                last.saturating_sub(intended) as f64 / 1e6
            })
            .collect()
    }
}

/// The q-th percentile of a list (nearest rank).
pub fn percentile(values: &[f64], q: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let rank = ((q / 100.0) * v.len() as f64).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}
