//! The mail outbox (DESIGN A1): a mail is queued in the transaction of the change that
//! causes it; a worker (konvent-web's `mail::worker`, one per node) claims due mails with
//! a lease and records what became of each attempt. States: queued → sending → sent, or
//! back to queued after a temporary failure (1, 2, 4, … minutes, at most an hour), or
//! failed (refused for good; an admin may queue it again). Every change after the claim
//! names the claim, so a worker whose lease ran out and was taken over changes nothing.
//! What "never twice" means exactly is said in the worker. A sent mail's bodies are
//! erased (they may carry sign-in links); recipient, subject, status and times remain.

use jiff::SignedDuration;
use konvent_core::ids::MailId;
use konvent_core::notifications::MailRefusal;

use crate::accounts::{TokenPurpose, grant_by_email, insert_login_token};
use crate::{Actor, LoginToken, Result, Store, StoreError, now_micros};

type Tx = sqlx::Transaction<'static, sqlx::Any>;
/// The statement that ends a worker's claim on a mail, with `$set` as the rest of what
/// it assigns (`Store::settle_claim` binds `$1` to `$3`).
macro_rules! settle {
    ($set:literal) => {
        concat!(
            "UPDATE mail_outbox SET ",
            $set,
            ", updated_at = $1, claimed_by = NULL, lease_until = NULL ",
            "WHERE id = $2 AND status = 'sending' AND claimed_by = $3"
        )
    };
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// A mail to queue, rendered and complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMail {
    /// `<…@…>`, stable across retries: a repeated delivery carries the same one.
    pub message_id: String,
    /// What the mail is for ("invitation", "sign_in"), shown on the admin page.
    pub kind: String,
    pub recipient: String,
    /// The recipient's language ("de", "en").
    pub language: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    /// A calendar entry the mail carries (an invitation, its update or cancellation, or
    /// an event to add to one's calendar); kept until sent, like the bodies.
    pub calendar: Option<CalendarPart>,
}

/// An iCalendar object (RFC 5545) and the iTIP method it is sent with (RFC 5546):
/// `REQUEST`, `CANCEL` or `PUBLISH`. The method must match the object's `METHOD`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarPart {
    pub method: String,
    pub ics: String,
}

/// Where a mail stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailStatus {
    Queued,
    Sending,
    Sent,
    Failed,
}

impl MailStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Sending => "sending",
            Self::Sent => "sent",
            Self::Failed => "failed",
        }
    }
}

impl TryFrom<String> for MailStatus {
    type Error = StoreError;

    fn try_from(s: String) -> Result<Self> {
        match s.as_str() {
            "queued" => Ok(Self::Queued),
            "sending" => Ok(Self::Sending),
            "sent" => Ok(Self::Sent),
            "failed" => Ok(Self::Failed),
            other => Err(StoreError::Corrupt(format!(
                "unknown mail status {other:?}"
            ))),
        }
    }
}

/// A mail as the admin page lists it (without its bodies).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OutboxMail {
    #[sqlx(try_from = "i64")]
    pub id: MailId,
    pub message_id: String,
    pub kind: String,
    pub recipient: String,
    pub language: String,
    pub subject: String,
    #[sqlx(try_from = "String")]
    pub status: MailStatus,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
    pub updated_at: i64,
}

/// A mail a worker has claimed: everything needed to send it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ClaimedMail {
    #[sqlx(try_from = "i64")]
    pub id: MailId,
    pub message_id: String,
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    /// Including this one.
    pub attempts: i64,
    pub calendar_method: Option<String>,
    pub calendar_ics: Option<String>,
}

impl ClaimedMail {
    /// The calendar entry the mail carries, if any.
    pub fn calendar(&self) -> Option<CalendarPart> {
        match (&self.calendar_method, &self.calendar_ics) {
            (Some(method), Some(ics)) => Some(CalendarPart {
                method: method.clone(),
                ics: ics.clone(),
            }),
            _ => None,
        }
    }
}

/// A single-use link to create together with the mail that carries it.
#[derive(Debug, Clone)]
pub struct NewLink<'a> {
    pub purpose: TokenPurpose,
    /// From [`crate::new_token`]; only its hash is stored.
    pub token: &'a str,
    pub email: &'a str,
    /// An invitation's role, given when it is accepted; with a sign-in link, given to
    /// the address's account at once (audited).
    pub grant: Option<&'a konvent_core::authz::Grant>,
    pub by: &'a Actor,
    pub valid_for: SignedDuration,
}

/// The wait before the next attempt after `attempts` failed ones: `base`, doubled with
/// every further failure, at most 60 × `base` (with the production base of a minute:
/// 1, 2, 4, … minutes, capped at an hour).
pub fn retry_delay(attempts: i64, base: SignedDuration) -> SignedDuration {
    let base = base.as_micros().max(1) as i64;
    let doublings = attempts.saturating_sub(1).clamp(0, 16) as u32;
    let delay = base
        .saturating_mul(1_i64 << doublings)
        .min(base.saturating_mul(60));
    SignedDuration::from_micros(delay)
}

