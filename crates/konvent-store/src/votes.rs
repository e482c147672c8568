//! The council's votes (G9, G10): the seventeen seats with their representative and
//! deputies, the Königsteiner Schlüssel per year, and votes on a draft resolution — in a
//! session or in writing by a deadline — with one named row per seat's ballot. Closing a
//! vote computes the result with `konvent_core::gremien::majority::decide`, freezes it on
//! the vote and stores it on the resolution, in one transaction, exactly once.

use konvent_core::gremien::majority::{
    Ballot, DraftKind, KeyTable, Outcome, Procedure, Seat, Tally, decide,
};
use serde::Serialize;

use crate::audit::{self, Actor, Change};
use crate::notifications::{NoticeTopic, Render, notify};
use crate::{Result, Store, StoreError, now_micros};
use konvent_core::notifications::NoticeKind;

type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// How often one seat may change its ballot in one vote (the budget on ballots: a
/// member's client cannot flood the live region or the database).
pub const MAX_BALLOT_CHANGES: i64 = 20;

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

/// A seat's holder: its representative or one of its deputies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SeatHolder {
    pub seat: Seat,
    pub account_id: i64,
    pub name: String,
    pub email: String,
    pub deputy: bool,
}

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
    pub id: i64,
    pub resolution_id: i64,
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
    pub agenda_item_id: i64,
    pub resolution_id: i64,
    pub tally: Tally,
    pub closed_at: i64,
}

/// A vote closed by [`Store::close_vote`] or [`Store::close_due_votes`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closed {
    pub vote_id: i64,
    pub session_number: Option<i64>,
    pub outcome: Outcome,
}

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what}: {value:?}"))
}

fn invalid(field: &'static str, code: &'static str, message: &str) -> StoreError {
    let mut errors = konvent_core::FieldErrors::new();
    errors.add(field, code, message);
    StoreError::Invalid(errors)
}

