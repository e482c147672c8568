//! The pinboard (K11): an event's notes for the organizers, with dot votes, taken up
//! (with where) or closed (with why). Every change is a live entry for everybody.

use konvent_core::ids::{AccountId, EventId, PinId, TopicId};
use std::str::FromStr;

use konvent_core::convention::log::payload::{self, PinAction};
use konvent_core::strategy::PinStatus;

use crate::live::{Entry, LiveTx, Tx, append};
use crate::{Result, Store, StoreError, Who, Written, now_micros};

use super::corrupt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    pub id: PinId,
    pub event_id: EventId,
    pub topic: Option<(TopicId, String)>,
    pub author_id: Option<AccountId>,
    pub author_name: String,
    pub text: String,
    pub status: PinStatus,
    pub outcome: String,
    pub outcome_url: Option<String>,
    pub decided_by: Option<String>,
    pub votes: i64,
}

impl Pin {
    /// The pin as its live entry carries it after `action`.
    pub fn payload(&self, action: PinAction) -> payload::Pin {
        payload::Pin {
            id: self.id,
            topic: self.topic.as_ref().map(|(_, t)| t.clone()),
            author: self.author_name.clone(),
            text: self.text.clone(),
            status: self.status.as_str().to_owned(),
            outcome: self.outcome.clone(),
            outcome_url: self.outcome_url.clone(),
            votes: self.votes,
            action,
        }
    }
}

type PinRow = (
    i64,
    i64,
    Option<i64>,
    Option<String>,
    Option<i64>,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    i64,
);

const PIN_SELECT: &str = "SELECT p.id, p.event_id, p.topic_id, t.title, p.author_id, \
     p.author_name, p.text, p.status, p.outcome, p.outcome_url, p.decided_by, \
     (SELECT COUNT(*) FROM pin_votes v WHERE v.pin_id = p.id) AS votes \
     FROM pins p LEFT JOIN topics t ON t.id = p.topic_id";

fn pin_from(row: PinRow) -> Result<Pin> {
    let (
        id,
        event_id,
        topic_id,
        topic,
        author_id,
        author_name,
        text,
        status,
        outcome,
        url,
        by,
        votes,
    ) = row;
    Ok(Pin {
        id: PinId::new(id),
        event_id: EventId::new(event_id),
        topic: topic_id.map(TopicId::new).zip(topic),
        author_id: author_id.map(AccountId::new),
        author_name,
        text,
        status: PinStatus::from_str(&status).map_err(corrupt)?,
        outcome,
        outcome_url: url,
        decided_by: by,
        votes,
    })
}

async fn pin_in(tx: &mut Tx, id: PinId) -> Result<Pin> {
    let row: Option<PinRow> = sqlx::query_as(&format!("{PIN_SELECT} WHERE p.id = $1"))
        .bind(id.get())
        .fetch_optional(&mut **tx)
        .await?;
    pin_from(row.ok_or(StoreError::NotFound)?)
}

