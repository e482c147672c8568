//! Invitations to council sessions and follow-up meetings as calendar entries (issue 18,
//! G6): each invitee gets an iMIP `REQUEST` under the meeting's stable UID. What was
//! sent is kept per meeting: the sequence of its calendar entry, what the invitation
//! said (date, times, place: `sent_as`), and who was invited. A meeting that moved gets
//! an update with a higher sequence for everybody invited; a cancelled one a `CANCEL`.
//!
//! The mails are rendered by the caller (it knows languages and links) through a
//! [`InviteCompose`] and queued in the transaction that records them.

use crate::mail::enqueue;
use crate::{NewMail, Result, Store, StoreError, now_micros};

type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// Which kind of meeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MeetingKind {
    Session,
    FollowUp,
}

impl MeetingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Session => "session",
            Self::FollowUp => "follow_up",
        }
    }
}

/// Somebody invited: an address and a name.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Invitee {
    pub email: String,
    pub name: String,
}

/// What has been sent for a meeting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeetingInvitation {
    pub sequence: i64,
    pub sent_as: String,
    pub cancelled: bool,
    pub invitees: Vec<Invitee>,
}

/// What a mail to one invitee is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationMail {
    /// The first invitation (or one to somebody added later).
    Invitation,
    /// The meeting moved: same UID, higher sequence.
    Update,
    /// The meeting is off.
    Cancellation,
}

/// Renders the mail to one invitee, in their mail language (`de`, `en`: the one their
/// account chose on its notifications page; `de` for an address without an account),
/// with the entry's sequence.
pub type InviteCompose<'a> = &'a (
        dyn Fn(&Invitee, &str, i64, InvitationMail) -> std::result::Result<NewMail, String> + Sync
    );

