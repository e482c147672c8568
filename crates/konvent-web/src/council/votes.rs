//! The council's votes (G9): the seats and the Königsteiner Schlüssel (an admin page),
//! votes in a session — opened and closed by the office, ballots from the seats'
//! holders — and their result with its arithmetic. A vote's region is rendered by ONE
//! template (`vote_fragment.html`) for the session page and for the live update
//! (`votes_live`), published strictly after the store committed.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use konvent_core::authz::Action;
use konvent_core::gremien::majority::{
    Ballot, DraftKind, Failed, KeyTable, Outcome, Procedure, Seat, Tally, format_share, parse_share,
};
use konvent_store::{SeatHolder, Vote};
use serde::Deserialize;

use crate::AppState;
use crate::ctx::{CsrfForm, Ctx};
use crate::error::{AppError, AppResult};
use crate::i18n::{Lang, Tr};
use crate::layout::{Chrome, render};

pub fn kind_label(t: &Tr, kind: DraftKind) -> String {
    t.get(&format!("vote-kind-{}", kind.as_str()))
}

fn ballot_label(t: &Tr, ballot: Ballot) -> String {
    t.get(&format!("vote-ballot-{}", ballot.as_str()))
}

/// The result with its arithmetic in one line, e.g. "Bund: ja; 13 Länder ja (84,2 % der
/// Finanzierungsanteile) — angenommen".
pub fn result_line(t: &Tr, tally: &Tally) -> String {
    let outcome = t.get(match tally.outcome {
        Outcome::Adopted => "vote-adopted",
        Outcome::Rejected => "vote-rejected",
    });
    let count = |n: u8| n.to_string();
    match tally.kind {
        DraftKind::Binding => {
            let bund = match tally.bund {
                Some(b) => ballot_label(t, b),
                None => t.get("vote-absent"),
            };
            let share = match t.lang {
                Lang::De => tally.share_percent_de(),
                Lang::En => tally.share_percent_en(),
            };
            t.with(
                "vote-line-binding",
                &[
                    ("bund", &bund),
                    ("laender", &count(tally.laender_yes)),
                    ("share", &share),
                    ("outcome", &outcome),
                ],
            )
        }
        kind => {
            let line = t.with(
                "vote-line-simple",
                &[
                    ("yes", &count(tally.yes)),
                    ("no", &count(tally.no)),
                    ("abstain", &count(tally.abstain)),
                    ("absent", &count(tally.absent)),
                    ("outcome", &outcome),
                ],
            );
            if kind == DraftKind::Territorial && tally.outcome == Outcome::Adopted {
                let places: Vec<&str> = tally.consenting.iter().map(|s| s.name()).collect();
                format!(
                    "{line}; {}",
                    t.with("vote-applies-in", &[("places", &places.join(", "))])
                )
            } else {
                line
            }
        }
    }
}

/// How konvent counted ("so gerechnet"), naming the rule that failed, if one did.
pub fn reading(t: &Tr, tally: &Tally) -> String {
    let rule = t.with(
        &format!("vote-reading-{}", tally.kind.as_str()),
        &[("year", &tally.key_year.to_string())],
    );
    let procedure = t.get(match tally.procedure {
        Procedure::Session => "vote-reading-session",
        Procedure::Written => "vote-reading-written",
    });
    let failed = tally.failed.map(|f| {
        t.get(match f {
            Failed::Bund => "vote-failed-bund",
            Failed::LaenderCount => "vote-failed-laender-count",
            Failed::LaenderShares => "vote-failed-laender-shares",
            Failed::SimpleMajority => "vote-failed-simple",
            Failed::NoConsent => "vote-failed-consent",
        })
    });
    match failed {
        Some(f) => format!("{rule} {procedure} {f}"),
        None => format!("{rule} {procedure}"),
    }
}

/// What a vote fragment is rendered for: a page (its viewer's token and rights) or a
/// live frame (the same for everybody; `council.js` fills in token, address and gates).
pub struct VoteFx {
    pub t: Tr,
    pub csrf: String,
    pub back: String,
    /// Whether the viewer holds a seat and is the office; `None` in a live frame.
    pub viewer: Option<(bool, bool)>,
    /// The upcoming sessions (number, label) a stopped written procedure may go to.
    pub sessions: Vec<(i64, String)>,
}

