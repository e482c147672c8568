//! The organizers' moderation page (K17), linked from the organisation page: the queue of
//! reported items (remove or dismiss), mutes and removed people (with undo), locking a
//! room's chat, and the log of every moderation action. Its forms post to
//! `/konvent/{event}/aktion`, the same path as the WebSocket's commands.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Html;
use konvent_core::ids::AccountId;

use crate::AppState;
use crate::ctx::Ctx;
use crate::error::AppResult;
use crate::layout::{Chrome, datetime_de, render};

use super::{event_info, require_actor, require_organizer};

struct ReportView {
    item: String,
    kind: String,
    target: i64,
    author: String,
    text: String,
    reasons: Vec<(String, String)>,
}

struct PersonLine {
    id: AccountId,
    name: String,
    until: String,
}

struct RoomLock {
    slug: String,
    name: String,
    locked: bool,
}

struct LogLine {
    at: String,
    actor: String,
    action: String,
    what: String,
    person: String,
    content: String,
    reason: String,
}

#[derive(Template)]
#[template(path = "konvent/moderation.html")]
struct ModerationPage {
    c: Chrome,
    slug: String,
    back: String,
    reports: Vec<ReportView>,
    people: Vec<(AccountId, String)>,
    mutes: Vec<PersonLine>,
    removed: Vec<PersonLine>,
    rooms: Vec<RoomLock>,
    log: Vec<LogLine>,
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), slug = %slug))]
pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
) -> AppResult<Html<String>> {
    let info = event_info(&state, &slug).await?;
    let actor = require_actor(&state, &ctx, &info).await?;
    require_organizer(&actor)?;
    let event = info.event.id;
    let store = &state.store;
    let t = ctx.tr();
    let kind = |item: &str| t.get(&format!("moderation-item-{item}"));
    let restrictions = store.restrictions(event).await?;
    render(&ModerationPage {
        reports: store
            .report_queue(event)
            .await?
            .into_iter()
            .map(|r| ReportView {
                item: r.item.as_str().to_owned(),
                kind: kind(r.item.as_str()),
                target: r.item_id,
                author: r.author.map(|a| a.name).unwrap_or_default(),
                text: r.text,
                reasons: r.reasons,
            })
            .collect(),
        people: store
            .event_people(event, 2000)
            .await?
            .into_iter()
            .filter(|w| w.id != actor.who.id)
            .map(|w| (w.id, w.name))
            .collect(),
        mutes: store
            .mutes(event)
            .await?
            .into_iter()
            .map(|m| PersonLine {
                id: m.person.id,
                name: m.person.name,
                until: match m.ends_at {
                    Some(t) => datetime_de(t.as_microsecond()),
                    None => String::new(),
                },
            })
            .collect(),
        removed: store
            .removed_people(event)
            .await?
            .into_iter()
            .map(|w| PersonLine {
                id: w.id,
                name: w.name,
                until: String::new(),
            })
            .collect(),
        rooms: info
            .rooms
            .iter()
            .map(|r| RoomLock {
                slug: r.slug.clone(),
                name: r.name.clone(),
                locked: restrictions.locked_rooms.contains(&r.slug),
            })
            .collect(),
        log: store
            .moderation_log(event)
            .await?
            .into_iter()
            .map(|a| LogLine {
                at: datetime_de(a.at.as_microsecond()),
                actor: a.actor,
                action: t.get(&format!("moderation-action-{}", a.action)),
                what: match (a.item.as_deref(), a.item_id, a.room) {
                    (Some("room"), _, Some(room)) => room,
                    (Some(item), Some(id), _) => format!("{} {id}", kind(item)),
                    _ => String::new(),
                },
                person: match a.ends_at {
                    Some(end) => format!(
                        "{} ({} {})",
                        a.person.unwrap_or_default(),
                        t.get("moderation-until"),
                        datetime_de(end.as_microsecond())
                    ),
                    None => a.person.unwrap_or_default(),
                },
                content: a.content.unwrap_or_default(),
                reason: a.reason,
            })
            .collect(),
        c: Chrome::new(
            &ctx,
            "konvent",
            t.with("moderation-title", &[("event", &info.event.title)]),
        ),
        back: format!("/konvent/{slug}/moderation"),
        slug,
    })
}
