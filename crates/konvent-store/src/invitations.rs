//! Bulk invitations (A2): a list job and the batches it writes. Each batch is one
//! transaction that stores every person's single-use link (with a sign-in link, the
//! grant and the event at once) together with the mail that carries it, and counts the
//! batch on its job. The caller checks the whole list before the first batch.

use std::collections::HashSet;

use jiff::SignedDuration;
use konvent_core::authz::Grant;

use crate::accounts::{TokenPurpose, grant_by_email, insert_login_token, token_hash};
use crate::mail::enqueue;
use crate::{Actor, NewMail, Result, Store, now_micros};

type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// One person of a batch: the link and its mail, rendered by the caller.
#[derive(Debug, Clone)]
pub struct BulkInvite {
    /// `Invitation` for a new address, `SignIn` for an address with an account.
    pub purpose: TokenPurpose,
    /// From [`crate::new_token`]; only its hash is stored.
    pub token: String,
    pub email: String,
    /// The name the list gave, offered on the invitation form.
    pub display_name: Option<String>,
    pub grant: Grant,
    /// The event the person joins as participant.
    pub event_id: Option<i64>,
    pub valid_for: SignedDuration,
    pub mail: NewMail,
}

/// Where a list job stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkJob {
    pub id: i64,
    pub created_by: Option<i64>,
    pub event_id: Option<i64>,
    pub total: i64,
    pub written: i64,
    /// Mails of this list the outbox has sent.
    pub sent: i64,
    /// Mails of this list the mail server refused for good.
    pub failed: i64,
    /// `running`, `done` or `failed`.
    pub status: String,
    pub error: Option<String>,
    pub created_at: i64,
}

impl BulkJob {
    pub fn is_running(&self) -> bool {
        self.status == "running"
    }
}

type JobRow = (
    i64,
    Option<i64>,
    Option<i64>,
    i64,
    i64,
    String,
    Option<String>,
    i64,
);

impl Store {
    /// Starts a list job of `total` people by `by` (from an event's page: `event_id`).
    pub async fn start_bulk_invitation(
        &self,
        by: &Actor,
        event_id: Option<i64>,
        total: i64,
    ) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO bulk_invitations (created_by, event_id, total, created_at) \
             VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(by.account_id)
        .bind(event_id)
        .bind(total)
        .bind(now_micros())
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Writes one batch of a job in one transaction: every link with its mail (and, for
    /// an address with an account, the grant and the event at once), and the count.
    /// Returns the existing accounts that got a grant.
    pub async fn write_bulk_invitations(
        &self,
        job: i64,
        by: &Actor,
        batch: &[BulkInvite],
    ) -> Result<Vec<i64>> {
        let mut tx = self.begin_write().await?;
        let mut changed = Vec::new();
        for invite in batch {
            changed.extend(write_one(&mut tx, job, by, invite).await?);
        }
        sqlx::query("UPDATE bulk_invitations SET written = written + $1 WHERE id = $2")
            .bind(batch.len() as i64)
            .bind(job)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(changed)
    }

    /// Ends a job: done, or failed with the reason (the batches written stay written).
    pub async fn finish_bulk_invitation(&self, job: i64, error: Option<&str>) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE bulk_invitations SET status = $1, error = $2, finished_at = $3 WHERE id = $4",
        )
        .bind(if error.is_some() { "failed" } else { "done" })
        .bind(error)
        .bind(now_micros())
        .bind(job)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A job with its counts, if it exists.
    pub async fn bulk_invitation(&self, job: i64) -> Result<Option<BulkJob>> {
        let row: Option<JobRow> = sqlx::query_as(
            "SELECT id, created_by, event_id, total, written, status, error, created_at \
             FROM bulk_invitations WHERE id = $1",
        )
        .bind(job)
        .fetch_optional(&self.pool)
        .await?;
        let Some((id, created_by, event_id, total, written, status, error, created_at)) = row
        else {
            return Ok(None);
        };
        let (sent, failed): (i64, i64) = sqlx::query_as(
            "SELECT COALESCE(SUM(CASE WHEN status = 'sent' THEN 1 ELSE 0 END), 0), \
                    COALESCE(SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END), 0) \
             FROM mail_outbox WHERE bulk_id = $1",
        )
        .bind(id)
        .fetch_one(&self.pool)
        .await?;
        Ok(Some(BulkJob {
            id,
            created_by,
            event_id,
            total,
            written,
            sent,
            failed,
            status,
            error,
            created_at,
        }))
    }

    /// How many lists `account` started since `since`, and whether one still runs: the
    /// budget of the upload.
    pub async fn bulk_invitations_by(&self, account: i64, since: i64) -> Result<(i64, bool)> {
        let (started, running): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN status = 'running' THEN 1 ELSE 0 END), 0) \
             FROM bulk_invitations WHERE created_by = $1 AND created_at >= $2",
        )
        .bind(account)
        .bind(since)
        .fetch_one(&self.pool)
        .await?;
        Ok((started, running > 0))
    }

    /// Which of these (lower-cased) addresses have an account.
    pub async fn existing_accounts(&self, emails: &[String]) -> Result<HashSet<String>> {
        let mut found = HashSet::new();
        // Bounded statements: SQLite allows 32,766 parameters, a batch is far below.
        for chunk in emails.chunks(500) {
            let placeholders = (1..=chunk.len())
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!("SELECT email FROM accounts WHERE email IN ({placeholders})");
            let mut query = sqlx::query_as::<_, (String,)>(&sql);
            for email in chunk {
                query = query.bind(email);
            }
            for (email,) in query.fetch_all(&self.pool).await? {
                found.insert(email);
            }
        }
        Ok(found)
    }
}

async fn write_one(tx: &mut Tx, job: i64, by: &Actor, invite: &BulkInvite) -> Result<Option<i64>> {
    let changed = match invite.purpose {
        TokenPurpose::SignIn => {
            let account = grant_by_email(tx, by, &invite.email, &invite.grant).await?;
            if let Some(event) = invite.event_id {
                join_event(tx, event, account).await?;
            }
            insert_login_token(
                tx,
                TokenPurpose::SignIn,
                &invite.token,
                &invite.email,
                None,
                by.account_id,
                invite.valid_for,
            )
            .await?;
            Some(account)
        }
        TokenPurpose::Invitation => {
            insert_login_token(
                tx,
                TokenPurpose::Invitation,
                &invite.token,
                &invite.email,
                Some(&invite.grant),
                by.account_id,
                invite.valid_for,
            )
            .await?;
            sqlx::query(
                "UPDATE login_tokens SET event_id = $1, display_name = $2 WHERE token_hash = $3",
            )
            .bind(invite.event_id)
            .bind(invite.display_name.as_deref())
            .bind(token_hash(&invite.token))
            .execute(&mut **tx)
            .await?;
            None
        }
    };
    let mail = enqueue(tx, &invite.mail).await?;
    sqlx::query("UPDATE mail_outbox SET bulk_id = $1 WHERE id = $2")
        .bind(job)
        .bind(mail)
        .execute(&mut **tx)
        .await?;
    Ok(changed)
}

/// Adds an account to an event as participant; a helper stays a helper.
pub(crate) async fn join_event(tx: &mut Tx, event: i64, account: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO event_people (event_id, account_id, role) VALUES ($1, $2, 'participant') \
         ON CONFLICT (event_id, account_id) DO NOTHING",
    )
    .bind(event)
    .bind(account)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
