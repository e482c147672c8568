//! The organizers' list of an event's registrations: approval, the registration
//! settings and the CSV export. Personal data: organizers and admins only.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{Html, IntoResponse, Redirect, Response};
use konvent_core::export::CsvWriter;
use konvent_store::{
    Registration, RegistrationMode, RegistrationSettings, RegistrationStatus, StoreError,
};
use serde::Deserialize;

use super::{CAPACITY_MAX, composer};
use crate::AppState;
use crate::ctx::{CsrfForm, Ctx};
use crate::error::AppResult;
use crate::events::{Empty, event_info, require_actor, require_organizer};
use crate::forms::choices;
use crate::i18n::Tr;
use crate::layout::{Chrome, datetime_de, render};

struct Line {
    reg: Registration,
    status: String,
    decidable: bool,
    approvable: bool,
}

#[derive(Template)]
#[template(path = "konvent/registrations.html")]
struct ListPage {
    c: Chrome,
    slug: String,
    lines: Vec<Line>,
    mode_choices: Vec<crate::forms::Choice>,
    capacity: String,
    public_link: String,
    counts: String,
    error: Option<String>,
}

async fn list_page(
    state: &AppState,
    ctx: &Ctx,
    slug: &str,
    capacity_entered: Option<String>,
    error: Option<String>,
) -> AppResult<ListPage> {
    let info = event_info(state, slug).await?;
    let actor = require_actor(state, ctx, &info).await?;
    require_organizer(&actor)?;
    let t = ctx.tr();
    let settings = state.store.registration_settings(info.event.id).await?;
    let regs = state.store.registrations(info.event.id).await?;
    let count = |s: RegistrationStatus| regs.iter().filter(|r| r.status == s).count();
    let counts = t.with(
        "registrations-counts",
        &[
            (
                "registered",
                count(RegistrationStatus::Registered).to_string().as_str(),
            ),
            (
                "waiting",
                count(RegistrationStatus::Waiting).to_string().as_str(),
            ),
            (
                "capacity",
                settings
                    .capacity
                    .map(|c| c.to_string())
                    .unwrap_or_else(|| "–".to_owned())
                    .as_str(),
            ),
        ],
    );
    let lines = regs
        .into_iter()
        .map(|reg| Line {
            status: status_label(&t, reg.status),
            decidable: !matches!(
                reg.status,
                RegistrationStatus::Cancelled | RegistrationStatus::Declined
            ),
            approvable: reg.status == RegistrationStatus::AwaitingApproval,
            reg,
        })
        .collect();
    Ok(ListPage {
        c: Chrome::new(
            ctx,
            "konvent",
            t.with(
                "registrations-title",
                &[("event", info.event.title.as_str())],
            ),
        ),
        slug: slug.to_owned(),
        lines,
        mode_choices: choices(
            [
                RegistrationMode::Invitation,
                RegistrationMode::Open,
                RegistrationMode::Approval,
            ]
            .map(|m| {
                (
                    m.as_str().to_owned(),
                    t.get(&format!("registration-mode-{}", m.as_str())),
                )
            }),
            settings.mode.as_str(),
        ),
        capacity: capacity_entered
            .unwrap_or_else(|| settings.capacity.map(|c| c.to_string()).unwrap_or_default()),
        public_link: format!("{}/konvent/{slug}/anmeldung", state.settings.public_base()),
        counts,
        error,
    })
}

fn status_label(t: &Tr, status: RegistrationStatus) -> String {
    t.get(&format!(
        "registration-status-{}",
        status.as_str().replace('_', "-")
    ))
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), slug = %slug))]
pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
) -> AppResult<Html<String>> {
    render(&list_page(&state, &ctx, &slug, None, None).await?)
}

#[derive(Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    mode: String,
    #[serde(default)]
    capacity: String,
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), slug = %slug))]
pub async fn save_settings(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
    CsrfForm(form): CsrfForm<SettingsForm>,
) -> AppResult<Response> {
    let info = event_info(&state, &slug).await?;
    let actor = require_actor(&state, &ctx, &info).await?;
    require_organizer(&actor)?;
    let t = ctx.tr();
    let mode = RegistrationMode::parse(&form.mode);
    let capacity = match form.capacity.trim() {
        "" => Ok(None),
        text => match text.parse::<i64>() {
            Ok(n) if (1..=CAPACITY_MAX).contains(&n) => Ok(Some(n)),
            _ => Err(t.with(
                "registration-capacity-invalid",
                &[("max", CAPACITY_MAX.to_string().as_str())],
            )),
        },
    };
    let (Some(mode), Ok(capacity)) = (mode, capacity.clone()) else {
        let error = capacity
            .err()
            .unwrap_or_else(|| t.get("registration-mode-invalid"));
        let page = list_page(&state, &ctx, &slug, Some(form.capacity), Some(error)).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response());
    };
    let compose = composer(&state, &info);
    state
        .store
        .set_registration_settings(
            info.event.id,
            RegistrationSettings { mode, capacity },
            &compose,
        )
        .await?;
    state.mail.wake();
    Ok(Redirect::to(&format!("/konvent/{slug}/anmeldungen")).into_response())
}

async fn decide(
    state: AppState,
    ctx: Ctx,
    slug: String,
    id: i64,
    approve: bool,
) -> AppResult<Response> {
    let info = event_info(&state, &slug).await?;
    let actor = require_actor(&state, &ctx, &info).await?;
    require_organizer(&actor)?;
    let compose = composer(&state, &info);
    let done = if approve {
        state
            .store
            .approve_registration(info.event.id, id, &compose)
            .await
    } else {
        state
            .store
            .decline_registration(info.event.id, id, &compose)
            .await
    };
    match done {
        Ok(_) => {
            state.mail.wake();
            Ok(Redirect::to(&format!("/konvent/{slug}/anmeldungen")).into_response())
        }
        Err(StoreError::Refused(refused)) => {
            let message = crate::refusals::text(ctx.tr(), &refused);
            let page = list_page(&state, &ctx, &slug, None, Some(message)).await?;
            Ok((StatusCode::CONFLICT, render(&page)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), slug = %slug, id = id))]
pub async fn approve(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((slug, id)): Path<(String, i64)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<Response> {
    decide(state, ctx, slug, id, true).await
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), slug = %slug, id = id))]
pub async fn decline(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((slug, id)): Path<(String, i64)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<Response> {
    decide(state, ctx, slug, id, false).await
}

/// The registrations as CSV (organizers and admins), every cell defused.
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), slug = %slug))]
pub async fn export_csv(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
) -> AppResult<Response> {
    let info = event_info(&state, &slug).await?;
    let actor = require_actor(&state, &ctx, &info).await?;
    require_organizer(&actor)?;
    let t = ctx.tr();
    let mut csv = CsvWriter::new(
        [
            "registration-csv-name",
            "registration-csv-email",
            "registration-csv-organisation",
            "registration-csv-status",
            "registration-csv-registered-at",
            "registration-csv-confirmed-at",
        ]
        .map(|k| t.get(k)),
    );
    for reg in state.store.registrations(info.event.id).await? {
        csv.row([
            reg.name.clone(),
            reg.email.clone(),
            reg.organisation.clone(),
            status_label(&t, reg.status),
            datetime_de(reg.created_at),
            reg.confirmed_at.map(datetime_de).unwrap_or_default(),
        ]);
    }
    Ok((
        [
            (CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"anmeldungen-{slug}.csv\""),
            ),
        ],
        csv.finish(),
    )
        .into_response())
}
