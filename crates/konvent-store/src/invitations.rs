//! Bulk invitations (A2): a list job, its rows and the batches it writes. The caller
//! checks the whole list; [`Store::start_bulk_invitation`] stores the job with every
//! row in one transaction, claimed by the starting node. Each batch is one transaction
//! that renews the claim's lease, stores every person's single-use link (with a
//! sign-in link, the grant and the event at once) together with the mail that carries
//! it, deletes the rows it wrote and counts them on the job. A job whose node stopped
//! or died is claimed again ([`Store::claim_bulk_invitations`]) and goes on with the
//! rows left; a batch whose lease was taken over writes nothing.

use konvent_core::ids::{AccountId, BulkInvitationId, EventId};
use std::collections::HashSet;

use jiff::SignedDuration;
use konvent_core::authz::Grant;
use konvent_core::invitations::Invitee;

use crate::accounts::{TokenPurpose, grant_by_email, insert_login_token, token_hash};
use crate::mail::enqueue;
use crate::{Actor, NewMail, Result, Store, StoreError, now_micros};

type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// One person of a batch: the link and its mail, rendered by the caller.
#[derive(Debug, Clone)]
pub struct BulkInvite {
    /// The list's row this was made from (deleted with the write).
    pub row: i64,
    /// `Invitation` for a new address, `SignIn` for an address with an account.
    pub purpose: TokenPurpose,
    /// From [`crate::new_token`]; only its hash is stored.
    pub token: String,
    pub email: String,
    /// The name the list gave, offered on the invitation form.
    pub display_name: Option<String>,
    /// The organisation the list gave, kept on the account.
    pub organisation: Option<String>,
    pub grant: Grant,
    /// The event the person joins as participant.
    pub event_id: Option<EventId>,
    pub valid_for: SignedDuration,
    pub mail: NewMail,
}

/// Where a list job stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkJob {
    pub id: BulkInvitationId,
    pub created_by: Option<AccountId>,
    pub event_id: Option<EventId>,
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

/// A job a node has claimed to go on with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkClaim {
    pub id: BulkInvitationId,
    pub created_by: Option<AccountId>,
    pub event_id: Option<EventId>,
    /// The inviter's language, for rows that name none.
    pub language: String,
}

/// A row as stored: (row, email, name, organisation, role, scope, event, language).
type StoredRow = (
    i64,
    String,
    Option<String>,
    Option<String>,
    String,
    String,
    Option<i64>,
    Option<String>,
);

fn lease_end(lease: SignedDuration) -> i64 {
    now_micros().saturating_add(lease.as_micros() as i64)
}

