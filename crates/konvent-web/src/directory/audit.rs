//! The audit log of a conference, for admins: who changed what when, and how.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Html;
use konvent_core::authz::Action;
use konvent_core::gremien::Abbreviation;
use serde_json::Value;

use crate::AppState;
use crate::ctx::Ctx;
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::layout::{Chrome, datetime_de, render};

struct Entry {
    at: String,
    actor: String,
    what: String,
    changes: Vec<(String, String, String)>,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    c: Chrome,
    abbreviation: String,
    entries: Vec<Entry>,
}

/// A JSON value as a person reads it: names for persons, "–" for nothing.
fn readable(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => "–".to_owned(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Object(o)) => match (o.get("title"), o.get("name")) {
            (Some(Value::String(t)), Some(Value::String(n))) => format!("{t} {n}"),
            (_, Some(Value::String(n))) => n.clone(),
            _ => Value::Object(o.clone()).to_string(),
        },
        Some(other) => other.to_string(),
    }
}

/// The fields that differ between before and after, with their old and new values.
fn changes(t: &Tr, before: Option<&Value>, after: Option<&Value>) -> Vec<(String, String, String)> {
    let empty = serde_json::Map::new();
    let b = before.and_then(Value::as_object).unwrap_or(&empty);
    let a = after.and_then(Value::as_object).unwrap_or(&empty);
    let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| {
            !matches!(
                k.as_str(),
                "id" | "conference_id" | "created_at" | "modified_at"
            )
        })
        .filter(|k| b.get(*k) != a.get(*k))
        .map(|k| {
            let label = t
                .try_get(&format!("field-{}", k.replace('_', "-")))
                .unwrap_or_else(|| k.clone());
            (label, readable(b.get(k)), readable(a.get(k)))
        })
        .collect()
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), conference = %abbr))]
pub async fn audit(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(abbr): Path<String>,
) -> AppResult<Html<String>> {
    let abbreviation = Abbreviation::parse(&abbr).map_err(|_| AppError::NotFound)?;
    ctx.require(Action::ReadAuditLog(&abbreviation))?;
    let t = ctx.tr();
    let conference = state.store.conference(&abbr).await?.conference;
    let entries = state
        .store
        .audit_for_conference(conference.id)
        .await?
        .into_iter()
        .map(|e| Entry {
            at: datetime_de(e.at),
            actor: e.actor,
            what: t.get(&format!("audit-{}-{}", e.entity, e.action)),
            changes: changes(&t, e.before.as_ref(), e.after.as_ref()),
        })
        .collect();
    render(&AuditPage {
        c: Chrome::new(
            &ctx,
            "gremien",
            t.with("audit-heading", &[("conference", &conference.abbreviation)]),
        ),
        abbreviation: conference.abbreviation,
        entries,
    })
}
