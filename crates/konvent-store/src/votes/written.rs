//! Written procedures (Umlaufverfahren, G10): a vote on a draft by a deadline, closed
//! when it passes (also after a restart), and the seats' requests to stop one and take
//! the matter to a session, which the office decides.

use konvent_core::gremien::majority::{Procedure, Seat};
use konvent_core::gremien::votes::VoteRefusal;
use konvent_core::ids::{AccountId, AgendaItemId, ResolutionId, VoteId};
use konvent_core::notifications::NoticeKind;
use serde::Serialize;

use super::ballots::{close_in, open_in};
use super::seats::{holder_of, seat_holders};
use super::vote::{Closed, Vote, load_vote};
use super::{Tx, invalid};
use crate::audit::{self, Actor, Change};
use crate::notifications::{NoticeTopic, Render, notify};
use crate::{Result, Store, StoreError, now_micros};

/// The longest reason of a request to stop a written procedure, in characters.
pub const MAX_STOP_REASON: usize = 1000;

/// A seat's request to stop a written procedure and take the matter to a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StopRequest {
    pub seat: Seat,
    /// Who asked (empty once the account is gone).
    pub name: String,
    pub reason: String,
    pub at: i64,
    /// The office's decision: `stopped` or `continued`; `None` while it is pending.
    pub decision: Option<String>,
}

/// A written procedure's resolution, procedure, deadline, closed and stopped.
type WrittenRow = (i64, String, Option<i64>, Option<i64>, Option<i64>);

impl Store {
    /// Starts a written procedure (Umlaufverfahren) on a draft with a deadline (Unix
    /// microseconds, in the future), and tells every seat holder in konvent and by mail,
    /// in the same transaction. Returns the vote's id and the number of mails queued.
    #[tracing::instrument(level = "debug", skip_all, fields(actor = actor.account_id.map(AccountId::get), resolution_id = %resolution_id))]
    pub async fn start_written_procedure(
        &self,
        actor: &Actor,
        resolution_id: ResolutionId,
        deadline: i64,
        render: Render<'_>,
    ) -> Result<(VoteId, usize)> {
        let now = now_micros();
        if deadline <= now {
            return Err(invalid(
                "deadline",
                "deadline-past",
                "Die Frist muss in der Zukunft liegen.",
            ));
        }
        let year = i64::from(
            crate::timestamp(now)
                .to_zoned(jiff::tz::TimeZone::UTC)
                .year(),
        );
        let mut tx = self.begin_write().await?;
        let id = open_in(
            &mut tx,
            actor,
            resolution_id,
            Procedure::Written,
            None,
            None,
            Some(deadline),
            year,
        )
        .await?;
        let people = seat_holders(&mut tx).await?;
        let topic = NoticeTopic::WrittenProcedure {
            vote_id: id.get(),
            deadline,
        };
        let queued = notify(
            &mut tx,
            render,
            NoticeKind::WrittenProcedure,
            &people,
            &topic,
        )
        .await?;
        tx.commit().await?;
        Ok((id, queued))
    }

