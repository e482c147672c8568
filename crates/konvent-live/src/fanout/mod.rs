//! The live hub (DESIGN.md "Live hub", "Bus"): which connection is in which event and
//! room, and the fan-out of committed live-log entries to them.
//!
//! A committed entry is serialised once into an `ev` frame; the same bytes are queued on
//! every connection that may see it. Each connection's queue is bounded: when it is full
//! the connection is told to close (it resumes from its last sequence), so a client that
//! stops reading costs at most one full queue. Entries reach the fan-out through a
//! [`Bus`] (in-process, or NATS when several nodes share events), and a sequencer per
//! event hands them to connections strictly in sequence order even when the writers that
//! committed them publish out of order, or the bus loses, repeats or delays them: what
//! is missing is read from the log ([`Backfill`]).
//!
//! A node serves an event while it has connections for it: the first one starts the
//! sequencer after the log's end, the last one leaving forgets it. Headcounts are summed
//! over the nodes from the snapshots each node sends (who is in which room), so the
//! microphone rule and room capacities hold for the event as a whole.
//!
//! This file holds the hub's state and its life cycle (the bus, the presence tick, the
//! budgets' spending); `impl Fanout` goes on by concern: connections, events and rooms
//! ([`registry`]), headcounts and the microphone rule ([`presence`]), the sequencer
//! ([`sequencer`]), and each connection's bounded queue with the hub's word to go
//! ([`queue`]).

use konvent_core::ids::{AccountId, EventId};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use futures_util::task::AtomicWaker;

use crate::budget::Budgets;
use crate::bus::{Backfill, Bus, Changed};
use crate::entry::Entry;
use crate::metrics::LiveMetrics;

mod presence;
mod queue;
mod registry;
mod sequencer;

pub use presence::{HEARTBEAT, PEER_TIMEOUT, PRESENCE_TICK, Presence, presence_frame};
pub use queue::{Goodbye, Inbox, Kick, Out, QUEUE_BYTES, QUEUE_FRAMES};
pub use registry::{EventStart, JoinRefusal, Joined, Registration};

/// How many changes from other nodes wait for this node's pages ([`Fanout::changes`]).
pub const CHANGES_QUEUE: usize = 256;

/// Every this many presence ticks (a second) each event's sequence is compared with the
/// log's end (`Fanout::check_log_end`).
const CATCH_UP_EVERY: u32 = 2;

/// The fan-out of one node.
pub struct Fanout {
    backfill: Arc<dyn Backfill>,
    /// The bus to the other nodes (set once, right after the fan-out is made).
    bus: OnceLock<Arc<dyn Bus>>,
    events: Mutex<HashMap<EventId, EventHub>>,
    /// This node's number among the nodes (random): the high bits of its connection ids,
    /// which therefore name one connection across all nodes (the map's avatars).
    node: u32,
    next_conn: AtomicU64,
    metrics: LiveMetrics,
    ticking: AtomicBool,
    /// Every person's command budget, over all nodes.
    pub budgets: Budgets,
    /// Changes outside the log that other nodes committed ([`Fanout::changes`]).
    changes: tokio::sync::broadcast::Sender<Changed>,
}

/// What a connection and the fan-out share, in one allocation: the frames waiting for
/// it, their bytes, and the signals that frames came or that it must go. A channel
/// would allocate a block for 32 frames and three more shared cells for every
/// connection up front; here the queue's buffer exists only while frames wait (an idle
/// connection holds a few hundred bytes, not two kilobytes).
struct Mailbox {
    frames: Mutex<VecDeque<Out>>,
    /// Bytes of the frames waiting.
    bytes: AtomicUsize,
    /// Wakes the connection's task: frames came, the fan-out let go, or the hub told it
    /// to go. One task waits on the [`Inbox`] and the [`Kick`] both, so one waker serves
    /// them; each registers it and then looks again, so no wake-up is lost.
    waker: AtomicWaker,
    /// Why the hub told the connection to go (a [`Goodbye`]; 0 while it was not told),
    /// set before the waker is woken.
    goodbye: AtomicU8,
    /// The fan-out let go of the connection: no frame comes any more.
    closed: AtomicBool,
}

/// One connection as the fan-out sees it.
struct Conn {
    /// Its queue, and the signal that it must go.
    mailbox: Arc<Mailbox>,
    /// Set once the connection was told to close for being slow.
    kicked: AtomicBool,
    account: AccountId,
    staff: bool,
    /// The language its page is in (which of an entry's frames it gets).
    lang: usize,
    room: Option<Arc<str>>,
}

