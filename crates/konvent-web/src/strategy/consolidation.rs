//! Consolidation (S3): the project team and the topic's patron see every impulse of a
//! topic from all rounds and events, grouped by similarity with the terms each group
//! shares; they save, merge and split groups, accept groups into the draft of the next
//! target-picture version, edit the draft, hand it into the decision papers
//! (confidential) and publish it with the resolution that decided it.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use konvent_core::authz::Action;
use konvent_core::ids::{ImpulseGroupId, ImpulseId, ResolutionId, TargetPictureId};
use konvent_core::strategy::grouping::group;
use konvent_core::strategy::{self, Visibility};
use konvent_store::{Impulse, SavedGroup, StoreError, TargetPicture, Topic};

use crate::AppState;
use crate::ctx::{CsrfPairs, Ctx};
use crate::error::{AppError, AppResult};
use crate::layout::{Chrome, render};

/// Longest group label, in characters.
pub const LABEL_MAX: usize = 200;

struct Suggestion {
    members: Vec<Impulse>,
    shared: Vec<String>,
}

#[derive(Template)]
#[template(path = "strategie/consolidation.html")]
struct ConsolidationPage {
    c: Chrome,
    topic: Topic,
    saved: Vec<SavedGroup>,
    suggestions: Vec<Suggestion>,
    singles: Vec<Impulse>,
    total: usize,
    draft: Option<TargetPicture>,
    /// Every version, oldest first, with the published one in force marked.
    versions: Vec<VersionRow>,
    /// Only the office publishes, once the council has decided (the patron is told so).
    may_publish: bool,
    /// Published resolutions only: a target picture is published with one of those.
    resolutions: Vec<(ResolutionId, String)>,
    error: Option<String>,
    /// A refused publish: the version (if the form named one) and why, shown beside its
    /// resolution choice.
    publish_error: Option<(Option<TargetPictureId>, String)>,
}

impl ConsolidationPage {
    /// Why publishing version `id` was refused, if it just was.
    fn publish_error_for(&self, id: &TargetPictureId) -> Option<String> {
        self.publish_error
            .as_ref()
            .filter(|(version, _)| *version == Some(*id))
            .map(|(_, message)| message.clone())
    }
}

struct VersionRow {
    picture: TargetPicture,
    state: String,
    /// The published version readers see now.
    current: bool,
}

async fn require(state: &AppState, ctx: &Ctx, slug: &str) -> AppResult<Topic> {
    let topic = state.store.topic(slug).await?;
    ctx.require(Action::ConsolidateTopic(topic.id))?;
    Ok(topic)
}

async fn page(
    state: &AppState,
    ctx: &Ctx,
    topic: Topic,
    error: Option<String>,
    publish_error: Option<(Option<TargetPictureId>, String)>,
) -> AppResult<Html<String>> {
    let saved = state.store.saved_groups(topic.id).await?;
    let in_saved: std::collections::HashSet<ImpulseId> = saved
        .iter()
        .flat_map(|g| g.members.iter().map(|m| m.id))
        .collect();
    let open: Vec<Impulse> = state
        .store
        .topic_impulses(topic.id)
        .await?
        .into_iter()
        .filter(|i| !i.hidden && i.merged_into.is_none() && !in_saved.contains(&i.id))
        .collect();
    let texts: Vec<&str> = open.iter().map(|i| i.text.as_str()).collect();
    let (groups, _) = group(&texts);
    let mut suggestions = Vec::new();
    let mut singles = Vec::new();
    for g in groups {
        if g.members.len() > 1 {
            suggestions.push(Suggestion {
                members: g.members.iter().map(|&i| open[i].clone()).collect(),
                shared: g.shared,
            });
        } else {
            singles.extend(g.members.iter().map(|&i| open[i].clone()));
        }
    }
    let mut versions = state.store.target_pictures(topic.id, true).await?;
    versions.sort_by_key(|v| v.version);
    let current = versions
        .iter()
        .filter(|v| v.visibility == Visibility::Published)
        .map(|v| v.id)
        .next_back();
    let t = ctx.tr();
    let rows = versions
        .iter()
        .map(|v| VersionRow {
            state: t.get(&format!("visibility-{}", v.visibility.as_str())),
            current: Some(v.id) == current,
            picture: v.clone(),
        })
        .collect();
    let resolutions = state
        .store
        .resolutions(konvent_store::Visibility::Public)
        .await?
        .into_iter()
        .filter(|r| r.state == konvent_core::gremien::council::ResolutionState::Published)
        .map(|r| (r.id, format!("{} {}", r.reference(), r.title)))
        .collect();
    render(&ConsolidationPage {
        c: Chrome::new(
            ctx,
            "strategie",
            ctx.tr()
                .with("consolidation-title", &[("topic", &topic.title)]),
        ),
        total: open.len() + in_saved.len(),
        draft: versions
            .iter()
            .find(|v| v.visibility == Visibility::Draft)
            .cloned(),
        versions: rows,
        may_publish: ctx.may(Action::EditCouncil),
        publish_error,
        saved,
        suggestions,
        singles,
        resolutions,
        error,
        topic,
    })
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), slug = %slug))]
pub async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
) -> AppResult<Html<String>> {
    let topic = require(&state, &ctx, &slug).await?;
    page(&state, &ctx, topic, None, None).await
}

/// One form for every consolidation step; `aktion` says which.
#[derive(Default)]
pub struct StepForm {
    aktion: String,
    label: String,
    /// Impulse ids, comma-separated (from a suggestion) …
    impulses: String,
    /// … or ticked one by one.
    impulse: Vec<ImpulseId>,
    group: Option<ImpulseGroupId>,
    into: Option<ImpulseGroupId>,
    body: String,
    version: Option<TargetPictureId>,
    resolution: Option<ResolutionId>,
}

