//! A measured phase: messages sent on an open-loop schedule, their deliveries and
//! latencies; what the crowd counted; the stall group; and the time until every client
//! has a message.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use super::frames::frame_for;
use super::{Crowd, MAX_MESSAGES, Shared, histogram};
use crate::servers::SelfCpu;

impl Crowd {
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
