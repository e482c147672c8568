//! Group commit: live writes that arrive together (chat lines, impulses) share one
//! transaction, so a busy room costs one commit per batch rather than one per item.
//! [`Store::group_commit`] answers each item in order, writes a command sent twice in
//! the batch once and falls back to writing each item alone when the batch fails;
//! [`committed_earlier`] finds the items already committed by an earlier transaction,
//! and [`append_batch`] gives each event one range of sequence numbers and stores the
//! entries with multi-row inserts.

use konvent_core::ids::{AccountId, EventId};
use std::borrow::Cow;
use std::collections::HashMap;
use std::collections::hash_map::Entry as Slot;

use konvent_core::convention::log::{LiveRecord, Payload};

use crate::live::{Entry, Tx, Written, live_from_row};
use crate::{Result, Store, StoreError, now_micros};

/// Bound parameters per statement in a batch write (SQLite allows 32766).
const BATCH_PARAMS: usize = 2000;

/// A command's identity in a batch: (scope, sender, client id). The scope is the event,
/// or anything finer that lies in one event (an impulse's table): two items with the
/// same key are one command sent twice.
pub(crate) type BatchKey<'a> = (i64, i64, &'a str);

impl Store {
    /// Commits `items` that arrived together and answers each, in order. An item that
    /// repeats the key of an earlier one in the batch is not written again: it gets the
    /// first copy's entry with `fresh = false`. `at_once` writes the distinct items in
    /// one transaction and answers them in order (an item whose client id an earlier
    /// transaction committed answers with that entry, `fresh = false`). If it fails,
    /// every item is tried on its own with `alone`, so one bad item (a table that is
    /// gone, a client id committed meanwhile) cannot take the others down with it.
    pub(crate) async fn group_commit<'i, I: Clone, Batch, Alone>(
        &self,
        items: &'i [I],
        key: impl Fn(&I) -> Option<BatchKey<'_>>,
        at_once: impl FnOnce(Cow<'i, [I]>) -> Batch,
        alone: impl Fn(&'i I) -> Alone,
    ) -> Vec<Result<Written>>
    where
        Batch: Future<Output = Result<Vec<Written>>>,
        Alone: Future<Output = Result<Written>>,
    {
        if items.is_empty() {
            return Vec::new();
        }
        // For every item: the index of its first copy among the distinct items, and
        // whether it is a repeat.
        let mut first: HashMap<BatchKey<'_>, usize> = HashMap::new();
        let mut distinct: Vec<&I> = Vec::with_capacity(items.len());
        let mut copies: Vec<(usize, bool)> = Vec::with_capacity(items.len());
        for item in items {
            let repeat = match key(item).map(|k| first.entry(k)) {
                Some(Slot::Occupied(seen)) => Some(*seen.get()),
                Some(Slot::Vacant(slot)) => {
                    slot.insert(distinct.len());
                    None
                }
                None => None,
            };
            match repeat {
                Some(d) => copies.push((d, true)),
                None => {
                    copies.push((distinct.len(), false));
                    distinct.push(item);
                }
            }
        }
        let count = distinct.len();
        let distinct = if count == items.len() {
            Cow::Borrowed(items)
        } else {
            Cow::Owned(distinct.into_iter().cloned().collect())
        };
        match at_once(distinct).await {
            Ok(written) if written.len() == count => copies
                .into_iter()
                .map(|(d, repeat)| {
                    let w = &written[d];
                    Ok(Written {
                        record: w.record.clone(),
                        fresh: w.fresh && !repeat,
                    })
                })
                .collect(),
            Ok(_) => items
                .iter()
                .map(|_| {
                    Err(StoreError::Corrupt(
                        "group commit: answers miscounted".into(),
                    ))
                })
                .collect(),
            Err(_) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    out.push(alone(item).await);
                }
                out
            }
        }
    }
}

type LiveRowWithClient = (
    i64,
    i64,
    String,
    Option<String>,
    String,
    Option<i64>,
    Option<i64>,
    String,
    i64,
    String,
);

