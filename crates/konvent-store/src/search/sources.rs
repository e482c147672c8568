//! The sources of the search index, one per kind: what each kind's pages show, and to
//! whom (the row's audience), by the same rules as those pages.

use jiff::civil::Date;

use super::{Tx, parse_day};
use crate::minutes::MinutesContent;
use crate::{Result, StoreError, timestamp};

/// One findable thing as its source describes it.
#[derive(Debug, Clone)]
pub(super) struct Doc {
    pub title: String,
    /// The text searched besides the title, and shown as the snippet.
    pub body: String,
    /// Who may find it: `public`, `signed_in`, `confidential`, `council_office`,
    /// `conference:ABBR`, `topic:ID` or `event:ID` (see the web layer's
    /// `search::audiences`).
    pub audience: String,
    pub day: Option<Date>,
    /// The year filtered on (a resolution's own year, else the day's).
    pub year: Option<i64>,
    pub state: String,
    pub conferences: Vec<String>,
    pub link: String,
}

/// The day of a moment in the council's calendar (Europe/Berlin), as every page shows it.
fn day_of(micros: i64) -> Date {
    let at = timestamp(micros);
    at.in_tz(konvent_core::convention::TIME_ZONE)
        .unwrap_or_else(|_| at.to_zoned(jiff::tz::TimeZone::UTC))
        .date()
}

/// Markdown's markers are not words; leave them out of what is shown.
fn plain(markdown: &str) -> String {
    markdown
        .chars()
        .map(|c| {
            if matches!(c, '#' | '*' | '_' | '>' | '`') {
                ' '
            } else {
                c
            }
        })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// id, year, number, title, body, state, session date, created.
type ResolutionRow = (i64, i64, i64, String, String, String, Option<String>, i64);
/// id, title, body, answer, status, created, conference abbreviation.
type ConcernRow = (i64, String, String, Option<String>, String, i64, String);

async fn resolutions(tx: &mut Tx) -> Result<Vec<Doc>> {
    let rows: Vec<ResolutionRow> = sqlx::query_as(
        "SELECT r.id, r.year, r.number, r.title, r.body, r.state, s.date, r.created_at \
             FROM resolutions r LEFT JOIN council_sessions s ON s.id = r.session_id \
             WHERE r.deleted_at IS NULL ORDER BY r.id",
    )
    .fetch_all(&mut **tx)
    .await?;
    let relevance: Vec<(i64, String)> = sqlx::query_as(
        "SELECT rr.resolution_id, c.abbreviation FROM resolution_relevance rr \
         JOIN conferences c ON c.id = rr.conference_id ORDER BY c.abbreviation",
    )
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(id, year, number, title, body, state, date, created)| Doc {
                title: format!("{year}/{number:02} {title}"),
                body,
                // The public reads published resolutions; drafts and decided ones are the
                // council's decision papers (council::Visibility).
                audience: if state == "published" {
                    "public".into()
                } else {
                    "confidential".into()
                },
                day: date
                    .as_deref()
                    .and_then(parse_day)
                    .or(Some(day_of(created))),
                year: Some(year),
                state,
                conferences: relevance
                    .iter()
                    .filter(|(r, _)| *r == id)
                    .map(|(_, c)| c.clone())
                    .collect(),
                link: format!("/gremien/beschluesse/{year}/{number:02}"),
            },
        )
        .collect())
}

async fn sessions(tx: &mut Tx) -> Result<Vec<Doc>> {
    let rows: Vec<(i64, String, Option<String>, String)> = sqlx::query_as(
        "SELECT number, date, place, state FROM council_sessions \
         WHERE deleted_at IS NULL ORDER BY number",
    )
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(number, date, place, state)| {
            let day = parse_day(&date);
            Doc {
                title: format!("{number}. Sitzung des IT-Planungsrats"),
                body: place.unwrap_or_default(),
                // Sessions and their agendas are public (the sessions page and OParl).
                audience: "public".into(),
                year: day.map(|d| i64::from(d.year())),
                day,
                state,
                conferences: Vec::new(),
                link: format!("/gremien/sitzungen/{number}"),
            }
        })
        .collect())
}

async fn agenda_items(tx: &mut Tx) -> Result<Vec<Doc>> {
    let rows: Vec<(i64, String, i64, String, String)> = sqlx::query_as(
        "SELECT a.position, a.title, s.number, s.date, s.state FROM agenda_items a \
         JOIN council_sessions s ON s.id = a.session_id \
         WHERE a.deleted_at IS NULL AND s.deleted_at IS NULL ORDER BY s.number, a.position",
    )
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(position, title, number, date, state)| {
            let day = parse_day(&date);
            Doc {
                title,
                body: format!("TOP {position}, {number}. Sitzung des IT-Planungsrats"),
                audience: "public".into(),
                year: day.map(|d| i64::from(d.year())),
                day,
                state,
                conferences: Vec::new(),
                link: format!("/gremien/sitzungen/{number}"),
            }
        })
        .collect())
}

