//! The live hub (DESIGN.md "Live hub", "Bus"): which connection is in which event and
//! room, and the fan-out of committed live-log entries to them.
//!
//! A committed entry is serialised once into an `ev` frame; the same bytes are queued on
//! every connection that may see it. Each connection's queue is bounded: when it is full
//! the connection is told to close (it resumes from its last sequence), so a client that
//! stops reading costs at most one full queue. Entries reach the fan-out through a
//! [`Bus`] (in-process here; a broker when several nodes share events), and a sequencer
//! per event hands them to connections strictly in sequence order even when the writers
//! that committed them publish out of order.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use konvent_core::konvent::{joins_muted, rule_in_force};
use konvent_store::{Audience, LiveRecord, Store};

use super::fragments::{self, DomOp, Fx};
use crate::i18n::Lang;
use crate::metrics::LiveMetrics;
use serde_json::json;
use tokio::sync::{Notify, mpsc};

/// How many frames a connection may have waiting before it counts as too slow …
pub const QUEUE_FRAMES: usize = 1024;
/// … and how many bytes they may hold (a frame larger than this alone is let through).
/// Frames are shared between connections, so this bounds what one slow client keeps
/// alive, not a copy of its own.
pub const QUEUE_BYTES: usize = 1024 * 1024;

/// Headcounts go out at most this often per room: a join would otherwise tell every one
/// of a thousand people in the room, a thousand times over while a room fills.
pub const PRESENCE_TICK: Duration = Duration::from_millis(500);

/// Under load, entries are handed to connections at most this often per event (the
/// window grows with the audience up to [`MAX_COALESCE`]), so that a connection gets
/// several in one frame and one system call instead of one each (waking connections
/// and writing is most of a broadcast's cost). An entry after a quiet spell goes out
/// at once.
pub const COALESCE: Duration = Duration::from_millis(10);
/// The longest coalescing window, for the largest audiences (10,000 connections).
pub const MAX_COALESCE: Duration = Duration::from_millis(200);

/// Entries one frame carries at most (one JSON object per line) …
const BATCH_ENTRIES: usize = 64;
/// … and bytes, unless a single entry is larger.
const BATCH_BYTES: usize = 64 * 1024;

/// The coalescing window of an event with `conns` connections: a flush costs a wake-up
/// and a write per connection, so the window grows with the audience (20 µs per
/// connection, about what one wake-up and write cost) from [`COALESCE`] up to
/// [`MAX_COALESCE`]: flushes then come no faster than connections can write them out.
/// A busy chat in a room of a thousand costs 50 writes a second per person rather than
/// 100; in a room of 5,000 (100 ms) the connections write 10 frames a second with all
/// lines in them, instead of falling behind on one frame per line.
fn coalesce(conns: usize) -> Duration {
    Duration::from_micros(20 * conns as u64).clamp(COALESCE, MAX_COALESCE)
}

/// How long the sequencer waits for a missing sequence number before it reads it from the
/// database (a writer that committed and then failed to publish).
const GAP_WAIT: Duration = Duration::from_millis(250);

/// A committed entry on its way to connections: who may see it, and its frame in each
/// language (its page fragments are rendered once per language, shared by everybody).
#[derive(Debug, Clone)]
pub struct Broadcast {
    pub event_id: i64,
    pub seq: i64,
    pub room: Option<Arc<str>>,
    pub audience: Audience,
    pub sender_id: Option<i64>,
    pub recipient_id: Option<i64>,
    /// The entry, until the fan-out renders its frames (it knows the event's slug).
    record: Option<Arc<LiveRecord>>,
    /// The `ev` frame per [`Lang`] (German first); empty until rendered.
    frames: [Utf8Bytes; 2],
}

impl Broadcast {
    pub fn from_record(record: &LiveRecord) -> Self {
        Self {
            event_id: record.event_id,
            seq: record.seq,
            room: record.room.as_deref().map(Arc::from),
            audience: record.audience,
            sender_id: record.sender_id,
            recipient_id: record.recipient_id,
            record: Some(Arc::new(record.clone())),
            frames: Default::default(),
        }
    }

    /// Renders the frames once, for the event `slug`.
    fn render(&mut self, slug: &str) {
        if let Some(record) = self.record.take() {
            self.frames =
                LANGS.map(|lang| Utf8Bytes::from(ev_frame(&record, Some(&Fx::live(lang, slug)))));
        }
    }

