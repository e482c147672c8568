//! Single sign-on with OpenID Connect (issue 19, A3): sign-ins in progress, the link from
//! a provider's subject to an account, grants that follow a provider's claims, sessions
//! that a provider may end, and the switch that turns local passwords off.

use jiff::SignedDuration;
use konvent_core::authz::Grant;
use konvent_core::ids::AccountId;

use crate::accounts::{new_token, token_hash};
use crate::audit::{self, Actor, Change};
use crate::{Result, Store, StoreError, now_micros};

/// What a sign-in in progress remembers between leaving for the provider and coming back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcFlow {
    pub provider: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
    pub next_path: String,
    /// The account signed in when the sign-in started: an unknown subject is linked to
    /// it instead of getting a new account.
    pub link_account: Option<AccountId>,
}

/// A person as the provider's ID token names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcPerson {
    pub provider: String,
    pub subject: String,
    pub email: Option<String>,
    pub name: String,
    /// The grants the provider's claims map to now.
    pub grants: Vec<Grant>,
}

/// The provider's side of a session: what logout needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcSession {
    pub provider: String,
    pub subject: String,
    pub sid: Option<String>,
    pub id_token: String,
}

/// Why a provider's person gets no account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OidcRefusal {
    /// The address belongs to an account not linked to this provider's subject: konvent
    /// never links by e-mail alone.
    EmailTaken,
}

/// The switch `local_passwords`: off lets only admins sign in with a password.
const LOCAL_PASSWORDS: &str = "local_passwords";

