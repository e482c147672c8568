//! Loads the demo data (DESIGN.md "Demo data") into an empty store: the directory of the
//! FachMK deck through the ordinary import, sessions 43–48 with their follow-up
//! meetings, the four resolutions of the decks with their relevance (and so the
//! spokespersons' duties), a few reports, the deck's workshop, and the demo admin account.
//!
//! [`load`] loads the council's directory, sessions, resolutions, reports and workshop
//! itself; the rest comes from one file per feature:
//!
//! - [`konvent`]: the Strategiekonvent 2025 and its pseudonymous participants
//! - [`strategy`]: the strategy process, café rounds, pins and consolidation
//! - [`votes`]: the seats, the Königsteiner Schlüssel and the votes
//! - [`council`]: the minutes and documents of the council's sessions

mod council;
mod konvent;
mod strategy;
mod votes;

use konvent_core::authz::{Grant, Role, Scope};
use konvent_core::demo;
use konvent_core::gremien::council::{ReportInput, ResolutionInput, SessionInput};

use council::{load_documents, load_minutes};
use konvent::{load_konvent, load_pseudonyms};
use strategy::load_strategy;
use votes::load_seats;

use crate::{Actor, Result, Store, StoreError};

fn invalid(what: String) -> StoreError {
    StoreError::Corrupt(format!("demo data: {what}"))
}

pub async fn load(store: &Store, follow_up_offset_days: i64) -> Result<()> {
    let actor = Actor::system("Demo-Daten");
    store
        .import_directory(&actor, &demo::directory_rows(), |_| {})
        .await?;
    for (number, date, place) in demo::SESSIONS {
        let input = SessionInput::parse(
            &number.to_string(),
            date,
            "10:00",
            "16:00",
            place,
            "",
            "held",
        )
        .map_err(|e| invalid(format!("session {number}: {e}")))?;
        store
            .create_session(&actor, &input, follow_up_offset_days)
            .await?;
    }
    let conferences = store.conferences().await?;
    for r in demo::RESOLUTIONS {
        let session = r.session.map(|n| n.to_string()).unwrap_or_default();
        let input = ResolutionInput::parse(r.number, r.title, r.body, "", &session, "published")
            .map_err(|e| invalid(format!("resolution {}: {e}", r.number)))?;
        let relevance: Vec<(String, String)> = conferences
            .iter()
            .map(|c| (c.abbreviation.clone(), r.relevance.to_owned()))
            .collect();
        store
            .save_resolution(&actor, None, &input, &relevance)
            .await?;
    }
    for (session, conference, no_exchange, answer) in demo::REPORTS {
        let report = if no_exchange {
            ReportInput::no_exchange()
        } else {
            ReportInput::parse(answer, "", "", "").map_err(|e| invalid(format!("report: {e}")))?
        };
        store
            .file_report(&actor, session, conference, &report)
            .await?;
    }
    store
        .create_workshop(
            &actor,
            demo::WORKSHOP_TITLE,
            None,
            None,
            &demo::WORKSHOP_QUESTIONS,
        )
        .await?;
    let event = load_konvent(store, &actor).await?;
    load_strategy(store, &actor, event).await?;
    load_pseudonyms(store, &actor, event).await?;
    let admin = Grant::new(Role::Admin, Scope::Global).map_err(invalid)?;
    store
        .ensure_account(demo::ADMIN_EMAIL, demo::ADMIN_NAME, &[admin])
        .await?;
    load_seats(store, &actor).await?;
    load_minutes(store, &actor).await?;
    load_documents(store, &actor).await?;
    Ok(())
}