    /// The written procedures, running ones first, then the closed ones, newest first.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn written_procedures(&self) -> Result<Vec<Vote>> {
        let mut tx = self.pool.begin().await?;
        let mut votes = load_vote(&mut tx, "v.procedure = 'written' AND v.id > $1", 0).await?;
        votes.sort_by_key(|v| (v.closed_at.is_some(), -v.opened_at));
        Ok(votes)
    }

    /// The next deadline of a running written procedure, if any.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn next_vote_deadline(&self) -> Result<Option<i64>> {
        let row: (Option<i64>,) = sqlx::query_as(
            "SELECT MIN(deadline) FROM council_votes WHERE closed_at IS NULL AND stopped_at IS NULL \
             AND deadline IS NOT NULL",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(row.0)
    }

    /// Closes every written procedure whose deadline has passed (the scheduler's work,
    /// also after a restart): each exactly once, non-voters counted as abstaining.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn close_due_votes(&self, now: i64) -> Result<Vec<Closed>> {
        let due: Vec<(i64,)> = sqlx::query_as(
            "SELECT id FROM council_votes WHERE closed_at IS NULL AND stopped_at IS NULL \
             AND deadline IS NOT NULL AND deadline <= $1 ORDER BY deadline LIMIT 100",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        let mut closed = Vec::new();
        for (id,) in due {
            let mut tx = self.begin_write().await?;
            if let Some(c) =
                close_in(&mut tx, &Actor::system("Umlaufverfahren"), VoteId::new(id)).await?
            {
                closed.push(c);
            }
            tx.commit().await?;
        }
        Ok(closed)
    }

    /// A seat holder asks for the running written procedure `vote_id` to be stopped and
    /// the matter put on a session's agenda, with a short reason. One request per seat
    /// and procedure (the budget: it cannot be repeated or changed). The office (the
    /// administrators) is told by mail; answers how many mails were queued.
    #[tracing::instrument(level = "debug", skip_all, fields(actor = actor.account_id.map(AccountId::get), account_id = %account_id, vote_id = %vote_id))]
    pub async fn request_stop(
        &self,
        actor: &Actor,
        account_id: AccountId,
        vote_id: VoteId,
        reason: &str,
        render: Render<'_>,
    ) -> Result<usize> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(invalid(
                "reason",
                "required",
                "Bitte kurz begründen, warum das Umlaufverfahren abgebrochen werden soll.",
            ));
        }
        if reason.chars().count() > MAX_STOP_REASON {
            return Err(invalid(
                "reason",
                "too-long",
                "Die Begründung darf höchstens 1000 Zeichen lang sein.",
            ));
        }
        let mut tx = self.begin_write().await?;
        let Some((seat, _)) = holder_of(&mut tx, account_id).await? else {
            return Err(StoreError::NotFound);
        };
        open_written(&mut tx, vote_id).await?;
        let done = sqlx::query(
            "INSERT INTO council_stop_requests (vote_id, seat, account_id, reason, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (vote_id, seat) DO NOTHING",
        )
        .bind(vote_id.get())
        .bind(seat.code())
        .bind(account_id.get())
        .bind(reason)
        .bind(now_micros())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(VoteRefusal::StopAlreadyRequested.into());
        }
        audit::record(
            &mut tx,
            actor,
            Change {
                conference_id: None,
                entity: "vote",
                entity_id: vote_id.get(),
                action: "stop_requested",
                before: None,
                after: Some(serde_json::json!({ "seat": seat.code(), "reason": reason })),
            },
        )
        .await?;
        // The office (the administrators) decides, so it is told.
        let office: Vec<(i64,)> =
            sqlx::query_as("SELECT DISTINCT account_id FROM grants WHERE role = 'admin'")
                .fetch_all(&mut *tx)
                .await?;
        let office: Vec<AccountId> = office.into_iter().map(|(id,)| AccountId::new(id)).collect();
        let topic = NoticeTopic::StopRequested {
            vote_id: vote_id.get(),
            seat: seat.name().to_owned(),
        };
        let queued = notify(&mut tx, render, NoticeKind::StopRequested, &office, &topic).await?;
        tx.commit().await?;
        Ok(queued)
    }

    /// The office stops the running written procedure `vote_id`: it ends without a
    /// result, the pending requests are decided, and the draft goes onto the agenda of
    /// the upcoming session `session_number` as an item (and becomes that session's
    /// draft, to be voted on there); every seat holder is told by mail. Returns the new
    /// agenda item's id and the number of mails queued.
    #[tracing::instrument(level = "debug", skip_all, fields(actor = actor.account_id.map(AccountId::get), vote_id = %vote_id, session_number = session_number))]
    pub async fn stop_written_procedure(
        &self,
        actor: &Actor,
        vote_id: VoteId,
        session_number: i64,
        render: Render<'_>,
    ) -> Result<(AgendaItemId, usize)> {
        let mut tx = self.begin_write().await?;
        let resolution_id = open_written(&mut tx, vote_id).await?;
        let session = match crate::council::session_in(&mut tx, session_number).await {
            Ok(s) => s,
            Err(StoreError::NotFound) => {
                return Err(invalid(
                    "session",
                    "unknown-session",
                    "Bitte eine kommende Sitzung wählen.",
                ));
            }
            Err(e) => return Err(e),
        };
        crate::council::check_upcoming(
            session_number,
            &session.date.to_string(),
            session.state.as_str(),
            "session",
        )?;
        let now = now_micros();
        let claimed = sqlx::query(
            "UPDATE council_votes SET stopped_at = $1, stopped_for_session = $2, \
             version = version + 1 WHERE id = $3 AND closed_at IS NULL AND stopped_at IS NULL",
        )
        .bind(now)
        .bind(session.id.get())
        .bind(vote_id.get())
        .execute(&mut *tx)
        .await?;
        if claimed.rows_affected() == 0 {
            return Err(VoteRefusal::NotRunning.into());
        }
        sqlx::query(
            "UPDATE council_stop_requests SET decision = 'stopped', decided_at = $1 \
             WHERE vote_id = $2 AND decision IS NULL",
        )
        .bind(now)
        .bind(vote_id.get())
        .execute(&mut *tx)
        .await?;
        let (year, number, title): (i64, i64, String) =
            sqlx::query_as("SELECT year, number, title FROM resolutions WHERE id = $1")
                .bind(resolution_id)
                .fetch_one(&mut *tx)
                .await?;
        sqlx::query("UPDATE resolutions SET session_id = $1, modified_at = $2 WHERE id = $3")
            .bind(session.id.get())
            .bind(now)
            .bind(resolution_id)
            .execute(&mut *tx)
            .await?;
        let item = crate::council::insert_agenda_item(
            &mut tx,
            actor,
            session.id,
            &format!("Beschlussentwurf {year}/{number:02}: {title}"),
            false,
        )
        .await?;
        audit::record(
            &mut tx,
            actor,
            Change {
                conference_id: None,
                entity: "vote",
                entity_id: vote_id.get(),
                action: "stopped",
                before: None,
                after: Some(serde_json::json!({
                    "session": session_number,
                    "agenda_item": item,
                })),
            },
        )
        .await?;
        // Every seat holder was asked to vote, so every one is told it ended.
        let holders = seat_holders(&mut tx).await?;
        let topic = NoticeTopic::ProcedureStopped {
            session_number,
            session_date: session.date,
        };
        let queued = notify(
            &mut tx,
            render,
            NoticeKind::ProcedureStopped,
            &holders,
            &topic,
        )
        .await?;
        tx.commit().await?;
        Ok((item, queued))
    }

    /// The office lets the written procedure `vote_id` run on: the pending requests to
    /// stop it are decided as `continued`, and those who asked are told by mail (answers
    /// how many mails were queued). Refused when none is pending.
    #[tracing::instrument(level = "debug", skip_all, fields(actor = actor.account_id.map(AccountId::get), vote_id = %vote_id))]
    pub async fn continue_written_procedure(
        &self,
        actor: &Actor,
        vote_id: VoteId,
        render: Render<'_>,
    ) -> Result<usize> {
        let mut tx = self.begin_write().await?;
        open_written(&mut tx, vote_id).await?;
        // Those who asked are told that the office let it run on.
        let askers: Vec<(i64,)> = sqlx::query_as(
            "SELECT account_id FROM council_stop_requests WHERE vote_id = $1 AND decision IS NULL",
        )
        .bind(vote_id.get())
        .fetch_all(&mut *tx)
        .await?;
        let done = sqlx::query(
            "UPDATE council_stop_requests SET decision = 'continued', decided_at = $1 \
             WHERE vote_id = $2 AND decision IS NULL",
        )
        .bind(now_micros())
        .bind(vote_id.get())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(VoteRefusal::NoOpenStopRequest.into());
        }
        audit::record(
            &mut tx,
            actor,
            Change {
                conference_id: None,
                entity: "vote",
                entity_id: vote_id.get(),
                action: "continued",
                before: None,
                after: Some(serde_json::json!({ "requests": done.rows_affected() })),
            },
        )
        .await?;
        let deadline: (Option<i64>,) =
            sqlx::query_as("SELECT deadline FROM council_votes WHERE id = $1")
                .bind(vote_id.get())
                .fetch_one(&mut *tx)
                .await?;
        let askers: Vec<AccountId> = askers.into_iter().map(|(id,)| AccountId::new(id)).collect();
        let topic = NoticeTopic::ProcedureContinued {
            vote_id: vote_id.get(),
            deadline: deadline.0.unwrap_or_default(),
        };
        let queued = notify(
            &mut tx,
            render,
            NoticeKind::ProcedureContinued,
            &askers,
            &topic,
        )
        .await?;
        tx.commit().await?;
        Ok(queued)
    }
}

