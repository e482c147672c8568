//! OParl 1.1 (G8): every object the server serves validates against the official
//! draft-7 schemas (`shared/oparl/schema-draft7`, resolved locally, no network); lists
//! paginate and filter; errors are JSON; every answer allows any origin; confidential
//! resolutions never appear.

use konvent_core::ids::ResolutionId;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::path::PathBuf;
use std::time::Duration;

use jsonschema::{Registry, Validator};
use konvent_core::gremien::council::ResolutionInput;
use konvent_store::Actor;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

const SCHEMA_BASE: &str = "https://schema.oparl.org/1.1/";
const JSON_UTF8: &str = "application/json; charset=utf-8";

/// Distinctive texts of the confidential resolutions the tests create.
const DRAFT_TITLE: &str = "Geheim: Entwurf nur für den Rat";
const DRAFT_BODY: &str = "Vertraulicher Entwurfstext Alpha-7";
const DECIDED_TITLE: &str = "Beschlossen, aber noch nicht veröffentlicht";

fn schema_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/oparl/schema-draft7")
}

/// One validator per OParl type, with every schema file in a local registry so that
/// `$ref: "File.json"` and the like resolve without the network.
struct Schemas {
    validators: HashMap<String, Validator>,
}

/// The schemas' own `format: "url"`: an absolute http(s) URL without spaces.
fn is_url(value: &str) -> bool {
    (value.starts_with("http://") || value.starts_with("https://"))
        && value.len() > "https://".len()
        && !value.contains(char::is_whitespace)
}

impl Schemas {
    fn load() -> Self {
        let dir = schema_dir();
        let mut docs: Vec<(String, Value)> = Vec::new();
        for entry in std::fs::read_dir(&dir).expect("shared/oparl/schema-draft7 exists") {
            let path = entry.expect("entry").path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let name = path
                .file_stem()
                .and_then(|s| s.to_str())
                .expect("name")
                .to_owned();
            let text = std::fs::read_to_string(&path).expect("schema readable");
            docs.push((name, serde_json::from_str(&text).expect("schema is JSON")));
        }
        assert!(docs.len() >= 12, "all OParl schema files are there");
        let mut builder = Registry::new();
        for (name, doc) in &docs {
            // The files' `$id` is `…/1.1/Meeting`; their `$ref`s say `Meeting.json`.
            builder = builder
                .add(format!("{SCHEMA_BASE}{name}"), doc.clone())
                .expect("schema URI")
                .add(
                    format!("{SCHEMA_BASE}{name}.json"),
                    json!({ "$ref": format!("{SCHEMA_BASE}{name}") }),
                )
                .expect("alias URI");
        }
        let registry = builder.prepare().expect("registry of OParl schemas");
        let validators = docs
            .iter()
            .map(|(name, doc)| {
                let validator = jsonschema::draft7::options()
                    .offline()
                    .with_registry(&registry)
                    .should_validate_formats(true)
                    .with_format("url", is_url)
                    .build(doc)
                    .unwrap_or_else(|e| panic!("schema {name} compiles: {e}"));
                (name.clone(), validator)
            })
            .collect();
        Self { validators }
    }

    /// The validator's complaints about `object` as an instance of `type_name`.
    fn errors(&self, type_name: &str, object: &Value) -> Vec<String> {
        match self.validators.get(type_name) {
            Some(v) => v
                .iter_errors(object)
                .map(|e| format!("{e} (at {})", e.instance_path()))
                .collect(),
            None => vec![format!("no schema for type {type_name}")],
        }
    }
}

/// Everything found by following the OParl links from the entry point.
#[derive(Default)]
struct Crawl {
    /// id → (type, object), embedded objects included.
    objects: BTreeMap<String, (String, Value)>,
    /// Every response body, to search for what must not be there.
    bodies: Vec<String>,
    failures: Vec<String>,
}

