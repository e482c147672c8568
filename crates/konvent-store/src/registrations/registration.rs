//! One registration: left through the public form (or by a signed-in person), confirmed
//! through its link, approved or declined by an organizer, cancelled through its link.

use jiff::SignedDuration;
use konvent_core::convention::registration::RegistrationRefusal;
use konvent_core::ids::EventId;

use super::places::{confirmed_status, end, has_room, lock_event, place};
use super::{COLUMNS, Compose, Placement, RegistrationMode, Tx};
use crate::accounts::token_hash;
use crate::mail::enqueue;
use crate::{NewMail, Result, Store, StoreError, new_token, now_micros};

/// Where a registration stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistrationStatus {
    Unconfirmed,
    AwaitingApproval,
    Registered,
    Waiting,
    Cancelled,
    Declined,
}

impl RegistrationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unconfirmed => "unconfirmed",
            Self::AwaitingApproval => "awaiting_approval",
            Self::Registered => "registered",
            Self::Waiting => "waiting",
            Self::Cancelled => "cancelled",
            Self::Declined => "declined",
        }
    }
}

impl TryFrom<String> for RegistrationStatus {
    type Error = StoreError;

    fn try_from(s: String) -> Result<Self> {
        Ok(match s.as_str() {
            "unconfirmed" => Self::Unconfirmed,
            "awaiting_approval" => Self::AwaitingApproval,
            "registered" => Self::Registered,
            "waiting" => Self::Waiting,
            "cancelled" => Self::Cancelled,
            "declined" => Self::Declined,
            other => {
                return Err(StoreError::Corrupt(format!(
                    "unknown registration status {other:?}"
                )));
            }
        })
    }
}

/// One registration, as the organizers' list shows it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Registration {
    pub id: i64,
    pub event_id: i64,
    pub email: String,
    pub name: String,
    pub organisation: String,
    pub language: String,
    #[sqlx(try_from = "String")]
    pub status: RegistrationStatus,
    pub confirmed_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A registration through the public form, before its address is confirmed.
#[derive(Debug, Clone)]
pub struct NewRegistration<'a> {
    pub event_id: EventId,
    pub email: &'a str,
    pub name: &'a str,
    pub organisation: &'a str,
    pub language: &'a str,
    /// From [`new_token`]; the confirmation link's (unused by
    /// [`Store::register_account`]: a signed-in person has nothing to confirm).
    pub confirm_token: &'a str,
}

