//! Search (issue 20): the page `/suche` and the API `/api/v1/search`, over the one index
//! of konvent-store's `search`. A searcher finds only rows whose audience they belong
//! to, and the audiences are decided here by the same `authz` rules as each kind's page.

use askama::Template;
use axum::Json;
use axum::extract::{Query, State};
use axum::response::Html;
use konvent_core::authz::Action;
use konvent_core::gremien::Abbreviation;
use konvent_core::search::{
    PAGE_MAX, PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX, QUERY_MAX_CHARS, QueryError, Segment, Terms,
};
use konvent_store::{SEARCH_KINDS, SearchHit, SearchQuery};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::ctx::Ctx;
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::layout::{Chrome, date_de, render};
use crate::live::Actor;

/// The audiences (see konvent-store's `search::Doc`) the reader belongs to.
async fn audiences(state: &AppState, ctx: &Ctx) -> AppResult<Vec<String>> {
    let mut out = vec!["public".to_owned()];
    let Some(principal) = &ctx.principal else {
        return Ok(out);
    };
    out.push("signed_in".into());
    if ctx.may(Action::ReadConfidential) {
        out.push("confidential".into());
    }
    // The minutes' drafts and final versions: the office, by the minutes page's rule
    // (`council::minutes::readable`).
    if ctx.may(Action::EditCouncil) {
        out.push("council_office".into());
    }
    for c in state.store.conferences().await? {
        if Abbreviation::parse(&c.abbreviation).is_ok_and(|a| ctx.may(Action::WorkFor(&a))) {
            out.push(format!("conference:{}", c.abbreviation));
        }
    }
    for t in state.store.topics().await? {
        if ctx.may(Action::ReadDraftTargetPicture(t.id)) {
            out.push(format!("topic:{}", t.id));
        }
    }
    // The café's impulses: whoever may enter the event (registered, organizer,
    // moderator; not removed).
    for e in state.store.events().await? {
        let info = crate::events::event_info(state, &e.slug).await?;
        if Actor::of(&state.store, &info, principal).await?.is_some() {
            out.push(format!("event:{}", e.id));
        }
    }
    Ok(out)
}

/// The form's fields, named in German on the page; the API takes the English names.
/// The form sends its empty fields as empty values, which mean "no filter" there; the
/// API refuses an empty kind, year, page or per_page, as its schema says.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Params {
    #[serde(default, alias = "q")]
    q: String,
    #[serde(alias = "kind")]
    art: Option<String>,
    #[serde(alias = "year")]
    jahr: Option<String>,
    #[serde(default, alias = "conference")]
    fachmk: String,
    #[serde(default, alias = "state")]
    stand: String,
    #[serde(alias = "page")]
    seite: Option<String>,
    per_page: Option<String>,
}

impl Params {
    /// The typed parameters sent, but empty.
    fn empty_typed(&self) -> bool {
        [&self.art, &self.jahr, &self.seite, &self.per_page]
            .into_iter()
            .any(|v| v.as_deref().is_some_and(|v| v.trim().is_empty()))
    }
}

/// A validated search: the store's query and the page asked for.
struct Asked {
    query: SearchQuery,
    page: u32,
    per_page: u32,
}

fn error_text(t: &Tr, e: QueryError) -> String {
    t.with(e.code(), &[("max", &QUERY_MAX_CHARS.to_string())])
}

fn parse(t: &Tr, p: &Params) -> Result<Asked, String> {
    let terms = Terms::default().query(&p.q).map_err(|e| error_text(t, e))?;
    let opt = |s: &str| {
        let s = s.trim();
        (!s.is_empty()).then(|| s.to_owned())
    };
    let given = |s: &Option<String>| s.as_deref().and_then(opt);
    let kind = given(&p.art);
    if kind.as_deref().is_some_and(|k| !SEARCH_KINDS.contains(&k)) {
        return Err(t.get("search-bad-kind"));
    }
    let year = match given(&p.jahr) {
        None => None,
        Some(y) => Some(
            y.parse::<i64>()
                .ok()
                .filter(|y| (1900..=2200).contains(y))
                .ok_or_else(|| t.get("search-bad-year"))?,
        ),
    };
    // Conference and state are filters by value: one that names nothing finds nothing;
    // only their length is limited (counted as sent).
    if p.fachmk.chars().count() > 24 {
        return Err(t.get("search-bad-conference"));
    }
    let conference = opt(&p.fachmk);
    if p.stand.chars().count() > 20 {
        return Err(t.get("search-bad-state"));
    }
    let state = opt(&p.stand);
    let number = |s: &Option<String>, default: u32, max: u32| -> Result<u32, String> {
        match given(s) {
            None => Ok(default),
            Some(v) => v
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| t.with("search-bad-number", &[("max", &max.to_string())])),
        }
    };
    let page = number(&p.seite, 1, PAGE_MAX)?;
    let per_page = number(&p.per_page, PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX)?;
    Ok(Asked {
        query: SearchQuery {
            terms,
            audiences: Vec::new(),
            kind,
            year,
            conference,
            state,
            limit: i64::from(per_page),
            offset: i64::from((page - 1) * per_page),
        },
        page,
        per_page,
    })
}

