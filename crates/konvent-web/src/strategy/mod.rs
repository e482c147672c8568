//! The strategy process (S1–S4, K16): focus topics with their target-picture versions
//! (confidential ones only for those who may read decision papers), a readable diff
//! between versions, the way back to the impulses that shaped a version and forward to
//! the resolution that published it; connection points; each participant's results.

pub mod consolidation;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, Redirect};
use konvent_core::authz::Action;
use konvent_core::ids::{AccountId, ImpulseId, TargetPictureId};
use konvent_core::strategy::{FollowTarget, Visibility};
use konvent_store::{SavedGroup, TargetPicture, Topic};
use serde::Deserialize;
use similar::{ChangeTag, TextDiff};

use crate::AppState;
use crate::ctx::{CsrfForm, Ctx};
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::layout::{Chrome, render};
use crate::markdown;

/// Whether the reader may see a topic's drafts and confidential versions.
pub fn reads_confidential(ctx: &Ctx, topic: &Topic) -> bool {
    ctx.may(Action::ReadDraftTargetPicture(topic.id))
}

fn visibility_label(t: &Tr, v: Visibility) -> String {
    t.get(&format!("visibility-{}", v.as_str()))
}

// The topics -------------------------------------------------------------------------

struct TopicLine {
    slug: String,
    title: String,
    patron: String,
    question: String,
    state: String,
}

#[derive(Template)]
#[template(path = "strategie/topics.html")]
struct TopicsPage {
    c: Chrome,
    topics: Vec<TopicLine>,
    /// Events (slug, title), for the way from a topic to the café and the pinboard.
    events: Vec<(String, String)>,
    /// The first topic the reader may consolidate, if any.
    consolidates: Option<String>,
    signed_in: bool,
    sees_points: bool,
}

/// Where a topic's target picture stands for this reader, in one line.
fn state_line(t: &Tr, versions: &[TargetPicture]) -> String {
    match versions
        .iter()
        .find(|v| v.visibility == Visibility::Published)
    {
        Some(v) => t.with(
            "topic-state-published",
            &[
                ("version", &v.version.to_string()),
                (
                    "resolution",
                    v.resolution.as_ref().map(|r| r.1.as_str()).unwrap_or("–"),
                ),
            ],
        ),
        None => t.get("topic-state-none"),
    }
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn topics(State(state): State<AppState>, ctx: Ctx) -> AppResult<Html<String>> {
    let t = ctx.tr();
    let mut lines = Vec::new();
    let mut consolidates = None;
    let mut versions_by_topic = state.store.target_pictures_by_topic(false).await?;
    for topic in state.store.topics().await? {
        if consolidates.is_none() && ctx.may(Action::ConsolidateTopic(topic.id)) {
            consolidates = Some(topic.slug.clone());
        }
        let versions = versions_by_topic.remove(&topic.id).unwrap_or_default();
        lines.push(TopicLine {
            state: state_line(&t, &versions),
            slug: topic.slug.clone(),
            title: topic.title.clone(),
            patron: topic.patron.clone(),
            question: topic.question.clone(),
        });
    }
    render(&TopicsPage {
        c: Chrome::new(&ctx, "strategie", t.get("area-strategie-title")),
        topics: lines,
        events: state
            .store
            .events()
            .await?
            .into_iter()
            .map(|e| (e.slug, e.title))
            .collect(),
        consolidates,
        signed_in: ctx.principal.is_some(),
        sees_points: ctx.principal.as_ref().is_some_and(|p| p.is_admin()),
    })
}

// One topic --------------------------------------------------------------------------

struct DiffLine {
    /// "ins", "del" or "same".
    kind: &'static str,
    text: String,
}

struct VersionView {
    version: i64,
    visibility: String,
    public: bool,
    html: String,
    by: String,
    at: String,
    /// Reference ("2025/07", also its path) and title of the resolution that published it.
    resolution: Option<(String, String)>,
    follow_up: Option<(i64, String)>,
    /// Changes against the version before it (the one the reader may see).
    diff: Vec<DiffLine>,
    previous: Option<i64>,
    groups: Vec<SavedGroup>,
    documents: crate::documents::DocList,
}

#[derive(Template)]
#[template(path = "strategie/topic.html")]
struct TopicPage {
    c: Chrome,
    topic: Topic,
    versions: Vec<VersionView>,
    confidential_hidden: bool,
    consolidates: bool,
    signed_in: bool,
    following: bool,
}

/// A line diff of two texts, for people: whole lines added and removed.
fn diff(old: &str, new: &str) -> Vec<DiffLine> {
    TextDiff::from_lines(old, new)
        .iter_all_changes()
        .map(|change| DiffLine {
            kind: match change.tag() {
                ChangeTag::Insert => "ins",
                ChangeTag::Delete => "del",
                ChangeTag::Equal => "same",
            },
            text: change.value().trim_end_matches('\n').to_owned(),
        })
        .collect()
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), slug = %slug))]
pub async fn topic(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
) -> AppResult<Html<String>> {
    let t = ctx.tr();
    let topic = state.store.topic(&slug).await?;
    let confidential = reads_confidential(&ctx, &topic);
    let versions = state.store.target_pictures(topic.id, confidential).await?;
    let hidden = if confidential {
        false
    } else {
        // Say that more exists without saying what: only the count of later versions.
        state.store.target_pictures(topic.id, true).await?.len() > versions.len()
    };
    let groups = state.store.saved_groups(topic.id).await?;
    let follow_ups = state.store.follow_ups().await?;
    let mut documents = crate::documents::lists(
        &state,
        &ctx,
        konvent_core::documents::OwnerKind::TargetPicture,
        &versions.iter().map(|v| v.id.get()).collect::<Vec<_>>(),
        ctx.may(Action::ConsolidateTopic(topic.id)),
    )
    .await?
    .into_iter();
    // The public resolutions once for all versions, and only when a version names one.
    let resolutions = if versions.iter().any(|v| v.resolution.is_some()) {
        state
            .store
            .resolutions(konvent_store::Visibility::Public)
            .await?
    } else {
        Vec::new()
    };
    let mut views = Vec::new();
    for (i, v) in versions.iter().enumerate() {
        let previous = versions.get(i + 1);
        let follow_up = match &v.resolution {
            Some((id, ..)) => {
                let resolution = resolutions.iter().find(|r| r.id == *id);
                resolution
                    .and_then(|r| r.session_number)
                    .and_then(|n| follow_ups.iter().find(|f| f.session_number == n))
                    .map(|f| (f.session_number, crate::layout::date_de(&f.date)))
            }
            None => None,
        };
        views.push(VersionView {
            version: v.version,
            visibility: visibility_label(&t, v.visibility),
            public: v.visibility == Visibility::Published,
            html: markdown::to_html(&v.body),
            by: v.created_by.clone(),
            at: crate::layout::datetime_de(v.modified_at.as_microsecond()),
            resolution: v
                .resolution
                .as_ref()
                .map(|(_, reference, title)| (reference.clone(), title.clone())),
            follow_up,
            diff: previous.map(|p| diff(&p.body, &v.body)).unwrap_or_default(),
            previous: previous.map(|p| p.version),
            groups: groups
                .iter()
                .filter(|g| g.accepted_into == Some(v.id))
                .cloned()
                .collect(),
            documents: documents
                .next()
                .unwrap_or_else(crate::documents::DocList::none),
        });
    }
    let following = match &ctx.principal {
        Some(p) => state
            .store
            .connection_points(Some(p.user_id))
            .await?
            .iter()
            .any(|c| c.target == FollowTarget::Topic && c.target_id == topic.id.get()),
        None => false,
    };
    render(&TopicPage {
        c: Chrome::new(&ctx, "strategie", topic.title.clone()),
        consolidates: ctx.may(Action::ConsolidateTopic(topic.id)),
        signed_in: ctx.principal.is_some(),
        confidential_hidden: hidden,
        versions: views,
        following,
        topic,
    })
}

