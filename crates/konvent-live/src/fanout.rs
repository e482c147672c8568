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

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use konvent_core::konvent::log::Audience;
use konvent_core::konvent::{joins_muted, rule_in_force};
use serde_json::json;
use tokio::sync::Notify;

use crate::budget::Budgets;
use crate::bus::{Backfill, Bus, Changed};
use crate::entry::Entry;
use crate::metrics::LiveMetrics;

/// How many frames a connection may have waiting before it counts as too slow …
pub const QUEUE_FRAMES: usize = 1024;
/// … and how many bytes they may hold (a frame larger than this alone is let through).
/// Frames are shared between connections, so this bounds what one slow client keeps
/// alive, not a copy of its own.
pub const QUEUE_BYTES: usize = 1024 * 1024;

/// Headcounts go out at most this often per room: a join would otherwise tell every one
/// of a thousand people in the room, a thousand times over while a room fills.
pub const PRESENCE_TICK: Duration = Duration::from_millis(500);

/// Entries one frame carries at most (one JSON object per line) …
const BATCH_ENTRIES: usize = 64;
/// How many changes from other nodes wait for this node's pages ([`Fanout::changes`]).
pub const CHANGES_QUEUE: usize = 256;
/// … and bytes, unless a single entry is larger.
const BATCH_BYTES: usize = 64 * 1024;

/// How long the sequencer waits for a missing sequence number before it reads it from the
/// database (a writer that committed and then failed to publish, or a bus message lost).
const GAP_WAIT: Duration = Duration::from_millis(250);

/// Entries read from the log in one go when filling a gap.
const GAP_PAGE: i64 = 500;

/// Every this many presence ticks (a second) each event's sequence is compared with the
/// log's end (`Fanout::check_log_end`).
const CATCH_UP_EVERY: u32 = 2;

/// A node tells the others its headcounts at least this often …
pub const HEARTBEAT: Duration = Duration::from_secs(2);
/// … and is forgotten (its people no longer counted) after this long without a word.
pub const PEER_TIMEOUT: Duration = Duration::from_secs(7);

/// What a connection task receives.
#[derive(Debug, Clone)]
pub enum Out {
    /// A frame for this client; `seq` is set for `ev` frames.
    Frame { seq: Option<i64>, text: Bytes },
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
    /// Frames came, or the fan-out let go (one permit is kept for a receiver that is
    /// not waiting yet, so no wake-up is lost).
    ready: Notify,
    /// Fires when the hub tells the connection to go …
    kick: Notify,
    /// … for this reason (a [`Goodbye`]; 0 while it was not told), set before `kick`.
    goodbye: AtomicU8,
    /// The fan-out let go of the connection: no frame comes any more.
    closed: AtomicBool,
}

/// A queue whose buffer grew past this many frames in a burst gives it back once the
/// connection has written them all.
const KEEP_FRAMES: usize = 64;

impl Mailbox {
    fn frames(&self) -> std::sync::MutexGuard<'_, VecDeque<Out>> {
        self.frames.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues a frame, unless the queue is full (`false`).
    fn push(&self, out: Out) -> bool {
        {
            let mut frames = self.frames();
            if frames.len() >= QUEUE_FRAMES {
                return false;
            }
            frames.push_back(out);
        }
        self.ready.notify_one();
        true
    }

    fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.ready.notify_one();
    }
}

/// A connection's end of its queue: the frames waiting for it, in order.
pub struct Inbox {
    shared: Arc<Mailbox>,
}

impl Inbox {
    /// The next frame; `None` when the fan-out let go of the connection and every frame
    /// queued before has been taken.
    pub async fn recv(&mut self) -> Option<Out> {
        loop {
            if let Some(out) = self.try_recv() {
                return Some(out);
            }
            if self.shared.closed.load(Ordering::Acquire) {
                // Frames queued just before the fan-out let go still count.
                return self.try_recv();
            }
            self.shared.ready.notified().await;
        }
    }

    pub fn try_recv(&mut self) -> Option<Out> {
        let out = {
            let mut frames = self.shared.frames();
            let out = frames.pop_front()?;
            if frames.is_empty() && frames.capacity() > KEEP_FRAMES {
                *frames = VecDeque::new();
            }
            out
        };
        let Out::Frame { text, .. } = &out;
        self.shared.bytes.fetch_sub(text.len(), Ordering::Relaxed);
        Some(out)
    }

    /// Frames waiting.
    pub fn len(&self) -> usize {
        self.shared.frames().len()
    }

    pub fn is_empty(&self) -> bool {
        self.shared.frames().is_empty()
    }
}

/// The signal that the hub told a connection to go (too slow, signed out, rights
/// changed, node shutting down), and why.
pub struct Kick {
    shared: Arc<Mailbox>,
}

impl Kick {
    /// Fires once the connection is told to go (also when it was told before).
    pub fn notified(&self) -> tokio::sync::futures::Notified<'_> {
        self.shared.kick.notified()
    }

    /// Why it was told to go ([`Goodbye::told`], [`Goodbye::of`]).
    pub fn reason(&self) -> &AtomicU8 {
        &self.shared.goodbye
    }
}

/// Why the hub tells a connection to close: stored in the connection's `goodbye` (0
/// while it was not told) before its `kick` fires. A later reason of higher rank
/// replaces an earlier one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Goodbye {
    /// Its queue is full: it resumes from its last sequence (4008).
    Slow = 1,
    /// Its account's grants or event roles changed: it reconnects, and the server
    /// derives its rights anew (4003).
    RightsChanged = 2,
    /// Its account signed out (4001).
    SignedOut = 3,
    /// The node is shutting down: reconnect, to another node (1012).
    Restart = 4,
}

