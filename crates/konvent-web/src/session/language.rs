//! Choosing the language: a cookie, and back to the page the switch was on.

use axum::extract::{Path, Query, State};
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::local_path;
use crate::AppState;
use crate::ctx::{LANG_COOKIE, set_cookie};
use crate::error::{AppError, AppResult};
use crate::i18n::Lang;

#[derive(Deserialize, Default)]
pub struct LangQuery {
    zurueck: Option<String>,
}

/// Sets the language cookie and goes back to the page the switch was on.
#[tracing::instrument(level = "debug", skip_all, fields(lang = %lang))]
pub async fn switch_language(
    State(state): State<AppState>,
    Path(lang): Path<String>,
    Query(q): Query<LangQuery>,
) -> AppResult<Response> {
    let lang = Lang::parse(&lang).ok_or(AppError::NotFound)?;
    let back = local_path(q.zurueck.as_deref());
    Ok((
        StatusCode::SEE_OTHER,
        [
            (
                LOCATION,
                HeaderValue::from_str(&back).unwrap_or(HeaderValue::from_static("/")),
            ),
            (
                SET_COOKIE,
                set_cookie(
                    LANG_COOKIE,
                    lang.code(),
                    Some(60 * 60 * 24 * 365),
                    state.settings.secure_cookies,
                ),
            ),
        ],
    )
        .into_response())
}