impl Store {
    /// Starts a job for the checked list `invitees` by `by` (from an event's page:
    /// `event_id`; mails in `language` where a row names none), stored with every row
    /// and claimed by `worker` for `lease`, in one transaction.
    #[tracing::instrument(level = "debug", skip_all, fields(actor = by.account_id.map(AccountId::get), event_id = ?event_id, invitees = invitees.len(), worker = %worker))]
    pub async fn start_bulk_invitation(
        &self,
        by: &Actor,
        event_id: Option<EventId>,
        language: &str,
        invitees: &[Invitee],
        worker: &str,
        lease: SignedDuration,
    ) -> Result<BulkInvitationId> {
        let mut tx = self.begin_write().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO bulk_invitations (created_by, event_id, total, language, claimed_by, \
             lease_until, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(by.account_id.map(AccountId::get))
        .bind(event_id.map(EventId::get))
        .bind(invitees.len() as i64)
        .bind(language)
        .bind(worker)
        .bind(lease_end(lease))
        .bind(now_micros())
        .fetch_one(&mut *tx)
        .await?;
        for invitee in invitees {
            sqlx::query(
                "INSERT INTO bulk_invitation_rows (job_id, row_number, email, name, \
                 organisation, role, scope, event_id, language) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(id)
            .bind(invitee.row as i64)
            .bind(&invitee.email)
            .bind(invitee.name.as_deref())
            .bind(invitee.organisation.as_deref())
            .bind(invitee.grant.role.as_str())
            .bind(invitee.grant.scope.to_string())
            .bind(invitee.event.map(EventId::get))
            .bind(invitee.language.as_deref())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(BulkInvitationId::new(id))
    }

    /// Claims for `worker` the running jobs nobody holds: released by a stopping node,
    /// or left by one whose lease ran out.
    #[tracing::instrument(level = "debug", skip_all, fields(worker = %worker))]
    pub async fn claim_bulk_invitations(
        &self,
        worker: &str,
        lease: SignedDuration,
    ) -> Result<Vec<BulkClaim>> {
        let now = now_micros();
        let rows: Vec<(i64, Option<i64>, Option<i64>, String)> = sqlx::query_as(
            "UPDATE bulk_invitations SET claimed_by = $1, lease_until = $2 \
             WHERE status = 'running' AND (lease_until IS NULL OR lease_until < $3) \
             RETURNING id, created_by, event_id, language",
        )
        .bind(worker)
        .bind(lease_end(lease))
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        let mut claims: Vec<BulkClaim> = rows
            .into_iter()
            .map(|(id, created_by, event_id, language)| BulkClaim {
                id: BulkInvitationId::new(id),
                created_by: created_by.map(AccountId::new),
                event_id: event_id.map(EventId::new),
                language,
            })
            .collect();
        claims.sort_by_key(|c| c.id);
        Ok(claims)
    }

    /// The next `limit` rows of a job not yet written, in the list's order.
    #[tracing::instrument(level = "debug", skip_all, fields(job = %job))]
    pub async fn bulk_invitation_rows(
        &self,
        job: BulkInvitationId,
        limit: usize,
    ) -> Result<Vec<Invitee>> {
        let rows: Vec<StoredRow> = sqlx::query_as(
            "SELECT row_number, email, name, organisation, role, scope, event_id, language \
             FROM bulk_invitation_rows WHERE job_id = $1 ORDER BY row_number LIMIT $2",
        )
        .bind(job.get())
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(
                |(row, email, name, organisation, role, scope, event, language)| {
                    let grant = Grant::new(
                        role.parse().map_err(StoreError::Corrupt)?,
                        scope.parse().map_err(StoreError::Corrupt)?,
                    )
                    .map_err(StoreError::Corrupt)?;
                    Ok(Invitee {
                        row: usize::try_from(row)
                            .map_err(|_| StoreError::Corrupt(format!("row {row}")))?,
                        email,
                        name,
                        organisation,
                        grant,
                        event: event.map(EventId::new),
                        language,
                    })
                },
            )
            .collect()
    }

    /// Writes one batch of a job in one transaction: renews `worker`'s lease, writes
    /// every link with its mail (and, for an address with an account, the grant and the
    /// event at once), deletes the rows written and counts them. Returns the existing
    /// accounts that got a grant, or None when `worker` no longer holds the job (its
    /// lease ran out and another node took it over): then nothing is written.
    #[tracing::instrument(level = "debug", skip_all, fields(job = %job, worker = %worker, actor = by.account_id.map(AccountId::get), batch = batch.len()))]
    pub async fn write_bulk_invitations(
        &self,
        job: BulkInvitationId,
        worker: &str,
        lease: SignedDuration,
        by: &Actor,
        batch: &[BulkInvite],
    ) -> Result<Option<Vec<AccountId>>> {
        let mut tx = self.begin_write().await?;
        // First the job's row: on PostgreSQL this also waits for a batch of another
        // node in flight, so two nodes never write the same rows.
        let held = sqlx::query(
            "UPDATE bulk_invitations SET lease_until = $1 \
             WHERE id = $2 AND claimed_by = $3 AND status = 'running'",
        )
        .bind(lease_end(lease))
        .bind(job.get())
        .bind(worker)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !held {
            return Ok(None);
        }
        let mut changed = Vec::new();
        let mut written = 0_i64;
        for invite in batch {
            let deleted = sqlx::query(
                "DELETE FROM bulk_invitation_rows WHERE job_id = $1 AND row_number = $2",
            )
            .bind(job.get())
            .bind(invite.row)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if deleted == 1 {
                changed.extend(write_one(&mut tx, job, by, invite).await?);
                written += 1;
            }
        }
        sqlx::query("UPDATE bulk_invitations SET written = written + $1 WHERE id = $2")
            .bind(written)
            .bind(job.get())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        // The accounts that got a grant or joined an event (new ones have no copies).
        for account in &changed {
            self.memo.account_changed(*account);
        }
        Ok(Some(changed))
    }

    /// Gives back `worker`'s claim on a job it has not finished (its node is stopping):
    /// the next node to look claims it at once.
    #[tracing::instrument(level = "debug", skip_all, fields(job = %job, worker = %worker))]
    pub async fn release_bulk_invitation(&self, job: BulkInvitationId, worker: &str) -> Result<()> {
        sqlx::query(
            "UPDATE bulk_invitations SET claimed_by = NULL, lease_until = NULL \
             WHERE id = $1 AND claimed_by = $2 AND status = 'running'",
        )
        .bind(job.get())
        .bind(worker)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Ends `worker`'s job: done, or failed with the reason (the batches written stay
    /// written; the rows left are deleted). Nothing happens if `worker` lost the job.
    #[tracing::instrument(level = "debug", skip_all, fields(job = %job, worker = %worker))]
    pub async fn finish_bulk_invitation(
        &self,
        job: BulkInvitationId,
        worker: &str,
        error: Option<&str>,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let held = sqlx::query(
            "UPDATE bulk_invitations SET status = $1, error = $2, finished_at = $3, \
             claimed_by = NULL, lease_until = NULL \
             WHERE id = $4 AND claimed_by = $5 AND status = 'running'",
        )
        .bind(if error.is_some() { "failed" } else { "done" })
        .bind(error)
        .bind(now_micros())
        .bind(job.get())
        .bind(worker)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if held {
            sqlx::query("DELETE FROM bulk_invitation_rows WHERE job_id = $1")
                .bind(job.get())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A job with its counts, if it exists.
    #[tracing::instrument(level = "debug", skip_all, fields(job = %job))]
    pub async fn bulk_invitation(&self, job: BulkInvitationId) -> Result<Option<BulkJob>> {
        let row: Option<JobRow> = sqlx::query_as(
            "SELECT id, created_by, event_id, total, written, status, error, created_at \
             FROM bulk_invitations WHERE id = $1",
        )
        .bind(job.get())
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
            id: BulkInvitationId::new(id),
            created_by: created_by.map(AccountId::new),
            event_id: event_id.map(EventId::new),
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
    #[tracing::instrument(level = "debug", skip_all, fields(account = %account))]
    pub async fn bulk_invitations_by(&self, account: AccountId, since: i64) -> Result<(i64, bool)> {
        let (started, running): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN status = 'running' THEN 1 ELSE 0 END), 0) \
             FROM bulk_invitations WHERE created_by = $1 AND created_at >= $2",
        )
        .bind(account.get())
        .bind(since)
        .fetch_one(&self.pool)
        .await?;
        Ok((started, running > 0))
    }

    /// Which of these (lower-cased) addresses have an account.
    #[tracing::instrument(level = "debug", skip_all, fields(emails = emails.len()))]
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

async fn write_one(
    tx: &mut Tx,
    job: BulkInvitationId,
    by: &Actor,
    invite: &BulkInvite,
) -> Result<Option<AccountId>> {
    let changed = match invite.purpose {
        TokenPurpose::SignIn => {
            let account = grant_by_email(tx, by, &invite.email, &invite.grant).await?;
            // The list's organisation, where the account names none yet.
            sqlx::query(
                "UPDATE accounts SET organisation = $1 WHERE id = $2 AND organisation IS NULL",
            )
            .bind(invite.organisation.as_deref())
            .bind(account.get())
            .execute(&mut **tx)
            .await?;
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
                "UPDATE login_tokens SET event_id = $1, display_name = $2, organisation = $3 \
                 WHERE token_hash = $4",
            )
            .bind(invite.event_id.map(EventId::get))
            .bind(invite.display_name.as_deref())
            .bind(invite.organisation.as_deref())
            .bind(token_hash(&invite.token))
            .execute(&mut **tx)
            .await?;
            None
        }
    };
    let mail = enqueue(tx, &invite.mail).await?;
    sqlx::query("UPDATE mail_outbox SET bulk_id = $1 WHERE id = $2")
        .bind(job.get())
        .bind(mail.get())
        .execute(&mut **tx)
        .await?;
    Ok(changed)
}

/// Adds an account to an event as participant; a helper stays a helper.
pub(crate) async fn join_event(tx: &mut Tx, event: EventId, account: AccountId) -> Result<()> {
    sqlx::query(
        "INSERT INTO event_people (event_id, account_id, role) VALUES ($1, $2, 'participant') \
         ON CONFLICT (event_id, account_id) DO NOTHING",
    )
    .bind(event.get())
    .bind(account.get())
    .execute(&mut **tx)
    .await?;
    Ok(())
}
