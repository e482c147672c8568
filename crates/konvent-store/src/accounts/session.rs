//! Signing in and out: password hashes, session cookies, the failed sign-ins the rate
//! limit counts, and the devices a person signed in from before.

use jiff::{SignedDuration, Timestamp};
use konvent_core::ids::AccountId;

use super::{new_token, normalize_email, token_hash};
use crate::{Result, Store, StoreError, now_micros};

/// How far back failed sign-ins count for the rate limit.
pub const SIGN_IN_WINDOW: SignedDuration = SignedDuration::from_mins(15);

impl Store {
    /// The account id and password hash for an address, for signing in.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn password_hash(&self, email: &str) -> Result<Option<(AccountId, String)>> {
        let row: Option<(i64, Option<String>)> =
            sqlx::query_as("SELECT id, password_hash FROM accounts WHERE email = $1")
                .bind(normalize_email(email))
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.and_then(|(id, hash)| hash.map(|h| (AccountId::new(id), h))))
    }

    /// Notes a failed sign-in under each key (the address, the client).
    #[tracing::instrument(level = "debug", skip_all)]
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
    #[tracing::instrument(level = "debug", skip_all)]
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
    #[tracing::instrument(level = "debug", skip_all)]
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
    #[tracing::instrument(level = "debug", skip_all)]
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
    #[tracing::instrument(level = "debug", skip_all)]
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
    #[tracing::instrument(level = "debug", skip_all, fields(account_id = %account_id))]
    pub async fn sign_in(
        &self,
        account_id: AccountId,
        valid_for: SignedDuration,
    ) -> Result<String> {
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
        .bind(account_id.get())
        .bind(now)
        .bind(now.saturating_add(valid_for.as_micros() as i64))
        .execute(&self.pool)
        .await?;
        Ok(token)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn sign_out(&self, token: &str) -> Result<()> {
        let hash = token_hash(token);
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(&hash)
            .execute(&self.pool)
            .await?;
        self.memo.session_ended(&hash);
        Ok(())
    }
}
