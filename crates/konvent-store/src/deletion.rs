//! Deletion of an account (Art. 17 DSGVO, issue 21): the person asks
//! ([`Store::request_deletion`]), an admin confirms ([`Store::delete_account`]), and in
//! one transaction the account becomes "Gelöschte Person N" (N stable per person):
//!
//! - **removed**: the address, password, organisation, sessions, sign-in links, single
//!   sign-on links, remembered devices, failed sign-ins, mail preferences and opt-outs,
//!   reminders, notices in konvent, mails to the address, bulk-invitation rows, roles
//!   (grants) and council seats, the places in events (participant, helper, raised hands, café seats),
//!   connection points, the record of having given feedback, mutes and removals, and
//!   every direct message the person sent or received (a private exchange between two
//!   people, not content of the event: its other party loses their copy too);
//! - **kept as content, under the pseudonym**: chat lines, impulses, pins, questions and
//!   the votes on pins and questions (counts), summaries, moderation reports;
//! - **kept as records of the council's governance, pseudonymised** (kept by legal
//!   obligation: the council's decisions and how they came about must stay traceable):
//!   reports, concerns, ballots of council votes, the rooms and tables the person led,
//!   the registrations for events and invitations to meetings (their name and address
//!   replaced), the minutes of council sessions (the office's notes and remarks in every
//!   draft and version), the moderation log and the audit log.
//!
//! Names are stored beside ids in some places (impulses, pins, reports, the moderation
//! and audit logs) and inside the live log's JSON (`{"id", "name"}` of every actor): the
//! transaction rewrites each of them, so a replay of the live log after the deletion
//! shows the pseudonym. Columns that hold only a name (who wrote a summary, who decided
//! a pin, ...) are rewritten where they equal the old name, unless another account that
//! is not deleted has that name too (then they cannot be told apart and stay).

use konvent_core::ids::{AccountId, EventId};
use serde_json::Value;

use crate::audit::{self, Actor, Change};
use crate::{Result, Store, StoreError, now_micros};

/// A request waiting for an admin, as the admin page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletionRequest {
    pub account_id: AccountId,
    pub display_name: String,
    pub email: String,
    pub requested_at: i64,
}

/// What a confirmed deletion left behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deleted {
    pub account_id: AccountId,
    pub pseudonym: String,
}

/// The pseudonym of the `n`-th deleted person.
pub fn pseudonym(n: i64) -> String {
    format!("Gelöschte Person {n}")
}

/// The address a deleted account keeps: no `@`, so no form accepts it, no mail reaches
/// it, and the real address is free for a new account.
fn tombstone_email(n: i64) -> String {
    format!("geloescht-{n}")
}

/// Rows whose names are rewritten by id: (table, name column, id column).
const NAMED_BY_ID: &[(&str, &str, &str)] = &[
    ("impulses", "author_name", "author_id"),
    ("pins", "author_name", "author_id"),
    ("reports", "author", "author_id"),
    ("concerns", "submitter", "submitter_id"),
    ("moderation_actions", "actor", "actor_id"),
    ("moderation_actions", "person", "person_id"),
    ("audit_log", "actor", "actor_id"),
    ("document_versions", "uploader", "uploaded_by"),
];

/// Columns that hold only a name: rewritten where they equal the old name.
const NAMED_ONLY: &[(&str, &str)] = &[
    ("cafe_tables", "summary_by"),
    ("pins", "decided_by"),
    ("target_pictures", "created_by"),
    ("impulse_groups", "created_by"),
    ("duties", "done_by"),
    ("workshop_results", "author"),
    ("podium_titles", "named_by"),
    ("venue_maps", "uploaded_by"),
    ("topics", "patron"),
    ("persons", "name"),
];

/// What goes with the account: (table, column naming it).
const REMOVED_BY_ID: &[(&str, &str)] = &[
    ("sessions", "account_id"),
    ("grants", "account_id"),
    ("oidc_identities", "account_id"),
    ("oidc_flows", "link_account"),
    ("mail_preferences", "account_id"),
    ("notification_opt_outs", "account_id"),
    ("reminders_sent", "account_id"),
    ("inbox_notices", "account_id"),
    ("council_seats", "account_id"),
    ("event_people", "account_id"),
    ("hands", "account_id"),
    ("table_seats", "account_id"),
    ("connection_points", "account_id"),
    ("feedback_given", "account_id"),
    ("event_mutes", "account_id"),
    ("event_removals", "account_id"),
    ("deletion_requests", "account_id"),
    // Networking (K15+): the profile, contact requests and blocks either way, and the
    // follow-up groups' member lists (a group the person started stays, without them).
    ("network_profiles", "account_id"),
    ("contact_requests", "from_id"),
    ("contact_requests", "to_id"),
    ("contact_blocks", "account_id"),
    ("contact_blocks", "blocked_id"),
    ("follow_up_group_members", "account_id"),
    // Pseudonymous participation: the names chosen in events.
    ("event_pseudonyms", "account_id"),
];

