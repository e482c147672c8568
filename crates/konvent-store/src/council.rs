//! Council sessions with their agendas, resolutions with their relevance for the
//! conferences, reports, and the follow-up meetings (G4–G6). Sessions from the 43rd on
//! get the standard item "Reporting FachMK" when they are created; a session marked held
//! gets its follow-up meeting three weeks later, which moves with the session's date
//! until it is confirmed.

use jiff::civil::{Date, Time};
use konvent_core::gremien::calendar::follow_up_date;
use konvent_core::gremien::council::{
    FollowUpInput, REPORTING_ITEM_TITLE, ReportInput, ResolutionInput, ResolutionState,
    SessionInput, SessionState, has_standard_reporting_item,
};
use konvent_core::gremien::majority::{DraftKind, Tally};
use serde::Serialize;
use sqlx::FromRow;

use crate::audit::{self, Actor, Change};
use crate::cooperation::DutyResolution;
use crate::notifications::{NoticeTopic, Render, conference_accounts, notify};
use crate::{Result, Store, StoreError, now_micros};
use konvent_core::notifications::NoticeKind;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Session {
    pub id: i64,
    pub number: i64,
    pub date: Date,
    pub start_time: Time,
    pub end_time: Time,
    pub place: Option<String>,
    pub video_url: Option<String>,
    pub state: SessionState,
    pub created_at: i64,
    pub modified_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgendaItem {
    pub id: i64,
    pub session_id: i64,
    pub position: i64,
    pub title: String,
    pub is_reporting: bool,
    pub created_at: i64,
    pub modified_at: i64,
    /// Set when the item was taken off the agenda (kept for OParl's deleted objects).
    pub deleted_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Relevance {
    pub conference_id: i64,
    pub conference: String,
    pub conference_name: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resolution {
    pub id: i64,
    pub year: i64,
    pub number: i64,
    pub title: String,
    pub body: String,
    pub links: Vec<String>,
    pub session_number: Option<i64>,
    pub state: ResolutionState,
    pub relevance: Vec<Relevance>,
    /// The majority it needs (G9).
    pub kind: DraftKind,
    /// The result of the vote that decided it, once that vote is closed.
    pub vote_result: Option<Tally>,
    pub created_at: i64,
    pub modified_at: i64,
}

impl Resolution {
    /// `2024/15`
    pub fn reference(&self) -> String {
        format!("{}/{:02}", self.year, self.number)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub session_id: i64,
    pub conference: String,
    pub conference_name: String,
    pub input: ReportInput,
    pub author: String,
    pub modified_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FollowUp {
    pub id: i64,
    pub session_id: i64,
    pub session_number: i64,
    pub date: Date,
    pub start_time: Time,
    pub end_time: Time,
    pub video_url: Option<String>,
    pub confirmed: bool,
    pub created_at: i64,
    pub modified_at: i64,
}

/// Which resolutions a reader may see: the public sees published ones only; council
/// members and admins see the confidential decision papers too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    Public,
    Confidential,
}

impl Visibility {
    pub fn allows(self, state: ResolutionState) -> bool {
        self == Self::Confidential || state.is_public()
    }
}

#[derive(FromRow)]
struct SessionRow {
    id: i64,
    number: i64,
    date: String,
    start_time: String,
    end_time: String,
    place: Option<String>,
    video_url: Option<String>,
    state: String,
    created_at: i64,
    modified_at: i64,
}

const SESSION_COLUMNS: &str = "id, number, date, start_time, end_time, place, video_url, state, \
    created_at, modified_at";

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what}: {value:?}"))
}

fn parse_date(value: &str) -> Result<Date> {
    value.parse().map_err(|_| corrupt("date", value))
}

fn parse_time(value: &str) -> Result<Time> {
    konvent_core::gremien::council::parse_time(value).ok_or_else(|| corrupt("time", value))
}

fn time_text(t: Time) -> String {
    t.strftime("%H:%M").to_string()
}

impl TryFrom<SessionRow> for Session {
    type Error = StoreError;
    fn try_from(r: SessionRow) -> Result<Self> {
        Ok(Self {
            id: r.id,
            number: r.number,
            date: parse_date(&r.date)?,
            start_time: parse_time(&r.start_time)?,
            end_time: parse_time(&r.end_time)?,
            place: r.place,
            video_url: r.video_url,
            state: r.state.parse().map_err(|_| corrupt("state", &r.state))?,
            created_at: r.created_at,
            modified_at: r.modified_at,
        })
    }
}

type Tx = sqlx::Transaction<'static, sqlx::Any>;

async fn conference_name(tx: &mut Tx, id: i64) -> Result<String> {
    let (name,): (String,) = sqlx::query_as("SELECT name FROM conferences WHERE id = $1")
        .bind(id)
        .fetch_one(&mut **tx)
        .await?;
    Ok(name)
}

pub(crate) async fn session_in(tx: &mut Tx, number: i64) -> Result<Session> {
    let row: SessionRow = sqlx::query_as(&format!(
        "SELECT {SESSION_COLUMNS} FROM council_sessions WHERE number = $1 AND deleted_at IS NULL"
    ))
    .bind(number)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(StoreError::NotFound)?;
    row.try_into()
}

impl Store {
    /// All sessions, newest first.
    pub async fn sessions(&self) -> Result<Vec<Session>> {
        let rows: Vec<SessionRow> = sqlx::query_as(&format!(
            "SELECT {SESSION_COLUMNS} FROM council_sessions WHERE deleted_at IS NULL \
             ORDER BY number DESC"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(Session::try_from).collect()
    }

    pub async fn session(&self, number: i64) -> Result<Session> {
        let row: SessionRow = sqlx::query_as(&format!(
            "SELECT {SESSION_COLUMNS} FROM council_sessions WHERE number = $1 AND deleted_at IS NULL"
        ))
        .bind(number)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        row.try_into()
    }

    /// Creates a session; from the 43rd on with the standard item "Reporting FachMK";
    /// a session created as held gets its follow-up meeting.
    #[tracing::instrument(skip(self, actor, input), fields(number = input.number))]
    pub async fn create_session(
        &self,
        actor: &Actor,
        input: &SessionInput,
        follow_up_offset_days: i64,
    ) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let now = now_micros();
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO council_sessions (number, date, start_time, end_time, place, video_url, \
             state, created_at, modified_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
        )
        .bind(input.number)
        .bind(input.date.to_string())
        .bind(time_text(input.start_time))
        .bind(time_text(input.end_time))
        .bind(&input.place)
        .bind(&input.video_url)
        .bind(input.state.as_str())
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| StoreError::conflict_on_unique(e, "Eine Sitzung mit dieser Nummer gibt es schon."))?;
        audit::record(
            &mut tx,
            actor,
            Change {
                conference_id: None,
                entity: "session",
                entity_id: id,
                action: "created",
                before: None,
                after: audit::snapshot(input),
            },
        )
        .await?;
        if has_standard_reporting_item(input.number) {
            insert_agenda_item(&mut tx, actor, id, REPORTING_ITEM_TITLE, true).await?;
        }
        if input.state == SessionState::Held {
            schedule_follow_up(&mut tx, actor, id, input.date, follow_up_offset_days).await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    /// Changes a session. Marking it held schedules its follow-up meeting; a new date
    /// moves an unconfirmed follow-up with it.
    #[tracing::instrument(skip(self, actor, input))]
    pub async fn update_session(
        &self,
        actor: &Actor,
        number: i64,
        input: &SessionInput,
        follow_up_offset_days: i64,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let before = session_in(&mut tx, number).await?;
        sqlx::query(
            "UPDATE council_sessions SET number = $1, date = $2, start_time = $3, end_time = $4, \
             place = $5, video_url = $6, state = $7, modified_at = $8 WHERE id = $9",
        )
        .bind(input.number)
        .bind(input.date.to_string())
        .bind(time_text(input.start_time))
        .bind(time_text(input.end_time))
        .bind(&input.place)
        .bind(&input.video_url)
        .bind(input.state.as_str())
        .bind(now_micros())
        .bind(before.id)
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            StoreError::conflict_on_unique(e, "Eine Sitzung mit dieser Nummer gibt es schon.")
        })?;
        audit::record(
            &mut tx,
            actor,
            Change {
                conference_id: None,
                entity: "session",
                entity_id: before.id,
                action: "updated",
                before: audit::snapshot(&before),
                after: audit::snapshot(input),
            },
        )
        .await?;
        let follow_up = follow_up_in(&mut tx, before.id).await?;
        match follow_up {
            None if input.state == SessionState::Held => {
                schedule_follow_up(&mut tx, actor, before.id, input.date, follow_up_offset_days)
                    .await?;
            }
            Some(f) if !f.confirmed && input.date != before.date => {
                let date = follow_up_date(input.date, follow_up_offset_days);
                sqlx::query("UPDATE follow_ups SET date = $1, modified_at = $2 WHERE id = $3")
                    .bind(date.to_string())
                    .bind(now_micros())
                    .bind(f.id)
                    .execute(&mut *tx)
                    .await?;
                audit::record(
                    &mut tx,
                    actor,
                    Change {
                        conference_id: None,
                        entity: "follow_up",
                        entity_id: f.id,
                        action: "moved",
                        before: audit::snapshot(&f.date),
                        after: audit::snapshot(&date),
                    },
                )
                .await?;
            }
            _ => {}
        }
        tx.commit().await?;
        Ok(())
    }

    /// The agenda of a session, in order.
    pub async fn agenda(&self, session_id: i64) -> Result<Vec<AgendaItem>> {
        self.agenda_items(session_id, false).await
    }

    /// The items taken off a session's agenda, for open data that reports deletions.
    pub async fn removed_agenda_items(&self, session_id: i64) -> Result<Vec<AgendaItem>> {
        self.agenda_items(session_id, true).await
    }

    async fn agenda_items(&self, session_id: i64, removed: bool) -> Result<Vec<AgendaItem>> {
        type Row = (i64, i64, i64, String, i64, i64, i64, Option<i64>);
        let condition = if removed { "IS NOT NULL" } else { "IS NULL" };
        let rows: Vec<Row> = sqlx::query_as(&format!(
            "SELECT id, session_id, position, title, is_reporting, created_at, modified_at, \
             deleted_at FROM agenda_items WHERE session_id = $1 AND deleted_at {condition} \
             ORDER BY position, id"
        ))
        .bind(session_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(
                    id,
                    session_id,
                    position,
                    title,
                    is_reporting,
                    created_at,
                    modified_at,
                    deleted_at,
                )| {
                    AgendaItem {
                        id,
                        session_id,
                        position,
                        title,
                        is_reporting: is_reporting != 0,
                        created_at,
                        modified_at,
                        deleted_at,
                    }
                },
            )
            .collect())
    }

    /// Adds an item to the agenda of a session that is still to come: a held, cancelled
    /// or past session takes no new items.
    pub async fn add_agenda_item(&self, actor: &Actor, number: i64, title: &str) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let session = session_in(&mut tx, number).await?;
        check_upcoming(
            number,
            &session.date.to_string(),
            session.state.as_str(),
            "title",
        )?;
        let id = insert_agenda_item(&mut tx, actor, session.id, title, false).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Swaps an item with its neighbour (`up`: the one before it).
    pub async fn move_agenda_item(
        &self,
        actor: &Actor,
        number: i64,
        item_id: i64,
        up: bool,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let session = session_in(&mut tx, number).await?;
        let items: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT id, position FROM agenda_items WHERE session_id = $1 AND deleted_at IS NULL \
             ORDER BY position, id",
        )
        .bind(session.id)
        .fetch_all(&mut *tx)
        .await?;
        let index = items
            .iter()
            .position(|(id, _)| *id == item_id)
            .ok_or(StoreError::NotFound)?;
        let other = if up {
            index.checked_sub(1)
        } else {
            Some(index + 1).filter(|i| *i < items.len())
        };
        if let Some(other) = other {
            // Renumber densely, then swap the two, so equal positions cannot stall a move.
            let mut order: Vec<i64> = items.iter().map(|(id, _)| *id).collect();
            order.swap(index, other);
            for (position, id) in order.iter().enumerate() {
                sqlx::query(
                    "UPDATE agenda_items SET position = $1, modified_at = $2 WHERE id = $3",
                )
                .bind(position as i64 + 1)
                .bind(now_micros())
                .bind(id)
                .execute(&mut *tx)
                .await?;
            }
            touch_session(&mut tx, session.id).await?;
            audit::record(
                &mut tx,
                actor,
                Change {
                    conference_id: None,
                    entity: "agenda_item",
                    entity_id: item_id,
                    action: if up { "moved_up" } else { "moved_down" },
                    before: None,
                    after: None,
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Removes an item from the agenda (it stays stored as deleted, as OParl expects).
    pub async fn remove_agenda_item(&self, actor: &Actor, number: i64, item_id: i64) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let session = session_in(&mut tx, number).await?;
        let done = sqlx::query(
            "UPDATE agenda_items SET deleted_at = $1, modified_at = $1 \
             WHERE id = $2 AND session_id = $3 AND deleted_at IS NULL",
        )
        .bind(now_micros())
        .bind(item_id)
        .bind(session.id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        touch_session(&mut tx, session.id).await?;
        audit::record(
            &mut tx,
            actor,
            Change {
                conference_id: None,
                entity: "agenda_item",
                entity_id: item_id,
                action: "removed",
                before: None,
                after: None,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Resolutions the reader may see, newest first.
    pub async fn resolutions(&self, visibility: Visibility) -> Result<Vec<Resolution>> {
        let list = self.load_resolutions("", None).await?;
        Ok(list
            .into_iter()
            .filter(|r| visibility.allows(r.state))
            .collect())
    }

    /// A resolution by its number, if the reader may see it (else "not found", so that
    /// its existence does not leak).
    pub async fn resolution(
        &self,
        year: i64,
        number: i64,
        visibility: Visibility,
    ) -> Result<Resolution> {
        self.load_resolutions("AND r.year = $1 AND r.number = $2", Some((year, number)))
            .await?
            .into_iter()
            .find(|r| visibility.allows(r.state))
            .ok_or(StoreError::NotFound)
    }

    /// Resolutions (newest first) with their relevance, in two queries whatever their
    /// number. `condition` narrows them, binding `number` as `$1`, `$2`.
    async fn load_resolutions(
        &self,
        condition: &str,
        number: Option<(i64, i64)>,
    ) -> Result<Vec<Resolution>> {
        type Row = (
            i64,
            i64,
            i64,
            String,
            String,
            String,
            Option<i64>,
            String,
            i64,
            i64,
            String,
            Option<String>,
        );
        let sql = format!(
            "SELECT r.id, r.year, r.number, r.title, r.body, r.links, s.number, r.state, \
             r.created_at, r.modified_at, r.kind, r.vote_result FROM resolutions r \
             LEFT JOIN council_sessions s ON s.id = r.session_id \
             WHERE r.deleted_at IS NULL {condition} ORDER BY r.year DESC, r.number DESC"
        );
        let mut query = sqlx::query_as::<_, Row>(&sql);
        if let Some((year, nn)) = number {
            query = query.bind(year).bind(nn);
        }
        let rows = query.fetch_all(&self.pool).await?;
        let relevance: Vec<(i64, i64, String, String, String)> = sqlx::query_as(
            "SELECT v.resolution_id, c.id, c.abbreviation, c.name, v.reason \
             FROM resolution_relevance v JOIN conferences c ON c.id = v.conference_id \
             ORDER BY c.name",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(
                |(
                    id,
                    year,
                    number,
                    title,
                    body,
                    links,
                    session_number,
                    state,
                    created_at,
                    modified_at,
                    kind,
                    vote_result,
                )| {
                    Ok(Resolution {
                        kind: kind.parse().map_err(|_| corrupt("kind", &kind))?,
                        vote_result: vote_result
                            .map(|v| {
                                serde_json::from_str(&v).map_err(|_| corrupt("vote_result", &v))
                            })
                            .transpose()?,
                        id,
                        year,
                        number,
                        title,
                        body,
                        links: links
                            .lines()
                            .filter(|l| !l.is_empty())
                            .map(str::to_owned)
                            .collect(),
                        session_number,
                        state: state.parse().map_err(|_| corrupt("state", &state))?,
                        relevance: relevance
                            .iter()
                            .filter(|(resolution, ..)| *resolution == id)
                            .map(|(_, conference_id, conference, conference_name, reason)| {
                                Relevance {
                                    conference_id: *conference_id,
                                    conference: conference.clone(),
                                    conference_name: conference_name.clone(),
                                    reason: reason.clone(),
                                }
                            })
                            .collect(),
                        created_at,
                        modified_at,
                    })
                },
            )
            .collect()
    }

    /// Creates or (with `existing`) changes a resolution with its relevance flags
    /// (conference abbreviation and reason).
    pub async fn save_resolution(
        &self,
        actor: &Actor,
        existing: Option<i64>,
        input: &ResolutionInput,
        relevance: &[(String, String)],
    ) -> Result<i64> {
        self.save_resolution_with(actor, existing, input, relevance, None)
            .await
            .map(|(id, _)| id)
    }

    /// [`Self::save_resolution`] with its mails in the same transaction: the
    /// spokespersons of a conference that gets new duties, and (when the resolution
    /// becomes published) the spokespersons and offices of every relevant conference,
    /// unless they turned these off. A draft's number, title and text are never
    /// given to `render`. Returns the id and the number of mails queued.
    pub async fn save_resolution_notifying(
        &self,
        actor: &Actor,
        existing: Option<i64>,
        input: &ResolutionInput,
        relevance: &[(String, String)],
        render: Render<'_>,
    ) -> Result<(i64, usize)> {
        self.save_resolution_with(actor, existing, input, relevance, Some(render))
            .await
    }

    #[tracing::instrument(skip(self, actor, input, relevance, render))]
    async fn save_resolution_with(
        &self,
        actor: &Actor,
        existing: Option<i64>,
        input: &ResolutionInput,
        relevance: &[(String, String)],
        render: Option<Render<'_>>,
    ) -> Result<(i64, usize)> {
        let mut tx = self.begin_write().await?;
        let was_published = match existing {
            Some(id) => {
                let state: Option<(String,)> = sqlx::query_as(
                    "SELECT state FROM resolutions WHERE id = $1 AND deleted_at IS NULL",
                )
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
                state.is_some_and(|(s,)| s == ResolutionState::Published.as_str())
            }
            None => false,
        };
        let session = match input.session_number {
            Some(n) => Some(session_in(&mut tx, n).await.map_err(|e| match e {
                StoreError::NotFound => invalid(
                    "session_number",
                    "unknown-session",
                    "Diese Sitzung gibt es nicht.",
                ),
                other => other,
            })?),
            None => None,
        };
        let session_id = session.as_ref().map(|s| s.id);
        let session_date = session.as_ref().map(|s| s.date);
        let now = now_micros();
        let links = input.links.join("\n");
        let conflict = "Diese Beschlussnummer ist in diesem Jahr schon vergeben.";
        let (id, action) = match existing {
            None => {
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO resolutions (year, number, title, body, links, session_id, state, \
                     created_at, modified_at, kind) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9) \
                     RETURNING id",
                )
                .bind(i64::from(input.number.year))
                .bind(i64::from(input.number.number))
                .bind(&input.title)
                .bind(&input.body)
                .bind(&links)
                .bind(session_id)
                .bind(input.state.as_str())
                .bind(now)
                .bind(input.kind.as_str())
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| StoreError::conflict_on_unique(e, conflict))?;
                (id, "created")
            }
            Some(id) => {
                let done = sqlx::query(
                    "UPDATE resolutions SET year = $1, number = $2, title = $3, body = $4, links = $5, \
                     session_id = $6, state = $7, modified_at = $8, kind = $10 \
                     WHERE id = $9 AND deleted_at IS NULL",
                )
                .bind(i64::from(input.number.year))
                .bind(i64::from(input.number.number))
                .bind(&input.title)
                .bind(&input.body)
                .bind(&links)
                .bind(session_id)
                .bind(input.state.as_str())
                .bind(now)
                .bind(id)
                .bind(input.kind.as_str())
                .execute(&mut *tx)
                .await
                .map_err(|e| StoreError::conflict_on_unique(e, conflict))?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                sqlx::query("DELETE FROM resolution_relevance WHERE resolution_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                (id, "updated")
            }
        };
        let published = input.state == ResolutionState::Published;
        let reference = format!("{}/{:02}", input.number.year, input.number.number);
        let mut queued = 0;
        for (abbreviation, reason) in relevance {
            let conference = match crate::directory::conference_id(&mut tx, abbreviation).await {
                Ok(id) => id,
                Err(StoreError::NotFound) => {
                    return Err(invalid(
                        "relevance",
                        "unknown-conference",
                        &format!("Unbekannte Konferenz „{abbreviation}“."),
                    ));
                }
                Err(e) => return Err(e),
            };
            sqlx::query("INSERT INTO resolution_relevance (resolution_id, conference_id, reason) VALUES ($1, $2, $3)")
                .bind(id)
                .bind(conference)
                .bind(reason)
                .execute(&mut *tx)
                .await?;
            let new_duties =
                crate::cooperation::ensure_duties(&mut tx, id, conference, session_date).await?;
            if let Some(render) = render.filter(|_| new_duties > 0) {
                let topic = NoticeTopic::DutiesAssigned {
                    conference: abbreviation.clone(),
                    conference_name: conference_name(&mut tx, conference).await?,
                    tasks: new_duties as i64,
                    resolution: published.then(|| DutyResolution {
                        reference: reference.clone(),
                        title: input.title.clone(),
                    }),
                };
                let spokespersons =
                    conference_accounts(&mut tx, abbreviation, &["spokesperson"]).await?;
                queued += notify(
                    &mut tx,
                    render,
                    NoticeKind::DutyAssigned,
                    &spokespersons,
                    &topic,
                )
                .await?;
            }
        }
        if let Some(render) = render.filter(|_| published && !was_published) {
            let mut people = Vec::new();
            for (abbreviation, _) in relevance {
                people.extend(
                    conference_accounts(&mut tx, abbreviation, &["spokesperson", "fachmk_office"])
                        .await?,
                );
            }
            let topic = NoticeTopic::ResolutionPublished {
                year: i64::from(input.number.year),
                number: i64::from(input.number.number),
                title: input.title.clone(),
                conferences: relevance.iter().map(|(a, _)| a.clone()).collect(),
            };
            queued += notify(
                &mut tx,
                render,
                NoticeKind::ResolutionPublished,
                &people,
                &topic,
            )
            .await?;
        }
        audit::record(
            &mut tx,
            actor,
            Change {
                conference_id: None,
                entity: "resolution",
                entity_id: id,
                action,
                before: None,
                after: audit::snapshot(&(input, relevance)),
            },
        )
        .await?;
        tx.commit().await?;
        Ok((id, queued))
    }

    /// The reports filed for a session.
    pub async fn reports(&self, session_id: i64) -> Result<Vec<Report>> {
        type Row = (
            i64,
            String,
            String,
            i64,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
            String,
            i64,
        );
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT r.session_id, c.abbreviation, c.name, r.no_exchange, r.collaboration, \
             r.perception, r.topics, r.problems, r.author, r.modified_at FROM reports r \
             JOIN conferences c ON c.id = r.conference_id WHERE r.session_id = $1 ORDER BY c.name",
        )
        .bind(session_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(
                    session_id,
                    conference,
                    conference_name,
                    no_exchange,
                    collaboration,
                    perception,
                    topics,
                    problems,
                    author,
                    modified_at,
                )| Report {
                    session_id,
                    conference,
                    conference_name,
                    input: ReportInput {
                        no_exchange: no_exchange != 0,
                        collaboration,
                        perception,
                        topics,
                        problems,
                    },
                    author,
                    modified_at,
                },
            )
            .collect())
    }

    /// Files (or replaces) a conference's report for a session.
    #[tracing::instrument(skip(self, actor, report))]
    pub async fn file_report(
        &self,
        actor: &Actor,
        number: i64,
        abbreviation: &str,
        report: &ReportInput,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let session = session_in(&mut tx, number).await?;
        let conference = crate::directory::conference_id(&mut tx, abbreviation).await?;
        let now = now_micros();
        sqlx::query(
            "INSERT INTO reports (session_id, conference_id, no_exchange, collaboration, perception, \
             topics, problems, author_id, author, created_at, modified_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) \
             ON CONFLICT (session_id, conference_id) DO UPDATE SET no_exchange = excluded.no_exchange, \
             collaboration = excluded.collaboration, perception = excluded.perception, \
             topics = excluded.topics, problems = excluded.problems, author_id = excluded.author_id, \
             author = excluded.author, modified_at = excluded.modified_at",
        )
        .bind(session.id)
        .bind(conference)
        .bind(i64::from(report.no_exchange))
        .bind(&report.collaboration)
        .bind(&report.perception)
        .bind(&report.topics)
        .bind(&report.problems)
        .bind(actor.account_id)
        .bind(&actor.name)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        audit::record(
            &mut tx,
            actor,
            Change {
                conference_id: Some(conference),
                entity: "report",
                entity_id: session.id,
                action: "filed",
                before: None,
                after: audit::snapshot(report),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// All follow-up meetings, newest first.
    pub async fn follow_ups(&self) -> Result<Vec<FollowUp>> {
        let rows: Vec<FollowUpRow> =
            sqlx::query_as(&format!("{FOLLOW_UP_SELECT} ORDER BY f.date DESC"))
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter().map(FollowUp::try_from).collect()
    }

    pub async fn follow_up(&self, session_id: i64) -> Result<Option<FollowUp>> {
        let row: Option<FollowUpRow> =
            sqlx::query_as(&format!("{FOLLOW_UP_SELECT} AND f.session_id = $1"))
                .bind(session_id)
                .fetch_optional(&self.pool)
                .await?;
        row.map(FollowUp::try_from).transpose()
    }

    /// Sets a follow-up meeting's date, time and video link. A date the office chose
    /// stays put: the meeting counts as confirmed and no longer moves with the session.
    pub async fn update_follow_up(
        &self,
        actor: &Actor,
        number: i64,
        input: &FollowUpInput,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let session = session_in(&mut tx, number).await?;
        let f = follow_up_in(&mut tx, session.id)
            .await?
            .ok_or(StoreError::NotFound)?;
        sqlx::query(
            "UPDATE follow_ups SET date = $1, start_time = $2, end_time = $3, video_url = $4, \
             confirmed = 1, modified_at = $5 WHERE id = $6",
        )
        .bind(input.date.to_string())
        .bind(time_text(input.start_time))
        .bind(time_text(input.end_time))
        .bind(&input.video_url)
        .bind(now_micros())
        .bind(f.id)
        .execute(&mut *tx)
        .await?;
        audit::record(
            &mut tx,
            actor,
            Change {
                conference_id: None,
                entity: "follow_up",
                entity_id: f.id,
                action: "updated",
                before: audit::snapshot(&f),
                after: audit::snapshot(input),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Confirms a follow-up meeting on its date: from now on it stays put.
    pub async fn confirm_follow_up(&self, actor: &Actor, number: i64) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let session = session_in(&mut tx, number).await?;
        let f = follow_up_in(&mut tx, session.id)
            .await?
            .ok_or(StoreError::NotFound)?;
        sqlx::query("UPDATE follow_ups SET confirmed = 1, modified_at = $1 WHERE id = $2")
            .bind(now_micros())
            .bind(f.id)
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut tx,
            actor,
            Change {
                conference_id: None,
                entity: "follow_up",
                entity_id: f.id,
                action: "confirmed",
                before: None,
                after: None,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// A change to the agenda changes the session (its `modified` time, for open data).
async fn touch_session(tx: &mut Tx, session_id: i64) -> Result<()> {
    sqlx::query("UPDATE council_sessions SET modified_at = $1 WHERE id = $2")
        .bind(now_micros())
        .bind(session_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Whether a session can still take new agenda items: not held, not cancelled and not
/// in the past. Refuses with a message for `field` (the form's session choice or the
/// new item's title) that names the session and why.
pub(crate) fn check_upcoming(
    number: i64,
    date: &str,
    state: &str,
    field: &'static str,
) -> Result<()> {
    let state: SessionState = state.parse().map_err(|_| corrupt("state", state))?;
    let date = parse_date(date)?;
    let day = date.strftime("%d.%m.%Y");
    match state {
        SessionState::Held => Err(invalid(
            field,
            "session-held",
            &format!(
                "Die {number}. Sitzung hat am {day} schon stattgefunden. Bitte eine kommende Sitzung wählen."
            ),
        )),
        SessionState::Cancelled => Err(invalid(
            field,
            "session-cancelled",
            &format!("Die {number}. Sitzung ist abgesagt. Bitte eine kommende Sitzung wählen."),
        )),
        _ if date < crate::today() => Err(invalid(
            field,
            "session-past",
            &format!(
                "Die {number}. Sitzung lag am {day} in der Vergangenheit. Bitte eine kommende Sitzung wählen."
            ),
        )),
        _ => Ok(()),
    }
}

/// Whether a session still lies ahead: planned or invited, today or later.
pub fn is_upcoming(session: &Session) -> bool {
    matches!(session.state, SessionState::Planned | SessionState::Invited)
        && session.date >= crate::today()
}

fn invalid(field: &'static str, code: &'static str, message: &str) -> StoreError {
    let mut errors = konvent_core::FieldErrors::new();
    errors.add(field, code, message);
    StoreError::Invalid(errors)
}

pub(crate) async fn insert_agenda_item(
    tx: &mut Tx,
    actor: &Actor,
    session_id: i64,
    title: &str,
    is_reporting: bool,
) -> Result<i64> {
    let now = now_micros();
    let (position,): (i64,) = sqlx::query_as(
        "SELECT COALESCE(MAX(position), 0) + 1 FROM agenda_items WHERE session_id = $1 AND deleted_at IS NULL",
    )
    .bind(session_id)
    .fetch_one(&mut **tx)
    .await?;
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO agenda_items (session_id, position, title, is_reporting, created_at, modified_at) \
         VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
    )
    .bind(session_id)
    .bind(position)
    .bind(title)
    .bind(i64::from(is_reporting))
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    touch_session(tx, session_id).await?;
    audit::record(
        tx,
        actor,
        Change {
            conference_id: None,
            entity: "agenda_item",
            entity_id: id,
            action: "created",
            before: None,
            after: Some(serde_json::json!({ "title": title, "session_id": session_id })),
        },
    )
    .await?;
    Ok(id)
}

#[derive(FromRow)]
struct FollowUpRow {
    id: i64,
    session_id: i64,
    session_number: i64,
    date: String,
    start_time: String,
    end_time: String,
    video_url: Option<String>,
    confirmed: i64,
    created_at: i64,
    modified_at: i64,
}

const FOLLOW_UP_SELECT: &str = "SELECT f.id, f.session_id, s.number AS session_number, f.date, \
    f.start_time, f.end_time, f.video_url, f.confirmed, f.created_at, f.modified_at \
    FROM follow_ups f JOIN council_sessions s ON s.id = f.session_id \
    WHERE f.deleted_at IS NULL AND s.deleted_at IS NULL";

impl TryFrom<FollowUpRow> for FollowUp {
    type Error = StoreError;
    fn try_from(r: FollowUpRow) -> Result<Self> {
        Ok(Self {
            id: r.id,
            session_id: r.session_id,
            session_number: r.session_number,
            date: parse_date(&r.date)?,
            start_time: parse_time(&r.start_time)?,
            end_time: parse_time(&r.end_time)?,
            video_url: r.video_url,
            confirmed: r.confirmed != 0,
            created_at: r.created_at,
            modified_at: r.modified_at,
        })
    }
}

async fn follow_up_in(tx: &mut Tx, session_id: i64) -> Result<Option<FollowUp>> {
    let row: Option<FollowUpRow> =
        sqlx::query_as(&format!("{FOLLOW_UP_SELECT} AND f.session_id = $1"))
            .bind(session_id)
            .fetch_optional(&mut **tx)
            .await?;
    row.map(FollowUp::try_from).transpose()
}

/// The follow-up meeting: a video conference of the working level, 10:00–11:30, on the
/// first working day three weeks (or the configured offset) after the session.
async fn schedule_follow_up(
    tx: &mut Tx,
    actor: &Actor,
    session_id: i64,
    session_date: Date,
    offset_days: i64,
) -> Result<()> {
    let date = follow_up_date(session_date, offset_days);
    let now = now_micros();
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO follow_ups (session_id, date, start_time, end_time, created_at, modified_at) \
         VALUES ($1, $2, '10:00', '11:30', $3, $3) RETURNING id",
    )
    .bind(session_id)
    .bind(date.to_string())
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    audit::record(
        tx,
        actor,
        Change {
            conference_id: None,
            entity: "follow_up",
            entity_id: id,
            action: "scheduled",
            before: None,
            after: audit::snapshot(&date),
        },
    )
    .await?;
    Ok(())
}
