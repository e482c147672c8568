//! The seats and the Königsteiner Schlüssel of the council's votes (G9): the admin page
//! where the office enters each year's key and names who holds each member's seat.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use konvent_core::authz::Action;
use konvent_core::gremien::majority::{KeyTable, Seat, format_share, parse_share};
use konvent_core::ids::AccountId;
use konvent_store::SeatHolder;
use serde::Deserialize;

use super::votes::BallotForm;
use crate::AppState;
use crate::ctx::{CsrfForm, Ctx};
use crate::error::{AppError, AppResult};
use crate::layout::{Chrome, render};

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

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), member = %account))]
pub async fn unassign_seat(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(account): Path<AccountId>,
    CsrfForm(_): CsrfForm<BallotForm>,
) -> AppResult<Response> {
    ctx.require(Action::EditCouncil)?;
    state.store.unassign_seat(&ctx.actor()?, account).await?;
    Ok(Redirect::to("/gremien/stimmen#sitze").into_response())
}
