//! The spokespersons' duties, the conferences' concerns with their triage, and workshops
//! with their work results (G3, G7).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{Html, IntoResponse, Redirect, Response};
use konvent_core::FieldErrors;
use konvent_core::authz::{Action, Principal};
use konvent_core::gremien::Abbreviation;
use konvent_core::gremien::cooperation::{
    ConcernInput, ConcernKind, ConcernStatus, TriageInput, WorkResultInput,
};
use konvent_store::{Concern, Duty, Workshop};
use serde::Deserialize;

use crate::AppState;
use crate::ctx::{CsrfForm, Ctx, Id};
use crate::error::{AppError, AppResult};
use crate::forms::{Field, FormPage, Kind, attach, choices, form_response, store_errors};
use crate::layout::{Chrome, date_de, datetime_de, render};

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

// Duties ----------------------------------------------------------------------------

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
        .duties(mine.as_deref(), super::visibility(&ctx))
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
    let duty = state.store.duty(id, super::visibility(&ctx)).await?;
    let conference = Abbreviation::parse(&duty.conference).map_err(|_| AppError::NotFound)?;
    ctx.require(Action::SpeakFor(&conference))?;
    state
        .store
        .set_duty_done(&ctx.actor()?, id, form.done == "1")
        .await?;
    Ok(Redirect::to("/gremien/aufgaben").into_response())
}

// Concerns --------------------------------------------------------------------------

fn status_label(t: &crate::i18n::Tr, s: ConcernStatus) -> String {
    t.get(&format!("concern-status-{}", s.as_str()))
}

fn kind_label(t: &crate::i18n::Tr, k: ConcernKind) -> String {
    t.get(&format!("concern-kind-{}", k.as_str()))
}

#[derive(Template)]
#[template(path = "concerns.html")]
struct ConcernsPage {
    c: Chrome,
    rows: Vec<(Concern, String, String)>,
}

pub async fn concerns(State(state): State<AppState>, ctx: Ctx) -> AppResult<Html<String>> {
    let principal = ctx.signed_in()?;
    let mine = conferences_for(&state, principal, work_for).await?;
    if mine.as_ref().is_some_and(Vec::is_empty) {
        return Err(AppError::Forbidden);
    }
    let t = ctx.tr();
    let rows = state
        .store
        .concerns(mine.as_deref())
        .await?
        .into_iter()
        .map(|k| {
            let (kind, status) = (kind_label(&t, k.kind), status_label(&t, k.status));
            (k, kind, status)
        })
        .collect();
    render(&ConcernsPage {
        c: Chrome::new(&ctx, "gremien", t.get("concerns-title")),
        rows,
    })
}

#[derive(Deserialize, Default)]
pub struct ConcernForm {
    #[serde(default)]
    conference: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
}

async fn concern_page(state: &AppState, ctx: &Ctx, f: &ConcernForm) -> AppResult<FormPage> {
    let t = ctx.tr();
    let principal = ctx.signed_in()?;
    let mine = conferences_for(state, principal, work_for).await?;
    let options: Vec<(String, String)> = state
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
        })
        .collect();
    if options.is_empty() {
        return Err(AppError::Forbidden);
    }
    let kinds = ConcernKind::ALL
        .iter()
        .map(|k| (k.as_str().to_owned(), kind_label(&t, *k)));
    let fields = vec![
        Field::new(
            &t,
            "conference",
            Kind::Select(choices(options, &f.conference)),
        )
        .required(),
        Field::new(&t, "kind", Kind::Select(choices(kinds, &f.kind))).required(),
        Field::text(&t, "title", &f.title).required(),
        Field::new(&t, "body", Kind::Textarea)
            .value(&f.body)
            .required(),
    ];
    let mut page = FormPage::new(
        Chrome::new(ctx, "gremien", t.get("concern-new")),
        "/gremien/anliegen/neu",
        fields,
        t.get("concern-submit"),
    );
    page.intro = Some(t.get("concern-new-lead"));
    page.cancel = Some("/gremien/anliegen".into());
    Ok(page)
}

pub async fn new_concern(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let form = ConcernForm {
        kind: ConcernKind::Concern.as_str().into(),
        ..ConcernForm::default()
    };
    form_response(
        concern_page(&state, &ctx, &form).await?,
        &FieldErrors::new(),
    )
}

