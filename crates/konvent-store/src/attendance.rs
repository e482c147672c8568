//! Attendance at a council session (issue 20): who attended for whom — a member for
//! their seat, a deputy for a member's seat, a guest of a FachMK — and who sent
//! apologies. Once the office has recorded anybody as present, a ballot in a vote of
//! that session counts only from a present member, or from the present deputy of an
//! absent member (see [`Store::cast_ballot`]).

use konvent_core::gremien::majority::Seat;
use konvent_core::gremien::votes::VoteRefusal;
use konvent_core::ids::{AccountId, SessionId};
use serde::Serialize;

use crate::audit::{self, Actor, Change};
use crate::{Result, Store, StoreError, now_micros};

type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// How somebody is recorded for a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub enum Presence {
    /// The seat's member, present.
    Member,
    /// A deputy, present for the seat's member.
    Deputy,
    /// A guest of a FachMK.
    Guest,
    /// Sent apologies for the seat.
    Apology,
}

impl Presence {
    pub const ALL: [Presence; 4] = [Self::Member, Self::Deputy, Self::Guest, Self::Apology];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Member => "member",
            Self::Deputy => "deputy",
            Self::Guest => "guest",
            Self::Apology => "apology",
        }
    }
}

impl std::str::FromStr for Presence {
    type Err = &'static str;

    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or("Bitte wählen, wie die Person teilnimmt.")
    }
}

/// One line of a session's attendance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attendee {
    pub account_id: AccountId,
    pub name: String,
    pub presence: Presence,
    /// The seat a member or deputy attends for, or apologises for.
    pub seat: Option<Seat>,
    /// A guest's FachMK (abbreviation).
    pub conference: Option<String>,
}

fn invalid(field: &'static str, code: &'static str, message: &str) -> StoreError {
    let mut errors = konvent_core::FieldErrors::new();
    errors.add(field, code, message);
    StoreError::Invalid(errors)
}

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what}: {value:?}"))
}

/// An attendee's account, name, role, seat and conference.
type AttendeeRow = (i64, String, String, Option<String>, Option<String>);

