//! The live log (K1–K7): every live write stores its effect and its entry, numbered with
//! the event's next sequence number, in one transaction ([`Store::live_write`]); pages
//! and reconnecting clients read the entries back ([`Store::live_since`],
//! [`Store::live_recent`]). The hub broadcasts only what was committed here.

use konvent_core::convention::log::{Audience, LiveRecord, Payload};
use konvent_core::ids::{AccountId, EventId};
use sqlx::{Any, Transaction};

use crate::group_commit::append_batch;
use crate::{Result, Store, StoreError};

pub(crate) type Tx = Transaction<'static, Any>;

/// The transaction a [`Store::live_write`] runs its write in. A type of its own without
/// a lifetime: rustc cannot yet prove an async closure taking `&mut Transaction<'static,
/// _>` `Send` where the caller needs it (tokio tasks, axum handlers), but it can for
/// this one. The write takes it apart at once: `async |LiveTx(tx)| { … }`.
pub(crate) struct LiveTx(pub Tx);

/// The result of a live write: the entry, and whether it is new (a command re-sent with
/// a client id that was already committed returns the first entry, `fresh = false`).
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    pub record: LiveRecord,
    pub fresh: bool,
}

pub(super) type LiveRow = (
    i64,
    i64,
    String,
    Option<String>,
    String,
    Option<i64>,
    Option<i64>,
    String,
    i64,
);

pub(super) const LIVE_SELECT: &str = "SELECT event_id, seq, kind, room, audience, sender_id, recipient_id, \
     data, at FROM live_log";

pub(crate) fn live_from_row(r: LiveRow) -> Result<LiveRecord> {
    let (event_id, seq, kind, room, audience, sender_id, recipient_id, data, at) = r;
    Ok(LiveRecord {
        event_id: EventId::new(event_id),
        seq,
        kind,
        room,
        audience: Audience::parse(&audience).map_err(StoreError::Corrupt)?,
        sender_id: sender_id.map(AccountId::new),
        recipient_id: recipient_id.map(AccountId::new),
        data: serde_json::from_str(&data).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        at,
    })
}

/// One entry to append; its kind comes with its payload.
pub(crate) struct Entry<'a> {
    pub room: Option<&'a str>,
    pub audience: Audience,
    pub sender_id: Option<AccountId>,
    pub recipient_id: Option<AccountId>,
    pub client_id: Option<&'a str>,
}

impl<'a> Entry<'a> {
    /// An entry for everybody in the event, about `room` (`None`: the whole event), sent
    /// by `sender` (`None`: nobody left, the account was deleted) with the client's
    /// command id `client_id`, if the command came with one.
    pub fn to_all(
        room: Option<&'a str>,
        sender: impl Into<Option<AccountId>>,
        client_id: Option<&'a str>,
    ) -> Self {
        Self {
            room,
            audience: Audience::All,
            sender_id: sender.into(),
            recipient_id: None,
            client_id,
        }
    }

    /// An event-wide entry only the staff and its sender see (reasons, reports).
    pub fn to_staff(sender: AccountId, client_id: Option<&'a str>) -> Self {
        Self {
            room: None,
            audience: Audience::Staff,
            sender_id: Some(sender),
            recipient_id: None,
            client_id,
        }
    }
}

/// Appends to the live log inside `tx`: takes the event's next sequence number (the
/// counter row stays locked until the transaction ends, so numbers have no gaps and no
/// duplicates) and stores the entry. `data` receives the sequence number, so entries can
/// carry it as their id.
pub(crate) async fn append<P: Payload>(
    tx: &mut Tx,
    event_id: EventId,
    entry: Entry<'_>,
    data: impl FnOnce(i64) -> P,
) -> Result<LiveRecord> {
    append_batch(tx, vec![(event_id, entry, data)])
        .await?
        .pop()
        .ok_or(StoreError::NotFound)
}

