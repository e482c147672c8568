//! The spokespersons' duties (G3): the tasks around each resolution relevant for their
//! conference, before, during and after the decision, shown as far as the reader may see
//! the resolution.

use jiff::ToSpan;
use jiff::civil::Date;
use konvent_core::gremien::RoleKind;
use konvent_core::gremien::cooperation::{DutyPhase, RESOLUTION_DUTIES};
use konvent_core::gremien::council::{ResolutionState, Visibility};
use konvent_core::ids::{AccountId, ConferenceId, DutyId, ResolutionId};
use serde::Serialize;
use sqlx::{FromRow, Row};

use super::Tx;
use crate::audit::{self, Actor, Change};
use crate::{Result, Store, StoreError, now_micros};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Duty {
    pub id: DutyId,
    /// The resolution the duty belongs to, as far as the reader may see it: `None` while
    /// the resolution is unpublished and the reader may not read decision papers
    /// ([`Visibility`]); the duty then says only that a resolution in preparation
    /// concerns the conference, without its number, title or link.
    pub resolution: Option<DutyResolution>,
    pub conference: String,
    pub conference_name: String,
    pub phase: DutyPhase,
    pub task: String,
    pub owner: Option<String>,
    pub due_on: Option<Date>,
    pub done_at: Option<i64>,
    pub done_by: Option<String>,
    /// Whether the council has decided the resolution (decided or published): its tasks
    /// "before" and "during" the decision are then past their time even without a date.
    pub resolution_decided: bool,
}

/// A duty's resolution: `2024/15` and its title.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DutyResolution {
    pub reference: String,
    pub title: String,
}

#[derive(FromRow)]
struct DutyRow {
    id: i64,
    year: i64,
    number: i64,
    resolution_title: String,
    resolution_state: String,
    conference: String,
    conference_name: String,
    phase: String,
    task: String,
    owner: Option<String>,
    due_on: Option<String>,
    done_at: Option<i64>,
    done_by: Option<String>,
}

const DUTY_SELECT: &str = "SELECT d.id, r.year, r.number, r.title AS resolution_title, \
    r.state AS resolution_state, c.abbreviation AS conference, c.name AS conference_name, d.phase, d.task, d.owner, \
    d.due_on, d.done_at, d.done_by FROM duties d JOIN resolutions r ON r.id = d.resolution_id \
    JOIN conferences c ON c.id = d.conference_id WHERE r.deleted_at IS NULL";

/// The SQL twin of [`Duty::is_overdue`], over `DUTY_SELECT`'s aliases plus `$today`: the
/// list counts, filters and sorts by it in the database.
const OVERDUE_SQL: &str = "d.done_at IS NULL AND (d.due_on < {today} OR (d.due_on IS NULL \
    AND r.state <> 'draft' AND d.phase <> 'after'))";

impl Duty {
    /// Whether the duty is open and past its time: due before `today`, or, without a due
    /// date, a task "before" or "during" the decision of a resolution the council has
    /// already decided (decided resolutions from before this platform have no session
    /// date, so the decision itself says their time is over). `OVERDUE_SQL` says the same
    /// in SQL; the store's tests hold the two together.
    pub fn is_overdue(&self, today: Date) -> bool {
        self.done_at.is_none()
            && match self.due_on {
                Some(due) => due < today,
                None => self.resolution_decided && self.phase != DutyPhase::After,
            }
    }

    /// The duty as `visibility` lets the reader see it: the resolution's number and title
    /// only if the reader may see the resolution itself (the same rule as its page).
    fn from_row(r: DutyRow, visibility: Visibility) -> Result<Self> {
        let state: ResolutionState = r
            .resolution_state
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("state {:?}", r.resolution_state)))?;
        Ok(Self {
            id: DutyId::new(r.id),
            resolution: visibility.allows(state).then(|| DutyResolution {
                reference: format!("{}/{:02}", r.year, r.number),
                title: r.resolution_title,
            }),
            conference: r.conference,
            conference_name: r.conference_name,
            phase: r
                .phase
                .parse()
                .map_err(|e: &str| StoreError::Corrupt(e.into()))?,
            task: r.task,
            owner: r.owner,
            due_on: r
                .due_on
                .map(|d| {
                    d.parse()
                        .map_err(|_| StoreError::Corrupt(format!("date {d:?}")))
                })
                .transpose()?,
            done_at: r.done_at,
            done_by: r.done_by,
            resolution_decided: state != ResolutionState::Draft,
        })
    }
}