pub async fn submit_concern(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<ConcernForm>,
) -> AppResult<Response> {
    let conference = Abbreviation::parse(&form.conference).map_err(|_| AppError::Forbidden);
    let conference = match conference {
        Ok(c) => c,
        Err(e) => {
            ctx.signed_in()?;
            return Err(e);
        }
    };
    ctx.require(Action::WorkFor(&conference))?;
    match ConcernInput::parse(&form.kind, &form.title, &form.body) {
        Ok(input) => {
            let id = state
                .store
                .submit_concern(&ctx.actor()?, conference.as_str(), &input)
                .await?;
            Ok(Redirect::to(&format!("/gremien/anliegen/{id}")).into_response())
        }
        Err(errors) => form_response(concern_page(&state, &ctx, &form).await?, &errors),
    }
}

#[derive(Template)]
#[template(path = "concern.html")]
struct ConcernPage {
    c: Chrome,
    k: Concern,
    kind: String,
    status: String,
    submitted: String,
    triage: Option<Vec<Field>>,
    problems: Vec<String>,
}

#[derive(Deserialize, Default)]
pub struct TriageForm {
    #[serde(default)]
    status: String,
    #[serde(default)]
    answer: String,
    #[serde(default)]
    session_number: String,
}

/// The sessions a concern can be put on: those still to come (not held, not cancelled,
/// not past), soonest first, after an empty "please choose". The session the concern is
/// already on stays listed, so that saving the answer keeps it.
async fn session_choices(
    state: &AppState,
    ctx: &Ctx,
    k: &Concern,
    selected: &str,
) -> AppResult<Vec<crate::forms::Choice>> {
    let t = ctx.tr();
    let mut sessions: Vec<_> = state
        .store
        .sessions()
        .await?
        .into_iter()
        .filter(|s| konvent_store::is_upcoming(s) || k.session_number == Some(s.number))
        .collect();
    sessions.sort_by_key(|s| (s.date, s.number));
    let options = std::iter::once((String::new(), t.get("choose-session")))
        .chain(sessions.into_iter().map(|s| {
            (
                s.number.to_string(),
                format!(
                    "{} – {}",
                    super::session_title(&t, s.number),
                    super::weekday_date(&t, &s.date)
                ),
            )
        }))
        .collect::<Vec<_>>();
    Ok(choices(options, selected))
}

async fn concern_view(
    state: &AppState,
    ctx: &Ctx,
    id: i64,
    f: Option<&TriageForm>,
    errors: &FieldErrors,
) -> AppResult<ConcernPage> {
    let k = state.store.concern(id).await?;
    let conference = Abbreviation::parse(&k.conference).map_err(|_| AppError::NotFound)?;
    ctx.require(Action::WorkFor(&conference))?;
    let t = ctx.tr();
    let (triage, problems) = if ctx.may(Action::EditCouncil) {
        let current = TriageForm {
            status: k.status.as_str().into(),
            answer: k.answer.clone().unwrap_or_default(),
            session_number: k.session_number.map(|n| n.to_string()).unwrap_or_default(),
        };
        let f = f.unwrap_or(&current);
        let statuses = ConcernStatus::ALL
            .iter()
            .map(|s| (s.as_str().to_owned(), status_label(&t, *s)));
        let mut fields = vec![
            Field::new(&t, "status", Kind::Select(choices(statuses, &f.status))).required(),
            Field::new(&t, "answer", Kind::Textarea)
                .value(&f.answer)
                .hint(t.get("hint-concern-answer")),
            Field {
                label: t.get("field-upcoming-session"),
                ..Field::new(
                    &t,
                    "session_number",
                    Kind::Select(session_choices(state, ctx, &k, &f.session_number).await?),
                )
            }
            .hint(t.get("hint-concern-session")),
        ];
        let problems = attach(&t, &mut fields, errors);
        (Some(fields), problems)
    } else {
        (None, vec![])
    };
    Ok(ConcernPage {
        c: Chrome::new(ctx, "gremien", k.title.clone()),
        kind: kind_label(&t, k.kind),
        status: status_label(&t, k.status),
        submitted: datetime_de(k.created_at),
        k,
        triage,
        problems,
    })
}

pub async fn concern(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id,
) -> AppResult<Html<String>> {
    render(&concern_view(&state, &ctx, id, None, &FieldErrors::new()).await?)
}

