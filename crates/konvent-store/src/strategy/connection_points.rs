//! Connection points (K16): topics, impulses and pins a person follows, for their own
//! page and for the organizers.

use konvent_core::ids::AccountId;
use std::str::FromStr;

use konvent_core::strategy::FollowTarget;

use crate::{Result, Store, StoreError, Who, now_micros};

use super::corrupt;

/// A connection point (K16) with what it points at, for the participant's page and for
/// the organizers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionPoint {
    pub account: Who,
    pub target: FollowTarget,
    pub target_id: i64,
    /// What it points at, in a few words.
    pub label: String,
}

impl Store {
    #[tracing::instrument(level = "debug", skip_all, fields(account = %account, target_id = target_id))]
    pub async fn follow(
        &self,
        account: AccountId,
        target: FollowTarget,
        target_id: i64,
        on: bool,
    ) -> Result<()> {
        let table = match target {
            FollowTarget::Topic => "topics",
            FollowTarget::Impulse => "impulses",
            FollowTarget::Pin => "pins",
        };
        let mut tx = self.begin_write().await?;
        let exists: Option<(i64,)> =
            sqlx::query_as(&format!("SELECT id FROM {table} WHERE id = $1"))
                .bind(target_id)
                .fetch_optional(&mut *tx)
                .await?;
        if exists.is_none() {
            return Err(StoreError::NotFound);
        }
        if on {
            sqlx::query(
                "INSERT INTO connection_points (account_id, target, target_id, created_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (account_id, target, target_id) DO NOTHING",
            )
            .bind(account.get())
            .bind(target.as_str())
            .bind(target_id)
            .bind(now_micros())
            .execute(&mut *tx)
            .await?;
        } else {
            sqlx::query(
                "DELETE FROM connection_points WHERE account_id = $1 AND target = $2 \
                 AND target_id = $3",
            )
            .bind(account.get())
            .bind(target.as_str())
            .bind(target_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Connection points with a label, for one person (`Some(account)`) or everybody.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn connection_points(
        &self,
        account: Option<AccountId>,
    ) -> Result<Vec<ConnectionPoint>> {
        type Row = (i64, String, String, i64, Option<String>);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT c.account_id, a.display_name, c.target, c.target_id, \
             CASE c.target WHEN 'topic' THEN (SELECT title FROM topics WHERE id = c.target_id) \
             WHEN 'impulse' THEN (SELECT text FROM impulses WHERE id = c.target_id) \
             ELSE (SELECT text FROM pins WHERE id = c.target_id) END \
             FROM connection_points c JOIN accounts a ON a.id = c.account_id \
             WHERE ($1 = 0 OR c.account_id = $2) ORDER BY c.target, c.target_id, a.display_name",
        )
        .bind(i64::from(account.is_some()))
        .bind(account.map_or(0, AccountId::get))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(id, name, target, target_id, label)| {
                Ok(ConnectionPoint {
                    account: Who::new(AccountId::new(id), name),
                    target: FollowTarget::from_str(&target).map_err(corrupt)?,
                    target_id,
                    label: label.unwrap_or_default(),
                })
            })
            .collect()
    }
}
