//! A vote as read back: its draft, its procedure, its named ballots, its tally (the
//! stored result once closed, else the count so far), its attendance and the requests to
//! stop it.

use konvent_core::gremien::majority::{Ballot, DraftKind, Outcome, Procedure, Seat, Tally, decide};
use konvent_core::ids::{AgendaItemId, ResolutionId, SessionId, VoteId};
use serde::Serialize;

use super::key_tables::key_of_year;
use super::written::StopRequest;
use super::{Tx, corrupt};
use crate::{Result, Store, StoreError};

/// One seat's ballot in a vote, named.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CastBallot {
    pub seat: Seat,
    pub ballot: Ballot,
    /// Who cast it (empty once the account is gone).
    pub name: String,
    pub by_deputy: bool,
}

/// A vote with its ballots; `tally` is the stored result once closed, else the count so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Vote {
    pub id: VoteId,
    pub resolution_id: ResolutionId,
    pub resolution_year: i64,
    pub resolution_number: i64,
    pub resolution_title: String,
    pub kind: DraftKind,
    pub procedure: Procedure,
    pub session_number: Option<i64>,
    pub agenda_item: Option<String>,
    pub deadline: Option<i64>,
    pub opened_at: i64,
    pub closed_at: Option<i64>,
    pub version: i64,
    pub ballots: Vec<CastBallot>,
    pub tally: Tally,
    /// When the office stopped the written procedure (it ends without a result), and
    /// the number of the session the matter went to.
    pub stopped_at: Option<i64>,
    pub stopped_for_session: Option<i64>,
    pub stop_requests: Vec<StopRequest>,
    /// A session vote's attendance (who is present for which seat); empty when the
    /// session's attendance is not recorded, and for a written procedure.
    pub attendance: Vec<crate::attendance::Attendee>,
}

impl Vote {
    pub fn is_open(&self) -> bool {
        self.closed_at.is_none() && self.stopped_at.is_none()
    }

    /// Whether the session's attendance is recorded: then only present members' (or
    /// their present deputies') ballots count.
    pub fn attendance_recorded(&self) -> bool {
        use crate::attendance::Presence;
        self.attendance
            .iter()
            .any(|a| matches!(a.presence, Presence::Member | Presence::Deputy))
    }

    /// Requests to stop it that the office has not decided on yet.
    pub fn pending_stop_requests(&self) -> usize {
        self.stop_requests
            .iter()
            .filter(|r| r.decision.is_none())
            .count()
    }

    /// `2024/15`
    pub fn reference(&self) -> String {
        format!("{}/{:02}", self.resolution_year, self.resolution_number)
    }

    pub fn ballot_of(&self, seat: Seat) -> Option<&CastBallot> {
        self.ballots.iter().find(|b| b.seat == seat)
    }
}

/// The result of a closed vote in a session on one of its agenda items (what OParl's
/// `AgendaItem.result` carries; the caller keeps only public resolutions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgendaResult {
    pub agenda_item_id: AgendaItemId,
    pub resolution_id: ResolutionId,
    pub tally: Tally,
    pub closed_at: i64,
}

/// A vote closed by [`Store::close_vote`] or [`Store::close_due_votes`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closed {
    pub vote_id: VoteId,
    pub session_number: Option<i64>,
    pub outcome: Outcome,
}

type VoteRow = (
    i64,
    i64,
    i64,
    i64,
    String,
    String,
    String,
    Option<i64>,
    Option<String>,
    Option<i64>,
    i64,
    Option<i64>,
    Option<String>,
    i64,
    i64,
    Option<i64>,
);

/// A stop request: seat, name, reason, when, decision.
type StopRow = (String, Option<String>, String, i64, Option<String>);

const VOTE_COLUMNS: &str = "v.id, r.id, r.year, r.number, r.title, v.kind, v.procedure, s.number, \
     a.title, v.deadline, v.opened_at, v.closed_at, v.result, v.version, v.key_year, v.stopped_at";

const VOTE_FROM: &str = "FROM council_votes v JOIN resolutions r ON r.id = v.resolution_id \
     LEFT JOIN council_sessions s ON s.id = v.session_id \
     LEFT JOIN agenda_items a ON a.id = v.agenda_item_id";

