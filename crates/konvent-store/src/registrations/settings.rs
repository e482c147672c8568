//! An event's registration rules: open, by approval or closed, and how many places.

use super::Compose;
use super::places::move_up;
use crate::{Result, Store, StoreError};
use konvent_core::ids::EventId;

/// Who may register through the public form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistrationMode {
    /// Nobody: the organizers add people (the default).
    Invitation,
    /// Anyone with the link, once the address is confirmed.
    Open,
    /// As open, then an organizer approves.
    Approval,
}

impl RegistrationMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invitation => "invitation",
            Self::Open => "open",
            Self::Approval => "approval",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "invitation" => Some(Self::Invitation),
            "open" => Some(Self::Open),
            "approval" => Some(Self::Approval),
            _ => None,
        }
    }
}

/// An event's registration rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegistrationSettings {
    pub mode: RegistrationMode,
    /// At most this many registered; `None`: no limit.
    pub capacity: Option<i64>,
}

impl Store {
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id))]
    pub async fn registration_settings(&self, event_id: EventId) -> Result<RegistrationSettings> {
        let row: Option<(String, Option<i64>)> = sqlx::query_as(
            "SELECT registration_mode, registration_capacity FROM events WHERE id = $1",
        )
        .bind(event_id.get())
        .fetch_optional(&self.pool)
        .await?;
        let (mode, capacity) = row.ok_or(StoreError::NotFound)?;
        Ok(RegistrationSettings {
            mode: RegistrationMode::parse(&mode)
                .ok_or_else(|| StoreError::Corrupt(format!("registration mode {mode:?}")))?,
            capacity,
        })
    }

    /// Sets the rules. A larger capacity moves the waiting list up (with their mails).
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id))]
    pub async fn set_registration_settings(
        &self,
        event_id: EventId,
        settings: RegistrationSettings,
        compose: Compose<'_>,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE events SET registration_mode = $1, registration_capacity = $2 WHERE id = $3",
        )
        .bind(settings.mode.as_str())
        .bind(settings.capacity)
        .bind(event_id.get())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::NotFound);
        }
        move_up(&mut tx, event_id, compose).await?;
        tx.commit().await?;
        self.memo.event_changed(event_id);
        Ok(())
    }
}