impl Store {
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id, author = %author.id))]
    pub async fn add_pin(
        &self,
        event_id: EventId,
        topic_id: Option<TopicId>,
        author: &Who,
        text: &str,
        client_id: Option<&str>,
    ) -> Result<Written> {
        self.live_write(event_id, author.id, client_id, async |LiveTx(tx)| {
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO pins (event_id, topic_id, author_id, author_name, text, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(event_id.get())
            .bind(topic_id.map(TopicId::get))
            .bind(author.id.get())
            .bind(&author.name)
            .bind(text)
            .bind(now_micros())
            .fetch_one(&mut **tx)
            .await?;
            let id = PinId::new(id);
            pin_entry(tx, event_id, author.id, client_id, id, PinAction::Added).await
        })
        .await
    }

    /// An event's pins, most votes first, with the ones `account` voted for.
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id, account = %account))]
    pub async fn pins(
        &self,
        event_id: EventId,
        account: AccountId,
    ) -> Result<(Vec<Pin>, Vec<PinId>)> {
        let rows: Vec<PinRow> = sqlx::query_as(&format!(
            "{PIN_SELECT} WHERE p.event_id = $1 ORDER BY votes DESC, p.id"
        ))
        .bind(event_id.get())
        .fetch_all(&self.pool)
        .await?;
        let mine: Vec<(i64,)> = sqlx::query_as(
            "SELECT v.pin_id FROM pin_votes v JOIN pins p ON p.id = v.pin_id \
             WHERE p.event_id = $1 AND v.account_id = $2",
        )
        .bind(event_id.get())
        .bind(account.get())
        .fetch_all(&self.pool)
        .await?;
        Ok((
            rows.into_iter().map(pin_from).collect::<Result<_>>()?,
            mine.into_iter().map(|(id,)| PinId::new(id)).collect(),
        ))
    }

    #[tracing::instrument(level = "debug", skip_all, fields(account = %account))]
    pub async fn pins_by(&self, account: AccountId) -> Result<Vec<Pin>> {
        let rows: Vec<PinRow> = sqlx::query_as(&format!(
            "{PIN_SELECT} WHERE p.author_id = $1 ORDER BY p.id"
        ))
        .bind(account.get())
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(pin_from).collect()
    }

    /// A dot vote for a pin, or taking it back. One per person and pin.
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id, pin_id = %pin_id, who = %who.id))]
    pub async fn vote_pin(
        &self,
        event_id: EventId,
        pin_id: PinId,
        who: &Who,
        on: bool,
    ) -> Result<Written> {
        self.live_write(event_id, who.id, None, async |LiveTx(tx)| {
            let pin = pin_in(tx, pin_id).await?;
            if pin.event_id != event_id {
                return Err(StoreError::NotFound);
            }
            if on {
                sqlx::query(
                    "INSERT INTO pin_votes (pin_id, account_id) VALUES ($1, $2) \
                     ON CONFLICT (pin_id, account_id) DO NOTHING",
                )
                .bind(pin_id.get())
                .bind(who.id.get())
                .execute(&mut **tx)
                .await?;
            } else {
                sqlx::query("DELETE FROM pin_votes WHERE pin_id = $1 AND account_id = $2")
                    .bind(pin_id.get())
                    .bind(who.id.get())
                    .execute(&mut **tx)
                    .await?;
            }
            pin_entry(tx, event_id, who.id, None, pin_id, PinAction::Voted).await
        })
        .await
    }

    /// Organizers pick a pin up (with where: `outcome`, optionally a link) or close it
    /// with a reason.
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id, pin_id = %pin_id, by = %by.id))]
    pub async fn decide_pin(
        &self,
        event_id: EventId,
        pin_id: PinId,
        by: &Who,
        status: PinStatus,
        outcome: &str,
        outcome_url: Option<&str>,
    ) -> Result<Written> {
        konvent_core::strategy::pinboard::decide(status)?;
        self.live_write(event_id, by.id, None, async |LiveTx(tx)| {
            let pin = pin_in(tx, pin_id).await?;
            if pin.event_id != event_id {
                return Err(StoreError::NotFound);
            }
            sqlx::query(
                "UPDATE pins SET status = $1, outcome = $2, outcome_url = $3, decided_by = $4, \
                 decided_at = $5 WHERE id = $6",
            )
            .bind(status.as_str())
            .bind(outcome)
            .bind(outcome_url)
            .bind(&by.name)
            .bind(now_micros())
            .bind(pin_id.get())
            .execute(&mut **tx)
            .await?;
            pin_entry(tx, event_id, by.id, None, pin_id, PinAction::Decided).await
        })
        .await
    }
}

async fn pin_entry(
    tx: &mut Tx,
    event_id: EventId,
    sender: AccountId,
    client_id: Option<&str>,
    pin_id: PinId,
    action: PinAction,
) -> Result<crate::LiveRecord> {
    let pin = pin_in(tx, pin_id).await?;
    let entry = Entry::to_all(None, sender, client_id);
    append(tx, event_id, entry, |_| pin.payload(action)).await
}
