//! Opening a vote on a draft (in a session, or in writing: [`super::written`]), casting
//! and changing a seat's ballot, and closing the vote with its result, exactly once.

use konvent_core::gremien::majority::{Ballot, Outcome, Procedure, decide};
use konvent_core::gremien::votes::{self, VoteRefusal};
use konvent_core::ids::{AccountId, AgendaItemId, ResolutionId, SessionId, VoteId};
use konvent_core::taken::Taken;

use super::key_tables::{key_in, key_of_year};
use super::seats::holder_of;
use super::vote::{Closed, load_vote};
use super::{Tx, invalid};
use crate::audit::{self, Actor, Change};
use crate::{Result, Store, StoreError, now_micros};

/// How often one seat may change its ballot in one vote (the budget on ballots: a
/// member's client cannot flood the live region or the database).
pub const MAX_BALLOT_CHANGES: i64 = 20;

/// What a ballot is checked against: closed, deadline, stopped, session.
type BallotGate = (Option<i64>, Option<i64>, Option<i64>, Option<i64>);

impl Store {
    /// Opens a vote on a draft resolution in a session (on one of its agenda items, if
    /// given). The draft's kind and the key of the session's year are frozen with it.
    #[tracing::instrument(level = "debug", skip_all, fields(actor = actor.account_id.map(AccountId::get), session_number = session_number, resolution_id = %resolution_id, agenda_item_id = ?agenda_item_id))]
    pub async fn open_vote(
        &self,
        actor: &Actor,
        session_number: i64,
        resolution_id: ResolutionId,
        agenda_item_id: Option<AgendaItemId>,
    ) -> Result<VoteId> {
        let mut tx = self.begin_write().await?;
        let session: Option<(i64, String)> = sqlx::query_as(
            "SELECT id, date FROM council_sessions WHERE number = $1 AND deleted_at IS NULL",
        )
        .bind(session_number)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((session_id, date)) = session else {
            return Err(StoreError::NotFound);
        };
        let year: i64 = date.get(..4).and_then(|y| y.parse().ok()).unwrap_or(0);
        if let Some(item) = agenda_item_id {
            let found: Option<(i64,)> = sqlx::query_as(
                "SELECT id FROM agenda_items WHERE id = $1 AND session_id = $2 AND deleted_at IS NULL",
            )
            .bind(item.get())
            .bind(session_id)
            .fetch_optional(&mut *tx)
            .await?;
            if found.is_none() {
                return Err(invalid(
                    "agenda_item",
                    "unknown-agenda-item",
                    "Diesen Tagesordnungspunkt gibt es in dieser Sitzung nicht.",
                ));
            }
        }
        let id = open_in(
            &mut tx,
            actor,
            resolution_id,
            Procedure::Session,
            Some(SessionId::new(session_id)),
            agenda_item_id,
            None,
            year,
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Casts or changes the ballot of the seat `account_id` holds (a deputy only while
    /// the representative has not voted). Refused when the account holds no seat, the vote
    /// is closed or past its deadline, or the seat used up its changes.
    #[tracing::instrument(level = "debug", skip_all, fields(account_id = %account_id, vote_id = %vote_id))]
    pub async fn cast_ballot(
        &self,
        account_id: AccountId,
        vote_id: VoteId,
        ballot: Ballot,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let Some((seat, deputy)) = holder_of(&mut tx, account_id).await? else {
            return Err(StoreError::NotFound);
        };
        let vote: Option<BallotGate> = sqlx::query_as(
            "SELECT closed_at, deadline, stopped_at, session_id FROM council_votes WHERE id = $1",
        )
        .bind(vote_id.get())
        .fetch_optional(&mut *tx)
        .await?;
        let Some((closed_at, deadline, stopped_at, session_id)) = vote else {
            return Err(StoreError::NotFound);
        };
        let now = now_micros();
        votes::ballot(stopped_at.is_some(), closed_at.is_some(), deadline, now)?;
        // In a session whose attendance is recorded, only the present count.
        if let Some(session) = session_id {
            crate::attendance::check_present(
                &mut tx,
                SessionId::new(session),
                account_id,
                seat,
                deputy,
            )
            .await?;
        }
        // Claims the vote's row while it is open: a close that committed meanwhile
        // (PostgreSQL re-reads the row after waiting for it) refuses this ballot.
        let claimed = sqlx::query(
            "UPDATE council_votes SET version = version + 1 \
             WHERE id = $1 AND closed_at IS NULL AND stopped_at IS NULL",
        )
        .bind(vote_id.get())
        .execute(&mut *tx)
        .await?;
        if claimed.rows_affected() == 0 {
            return Err(VoteRefusal::Closed.into());
        }
        let existing: Option<(i64, i64)> = sqlx::query_as(
            "SELECT by_deputy, changes FROM council_ballots WHERE vote_id = $1 AND seat = $2",
        )
        .bind(vote_id.get())
        .bind(seat.code())
        .fetch_optional(&mut *tx)
        .await?;
        match existing {
            Some((by_deputy, _)) if deputy && by_deputy == 0 => {
                return Err(VoteRefusal::MemberVoted.into());
            }
            Some((_, changes)) if changes >= MAX_BALLOT_CHANGES => {
                return Err(VoteRefusal::TooManyChanges.into());
            }
            _ => {}
        }
        sqlx::query(
            "INSERT INTO council_ballots (vote_id, seat, ballot, account_id, by_deputy, changes, cast_at) \
             VALUES ($1, $2, $3, $4, $5, 0, $6) \
             ON CONFLICT (vote_id, seat) DO UPDATE SET ballot = $3, account_id = $4, \
             by_deputy = $5, changes = council_ballots.changes + 1, cast_at = $6",
        )
        .bind(vote_id.get())
        .bind(seat.code())
        .bind(ballot.as_str())
        .bind(account_id.get())
        .bind(i64::from(deputy))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Closes a vote and records its result; refused when it is closed already.
    #[tracing::instrument(level = "debug", skip_all, fields(actor = actor.account_id.map(AccountId::get), vote_id = %vote_id))]
    pub async fn close_vote(&self, actor: &Actor, vote_id: VoteId) -> Result<Closed> {
        let mut tx = self.begin_write().await?;
        let closed = close_in(&mut tx, actor, vote_id)
            .await?
            .ok_or(VoteRefusal::AlreadyClosed)?;
        tx.commit().await?;
        Ok(closed)
    }
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn open_in(
    tx: &mut Tx,
    actor: &Actor,
    resolution_id: ResolutionId,
    procedure: Procedure,
    session_id: Option<SessionId>,
    agenda_item_id: Option<AgendaItemId>,
    deadline: Option<i64>,
    year: i64,
) -> Result<VoteId> {
    let draft: Option<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT state, kind, vote_result FROM resolutions WHERE id = $1 AND deleted_at IS NULL",
    )
    .bind(resolution_id.get())
    .fetch_optional(&mut **tx)
    .await?;
    let Some((state, kind, result)) = draft else {
        return Err(invalid(
            "resolution",
            "unknown-resolution",
            "Diesen Beschlussentwurf gibt es nicht.",
        ));
    };
    if state != "draft" || result.is_some() {
        return Err(VoteRefusal::NotADraft.into());
    }
    let Some(key) = key_in(tx, year).await? else {
        return Err(VoteRefusal::NoKey.into());
    };
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO council_votes (resolution_id, procedure, session_id, agenda_item_id, kind, \
         key_year, deadline, opened_by, opened_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         RETURNING id",
    )
    .bind(resolution_id.get())
    .bind(procedure.as_str())
    .bind(session_id.map(SessionId::get))
    .bind(agenda_item_id.map(AgendaItemId::get))
    .bind(&kind)
    .bind(i64::from(key.year))
    .bind(deadline)
    .bind(actor.account_id.map(AccountId::get))
    .bind(now_micros())
    .fetch_one(&mut **tx)
    .await
    .map_err(|e| StoreError::refused_on_unique(e, Taken::DraftVote))?;
    audit::record(
        tx,
        actor,
        Change {
            conference_id: None,
            entity: "vote",
            entity_id: id,
            action: "opened",
            before: None,
            after: Some(serde_json::json!({
                "resolution_id": resolution_id,
                "procedure": procedure.as_str(),
                "key_year": key.year,
            })),
        },
    )
    .await?;
    Ok(VoteId::new(id))
}

/// Closes the open vote `id` in the transaction: the result by the rule of its
/// procedure, frozen on the vote and on its resolution (a draft that is adopted becomes
/// decided). `None` when it was closed already (by another node, or before a restart).
pub(super) async fn close_in(tx: &mut Tx, actor: &Actor, id: VoteId) -> Result<Option<Closed>> {
    // Claims the row first (a ballot being cast waits, then finds the vote closed), and
    // reads the ballots after: the result counts exactly the ballots of the closed vote.
    let claimed = sqlx::query(
        "UPDATE council_votes SET version = version + 1 \
         WHERE id = $1 AND closed_at IS NULL AND stopped_at IS NULL",
    )
    .bind(id.get())
    .execute(&mut **tx)
    .await?;
    if claimed.rows_affected() == 0 {
        let exists: Option<(i64,)> = sqlx::query_as("SELECT id FROM council_votes WHERE id = $1")
            .bind(id.get())
            .fetch_optional(&mut **tx)
            .await?;
        return match exists {
            Some(_) => Ok(None),
            None => Err(StoreError::NotFound),
        };
    }
    let Some(vote) = load_vote(tx, "v.id = $1", id.get()).await?.pop() else {
        return Err(StoreError::NotFound);
    };
    let key_year: (i64,) = sqlx::query_as("SELECT key_year FROM council_votes WHERE id = $1")
        .bind(id.get())
        .fetch_one(&mut **tx)
        .await?;
    let key = key_of_year(tx, key_year.0).await?;
    let cast: Vec<_> = vote.ballots.iter().map(|b| (b.seat, b.ballot)).collect();
    let tally = decide(vote.kind, vote.procedure, &cast, &key);
    let json = serde_json::to_string(&tally).map_err(StoreError::Encode)?;
    // A written procedure is decided at its deadline, also when konvent closes it later
    // (after a restart): the deadline is its date.
    let now = match vote.deadline {
        Some(deadline) => deadline.min(now_micros()),
        None => now_micros(),
    };
    let done = sqlx::query(
        "UPDATE council_votes SET closed_at = $1, result = $2 WHERE id = $3 AND closed_at IS NULL",
    )
    .bind(now)
    .bind(&json)
    .bind(id.get())
    .execute(&mut **tx)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(None);
    }
    let adopted = tally.outcome == Outcome::Adopted;
    sqlx::query(
        "UPDATE resolutions SET vote_result = $1, modified_at = $2, \
         state = CASE WHEN $3 = 1 AND state = 'draft' THEN 'decided' ELSE state END \
         WHERE id = $4",
    )
    .bind(&json)
    .bind(now)
    .bind(i64::from(adopted))
    .bind(vote.resolution_id.get())
    .execute(&mut **tx)
    .await?;
    audit::record(
        tx,
        actor,
        Change {
            conference_id: None,
            entity: "vote",
            entity_id: id.get(),
            action: "closed",
            before: None,
            after: audit::snapshot(&tally),
        },
    )
    .await?;
    Ok(Some(Closed {
        vote_id: id,
        session_number: vote.session_number,
        outcome: tally.outcome,
    }))
}
