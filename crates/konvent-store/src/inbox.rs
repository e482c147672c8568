//! What konvent tells a person in konvent itself, beside a mail (issue 20): that the
//! minutes of a session were released. A notice is written in the transaction of its
//! change, once per person and subject (the table's key), so a change that is made
//! again (or by a second node) tells nobody twice. The mail goes only to those who got
//! the notice just now, and only if they did not turn the kind off.

use konvent_core::ids::AccountId;
use konvent_core::notifications::NoticeKind;

use crate::{Result, Store, StoreError, now_micros};

type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// Notices one person's page shows at most, newest first.
pub const INBOX_LIMIT: i64 = 50;

/// One notice: what it is about (its kind, subject and version); its text and link are
/// written in the reader's language when shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxNotice {
    pub kind: NoticeKind,
    pub subject_id: i64,
    pub version: i64,
    pub created_at: i64,
}

/// The council's members (role `member`) whose accounts are not deleted.
pub(crate) async fn members(tx: &mut Tx) -> Result<Vec<AccountId>> {
    let rows: Vec<(i64,)> = sqlx::query_as(
        "SELECT DISTINCT g.account_id FROM grants g JOIN accounts a ON a.id = g.account_id \
         WHERE g.role = 'member' AND a.deleted_at IS NULL ORDER BY g.account_id",
    )
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows.into_iter().map(|(id,)| AccountId::new(id)).collect())
}

/// Writes the notice for each of `accounts` who does not have it yet; answers those.
pub(crate) async fn tell(
    tx: &mut Tx,
    accounts: &[AccountId],
    kind: NoticeKind,
    subject_id: i64,
    version: i64,
) -> Result<Vec<AccountId>> {
    let now = now_micros();
    let mut told = Vec::new();
    for account in accounts {
        let done = sqlx::query(
            "INSERT INTO inbox_notices (account_id, kind, subject_id, version, created_at) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (account_id, kind, subject_id, version) DO NOTHING",
        )
        .bind(account.get())
        .bind(kind.as_str())
        .bind(subject_id)
        .bind(version)
        .bind(now)
        .execute(&mut **tx)
        .await?;
        if done.rows_affected() == 1 {
            told.push(*account);
        }
    }
    Ok(told)
}

impl Store {
    /// The person's notices, newest first (at most [`INBOX_LIMIT`]).
    #[tracing::instrument(level = "debug", skip_all, fields(account_id = %account_id))]
    pub async fn inbox(&self, account_id: AccountId) -> Result<Vec<InboxNotice>> {
        let rows: Vec<(String, i64, i64, i64)> = sqlx::query_as(
            "SELECT kind, subject_id, version, created_at FROM inbox_notices \
             WHERE account_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
        )
        .bind(account_id.get())
        .bind(INBOX_LIMIT)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(kind, subject_id, version, created_at)| {
                Ok(InboxNotice {
                    kind: kind
                        .parse()
                        .map_err(|_| StoreError::Corrupt(format!("notice kind {kind:?}")))?,
                    subject_id,
                    version,
                    created_at,
                })
            })
            .collect()
    }
}
