//! Everything konvent holds about one person, for the export of Art. 15 and 20 DSGVO
//! (issue 21): one read transaction over every table that names the account (by id) or
//! its address, section by section, each row as JSON. The list of [`SECTIONS`] is the
//! one place that says what "everything" is; a table that starts to hold personal data
//! gets a line here.

use konvent_core::ids::AccountId;
use serde_json::{Map, Value};
use sqlx::{Column, Row};

use crate::{Result, Store};

/// What a section's query is bound to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    /// `$1` is the account's id.
    Account,
    /// `$1` is the account's address.
    Email,
}

/// (section name, what binds `$1`, the query). Secrets (password hashes, token hashes)
/// are never selected; a row of another person appears only where it is addressed to
/// this one (a direct message) or answers what this one wrote.
const SECTIONS: &[(&str, Key, &str)] = &[
    (
        "account",
        Key::Account,
        "SELECT id, email, display_name, created_at, \
         CASE WHEN password_hash IS NULL THEN 0 ELSE 1 END AS has_password \
         FROM accounts WHERE id = $1",
    ),
    (
        "roles",
        Key::Account,
        "SELECT role, scope FROM grants WHERE account_id = $1 ORDER BY role, scope",
    ),
    (
        "event_roles",
        Key::Account,
        "SELECT event_id, role FROM event_people WHERE account_id = $1 ORDER BY event_id",
    ),
    (
        "registrations",
        Key::Email,
        "SELECT event_id, email, name, organisation, language, status, confirmed_at, created_at, \
         updated_at FROM event_registrations WHERE email = $1 ORDER BY id",
    ),
    (
        "chat_lines",
        Key::Account,
        "SELECT event_id, seq, room, audience, data, at FROM live_log \
         WHERE sender_id = $1 AND kind = 'chat' ORDER BY event_id, seq",
    ),
    (
        "direct_messages",
        Key::Account,
        "SELECT event_id, seq, sender_id, recipient_id, audience, data, at FROM live_log \
         WHERE kind = 'dm' AND (sender_id = $1 OR recipient_id = $1) ORDER BY event_id, seq",
    ),
    // Raised hands and café seats over time. Impulses, pins, questions and votes have
    // their own sections below; their log entries carry the whole item, which may be
    // another person's (a vote's entry names the pin voted for and its author).
    (
        "live_actions",
        Key::Account,
        "SELECT event_id, seq, kind, room, audience, data, at FROM live_log \
         WHERE sender_id = $1 AND kind IN ('hand', 'seat') ORDER BY event_id, seq",
    ),
    (
        "impulses",
        Key::Account,
        "SELECT id, event_id, table_id, topic_id, round, author_name, text, hidden, created_at, \
         edited_at FROM impulses WHERE author_id = $1 ORDER BY id",
    ),
    (
        "pins",
        Key::Account,
        "SELECT id, event_id, topic_id, author_name, text, status, outcome, created_at \
         FROM pins WHERE author_id = $1 ORDER BY id",
    ),
    (
        "pin_votes",
        Key::Account,
        "SELECT pin_id FROM pin_votes WHERE account_id = $1 ORDER BY pin_id",
    ),
    (
        "questions",
        Key::Account,
        "SELECT id, event_id, anonymous, text, status, created_at FROM questions \
         WHERE author_id = $1 ORDER BY id",
    ),
    (
        "question_votes",
        Key::Account,
        "SELECT question_id FROM question_votes WHERE account_id = $1 ORDER BY question_id",
    ),
    (
        "raised_hands",
        Key::Account,
        "SELECT room_id, raised_at FROM hands WHERE account_id = $1",
    ),
    (
        "cafe_seats",
        Key::Account,
        "SELECT round_id, table_id, assigned FROM table_seats WHERE account_id = $1 ORDER BY round_id",
    ),
    (
        "connection_points",
        Key::Account,
        "SELECT target, target_id, created_at FROM connection_points WHERE account_id = $1",
    ),
    // Networking (K15+): the person's profiles, requests, blocks and follow-up groups.
    (
        "network_profiles",
        Key::Account,
        "SELECT event_id, organisation, role, region, topics, about, phone, share_email, \
         visibility, show_location, match_points, updated_at FROM network_profiles \
         WHERE account_id = $1 ORDER BY event_id",
    ),
    (
        "contact_requests",
        Key::Account,
        "SELECT from_id, to_id, event_id, message, \
         CASE WHEN status = 'declined' AND from_id = $1 THEN 'open' ELSE status END AS status, \
         created_at FROM contact_requests WHERE from_id = $1 OR to_id = $1 ORDER BY id",
    ),
    (
        "contact_blocks",
        Key::Account,
        "SELECT blocked_id, created_at FROM contact_blocks WHERE account_id = $1",
    ),
    (
        "follow_up_groups",
        Key::Account,
        "SELECT g.id, g.name, g.target, g.target_id, m.joined_at FROM follow_up_groups g \
         JOIN follow_up_group_members m ON m.group_id = g.id WHERE m.account_id = $1 \
         ORDER BY g.id",
    ),
    // The answers themselves are stored without a name (anonymous by design): only
    // that this person gave feedback is theirs.
    (
        "feedback_given",
        Key::Account,
        "SELECT event_id FROM feedback_given WHERE account_id = $1",
    ),
    (
        "moderation_reports",
        Key::Account,
        "SELECT id, event_id, item, item_id, reason, at, status FROM moderation_reports \
         WHERE reporter_id = $1 ORDER BY id",
    ),
    (
        "moderation_about_me",
        Key::Account,
        "SELECT event_id, at, actor, action, item, item_id, room FROM moderation_actions \
         WHERE person_id = $1 ORDER BY id",
    ),
    (
        "mutes",
        Key::Account,
        "SELECT event_id, ends_at FROM event_mutes WHERE account_id = $1",
    ),
    (
        "removals",
        Key::Account,
        "SELECT event_id, at FROM event_removals WHERE account_id = $1",
    ),
    (
        "council_reports",
        Key::Account,
        "SELECT id, session_id, conference_id, no_exchange, collaboration, perception, topics, \
         problems, author, created_at, modified_at FROM reports WHERE author_id = $1 ORDER BY id",
    ),
    (
        "council_seats",
        Key::Account,
        "SELECT seat, role, created_at FROM council_seats WHERE account_id = $1",
    ),
    (
        "council_ballots",
        Key::Account,
        "SELECT vote_id, seat, ballot, by_deputy, cast_at FROM council_ballots \
         WHERE account_id = $1 ORDER BY vote_id",
    ),
    (
        "council_stop_requests",
        Key::Account,
        "SELECT vote_id, seat, reason, created_at, decision, decided_at \
         FROM council_stop_requests WHERE account_id = $1 ORDER BY vote_id",
    ),
    (
        "council_attendance",
        Key::Account,
        "SELECT session_id, role, seat, conference, created_at FROM council_attendance \
         WHERE account_id = $1 ORDER BY session_id",
    ),
    (
        "concerns",
        Key::Account,
        "SELECT id, conference_id, kind, title, body, submitter, status, answer, created_at, \
         modified_at FROM concerns WHERE submitter_id = $1 ORDER BY id",
    ),
    // Documents (G12): what the person uploaded, without the files themselves.
    (
        "documents",
        Key::Account,
        "SELECT d.id, d.owner_kind, d.owner_id, d.title, v.version, v.file_name, \
         v.content_type, v.size, v.created_at FROM document_versions v \
         JOIN documents d ON d.id = v.document_id WHERE v.uploaded_by = $1 \
         ORDER BY d.id, v.version",
    ),
    (
        "audit_entries",
        Key::Account,
        "SELECT at, actor, entity, entity_id, action, before_json, after_json FROM audit_log \
         WHERE actor_id = $1 OR (entity = 'account' AND entity_id = $1) ORDER BY id",
    ),
    (
        "sessions",
        Key::Account,
        "SELECT created_at, expires_at FROM sessions WHERE account_id = $1 ORDER BY created_at",
    ),
    (
        "known_devices",
        Key::Email,
        "SELECT seen_at FROM known_devices WHERE email = $1",
    ),
    (
        "mails",
        Key::Email,
        "SELECT kind, subject, status, created_at, sent_at FROM mail_outbox \
         WHERE recipient = $1 ORDER BY id",
    ),
    (
        "mail_preferences",
        Key::Account,
        "SELECT language, modified_at FROM mail_preferences WHERE account_id = $1",
    ),
    (
        "deletion_request",
        Key::Account,
        "SELECT requested_at FROM deletion_requests WHERE account_id = $1",
    ),
    (
        "inbox_notices",
        Key::Account,
        "SELECT kind, subject_id, version, created_at FROM inbox_notices \
         WHERE account_id = $1 ORDER BY id",
    ),
    (
        "notification_opt_outs",
        Key::Account,
        "SELECT kind FROM notification_opt_outs WHERE account_id = $1",
    ),
    (
        "pseudonyms",
        Key::Account,
        "SELECT event_id, pseudonym, set_at FROM event_pseudonyms WHERE account_id = $1 \
         ORDER BY event_id",
    ),
];

