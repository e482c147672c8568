//! Documents (G12) as OParl `File` objects: the public documents of agenda items and
//! published resolutions, each with its newest version. A document of anything the
//! public may not read never appears.

use std::collections::{HashMap, HashSet};

use konvent_core::documents::OwnerKind;
use konvent_core::ids::DocumentId;
use konvent_store::{Document, StoreError};
use serde_json::json;

use super::model::{Item, Kind, Obj, Urls};

/// The files of one kind of owner by the owner's id, each in a stable order.
pub type Files = HashMap<i64, Vec<Item>>;

fn key(id: DocumentId) -> String {
    format!("document-{id}")
}

fn date(micros: i64) -> String {
    let ts = konvent_store::timestamp(micros);
    ts.in_tz("Europe/Berlin")
        .map(|z| z.date().to_string())
        .unwrap_or_else(|_| ts.to_string()[..10].to_owned())
}

fn file(urls: &Urls, d: &Document, owner_field: &str, owner_url: String, web: String) -> Item {
    let v = d.current();
    let access = urls.web(&format!("/dokumente/{}", d.id));
    Obj::new(Kind::File, &urls.object(Kind::File, key(d.id)))
        .set("name", d.title.clone())
        .set("fileName", v.file_name.clone())
        .set("mimeType", v.content_type.clone())
        .set("date", date(v.created_at))
        .set("size", v.size)
        .set("accessUrl", access.clone())
        .set("downloadUrl", access)
        .set(owner_field, json!([owner_url]))
        .set("web", web)
        .item(d.created_at, d.modified_at)
}

/// The public documents of the agenda items in `items` (id → session number) and of
/// the resolutions in `papers` (id → web path), read from the store.
pub async fn load(
    store: &konvent_store::Store,
    urls: &Urls,
    items: &HashMap<i64, i64>,
    papers: &HashMap<i64, String>,
) -> Result<(Files, Files), StoreError> {
    let mut agenda = Files::new();
    for d in store.documents_of_kind(OwnerKind::AgendaItem).await? {
        if let Some(number) = items.get(&d.owner.id) {
            let f = file(
                urls,
                &d,
                "agendaItem",
                urls.object(Kind::AgendaItem, d.owner.id),
                urls.web(&format!("/gremien/sitzungen/{number}#top-{}", d.owner.id)),
            );
            agenda.entry(d.owner.id).or_default().push(f);
        }
    }
    let mut resolutions = Files::new();
    for d in store.documents_of_kind(OwnerKind::Resolution).await? {
        if let Some(path) = papers.get(&d.owner.id) {
            let f = file(
                urls,
                &d,
                "paper",
                urls.object(Kind::Paper, d.owner.id),
                urls.web(path),
            );
            resolutions.entry(d.owner.id).or_default().push(f);
        }
    }
    Ok((agenda, resolutions))
}

/// Every file once, for the File list (ids are unique by construction).
pub fn all(agenda: &Files, resolutions: &Files) -> Vec<Item> {
    let mut seen = HashSet::new();
    let mut out: Vec<Item> = agenda
        .values()
        .chain(resolutions.values())
        .flatten()
        .filter(|i| seen.insert(i.id.clone()))
        .cloned()
        .collect();
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}
