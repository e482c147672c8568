//! Networking (K15+): a person's opt-in profile, for one event or for konvent as a
//! whole, and the list of who is here in an event, filterable without JavaScript, with
//! where people are right now (if they allow it) and a "Hierhin gehen". Contact
//! requests, contacts and their vCard are in [`contacts`], follow-up groups in
//! [`groups`].

pub mod api;
pub mod contacts;
pub mod groups;
pub mod watch;

use konvent_core::ids::{AccountId, EventId};
use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use konvent_core::convention::networking::{self as rules, ProfileFields, ProfileVisibility};
use konvent_store::Profile;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::ctx::{CsrfPairs, Ctx};
use crate::error::AppResult;
use crate::events::{event_info, require_actor};
use crate::layout::{Chrome, render};

// The profile form ---------------------------------------------------------------------

#[derive(Template)]
#[template(path = "networking/profile.html")]
struct ProfilePage {
    c: Chrome,
    /// Where the form posts to.
    action: String,
    /// The event's title, or `None` for the konvent-wide profile.
    event: Option<(String, String)>,
    fields: ProfileFields,
    /// The focus topics to tick, and whether they are ticked.
    focus: Vec<(String, bool)>,
    /// The free tags, comma-separated.
    free: String,
    errors: HashMap<&'static str, String>,
    /// The one-line text fields, in order.
    texts: Vec<TextField>,
    lead: String,
    /// (value, label, chosen) of each visibility.
    visibilities: Vec<(&'static str, String, bool)>,
    exists: bool,
    saved: bool,
}

/// A one-line text field of the profile form.
struct TextField {
    name: &'static str,
    label: String,
    value: String,
    hint: String,
    error: String,
    max: usize,
}

impl TextField {
    fn described_by(&self) -> String {
        let mut ids = Vec::new();
        if !self.hint.is_empty() {
            ids.push(format!("f-{}-hint", self.name));
        }
        if !self.error.is_empty() {
            ids.push(format!("f-{}-error", self.name));
        }
        ids.join(" ")
    }
}

impl ProfilePage {
    fn error(&self, field: &str) -> String {
        self.errors.get(field).cloned().unwrap_or_default()
    }
}

async fn profile_page(
    state: &AppState,
    ctx: &Ctx,
    event: Option<(String, String)>,
    fields: ProfileFields,
    errors: HashMap<&'static str, String>,
    exists: bool,
    saved: bool,
) -> AppResult<Response> {
    let t = ctx.tr();
    let focus_titles: Vec<String> = state
        .store
        .topics()
        .await?
        .into_iter()
        .map(|tp| tp.title)
        .collect();
    let free = fields
        .topics
        .iter()
        .filter(|tp| !focus_titles.contains(tp))
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    let focus = focus_titles
        .into_iter()
        .map(|title| {
            let on = fields.topics.contains(&title);
            (title, on)
        })
        .collect();
    let action = match &event {
        Some((slug, _)) => format!("/konvent/{slug}/profil"),
        None => "/konto/profil".to_owned(),
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let text = |name: &'static str, value: &str, hint: &str, max: usize| TextField {
        name,
        label: t.get(&format!("net-{name}")),
        value: value.to_owned(),
        hint: if hint.is_empty() {
            String::new()
        } else {
            t.get(hint)
        },
        error: errors.get(name).cloned().unwrap_or_default(),
        max,
    };
    let texts = vec![
        text("organisation", &fields.organisation, "", rules::FIELD_MAX),
        text("role", &fields.role, "", rules::FIELD_MAX),
        text(
            "region",
            &fields.region,
            "net-region-hint",
            rules::FIELD_MAX,
        ),
        text("about", &fields.about, "net-about-hint", rules::ABOUT_MAX),
    ];
    let page = ProfilePage {
        c: Chrome::new(ctx, "konvent", t.get("net-profile-title")),
        texts,
        visibilities: ProfileVisibility::ALL
            .into_iter()
            .map(|v| {
                let label = t.get(&format!("net-visibility-{}", v.as_str().replace('_', "-")));
                (v.as_str(), label, v == fields.visibility)
            })
            .collect(),
        lead: match &event {
            Some((_, title)) => t.with("net-profile-lead-event", &[("event", title.as_str())]),
            None => t.get("net-profile-lead-global"),
        },
        action,
        event,
        fields,
        focus,
        free,
        errors,
        exists,
        saved,
    };
    Ok((status, render(&page)?).into_response())
}

/// The profile form's fields, checked, with the errors per field (none: valid).
fn parse_profile(pairs: &[(String, String)]) -> (ProfileFields, HashMap<&'static str, String>) {
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    };
    let on = |name: &str| get(name) == "1";
    let mut errors = HashMap::new();
    let mut text = |name: &'static str, max: usize, label: &str| match rules::optional_text(
        get(name),
        max,
        label,
    ) {
        Ok(v) => v,
        Err(e) => {
            errors.insert(name, e);
            get(name).chars().take(max).collect()
        }
    };
    let organisation = text("organisation", rules::FIELD_MAX, "Organisation");
    let role = text("role", rules::FIELD_MAX, "Rolle");
    let region = text("region", rules::FIELD_MAX, "Land oder Konferenz");
    let about = text("about", rules::ABOUT_MAX, "Über mich");
    let phone = text("phone", rules::FIELD_MAX, "Telefon");
    let ticked = pairs
        .iter()
        .filter(|(k, _)| k == "topic")
        .map(|(_, v)| v.as_str());
    let topics = match rules::topics(ticked, get("tags")) {
        Ok(t) => t,
        Err(e) => {
            errors.insert("tags", e);
            Vec::new()
        }
    };
    let visibility = match get("visibility").parse() {
        Ok(v) => v,
        Err(_) => {
            errors.insert(
                "visibility",
                "Bitte wählen, wer das Profil sehen darf.".to_owned(),
            );
            ProfileVisibility::Nobody
        }
    };
    let fields = ProfileFields {
        organisation,
        role,
        region,
        topics,
        about,
        phone,
        share_email: on("share_email"),
        visibility,
        show_location: on("show_location"),
        match_points: on("match_points"),
    };
    (fields, errors)
}