/// session number, session date, version, state, content.
type MinutesRow = (i64, String, i64, String, String);

/// The words of one version of the minutes: the agenda with the office's notes, the
/// resolutions as recorded, the remarks. Names are not in the content (they are read
/// from the accounts when shown), so they are not searched either.
fn minutes_text(content: &MinutesContent) -> String {
    let resolution =
        |r: &crate::MinutesResolution| format!("{} {} {}", r.reference, r.title, plain(&r.body));
    let mut parts = Vec::new();
    for item in &content.items {
        parts.push(item.title.clone());
        parts.push(item.notes.clone());
        parts.extend(item.resolutions.iter().map(resolution));
    }
    parts.extend(content.resolutions.iter().map(resolution));
    parts.push(content.remarks.clone());
    parts
        .into_iter()
        .filter(|p| !p.trim().is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The minutes of each session, as the minutes page (web `council::minutes::readable`)
/// shows them: the members (`ReadConfidential`) read the newest released version, the
/// office (`EditCouncil`) every version. So a session has up to two rows: its newest
/// released version for `confidential`, and its newest version, when that is a draft
/// or final, for `council_office` alone; a draft's words never reach a member.
async fn minutes(tx: &mut Tx) -> Result<Vec<Doc>> {
    let rows: Vec<MinutesRow> = sqlx::query_as(
        "SELECT s.number, s.date, m.version, m.state, m.content FROM council_minutes m \
         JOIN council_sessions s ON s.id = m.session_id \
         WHERE s.deleted_at IS NULL ORDER BY s.number, m.version",
    )
    .fetch_all(&mut **tx)
    .await?;
    let doc =
        |(number, date, version, state, content): &MinutesRow, audience: &str| -> Result<Doc> {
            let content: MinutesContent = serde_json::from_str(content)
                .map_err(|e| StoreError::Corrupt(format!("minutes content: {e}")))?;
            let day = parse_day(date);
            Ok(Doc {
                title: format!(
                    "Niederschrift der {number}. Sitzung des IT-Planungsrats, Fassung {version}"
                ),
                body: minutes_text(&content),
                audience: audience.to_owned(),
                year: day.map(|d| i64::from(d.year())),
                day,
                state: state.clone(),
                conferences: Vec::new(),
                link: format!("/gremien/sitzungen/{number}/niederschrift/fassungen/{version}"),
            })
        };
    let mut docs = Vec::new();
    for session in rows.chunk_by(|a, b| a.0 == b.0) {
        if let Some(released) = session.iter().rev().find(|m| m.3 == "released") {
            docs.push(doc(released, "confidential")?);
        }
        if let Some(latest) = session.last().filter(|m| m.3 != "released") {
            docs.push(doc(latest, "council_office")?);
        }
    }
    Ok(docs)
}

/// document id, owner kind, owner id, title, the newest version's file name and time.
type DocumentRow = (i64, String, i64, String, String, i64);

/// The documents' titles and file names (of the newest version; never their content),
/// each found by whoever may read its owner, by the rule of web `documents::access`:
/// agenda items and workshops are public; a resolution's documents as the resolution
/// (`confidential` until published); a target-picture version's as that version
/// (`topic:ID` unless published). A document whose owner is gone is not found.
async fn documents(tx: &mut Tx) -> Result<Vec<Doc>> {
    use std::collections::HashMap;
    let rows: Vec<DocumentRow> = sqlx::query_as(
        "SELECT d.id, d.owner_kind, d.owner_id, d.title, v.file_name, v.created_at \
         FROM documents d JOIN document_versions v ON v.document_id = d.id \
         WHERE v.version = (SELECT MAX(w.version) FROM document_versions w \
                            WHERE w.document_id = d.id) \
         ORDER BY d.id",
    )
    .fetch_all(&mut **tx)
    .await?;
    // Each owner's audience, keyed by (owner kind, owner id).
    let mut audience: HashMap<(&str, i64), String> = HashMap::new();
    let items: Vec<(i64,)> = sqlx::query_as(
        "SELECT a.id FROM agenda_items a JOIN council_sessions s ON s.id = a.session_id \
         WHERE a.deleted_at IS NULL AND s.deleted_at IS NULL",
    )
    .fetch_all(&mut **tx)
    .await?;
    for (id,) in items {
        audience.insert(("agenda-item", id), "public".into());
    }
    let resolutions: Vec<(i64, String)> =
        sqlx::query_as("SELECT id, state FROM resolutions WHERE deleted_at IS NULL")
            .fetch_all(&mut **tx)
            .await?;
    for (id, state) in resolutions {
        let who = if state == "published" {
            "public".to_owned()
        } else {
            "confidential".to_owned()
        };
        audience.insert(("resolution", id), who);
    }
    let pictures: Vec<(i64, i64, String)> =
        sqlx::query_as("SELECT p.id, p.topic_id, p.visibility FROM target_pictures p")
            .fetch_all(&mut **tx)
            .await?;
    for (id, topic, visibility) in pictures {
        let who = if visibility == "published" {
            "public".to_owned()
        } else {
            format!("topic:{topic}")
        };
        audience.insert(("target-picture", id), who);
    }
    let workshops: Vec<(i64,)> = sqlx::query_as("SELECT id FROM workshops")
        .fetch_all(&mut **tx)
        .await?;
    for (id,) in workshops {
        audience.insert(("workshop", id), "public".into());
    }
    Ok(rows
        .into_iter()
        .filter_map(|(id, kind, owner, title, file_name, at)| {
            let audience = audience.get(&(kind.as_str(), owner))?.clone();
            let day = day_of(at);
            Some(Doc {
                title,
                body: file_name,
                audience,
                year: Some(i64::from(day.year())),
                day: Some(day),
                state: String::new(),
                conferences: Vec::new(),
                link: format!("/dokumente/{id}"),
            })
        })
        .collect())
}

async fn concerns(tx: &mut Tx) -> Result<Vec<Doc>> {
    let rows: Vec<ConcernRow> = sqlx::query_as(
        "SELECT k.id, k.title, k.body, k.answer, k.status, k.created_at, c.abbreviation \
         FROM concerns k JOIN conferences c ON c.id = k.conference_id ORDER BY k.id",
    )
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, title, body, answer, status, created, conference)| {
            let day = day_of(created);
            Doc {
                title,
                body: match answer {
                    Some(a) if !a.trim().is_empty() => format!("{body} {a}"),
                    _ => body,
                },
                // Concerns are the conference's and the office's (Action::WorkFor).
                audience: format!("conference:{conference}"),
                year: Some(i64::from(day.year())),
                day: Some(day),
                state: status,
                conferences: vec![conference],
                link: format!("/gremien/anliegen/{id}"),
            }
        })
        .collect())
}

