//! Grants: the roles an account holds, each in a scope, given and taken by the admins
//! or by an invitation.

use konvent_core::authz::{Grant, Role, Scope};
use konvent_core::ids::AccountId;

use super::account::exists;
use super::{Tx, normalize_email};
use crate::audit::{self, Actor, Change};
use crate::{Result, Store, StoreError};

impl Store {
    pub(super) async fn grants(&self, account_id: AccountId) -> Result<Vec<Grant>> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT role, scope FROM grants WHERE account_id = $1 ORDER BY role, scope",
        )
        .bind(account_id.get())
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .filter_map(|(r, s)| parse_grant(Some(&r), Some(&s)).transpose())
            .collect()
    }

    /// The accounts holding exactly `grant` (e.g. the organizers of one event), by name.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn grant_holders(&self, grant: &Grant) -> Result<Vec<crate::Who>> {
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT a.id, a.display_name FROM grants g JOIN accounts a ON a.id = g.account_id \
             WHERE g.role = $1 AND g.scope = $2 ORDER BY a.display_name, a.id",
        )
        .bind(grant.role.as_str())
        .bind(grant.scope.to_string())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, name)| crate::Who::new(AccountId::new(id), name))
            .collect())
    }

    /// Gives an account a role (audited). Granting what it already has changes nothing.
    #[tracing::instrument(level = "debug", skip_all, fields(actor = actor.account_id.map(AccountId::get), account_id = %account_id))]
    pub async fn add_grant(
        &self,
        actor: &Actor,
        account_id: AccountId,
        grant: &Grant,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        exists(&mut tx, account_id).await?;
        if insert_grant(&mut tx, account_id, grant).await? {
            audit::record(
                &mut tx,
                actor,
                Change {
                    conference_id: None,
                    entity: "account",
                    entity_id: account_id.get(),
                    action: "grant_added",
                    before: None,
                    after: audit::snapshot(grant),
                },
            )
            .await?;
        }
        tx.commit().await?;
        self.memo.account_changed(account_id);
        Ok(())
    }

    /// Takes a role away (audited).
    #[tracing::instrument(level = "debug", skip_all, fields(actor = actor.account_id.map(AccountId::get), account_id = %account_id))]
    pub async fn remove_grant(
        &self,
        actor: &Actor,
        account_id: AccountId,
        grant: &Grant,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let done =
            sqlx::query("DELETE FROM grants WHERE account_id = $1 AND role = $2 AND scope = $3")
                .bind(account_id.get())
                .bind(grant.role.as_str())
                .bind(grant.scope.to_string())
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
                entity: "account",
                entity_id: account_id.get(),
                action: "grant_removed",
                before: audit::snapshot(grant),
                after: None,
            },
        )
        .await?;
        tx.commit().await?;
        self.memo.account_changed(account_id);
        Ok(())
    }
}

/// Gives the account of `email` a role inside the caller's transaction (audited);
/// granting what it has changes nothing. Fails when the address has no account.
pub(crate) async fn grant_by_email(
    tx: &mut Tx,
    actor: &Actor,
    email: &str,
    grant: &Grant,
) -> Result<AccountId> {
    let (id,): (i64,) = sqlx::query_as("SELECT id FROM accounts WHERE email = $1")
        .bind(normalize_email(email))
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(StoreError::NotFound)?;
    let id = AccountId::new(id);
    if insert_grant(tx, id, grant).await? {
        audit::record(
            tx,
            actor,
            Change {
                conference_id: None,
                entity: "account",
                entity_id: id.get(),
                action: "grant_added",
                before: None,
                after: audit::snapshot(grant),
            },
        )
        .await?;
    }
    Ok(id)
}

/// Inserts a grant; false when the account already had it.
pub(super) async fn insert_grant(
    tx: &mut Tx,
    account_id: AccountId,
    grant: &Grant,
) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO grants (account_id, role, scope) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    )
    .bind(account_id.get())
    .bind(grant.role.as_str())
    .bind(grant.scope.to_string())
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() > 0)
}

pub(super) fn parse_grant(role: Option<&str>, scope: Option<&str>) -> Result<Option<Grant>> {
    let Some(role) = role else { return Ok(None) };
    let role: Role = role.parse().map_err(StoreError::Corrupt)?;
    let scope: Scope = scope
        .unwrap_or("global")
        .parse()
        .map_err(StoreError::Corrupt)?;
    Grant::new(role, scope)
        .map(Some)
        .map_err(StoreError::Corrupt)
}