/// What goes with the address: (table, column holding it).
const REMOVED_BY_EMAIL: &[(&str, &str)] = &[
    ("login_tokens", "email"),
    ("known_devices", "email"),
    ("mail_outbox", "recipient"),
    ("bulk_invitation_rows", "email"),
];

/// A `LIKE` pattern that finds `needle` anywhere (with `ESCAPE '\'`).
fn contains_pattern(needle: &str) -> String {
    let mut p = String::with_capacity(needle.len() + 2);
    p.push('%');
    for c in needle.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// How a string looks inside stored JSON.
fn json_form(s: &str) -> String {
    let quoted = serde_json::to_string(s).unwrap_or_default();
    quoted.trim_matches('"').to_owned()
}

/// What to replace in stored JSON: every occurrence of the `needles`, and a string
/// that is exactly `exact`; by `with`.
struct Words<'a> {
    needles: &'a [&'a str],
    exact: &'a str,
    with: &'a str,
}

/// Replaces what `words` names in the strings of `value`; whether anything changed.
fn scrub(value: &mut Value, words: &Words<'_>) -> bool {
    match value {
        Value::String(s) => {
            if s == words.exact {
                *s = words.with.to_owned();
                return true;
            }
            let mut changed = false;
            for needle in words.needles {
                if !needle.is_empty() && s.contains(needle) {
                    *s = s.replace(needle, words.with);
                    changed = true;
                }
            }
            changed
        }
        Value::Array(items) => items.iter_mut().fold(false, |acc, v| scrub(v, words) | acc),
        Value::Object(map) => map.values_mut().fold(false, |acc, v| scrub(v, words) | acc),
        _ => false,
    }
}

type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// Reads the rows `select` finds (two integer keys and a JSON text, `$1`, `$2` bound
/// to `binds`), and writes back with `update` (`$1` the text, `$2`, `$3` the keys)
/// those in which `words` replaced something.
async fn scrub_json_rows(
    tx: &mut Tx,
    select: &str,
    update: &str,
    binds: &[String],
    words: &Words<'_>,
) -> Result<u64> {
    let mut query = sqlx::query_as::<_, (i64, i64, Option<String>)>(select);
    for b in binds {
        query = query.bind(b.clone());
    }
    let rows = query.fetch_all(&mut **tx).await?;
    let mut changed = 0;
    for (a, b, text) in rows {
        let Some(text) = text else { continue };
        let Ok(mut value) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        if scrub(&mut value, words) {
            sqlx::query(update)
                .bind(value.to_string())
                .bind(a)
                .bind(b)
                .execute(&mut **tx)
                .await?;
            changed += 1;
        }
    }
    Ok(changed)
}

