//! Uploading or pasting a list, from the admin page or an event's page: read, checked
//! as a whole, and handed to a background job.

use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use konvent_core::authz::Action;
use konvent_core::gremien::transfer::{FileKind, MAX_FILE_BYTES, RowProblem};
use konvent_core::ids::EventId;
use konvent_core::invitations;

use super::known::Known;
use super::writer::Writer;
use super::{LEASE, LISTS_PER_HOUR, worker_name};
use crate::AppState;
use crate::ctx::{Ctx, check_csrf, check_origin};
use crate::error::{AppError, AppResult};
use crate::layout::{Chrome, render};

#[derive(Template)]
#[template(path = "invitations.html")]
struct UploadPage {
    c: Chrome,
    action: String,
    /// The event of an organizer's page.
    event: Option<String>,
    error: Option<String>,
    problems: Vec<RowProblem>,
    pasted: String,
}

/// Where a list comes from: the admin page, or an event's page.
#[derive(Clone)]
pub(super) struct Place {
    /// (id, slug, title)
    pub(super) event: Option<(EventId, String, String)>,
}

impl Place {
    fn action(&self) -> String {
        match &self.event {
            Some((_, slug, _)) => format!("/konvent/{slug}/einladungen"),
            None => "/admin/einladungen".to_owned(),
        }
    }

    /// Admins everywhere; an event's organizers on its page.
    fn require(&self, ctx: &Ctx) -> AppResult<()> {
        match &self.event {
            Some((id, ..)) => ctx.require(Action::OrganizeEvent(*id)).map(drop),
            None => ctx.require(Action::ManageAccounts).map(drop),
        }
    }
}

fn page(ctx: &Ctx, place: &Place) -> UploadPage {
    UploadPage {
        c: Chrome::new(
            ctx,
            if place.event.is_some() { "konvent" } else { "" },
            ctx.tr().get("bulk-title"),
        ),
        action: place.action(),
        event: place.event.as_ref().map(|(_, _, title)| title.clone()),
        error: None,
        problems: vec![],
        pasted: String::new(),
    }
}

async fn event_place(state: &AppState, slug: &str) -> AppResult<Place> {
    let info = crate::events::event_info(state, slug).await?;
    Ok(Place {
        event: Some((
            info.event.id,
            info.event.slug.clone(),
            info.event.title.clone(),
        )),
    })
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn admin_form(ctx: Ctx) -> AppResult<Response> {
    let place = Place { event: None };
    place.require(&ctx)?;
    Ok(render(&page(&ctx, &place))?.into_response())
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), slug = %slug))]
pub async fn event_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
) -> AppResult<Response> {
    let place = event_place(&state, &slug).await?;
    place.require(&ctx)?;
    Ok(render(&page(&ctx, &place))?.into_response())
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn admin_upload(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    multipart: Multipart,
) -> AppResult<Response> {
    submit(state, ctx, headers, multipart, Place { event: None }).await
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), slug = %slug))]
pub async fn event_upload(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
    headers: HeaderMap,
    multipart: Multipart,
) -> AppResult<Response> {
    let place = event_place(&state, &slug).await?;
    submit(state, ctx, headers, multipart, place).await
}

/// What the form sent: a file, pasted addresses, or both empty.
struct Upload {
    file: Option<(String, Vec<u8>)>,
    pasted: String,
}

async fn read_upload(ctx: &Ctx, mut multipart: Multipart) -> AppResult<Upload> {
    let mut csrf = String::new();
    let mut upload = Upload {
        file: None,
        pasted: String::new(),
    };
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
                if bytes.len() > MAX_FILE_BYTES {
                    return Err(AppError::PayloadTooLarge);
                }
                if !bytes.is_empty() {
                    upload.file = Some((name, bytes.to_vec()));
                }
            }
            Some("addresses") => {
                upload.pasted = field.text().await.map_err(|_| AppError::PayloadTooLarge)?;
            }
            _ => {}
        }
    }
    check_csrf(ctx, &csrf)?;
    Ok(upload)
}

async fn submit(
    state: AppState,
    ctx: Ctx,
    headers: HeaderMap,
    multipart: Multipart,
    place: Place,
) -> AppResult<Response> {
    check_origin(&headers)?;
    place.require(&ctx)?;
    let principal = ctx.signed_in()?.clone();
    let t = ctx.tr();
    let upload = read_upload(&ctx, multipart).await?;
    let mut result = page(&ctx, &place);
    result.pasted = upload.pasted.chars().take(20_000).collect();
    let refuse = |result: UploadPage, status: StatusCode| -> AppResult<Response> {
        Ok((status, render(&result)?).into_response())
    };

    // The budget: one list at a time, a few per hour.
    let hour_ago = jiff::Timestamp::now().as_microsecond() - 3_600_000_000;
    let (started, running) = state
        .store
        .bulk_invitations_by(principal.user_id, hour_ago)
        .await?;
    if running || started >= LISTS_PER_HOUR {
        result.error = Some(t.get(if running {
            "bulk-busy"
        } else {
            "bulk-too-many-lists"
        }));
        return refuse(result, StatusCode::TOO_MANY_REQUESTS);
    }

    let known = Known::load(&state, &principal, &place).await?;
    let parsed = match (&upload.file, upload.pasted.trim()) {
        (Some((name, bytes)), _) => match FileKind::detect(name, bytes) {
            Some(kind) => invitations::parse_file(kind, bytes, &known),
            None => {
                result.error = Some(t.get("import-unknown-kind"));
                return refuse(result, StatusCode::UNPROCESSABLE_ENTITY);
            }
        },
        (None, "") => {
            result.error = Some(t.get("bulk-no-input"));
            return refuse(result, StatusCode::UNPROCESSABLE_ENTITY);
        }
        (None, pasted) => invitations::parse_pasted(pasted, &known),
    };
    let invitees = match parsed {
        Ok(invitees) if invitees.is_empty() => {
            result.error = Some(t.get("bulk-no-input"));
            return refuse(result, StatusCode::UNPROCESSABLE_ENTITY);
        }
        Ok(invitees) => invitees,
        Err(report) => {
            result.problems = report.problems;
            return refuse(result, StatusCode::UNPROCESSABLE_ENTITY);
        }
    };

    let actor = ctx.actor()?;
    let worker = worker_name();
    let job = state
        .store
        .start_bulk_invitation(
            &actor,
            place.event.as_ref().map(|(id, ..)| *id),
            ctx.lang.code(),
            &invitees,
            &worker,
            LEASE,
        )
        .await?;
    state.jobs.spawn(Writer {
        state: state.clone(),
        job,
        worker,
        actor,
        lang: ctx.lang,
        slugs: known.slugs,
    });
    Ok(Redirect::to(&format!("/einladungen/{job}")).into_response())
}
