//! The JSON API of the council: sessions with their agendas and reports, resolutions.
//! Resolutions and reports honour the same visibility as the pages: the public sees
//! published resolutions, and of the reports only whether a conference reported.

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value, json};

use super::visibility;
use crate::AppState;
use crate::ctx::{Ctx, Id};
use crate::error::{AppError, AppResult};

#[tracing::instrument(level = "debug", skip_all)]
pub async fn sessions(State(state): State<AppState>) -> AppResult<Json<Value>> {
    Ok(Json(json!({ "data": state.store.sessions().await? })))
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), number = number))]
pub async fn session(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(number): Id,
) -> AppResult<Json<Value>> {
    let s = state.store.session(number).await?;
    let agenda = state.store.agenda(s.id).await?;
    let reports = super::reports::visible_reports(&state, &ctx, s.id).await?;
    let follow_up = state.store.follow_up(s.id).await?;
    let resolutions: Vec<_> = state
        .store
        .resolutions(visibility(&ctx))
        .await?
        .into_iter()
        .filter(|r| r.session_number == Some(number))
        .collect();
    let minutes = super::minutes::api_summary(&state, &ctx, number).await?;
    Ok(Json(json!({
        "session": s,
        "agenda": agenda,
        "reports": reports,
        "resolutions": resolutions,
        "follow_up": follow_up,
        "minutes": minutes,
    })))
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn resolutions(State(state): State<AppState>, ctx: Ctx) -> AppResult<Json<Value>> {
    Ok(Json(
        json!({ "data": state.store.resolutions(visibility(&ctx)).await? }),
    ))
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), year = %year, number = %number))]
pub async fn resolution(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((year, number)): Path<(String, String)>,
) -> AppResult<Json<Value>> {
    let (year, number) = year
        .parse::<i64>()
        .ok()
        .zip(number.parse::<i64>().ok())
        .ok_or(AppError::NotFound)?;
    Ok(Json(json!(
        state
            .store
            .resolution(year, number, visibility(&ctx))
            .await?
    )))
}
