//! Council sessions with their agendas and reporting status, resolutions and follow-up
//! meetings (G4–G6), as pages; the calendar feeds (G8) are in `feeds`.

pub mod api;
pub mod attendance;
pub mod cooperation;
pub mod edit;
pub mod feeds;
pub mod invitations;
pub mod minutes;
pub mod reports;
pub mod resolutions;
pub mod seats;
pub mod votes;
pub mod votes_live;
pub mod written;

use askama::Template;
use axum::extract::State;
use axum::response::Html;
use konvent_core::authz::Action;
use konvent_core::gremien::Abbreviation;
use konvent_core::gremien::council::{ResolutionState, has_standard_reporting_item};
use konvent_core::ids::ConferenceId;
use konvent_store::{FollowUp, Resolution, Session, Visibility};

use crate::AppState;
use crate::ctx::{Ctx, Id};
use crate::error::AppResult;
use crate::i18n::Tr;
use crate::layout::{Chrome, date_de, render};

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

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
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
            date: weekday_date(&t, &s.date),
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
    pub video_url: Option<String>,
    pub confirmed: bool,
    pub agenda: Vec<FollowUpItem>,
    pub invitees: Vec<Invitees>,
}

/// A resolution on a follow-up's agenda; `confidential` while it is not published, so
/// the office sees that invitees do not see it yet.
pub struct FollowUpItem {
    pub reference: String,
    pub title: String,
    pub conferences: String,
    pub confidential: bool,
}

/// Whom a follow-up invites from one conference: its office address, its spokespersons
/// and contact persons from the directory and, for the office, the accounts that speak
/// or work for it with their addresses.
pub struct Invitees {
    pub conference: String,
    pub abbreviation: String,
    pub people: Vec<String>,
}

/// A resolution the public cannot read yet carries a visible "draft · confidential" or
/// "decided · confidential" mark on the office's pages.
pub fn confidential_mark(t: &Tr, state: ResolutionState) -> Option<String> {
    (!state.is_public()).then(|| t.get(&format!("confidential-mark-{}", state.as_str())))
}
#[derive(Template)]
#[template(path = "session.html")]
struct SessionPage {
    c: Chrome,
    votes: Option<votes::SessionVotes>,
    script: String,
    number: i64,
    date: String,
    time: String,
    place: Option<String>,
    video_url: Option<String>,
    state: String,
    agenda: Vec<konvent_store::AgendaItem>,
    /// The documents of each agenda item, in the agenda's order.
    documents: Vec<crate::documents::DocList>,
    resolutions: Vec<(Resolution, Option<String>)>,
    /// Whether the session still takes new agenda items (not held, cancelled or past).
    open_for_items: bool,
    reporting: Vec<ReportLine>,
    has_reporting: bool,
    follow_up: Option<FollowUpView>,
    may_edit: bool,
    /// Whether the reader may open the minutes (the office and the members).
    may_read_minutes: bool,
}

impl SessionPage {
    /// The documents of the agenda item at `index`.
    fn item_documents(
        &self,
        index: impl std::borrow::Borrow<usize>,
    ) -> Option<&crate::documents::DocList> {
        self.documents.get(*index.borrow())
    }
}

pub fn time_range(start: jiff::civil::Time, end: jiff::civil::Time) -> String {
    format!("{}–{} Uhr", start.strftime("%H:%M"), end.strftime("%H:%M"))
}

/// "Di., 14.04.2026" (German) or "Tue, 14.04.2026" (English).
pub fn weekday_date(t: &Tr, date: &jiff::civil::Date) -> String {
    use jiff::civil::Weekday::*;
    let (de, en) = match date.weekday() {
        Monday => ("Mo.", "Mon"),
        Tuesday => ("Di.", "Tue"),
        Wednesday => ("Mi.", "Wed"),
        Thursday => ("Do.", "Thu"),
        Friday => ("Fr.", "Fri"),
        Saturday => ("Sa.", "Sat"),
        Sunday => ("So.", "Sun"),
    };
    let day = match t.lang {
        crate::i18n::Lang::De => de,
        crate::i18n::Lang::En => en,
    };
    format!("{day}, {}", date_de(date))
}

/// The directory as the follow-up views need it, read once per page; the accounts
/// (with their addresses) only for the office.
pub struct Directory {
    conferences: Vec<konvent_store::ConferenceSummary>,
    assignments: std::collections::HashMap<ConferenceId, Vec<konvent_store::Assignment>>,
    accounts: Vec<konvent_store::Account>,
}

impl Directory {
    pub async fn load(state: &AppState, ctx: &Ctx) -> AppResult<Self> {
        Ok(Self {
            conferences: state.store.conferences().await?,
            assignments: state.store.assignments_by_conference().await?,
            accounts: if ctx.may(Action::EditCouncil) {
                state.store.accounts().await?
            } else {
                Vec::new()
            },
        })
    }