    fn frame(&self, lang: Lang) -> &Utf8Bytes {
        &self.frames[lang as usize]
    }

    /// Whether a connection may see this entry: in its room (or event-wide), and meant
    /// for it.
    fn reaches(&self, conn: &Conn) -> bool {
        self.room
            .as_ref()
            .is_none_or(|room| conn.room.as_ref() == Some(room))
            && self.visible_to(conn.account, conn.staff)
    }

    fn visible_to(&self, account: i64, staff: bool) -> bool {
        match self.audience {
            Audience::All => true,
            Audience::Staff => {
                staff || self.sender_id == Some(account) || self.recipient_id == Some(account)
            }
            Audience::Direct => {
                self.sender_id == Some(account) || self.recipient_id == Some(account)
            }
        }
    }
}

/// The languages frames are rendered in, in [`Lang`]'s order.
const LANGS: [Lang; 2] = [Lang::De, Lang::En];

/// The `ev` frame of `docs/live-protocol.md`, with the page changes of its fragments
/// (`dom`) rendered as `fx` says (none without). Its keys come in a fixed order, the type and sequence
/// number first, so a client can dispatch on the frame's first bytes.
pub fn ev_frame(record: &LiveRecord, fx: Option<&Fx>) -> String {
    #[derive(serde::Serialize)]
    struct Ev<'a> {
        t: &'static str,
        seq: i64,
        kind: &'a str,
        room: Option<&'a str>,
        at: String,
        data: &'a serde_json::Value,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        dom: Vec<DomOp>,
    }
    serde_json::to_string(&Ev {
        t: "ev",
        seq: record.seq,
        kind: &record.kind,
        room: record.room.as_deref(),
        at: konvent_store::timestamp(record.at).to_string(),
        data: &record.data,
        dom: fx.map(|fx| fragments::ops(record, fx)).unwrap_or_default(),
    })
    .unwrap_or_default()
}

/// Carries committed entries to every node's fan-out. In-process by default; an
/// implementation over a message broker lets several nodes serve one event, each
/// calling [`Fanout::deliver`] for what it receives.
pub trait Bus: Send + Sync + 'static {
    fn publish(&self, broadcast: Broadcast);
}

/// The bus of a single node: publishing is delivering.
pub struct InProcessBus {
    fanout: Weak<Fanout>,
}

impl Bus for InProcessBus {
    fn publish(&self, broadcast: Broadcast) {
        if let Some(fanout) = self.fanout.upgrade() {
            fanout.deliver(broadcast);
        }
    }
}

/// What a connection task receives.
#[derive(Debug, Clone)]
pub enum Out {
    /// A frame for this client; `seq` is set for `ev` frames.
    Frame { seq: Option<i64>, text: Utf8Bytes },
}

/// A connection's end of its queue: the frames waiting for it, in order.
pub struct Inbox {
    rx: mpsc::Receiver<Out>,
    /// Bytes of the frames waiting (shared with the fan-out's end).
    bytes: Arc<AtomicUsize>,
}

impl Inbox {
    /// The next frame; `None` when the fan-out let go of the connection.
    pub async fn recv(&mut self) -> Option<Out> {
        let out = self.rx.recv().await?;
        Some(self.taken(out))
    }

    pub fn try_recv(&mut self) -> Option<Out> {
        let out = self.rx.try_recv().ok()?;
        Some(self.taken(out))
    }

    /// Frames waiting.
    pub fn len(&self) -> usize {
        self.rx.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rx.is_empty()
    }

    fn taken(&self, out: Out) -> Out {
        let Out::Frame { text, .. } = &out;
        self.bytes.fetch_sub(text.len(), Ordering::Relaxed);
        out
    }
}

/// Why the hub tells a connection to close (read by the connection once its `kick`
/// fires).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Goodbye {
    /// Its queue is full: it resumes from its last sequence (4008).
    Slow = 0,
    /// Its account's grants or event roles changed: it reconnects, and the server
    /// derives its rights anew (4003).
    RightsChanged = 1,
    /// Its account signed out (4001).
    SignedOut = 2,
}

