//! Each connection's bounded queue ([`Inbox`]) and the hub's word to go ([`Kick`],
//! [`Goodbye`]): queuing frames for connections, telling a connection that is too slow
//! to close, and closing an account's connections (signed out, rights changed) or all of
//! them (the node shuts down).

use konvent_core::ids::{AccountId, EventId};
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::task::{Context, Poll};

use crate::Text;

use super::{Conn, Fanout, Mailbox};

/// How many frames a connection may have waiting before it counts as too slow …
pub const QUEUE_FRAMES: usize = 1024;
/// … and how many bytes they may hold (a frame larger than this alone is let through).
/// Frames are shared between connections, so this bounds what one slow client keeps
/// alive, not a copy of its own.
pub const QUEUE_BYTES: usize = 1024 * 1024;

/// A queue whose buffer grew past this many frames in a burst gives it back once the
/// connection has written them all.
const KEEP_FRAMES: usize = 64;

/// What a connection task receives.
#[derive(Debug, Clone)]
pub enum Out {
    /// A frame for this client; `seq` is set for `ev` frames.
    Frame { seq: Option<i64>, text: Text },
}

impl Mailbox {
    pub(super) fn frames(&self) -> std::sync::MutexGuard<'_, VecDeque<Out>> {
        self.frames.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues a frame, unless the queue is full (`false`).
    pub(super) fn push(&self, out: Out) -> bool {
        {
            let mut frames = self.frames();
            if frames.len() >= QUEUE_FRAMES {
                return false;
            }
            frames.push_back(out);
        }
        self.waker.wake();
        true
    }

    pub(super) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.waker.wake();
    }

    /// Tells the connection to go for `why`; a reason of higher rank wins.
    fn kick(&self, why: Goodbye) {
        self.goodbye.fetch_max(why as u8, Ordering::AcqRel);
        self.waker.wake();
    }
}

/// A connection's end of its queue: the frames waiting for it, in order.
pub struct Inbox {
    pub(super) shared: Arc<Mailbox>,
}

impl Inbox {
    /// The next frame; `None` when the fan-out let go of the connection and every frame
    /// queued before has been taken.
    pub async fn recv(&mut self) -> Option<Out> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Out>> {
        if let Some(out) = self.try_recv() {
            return Poll::Ready(Some(out));
        }
        if self.shared.closed.load(Ordering::Acquire) {
            // Frames queued just before the fan-out let go still count.
            return Poll::Ready(self.take());
        }
        self.shared.waker.register(cx.waker());
        // Then look again, under the lock: a frame pushed before the waker was
        // registered woke nobody.
        if let Some(out) = self.take() {
            return Poll::Ready(Some(out));
        }
        if self.shared.closed.load(Ordering::Acquire) {
            return Poll::Ready(self.take());
        }
        Poll::Pending
    }

    /// The next frame, if one waits. Looks at the count of bytes waiting first, which
    /// costs no lock when the queue is empty, as it is after every batch written.
    pub fn try_recv(&mut self) -> Option<Out> {
        if self.shared.bytes.load(Ordering::Relaxed) == 0 {
            return None;
        }
        self.take()
    }

    /// The next frame, looked for under the lock.
    fn take(&mut self) -> Option<Out> {
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
    pub(super) shared: Arc<Mailbox>,
}

impl Kick {
    /// Fires once the connection is told to go (also when it was told before). Await it
    /// in the task that reads the [`Inbox`]: the two share one waker.
    pub fn notified(&self) -> impl Future<Output = ()> + Send + '_ {
        std::future::poll_fn(|cx| {
            if self.shared.goodbye.load(Ordering::Acquire) != 0 {
                return Poll::Ready(());
            }
            self.shared.waker.register(cx.waker());
            if self.shared.goodbye.load(Ordering::Acquire) != 0 {
                return Poll::Ready(());
            }
            Poll::Pending
        })
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

impl Fanout {
    /// Queues a frame for one connection.
    pub fn to_conn(&self, event_id: EventId, conn: u64, text: Text) {
        let events = self.lock();
        if let Some(c) = events.get(&event_id).and_then(|h| h.conns.get(&conn)) {
            self.offer(c, None, &text);
        }
    }

    /// Queues frames for many connections of an event under one lock: each frame for its
    /// list of connections (the map's position frames, one per area of interest).
    pub fn to_many(&self, event_id: EventId, frames: &[(Vec<u64>, Text)]) {
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

    pub(super) fn offer(&self, conn: &Conn, seq: Option<i64>, text: &Text) {
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

    /// Tells a connection whose queue is full to close; it resumes from its last seq.
    fn too_slow(&self, conn: &Conn) {
        if !conn.kicked.swap(true, Ordering::Relaxed) {
            conn.mailbox.kick(Goodbye::Slow);
            self.metrics.slow_closes.inc();
        }
    }

    /// Tells every connection of `account`, in every event, to close for `why` (not
    /// [`Goodbye::Slow`]): after a sign-out, or when its rights changed. Answers how many.
    pub fn close_account(&self, account: AccountId, why: Goodbye) -> usize {
        let events = self.lock();
        let mut closed = 0;
        for conn in events
            .values()
            .flat_map(|hub| hub.conns.values())
            .filter(|c| c.account == account)
        {
            // A sign-out wins over a change of rights; both over being slow.
            conn.mailbox.kick(why);
            closed += 1;
        }
        closed
    }

    /// Like [`Fanout::close_account`], and the bus tells every other node to do the
    /// same with the account's connections there. Answers how many closed here.
    pub fn close_account_everywhere(&self, account: AccountId, why: Goodbye) -> usize {
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
            conn.mailbox.kick(why);
            closed += 1;
        }
        closed
    }
}
