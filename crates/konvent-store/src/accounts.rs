//! Accounts, their grants, sessions, and the single-use links that create accounts
//! (invitations) or sign people in (sign-in links). Links and session cookies carry a
//! random token; only its SHA-256 hash is stored.

use std::collections::HashMap;

use jiff::{SignedDuration, Timestamp};
use konvent_core::authz::{Grant, Principal, Role, Scope};
use sha2::{Digest, Sha256};

use crate::audit::{self, Actor, Change};
use crate::{Result, Store, StoreError, now_micros};

/// How far back failed sign-ins count for the rate limit.
pub const SIGN_IN_WINDOW: SignedDuration = SignedDuration::from_mins(15);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenPurpose {
    Invitation,
    SignIn,
}

impl TokenPurpose {
    fn as_str(self) -> &'static str {
        match self {
            Self::Invitation => "invitation",
            Self::SignIn => "sign_in",
        }
    }
}

/// A freshly created link token: give `token` to the person, it is not stored.
#[derive(Debug, Clone)]
pub struct LoginToken {
    pub token: String,
    pub expires_at: i64,
}

/// What an unused, unexpired invitation or sign-in link is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvitationInfo {
    pub email: String,
    pub grant: Option<Grant>,
    pub expires_at: i64,
    /// The name of the account the e-mail address already has, else the name a bulk
    /// invitation's list gave.
    pub account_name: Option<String>,
}

/// An account as the admin pages list it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: i64,
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

/// 32 random bytes, hex-encoded.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    // The OS random source failing is not recoverable for a server that signs people in.
    #[allow(clippy::expect_used)]
    getrandom::fill(&mut bytes).expect("the operating system's random source works");
    hex::encode(bytes)
}

pub(crate) fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

impl Store {
    /// Creates a single-use link. For an invitation, `grant` is what the new account gets.
    pub async fn create_login_token(
        &self,
        purpose: TokenPurpose,
        email: &str,
        grant: Option<&Grant>,
        created_by: Option<i64>,
        valid_for: SignedDuration,
    ) -> Result<LoginToken> {
        let token = new_token();
        let mut tx = self.begin_write().await?;
        let expires_at = insert_login_token(
            &mut tx, purpose, &token, email, grant, created_by, valid_for,
        )
        .await?;
        tx.commit().await?;
        Ok(LoginToken { token, expires_at })
    }