impl Goodbye {
    /// Why a connection was told to close, if it was: one atomic load, cheap enough to
    /// check before every write.
    pub fn told(reason: &AtomicU8) -> Option<Self> {
        Self::from_code(reason.load(Ordering::Acquire))
    }

    /// The goodbye of its code (`why as u8`); 0 is none.
    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            0 => None,
            1 => Some(Self::Slow),
            2 => Some(Self::RightsChanged),
            3 => Some(Self::SignedOut),
            _ => Some(Self::Restart),
        }
    }

    /// Why a connection whose `kick` fired was told to close.
    pub fn of(reason: &AtomicU8) -> Self {
        Self::told(reason).unwrap_or(Self::Slow)
    }
}

/// One connection as the fan-out sees it.
struct Conn {
    /// Its queue, and the signal that it must go.
    mailbox: Arc<Mailbox>,
    /// Set once the connection was told to close for being slow.
    kicked: AtomicBool,
    account: i64,
    staff: bool,
    /// The language its page is in (which of an entry's frames it gets).
    lang: usize,
    room: Option<Arc<str>>,
}

#[derive(Default)]
struct RoomPresence {
    conns: HashSet<u64>,
    /// Connections per person: people count once however many tabs they have open.
    people: HashMap<i64, u32>,
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
    rooms: HashMap<Arc<str>, HashSet<i64>>,
    heard: Instant,
}

/// What the hub needs to know of an event to start serving it on this node. `last_seq`
/// is read from the database just before (the sequencer starts after it).
#[derive(Debug, Clone, Copy)]
pub struct EventStart<'a> {
    pub id: i64,
    pub slug: &'a str,
    pub last_seq: i64,
    pub mute_threshold: i64,
}

/// A room's headcount after a change, and whether the microphone rule is in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Presence {
    pub count: i64,
    pub muted: bool,
}

/// Why a connection could not join a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinRefusal {
    Full,
    Gone,
}

/// A connection's move into a room: whether it starts muted (K4), the room's presence
/// after the move, and the room it left with that room's presence.
#[derive(Debug, Clone)]
pub struct Joined {
    pub muted: bool,
    pub presence: Presence,
    pub left: Option<(Arc<str>, Presence)>,
}

