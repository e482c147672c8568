//! The council's resolutions (G5): drafts, decided and published ones, with their
//! relevance for the conferences. Marking a resolution relevant gives the conference's
//! spokespersons their duties; publishing it tells the conferences.

use konvent_core::gremien::council::{ResolutionInput, ResolutionState, Visibility};
use konvent_core::gremien::majority::{DraftKind, Tally};
use konvent_core::ids::{AccountId, ConferenceId, ResolutionId};
use konvent_core::notifications::NoticeKind;
use konvent_core::taken::Taken;
use serde::Serialize;

use super::sessions::session_in;
use super::{Tx, corrupt, invalid};
use crate::audit::{self, Actor, Change};
use crate::cooperation::DutyResolution;
use crate::notifications::{NoticeTopic, Render, conference_accounts, notify};
use crate::{Result, Store, StoreError, now_micros};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Relevance {
    pub conference_id: ConferenceId,
    pub conference: String,
    pub conference_name: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resolution {
    pub id: ResolutionId,
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

async fn conference_name(tx: &mut Tx, id: ConferenceId) -> Result<String> {
    let (name,): (String,) = sqlx::query_as("SELECT name FROM conferences WHERE id = $1")
        .bind(id.get())
        .fetch_one(&mut **tx)
        .await?;
    Ok(name)
}

impl Store {
    /// Resolutions the reader may see, newest first.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn resolutions(&self, visibility: Visibility) -> Result<Vec<Resolution>> {
        let list = self.load_resolutions("", None).await?;
        Ok(list
            .into_iter()
            .filter(|r| visibility.allows(r.state))
            .collect())
    }

    /// A resolution by its number, if the reader may see it (else "not found", so that
    /// its existence does not leak).
    #[tracing::instrument(level = "debug", skip_all, fields(year = year, number = number))]
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
                        id: ResolutionId::new(id),
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
                                    conference_id: ConferenceId::new(*conference_id),
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
    #[tracing::instrument(level = "debug", skip_all, fields(actor = actor.account_id.map(AccountId::get), existing = ?existing, relevance = relevance.len()))]
    pub async fn save_resolution(
        &self,
        actor: &Actor,
        existing: Option<ResolutionId>,
        input: &ResolutionInput,
        relevance: &[(String, String)],
    ) -> Result<ResolutionId> {
        self.save_resolution_with(actor, existing, input, relevance, None)
            .await
            .map(|(id, _)| id)
    }

    /// [`Self::save_resolution`] with its mails in the same transaction: the
    /// spokespersons of a conference that gets new duties, and (when the resolution
    /// becomes published) the spokespersons and offices of every relevant conference,
    /// unless they turned these off. A draft's number, title and text are never
    /// given to `render`. Returns the id and the number of mails queued.
    #[tracing::instrument(level = "debug", skip_all, fields(actor = actor.account_id.map(AccountId::get), existing = ?existing, relevance = relevance.len()))]
    pub async fn save_resolution_notifying(
        &self,
        actor: &Actor,
        existing: Option<ResolutionId>,
        input: &ResolutionInput,
        relevance: &[(String, String)],
        render: Render<'_>,
    ) -> Result<(ResolutionId, usize)> {
        self.save_resolution_with(actor, existing, input, relevance, Some(render))
            .await
    }

    #[tracing::instrument(skip(self, actor, input, relevance, render))]
    async fn save_resolution_with(
        &self,
        actor: &Actor,
        existing: Option<ResolutionId>,
        input: &ResolutionInput,
        relevance: &[(String, String)],
        render: Option<Render<'_>>,
    ) -> Result<(ResolutionId, usize)> {
        let existing = existing.map(ResolutionId::get);
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
        let session_id = session.as_ref().map(|s| s.id.get());
        let session_date = session.as_ref().map(|s| s.date);
        let now = now_micros();
        let links = input.links.join("\n");
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
                .map_err(|e| StoreError::refused_on_unique(e, Taken::ResolutionNumber))?;
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
                .map_err(|e| StoreError::refused_on_unique(e, Taken::ResolutionNumber))?;
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
                .bind(conference.get())
                .bind(reason)
                .execute(&mut *tx)
                .await?;
            let new_duties = crate::cooperation::ensure_duties(
                &mut tx,
                ResolutionId::new(id),
                conference,
                session_date,
            )
            .await?;
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
        Ok((ResolutionId::new(id), queued))
    }
}
