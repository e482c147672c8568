//! The council's seventeen seats (G9): each with its representative and deputies.

use konvent_core::gremien::majority::Seat;
use konvent_core::ids::AccountId;
use serde::Serialize;

use super::{Tx, corrupt, invalid};
use crate::audit::{self, Actor, Change};
use crate::{Result, Store, StoreError, now_micros};

/// A seat's holder: its representative or one of its deputies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SeatHolder {
    pub seat: Seat,
    pub account_id: AccountId,
    pub name: String,
    pub email: String,
    pub deputy: bool,
}

pub(super) async fn holder_of(tx: &mut Tx, account_id: AccountId) -> Result<Option<(Seat, bool)>> {
    let row: Option<(String, String)> =
        sqlx::query_as("SELECT seat, role FROM council_seats WHERE account_id = $1")
            .bind(account_id.get())
            .fetch_optional(&mut **tx)
            .await?;
    row.map(|(seat, role)| {
        Ok((
            seat.parse().map_err(|_| corrupt("seat", &seat))?,
            role == "deputy",
        ))
    })
    .transpose()
}

/// Every holder of a seat of the council, members and deputies.
pub(super) async fn seat_holders(tx: &mut Tx) -> Result<Vec<AccountId>> {
    let holders: Vec<(i64,)> = sqlx::query_as("SELECT DISTINCT account_id FROM council_seats")
        .fetch_all(&mut **tx)
        .await?;
    Ok(holders
        .into_iter()
        .map(|(id,)| AccountId::new(id))
        .collect())
}

impl Store {
    /// The seats' holders, by seat, the representative first.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn seat_holders(&self) -> Result<Vec<SeatHolder>> {
        let rows: Vec<(String, i64, String, String, String)> = sqlx::query_as(
            "SELECT s.seat, a.id, a.display_name, a.email, s.role FROM council_seats s \
             JOIN accounts a ON a.id = s.account_id ORDER BY a.display_name",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut holders = rows
            .into_iter()
            .map(|(seat, account_id, name, email, role)| {
                Ok(SeatHolder {
                    seat: seat.parse().map_err(|_| corrupt("seat", &seat))?,
                    account_id: AccountId::new(account_id),
                    name,
                    email,
                    deputy: role == "deputy",
                })
            })
            .collect::<Result<Vec<_>>>()?;
        holders.sort_by_key(|h| (h.seat, h.deputy));
        Ok(holders)
    }

    /// The seat an account holds, and whether as a deputy.
    #[tracing::instrument(level = "debug", skip_all, fields(account_id = %account_id))]
    pub async fn seat_of(&self, account_id: AccountId) -> Result<Option<(Seat, bool)>> {
        let mut tx = self.pool.begin().await?;
        holder_of(&mut tx, account_id).await
    }

    /// Gives a seat to the account with `email`, as representative (replacing the one
    /// before, who stays a deputy) or as a deputy. An account holds one seat at most.
    #[tracing::instrument(level = "debug", skip_all, fields(actor = actor.account_id.map(AccountId::get), seat = ?seat))]
    pub async fn assign_seat(
        &self,
        actor: &Actor,
        seat: Seat,
        email: &str,
        deputy: bool,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let account: Option<(i64,)> =
            sqlx::query_as("SELECT id FROM accounts WHERE lower(email) = lower($1)")
                .bind(email.trim())
                .fetch_optional(&mut *tx)
                .await?;
        let Some((account_id,)) = account else {
            return Err(invalid(
                "email",
                "unknown-account",
                "Zu dieser Adresse gibt es kein Konto.",
            ));
        };
        if !deputy {
            sqlx::query(
                "UPDATE council_seats SET role = 'deputy' WHERE seat = $1 AND role = 'representative'",
            )
            .bind(seat.code())
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("DELETE FROM council_seats WHERE account_id = $1")
            .bind(account_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO council_seats (seat, account_id, role, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(seat.code())
        .bind(account_id)
        .bind(if deputy { "deputy" } else { "representative" })
        .bind(now_micros())
        .execute(&mut *tx)
        .await?;
        audit::record(
            &mut tx,
            actor,
            Change {
                conference_id: None,
                entity: "seat",
                entity_id: account_id,
                action: "assigned",
                before: None,
                after: Some(serde_json::json!({ "seat": seat.code(), "deputy": deputy })),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Takes a seat from an account.
    #[tracing::instrument(level = "debug", skip_all, fields(actor = actor.account_id.map(AccountId::get), account_id = %account_id))]
    pub async fn unassign_seat(&self, actor: &Actor, account_id: AccountId) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("DELETE FROM council_seats WHERE account_id = $1")
            .bind(account_id.get())
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        audit::record(
            &mut tx,
            actor,
            Change {
                conference_id: None,
                entity: "seat",
                entity_id: account_id.get(),
                action: "unassigned",
                before: None,
                after: None,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
