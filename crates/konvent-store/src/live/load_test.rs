//! Load-test sessions: participant accounts created in bulk for a load test or a
//! rehearsal of an event, each signed in.

use crate::{Result, Store, now_micros};
use konvent_core::ids::EventId;

impl Store {
    /// Creates `count` participant accounts for a load test or rehearsal, registers them
    /// for the event and signs each in; returns their session tokens. One transaction.
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id))]
    pub async fn load_test_sessions(&self, event_id: EventId, count: usize) -> Result<Vec<String>> {
        let now = now_micros();
        let expires = now + 7 * 24 * 3600 * 1_000_000;
        let mut tx = self.begin_write().await?;
        let (start,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM accounts")
            .fetch_one(&mut *tx)
            .await?;
        let mut tokens = Vec::with_capacity(count);
        for i in 0..count {
            let n = start + i as i64 + 1;
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO accounts (email, display_name, created_at) VALUES ($1, $2, $3) \
                 RETURNING id",
            )
            .bind(format!("lasttest-{event_id}-{n}@konvent.invalid"))
            .bind(format!("Lasttest {n}"))
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO event_people (event_id, account_id, role) VALUES ($1, $2, 'participant')",
            )
            .bind(event_id.get())
            .bind(id)
            .execute(&mut *tx)
            .await?;
            let token = crate::new_token();
            sqlx::query(
                "INSERT INTO sessions (token_hash, account_id, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(crate::accounts::token_hash(&token))
            .bind(id)
            .bind(now)
            .bind(expires)
            .execute(&mut *tx)
            .await?;
            tokens.push(token);
        }
        tx.commit().await?;
        Ok(tokens)
    }
}