/// The fan-out of one node.
pub struct Fanout {
    backfill: Arc<dyn Backfill>,
    /// The bus to the other nodes (set once, right after the fan-out is made).
    bus: OnceLock<Arc<dyn Bus>>,
    events: Mutex<HashMap<i64, EventHub>>,
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

/// A registered connection: its id, its queue, the signal that it is too slow, and the
/// last sequence number handed out before it was registered (everything after it
/// arrives through the queue).
pub struct Registration {
    pub id: u64,
    pub rx: Inbox,
    pub kick: Kick,
    pub seq: i64,
}

/// The fan-out lets go of a connection by dropping it: what is queued is still written,
/// then the connection's `recv` ends.
impl Drop for Conn {
    fn drop(&mut self) {
        self.mailbox.close();
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

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, EventHub>> {
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

    /// The microphone threshold of an event changed.
    pub fn set_mute_threshold(&self, event_id: i64, mute_threshold: i64) {
        if let Some(hub) = self.lock().get_mut(&event_id) {
            hub.mute_threshold = mute_threshold;
        }
    }

    /// Registers a connection and, in the same step, puts it into `room` (slug and
    /// capacity) when one is given: everything after the returned sequence number that
    /// the connection may see then reaches its queue. A full room leaves it in no room.
    ///
    /// The first connection of an event on this node starts serving it: its sequencer
    /// starts after `event.last_seq`, and the bus listens to it.
    pub fn register(
        self: &Arc<Self>,
        event: EventStart<'_>,
        account: i64,
        staff: bool,
        lang: usize,
        room: Option<(&str, i64)>,
    ) -> (Registration, Option<Result<Joined, JoinRefusal>>) {
        self.start_ticking();
        let mut events = self.lock();
        let event_id = event.id;
        let hub = events.entry(event_id).or_insert_with(|| {
            if let Some(bus) = self.bus() {
                bus.watch(event_id, true);
            }
            EventHub::new(event)
        });
        hub.mute_threshold = event.mute_threshold;
        let id = self.next_conn.fetch_add(1, Ordering::Relaxed);
        let mailbox = Arc::new(Mailbox {
            frames: Mutex::new(VecDeque::new()),
            bytes: AtomicUsize::new(0),
            ready: Notify::new(),
            kick: Notify::new(),
            goodbye: AtomicU8::new(0),
            closed: AtomicBool::new(false),
        });
        let rx = Inbox {
            shared: mailbox.clone(),
        };
        let kick = Kick {
            shared: mailbox.clone(),
        };
        self.metrics.connections.inc();
        hub.conns.insert(
            id,
            Conn {
                mailbox,
                kicked: AtomicBool::new(false),
                account,
                staff,
                lang,
                room: None,
            },
        );
        let joined = room.map(|(slug, capacity)| join_room(hub, id, slug, capacity));
        // Entries waiting in the outbox (the last `outbox.len()` sequence numbers before
        // `next`) have not reached any connection yet: the next flush hands them to this
        // one too, so they are not part of what the client must read from the log.
        let registration = Registration {
            id,
            rx,
            kick,
            seq: hub.next - 1 - hub.outbox.len() as i64,
        };
        (registration, joined)
    }

    /// Removes a connection; answers the presence of the room it was in.
    pub fn unregister(&self, event_id: i64, conn: u64) -> Option<(Arc<str>, Presence)> {
        let mut events = self.lock();
        let hub = events.get_mut(&event_id)?;
        let left = leave_room(hub, conn);
        if hub.conns.remove(&conn).is_some() {
            self.metrics.connections.dec();
        }
        self.forget_if_idle(&mut events, event_id);
        left
    }

    /// Stops serving an event nobody on this node is connected to any more: its
    /// sequencer would fall behind unheard, so the next connection starts it afresh from
    /// the database.
    fn forget_if_idle(&self, events: &mut HashMap<i64, EventHub>, event_id: i64) {
        if events
            .get(&event_id)
            .is_some_and(|hub| hub.conns.is_empty())
        {
            events.remove(&event_id);
            if let Some(bus) = self.bus() {
                // Nobody here any more: the others stop counting this node's people now,
                // not only once its heartbeat is missed.
                bus.presence(event_id, &HashMap::new());
                bus.watch(event_id, false);
            }
        }
    }

    /// Moves a connection into `room` (out of the one it was in), unless the room holds
    /// `capacity` people already.
    pub fn join(
        &self,
        event_id: i64,
        conn: u64,
        room: &str,
        capacity: i64,
    ) -> Result<Joined, JoinRefusal> {
        let mut events = self.lock();
        let hub = events.get_mut(&event_id).ok_or(JoinRefusal::Gone)?;
        join_room(hub, conn, room, capacity)
    }

    /// Ends every connection of `account` to the event (removed from it, K17): each gets
    /// `last` as its final frame, then the hub lets go of it and its socket closes. The
    /// rooms they were in get new headcounts. Answers how many connections ended.
    pub fn remove_account_from_event(&self, event_id: i64, account: i64, last: Bytes) -> usize {
        let mut rooms = Vec::new();
        let mut closed = 0;
        {
            let mut events = self.lock();
            let Some(hub) = events.get_mut(&event_id) else {
                return 0;
            };
            let ids: Vec<u64> = hub
                .conns
                .iter()
                .filter(|(_, c)| c.account == account)
                .map(|(id, _)| *id)
                .collect();
            for id in ids {
                if let Some((room, _)) = leave_room(hub, id) {
                    rooms.push(room);
                }
                if let Some(conn) = hub.conns.remove(&id) {
                    // Queued frames still reach the socket after the sender is gone.
                    conn.mailbox.bytes.fetch_add(last.len(), Ordering::Relaxed);
                    conn.mailbox.push(Out::Frame {
                        seq: None,
                        text: last.clone(),
                    });
                    self.metrics.connections.dec();
                    closed += 1;
                }
            }
            self.forget_if_idle(&mut events, event_id);
        }
        for room in rooms {
            self.presence_changed(event_id, &room);
        }
        closed
    }

    /// Takes a connection out of its room.
    pub fn leave(&self, event_id: i64, conn: u64) -> Option<(Arc<str>, Presence)> {
        let mut events = self.lock();
        let hub = events.get_mut(&event_id)?;
        leave_room(hub, conn)
    }

    /// The headcount of every room of an event with someone in it, over all nodes.
    pub fn headcounts(&self, event_id: i64) -> HashMap<String, i64> {
        let events = self.lock();
        let Some(hub) = events.get(&event_id) else {
            return HashMap::new();
        };
        let rooms: HashSet<&Arc<str>> = hub
            .rooms
            .keys()
            .chain(hub.remote.values().flat_map(|node| node.rooms.keys()))
            .collect();
        rooms
            .into_iter()
            .map(|room| (room.to_string(), people_in(hub, room)))
            .filter(|(_, n)| *n > 0)
            .collect()
    }

    /// Everybody connected to the event, over all nodes, with the room they are in
    /// (`None`: connected, in no room; other nodes tell only of people in rooms). For
    /// "who is here" (K15+).
    pub fn whereabouts(&self, event_id: i64) -> HashMap<i64, Option<Arc<str>>> {
        let events = self.lock();
        let Some(hub) = events.get(&event_id) else {
            return HashMap::new();
        };
        let mut out: HashMap<i64, Option<Arc<str>>> = HashMap::new();
        for node in hub.remote.values() {
            for (room, people) in &node.rooms {
                for account in people {
                    out.insert(*account, Some(room.clone()));
                }
            }
        }
        for conn in hub.conns.values() {
            match &conn.room {
                Some(room) => {
                    out.insert(conn.account, Some(room.clone()));
                }
                None => {
                    out.entry(conn.account).or_insert(None);
                }
            }
        }
        out
    }

    /// Who another node serving the event last said is in its rooms (its whole
    /// snapshot: rooms it leaves out are empty there). Rooms whose people changed hear of
    /// it at the next presence tick.
    pub fn remote_presence(&self, event_id: i64, node: u32, snapshot: HashMap<String, Vec<i64>>) {
        if node == self.node {
            return;
        }
        let mut events = self.lock();
        let Some(hub) = events.get_mut(&event_id) else {
            return;
        };
        let rooms: HashMap<Arc<str>, HashSet<i64>> = snapshot
            .into_iter()
            .filter(|(_, people)| !people.is_empty())
            .map(|(room, people)| (Arc::from(room), people.into_iter().collect()))
            .collect();
        let before = hub.remote.insert(
            node,
            RemoteNode {
                rooms: rooms.clone(),
                heard: Instant::now(),
            },
        );
        let before = before.map(|b| b.rooms).unwrap_or_default();
        for room in rooms.keys().chain(before.keys()) {
            if rooms.get(room) != before.get(room) {
                hub.presence_dirty.insert(room.clone());
            }
        }
    }

    /// Whether the microphone rule is in force in a room right now.
    pub fn presence(&self, event_id: i64, room: &str) -> Presence {
        let events = self.lock();
        events
            .get(&event_id)
            .map(|hub| presence_of(hub, room))
            .unwrap_or(Presence {
                count: 0,
                muted: false,
            })
    }

    /// Notes that a room's headcount changed; the next presence tick tells the room.
    pub fn presence_changed(&self, event_id: i64, room: &str) {
        let mut events = self.lock();
        if let Some(hub) = events.get_mut(&event_id) {
            hub.presence_dirty.insert(Arc::from(room));
        }
    }

    /// Sends each changed room its headcount and microphone mode (ephemeral, not logged);
    /// tells the other nodes this node's headcounts when they changed (and as a
    /// heartbeat), and forgets nodes that stopped telling.
    pub fn send_presence(&self) {
        let mut snapshots = Vec::new();
        {
            let mut events = self.lock();
            for (event_id, hub) in events.iter_mut() {
                hub.remote.retain(|_, node| {
                    let alive = node.heard.elapsed() < PEER_TIMEOUT;
                    if !alive {
                        hub.presence_dirty.extend(node.rooms.keys().cloned());
                    }
                    alive
                });
                if hub.told_dirty || hub.told_at.elapsed() >= HEARTBEAT {
                    hub.told_dirty = false;
                    hub.told_at = Instant::now();
                    let own: HashMap<String, Vec<i64>> = hub
                        .rooms
                        .iter()
                        .map(|(room, r)| (room.to_string(), r.people.keys().copied().collect()))
                        .collect();
                    snapshots.push((*event_id, own));
                }
                let dirty: Vec<Arc<str>> = hub.presence_dirty.drain().collect();
                for room in dirty {
                    let Some(presence) = hub.rooms.get(&room) else {
                        continue;
                    };
                    let frame = presence_frame(&room, presence_of(hub, &room), hub.mute_threshold);
                    for id in &presence.conns {
                        if let Some(conn) = hub.conns.get(id) {
                            self.offer(conn, None, &frame);
                        }
                    }
                }
            }
        }
        if let Some(bus) = self.bus() {
            for (event_id, snapshot) in snapshots {
                bus.presence(event_id, &snapshot);
            }
        }
    }

    /// Queues a frame for one connection.
    pub fn to_conn(&self, event_id: i64, conn: u64, text: Bytes) {
        let events = self.lock();
        if let Some(c) = events.get(&event_id).and_then(|h| h.conns.get(&conn)) {
            self.offer(c, None, &text);
        }
    }

    /// Queues frames for many connections of an event under one lock: each frame for its
    /// list of connections (the map's position frames, one per area of interest).
    pub fn to_many(&self, event_id: i64, frames: &[(Vec<u64>, Bytes)]) {
        let events = self.lock();
        let Some(hub) = events.get(&event_id) else {
            return;
        };
        for (conns, text) in frames {
            for id in conns {
                if let Some(c) = hub.conns.get(id) {
                    self.offer(c, None, text);
                }
            }
        }
    }

    fn offer(&self, conn: &Conn, seq: Option<i64>, text: &Bytes) {
        let len = text.len();
        let mailbox = &conn.mailbox;
        let waiting = mailbox.bytes.fetch_add(len, Ordering::Relaxed);
        if waiting > 0 && waiting + len > QUEUE_BYTES {
            mailbox.bytes.fetch_sub(len, Ordering::Relaxed);
            self.too_slow(conn);
            return;
        }
        let out = Out::Frame {
            seq,
            text: text.clone(),
        };
        if mailbox.push(out) {
            self.metrics.deliveries.inc();
        } else {
            mailbox.bytes.fetch_sub(len, Ordering::Relaxed);
            self.too_slow(conn);
        }
    }

    /// Tells every connection of `account`, in every event, to close for `why` (not
    /// [`Goodbye::Slow`]): after a sign-out, or when its rights changed. Answers how many.
    pub fn close_account(&self, account: i64, why: Goodbye) -> usize {
        let events = self.lock();
        let mut closed = 0;
        for conn in events
            .values()
            .flat_map(|hub| hub.conns.values())
            .filter(|c| c.account == account)
        {
            // A sign-out wins over a change of rights; both over being slow.
            conn.mailbox.goodbye.fetch_max(why as u8, Ordering::AcqRel);
            conn.mailbox.kick.notify_one();
            closed += 1;
        }
        closed
    }

    /// Like [`Fanout::close_account`], and the bus tells every other node to do the
    /// same with the account's connections there. Answers how many closed here.
    pub fn close_account_everywhere(&self, account: i64, why: Goodbye) -> usize {
        if let Some(bus) = self.bus() {
            bus.goodbye(account, why);
        }
        self.close_account(account, why)
    }

    /// Tells every connection of this node to close for `why` (the node shuts down):
    /// answers how many.
    pub fn close_all(&self, why: Goodbye) -> usize {
        let events = self.lock();
        let mut closed = 0;
        for conn in events.values().flat_map(|hub| hub.conns.values()) {
            conn.mailbox.goodbye.fetch_max(why as u8, Ordering::AcqRel);
            conn.mailbox.kick.notify_one();
            closed += 1;
        }
        closed
    }

    /// Open connections of this node.
    pub fn connections(&self) -> usize {
        self.lock().values().map(|hub| hub.conns.len()).sum()
    }

    /// Tells a connection whose queue is full to close; it resumes from its last seq.
    fn too_slow(&self, conn: &Conn) {
        if !conn.kicked.swap(true, Ordering::Relaxed) {
            conn.mailbox
                .goodbye
                .fetch_max(Goodbye::Slow as u8, Ordering::AcqRel);
            conn.mailbox.kick.notify_one();
            self.metrics.slow_closes.inc();
        }
    }

    /// Hands a committed entry to the connections that may see it, in sequence order.
    /// An entry this node already has (an older sequence) is dropped; one ahead of a
    /// missing one waits, and after [`GAP_WAIT`] the missing ones are read from the log.
    pub fn deliver(self: &Arc<Self>, entry: Entry) {
        let event_id = entry.event_id;
        let mut arm_gap_check = false;
        {
            let mut events = self.lock();
            let Some(hub) = events.get_mut(&event_id) else {
                // Nobody of this event is connected to this node.
                return;
            };
            if entry.seq < hub.next {
                return;
            }
            hub.pending.insert(entry.seq, entry);
            while let Some(b) = hub.pending.remove(&hub.next) {
                hub.next += 1;
                hub.outbox.push(b);
            }
            if !hub.pending.is_empty() && !hub.gap_check_armed {
                hub.gap_check_armed = true;
                arm_gap_check = true;
            }
            if !hub.outbox.is_empty() && !hub.flush_armed {
                hub.flush_armed = true;
                let fanout = self.clone();
                tokio::spawn(async move {
                    // Batching without waiting: the flush goes out once what is already
                    // runnable has run (the writers still busy with the last flush, the
                    // rest of the commit that published this entry). Entries that arrive
                    // meanwhile join it, so under load a connection gets several in one
                    // frame, one wake-up and one write; when the node is idle, at once.
                    tokio::task::yield_now().await;
                    let mut events = fanout.lock();
                    if let Some(hub) = events.get_mut(&event_id) {
                        hub.flush_armed = false;
                        fanout.flush(hub);
                    }
                });
            }
        }
        if arm_gap_check {
            let fanout = self.clone();
            tokio::spawn(async move {
                tokio::time::sleep(GAP_WAIT).await;
                fanout.fill_gap(event_id).await;
            });
        }
    }

    /// Reads entries the sequencer still waits for from the database.
    async fn fill_gap(self: Arc<Self>, event_id: i64) {
        let (slug, next, until) = {
            let mut events = self.lock();
            let Some(hub) = events.get_mut(&event_id) else {
                return;
            };
            hub.gap_check_armed = false;
            match hub.pending.keys().next() {
                Some(first) if *first > hub.next => (hub.slug.clone(), hub.next, *first - 1),
                _ => return,
            }
        };
        self.read_log(event_id, slug, next, until).await;
    }

    /// Reads entries `from..=until` of an event from the log and delivers them, a page at
    /// a time.
    async fn read_log(self: &Arc<Self>, event_id: i64, slug: Arc<str>, from: i64, until: i64) {
        let mut after = from - 1;
        while after < until {
            let page = match self
                .backfill
                .since(event_id, slug.clone(), after, (until - after).min(GAP_PAGE))
                .await
            {
                Ok(page) => page,
                Err(e) => {
                    tracing::error!(error = %e, event_id, "live: cannot read the log to fill a gap");
                    return;
                }
            };
            let Some(last) = page.last().map(|e| e.seq) else {
                return;
            };
            self.metrics.gap_entries.inc_by(page.len() as u64);
            for entry in page {
                self.deliver(entry);
            }
            after = last;
        }
    }

    /// After the bus reconnected or dropped messages: every event served here reads at
    /// once what it lacks from the log.
    pub fn catch_up_all(self: &Arc<Self>) {
        self.check_log_end(true);
    }

    /// A lost *last* entry leaves no hole for the sequencer to notice: every event served
    /// here compares its sequence with the log's end, and reads what it lacks. The
    /// periodic check (`at_once` false) reads only what was missing at the check before
    /// too: entries committed a moment ago are usually still on their way from their
    /// publisher, and reading them would render them a second time for nothing.
    fn check_log_end(self: &Arc<Self>, at_once: bool) {
        let events: Vec<(i64, Arc<str>)> = self
            .lock()
            .iter()
            .filter(|(_, hub)| !hub.gap_check_armed)
            .map(|(id, hub)| (*id, hub.slug.clone()))
            .collect();
        for (event_id, slug) in events {
            let fanout = self.clone();
            tokio::spawn(async move {
                let last = match fanout.backfill.last_seq(event_id).await {
                    Ok(last) => last,
                    Err(e) => {
                        tracing::warn!(error = %e, event_id, "live: cannot read the log's end");
                        return;
                    }
                };
                let next = {
                    let mut events = fanout.lock();
                    let Some(hub) = events.get_mut(&event_id) else {
                        return;
                    };
                    if !hub.pending.is_empty() || last < hub.next {
                        hub.behind = None;
                        return;
                    }
                    let seen_before = hub.behind.replace(last);
                    if !at_once && seen_before.is_none_or(|seen| seen < hub.next) {
                        return;
                    }
                    hub.next
                };
                fanout.read_log(event_id, slug, next, last).await;
            });
        }
    }

    /// Hands everything in the outbox to the connections, in order. Several entries in
    /// one go reach a connection in one frame (one line each), one wake-up and one write.
    fn flush(&self, hub: &mut EventHub) {
        let outbox = std::mem::take(&mut hub.outbox);
        let mut rest = &outbox[..];
        while !rest.is_empty() {
            let mut n = 1;
            // Batches are cut by the German frames' size (the languages' differ little).
            let mut bytes = rest[0].frame(0).len();
            while n < rest.len()
                && n < BATCH_ENTRIES
                && bytes + 1 + rest[n].frame(0).len() <= BATCH_BYTES
            {
                bytes += 1 + rest[n].frame(0).len();
                n += 1;
            }
            let (batch, tail) = rest.split_at(n);
            self.fan_out(hub, batch);
            rest = tail;
        }
    }

    /// Offers each connection the entries of `batch` (at most 64) it may see, in one
    /// frame; connections that see the same entries in the same language share the
    /// frame's bytes.
    fn fan_out(&self, hub: &EventHub, batch: &[Entry]) {
        let mut frames: HashMap<(u64, usize), Bytes> = HashMap::new();
        let mut offer_batch = |conn: &Conn| {
            let seen = batch
                .iter()
                .enumerate()
                .filter(|(_, b)| reaches(b, conn))
                .fold(0u64, |seen, (i, _)| seen | 1 << i);
            if seen == 0 {
                return;
            }
            let last = &batch[63 - seen.leading_zeros() as usize];
            let frame = if seen.is_power_of_two() {
                last.frame(conn.lang).clone()
            } else {
                frames
                    .entry((seen, conn.lang))
                    .or_insert_with(|| lines(batch, seen, conn.lang))
                    .clone()
            };
            self.offer(conn, Some(last.seq), &frame);
        };
        // A room's public entries concern only the people in that room.
        let room = batch[0].room.as_ref().filter(|room| {
            batch
                .iter()
                .all(|b| b.audience == Audience::All && b.room.as_ref() == Some(*room))
        });
        match room {
            Some(room) => {
                if let Some(presence) = hub.rooms.get(room) {
                    for id in &presence.conns {
                        if let Some(conn) = hub.conns.get(id) {
                            offer_batch(conn);
                        }
                    }
                }
            }
            None => hub.conns.values().for_each(offer_batch),
        }
    }
}

/// The frames of the entries whose bit is set in `seen`, one per line.
fn lines(batch: &[Entry], seen: u64, lang: usize) -> Bytes {
    let picked = || {
        batch
            .iter()
            .enumerate()
            .filter(move |(i, _)| seen & 1 << i != 0)
            .map(|(_, b)| b.frame(lang))
    };
    let mut text = Vec::with_capacity(picked().map(|f| f.len() + 1).sum());
    for frame in picked() {
        if !text.is_empty() {
            text.push(b'\n');
        }
        text.extend_from_slice(frame);
    }
    Bytes::from(text)
}

/// Whether a connection may see an entry: in its room (or event-wide), and meant for it.
fn reaches(entry: &Entry, conn: &Conn) -> bool {
    entry
        .room
        .as_ref()
        .is_none_or(|room| conn.room.as_ref() == Some(room))
        && entry.visible_to(conn.account, conn.staff)
}

fn join_room(
    hub: &mut EventHub,
    conn: u64,
    room: &str,
    capacity: i64,
) -> Result<Joined, JoinRefusal> {
    let Some(c) = hub.conns.get(&conn) else {
        return Err(JoinRefusal::Gone);
    };
    let account = c.account;
    if c.room.as_deref() == Some(room) {
        let presence = presence_of(hub, room);
        return Ok(Joined {
            muted: presence.muted,
            presence,
            left: None,
        });
    }
    let present = people_in(hub, room);
    // Here with another tab, or counted on another node (a tab there, or the
    // connection this one resumes after its node died): no newcomer.
    let already_here = hub
        .rooms
        .get(room)
        .is_some_and(|r| r.people.contains_key(&account))
        || hub
            .remote
            .values()
            .any(|node| node.rooms.get(room).is_some_and(|p| p.contains(&account)));
    if !already_here && present >= capacity {
        return Err(JoinRefusal::Full);
    }
    // The microphone rule (K4): from the threshold on, everybody who joins is muted.
    let muted = if already_here {
        rule_in_force(present, hub.mute_threshold)
    } else {
        joins_muted(present, hub.mute_threshold)
    };
    let left = leave_room(hub, conn);
    let key: Arc<str> = hub
        .rooms
        .get_key_value(room)
        .map(|(k, _)| k.clone())
        .unwrap_or_else(|| Arc::from(room));
    hub.told_dirty = true;
    let presence = hub.rooms.entry(key.clone()).or_default();
    presence.conns.insert(conn);
    *presence.people.entry(account).or_default() += 1;
    if let Some(c) = hub.conns.get_mut(&conn) {
        c.room = Some(key);
    }
    Ok(Joined {
        muted,
        presence: presence_of(hub, room),
        left,
    })
}

fn presence_of(hub: &EventHub, room: &str) -> Presence {
    let count = people_in(hub, room);
    Presence {
        count,
        muted: rule_in_force(count, hub.mute_threshold),
    }
}

fn leave_room(hub: &mut EventHub, conn: u64) -> Option<(Arc<str>, Presence)> {
    let c = hub.conns.get_mut(&conn)?;
    let room = c.room.take()?;
    let account = c.account;
    hub.told_dirty = true;
    if let Some(presence) = hub.rooms.get_mut(&room) {
        presence.conns.remove(&conn);
        if let Some(n) = presence.people.get_mut(&account) {
            *n -= 1;
            if *n == 0 {
                presence.people.remove(&account);
            }
        }
        if presence.conns.is_empty() {
            hub.rooms.remove(&room);
        }
    }
    let p = presence_of(hub, &room);
    Some((room, p))
}

/// The people in a room over all nodes: this node's and those the others last told of,
/// each person once however many tabs on however many nodes.
fn people_in(hub: &EventHub, room: &str) -> i64 {
    let here = hub.rooms.get(room);
    let mut elsewhere: HashSet<i64> = HashSet::new();
    for people in hub.remote.values().filter_map(|node| node.rooms.get(room)) {
        elsewhere.extend(
            people
                .iter()
                .filter(|a| here.is_none_or(|r| !r.people.contains_key(*a))),
        );
    }
    here.map_or(0, |r| r.people.len() as i64) + elsewhere.len() as i64
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

/// The `presence` frame.
pub fn presence_frame(room: &str, p: Presence, threshold: i64) -> Bytes {
    Bytes::from(
        json!({
            "t": "presence",
            "room": room,
            "count": p.count,
            "muted": p.muted,
            "threshold": threshold,
        })
        .to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::MemoryLog;

    fn fanout() -> Arc<Fanout> {
        Fanout::new(MemoryLog::new(), LiveMetrics::default())
    }

    fn start(id: i64) -> EventStart<'static> {
        EventStart {
            id,
            slug: "k",
            last_seq: 0,
            mute_threshold: 20,
        }
    }

    fn broadcast(event_id: i64, seq: i64) -> Entry {
        Entry {
            event_id,
            seq,
            room: None,
            audience: Audience::All,
            sender_id: None,
            recipient_id: None,
            frames: vec![Bytes::from(format!("{{\"seq\":{seq}}}")); 2].into(),
        }
    }

    /// An entry whose frame is `size` bytes of JSON.
    fn sized(event_id: i64, seq: i64, size: usize) -> Entry {
        let head = format!("{{\"seq\":{seq},\"pad\":\"");
        let pad = "x".repeat(size.saturating_sub(head.len() + 2));
        Entry {
            frames: vec![Bytes::from(format!("{head}{pad}\"}}")); 2].into(),
            ..broadcast(event_id, seq)
        }
    }

    /// The `seq` of every message in a frame (one per line).
    fn seqs_of(out: Out) -> Vec<i64> {
        let Out::Frame { text, .. } = out;
        std::str::from_utf8(&text)
            .expect("UTF-8")
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
        let (mut reg, _) = fanout.register(start(1), 7, false, 0, None);
        fanout.deliver(broadcast(1, 2));
        fanout.deliver(broadcast(1, 3));
        settle().await;
        assert!(reg.rx.try_recv().is_none(), "2 and 3 wait for 1");
        fanout.deliver(broadcast(1, 1));
        fanout.deliver(broadcast(1, 2)); // a duplicate is dropped
        settle().await;
        assert_eq!(all_seqs(&mut reg.rx), vec![1, 2, 3]);
    }

    #[tokio::test]
    async fn a_flush_waits_for_no_timer_and_takes_what_arrived_before_it_ran() {
        let fanout = fanout();
        let (mut reg, _) = fanout.register(start(1), 7, false, 0, None);
        // Only yields below, no sleep: a flush behind a timer would not have gone out.
        // Committed in one go (a group commit publishes its entries one after another).
        for seq in 1..=3 {
            fanout.deliver(broadcast(1, seq));
        }
        for _ in 0..4 {
            tokio::task::yield_now().await;
        }
        let frame = reg.rx.try_recv().expect("flushed without a timer");
        assert_eq!(seqs_of(frame), vec![1, 2, 3], "one frame, one line each");
        fanout.deliver(broadcast(1, 4));
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
        let _first = fanout.register(start(1), 6, false, 0, None);
        fanout.deliver(broadcast(1, 1));
        settle().await;
        fanout.deliver(broadcast(1, 2)); // waits for the next flush
        let (mut reg, _) = fanout.register(start(1), 7, false, 0, None);
        assert_eq!(reg.seq, 1, "2 comes through the queue, not from the log");
        settle().await;
        assert_eq!(all_seqs(&mut reg.rx), vec![2]);
    }

    #[tokio::test]
    async fn a_client_that_stops_reading_is_told_to_go_once_and_others_get_everything() {
        let fanout = fanout();
        let (stalled, _) = fanout.register(start(1), 1, false, 0, None);
        let (mut healthy, _) = fanout.register(start(1), 2, false, 0, None);
        // Frames of 16 KiB: the stalled queue reaches its byte bound long before its
        // count of frames.
        let total = 200;
        let mut received = Vec::new();
        for seq in 1..=total {
            fanout.deliver(sized(1, seq, 16 * 1024));
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
        let (stalled, _) = fanout.register(start(1), 1, false, 0, None);
        for i in 0..QUEUE_FRAMES * 2 {
            fanout.to_conn(1, stalled.id, Bytes::from(format!("{{\"n\":{i}}}")));
        }
        tokio::time::timeout(Duration::from_secs(1), stalled.kick.notified())
            .await
            .expect("the stalled connection was told to close");
        assert_eq!(fanout.slow_kicks(), 1);
        assert_eq!(stalled.rx.len(), QUEUE_FRAMES, "its queue stays bounded");
    }

    #[tokio::test]
    async fn a_queue_holds_no_buffer_while_idle_and_ends_after_what_was_queued_before_removal() {
        let fanout = fanout();
        let (mut reg, _) = fanout.register(start(1), 1, false, 0, None);
        assert_eq!(reg.rx.shared.frames().capacity(), 0, "idle: no buffer");
        // A burst grows the buffer; taking it all gives the buffer back.
        for i in 0..200 {
            fanout.to_conn(1, reg.id, Bytes::from(format!("{{\"n\":{i}}}")));
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
        fanout.to_conn(1, id, Bytes::from_static(b"{}"));
        fanout.to_conn(1, id, Bytes::from_static(b"{}"));
        // Removed: the frames queued before still arrive, then the queue ends.
        fanout.unregister(1, id);
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
        let (mut anna, _) = fanout.register(start(1), 1, false, 0, Some(("plenum", 100)));
        let (mut ben, _) = fanout.register(start(1), 2, false, 0, Some(("plenum", 100)));
        let (mut carla, _) = fanout.register(start(1), 3, false, 0, Some(("lounge", 100)));
        let (mut helper, _) = fanout.register(start(1), 4, true, 0, None);
        let in_room = |seq, room: &str| Entry {
            room: Some(Arc::from(room)),
            ..broadcast(1, seq)
        };
        // The first flush goes out alone; what arrives while it is due shares the next.
        fanout.deliver(in_room(1, "plenum"));
        settle().await;
        fanout.deliver(in_room(2, "plenum"));
        fanout.deliver(in_room(3, "lounge"));
        fanout.deliver(Entry {
            audience: Audience::Direct,
            sender_id: Some(1),
            recipient_id: Some(4),
            ..broadcast(1, 4)
        });
        fanout.deliver(broadcast(1, 5));
        fanout.deliver(Entry {
            audience: Audience::Staff,
            sender_id: Some(2),
            ..broadcast(1, 6)
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
        let (mut reg, _) = fanout.register(start(1), 1, false, 0, Some(("plenum", 100)));
        log.push(broadcast(1, 1));
        log.push(broadcast(1, 2));
        // Only the second is published; the first writer "died" after its commit.
        fanout.deliver(broadcast(1, 2));
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
        let (mut reg, _) = fanout.register(start(1), 1, false, 0, None);
        log.push(broadcast(1, 1));
        let out = tokio::time::timeout(Duration::from_secs(3), reg.rx.recv())
            .await
            .expect("caught up in time")
            .expect("open");
        assert_eq!(seqs_of(out), vec![1]);
    }

    #[tokio::test]
    async fn rooms_count_the_people_of_every_node_once_and_forget_a_silent_node() {
        let fanout = fanout();
        let (_anna, joined) = fanout.register(start(1), 1, false, 0, Some(("plenum", 3)));
        assert_eq!(joined.expect("asked").expect("room").presence.count, 1);
        let other = fanout.node() ^ 1;
        // Anna has a second tab on the other node: she counts once.
        fanout.remote_presence(
            1,
            other,
            HashMap::from([("plenum".to_owned(), vec![1, 2, 3])]),
        );
        assert_eq!(fanout.presence(1, "plenum").count, 3);
        assert_eq!(fanout.headcounts(1).get("plenum"), Some(&3));
        let (_dora, joined) = fanout.register(start(1), 4, false, 0, Some(("plenum", 3)));
        assert_eq!(
            joined.expect("asked").expect_err("full over both nodes"),
            JoinRefusal::Full
        );
        // Ben's node died; he resumes here before it is forgotten: he is no newcomer.
        let (_ben, joined) = fanout.register(start(1), 2, false, 0, Some(("plenum", 3)));
        assert_eq!(joined.expect("asked").expect("room").presence.count, 3);
        // A node that stopped telling is forgotten after PEER_TIMEOUT.
        if let Some(hub) = fanout.lock().get_mut(&1)
            && let Some(node) = hub.remote.get_mut(&other)
        {
            node.heard = Instant::now() - PEER_TIMEOUT;
        }
        fanout.send_presence();
        assert_eq!(fanout.presence(1, "plenum").count, 2, "Anna and Ben");
    }

    /// A bus that keeps what a node tells the others of its rooms.
    #[derive(Default)]
    struct Told(Mutex<Vec<HashMap<String, Vec<i64>>>>);

    impl Bus for Told {
        fn publish(&self, _entry: Entry) {}
        fn presence(&self, _event_id: i64, snapshot: &HashMap<String, Vec<i64>>) {
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
        let mut join = |node: &Arc<Fanout>, account: i64| {
            let (reg, joined) = node.register(start(1), account, false, 0, Some(("plenum", 10)));
            kept.push(reg);
            joined.expect("asked").is_ok()
        };
        // Within one presence tick neither has heard of the other's six.
        let admitted =
            (1..=6).filter(|n| join(&a, *n)).count() + (7..=12).filter(|n| join(&b, *n)).count();
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
        b.remote_presence(1, a.node(), last(&told_a));
        a.remote_presence(1, b.node(), last(&told_b));
        assert_eq!(a.presence(1, "plenum").count, 12);
        assert_eq!(b.presence(1, "plenum").count, 12);
        assert!(!join(&a, 13) && !join(&b, 14), "full over both nodes");
    }

    #[tokio::test]
    async fn an_event_nobody_here_is_connected_to_is_forgotten_and_starts_afresh() {
        let fanout = fanout();
        let (reg, _) = fanout.register(start(1), 1, false, 0, None);
        fanout.deliver(broadcast(1, 1));
        fanout.unregister(1, reg.id);
        assert!(fanout.lock().get(&1).is_none());
        let (reg, _) = fanout.register(
            EventStart {
                last_seq: 40,
                ..start(1)
            },
            1,
            false,
            0,
            None,
        );
        assert_eq!(reg.seq, 40, "the sequencer starts where the log is now");
    }
}
