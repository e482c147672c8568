//! OParl 1.1 (G8): everything public about the council and the conferences, read-only,
//! for open-data clients. Entry point `/oparl/v1/system`; one Body (the IT-Planungsrat)
//! at `/oparl/v1/body/1` with its external lists at `/oparl/v1/body/1/{kind}`; every
//! object at `/oparl/v1/{kind}/{key}`.
//!
//! Every answer is `application/json; charset=utf-8` with
//! `Access-Control-Allow-Origin: *`; errors are `{"error":{"code","message"}}` (404 for
//! unknown objects and paths, 400 for bad list parameters). Object ids are absolute URLs
//! on the configured `public_url`, else on the request's host.

mod council;
mod directory;
mod documents;
mod list;
mod model;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::header::{ACCESS_CONTROL_ALLOW_ORIGIN, CONTENT_TYPE, HOST};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::map_response;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use konvent_store::StoreError;
use serde_json::{Value, json};

use crate::AppState;
use list::ListQuery;
use model::{BODY_KEY, Item, Kind, PREFIX, Urls};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(&format!("{PREFIX}/system"), get(system))
        .route(&format!("{PREFIX}/bodies"), get(bodies))
        .route(&format!("{PREFIX}/body/{{body}}/{{list}}"), get(list))
        .route(&format!("{PREFIX}/{{kind}}/{{key}}"), get(object))
        .route("/oparl", get(unknown))
        .route("/oparl/{*rest}", get(unknown))
        .layer(map_response(cors))
}

/// Every OParl answer may be read by scripts from any site.
async fn cors(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    response
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    (
        status,
        [(CONTENT_TYPE, "application/json; charset=utf-8")],
        bytes,
    )
        .into_response()
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    json_response(
        status,
        &json!({ "error": { "code": code, "message": message } }),
    )
}

fn not_found() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "not_found",
        "Dieses OParl-Objekt gibt es hier nicht.",
    )
}

fn internal(err: &StoreError) -> Response {
    tracing::error!(error = %err, "OParl: reading the store failed");
    error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "Interner Fehler; bitte später erneut versuchen.",
    )
}

/// A host name with an optional port, nothing else (the header is the client's word).
fn plausible_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
}

/// The base of all ids: the configured public URL, else the host the client asked for.
fn urls(state: &AppState, headers: &HeaderMap) -> Urls {
    if !state.settings.public_url.is_empty() {
        return Urls::new(&state.settings.public_base());
    }
    match headers.get(HOST).and_then(|h| h.to_str().ok()) {
        Some(host) if plausible_host(host) => Urls::new(&format!("http://{host}")),
        _ => Urls::new(&state.settings.public_base()),
    }
}

#[tracing::instrument(level = "debug", skip_all)]
async fn system(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let urls = urls(&state, &headers);
    match directory::origin(&state.store).await {
        Ok(origin) => json_response(StatusCode::OK, &directory::system(&urls, origin)),
        Err(e) => internal(&e),
    }
}

#[tracing::instrument(level = "debug", skip_all)]
async fn bodies(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let urls = urls(&state, &headers);
    let list_url = urls.bodies();
    page(&state, &urls, Kind::Body, query.as_deref(), &list_url).await
}

#[tracing::instrument(level = "debug", skip_all, fields(body = %body, kind = %segment))]
async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((body, segment)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Response {
    let Some(kind) = Kind::from_segment(&segment).filter(|k| *k != Kind::Body) else {
        return not_found();
    };
    if body != BODY_KEY {
        return not_found();
    }
    let urls = urls(&state, &headers);
    let list_url = urls.list(kind);
    page(&state, &urls, kind, query.as_deref(), &list_url).await
}

async fn page(
    state: &AppState,
    urls: &Urls,
    kind: Kind,
    query: Option<&str>,
    list_url: &str,
) -> Response {
    let query = match ListQuery::parse(query) {
        Ok(q) => q,
        Err(message) => return error(StatusCode::BAD_REQUEST, "bad_request", &message),
    };
    match items(state, urls, kind).await {
        Ok(items) => json_response(StatusCode::OK, &query.page(items, list_url)),
        Err(e) => internal(&e),
    }
}

#[tracing::instrument(level = "debug", skip_all, fields(kind = %segment, key = %key))]
async fn object(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((segment, key)): Path<(String, String)>,
) -> Response {
    let Some(kind) = Kind::from_segment(&segment) else {
        return not_found();
    };
    let urls = urls(&state, &headers);
    let id = urls.object(kind, &key);
    match items(&state, &urls, kind).await {
        Ok(items) => match items.into_iter().find(|i| i.id == id) {
            Some(item) => json_response(StatusCode::OK, &item.json),
            None => not_found(),
        },
        Err(e) => internal(&e),
    }
}

#[tracing::instrument(level = "debug", skip_all)]
async fn unknown() -> Response {
    not_found()
}

/// Every object of a kind, in a stable order.
async fn items(state: &AppState, urls: &Urls, kind: Kind) -> Result<Vec<Item>, StoreError> {
    Ok(match kind {
        Kind::Body => vec![directory::body(
            urls,
            directory::origin(&state.store).await?,
        )],
        Kind::LegislativeTerm => Vec::new(),
        Kind::Organization | Kind::Person | Kind::Membership => {
            let d = directory::load(state, urls).await?;
            match kind {
                Kind::Organization => d.organizations,
                Kind::Person => d.persons,
                _ => d.memberships,
            }
        }
        Kind::Meeting
        | Kind::AgendaItem
        | Kind::Paper
        | Kind::Consultation
        | Kind::File
        | Kind::Location => {
            let c = council::load(state, urls).await?;
            match kind {
                Kind::Meeting => c.meetings,
                Kind::AgendaItem => c.agenda_items,
                Kind::Paper => c.papers,
                Kind::Consultation => c.consultations,
                Kind::File => c.files,
                _ => c.locations,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_host_names_are_taken_from_the_header() {
        assert!(plausible_host("127.0.0.1:8080"));
        assert!(plausible_host("konvent.example.org"));
        assert!(plausible_host("[::1]:8080"));
        assert!(!plausible_host("evil.example/<script>"));
        assert!(!plausible_host("a b"));
        assert!(!plausible_host(""));
    }
}