impl Crawl {
    fn count(&self, type_name: &str) -> usize {
        self.objects
            .values()
            .filter(|(t, _)| t == type_name)
            .count()
    }

    /// Validates every OParl object in `value` (embedded ones too) and collects the URLs
    /// under `api` that it mentions.
    fn visit(&mut self, schemas: &Schemas, api: &str, value: &Value, found: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                let type_name = map
                    .get("type")
                    .and_then(Value::as_str)
                    .and_then(|t| t.strip_prefix(SCHEMA_BASE));
                if let Some(type_name) = type_name {
                    self.check(schemas, type_name, value);
                }
                for child in map.values() {
                    self.visit(schemas, api, child, found);
                }
            }
            Value::Array(items) => {
                for item in items {
                    self.visit(schemas, api, item, found);
                }
            }
            Value::String(s) if s.starts_with(api) => found.push(s.clone()),
            _ => {}
        }
    }

    fn check(&mut self, schemas: &Schemas, type_name: &str, object: &Value) {
        let id = object["id"].as_str().unwrap_or("<ohne id>").to_owned();
        for e in schemas.errors(type_name, object) {
            self.failures.push(format!("{id} ({type_name}): {e}"));
        }
        // OParl 1.1 makes both mandatory although the schema does not require them.
        for key in ["created", "modified"] {
            if object.get(key).and_then(Value::as_str).is_none() {
                self.failures
                    .push(format!("{id} ({type_name}): `{key}` is missing"));
            }
        }
        match self.objects.get(&id) {
            Some((_, seen)) if seen != object => self.failures.push(format!(
                "{id} ({type_name}): differs between where it is embedded or listed and \
                 where it is served"
            )),
            _ => {
                self.objects
                    .insert(id, (type_name.to_owned(), object.clone()));
            }
        }
    }
}

async fn crawl(app: &TestApp, schemas: &Schemas) -> Crawl {
    let api = app.url("/oparl/v1/");
    let client = reqwest::Client::new();
    let start = app.url("/oparl/v1/system");
    let mut queue = VecDeque::from([start.clone()]);
    let mut seen = BTreeSet::from([start]);
    let mut crawl = Crawl::default();
    while let Some(url) = queue.pop_front() {
        assert!(seen.len() < 3000, "the crawl does not end");
        let response = client.get(&url).send().await.expect("GET");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.text().await.expect("body");
        if status != 200 {
            crawl
                .failures
                .push(format!("{url}: status {status}: {body}"));
            continue;
        }
        if headers
            .get("access-control-allow-origin")
            .and_then(|v| v.to_str().ok())
            != Some("*")
        {
            crawl.failures.push(format!("{url}: no CORS header"));
        }
        if headers.get("content-type").and_then(|v| v.to_str().ok()) != Some(JSON_UTF8) {
            crawl
                .failures
                .push(format!("{url}: content type {headers:?}"));
        }
        let value: Value = match serde_json::from_str(&body) {
            Ok(v) => v,
            Err(e) => {
                crawl.failures.push(format!("{url}: not JSON: {e}"));
                continue;
            }
        };
        crawl.bodies.push(body);
        let mut found = Vec::new();
        if let (Some(data), Some(links)) = (value["data"].as_array(), value["links"].as_object()) {
            if value["pagination"].as_object().is_none() {
                crawl
                    .failures
                    .push(format!("{url}: list without pagination"));
            }
            for object in data {
                crawl.visit(schemas, &api, object, &mut found);
            }
            found.extend(links.values().filter_map(|l| l.as_str().map(str::to_owned)));
        } else {
            if value["id"].as_str() != Some(url.as_str()) {
                crawl
                    .failures
                    .push(format!("{url}: served object has id {}", value["id"]));
            }
            crawl.visit(schemas, &api, &value, &mut found);
        }
        for next in found {
            if next.starts_with(&api) && seen.insert(next.clone()) {
                queue.push_back(next);
            }
        }
    }
    crawl
}

