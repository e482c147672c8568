//! Impulses that arrive together (K10), committed in one transaction with their live
//! entries (group commit); see [`Store::add_impulses`].

use konvent_core::ids::{AccountId, EventId, ImpulseId, RoundId, TableId, TopicId};
use std::collections::HashMap;

use konvent_core::convention::log::payload::ImpulseAction;

use crate::live::{Entry, append_many};
use crate::{Result, Store, StoreError, Who, Written, now_micros, timestamp};

use super::cafe_tables::table_room;
use super::impulses::Impulse;

/// Impulses per multi-row insert (8 parameters each; SQLite allows 32766).
const IMPULSE_BATCH_ROWS: usize = 500;

/// An impulse on its way to the store (see [`Store::add_impulses`]).
#[derive(Debug, Clone)]
pub struct NewImpulse {
    pub table_id: TableId,
    pub author: Who,
    pub text: String,
    pub client_id: Option<String>,
}

impl Store {
    /// Impulses that arrived together, committed in one transaction (group commit), in
    /// order; each with its live entry. If any of them fails (a re-sent one, a table that
    /// is gone), every one is tried on its own, so each gets its own answer.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn add_impulses(&self, items: &[NewImpulse]) -> Vec<Result<Written>> {
        // A repeat in the batch names the same table (so the same event).
        self.group_commit(
            items,
            |i| Some((i.table_id.get(), i.author.id.get(), i.client_id.as_deref()?)),
            |distinct| async move { self.add_impulses_at_once(&distinct).await },
            |i| self.add_impulse(i.table_id, &i.author, &i.text, i.client_id.as_deref()),
        )
        .await
    }

    async fn add_impulses_at_once(&self, items: &[NewImpulse]) -> Result<Vec<Written>> {
        let mut owned = self.begin_write().await?;
        let tx = &mut owned;
        let mut tables: HashMap<TableId, (EventId, String, TopicId, i64, RoundId)> = HashMap::new();
        for item in items {
            if let std::collections::hash_map::Entry::Vacant(slot) = tables.entry(item.table_id) {
                slot.insert(table_room(tx, item.table_id).await?);
            }
        }
        let now = now_micros();
        // The impulses, several rows per statement; the ids come back with what tells
        // the rows apart (identical rows are interchangeable).
        let mut ids: Vec<Option<ImpulseId>> = vec![None; items.len()];
        for (c, chunk) in items.chunks(IMPULSE_BATCH_ROWS).enumerate() {
            let values = crate::row_placeholders(chunk.len(), 8);
            let sql = format!(
                "INSERT INTO impulses (event_id, table_id, topic_id, round, author_id, \
                 author_name, text, created_at) VALUES {} RETURNING id, table_id, author_id, text",
                values
            );
            let mut query = sqlx::query_as::<_, (i64, i64, i64, String)>(&sql);
            for item in chunk {
                let (event_id, _, topic_id, round, _) = &tables[&item.table_id];
                query = query
                    .bind(event_id.get())
                    .bind(item.table_id.get())
                    .bind(topic_id.get())
                    .bind(*round)
                    .bind(item.author.id.get())
                    .bind(&item.author.name)
                    .bind(&item.text)
                    .bind(now);
            }
            let rows = query.fetch_all(&mut **tx).await?;
            let offset = c * IMPULSE_BATCH_ROWS;
            for (id, table_id, author_id, text) in rows {
                let slot = chunk
                    .iter()
                    .enumerate()
                    .position(|(i, item)| {
                        ids[offset + i].is_none()
                            && item.table_id.get() == table_id
                            && item.author.id == AccountId::new(author_id)
                            && item.text == text
                    })
                    .ok_or_else(|| StoreError::Corrupt("impulse batch: unknown row".into()))?;
                ids[offset + slot] = Some(ImpulseId::new(id));
            }
        }
        // Their live entries, per event in order.
        let mut out: Vec<Option<Written>> = vec![None; items.len()];
        let mut events: Vec<EventId> = tables.values().map(|t| t.0).collect();
        events.sort_unstable();
        events.dedup();
        for event in events {
            let mut which = Vec::new();
            let mut entries = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let (event_id, room, topic_id, round, _) = &tables[&item.table_id];
                if *event_id != event {
                    continue;
                }
                let id = ids[i].ok_or_else(|| StoreError::Corrupt("impulse batch".into()))?;
                let impulse = Impulse {
                    id,
                    event_id: *event_id,
                    table_id: item.table_id,
                    topic_id: *topic_id,
                    round: *round,
                    author_id: Some(item.author.id),
                    author_name: item.author.name.clone(),
                    text: item.text.clone(),
                    hidden: false,
                    merged_into: None,
                    created_at: timestamp(now),
                    edited: false,
                };
                entries.push((
                    Entry::to_all(
                        Some(room.as_str()),
                        item.author.id,
                        item.client_id.as_deref(),
                    ),
                    impulse.payload(ImpulseAction::Added),
                ));
                which.push(i);
            }
            let records = append_many(tx, event, entries).await?;
            for (i, record) in which.into_iter().zip(records) {
                out[i] = Some(Written {
                    record,
                    fresh: true,
                });
            }
        }
        owned.commit().await?;
        out.into_iter()
            .map(|w| w.ok_or_else(|| StoreError::Corrupt("impulse batch".into())))
            .collect()
    }
}