/// The sessions still to come, as choices for stopping a written procedure.
pub async fn upcoming_sessions(state: &AppState, t: &Tr) -> AppResult<Vec<(i64, String)>> {
    Ok(state
        .store
        .sessions()
        .await?
        .iter()
        .filter(|s| konvent_store::is_upcoming(s))
        .map(|s| {
            (
                s.number,
                format!(
                    "{} – {}",
                    super::session_title(t, s.number),
                    super::weekday_date(t, &s.date)
                ),
            )
        })
        .collect())
}

impl VoteFx {
    /// ` data-gate="RULE"`, and ` hidden` unless the viewer passes it (always in a frame).
    pub fn gate(&self, rule: &str) -> String {
        let shown = match (self.viewer, rule) {
            (Some((seat, _)), "seat") => seat,
            (Some((_, office)), "office") => office,
            _ => false,
        };
        format!(
            " data-gate=\"{rule}\"{}",
            if shown { "" } else { " hidden" }
        )
    }
}

/// A request to stop a written procedure, as shown.
pub struct StopLine {
    pub seat: String,
    pub name: String,
    pub reason: String,
    pub state: String,
}

pub struct SeatLine {
    pub seat: String,
    pub ballot: String,
    pub by: String,
    /// Whether the seat is present, represented, apologised or absent (when the
    /// session's attendance is recorded).
    pub presence: String,
}

#[derive(Template)]
#[template(path = "vote_fragment.html")]
pub struct VoteFragment<'a> {
    pub fx: &'a VoteFx,
    pub v: &'a Vote,
    pub kind: String,
    pub line: String,
    pub reading: String,
    pub seats: Vec<SeatLine>,
    pub when: String,
    pub stops: Vec<StopLine>,
    pub pending: usize,
    pub stopped: String,
}

/// The vote's region, for a page or a live frame.
pub fn vote_html(fx: &VoteFx, v: &Vote) -> String {
    let t = &fx.t;
    let seats = Seat::ALL
        .into_iter()
        .map(|seat| {
            let cast = v.ballot_of(seat);
            let ballot = match (cast, v.is_open(), v.procedure) {
                (Some(b), ..) => ballot_label(t, b.ballot),
                (None, true, _) => t.get("vote-not-yet"),
                (None, false, Procedure::Session) => t.get("vote-absent"),
                (None, false, Procedure::Written) => t.get("vote-silent-abstain"),
            };
            let by = cast
                .map(|b| {
                    if b.by_deputy {
                        t.with("vote-by-deputy", &[("name", &b.name)])
                    } else {
                        b.name.clone()
                    }
                })
                .unwrap_or_default();
            let presence = if v.attendance_recorded() {
                super::attendance::seat_state(t, &v.attendance, seat)
            } else {
                String::new()
            };
            SeatLine {
                seat: seat.name().to_owned(),
                ballot,
                by,
                presence,
            }
        })
        .collect();
    let when = match v.closed_at {
        Some(at) => {
            let date = crate::layout::date_de(
                &konvent_store::timestamp(at)
                    .to_zoned(
                        jiff::tz::TimeZone::get("Europe/Berlin").unwrap_or(jiff::tz::TimeZone::UTC),
                    )
                    .date(),
            );
            match v.procedure {
                Procedure::Written => t.with("vote-decided-written", &[("date", &date)]),
                Procedure::Session => t.with("vote-decided-session", &[("date", &date)]),
            }
        }
        None => String::new(),
    };
    let stops = v
        .stop_requests
        .iter()
        .map(|r| StopLine {
            seat: r.seat.name().to_owned(),
            name: r.name.clone(),
            reason: r.reason.clone(),
            state: t.get(match r.decision.as_deref() {
                Some("stopped") => "stop-request-stopped",
                Some(_) => "stop-request-continued",
                None => "stop-request-pending",
            }),
        })
        .collect();
    let stopped = match (v.stopped_at, v.stopped_for_session) {
        (Some(_), Some(n)) => t.with(
            "written-stopped-for",
            &[("session", &super::session_title(t, n))],
        ),
        (Some(_), None) => t.get("written-stopped"),
        _ => String::new(),
    };
    crate::live::fragments::html(&VoteFragment {
        fx,
        v,
        kind: kind_label(t, v.kind),
        line: result_line(t, &v.tally),
        reading: reading(t, &v.tally),
        seats,
        when,
        stops,
        pending: v.pending_stop_requests(),
        stopped,
    })
}

/// The page-side [`VoteFx`] of `ctx` at `back`.
pub async fn page_fx(state: &AppState, ctx: &Ctx, back: String) -> AppResult<VoteFx> {
    let seat = match &ctx.principal {
        Some(p) => state.store.seat_of(p.user_id).await?.is_some(),
        None => false,
    };
    let t = ctx.tr();
    let sessions = upcoming_sessions(state, &t).await?;
    Ok(VoteFx {
        t,
        csrf: ctx.csrf.clone(),
        back,
        viewer: Some((seat, ctx.may(Action::EditCouncil))),
        sessions,
    })
}