// Connection points (K16) ---------------------------------------------------------------

#[derive(Deserialize)]
pub struct FollowForm {
    target: String,
    /// A string: numbers do not survive the flattened CSRF form.
    id: String,
    #[serde(default)]
    on: String,
    #[serde(default)]
    zurueck: String,
}

/// "I want to follow up on this" on a topic, impulse or pin, or taking it back.
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn follow(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<FollowForm>,
) -> AppResult<Redirect> {
    let principal = ctx.signed_in()?;
    let target: FollowTarget = form.target.parse().map_err(AppError::BadRequest)?;
    let id: i64 = form
        .id
        .trim()
        .parse()
        .map_err(|_| AppError::BadRequest("id: keine Zahl".into()))?;
    state
        .store
        .follow(principal.user_id, target, id, form.on == "true")
        .await?;
    let back = konvent_core::validation::local_path(&form.zurueck)
        .unwrap_or_else(|| "/meine-ergebnisse".to_owned());
    Ok(Redirect::to(&back))
}

struct PointGroup {
    label: String,
    kind: String,
    people: Vec<String>,
}

#[derive(Template)]
#[template(path = "strategie/points.html")]
struct PointsPage {
    c: Chrome,
    groups: Vec<PointGroup>,
}

/// Who wants to continue where (the project team).
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn points(State(state): State<AppState>, ctx: Ctx) -> AppResult<Html<String>> {
    let principal = ctx.signed_in()?;
    if !principal.is_admin() {
        return Err(AppError::Forbidden);
    }
    let t = ctx.tr();
    let mut groups: Vec<PointGroup> = Vec::new();
    let mut last: Option<(FollowTarget, i64)> = None;
    for point in state.store.connection_points(None).await? {
        if last != Some((point.target, point.target_id)) {
            groups.push(PointGroup {
                label: point.label.clone(),
                kind: t.get(&format!("follow-target-{}", point.target.as_str())),
                people: Vec::new(),
            });
            last = Some((point.target, point.target_id));
        }
        if let Some(g) = groups.last_mut() {
            g.people.push(point.account.name);
        }
    }
    groups.sort_by_key(|g| std::cmp::Reverse(g.people.len()));
    render(&PointsPage {
        c: Chrome::new(&ctx, "strategie", t.get("points-title")),
        groups,
    })
}

