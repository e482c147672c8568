//! System, Body, and the directory as OParl: the council, FITKO and every conference as
//! Organization, the persons of the directory as Person, and every role assignment that
//! has a person (vacancies have none) as Membership of the conference.
//!
//! The store does not hand out when persons and assignments were created or changed, so
//! those times are read from the audit log, which records every change to them; an
//! object without audit entries gets the time the directory was set up.

use konvent_core::gremien::RoleKind;
use konvent_core::ids::{ConferenceId, PersonId};
use konvent_store::{Assignment, Person, Store, StoreError};
use serde_json::{Value, json};

use super::model::{Item, Kind, Obj, SCHEMA, Urls, datetime, latest};
use crate::AppState;

pub const COUNCIL: &str = "council";
pub const FITKO: &str = "fitko";

const COUNCIL_WEBSITE: &str = "https://www.it-planungsrat.de";
const FITKO_WEBSITE: &str = "https://www.fitko.de";

/// The URL key of a conference's Organization.
pub fn conference_key(conference_id: ConferenceId) -> String {
    format!("conference-{conference_id}")
}

/// The organizations, persons and memberships, each in a stable order.
pub struct Directory {
    pub organizations: Vec<Item>,
    pub persons: Vec<Item>,
    pub memberships: Vec<Item>,
}

/// When konvent's data begins: the earliest conference or session. The objects that never
/// change (System, Body, council, FITKO) carry this time as created and modified.
pub async fn origin(store: &Store) -> Result<i64, StoreError> {
    let conferences = store.conferences().await?;
    let sessions = store.sessions().await?;
    Ok(conferences
        .iter()
        .map(|c| c.created_at)
        .chain(sessions.iter().map(|s| s.created_at))
        .min()
        .unwrap_or(0))
}

pub fn system(urls: &Urls, origin: i64) -> Value {
    json!({
        "id": urls.system(),
        "type": format!("{SCHEMA}System"),
        "oparlVersion": SCHEMA,
        "name": "konvent – IT-Planungsrat",
        "body": urls.bodies(),
        "website": urls.web("/"),
        "web": urls.web("/gremien"),
        "created": datetime(origin),
        "modified": datetime(origin),
    })
}

pub fn body(urls: &Urls, origin: i64) -> Item {
    let mut obj = Obj::new(Kind::Body, &urls.body())
        .set("system", urls.system())
        .set("name", "IT-Planungsrat")
        .set("shortName", "IT-PLR")
        .set("website", COUNCIL_WEBSITE)
        .set("classification", "Bund-Länder-Gremium")
        .set("legislativeTerm", Value::Array(vec![]));
    for kind in [
        Kind::Organization,
        Kind::Person,
        Kind::Meeting,
        Kind::Paper,
        Kind::AgendaItem,
        Kind::Consultation,
        Kind::File,
        Kind::Membership,
    ] {
        obj = obj.set(&lower_first(kind.name()), urls.list(kind));
    }
    obj.set("locationList", urls.list(Kind::Location))
        .set("legislativeTermList", urls.list(Kind::LegislativeTerm))
        .set("web", urls.web("/gremien"))
        .item(origin, origin)
}

fn lower_first(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The role as the council names it.
pub fn role_name(role: RoleKind) -> &'static str {
    match role {
        RoleKind::Spokesperson => "Fachpolitische:r Sprecher:in",
        RoleKind::Contact => "Ansprechpartner:in",
        RoleKind::Rapporteur => "Berichterstatter:in",
    }
}

pub async fn load(state: &AppState, urls: &Urls) -> Result<Directory, StoreError> {
    let store = &state.store;
    let mut conferences = store.conferences().await?;
    conferences.sort_by_key(|c| c.id);
    let assignments = store.assignments_by_conference().await?;
    let mut persons = store.persons().await?;
    persons.sort_by_key(|p| p.id);
    let origin = origin(store).await?;

    // Memberships, with their person and conference.
    let mut memberships: Vec<(PersonId, ConferenceId, Item)> = Vec::new();
    for c in &conferences {
        for a in assignments.get(&c.id).into_iter().flatten() {
            if let Some(person) = &a.person {
                let item = membership(urls, a, person, a.created_at, a.modified_at);
                memberships.push((person.id, c.id, item));
            }
        }
    }
    memberships.sort_by_key(|(_, _, m)| membership_id(&m.id));

    let mut organizations = vec![council(urls, origin), fitko(urls, origin)];
    for c in &conferences {
        let own: Vec<&Item> = memberships
            .iter()
            .filter(|(_, cid, _)| *cid == c.id)
            .map(|(_, _, m)| m)
            .collect();
        let modified = latest(std::iter::once(c.modified_at).chain(own.iter().map(|m| m.modified)));
        organizations.push(
            Obj::new(
                Kind::Organization,
                &urls.object(Kind::Organization, conference_key(c.id)),
            )
            .set("body", urls.body())
            .set("name", c.name.clone())
            .set("shortName", c.abbreviation.clone())
            .set("organizationType", "externes Gremium")
            .set("classification", "Fachministerkonferenz")
            .list(
                "membership",
                own.iter().map(|m| Value::String(m.id.clone())).collect(),
            )
            .set(
                "web",
                urls.web(&format!("/gremien/konferenzen/{}", c.abbreviation)),
            )
            .item(c.created_at, modified),
        );
    }

    let mut person_items = Vec::new();
    for p in &persons {
        let own: Vec<&Item> = memberships
            .iter()
            .filter(|(pid, _, _)| *pid == p.id)
            .map(|(_, _, m)| m)
            .collect();
        let modified = latest(std::iter::once(p.modified_at).chain(own.iter().map(|m| m.modified)));
        person_items.push(person(urls, p, &own).item(p.created_at, modified));
    }

    Ok(Directory {
        organizations,
        persons: person_items,
        memberships: memberships.into_iter().map(|(_, _, m)| m).collect(),
    })
}

