//! The spokespersons' duties (G3): the list with its filters and pages, and marking a
//! duty done.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use konvent_core::authz::Action;
use konvent_core::gremien::Abbreviation;
use konvent_core::ids::{AccountId, DutyId};
use konvent_store::{Duty, DutyListQuery, DutyStatus};
use serde::Deserialize;

use super::{conferences_for, speak_for};
use crate::AppState;
use crate::ctx::{CsrfForm, Ctx, Id};
use crate::error::{AppError, AppResult};
use crate::forms::choices;
use crate::layout::{Chrome, date_de, datetime_de, render};

struct DutyRow {
    duty: Duty,
    /// The resolution's number, or "in preparation" when the reader may not see it.
    resolution: String,
    phase: String,
    due: String,
    /// Open and past its time ([`Duty::is_overdue`]).
    overdue: bool,
    /// Who is responsible: the spokespersons named in the directory when the duty was
    /// created and the accounts that speak for the conference now; the reader marked.
    owners: String,
    done: Option<String>,
}

/// Rows per page of the duties list.
const DUTIES_PER_PAGE: i64 = 50;

#[derive(Template)]
#[template(path = "duties.html")]
struct DutiesPage {
    c: Chrome,
    rows: Vec<DutyRow>,
    open: i64,
    overdue: i64,
    /// How many rows the filter selects, over all pages.
    matching: i64,
    conferences: Vec<crate::forms::Choice>,
    statuses: Vec<crate::forms::Choice>,
    page: i64,
    pages: i64,
    /// The query of this filter, without the page, for the paging links.
    query: String,
}

#[derive(Deserialize, Default)]
pub struct DutyQuery {
    konferenz: Option<String>,
    /// "offen" (default), "ueberfaellig", "erledigt" or "alle".
    status: Option<String>,
    /// Older links: any value means "alle".
    alle: Option<String>,
    seite: Option<String>,
}

/// What is open for the reader: a spokesperson sees their conferences, admins all;
/// filtered by conference and status, 50 to a page, the overdue ones first. The store
/// filters, counts and cuts the page, and each node keeps the pages it served until the
/// duties' tables change (issue 17); this renders it.
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn duties(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<DutyQuery>,
) -> AppResult<Html<String>> {
    let principal = ctx.signed_in()?;
    let mine = conferences_for(&state, principal, speak_for).await?;
    if mine.as_ref().is_some_and(Vec::is_empty) {
        return Err(AppError::Forbidden);
    }
    let t = ctx.tr();
    let today = konvent_store::today();
    let filter = q.konferenz.unwrap_or_default().trim().to_owned();
    let status = match (q.status.as_deref(), q.alle.is_some()) {
        (Some(s @ ("offen" | "ueberfaellig" | "erledigt" | "alle")), _) => s.to_owned(),
        (_, true) => "alle".to_owned(),
        _ => "offen".to_owned(),
    };
    let page = q
        .seite
        .and_then(|p| p.trim().parse::<u64>().ok())
        .filter(|p| *p > 0)
        // Past the last page anyway: the last one is shown.
        .map(|p| i64::try_from(p).unwrap_or(i64::MAX))
        .unwrap_or(1);
    let listing = state
        .store
        .duty_listing(&DutyListQuery {
            allowed: mine.clone(),
            conference: (!filter.is_empty()).then(|| filter.clone()),
            status: match status.as_str() {
                "offen" => DutyStatus::Open,
                "ueberfaellig" => DutyStatus::Overdue,
                "erledigt" => DutyStatus::Done,
                _ => DutyStatus::All,
            },
            today,
            page,
            per_page: DUTIES_PER_PAGE,
            visibility: crate::council::visibility(&ctx),
        })
        .await?;
    // Who speaks for which conference now, from the accounts.
    let mut speakers: std::collections::HashMap<&str, Vec<(AccountId, &str)>> =
        std::collections::HashMap::new();
    for (conference, id, name) in &listing.spokespersons {
        speakers
            .entry(conference.as_str())
            .or_default()
            .push((*id, name.as_str()));
    }
    let rows: Vec<DutyRow> = listing
        .page
        .duties
        .iter()
        .cloned()
        .map(|d| {
            let mut owners: Vec<String> = d
                .owner
                .as_deref()
                .map(|o| o.split(", ").map(str::to_owned).collect())
                .unwrap_or_default();
            for &(id, name) in speakers.get(d.conference.as_str()).into_iter().flatten() {
                let me = id == principal.user_id;
                let same = owners
                    .iter_mut()
                    .find(|o| o.as_str() == name || o.ends_with(&format!(" {name}")));
                match same {
                    Some(o) if me => *o = t.with("duty-owner-you", &[("name", o.as_str())]),
                    Some(_) => {}
                    None if me => owners.push(t.with("duty-owner-you", &[("name", name)])),
                    None => owners.push(name.to_owned()),
                }
            }
            let overdue = d.is_overdue(today);
            DutyRow {
                resolution: match &d.resolution {
                    Some(r) => r.reference.clone(),
                    None => t.get("duty-resolution-in-preparation"),
                },
                phase: t.get(&format!("duty-phase-{}", d.phase.as_str())),
                due: match &d.due_on {
                    Some(due) => date_de(due),
                    None if overdue => t.get("duty-due-decided"),
                    None => "–".into(),
                },
                overdue,
                owners: if owners.is_empty() {
                    "N.N.".into()
                } else {
                    owners.join(", ")
                },
                done: d.done_at.map(|at| {
                    format!(
                        "{} ({})",
                        datetime_de(at),
                        d.done_by.clone().unwrap_or_default()
                    )
                }),
                duty: d,
            }
        })
        .collect();
    let conference_options = std::iter::once((String::new(), t.get("duties-all-conferences")))
        .chain(
            listing
                .conferences
                .iter()
                .filter(|c| mine.as_ref().is_none_or(|m| m.contains(&c.abbreviation)))
                .map(|c| {
                    (
                        c.abbreviation.clone(),
                        format!("{} ({})", c.name, c.abbreviation),
                    )
                }),
        );
    let status_options = ["offen", "ueberfaellig", "erledigt", "alle"]
        .into_iter()
        .map(|s| (s.to_owned(), t.get(&format!("duties-status-{s}"))));
    let mut query = format!("status={status}");
    if !filter.is_empty() {
        query.push_str("&konferenz=");
        query.push_str(&urlencoding(&filter));
    }
    render(&DutiesPage {
        c: Chrome::new(&ctx, "gremien", t.get("duties-title")),
        rows,
        open: listing.page.open,
        overdue: listing.page.overdue,
        matching: listing.page.matching,
        conferences: choices(conference_options, &filter),
        statuses: choices(status_options, &status),
        page: listing.page.page,
        pages: listing.page.pages,
        query,
    })
}

/// A query value made safe for a link (conference abbreviations are letters anyway).
fn urlencoding(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[derive(Deserialize)]
pub struct DoneForm {
    #[serde(default)]
    done: String,
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), id = %id))]
pub async fn set_duty_done(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id<DutyId>,
    CsrfForm(form): CsrfForm<DoneForm>,
) -> AppResult<Response> {
    let duty = state
        .store
        .duty(id, crate::council::visibility(&ctx))
        .await?;
    let conference = Abbreviation::parse(&duty.conference).map_err(|_| AppError::NotFound)?;
    ctx.require(Action::SpeakFor(&conference))?;
    state
        .store
        .set_duty_done(&ctx.actor()?, id, form.done == "1")
        .await?;
    Ok(Redirect::to("/gremien/aufgaben").into_response())
}
