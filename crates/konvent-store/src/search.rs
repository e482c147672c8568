//! Search (issue 20): one index over the things konvent can find, kept in step with
//! their tables, searched the same way on SQLite (FTS5) and PostgreSQL (tsvector).
//!
//! **Consistency.** Every write to a source table bumps its kind's generation in
//! `search_dirty`, by a trigger, in the writer's own transaction (migration 0028): no
//! write path can forget it, whichever module or helper wrote it. Before a search,
//! [`Store::search`] rebuilds each kind whose generation moved since its last build,
//! under a lock on that kind's `search_synced` row, in one transaction. Rebuilding a
//! whole kind is cheap at the council's scale (hundreds of rows; impulses thousands) and
//! cannot drift; searches are rare next to writes, so writers pay one row update only.
//!
//! **Adding a kind**: write one `async fn <kind>(tx) ->
//! Result<Vec<Doc>>` below, add its name to [`KINDS`] and its arm to `source`, and in a
//! new migration add `search_touch` triggers on the tables it reads (both backends).

use jiff::civil::Date;
use konvent_core::search::Terms;
use sqlx::{Any, Transaction};

use crate::minutes::MinutesContent;
use crate::{Backend, Result, Store, StoreError, timestamp};

type Tx = Transaction<'static, Any>;

/// Every kind the index holds, in the order a search's filter lists them.
pub const KINDS: [&str; 8] = [
    "resolution",
    "session",
    "agenda_item",
    "minutes",
    "document",
    "concern",
    "target_picture",
    "impulse",
];

/// One findable thing as its source describes it.
#[derive(Debug, Clone)]
struct Doc {
    title: String,
    /// The text searched besides the title, and shown as the snippet.
    body: String,
    /// Who may find it: `public`, `signed_in`, `confidential`, `council_office`,
    /// `conference:ABBR`, `topic:ID` or `event:ID` (see the web layer's
    /// `search::audiences`).
    audience: String,
    day: Option<Date>,
    /// The year filtered on (a resolution's own year, else the day's).
    year: Option<i64>,
    state: String,
    conferences: Vec<String>,
    link: String,
}

/// What a search asks for. `terms` come from [`Terms::query`]; `audiences` are all the
/// searcher may see.
#[derive(Debug, Clone, Default)]
pub struct SearchQuery {
    pub terms: Vec<String>,
    pub audiences: Vec<String>,
    pub kind: Option<String>,
    pub year: Option<i64>,
    pub conference: Option<String>,
    pub state: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

/// One result.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SearchHit {
    pub kind: String,
    pub title: String,
    pub body: String,
    pub day: Option<Date>,
    pub state: String,
    pub conferences: Vec<String>,
    pub link: String,
}

fn day_of(micros: i64) -> Date {
    timestamp(micros).to_zoned(jiff::tz::TimeZone::UTC).date()
}

