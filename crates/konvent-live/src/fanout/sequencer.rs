//! The sequencer: committed entries reach the connections that may see them strictly in
//! sequence order, several in one frame under load. An entry ahead of a missing one
//! waits; what stays missing, and a lost last entry, is read from the log
//! ([`Backfill`](crate::Backfill)).

use konvent_core::ids::EventId;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use crate::Text;
use konvent_core::convention::log::Audience;

use super::{Conn, EventHub, Fanout};
use crate::entry::Entry;

/// Entries one frame carries at most (one JSON object per line) …
const BATCH_ENTRIES: usize = 64;
/// … and bytes, unless a single entry is larger.
const BATCH_BYTES: usize = 64 * 1024;

/// How long the sequencer waits for a missing sequence number before it reads it from the
/// database (a writer that committed and then failed to publish, or a bus message lost).
const GAP_WAIT: Duration = Duration::from_millis(250);

/// Entries read from the log in one go when filling a gap.
const GAP_PAGE: i64 = 500;

impl Fanout {
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
    async fn fill_gap(self: Arc<Self>, event_id: EventId) {
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
    async fn read_log(self: &Arc<Self>, event_id: EventId, slug: Arc<str>, from: i64, until: i64) {
        let mut after = from - 1;
        while after < until {
            let page = match self
                .backfill
                .since(event_id, slug.clone(), after, (until - after).min(GAP_PAGE))
                .await
            {
                Ok(page) => page,
                Err(e) => {
                    tracing::error!(error = %e, %event_id, "live: cannot read the log to fill a gap");
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
    pub(super) fn check_log_end(self: &Arc<Self>, at_once: bool) {
        let events: Vec<(EventId, Arc<str>)> = self
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
                        tracing::warn!(error = %e, %event_id, "live: cannot read the log's end");
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
        let mut frames: HashMap<(u64, usize), Text> = HashMap::new();
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
fn lines(batch: &[Entry], seen: u64, lang: usize) -> Text {
    let picked = || {
        batch
            .iter()
            .enumerate()
            .filter(move |(i, _)| seen & 1 << i != 0)
            .map(|(_, b)| b.frame(lang))
    };
    let mut text = String::with_capacity(picked().map(|f| f.len() + 1).sum());
    for frame in picked() {
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(frame);
    }
    Text::from(text)
}

/// Whether a connection may see an entry: in its room (or event-wide), and meant for it.
fn reaches(entry: &Entry, conn: &Conn) -> bool {
    entry
        .room
        .as_ref()
        .is_none_or(|room| conn.room.as_ref() == Some(room))
        && entry.visible_to(conn.account, conn.staff)
}
