//! Import of the directory from CSV or XLSX (admins, upload form) and its export (public).
//! A bad file is refused whole with a row-by-row report; nothing is half-imported.

use askama::Template;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use konvent_core::authz::Action;
use konvent_core::gremien::transfer::{self, FileKind, MAX_FILE_BYTES, RowProblem};
use konvent_store::{ImportSummary, StoreError};

use crate::AppState;
use crate::ctx::{Ctx, check_csrf, check_origin};
use crate::error::{AppError, AppResult};
use crate::layout::{Chrome, render};

#[derive(Template)]
#[template(path = "import.html")]
struct ImportPage {
    c: Chrome,
    /// A file-level message (no file, wrong kind).
    error: Option<String>,
    problems: Vec<RowProblem>,
    summary: Option<ImportSummary>,
}

fn page(ctx: &Ctx) -> ImportPage {
    ImportPage {
        c: Chrome::new(ctx, "gremien", ctx.tr().get("import-title")),
        error: None,
        problems: vec![],
        summary: None,
    }
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn form(ctx: Ctx) -> AppResult<Response> {
    ctx.require(Action::EditDirectory)?;
    Ok(render(&page(&ctx))?.into_response())
}

/// Reads the upload: the CSRF field and one file, within the size limit.
async fn read_upload(ctx: &Ctx, mut multipart: Multipart) -> AppResult<Option<(String, Vec<u8>)>> {
    let mut csrf = String::new();
    let mut file = None;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| AppError::BadRequest(format!("Upload unlesbar: {e}")))?
    {
        match field.name() {
            Some("csrf") => csrf = field.text().await.map_err(|_| AppError::Csrf)?,
            Some("file") => {
                let name = field.file_name().unwrap_or("").to_owned();
                let bytes = field.bytes().await.map_err(|_| AppError::PayloadTooLarge)?;
                if !bytes.is_empty() {
                    file = Some((name, bytes.to_vec()));
                }
            }
            _ => {}
        }
    }
    check_csrf(ctx, &csrf)?;
    Ok(file)
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn upload(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: axum::http::HeaderMap,
    multipart: Multipart,
) -> AppResult<Response> {
    check_origin(&headers)?;
    ctx.require(Action::EditDirectory)?;
    let t = ctx.tr();
    let mut result = page(&ctx);
    let Some((name, bytes)) = read_upload(&ctx, multipart).await? else {
        result.error = Some(t.get("import-no-file"));
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&result)?).into_response());
    };
    if bytes.len() > MAX_FILE_BYTES {
        return Err(AppError::PayloadTooLarge);
    }
    let Some(kind) = FileKind::detect(&name, &bytes) else {
        result.error = Some(t.get("import-unknown-kind"));
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&result)?).into_response());
    };
    let outcome = match transfer::parse(kind, &bytes) {
        Ok(rows) => {
            state
                .store
                .import_directory(&ctx.actor()?, &rows, |_| {})
                .await
        }
        Err(report) => Err(StoreError::Import(report)),
    };
    match outcome {
        Ok(summary) => {
            result.summary = Some(summary);
            Ok(render(&result)?.into_response())
        }
        Err(StoreError::Import(report)) => {
            result.problems = report.problems;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&result)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

fn file_name(extension: &str) -> String {
    format!(
        "attachment; filename=\"konvent-verzeichnis-{}.{extension}\"",
        konvent_store::today()
    )
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn export_csv(State(state): State<AppState>) -> AppResult<Response> {
    let rows = state.store.directory_rows().await?;
    Ok((
        [
            (CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (CONTENT_DISPOSITION, file_name("csv")),
        ],
        transfer::write_csv(&rows),
    )
        .into_response())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn export_xlsx(State(state): State<AppState>) -> AppResult<Response> {
    let rows = state.store.directory_rows().await?;
    let bytes = transfer::write_xlsx(&rows).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok((
        [
            (
                CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_owned(),
            ),
            (CONTENT_DISPOSITION, file_name("xlsx")),
        ],
        bytes,
    )
        .into_response())
}