/// Queues `mail` inside the caller's transaction: it commits, or is lost, with the
/// change that caused it. Returns its id.
pub(crate) async fn enqueue(tx: &mut Tx, mail: &NewMail) -> Result<MailId> {
    let now = now_micros();
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO mail_outbox (message_id, kind, recipient, language, subject, body_text, \
         body_html, calendar_method, calendar_ics, status, attempts, next_attempt_at, \
         created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $9, $10, 'queued', 0, $8, $8, $8) RETURNING id",
    )
    .bind(&mail.message_id)
    .bind(&mail.kind)
    .bind(&mail.recipient)
    .bind(&mail.language)
    .bind(&mail.subject)
    .bind(&mail.body_text)
    .bind(&mail.body_html)
    .bind(now)
    .bind(mail.calendar.as_ref().map(|c| c.method.as_str()))
    .bind(mail.calendar.as_ref().map(|c| c.ics.as_str()))
    .fetch_one(&mut **tx)
    .await?;
    Ok(MailId::new(id))
}

const COLUMNS: &str = "id, message_id, kind, recipient, language, subject, status, attempts, \
                       next_attempt_at, last_error, created_at, sent_at, updated_at";

impl Store {
    /// Queues one mail on its own (no other change rides with it).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn queue_mail(&self, mail: &NewMail) -> Result<MailId> {
        let mut tx = self.begin_write().await?;
        let id = enqueue(&mut tx, mail).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Queues several mails that belong together (a report and its copy to the sender)
    /// in one transaction: all of them or none.
    #[tracing::instrument(level = "debug", skip_all, fields(mails = mails.len()))]
    pub async fn queue_mails(&self, mails: &[NewMail]) -> Result<Vec<MailId>> {
        let mut tx = self.begin_write().await?;
        let mut ids = Vec::with_capacity(mails.len());
        for mail in mails {
            ids.push(enqueue(&mut tx, mail).await?);
        }
        tx.commit().await?;
        Ok(ids)
    }