#[derive(Deserialize, Default)]
pub struct SavedQuery {
    #[serde(default)]
    gespeichert: Option<String>,
}

/// The konvent-wide profile.
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn own_profile(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<SavedQuery>,
) -> AppResult<Response> {
    let me = ctx.signed_in()?;
    let profile = state.store.own_profile(me.user_id, EventId::new(0)).await?;
    let exists = profile.is_some();
    let fields = profile.map(|p| p.fields).unwrap_or_default();
    let saved = q.gespeichert.is_some();
    profile_page(&state, &ctx, None, fields, HashMap::new(), exists, saved).await
}

/// The profile for one event (the event's participants only).
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), slug = %slug))]
pub async fn event_profile(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
    Query(q): Query<SavedQuery>,
) -> AppResult<Response> {
    let info = event_info(&state, &slug).await?;
    let actor = require_actor(&state, &ctx, &info).await?;
    let own = state.store.own_profile(actor.who.id, info.event.id).await?;
    let exists = own.is_some();
    // A new event profile starts from the konvent-wide one.
    let fields = match own {
        Some(p) => p.fields,
        None => state
            .store
            .own_profile(actor.who.id, EventId::new(0))
            .await?
            .map(|p| p.fields)
            .unwrap_or_default(),
    };
    let event = Some((slug, info.event.title.clone()));
    let saved = q.gespeichert.is_some();
    profile_page(&state, &ctx, event, fields, HashMap::new(), exists, saved).await
}