/// A draft and a decided resolution of session 46, relevant for the DMK: both are
/// confidential decision papers.
async fn confidential_resolutions(app: &TestApp) -> Vec<ResolutionId> {
    let actor = Actor::system("Test");
    let relevance = [("DMK".to_owned(), "Betrifft die DMK".to_owned())];
    let mut ids = Vec::new();
    for (number, title, body, state) in [
        ("2026/01", DRAFT_TITLE, DRAFT_BODY, "draft"),
        ("2026/02", DECIDED_TITLE, "", "decided"),
    ] {
        let input = ResolutionInput::parse(number, title, body, "", "46", state).expect("valid");
        ids.push(
            app.store
                .save_resolution(&actor, None, &input, &relevance)
                .await
                .expect("saved"),
        );
    }
    ids
}

#[tokio::test]
async fn every_oparl_object_the_server_serves_validates_against_the_schema() {
    let app = spawn_app().await;
    let confidential = confidential_resolutions(&app).await;
    let schemas = Schemas::load();
    let crawl = crawl(&app, &schemas).await;
    assert!(
        crawl.failures.is_empty(),
        "{} problems:\n{}",
        crawl.failures.len(),
        crawl.failures.join("\n")
    );
    // The crawl reached every kind of object the demo data gives.
    for (type_name, at_least) in [
        ("System", 1),
        ("Body", 1),
        ("Organization", 3),
        ("Person", 5),
        ("Membership", 5),
        ("Meeting", 12),
        ("AgendaItem", 4),
        ("Location", 6),
        ("Paper", 4),
        ("Consultation", 2),
        ("File", 4),
    ] {
        assert!(
            crawl.count(type_name) >= at_least,
            "{type_name}: {} found",
            crawl.count(type_name)
        );
    }
    // Published resolutions are there; the confidential ones are nowhere.
    let references: Vec<&str> = crawl
        .objects
        .values()
        .filter(|(t, _)| t == "Paper")
        .filter_map(|(_, p)| p["reference"].as_str())
        .collect();
    assert!(references.contains(&"2024/15"), "{references:?}");
    for body in &crawl.bodies {
        for secret in ["2026/01", "2026/02", DRAFT_TITLE, DRAFT_BODY, DECIDED_TITLE] {
            assert!(!body.contains(secret), "{secret} leaked: {body}");
        }
    }
    for id in confidential {
        for kind in ["paper", "file", "consultation"] {
            let r = reqwest::get(app.url(&format!("/oparl/v1/{kind}/{id}")))
                .await
                .expect("GET");
            assert_eq!(r.status(), 404, "{kind}/{id}");
        }
    }
}

#[tokio::test]
async fn the_validator_catches_what_the_schemas_forbid() {
    let schemas = Schemas::load();
    let examples = schema_dir().join("../examples");
    let read = |name: &str| -> Value {
        let text = std::fs::read_to_string(examples.join(name)).expect("example");
        serde_json::from_str(&text).expect("JSON")
    };
    assert!(schemas.errors("Person", &read("Person-01.json")).is_empty());
    // The official example's embedded agenda item lacks `order`, required since 1.1:
    // the `$ref` to AgendaItem.json is followed.
    let errors = schemas.errors("Meeting", &read("Meeting-01.json"));
    assert!(errors.iter().any(|e| e.contains("order")), "{errors:?}");
    let bad = json!({
        "id": "http://x/oparl/v1/meeting/1",
        "type": "https://schema.oparl.org/1.1/Meeting",
        "start": "gestern",
        "organization": "not a list",
    });
    assert_eq!(schemas.errors("Meeting", &bad).len(), 2);
    let bad_url = json!({
        "id": "relative/1",
        "type": "https://schema.oparl.org/1.1/Location",
    });
    assert_eq!(schemas.errors("Location", &bad_url).len(), 1);
}