impl Goodbye {
    /// The reason a connection was told to close, as stored by the hub.
    pub fn of(reason: &AtomicU8) -> Self {
        match reason.load(Ordering::Acquire) {
            1 => Self::RightsChanged,
            2 => Self::SignedOut,
            _ => Self::Slow,
        }
    }
}

/// One connection as the fan-out sees it.
struct Conn {
    tx: mpsc::Sender<Out>,
    /// Bytes of the frames in its queue.
    queued: Arc<AtomicUsize>,
    kick: Arc<Notify>,
    /// Why it was told to close (a [`Goodbye`]); set before `kick` fires.
    goodbye: Arc<AtomicU8>,
    /// Set once the connection was told to close for being slow.
    kicked: AtomicBool,
    account: i64,
    staff: bool,
    /// The language its page is in (which of an entry's frames it gets).
    lang: Lang,
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
    pending: BTreeMap<i64, Broadcast>,
    gap_check_armed: bool,
    conns: HashMap<u64, Conn>,
    rooms: HashMap<Arc<str>, RoomPresence>,
    mute_threshold: i64,
    /// Rooms whose headcount changed since the last presence tick.
    presence_dirty: HashSet<Arc<str>>,
    /// Entries in order, waiting for the next flush to connections.
    outbox: Vec<Broadcast>,
    last_flush: std::time::Instant,
    flush_armed: bool,
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
    store: Store,
    events: Mutex<HashMap<i64, EventHub>>,
    next_conn: AtomicU64,
    metrics: LiveMetrics,
    ticking: AtomicBool,
}

/// A registered connection: its id, its queue, the signal that it is too slow, and the
/// last sequence number handed out before it was registered (everything after it
/// arrives through the queue).
pub struct Registration {
    pub id: u64,
    pub rx: Inbox,
    pub kick: Arc<Notify>,
    /// Why `kick` fired ([`Goodbye::of`]).
    pub goodbye: Arc<AtomicU8>,
    pub seq: i64,
}

impl Fanout {
    pub fn new(store: Store, metrics: LiveMetrics) -> Arc<Self> {
        Arc::new(Self {
            store,
            events: Mutex::new(HashMap::new()),
            next_conn: AtomicU64::new(1),
            metrics,
            ticking: AtomicBool::new(false),
        })
    }

    pub fn in_process_bus(self: &Arc<Self>) -> Arc<dyn Bus> {
        Arc::new(InProcessBus {
            fanout: Arc::downgrade(self),
        })
    }