impl Store {
    /// What has been sent for a meeting, if anything.
    /// What the last invitation of every meeting that has one said, and whether it was
    /// a cancellation: (kind, meeting id) → (sent_as, cancelled). For the check that a
    /// change missed by its update (the node died in between) still goes out.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn meeting_invitations_sent(
        &self,
    ) -> Result<std::collections::HashMap<(MeetingKind, i64), (String, bool)>> {
        let rows: Vec<(String, i64, String, Option<i64>)> = sqlx::query_as(
            "SELECT meeting_kind, meeting_id, sent_as, cancelled_at FROM meeting_invitations",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(kind, id, sent_as, cancelled)| {
                let kind = match kind.as_str() {
                    "session" => MeetingKind::Session,
                    "follow_up" => MeetingKind::FollowUp,
                    other => {
                        return Err(StoreError::Corrupt(format!("meeting kind {other:?}")));
                    }
                };
                Ok(((kind, id), (sent_as, cancelled.is_some())))
            })
            .collect()
    }

    #[tracing::instrument(level = "debug", skip_all, fields(kind = ?kind, id = id))]
    pub async fn meeting_invitation(
        &self,
        kind: MeetingKind,
        id: i64,
    ) -> Result<Option<MeetingInvitation>> {
        let row: Option<(i64, String, Option<i64>)> = sqlx::query_as(
            "SELECT sequence, sent_as, cancelled_at FROM meeting_invitations \
             WHERE meeting_kind = $1 AND meeting_id = $2",
        )
        .bind(kind.as_str())
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let Some((sequence, sent_as, cancelled_at)) = row else {
            return Ok(None);
        };
        let invitees = sqlx::query_as(
            "SELECT email, name FROM meeting_invitees WHERE meeting_kind = $1 \
             AND meeting_id = $2 ORDER BY email",
        )
        .bind(kind.as_str())
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        Ok(Some(MeetingInvitation {
            sequence,
            sent_as,
            cancelled: cancelled_at.is_some(),
            invitees,
        }))
    }

    /// Who would be invited: council members, conference offices (accounts), and the
    /// conferences' office contacts that are mail addresses.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn meeting_invitees(&self) -> Result<Vec<Invitee>> {
        let mut list: Vec<Invitee> = sqlx::query_as(
            "SELECT DISTINCT a.email AS email, a.display_name AS name FROM accounts a \
             JOIN grants g ON g.account_id = a.id \
             WHERE g.role IN ('member', 'fachmk_office') ORDER BY a.email",
        )
        .fetch_all(&self.pool)
        .await?;
        let offices: Vec<(String, Option<String>)> =
            sqlx::query_as("SELECT name, office_contact FROM conferences ORDER BY name")
                .fetch_all(&self.pool)
                .await?;
        for (name, contact) in offices {
            let Some(contact) = contact.map(|c| c.trim().to_lowercase()) else {
                continue;
            };
            let plausible = contact.split_once('@').is_some_and(|(l, d)| {
                !l.is_empty() && d.contains('.') && !contact.contains(char::is_whitespace)
            });
            if plausible && !list.iter().any(|i| i.email == contact) {
                list.push(Invitee {
                    email: contact,
                    name,
                });
            }
        }
        Ok(list)
    }

    /// Sends the invitations of a meeting: the first time to every invitee (sequence
    /// `floor`); later to those not yet invited, and, when what the meeting says
    /// changed, an update to everybody invited before (sequence raised, at least to
    /// `floor`). Returns the number of mails queued.
    #[tracing::instrument(level = "debug", skip_all, fields(kind = ?kind, id = id, invitees = invitees.len()))]
    pub async fn send_meeting_invitations(
        &self,
        kind: MeetingKind,
        id: i64,
        sent_as: &str,
        floor: i64,
        invitees: &[Invitee],
        compose: InviteCompose<'_>,
    ) -> Result<usize> {
        let mut tx = self.begin_write().await?;
        let now = now_micros();
        let before = current(&mut tx, kind, id).await?;
        let (sequence, moved) = match &before {
            None => {
                sqlx::query(
                    "INSERT INTO meeting_invitations (meeting_kind, meeting_id, sequence, sent_as, \
                     created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)",
                )
                .bind(kind.as_str())
                .bind(id)
                .bind(floor)
                .bind(sent_as)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                (floor, false)
            }
            Some((sequence, old, cancelled)) => {
                let moved = old != sent_as || *cancelled;
                let sequence = if moved {
                    (sequence + 1).max(floor)
                } else {
                    *sequence
                };
                record(&mut tx, kind, id, sequence, sent_as, false).await?;
                (sequence, moved)
            }
        };
        let invited = invited(&mut tx, kind, id).await?;
        let languages = Languages::read(&mut tx).await?;
        let mut queued = 0;
        if moved {
            for invitee in &invited {
                enqueue(
                    &mut tx,
                    &compose(
                        invitee,
                        languages.of(&invitee.email),
                        sequence,
                        InvitationMail::Update,
                    )
                    .map_err(StoreError::Corrupt)?,
                )
                .await?;
                queued += 1;
            }
        }
        for invitee in invitees {
            let email = invitee.email.trim().to_lowercase();
            if invited.iter().any(|i| i.email == email) {
                continue;
            }
            let invitee = Invitee {
                email,
                name: invitee.name.clone(),
            };
            sqlx::query(
                "INSERT INTO meeting_invitees (meeting_kind, meeting_id, email, name, invited_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(kind.as_str())
            .bind(id)
            .bind(&invitee.email)
            .bind(&invitee.name)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            enqueue(
                &mut tx,
                &compose(
                    &invitee,
                    languages.of(&invitee.email),
                    sequence,
                    InvitationMail::Invitation,
                )
                .map_err(StoreError::Corrupt)?,
            )
            .await?;
            queued += 1;
        }
        tx.commit().await?;
        Ok(queued)
    }

    /// After a change of a meeting whose invitations went out: an update (moved) or a
    /// cancellation to everybody invited. Nothing when no invitation was sent, when
    /// nothing the invitation said changed, or when it was cancelled already. Returns
    /// the number of mails queued.
    #[tracing::instrument(level = "debug", skip_all, fields(kind = ?kind, id = id))]
    pub async fn update_meeting_invitations(
        &self,
        kind: MeetingKind,
        id: i64,
        sent_as: &str,
        cancelled: bool,
        floor: i64,
        compose: InviteCompose<'_>,
    ) -> Result<usize> {
        let mut tx = self.begin_write().await?;
        let Some((sequence, old, was_cancelled)) = current(&mut tx, kind, id).await? else {
            return Ok(0);
        };
        let what = match (cancelled, was_cancelled) {
            (true, true) => return Ok(0),
            (true, false) => InvitationMail::Cancellation,
            (false, _) if old == sent_as && !was_cancelled => return Ok(0),
            (false, _) => InvitationMail::Update,
        };
        let sequence = (sequence + 1).max(floor);
        record(&mut tx, kind, id, sequence, sent_as, cancelled).await?;
        let invited = invited(&mut tx, kind, id).await?;
        let languages = Languages::read(&mut tx).await?;
        for invitee in &invited {
            enqueue(
                &mut tx,
                &compose(invitee, languages.of(&invitee.email), sequence, what)
                    .map_err(StoreError::Corrupt)?,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(invited.len())
    }
}

/// (sequence, sent_as, cancelled), the row locked for the transaction.
async fn current(tx: &mut Tx, kind: MeetingKind, id: i64) -> Result<Option<(i64, String, bool)>> {
    let row: Option<(i64, String, Option<i64>)> = sqlx::query_as(
        "UPDATE meeting_invitations SET sequence = sequence \
         WHERE meeting_kind = $1 AND meeting_id = $2 RETURNING sequence, sent_as, cancelled_at",
    )
    .bind(kind.as_str())
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.map(|(s, a, c)| (s, a, c.is_some())))
}

async fn record(
    tx: &mut Tx,
    kind: MeetingKind,
    id: i64,
    sequence: i64,
    sent_as: &str,
    cancelled: bool,
) -> Result<()> {
    let now = now_micros();
    sqlx::query(
        "UPDATE meeting_invitations SET sequence = $1, sent_as = $2, cancelled_at = $3, \
         updated_at = $4 WHERE meeting_kind = $5 AND meeting_id = $6",
    )
    .bind(sequence)
    .bind(sent_as)
    .bind(cancelled.then_some(now))
    .bind(now)
    .bind(kind.as_str())
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The mail languages the accounts chose, by address (read once per transaction);
/// `de` for an address without a choice.
struct Languages(std::collections::HashMap<String, String>);

impl Languages {
    async fn read(tx: &mut Tx) -> Result<Self> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT a.email, p.language FROM accounts a \
             JOIN mail_preferences p ON p.account_id = a.id",
        )
        .fetch_all(&mut **tx)
        .await?;
        Ok(Self(rows.into_iter().collect()))
    }

    fn of(&self, email: &str) -> &str {
        self.0.get(email).map_or("de", String::as_str)
    }
}

async fn invited(tx: &mut Tx, kind: MeetingKind, id: i64) -> Result<Vec<Invitee>> {
    Ok(sqlx::query_as(
        "SELECT email, name FROM meeting_invitees WHERE meeting_kind = $1 AND meeting_id = $2 \
         ORDER BY email",
    )
    .bind(kind.as_str())
    .bind(id)
    .fetch_all(&mut **tx)
    .await?)
}