/// Which duties a page of the duties list shows, by their state on `today`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DutyStatus {
    Open,
    /// Open and past its time ([`Duty::is_overdue`]).
    Overdue,
    Done,
    All,
}

/// One page of the duties list (G3), for [`Store::duty_page`].
#[derive(Debug, Clone)]
pub struct DutyListQuery {
    /// The conferences whose duties the reader may see (`None`: all of them). The open
    /// and overdue counts are over all of these, whatever the other filters.
    pub allowed: Option<Vec<String>>,
    /// Only this conference's duties (an abbreviation), if given.
    pub conference: Option<String>,
    pub status: DutyStatus,
    /// The day that decides what is overdue.
    pub today: Date,
    /// From 1; a page past the last one shows the last one.
    pub page: i64,
    pub per_page: i64,
    pub visibility: Visibility,
}

/// A page of the duties list with the counts the page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DutyPage {
    /// The page's duties: the overdue ones first, then the other open ones by due date
    /// (those without one last), then the done ones; within each by due date,
    /// conference name and position in the checklist.
    pub duties: Vec<Duty>,
    /// The page shown: the one asked for, or the last one if it asked past the end.
    pub page: i64,
    /// How many pages the matching duties fill (at least one, even if empty).
    pub pages: i64,
    /// How many duties the query selects, over all pages.
    pub matching: i64,
    /// Open duties of the allowed conferences.
    pub open: i64,
    /// Overdue duties of the allowed conferences.
    pub overdue: i64,
}

/// Creates the checklist of a resolution for a conference, unless it exists: the deck's
/// tasks, owned by the conference's current spokespersons, due relative to the session.
/// Returns how many tasks were new.
pub(crate) async fn ensure_duties(
    tx: &mut Tx,
    resolution_id: ResolutionId,
    conference_id: ConferenceId,
    session_date: Option<Date>,
) -> Result<u64> {
    let today = crate::today().to_string();
    let owners: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT p.name, p.title FROM role_assignments a JOIN persons p ON p.id = a.person_id \
         WHERE a.conference_id = $1 AND a.role = $2 \
           AND (a.starts_on IS NULL OR a.starts_on <= $3) AND (a.ends_on IS NULL OR a.ends_on > $3) \
         ORDER BY a.id",
    )
    .bind(conference_id.get())
    .bind(RoleKind::Spokesperson.as_str())
    .bind(&today)
    .fetch_all(&mut **tx)
    .await?;
    let owner = (!owners.is_empty()).then(|| {
        owners
            .iter()
            .map(|(name, title)| match title {
                Some(t) => format!("{t} {name}"),
                None => name.clone(),
            })
            .collect::<Vec<_>>()
            .join(", ")
    });
    let now = now_micros();
    let mut created = 0;
    for (position, (phase, task, days)) in RESOLUTION_DUTIES.iter().enumerate() {
        let due = session_date.and_then(|d| d.checked_add(days.days()).ok());
        created += sqlx::query(
            "INSERT INTO duties (resolution_id, conference_id, phase, position, task, owner, due_on, \
             created_at, modified_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) \
             ON CONFLICT (resolution_id, conference_id, position) DO NOTHING",
        )
        .bind(resolution_id.get())
        .bind(conference_id.get())
        .bind(phase.as_str())
        .bind(position as i64)
        .bind(*task)
        .bind(&owner)
        .bind(due.map(|d| d.to_string()))
        .bind(now)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    }
    Ok(created)
}

