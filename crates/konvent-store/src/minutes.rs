//! The minutes of a council session (Niederschrift, G11, issue 20), in versions.
//!
//! [`Store::generate_minutes`] builds the content from the session — attendance (by
//! account id), the agenda with the resolutions voted on each item and their frozen
//! results, the session's other resolutions, the reports by status — into a draft; the
//! office adds its notes ([`Store::edit_minutes`]), finalises and releases the version
//! to the members. Generating or editing after a version was finalised starts the next
//! version; earlier ones stay as they were. Names are never stored in the content: they
//! are read from the accounts when the minutes are read, so a deletion (which
//! pseudonymises the account) reaches the minutes too.

use konvent_core::gremien::minutes::MinutesRefusal;
use konvent_core::ids::{AccountId, AgendaItemId, ResolutionId, SessionId};
use std::collections::HashMap;

use konvent_core::gremien::council::ResolutionState;
use konvent_core::gremien::majority::{DraftKind, Seat, Tally};
use serde::{Deserialize, Serialize};

use crate::attendance::Presence;
use crate::audit::{self, Actor, Change};
use crate::council::Visibility;
use crate::notifications::{NoticeTopic, Render, notify};
use crate::{Result, Store, StoreError, now_micros};
use konvent_core::notifications::NoticeKind;

type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// The longest text the office may write into one field of the minutes, in characters.
pub const MAX_MINUTES_TEXT: usize = 20_000;

/// Where a version of the minutes stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MinutesState {
    /// Being edited; only the office sees it.
    Draft,
    /// Finalised by the office, not yet released; only the office sees it.
    Final,
    /// Released to the council's members.
    Released,
}

impl MinutesState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Final => "final",
            Self::Released => "released",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        match s {
            "draft" => Ok(Self::Draft),
            "final" => Ok(Self::Final),
            "released" => Ok(Self::Released),
            _ => Err(StoreError::Corrupt(format!("minutes state: {s:?}"))),
        }
    }
}

/// One line of the attendance in the minutes; `name` is filled in when read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinutesAttendee {
    pub account_id: AccountId,
    #[serde(skip)]
    pub name: String,
    pub presence: Presence,
    pub seat: Option<Seat>,
    pub conference: Option<String>,
}

/// A resolution as the minutes record it: its text and the frozen result of its vote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinutesResolution {
    pub resolution_id: ResolutionId,
    /// `2024/15`
    pub reference: String,
    pub title: String,
    pub body: String,
    pub kind: DraftKind,
    pub state: ResolutionState,
    pub result: Option<Tally>,
}

/// An agenda item with the office's notes on it and the resolutions voted on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinutesItem {
    pub agenda_item_id: AgendaItemId,
    pub title: String,
    pub is_reporting: bool,
    pub notes: String,
    pub resolutions: Vec<MinutesResolution>,
}

/// A conference's report for the session: `filed`, `none` (no exchange) or `open`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinutesReport {
    pub conference: String,
    pub conference_name: String,
    pub status: String,
}

/// What a version of the minutes says.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinutesContent {
    pub attendance: Vec<MinutesAttendee>,
    pub items: Vec<MinutesItem>,
    /// The session's resolutions that were not voted on one of its agenda items.
    pub resolutions: Vec<MinutesResolution>,
    pub reports: Vec<MinutesReport>,
    /// The office's remarks on the session as a whole.
    pub remarks: String,
}

/// One version of a session's minutes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Minutes {
    pub session_number: i64,
    pub version: i64,
    pub state: MinutesState,
    pub content: MinutesContent,
    pub created_at: i64,
    pub modified_at: i64,
    pub finalised_at: Option<i64>,
    pub released_at: Option<i64>,
}

type MinutesRow = (i64, i64, String, String, i64, i64, Option<i64>, Option<i64>);

const COLUMNS: &str = "m.id, m.version, m.state, m.content, m.created_at, m.modified_at, \
                       m.finalised_at, m.released_at";

fn invalid(field: &'static str, code: &'static str, message: &str) -> StoreError {
    let mut errors = konvent_core::FieldErrors::new();
    errors.add(field, code, message);
    StoreError::Invalid(errors)
}