/// One section of an export: its name and its rows.
#[derive(Debug, Clone, PartialEq)]
pub struct DataSection {
    pub name: &'static str,
    pub rows: Vec<Map<String, Value>>,
}

/// The names of every section, in order (for the page that explains them).
pub fn section_names() -> impl Iterator<Item = &'static str> {
    SECTIONS.iter().map(|(name, _, _)| *name)
}

fn cell(row: &sqlx::any::AnyRow, i: usize) -> Value {
    if let Ok(v) = row.try_get::<Option<i64>, _>(i) {
        return v.map_or(Value::Null, Value::from);
    }
    // PostgreSQL's INTEGER (a CASE, a count) arrives as 32 bits.
    if let Ok(v) = row.try_get::<Option<i32>, _>(i) {
        return v.map_or(Value::Null, Value::from);
    }
    if let Ok(v) = row.try_get::<Option<bool>, _>(i) {
        return v.map_or(Value::Null, Value::from);
    }
    if let Ok(v) = row.try_get::<Option<f64>, _>(i) {
        return v.map_or(Value::Null, Value::from);
    }
    if let Ok(v) = row.try_get::<Option<String>, _>(i) {
        return v.map_or(Value::Null, Value::from);
    }
    Value::Null
}

impl Store {
    /// Everything konvent holds about the account `account_id`, read in one
    /// transaction; `None` when there is no such account.
    #[tracing::instrument(level = "debug", skip_all, fields(account_id = %account_id))]
    pub async fn personal_data(&self, account_id: AccountId) -> Result<Option<Vec<DataSection>>> {
        let mut tx = self.pool.begin().await?;
        let email: Option<(String,)> = sqlx::query_as("SELECT email FROM accounts WHERE id = $1")
            .bind(account_id.get())
            .fetch_optional(&mut *tx)
            .await?;
        let Some((email,)) = email else {
            return Ok(None);
        };
        let mut sections = Vec::with_capacity(SECTIONS.len());
        for (name, key, sql) in SECTIONS {
            let query = sqlx::query(sql);
            let query = match key {
                Key::Account => query.bind(account_id.get()),
                Key::Email => query.bind(email.clone()),
            };
            let rows = query.fetch_all(&mut *tx).await?;
            let rows = rows
                .iter()
                .map(|row| {
                    row.columns()
                        .iter()
                        .enumerate()
                        .map(|(i, c)| (c.name().to_owned(), cell(row, i)))
                        .collect()
                })
                .collect();
            sections.push(DataSection { name, rows });
        }
        tx.commit().await?;
        Ok(Some(sections))
    }
}