/// Appends several entries of one event in one go: one sequence range, multi-row
/// inserts. Their data must not depend on the sequence number.
pub(crate) async fn append_many<P: Payload>(
    tx: &mut Tx,
    event_id: EventId,
    entries: Vec<(Entry<'_>, P)>,
) -> Result<Vec<LiveRecord>> {
    let entries = entries
        .into_iter()
        .map(|(entry, data)| (event_id, entry, move |_| data))
        .collect();
    append_batch(tx, entries).await
}

impl Store {
    /// The live log's epoch (migration 0013): clients resuming with another one reload.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn live_epoch(&self) -> Result<String> {
        sqlx::query_scalar::<_, String>("SELECT epoch FROM live_epoch WHERE id = 1")
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::Corrupt("the live log has no epoch".into()))
    }

    /// Gives the live log a new epoch (after the database was restored from a backup):
    /// every page that resumes reloads. Answers the new epoch.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn new_live_epoch(&self) -> Result<String> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let epoch: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        sqlx::query("UPDATE live_epoch SET epoch = $1 WHERE id = 1")
            .bind(&epoch)
            .execute(&self.pool)
            .await?;
        Ok(epoch)
    }

    /// An event's last committed live-log sequence number.
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id))]
    pub async fn last_seq(&self, event_id: EventId) -> Result<i64> {
        sqlx::query_scalar::<_, i64>("SELECT last_seq FROM events WHERE id = $1")
            .bind(event_id.get())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// The live-log entries after `after`, in order, at most `limit`.
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id, after = after))]
    pub async fn live_since(
        &self,
        event_id: EventId,
        after: i64,
        limit: i64,
    ) -> Result<Vec<LiveRecord>> {
        let rows: Vec<LiveRow> = sqlx::query_as(&format!(
            "{LIVE_SELECT} WHERE event_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
        ))
        .bind(event_id.get())
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(live_from_row).collect()
    }

    /// The last `limit` entries of `kinds` for a room (or for the whole event when `room`
    /// is `None`), oldest first: what a page shows before live updates take over. Removed
    /// entries (tombstones, see `moderation`) are left out.
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id, room = room))]
    pub async fn live_recent(
        &self,
        event_id: EventId,
        room: Option<&str>,
        kind: &str,
        limit: i64,
    ) -> Result<Vec<LiveRecord>> {
        // One spelling per case, so that both databases walk the index (event_id, room,
        // kind, seq) backwards from the newest entry: `room = $3 OR ($3 IS NULL AND …)`
        // made SQLite read every entry of the event.
        let room_is = if room.is_some() {
            "room = $3"
        } else {
            "room IS NULL AND $3 IS NULL"
        };
        let rows: Vec<LiveRow> = sqlx::query_as(&format!(
            "{LIVE_SELECT} WHERE event_id = $1 AND {room_is} AND kind = $2 \
             AND data NOT LIKE '%\"redacted\":true%' ORDER BY seq DESC LIMIT $4"
        ))
        .bind(event_id.get())
        .bind(kind)
        .bind(room)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut records = rows
            .into_iter()
            .map(live_from_row)
            .collect::<Result<Vec<_>>>()?;
        records.reverse();
        Ok(records)
    }

    /// One live write: runs `write` (the effect and its entry, see [`append`]) in a
    /// transaction and commits it. A command re-sent with a client id that was already
    /// committed gets its first entry back (`fresh = false`) and `write` does not run;
    /// two copies racing end the same way (see [`Store::finish_live`]). `sender` is
    /// `None` for a write from the command line, which has no client id either.
    pub(crate) async fn live_write(
        &self,
        event_id: EventId,
        sender: impl Into<Option<AccountId>>,
        client_id: Option<&str>,
        write: impl AsyncFnOnce(&mut LiveTx) -> Result<LiveRecord>,
    ) -> Result<Written> {
        let sender = sender.into();
        if let Some(done) = self.already_written(event_id, sender, client_id).await? {
            return Ok(done);
        }
        let mut live = LiveTx(self.begin_write().await?);
        let result = write(&mut live).await;
        self.finish_live(live.0, result, event_id, sender, client_id)
            .await
    }

    /// The entry a command with this client id already produced, if any.
    pub(crate) async fn already_written(
        &self,
        event_id: EventId,
        sender: Option<AccountId>,
        client_id: Option<&str>,
    ) -> Result<Option<Written>> {
        let Some(client_id) = client_id else {
            return Ok(None);
        };
        let row: Option<LiveRow> = sqlx::query_as(&format!(
            "{LIVE_SELECT} WHERE event_id = $1 AND sender_id = $2 AND client_id = $3"
        ))
        .bind(event_id.get())
        .bind(sender.map(AccountId::get))
        .bind(client_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(Written {
                record: live_from_row(r)?,
                fresh: false,
            })
        })
        .transpose()
    }

    /// Finishes one live write: commits `result` or, when it broke the unique client-id
    /// index (two copies of the same command racing), returns the winner's entry.
    pub(crate) async fn finish_live(
        &self,
        tx: Tx,
        result: Result<LiveRecord>,
        event_id: EventId,
        sender: Option<AccountId>,
        client_id: Option<&str>,
    ) -> Result<Written> {
        match result {
            Ok(record) => {
                tx.commit().await?;
                Ok(Written {
                    record,
                    fresh: true,
                })
            }
            Err(StoreError::Database(e)) if matches!(&e, sqlx::Error::Database(db) if db.is_unique_violation()) =>
            {
                drop(tx);
                // No winner to return: the unique rule that broke was another one.
                self.already_written(event_id, sender, client_id)
                    .await?
                    .ok_or(StoreError::Database(e))
            }
            Err(e) => Err(e),
        }
    }
}
