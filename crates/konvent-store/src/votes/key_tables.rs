//! The Königsteiner Schlüssel (G10): each Land's share per year, by which the votes of
//! a year are weighed.

use konvent_core::gremien::majority::{KeyTable, Seat};
use konvent_core::ids::AccountId;

use super::{Tx, corrupt};
use crate::audit::{self, Actor, Change};
use crate::{Result, Store, now_micros};

pub(super) async fn key_in(tx: &mut Tx, year: i64) -> Result<Option<KeyTable>> {
    // The table of the year, or else the newest before it, or else the newest there is.
    let chosen: Option<(i64,)> = sqlx::query_as(
        "SELECT year FROM key_shares GROUP BY year \
         ORDER BY CASE WHEN year <= $1 THEN 0 ELSE 1 END, \
                  CASE WHEN year <= $1 THEN -year ELSE year END LIMIT 1",
    )
    .bind(year)
    .fetch_optional(&mut **tx)
    .await?;
    match chosen {
        Some((year,)) => key_of_year(tx, year).await.map(Some),
        None => Ok(None),
    }
}

pub(super) async fn key_of_year(tx: &mut Tx, year: i64) -> Result<KeyTable> {
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT seat, share FROM key_shares WHERE year = $1")
            .bind(year)
            .fetch_all(&mut **tx)
            .await?;
    let mut shares = [0u32; 16];
    for (seat, share) in rows {
        let index = seat
            .parse::<Seat>()
            .ok()
            .and_then(Seat::land_index)
            .ok_or_else(|| corrupt("seat", &seat))?;
        shares[index] = u32::try_from(share).map_err(|_| corrupt("share", &share.to_string()))?;
    }
    Ok(KeyTable {
        year: i32::try_from(year).map_err(|_| corrupt("year", &year.to_string()))?,
        shares,
    })
}

impl Store {
    /// Every year's Königsteiner Schlüssel, newest first.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn key_tables(&self) -> Result<Vec<KeyTable>> {
        let mut tx = self.pool.begin().await?;
        let years: Vec<(i64,)> =
            sqlx::query_as("SELECT DISTINCT year FROM key_shares ORDER BY year DESC")
                .fetch_all(&mut *tx)
                .await?;
        let mut tables = Vec::with_capacity(years.len());
        for (year,) in years {
            tables.push(key_of_year(&mut tx, year).await?);
        }
        Ok(tables)
    }

    /// Stores (or replaces) a year's key; the table was checked by [`KeyTable::new`].
    #[tracing::instrument(level = "debug", skip_all, fields(actor = actor.account_id.map(AccountId::get)))]
    pub async fn save_key_table(&self, actor: &Actor, key: &KeyTable) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM key_shares WHERE year = $1")
            .bind(i64::from(key.year))
            .execute(&mut *tx)
            .await?;
        let now = now_micros();
        for land in Seat::laender() {
            sqlx::query(
                "INSERT INTO key_shares (year, seat, share, modified_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(i64::from(key.year))
            .bind(land.code())
            .bind(i64::from(key.share(land)))
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        audit::record(
            &mut tx,
            actor,
            Change {
                conference_id: None,
                entity: "key_table",
                entity_id: i64::from(key.year),
                action: "saved",
                before: None,
                after: audit::snapshot(key),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
