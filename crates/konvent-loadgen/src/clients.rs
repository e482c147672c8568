//! The clients: N WebSockets in one room, an open-loop sender, and what arrived when.
//!
//! Every message carries a number ("lg 123"). The sender stores the time each message was
//! *meant* to go out (the open-loop schedule), so a server that falls behind shows up as
//! latency, not as a slower schedule (no coordinated omission). Each delivery's latency,
//! from that intended time to the moment a client has read the frame, goes into HDR
//! histograms (µs); per message the loadgen counts deliveries and keeps the last arrival.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use tokio::net::TcpSocket;
use tokio::sync::{Notify, Semaphore, mpsc};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::servers::{Running, SelfCpu, Target};

/// Message numbers over the whole run.
const MAX_MESSAGES: usize = 1 << 21;
const SHARDS: usize = 16;
/// Connections opened at the same time.
const CONNECTING: usize = 64;

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds")
}

struct Shared {
    base: Instant,
    /// Per message: intended send time, ns since `base` (0: not sent).
    intended: Vec<AtomicU64>,
    /// Per message: deliveries to clients outside the stall group.
    arrivals: Vec<AtomicU32>,
    /// Per message: the last of those deliveries, ns since `base`.
    last: Vec<AtomicU64>,
    hist: Vec<Mutex<Histogram<u64>>>,
    /// konvent: per `ack`, µs from the message's intended send time (the commit path).
    ack_hist: Mutex<Histogram<u64>>,
    /// Messages before this one are no longer recorded in the histograms.
    phase_first: AtomicUsize,
    /// konvent `error` frames.
    errors: AtomicU64,
    /// konvent `ack` frames.
    acks: AtomicU64,
    /// konvent: an `ev` whose seq was not above the previous one on the same socket.
    out_of_order: AtomicU64,
    /// Connections that ended while their client was not stalled.
    dropped: AtomicU64,
    next_id: AtomicUsize,
    next_sender: AtomicUsize,
    /// Size of a received message frame (the last one seen).
    frame_bytes: AtomicUsize,
}

impl Shared {
    fn now_ns(&self) -> u64 {
        self.base.elapsed().as_nanos() as u64
    }

    /// Message `id` arrived at a client (`shard`) at `now` (ns since `base`).
    fn arrived(&self, id: usize, shard: usize, now: u64) {
        let Some(intended) = self.intended.get(id) else {
            return;
        };
        let intended = intended.load(Ordering::Relaxed);
        if intended == 0 {
            return;
        }
        if id >= self.phase_first.load(Ordering::Relaxed) {
            let micros = now.saturating_sub(intended) / 1000;
            if let Ok(mut h) = self.hist[shard % SHARDS].lock() {
                h.saturating_record(micros.max(1));
            }
        }
        self.arrivals[id].fetch_add(1, Ordering::Relaxed);
        self.last[id].fetch_max(now, Ordering::Relaxed);
    }

    fn acked(&self, id: usize) {
        let intended = self
            .intended
            .get(id)
            .map_or(0, |t| t.load(Ordering::Relaxed));
        if intended == 0 || id < self.phase_first.load(Ordering::Relaxed) {
            return;
        }
        let micros = self.now_ns().saturating_sub(intended) / 1000;
        if let Ok(mut h) = self.ack_hist.lock() {
            h.saturating_record(micros.max(1));
        }
    }
}

/// What a client's task and the crowd share about one connection.
#[derive(Default)]
struct ClientState {
    /// Not reading its socket now.
    stalled: AtomicBool,
    /// Its deliveries do not count (it is, or was, one of the stalled clients).
    stall_group: AtomicBool,
    resume: Notify,
    closed: AtomicBool,
    /// The code of the close frame it got (0: none).
    close_code: AtomicU32,
    /// Message frames it read while in the stall group.
    stall_frames: AtomicU64,
}

struct Client {
    out: mpsc::UnboundedSender<String>,
    state: Arc<ClientState>,
    task: JoinHandle<()>,
}

