//! Pseudonymous participation (issue 21): an organizer allows it per event
//! ([`Store::set_pseudonyms_allowed`], audited), and a participant then appears there
//! under a chosen name ([`Store::set_pseudonym`]).
//!
//! The name a person has in an event is resolved in two places only: for what they
//! write, the web layer's `Actor` carries it (so the live log stores the pseudonym,
//! never the real name); for what is read by joining `accounts`, [`name_in_event`] is
//! the SQL expression every such query uses. Setting, changing or removing a pseudonym
//! rewrites the person's name in the event's live log and in the impulses and pins of
//! the event, so a replay and a reload show the name the person has now.

use konvent_core::convention::registration::PseudonymRefusal;
use konvent_core::ids::{AccountId, EventId};
use std::collections::HashMap;

use konvent_core::FieldErrors;
use konvent_core::validation::checked_name;
use serde_json::Value;

use crate::audit::{self, Actor, Change};
use crate::{Result, Store, StoreError, now_micros};

type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// The longest pseudonym, in characters.
pub const PSEUDONYM_MAX: usize = 40;

/// The SQL expression of the name the account `account` (an SQL expression, e.g.
/// `a.id`) has in the event `event` (e.g. `$1` or `q.event_id`): its pseudonym there
/// while the event allows pseudonyms, else `a.display_name` (`accounts` must be joined
/// as `a`).
pub fn name_in_event(event: &str, account: &str) -> String {
    format!(
        "COALESCE((SELECT ps.pseudonym FROM event_pseudonyms ps JOIN events pe \
         ON pe.id = ps.event_id WHERE ps.event_id = {event} AND ps.account_id = {account} \
         AND pe.pseudonyms_allowed <> 0), a.display_name)"
    )
}

/// A pseudonym as entered: trimmed, one line, at most [`PSEUDONYM_MAX`] characters,
/// only letters, digits, spaces and `-` `.` `_` `'`, and not the name konvent gives
/// deleted people. `Err` carries the field's error (code, German message).
pub fn checked_pseudonym(value: &str) -> std::result::Result<String, (&'static str, String)> {
    let name = checked_name(value, PSEUDONYM_MAX)?;
    if !name
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '.' | '_' | '\''))
    {
        return Err((
            "characters",
            "Nur Buchstaben, Ziffern, Leerzeichen und - . _ ' sind erlaubt.".to_owned(),
        ));
    }
    if !name.chars().any(char::is_alphanumeric) {
        return Err((
            "characters",
            "Bitte mindestens einen Buchstaben oder eine Ziffer verwenden.".to_owned(),
        ));
    }
    if name.to_lowercase().starts_with("gelöschte person") {
        return Err(("reserved", "Dieser Name ist vergeben.".to_owned()));
    }
    Ok(name)
}

/// A pseudonym of one person in one event, as organizers and the help desk see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pseudonym {
    pub account_id: AccountId,
    pub pseudonym: String,
    pub real_name: String,
}

fn invalid(code: &'static str, message: impl Into<String>) -> StoreError {
    let mut errors = FieldErrors::new();
    errors.add("pseudonym", code, message);
    StoreError::Invalid(errors)
}