async fn get(app: &TestApp, path: &str) -> (u16, reqwest::header::HeaderMap, Value) {
    let r = reqwest::get(app.url(path)).await.expect("GET");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let body = r.text().await.expect("body");
    let value = serde_json::from_str(&body).unwrap_or_else(|_| panic!("{path}: JSON: {body}"));
    (status, headers, value)
}

fn header<'h>(headers: &'h reqwest::header::HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

#[tokio::test]
async fn every_answer_is_json_for_any_origin_errors_included() {
    let app = spawn_app().await;
    for (path, status) in [
        ("/oparl/v1/system", 200),
        ("/oparl/v1/bodies", 200),
        ("/oparl/v1/body/1", 200),
        ("/oparl/v1/body/1/meeting", 200),
        ("/oparl/v1/meeting/999999", 404),
        ("/oparl/v1/paper/keine-zahl", 404),
        ("/oparl/v1/einhorn/1", 404),
        ("/oparl/v1/body/2/person", 404),
        ("/oparl/v1/body/1/einhorn", 404),
        ("/oparl/v1/nichts", 404),
        ("/oparl/v2/system", 404),
        ("/oparl/v1/body/1/paper?created_since=gestern", 400),
        ("/oparl/v1/body/1/paper?page=0", 400),
    ] {
        let (got, headers, body) = get(&app, path).await;
        assert_eq!(got, status, "{path}: {body}");
        assert_eq!(
            header(&headers, "access-control-allow-origin"),
            Some("*"),
            "{path}"
        );
        assert_eq!(header(&headers, "content-type"), Some(JSON_UTF8), "{path}");
        if status != 200 {
            let code = if status == 404 {
                "not_found"
            } else {
                "bad_request"
            };
            assert_eq!(body["error"]["code"], code, "{path}");
            assert!(body["error"]["message"].as_str().is_some(), "{path}");
        }
    }
    let (_, _, system) = get(&app, "/oparl/v1/system").await;
    assert_eq!(system["oparlVersion"], "https://schema.oparl.org/1.1/");
    assert_eq!(system["body"], app.url("/oparl/v1/bodies"));
}