pub(super) async fn load_vote(tx: &mut Tx, condition: &str, id: i64) -> Result<Vec<Vote>> {
    let rows: Vec<VoteRow> = sqlx::query_as(&format!(
        "SELECT {VOTE_COLUMNS} {VOTE_FROM} WHERE {condition} ORDER BY v.opened_at, v.id"
    ))
    .bind(id)
    .fetch_all(&mut **tx)
    .await?;
    let mut votes = Vec::with_capacity(rows.len());
    for row in rows {
        let (
            id,
            resolution_id,
            resolution_year,
            resolution_number,
            resolution_title,
            kind,
            procedure,
            session_number,
            agenda_item,
            deadline,
            opened_at,
            closed_at,
            result,
            version,
            key_year,
            stopped_at,
        ) = row;
        let kind: DraftKind = kind.parse().map_err(|_| corrupt("kind", &kind))?;
        let procedure = match procedure.as_str() {
            "session" => Procedure::Session,
            "written" => Procedure::Written,
            other => return Err(corrupt("procedure", other)),
        };
        let rows: Vec<(String, String, Option<String>, i64)> = sqlx::query_as(
            "SELECT b.seat, b.ballot, a.display_name, b.by_deputy FROM council_ballots b \
             LEFT JOIN accounts a ON a.id = b.account_id WHERE b.vote_id = $1",
        )
        .bind(id)
        .fetch_all(&mut **tx)
        .await?;
        let mut ballots = Vec::with_capacity(rows.len());
        for (seat, ballot, name, by_deputy) in rows {
            ballots.push(CastBallot {
                seat: seat.parse().map_err(|_| corrupt("seat", &seat))?,
                ballot: ballot.parse().map_err(|_| corrupt("ballot", &ballot))?,
                name: name.unwrap_or_default(),
                by_deputy: by_deputy != 0,
            });
        }
        ballots.sort_by_key(|b| b.seat);
        let session_id: (Option<i64>,) =
            sqlx::query_as("SELECT session_id FROM council_votes WHERE id = $1")
                .bind(id)
                .fetch_one(&mut **tx)
                .await?;
        let attendance = match session_id.0 {
            Some(session) => crate::attendance::attendance_in(tx, SessionId::new(session)).await?,
            None => Vec::new(),
        };
        let stopped_for_session: Option<(i64,)> = sqlx::query_as(
            "SELECT s.number FROM council_votes v \
             JOIN council_sessions s ON s.id = v.stopped_for_session WHERE v.id = $1",
        )
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
        let rows: Vec<StopRow> = sqlx::query_as(
            "SELECT q.seat, a.display_name, q.reason, q.created_at, q.decision \
             FROM council_stop_requests q LEFT JOIN accounts a ON a.id = q.account_id \
             WHERE q.vote_id = $1 ORDER BY q.created_at, q.seat",
        )
        .bind(id)
        .fetch_all(&mut **tx)
        .await?;
        let mut stop_requests = Vec::with_capacity(rows.len());
        for (seat, name, reason, at, decision) in rows {
            stop_requests.push(StopRequest {
                seat: seat.parse().map_err(|_| corrupt("seat", &seat))?,
                name: name.unwrap_or_default(),
                reason,
                at,
                decision,
            });
        }
        let tally = match result {
            Some(json) => serde_json::from_str(&json).map_err(|_| corrupt("result", &json))?,
            None => {
                let key = key_of_year(tx, key_year).await?;
                let cast: Vec<_> = ballots.iter().map(|b| (b.seat, b.ballot)).collect();
                // While a written procedure runs, silent seats are not yet abstentions:
                // count them as absent until the deadline.
                decide(kind, Procedure::Session, &cast, &key)
            }
        };
        votes.push(Vote {
            id: VoteId::new(id),
            resolution_id: ResolutionId::new(resolution_id),
            resolution_year,
            resolution_number,
            resolution_title,
            kind,
            procedure,
            session_number,
            agenda_item,
            deadline,
            opened_at,
            closed_at,
            version,
            ballots,
            tally,
            stopped_at,
            stopped_for_session: stopped_for_session.map(|(n,)| n),
            stop_requests,
            attendance,
        });
    }
    Ok(votes)
}

impl Store {
    /// The votes of a session, in the order they were opened.
    #[tracing::instrument(level = "debug", skip_all, fields(session_number = session_number))]
    pub async fn session_votes(&self, session_number: i64) -> Result<Vec<Vote>> {
        let mut tx = self.pool.begin().await?;
        load_vote(&mut tx, "s.number = $1", session_number).await
    }

    /// The results of the closed votes taken in sessions on an agenda item, in the order
    /// they closed. No ballots and no names: only the frozen tally.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn agenda_results(&self) -> Result<Vec<AgendaResult>> {
        let rows: Vec<(i64, i64, String, i64)> = sqlx::query_as(
            "SELECT agenda_item_id, resolution_id, result, closed_at FROM council_votes \
             WHERE procedure = 'session' AND agenda_item_id IS NOT NULL \
             AND closed_at IS NOT NULL AND result IS NOT NULL ORDER BY closed_at, id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(agenda_item_id, resolution_id, json, closed_at)| {
                Ok(AgendaResult {
                    agenda_item_id: AgendaItemId::new(agenda_item_id),
                    resolution_id: ResolutionId::new(resolution_id),
                    tally: serde_json::from_str(&json).map_err(|_| corrupt("result", &json))?,
                    closed_at,
                })
            })
            .collect()
    }

    /// One vote.
    #[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
    pub async fn vote(&self, id: VoteId) -> Result<Vote> {
        let mut tx = self.pool.begin().await?;
        load_vote(&mut tx, "v.id = $1", id.get())
            .await?
            .pop()
            .ok_or(StoreError::NotFound)
    }
}