fn parse_day(text: &str) -> Option<Date> {
    text.parse().ok()
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

// ---- The sources, one per kind: what a kind's pages show, to whom ----

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

async fn source(tx: &mut Tx, kind: &str) -> Result<Vec<Doc>> {
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

type HitRow = (
    String,
    String,
    String,
    Option<String>,
    String,
    String,
    String,
);

impl Store {
    /// Rebuilds the index of every kind whose sources changed since its last build.
    #[tracing::instrument(skip(self))]
    pub async fn sync_search(&self) -> Result<()> {
        for kind in KINDS {
            let state: Option<(i64, i64)> = sqlx::query_as(
                "SELECT d.generation, s.generation FROM search_dirty d \
                 JOIN search_synced s ON s.kind = d.kind WHERE d.kind = $1",
            )
            .bind(kind)
            .fetch_optional(&self.pool)
            .await?;
            match state {
                Some((dirty, synced)) if dirty == synced => continue,
                Some(_) => {}
                None => {
                    let mut tx = self.begin_write().await?;
                    sqlx::query(
                        "INSERT INTO search_dirty (kind, generation) VALUES ($1, 1) \
                         ON CONFLICT (kind) DO NOTHING",
                    )
                    .bind(kind)
                    .execute(&mut *tx)
                    .await?;
                    sqlx::query(
                        "INSERT INTO search_synced (kind, generation) VALUES ($1, 0) \
                         ON CONFLICT (kind) DO NOTHING",
                    )
                    .bind(kind)
                    .execute(&mut *tx)
                    .await?;
                    tx.commit().await?;
                }
            }
            self.rebuild(kind).await?;
        }
        Ok(())
    }

    async fn rebuild(&self, kind: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        // The lock: a second searcher waits here, then finds the kind built.
        let (synced,): (i64,) = sqlx::query_as(
            "UPDATE search_synced SET generation = generation WHERE kind = $1 \
             RETURNING generation",
        )
        .bind(kind)
        .fetch_one(&mut *tx)
        .await?;
        // Read after the lock, before the sources: a write that commits while the
        // sources are read bumps past this number, so the next search builds again.
        let (dirty,): (i64,) =
            sqlx::query_as("SELECT generation FROM search_dirty WHERE kind = $1")
                .bind(kind)
                .fetch_one(&mut *tx)
                .await?;
        if dirty == synced {
            tx.commit().await?;
            return Ok(());
        }
        if self.backend == Backend::Sqlite {
            sqlx::query(
                "DELETE FROM search_terms WHERE rowid IN \
                 (SELECT id FROM search_index WHERE kind = $1)",
            )
            .bind(kind)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("DELETE FROM search_index WHERE kind = $1")
            .bind(kind)
            .execute(&mut *tx)
            .await?;
        let terms = Terms::default();
        for doc in source(&mut tx, kind).await? {
            let indexed = terms.index(&format!("{} {}", doc.title, doc.body));
            let conferences = if doc.conferences.is_empty() {
                " ".to_owned()
            } else {
                format!(" {} ", doc.conferences.join(" "))
            };
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO search_index \
                 (kind, title, body, terms, audience, day, year, state, conferences, link) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
            )
            .bind(kind)
            .bind(&doc.title)
            .bind(&doc.body)
            .bind(&indexed)
            .bind(&doc.audience)
            .bind(doc.day.map(|d| d.to_string()))
            .bind(doc.year)
            .bind(&doc.state)
            .bind(&conferences)
            .bind(&doc.link)
            .fetch_one(&mut *tx)
            .await?;
            if self.backend == Backend::Sqlite {
                sqlx::query("INSERT INTO search_terms (rowid, terms) VALUES ($1, $2)")
                    .bind(id)
                    .bind(&indexed)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        sqlx::query("UPDATE search_synced SET generation = $1 WHERE kind = $2")
            .bind(dirty)
            .bind(kind)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The hits of `q` the searcher may see, newest first, with their total count.
    /// Re-syncs the index first.
    #[tracing::instrument(skip(self, q), fields(terms = q.terms.len()))]
    pub async fn search(&self, q: &SearchQuery) -> Result<(Vec<SearchHit>, i64)> {
        self.sync_search().await?;
        if q.terms.is_empty() || q.audiences.is_empty() {
            return Ok((Vec::new(), 0));
        }
        // The terms are `[a-z0-9]+` (Terms::query), so neither dialect's query syntax
        // can be reached through them; quoted anyway.
        let (matching, pattern) = match self.backend {
            Backend::Sqlite => (
                "id IN (SELECT rowid FROM search_terms WHERE search_terms MATCH $1)",
                q.terms
                    .iter()
                    .map(|t| format!("\"{t}\""))
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            Backend::Postgres => ("tsv @@ plainto_tsquery('simple', $1)", q.terms.join(" ")),
        };
        let mut sql = format!("FROM search_index WHERE {matching}");
        let mut n = 1;
        let mut next = || {
            n += 1;
            format!("${n}")
        };
        let audiences: Vec<String> = q.audiences.iter().map(|_| next()).collect();
        sql.push_str(&format!(" AND audience IN ({})", audiences.join(", ")));
        if q.kind.is_some() {
            sql.push_str(&format!(" AND kind = {}", next()));
        }
        if q.year.is_some() {
            sql.push_str(&format!(" AND year = {}", next()));
        }
        if q.conference.is_some() {
            sql.push_str(&format!(" AND conferences LIKE {} ESCAPE '\\'", next()));
        }
        if q.state.is_some() {
            sql.push_str(&format!(" AND state = {}", next()));
        }
        let (limit, offset) = (next(), next());
        let count_sql = format!("SELECT COUNT(*) {sql}");
        let page_sql = format!(
            "SELECT kind, title, body, day, state, conferences, link {sql} \
             ORDER BY COALESCE(day, '') DESC, kind, title, link, id LIMIT {limit} OFFSET {offset}"
        );
        macro_rules! bind_all {
            ($query:expr) => {{
                let mut query = $query.bind(pattern.clone());
                for a in &q.audiences {
                    query = query.bind(a.clone());
                }
                if let Some(kind) = &q.kind {
                    query = query.bind(kind.clone());
                }
                if let Some(year) = q.year {
                    query = query.bind(year);
                }
                if let Some(c) = &q.conference {
                    // The value is matched as written: `%`, `_` and `\` are no wildcards.
                    let literal = c
                        .replace('\\', "\\\\")
                        .replace('%', "\\%")
                        .replace('_', "\\_");
                    query = query.bind(format!("% {literal} %"));
                }
                if let Some(state) = &q.state {
                    query = query.bind(state.clone());
                }
                query
            }};
        }
        let (total,): (i64,) = bind_all!(sqlx::query_as(&count_sql))
            .fetch_one(&self.pool)
            .await?;
        let rows: Vec<HitRow> = bind_all!(sqlx::query_as(&page_sql))
            .bind(q.limit)
            .bind(q.offset)
            .fetch_all(&self.pool)
            .await?;
        let hits = rows
            .into_iter()
            .map(
                |(kind, title, body, day, state, conferences, link)| SearchHit {
                    kind,
                    title,
                    body,
                    day: day.as_deref().and_then(parse_day),
                    state,
                    conferences: conferences.split_whitespace().map(str::to_owned).collect(),
                    link,
                },
            )
            .collect();
        Ok((hits, total))
    }
}