impl Store {
    /// Whether the event lets participants appear under a pseudonym.
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id))]
    pub async fn pseudonyms_allowed(&self, event_id: EventId) -> Result<bool> {
        let row: Option<(i64,)> =
            sqlx::query_as("SELECT pseudonyms_allowed FROM events WHERE id = $1")
                .bind(event_id.get())
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.ok_or(StoreError::NotFound)?.0 != 0)
    }

    /// Allows or stops pseudonyms in the event; a change is audited (nothing changes,
    /// nothing is written). Stopping keeps the chosen names (they apply again when the
    /// organizer allows pseudonyms again) and what was written under them.
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id, actor = actor.account_id.map(AccountId::get)))]
    pub async fn set_pseudonyms_allowed(
        &self,
        event_id: EventId,
        allowed: bool,
        actor: &Actor,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let row: Option<(i64,)> =
            sqlx::query_as("SELECT pseudonyms_allowed FROM events WHERE id = $1")
                .bind(event_id.get())
                .fetch_optional(&mut *tx)
                .await?;
        let before = row.ok_or(StoreError::NotFound)?.0 != 0;
        if before == allowed {
            return Ok(());
        }
        sqlx::query("UPDATE events SET pseudonyms_allowed = $1 WHERE id = $2")
            .bind(i64::from(allowed))
            .bind(event_id.get())
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut tx,
            actor,
            Change {
                conference_id: None,
                entity: "event",
                entity_id: event_id.get(),
                action: if allowed {
                    "pseudonyms_allowed"
                } else {
                    "pseudonyms_stopped"
                },
                before: Some(serde_json::json!({ "pseudonyms_allowed": before })),
                after: Some(serde_json::json!({ "pseudonyms_allowed": allowed })),
            },
        )
        .await?;
        tx.commit().await?;
        self.memo.event_changed(event_id);
        Ok(())
    }

    /// The pseudonym the account chose in the event (also while the event does not
    /// allow pseudonyms; [`Store::name_in_event`] says whether it applies).
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id, account_id = %account_id))]
    pub async fn pseudonym(
        &self,
        event_id: EventId,
        account_id: AccountId,
    ) -> Result<Option<String>> {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT pseudonym FROM event_pseudonyms WHERE event_id = $1 AND account_id = $2",
        )
        .bind(event_id.get())
        .bind(account_id.get())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(p,)| p))
    }

    /// The name the account has in the event: its pseudonym while the event allows
    /// them, else its display name.
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id, account_id = %account_id))]
    pub async fn name_in_event(&self, event_id: EventId, account_id: AccountId) -> Result<String> {
        let row: Option<(String,)> = sqlx::query_as(&format!(
            "SELECT {} FROM accounts a WHERE a.id = $2",
            name_in_event("$1", "a.id")
        ))
        .bind(event_id.get())
        .bind(account_id.get())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.ok_or(StoreError::NotFound)?.0)
    }

    /// Every pseudonym chosen in the event with the real name behind it, by pseudonym
    /// (for organizers and the help desk).
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id))]
    pub async fn event_pseudonyms(&self, event_id: EventId) -> Result<Vec<Pseudonym>> {
        let rows: Vec<(i64, String, String)> = sqlx::query_as(
            "SELECT ps.account_id, ps.pseudonym, a.display_name FROM event_pseudonyms ps \
             JOIN accounts a ON a.id = ps.account_id WHERE ps.event_id = $1 \
             ORDER BY ps.folded, ps.account_id",
        )
        .bind(event_id.get())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(account_id, pseudonym, real_name)| Pseudonym {
                account_id: AccountId::new(account_id),
                pseudonym,
                real_name,
            })
            .collect())
    }

    /// Chooses, changes (`Some`) or removes (`None`) the account's pseudonym in the
    /// event, which must allow pseudonyms. A name is refused (as
    /// [`StoreError::Invalid`] on the field `pseudonym`) when it breaks
    /// [`checked_pseudonym`], is taken by another person in the event, or is the real
    /// name of another person of the event. The person's name in the event's live log,
    /// impulses and pins becomes the new one (the real name again after a removal).
    /// Returns the name the person now has in the event.
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id, account_id = %account_id))]
    pub async fn set_pseudonym(
        &self,
        event_id: EventId,
        account_id: AccountId,
        pseudonym: Option<&str>,
    ) -> Result<String> {
        let pseudonym = match pseudonym {
            Some(raw) => Some(checked_pseudonym(raw).map_err(|(code, m)| invalid(code, m))?),
            None => None,
        };
        let mut tx = self.begin_write().await?;
        let row: Option<(i64,)> =
            sqlx::query_as("SELECT pseudonyms_allowed FROM events WHERE id = $1")
                .bind(event_id.get())
                .fetch_optional(&mut *tx)
                .await?;
        if row.ok_or(StoreError::NotFound)?.0 == 0 {
            return Err(PseudonymRefusal::NotAllowed.into());
        }
        let real: Option<(String,)> =
            sqlx::query_as("SELECT display_name FROM accounts WHERE id = $1")
                .bind(account_id.get())
                .fetch_optional(&mut *tx)
                .await?;
        let (real,) = real.ok_or(StoreError::NotFound)?;
        let name = match &pseudonym {
            Some(p) => {
                let folded = p.to_lowercase();
                // Another person of the event (participant, helper, moderator of a
                // room, or registered) under that real name: refused, so nobody can
                // pass as somebody else.
                let (namesakes,): (i64,) = sqlx::query_as(
                    "SELECT COUNT(*) FROM accounts a WHERE a.id <> $2 AND LOWER(a.display_name) = $3 \
                     AND a.deleted_at IS NULL AND (EXISTS (SELECT 1 FROM event_people p \
                     WHERE p.event_id = $1 AND p.account_id = a.id) OR EXISTS (SELECT 1 FROM rooms r \
                     WHERE r.event_id = $1 AND (r.moderator_id = a.id OR r.speaker_id = a.id)))",
                )
                .bind(event_id.get())
                .bind(account_id.get())
                .bind(&folded)
                .fetch_one(&mut *tx)
                .await?;
                if namesakes > 0 {
                    return Err(PseudonymRefusal::SomebodysName.into());
                }
                sqlx::query("DELETE FROM event_pseudonyms WHERE event_id = $1 AND account_id = $2")
                    .bind(event_id.get())
                    .bind(account_id.get())
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "INSERT INTO event_pseudonyms (event_id, account_id, pseudonym, folded, set_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(event_id.get())
                .bind(account_id.get())
                .bind(p)
                .bind(&folded)
                .bind(now_micros())
                .execute(&mut *tx)
                .await
                .map_err(|e| StoreError::refused_on_unique(e, PseudonymRefusal::Taken))?;
                p.clone()
            }
            None => {
                sqlx::query("DELETE FROM event_pseudonyms WHERE event_id = $1 AND account_id = $2")
                    .bind(event_id.get())
                    .bind(account_id.get())
                    .execute(&mut *tx)
                    .await?;
                real
            }
        };
        rename_in_event(&mut tx, event_id, account_id, &name).await?;
        tx.commit().await?;
        self.memo.account_changed(account_id);
        Ok(name)
    }
}