fn ids(list: &str) -> AppResult<Vec<ImpulseId>> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<i64>()
                .map(ImpulseId::new)
                .map_err(|_| AppError::BadRequest("Impulse: keine Zahl".into()))
        })
        .collect()
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), slug = %slug))]
pub async fn step(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
    CsrfPairs(pairs): CsrfPairs,
) -> AppResult<Response> {
    let topic = require(&state, &ctx, &slug).await?;
    let form = StepForm::from_pairs(pairs);
    let by = ctx.signed_in()?.display_name.clone();
    let store = &state.store;
    let t = ctx.tr();
    let result: Result<(), Stop> = async {
        match form.aktion.as_str() {
            "speichern" => {
                let mut members = ids(&form.impulses)
                    .map_err(|_| Stop::Said(t.get("consolidation-not-a-number")))?;
                members.extend(&form.impulse);
                members.sort_unstable();
                members.dedup();
                let label = strategy::text(&form.label, LABEL_MAX, "eine Bezeichnung")
                    .map_err(Stop::Said)?;
                store.save_group(topic.id, &label, &members, &by).await?;
            }
            "zusammenfuehren" => {
                let (Some(into), Some(from)) = (form.into, form.group) else {
                    return Err(Stop::Said(t.get("consolidation-merge-choose-group")));
                };
                if into == from {
                    return Err(Stop::Said(t.get("consolidation-merge-other-group")));
                }
                store.merge_groups(topic.id, into, from).await?;
            }
            "herausloesen" => {
                for impulse in &form.impulse {
                    store.ungroup_impulse(topic.id, *impulse).await?;
                }
            }
            "uebernehmen" => {
                let group = form.group.ok_or(StoreError::NotFound)?;
                store.accept_group(topic.id, group, &by).await?;
            }
            "entwurf" => {
                let body = strategy::text(
                    &form.body,
                    strategy::TARGET_PICTURE_MAX,
                    "den Text des Zielbilds",
                )
                .map_err(Stop::Said)?;
                let draft = store.draft_target_picture(topic.id, &by).await?;
                store.save_draft(draft, &body).await?;
            }
            "vertraulich" => {
                let version = form.version.ok_or(StoreError::NotFound)?;
                store
                    .advance_target_picture(version, Visibility::Confidential, None)
                    .await?;
            }
            "veroeffentlichen" => {
                let version = form.version.ok_or(StoreError::NotFound)?;
                let refused = |message: &str| {
                    StoreError::Invalid({
                        let mut errors = konvent_core::FieldErrors::new();
                        errors.add("resolution", "publish-refused", message);
                        errors
                    })
                };
                if !ctx.may(Action::EditCouncil) {
                    return Err(refused(&t.get("consolidation-publish-office-only")).into());
                }
                let Some(resolution) = form.resolution else {
                    return Err(refused(&t.get("consolidation-publish-choose-resolution")).into());
                };
                store
                    .advance_target_picture(version, Visibility::Published, Some(resolution))
                    .await
                    .map_err(|e| match e {
                        StoreError::Refused(r) => refused(&crate::refusals::text(t, &r)),
                        other => other,
                    })?;
            }
            other => {
                let step = format!("{other:?}");
                return Err(Stop::Said(
                    t.with("consolidation-unknown-step", &[("step", &step)]),
                ));
            }
        }
        Ok(())
    }
    .await
    // A rule's refusal is shown like the page's own checks, in the reader's language.
    .map_err(|e| match e {
        Stop::Store(StoreError::Refused(r)) => Stop::Said(crate::refusals::text(t, &r)),
        other => other,
    });
    match result {
        Ok(()) => Ok(
            Redirect::to(&format!("/strategie/themen/{}/konsolidierung", topic.slug))
                .into_response(),
        ),
        Err(Stop::Said(message)) => {
            let mut response = page(&state, &ctx, topic, Some(message), None)
                .await?
                .into_response();
            *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(response)
        }
        Err(Stop::Store(StoreError::Invalid(errors))) => {
            let message = errors
                .0
                .first()
                .map(|e| e.message.clone())
                .unwrap_or_default();
            let publish_error = Some((form.version, message));
            let mut response = page(&state, &ctx, topic, None, publish_error)
                .await?
                .into_response();
            *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(response)
        }
        Err(Stop::Store(e)) => Err(e.into()),
    }
}

/// Why a step of the consolidation did not happen: the store's answer, or a check of
/// this page (or a rule's refusal) already in the reader's language.
enum Stop {
    Store(StoreError),
    Said(String),
}

impl From<StoreError> for Stop {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

impl StepForm {
    /// Ticked impulses repeat the field `impulse` (a saved group's form names it
    /// `impulse-<group>`, so that each group's checkboxes are a set of their own).
    fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut form = Self::default();
        for (key, value) in pairs {
            let number = || value.trim().parse::<i64>().ok();
            match key.as_str() {
                "aktion" => form.aktion = value,
                "label" => form.label = value,
                "impulses" => form.impulses = value,
                k if k == "impulse" || k.starts_with("impulse-") => {
                    form.impulse.extend(number().map(ImpulseId::new));
                }
                "group" => form.group = number().map(ImpulseGroupId::new),
                "into" => form.into = number().map(ImpulseGroupId::new),
                "body" => form.body = value,
                "version" => form.version = number().map(TargetPictureId::new),
                "resolution" => form.resolution = number().map(ResolutionId::new),
                _ => {}
            }
        }
        form
    }
}
