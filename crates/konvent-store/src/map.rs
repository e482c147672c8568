//! The venue map of an event (K8). The web layer checks an organizer's Tiled map and
//! hands its normalised form here as JSON; without a stored map an event walks on the one
//! generated from its rooms. Replacing the map writes a live-log entry, so everybody on
//! the map learns of it (and a client that was away learns it on resume).

use konvent_core::convention::log::payload::VenueMap;
use konvent_core::ids::EventId;

use crate::live::{Entry, LiveTx, append};
use crate::{Result, Store, Who, Written, now_micros};

/// An event's own map as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMap {
    /// The uploaded file's name.
    pub source_name: String,
    /// konvent's normalised form of the map.
    pub map_json: String,
    pub uploaded_by: String,
    pub updated_at: i64,
}

impl Store {
    /// The event's own map, if an organizer uploaded one.
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id))]
    pub async fn venue_map(&self, event_id: EventId) -> Result<Option<StoredMap>> {
        let row: Option<(String, String, String, i64)> = sqlx::query_as(
            "SELECT source_name, map_json, uploaded_by, updated_at FROM venue_maps \
             WHERE event_id = $1",
        )
        .bind(event_id.get())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(
            |(source_name, map_json, uploaded_by, updated_at)| StoredMap {
                source_name,
                map_json,
                uploaded_by,
                updated_at,
            },
        ))
    }

    /// Replaces the event's map (`Some`) or goes back to the generated one (`None`), with
    /// a live-log entry `map` in the same transaction. `by` is `None` from the command
    /// line.
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id, by = by.map(|w| w.id.get())))]
    pub async fn set_venue_map(
        &self,
        event_id: EventId,
        by: Option<&Who>,
        map: Option<(&str, &str)>,
    ) -> Result<Written> {
        let by_name = by.map_or("Kommandozeile", |w| w.name.as_str());
        self.live_write(event_id, by.map(|w| w.id), None, async |LiveTx(tx)| {
            match map {
                Some((source_name, map_json)) => {
                    sqlx::query(
                        "INSERT INTO venue_maps (event_id, source_name, map_json, uploaded_by, updated_at) \
                         VALUES ($1, $2, $3, $4, $5) \
                         ON CONFLICT (event_id) DO UPDATE SET source_name = excluded.source_name, \
                         map_json = excluded.map_json, uploaded_by = excluded.uploaded_by, \
                         updated_at = excluded.updated_at",
                    )
                    .bind(event_id.get())
                    .bind(source_name)
                    .bind(map_json)
                    .bind(by_name)
                    .bind(now_micros())
                    .execute(&mut **tx)
                    .await?;
                }
                None => {
                    sqlx::query("DELETE FROM venue_maps WHERE event_id = $1")
                        .bind(event_id.get())
                        .execute(&mut **tx)
                        .await?;
                }
            }
            let entry = Entry::to_all(None, by.map(|w| w.id), None);
            let source = map.map(|(name, _)| name);
            let data = VenueMap {
                source: source.map(str::to_owned),
                by: by_name.to_owned(),
            };
            append(tx, event_id, entry, |_| data).await
        })
        .await
    }
}