    /// What a link is for, if it is still valid (not used, not expired).
    pub async fn login_token_info(
        &self,
        purpose: TokenPurpose,
        token: &str,
    ) -> Result<Option<InvitationInfo>> {
        let row: Option<TokenRow> = sqlx::query_as(
            "SELECT t.email, t.role, t.scope, t.expires_at, \
                    COALESCE(a.display_name, t.display_name) \
                 FROM login_tokens t LEFT JOIN accounts a ON a.email = t.email \
                 WHERE t.token_hash = $1 AND t.purpose = $2 AND t.used_at IS NULL \
                   AND t.expires_at > $3",
        )
        .bind(token_hash(token))
        .bind(purpose.as_str())
        .bind(now_micros())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|(email, role, scope, expires_at, account_name)| {
            Ok(InvitationInfo {
                email,
                grant: parse_grant(role.as_deref(), scope.as_deref())?,
                expires_at,
                account_name,
            })
        })
        .transpose()
    }

    /// Uses an invitation: creates the account (or, for a known address, adds the
    /// invited role and sets the password) and marks the link used, all at once.
    /// Returns the account id.
    pub async fn redeem_invitation(
        &self,
        token: &str,
        display_name: &str,
        password_hash: &str,
    ) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let (email, role, scope, event, organisation) =
            consume(&mut tx, TokenPurpose::Invitation, token).await?;
        let grant = parse_grant(role.as_deref(), scope.as_deref())?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO accounts (email, display_name, password_hash, organisation, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (email) DO UPDATE \
             SET display_name = excluded.display_name, password_hash = excluded.password_hash, \
                 organisation = COALESCE(accounts.organisation, excluded.organisation) \
             RETURNING id",
        )
        .bind(&email)
        .bind(display_name)
        .bind(password_hash)
        .bind(organisation)
        .bind(now_micros())
        .fetch_one(&mut *tx)
        .await?;
        if let Some(grant) = grant {
            insert_grant(&mut tx, id, &grant).await?;
        }
        if let Some(event) = event {
            crate::invitations::join_event(&mut tx, event, id).await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    /// Uses a sign-in link and returns the account it signs in.
    pub async fn redeem_sign_in_link(&self, token: &str) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let (email, ..) = consume(&mut tx, TokenPurpose::SignIn, token).await?;
        let (id,): (i64,) = sqlx::query_as("SELECT id FROM accounts WHERE email = $1")
            .bind(&email)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::InvalidToken)?;
        tx.commit().await?;
        Ok(id)
    }

    /// Creates an account without password (it signs in by link) or returns the existing
    /// one, and makes sure it has `grants`.
    pub async fn ensure_account(
        &self,
        email: &str,
        display_name: &str,
        grants: &[Grant],
    ) -> Result<i64> {
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
        for grant in grants {
            insert_grant(&mut tx, id, grant).await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    /// Whether an account with this address exists.
    pub async fn has_account(&self, email: &str) -> Result<bool> {
        let row: Option<(i64,)> = sqlx::query_as("SELECT id FROM accounts WHERE email = $1")
            .bind(normalize_email(email))
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    /// The account id and password hash for an address, for signing in.
    pub async fn password_hash(&self, email: &str) -> Result<Option<(i64, String)>> {
        let row: Option<(i64, Option<String>)> =
            sqlx::query_as("SELECT id, password_hash FROM accounts WHERE email = $1")
                .bind(normalize_email(email))
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.and_then(|(id, hash)| hash.map(|h| (id, h))))
    }

    /// Notes a failed sign-in under each key (the address, the client).
    pub async fn record_sign_in_failure(&self, keys: &[&str]) -> Result<()> {
        let now = now_micros();
        for key in keys {
            sqlx::query("INSERT INTO sign_in_failures (key, at) VALUES ($1, $2)")
                .bind(*key)
                .bind(now)
                .execute(&self.pool)
                .await?;
        }
        // Keep the table small: older failures no longer count.
        sqlx::query("DELETE FROM sign_in_failures WHERE at < $1")
            .bind(now - SIGN_IN_WINDOW.as_micros() as i64)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Failed sign-ins under `key` within [`SIGN_IN_WINDOW`].
    pub async fn recent_sign_in_failures(&self, key: &str) -> Result<i64> {
        let (n,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM sign_in_failures WHERE key = $1 AND at >= $2")
                .bind(key)
                .bind(now_micros() - SIGN_IN_WINDOW.as_micros() as i64)
                .fetch_one(&self.pool)
                .await?;
        Ok(n)
    }

    /// Failed sign-ins under `key` within [`SIGN_IN_WINDOW`], and when the last one was.
    pub async fn sign_in_failures(&self, key: &str) -> Result<(i64, Option<Timestamp>)> {
        let (n, last): (i64, Option<i64>) = sqlx::query_as(
            "SELECT COUNT(*), MAX(at) FROM sign_in_failures WHERE key = $1 AND at >= $2",
        )
        .bind(key)
        .bind(now_micros() - SIGN_IN_WINDOW.as_micros() as i64)
        .fetch_one(&self.pool)
        .await?;
        Ok((n, last.and_then(|t| Timestamp::from_microsecond(t).ok())))
    }

    /// Notes that `email` signed in successfully in the browser holding `device`.
    pub async fn remember_device(&self, email: &str, device: &str) -> Result<()> {
        let now = now_micros();
        sqlx::query(
            "INSERT INTO known_devices (token_hash, email, seen_at) VALUES ($1, $2, $3) \
             ON CONFLICT (token_hash, email) DO UPDATE SET seen_at = excluded.seen_at",
        )
        .bind(token_hash(device))
        .bind(email)
        .bind(now)
        .execute(&self.pool)
        .await?;
        sqlx::query("DELETE FROM known_devices WHERE seen_at < $1")
            .bind(now - SignedDuration::from_hours(24 * 365).as_micros() as i64)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Whether `email` has signed in before in the browser holding `device`.
    pub async fn is_known_device(&self, email: &str, device: &str) -> Result<bool> {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM known_devices WHERE token_hash = $1 AND email = $2",
        )
        .bind(token_hash(device))
        .bind(email)
        .fetch_one(&self.pool)
        .await?;
        Ok(n > 0)
    }

    /// Starts a session and returns its cookie token; a disabled account gets
    /// [`StoreError::AccountDisabled`] (every way of signing in ends here).
    pub async fn sign_in(&self, account_id: i64, valid_for: SignedDuration) -> Result<String> {
        if self.account_disabled(account_id).await? {
            return Err(StoreError::AccountDisabled);
        }
        let token = new_token();
        let now = now_micros();
        // Expired sessions and links are of no use: sweep them when a new one starts.
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.pool)
            .await?;
        sqlx::query("DELETE FROM login_tokens WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.pool)
            .await?;
        sqlx::query(
            "INSERT INTO sessions (token_hash, account_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(token_hash(&token))
        .bind(account_id)
        .bind(now)
        .bind(now.saturating_add(valid_for.as_micros() as i64))
        .execute(&self.pool)
        .await?;
        Ok(token)
    }

    /// The signed-in account behind a session cookie, if the session is valid and the
    /// account is not disabled.
    pub async fn signed_in(&self, token: &str) -> Result<Option<Principal>> {
        let row: Option<(i64,)> = sqlx::query_as(
            "SELECT s.account_id FROM sessions s JOIN accounts a ON a.id = s.account_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND a.disabled_at IS NULL",
        )
        .bind(token_hash(token))
        .bind(now_micros())
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some((id,)) => self.principal(id).await,
            None => Ok(None),
        }
    }

    /// Whether an admin disabled the account.
    pub async fn account_disabled(&self, account_id: i64) -> Result<bool> {
        let row: Option<(Option<i64>,)> =
            sqlx::query_as("SELECT disabled_at FROM accounts WHERE id = $1")
                .bind(account_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.is_some_and(|(at,)| at.is_some()))
    }

    /// Disables an account (its sessions end in the same transaction) or enables it
    /// again, audited. Answers whether anything changed.
    pub async fn set_account_disabled(
        &self,
        actor: &Actor,
        account_id: i64,
        disabled: bool,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let changed = if disabled {
            sqlx::query(
                "UPDATE accounts SET disabled_at = $1 WHERE id = $2 AND disabled_at IS NULL",
            )
            .bind(now_micros())
            .bind(account_id)
            .execute(&mut *tx)
            .await?
        } else {
            sqlx::query(
                "UPDATE accounts SET disabled_at = NULL WHERE id = $1 AND disabled_at IS NOT NULL",
            )
            .bind(account_id)
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
                .bind(account_id)
                .execute(&mut *tx)
                .await?;
        }
        audit::record(
            &mut tx,
            actor,
            Change {
                conference_id: None,
                entity: "account",
                entity_id: account_id,
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
        Ok(true)
    }

    pub async fn sign_out(&self, token: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash(token))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// An account with its grants.
    pub async fn principal(&self, account_id: i64) -> Result<Option<Principal>> {
        let row: Option<(i64, String, String)> =
            sqlx::query_as("SELECT id, display_name, email FROM accounts WHERE id = $1")
                .bind(account_id)
                .fetch_optional(&self.pool)
                .await?;
        let Some((user_id, display_name, email)) = row else {
            return Ok(None);
        };
        Ok(Some(Principal {
            user_id,
            display_name,
            email,
            grants: self.grants(account_id).await?,
        }))
    }

    async fn grants(&self, account_id: i64) -> Result<Vec<Grant>> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT role, scope FROM grants WHERE account_id = $1 ORDER BY role, scope",
        )
        .bind(account_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .filter_map(|(r, s)| parse_grant(Some(&r), Some(&s)).transpose())
            .collect()
    }

    /// Where the person of an account works, if known.
    pub async fn organisation_of(&self, account_id: i64) -> Result<Option<String>> {
        let row: Option<(Option<String>,)> =
            sqlx::query_as("SELECT organisation FROM accounts WHERE id = $1")
                .bind(account_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.and_then(|(o,)| o))
    }

    /// All accounts but deleted ones (Art. 17: only their pseudonym row is left), by
    /// name, each with its grants (and which provider gave them) and the providers it
    /// signs in with.
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
                        id,
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

    /// The accounts holding exactly `grant` (e.g. the organizers of one event), by name.
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
            .map(|(id, name)| crate::Who::new(id, name))
            .collect())
    }

    /// Gives an account a role (audited). Granting what it already has changes nothing.
    pub async fn add_grant(&self, actor: &Actor, account_id: i64, grant: &Grant) -> Result<()> {
        let mut tx = self.begin_write().await?;
        exists(&mut tx, account_id).await?;
        if insert_grant(&mut tx, account_id, grant).await? {
            audit::record(
                &mut tx,
                actor,
                Change {
                    conference_id: None,
                    entity: "account",
                    entity_id: account_id,
                    action: "grant_added",
                    before: None,
                    after: audit::snapshot(grant),
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Takes a role away (audited).
    pub async fn remove_grant(&self, actor: &Actor, account_id: i64, grant: &Grant) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let done =
            sqlx::query("DELETE FROM grants WHERE account_id = $1 AND role = $2 AND scope = $3")
                .bind(account_id)
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
                entity_id: account_id,
                action: "grant_removed",
                before: audit::snapshot(grant),
                after: None,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// Stores the hash of a single-use link `token` inside the caller's transaction;
/// returns when it expires.
pub(crate) async fn insert_login_token(
    tx: &mut Tx,
    purpose: TokenPurpose,
    token: &str,
    email: &str,
    grant: Option<&Grant>,
    created_by: Option<i64>,
    valid_for: SignedDuration,
) -> Result<i64> {
    let now = now_micros();
    let expires_at = now.saturating_add(valid_for.as_micros() as i64);
    sqlx::query(
        "INSERT INTO login_tokens (token_hash, purpose, email, role, scope, created_by, \
         created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(token_hash(token))
    .bind(purpose.as_str())
    .bind(normalize_email(email))
    .bind(grant.map(|g| g.role.as_str()))
    .bind(grant.map(|g| g.scope.to_string()))
    .bind(created_by)
    .bind(now)
    .bind(expires_at)
    .execute(&mut **tx)
    .await?;
    Ok(expires_at)
}

/// (email, role, scope, expires_at, name of the existing account)
type TokenRow = (String, Option<String>, Option<String>, i64, Option<String>);

async fn exists(tx: &mut Tx, account_id: i64) -> Result<()> {
    sqlx::query("SELECT 1 FROM accounts WHERE id = $1")
        .bind(account_id)
        .fetch_optional(&mut **tx)
        .await?
        .map(|_| ())
        .ok_or(StoreError::NotFound)
}

/// Gives the account of `email` a role inside the caller's transaction (audited);
/// granting what it has changes nothing. Fails when the address has no account.
pub(crate) async fn grant_by_email(
    tx: &mut Tx,
    actor: &Actor,
    email: &str,
    grant: &Grant,
) -> Result<i64> {
    let (id,): (i64,) = sqlx::query_as("SELECT id FROM accounts WHERE email = $1")
        .bind(normalize_email(email))
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(StoreError::NotFound)?;
    if insert_grant(tx, id, grant).await? {
        audit::record(
            tx,
            actor,
            Change {
                conference_id: None,
                entity: "account",
                entity_id: id,
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
async fn insert_grant(tx: &mut Tx, account_id: i64, grant: &Grant) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO grants (account_id, role, scope) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    )
    .bind(account_id)
    .bind(grant.role.as_str())
    .bind(grant.scope.to_string())
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Marks a valid link used and returns (email, role, scope, event to join). Fails for an
/// unknown, used or expired link; the `used_at IS NULL` condition makes the use single
/// even when two requests race.
/// A used link: (email, role, scope, event, organisation).
type Consumed = (
    String,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<String>,
);

async fn consume(tx: &mut Tx, purpose: TokenPurpose, token: &str) -> Result<Consumed> {
    sqlx::query_as(
        "UPDATE login_tokens SET used_at = $1 \
         WHERE token_hash = $2 AND purpose = $3 AND used_at IS NULL AND expires_at > $1 \
         RETURNING email, role, scope, event_id, organisation",
    )
    .bind(now_micros())
    .bind(token_hash(token))
    .bind(purpose.as_str())
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(StoreError::InvalidToken)
}

fn parse_grant(role: Option<&str>, scope: Option<&str>) -> Result<Option<Grant>> {
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