fn parse_row(number: i64, row: MinutesRow) -> Result<(i64, Minutes)> {
    let (id, version, state, content, created_at, modified_at, finalised_at, released_at) = row;
    let content: MinutesContent = serde_json::from_str(&content)
        .map_err(|e| StoreError::Corrupt(format!("minutes content: {e}")))?;
    Ok((
        id,
        Minutes {
            session_number: number,
            version,
            state: MinutesState::parse(&state)?,
            content,
            created_at,
            modified_at,
            finalised_at,
            released_at,
        },
    ))
}

/// The newest version of the session's minutes with its row id.
async fn latest_in(
    tx: &mut Tx,
    session_id: SessionId,
    number: i64,
) -> Result<Option<(i64, Minutes)>> {
    let row: Option<MinutesRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM council_minutes m WHERE m.session_id = $1 \
         ORDER BY m.version DESC LIMIT 1"
    ))
    .bind(session_id.get())
    .fetch_optional(&mut **tx)
    .await?;
    row.map(|r| parse_row(number, r)).transpose()
}

fn to_json(content: &MinutesContent) -> Result<String> {
    serde_json::to_string(content).map_err(|e| StoreError::Corrupt(format!("minutes: {e}")))
}

/// Writes `content` as the next version's draft, or into the newest version while it is
/// a draft; returns the version.
async fn write_draft(
    tx: &mut Tx,
    session_id: SessionId,
    latest: Option<&(i64, Minutes)>,
    content: &MinutesContent,
) -> Result<i64> {
    let now = now_micros();
    let json = to_json(content)?;
    match latest {
        Some((id, m)) if m.state == MinutesState::Draft => {
            sqlx::query("UPDATE council_minutes SET content = $1, modified_at = $2 WHERE id = $3")
                .bind(&json)
                .bind(now)
                .bind(*id)
                .execute(&mut **tx)
                .await?;
            Ok(m.version)
        }
        _ => {
            let version = latest.map_or(1, |(_, m)| m.version + 1);
            sqlx::query(
                "INSERT INTO council_minutes (session_id, version, state, content, created_at, \
                 modified_at) VALUES ($1, $2, 'draft', $3, $4, $4)",
            )
            .bind(session_id.get())
            .bind(version)
            .bind(&json)
            .bind(now)
            .execute(&mut **tx)
            .await?;
            Ok(version)
        }
    }
}

async fn record(tx: &mut Tx, actor: &Actor, number: i64, version: i64, action: &str) -> Result<()> {
    audit::record(
        tx,
        actor,
        Change {
            conference_id: None,
            entity: "minutes",
            entity_id: number,
            action,
            before: None,
            after: Some(serde_json::json!({ "session": number, "version": version })),
        },
    )
    .await
}