/// The entries already committed under these (event, sender, client id) keys, by key:
/// the batch form of [`Store::already_written`].
pub(crate) async fn committed_earlier(
    tx: &mut Tx,
    keys: &[(EventId, AccountId, &str)],
) -> Result<HashMap<(EventId, AccountId, String), LiveRecord>> {
    let mut earlier = HashMap::new();
    for chunk in keys.chunks(BATCH_PARAMS / 3) {
        let conditions: Vec<String> = (0..chunk.len())
            .map(|i| {
                format!(
                    "(event_id = ${} AND sender_id = ${} AND client_id = ${})",
                    3 * i + 1,
                    3 * i + 2,
                    3 * i + 3
                )
            })
            .collect();
        let sql = format!(
            "SELECT event_id, seq, kind, room, audience, sender_id, recipient_id, data, at, \
             client_id FROM live_log WHERE {}",
            conditions.join(" OR ")
        );
        let mut query = sqlx::query_as::<_, LiveRowWithClient>(&sql);
        for (event_id, sender, client_id) in chunk {
            query = query
                .bind((*event_id).get())
                .bind(sender.get())
                .bind(*client_id);
        }
        for row in query.fetch_all(&mut **tx).await? {
            let (event_id, seq, kind, room, audience, sender_id, recipient_id, data, at, cid) = row;
            let record = live_from_row((
                event_id,
                seq,
                kind,
                room,
                audience,
                sender_id,
                recipient_id,
                data,
                at,
            ))?;
            if let Some(sender) = record.sender_id {
                earlier.insert((EventId::new(event_id), sender, cid), record);
            }
        }
    }
    Ok(earlier)
}

/// Appends entries of one kind, of one event or several, inside `tx`: each event takes
/// one range of sequence numbers (its counter row stays locked until the transaction
/// ends, so numbers have no gaps and no duplicates), the entries get them in order and
/// are stored with multi-row inserts. `data` receives an entry's sequence number, so
/// entries can carry it as their id.
pub(crate) async fn append_batch<P: Payload>(
    tx: &mut Tx,
    entries: Vec<(EventId, Entry<'_>, impl FnOnce(i64) -> P)>,
) -> Result<Vec<LiveRecord>> {
    // How many numbers each event takes, in the order the events first appear.
    let mut counts: Vec<(EventId, i64)> = Vec::new();
    for (event_id, _, _) in &entries {
        match counts.iter_mut().find(|(e, _)| e == event_id) {
            Some((_, n)) => *n += 1,
            None => counts.push((*event_id, 1)),
        }
    }
    let mut next_seq: HashMap<EventId, i64> = HashMap::with_capacity(counts.len());
    for (event_id, n) in counts {
        let (last,): (i64,) = sqlx::query_as(
            "UPDATE events SET last_seq = last_seq + $1 WHERE id = $2 RETURNING last_seq",
        )
        .bind(n)
        .bind(event_id.get())
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        next_seq.insert(event_id, last - n + 1);
    }
    let at = now_micros();
    let records: Vec<(Option<&str>, LiveRecord)> = entries
        .into_iter()
        .map(|(event_id, entry, data)| {
            let next = next_seq.get_mut(&event_id).ok_or(StoreError::NotFound)?;
            let seq = *next;
            *next += 1;
            Ok((
                entry.client_id,
                LiveRecord {
                    event_id,
                    seq,
                    kind: P::KIND.to_owned(),
                    room: entry.room.map(str::to_owned),
                    audience: entry.audience,
                    sender_id: entry.sender_id,
                    recipient_id: entry.recipient_id,
                    data: data(seq).data().map_err(StoreError::Encode)?,
                    at,
                },
            ))
        })
        .collect::<Result<_>>()?;
    for chunk in records.chunks(BATCH_PARAMS / 10) {
        let sql = format!(
            "INSERT INTO live_log (event_id, seq, kind, room, audience, sender_id, \
             recipient_id, client_id, data, at) VALUES {}",
            crate::row_placeholders(chunk.len(), 10)
        );
        let mut query = sqlx::query(&sql);
        for (client_id, r) in chunk {
            query = query
                .bind(r.event_id.get())
                .bind(r.seq)
                .bind(r.kind.as_str())
                .bind(r.room.as_deref())
                .bind(r.audience.as_str())
                .bind(r.sender_id.map(AccountId::get))
                .bind(r.recipient_id.map(AccountId::get))
                .bind(*client_id)
                .bind(r.data.to_string())
                .bind(r.at);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(records.into_iter().map(|(_, r)| r).collect())
}
