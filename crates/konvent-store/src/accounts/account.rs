//! Accounts: created by an invitation or at first sign-in, listed for the admins with
//! their grants and providers, disabled and enabled again.

use konvent_core::ids::AccountId;
use std::collections::HashMap;

use konvent_core::authz::{Grant, Principal};

use super::grants::{insert_grant, parse_grant};
use super::{Tx, normalize_email};
use crate::audit::{self, Actor, Change};
use crate::{Result, Store, StoreError, now_micros};

/// An account as the admin pages list it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: AccountId,
    pub email: String,
    pub display_name: String,
    /// Where the person works, as an invitation list gave it.
    pub organisation: Option<String>,
    pub has_password: bool,
    pub grants: Vec<Grant>,
    /// For each of `grants`, the provider whose claims gave it (None: given in konvent).
    pub granted_by: Vec<Option<String>>,
    /// The providers the account signs in with.
    pub providers: Vec<String>,
    /// The provider an admin allowed it to be linked to at the next sign-in there.
    pub link_provider: Option<String>,
    /// An admin disabled it: it cannot sign in.
    pub disabled: bool,
}

impl Store {
    /// Creates an account without password (it signs in by link) or returns the existing
    /// one, and makes sure it has `grants`.
    #[tracing::instrument(level = "debug", skip_all, fields(grants = grants.len()))]
    pub async fn ensure_account(
        &self,
        email: &str,
        display_name: &str,
        grants: &[Grant],
    ) -> Result<AccountId> {
        let mut tx = self.begin_write().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO accounts (email, display_name, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (email) DO UPDATE SET email = excluded.email RETURNING id",
        )
        .bind(normalize_email(email))
        .bind(display_name)
        .bind(now_micros())
        .fetch_one(&mut *tx)
        .await?;
        let id = AccountId::new(id);
        for grant in grants {
            insert_grant(&mut tx, id, grant).await?;
        }
        tx.commit().await?;
        self.memo.account_changed(id);
        Ok(id)
    }

    /// Whether an account with this address exists.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn has_account(&self, email: &str) -> Result<bool> {
        let row: Option<(i64,)> = sqlx::query_as("SELECT id FROM accounts WHERE email = $1")
            .bind(normalize_email(email))
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    /// Whether an admin disabled the account.
    #[tracing::instrument(level = "debug", skip_all, fields(account_id = %account_id))]
    pub async fn account_disabled(&self, account_id: AccountId) -> Result<bool> {
        let row: Option<(Option<i64>,)> =
            sqlx::query_as("SELECT disabled_at FROM accounts WHERE id = $1")
                .bind(account_id.get())
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.is_some_and(|(at,)| at.is_some()))
    }

    /// Disables an account (its sessions end in the same transaction) or enables it
    /// again, audited. Answers whether anything changed.
    #[tracing::instrument(level = "debug", skip_all, fields(actor = actor.account_id.map(AccountId::get), account_id = %account_id))]
    pub async fn set_account_disabled(
        &self,
        actor: &Actor,
        account_id: AccountId,
        disabled: bool,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let changed = if disabled {
            sqlx::query(
                "UPDATE accounts SET disabled_at = $1 WHERE id = $2 AND disabled_at IS NULL",
            )
            .bind(now_micros())
            .bind(account_id.get())
            .execute(&mut *tx)
            .await?
        } else {
            sqlx::query(
                "UPDATE accounts SET disabled_at = NULL WHERE id = $1 AND disabled_at IS NOT NULL",
            )
            .bind(account_id.get())
            .execute(&mut *tx)
            .await?
        }
        .rows_affected()
            > 0;
        if !changed {
            return Ok(false);
        }
        if disabled {
            sqlx::query("DELETE FROM sessions WHERE account_id = $1")
                .bind(account_id.get())
                .execute(&mut *tx)
                .await?;
        }
        audit::record(
            &mut tx,
            actor,
            Change {
                conference_id: None,
                entity: "account",
                entity_id: account_id.get(),
                action: if disabled {
                    "account_disabled"
                } else {
                    "account_enabled"
                },
                before: None,
                after: None,
            },
        )
        .await?;
        tx.commit().await?;
        self.memo.account_changed(account_id);
        Ok(true)
    }

    /// An account with its grants.
    #[tracing::instrument(level = "debug", skip_all, fields(account_id = %account_id))]
    pub async fn principal(&self, account_id: AccountId) -> Result<Option<Principal>> {
        let row: Option<(i64, String, String)> =
            sqlx::query_as("SELECT id, display_name, email FROM accounts WHERE id = $1")
                .bind(account_id.get())
                .fetch_optional(&self.pool)
                .await?;
        let Some((user_id, display_name, email)) = row else {
            return Ok(None);
        };
        Ok(Some(Principal {
            user_id: AccountId::new(user_id),
            display_name,
            email,
            grants: self.grants(account_id).await?,
        }))
    }

    /// Where the person of an account works, if known.
    #[tracing::instrument(level = "debug", skip_all, fields(account_id = %account_id))]
    pub async fn organisation_of(&self, account_id: AccountId) -> Result<Option<String>> {
        let row: Option<(Option<String>,)> =
            sqlx::query_as("SELECT organisation FROM accounts WHERE id = $1")
                .bind(account_id.get())
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.and_then(|(o,)| o))
    }

    /// All accounts but deleted ones (Art. 17: only their pseudonym row is left), by
    /// name, each with its grants (and which provider gave them) and the providers it
    /// signs in with.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn accounts(&self) -> Result<Vec<Account>> {
        type Row = (
            i64,
            String,
            String,
            Option<String>,
            Option<String>,
            Option<i64>,
            Option<String>,
        );
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, email, display_name, organisation, password_hash, disabled_at, \
             link_provider FROM accounts WHERE deleted_at IS NULL ORDER BY display_name, id",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut grants: HashMap<i64, Vec<(Grant, Option<String>)>> = HashMap::new();
        let grant_rows: Vec<(i64, String, String, Option<String>)> = sqlx::query_as(
            "SELECT account_id, role, scope, provider FROM grants ORDER BY role, scope",
        )
        .fetch_all(&self.pool)
        .await?;
        for (account, role, scope, provider) in grant_rows {
            if let Some(grant) = parse_grant(Some(&role), Some(&scope))? {
                grants.entry(account).or_default().push((grant, provider));
            }
        }
        let mut linked: HashMap<i64, Vec<String>> = HashMap::new();
        let link_rows: Vec<(i64, String)> =
            sqlx::query_as("SELECT account_id, provider FROM oidc_identities ORDER BY provider")
                .fetch_all(&self.pool)
                .await?;
        for (account, provider) in link_rows {
            linked.entry(account).or_default().push(provider);
        }
        Ok(rows
            .into_iter()
            .map(
                |(id, email, display_name, organisation, hash, disabled_at, link_provider)| {
                    let (grants, granted_by) =
                        grants.remove(&id).unwrap_or_default().into_iter().unzip();
                    Account {
                        id: AccountId::new(id),
                        email,
                        display_name,
                        organisation,
                        has_password: hash.is_some(),
                        grants,
                        granted_by,
                        providers: linked.remove(&id).unwrap_or_default(),
                        link_provider,
                        disabled: disabled_at.is_some(),
                    }
                },
            )
            .collect())
    }
}

pub(super) async fn exists(tx: &mut Tx, account_id: AccountId) -> Result<()> {
    sqlx::query("SELECT 1 FROM accounts WHERE id = $1")
        .bind(account_id.get())
        .fetch_optional(&mut **tx)
        .await?
        .map(|_| ())
        .ok_or(StoreError::NotFound)
}
