//! The conferences' reports to a council session (G6), one per conference and session.

use konvent_core::gremien::council::ReportInput;
use konvent_core::ids::{AccountId, SessionId};
use serde::Serialize;

use super::sessions::session_in;
use crate::audit::{self, Actor, Change};
use crate::{Result, Store, now_micros};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub session_id: SessionId,
    pub conference: String,
    pub conference_name: String,
    pub input: ReportInput,
    pub author: String,
    pub modified_at: i64,
}

impl Store {
    /// The reports filed for a session.
    #[tracing::instrument(level = "debug", skip_all, fields(session_id = %session_id))]
    pub async fn reports(&self, session_id: SessionId) -> Result<Vec<Report>> {
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
        .bind(session_id.get())
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
                    session_id: SessionId::new(session_id),
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
    #[tracing::instrument(level = "debug", skip_all, fields(actor = actor.account_id.map(AccountId::get), number = number, abbreviation = %abbreviation))]
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
        .bind(session.id.get())
        .bind(conference.get())
        .bind(i64::from(report.no_exchange))
        .bind(&report.collaboration)
        .bind(&report.perception)
        .bind(&report.topics)
        .bind(&report.problems)
        .bind(actor.account_id.map(AccountId::get))
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
                entity_id: session.id.get(),
                action: "filed",
                before: None,
                after: audit::snapshot(report),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
