//! Video rooms (K5): a room's video opens through Jitsi with a signed token, or through
//! BigBlueButton with signed create and join links (`konvent_core::convention::video`).

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use jiff::Timestamp;
use konvent_core::convention as core;
use konvent_core::convention::video::{VideoUser, room_name};

use super::{event_info, require_actor};
use crate::AppState;
use crate::ctx::Ctx;
use crate::error::{AppError, AppResult};
use crate::layout::{Chrome, render};
use crate::settings::Video;

#[derive(Template)]
#[template(path = "konvent/video.html")]
struct VideoPage {
    c: Chrome,
    back: String,
    create: Option<String>,
    join: Option<String>,
}

/// Opens the room's video: Jitsi with a signed token (a redirect), or BigBlueButton
/// with signed create and join links; without a configured backend, says so.
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), slug = %slug, room = %room_slug))]
pub async fn video(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((slug, room_slug)): Path<(String, String)>,
) -> AppResult<Response> {
    let info = event_info(&state, &slug).await?;
    let actor = require_actor(&state, &ctx, &info).await?;
    let room = info.room(&room_slug).ok_or(AppError::NotFound)?;
    let presence = state.live.fanout.presence(info.event.id, &room.slug);
    let user = VideoUser {
        id: actor.who.id,
        name: &actor.who.name,
        email: &actor.email,
        moderator: actor.moderates(&info, room),
        muted: core::rule_in_force(presence.count, info.event.mute_threshold),
    };
    let name = room_name(&info.event.slug, &room.slug);
    match state.settings.video() {
        Some(Video::Jitsi(jitsi)) => Ok(Redirect::to(&jitsi.join_url(
            &name,
            &user,
            info.event.mute_threshold,
            Timestamp::now().as_second(),
        ))
        .into_response()),
        Some(Video::BigBlueButton(bbb)) => {
            // A BBB meeting must be created before anyone joins: moderators get the
            // signed create link (BBB answers it idempotently) beside the join link.
            let create = user
                .moderator
                .then(|| bbb.create_url(&name, &room.name, user.muted));
            Ok(render(&VideoPage {
                c: Chrome::new(&ctx, "konvent", ctx.tr().get("video-title")),
                back: format!("/konvent/{slug}/raeume/{room_slug}"),
                create,
                join: Some(bbb.join_url(&name, &user)),
            })?
            .into_response())
        }
        None => Ok(render(&VideoPage {
            c: Chrome::new(&ctx, "konvent", ctx.tr().get("video-missing-title")),
            back: format!("/konvent/{slug}/raeume/{room_slug}"),
            create: None,
            join: None,
        })?
        .into_response()),
    }
}