/// The attendance of the session `session_id`, by seat, then guests by name.
pub(crate) async fn attendance_in(tx: &mut Tx, session_id: SessionId) -> Result<Vec<Attendee>> {
    let rows: Vec<AttendeeRow> = sqlx::query_as(
        "SELECT t.account_id, a.display_name, t.role, t.seat, t.conference \
         FROM council_attendance t JOIN accounts a ON a.id = t.account_id \
         WHERE t.session_id = $1 ORDER BY a.display_name",
    )
    .bind(session_id.get())
    .fetch_all(&mut **tx)
    .await?;
    let mut list = rows
        .into_iter()
        .map(|(account_id, name, role, seat, conference)| {
            Ok(Attendee {
                account_id: AccountId::new(account_id),
                name,
                presence: role.parse().map_err(|_| corrupt("role", &role))?,
                seat: seat
                    .map(|s| s.parse().map_err(|_| corrupt("seat", &s)))
                    .transpose()?,
                conference,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    list.sort_by_key(|a| (a.seat.is_none(), a.seat, a.presence == Presence::Apology));
    Ok(list)
}

/// Whether the ballot of `account_id` for `seat` counts in a vote of the session
/// `session_id`: `Ok(())`, or the refusal in words. Without any recorded presence the
/// session's attendance is not kept in konvent, and every seat's ballot counts.
pub(crate) async fn check_present(
    tx: &mut Tx,
    session_id: SessionId,
    account_id: AccountId,
    seat: Seat,
    deputy: bool,
) -> Result<()> {
    let list = attendance_in(tx, session_id).await?;
    let recorded = list
        .iter()
        .any(|a| matches!(a.presence, Presence::Member | Presence::Deputy));
    if !recorded {
        return Ok(());
    }
    let own = list.iter().find(|a| a.account_id == account_id);
    let member_present = list
        .iter()
        .any(|a| a.presence == Presence::Member && a.seat == Some(seat));
    match own.map(|a| a.presence) {
        Some(Presence::Member) if !deputy => Ok(()),
        Some(Presence::Deputy) if deputy && !member_present => Ok(()),
        Some(Presence::Deputy) if deputy => Err(VoteRefusal::MemberPresent.into()),
        _ => Err(VoteRefusal::NotPresent.into()),
    }
}

impl Store {
    /// The attendance of the session `number`.
    #[tracing::instrument(level = "debug", skip_all, fields(number = number))]
    pub async fn attendance(&self, number: i64) -> Result<Vec<Attendee>> {
        let mut tx = self.pool.begin().await?;
        let session = crate::council::session_in(&mut tx, number).await?;
        attendance_in(&mut tx, session.id).await
    }

    /// Records (or changes) how the account with `email` takes part in the session
    /// `number`. A member, deputy or apology is for the seat the account holds (as
    /// representative for `Member`, as deputy for `Deputy`); a guest names a FachMK.
    #[tracing::instrument(level = "debug", skip_all, fields(actor = actor.account_id.map(AccountId::get), number = number, conference = conference))]
    pub async fn record_attendance(
        &self,
        actor: &Actor,
        number: i64,
        email: &str,
        presence: Presence,
        conference: Option<&str>,
    ) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let session = crate::council::session_in(&mut tx, number).await?;
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
        let held: Option<(String, String)> =
            sqlx::query_as("SELECT seat, role FROM council_seats WHERE account_id = $1")
                .bind(account_id)
                .fetch_optional(&mut *tx)
                .await?;
        let (seat, conference) = match presence {
            Presence::Guest => {
                let abbreviation = conference.map(str::trim).unwrap_or_default();
                let known: Option<(String,)> =
                    sqlx::query_as("SELECT abbreviation FROM conferences WHERE abbreviation = $1")
                        .bind(abbreviation)
                        .fetch_optional(&mut *tx)
                        .await?;
                let Some((abbreviation,)) = known else {
                    return Err(invalid(
                        "conference",
                        "unknown-conference",
                        "Bitte die Fachministerkonferenz des Gastes wählen.",
                    ));
                };
                (None, Some(abbreviation))
            }
            Presence::Member | Presence::Deputy | Presence::Apology => {
                let want = match presence {
                    Presence::Member => Some("representative"),
                    Presence::Deputy => Some("deputy"),
                    _ => None,
                };
                match held {
                    Some((seat, role)) if want.is_none_or(|w| w == role) => (Some(seat), None),
                    _ => {
                        return Err(invalid(
                            "email",
                            "no-seat",
                            match presence {
                                Presence::Member => {
                                    "Dieses Konto ist nicht Mitglied für einen Sitz im IT-Planungsrat."
                                }
                                Presence::Deputy => {
                                    "Dieses Konto ist keine Stellvertretung für einen Sitz im IT-Planungsrat."
                                }
                                _ => "Dieses Konto hält keinen Sitz im IT-Planungsrat.",
                            },
                        ));
                    }
                }
            }
        };
        sqlx::query(
            "INSERT INTO council_attendance (session_id, account_id, role, seat, conference, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (session_id, account_id) DO UPDATE \
             SET role = $3, seat = $4, conference = $5, created_at = $6",
        )
        .bind(session.id.get())
        .bind(account_id)
        .bind(presence.as_str())
        .bind(&seat)
        .bind(&conference)
        .bind(now_micros())
        .execute(&mut *tx)
        .await?;
        // The live regions of the session's votes show the attendance: a new version.
        sqlx::query("UPDATE council_votes SET version = version + 1 WHERE session_id = $1")
            .bind(session.id.get())
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut tx,
            actor,
            Change {
                conference_id: None,
                entity: "attendance",
                entity_id: account_id,
                action: "recorded",
                before: None,
                after: Some(serde_json::json!({
                    "session": number,
                    "role": presence.as_str(),
                    "seat": seat,
                    "conference": conference,
                })),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(account_id)
    }

    /// Takes an account off the session's attendance.
    #[tracing::instrument(level = "debug", skip_all, fields(actor = actor.account_id.map(AccountId::get), number = number, account_id = %account_id))]
    pub async fn remove_attendance(
        &self,
        actor: &Actor,
        number: i64,
        account_id: AccountId,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let session = crate::council::session_in(&mut tx, number).await?;
        let done =
            sqlx::query("DELETE FROM council_attendance WHERE session_id = $1 AND account_id = $2")
                .bind(session.id.get())
                .bind(account_id.get())
                .execute(&mut *tx)
                .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        sqlx::query("UPDATE council_votes SET version = version + 1 WHERE session_id = $1")
            .bind(session.id.get())
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut tx,
            actor,
            Change {
                conference_id: None,
                entity: "attendance",
                entity_id: account_id.get(),
                action: "removed",
                before: None,
                after: Some(serde_json::json!({ "session": number })),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