fn refused(message: &str) -> StoreError {
    StoreError::Conflict(message.to_owned())
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
/// What a ballot is checked against: closed, deadline, stopped, session.
type BallotGate = (Option<i64>, Option<i64>, Option<i64>, Option<i64>);
/// A written procedure's resolution, procedure, deadline, closed and stopped.
type WrittenRow = (i64, String, Option<i64>, Option<i64>, Option<i64>);

const VOTE_COLUMNS: &str = "v.id, r.id, r.year, r.number, r.title, v.kind, v.procedure, s.number, \
     a.title, v.deadline, v.opened_at, v.closed_at, v.result, v.version, v.key_year, v.stopped_at";
const VOTE_FROM: &str = "FROM council_votes v JOIN resolutions r ON r.id = v.resolution_id \
     LEFT JOIN council_sessions s ON s.id = v.session_id \
     LEFT JOIN agenda_items a ON a.id = v.agenda_item_id";

async fn key_in(tx: &mut Tx, year: i64) -> Result<Option<KeyTable>> {
    // The table of the year, or else the newest before it, or else the newest there is.
    let chosen: Option<(i64,)> = sqlx::query_as(
        "SELECT year FROM key_shares GROUP BY year \
         ORDER BY CASE WHEN year <= $1 THEN 0 ELSE 1 END, \
                  CASE WHEN year <= $1 THEN -year ELSE year END LIMIT 1",
    )
    .bind(year)
    .fetch_optional(&mut **tx)
    .await?;
    match chosen {
        Some((year,)) => key_of_year(tx, year).await.map(Some),
        None => Ok(None),
    }
}

async fn key_of_year(tx: &mut Tx, year: i64) -> Result<KeyTable> {
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT seat, share FROM key_shares WHERE year = $1")
            .bind(year)
            .fetch_all(&mut **tx)
            .await?;
    let mut shares = [0u32; 16];
    for (seat, share) in rows {
        let index = seat
            .parse::<Seat>()
            .ok()
            .and_then(Seat::land_index)
            .ok_or_else(|| corrupt("seat", &seat))?;
        shares[index] = u32::try_from(share).map_err(|_| corrupt("share", &share.to_string()))?;
    }
    Ok(KeyTable {
        year: i32::try_from(year).map_err(|_| corrupt("year", &year.to_string()))?,
        shares,
    })
}

async fn load_vote(tx: &mut Tx, condition: &str, id: i64) -> Result<Vec<Vote>> {
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
            Some(session) => crate::attendance::attendance_in(tx, session).await?,
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

async fn holder_of(tx: &mut Tx, account_id: i64) -> Result<Option<(Seat, bool)>> {
    let row: Option<(String, String)> =
        sqlx::query_as("SELECT seat, role FROM council_seats WHERE account_id = $1")
            .bind(account_id)
            .fetch_optional(&mut **tx)
            .await?;
    row.map(|(seat, role)| {
        Ok((
            seat.parse().map_err(|_| corrupt("seat", &seat))?,
            role == "deputy",
        ))
    })
    .transpose()
}

/// Closes the open vote `id` in the transaction: the result by the rule of its
/// procedure, frozen on the vote and on its resolution (a draft that is adopted becomes
/// decided). `None` when it was closed already (by another node, or before a restart).
async fn close_in(tx: &mut Tx, actor: &Actor, id: i64) -> Result<Option<Closed>> {
    // Claims the row first (a ballot being cast waits, then finds the vote closed), and
    // reads the ballots after: the result counts exactly the ballots of the closed vote.
    let claimed = sqlx::query(
        "UPDATE council_votes SET version = version + 1 \
         WHERE id = $1 AND closed_at IS NULL AND stopped_at IS NULL",
    )
    .bind(id)
    .execute(&mut **tx)
    .await?;
    if claimed.rows_affected() == 0 {
        let exists: Option<(i64,)> = sqlx::query_as("SELECT id FROM council_votes WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?;
        return match exists {
            Some(_) => Ok(None),
            None => Err(StoreError::NotFound),
        };
    }
    let Some(vote) = load_vote(tx, "v.id = $1", id).await?.pop() else {
        return Err(StoreError::NotFound);
    };
    let key_year: (i64,) = sqlx::query_as("SELECT key_year FROM council_votes WHERE id = $1")
        .bind(id)
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
    .bind(id)
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
    .bind(vote.resolution_id)
    .execute(&mut **tx)
    .await?;
    audit::record(
        tx,
        actor,
        Change {
            conference_id: None,
            entity: "vote",
            entity_id: id,
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

impl Store {
    /// The seats' holders, by seat, the representative first.
    pub async fn seat_holders(&self) -> Result<Vec<SeatHolder>> {
        let rows: Vec<(String, i64, String, String, String)> = sqlx::query_as(
            "SELECT s.seat, a.id, a.display_name, a.email, s.role FROM council_seats s \
             JOIN accounts a ON a.id = s.account_id ORDER BY a.display_name",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut holders = rows
            .into_iter()
            .map(|(seat, account_id, name, email, role)| {
                Ok(SeatHolder {
                    seat: seat.parse().map_err(|_| corrupt("seat", &seat))?,
                    account_id,
                    name,
                    email,
                    deputy: role == "deputy",
                })
            })
            .collect::<Result<Vec<_>>>()?;
        holders.sort_by_key(|h| (h.seat, h.deputy));
        Ok(holders)
    }

    /// The seat an account holds, and whether as a deputy.
    pub async fn seat_of(&self, account_id: i64) -> Result<Option<(Seat, bool)>> {
        let mut tx = self.pool.begin().await?;
        holder_of(&mut tx, account_id).await
    }

    /// Gives a seat to the account with `email`, as representative (replacing the one
    /// before, who stays a deputy) or as a deputy. An account holds one seat at most.
    #[tracing::instrument(skip(self, actor))]
    pub async fn assign_seat(
        &self,
        actor: &Actor,
        seat: Seat,
        email: &str,
        deputy: bool,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let account: Option<(i64,)> =
            sqlx::query_as("SELECT id FROM accounts WHERE lower(email) = lower($1)")
                .bind(email.trim())
                .fetch_optional(&mut *tx)
                .await?;
        let Some((account_id,)) = account else {
            return Err(invalid(
                "email",
                "unknown-account",
                "Zu dieser Adresse gibt es kein Konto.",
            ));
        };
        if !deputy {
            sqlx::query(
                "UPDATE council_seats SET role = 'deputy' WHERE seat = $1 AND role = 'representative'",
            )
            .bind(seat.code())
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("DELETE FROM council_seats WHERE account_id = $1")
            .bind(account_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO council_seats (seat, account_id, role, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(seat.code())
        .bind(account_id)
        .bind(if deputy { "deputy" } else { "representative" })
        .bind(now_micros())
        .execute(&mut *tx)
        .await?;
        audit::record(
            &mut tx,
            actor,
            Change {
                conference_id: None,
                entity: "seat",
                entity_id: account_id,
                action: "assigned",
                before: None,
                after: Some(serde_json::json!({ "seat": seat.code(), "deputy": deputy })),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Takes a seat from an account.
    pub async fn unassign_seat(&self, actor: &Actor, account_id: i64) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("DELETE FROM council_seats WHERE account_id = $1")
            .bind(account_id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        audit::record(
            &mut tx,
            actor,
            Change {
                conference_id: None,
                entity: "seat",
                entity_id: account_id,
                action: "unassigned",
                before: None,
                after: None,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every year's Königsteiner Schlüssel, newest first.
    pub async fn key_tables(&self) -> Result<Vec<KeyTable>> {
        let mut tx = self.pool.begin().await?;
        let years: Vec<(i64,)> =
            sqlx::query_as("SELECT DISTINCT year FROM key_shares ORDER BY year DESC")
                .fetch_all(&mut *tx)
                .await?;
        let mut tables = Vec::with_capacity(years.len());
        for (year,) in years {
            tables.push(key_of_year(&mut tx, year).await?);
        }
        Ok(tables)
    }

    /// Stores (or replaces) a year's key; the table was checked by [`KeyTable::new`].
    pub async fn save_key_table(&self, actor: &Actor, key: &KeyTable) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM key_shares WHERE year = $1")
            .bind(i64::from(key.year))
            .execute(&mut *tx)
            .await?;
        let now = now_micros();
        for land in Seat::laender() {
            sqlx::query(
                "INSERT INTO key_shares (year, seat, share, modified_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(i64::from(key.year))
            .bind(land.code())
            .bind(i64::from(key.share(land)))
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        audit::record(
            &mut tx,
            actor,
            Change {
                conference_id: None,
                entity: "key_table",
                entity_id: i64::from(key.year),
                action: "saved",
                before: None,
                after: audit::snapshot(key),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Opens a vote on a draft resolution in a session (on one of its agenda items, if
    /// given). The draft's kind and the key of the session's year are frozen with it.
    #[tracing::instrument(skip(self, actor))]
    pub async fn open_vote(
        &self,
        actor: &Actor,
        session_number: i64,
        resolution_id: i64,
        agenda_item_id: Option<i64>,
    ) -> Result<i64> {
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
            .bind(item)
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
            Some(session_id),
            agenda_item_id,
            None,
            year,
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Starts a written procedure (Umlaufverfahren) on a draft with a deadline (Unix
    /// microseconds, in the future), and tells every seat holder in konvent and by mail,
    /// in the same transaction. Returns the vote's id and the number of mails queued.
    #[tracing::instrument(skip(self, actor, render))]
    pub async fn start_written_procedure(
        &self,
        actor: &Actor,
        resolution_id: i64,
        deadline: i64,
        render: Render<'_>,
    ) -> Result<(i64, usize)> {
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
            vote_id: id,
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

    /// The votes of a session, in the order they were opened.
    pub async fn session_votes(&self, session_number: i64) -> Result<Vec<Vote>> {
        let mut tx = self.pool.begin().await?;
        load_vote(&mut tx, "s.number = $1", session_number).await
    }

    /// The results of the closed votes taken in sessions on an agenda item, in the order
    /// they closed. No ballots and no names: only the frozen tally.
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
                    agenda_item_id,
                    resolution_id,
                    tally: serde_json::from_str(&json).map_err(|_| corrupt("result", &json))?,
                    closed_at,
                })
            })
            .collect()
    }

    /// One vote.
    pub async fn vote(&self, id: i64) -> Result<Vote> {
        let mut tx = self.pool.begin().await?;
        load_vote(&mut tx, "v.id = $1", id)
            .await?
            .pop()
            .ok_or(StoreError::NotFound)
    }

    /// The written procedures, running ones first, then the closed ones, newest first.
    pub async fn written_procedures(&self) -> Result<Vec<Vote>> {
        let mut tx = self.pool.begin().await?;
        let mut votes = load_vote(&mut tx, "v.procedure = 'written' AND v.id > $1", 0).await?;
        votes.sort_by_key(|v| (v.closed_at.is_some(), -v.opened_at));
        Ok(votes)
    }

    /// Casts or changes the ballot of the seat `account_id` holds (a deputy only while
    /// the representative has not voted). Refused when the account holds no seat, the vote
    /// is closed or past its deadline, or the seat used up its changes.
    #[tracing::instrument(skip(self))]
    pub async fn cast_ballot(&self, account_id: i64, vote_id: i64, ballot: Ballot) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let Some((seat, deputy)) = holder_of(&mut tx, account_id).await? else {
            return Err(StoreError::NotFound);
        };
        let vote: Option<BallotGate> = sqlx::query_as(
            "SELECT closed_at, deadline, stopped_at, session_id FROM council_votes WHERE id = $1",
        )
        .bind(vote_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((closed_at, deadline, stopped_at, session_id)) = vote else {
            return Err(StoreError::NotFound);
        };
        let now = now_micros();
        if stopped_at.is_some() {
            return Err(refused("Dieses Umlaufverfahren wurde abgebrochen."));
        }
        if closed_at.is_some() || deadline.is_some_and(|d| d <= now) {
            return Err(refused("Diese Abstimmung ist geschlossen."));
        }
        // In a session whose attendance is recorded, only the present count.
        if let Some(session) = session_id {
            crate::attendance::check_present(&mut tx, session, account_id, seat, deputy).await?;
        }
        // Claims the vote's row while it is open: a close that committed meanwhile
        // (PostgreSQL re-reads the row after waiting for it) refuses this ballot.
        let claimed = sqlx::query(
            "UPDATE council_votes SET version = version + 1 \
             WHERE id = $1 AND closed_at IS NULL AND stopped_at IS NULL",
        )
        .bind(vote_id)
        .execute(&mut *tx)
        .await?;
        if claimed.rows_affected() == 0 {
            return Err(refused("Diese Abstimmung ist geschlossen."));
        }
        let existing: Option<(i64, i64)> = sqlx::query_as(
            "SELECT by_deputy, changes FROM council_ballots WHERE vote_id = $1 AND seat = $2",
        )
        .bind(vote_id)
        .bind(seat.code())
        .fetch_optional(&mut *tx)
        .await?;
        match existing {
            Some((by_deputy, _)) if deputy && by_deputy == 0 => {
                return Err(refused(
                    "Für diesen Sitz hat das Mitglied selbst schon abgestimmt.",
                ));
            }
            Some((_, changes)) if changes >= MAX_BALLOT_CHANGES => {
                return Err(refused("Diese Stimme ist schon zu oft geändert worden."));
            }
            _ => {}
        }
        sqlx::query(
            "INSERT INTO council_ballots (vote_id, seat, ballot, account_id, by_deputy, changes, cast_at) \
             VALUES ($1, $2, $3, $4, $5, 0, $6) \
             ON CONFLICT (vote_id, seat) DO UPDATE SET ballot = $3, account_id = $4, \
             by_deputy = $5, changes = council_ballots.changes + 1, cast_at = $6",
        )
        .bind(vote_id)
        .bind(seat.code())
        .bind(ballot.as_str())
        .bind(account_id)
        .bind(i64::from(deputy))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Closes a vote and records its result; refused when it is closed already.
    #[tracing::instrument(skip(self, actor))]
    pub async fn close_vote(&self, actor: &Actor, vote_id: i64) -> Result<Closed> {
        let mut tx = self.begin_write().await?;
        let closed = close_in(&mut tx, actor, vote_id)
            .await?
            .ok_or_else(|| refused("Diese Abstimmung ist schon geschlossen."))?;
        tx.commit().await?;
        Ok(closed)
    }

    /// The next deadline of a running written procedure, if any.
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
            if let Some(c) = close_in(&mut tx, &Actor::system("Umlaufverfahren"), id).await? {
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
    #[tracing::instrument(skip(self, actor, reason, render))]
    pub async fn request_stop(
        &self,
        actor: &Actor,
        account_id: i64,
        vote_id: i64,
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
        .bind(vote_id)
        .bind(seat.code())
        .bind(account_id)
        .bind(reason)
        .bind(now_micros())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(refused(
                "Für Ihren Sitz liegt schon ein Antrag auf Abbruch dieses Umlaufverfahrens vor.",
            ));
        }
        audit::record(
            &mut tx,
            actor,
            Change {
                conference_id: None,
                entity: "vote",
                entity_id: vote_id,
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
        let office: Vec<i64> = office.into_iter().map(|(id,)| id).collect();
        let topic = NoticeTopic::StopRequested {
            vote_id,
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
    #[tracing::instrument(skip(self, actor, render))]
    pub async fn stop_written_procedure(
        &self,
        actor: &Actor,
        vote_id: i64,
        session_number: i64,
        render: Render<'_>,
    ) -> Result<(i64, usize)> {
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
        .bind(session.id)
        .bind(vote_id)
        .execute(&mut *tx)
        .await?;
        if claimed.rows_affected() == 0 {
            return Err(refused("Dieses Umlaufverfahren läuft nicht mehr."));
        }
        sqlx::query(
            "UPDATE council_stop_requests SET decision = 'stopped', decided_at = $1 \
             WHERE vote_id = $2 AND decision IS NULL",
        )
        .bind(now)
        .bind(vote_id)
        .execute(&mut *tx)
        .await?;
        let (year, number, title): (i64, i64, String) =
            sqlx::query_as("SELECT year, number, title FROM resolutions WHERE id = $1")
                .bind(resolution_id)
                .fetch_one(&mut *tx)
                .await?;
        sqlx::query("UPDATE resolutions SET session_id = $1, modified_at = $2 WHERE id = $3")
            .bind(session.id)
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
                entity_id: vote_id,
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
    #[tracing::instrument(skip(self, actor, render))]
    pub async fn continue_written_procedure(
        &self,
        actor: &Actor,
        vote_id: i64,
        render: Render<'_>,
    ) -> Result<usize> {
        let mut tx = self.begin_write().await?;
        open_written(&mut tx, vote_id).await?;
        // Those who asked are told that the office let it run on.
        let askers: Vec<(i64,)> = sqlx::query_as(
            "SELECT account_id FROM council_stop_requests WHERE vote_id = $1 AND decision IS NULL",
        )
        .bind(vote_id)
        .fetch_all(&mut *tx)
        .await?;
        let done = sqlx::query(
            "UPDATE council_stop_requests SET decision = 'continued', decided_at = $1 \
             WHERE vote_id = $2 AND decision IS NULL",
        )
        .bind(now_micros())
        .bind(vote_id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(refused("Es liegt kein offener Antrag auf Abbruch vor."));
        }
        audit::record(
            &mut tx,
            actor,
            Change {
                conference_id: None,
                entity: "vote",
                entity_id: vote_id,
                action: "continued",
                before: None,
                after: Some(serde_json::json!({ "requests": done.rows_affected() })),
            },
        )
        .await?;
        let deadline: (Option<i64>,) =
            sqlx::query_as("SELECT deadline FROM council_votes WHERE id = $1")
                .bind(vote_id)
                .fetch_one(&mut *tx)
                .await?;
        let askers: Vec<i64> = askers.into_iter().map(|(id,)| id).collect();
        let topic = NoticeTopic::ProcedureContinued {
            vote_id,
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

/// Every holder of a seat of the council, members and deputies.
async fn seat_holders(tx: &mut Tx) -> Result<Vec<i64>> {
    let holders: Vec<(i64,)> = sqlx::query_as("SELECT DISTINCT account_id FROM council_seats")
        .fetch_all(&mut **tx)
        .await?;
    Ok(holders.into_iter().map(|(id,)| id).collect())
}

/// The resolution of the written procedure `vote_id`, which must be running (not
/// closed, stopped or past its deadline); claims its row (version + 1).
async fn open_written(tx: &mut Tx, vote_id: i64) -> Result<i64> {
    let row: Option<WrittenRow> = sqlx::query_as(
        "SELECT resolution_id, procedure, deadline, closed_at, stopped_at \
         FROM council_votes WHERE id = $1",
    )
    .bind(vote_id)
    .fetch_optional(&mut **tx)
    .await?;
    let Some((resolution_id, procedure, deadline, closed_at, stopped_at)) = row else {
        return Err(StoreError::NotFound);
    };
    if procedure != "written" {
        return Err(refused(
            "Nur ein Umlaufverfahren kann abgebrochen werden; eine Abstimmung in der Sitzung schließt die Sitzungsleitung.",
        ));
    }
    if stopped_at.is_some() {
        return Err(refused("Dieses Umlaufverfahren wurde schon abgebrochen."));
    }
    if closed_at.is_some() || deadline.is_some_and(|d| d <= now_micros()) {
        return Err(refused("Dieses Umlaufverfahren ist schon beendet."));
    }
    let claimed = sqlx::query(
        "UPDATE council_votes SET version = version + 1 \
         WHERE id = $1 AND closed_at IS NULL AND stopped_at IS NULL",
    )
    .bind(vote_id)
    .execute(&mut **tx)
    .await?;
    if claimed.rows_affected() == 0 {
        return Err(refused("Dieses Umlaufverfahren läuft nicht mehr."));
    }
    Ok(resolution_id)
}

#[allow(clippy::too_many_arguments)]
async fn open_in(
    tx: &mut Tx,
    actor: &Actor,
    resolution_id: i64,
    procedure: Procedure,
    session_id: Option<i64>,
    agenda_item_id: Option<i64>,
    deadline: Option<i64>,
    year: i64,
) -> Result<i64> {
    let draft: Option<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT state, kind, vote_result FROM resolutions WHERE id = $1 AND deleted_at IS NULL",
    )
    .bind(resolution_id)
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
        return Err(refused(
            "Über diesen Beschluss ist schon abgestimmt worden; nur Entwürfe kommen zur Abstimmung.",
        ));
    }
    let Some(key) = key_in(tx, year).await? else {
        return Err(refused(
            "Es ist noch kein Königsteiner Schlüssel hinterlegt.",
        ));
    };
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO council_votes (resolution_id, procedure, session_id, agenda_item_id, kind, \
         key_year, deadline, opened_by, opened_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         RETURNING id",
    )
    .bind(resolution_id)
    .bind(procedure.as_str())
    .bind(session_id)
    .bind(agenda_item_id)
    .bind(&kind)
    .bind(i64::from(key.year))
    .bind(deadline)
    .bind(actor.account_id)
    .bind(now_micros())
    .fetch_one(&mut **tx)
    .await
    .map_err(|e| {
        StoreError::conflict_on_unique(e, "Über diesen Entwurf läuft schon eine Abstimmung.")
    })?;
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
    Ok(id)
}