async fn target_pictures(tx: &mut Tx) -> Result<Vec<Doc>> {
    let rows: Vec<(i64, String, String, i64, String, String, i64)> = sqlx::query_as(
        "SELECT p.version, p.body, p.visibility, t.id, t.slug, t.title, p.modified_at \
         FROM target_pictures p JOIN topics t ON t.id = p.topic_id ORDER BY t.id, p.version",
    )
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(version, body, visibility, topic, slug, title, at)| {
            let day = day_of(at);
            Doc {
                title: format!("{title} – Zielbild, Fassung {version}"),
                body: plain(&body),
                // Drafts and confidential versions: Action::ReadDraftTargetPicture.
                audience: if visibility == "published" {
                    "public".into()
                } else {
                    format!("topic:{topic}")
                },
                year: Some(i64::from(day.year())),
                day: Some(day),
                state: visibility,
                conferences: Vec::new(),
                link: format!("/strategie/themen/{slug}"),
            }
        })
        .collect())
}

async fn impulses(tx: &mut Tx) -> Result<Vec<Doc>> {
    let rows: Vec<(i64, String, i64, i64, String, String)> = sqlx::query_as(
        "SELECT i.table_id, i.text, i.created_at, e.id, e.slug, t.title FROM impulses i \
         JOIN events e ON e.id = i.event_id JOIN topics t ON t.id = i.topic_id \
         WHERE i.hidden = 0 AND i.merged_into IS NULL ORDER BY i.id",
    )
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(table, text, at, event, slug, topic)| {
            let day = day_of(at);
            Doc {
                title: format!("Impuls: {topic}"),
                body: text,
                // The café tables are the event's: who may enter it (events::Actor).
                audience: format!("event:{event}"),
                year: Some(i64::from(day.year())),
                day: Some(day),
                state: String::new(),
                conferences: Vec::new(),
                link: format!("/konvent/{slug}/cafe/tische/{table}"),
            }
        })
        .collect())
}

pub(super) async fn source(tx: &mut Tx, kind: &str) -> Result<Vec<Doc>> {
    match kind {
        "resolution" => resolutions(tx).await,
        "session" => sessions(tx).await,
        "agenda_item" => agenda_items(tx).await,
        "minutes" => minutes(tx).await,
        "document" => documents(tx).await,
        "concern" => concerns(tx).await,
        "target_picture" => target_pictures(tx).await,
        "impulse" => impulses(tx).await,
        _ => Ok(Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::day_of;

    #[test]
    fn a_late_evening_in_berlin_is_that_days_hit() {
        // 2026-06-30 22:30 UTC is 00:30 on 1 July in Berlin (summer time).
        let micros = jiff::Timestamp::from_second(1_782_858_600)
            .expect("valid")
            .as_microsecond();
        assert_eq!(day_of(micros), jiff::civil::date(2026, 7, 1));
        // 2026-01-15 23:30 UTC is 00:30 on 16 January (winter time).
        let micros = jiff::Timestamp::from_second(1_768_519_800)
            .expect("valid")
            .as_microsecond();
        assert_eq!(day_of(micros), jiff::civil::date(2026, 1, 16));
    }
}
