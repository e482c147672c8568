//! The council's votes (G9; the seats and the key are in `seats`): votes in a session,
//! opened and closed by the office, ballots from the seats' holders, and their result
//! with its arithmetic. A vote's region is rendered by ONE template (`vote_fragment.html`) for the session page and for the live update
//! (`votes_live`), published strictly after the store committed.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use konvent_core::authz::Action;
use konvent_core::gremien::majority::{Ballot, DraftKind, Failed, Outcome, Procedure, Seat, Tally};
use konvent_core::ids::{AgendaItemId, ResolutionId, VoteId};
use konvent_store::Vote;
use serde::Deserialize;

use crate::AppState;
use crate::ctx::{CsrfForm, Ctx};
use crate::error::{AppError, AppResult};
use crate::i18n::{Lang, Tr};

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
        .map(ResolutionId::new)
        .map_err(|_| AppError::BadRequest("Bitte einen Beschlussentwurf wählen.".into()))?;
    let item =
        match form.agenda_item.trim() {
            "" => None,
            v => Some(v.parse::<i64>().map(AgendaItemId::new).map_err(|_| {
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

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), id = %id))]
pub async fn cast_ballot(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<VoteId>,
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

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), id = %id))]
pub async fn close_vote(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<VoteId>,
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
    pub drafts: Vec<(ResolutionId, String)>,
    pub items: Vec<(AgendaItemId, String)>,
}

pub async fn session_votes(
    state: &AppState,
    ctx: &Ctx,
    number: i64,
    drafts: Vec<(ResolutionId, String)>,
    items: Vec<(AgendaItemId, String)>,
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
