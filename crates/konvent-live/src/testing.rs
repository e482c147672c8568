//! A log in memory for the hub's own tests (the web side's tests use the real store).

use konvent_core::ids::EventId;
use std::sync::{Arc, Mutex};

use futures_util::future::BoxFuture;

use crate::bus::Backfill;
use crate::entry::Entry;

/// Committed entries, in order; [`Backfill`] reads them as the store would.
#[derive(Default)]
pub struct MemoryLog {
    pub entries: Mutex<Vec<Entry>>,
}

impl MemoryLog {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    pub fn push(&self, entry: Entry) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(entry);
    }
}

impl Backfill for MemoryLog {
    fn since(
        &self,
        event_id: EventId,
        _slug: Arc<str>,
        after: i64,
        limit: i64,
    ) -> BoxFuture<'static, Result<Vec<Entry>, String>> {
        let page: Vec<Entry> = self
            .entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|e| e.event_id == event_id && e.seq > after)
            .take(usize::try_from(limit).unwrap_or(0))
            .cloned()
            .collect();
        Box::pin(async move { Ok(page) })
    }

    fn last_seq(&self, event_id: EventId) -> BoxFuture<'static, Result<i64, String>> {
        let last = self
            .entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|e| e.event_id == event_id)
            .map(|e| e.seq)
            .max()
            .unwrap_or(0);
        Box::pin(async move { Ok(last) })
    }
}