async fn save(
    state: &AppState,
    ctx: &Ctx,
    account: AccountId,
    event: Option<(String, String)>,
    event_id: EventId,
    pairs: &[(String, String)],
    back: String,
) -> AppResult<Response> {
    contacts::spend(
        state,
        "network-profile",
        account,
        rules::PROFILE_SAVES_PER_HOUR,
    )
    .await?;
    if pairs.iter().any(|(k, _)| k == "delete") {
        state.store.delete_profile(account, event_id).await?;
        state.live.people.touch(event_id);
        return Ok(Redirect::to(&back).into_response());
    }
    let (fields, errors) = parse_profile(pairs);
    if errors.is_empty() {
        state.store.save_profile(account, event_id, &fields).await?;
        state.live.people.touch(event_id);
        return Ok(Redirect::to(&format!("{back}?gespeichert=1")).into_response());
    }
    profile_page(state, ctx, event, fields, errors, false, false).await
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn save_own_profile(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfPairs(pairs): CsrfPairs,
) -> AppResult<Response> {
    let me = ctx.signed_in()?.user_id;
    save(
        &state,
        &ctx,
        me,
        None,
        EventId::new(0),
        &pairs,
        "/konto/profil".into(),
    )
    .await
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), slug = %slug))]
pub async fn save_event_profile(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
    CsrfPairs(pairs): CsrfPairs,
) -> AppResult<Response> {
    let info = event_info(&state, &slug).await?;
    let actor = require_actor(&state, &ctx, &info).await?;
    let back = format!("/konvent/{slug}/profil");
    let event = Some((slug, info.event.title.clone()));
    save(
        &state,
        &ctx,
        actor.who.id,
        event,
        info.event.id,
        &pairs,
        back,
    )
    .await
}

// Who is here ----------------------------------------------------------------------------

/// One person in the list.
struct PersonLine {
    id: AccountId,
    name: String,
    fields: ProfileFields,
    online: bool,
    /// The room they are in (name, slug), when they allow it to be shown.
    room: Option<(String, String)>,
    me: bool,
    contact: bool,
}

/// The list region of who is here: the same template for the page and for its live
/// refresh (`/konvent/{e}/teilnehmende/liste`, fetched when [`watch`] tells the page).
#[derive(Template)]
#[template(path = "networking/people_list.html")]
struct PeopleList {
    c: Chrome,
    slug: String,
    people: Vec<PersonLine>,
    /// "N of M people shown".
    count_line: String,
    /// Where the region is fetched anew (with the page's filters).
    url: String,
}

#[derive(Template)]
#[template(path = "networking/people.html")]
struct PeoplePage {
    c: Chrome,
    slug: String,
    event_title: String,
    /// The rendered [`PeopleList`].
    list: String,
    filter: PeopleFilter,
    organisations: Vec<String>,
    regions: Vec<String>,
    topics: Vec<String>,
    has_profile: bool,
    notice: Option<String>,
    live_url: String,
    script: String,
}

#[derive(Deserialize, Serialize, Default, Clone)]
pub struct PeopleFilter {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    organisation: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    land: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    thema: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    online: Option<String>,
    /// A notice after a contact request (`gesendet`, `verbunden`).
    #[serde(default, skip_serializing)]
    hinweis: String,
}

impl PeopleFilter {
    fn keeps(&self, p: &Profile, online: bool) -> bool {
        let same = |a: &str, b: &str| b.is_empty() || a.eq_ignore_ascii_case(b);
        same(&p.fields.organisation, &self.organisation)
            && same(&p.fields.region, &self.land)
            && (self.thema.is_empty()
                || p.fields
                    .topics
                    .iter()
                    .any(|t| t.eq_ignore_ascii_case(&self.thema)))
            && (self.online.is_none() || online)
    }

    /// The filters as a query string (`?…`, or empty).
    fn query(&self) -> String {
        match serde_urlencoded::to_string(self) {
            Ok(q) if !q.is_empty() => format!("?{q}"),
            _ => String::new(),
        }
    }
}

fn sorted_unique(values: impl Iterator<Item = String>) -> Vec<String> {
    let mut v: Vec<String> = values.filter(|s| !s.is_empty()).collect();
    v.sort_by_key(|s| s.to_lowercase());
    v.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
    v
}