/// The resolution of the written procedure `vote_id`, which must be running (not
/// closed, stopped or past its deadline); claims its row (version + 1).
async fn open_written(tx: &mut Tx, vote_id: VoteId) -> Result<i64> {
    let row: Option<WrittenRow> = sqlx::query_as(
        "SELECT resolution_id, procedure, deadline, closed_at, stopped_at \
         FROM council_votes WHERE id = $1",
    )
    .bind(vote_id.get())
    .fetch_optional(&mut **tx)
    .await?;
    let Some((resolution_id, procedure, deadline, closed_at, stopped_at)) = row else {
        return Err(StoreError::NotFound);
    };
    if procedure != "written" {
        return Err(VoteRefusal::NotWritten.into());
    }
    if stopped_at.is_some() {
        return Err(VoteRefusal::AlreadyStopped.into());
    }
    if closed_at.is_some() || deadline.is_some_and(|d| d <= now_micros()) {
        return Err(VoteRefusal::AlreadyOver.into());
    }
    let claimed = sqlx::query(
        "UPDATE council_votes SET version = version + 1 \
         WHERE id = $1 AND closed_at IS NULL AND stopped_at IS NULL",
    )
    .bind(vote_id.get())
    .execute(&mut **tx)
    .await?;
    if claimed.rows_affected() == 0 {
        return Err(VoteRefusal::NotRunning.into());
    }
    Ok(resolution_id)
}
