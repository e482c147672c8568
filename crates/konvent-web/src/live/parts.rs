//! Parts of an event's pages that only its live log changes (a room's chat, its raised
//! hands, the announcements, the café's rounds), kept in memory while the log stands
//! still, so that everybody opening the same pages in the same minute costs the database
//! one read per part, not one per person.
//!
//! A copy is tagged with the last entry of the event this node had handed to its
//! connections when the copy was read ([`Fanout::delivered`]). It serves pages for as
//! long as no later entry has arrived, so a page shows what its live regions show and a
//! reload equals the live page; and for at most [`FRESH`], so what changes without an
//! entry (a topic's title, say) follows within that time. What changes an event's parts
//! without an entry and says so ([`Live::invalidate`]: a café round created, a deleted
//! account's name) makes every node forget its copies of the event at once. A node with nobody of the
//! event connected does not hear the event's entries from other nodes, so it keeps
//! nothing for that event and reads the database.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use konvent_core::ids::{EventId, RoomId};
use konvent_live::Fanout;
use konvent_store::{LiveRecord, Round, StoreError, Who};

use super::Live;
use super::fragments::cafe::{RoundLine, rounds_of};

/// How long a copy serves at most, even when no entry arrived.
pub const FRESH: Duration = Duration::from_secs(5);

/// At most this many copies are kept (then all are let go and read anew).
const MAX_KEPT: usize = 10_000;

/// A part of an event's pages.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Part {
    /// The last lines of a room's chat (its slug).
    Chat(Arc<str>),
    /// The latest announcements ([`ANNOUNCEMENTS`]).
    Announcements,
    /// The raised hands of a room (its id).
    Hands(RoomId),
    /// The café's rounds as its fragments render them.
    CafeRounds,
    /// The café's rounds with their tables, as the map labels its rooms.
    Rounds,
}

struct Kept {
    /// The last entry delivered here when the copy was read.
    seq: i64,
    read_at: Instant,
    value: Arc<dyn Any + Send + Sync>,
}

/// This node's copies, by event and part.
#[derive(Default)]
pub struct Parts {
    kept: Mutex<HashMap<(EventId, Part), Kept>>,
}

impl Parts {
    /// The part of the event, from this node's copy while it is current, else read by
    /// `read` (and kept when the event's entries reach this node).
    pub async fn get<V, E>(
        &self,
        fanout: &Fanout,
        event_id: EventId,
        part: Part,
        read: impl AsyncFnOnce() -> Result<V, E>,
    ) -> Result<Arc<V>, E>
    where
        V: Send + Sync + 'static,
    {
        let Some(seq) = fanout.delivered(event_id) else {
            return read().await.map(Arc::new);
        };
        let key = (event_id, part);
        if let Some(value) = self.current(&key, seq) {
            return Ok(value);
        }
        let value = Arc::new(read().await?);
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        if kept.len() >= MAX_KEPT {
            kept.clear();
        }
        kept.insert(
            key,
            Kept {
                seq,
                read_at: Instant::now(),
                value: value.clone(),
            },
        );
        Ok(value)
    }

    /// Forgets the copies of the event (it changed in a way that wrote no entry: a café
    /// round created, a deleted account's name).
    pub fn forget(&self, event_id: EventId) {
        self.kept
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|(event, _), _| *event != event_id);
    }

    pub fn forget_all(&self) {
        self.kept.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    fn current<V: Send + Sync + 'static>(&self, key: &(EventId, Part), seq: i64) -> Option<Arc<V>> {
        let kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        let copy = kept.get(key)?;
        if copy.seq != seq || copy.read_at.elapsed() >= FRESH {
            return None;
        }
        copy.value.clone().downcast::<V>().ok()
    }
}

/// The announcements the lobby lists (the newest of them is the room's banner).
pub const ANNOUNCEMENTS: i64 = 5;

/// The chat lines a room shows when it is opened.
pub const CHAT_LINES: i64 = 50;

impl Live {
    /// The last [`CHAT_LINES`] lines of a room's chat, oldest first.
    pub async fn chat_tail(
        &self,
        event_id: EventId,
        room: &str,
    ) -> Result<Arc<Vec<LiveRecord>>, StoreError> {
        self.parts
            .get(
                &self.fanout,
                event_id,
                Part::Chat(Arc::from(room)),
                async || {
                    self.store
                        .live_recent(event_id, Some(room), "chat", CHAT_LINES)
                        .await
                },
            )
            .await
    }

    /// The latest [`ANNOUNCEMENTS`] announcements of the event, oldest first.
    pub async fn announcements(
        &self,
        event_id: EventId,
    ) -> Result<Arc<Vec<LiveRecord>>, StoreError> {
        self.parts
            .get(&self.fanout, event_id, Part::Announcements, async || {
                self.store
                    .live_recent(event_id, None, "announcement", ANNOUNCEMENTS)
                    .await
            })
            .await
    }

    /// The raised hands of a room, in the order they went up.
    pub async fn hands(
        &self,
        event_id: EventId,
        room_id: RoomId,
    ) -> Result<Arc<Vec<Who>>, StoreError> {
        self.parts
            .get(&self.fanout, event_id, Part::Hands(room_id), async || {
                self.store.speaker_queue(room_id).await
            })
            .await
    }

    /// The café's rounds as its fragments render them: the reading a `round` entry
    /// carries, turned into the fragments' lines once per copy, not once per page.
    pub async fn cafe_rounds(&self, event_id: EventId) -> Result<Arc<Vec<RoundLine>>, StoreError> {
        self.parts
            .get(&self.fanout, event_id, Part::CafeRounds, async || {
                let rounds = self.store.cafe_rounds(event_id).await?;
                Ok(rounds_of(&serde_json::to_value(rounds).unwrap_or_default()))
            })
            .await
    }

    /// The café's rounds with their tables.
    pub async fn rounds(&self, event_id: EventId) -> Result<Arc<Vec<Round>>, StoreError> {
        self.parts
            .get(&self.fanout, event_id, Part::Rounds, async || {
                self.store.rounds(event_id).await
            })
            .await
    }
}
