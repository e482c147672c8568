//! The podium bundle (K13): per topic the impulses of the day, grouped and ranked, and
//! the top pinboard entries, on one page for the stage; the moderator names the groups
//! there. Organizers only.
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use konvent_core::convention::podium;
use konvent_core::ids::{ImpulseId, TopicId};
use konvent_core::strategy::PinStatus;
use konvent_core::strategy::grouping::group;
use konvent_store::{Impulse, Pin};
use serde::Deserialize;

use super::{event_info, require_actor, require_organizer};
use crate::AppState;
use crate::ctx::{CsrfForm, Ctx};
use crate::error::{AppError, AppResult};
use crate::layout::{Chrome, render};

/// How many groups and pins the podium page shows.
const PODIUM_GROUPS: usize = 5;
const PODIUM_PINS: usize = 5;

struct PodiumGroup {
    /// What the moderator says on stage: the name given, else the suggestion.
    title: String,
    /// The opening of the group's most typical impulse.
    suggested: String,
    named: bool,
    terms: String,
    count: usize,
    examples: Vec<String>,
    /// The most typical impulse: the naming form names the group by it.
    anchor: ImpulseId,
    /// A refused title, shown beside the field.
    error: Option<String>,
    entered: Option<String>,
}

struct PodiumTopic {
    id: TopicId,
    title: String,
    impulses: usize,
    groups: Vec<PodiumGroup>,
}

#[derive(Template)]
#[template(path = "konvent/podium.html")]
struct PodiumPage {
    c: Chrome,
    slug: String,
    topics: Vec<PodiumTopic>,
    pins: Vec<Pin>,
    title_max: usize,
}

/// The impulses worth showing: not hidden, not merged into another.
pub(super) fn visible(impulses: Vec<Impulse>) -> Vec<Impulse> {
    impulses
        .into_iter()
        .filter(|i| !i.hidden && i.merged_into.is_none())
        .collect()
}

/// One topic's impulses in groups, biggest first: for each its impulses (in the order
/// given) and its most typical one, and the shared terms.
fn topic_groups<'a>(mine: &[&'a Impulse]) -> Vec<(Vec<&'a Impulse>, &'a Impulse, Vec<String>)> {
    let texts: Vec<&str> = mine.iter().map(|i| i.text.as_str()).collect();
    let (groups, _) = group(&texts);
    groups
        .into_iter()
        .map(|g| {
            (
                g.members.iter().map(|&i| mine[i]).collect(),
                mine[g.centre],
                g.shared,
            )
        })
        .collect()
}

/// A title the form refused: for the group of impulse `anchor`, what was entered, why.
struct Refused {
    anchor: ImpulseId,
    entered: String,
    message: String,
}