pub async fn triage_concern(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id,
    CsrfForm(form): CsrfForm<TriageForm>,
) -> AppResult<Response> {
    ctx.require(Action::EditCouncil)?;
    let errors = match TriageInput::parse(&form.status, &form.answer, &form.session_number) {
        Ok(triage) => {
            let render = crate::notifications::mail::renderer(&state.mail, &state.settings);
            match state
                .store
                .triage_concern_notifying(&ctx.actor()?, id, &triage, &render)
                .await
            {
                Ok(queued) => {
                    if queued > 0 {
                        state.mail.wake();
                    }
                    return Ok(Redirect::to(&format!("/gremien/anliegen/{id}")).into_response());
                }
                Err(e) => store_errors("status", e)?,
            }
        }
        Err(errors) => errors,
    };
    let page = concern_view(&state, &ctx, id, Some(&form), &errors).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
}

// Workshops ---------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "workshops.html")]
struct WorkshopsPage {
    c: Chrome,
    list: Vec<(i64, String, String)>,
}

pub async fn workshops(State(state): State<AppState>, ctx: Ctx) -> AppResult<Html<String>> {
    let list = state
        .store
        .workshops()
        .await?
        .into_iter()
        .map(|(id, title, date)| (id, title, date.as_ref().map(date_de).unwrap_or_default()))
        .collect();
    render(&WorkshopsPage {
        c: Chrome::new(&ctx, "gremien", ctx.tr().get("workshops-title")),
        list,
    })
}

#[derive(Template)]
#[template(path = "workshop.html")]
struct WorkshopPage {
    c: Chrome,
    w: Workshop,
    may_add: bool,
    error: Option<(i64, String)>,
    documents: crate::documents::DocList,
}

async fn workshop_documents(
    state: &AppState,
    ctx: &Ctx,
    id: i64,
) -> AppResult<crate::documents::DocList> {
    let owner = konvent_store::Owner {
        kind: konvent_core::documents::OwnerKind::Workshop,
        id,
    };
    crate::documents::list(state, ctx, owner).await
}

pub async fn workshop(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id,
) -> AppResult<Html<String>> {
    let w = state.store.workshop(id).await?;
    let documents = workshop_documents(&state, &ctx, id).await?;
    render(&WorkshopPage {
        c: Chrome::new(&ctx, "gremien", w.title.clone()),
        documents,
        may_add: ctx.may(Action::AddWorkResult),
        w,
        error: None,
    })
}

#[derive(Deserialize)]
pub struct ResultForm {
    #[serde(default)]
    group: String,
    #[serde(default)]
    text: String,
}

pub async fn add_work_result(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, question)): Path<(i64, i64)>,
    CsrfForm(form): CsrfForm<ResultForm>,
) -> AppResult<Response> {
    ctx.require(Action::AddWorkResult)?;
    match WorkResultInput::parse(&form.group, &form.text) {
        Ok(input) => {
            state
                .store
                .add_work_result(&ctx.actor()?, id, question, &input)
                .await?;
            Ok(Redirect::to(&format!("/gremien/workshops/{id}#frage-{question}")).into_response())
        }
        Err(errors) => {
            let w = state.store.workshop(id).await?;
            let message = errors
                .0
                .first()
                .map(|e| e.message.clone())
                .unwrap_or_default();
            let page = WorkshopPage {
                documents: workshop_documents(&state, &ctx, id).await?,
                c: Chrome::new(&ctx, "gremien", w.title.clone()),
                may_add: true,
                w,
                error: Some((question, message)),
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
    }
}

/// The work results as Markdown, to pass on or print.
pub async fn export_workshop(State(state): State<AppState>, Id(id): Id) -> AppResult<Response> {
    let w = state.store.workshop(id).await?;
    let mut md = format!("# {}\n\n", w.title);
    if let Some(d) = &w.date {
        md.push_str(&format!("{}\n\n", date_de(d)));
    }
    for (i, q) in w.questions.iter().enumerate() {
        md.push_str(&format!("## {}. {}\n\n", i + 1, q.text));
        if q.results.is_empty() {
            md.push_str("_Noch keine Ergebnisse._\n\n");
        }
        for (group, text, _) in &q.results {
            md.push_str(&format!("**{group}:** {text}\n\n"));
        }
    }
    Ok((
        [
            (CONTENT_TYPE, "text/markdown; charset=utf-8".to_owned()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"workshop-{id}-ergebnisse.md\""),
            ),
        ],
        md,
    )
        .into_response())
}
