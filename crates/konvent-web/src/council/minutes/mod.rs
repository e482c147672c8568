//! The minutes of a council session (Niederschrift, G11): the office generates them from
//! the session, edits the draft (remarks and notes per agenda item), finalises and
//! releases them to the members; each version is readable as HTML and as tagged PDF.
//! Who sees what: the office (`EditCouncil`) every version; the members
//! (`ReadConfidential`) the released ones; nobody else any.
//!
//! This module holds who reads which version and the session's summary for its JSON; the
//! minutes as shown ([`view`]), reading them ([`show`]), the PDF ([`pdf`]) and the
//! office's steps and edits ([`edit`]) have their own files.

pub mod edit;
pub mod pdf;
pub mod show;
mod view;

use konvent_core::authz::Action;
use konvent_store::{Minutes, MinutesState};

use crate::AppState;
use crate::council::weekday_date;
use crate::ctx::Ctx;
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;

/// Whether the reader is the office (every version) or a member (released versions).
fn may_edit(ctx: &Ctx) -> bool {
    ctx.may(Action::EditCouncil)
}

/// The versions the reader may read: all for the office, the released for members,
/// none for anybody else.
pub fn readable(ctx: &Ctx, all: Vec<Minutes>) -> Vec<Minutes> {
    if may_edit(ctx) {
        all
    } else if ctx.may(Action::ReadConfidential) {
        all.into_iter()
            .filter(|m| m.state == MinutesState::Released)
            .collect()
    } else {
        Vec::new()
    }
}

/// Only the office and the members read minutes at all.
fn require_reader(ctx: &Ctx) -> AppResult<()> {
    ctx.signed_in()?;
    if ctx.may(Action::ReadConfidential) || may_edit(ctx) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

pub fn state_label(t: &Tr, state: MinutesState) -> String {
    t.get(&format!("minutes-state-{}", state.as_str()))
}

async fn session_date(state: &AppState, t: &Tr, number: i64) -> AppResult<String> {
    let s = state.store.session(number).await?;
    Ok(weekday_date(t, &s.date))
}

/// What the session's JSON shows of its minutes to the reader: the office the newest
/// version's state and links; a member the released versions' links; the public only
/// that minutes were released. `None` when there is nothing the reader may know.
pub async fn api_summary(
    state: &AppState,
    ctx: &Ctx,
    number: i64,
) -> AppResult<Option<serde_json::Value>> {
    use serde_json::json;
    let all = state.store.minutes(number).await?;
    let released = all.iter().any(|m| m.state == MinutesState::Released);
    let base = format!("/gremien/sitzungen/{number}/niederschrift");
    let link = |m: &Minutes| {
        json!({
            "version": m.version,
            "status": m.state.as_str(),
            "html": format!("{base}/fassungen/{}", m.version),
            "pdf": format!("{base}/fassungen/{}/niederschrift.pdf", m.version),
        })
    };
    if may_edit(ctx) {
        let Some(latest) = all.last() else {
            return Ok(None);
        };
        return Ok(Some(json!({
            "status": latest.state.as_str(),
            "version": latest.version,
            "html": base,
            "versions": all.iter().map(link).collect::<Vec<_>>(),
        })));
    }
    if !released {
        return Ok(None);
    }
    if ctx.may(Action::ReadConfidential) {
        let list = readable(ctx, all);
        let latest = list.last().map(|m| m.version);
        return Ok(Some(json!({
            "status": "released",
            "version": latest,
            "html": base,
            "versions": list.iter().map(link).collect::<Vec<_>>(),
        })));
    }
    Ok(Some(json!({ "status": "released" })))
}