impl Store {
    /// Remembers a sign-in in progress under the hash of `key` (the browser's cookie).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn begin_oidc_flow(
        &self,
        key: &str,
        flow: &OidcFlow,
        valid_for: SignedDuration,
    ) -> Result<()> {
        let now = now_micros();
        // Abandoned sign-ins are of no use: sweep them when a new one starts.
        sqlx::query("DELETE FROM oidc_flows WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.pool)
            .await?;
        sqlx::query(
            "INSERT INTO oidc_flows (key_hash, provider, state, nonce, pkce_verifier, \
             next_path, link_account, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(token_hash(key))
        .bind(&flow.provider)
        .bind(&flow.state)
        .bind(&flow.nonce)
        .bind(&flow.pkce_verifier)
        .bind(&flow.next_path)
        .bind(flow.link_account.map(AccountId::get))
        .bind(now)
        .bind(now.saturating_add(valid_for.as_micros() as i64))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// How many sign-ins are in progress (not expired), from everybody.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn open_oidc_flows(&self) -> Result<i64> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM oidc_flows WHERE expires_at > $1")
            .bind(now_micros())
            .fetch_one(&self.pool)
            .await?;
        Ok(n)
    }

    /// Takes the sign-in in progress of `key` (it cannot be taken twice); `None` when
    /// there is none or it expired.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn take_oidc_flow(&self, key: &str) -> Result<Option<OidcFlow>> {
        type Row = (String, String, String, String, String, Option<i64>);
        let row: Option<Row> = sqlx::query_as(
            "DELETE FROM oidc_flows WHERE key_hash = $1 AND expires_at > $2 \
             RETURNING provider, state, nonce, pkce_verifier, next_path, link_account",
        )
        .bind(token_hash(key))
        .bind(now_micros())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(
            |(provider, state, nonce, pkce_verifier, next_path, link_account)| OidcFlow {
                provider,
                state,
                nonce,
                pkce_verifier,
                next_path,
                link_account: link_account.map(AccountId::new),
            },
        ))
    }

    /// Finds the account of the provider's subject, or on the first sign-in links it to
    /// `link_account` (the account signed in with its password when the sign-in started)
    /// or creates one; then makes its provider grants equal `person.grants` (grants
    /// given in konvent stay). One transaction: a refused person leaves nothing behind.
    #[tracing::instrument(level = "debug", skip_all, fields(link_account = link_account.map(AccountId::get)))]
    pub async fn oidc_sign_in(
        &self,
        person: &OidcPerson,
        link_account: Option<AccountId>,
    ) -> Result<std::result::Result<AccountId, OidcRefusal>> {
        let mut tx = self.begin_write().await?;
        let linked: Option<(i64,)> = sqlx::query_as(
            "SELECT account_id FROM oidc_identities WHERE provider = $1 AND subject = $2",
        )
        .bind(&person.provider)
        .bind(&person.subject)
        .fetch_optional(&mut *tx)
        .await?;
        let id = match (linked, link_account) {
            (Some((id,)), _) => id,
            (None, Some(id)) => {
                link_identity(&mut tx, person, id, "provider_linked").await?;
                id.get()
            }
            (None, None) => {
                // Without an address the account gets one that can receive nothing.
                let email = match &person.email {
                    Some(e) => e.trim().to_lowercase(),
                    None => format!(
                        "{}@{}.oidc.invalid",
                        &token_hash(&person.subject)[..24],
                        person.provider
                    ),
                };
                let taken: Option<(i64, Option<String>)> =
                    sqlx::query_as("SELECT id, link_provider FROM accounts WHERE email = $1")
                        .bind(&email)
                        .fetch_optional(&mut *tx)
                        .await?;
                match taken {
                    // An admin allowed this account to be linked to this provider, and
                    // the provider vouches for the address (only verified ones arrive).
                    Some((id, Some(allowed)))
                        if allowed == person.provider && person.email.is_some() =>
                    {
                        link_identity(
                            &mut tx,
                            person,
                            AccountId::new(id),
                            "provider_linked_by_admin",
                        )
                        .await?;
                        sqlx::query("UPDATE accounts SET link_provider = NULL WHERE id = $1")
                            .bind(id)
                            .execute(&mut *tx)
                            .await?;
                        id
                    }
                    Some(_) => return Ok(Err(OidcRefusal::EmailTaken)),
                    None => {
                        let (id,): (i64,) = sqlx::query_as(
                            "INSERT INTO accounts (email, display_name, created_at) \
                             VALUES ($1, $2, $3) RETURNING id",
                        )
                        .bind(&email)
                        .bind(&person.name)
                        .bind(now_micros())
                        .fetch_one(&mut *tx)
                        .await?;
                        sqlx::query(
                            "INSERT INTO oidc_identities (provider, subject, account_id, created_at) \
                             VALUES ($1, $2, $3, $4)",
                        )
                        .bind(&person.provider)
                        .bind(&person.subject)
                        .bind(id)
                        .bind(now_micros())
                        .execute(&mut *tx)
                        .await?;
                        id
                    }
                }
            }
        };
        let had: Vec<(String, String)> = sqlx::query_as(
            "SELECT role, scope FROM grants WHERE account_id = $1 AND provider = $2",
        )
        .bind(id)
        .bind(&person.provider)
        .fetch_all(&mut *tx)
        .await?;
        let actor = Actor::system(format!("Anmeldedienst {}", person.provider));
        for (role, scope) in had {
            let keep = person
                .grants
                .iter()
                .any(|g| g.role.as_str() == role && g.scope.to_string() == scope);
            if keep {
                continue;
            }
            sqlx::query(
                "DELETE FROM grants WHERE account_id = $1 AND role = $2 AND scope = $3 \
                 AND provider = $4",
            )
            .bind(id)
            .bind(&role)
            .bind(&scope)
            .bind(&person.provider)
            .execute(&mut *tx)
            .await?;
            audit::record(
                &mut tx,
                &actor,
                Change {
                    conference_id: None,
                    entity: "account",
                    entity_id: id,
                    action: "provider_grant_removed",
                    before: Some(serde_json::json!({
                        "role": role, "scope": scope, "provider": person.provider
                    })),
                    after: None,
                },
            )
            .await?;
        }
        for grant in &person.grants {
            // A grant given in konvent stays konvent's (NULL provider): DO NOTHING.
            let done = sqlx::query(
                "INSERT INTO grants (account_id, role, scope, provider) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(id)
            .bind(grant.role.as_str())
            .bind(grant.scope.to_string())
            .bind(&person.provider)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() > 0 {
                audit::record(
                    &mut tx,
                    &actor,
                    Change {
                        conference_id: None,
                        entity: "account",
                        entity_id: id,
                        action: "provider_grant_added",
                        before: None,
                        after: audit::snapshot(grant),
                    },
                )
                .await?;
            }
        }
        tx.commit().await?;
        self.memo.account_changed(AccountId::new(id));
        Ok(Ok(AccountId::new(id)))
    }

    /// Whether the account a provider's subject signs in to holds a grant given in
    /// konvent (not from a provider's claims).
    #[tracing::instrument(level = "debug", skip_all, fields(provider = %provider))]
    pub async fn oidc_has_konvent_grants(&self, provider: &str, subject: &str) -> Result<bool> {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM oidc_identities i JOIN grants g ON g.account_id = i.account_id \
             WHERE i.provider = $1 AND i.subject = $2 AND g.provider IS NULL",
        )
        .bind(provider)
        .bind(subject)
        .fetch_one(&self.pool)
        .await?;
        Ok(n > 0)
    }

    /// The grants of an account that came from a provider, with the provider's id.
    #[tracing::instrument(level = "debug", skip_all, fields(account_id = %account_id))]
    pub async fn provider_grants(
        &self,
        account_id: AccountId,
    ) -> Result<Vec<(String, String, String)>> {
        Ok(sqlx::query_as(
            "SELECT role, scope, provider FROM grants \
             WHERE account_id = $1 AND provider IS NOT NULL ORDER BY role, scope",
        )
        .bind(account_id.get())
        .fetch_all(&self.pool)
        .await?)
    }

    /// Starts a session that a provider signed in; returns its cookie token.
    #[tracing::instrument(level = "debug", skip_all, fields(account_id = %account_id))]
    pub async fn sign_in_through_provider(
        &self,
        account_id: AccountId,
        valid_for: SignedDuration,
        session: &OidcSession,
    ) -> Result<String> {
        let token = self.sign_in(account_id, valid_for).await?;
        sqlx::query(
            "UPDATE sessions SET oidc_provider = $1, oidc_subject = $2, oidc_sid = $3, \
             oidc_id_token = $4 WHERE token_hash = $5",
        )
        .bind(&session.provider)
        .bind(&session.subject)
        .bind(&session.sid)
        .bind(&session.id_token)
        .bind(token_hash(&token))
        .execute(&self.pool)
        .await?;
        Ok(token)
    }

    /// The provider's side of the session behind a cookie token, if a provider started it.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn provider_session(&self, token: &str) -> Result<Option<OidcSession>> {
        type Row = (
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        let row: Option<Row> = sqlx::query_as(
            "SELECT oidc_provider, oidc_subject, oidc_sid, oidc_id_token FROM sessions \
             WHERE token_hash = $1",
        )
        .bind(token_hash(token))
        .fetch_optional(&self.pool)
        .await?;
        Ok(match row {
            Some((Some(provider), Some(subject), sid, Some(id_token))) => Some(OidcSession {
                provider,
                subject,
                sid,
                id_token,
            }),
            _ => None,
        })
    }

    /// Ends the sessions a provider's logout names: those of its session `sid`, or, without
    /// one, all of its subject's. Returns the accounts whose sessions ended.
    #[tracing::instrument(level = "debug", skip_all, fields(provider = %provider))]
    pub async fn end_provider_sessions(
        &self,
        provider: &str,
        subject: Option<&str>,
        sid: Option<&str>,
    ) -> Result<Vec<AccountId>> {
        if subject.is_none() && sid.is_none() {
            let mut errors = konvent_core::FieldErrors::new();
            errors.add(
                "logout_token",
                "missing",
                "a logout names a subject or a session",
            );
            return Err(StoreError::Invalid(errors));
        }
        let rows: Vec<(i64,)> = sqlx::query_as(
            "DELETE FROM sessions WHERE oidc_provider = $1 \
             AND ($2 IS NULL OR oidc_subject = $2) AND ($3 IS NULL OR oidc_sid = $3) \
             RETURNING account_id",
        )
        .bind(provider)
        .bind(subject)
        .bind(sid)
        .fetch_all(&self.pool)
        .await?;
        let mut ids: Vec<AccountId> = rows.into_iter().map(|(id,)| AccountId::new(id)).collect();
        ids.sort_unstable();
        ids.dedup();
        for account in &ids {
            self.memo.account_changed(*account);
        }
        Ok(ids)
    }

    /// Whether people other than admins may sign in with a password.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn local_passwords_allowed(&self) -> Result<bool> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT value FROM site_switches WHERE name = $1")
                .bind(LOCAL_PASSWORDS)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.is_none_or(|(v,)| v != "off"))
    }

    /// Turns local passwords on or off for everyone but admins (audited).
    #[tracing::instrument(level = "debug", skip_all, fields(actor = actor.account_id.map(AccountId::get)))]
    pub async fn set_local_passwords(&self, actor: &Actor, allowed: bool) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let value = if allowed { "on" } else { "off" };
        sqlx::query(
            "INSERT INTO site_switches (name, value, modified_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value, \
             modified_at = excluded.modified_at",
        )
        .bind(LOCAL_PASSWORDS)
        .bind(value)
        .bind(now_micros())
        .execute(&mut *tx)
        .await?;
        audit::record(
            &mut tx,
            actor,
            Change {
                conference_id: None,
                entity: "site",
                entity_id: 0,
                action: "local_passwords",
                before: None,
                after: Some(serde_json::json!({ "local_passwords": value })),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

impl Store {
    /// An admin allows the account to be linked to `provider` at its next sign-in there
    /// with the account's (verified) address, or takes that back (`None`). Audited.
    #[tracing::instrument(level = "debug", skip_all, fields(actor = actor.account_id.map(AccountId::get), account_id = %account_id, provider = provider))]
    pub async fn allow_provider_link(
        &self,
        actor: &Actor,
        account_id: AccountId,
        provider: Option<&str>,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("UPDATE accounts SET link_provider = $1 WHERE id = $2")
            .bind(provider)
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
                entity: "account",
                entity_id: account_id.get(),
                action: "provider_link_allowed",
                before: None,
                after: Some(serde_json::json!({ "provider": provider })),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// A fresh random value for a flow's cookie, state or nonce.
pub fn oidc_random() -> String {
    new_token()
}

/// Links the provider's subject to an existing account, audited as `action`.
async fn link_identity(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    person: &OidcPerson,
    account_id: AccountId,
    action: &'static str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO oidc_identities (provider, subject, account_id, created_at) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(&person.provider)
    .bind(&person.subject)
    .bind(account_id.get())
    .bind(now_micros())
    .execute(&mut **tx)
    .await?;
    audit::record(
        tx,
        &Actor::system(format!("Anmeldedienst {}", person.provider)),
        Change {
            conference_id: None,
            entity: "account",
            entity_id: account_id.get(),
            action,
            before: None,
            after: Some(serde_json::json!({ "provider": person.provider })),
        },
    )
    .await
}
