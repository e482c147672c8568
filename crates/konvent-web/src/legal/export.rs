//! The export of one's own data (Art. 15 and 20 DSGVO, issue 21): every signed-in
//! person reads everything konvent holds about them on `/konto/daten` (a page, one
//! table per kind) and downloads it as JSON from `/konto/daten.json`. Neither URL names
//! a person: each answers only with the data of whoever is signed in, so nobody can
//! reach another person's export.

use askama::Template;
use axum::extract::State;
use axum::http::HeaderValue;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use konvent_store::DataSection;
use serde_json::{Value, json};

use crate::AppState;
use crate::ctx::Ctx;
use crate::error::{AppError, AppResult};
use crate::layout::{Chrome, datetime_de, render};

async fn sections(state: &AppState, ctx: &Ctx) -> AppResult<Vec<DataSection>> {
    let principal = ctx.signed_in()?;
    state
        .store
        .personal_data(principal.user_id)
        .await?
        .ok_or(AppError::NotFound)
}

/// The JSON download: `{"exported_at", "sections": {name: [rows]}}`.
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn json(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let sections = sections(&state, &ctx).await?;
    let mut by_name = serde_json::Map::new();
    for s in sections {
        by_name.insert(
            s.name.to_owned(),
            Value::Array(s.rows.into_iter().map(Value::Object).collect()),
        );
    }
    let body = json!({
        "format": "konvent-personal-data/1",
        "exported_at": jiff::Timestamp::now().to_string(),
        "times": "microseconds since 1970-01-01 UTC",
        "sections": by_name,
    });
    let text =
        serde_json::to_string_pretty(&body).map_err(|e| AppError::Internal(e.to_string()))?;
    let mut response = text.into_response();
    let h = response.headers_mut();
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    h.insert(
        CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"konvent-meine-daten.json\""),
    );
    Ok(response)
}

/// One section as the page shows it: its heading, its columns and its cells as text.
struct Table {
    name: String,
    columns: Vec<String>,
    rows: Vec<Vec<String>>,
}

#[derive(Template)]
#[template(path = "legal/export.html")]
struct ExportPage {
    c: Chrome,
    tables: Vec<Table>,
}

/// A cell as text: times (columns ending in `_at`) in Europe/Berlin.
fn cell(column: &str, value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::Number(n) if column.ends_with("_at") => {
            n.as_i64().map(datetime_de).unwrap_or_else(|| n.to_string())
        }
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The page: every kind, with what is held or "nothing".
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn page(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let t = ctx.tr();
    let sections = sections(&state, &ctx).await?;
    let tables = sections
        .into_iter()
        .map(|s| {
            let columns: Vec<String> = s
                .rows
                .first()
                .map(|r| r.keys().cloned().collect())
                .unwrap_or_default();
            let rows = s
                .rows
                .iter()
                .map(|r| columns.iter().map(|c| cell(c, &r[c])).collect())
                .collect();
            Table {
                name: t.get(&format!("legal-data-{}", s.name.replace('_', "-"))),
                columns,
                rows,
            }
        })
        .collect();
    let page = ExportPage {
        c: Chrome::new(&ctx, "", t.get("legal-data-title")),
        tables,
    };
    Ok(render(&page)?.into_response())
}
