//! The council's sessions and follow-up meetings as OParl Meetings with their agenda
//! items and places, and the published resolutions as Papers with their consultations
//! and their text as File.
//!
//! Only public data: resolutions are read with `Visibility::Public` (published ones;
//! drafts and decided-but-unpublished resolutions are confidential decision papers).
//! A follow-up meeting's agenda is what the council's page shows: every published
//! resolution of its session that is flagged as relevant for a conference.

use konvent_core::ids::{AgendaItemId, ConferenceId, ResolutionId};
use std::collections::{BTreeSet, HashMap};

use konvent_core::gremien::council::SessionState;
use konvent_store::{FollowUp, Resolution, Session, StoreError, Visibility};
use serde_json::{Value, json};

use super::directory::{COUNCIL, conference_key};
use super::model::{Item, Kind, Obj, Urls, latest, local};
use crate::AppState;

/// Meetings, agenda items, papers, consultations, files and locations, each in a stable
/// order (by the id of what they come from).
pub struct Council {
    pub meetings: Vec<Item>,
    pub agenda_items: Vec<Item>,
    pub papers: Vec<Item>,
    pub consultations: Vec<Item>,
    pub files: Vec<Item>,
    pub locations: Vec<Item>,
}

pub fn session_name(number: i64) -> String {
    format!("{number}. Sitzung des IT-Planungsrats")
}

pub fn follow_up_name(number: i64) -> String {
    format!("Nachbesprechung der {number}. IT-PLR-Sitzung")
}

fn meeting_state(state: SessionState) -> &'static str {
    match state {
        SessionState::Planned => "terminiert",
        SessionState::Invited => "eingeladen",
        SessionState::Held => "durchgeführt",
        SessionState::Cancelled => "abgesagt",
    }
}

fn follow_up_key(id: impl std::fmt::Display) -> String {
    format!("follow-up-{id}")
}

/// The published resolutions of a session that matter for conferences, by number.
fn relevant_of(resolutions: &[Resolution], session_number: i64) -> Vec<&Resolution> {
    let mut list: Vec<&Resolution> = resolutions
        .iter()
        .filter(|r| r.session_number == Some(session_number) && !r.relevance.is_empty())
        .collect();
    list.sort_by_key(|r| (r.year, r.number));
    list
}

fn conference_urls<'a>(
    urls: &Urls,
    resolutions: impl IntoIterator<Item = &'a Resolution>,
) -> Vec<Value> {
    let ids: BTreeSet<ConferenceId> = resolutions
        .into_iter()
        .flat_map(|r| r.relevance.iter().map(|v| v.conference_id))
        .collect();
    ids.into_iter()
        .map(|id| Value::String(urls.object(Kind::Organization, conference_key(id))))
        .collect()
}

pub async fn load(state: &AppState, urls: &Urls) -> Result<Council, StoreError> {
    let store = &state.store;
    let mut sessions = store.sessions().await?;
    sessions.sort_by_key(|s| s.id);
    let mut follow_ups = store.follow_ups().await?;
    follow_ups.sort_by_key(|f| f.id);
    let mut resolutions = store.resolutions(Visibility::Public).await?;
    // Belt and braces: nothing unpublished leaves through OParl.
    resolutions.retain(|r| r.state.is_public());
    resolutions.sort_by_key(|r| r.id);

    let mut out = Council {
        meetings: Vec::new(),
        agenda_items: Vec::new(),
        papers: Vec::new(),
        consultations: Vec::new(),
        files: Vec::new(),
        locations: Vec::new(),
    };
    let results = agenda_results(store, &resolutions).await?;
    let mut agendas = Vec::new();
    for s in &sessions {
        agendas.push((
            store.agenda(s.id).await?,
            store.removed_agenda_items(s.id).await?,
        ));
    }
    // Documents (G12) of the items on an agenda and of the published resolutions.
    let item_sessions: HashMap<i64, i64> = sessions
        .iter()
        .zip(&agendas)
        .flat_map(|(s, (agenda, _))| agenda.iter().map(move |a| (a.id.get(), s.number)))
        .collect();
    let paper_pages: HashMap<i64, String> = resolutions
        .iter()
        .map(|r| {
            (
                r.id.get(),
                format!("/gremien/beschluesse/{}/{:02}", r.year, r.number),
            )
        })
        .collect();
    let (agenda_files, paper_files) =
        super::documents::load(store, urls, &item_sessions, &paper_pages).await?;
    for (s, (agenda, removed)) in sessions.iter().zip(&agendas) {
        session_meeting(urls, s, agenda, removed, &results, &agenda_files, &mut out);
    }
    for f in &follow_ups {
        follow_up_meeting(
            urls,
            f,
            &relevant_of(&resolutions, f.session_number),
            &mut out,
        );
    }
    let by_number: HashMap<i64, &Session> = sessions.iter().map(|s| (s.number, s)).collect();
    let follow_up_of: HashMap<i64, &FollowUp> =
        follow_ups.iter().map(|f| (f.session_number, f)).collect();
    for r in &resolutions {
        let session = r.session_number.and_then(|n| by_number.get(&n).copied());
        let follow_up = r.session_number.and_then(|n| follow_up_of.get(&n).copied());
        paper(urls, r, session, follow_up, &paper_files, &mut out);
    }
    out.files
        .extend(super::documents::all(&agenda_files, &paper_files));
    Ok(out)
}