#[derive(Default)]
struct RoomPresence {
    conns: HashSet<u64>,
    /// Connections per person: people count once however many tabs they have open.
    people: HashMap<AccountId, u32>,
}

struct EventHub {
    /// The event's slug (its fragments' links and forms name it).
    slug: Arc<str>,
    /// The next sequence number to hand out to connections.
    next: i64,
    /// Entries that arrived ahead of a missing one.
    pending: BTreeMap<i64, Entry>,
    gap_check_armed: bool,
    /// The log's end at the last periodic check that found this node behind it.
    behind: Option<i64>,
    conns: HashMap<u64, Conn>,
    rooms: HashMap<Arc<str>, RoomPresence>,
    mute_threshold: i64,
    /// Rooms whose headcount changed since the last presence tick.
    presence_dirty: HashSet<Arc<str>>,
    /// Entries in order, waiting for the next flush to connections.
    outbox: Vec<Entry>,
    flush_armed: bool,
    /// The headcounts other nodes serving this event last told.
    remote: HashMap<u32, RemoteNode>,
    /// Whether this node's own headcounts changed since it last told the others …
    told_dirty: bool,
    /// … and when it last told them (a heartbeat goes out at least every [`HEARTBEAT`]).
    told_at: Instant,
}

/// Another node's headcounts of one event, as it last told them.
struct RemoteNode {
    /// Who is in each room there.
    rooms: HashMap<Arc<str>, HashSet<AccountId>>,
    heard: Instant,
}

/// The fan-out lets go of a connection by dropping it: what is queued is still written,
/// then the connection's `recv` ends.
impl Drop for Conn {
    fn drop(&mut self) {
        self.mailbox.close();
    }
}

impl EventHub {
    fn new(event: EventStart<'_>) -> Self {
        let now = Instant::now();
        Self {
            slug: Arc::from(event.slug),
            next: event.last_seq + 1,
            pending: BTreeMap::new(),
            gap_check_armed: false,
            behind: None,
            conns: HashMap::new(),
            rooms: HashMap::new(),
            mute_threshold: event.mute_threshold,
            presence_dirty: HashSet::new(),
            outbox: Vec::new(),
            flush_armed: false,
            remote: HashMap::new(),
            told_dirty: true,
            told_at: now,
        }
    }
}

impl Fanout {
    pub fn new(backfill: Arc<dyn Backfill>, metrics: LiveMetrics) -> Arc<Self> {
        // 20 bits: connection ids stay below 2^53, exact in JavaScript's numbers.
        let node = (getrandom::u32().unwrap_or_else(|_| std::process::id()) & 0xF_FFFF).max(1);
        Arc::new(Self {
            backfill,
            bus: OnceLock::new(),
            events: Mutex::new(HashMap::new()),
            node,
            next_conn: AtomicU64::new(u64::from(node) << 32 | 1),
            metrics,
            ticking: AtomicBool::new(false),
            budgets: Budgets::default(),
            changes: tokio::sync::broadcast::channel(CHANGES_QUEUE).0,
        })
    }

    /// Connects the bus (once; later calls are ignored).
    pub fn set_bus(&self, bus: Arc<dyn Bus>) {
        let _ = self.bus.set(bus);
    }

    pub(crate) fn bus(&self) -> Option<&Arc<dyn Bus>> {
        self.bus.get()
    }

    /// Tells every other node of a committed change this node shows live already.
    pub fn changed_here(&self, changed: &Changed) {
        if let Some(bus) = self.bus() {
            bus.changed(changed);
        }
    }

    /// A change another node committed, for this node's pages ([`Fanout::changes`]).
    pub fn changed_elsewhere(&self, changed: Changed) {
        let _ = self.changes.send(changed);
    }

    /// The changes other nodes committed, as the bus brings them; a receiver that falls
    /// more than [`CHANGES_QUEUE`] behind is told it lagged and must read anew.
    pub fn changes(&self) -> tokio::sync::broadcast::Receiver<Changed> {
        self.changes.subscribe()
    }

    /// The last entry of the event this node has handed to its connections, in order;
    /// `None` while nobody of the event is connected here (then this node may not hear
    /// of the event's entries at all).
    pub fn delivered(&self, event_id: EventId) -> Option<i64> {
        self.lock().get(&event_id).map(|hub| hub.next - 1)
    }

