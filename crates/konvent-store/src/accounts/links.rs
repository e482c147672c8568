//! Single-use links: invitations that create an account with a grant, and sign-in
//! links. The link carries a random token; only its hash is stored.

use jiff::SignedDuration;
use konvent_core::authz::Grant;
use konvent_core::ids::{AccountId, EventId};

use super::grants::{insert_grant, parse_grant};
use super::{Tx, new_token, normalize_email, token_hash};
use crate::{Result, Store, StoreError, now_micros};

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

impl Store {
    /// Creates a single-use link. For an invitation, `grant` is what the new account gets.
    #[tracing::instrument(level = "debug", skip_all, fields(created_by = created_by.map(AccountId::get)))]
    pub async fn create_login_token(
        &self,
        purpose: TokenPurpose,
        email: &str,
        grant: Option<&Grant>,
        created_by: Option<AccountId>,
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
    #[tracing::instrument(level = "debug", skip_all)]
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
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn redeem_invitation(
        &self,
        token: &str,
        display_name: &str,
        password_hash: &str,
    ) -> Result<AccountId> {
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
        let id = AccountId::new(id);
        if let Some(grant) = grant {
            insert_grant(&mut tx, id, &grant).await?;
        }
        if let Some(event) = event {
            crate::invitations::join_event(&mut tx, EventId::new(event), id).await?;
        }
        tx.commit().await?;
        self.memo.account_changed(id);
        Ok(id)
    }

    /// Uses a sign-in link and returns the account it signs in.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn redeem_sign_in_link(&self, token: &str) -> Result<AccountId> {
        let mut tx = self.begin_write().await?;
        let (email, ..) = consume(&mut tx, TokenPurpose::SignIn, token).await?;
        let (id,): (i64,) = sqlx::query_as("SELECT id FROM accounts WHERE email = $1")
            .bind(&email)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::InvalidToken)?;
        tx.commit().await?;
        Ok(AccountId::new(id))
    }
}

/// Stores the hash of a single-use link `token` inside the caller's transaction;
/// returns when it expires.
pub(crate) async fn insert_login_token(
    tx: &mut Tx,
    purpose: TokenPurpose,
    token: &str,
    email: &str,
    grant: Option<&Grant>,
    created_by: Option<AccountId>,
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
    .bind(created_by.map(AccountId::get))
    .bind(now)
    .bind(expires_at)
    .execute(&mut **tx)
    .await?;
    Ok(expires_at)
}

/// (email, role, scope, expires_at, name of the existing account)
type TokenRow = (String, Option<String>, Option<String>, i64, Option<String>);

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
