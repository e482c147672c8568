//! Which connection is in which event and room: registering a connection (the first one
//! of an event starts serving it on this node), moving it between rooms within their
//! capacity and the microphone rule (K4), and letting go of it, or of every connection
//! of an account removed from the event (K17).

use konvent_core::ids::{AccountId, EventId};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::Text;
use futures_util::task::AtomicWaker;
use konvent_core::convention::{joins_muted, rule_in_force};

use super::presence::{people_in, presence_of};
use super::{Conn, EventHub, Fanout, Inbox, Kick, Mailbox, Out, Presence};

/// What the hub needs to know of an event to start serving it on this node. `last_seq`
/// is read from the database just before (the sequencer starts after it).
#[derive(Debug, Clone, Copy)]
pub struct EventStart<'a> {
    pub id: EventId,
    pub slug: &'a str,
    pub last_seq: i64,
    pub mute_threshold: i64,
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

/// A registered connection: its id, its queue, the signal that it is too slow, and the
/// last sequence number handed out before it was registered (everything after it
/// arrives through the queue).
pub struct Registration {
    pub id: u64,
    pub rx: Inbox,
    pub kick: Kick,
    pub seq: i64,
}

impl Fanout {
    /// Registers a connection and, in the same step, puts it into `room` (slug and
    /// capacity) when one is given: everything after the returned sequence number that
    /// the connection may see then reaches its queue. A full room leaves it in no room.
    ///
    /// The first connection of an event on this node starts serving it: its sequencer
    /// starts after `event.last_seq`, and the bus listens to it.
    pub fn register(
        self: &Arc<Self>,
        event: EventStart<'_>,
        account: AccountId,
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
            waker: AtomicWaker::new(),
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
    pub fn unregister(&self, event_id: EventId, conn: u64) -> Option<(Arc<str>, Presence)> {
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
    fn forget_if_idle(&self, events: &mut HashMap<EventId, EventHub>, event_id: EventId) {
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
        event_id: EventId,
        conn: u64,
        room: &str,
        capacity: i64,
    ) -> Result<Joined, JoinRefusal> {
        let mut events = self.lock();
        let hub = events.get_mut(&event_id).ok_or(JoinRefusal::Gone)?;
        join_room(hub, conn, room, capacity)
    }

    /// Ends every connection of `account` to the event (removed from it, K17): each gets
    /// its language's frame of `last` (the first language's if `last` has none in it)
    /// as its final frame, then the hub lets go of it and its socket closes. The rooms
    /// they were in get new headcounts. Answers how many connections ended.
    pub fn remove_account_from_event(
        &self,
        event_id: EventId,
        account: AccountId,
        last: &[Text],
    ) -> usize {
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
                    if let Some(last) = last.get(conn.lang).or(last.first()) {
                        conn.mailbox.bytes.fetch_add(last.len(), Ordering::Relaxed);
                        conn.mailbox.push(Out::Frame {
                            seq: None,
                            text: last.clone(),
                        });
                    }
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
    pub fn leave(&self, event_id: EventId, conn: u64) -> Option<(Arc<str>, Presence)> {
        let mut events = self.lock();
        let hub = events.get_mut(&event_id)?;
        leave_room(hub, conn)
    }

    /// Open connections of this node.
    pub fn connections(&self) -> usize {
        self.lock().values().map(|hub| hub.conns.len()).sum()
    }
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
