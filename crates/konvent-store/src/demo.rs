//! Loads the demo data (DESIGN.md "Demo data") into an empty store: the directory of the
//! FachMK deck through the ordinary import, sessions 43–48 with their follow-up
//! meetings, the four resolutions of the decks with their relevance (and so the
//! spokespersons' duties), a few reports, the deck's workshop, and the demo admin account.

use konvent_core::authz::{Grant, Role, Scope};
use konvent_core::demo;
use konvent_core::gremien::council::{ReportInput, ResolutionInput, SessionInput};

use konvent_core::konvent::{self, AgendaEntry};

use crate::{Actor, EventRole, NewEvent, NewRoom, Result, Store, StoreError};

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
            &demo::WORKSHOP_QUESTIONS,
        )
        .await?;
    load_konvent(store, &actor).await?;
    let admin = Grant::new(Role::Admin, Scope::Global).map_err(invalid)?;
    store
        .ensure_account(demo::ADMIN_EMAIL, demo::ADMIN_NAME, &[admin])
        .await?;
    Ok(())
}

/// The Strategiekonvent 2025 with the deck's agenda, rooms, house rules and helpers.
async fn load_konvent(store: &Store, actor: &Actor) -> Result<i64> {
    let (y, m, d) = demo::KONVENT_DATE;
    let day = jiff::civil::date(y, m, d);
    let at = |(h, min): (i8, i8)| {
        konvent::berlin_time(day, h, min).ok_or_else(|| invalid(format!("time {h}:{min}")))
    };
    let mut agenda = Vec::new();
    for (kind, title, from, to) in demo::KONVENT_AGENDA {
        agenda.push(AgendaEntry {
            kind: kind.parse().map_err(invalid)?,
            title: title.to_owned(),
            starts_at: at(from)?,
            ends_at: at(to)?,
        });
    }
    let (mod_email, mod_name) = demo::KONVENT_MODERATOR;
    let moderator = store.ensure_account(mod_email, mod_name, &[]).await?;
    let mut rooms = Vec::new();
    for (slug, name, kind, capacity) in demo::KONVENT_ROOMS {
        rooms.push(NewRoom {
            slug: slug.to_owned(),
            name: name.to_owned(),
            kind: kind.parse().map_err(invalid)?,
            capacity,
            moderator_id: (kind == "plenary").then_some(moderator),
        });
    }
    let event = store
        .create_event(&NewEvent {
            slug: demo::KONVENT_SLUG.to_owned(),
            title: demo::KONVENT_TITLE.to_owned(),
            house_rules: demo::HOUSE_RULES.to_owned(),
            mute_threshold: konvent::DEFAULT_MUTE_THRESHOLD,
            feedback_url: None,
            agenda,
            rooms,
        })
        .await?;
    let organizer = Grant::new(Role::Organizer, Scope::Event(event)).map_err(invalid)?;
    store.add_grant(actor, moderator, &organizer).await?;
    store
        .add_to_event(event, moderator, EventRole::Participant)
        .await?;
    for (email, name) in demo::KONVENT_HELPERS {
        let helper = store.ensure_account(email, name, &[]).await?;
        store.add_to_event(event, helper, EventRole::Helper).await?;
    }
    Ok(event)
}