impl Store {
    /// Stores a registration waiting for its address to be confirmed, with the mail that
    /// carries the link. An address that registered before and is unconfirmed or
    /// cancelled starts again; one that is registered, waiting or awaiting approval (or
    /// was declined) changes nothing and gets no mail: false.
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %new.event_id))]
    pub async fn start_registration(
        &self,
        new: &NewRegistration<'_>,
        mail: &NewMail,
    ) -> Result<bool> {
        let now = now_micros();
        let email = new.email.trim().to_lowercase();
        let mut tx = self.begin_write().await?;
        let existing: Option<(i64, String)> = sqlx::query_as(
            "SELECT id, status FROM event_registrations WHERE event_id = $1 AND email = $2",
        )
        .bind(new.event_id.get())
        .bind(&email)
        .fetch_optional(&mut *tx)
        .await?;
        match existing {
            None => {
                sqlx::query(
                    "INSERT INTO event_registrations (event_id, email, name, organisation, \
                     language, status, confirm_hash, cancel_hash, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, 'unconfirmed', $6, $7, $8, $8)",
                )
                .bind(new.event_id.get())
                .bind(&email)
                .bind(new.name)
                .bind(new.organisation)
                .bind(new.language)
                .bind(token_hash(new.confirm_token))
                .bind(token_hash(&new_token()))
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            Some((id, status)) if status == "unconfirmed" || status == "cancelled" => {
                sqlx::query(
                    "UPDATE event_registrations SET name = $1, organisation = $2, language = $3, \
                     status = 'unconfirmed', confirm_hash = $4, confirmed_at = NULL, \
                     created_at = $5, updated_at = $5 WHERE id = $6",
                )
                .bind(new.name)
                .bind(new.organisation)
                .bind(new.language)
                .bind(token_hash(new.confirm_token))
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            }
            Some(_) => return Ok(false),
        }
        enqueue(&mut tx, mail).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The unconfirmed registration a confirmation link belongs to, if still valid.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn registration_to_confirm(
        &self,
        token: &str,
        valid_for: SignedDuration,
    ) -> Result<Option<Registration>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM event_registrations WHERE confirm_hash = $1 \
             AND status = 'unconfirmed' AND created_at >= $2"
        ))
        .bind(token_hash(token))
        .bind(now_micros().saturating_sub(valid_for.as_micros() as i64))
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Confirms the address (the link works once, within `valid_for`): registered,
    /// waiting, or awaiting approval, with the mail `compose` writes.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn confirm_registration(
        &self,
        token: &str,
        valid_for: SignedDuration,
        compose: Compose<'_>,
    ) -> Result<Registration> {
        let mut tx = self.begin_write().await?;
        let now = now_micros();
        let found: Option<Registration> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM event_registrations WHERE confirm_hash = $1 \
             AND status = 'unconfirmed' AND created_at >= $2"
        ))
        .bind(token_hash(token))
        .bind(now.saturating_sub(valid_for.as_micros() as i64))
        .fetch_optional(&mut *tx)
        .await?;
        let reg = found.ok_or(StoreError::InvalidToken)?;
        let settings = lock_event(&mut tx, EventId::new(reg.event_id)).await?;
        sqlx::query(
            "UPDATE event_registrations SET confirm_hash = NULL, confirmed_at = $1 WHERE id = $2",
        )
        .bind(now)
        .bind(reg.id)
        .execute(&mut *tx)
        .await?;
        let status = confirmed_status(&mut tx, EventId::new(reg.event_id), settings).await?;
        let reg = place(&mut tx, reg.id, status, Placement::Confirmed, compose).await?;
        tx.commit().await?;
        self.memo.event_changed(EventId::new(reg.event_id));
        Ok(reg)
    }

    /// Registers a signed-in person (whose address their account vouches for) by the
    /// event's rules, as a confirmed registration through the form would be: registered
    /// (and a participant), waiting, or awaiting approval, with the same mail. Refused
    /// for an event by invitation only. A person already registered, waiting, awaiting
    /// approval or declined keeps that state and gets no mail.
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %new.event_id))]
    pub async fn register_account(
        &self,
        new: &NewRegistration<'_>,
        compose: Compose<'_>,
    ) -> Result<Registration> {
        let now = now_micros();
        let email = new.email.trim().to_lowercase();
        let mut tx = self.begin_write().await?;
        let settings = lock_event(&mut tx, new.event_id).await?;
        if settings.mode == RegistrationMode::Invitation {
            return Err(RegistrationRefusal::InvitationOnly.into());
        }
        let existing: Option<Registration> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM event_registrations WHERE event_id = $1 AND email = $2"
        ))
        .bind(new.event_id.get())
        .bind(&email)
        .fetch_optional(&mut *tx)
        .await?;
        let id = match existing {
            None => {
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO event_registrations (event_id, email, name, organisation, \
                     language, status, cancel_hash, confirmed_at, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, 'unconfirmed', $6, $7, $7, $7) RETURNING id",
                )
                .bind(new.event_id.get())
                .bind(&email)
                .bind(new.name)
                .bind(new.organisation)
                .bind(new.language)
                .bind(token_hash(&new_token()))
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
                id
            }
            Some(reg)
                if matches!(
                    reg.status,
                    RegistrationStatus::Unconfirmed | RegistrationStatus::Cancelled
                ) =>
            {
                sqlx::query(
                    "UPDATE event_registrations SET name = $1, organisation = $2, language = $3, \
                     confirm_hash = NULL, confirmed_at = $4, updated_at = $4 WHERE id = $5",
                )
                .bind(new.name)
                .bind(new.organisation)
                .bind(new.language)
                .bind(now)
                .bind(reg.id)
                .execute(&mut *tx)
                .await?;
                reg.id
            }
            Some(reg) => return Ok(reg),
        };
        let status = confirmed_status(&mut tx, new.event_id, settings).await?;
        let reg = place(&mut tx, id, status, Placement::Confirmed, compose).await?;
        tx.commit().await?;
        self.memo.event_changed(EventId::new(reg.event_id));
        Ok(reg)
    }

    /// The registration a cancellation link belongs to, if it can still be cancelled.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn registration_to_cancel(&self, token: &str) -> Result<Option<Registration>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM event_registrations WHERE cancel_hash = $1 \
             AND status NOT IN ('cancelled', 'declined')"
        ))
        .bind(token_hash(token))
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Cancels through the registrant's link. A registered place that becomes free
    /// goes to the first of the waiting list, who is mailed.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn cancel_registration(
        &self,
        token: &str,
        compose: Compose<'_>,
    ) -> Result<Registration> {
        let mut tx = self.begin_write().await?;
        let found: Option<Registration> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM event_registrations WHERE cancel_hash = $1 \
             AND status NOT IN ('cancelled', 'declined')"
        ))
        .bind(token_hash(token))
        .fetch_optional(&mut *tx)
        .await?;
        let reg = found.ok_or(StoreError::InvalidToken)?;
        lock_event(&mut tx, EventId::new(reg.event_id)).await?;
        let reg = end(&mut tx, reg, RegistrationStatus::Cancelled, compose).await?;
        tx.commit().await?;
        self.memo.event_changed(EventId::new(reg.event_id));
        Ok(reg)
    }

    /// An organizer approves a registration awaiting approval: registered, or waiting
    /// when the event is full.
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id, id = id))]
    pub async fn approve_registration(
        &self,
        event_id: EventId,
        id: i64,
        compose: Compose<'_>,
    ) -> Result<Registration> {
        let mut tx = self.begin_write().await?;
        let reg = one(&mut tx, event_id, id).await?;
        if reg.status != RegistrationStatus::AwaitingApproval {
            return Err(RegistrationRefusal::NotAwaitingApproval.into());
        }
        let settings = lock_event(&mut tx, event_id).await?;
        let status = if has_room(&mut tx, event_id, settings.capacity).await? {
            RegistrationStatus::Registered
        } else {
            RegistrationStatus::Waiting
        };
        let reg = place(&mut tx, id, status, Placement::Approved, compose).await?;
        tx.commit().await?;
        self.memo.event_changed(EventId::new(reg.event_id));
        Ok(reg)
    }

    /// An organizer declines a registration (not yet cancelled or declined); a freed
    /// place moves the waiting list up.
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id, id = id))]
    pub async fn decline_registration(
        &self,
        event_id: EventId,
        id: i64,
        compose: Compose<'_>,
    ) -> Result<Registration> {
        let mut tx = self.begin_write().await?;
        let reg = one(&mut tx, event_id, id).await?;
        if matches!(
            reg.status,
            RegistrationStatus::Cancelled | RegistrationStatus::Declined
        ) {
            return Err(RegistrationRefusal::AlreadyEnded.into());
        }
        lock_event(&mut tx, event_id).await?;
        let reg = end(&mut tx, reg, RegistrationStatus::Declined, compose).await?;
        tx.commit().await?;
        self.memo.event_changed(EventId::new(reg.event_id));
        Ok(reg)
    }

    /// The registration of `email` for an event, if any.
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id))]
    pub async fn registration_of(
        &self,
        event_id: EventId,
        email: &str,
    ) -> Result<Option<Registration>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM event_registrations WHERE event_id = $1 AND email = $2"
        ))
        .bind(event_id.get())
        .bind(email.trim().to_lowercase())
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Every registration of an event, oldest first (organizers and admins only).
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id))]
    pub async fn registrations(&self, event_id: EventId) -> Result<Vec<Registration>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM event_registrations WHERE event_id = $1 ORDER BY created_at, id"
        ))
        .bind(event_id.get())
        .fetch_all(&self.pool)
        .await?)
    }
}

async fn one(tx: &mut Tx, event_id: EventId, id: i64) -> Result<Registration> {
    let found: Option<Registration> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM event_registrations WHERE id = $1 AND event_id = $2"
    ))
    .bind(id)
    .bind(event_id.get())
    .fetch_optional(&mut **tx)
    .await?;
    found.ok_or(StoreError::NotFound)
}