impl Store {
    /// Every duty, open ones first by due date; limited to some conferences if given. Those
    /// of resolutions the reader may not see (`visibility`) come without number and title.
    /// The duties list reads one page at a time with [`Store::duty_page`] instead.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn duties(
        &self,
        conferences: Option<&[String]>,
        visibility: Visibility,
    ) -> Result<Vec<Duty>> {
        let rows: Vec<DutyRow> = sqlx::query_as(&format!(
            "{DUTY_SELECT} ORDER BY d.done_at IS NOT NULL, d.due_on, c.name, d.position, d.id"
        ))
        .fetch_all(&self.pool)
        .await?;
        let mut list = Vec::with_capacity(rows.len());
        for row in rows {
            if conferences.is_some_and(|only| !only.contains(&row.conference)) {
                continue;
            }
            list.push(Duty::from_row(row, visibility)?);
        }
        Ok(list)
    }

    /// One page of the duties list and its counts, in one statement: the database
    /// filters, counts, sorts and cuts the page, so the list costs the same however many
    /// duties there are (issue 17). Duties of resolutions the reader may not see come
    /// without number and title, as in [`Store::duties`].
    #[tracing::instrument(level = "debug", skip_all, fields(page = q.page, status = ?q.status))]
    pub async fn duty_page(&self, q: &DutyListQuery) -> Result<DutyPage> {
        let (page, per_page) = (q.page.max(1), q.per_page.max(1));
        if q.allowed.as_ref().is_some_and(Vec::is_empty) {
            return Ok(DutyPage {
                duties: Vec::new(),
                page: 1,
                pages: 1,
                matching: 0,
                open: 0,
                overdue: 0,
            });
        }
        let mut n = 0;
        let mut next = || {
            n += 1;
            format!("${n}")
        };
        let overdue = OVERDUE_SQL.replace("{today}", &next());
        let mut visible = "r.deleted_at IS NULL".to_owned();
        if let Some(allowed) = &q.allowed {
            let list: Vec<String> = allowed.iter().map(|_| next()).collect();
            visible.push_str(&format!(" AND c.abbreviation IN ({})", list.join(", ")));
        }
        let mut matches = vec!["1 = 1".to_owned()];
        if q.conference.is_some() {
            matches.push(format!("conference = {}", next()));
        }
        matches.extend(
            match q.status {
                DutyStatus::Open => Some("done_at IS NULL"),
                DutyStatus::Overdue => Some("overdue = 1"),
                DutyStatus::Done => Some("done_at IS NOT NULL"),
                DutyStatus::All => None,
            }
            .map(str::to_owned),
        );
        let matches = matches.join(" AND ");
        let (asked, size) = (next(), next());
        let order = |t: &str| {
            format!(
                "{t}overdue DESC, {t}done_at IS NOT NULL, {t}due_on IS NULL, {t}due_on, \
                 {t}conference_name, {t}position, {t}id"
            )
        };
        // `visible`: what the reader may see, with the overdue rule as a column;
        // `counts`: the three numbers and the page shown (the last if asked past it),
        // computed without LEAST/GREATEST, which SQLite lacks; then the counts joined
        // with the page's rows, one row with empty duty columns if there are none.
        let sql = format!(
            "WITH visible AS (SELECT d.id, r.year, r.number, r.title AS resolution_title, \
               r.state AS resolution_state, c.abbreviation AS conference, \
               c.name AS conference_name, d.phase, d.position, d.task, d.owner, d.due_on, \
               d.done_at, d.done_by, CASE WHEN {overdue} THEN 1 ELSE 0 END AS overdue \
             FROM duties d JOIN resolutions r ON r.id = d.resolution_id \
             JOIN conferences c ON c.id = d.conference_id WHERE {visible}), \
             totals AS (SELECT COUNT(CASE WHEN done_at IS NULL THEN 1 END) AS open_count, \
               COUNT(CASE WHEN overdue = 1 THEN 1 END) AS overdue_count, \
               COUNT(CASE WHEN {matches} THEN 1 END) AS matching FROM visible), \
             counts AS (SELECT open_count, overdue_count, matching, \
               CASE WHEN {asked} < pages THEN {asked} ELSE pages END AS page \
             FROM (SELECT open_count, overdue_count, matching, CASE WHEN matching = 0 THEN 1 \
               ELSE (matching + {size} - 1) / {size} END AS pages FROM totals) t) \
             SELECT n.open_count, n.overdue_count, n.matching, n.page, p.id, p.year, \
               p.number, p.resolution_title, p.resolution_state, p.conference, \
               p.conference_name, p.phase, p.task, p.owner, p.due_on, p.done_at, p.done_by \
             FROM counts n LEFT JOIN (SELECT * FROM visible WHERE {matches} \
               ORDER BY {} LIMIT {size} OFFSET (SELECT (page - 1) * {size} FROM counts)) p \
             ON 1 = 1 ORDER BY {}",
            order(""),
            order("p."),
        );
        let mut query = sqlx::query(&sql).bind(q.today.to_string());
        for conference in q.allowed.iter().flatten() {
            query = query.bind(conference.clone());
        }
        if let Some(conference) = &q.conference {
            query = query.bind(conference.clone());
        }
        let rows = query
            .bind(page)
            .bind(per_page)
            .fetch_all(&self.pool)
            .await?;
        let first = rows
            .first()
            .ok_or_else(|| StoreError::Corrupt("duty counts without a row".into()))?;
        let matching: i64 = first.try_get("matching")?;
        let mut list = DutyPage {
            duties: Vec::with_capacity(rows.len()),
            page: first.try_get("page")?,
            pages: ((matching + per_page - 1) / per_page).max(1),
            matching,
            open: first.try_get("open_count")?,
            overdue: first.try_get("overdue_count")?,
        };
        for row in &rows {
            if row.try_get::<Option<i64>, _>("id")?.is_some() {
                list.duties
                    .push(Duty::from_row(DutyRow::from_row(row)?, q.visibility)?);
            }
        }
        Ok(list)
    }

    /// Who speaks for which conference now: (abbreviation, account id, name) for each
    /// spokesperson grant, people in the order of [`Store::accounts`]. One query, for the
    /// duties list, instead of every account with all its grants.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn spokespersons(&self) -> Result<Vec<(String, AccountId, String)>> {
        use konvent_core::authz::{Role, Scope};
        let rows: Vec<(String, i64, String)> = sqlx::query_as(
            "SELECT g.scope, a.id, a.display_name FROM grants g \
             JOIN accounts a ON a.id = g.account_id \
             WHERE g.role = $1 AND a.deleted_at IS NULL ORDER BY a.display_name, a.id, g.scope",
        )
        .bind(Role::Spokesperson.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(scope, id, name)| match scope.parse::<Scope>() {
                Ok(Scope::Conference(a)) => Ok((a.as_str().to_owned(), AccountId::new(id), name)),
                _ => Err(StoreError::Corrupt(format!("spokesperson scope {scope:?}"))),
            })
            .collect()
    }

    #[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
    pub async fn duty(&self, id: DutyId, visibility: Visibility) -> Result<Duty> {
        let row: DutyRow = sqlx::query_as(&format!("{DUTY_SELECT} AND d.id = $1"))
            .bind(id.get())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        Duty::from_row(row, visibility)
    }

    /// Ticks a duty off (or opens it again).
    #[tracing::instrument(level = "debug", skip_all, fields(actor = actor.account_id.map(AccountId::get), id = %id))]
    pub async fn set_duty_done(&self, actor: &Actor, id: DutyId, done: bool) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let now = now_micros();
        let result = sqlx::query(
            "UPDATE duties SET done_at = $1, done_by = $2, modified_at = $3 WHERE id = $4",
        )
        .bind(done.then_some(now))
        .bind(done.then(|| actor.name.clone()))
        .bind(now)
        .bind(id.get())
        .execute(&mut *tx)
        .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        audit::record(
            &mut tx,
            actor,
            Change {
                conference_id: None,
                entity: "duty",
                entity_id: id.get(),
                action: if done { "done" } else { "reopened" },
                before: None,
                after: None,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
