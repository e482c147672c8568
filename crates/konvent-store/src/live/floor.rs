//! The floor of a room (K6): raised hands in the order they went up, and who speaks.

use konvent_core::convention::log::{Who, payload};
use konvent_core::ids::{AccountId, EventId, RoomId};

use super::log::{Entry, LiveTx, Written, append};
use crate::{Result, Room, Store, now_micros};

/// The raised hands of a room, in the order they went up: one statement, inside a
/// write's transaction or on its own.
async fn hand_queue<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Any>,
    room_id: RoomId,
) -> Result<Vec<Who>> {
    let rows: Vec<(i64, String)> = sqlx::query_as(&format!(
        "SELECT a.id, {} FROM hands h JOIN accounts a ON a.id = h.account_id \
             JOIN rooms hr ON hr.id = h.room_id \
             WHERE h.room_id = $1 ORDER BY h.raised_at, h.account_id",
        crate::pseudonyms::name_in_event("hr.event_id", "a.id")
    ))
    .bind(room_id.get())
    .fetch_all(executor)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, name)| Who::new(AccountId::new(id), name))
        .collect())
}

impl Store {
    /// Raises or lowers a hand (K6); the entry carries the queue after the change.
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id, room_id = %room.id, who = %who.id))]
    pub async fn set_hand(
        &self,
        event_id: EventId,
        room: &Room,
        who: &Who,
        up: bool,
        client_id: Option<&str>,
    ) -> Result<Written> {
        self.live_write(event_id, who.id, client_id, async |LiveTx(tx)| {
            if up {
                sqlx::query(
                    "INSERT INTO hands (room_id, account_id, raised_at) VALUES ($1, $2, $3) \
                         ON CONFLICT (room_id, account_id) DO NOTHING",
                )
                .bind(room.id.get())
                .bind(who.id.get())
                .bind(now_micros())
                .execute(&mut **tx)
                .await?;
            } else {
                sqlx::query("DELETE FROM hands WHERE room_id = $1 AND account_id = $2")
                    .bind(room.id.get())
                    .bind(who.id.get())
                    .execute(&mut **tx)
                    .await?;
            }
            let queue = hand_queue(&mut **tx, room.id).await?;
            let entry = Entry::to_all(Some(&room.slug), who.id, client_id);
            let hand = payload::Hand {
                user: who.clone(),
                up,
                queue,
            };
            append(tx, event_id, entry, |_| hand).await
        })
        .await
    }

    /// Gives the floor to `speaker` (whose hand goes down) or takes it back (`None`).
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id, room_id = %room.id, by = %by.id, speaker = speaker.map(|w| w.id.get())))]
    pub async fn give_floor(
        &self,
        event_id: EventId,
        room: &Room,
        by: &Who,
        speaker: Option<&Who>,
        client_id: Option<&str>,
    ) -> Result<Written> {
        self.live_write(event_id, by.id, client_id, async |LiveTx(tx)| {
            sqlx::query("UPDATE rooms SET speaker_id = $1 WHERE id = $2")
                .bind((speaker.map(|s| s.id)).map(AccountId::get))
                .bind(room.id.get())
                .execute(&mut **tx)
                .await?;
            if let Some(s) = speaker {
                sqlx::query("DELETE FROM hands WHERE room_id = $1 AND account_id = $2")
                    .bind(room.id.get())
                    .bind(s.id.get())
                    .execute(&mut **tx)
                    .await?;
            }
            let queue = hand_queue(&mut **tx, room.id).await?;
            let entry = Entry::to_all(Some(&room.slug), by.id, client_id);
            let floor = payload::Floor {
                speaker: speaker.cloned(),
                queue,
            };
            append(tx, event_id, entry, |_| floor).await
        })
        .await
    }

    /// The current speaker queue of a room, in order.
    #[tracing::instrument(level = "debug", skip_all, fields(room_id = %room_id))]
    pub async fn speaker_queue(&self, room_id: RoomId) -> Result<Vec<Who>> {
        hand_queue(&self.pool, room_id).await
    }
}
