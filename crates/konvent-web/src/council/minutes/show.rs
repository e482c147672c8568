//! Reading the minutes: the newest version the reader may read, an earlier one, and the
//! list of versions.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use konvent_store::MinutesState;

use super::view::{View, view};
use super::{may_edit, readable, require_reader, session_date, state_label};
use crate::AppState;
use crate::council::session_title;
use crate::ctx::Ctx;
use crate::error::{AppError, AppResult};
use crate::layout::{Chrome, render};

/// A version in the list of versions.
pub struct VersionRow {
    pub version: i64,
    pub state: String,
    pub stamp: String,
}

#[derive(Template)]
#[template(path = "minutes.html")]
struct MinutesPage {
    c: Chrome,
    number: i64,
    view: Option<View>,
    versions: Vec<VersionRow>,
    may_edit: bool,
    /// The newest version's state (the office's next step).
    latest: Option<MinutesState>,
}

async fn page(
    state: &AppState,
    ctx: &Ctx,
    number: i64,
    version: Option<i64>,
) -> AppResult<Response> {
    let t = ctx.tr();
    let date = session_date(state, &t, number).await?;
    require_reader(ctx)?;
    let all = state.store.minutes(number).await?;
    let latest = all.last().map(|m| m.state);
    let list = readable(ctx, all);
    let shown = match version {
        Some(v) => Some(
            list.iter()
                .find(|m| m.version == v)
                .ok_or(AppError::NotFound)?,
        ),
        None => list.last(),
    };
    let versions = list
        .iter()
        .rev()
        .map(|m| VersionRow {
            version: m.version,
            state: state_label(&t, m.state),
            stamp: view(&t, String::new(), m).stamp,
        })
        .collect();
    let view = shown.map(|m| view(&t, date, m));
    Ok(render(&MinutesPage {
        c: Chrome::new(
            ctx,
            "gremien",
            t.with("minutes-title", &[("session", &session_title(&t, number))]),
        ),
        number,
        view,
        versions,
        may_edit: may_edit(ctx),
        latest: if may_edit(ctx) { latest } else { None },
    })?
    .into_response())
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), number = number))]
pub async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(number): Path<i64>,
) -> AppResult<Response> {
    page(&state, &ctx, number, None).await
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), number = number, version = version))]
pub async fn show_version(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((number, version)): Path<(i64, i64)>,
) -> AppResult<Response> {
    page(&state, &ctx, number, Some(version)).await
}
