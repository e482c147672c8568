//! Moderation that concerns people and rooms (K17): mutes in chat, removal from an event
//! and readmission, and locking a room's chat.

use konvent_core::convention::log::payload::{ChatLock, Moderation};
use konvent_core::convention::moderation::ModerationRefusal;
use konvent_core::ids::EventId;

use super::{Action, record, staff_entry};
use crate::live::{Entry, LiveTx, append};
use crate::{Result, Room, Store, Who, Written, now_micros};

impl Store {
    /// Mutes a person in chat until `ends_at` (`None`: for the rest of the event).
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id, by = %by.id, person = %person.id))]
    pub async fn mute(
        &self,
        event_id: EventId,
        by: &Who,
        person: &Who,
        ends_at: Option<jiff::Timestamp>,
        reason: &str,
        client_id: Option<&str>,
    ) -> Result<Written> {
        let ends = ends_at.map(|t| t.as_microsecond());
        self.live_write(event_id, by.id, client_id, async |LiveTx(tx)| {
            sqlx::query(
                "INSERT INTO event_mutes (event_id, account_id, ends_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (event_id, account_id) DO UPDATE SET ends_at = excluded.ends_at",
            )
            .bind(event_id.get())
            .bind(person.id.get())
            .bind(ends)
            .execute(&mut **tx)
            .await?;
            let mut action = Action::new("mute");
            action.person = Some(person);
            action.reason = reason;
            action.ends_at = ends;
            record(tx, event_id, by, action).await?;
            let data = Moderation::Mute {
                user: person.clone(),
                until: ends_at,
                reason: reason.to_owned(),
            };
            staff_entry(tx, event_id, by, client_id, data).await
        })
        .await
    }

    /// Ends a mute early.
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id, by = %by.id, person = %person.id))]
    pub async fn unmute(
        &self,
        event_id: EventId,
        by: &Who,
        person: &Who,
        client_id: Option<&str>,
    ) -> Result<Written> {
        self.live_write(event_id, by.id, client_id, async |LiveTx(tx)| {
            sqlx::query("DELETE FROM event_mutes WHERE event_id = $1 AND account_id = $2")
                .bind(event_id.get())
                .bind(person.id.get())
                .execute(&mut **tx)
                .await?;
            let mut action = Action::new("unmute");
            action.person = Some(person);
            record(tx, event_id, by, action).await?;
            let data = Moderation::Unmute {
                user: person.clone(),
            };
            staff_entry(tx, event_id, by, client_id, data).await
        })
        .await
    }

    /// Removes a person from the event: their registration goes, and they may not come
    /// back until an organizer lets them ([`Store::readmit`]).
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id, by = %by.id, person = %person.id))]
    pub async fn expel(
        &self,
        event_id: EventId,
        by: &Who,
        person: &Who,
        reason: &str,
        client_id: Option<&str>,
    ) -> Result<Written> {
        self.live_write(event_id, by.id, client_id, async |LiveTx(tx)| {
            sqlx::query("DELETE FROM event_people WHERE event_id = $1 AND account_id = $2")
                .bind(event_id.get())
                .bind(person.id.get())
                .execute(&mut **tx)
                .await?;
            sqlx::query(
                "DELETE FROM hands WHERE account_id = $1 \
                 AND room_id IN (SELECT id FROM rooms WHERE event_id = $2)",
            )
            .bind(person.id.get())
            .bind(event_id.get())
            .execute(&mut **tx)
            .await?;
            sqlx::query(
                "INSERT INTO event_removals (event_id, account_id, at) VALUES ($1, $2, $3) \
                 ON CONFLICT (event_id, account_id) DO NOTHING",
            )
            .bind(event_id.get())
            .bind(person.id.get())
            .bind(now_micros())
            .execute(&mut **tx)
            .await?;
            let mut action = Action::new("expel");
            action.person = Some(person);
            action.reason = reason;
            record(tx, event_id, by, action).await?;
            let data = Moderation::Expel {
                user: person.clone(),
                reason: reason.to_owned(),
            };
            staff_entry(tx, event_id, by, client_id, data).await
        })
        .await
        .inspect(|_| self.memo.account_changed(person.id))
    }

    /// Lets a removed person back in, registered as a participant again.
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id, by = %by.id, person = %person.id))]
    pub async fn readmit(
        &self,
        event_id: EventId,
        by: &Who,
        person: &Who,
        client_id: Option<&str>,
    ) -> Result<Written> {
        self.live_write(event_id, by.id, client_id, async |LiveTx(tx)| {
            let done =
                sqlx::query("DELETE FROM event_removals WHERE event_id = $1 AND account_id = $2")
                    .bind(event_id.get())
                    .bind(person.id.get())
                    .execute(&mut **tx)
                    .await?;
            if done.rows_affected() == 0 {
                return Err(ModerationRefusal::NotRemoved.into());
            }
            sqlx::query(
                "INSERT INTO event_people (event_id, account_id, role) \
                 VALUES ($1, $2, 'participant') ON CONFLICT (event_id, account_id) DO NOTHING",
            )
            .bind(event_id.get())
            .bind(person.id.get())
            .execute(&mut **tx)
            .await?;
            let mut action = Action::new("readmit");
            action.person = Some(person);
            record(tx, event_id, by, action).await?;
            let data = Moderation::Readmit {
                user: person.clone(),
            };
            staff_entry(tx, event_id, by, client_id, data).await
        })
        .await
        .inspect(|_| self.memo.account_changed(person.id))
    }

    /// Locks a room's chat for participants (or unlocks it); everybody in the room learns
    /// it from a `chat_lock` entry.
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id, by = %by.id, room_id = %room.id))]
    pub async fn lock_chat(
        &self,
        event_id: EventId,
        by: &Who,
        room: &Room,
        locked: bool,
        reason: &str,
        client_id: Option<&str>,
    ) -> Result<Written> {
        self.live_write(event_id, by.id, client_id, async |LiveTx(tx)| {
            if locked {
                sqlx::query(
                    "INSERT INTO room_chat_locks (room_id) VALUES ($1) \
                     ON CONFLICT (room_id) DO NOTHING",
                )
                .bind(room.id.get())
                .execute(&mut **tx)
                .await?;
            } else {
                sqlx::query("DELETE FROM room_chat_locks WHERE room_id = $1")
                    .bind(room.id.get())
                    .execute(&mut **tx)
                    .await?;
            }
            let mut action = Action::new(if locked { "lock" } else { "unlock" });
            action.item = Some("room");
            action.room = Some(&room.slug);
            action.reason = reason;
            record(tx, event_id, by, action).await?;
            let entry = Entry::to_all(Some(&room.slug), by.id, client_id);
            append(tx, event_id, entry, |_| ChatLock { locked }).await
        })
        .await
    }
}