/// An agenda item's vote results (OParl `AgendaItem.result`): one line per closed vote
/// on it whose resolution is public, with the arithmetic, and when the last changed.
struct ItemResult {
    text: String,
    modified: i64,
}

/// The results of the votes on agenda items, by agenda item; only for `public`
/// resolutions (a rejected draft or an unpublished decision gives no result).
async fn agenda_results(
    store: &konvent_store::Store,
    public: &[Resolution],
) -> Result<HashMap<AgendaItemId, ItemResult>, StoreError> {
    let t = crate::i18n::Tr::new(crate::i18n::Lang::De);
    let by_id: HashMap<ResolutionId, &Resolution> = public.iter().map(|r| (r.id, r)).collect();
    let mut out: HashMap<AgendaItemId, ItemResult> = HashMap::new();
    for v in store.agenda_results().await? {
        let Some(r) = by_id.get(&v.resolution_id) else {
            continue;
        };
        let line = format!(
            "{} {}: {}",
            t.get("resolution"),
            r.reference(),
            crate::council::votes::result_line(&t, &v.tally)
        );
        let modified = v.closed_at.max(r.modified_at);
        out.entry(v.agenda_item_id)
            .and_modify(|e| {
                e.text = format!("{}; {line}", e.text);
                e.modified = e.modified.max(modified);
            })
            .or_insert(ItemResult {
                text: line,
                modified,
            });
    }
    Ok(out)
}

fn session_meeting(
    urls: &Urls,
    s: &Session,
    agenda: &[konvent_store::AgendaItem],
    removed: &[konvent_store::AgendaItem],
    results: &HashMap<AgendaItemId, ItemResult>,
    files: &super::documents::Files,
    out: &mut Council,
) {
    let meeting_url = urls.object(Kind::Meeting, s.id);
    let items: Vec<Item> = agenda
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let result = results.get(&a.id);
            let own = files
                .get(&a.id.get())
                .map(Vec::as_slice)
                .unwrap_or_default();
            Obj::new(Kind::AgendaItem, &urls.object(Kind::AgendaItem, a.id))
                .set("meeting", meeting_url.clone())
                .set("number", (i + 1).to_string())
                .set("order", i + 1)
                .set("name", a.title.clone())
                .set("public", true)
                .opt("result", result.map(|r| r.text.clone()))
                .list(
                    "auxiliaryFile",
                    own.iter().map(|f| f.json.clone()).collect(),
                )
                .item(
                    a.created_at,
                    latest(
                        [a.modified_at, result.map_or(0, |r| r.modified)]
                            .into_iter()
                            .chain(own.iter().map(|f| f.modified)),
                    ),
                )
        })
        .collect();
    let location = s.place.as_ref().map(|place| {
        Obj::new(
            Kind::Location,
            &urls.object(Kind::Location, format!("meeting-{}", s.id)),
        )
        .set("description", place.clone())
        .set("meetings", json!([meeting_url]))
        .item(s.created_at, s.modified_at)
    });
    let modified = latest(std::iter::once(s.modified_at).chain(items.iter().map(|i| i.modified)));
    let meeting = Obj::new(Kind::Meeting, &meeting_url)
        .set("name", session_name(s.number))
        .set("meetingState", meeting_state(s.state))
        .set("cancelled", s.state == SessionState::Cancelled)
        .set("start", local(s.date, s.start_time))
        .set("end", local(s.date, s.end_time))
        .opt("location", location.as_ref().map(|l| l.json.clone()))
        .set(
            "organization",
            json!([urls.object(Kind::Organization, COUNCIL)]),
        )
        .list("agendaItem", items.iter().map(|i| i.json.clone()).collect())
        .set("web", urls.web(&format!("/gremien/sitzungen/{}", s.number)))
        .item(s.created_at, modified);
    out.meetings.push(meeting);
    out.agenda_items.extend(items);
    // Items taken off the agenda stay retrievable as deleted objects (OParl 1.1, 2.5).
    out.agenda_items.extend(removed.iter().map(|a| {
        let mut item = Obj::new(Kind::AgendaItem, &urls.object(Kind::AgendaItem, a.id))
            .set("meeting", meeting_url.clone())
            .set("order", a.position)
            .set("name", a.title.clone())
            .set("deleted", true)
            .item(a.created_at, a.deleted_at.unwrap_or(a.modified_at));
        item.deleted = true;
        item
    }));
    out.locations.extend(location);
}