fn membership_id(url: &str) -> i64 {
    url.rsplit('/')
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

fn council(urls: &Urls, origin: i64) -> Item {
    Obj::new(
        Kind::Organization,
        &urls.object(Kind::Organization, COUNCIL),
    )
    .set("body", urls.body())
    .set("name", "IT-Planungsrat")
    .set("shortName", "IT-PLR")
    .set("organizationType", "Gremium")
    .set("classification", "Bund-Länder-Gremium")
    .set("website", COUNCIL_WEBSITE)
    .set("web", urls.web("/gremien/sitzungen"))
    .item(origin, origin)
}

fn fitko(urls: &Urls, origin: i64) -> Item {
    Obj::new(Kind::Organization, &urls.object(Kind::Organization, FITKO))
        .set("body", urls.body())
        .set("name", "Föderale IT-Kooperation")
        .set("shortName", "FITKO")
        .set("organizationType", "Institution")
        .set("classification", "Anstalt des öffentlichen Rechts")
        .set("website", FITKO_WEBSITE)
        .item(origin, origin)
}

fn membership(urls: &Urls, a: &Assignment, person: &Person, created: i64, modified: i64) -> Item {
    Obj::new(Kind::Membership, &urls.object(Kind::Membership, a.id))
        .set("person", urls.object(Kind::Person, person.id))
        .set(
            "organization",
            urls.object(Kind::Organization, conference_key(a.conference_id)),
        )
        .set("role", role_name(a.role))
        .set("votingRight", false)
        .opt("startDate", a.starts_on.map(|d| d.to_string()))
        .opt("endDate", a.ends_on.map(|d| d.to_string()))
        .item(created, modified)
}

/// Given and family name only when the name is plainly "Given Family"; names with more
/// parts are not split by guesswork.
fn split_name(name: &str) -> Option<(&str, &str)> {
    let parts: Vec<&str> = name.split_whitespace().collect();
    match parts.as_slice() {
        [given, family] => Some((given, family)),
        _ => None,
    }
}

fn person(urls: &Urls, p: &Person, memberships: &[&Item]) -> Obj {
    let names = split_name(&p.name);
    let titles: Vec<Value> = p
        .title
        .iter()
        .flat_map(|t| t.split_whitespace())
        .map(|t| Value::String(t.to_owned()))
        .collect();
    Obj::new(Kind::Person, &urls.object(Kind::Person, p.id))
        .set("body", urls.body())
        .set("name", p.full_name())
        .opt("givenName", names.map(|(g, _)| g.to_owned()))
        .opt("familyName", names.map(|(_, f)| f.to_owned()))
        .list("title", titles)
        .list(
            "status",
            p.function
                .iter()
                .map(|f| Value::String(f.clone()))
                .collect(),
        )
        .opt("konvent:organisation", p.organisation.clone())
        .list(
            "membership",
            memberships.iter().map(|m| m.json.clone()).collect(),
        )
        .set("web", urls.web(&format!("/gremien/personen/{}", p.id)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_two_part_names_are_split() {
        assert_eq!(split_name("Jan Pörksen"), Some(("Jan", "Pörksen")));
        assert_eq!(
            split_name("Ina-Maria Ulbrich"),
            Some(("Ina-Maria", "Ulbrich"))
        );
        assert_eq!(split_name("Anna von der Heide"), None);
        assert_eq!(split_name("Madonna"), None);
    }

    #[test]
    fn the_body_names_all_its_lists() {
        let urls = Urls::new("http://x");
        let body = body(&urls, 0).json;
        assert_eq!(body["agendaItem"], "http://x/oparl/v1/body/1/agendaitem");
        assert_eq!(
            body["organization"],
            "http://x/oparl/v1/body/1/organization"
        );
        assert_eq!(body["legislativeTerm"], json!([]));
    }
}
