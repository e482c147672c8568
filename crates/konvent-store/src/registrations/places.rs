//! Placing a registration: registered while the event has room, else on the waiting
//! list, or awaiting an organizer's approval; ending one; and moving the waiting list up
//! when a place becomes free, each with its mail in the same transaction.

use jiff::SignedDuration;
use konvent_core::ids::EventId;

use super::{
    COLUMNS, Registration, RegistrationMode, RegistrationSettings, RegistrationStatus, Tx,
};
use crate::accounts::{insert_login_token, token_hash};
use crate::mail::enqueue;
use crate::{NewMail, Result, StoreError, TokenPurpose, new_token, now_micros};

/// Why a registration's mail is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// The address was confirmed (status: registered, waiting or awaiting approval).
    Confirmed,
    /// An organizer approved it (registered or waiting).
    Approved,
    /// A place became free and it moved up from the waiting list.
    MovedUp,
}

/// Renders the mail of a registration in its new state, given the new cancellation
/// token and, for the registered, a sign-in link's token (valid until a day after the
/// event); `None` sends none. An error is the rendering's, and undoes everything.
pub type Compose<'a> = &'a (
        dyn Fn(
    &Registration,
    &str,
    Placement,
    Option<&str>,
) -> std::result::Result<Option<NewMail>, String>
            + Sync
    );

/// The event's rules, its row locked until the transaction ends (a no-op update: on
/// PostgreSQL two registrations of one event wait for each other here, so a capacity
/// is never overrun; SQLite has one writer anyway).
pub(super) async fn lock_event(tx: &mut Tx, event_id: EventId) -> Result<RegistrationSettings> {
    let row: Option<(String, Option<i64>)> = sqlx::query_as(
        "UPDATE events SET registration_mode = registration_mode WHERE id = $1 \
         RETURNING registration_mode, registration_capacity",
    )
    .bind(event_id.get())
    .fetch_optional(&mut **tx)
    .await?;
    let (mode, capacity) = row.ok_or(StoreError::NotFound)?;
    Ok(RegistrationSettings {
        mode: RegistrationMode::parse(&mode)
            .ok_or_else(|| StoreError::Corrupt(format!("registration mode {mode:?}")))?,
        capacity,
    })
}

/// Where a registration with a confirmed address goes by the event's rules: awaiting
/// approval, registered while there is room, or waiting.
pub(super) async fn confirmed_status(
    tx: &mut Tx,
    event_id: EventId,
    settings: RegistrationSettings,
) -> Result<RegistrationStatus> {
    Ok(match settings.mode {
        RegistrationMode::Approval => RegistrationStatus::AwaitingApproval,
        _ if has_room(tx, event_id, settings.capacity).await? => RegistrationStatus::Registered,
        _ => RegistrationStatus::Waiting,
    })
}

pub(super) async fn has_room(
    tx: &mut Tx,
    event_id: EventId,
    capacity: Option<i64>,
) -> Result<bool> {
    let Some(capacity) = capacity else {
        return Ok(true);
    };
    let (registered,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM event_registrations WHERE event_id = $1 AND status = 'registered'",
    )
    .bind(event_id.get())
    .fetch_one(&mut **tx)
    .await?;
    Ok(registered < capacity)
}

/// Sets a registration's status (renewing its cancellation link) and queues its mail;
/// a registered person becomes a participant of the event.
pub(super) async fn place(
    tx: &mut Tx,
    id: i64,
    status: RegistrationStatus,
    why: Placement,
    compose: Compose<'_>,
) -> Result<Registration> {
    let cancel = new_token();
    let reg: Registration = sqlx::query_as(&format!(
        "UPDATE event_registrations SET status = $1, cancel_hash = $2, updated_at = $3 \
         WHERE id = $4 RETURNING {COLUMNS}"
    ))
    .bind(status.as_str())
    .bind(token_hash(&cancel))
    .bind(now_micros())
    .bind(id)
    .fetch_one(&mut **tx)
    .await?;
    let mut sign_in = None;
    if status == RegistrationStatus::Registered {
        // A sign-in link for the person (a new account has no password), valid until a
        // day after the event.
        let (ends_at,): (i64,) = sqlx::query_as("SELECT ends_at FROM events WHERE id = $1")
            .bind(reg.event_id)
            .fetch_one(&mut **tx)
            .await?;
        let token = new_token();
        let valid = SignedDuration::from_micros(ends_at.saturating_sub(now_micros()).max(0))
            .saturating_add(SignedDuration::from_hours(24));
        insert_login_token(
            tx,
            TokenPurpose::SignIn,
            &token,
            &reg.email,
            None,
            None,
            valid,
        )
        .await?;
        sign_in = Some(token);
        let (account,): (i64,) = sqlx::query_as(
            "INSERT INTO accounts (email, display_name, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (email) DO UPDATE SET email = excluded.email RETURNING id",
        )
        .bind(&reg.email)
        .bind(&reg.name)
        .bind(now_micros())
        .fetch_one(&mut **tx)
        .await?;
        sqlx::query(
            "INSERT INTO event_people (event_id, account_id, role) VALUES ($1, $2, 'participant') \
             ON CONFLICT (event_id, account_id) DO NOTHING",
        )
        .bind(reg.event_id)
        .bind(account)
        .execute(&mut **tx)
        .await?;
    }
    if let Some(mail) =
        compose(&reg, &cancel, why, sign_in.as_deref()).map_err(StoreError::Corrupt)?
    {
        enqueue(tx, &mail).await?;
    }
    Ok(reg)
}

/// Cancels or declines `reg`; if it held a place, the person leaves the event's
/// participants (helpers stay) and the waiting list moves up.
pub(super) async fn end(
    tx: &mut Tx,
    reg: Registration,
    status: RegistrationStatus,
    compose: Compose<'_>,
) -> Result<Registration> {
    let ended: Registration = sqlx::query_as(&format!(
        "UPDATE event_registrations SET status = $1, confirm_hash = NULL, updated_at = $2 \
         WHERE id = $3 RETURNING {COLUMNS}"
    ))
    .bind(status.as_str())
    .bind(now_micros())
    .bind(reg.id)
    .fetch_one(&mut **tx)
    .await?;
    if reg.status == RegistrationStatus::Registered {
        sqlx::query(
            "DELETE FROM event_people WHERE event_id = $1 AND role = 'participant' \
             AND account_id = (SELECT id FROM accounts WHERE email = $2)",
        )
        .bind(reg.event_id)
        .bind(&reg.email)
        .execute(&mut **tx)
        .await?;
        move_up(tx, EventId::new(reg.event_id), compose).await?;
    }
    Ok(ended)
}

/// Gives free places to the waiting list, first confirmed first.
pub(super) async fn move_up(tx: &mut Tx, event_id: EventId, compose: Compose<'_>) -> Result<()> {
    let settings = lock_event(tx, event_id).await?;
    while has_room(tx, event_id, settings.capacity).await? {
        let next: Option<(i64,)> = sqlx::query_as(
            "SELECT id FROM event_registrations WHERE event_id = $1 AND status = 'waiting' \
             ORDER BY confirmed_at, id LIMIT 1",
        )
        .bind(event_id.get())
        .fetch_optional(&mut **tx)
        .await?;
        let Some((id,)) = next else {
            break;
        };
        place(
            tx,
            id,
            RegistrationStatus::Registered,
            Placement::MovedUp,
            compose,
        )
        .await?;
    }
    Ok(())
}