impl Store {
    /// Every version of the minutes of the session `number`, oldest first, with the
    /// attendees' current names.
    #[tracing::instrument(level = "debug", skip_all, fields(number = number))]
    pub async fn minutes(&self, number: i64) -> Result<Vec<Minutes>> {
        let session = self.session(number).await?;
        let rows: Vec<MinutesRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM council_minutes m WHERE m.session_id = $1 ORDER BY m.version"
        ))
        .bind(session.id.get())
        .fetch_all(&self.pool)
        .await?;
        let mut list = rows
            .into_iter()
            .map(|r| parse_row(number, r).map(|(_, m)| m))
            .collect::<Result<Vec<_>>>()?;
        // The names as the accounts have them now (a deleted account's pseudonym).
        let ids: std::collections::BTreeSet<AccountId> = list
            .iter()
            .flat_map(|m| m.content.attendance.iter().map(|a| a.account_id))
            .collect();
        let mut names: HashMap<AccountId, String> = HashMap::new();
        for id in ids {
            let name: Option<(String,)> =
                sqlx::query_as("SELECT display_name FROM accounts WHERE id = $1")
                    .bind(id.get())
                    .fetch_optional(&self.pool)
                    .await?;
            if let Some((name,)) = name {
                names.insert(id, name);
            }
        }
        for m in &mut list {
            for a in &mut m.content.attendance {
                a.name = names.get(&a.account_id).cloned().unwrap_or_default();
            }
        }
        Ok(list)
    }

    /// Generates the minutes of the session `number` from what konvent recorded: into
    /// the draft if the newest version is one (keeping the office's notes and remarks),
    /// else as the next version's draft (taking the notes of the newest version).
    /// Returns the version.
    #[tracing::instrument(level = "debug", skip_all, fields(actor = actor.account_id.map(AccountId::get), number = number))]
    pub async fn generate_minutes(&self, actor: &Actor, number: i64) -> Result<i64> {
        let session = self.session(number).await?;
        let agenda = self.agenda(session.id).await?;
        let attendance = self.attendance(number).await?;
        let resolutions: Vec<_> = self
            .resolutions(Visibility::Confidential)
            .await?
            .into_iter()
            .filter(|r| r.session_number == Some(number))
            .collect();
        let on_item: HashMap<ResolutionId, AgendaItemId> = self
            .agenda_results()
            .await?
            .into_iter()
            .map(|r| (r.resolution_id, r.agenda_item_id))
            .collect();
        let reports = self.reports(session.id).await?;
        let conferences = self.conferences().await?;

        let entry = |r: &crate::Resolution| MinutesResolution {
            resolution_id: r.id,
            reference: r.reference(),
            title: r.title.clone(),
            body: r.body.clone(),
            kind: r.kind,
            state: r.state,
            result: r.vote_result.clone(),
        };
        let mut content = MinutesContent {
            attendance: attendance
                .into_iter()
                .map(|a| MinutesAttendee {
                    account_id: a.account_id,
                    name: String::new(),
                    presence: a.presence,
                    seat: a.seat,
                    conference: a.conference,
                })
                .collect(),
            items: agenda
                .iter()
                .map(|item| MinutesItem {
                    agenda_item_id: item.id,
                    title: item.title.clone(),
                    is_reporting: item.is_reporting,
                    notes: String::new(),
                    resolutions: resolutions
                        .iter()
                        .filter(|r| on_item.get(&r.id) == Some(&item.id))
                        .map(entry)
                        .collect(),
                })
                .collect(),
            resolutions: resolutions
                .iter()
                .filter(|r| {
                    !on_item
                        .get(&r.id)
                        .is_some_and(|i| agenda.iter().any(|a| a.id == *i))
                })
                .map(entry)
                .collect(),
            reports: conferences
                .iter()
                .map(|c| {
                    let report = reports.iter().find(|r| r.conference == c.abbreviation);
                    MinutesReport {
                        conference: c.abbreviation.clone(),
                        conference_name: c.name.clone(),
                        status: match report {
                            Some(r) if r.input.no_exchange => "none",
                            Some(_) => "filed",
                            None => "open",
                        }
                        .to_owned(),
                    }
                })
                .collect(),
            remarks: String::new(),
        };

        let mut tx = self.begin_write().await?;
        let latest = latest_in(&mut tx, session.id, number).await?;
        if let Some((_, before)) = &latest {
            content.remarks = before.content.remarks.clone();
            for item in &mut content.items {
                if let Some(old) = before
                    .content
                    .items
                    .iter()
                    .find(|o| o.agenda_item_id == item.agenda_item_id)
                {
                    item.notes = old.notes.clone();
                }
            }
        }
        let version = write_draft(&mut tx, session.id, latest.as_ref(), &content).await?;
        record(&mut tx, actor, number, version, "generated").await?;
        tx.commit().await?;
        Ok(version)
    }

    /// Saves the office's remarks and notes (by agenda item id; others are ignored) into
    /// the draft, or as the next version's draft when the newest version is final or
    /// released. Refused before the minutes were generated. Returns the version.
    #[tracing::instrument(level = "debug", skip_all, fields(actor = actor.account_id.map(AccountId::get), number = number, notes = notes.len()))]
    pub async fn edit_minutes(
        &self,
        actor: &Actor,
        number: i64,
        remarks: &str,
        notes: &[(AgendaItemId, String)],
    ) -> Result<i64> {
        let too_long = |s: &str| s.chars().count() > MAX_MINUTES_TEXT;
        if too_long(remarks) {
            return Err(invalid(
                "remarks",
                "too-long",
                "Der Text ist zu lang (höchstens 20.000 Zeichen).",
            ));
        }
        if notes.iter().any(|(_, n)| too_long(n)) {
            return Err(invalid(
                "notes",
                "too-long",
                "Eine Notiz ist zu lang (höchstens 20.000 Zeichen).",
            ));
        }
        let mut tx = self.begin_write().await?;
        let session = crate::council::session_in(&mut tx, number).await?;
        let latest = latest_in(&mut tx, session.id, number).await?;
        let Some((_, before)) = &latest else {
            return Err(MinutesRefusal::NotGenerated.into());
        };
        let mut content = before.content.clone();
        content.remarks = remarks.trim().to_owned();
        for item in &mut content.items {
            if let Some((_, n)) = notes.iter().find(|(id, _)| *id == item.agenda_item_id) {
                item.notes = n.trim().to_owned();
            }
        }
        let version = write_draft(&mut tx, session.id, latest.as_ref(), &content).await?;
        record(&mut tx, actor, number, version, "edited").await?;
        tx.commit().await?;
        Ok(version)
    }

    /// Finalises the draft of the minutes (the newest version). Returns the version.
    #[tracing::instrument(level = "debug", skip_all, fields(actor = actor.account_id.map(AccountId::get), number = number))]
    pub async fn finalise_minutes(&self, actor: &Actor, number: i64) -> Result<i64> {
        self.advance_minutes(actor, number, MinutesState::Draft, "finalised")
            .await
    }

    /// Releases the finalised minutes (the newest version) to the members, and tells
    /// each member in konvent ([`crate::inbox`]) and by mail, in the same transaction,
    /// once per version. Returns the version and the number of mails queued.
    #[tracing::instrument(level = "debug", skip_all, fields(actor = actor.account_id.map(AccountId::get), number = number))]
    pub async fn release_minutes(
        &self,
        actor: &Actor,
        number: i64,
        render: Render<'_>,
    ) -> Result<(i64, usize)> {
        let mut tx = self.begin_write().await?;
        let version = advance_in(&mut tx, actor, number, MinutesState::Final, "released").await?;
        let members = crate::inbox::members(&mut tx).await?;
        let told = crate::inbox::tell(
            &mut tx,
            &members,
            NoticeKind::MinutesReleased,
            number,
            version,
        )
        .await?;
        let topic = NoticeTopic::MinutesReleased {
            session_number: number,
            version,
        };
        let queued = notify(&mut tx, render, NoticeKind::MinutesReleased, &told, &topic).await?;
        tx.commit().await?;
        Ok((version, queued))
    }

    async fn advance_minutes(
        &self,
        actor: &Actor,
        number: i64,
        from: MinutesState,
        action: &str,
    ) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let version = advance_in(&mut tx, actor, number, from, action).await?;
        tx.commit().await?;
        Ok(version)
    }
}

/// Moves the newest version on from `from` (draft to final, final to released) and
/// records it; a conflict when the newest version is not in that state.
async fn advance_in(
    tx: &mut Tx,
    actor: &Actor,
    number: i64,
    from: MinutesState,
    action: &str,
) -> Result<i64> {
    let session = crate::council::session_in(tx, number).await?;
    let latest = latest_in(tx, session.id, number).await?;
    let Some((id, m)) = latest.filter(|(_, m)| m.state == from) else {
        return Err(match from {
            MinutesState::Draft => MinutesRefusal::NoDraft,
            _ => MinutesRefusal::NotFinal,
        }
        .into());
    };
    let now = now_micros();
    let sql = match from {
        MinutesState::Draft => {
            "UPDATE council_minutes SET state = 'final', finalised_at = $1, modified_at = $1 \
             WHERE id = $2"
        }
        _ => {
            "UPDATE council_minutes SET state = 'released', released_at = $1, modified_at = $1 \
             WHERE id = $2"
        }
    };
    sqlx::query(sql)
        .bind(now)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    record(tx, actor, number, m.version, action).await?;
    Ok(m.version)
}
