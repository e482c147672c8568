//! Direct messages (K12): a person's messages to and from people and the help desk.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Html;

use super::{event_info, recipients, require_actor};
use crate::AppState;
use crate::ctx::Ctx;
use crate::error::AppResult;
use crate::layout::{Chrome, render};
use crate::live::fragments::{self, Fx};

#[derive(Template)]
#[template(path = "konvent/messages.html")]
struct MessagesPage {
    c: Chrome,
    slug: String,
    messages: Vec<String>,
    recipients: Vec<recipients::RecipientGroup>,
    live_url: String,
    script: String,
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), slug = %slug))]
pub async fn messages(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
) -> AppResult<Html<String>> {
    let info = event_info(&state, &slug).await?;
    let actor = require_actor(&state, &ctx, &info).await?;
    let t = ctx.tr();
    let records = state
        .store
        .direct_messages(info.event.id, actor.who.id, actor.staff, 200)
        .await?;
    let recipients = recipients::groups(&state, &info, &actor, &records, &t).await?;
    let fx = Fx::for_page(
        &ctx,
        &slug,
        format!("/konvent/{slug}/nachrichten"),
        actor.viewer(&info),
    );
    let messages = records
        .iter()
        .map(|r| fragments::chat::dm_line(r, &fx))
        .collect();
    render(&MessagesPage {
        c: Chrome::new(&ctx, "konvent", t.get("dm-title")),
        messages,
        recipients,
        live_url: format!("/konvent/{slug}/live"),
        script: crate::assets::url("live.js"),
        slug,
    })
}