/// Who is here for one participant, with the filters' choices.
struct Here {
    list: PeopleList,
    profiles: Vec<Profile>,
}

async fn here(
    state: &AppState,
    ctx: &Ctx,
    info: &crate::live::EventInfo,
    viewer: AccountId,
    filter: &PeopleFilter,
) -> AppResult<Here> {
    let t = ctx.tr();
    let slug = info.event.slug.clone();
    let profiles = state.store.event_profiles(info.event.id).await?;
    let here = state.live.fanout.whereabouts(info.event.id);
    let overview = state.store.contact_overview(viewer).await?;
    let total = profiles.len();
    let people: Vec<PersonLine> = profiles
        .iter()
        .filter(|p| !overview.blocked.iter().any(|b| b.id == p.account.id))
        .filter_map(|p| {
            let online = here.contains_key(&p.account.id);
            if !filter.keeps(p, online) {
                return None;
            }
            let room = if p.fields.show_location {
                here.get(&p.account.id)
                    .and_then(|r| r.as_deref())
                    .and_then(|r| info.room(r))
                    .map(|r| (r.name.clone(), r.slug.clone()))
            } else {
                None
            };
            Some(PersonLine {
                id: p.account.id,
                me: p.account.id == viewer,
                contact: overview.contact_ids.contains(&p.account.id),
                name: p.account.name.clone(),
                // Shown only to a participant who may see them anyway: everything but
                // what the profile keeps for contacts.
                fields: ProfileFields {
                    phone: String::new(),
                    ..p.fields.clone()
                },
                online,
                room,
            })
        })
        .collect();
    Ok(Here {
        list: PeopleList {
            c: Chrome::new(ctx, "konvent", t.get("net-people-title")),
            count_line: t.with(
                "net-people-count",
                &[
                    ("shown", &people.len().to_string()),
                    ("total", &total.to_string()),
                ],
            ),
            url: format!("/konvent/{slug}/teilnehmende/liste{}", filter.query()),
            slug,
            people,
        },
        profiles,
    })
}

/// Who is here: the event's participants with a profile visible to them.
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), slug = %slug))]
pub async fn people(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
    Query(filter): Query<PeopleFilter>,
) -> AppResult<Html<String>> {
    let info = event_info(&state, &slug).await?;
    let actor = require_actor(&state, &ctx, &info).await?;
    let t = ctx.tr();
    let Here { list, profiles } = here(&state, &ctx, &info, actor.who.id, &filter).await?;
    let has_profile = profiles.iter().any(|p| p.account.id == actor.who.id);
    let organisations = sorted_unique(profiles.iter().map(|p| p.fields.organisation.clone()));
    let regions = sorted_unique(profiles.iter().map(|p| p.fields.region.clone()));
    let topics = sorted_unique(profiles.iter().flat_map(|p| p.fields.topics.clone()));
    let notice = match filter.hinweis.as_str() {
        "gesendet" => Some(t.get("net-request-sent")),
        "verbunden" => Some(t.get("net-request-connected")),
        _ => None,
    };
    render(&PeoplePage {
        c: Chrome::new(&ctx, "konvent", t.get("net-people-title")),
        event_title: info.event.title.clone(),
        list: list.render()?,
        live_url: format!("/konvent/{slug}/live"),
        script: crate::assets::url("live.js"),
        slug,
        filter,
        organisations,
        regions,
        topics,
        has_profile,
        notice,
    })
}

/// The list region alone, for the page's live refresh.
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), slug = %slug))]
pub async fn people_fragment(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
    Query(filter): Query<PeopleFilter>,
) -> AppResult<Html<String>> {
    let info = event_info(&state, &slug).await?;
    let actor = require_actor(&state, &ctx, &info).await?;
    let Here { list, .. } = here(&state, &ctx, &info, actor.who.id, &filter).await?;
    Ok(Html(list.render()?))
}