async fn podium_page(
    state: &AppState,
    ctx: &Ctx,
    slug: String,
    refused: Option<Refused>,
) -> AppResult<Html<String>> {
    let info = event_info(state, &slug).await?;
    let actor = require_actor(state, ctx, &info).await?;
    require_organizer(&actor)?;
    let impulses = visible(state.store.event_impulses(info.event.id).await?);
    let mut named_by_topic = state.store.podium_titles_by_topic(info.event.id).await?;
    let mut topics = Vec::new();
    for topic in state.store.topics().await? {
        let mine: Vec<&Impulse> = impulses.iter().filter(|i| i.topic_id == topic.id).collect();
        if mine.is_empty() {
            continue;
        }
        let groups = topic_groups(&mine);
        let named = named_by_topic.remove(&topic.id).unwrap_or_default();
        let ids: Vec<Vec<ImpulseId>> = groups
            .iter()
            .map(|(members, _, _)| members.iter().map(|i| i.id).collect())
            .collect();
        let titles = podium::titles_for(&ids, &named);
        topics.push(PodiumTopic {
            id: topic.id,
            title: topic.title,
            impulses: mine.len(),
            // Biggest first (the grouping's order); singletons only fill up.
            groups: groups
                .into_iter()
                .zip(titles)
                .take(PODIUM_GROUPS)
                .map(|((members, centre, shared), title)| {
                    let suggested = podium::suggested_title(&centre.text);
                    let refused = refused.as_ref().filter(|r| r.anchor == centre.id);
                    PodiumGroup {
                        title: title
                            .map(|n| named[n].title.clone())
                            .unwrap_or_else(|| suggested.clone()),
                        named: title.is_some(),
                        suggested,
                        terms: shared.join(", "),
                        count: members.len(),
                        // The most typical first, then the next one.
                        examples: std::iter::once(centre)
                            .chain(members.iter().copied().filter(|i| i.id != centre.id))
                            .take(2)
                            .map(|i| i.text.clone())
                            .collect(),
                        anchor: centre.id,
                        error: refused.map(|r| r.message.clone()),
                        entered: refused.map(|r| r.entered.clone()),
                    }
                })
                .collect(),
        });
    }
    let (pins, _) = state.store.pins(info.event.id, actor.who.id).await?;
    render(&PodiumPage {
        c: Chrome::new(
            ctx,
            "konvent",
            ctx.tr()
                .with("podium-title", &[("event", &info.event.title)]),
        ),
        slug,
        topics,
        pins: pins
            .into_iter()
            .filter(|p| p.status != PinStatus::Closed)
            .take(PODIUM_PINS)
            .collect(),
        title_max: podium::TITLE_MAX,
    })
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), slug = %slug))]
pub async fn podium(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
) -> AppResult<Html<String>> {
    podium_page(&state, &ctx, slug, None).await
}

#[derive(Deserialize)]
pub struct NameGroupForm {
    topic: String,
    /// Any impulse of the group; the page sends its most typical one.
    impulse: String,
    #[serde(default)]
    title: String,
}

/// The moderator names a podium group (or empties the field for the suggestion again).
/// The group is found anew from one of its impulses, so the name is stored with the
/// impulses the group has now.
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), slug = %slug))]
pub async fn name_group(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
    CsrfForm(form): CsrfForm<NameGroupForm>,
) -> AppResult<Response> {
    let info = event_info(&state, &slug).await?;
    let actor = require_actor(&state, &ctx, &info).await?;
    require_organizer(&actor)?;
    let number = |field: &str, value: &str| {
        value
            .trim()
            .parse::<i64>()
            .map_err(|_| AppError::BadRequest(format!("{field}: keine Zahl")))
    };
    let topic = TopicId::new(number("topic", &form.topic)?);
    let anchor = ImpulseId::new(number("impulse", &form.impulse)?);
    let title = match podium::parse_title(&form.title) {
        Ok(title) => title,
        Err(message) => {
            let refused = Refused {
                anchor,
                entered: form.title.clone(),
                message,
            };
            let mut response = podium_page(&state, &ctx, slug, Some(refused))
                .await?
                .into_response();
            *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            return Ok(response);
        }
    };
    let impulses = visible(state.store.event_impulses(info.event.id).await?);
    let mine: Vec<&Impulse> = impulses.iter().filter(|i| i.topic_id == topic).collect();
    let groups = topic_groups(&mine);
    let Some((members, _, _)) = groups
        .iter()
        .find(|(members, _, _)| members.iter().any(|i| i.id == anchor))
    else {
        return Err(AppError::Conflict(ctx.tr().get("podium-impulse-gone")));
    };
    let ids: Vec<ImpulseId> = members.iter().map(|i| i.id).collect();
    let named = state.store.podium_titles(info.event.id, topic).await?;
    let replaces = podium::titles_for(std::slice::from_ref(&ids), &named)[0].map(|n| named[n].id);
    state
        .store
        .name_podium_group(
            info.event.id,
            topic,
            replaces,
            title.as_deref(),
            &ids,
            &actor.who.name,
        )
        .await?;
    Ok(Redirect::to(&format!("/konvent/{slug}/podium#gruppe-{anchor}")).into_response())
}
