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
//! **Adding a kind**: write one `async fn <kind>(tx) -> Result<Vec<Doc>>` in
//! `sources`, add its name to [`KINDS`] and its arm to `sources::source`, and in a new
//! migration add `search_touch` triggers on the tables it reads (both backends; 0031
//! added minutes and documents).

mod sources;

use jiff::civil::Date;
use konvent_core::search::Terms;
use sqlx::{Any, Transaction};

use crate::{Backend, Result, Store};
use sources::source;

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

fn parse_day(text: &str) -> Option<Date> {
    text.parse().ok()
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
    #[tracing::instrument(level = "debug", skip_all)]
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
    #[tracing::instrument(level = "debug", skip_all, fields(terms = q.terms.len()))]
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
