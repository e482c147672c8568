//! The spokespersons' duties (G3): the list with its filters and pages, and marking a
//! duty done.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use konvent_core::authz::Action;
use konvent_core::gremien::Abbreviation;
use konvent_store::Duty;
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
    /// Open and past its time: due before today, or a task "before" or "during" the
    /// decision of a resolution the council has already decided.
    overdue: bool,
    /// Who is responsible: the spokespersons named in the directory when the duty was
    /// created and the accounts that speak for the conference now; the reader marked.
    owners: String,
    done: Option<String>,
}

/// Rows per page of the duties list.
const DUTIES_PER_PAGE: usize = 50;

#[derive(Template)]
#[template(path = "duties.html")]
struct DutiesPage {
    c: Chrome,
    rows: Vec<DutyRow>,
    open: usize,
    overdue: usize,
    /// How many rows the filter selects, over all pages.
    matching: usize,
    conferences: Vec<crate::forms::Choice>,
    statuses: Vec<crate::forms::Choice>,
    page: usize,
    pages: usize,
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

/// Whether an open duty is past its time (see `DutyRow::overdue`). Decided resolutions
/// from before this platform have no session date, so their tasks "before" and "during"
/// the decision have no due date: the decision itself says their time is over.
fn is_overdue(d: &Duty, today: jiff::civil::Date) -> bool {
    use konvent_core::gremien::cooperation::DutyPhase;
    d.done_at.is_none()
        && match d.due_on {
            Some(due) => due < today,
            None => d.resolution_decided && d.phase != DutyPhase::After,
        }
}

/// What is open for the reader: a spokesperson sees their conferences, admins all;
/// filtered by conference and status, 50 to a page, the overdue ones first.
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
        .and_then(|p| p.trim().parse::<usize>().ok())
        .filter(|p| *p > 0)
        .unwrap_or(1);
    // Who speaks for which conference now, from the accounts.
    let mut speakers: std::collections::HashMap<String, Vec<(i64, String)>> =
        std::collections::HashMap::new();
    for (conference, id, name) in state.store.spokespersons().await? {
        speakers.entry(conference).or_default().push((id, name));
    }
    let all = state
        .store
        .duties(mine.as_deref(), crate::council::visibility(&ctx))
        .await?;
    let open = all.iter().filter(|d| d.done_at.is_none()).count();
    let overdue = all.iter().filter(|d| is_overdue(d, today)).count();
    let mut selected: Vec<Duty> = all
        .into_iter()
        .filter(|d| filter.is_empty() || d.conference == filter)
        .filter(|d| match status.as_str() {
            "offen" => d.done_at.is_none(),
            "ueberfaellig" => is_overdue(d, today),
            "erledigt" => d.done_at.is_some(),
            _ => true,
        })
        .collect();
    // Overdue first, then the other open ones by due date, then the done ones.
    selected.sort_by_key(|d| {
        (
            !is_overdue(d, today),
            d.done_at.is_some(),
            d.due_on.is_none(),
            d.due_on,
        )
    });
    let matching = selected.len();
    let pages = matching.div_ceil(DUTIES_PER_PAGE).max(1);
    let page = page.min(pages);
    let rows: Vec<DutyRow> = selected
        .into_iter()
        .skip((page - 1) * DUTIES_PER_PAGE)
        .take(DUTIES_PER_PAGE)
        .map(|d| {
            let mut owners: Vec<String> = d
                .owner
                .as_deref()
                .map(|o| o.split(", ").map(str::to_owned).collect())
                .unwrap_or_default();
            for (id, name) in speakers.get(&d.conference).into_iter().flatten() {
                let me = *id == principal.user_id;
                let same = owners
                    .iter_mut()
                    .find(|o| o.as_str() == name || o.ends_with(&format!(" {name}")));
                match same {
                    Some(o) if me => *o = t.with("duty-owner-you", &[("name", o.as_str())]),
                    Some(_) => {}
                    None if me => owners.push(t.with("duty-owner-you", &[("name", name)])),
                    None => owners.push(name.clone()),
                }
            }
            let overdue = is_overdue(&d, today);
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
            state
                .store
                .conferences()
                .await?
                .into_iter()
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
        open,
        overdue,
        matching,
        conferences: choices(conference_options, &filter),
        statuses: choices(status_options, &status),
        page,
        pages,
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

pub async fn set_duty_done(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id,
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