    /// Creates a single-use link and queues the mail that carries it, in one
    /// transaction (with a sign-in link's role, if any): there is never a link without
    /// its mail, nor a mail with a link that was not stored.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_link_with_mail(
        &self,
        link: &NewLink<'_>,
        mail: &NewMail,
    ) -> Result<LoginToken> {
        let mut tx = self.begin_write().await?;
        let mut granted = None;
        let stored_grant = match (link.purpose, link.grant) {
            (TokenPurpose::SignIn, Some(grant)) => {
                granted = Some(grant_by_email(&mut tx, link.by, link.email, grant).await?);
                None
            }
            (_, grant) => grant,
        };
        let expires_at = insert_login_token(
            &mut tx,
            link.purpose,
            link.token,
            link.email,
            stored_grant,
            link.by.account_id,
            link.valid_for,
        )
        .await?;
        enqueue(&mut tx, mail).await?;
        tx.commit().await?;
        if let Some(account) = granted {
            self.memo.account_changed(account);
        }
        Ok(LoginToken {
            token: link.token.to_owned(),
            expires_at,
        })
    }

    /// Claims up to `limit` due mails for `worker` until `lease` from now: queued mails
    /// whose time has come and mails whose sender's lease ran out. One statement, and
    /// the outer condition is checked again on each row as it is updated (PostgreSQL
    /// re-reads a row another transaction changed meanwhile; SQLite has one writer), so
    /// a mail is never claimed by two workers at once.
    #[tracing::instrument(level = "debug", skip_all, fields(worker = %worker))]
    pub async fn claim_due_mails(
        &self,
        worker: &str,
        lease: SignedDuration,
        limit: i64,
    ) -> Result<Vec<ClaimedMail>> {
        let now = now_micros();
        let due = "((status = 'queued' AND next_attempt_at <= $3) \
                   OR (status = 'sending' AND lease_until < $3))";
        let mut mails: Vec<ClaimedMail> = sqlx::query_as(&format!(
            "UPDATE mail_outbox SET status = 'sending', claimed_by = $1, lease_until = $2, \
             attempts = attempts + 1, updated_at = $3 \
             WHERE id IN (SELECT id FROM mail_outbox WHERE {due} \
                          ORDER BY next_attempt_at, id LIMIT $4) AND {due} \
             RETURNING id, message_id, recipient, subject, \
             COALESCE(body_text, '') AS body_text, COALESCE(body_html, '') AS body_html, attempts, \
             calendar_method, calendar_ics"
        ))
        .bind(worker)
        .bind(now.saturating_add(lease.as_micros() as i64))
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        mails.sort_by_key(|m| m.id);
        Ok(mails)
    }

    /// The server accepted the mail: sent, and its bodies erased. False when `worker`
    /// no longer holds the mail (its lease ran out and another worker took it).
    #[tracing::instrument(level = "debug", skip_all, fields(id = %id, worker = %worker))]
    pub async fn mark_mail_sent(&self, id: MailId, worker: &str) -> Result<bool> {
        self.settle_claim(
            id,
            worker,
            settle!(
                "status = 'sent', sent_at = $1, body_text = NULL, body_html = NULL, \
                 calendar_ics = NULL, last_error = NULL"
            ),
            |q| q,
        )
        .await
    }

    /// Ends `worker`'s claim on mail `id` with `sql` (made by `settle!`; `$1` is now,
    /// `$4` and on are bound by `bind`). False when `worker` no longer holds the mail
    /// (its lease ran out and another worker took it).
    async fn settle_claim<'q>(
        &self,
        id: MailId,
        worker: &'q str,
        sql: &'static str,
        bind: impl FnOnce(AnyQuery<'q>) -> AnyQuery<'q>,
    ) -> Result<bool> {
        let query = sqlx::query(sql)
            .bind(now_micros())
            .bind(id.get())
            .bind(worker);
        let done = bind(query).execute(&self.pool).await?;
        Ok(done.rows_affected() == 1)
    }

    /// A temporary failure (the server unreachable, or a 4xx answer): queued again for
    /// after [`retry_delay`]. False when `worker` no longer holds the mail.
    #[tracing::instrument(level = "debug", skip_all, fields(id = %id, worker = %worker))]
    pub async fn retry_mail_later(
        &self,
        id: MailId,
        worker: &str,
        error: &str,
        base: SignedDuration,
    ) -> Result<bool> {
        let now = now_micros();
        let attempts: Option<(i64,)> = sqlx::query_as(
            "SELECT attempts FROM mail_outbox WHERE id = $1 AND status = 'sending' \
             AND claimed_by = $2",
        )
        .bind(id.get())
        .bind(worker)
        .fetch_optional(&self.pool)
        .await?;
        let Some((attempts,)) = attempts else {
            return Ok(false);
        };
        let next = now.saturating_add(retry_delay(attempts, base).as_micros() as i64);
        self.settle_claim(
            id,
            worker,
            settle!("status = 'queued', next_attempt_at = $4, last_error = $5"),
            |q| q.bind(next).bind(error),
        )
        .await
    }

    /// The server refused the mail for good (a 5xx answer): failed, with its reason.
    /// False when `worker` no longer holds the mail.
    #[tracing::instrument(level = "debug", skip_all, fields(id = %id, worker = %worker))]
    pub async fn mark_mail_failed(&self, id: MailId, worker: &str, reason: &str) -> Result<bool> {
        self.settle_claim(
            id,
            worker,
            settle!("status = 'failed', last_error = $4"),
            |q| q.bind(reason),
        )
        .await
    }

    /// Gives back a claimed mail not yet tried (its worker is stopping): due again at
    /// once, the claim's attempt not counted.
    #[tracing::instrument(level = "debug", skip_all, fields(id = %id, worker = %worker))]
    pub async fn release_mail(&self, id: MailId, worker: &str) -> Result<bool> {
        self.settle_claim(
            id,
            worker,
            settle!("status = 'queued', attempts = attempts - 1, next_attempt_at = $1"),
            |q| q,
        )
        .await
    }

    /// Queues a failed mail again, due now, its attempts counted from zero. Only failed
    /// mails can be resent: a queued one is on its way, a sent one has no body left.
    #[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
    pub async fn resend_mail(&self, id: MailId) -> Result<()> {
        let now = now_micros();
        let done = sqlx::query(
            "UPDATE mail_outbox SET status = 'queued', attempts = 0, next_attempt_at = $1, \
             updated_at = $1 WHERE id = $2 AND status = 'failed'",
        )
        .bind(now)
        .bind(id.get())
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 1 {
            return Ok(());
        }
        match self.mail(id).await? {
            None => Err(StoreError::NotFound),
            Some(_) => Err(MailRefusal::NotFailed.into()),
        }
    }

    /// One mail, without its bodies.
    #[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
    pub async fn mail(&self, id: MailId) -> Result<Option<OutboxMail>> {
        Ok(
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM mail_outbox WHERE id = $1"))
                .bind(id.get())
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// The newest `limit` mails, newest first, for the admin page.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn mails(&self, limit: i64) -> Result<Vec<OutboxMail>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM mail_outbox ORDER BY id DESC LIMIT $1"
        ))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Whether a mail still holds its bodies (tests check the erasure).
    #[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
    pub async fn mail_has_bodies(&self, id: MailId) -> Result<bool> {
        let row: Option<(Option<String>, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT body_text, body_html, calendar_ics FROM mail_outbox WHERE id = $1",
        )
        .bind(id.get())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some_and(|(t, h, c)| t.is_some() || h.is_some() || c.is_some()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_wait_1_2_4_minutes_and_never_more_than_an_hour() {
        let min = SignedDuration::from_mins(1);
        assert_eq!(retry_delay(1, min), min);
        assert_eq!(retry_delay(2, min), SignedDuration::from_mins(2));
        assert_eq!(retry_delay(3, min), SignedDuration::from_mins(4));
        assert_eq!(retry_delay(7, min), SignedDuration::from_mins(60));
        assert_eq!(retry_delay(500, min), SignedDuration::from_mins(60));
        assert_eq!(retry_delay(0, min), min);
    }
}
