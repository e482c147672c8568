//! The spokespersons' duties, the conferences' concerns with their triage, and workshops
//! with their work results (G3, G7).
//!
//! This module holds what they share: the conferences a person acts for. The duties
//! ([`duties`]), the concerns ([`concerns`]) and the workshops ([`workshops`]) have
//! their own files.

pub mod concerns;
pub mod duties;
pub mod workshops;

use konvent_core::authz::{Action, Principal};
use konvent_core::gremien::Abbreviation;

use crate::AppState;
use crate::error::AppResult;

/// The conferences a principal may act for under `action`; `None` means all (admins).
async fn conferences_for(
    state: &AppState,
    principal: &Principal,
    action: fn(&Abbreviation) -> Action<'_>,
) -> AppResult<Option<Vec<String>>> {
    if principal.is_admin() {
        return Ok(None);
    }
    Ok(Some(
        state
            .store
            .conferences()
            .await?
            .into_iter()
            .filter(|c| {
                Abbreviation::parse(&c.abbreviation).is_ok_and(|a| principal.may(action(&a)))
            })
            .map(|c| c.abbreviation)
            .collect(),
    ))
}

fn speak_for(a: &Abbreviation) -> Action<'_> {
    Action::SpeakFor(a)
}

fn work_for(a: &Abbreviation) -> Action<'_> {
    Action::WorkFor(a)
}