impl Store {
    /// The signed-in person asks for the deletion of their account; asking again
    /// changes nothing. Answers when the (first) request was made.
    #[tracing::instrument(level = "debug", skip_all, fields(account_id = %account_id))]
    pub async fn request_deletion(&self, account_id: AccountId) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let live: Option<(Option<i64>,)> =
            sqlx::query_as("SELECT deleted_at FROM accounts WHERE id = $1")
                .bind(account_id.get())
                .fetch_optional(&mut *tx)
                .await?;
        match live {
            Some((None,)) => {}
            _ => return Err(StoreError::NotFound),
        }
        sqlx::query(
            "INSERT INTO deletion_requests (account_id, requested_at) VALUES ($1, $2) \
             ON CONFLICT (account_id) DO NOTHING",
        )
        .bind(account_id.get())
        .bind(now_micros())
        .execute(&mut *tx)
        .await?;
        let (at,): (i64,) =
            sqlx::query_as("SELECT requested_at FROM deletion_requests WHERE account_id = $1")
                .bind(account_id.get())
                .fetch_one(&mut *tx)
                .await?;
        tx.commit().await?;
        Ok(at)
    }

    /// When the account asked for its deletion, if it did and it is not done yet.
    #[tracing::instrument(level = "debug", skip_all, fields(account_id = %account_id))]
    pub async fn deletion_requested(&self, account_id: AccountId) -> Result<Option<i64>> {
        let row: Option<(i64,)> =
            sqlx::query_as("SELECT requested_at FROM deletion_requests WHERE account_id = $1")
                .bind(account_id.get())
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(at,)| at))
    }

    /// The open requests, oldest first (at most `limit`).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn deletion_requests(&self, limit: i64) -> Result<Vec<DeletionRequest>> {
        let rows: Vec<(i64, String, String, i64)> = sqlx::query_as(
            "SELECT a.id, a.display_name, a.email, r.requested_at FROM deletion_requests r \
             JOIN accounts a ON a.id = r.account_id ORDER BY r.requested_at, a.id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(account_id, display_name, email, requested_at)| DeletionRequest {
                    account_id: AccountId::new(account_id),
                    display_name,
                    email,
                    requested_at,
                },
            )
            .collect())
    }

    /// Carries out a requested deletion, in one transaction (see the module's text for
    /// what goes and what stays under the pseudonym). [`StoreError::NotFound`] when the
    /// account has no open request.
    #[tracing::instrument(level = "debug", skip_all, fields(actor = actor.account_id.map(AccountId::get), account_id = %account_id))]
    pub async fn delete_account(&self, actor: &Actor, account_id: AccountId) -> Result<Deleted> {
        let mut tx = self.begin_write().await?;
        let row: Option<(String, String)> = sqlx::query_as(
            "SELECT a.display_name, a.email FROM accounts a \
             JOIN deletion_requests r ON r.account_id = a.id \
             WHERE a.id = $1 AND a.deleted_at IS NULL",
        )
        .bind(account_id.get())
        .fetch_optional(&mut *tx)
        .await?;
        let Some((name, email)) = row else {
            return Err(StoreError::NotFound);
        };
        let (n,): (i64,) =
            sqlx::query_as("SELECT COALESCE(MAX(pseudonym_no), 0) + 1 FROM accounts")
                .fetch_one(&mut *tx)
                .await?;
        let pseudonym = pseudonym(n);
        let now = now_micros();
        // The names chosen in events (pseudonymous participation) go too: what was
        // written under them is rewritten to the deletion's pseudonym first.
        for event_id in crate::pseudonyms::of_account(&mut tx, account_id)
            .await?
            .into_keys()
        {
            crate::pseudonyms::rename_in_event(
                &mut tx,
                EventId::new(event_id),
                account_id,
                &pseudonym,
            )
            .await?;
        }

        for (table, column) in REMOVED_BY_ID {
            sqlx::query(&format!("DELETE FROM {table} WHERE {column} = $1"))
                .bind(account_id.get())
                .execute(&mut *tx)
                .await?;
        }
        for (table, column) in REMOVED_BY_EMAIL {
            sqlx::query(&format!("DELETE FROM {table} WHERE {column} = $1"))
                .bind(&email)
                .execute(&mut *tx)
                .await?;
        }
        // Rate-limit keys name the address (`…:address`).
        sqlx::query("DELETE FROM sign_in_failures WHERE key LIKE $1 ESCAPE '\\'")
            .bind(contains_pattern(&email))
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "DELETE FROM live_log WHERE kind = 'dm' AND (sender_id = $1 OR recipient_id = $1)",
        )
        .bind(account_id.get())
        .execute(&mut *tx)
        .await?;

        // Registrations and meeting invitations stay (they count, and a meeting's
        // invitees are a record), without name and address.
        let gone = tombstone_email(n);
        sqlx::query(
            "UPDATE event_registrations SET email = $1, name = $2, organisation = '', \
             confirm_hash = NULL, updated_at = $3 WHERE email = $4",
        )
        .bind(&gone)
        .bind(&pseudonym)
        .bind(now)
        .bind(&email)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE meeting_invitees SET email = $1, name = $2 WHERE email = $3")
            .bind(&gone)
            .bind(&pseudonym)
            .bind(&email)
            .execute(&mut *tx)
            .await?;

        for (table, column, id) in NAMED_BY_ID {
            sqlx::query(&format!("UPDATE {table} SET {column} = $1 WHERE {id} = $2"))
                .bind(&pseudonym)
                .bind(account_id.get())
                .execute(&mut *tx)
                .await?;
        }
        let (namesakes,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM accounts WHERE display_name = $1 AND id <> $2 \
             AND deleted_at IS NULL",
        )
        .bind(&name)
        .bind(account_id.get())
        .fetch_one(&mut *tx)
        .await?;
        if namesakes == 0 {
            for (table, column) in NAMED_ONLY {
                sqlx::query(&format!(
                    "UPDATE {table} SET {column} = $1 WHERE {column} = $2"
                ))
                .bind(&pseudonym)
                .bind(&name)
                .execute(&mut *tx)
                .await?;
            }
        }

        // The JSON that names the person: live-log entries (every actor is stored as
        // `{"id", "name"}`) and the audit log's records. A name too short to be told
        // apart from parts of other words is replaced only where it is a whole value.
        let name_json = json_form(&name);
        let email_json = json_form(&email);
        let mut needles = vec![email_json.as_str()];
        if name.chars().count() >= 3 {
            needles.push(name_json.as_str());
        }
        let patterns = [contains_pattern(&name_json), contains_pattern(&email_json)];
        let words = Words {
            needles: &needles,
            exact: &name,
            with: &pseudonym,
        };
        scrub_json_rows(
            &mut tx,
            &format!(
                "SELECT event_id, seq, data FROM live_log WHERE sender_id = {account_id} \
                 OR recipient_id = {account_id} OR data LIKE $1 ESCAPE '\\' \
                 OR data LIKE $2 ESCAPE '\\'"
            ),
            "UPDATE live_log SET data = $1 WHERE event_id = $2 AND seq = $3",
            &patterns,
            &words,
        )
        .await?;
        for column in ["before_json", "after_json"] {
            scrub_json_rows(
                &mut tx,
                &format!(
                    "SELECT id, id, {column} FROM audit_log WHERE {column} LIKE $1 ESCAPE '\\' \
                     OR {column} LIKE $2 ESCAPE '\\'"
                ),
                &format!("UPDATE audit_log SET {column} = $1 WHERE id = $2 AND id = $3"),
                &patterns,
                &words,
            )
            .await?;
        }

        // The minutes (G11): the attendance names the person by account id (the pseudonym
        // reaches it when read), but the office's notes and remarks are free text, in
        // every draft and version.
        scrub_json_rows(
            &mut tx,
            "SELECT id, id, content FROM council_minutes WHERE content LIKE $1 ESCAPE '\\' \
             OR content LIKE $2 ESCAPE '\\'",
            "UPDATE council_minutes SET content = $1 WHERE id = $2 AND id = $3",
            &patterns,
            &words,
        )
        .await?;

        sqlx::query(
            "UPDATE accounts SET email = $1, display_name = $2, password_hash = NULL, \
             organisation = NULL, deleted_at = $3, pseudonym_no = $4 WHERE id = $5",
        )
        .bind(&gone)
        .bind(&pseudonym)
        .bind(now)
        .bind(n)
        .bind(account_id.get())
        .execute(&mut *tx)
        .await?;
        audit::record(
            &mut tx,
            actor,
            Change {
                conference_id: None,
                entity: "account",
                entity_id: account_id.get(),
                action: "deleted",
                before: None,
                after: Some(serde_json::json!({ "pseudonym": pseudonym })),
            },
        )
        .await?;
        tx.commit().await?;
        self.memo.account_changed(account_id);
        Ok(Deleted {
            account_id,
            pseudonym,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_like_pattern_escapes_its_wildcards() {
        assert_eq!(contains_pattern("a_b%c\\"), "%a\\_b\\%c\\\\%");
    }

    #[test]
    fn scrubbing_replaces_the_name_in_every_string_and_says_so() {
        let mut v = serde_json::json!({"by": {"id": 3, "name": "Anna Alt"}, "text": "hallo Anna Alt", "n": 3});
        let words = Words {
            needles: &["Anna Alt"],
            exact: "Anna Alt",
            with: "Gelöschte Person 1",
        };
        assert!(scrub(&mut v, &words));
        assert_eq!(
            v,
            serde_json::json!({"by": {"id": 3, "name": "Gelöschte Person 1"}, "text": "hallo Gelöschte Person 1", "n": 3})
        );
        assert!(!scrub(&mut v, &words));
        let mut short = serde_json::json!({"name": "Al", "text": "Alles gut"});
        let words = Words {
            needles: &[],
            exact: "Al",
            with: "X",
        };
        assert!(scrub(&mut short, &words));
        assert_eq!(short, serde_json::json!({"name": "X", "text": "Alles gut"}));
    }
}