// ---- seats and the key: the admin page ----

pub struct KeyRow {
    pub year: i32,
    pub shares: Vec<(String, String)>,
    pub total: String,
}

#[derive(Template)]
#[template(path = "votes_setup.html")]
struct SetupPage {
    c: Chrome,
    may_edit: bool,
    seats: Vec<(String, String, Vec<SeatHolder>)>,
    keys: Vec<KeyRow>,
    laender: Vec<(String, String, String)>,
    key_year: String,
    problem: Option<String>,
}

async fn setup_page(
    state: &AppState,
    ctx: &Ctx,
    form: Option<&KeyForm>,
    problem: Option<String>,
) -> AppResult<Response> {
    ctx.require(Action::ReadConfidential)?;
    let holders = state.store.seat_holders().await?;
    let seats = Seat::ALL
        .into_iter()
        .map(|seat| {
            (
                seat.code().to_owned(),
                seat.name().to_owned(),
                holders.iter().filter(|h| h.seat == seat).cloned().collect(),
            )
        })
        .collect();
    let tables = state.store.key_tables().await?;
    let keys = tables
        .iter()
        .map(|k| KeyRow {
            year: k.year,
            shares: Seat::laender()
                .map(|l| (l.name().to_owned(), format_share(k.share(l))))
                .collect(),
            total: format_share(k.total()),
        })
        .collect();
    let laender = Seat::laender()
        .map(|l| {
            let value = form
                .and_then(|f| f.shares.get(l.code()).cloned())
                .or_else(|| tables.first().map(|k| format_share(k.share(l))))
                .unwrap_or_default();
            (l.code().to_owned(), l.name().to_owned(), value)
        })
        .collect();
    let t = ctx.tr();
    let page = SetupPage {
        c: Chrome::new(ctx, "gremien", t.get("votes-setup-title")),
        may_edit: ctx.may(Action::EditCouncil),
        seats,
        keys,
        laender,
        key_year: form.map(|f| f.year.clone()).unwrap_or_default(),
        problem,
    };
    let status = if page.problem.is_some() {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    };
    Ok((status, render(&page)?).into_response())
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn setup(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    setup_page(&state, &ctx, None, None).await
}

#[derive(Deserialize, Default)]
pub struct KeyForm {
    #[serde(default)]
    year: String,
    #[serde(flatten)]
    shares: std::collections::HashMap<String, String>,
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn save_key(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<KeyForm>,
) -> AppResult<Response> {
    ctx.require(Action::EditCouncil)?;
    let t = ctx.tr();
    let mut shares = [0u32; 16];
    let mut problem = None;
    for (i, land) in Seat::laender().enumerate() {
        match form.shares.get(land.code()).and_then(|v| parse_share(v)) {
            Some(v) => shares[i] = v,
            None => {
                problem = Some(t.with("votes-key-bad-share", &[("land", land.name())]));
                break;
            }
        }
    }
    let year = form.year.trim().parse::<i32>().ok();
    let table = match (problem, year) {
        (Some(p), _) => Err(p),
        (None, None) => Err(t.get("votes-key-bad-year")),
        (None, Some(year)) => KeyTable::new(year, shares).map_err(|_| {
            t.with(
                "votes-key-bad-sum",
                &[("sum", &format_share(shares.iter().sum()))],
            )
        }),
    };
    match table {
        Ok(table) => {
            state.store.save_key_table(&ctx.actor()?, &table).await?;
            Ok(Redirect::to("/gremien/stimmen#schluessel").into_response())
        }
        Err(problem) => setup_page(&state, &ctx, Some(&form), Some(problem)).await,
    }
}

#[derive(Deserialize)]
pub struct SeatForm {
    #[serde(default)]
    seat: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn assign_seat(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<SeatForm>,
) -> AppResult<Response> {
    ctx.require(Action::EditCouncil)?;
    let seat: Seat = form
        .seat
        .parse()
        .map_err(|m: &str| AppError::BadRequest(m.to_owned()))?;
    match state
        .store
        .assign_seat(&ctx.actor()?, seat, &form.email, form.role == "deputy")
        .await
    {
        Ok(()) => Ok(Redirect::to("/gremien/stimmen#sitze").into_response()),
        Err(konvent_store::StoreError::Invalid(_)) => {
            let problem = ctx.tr().get("votes-seat-unknown-account");
            setup_page(&state, &ctx, None, Some(problem)).await
        }
        Err(e) => Err(e.into()),
    }
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), member = account))]
pub async fn unassign_seat(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(account): Path<i64>,
    CsrfForm(_): CsrfForm<BallotForm>,
) -> AppResult<Response> {
    ctx.require(Action::EditCouncil)?;
    state.store.unassign_seat(&ctx.actor()?, account).await?;
    Ok(Redirect::to("/gremien/stimmen#sitze").into_response())
}