// My results (K16) ------------------------------------------------------------------------

struct MyImpulse {
    text: String,
    topic: String,
    round: i64,
    fate: String,
}

struct MyPin {
    text: String,
    status: String,
    outcome: String,
    url: Option<String>,
}

#[derive(Template)]
#[template(path = "strategie/mine.html")]
struct MinePage {
    c: Chrome,
    impulses: Vec<MyImpulse>,
    pins: Vec<MyPin>,
    points: Vec<(String, String, String, i64)>,
    topics: Vec<TopicLine>,
    /// Networking (K16+): the people who marked the same points, and one's groups.
    peers: Vec<konvent_store::PointPeers>,
    /// Whether the person allows being found by them (a profile setting).
    matching: bool,
    groups: Vec<konvent_store::FollowUpGroup>,
    /// Accepted contacts and people already asked (no second request button).
    asked: Vec<AccountId>,
    /// The events the person takes part in with their rooms, for a group's room.
    rooms: Vec<konvent_store::RoomChoice>,
    me: AccountId,
    /// What the last form did (`?hinweis=`), focused on arrival.
    notice: Option<String>,
}

#[derive(Deserialize)]
pub struct MineQuery {
    #[serde(default)]
    hinweis: String,
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn mine(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<MineQuery>,
) -> AppResult<Html<String>> {
    let principal = ctx.signed_in()?;
    let t = ctx.tr();
    let notice = match q.hinweis.as_str() {
        "gesendet" => Some("net-request-sent"),
        "verbunden" => Some("net-request-connected"),
        "gruppe" => Some("net-notice-group"),
        "raum" => Some("net-notice-group-room"),
        "termin" => Some("net-notice-proposal"),
        _ => None,
    }
    .map(|key| t.get(key));
    let mine = state.store.my_results(principal.user_id).await?;
    let mut accepted: Vec<(ImpulseId, TargetPictureId)> = Vec::new(); // (impulse, version)
    let mut grouped: Vec<ImpulseId> = Vec::new();
    let mut versions = std::collections::HashMap::new();
    // Every topic's groups and versions in a few queries, not a few per topic: all
    // versions (the confidential ones only for their numbers), read once.
    for group in &mine.saved_groups {
        for m in &group.members {
            match group.accepted_into {
                Some(v) => accepted.push((m.id, v)),
                None => grouped.push(m.id),
            }
        }
    }
    // All versions by id for the numbers (a number says nothing confidential).
    for v in mine.target_pictures.values().flatten() {
        versions.insert(v.id, v.version);
    }
    let impulses = mine
        .impulses
        .iter()
        .map(|i| {
            let fate = if i.hidden {
                t.get("fate-hidden")
            } else if i.merged_into.is_some() {
                t.get("fate-merged")
            } else if let Some((_, v)) = accepted.iter().find(|(id, _)| *id == i.id) {
                t.with(
                    "fate-accepted",
                    &[(
                        "version",
                        &versions.get(v).copied().unwrap_or(0).to_string(),
                    )],
                )
            } else if grouped.contains(&i.id) {
                t.get("fate-grouped")
            } else {
                t.get("fate-open")
            };
            MyImpulse {
                topic: mine
                    .topics
                    .iter()
                    .find(|tp| tp.id == i.topic_id)
                    .map(|tp| tp.title.clone())
                    .unwrap_or_default(),
                round: i.round,
                text: i.text.clone(),
                fate,
            }
        })
        .collect();
    let pins = mine
        .pins
        .iter()
        .map(|p| MyPin {
            status: t.get(&format!("pin-status-{}", p.status.as_str())),
            text: p.text.clone(),
            outcome: p.outcome.clone(),
            url: p.outcome_url.clone(),
        })
        .collect();
    let points = mine
        .connection_points
        .iter()
        .map(|c| {
            (
                t.get(&format!("follow-target-{}", c.target.as_str())),
                c.label.clone(),
                c.target.as_str().to_owned(),
                c.target_id,
            )
        })
        .collect();
    let mut lines = Vec::new();
    for topic in &mine.topics {
        // The line names only a published version ([`state_line`]).
        let versions = mine
            .target_pictures
            .get(&topic.id)
            .map_or(&[][..], Vec::as_slice);
        lines.push(TopicLine {
            state: state_line(&t, versions),
            slug: topic.slug.clone(),
            title: topic.title.clone(),
            patron: topic.patron.clone(),
            question: topic.question.clone(),
        });
    }
    let peers = mine.peers.clone();
    let overview = &mine.contacts;
    let asked = overview
        .contact_ids
        .iter()
        .copied()
        .chain(overview.sent.iter().map(|r| r.to.id))
        .collect();
    render(&MinePage {
        c: Chrome::new(&ctx, "strategie", t.get("mine-title")),
        impulses,
        pins,
        points,
        topics: lines,
        matching: !peers.is_empty(),
        peers,
        groups: mine.groups.clone(),
        asked,
        rooms: mine.rooms.clone(),
        me: principal.user_id,
        notice,
    })
}