    /// The people a follow-up invites from a conference, each once.
    fn people(&self, t: &Tr, c: &konvent_store::ConferenceSummary) -> Vec<String> {
        use konvent_core::authz::{Role, Scope};
        use konvent_core::gremien::RoleKind;
        let today = konvent_store::today();
        let mut people: Vec<String> = Vec::new();
        let mut add = |p: String| {
            if !people.contains(&p) {
                people.push(p);
            }
        };
        if let Some(office) = &c.office_contact {
            add(format!("{}: {office}", t.get("follow-up-office")));
        }
        for role in [RoleKind::Spokesperson, RoleKind::Contact] {
            for a in self.assignments.get(&c.id).into_iter().flatten() {
                if a.role != role || !a.is_current(today) {
                    continue;
                }
                if let Some(p) = &a.person {
                    add(format!(
                        "{} ({})",
                        p.full_name(),
                        t.get(&format!("follow-up-as-{}", role.as_str()))
                    ));
                }
            }
        }
        for account in &self.accounts {
            let speaks = account.grants.iter().any(|g| {
                matches!(g.role, Role::Spokesperson | Role::FachmkOffice)
                    && matches!(&g.scope, Scope::Conference(a) if a.as_str() == c.abbreviation)
            });
            if speaks {
                add(format!("{} <{}>", account.display_name, account.email));
            }
        }
        people
    }
}

/// The follow-up's agenda (the session's resolutions flagged as relevant) and its
/// invitees (office, spokespersons and contact persons of those conferences).
pub fn follow_up_view(
    t: &Tr,
    directory: &Directory,
    f: &FollowUp,
    resolutions: &[Resolution],
) -> FollowUpView {
    let mut agenda = Vec::new();
    let mut conferences = std::collections::BTreeSet::new();
    for r in resolutions.iter().filter(|r| !r.relevance.is_empty()) {
        let names: Vec<&str> = r.relevance.iter().map(|v| v.conference.as_str()).collect();
        agenda.push(FollowUpItem {
            reference: r.reference(),
            title: r.title.clone(),
            conferences: names.join(", "),
            confidential: !r.state.is_public(),
        });
        conferences.extend(r.relevance.iter().map(|v| v.conference_id));
    }
    let invitees = directory
        .conferences
        .iter()
        .filter(|c| conferences.contains(&c.id))
        .map(|c| Invitees {
            conference: c.name.clone(),
            abbreviation: c.abbreviation.clone(),
            people: directory.people(t, c),
        })
        .collect();
    FollowUpView {
        date: weekday_date(t, &f.date),
        time: time_range(f.start_time, f.end_time),
        video_url: f.video_url.clone(),
        confirmed: f.confirmed,
        agenda,
        invitees,
    }
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), number = number))]
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
    let directory = Directory::load(&state, &ctx).await?;
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
        .map(|f| follow_up_view(&t, &directory, &f, &resolutions));
    let drafts = resolutions
        .iter()
        .filter(|r| r.state == ResolutionState::Draft && r.vote_result.is_none())
        .map(|r| (r.id, format!("{} {}", r.reference(), r.title)))
        .collect();
    let items = agenda.iter().map(|a| (a.id, a.title.clone())).collect();
    let votes = votes::session_votes(&state, &ctx, number, drafts, items).await?;
    let documents = crate::documents::lists(
        &state,
        &ctx,
        konvent_core::documents::OwnerKind::AgendaItem,
        &agenda.iter().map(|a| a.id.get()).collect::<Vec<_>>(),
        ctx.may(Action::EditCouncil),
    )
    .await?;
    render(&SessionPage {
        documents,
        c: Chrome::new(&ctx, "gremien", session_title(&t, number)),
        votes,
        script: crate::assets::url("council.js"),
        number,
        date: weekday_date(&t, &s.date),
        time: time_range(s.start_time, s.end_time),
        open_for_items: konvent_store::is_upcoming(&s),
        place: s.place,
        video_url: s.video_url,
        state: state_label(&t, s.state),
        agenda,
        resolutions: resolutions
            .into_iter()
            .map(|r| {
                let mark = confidential_mark(&t, r.state);
                (r, mark)
            })
            .collect(),
        reporting,
        has_reporting,
        follow_up,
        may_edit: ctx.may(Action::EditCouncil),
        may_read_minutes: ctx.may(Action::EditCouncil) || ctx.may(Action::ReadConfidential),
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
    may_edit: bool,
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn follow_ups(State(state): State<AppState>, ctx: Ctx) -> AppResult<Html<String>> {
    let t = ctx.tr();
    let resolutions = state.store.resolutions(visibility(&ctx)).await?;
    let directory = Directory::load(&state, &ctx).await?;
    let mut rows = Vec::new();
    for f in state.store.follow_ups().await? {
        let of_session: Vec<Resolution> = resolutions
            .iter()
            .filter(|r| r.session_number == Some(f.session_number))
            .cloned()
            .collect();
        rows.push(FollowUpRow {
            number: f.session_number,
            view: follow_up_view(&t, &directory, &f, &of_session),
        });
    }
    render(&FollowUpsPage {
        c: Chrome::new(&ctx, "gremien", t.get("follow-ups-title")),
        rows,
        may_edit: ctx.may(Action::EditCouncil),
    })
}