async fn run(state: &AppState, ctx: &Ctx, mut asked: Asked) -> AppResult<(Vec<SearchHit>, i64)> {
    asked.query.audiences = audiences(state, ctx).await?;
    Ok(state.store.search(&asked.query).await?)
}

// ---- The page ----

struct HitView {
    kind: String,
    title: String,
    snippet: Vec<Segment>,
    day: Option<String>,
    state: String,
    link: String,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    c: Chrome,
    q: String,
    art: String,
    jahr: String,
    fachmk: String,
    stand: String,
    kinds: Vec<(String, String)>,
    max_chars: usize,
    error: Option<String>,
    searched: bool,
    hits: Vec<HitView>,
    total: i64,
    summary: String,
    previous: Option<String>,
    next: Option<String>,
}

fn page_link(p: &Params, page: u32) -> String {
    let mut url = url::form_urlencoded::Serializer::new(String::new());
    url.append_pair("q", &p.q);
    for (k, v) in [
        ("art", p.art.as_deref().unwrap_or_default()),
        ("jahr", p.jahr.as_deref().unwrap_or_default()),
        ("fachmk", &p.fachmk),
        ("stand", &p.stand),
    ] {
        if !v.trim().is_empty() {
            url.append_pair(k, v);
        }
    }
    url.append_pair("seite", &page.to_string());
    format!("/suche?{}", url.finish())
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(p): Query<Params>,
) -> AppResult<Html<String>> {
    let t = ctx.tr();
    let mut view = SearchPage {
        c: Chrome::new(&ctx, "suche", t.get("search-title")),
        q: p.q.clone(),
        art: p.art.clone().unwrap_or_default(),
        jahr: p.jahr.clone().unwrap_or_default(),
        fachmk: p.fachmk.clone(),
        stand: p.stand.clone(),
        kinds: SEARCH_KINDS
            .iter()
            .map(|k| ((*k).to_owned(), t.get(&format!("search-kind-{k}"))))
            .collect(),
        max_chars: QUERY_MAX_CHARS,
        error: None,
        searched: false,
        hits: Vec::new(),
        total: 0,
        summary: String::new(),
        previous: None,
        next: None,
    };
    // An empty field shows the form only.
    if p.q.trim().is_empty() {
        return render(&view);
    }
    let asked = match parse(&t, &p) {
        Ok(a) => a,
        Err(message) => {
            view.error = Some(message);
            return render(&view);
        }
    };
    let terms = asked.query.terms.clone();
    let (page, per_page) = (asked.page, asked.per_page);
    let (hits, total) = run(&state, &ctx, asked).await?;
    let stemmer = Terms::default();
    view.searched = true;
    view.total = total;
    view.summary = t.with("search-summary", &[("count", &total.to_string())]);
    view.previous = (page > 1).then(|| page_link(&p, page - 1));
    view.next =
        (i64::from(page * per_page) < total && page < PAGE_MAX).then(|| page_link(&p, page + 1));
    view.hits = hits
        .into_iter()
        .map(|h| HitView {
            kind: t.get(&format!("search-kind-{}", h.kind)),
            snippet: stemmer.snippet(&h.body, &terms),
            title: h.title,
            day: h.day.as_ref().map(date_de),
            state: if h.state.is_empty() {
                String::new()
            } else {
                t.get(&format!("search-state-{}", h.state))
            },
            link: h.link,
        })
        .collect();
    render(&view)
}

// ---- The API ----

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn api(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(p): Query<Params>,
) -> AppResult<Json<Value>> {
    let t = ctx.tr();
    if p.empty_typed() {
        return Err(AppError::BadRequest(t.get("search-empty-parameter")));
    }
    let asked = match parse(&t, &p) {
        Ok(asked) => asked,
        // A query of only signs or stop words finds nothing (an empty one is refused);
        // the page says "Bitte mindestens ein Wort eingeben" beside the field instead.
        Err(_)
            if !p.q.trim().is_empty()
                && matches!(Terms::default().query(&p.q), Err(QueryError::Empty)) =>
        {
            // The filters are checked all the same.
            let probe = Params {
                q: "konvent".to_owned(),
                ..p.clone()
            };
            parse(&t, &probe).map_err(AppError::BadRequest)?;
            return Ok(Json(json!({
                "data": [],
                "terms": [],
                "total": 0,
                "page": 1,
                "per_page": PAGE_SIZE_DEFAULT,
            })));
        }
        Err(message) => return Err(AppError::BadRequest(message)),
    };
    let terms = asked.query.terms.clone();
    let (page, per_page) = (asked.page, asked.per_page);
    let (hits, total) = run(&state, &ctx, asked).await?;
    let stemmer = Terms::default();
    let data: Vec<Value> = hits
        .into_iter()
        .map(|h| {
            json!({
                "kind": h.kind,
                "title": h.title,
                "snippet": stemmer.snippet(&h.body, &terms),
                "date": h.day,
                "state": h.state,
                "conferences": h.conferences,
                "link": h.link,
            })
        })
        .collect();
    Ok(Json(json!({
        "data": data,
        "terms": terms,
        "total": total,
        "page": page,
        "per_page": per_page,
    })))
}