/// How to (re)connect client `i`.
struct Dial {
    target: Target,
    /// Client `i` dials `urls[i % urls.len()]` (several nodes: round-robin).
    urls: Vec<String>,
    tokens: Vec<String>,
    /// The last `stall_count` clients connect with this receive buffer (bytes).
    stall_count: usize,
    stall_rcvbuf: Option<u32>,
    n: usize,
    /// Bytes a baseline's frame is padded to (konvent's chat frame), see [`ev_like`].
    frame_bytes: usize,
}

/// N connected clients.
pub struct Crowd {
    dial: Dial,
    clients: Vec<Client>,
    shared: Arc<Shared>,
    /// Whether the stall group is in force (its deliveries do not count).
    stalling: AtomicBool,
}

/// The load-test room's live socket on a konvent server.
pub fn live_url(port: u16) -> String {
    format!("ws://127.0.0.1:{port}/konvent/strategiekonvent-2025/live?room=lasttest")
}

/// The number in "lg 123" (after a quote: the text, not the rendered HTML).
fn message_id(frame: &[u8]) -> Option<usize> {
    let at = LG.0.find(frame)? + 4;
    let mut id = 0usize;
    let mut digits = 0;
    for &b in &frame[at..] {
        if !b.is_ascii_digit() || digits > 18 {
            break;
        }
        id = id * 10 + usize::from(b - b'0');
        digits += 1;
    }
    (digits > 0).then_some(id)
}

/// The `seq` of a konvent `ev` frame, and whether it is a chat line: the frame starts
/// `{"t":"ev","seq":N,"kind":"…"` (docs/live-protocol.md), so its first bytes tell.
pub(crate) fn ev_head(frame: &[u8]) -> Option<(u64, bool)> {
    const HEAD: &[u8] = br#"{"t":"ev","seq":"#;
    const CHAT: &[u8] = br#","kind":"chat""#;
    let rest = frame.strip_prefix(HEAD)?;
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || digits > 18 {
        return None;
    }
    let seq = rest[..digits]
        .iter()
        .fold(0u64, |n, b| n * 10 + u64::from(b - b'0'));
    Some((seq, rest[digits..].starts_with(CHAT)))
}

/// The message number in the id of a konvent `ack` (`"id":"m123"`).
fn ack_id(frame: &[u8]) -> Option<usize> {
    number_after(frame, &ACK_ID).map(|id| id as usize)
}

/// The decimal number right after `key` (e.g. `"x":`).
pub(crate) fn number_after(frame: &[u8], key: &Needle) -> Option<u64> {
    let at = key.0.find(frame)? + key.0.needle().len();
    let mut value = 0u64;
    let mut digits = 0;
    for &b in frame.get(at..)? {
        if !b.is_ascii_digit() || digits > 18 {
            break;
        }
        value = value * 10 + u64::from(b - b'0');
        digits += 1;
    }
    (digits > 0).then_some(value)
}