    /// Connections closed because their queue was full, since start.
    pub fn slow_kicks(&self) -> u64 {
        self.metrics.slow_closes.get()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, EventHub>> {
        // A panic while holding the lock leaves plain maps behind; keep serving.
        self.events.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Makes sure the event has a hub, starting its sequencer at the event's current
    /// sequence number.
    pub fn ensure_event(
        self: &Arc<Self>,
        event_id: i64,
        slug: &str,
        last_seq: i64,
        mute_threshold: i64,
    ) {
        if !self.ticking.swap(true, Ordering::Relaxed) {
            let fanout = Arc::downgrade(self);
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(PRESENCE_TICK);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tick.tick().await;
                    let Some(fanout) = fanout.upgrade() else {
                        return;
                    };
                    fanout.send_presence();
                }
            });
        }
        let mut events = self.lock();
        let hub = events.entry(event_id).or_insert_with(|| EventHub {
            slug: Arc::from(slug),
            next: last_seq + 1,
            pending: BTreeMap::new(),
            gap_check_armed: false,
            conns: HashMap::new(),
            rooms: HashMap::new(),
            mute_threshold,
            presence_dirty: HashSet::new(),
            outbox: Vec::new(),
            last_flush: std::time::Instant::now()
                .checked_sub(MAX_COALESCE)
                .unwrap_or_else(std::time::Instant::now),
            flush_armed: false,
        });
        hub.mute_threshold = mute_threshold;
    }

    /// Registers a connection and, in the same step, puts it into `room` (slug and
    /// capacity) when one is given: everything after the returned sequence number that
    /// the connection may see then reaches its queue. A full room leaves it in no room.
    pub fn register(
        &self,
        event_id: i64,
        account: i64,
        staff: bool,
        lang: Lang,
        room: Option<(&str, i64)>,
    ) -> Option<(Registration, Option<Result<Joined, JoinRefusal>>)> {
        let mut events = self.lock();
        let hub = events.get_mut(&event_id)?;
        let id = self.next_conn.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel(QUEUE_FRAMES);
        let queued = Arc::new(AtomicUsize::new(0));
        let rx = Inbox {
            rx,
            bytes: queued.clone(),
        };
        let kick = Arc::new(Notify::new());
        let goodbye = Arc::new(AtomicU8::new(Goodbye::Slow as u8));
        self.metrics.connections.inc();
        hub.conns.insert(
            id,
            Conn {
                tx,
                queued,
                kick: kick.clone(),
                goodbye: goodbye.clone(),
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
            goodbye,
            seq: hub.next - 1 - hub.outbox.len() as i64,
        };
        Some((registration, joined))
    }

    /// Removes a connection; answers the presence of the room it was in.
    pub fn unregister(&self, event_id: i64, conn: u64) -> Option<(Arc<str>, Presence)> {
        let mut events = self.lock();
        let hub = events.get_mut(&event_id)?;
        let left = leave_room(hub, conn);
        if hub.conns.remove(&conn).is_some() {
            self.metrics.connections.dec();
        }
        left
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
    pub fn remove_account_from_event(&self, event_id: i64, account: i64, last: Utf8Bytes) -> usize {
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
                    let _ = conn.tx.try_send(Out::Frame {
                        seq: None,
                        text: last.clone(),
                    });
                    self.metrics.connections.dec();
                    closed += 1;
                }
            }
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

    /// The headcount of every room of an event with someone in it.
    pub fn headcounts(&self, event_id: i64) -> HashMap<String, i64> {
        let events = self.lock();
        events
            .get(&event_id)
            .map(|hub| {
                hub.rooms
                    .iter()
                    .map(|(k, r)| (k.to_string(), r.people.len() as i64))
                    .collect()
            })
            .unwrap_or_default()
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

    /// Sends each changed room its headcount and microphone mode (ephemeral, not logged).
    pub fn send_presence(&self) {
        let mut events = self.lock();
        for hub in events.values_mut() {
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

    /// Queues a frame for one connection.
    pub fn to_conn(&self, event_id: i64, conn: u64, text: Utf8Bytes) {
        let events = self.lock();
        if let Some(c) = events.get(&event_id).and_then(|h| h.conns.get(&conn)) {
            self.offer(c, None, &text);
        }
    }

    /// Queues frames for many connections of an event under one lock: each frame for its
    /// list of connections (the map's position frames, one per area of interest).
    pub fn to_many(&self, event_id: i64, frames: &[(Vec<u64>, Utf8Bytes)]) {
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

    fn offer(&self, conn: &Conn, seq: Option<i64>, text: &Utf8Bytes) {
        let len = text.len();
        let waiting = conn.queued.fetch_add(len, Ordering::Relaxed);
        if waiting > 0 && waiting + len > QUEUE_BYTES {
            conn.queued.fetch_sub(len, Ordering::Relaxed);
            self.too_slow(conn);
            return;
        }
        let out = Out::Frame {
            seq,
            text: text.clone(),
        };
        match conn.tx.try_send(out) {
            Ok(()) => {
                self.metrics.deliveries.inc();
            }
            Err(e) => {
                conn.queued.fetch_sub(len, Ordering::Relaxed);
                if let mpsc::error::TrySendError::Full(_) = e {
                    self.too_slow(conn);
                }
            }
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
            conn.goodbye.fetch_max(why as u8, Ordering::AcqRel);
            conn.kick.notify_one();
            closed += 1;
        }
        closed
    }

    /// Tells a connection whose queue is full to close; it resumes from its last seq.
    fn too_slow(&self, conn: &Conn) {
        if !conn.kicked.swap(true, Ordering::Relaxed) {
            conn.kick.notify_one();
            self.metrics.slow_closes.inc();
        }
    }

    /// Hands a committed entry to the connections that may see it, in sequence order.
    pub fn deliver(self: &Arc<Self>, mut broadcast: Broadcast) {
        let event_id = broadcast.event_id;
        let mut arm_gap_check = false;
        {
            let mut events = self.lock();
            let Some(hub) = events.get_mut(&event_id) else {
                // Nobody of this event is connected to this node.
                return;
            };
            if broadcast.seq < hub.next {
                return;
            }
            broadcast.render(&hub.slug);
            hub.pending.insert(broadcast.seq, broadcast);
            while let Some(b) = hub.pending.remove(&hub.next) {
                hub.next += 1;
                hub.outbox.push(b);
            }
            if !hub.pending.is_empty() && !hub.gap_check_armed {
                hub.gap_check_armed = true;
                arm_gap_check = true;
            }
            if !hub.outbox.is_empty() && !hub.flush_armed {
                let since = hub.last_flush.elapsed();
                let window = coalesce(hub.conns.len());
                if since >= window {
                    self.flush(hub);
                } else {
                    hub.flush_armed = true;
                    let fanout = self.clone();
                    tokio::spawn(async move {
                        tokio::time::sleep(window - since).await;
                        let mut events = fanout.lock();
                        if let Some(hub) = events.get_mut(&event_id) {
                            hub.flush_armed = false;
                            fanout.flush(hub);
                        }
                    });
                }
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
        let (next, until) = {
            let mut events = self.lock();
            let Some(hub) = events.get_mut(&event_id) else {
                return;
            };
            hub.gap_check_armed = false;
            match hub.pending.keys().next() {
                Some(first) if *first > hub.next => (hub.next, *first),
                _ => return,
            }
        };
        match self
            .store
            .live_since(event_id, next - 1, until - next)
            .await
        {
            Ok(records) => {
                for record in records {
                    self.deliver(Broadcast::from_record(&record));
                }
            }
            Err(e) => tracing::error!(error = %e, event_id, "live: cannot fill a gap"),
        }
    }

    /// Hands everything in the outbox to the connections, in order. Several entries in
    /// one go reach a connection in one frame (one line each), one wake-up and one write.
    fn flush(&self, hub: &mut EventHub) {
        hub.last_flush = std::time::Instant::now();
        let outbox = std::mem::take(&mut hub.outbox);
        let mut rest = &outbox[..];
        while !rest.is_empty() {
            let mut n = 1;
            // Batches are cut by the German frames' size (the languages' differ little).
            let mut bytes = rest[0].frame(Lang::De).len();
            while n < rest.len()
                && n < BATCH_ENTRIES
                && bytes + 1 + rest[n].frame(Lang::De).len() <= BATCH_BYTES
            {
                bytes += 1 + rest[n].frame(Lang::De).len();
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
    fn fan_out(&self, hub: &EventHub, batch: &[Broadcast]) {
        let mut frames: HashMap<(u64, Lang), Utf8Bytes> = HashMap::new();
        let mut offer_batch = |conn: &Conn| {
            let seen = batch
                .iter()
                .enumerate()
                .filter(|(_, b)| b.reaches(conn))
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
fn lines(batch: &[Broadcast], seen: u64, lang: Lang) -> Utf8Bytes {
    let mut text = String::with_capacity(
        batch
            .iter()
            .enumerate()
            .filter(|(i, _)| seen & 1 << i != 0)
            .map(|(_, b)| b.frame(lang).len() + 1)
            .sum(),
    );
    for (_, b) in batch.iter().enumerate().filter(|(i, _)| seen & 1 << i != 0) {
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(b.frame(lang).as_str());
    }
    Utf8Bytes::from(text)
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
    let present = hub.rooms.get(room).map_or(0, |r| r.people.len() as i64);
    let already_here = hub
        .rooms
        .get(room)
        .is_some_and(|r| r.people.contains_key(&account));
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
    let count = hub.rooms.get(room).map_or(0, |r| r.people.len() as i64);
    Presence {
        count,
        muted: rule_in_force(count, hub.mute_threshold),
    }
}

fn leave_room(hub: &mut EventHub, conn: u64) -> Option<(Arc<str>, Presence)> {
    let c = hub.conns.get_mut(&conn)?;
    let room = c.room.take()?;
    let account = c.account;
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

/// The `presence` frame.
pub fn presence_frame(room: &str, p: Presence, threshold: i64) -> Utf8Bytes {
    Utf8Bytes::from(
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
    use konvent_store::Who;

    async fn store() -> (Store, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("konvent-hub-{}", konvent_store::new_token()));
        let store = Store::open_data_dir(&dir).await.expect("store");
        (store, dir)
    }

    fn broadcast(event_id: i64, seq: i64) -> Broadcast {
        Broadcast {
            event_id,
            seq,
            room: None,
            audience: Audience::All,
            sender_id: None,
            recipient_id: None,
            record: None,
            frames: [0, 1].map(|_| Utf8Bytes::from(format!("{{\"seq\":{seq}}}"))),
        }
    }

    /// An entry whose frame is `size` bytes of JSON.
    fn sized(event_id: i64, seq: i64, size: usize) -> Broadcast {
        let head = format!("{{\"seq\":{seq},\"pad\":\"");
        let pad = "x".repeat(size.saturating_sub(head.len() + 2));
        Broadcast {
            frames: [0, 1].map(|_| Utf8Bytes::from(format!("{head}{pad}\"}}"))),
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

    fn all_seqs(inbox: &mut Inbox) -> Vec<i64> {
        std::iter::from_fn(|| inbox.try_recv())
            .flat_map(seqs_of)
            .collect()
    }

    #[tokio::test]
    async fn entries_reach_connections_in_sequence_order_whatever_the_publish_order() {
        let (store, dir) = store().await;
        let fanout = Fanout::new(store, LiveMetrics::default());
        fanout.ensure_event(1, "k", 0, 20);
        let (mut reg, _) = fanout
            .register(1, 7, false, Lang::De, None)
            .expect("registered");
        fanout.deliver(broadcast(1, 2));
        fanout.deliver(broadcast(1, 3));
        tokio::time::sleep(COALESCE * 2).await;
        assert!(reg.rx.try_recv().is_none(), "2 and 3 wait for 1");
        fanout.deliver(broadcast(1, 1));
        fanout.deliver(broadcast(1, 2)); // a duplicate is dropped
        tokio::time::sleep(COALESCE * 2).await;
        assert_eq!(all_seqs(&mut reg.rx), vec![1, 2, 3]);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn a_connection_registered_before_a_flush_gets_the_outbox_and_not_the_log() {
        let (store, dir) = store().await;
        let fanout = Fanout::new(store, LiveMetrics::default());
        fanout.ensure_event(1, "k", 0, 20);
        fanout.deliver(broadcast(1, 1)); // after a quiet spell: out at once
        fanout.deliver(broadcast(1, 2)); // waits for the next flush
        let (mut reg, _) = fanout
            .register(1, 7, false, Lang::De, None)
            .expect("registered");
        assert_eq!(reg.seq, 1, "2 comes through the queue, not from the log");
        tokio::time::sleep(COALESCE * 2).await;
        assert_eq!(all_seqs(&mut reg.rx), vec![2]);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn a_client_that_stops_reading_is_told_to_go_once_and_others_get_everything() {
        let (store, dir) = store().await;
        let fanout = Fanout::new(store, LiveMetrics::default());
        fanout.ensure_event(1, "k", 0, 20);
        let (stalled, _) = fanout
            .register(1, 1, false, Lang::De, None)
            .expect("registered");
        let (mut healthy, _) = fanout
            .register(1, 2, false, Lang::De, None)
            .expect("registered");
        // Frames of 16 KiB: the stalled queue reaches its byte bound long before its
        // count of frames.
        let total = 200;
        let mut received = Vec::new();
        for seq in 1..=total {
            fanout.deliver(sized(1, seq, 16 * 1024));
            if seq % 16 == 0 {
                tokio::time::sleep(COALESCE * 2).await;
            }
            received.extend(all_seqs(&mut healthy.rx));
        }
        tokio::time::sleep(COALESCE * 2).await;
        received.extend(all_seqs(&mut healthy.rx));
        assert_eq!(received, (1..=total).collect::<Vec<_>>());
        tokio::time::timeout(Duration::from_secs(1), stalled.kick.notified())
            .await
            .expect("the stalled connection was told to close");
        assert_eq!(fanout.slow_kicks(), 1, "counted once");
        let waiting = stalled.rx.bytes.load(Ordering::Relaxed);
        assert!(
            waiting <= QUEUE_BYTES && waiting > QUEUE_BYTES / 2,
            "its queue stays bounded: {waiting} bytes"
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn a_queue_of_many_small_frames_is_bounded_by_their_count() {
        let (store, dir) = store().await;
        let fanout = Fanout::new(store, LiveMetrics::default());
        fanout.ensure_event(1, "k", 0, 20);
        let (stalled, _) = fanout
            .register(1, 1, false, Lang::De, None)
            .expect("registered");
        for i in 0..QUEUE_FRAMES * 2 {
            fanout.to_conn(1, stalled.id, Utf8Bytes::from(format!("{{\"n\":{i}}}")));
        }
        tokio::time::timeout(Duration::from_secs(1), stalled.kick.notified())
            .await
            .expect("the stalled connection was told to close");
        assert_eq!(fanout.slow_kicks(), 1);
        assert_eq!(stalled.rx.len(), QUEUE_FRAMES, "its queue stays bounded");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn entries_of_one_flush_share_a_frame_one_per_line_and_only_what_each_may_see() {
        let (store, dir) = store().await;
        let fanout = Fanout::new(store, LiveMetrics::default());
        fanout.ensure_event(1, "k", 0, 20);
        let (mut anna, _) = fanout
            .register(1, 1, false, Lang::De, Some(("plenum", 100)))
            .expect("registered");
        let (mut ben, _) = fanout
            .register(1, 2, false, Lang::De, Some(("plenum", 100)))
            .expect("registered");
        let (mut carla, _) = fanout
            .register(1, 3, false, Lang::De, Some(("lounge", 100)))
            .expect("registered");
        let (mut helper, _) = fanout
            .register(1, 4, true, Lang::De, None)
            .expect("registered");
        let in_room = |seq, room: &str| Broadcast {
            room: Some(Arc::from(room)),
            ..broadcast(1, seq)
        };
        // After a quiet spell the first entry goes out at once; the rest share a flush.
        fanout.deliver(in_room(1, "plenum"));
        fanout.deliver(in_room(2, "plenum"));
        fanout.deliver(in_room(3, "lounge"));
        fanout.deliver(Broadcast {
            audience: Audience::Direct,
            sender_id: Some(1),
            recipient_id: Some(4),
            ..broadcast(1, 4)
        });
        fanout.deliver(broadcast(1, 5));
        fanout.deliver(Broadcast {
            audience: Audience::Staff,
            sender_id: Some(2),
            ..broadcast(1, 6)
        });
        tokio::time::sleep(COALESCE * 3).await;
        let frames = |inbox: &mut Inbox| -> Vec<Vec<i64>> {
            std::iter::from_fn(|| inbox.try_recv())
                .map(seqs_of)
                .collect()
        };
        assert_eq!(frames(&mut anna.rx), vec![vec![1], vec![2, 4, 5]]);
        assert_eq!(frames(&mut ben.rx), vec![vec![1], vec![2, 5, 6]]);
        assert_eq!(frames(&mut carla.rx), vec![vec![3, 5]]);
        assert_eq!(frames(&mut helper.rx), vec![vec![4, 5, 6]]);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn a_gap_left_by_a_writer_that_never_published_is_filled_from_the_log() {
        let (store, dir) = store().await;
        konvent_store::demo::load(&store, 21).await.expect("demo");
        let event = store.event("strategiekonvent-2025").await.expect("event");
        let fanout = Fanout::new(store.clone(), LiveMetrics::default());
        fanout.ensure_event(event.id, &event.slug, event.last_seq, 20);
        let (mut reg, joined) = fanout
            .register(event.id, 1, false, Lang::De, Some(("plenum", 100)))
            .expect("registered");
        assert!(matches!(joined, Some(Ok(_))));
        let who = Who::new(1, "Demo");
        let first = store
            .post_chat(event.id, "plenum", &who, None, "eins", "<p>eins</p>")
            .await
            .expect("chat");
        let second = store
            .post_chat(event.id, "plenum", &who, None, "zwei", "<p>zwei</p>")
            .await
            .expect("chat");
        // Only the second is published; the first writer "died" after its commit.
        fanout.deliver(Broadcast::from_record(&second.record));
        let mut got = Vec::new();
        while got.len() < 2 {
            let out = tokio::time::timeout(Duration::from_secs(2), reg.rx.recv())
                .await
                .expect("filled in time")
                .expect("open");
            got.extend(seqs_of(out));
        }
        assert_eq!(got, vec![first.record.seq, second.record.seq]);
        let _ = std::fs::remove_dir_all(dir);
    }
}
