//! Between the store and the hub: a committed entry becomes the hub's [`Entry`] (its
//! `ev` frame rendered once per language, fragments included) and goes on the bus; the
//! hub reads what the bus did not bring back from the store ([`Backfill`]).

use konvent_core::ids::EventId;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use futures_util::future::BoxFuture;
use konvent_core::convention::log::LiveRecord;
use konvent_live::Text;
use konvent_live::{Backfill, Bus, Entry};
use konvent_store::Store;

use super::fragments::{self, DomOp, Fx};
use crate::i18n::Lang;

/// The languages frames are rendered in, in [`Lang`]'s order (the hub's language numbers).
const LANGS: [Lang; 2] = [Lang::De, Lang::En];

/// The hub's entry of a committed record of the event `slug`.
pub fn entry(record: &LiveRecord, slug: &str) -> Entry {
    Entry {
        event_id: record.event_id,
        seq: record.seq,
        room: record.room.as_deref().map(Arc::from),
        audience: record.audience,
        sender_id: record.sender_id,
        recipient_id: record.recipient_id,
        frames: LANGS
            .map(|lang| Text::from(ev_frame(record, Some(&Fx::live(lang, slug)))))
            .into(),
    }
}

/// The `ev` frame of `docs/live-protocol.md`, with the page changes of its fragments
/// (`dom`) rendered as `fx` says (none without). Its keys come in a fixed order, the type
/// and sequence number first, so a client can dispatch on the frame's first bytes.
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

/// Puts committed entries on the bus, rendered for their event.
pub struct Publisher {
    store: Store,
    bus: Arc<dyn Bus>,
    /// Event slugs by id (the fragments' links name the event).
    slugs: RwLock<HashMap<EventId, Arc<str>>>,
}

impl Publisher {
    pub fn new(store: Store, bus: Arc<dyn Bus>) -> Arc<Self> {
        Arc::new(Self {
            store,
            bus,
            slugs: RwLock::new(HashMap::new()),
        })
    }

    pub fn bus(&self) -> &Arc<dyn Bus> {
        &self.bus
    }

    /// Notes an event's slug (the live side learns it when it loads the event).
    pub fn know(&self, event_id: EventId, slug: &str) {
        self.slugs
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .entry(event_id)
            .or_insert_with(|| Arc::from(slug));
    }

    /// Publishes a committed record (call it strictly after the commit).
    pub fn publish(self: &Arc<Self>, record: &LiveRecord) {
        let slug = self
            .slugs
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&record.event_id)
            .cloned();
        match slug {
            Some(slug) => self.bus.publish(entry(record, &slug)),
            None => {
                // Rare (a page changed an event the live side has not loaded yet): the
                // slug first; the sequencer orders whatever arrives late.
                let this = self.clone();
                let record = record.clone();
                tokio::spawn(async move {
                    match this.store.event_slug(record.event_id).await {
                        Ok(slug) => {
                            this.know(record.event_id, &slug);
                            this.bus.publish(entry(&record, &slug));
                        }
                        Err(e) => tracing::error!(error = %e, "live: cannot publish an entry"),
                    }
                });
            }
        }
    }
}

/// The store as the hub's log.
pub struct StoreLog {
    pub store: Store,
}

impl Backfill for StoreLog {
    fn since(
        &self,
        event_id: EventId,
        slug: Arc<str>,
        after: i64,
        limit: i64,
    ) -> BoxFuture<'static, Result<Vec<Entry>, String>> {
        let store = self.store.clone();
        Box::pin(async move {
            let records = store
                .live_since(event_id, after, limit)
                .await
                .map_err(|e| e.to_string())?;
            Ok(records.iter().map(|r| entry(r, &slug)).collect())
        })
    }

    fn last_seq(&self, event_id: EventId) -> BoxFuture<'static, Result<i64, String>> {
        let store = self.store.clone();
        Box::pin(async move { store.last_seq(event_id).await.map_err(|e| e.to_string()) })
    }
}
