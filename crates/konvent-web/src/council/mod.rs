//! Council sessions with their agendas and reporting status, resolutions and follow-up
//! meetings (G4–G6), as pages; the calendar feeds (G8) are in `feeds`.

pub mod api;
mod cooperation;
mod edit;
pub mod feeds;
mod reports;
mod resolutions;

use askama::Template;
use axum::extract::State;
use axum::response::Html;
use konvent_core::authz::Action;
use konvent_core::gremien::Abbreviation;
use konvent_core::gremien::council::has_standard_reporting_item;
use konvent_store::{FollowUp, Resolution, Session, Visibility};

use crate::AppState;
use crate::ctx::{Ctx, Id};
use crate::error::AppResult;
use crate::i18n::Tr;
use crate::layout::{Chrome, date_de, render};

pub use cooperation::{
    add_work_result, concern, concerns, duties, export_workshop, new_concern, set_duty_done,
    submit_concern, triage_concern, workshop, workshops,
};
pub use edit::{
    add_agenda_item, confirm_follow_up, create_session, edit_session, move_agenda_item,
    new_session, remove_agenda_item, remove_agenda_item_form, update_session,
};
pub use reports::{no_exchange, report_form, save_report};
pub use resolutions::{
    create_resolution, edit_resolution, new_resolution, resolution, resolutions, update_resolution,
};

/// What the reader may see of the decision papers.
pub fn visibility(ctx: &Ctx) -> Visibility {
    if ctx.may(Action::ReadConfidential) {
        Visibility::Confidential
    } else {
        Visibility::Public
    }
}

pub fn state_label(t: &Tr, state: konvent_core::gremien::council::SessionState) -> String {
    t.get(&format!("session-state-{}", state.as_str()))
}

/// "46. Sitzung des IT-Planungsrats"
pub fn session_title(t: &Tr, number: i64) -> String {
    t.with("session-title", &[("number", &number.to_string())])
}

/// A session as the list shows it.
struct SessionRow {
    number: i64,
    title: String,
    date: String,
    place: String,
    state: String,
    reporting: Option<String>,
}

#[derive(Template)]
#[template(path = "sessions.html")]
struct SessionsPage {
    c: Chrome,
    rows: Vec<SessionRow>,
    may_edit: bool,
}

/// "9 berichtet, 2 kein Austausch, 2 offen"
async fn reporting_summary(
    state: &AppState,
    ctx: &Ctx,
    session: &Session,
    conferences: usize,
) -> AppResult<String> {
    let t = ctx.tr();
    let reports = reports::visible_reports(state, ctx, session.id).await?;
    let none = reports.iter().filter(|r| r.status == "none").count();
    let filed = reports.len() - none;
    Ok(t.with(
        "reporting-summary",
        &[
            ("filed", &filed.to_string()),
            ("none", &none.to_string()),
            (
                "open",
                &conferences.saturating_sub(reports.len()).to_string(),
            ),
        ],
    ))
}

pub async fn sessions(State(state): State<AppState>, ctx: Ctx) -> AppResult<Html<String>> {
    let t = ctx.tr();
    let conferences = state.store.conferences().await?.len();
    let mut rows = Vec::new();
    for s in state.store.sessions().await? {
        let reporting = if has_standard_reporting_item(s.number) {
            Some(reporting_summary(&state, &ctx, &s, conferences).await?)
        } else {
            None
        };
        rows.push(SessionRow {
            number: s.number,
            title: session_title(&t, s.number),
            date: date_de(&s.date),
            place: s.place.clone().unwrap_or_else(|| "–".into()),
            state: state_label(&t, s.state),
            reporting,
        });
    }
    render(&SessionsPage {
        c: Chrome::new(&ctx, "gremien", t.get("sessions-title")),
        rows,
        may_edit: ctx.may(Action::EditCouncil),
    })
}

/// One conference's line in the reporting table of a session.
pub struct ReportLine {
    pub abbreviation: String,
    pub name: String,
    /// "filed", "none" or "open"
    pub status: &'static str,
    pub answers: Vec<(String, String)>,
    pub author: Option<String>,
    /// A report was filed whose answers the reader may not read (reports are internal).
    pub internal: bool,
    pub may_file: bool,
}

/// The follow-up meeting with what it discusses and whom it invites.
pub struct FollowUpView {
    pub date: String,
    pub time: String,
    pub confirmed: bool,
    pub agenda: Vec<(String, String, String)>,
    pub invitees: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "session.html")]
struct SessionPage {
    c: Chrome,
    number: i64,
    date: String,
    time: String,
    place: Option<String>,
    video_url: Option<String>,
    state: String,
    agenda: Vec<konvent_store::AgendaItem>,
    resolutions: Vec<Resolution>,
    reporting: Vec<ReportLine>,
    has_reporting: bool,
    follow_up: Option<FollowUpView>,
    may_edit: bool,
}

pub fn time_range(start: jiff::civil::Time, end: jiff::civil::Time) -> String {
    format!("{}–{} Uhr", start.strftime("%H:%M"), end.strftime("%H:%M"))
}

