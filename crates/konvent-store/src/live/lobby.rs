//! What the lobby shows of an event's running order (K1, K7): the agenda item the
//! organizers advanced to, and the pitch timer.

use jiff::Timestamp;
use konvent_core::convention::AgendaEntry;
use konvent_core::convention::log::{Who, payload};
use konvent_core::ids::EventId;

use super::log::{Entry, LiveTx, Written, append};
use crate::{Result, Store, now_micros};

/// The pitch timer (K7): running until `ends_at`, or stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timer {
    pub label: String,
    pub seconds: i64,
    pub ends_at: Option<Timestamp>,
}

impl Timer {
    /// The timer as its live entry carries it.
    pub fn payload(&self) -> payload::Timer {
        payload::Timer {
            running: self.ends_at.is_some(),
            seconds: self.seconds,
            ends_at: self.ends_at,
            label: self.label.clone(),
        }
    }
}

impl Store {
    /// Advances the agenda to item `current` (or back to the clock with `None`). The entry
    /// carries the whole `agenda` too: a lobby renders its now/next line and its programme
    /// from the entry alone (the clock's item is the one at the entry's time).
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id, by = %by.id, agenda = agenda.len()))]
    pub async fn set_current_item(
        &self,
        event_id: EventId,
        by: &Who,
        current: Option<usize>,
        agenda: &[AgendaEntry],
        client_id: Option<&str>,
    ) -> Result<Written> {
        let item = current.and_then(|i| agenda.get(i));
        self.live_write(event_id, by.id, client_id, async |LiveTx(tx)| {
            sqlx::query("UPDATE events SET current_item = $1, modified_at = $2 WHERE id = $3")
                .bind(current.map(|c| c as i64))
                .bind(now_micros())
                .bind(event_id.get())
                .execute(&mut **tx)
                .await?;
            let entry = Entry::to_all(None, by.id, client_id);
            let data = payload::Agenda {
                current,
                item: item.cloned(),
                agenda: agenda.to_vec(),
            };
            append(tx, event_id, entry, |_| data).await
        })
        .await
    }

    /// Starts (`timer.ends_at` set) or stops the pitch timer (K7).
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id, by = %by.id))]
    pub async fn set_timer(
        &self,
        event_id: EventId,
        by: &Who,
        timer: &Timer,
        client_id: Option<&str>,
    ) -> Result<Written> {
        self.live_write(event_id, by.id, client_id, async |LiveTx(tx)| {
            sqlx::query(
                "UPDATE events SET timer_label = $1, timer_seconds = $2, timer_ends_at = $3 \
                     WHERE id = $4",
            )
            .bind(&timer.label)
            .bind(timer.seconds)
            .bind(timer.ends_at.map(|t| t.as_microsecond()))
            .bind(event_id.get())
            .execute(&mut **tx)
            .await?;
            let entry = Entry::to_all(None, by.id, client_id);
            append(tx, event_id, entry, |_| timer.payload()).await
        })
        .await
    }
}
