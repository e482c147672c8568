//! Chat (K3, K12): lines in a room, announcements to every room and direct messages to a
//! person or the help desk. Chat lines that arrive together share one transaction
//! ([`Store::post_chats`]).

use konvent_core::convention::log::{Audience, LiveRecord, Who, payload};
use konvent_core::ids::{AccountId, EventId};

use super::log::{Entry, LIVE_SELECT, LiveRow, LiveTx, Written, append, live_from_row};
use crate::group_commit::{append_batch, committed_earlier};
use crate::{Result, Store, StoreError};

/// A chat line waiting for group commit ([`Store::post_chats`]).
#[derive(Debug, Clone)]
pub struct ChatLine {
    pub event_id: EventId,
    pub room: String,
    pub from: Who,
    pub client_id: Option<String>,
    pub text: String,
    /// The sanitised rendering of `text`.
    pub html: String,
}

impl Store {
    /// A chat line in a room (K3). `html` is the sanitised rendering of `text`.
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id, room = %room, from = %from.id))]
    pub async fn post_chat(
        &self,
        event_id: EventId,
        room: &str,
        from: &Who,
        client_id: Option<&str>,
        text: &str,
        html: &str,
    ) -> Result<Written> {
        self.live_write(event_id, from.id, client_id, async |LiveTx(tx)| {
            let entry = Entry::to_all(Some(room), from.id, client_id);
            append(tx, event_id, entry, |seq| {
                payload::Chat(line(seq, from, text, html))
            })
            .await
        })
        .await
    }

    /// Several chat lines in one transaction (group commit, see [`Store::group_commit`]):
    /// one sequence range per event, one multi-row insert, one commit. Lines whose client
    /// id was already committed (or that repeat one in the same batch) return the first
    /// entry with `fresh = false`. If the batch as a whole fails, every line is tried on
    /// its own, so one bad line cannot take the others down with it.
    #[tracing::instrument(level = "debug", skip_all, fields(lines = lines.len()))]
    pub async fn post_chats(&self, lines: &[ChatLine]) -> Vec<Result<Written>> {
        self.group_commit(
            lines,
            |l| Some((l.event_id.get(), l.from.id.get(), l.client_id.as_deref()?)),
            |distinct| async move { self.post_chats_at_once(&distinct).await },
            |l| {
                let cid = l.client_id.as_deref();
                self.post_chat(l.event_id, &l.room, &l.from, cid, &l.text, &l.html)
            },
        )
        .await
    }

    /// Distinct chat lines in one transaction, in order.
    async fn post_chats_at_once(&self, lines: &[ChatLine]) -> Result<Vec<Written>> {
        let mut tx = self.begin_write().await?;
        let keys: Vec<_> = lines
            .iter()
            .filter_map(|l| Some((l.event_id, l.from.id, l.client_id.as_deref()?)))
            .collect();
        let mut earlier = committed_earlier(&mut tx, &keys).await?;
        let earlier: Vec<Option<LiveRecord>> = lines
            .iter()
            .map(|l| {
                let cid = l.client_id.clone()?;
                earlier.remove(&(l.event_id, l.from.id, cid))
            })
            .collect();
        let new = lines
            .iter()
            .zip(&earlier)
            .filter(|(_, e)| e.is_none())
            .map(|(l, _)| {
                let entry = Entry::to_all(Some(&l.room), l.from.id, l.client_id.as_deref());
                let data = |seq| payload::Chat(line(seq, &l.from, &l.text, &l.html));
                (l.event_id, entry, data)
            })
            .collect();
        let mut new = append_batch(&mut tx, new).await?.into_iter();
        tx.commit().await?;
        earlier
            .into_iter()
            .map(|e| match e {
                Some(record) => Ok(Written {
                    record,
                    fresh: false,
                }),
                None => new
                    .next()
                    .map(|record| Written {
                        record,
                        fresh: true,
                    })
                    .ok_or(StoreError::NotFound),
            })
            .collect()
    }

    /// An announcement to every room (K3).
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id, from = %from.id))]
    pub async fn announce(
        &self,
        event_id: EventId,
        from: &Who,
        client_id: Option<&str>,
        text: &str,
        html: &str,
    ) -> Result<Written> {
        self.live_write(event_id, from.id, client_id, async |LiveTx(tx)| {
            let entry = Entry::to_all(None, from.id, client_id);
            append(tx, event_id, entry, |seq| {
                payload::Announcement(line(seq, from, text, html))
            })
            .await
        })
        .await
    }

    /// A direct message to a named person, or (`to = None`) to the help desk, whose staff
    /// all see it (K12).
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id, from = %from.id, to = to.map(|w| w.id.get())))]
    pub async fn direct_message(
        &self,
        event_id: EventId,
        from: &Who,
        to: Option<&Who>,
        client_id: Option<&str>,
        text: &str,
        html: &str,
    ) -> Result<Written> {
        self.live_write(event_id, from.id, client_id, async |LiveTx(tx)| {
            let entry = Entry {
                room: None,
                audience: if to.is_some() {
                    Audience::Direct
                } else {
                    Audience::Staff
                },
                sender_id: Some(from.id),
                recipient_id: to.map(|w| w.id),
                client_id,
            };
            append(tx, event_id, entry, |seq| {
                payload::Dm::new(line(seq, from, text, html), to.cloned())
            })
            .await
        })
        .await
    }

    /// The direct messages `account` sent or received, and (for staff) those to the help
    /// desk; oldest first.
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id, account = %account))]
    pub async fn direct_messages(
        &self,
        event_id: EventId,
        account: AccountId,
        staff: bool,
        limit: i64,
    ) -> Result<Vec<LiveRecord>> {
        let rows: Vec<LiveRow> = sqlx::query_as(&format!(
            "{LIVE_SELECT} WHERE event_id = $1 AND kind = 'dm' AND (sender_id = $2 \
             OR recipient_id = $2 OR (audience = 'staff' AND $3 = 1)) ORDER BY seq DESC LIMIT $4"
        ))
        .bind(event_id.get())
        .bind(account.get())
        .bind(i64::from(staff))
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
}

/// A written line as chat lines, announcements and direct messages carry it.
fn line(seq: i64, from: &Who, text: &str, html: &str) -> payload::Line {
    payload::Line {
        id: seq,
        from: from.clone(),
        text: text.to_owned(),
        html: html.to_owned(),
    }
}