// ---- a vote in a session ----

#[derive(Deserialize)]
pub struct OpenForm {
    #[serde(default)]
    resolution: String,
    #[serde(default)]
    agenda_item: String,
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), number = number))]
pub async fn open_vote(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(number): Path<i64>,
    CsrfForm(form): CsrfForm<OpenForm>,
) -> AppResult<Response> {
    ctx.require(Action::EditCouncil)?;
    let resolution = form
        .resolution
        .trim()
        .parse::<i64>()
        .map_err(|_| AppError::BadRequest("Bitte einen Beschlussentwurf wählen.".into()))?;
    let item =
        match form.agenda_item.trim() {
            "" => None,
            v => Some(v.parse::<i64>().map_err(|_| {
                AppError::BadRequest("Bitte einen Tagesordnungspunkt wählen.".into())
            })?),
        };
    let id = state
        .store
        .open_vote(&ctx.actor()?, number, resolution, item)
        .await?;
    super::votes_live::publish(&state, id).await;
    Ok(Redirect::to(&format!("/gremien/sitzungen/{number}#vote-{id}")).into_response())
}

#[derive(Deserialize)]
pub struct BallotForm {
    #[serde(default)]
    ballot: String,
    #[serde(default)]
    zurueck: String,
}

/// Where a form returns to: a council page, never elsewhere.
pub(super) fn back_to(zurueck: &str, vote: &Vote) -> String {
    if zurueck.starts_with("/gremien/") && !zurueck.starts_with("//") {
        format!("{zurueck}#vote-{}", vote.id)
    } else {
        match vote.session_number {
            Some(n) => format!("/gremien/sitzungen/{n}#vote-{}", vote.id),
            None => format!("/gremien/umlaufverfahren#vote-{}", vote.id),
        }
    }
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), id = id))]
pub async fn cast_ballot(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<BallotForm>,
) -> AppResult<Response> {
    let principal = ctx.require(Action::ReadConfidential)?;
    let ballot: Ballot = form
        .ballot
        .parse()
        .map_err(|m: &str| AppError::BadRequest(m.to_owned()))?;
    if state.store.seat_of(principal.user_id).await?.is_none() {
        return Err(AppError::Forbidden);
    }
    state
        .store
        .cast_ballot(principal.user_id, id, ballot)
        .await?;
    let vote = state.store.vote(id).await?;
    super::votes_live::publish(&state, id).await;
    Ok(Redirect::to(&back_to(&form.zurueck, &vote)).into_response())
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), id = id))]
pub async fn close_vote(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<BallotForm>,
) -> AppResult<Response> {
    ctx.require(Action::EditCouncil)?;
    state.store.close_vote(&ctx.actor()?, id).await?;
    let vote = state.store.vote(id).await?;
    super::votes_live::publish(&state, id).await;
    Ok(Redirect::to(&back_to(&form.zurueck, &vote)).into_response())
}

/// The votes section of a session page: the fragments, and what the office may open.
pub struct SessionVotes {
    pub attendance: super::attendance::View,
    pub seat: bool,
    pub office: bool,
    pub votes: Vec<String>,
    pub drafts: Vec<(i64, String)>,
    pub items: Vec<(i64, String)>,
}

pub async fn session_votes(
    state: &AppState,
    ctx: &Ctx,
    number: i64,
    drafts: Vec<(i64, String)>,
    items: Vec<(i64, String)>,
) -> AppResult<Option<SessionVotes>> {
    if !ctx.may(Action::ReadConfidential) {
        return Ok(None);
    }
    let fx = page_fx(state, ctx, format!("/gremien/sitzungen/{number}")).await?;
    let votes = state
        .store
        .session_votes(number)
        .await?
        .iter()
        .map(|v| vote_html(&fx, v))
        .collect();
    let (seat, office) = fx.viewer.unwrap_or_default();
    let attendance = super::attendance::view(state, &fx.t, number).await?;
    Ok(Some(SessionVotes {
        attendance,
        seat,
        office,
        votes,
        drafts,
        items,
    }))
}