/// The follow-up's agenda (the session's resolutions flagged as relevant) and its
/// invitees (offices and contact persons of those conferences).
/// The directory as the follow-up views need it, read once per page.
pub struct Directory {
    conferences: Vec<konvent_store::ConferenceSummary>,
    assignments: std::collections::HashMap<i64, Vec<konvent_store::Assignment>>,
}

impl Directory {
    pub async fn load(state: &AppState) -> AppResult<Self> {
        Ok(Self {
            conferences: state.store.conferences().await?,
            assignments: state.store.assignments_by_conference().await?,
        })
    }
}

pub fn follow_up_view(
    directory: &Directory,
    f: &FollowUp,
    resolutions: &[Resolution],
) -> FollowUpView {
    let mut agenda = Vec::new();
    let mut conferences = std::collections::BTreeSet::new();
    for r in resolutions.iter().filter(|r| !r.relevance.is_empty()) {
        let names: Vec<&str> = r.relevance.iter().map(|v| v.conference.as_str()).collect();
        agenda.push((r.reference(), r.title.clone(), names.join(", ")));
        conferences.extend(r.relevance.iter().map(|v| v.conference_id));
    }
    let today = konvent_store::today();
    let mut invitees = Vec::new();
    for c in &directory.conferences {
        if !conferences.contains(&c.id) {
            continue;
        }
        let mut who: Vec<String> = c.office_contact.iter().cloned().collect();
        who.extend(
            directory
                .assignments
                .get(&c.id)
                .into_iter()
                .flatten()
                .filter(|a| {
                    a.role == konvent_core::gremien::RoleKind::Contact && a.is_current(today)
                })
                .filter_map(|a| a.person.as_ref().map(|p| p.full_name())),
        );
        invitees.push((c.name.clone(), who.join("; ")));
    }
    FollowUpView {
        date: date_de(&f.date),
        time: time_range(f.start_time, f.end_time),
        confirmed: f.confirmed,
        agenda,
        invitees,
    }
}

pub async fn session(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(number): Id,
) -> AppResult<Html<String>> {
    let t = ctx.tr();
    let s = state.store.session(number).await?;
    let agenda = state.store.agenda(s.id).await?;
    let resolutions: Vec<Resolution> = state
        .store
        .resolutions(visibility(&ctx))
        .await?
        .into_iter()
        .filter(|r| r.session_number == Some(number))
        .collect();
    let has_reporting =
        agenda.iter().any(|a| a.is_reporting) || has_standard_reporting_item(number);
    let reports = reports::visible_reports(&state, &ctx, s.id).await?;
    let mut reporting = Vec::new();
    let directory = Directory::load(&state).await?;
    for c in &directory.conferences {
        let report = reports.iter().find(|r| r.conference == c.abbreviation);
        let abbreviation = Abbreviation::parse(&c.abbreviation).ok();
        let answers = report
            .and_then(|r| r.input.as_ref())
            .map(|input| {
                reports::answers(input)
                    .into_iter()
                    .filter_map(|(q, a)| a.map(|a| (q.to_owned(), a.to_owned())))
                    .collect()
            })
            .unwrap_or_default();
        reporting.push(ReportLine {
            status: report.map_or("open", |r| r.status),
            answers,
            author: report.and_then(|r| r.author.clone()),
            internal: report.is_some_and(|r| r.status == "filed" && r.input.is_none()),
            may_file: abbreviation
                .as_ref()
                .is_some_and(|a| ctx.may(Action::SpeakFor(a))),
            abbreviation: c.abbreviation.clone(),
            name: c.name.clone(),
        });
    }
    let follow_up = state
        .store
        .follow_up(s.id)
        .await?
        .map(|f| follow_up_view(&directory, &f, &resolutions));
    render(&SessionPage {
        c: Chrome::new(&ctx, "gremien", session_title(&t, number)),
        number,
        date: date_de(&s.date),
        time: time_range(s.start_time, s.end_time),
        place: s.place,
        video_url: s.video_url,
        state: state_label(&t, s.state),
        agenda,
        resolutions,
        reporting,
        has_reporting,
        follow_up,
        may_edit: ctx.may(Action::EditCouncil),
    })
}

struct FollowUpRow {
    number: i64,
    view: FollowUpView,
}

#[derive(Template)]
#[template(path = "follow_ups.html")]
struct FollowUpsPage {
    c: Chrome,
    rows: Vec<FollowUpRow>,
}

pub async fn follow_ups(State(state): State<AppState>, ctx: Ctx) -> AppResult<Html<String>> {
    let t = ctx.tr();
    let resolutions = state.store.resolutions(visibility(&ctx)).await?;
    let directory = Directory::load(&state).await?;
    let mut rows = Vec::new();
    for f in state.store.follow_ups().await? {
        let of_session: Vec<Resolution> = resolutions
            .iter()
            .filter(|r| r.session_number == Some(f.session_number))
            .cloned()
            .collect();
        rows.push(FollowUpRow {
            number: f.session_number,
            view: follow_up_view(&directory, &f, &of_session),
        });
    }
    render(&FollowUpsPage {
        c: Chrome::new(&ctx, "gremien", t.get("follow-ups-title")),
        rows,
    })
}