    /// This node's number (see [`Fanout`]).
    pub fn node(&self) -> u32 {
        self.node
    }

    pub fn metrics(&self) -> &LiveMetrics {
        &self.metrics
    }

    /// Connections closed because their queue was full, since start.
    pub fn slow_kicks(&self) -> u64 {
        self.metrics.slow_closes.get()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<EventId, EventHub>> {
        // A panic while holding the lock leaves plain maps behind; keep serving.
        self.events.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts the presence tick (once per node).
    fn start_ticking(self: &Arc<Self>) {
        if self.ticking.swap(true, Ordering::Relaxed) {
            return;
        }
        let fanout = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(PRESENCE_TICK);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut n: u32 = 0;
            loop {
                tick.tick().await;
                let Some(fanout) = fanout.upgrade() else {
                    return;
                };
                fanout.send_presence();
                fanout.tell_spending();
                n = n.wrapping_add(1);
                if n.is_multiple_of(CATCH_UP_EVERY) {
                    fanout.check_log_end(false);
                }
            }
        });
    }

    /// Tells the other nodes what this node's people spent of their budgets.
    fn tell_spending(&self) {
        let spent = self.budgets.take_untold();
        if let Some(bus) = self.bus() {
            for (event_id, spent) in spent {
                bus.spent(event_id, &spent);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::Text;
    use konvent_core::convention::log::Audience;

    use super::*;
    use crate::testing::MemoryLog;

    fn fanout() -> Arc<Fanout> {
        Fanout::new(MemoryLog::new(), LiveMetrics::default())
    }

    fn start(id: EventId) -> EventStart<'static> {
        EventStart {
            id,
            slug: "k",
            last_seq: 0,
            mute_threshold: 20,
        }
    }

    fn broadcast(event_id: EventId, seq: i64) -> Entry {
        Entry {
            event_id,
            seq,
            room: None,
            audience: Audience::All,
            sender_id: None,
            recipient_id: None,
            frames: vec![Text::from(format!("{{\"seq\":{seq}}}")); 2].into(),
        }
    }

    /// An entry whose frame is `size` bytes of JSON.
    fn sized(event_id: EventId, seq: i64, size: usize) -> Entry {
        let head = format!("{{\"seq\":{seq},\"pad\":\"");
        let pad = "x".repeat(size.saturating_sub(head.len() + 2));
        Entry {
            frames: vec![Text::from(format!("{head}{pad}\"}}")); 2].into(),
            ..broadcast(event_id, seq)
        }
    }

    /// The `seq` of every message in a frame (one per line).
    fn seqs_of(out: Out) -> Vec<i64> {
        let Out::Frame { text, .. } = out;
        text.as_str()
            .lines()
            .map(|line| {
                let v: serde_json::Value = serde_json::from_str(line).expect("JSON line");
                v["seq"].as_i64().expect("seq")
            })
            .collect()
    }

    /// Lets the flushes that are due run.
    async fn settle() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    fn all_seqs(inbox: &mut Inbox) -> Vec<i64> {
        std::iter::from_fn(|| inbox.try_recv())
            .flat_map(seqs_of)
            .collect()
    }

    #[tokio::test]
    async fn entries_reach_connections_in_sequence_order_whatever_the_publish_order() {
        let fanout = fanout();
        let (mut reg, _) =
            fanout.register(start(EventId::new(1)), AccountId::new(7), false, 0, None);
        fanout.deliver(broadcast(EventId::new(1), 2));
        fanout.deliver(broadcast(EventId::new(1), 3));
        settle().await;
        assert!(reg.rx.try_recv().is_none(), "2 and 3 wait for 1");
        fanout.deliver(broadcast(EventId::new(1), 1));
        fanout.deliver(broadcast(EventId::new(1), 2)); // a duplicate is dropped
        settle().await;
        assert_eq!(all_seqs(&mut reg.rx), vec![1, 2, 3]);
    }

    #[tokio::test]
    async fn a_removed_person_gets_the_goodbye_in_each_connection_s_language_and_others_none() {
        let fanout = fanout();
        let event = EventId::new(1);
        let (mut german, _) = fanout.register(start(event), AccountId::new(7), false, 0, None);
        let (mut english, _) = fanout.register(start(event), AccountId::new(7), false, 1, None);
        let (mut other, _) = fanout.register(start(event), AccountId::new(8), false, 1, None);
        let last = [Text::from_static("tschuess"), Text::from_static("bye")];
        assert_eq!(
            fanout.remove_account_from_event(event, AccountId::new(7), &last),
            2
        );
        let text = |out: Option<Out>| out.map(|Out::Frame { text, .. }| text);
        assert_eq!(text(german.rx.try_recv()), Some(last[0].clone()));
        assert_eq!(text(english.rx.try_recv()), Some(last[1].clone()));
        assert_eq!(text(other.rx.try_recv()), None);
        assert_eq!(fanout.connections(), 1, "the hub let go of both");
    }

    #[tokio::test]
    async fn a_flush_waits_for_no_timer_and_takes_what_arrived_before_it_ran() {
        let fanout = fanout();
        let (mut reg, _) =
            fanout.register(start(EventId::new(1)), AccountId::new(7), false, 0, None);
        // Only yields below, no sleep: a flush behind a timer would not have gone out.
        // Committed in one go (a group commit publishes its entries one after another).
        for seq in 1..=3 {
            fanout.deliver(broadcast(EventId::new(1), seq));
        }
        for _ in 0..4 {
            tokio::task::yield_now().await;
        }
        let frame = reg.rx.try_recv().expect("flushed without a timer");
        assert_eq!(seqs_of(frame), vec![1, 2, 3], "one frame, one line each");
        fanout.deliver(broadcast(EventId::new(1), 4));
        for _ in 0..4 {
            tokio::task::yield_now().await;
        }
        assert_eq!(
            all_seqs(&mut reg.rx),
            vec![4],
            "an entry alone goes out at once too"
        );
    }

    #[tokio::test]
    async fn a_connection_registered_before_a_flush_gets_the_outbox_and_not_the_log() {
        let fanout = fanout();
        let _first = fanout.register(start(EventId::new(1)), AccountId::new(6), false, 0, None);
        fanout.deliver(broadcast(EventId::new(1), 1));
        settle().await;
        fanout.deliver(broadcast(EventId::new(1), 2)); // waits for the next flush
        let (mut reg, _) =
            fanout.register(start(EventId::new(1)), AccountId::new(7), false, 0, None);
        assert_eq!(reg.seq, 1, "2 comes through the queue, not from the log");
        settle().await;
        assert_eq!(all_seqs(&mut reg.rx), vec![2]);
    }

    #[tokio::test]
    async fn a_client_that_stops_reading_is_told_to_go_once_and_others_get_everything() {
        let fanout = fanout();
        let (stalled, _) =
            fanout.register(start(EventId::new(1)), AccountId::new(1), false, 0, None);
        let (mut healthy, _) =
            fanout.register(start(EventId::new(1)), AccountId::new(2), false, 0, None);
        // Frames of 16 KiB: the stalled queue reaches its byte bound long before its
        // count of frames.
        let total = 200;
        let mut received = Vec::new();
        for seq in 1..=total {
            fanout.deliver(sized(EventId::new(1), seq, 16 * 1024));
            if seq % 16 == 0 {
                settle().await;
            }
            received.extend(all_seqs(&mut healthy.rx));
        }
        settle().await;
        received.extend(all_seqs(&mut healthy.rx));
        assert_eq!(received, (1..=total).collect::<Vec<_>>());
        tokio::time::timeout(Duration::from_secs(1), stalled.kick.notified())
            .await
            .expect("the stalled connection was told to close");
        assert_eq!(fanout.slow_kicks(), 1, "counted once");
        let waiting = stalled.rx.shared.bytes.load(Ordering::Relaxed);
        assert!(
            waiting <= QUEUE_BYTES && waiting > QUEUE_BYTES / 2,
            "its queue stays bounded: {waiting} bytes"
        );
    }

    #[tokio::test]
    async fn a_queue_of_many_small_frames_is_bounded_by_their_count() {
        let fanout = fanout();
        let (stalled, _) =
            fanout.register(start(EventId::new(1)), AccountId::new(1), false, 0, None);
        for i in 0..QUEUE_FRAMES * 2 {
            fanout.to_conn(
                EventId::new(1),
                stalled.id,
                Text::from(format!("{{\"n\":{i}}}")),
            );
        }
        tokio::time::timeout(Duration::from_secs(1), stalled.kick.notified())
            .await
            .expect("the stalled connection was told to close");
        assert_eq!(fanout.slow_kicks(), 1);
        assert_eq!(stalled.rx.len(), QUEUE_FRAMES, "its queue stays bounded");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn frames_and_the_kick_from_another_thread_each_wake_the_connection() {
        const FRAMES: usize = 10_000;
        let fanout = fanout();
        let (reg, _) = fanout.register(start(EventId::new(1)), AccountId::new(1), false, 0, None);
        let Registration {
            id, mut rx, kick, ..
        } = reg;
        let received = Arc::new(AtomicUsize::new(0));
        // The connection's two waits, as its task has them: frames, and the word to go.
        let counted = received.clone();
        let connection = tokio::spawn(async move {
            let kicked = kick.notified();
            tokio::pin!(kicked);
            loop {
                tokio::select! {
                    biased;
                    out = rx.recv() => match out {
                        Some(_) => counted.fetch_add(1, Ordering::Relaxed),
                        None => return false,
                    },
                    () = &mut kicked => return true,
                };
            }
        });
        // Frames one at a time from a thread of its own, each once the one before has
        // arrived: each may find the connection just going to sleep, and a wake-up lost
        // there leaves it asleep for good.
        let producer = {
            let fanout = fanout.clone();
            let received = received.clone();
            std::thread::spawn(move || {
                for sent in 0..FRAMES {
                    let deadline = std::time::Instant::now() + Duration::from_secs(5);
                    let mut spins = 0u32;
                    while received.load(Ordering::Relaxed) < sent {
                        if std::time::Instant::now() > deadline {
                            return;
                        }
                        // Spin first (a wake-up takes microseconds), then give way on
                        // a loaded machine.
                        spins += 1;
                        if spins < 1000 {
                            std::hint::spin_loop();
                        } else {
                            std::thread::yield_now();
                        }
                    }
                    fanout.to_conn(EventId::new(1), id, Text::from_static("{}"));
                }
            })
        };
        producer.join().expect("the producer ran");
        let all = tokio::time::timeout(Duration::from_secs(10), async {
            while received.load(Ordering::Relaxed) < FRAMES {
                tokio::task::yield_now().await;
            }
        })
        .await;
        assert!(
            all.is_ok(),
            "{} of {FRAMES} frames arrived",
            received.load(Ordering::Relaxed)
        );
        fanout.close_all(Goodbye::Restart);
        let kicked = tokio::time::timeout(Duration::from_secs(1), connection)
            .await
            .expect("the kick woke the connection")
            .expect("no panic");
        assert!(kicked, "told to go, not ended");
    }

    #[tokio::test]
    async fn a_queue_holds_no_buffer_while_idle_and_ends_after_what_was_queued_before_removal() {
        let fanout = fanout();
        let (mut reg, _) =
            fanout.register(start(EventId::new(1)), AccountId::new(1), false, 0, None);
        assert_eq!(reg.rx.shared.frames().capacity(), 0, "idle: no buffer");
        // A burst grows the buffer; taking it all gives the buffer back.
        for i in 0..200 {
            fanout.to_conn(
                EventId::new(1),
                reg.id,
                Text::from(format!("{{\"n\":{i}}}")),
            );
        }
        assert_eq!(reg.rx.len(), 200);
        let mut taken = 0;
        while reg.rx.try_recv().is_some() {
            taken += 1;
        }
        assert_eq!(taken, 200);
        assert_eq!(reg.rx.shared.frames().capacity(), 0, "given back");
        assert_eq!(reg.rx.shared.bytes.load(Ordering::Relaxed), 0);
        // A receiver waiting for a frame wakes for it.
        let id = reg.id;
        let waiting = tokio::spawn(async move {
            let first = reg.rx.recv().await;
            let second = reg.rx.recv().await;
            let after = reg.rx.recv().await;
            (first.is_some(), second.is_some(), after.is_none())
        });
        settle().await;
        fanout.to_conn(EventId::new(1), id, Text::from_static("{}"));
        fanout.to_conn(EventId::new(1), id, Text::from_static("{}"));
        // Removed: the frames queued before still arrive, then the queue ends.
        fanout.unregister(EventId::new(1), id);
        let (first, second, ended) = tokio::time::timeout(Duration::from_secs(1), waiting)
            .await
            .expect("the receiver woke")
            .expect("no panic");
        assert!(first && second, "both queued frames arrived");
        assert!(ended, "the queue ended once the connection was removed");
    }

    #[tokio::test]
    async fn entries_of_one_flush_share_a_frame_one_per_line_and_only_what_each_may_see() {
        let fanout = fanout();
        let (mut anna, _) = fanout.register(
            start(EventId::new(1)),
            AccountId::new(1),
            false,
            0,
            Some(("plenum", 100)),
        );
        let (mut ben, _) = fanout.register(
            start(EventId::new(1)),
            AccountId::new(2),
            false,
            0,
            Some(("plenum", 100)),
        );
        let (mut carla, _) = fanout.register(
            start(EventId::new(1)),
            AccountId::new(3),
            false,
            0,
            Some(("lounge", 100)),
        );
        let (mut helper, _) =
            fanout.register(start(EventId::new(1)), AccountId::new(4), true, 0, None);
        let in_room = |seq, room: &str| Entry {
            room: Some(Arc::from(room)),
            ..broadcast(EventId::new(1), seq)
        };
        // The first flush goes out alone; what arrives while it is due shares the next.
        fanout.deliver(in_room(1, "plenum"));
        settle().await;
        fanout.deliver(in_room(2, "plenum"));
        fanout.deliver(in_room(3, "lounge"));
        fanout.deliver(Entry {
            audience: Audience::Direct,
            sender_id: Some(AccountId::new(1)),
            recipient_id: Some(AccountId::new(4)),
            ..broadcast(EventId::new(1), 4)
        });
        fanout.deliver(broadcast(EventId::new(1), 5));
        fanout.deliver(Entry {
            audience: Audience::Staff,
            sender_id: Some(AccountId::new(2)),
            ..broadcast(EventId::new(1), 6)
        });
        settle().await;
        let frames = |inbox: &mut Inbox| -> Vec<Vec<i64>> {
            std::iter::from_fn(|| inbox.try_recv())
                .map(seqs_of)
                .collect()
        };
        assert_eq!(frames(&mut anna.rx), vec![vec![1], vec![2, 4, 5]]);
        assert_eq!(frames(&mut ben.rx), vec![vec![1], vec![2, 5, 6]]);
        assert_eq!(frames(&mut carla.rx), vec![vec![3, 5]]);
        assert_eq!(frames(&mut helper.rx), vec![vec![4, 5, 6]]);
    }

    #[tokio::test]
    async fn a_gap_left_by_a_writer_that_never_published_is_filled_from_the_log() {
        let log = MemoryLog::new();
        let fanout = Fanout::new(log.clone(), LiveMetrics::default());
        let (mut reg, _) = fanout.register(
            start(EventId::new(1)),
            AccountId::new(1),
            false,
            0,
            Some(("plenum", 100)),
        );
        log.push(broadcast(EventId::new(1), 1));
        log.push(broadcast(EventId::new(1), 2));
        // Only the second is published; the first writer "died" after its commit.
        fanout.deliver(broadcast(EventId::new(1), 2));
        let mut got = Vec::new();
        while got.len() < 2 {
            let out = tokio::time::timeout(Duration::from_secs(2), reg.rx.recv())
                .await
                .expect("filled in time")
                .expect("open");
            got.extend(seqs_of(out));
        }
        assert_eq!(got, vec![1, 2]);
        assert_eq!(fanout.metrics().gap_entries.get(), 1);
    }

    #[tokio::test]
    async fn a_lost_last_entry_is_read_from_the_log_without_a_later_one() {
        let log = MemoryLog::new();
        let fanout = Fanout::new(log.clone(), LiveMetrics::default());
        let (mut reg, _) =
            fanout.register(start(EventId::new(1)), AccountId::new(1), false, 0, None);
        log.push(broadcast(EventId::new(1), 1));
        let out = tokio::time::timeout(Duration::from_secs(3), reg.rx.recv())
            .await
            .expect("caught up in time")
            .expect("open");
        assert_eq!(seqs_of(out), vec![1]);
    }

    #[tokio::test]
    async fn rooms_count_the_people_of_every_node_once_and_forget_a_silent_node() {
        let fanout = fanout();
        let (_anna, joined) = fanout.register(
            start(EventId::new(1)),
            AccountId::new(1),
            false,
            0,
            Some(("plenum", 3)),
        );
        assert_eq!(joined.expect("asked").expect("room").presence.count, 1);
        let other = fanout.node() ^ 1;
        // Anna has a second tab on the other node: she counts once.
        fanout.remote_presence(
            EventId::new(1),
            other,
            HashMap::from([(
                "plenum".to_owned(),
                vec![AccountId::new(1), AccountId::new(2), AccountId::new(3)],
            )]),
        );
        assert_eq!(fanout.presence(EventId::new(1), "plenum").count, 3);
        assert_eq!(fanout.headcounts(EventId::new(1)).get("plenum"), Some(&3));
        let (_dora, joined) = fanout.register(
            start(EventId::new(1)),
            AccountId::new(4),
            false,
            0,
            Some(("plenum", 3)),
        );
        assert_eq!(
            joined.expect("asked").expect_err("full over both nodes"),
            JoinRefusal::Full
        );
        // Ben's node died; he resumes here before it is forgotten: he is no newcomer.
        let (_ben, joined) = fanout.register(
            start(EventId::new(1)),
            AccountId::new(2),
            false,
            0,
            Some(("plenum", 3)),
        );
        assert_eq!(joined.expect("asked").expect("room").presence.count, 3);
        // A node that stopped telling is forgotten after PEER_TIMEOUT.
        if let Some(hub) = fanout.lock().get_mut(&EventId::new(1))
            && let Some(node) = hub.remote.get_mut(&other)
        {
            node.heard = Instant::now() - PEER_TIMEOUT;
        }
        fanout.send_presence();
        assert_eq!(
            fanout.presence(EventId::new(1), "plenum").count,
            2,
            "Anna and Ben"
        );
    }

    /// A bus that keeps what a node tells the others of its rooms.
    #[derive(Default)]
    struct Told(Mutex<Vec<HashMap<String, Vec<AccountId>>>>);

    impl Bus for Told {
        fn publish(&self, _entry: Entry) {}
        fn presence(&self, _event_id: EventId, snapshot: &HashMap<String, Vec<AccountId>>) {
            self.0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(snapshot.clone());
        }
    }

    #[tokio::test]
    async fn two_nodes_admitting_at_once_overshoot_a_room_by_what_the_other_admitted_unheard() {
        let (a, b) = (fanout(), fanout());
        let (told_a, told_b) = (Arc::new(Told::default()), Arc::new(Told::default()));
        a.set_bus(told_a.clone());
        b.set_bus(told_b.clone());
        let mut kept = Vec::new();
        let mut join = |node: &Arc<Fanout>, account: AccountId| {
            let (reg, joined) = node.register(
                start(EventId::new(1)),
                account,
                false,
                0,
                Some(("plenum", 10)),
            );
            kept.push(reg);
            joined.expect("asked").is_ok()
        };
        // Within one presence tick neither has heard of the other's six.
        let admitted = (1..=6).filter(|n| join(&a, AccountId::new(*n))).count()
            + (7..=12).filter(|n| join(&b, AccountId::new(*n))).count();
        assert_eq!(admitted, 12, "two over the capacity of 10");
        // The next tick: each tells the other; nobody new gets in anywhere.
        a.send_presence();
        b.send_presence();
        let last = |told: &Told| {
            told.0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .last()
                .cloned()
                .expect("told")
        };
        b.remote_presence(EventId::new(1), a.node(), last(&told_a));
        a.remote_presence(EventId::new(1), b.node(), last(&told_b));
        assert_eq!(a.presence(EventId::new(1), "plenum").count, 12);
        assert_eq!(b.presence(EventId::new(1), "plenum").count, 12);
        assert!(
            !join(&a, AccountId::new(13)) && !join(&b, AccountId::new(14)),
            "full over both nodes"
        );
    }

    #[tokio::test]
    async fn an_event_nobody_here_is_connected_to_is_forgotten_and_starts_afresh() {
        let fanout = fanout();
        let (reg, _) = fanout.register(start(EventId::new(1)), AccountId::new(1), false, 0, None);
        fanout.deliver(broadcast(EventId::new(1), 1));
        fanout.unregister(EventId::new(1), reg.id);
        assert!(fanout.lock().get(&EventId::new(1)).is_none());
        let (reg, _) = fanout.register(
            EventStart {
                last_seq: 40,
                ..start(EventId::new(1))
            },
            AccountId::new(1),
            false,
            0,
            None,
        );
        assert_eq!(reg.seq, 40, "the sequencer starts where the log is now");
    }
}
