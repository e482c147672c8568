//! The JSON API of the directory, read-only and public (the directory is public
//! information). Errors use the common `{"error":{"code","message"}}` shape.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use konvent_core::ids::PersonId;
use serde::Serialize;

use crate::AppState;
use crate::ctx::Id;
use crate::error::AppResult;
use konvent_store::{Assignment, ConferenceSummary, Person};

#[derive(Serialize)]
struct ConferenceJson {
    #[serde(flatten)]
    conference: ConferenceSummary,
    assignments: Vec<Assignment>,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn conferences(State(state): State<AppState>) -> AppResult<Json<serde_json::Value>> {
    let mut by_conference = state.store.assignments_by_conference().await?;
    let data: Vec<ConferenceJson> = state
        .store
        .conferences()
        .await?
        .into_iter()
        .map(|c| ConferenceJson {
            assignments: by_conference.remove(&c.id).unwrap_or_default(),
            conference: c,
        })
        .collect();
    Ok(Json(serde_json::json!({ "data": data })))
}

#[tracing::instrument(level = "debug", skip_all, fields(conference = %abbr))]
pub async fn conference(
    State(state): State<AppState>,
    Path(abbr): Path<String>,
) -> AppResult<Json<serde_json::Value>> {
    let detail = state.store.conference(&abbr).await?;
    Ok(Json(serde_json::json!(ConferenceJson {
        conference: detail.conference,
        assignments: detail.assignments,
    })))
}

#[derive(Serialize)]
struct PersonJson {
    #[serde(flatten)]
    person: Person,
    assignments: Vec<Assignment>,
}

#[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
pub async fn person(
    State(state): State<AppState>,
    Id(id): Id<PersonId>,
) -> AppResult<Json<serde_json::Value>> {
    let detail = state.store.person(id).await?;
    Ok(Json(serde_json::json!(PersonJson {
        person: detail.person,
        assignments: detail.assignments,
    })))
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn openapi() -> Response {
    (
        [(CONTENT_TYPE, "application/json")],
        include_str!("../../openapi.json"),
    )
        .into_response()
}
