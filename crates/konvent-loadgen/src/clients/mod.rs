//! The clients: N WebSockets in one room, an open-loop sender, and what arrived when.
//!
//! Every message carries a number ("lg 123"). The sender stores the time each message was
//! *meant* to go out (the open-loop schedule), so a server that falls behind shows up as
//! latency, not as a slower schedule (no coordinated omission). Each delivery's latency,
//! from that intended time to the moment a client has read the frame, goes into HDR
//! histograms (µs); per message the loadgen counts deliveries and keeps the last arrival.
//!
//! This file holds the crowd's state; the frames are read and made in [`frames`], the
//! clients connect and read in [`connect`], and a measured phase with what the crowd
//! counted is in [`phase`].

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use hdrhistogram::Histogram;
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;

use crate::servers::Target;

mod connect;
mod frames;
mod phase;

pub use frames::KONVENT_FRAME_BYTES;
pub(crate) use frames::{Needle, contains, ev_head, needle, number_after};
pub use phase::{Phase, percentile, time_to_all};

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