fn ids(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter_map(|o| o["id"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn lists_paginate_and_every_page_keeps_the_filters() {
    let app = spawn_app().await;
    let (_, _, all) = get(&app, "/oparl/v1/body/1/person").await;
    let all_ids = ids(&all);
    let total = all_ids.len();
    assert!(total > 6, "the demo directory has persons: {total}");
    assert_eq!(all["pagination"]["totalElements"], total);
    assert_eq!(all["pagination"]["totalPages"], 1);
    assert!(all["links"].get("next").is_none());

    let mut url = app.url(
        "/oparl/v1/body/1/person?elementsPerPage=3&created_since=2000-01-01T00%3A00%3A00%2B01%3A00",
    );
    let mut paged = Vec::new();
    let mut pages = 0;
    loop {
        pages += 1;
        let page: Value = reqwest::get(&url)
            .await
            .expect("GET")
            .json()
            .await
            .expect("JSON");
        assert_eq!(page["pagination"]["currentPage"], pages);
        assert_eq!(page["pagination"]["elementsPerPage"], 3);
        assert_eq!(page["pagination"]["totalElements"], total);
        assert_eq!(page["pagination"]["totalPages"], total.div_ceil(3));
        assert_eq!(page["links"].get("prev").is_some(), pages > 1);
        paged.extend(ids(&page));
        match page["links"]["next"].as_str() {
            Some(next) => {
                assert!(next.contains("elementsPerPage=3"), "{next}");
                assert!(next.contains("created_since="), "{next}");
                url = next.to_owned();
            }
            None => break,
        }
    }
    assert_eq!(pages, total.div_ceil(3));
    assert_eq!(paged, all_ids, "pages give every person once, in order");
}

#[tokio::test]
async fn time_filters_select_what_changed() {
    let app = spawn_app().await;
    let lists = [
        "organization",
        "person",
        "membership",
        "meeting",
        "agendaitem",
        "paper",
        "consultation",
        "file",
        "location",
        "legislativeterm",
    ];
    for list in lists {
        let path = format!("/oparl/v1/body/1/{list}");
        let (_, _, all) = get(&app, &path).await;
        let (_, _, past) = get(
            &app,
            &format!("{path}?modified_since=2000-01-01T00%3A00%3A00%2B01%3A00&omit_deleted=true"),
        )
        .await;
        assert_eq!(ids(&past), ids(&all), "{list}");
        for filter in [
            "modified_since=2999-01-01T00%3A00%3A00%2B01%3A00",
            "created_until=2000-01-01T00%3A00%3A00Z",
        ] {
            let (status, _, none) = get(&app, &format!("{path}?{filter}")).await;
            assert_eq!(status, 200);
            assert_eq!(none["data"], json!([]), "{list}?{filter}");
            assert_eq!(none["pagination"]["totalElements"], 0);
        }
    }

    // Everything so far is older than `since`; then session 49, still to come (held
    // sessions take no new items), gets a new item.
    let upcoming = konvent_core::gremien::council::SessionInput::parse(
        "49",
        "2099-03-25",
        "",
        "",
        "",
        "",
        "planned",
    )
    .expect("session");
    app.store
        .create_session(&Actor::system("Test"), &upcoming, 21)
        .await
        .expect("session 49");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let since = jiff::Timestamp::from_second(jiff::Timestamp::now().as_second())
        .expect("now")
        .to_string();
    app.store
        .add_agenda_item(&Actor::system("Test"), 49, "Neuer Tagesordnungspunkt")
        .await
        .expect("item added");
    let query = format!("modified_since={}", since.replace(':', "%3A"));
    let (_, _, items) = get(&app, &format!("/oparl/v1/body/1/agendaitem?{query}")).await;
    let names: Vec<&str> = items["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter_map(|i| i["name"].as_str())
        .collect();
    assert_eq!(names, vec!["Neuer Tagesordnungspunkt"]);
    let (_, _, meetings) = get(&app, &format!("/oparl/v1/body/1/meeting?{query}")).await;
    let names: Vec<&str> = meetings["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter_map(|m| m["name"].as_str())
        .collect();
    assert_eq!(names, vec!["49. Sitzung des IT-Planungsrats"]);
}

#[tokio::test]
async fn an_item_taken_off_the_agenda_is_served_as_deleted_unless_omitted() {
    let app = spawn_app().await;
    let session = app.store.session(46).await.expect("46");
    let item = app.store.agenda(session.id).await.expect("agenda")[0].id;
    let before = app.store.session(46).await.expect("46").modified_at;
    app.store
        .remove_agenda_item(&Actor::system("Test"), 46, item)
        .await
        .expect("removed");
    assert!(
        app.store.session(46).await.expect("46").modified_at > before,
        "the meeting changed"
    );

    let url = format!("/oparl/v1/agendaitem/{item}");
    let (status, _, object) = get(&app, &url).await;
    assert_eq!(status, 200, "a deleted object stays retrievable");
    assert_eq!(object["deleted"], json!(true));
    let listed = |page: &Value| ids(page).iter().any(|id| id.ends_with(&url));
    let (_, _, all) = get(&app, "/oparl/v1/body/1/agendaitem").await;
    assert!(listed(&all), "listed as deleted");
    let (_, _, omitted) = get(&app, "/oparl/v1/body/1/agendaitem?omit_deleted=true").await;
    assert!(!listed(&omitted), "omit_deleted leaves it out");
    let (_, _, meeting) = get(&app, &format!("/oparl/v1/meeting/{}", session.id)).await;
    assert!(
        meeting["agendaItem"].as_array().is_none_or(|items| items
            .iter()
            .all(|i| i["id"].as_str().is_some_and(|id| !id.ends_with(&url)))),
        "the meeting no longer lists it"
    );
}
