//! The directory pages (G1, G2): the conferences with who speaks for them, each
//! conference with its current, planned and past role holders, and the persons.

pub mod api;
pub mod audit;
pub mod edit;
pub mod transfer;

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Html;
use jiff::civil::Date;
use konvent_core::authz::Action;
use konvent_core::gremien::RoleKind;
use konvent_core::ids::{AssignmentId, PersonId};
use konvent_store::Assignment;

use crate::AppState;
use crate::ctx::{Ctx, Id};
use crate::error::AppResult;
use crate::i18n::Tr;
use crate::layout::{Chrome, date_de, render};

/// The German (or English) name of a role.
pub fn role_label(t: &Tr, role: RoleKind) -> String {
    t.get(&format!("role-{}", role.as_str()))
}

/// One assignment as the pages show it.
pub struct Holder {
    pub id: AssignmentId,
    pub role: String,
    /// The person's full name, or "N.N." for a vacancy.
    pub name: String,
    pub person_id: Option<PersonId>,
    pub function: Option<String>,
    pub conference: String,
    pub conference_name: String,
    pub since: Option<String>,
    pub until: Option<String>,
    pub resolution: Option<String>,
    pub legal_basis: String,
    pub note: Option<String>,
}

impl Holder {
    pub fn new(t: &Tr, a: &Assignment) -> Self {
        Self {
            id: a.id,
            role: role_label(t, a.role),
            name: a
                .person
                .as_ref()
                .map(|p| p.full_name())
                .unwrap_or_else(|| "N.N.".to_owned()),
            person_id: a.person.as_ref().map(|p| p.id),
            function: a.function_text().map(str::to_owned),
            conference: a.conference.clone(),
            conference_name: a.conference_name.clone(),
            since: a.starts_on.as_ref().map(date_de),
            until: a.ends_on.as_ref().map(date_de),
            resolution: a.appointing_resolution.clone(),
            legal_basis: a.legal_basis.clone(),
            note: a.note.clone(),
        }
    }
}

/// Current, planned and past assignments, each in display order.
pub struct Split {
    pub current: Vec<Holder>,
    pub planned: Vec<Holder>,
    pub past: Vec<Holder>,
}

pub fn split(t: &Tr, assignments: &[Assignment], today: Date) -> Split {
    let mut s = Split {
        current: vec![],
        planned: vec![],
        past: vec![],
    };
    for a in assignments {
        let h = Holder::new(t, a);
        if a.has_ended(today) {
            s.past.push(h);
        } else if a.has_started(today) {
            s.current.push(h);
        } else {
            s.planned.push(h);
        }
    }
    // The history reads newest first.
    s.past.reverse();
    s
}

struct ConferenceRow {
    abbreviation: String,
    name: String,
    lead_states: Option<String>,
    spokespersons: Vec<Holder>,
    others: Vec<Holder>,
}

#[derive(Template)]
#[template(path = "conferences.html")]
struct ConferencesPage {
    c: Chrome,
    rows: Vec<ConferenceRow>,
    may_edit: bool,
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn conferences(State(state): State<AppState>, ctx: Ctx) -> AppResult<Html<String>> {
    let t = ctx.tr();
    let today = konvent_store::today();
    let mut by_conference = state.store.assignments_by_conference().await?;
    let rows = state
        .store
        .conferences()
        .await?
        .into_iter()
        .map(|c| {
            let current =
                split(&t, &by_conference.remove(&c.id).unwrap_or_default(), today).current;
            let (spokespersons, others) = current
                .into_iter()
                .partition(|h| h.role == role_label(&t, RoleKind::Spokesperson));
            ConferenceRow {
                abbreviation: c.abbreviation,
                name: c.name,
                lead_states: c.lead_states,
                spokespersons,
                others,
            }
        })
        .collect();
    render(&ConferencesPage {
        c: Chrome::new(&ctx, "gremien", t.get("conferences-title")),
        rows,
        may_edit: ctx.may(Action::EditDirectory),
    })
}

#[derive(Template)]
#[template(path = "conference.html")]
struct ConferencePage {
    c: Chrome,
    abbreviation: String,
    lead_states: Option<String>,
    office_contact: Option<String>,
    assignments: Split,
    may_edit: bool,
    may_audit: bool,
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), conference = %abbr))]
pub async fn conference(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(abbr): Path<String>,
) -> AppResult<Html<String>> {
    let t = ctx.tr();
    let detail = state.store.conference(&abbr).await?;
    let c = detail.conference;
    let abbreviation = konvent_core::gremien::Abbreviation::parse(&c.abbreviation).ok();
    render(&ConferencePage {
        c: Chrome::new(&ctx, "gremien", c.name.clone()),
        may_audit: abbreviation
            .as_ref()
            .is_some_and(|a| ctx.may(Action::ReadAuditLog(a))),
        abbreviation: c.abbreviation,
        lead_states: c.lead_states,
        office_contact: c.office_contact,
        assignments: split(&t, &detail.assignments, konvent_store::today()),
        may_edit: ctx.may(Action::EditDirectory),
    })
}

struct PersonRow {
    id: PersonId,
    name: String,
    function: Option<String>,
    organisation: Option<String>,
    conferences: Vec<String>,
}

#[derive(Template)]
#[template(path = "persons.html")]
struct PersonsPage {
    c: Chrome,
    rows: Vec<PersonRow>,
    may_edit: bool,
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn persons(State(state): State<AppState>, ctx: Ctx) -> AppResult<Html<String>> {
    let t = ctx.tr();
    let today = konvent_store::today();
    let assignments = state.store.assignments_by_conference().await?;
    let rows = state
        .store
        .persons()
        .await?
        .into_iter()
        .map(|p| {
            let mut conferences: Vec<String> = assignments
                .values()
                .flatten()
                .filter(|a| a.is_current(today) && a.person.as_ref().is_some_and(|x| x.id == p.id))
                .map(|a| a.conference.clone())
                .collect();
            conferences.sort();
            conferences.dedup();
            PersonRow {
                id: p.id,
                name: p.full_name(),
                function: p.function,
                organisation: p.organisation,
                conferences,
            }
        })
        .collect();
    render(&PersonsPage {
        c: Chrome::new(&ctx, "gremien", t.get("persons-title")),
        rows,
        may_edit: ctx.may(Action::EditDirectory),
    })
}

#[derive(Template)]
#[template(path = "person.html")]
struct PersonPage {
    c: Chrome,
    id: PersonId,
    function: Option<String>,
    organisation: Option<String>,
    assignments: Split,
    may_edit: bool,
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), id = %id))]
pub async fn person(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id<PersonId>,
) -> AppResult<Html<String>> {
    let t = ctx.tr();
    let detail = state.store.person(id).await?;
    render(&PersonPage {
        c: Chrome::new(&ctx, "gremien", detail.person.full_name()),
        id,
        function: detail.person.function,
        organisation: detail.person.organisation,
        assignments: split(&t, &detail.assignments, konvent_store::today()),
        may_edit: ctx.may(Action::EditDirectory),
    })
}