/// A substring search built once.
pub(crate) struct Needle(pub(crate) std::sync::LazyLock<memchr::memmem::Finder<'static>>);

macro_rules! needle {
    ($name:ident, $bytes:expr) => {
        static $name: $crate::clients::Needle =
            $crate::clients::Needle(std::sync::LazyLock::new(|| {
                memchr::memmem::Finder::new($bytes)
            }));
    };
}
pub(crate) use needle;

needle!(LG, b"\"lg ");
needle!(ACK_ID, b"\"id\":\"m");
needle!(T_JOINED, br#""t":"joined""#);
needle!(T_ACK, br#""t":"ack""#);
needle!(T_ERROR, br#""t":"error""#);

pub(crate) fn contains(frame: &[u8], needle: &Needle) -> bool {
    needle.0.find(frame).is_some()
}

/// Reads one konvent message (a line of a frame): counts acks, errors and sequence
/// numbers out of order; true for a chat line's `ev`.
fn konvent_message(line: &[u8], shared: &Shared, last_seq: &mut u64) -> bool {
    if let Some((seq, chat)) = ev_head(line) {
        if seq <= *last_seq {
            shared.out_of_order.fetch_add(1, Ordering::Relaxed);
        }
        *last_seq = seq;
        chat
    } else if contains(line, &T_JOINED) {
        // `joined` carries old `ev` frames as history.
        false
    } else if contains(line, &T_ACK) {
        shared.acks.fetch_add(1, Ordering::Relaxed);
        if let Some(id) = ack_id(line) {
            shared.acked(id);
        }
        false
    } else {
        if contains(line, &T_ERROR) && shared.errors.fetch_add(1, Ordering::Relaxed) < 5 {
            eprintln!("error frame: {}", String::from_utf8_lossy(line));
        }
        false
    }
}

/// The size of konvent's `ev` frame for a chat line of a load-test account, fragments
/// included (measured at 6104d3f: 1831–1842 bytes by the digits of the numbers). The
/// baselines' frames are padded to what konvent sent earlier in the same `compare`
/// run, or to this (`--frame-bytes`).
pub const KONVENT_FRAME_BYTES: usize = 1840;

/// For the tokio baseline, which broadcasts what it receives: a frame shaped like the
/// `ev` frame konvent sends for a chat line from a load-test account (same keys, same
/// order, same kind of values), its fragment padded so that the frame has `bytes`
/// bytes (or as many as the rest takes, if that is more).
pub fn ev_like(id: usize, bytes: usize) -> String {
    let head = format!(
        r#"{{"t":"ev","seq":{id},"kind":"chat","room":"lasttest","at":"2026-11-23T02:45:52.259363Z","data":{{"from":{{"id":{uid},"name":"Lasttest {uid}"}},"html":"<p>lg {id}</p>\n","id":{id},"text":"lg {id}"}},"dom":[{{"op":"append","target":"chat-list","html":""#,
        uid = 1000 + id % 9000,
    );
    let tail = r#""}]}"#;
    let pad = bytes.saturating_sub(head.len() + tail.len());
    format!("{head}{}{tail}", "x".repeat(pad))
}

/// What a client sends for message `id`; a baseline's frame has `bytes` bytes.
fn frame_for(target: Target, id: usize, bytes: usize) -> String {
    match target {
        Target::Konvent => format!(r#"{{"t":"chat","id":"m{id}","text":"lg {id}"}}"#),
        Target::Tokio => ev_like(id, bytes),
        // A socket.io event whose text pads the packet to the same size.
        Target::SocketIo => {
            let head = format!("42[\"chat\",\"lg {id} ");
            let pad = bytes.saturating_sub(head.len() + 2);
            format!("{head}{}\"]", "x".repeat(pad))
        }
    }
}

impl Dial {
    async fn connect(
        &self,
        i: usize,
    ) -> Result<tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>> {
        let url = &self.urls[i % self.urls.len()];
        let mut req = url.as_str().into_client_request()?;
        if let Some(token) = self.tokens.get(i) {
            req.headers_mut()
                .insert("cookie", format!("konvent_session={token}").parse()?);
        }
        let socket = TcpSocket::new_v4()?;
        if i >= self.n - self.stall_count
            && let Some(size) = self.stall_rcvbuf
        {
            socket.set_recv_buffer_size(size)?;
        }
        let addr = req
            .uri()
            .authority()
            .context("no host in the URL")?
            .as_str()
            .parse()?;
        let stream = socket.connect(addr).await?;
        stream.set_nodelay(true)?;
        let config = WebSocketConfig::default()
            .read_buffer_size(2048)
            .write_buffer_size(0);
        let (mut ws, _) = tokio_tungstenite::client_async_with_config(req, stream, Some(config))
            .await
            .context("WebSocket handshake")?;
        if self.target == Target::SocketIo {
            // Engine.IO's open packet, then socket.io's connect and its answer.
            let open = ws.next().await.context("no open packet")??;
            if !open.to_text().is_ok_and(|t| t.starts_with('0')) {
                bail!("expected an Engine.IO open packet, got {open:?}");
            }
            ws.send(Message::Text("40".into())).await?;
            loop {
                let m = ws.next().await.context("no socket.io connect answer")??;
                if m.to_text().is_ok_and(|t| t.starts_with("40")) {
                    break;
                }
            }
        }
        Ok(ws)
    }
}

impl Crowd {
    /// Connects `n` clients; the last `stall_count` of them with a receive buffer of
    /// `stall_rcvbuf` bytes (they are the ones that stall later).
    pub async fn connect(
        server: &Running,
        n: usize,
        stall_count: usize,
        stall_rcvbuf: Option<u32>,
        frame_bytes: usize,
    ) -> Result<Self> {
        Self::connect_first(server, n, n, stall_count, stall_rcvbuf, frame_bytes).await
    }

    /// A crowd of `n` clients of which only the first `first` connect now; the rest with
    /// [`Crowd::dial_more`].
    pub async fn connect_first(
        server: &Running,
        n: usize,
        first: usize,
        stall_count: usize,
        stall_rcvbuf: Option<u32>,
        frame_bytes: usize,
    ) -> Result<Self> {
        let url = match server.target {
            Target::Konvent => live_url(server.port),
            Target::Tokio => format!("ws://127.0.0.1:{}/", server.port),
            Target::SocketIo => format!(
                "ws://127.0.0.1:{}/socket.io/?EIO=4&transport=websocket",
                server.port
            ),
        };
        let dial = Dial {
            target: server.target,
            urls: vec![url],
            tokens: server.tokens.clone(),
            stall_count: stall_count.min(n.saturating_sub(1)),
            stall_rcvbuf,
            n,
            frame_bytes,
        };
        Self::connect_with(dial, first).await
    }

    /// Connects `n` clients to several konvent nodes on one database, client `i` to
    /// `ports[i % ports.len()]`, all in the load-test room.
    pub async fn connect_spread(ports: &[u16], tokens: &[String], n: usize) -> Result<Self> {
        if ports.is_empty() {
            bail!("no nodes to connect to");
        }
        let dial = Dial {
            target: Target::Konvent,
            urls: ports.iter().map(|&p| live_url(p)).collect(),
            tokens: tokens.to_vec(),
            stall_count: 0,
            stall_rcvbuf: None,
            n,
            frame_bytes: KONVENT_FRAME_BYTES,
        };
        Self::connect_with(dial, n).await
    }

    async fn connect_with(dial: Dial, first: usize) -> Result<Self> {
        let n = dial.n;
        let shared = Arc::new(Shared {
            base: Instant::now(),
            intended: (0..MAX_MESSAGES).map(|_| AtomicU64::new(0)).collect(),
            arrivals: (0..MAX_MESSAGES).map(|_| AtomicU32::new(0)).collect(),
            last: (0..MAX_MESSAGES).map(|_| AtomicU64::new(0)).collect(),
            hist: (0..SHARDS).map(|_| Mutex::new(histogram())).collect(),
            ack_hist: Mutex::new(histogram()),
            phase_first: AtomicUsize::new(0),
            errors: AtomicU64::new(0),
            acks: AtomicU64::new(0),
            out_of_order: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            next_id: AtomicUsize::new(1),
            next_sender: AtomicUsize::new(0),
            frame_bytes: AtomicUsize::new(0),
        });
        let mut crowd = Self {
            dial,
            clients: Vec::with_capacity(n),
            shared,
            stalling: AtomicBool::new(false),
        };
        crowd.dial_more(first).await?;
        Ok(crowd)
    }

    /// Connects clients until `upto` are connected (at most the crowd's size): a crowd
    /// connected in steps shows what each further connection costs the server.
    pub async fn dial_more(&mut self, upto: usize) -> Result<()> {
        let from = self.clients.len();
        let upto = upto.min(self.dial.n);
        let wss = self.dial_many((from..upto).collect()).await?;
        for (i, ws) in wss {
            let client = self.spawn(i, ws);
            self.clients.push(client);
        }
        Ok(())
    }

    async fn dial_many(
        &self,
        which: Vec<usize>,
    ) -> Result<
        Vec<(
            usize,
            tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>,
        )>,
    > {
        let limit = Arc::new(Semaphore::new(CONNECTING));
        let dial = Arc::new(Dial {
            target: self.dial.target,
            urls: self.dial.urls.clone(),
            tokens: self.dial.tokens.clone(),
            stall_count: self.dial.stall_count,
            stall_rcvbuf: self.dial.stall_rcvbuf,
            n: self.dial.n,
            frame_bytes: self.dial.frame_bytes,
        });
        let mut pending = Vec::with_capacity(which.len());
        for i in which {
            let permit = limit.clone().acquire_owned().await?;
            let dial = dial.clone();
            pending.push((
                i,
                tokio::spawn(async move {
                    let _permit = permit;
                    dial.connect(i).await
                }),
            ));
        }
        let mut out = Vec::with_capacity(pending.len());
        for (i, p) in pending {
            out.push((i, p.await?.with_context(|| format!("client {i}"))?));
        }
        Ok(out)
    }

    fn spawn(
        &self,
        i: usize,
        ws: tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>,
    ) -> Client {
        let (out, mut out_rx) = mpsc::unbounded_channel::<String>();
        let state = Arc::new(ClientState::default());
        let shared = self.shared.clone();
        let st = state.clone();
        let target = self.dial.target;
        let task = tokio::spawn(async move {
            let mut ws = ws;
            let mut last_seq = 0u64;
            loop {
                if st.stalled.load(Ordering::Relaxed) {
                    st.resume.notified().await;
                    continue;
                }
                tokio::select! {
                    out = out_rx.recv() => match out {
                        Some(text) => {
                            if ws.send(Message::Text(text.into())).await.is_err() {
                                break;
                            }
                        }
                        None => break,
                    },
                    msg = ws.next() => match msg {
                        Some(Ok(Message::Text(t))) => {
                            if target == Target::SocketIo && t.as_str() == "2" {
                                // Engine.IO ping.
                                let _ = ws.send(Message::Text("3".into())).await;
                                continue;
                            }
                            // konvent sends several messages in one frame, one per line;
                            // they all arrived when the frame did.
                            let now = shared.now_ns();
                            for bytes in t.as_bytes().split(|b| *b == b'\n') {
                                let is_message = match target {
                                    Target::Tokio => true,
                                    Target::SocketIo => bytes.starts_with(b"42"),
                                    Target::Konvent => konvent_message(bytes, &shared, &mut last_seq),
                                };
                                if is_message && let Some(id) = message_id(bytes) {
                                    shared.frame_bytes.store(bytes.len(), Ordering::Relaxed);
                                    if st.stall_group.load(Ordering::Relaxed) {
                                        st.stall_frames.fetch_add(1, Ordering::Relaxed);
                                    } else {
                                        shared.arrived(id, i, now);
                                    }
                                }
                            }
                        }
                        Some(Ok(Message::Close(frame))) => {
                            let code = frame.map_or(0, |f| u32::from(u16::from(f.code)));
                            st.close_code.store(code, Ordering::Relaxed);
                            break;
                        }
                        None | Some(Err(_)) => break,
                        Some(Ok(_)) => {}
                    },
                }
            }
            st.closed.store(true, Ordering::Relaxed);
            if !st.stall_group.load(Ordering::Relaxed) {
                shared.dropped.fetch_add(1, Ordering::Relaxed);
            }
        });
        Client { out, state, task }
    }

    /// Opens again the connections that the server closed (slow consumers, after an
    /// overload); returns how many.
    pub async fn reconnect_closed(&mut self) -> Result<usize> {
        let closed: Vec<usize> = (0..self.clients.len())
            .filter(|&i| self.clients[i].state.closed.load(Ordering::Relaxed))
            .collect();
        if closed.is_empty() {
            return Ok(0);
        }
        let wss = self.dial_many(closed.clone()).await?;
        for (i, ws) in wss {
            let client = self.spawn(i, ws);
            let old = std::mem::replace(&mut self.clients[i], client);
            old.task.abort();
        }
        // Let the new ones take their place (konvent: hello, joined, presence).
        tokio::time::sleep(Duration::from_millis(500)).await;
        Ok(closed.len())
    }

    pub fn errors(&self) -> u64 {
        self.shared.errors.load(Ordering::Relaxed)
    }

    pub fn acks(&self) -> u64 {
        self.shared.acks.load(Ordering::Relaxed)
    }

    pub fn out_of_order(&self) -> u64 {
        self.shared.out_of_order.load(Ordering::Relaxed)
    }

    /// Connections that ended while their client was reading.
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }

    /// Size in bytes of a message frame as received.
    pub fn frame_bytes(&self) -> usize {
        self.shared.frame_bytes.load(Ordering::Relaxed)
    }

    pub fn stall_count(&self) -> usize {
        self.dial.stall_count
    }

    /// The clients that send: never those of the stall group.
    fn senders(&self) -> usize {
        self.clients.len() - self.dial.stall_count
    }

    /// Deliveries expected per message: every client, less the stall group while it is
    /// in force.
    fn expected(&self) -> usize {
        if self.stalling.load(Ordering::Relaxed) {
            self.clients.len() - self.dial.stall_count
        } else {
            self.clients.len()
        }
    }

    /// The stall group (the last clients) stops reading its sockets.
    pub fn stall(&self) {
        self.stalling.store(true, Ordering::Relaxed);
        for c in &self.clients[self.clients.len() - self.dial.stall_count..] {
            c.state.stall_frames.store(0, Ordering::Relaxed);
            c.state.stall_group.store(true, Ordering::Relaxed);
            c.state.stalled.store(true, Ordering::Relaxed);
        }
    }

    /// Lets the stall group read again, waits `wait`, and tells what it found: how many
    /// the server had closed (and with which code), and how many message frames each had
    /// waiting for it (in the kernels' buffers and the server's queue).
    pub async fn resume_stalled(&self, wait: Duration) -> StallOutcome {
        let group = &self.clients[self.clients.len() - self.dial.stall_count..];
        for c in group {
            c.state.stalled.store(false, Ordering::Relaxed);
            c.state.resume.notify_one();
        }
        tokio::time::sleep(wait).await;
        let mut frames: Vec<u64> = group
            .iter()
            .map(|c| c.state.stall_frames.load(Ordering::Relaxed))
            .collect();
        frames.sort_unstable();
        let closed = group
            .iter()
            .filter(|c| c.state.closed.load(Ordering::Relaxed))
            .count();
        let mut codes: Vec<u32> = group
            .iter()
            .filter(|c| c.state.closed.load(Ordering::Relaxed))
            .map(|c| c.state.close_code.load(Ordering::Relaxed))
            .collect();
        codes.sort_unstable();
        codes.dedup();
        StallOutcome {
            closed,
            codes,
            frames_median: frames.get(frames.len() / 2).copied().unwrap_or(0),
            frames_max: frames.last().copied().unwrap_or(0),
        }
    }

    pub async fn close(self) {
        for c in self.clients {
            c.task.abort();
        }
    }
}

pub struct StallOutcome {
    pub closed: usize,
    pub codes: Vec<u32>,
    pub frames_median: u64,
    pub frames_max: u64,
}

/// One open-loop phase: `count` messages at `rate` per second, each from the next client
/// in turn.
pub struct Phase {
    shared: Arc<Shared>,
    first: usize,
    count: usize,
    expected: usize,
    latency: Histogram<u64>,
    /// konvent: from the intended send time to the sender's `ack` (µs).
    ack_latency: Histogram<u64>,
    /// From the first intended send time to the last delivery, seconds.
    pub wall: f64,
    /// Share of a core the load generator used during the phase.
    pub loadgen_cpu: f64,
    /// Connections that ended during the phase while reading.
    pub dropped: u64,
}

impl Phase {
    pub async fn run(crowd: &Crowd, count: usize, rate: f64, drain: Duration) -> Self {
        let shared = crowd.shared.clone();
        for h in shared.hist.iter().chain([&shared.ack_hist]) {
            if let Ok(mut h) = h.lock() {
                h.reset();
            }
        }
        let count = count.max(1);
        let first = shared.next_id.fetch_add(count, Ordering::Relaxed);
        let count = count.min(MAX_MESSAGES.saturating_sub(first));
        shared.phase_first.store(first, Ordering::Relaxed);
        let dropped_before = crowd.dropped();
        let me = SelfCpu::default();
        let cpu_before = me.seconds();
        let expected = crowd.expected();
        let senders = crowd.senders().max(1);
        let start = tokio::time::Instant::now() + Duration::from_millis(20);
        let start_ns = start.into_std().duration_since(shared.base).as_nanos() as u64;
        for i in 0..count {
            let id = first + i;
            let due = start + Duration::from_secs_f64(i as f64 / rate);
            tokio::time::sleep_until(due).await;
            let intended = due.into_std().duration_since(shared.base).as_nanos() as u64;
            shared.intended[id].store(intended.max(1), Ordering::Relaxed);
            let sender = shared.next_sender.fetch_add(1, Ordering::Relaxed) % senders;
            let _ = crowd.clients[sender].out.send(frame_for(
                crowd.dial.target,
                id,
                crowd.dial.frame_bytes,
            ));
        }
        // Wait until every counted client has every message, or the drain time is up.
        let deadline = Instant::now() + drain;
        let mut done = first;
        while Instant::now() < deadline {
            while done < first + count
                && shared.arrivals[done].load(Ordering::Relaxed) as usize >= expected
            {
                done += 1;
            }
            if done == first + count {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let mut latency = histogram();
        for h in &shared.hist {
            if let Ok(h) = h.lock() {
                let _ = latency.add(&*h);
            }
        }
        let ack_latency = shared
            .ack_hist
            .lock()
            .map(|h| h.clone())
            .unwrap_or_else(|_| histogram());
        let last = (first..first + count)
            .map(|id| shared.last[id].load(Ordering::Relaxed))
            .max()
            .unwrap_or(start_ns);
        let wall = (last.saturating_sub(start_ns) as f64 / 1e9).max(1e-3);
        let loadgen_cpu = (me.seconds() - cpu_before) / start.elapsed().as_secs_f64().max(1e-3);
        Self {
            shared,
            first,
            count,
            expected,
            latency,
            ack_latency,
            wall,
            loadgen_cpu,
            dropped: crowd.dropped() - dropped_before,
        }
    }

    fn ids(&self) -> std::ops::Range<usize> {
        self.first..self.first + self.count
    }

    fn arrivals(&self, id: usize) -> u64 {
        u64::from(self.shared.arrivals[id].load(Ordering::Relaxed))
    }

    pub fn messages(&self) -> usize {
        self.count
    }

    pub fn deliveries(&self) -> u64 {
        self.ids().map(|id| self.arrivals(id)).sum()
    }

    /// Deliveries per second over the phase.
    pub fn achieved(&self) -> f64 {
        self.deliveries() as f64 / self.wall
    }

    /// Deliveries that had not arrived when the phase ended.
    pub fn lost(&self) -> u64 {
        self.ids()
            .map(|id| (self.expected as u64).saturating_sub(self.arrivals(id)))
            .sum()
    }

    /// Deliveries beyond one per client and message.
    pub fn duplicates(&self) -> u64 {
        self.ids()
            .map(|id| self.arrivals(id).saturating_sub(self.expected as u64))
            .sum()
    }

    /// Latency percentile in ms (infinite when nothing arrived).
    pub fn p(&self, q: f64) -> f64 {
        quantile_ms(&self.latency, q)
    }

    /// konvent: percentile of the time until the sender's `ack`, in ms (NaN for the
    /// baselines, which send none).
    pub fn ack_p(&self, q: f64) -> f64 {
        if self.ack_latency.is_empty() {
            return f64::NAN;
        }
        quantile_ms(&self.ack_latency, q)
    }
}

fn quantile_ms(h: &Histogram<u64>, q: f64) -> f64 {
    if h.is_empty() {
        return f64::INFINITY;
    }
    h.value_at_quantile(q / 100.0) as f64 / 1000.0
}

/// Time until all: `reps` single messages, each sent when the one before has reached
/// everybody (or `timeout` passed) plus `pause`. Per message that reached every client:
/// ms from its send time until the last client had it; and how many never did.
pub async fn time_to_all(
    crowd: &Crowd,
    reps: usize,
    pause: Duration,
    timeout: Duration,
) -> (Vec<f64>, usize) {
    let shared = &crowd.shared;
    let expected = crowd.expected();
    let mut times = Vec::with_capacity(reps);
    let mut incomplete = 0;
    for _ in 0..reps {
        let id = shared.next_id.fetch_add(1, Ordering::Relaxed);
        if id >= MAX_MESSAGES {
            break;
        }
        shared.phase_first.store(id, Ordering::Relaxed);
        let intended = shared.now_ns().max(1);
        shared.intended[id].store(intended, Ordering::Relaxed);
        let sender = shared.next_sender.fetch_add(1, Ordering::Relaxed) % crowd.senders().max(1);
        let _ = crowd.clients[sender].out.send(frame_for(
            crowd.dial.target,
            id,
            crowd.dial.frame_bytes,
        ));
        let deadline = Instant::now() + timeout;
        loop {
            if shared.arrivals[id].load(Ordering::Relaxed) as usize >= expected {
                let last = shared.last[id].load(Ordering::Relaxed);
                times.push(last.saturating_sub(intended) as f64 / 1e6);
                break;
            }
            if Instant::now() > deadline {
                incomplete += 1;
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        tokio::time::sleep(pause).await;
    }
    (times, incomplete)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_message_number_in_every_target_frame() {
        let konvent = r#"{"t":"ev","seq":77,"kind":"chat","room":"lasttest","at":"2026-11-23T02:45:52.259363Z","data":{"from":{"id":5,"name":"Lasttest 5"},"html":"<p>lg 123</p>\n","id":1,"text":"lg 123"}}"#;
        assert_eq!(message_id(konvent.as_bytes()), Some(123));
        assert_eq!(ev_head(konvent.as_bytes()), Some((77, true)));
        assert_eq!(
            ev_head(br#"{"t":"ev","seq":78,"kind":"hand","room":"lasttest"}"#),
            Some((78, false))
        );
        assert_eq!(ev_head(br#"{"t":"joined","seq":1}"#), None);
        assert_eq!(ack_id(br#"{"t":"ack","id":"m42","seq":9}"#), Some(42));
        assert_eq!(message_id(ev_like(42, 1840).as_bytes()), Some(42));
        assert_eq!(
            message_id(frame_for(Target::SocketIo, 9, 1840).as_bytes()),
            Some(9)
        );
        assert_eq!(message_id(b"{\"t\":\"presence\"}"), None);
    }

    #[test]
    fn baseline_frames_are_as_large_as_konvents() {
        for bytes in [400, KONVENT_FRAME_BYTES, 5000] {
            assert_eq!(ev_like(123, bytes).len(), bytes);
            assert_eq!(frame_for(Target::SocketIo, 123, bytes).len(), bytes);
            let frame: serde_json::Value =
                serde_json::from_str(&ev_like(123, bytes)).expect("JSON");
            assert_eq!(frame["seq"], 123);
        }
        // Never shorter than its own keys.
        assert!(ev_like(123, 10).len() > 10);
    }
}