fn follow_up_meeting(urls: &Urls, f: &FollowUp, relevant: &[&Resolution], out: &mut Council) {
    let meeting_url = urls.object(Kind::Meeting, follow_up_key(f.id));
    let items: Vec<Item> = relevant
        .iter()
        .enumerate()
        .map(|(i, r)| {
            Obj::new(
                Kind::AgendaItem,
                &urls.object(Kind::AgendaItem, follow_up_key(r.id)),
            )
            .set("meeting", meeting_url.clone())
            .set("number", (i + 1).to_string())
            .set("order", i + 1)
            .set("name", format!("Beschluss {}: {}", r.reference(), r.title))
            .set("public", true)
            .set(
                "consultation",
                urls.object(Kind::Consultation, follow_up_key(r.id)),
            )
            .item(
                r.created_at.max(f.created_at),
                r.modified_at.max(f.modified_at),
            )
        })
        .collect();
    let mut organizations = vec![Value::String(urls.object(Kind::Organization, COUNCIL))];
    organizations.extend(conference_urls(urls, relevant.iter().copied()));
    let modified = latest(std::iter::once(f.modified_at).chain(items.iter().map(|i| i.modified)));
    let meeting = Obj::new(Kind::Meeting, &meeting_url)
        .set("name", follow_up_name(f.session_number))
        .set(
            "meetingState",
            if f.confirmed {
                "terminiert"
            } else {
                "vorläufig"
            },
        )
        .set("cancelled", false)
        .set("start", local(f.date, f.start_time))
        .set("end", local(f.date, f.end_time))
        .set("organization", organizations)
        .list("agendaItem", items.iter().map(|i| i.json.clone()).collect())
        .set(
            "web",
            urls.web(&format!(
                "/gremien/sitzungen/{}#nachbesprechung",
                f.session_number
            )),
        )
        .item(f.created_at, modified);
    out.meetings.push(meeting);
    out.agenda_items.extend(items);
}

fn paper(
    urls: &Urls,
    r: &Resolution,
    session: Option<&Session>,
    follow_up: Option<&FollowUp>,
    files: &super::documents::Files,
    out: &mut Council,
) {
    let own = files
        .get(&r.id.get())
        .map(Vec::as_slice)
        .unwrap_or_default();
    let paper_url = urls.object(Kind::Paper, r.id);
    let mut consultations = Vec::new();
    if let Some(s) = session {
        consultations.push(
            Obj::new(Kind::Consultation, &urls.object(Kind::Consultation, r.id))
                .set("paper", paper_url.clone())
                .set("meeting", urls.object(Kind::Meeting, s.id))
                .set(
                    "organization",
                    json!([urls.object(Kind::Organization, COUNCIL)]),
                )
                .set("authoritative", true)
                .set("role", "Beschlussfassung")
                .item(r.created_at, r.modified_at),
        );
    }
    if let Some(f) = follow_up.filter(|_| !r.relevance.is_empty()) {
        let key = follow_up_key(r.id);
        consultations.push(
            Obj::new(Kind::Consultation, &urls.object(Kind::Consultation, &key))
                .set("paper", paper_url.clone())
                .set("meeting", urls.object(Kind::Meeting, follow_up_key(f.id)))
                .set("agendaItem", urls.object(Kind::AgendaItem, &key))
                .set("organization", conference_urls(urls, [r]))
                .set("authoritative", false)
                .set("role", "Nachbesprechung mit den Fachministerkonferenzen")
                .item(
                    r.created_at.max(f.created_at),
                    r.modified_at.max(f.modified_at),
                ),
        );
    }
    let date = session.map(|s| s.date.to_string());
    let web = urls.web(&format!("/gremien/beschluesse/{}/{:02}", r.year, r.number));
    let file = Obj::new(Kind::File, &urls.object(Kind::File, r.id))
        .set("name", format!("Beschlusstext {}", r.reference()))
        .set("mimeType", "text/html")
        .opt("date", date.clone())
        .set("text", r.body.clone())
        .set("accessUrl", web.clone())
        .set("paper", json!([paper_url]))
        .set("web", web.clone())
        .item(r.created_at, r.modified_at);
    let mut flags: Vec<&konvent_store::Relevance> = r.relevance.iter().collect();
    flags.sort_by_key(|v| v.conference_id);
    let relevance: Vec<Value> = flags
        .into_iter()
        .map(|v| {
            json!({
                "organization": urls.object(Kind::Organization, conference_key(v.conference_id)),
                "reason": v.reason,
            })
        })
        .collect();
    let modified = latest(
        [r.modified_at, file.modified]
            .into_iter()
            .chain(consultations.iter().map(|c| c.modified))
            .chain(own.iter().map(|f| f.modified)),
    );
    let paper = Obj::new(Kind::Paper, &paper_url)
        .set("body", urls.body())
        .set("name", r.title.clone())
        .set("reference", r.reference())
        .opt("date", date)
        .set("paperType", "Beschluss")
        .set("mainFile", file.json.clone())
        .list(
            "auxiliaryFile",
            own.iter().map(|f| f.json.clone()).collect(),
        )
        .set(
            "originatorOrganization",
            json!([urls.object(Kind::Organization, COUNCIL)]),
        )
        .list(
            "consultation",
            consultations.iter().map(|c| c.json.clone()).collect(),
        )
        .list("konvent:relevance", relevance)
        .set("web", web)
        .item(r.created_at, modified);
    out.papers.push(paper);
    out.consultations.extend(consultations);
    out.files.push(file);
}