/// Rewrites the name of `account_id` to `name` wherever the event `event_id` stores it
/// beside the id: every `{"id", "name"}` of the account in the live log's entries, the
/// author of its impulses and pins (and of their live entries).
pub(crate) async fn rename_in_event(
    tx: &mut Tx,
    event_id: EventId,
    account_id: AccountId,
    name: &str,
) -> Result<()> {
    for table in ["impulses", "pins"] {
        sqlx::query(&format!(
            "UPDATE {table} SET author_name = $1 WHERE event_id = $2 AND author_id = $3"
        ))
        .bind(name)
        .bind(event_id.get())
        .bind(account_id.get())
        .execute(&mut **tx)
        .await?;
    }
    let pins: Vec<(i64,)> =
        sqlx::query_as("SELECT id FROM pins WHERE event_id = $1 AND author_id = $2")
            .bind(event_id.get())
            .bind(account_id.get())
            .fetch_all(&mut **tx)
            .await?;
    let pins: Vec<i64> = pins.into_iter().map(|(id,)| id).collect();
    let rows: Vec<(i64, String, String)> =
        sqlx::query_as("SELECT seq, kind, data FROM live_log WHERE event_id = $1 AND data LIKE $2")
            .bind(event_id.get())
            .bind(format!("%{account_id}%"))
            .fetch_all(&mut **tx)
            .await?;
    for (seq, kind, data) in rows {
        let Ok(mut value) = serde_json::from_str::<Value>(&data) else {
            continue;
        };
        let mut changed = rename(&mut value, account_id, name);
        if kind == "pin"
            && value["id"].as_i64().is_some_and(|id| pins.contains(&id))
            && value["author"].as_str() != Some(name)
        {
            value["author"] = Value::from(name);
            changed = true;
        }
        if changed {
            sqlx::query("UPDATE live_log SET data = $1 WHERE event_id = $2 AND seq = $3")
                .bind(value.to_string())
                .bind(event_id.get())
                .bind(seq)
                .execute(&mut **tx)
                .await?;
        }
    }
    Ok(())
}

/// Sets `name` in every object of `value` that is a person reference of `account`
/// (exactly the keys `id` and `name`); whether anything changed.
fn rename(value: &mut Value, account: AccountId, name: &str) -> bool {
    match value {
        Value::Object(map) => {
            if map.len() == 2
                && map.get("id").and_then(Value::as_i64) == Some(account.get())
                && map.get("name").is_some_and(Value::is_string)
            {
                if map["name"].as_str() == Some(name) {
                    return false;
                }
                map.insert("name".to_owned(), Value::from(name));
                return true;
            }
            let mut changed = false;
            for v in map.values_mut() {
                changed |= rename(v, account, name);
            }
            changed
        }
        Value::Array(items) => {
            let mut changed = false;
            for v in items {
                changed |= rename(v, account, name);
            }
            changed
        }
        _ => false,
    }
}

/// The pseudonyms the account chose, per event (for its deletion).
pub(crate) async fn of_account(tx: &mut Tx, account_id: AccountId) -> Result<HashMap<i64, String>> {
    let rows: Vec<(i64, String)> =
        sqlx::query_as("SELECT event_id, pseudonym FROM event_pseudonyms WHERE account_id = $1")
            .bind(account_id.get())
            .fetch_all(&mut **tx)
            .await?;
    Ok(rows.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pseudonym_is_a_short_plain_name() {
        assert_eq!(
            checked_pseudonym("  Stille Beobachterin ").as_deref(),
            Ok("Stille Beobachterin")
        );
        assert!(checked_pseudonym("").is_err());
        assert!(checked_pseudonym("<b>x</b>").is_err());
        assert!(checked_pseudonym("---").is_err());
        assert!(checked_pseudonym(&"a".repeat(PSEUDONYM_MAX + 1)).is_err());
        assert!(checked_pseudonym("Gelöschte Person 3").is_err());
        assert!(checked_pseudonym("O'Neil-2_x.y").is_ok());
    }

    #[test]
    fn renaming_touches_only_the_persons_references() {
        let mut v = serde_json::json!({
            "from": {"id": 7, "name": "Anna"},
            "queue": [{"id": 7, "name": "Anna"}, {"id": 8, "name": "Bert"}],
            "table": {"id": 7, "name": "Tisch", "capacity": 4}
        });
        assert!(rename(&mut v, AccountId::new(7), "Datenlotse"));
        assert_eq!(v["from"]["name"], "Datenlotse");
        assert_eq!(v["queue"][0]["name"], "Datenlotse");
        assert_eq!(v["queue"][1]["name"], "Bert");
        assert_eq!(v["table"]["name"], "Tisch");
        assert!(!rename(&mut v, AccountId::new(7), "Datenlotse"));
    }
}
