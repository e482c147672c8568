//! Live regions, rendered on the server (docs/live-protocol.md, "Fragments").
//!
//! Every region of a page that changes live is rendered by one askama template here,
//! both when the page is rendered and when a live change arrives. The page renders a
//! region for its viewer; the live frame renders it once for everybody (per language)
//! and marks what only some people see with `data-gate`, which `live.js` resolves for
//! the signed-in person with the same rules as [`Viewer::allows`]. `live.js` inserts,
//! replaces and removes these fragments; it builds no markup of its own.

use konvent_core::ids::AccountId;
use std::collections::HashSet;

use jiff::Timestamp;
use konvent_store::LiveRecord;
use serde::Serialize;

use crate::i18n::{Lang, Tr};

pub mod cafe;
pub mod chat;
pub mod floor;
pub mod lobby;
pub mod pins;
pub mod questions;

/// One change to a page, as `live.js` applies it (the `dom` list of an `ev` frame).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum DomOp {
    /// Replaces the element with the fragment root's id, or, when the page has none,
    /// inserts the fragment into the list `into`, ordered by the roots' `data-sort`
    /// (ascending, compared as strings). A list with `data-room` takes only fragments
    /// of entries of that room.
    Upsert { into: &'static str, html: String },
    /// Replaces the element `id` (a whole region) by the fragment.
    Replace { id: String, html: String },
    /// Removes the element `id`.
    Remove { id: String },
    /// Sets the element's `data-state` (CSS and `data-when` children show the matching
    /// server-rendered text).
    State { id: String, state: String },
}

/// The person a page is rendered for: what the `data-gate` rules ask about.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub id: AccountId,
    pub organizer: bool,
    pub staff: bool,
    /// Slugs of the rooms this person moderates (organizers moderate every room).
    pub moderates: Vec<String>,
    /// What this person did that a fragment shows differently: `q5` (supported
    /// question 5), `p7` (voted for pin 7). Pages put them into `data-mine`.
    pub mine: HashSet<String>,
    pub now: Timestamp,
}

impl Viewer {
    /// A visitor: no part, nothing done, and account 0, which is nobody's (the gates of
    /// a deleted author's impulse name it).
    pub fn visitor() -> Self {
        Self {
            id: AccountId::new(0),
            organizer: false,
            staff: false,
            moderates: Vec::new(),
            mine: HashSet::new(),
            now: Timestamp::default(),
        }
    }

    /// Whether every condition of a `data-gate` rule holds for this person. The rule is
    /// a space-separated list of `organizer`, `staff`, `moderator:ROOM`,
    /// `account:ID,ID`, `not-account:ID,ID`, `mine:KEY`, `not-mine:KEY`, `until:RFC3339`
    /// (the same grammar as `allows` in `live.js`).
    pub fn allows(&self, rule: &str) -> bool {
        rule.split_whitespace().all(|condition| {
            let (name, arg) = condition.split_once(':').unwrap_or((condition, ""));
            let ids = || {
                arg.split(',')
                    .filter_map(|id| id.parse::<i64>().ok().map(AccountId::new))
            };
            match name {
                "organizer" => self.organizer,
                "staff" => self.staff,
                "moderator" => self.organizer || self.moderates.iter().any(|r| r == arg),
                "account" => ids().any(|id| id == self.id),
                "not-account" => !ids().any(|id| id == self.id),
                "mine" => self.mine.contains(arg),
                "not-mine" => !self.mine.contains(arg),
                "until" => arg.parse::<Timestamp>().is_ok_and(|until| self.now < until),
                _ => false,
            }
        })
    }
}

/// What a fragment is rendered with: the event, the language, and either the viewer
/// (a page) or nobody in particular (a live frame, shared by every connection).
#[derive(Debug, Clone)]
pub struct Fx {
    pub t: Tr,
    pub slug: String,
    /// The page's CSRF token; empty in a live frame (`live.js` fills in the page's).
    pub csrf: String,
    /// Where a form's plain post returns to; empty in a live frame (`live.js` fills in
    /// the page's own address).
    pub back: String,
    pub viewer: Option<Viewer>,
}

impl Fx {
    /// For a page rendered for `viewer`.
    pub fn page(
        lang: Lang,
        slug: &str,
        csrf: &str,
        back: impl Into<String>,
        viewer: Viewer,
    ) -> Self {
        Self {
            t: Tr::new(lang),
            slug: slug.to_owned(),
            csrf: csrf.to_owned(),
            back: back.into(),
            viewer: Some(viewer),
        }
    }

    /// For a page of `slug` at `back`, rendered for the signed-in `viewer`.
    pub fn for_page(
        ctx: &crate::ctx::Ctx,
        slug: &str,
        back: impl Into<String>,
        viewer: Viewer,
    ) -> Self {
        Self::page(ctx.lang, slug, &ctx.csrf, back, viewer)
    }

    /// For a live frame: the same for everybody who reads this language.
    pub fn live(lang: Lang, slug: &str) -> Self {
        Self {
            t: Tr::new(lang),
            slug: slug.to_owned(),
            csrf: String::new(),
            back: String::new(),
            viewer: None,
        }
    }

    /// The attributes of an element only some people see: ` data-gate="RULE"`, and
    /// ` hidden` unless the viewer passes the rule (always in a live frame, where
    /// `live.js` decides).
    pub fn gate(&self, rule: &str) -> String {
        let shown = self.viewer.as_ref().is_some_and(|v| v.allows(rule));
        format!(
            " data-gate=\"{}\"{}",
            askama::filters::escape(rule, askama::filters::Html)
                .map(|e| e.to_string())
                .unwrap_or_default(),
            if shown { "" } else { " hidden" }
        )
    }
}

/// Renders a fragment template; a template that fails to render (it cannot, short of a
/// bug) leaves the region as it was rather than breaking the frame.
pub fn html(template: &impl askama::Template) -> String {
    template.render().unwrap_or_else(|e| {
        tracing::error!(error = %e, "live: a fragment failed to render");
        String::new()
    })
}

/// A `data-sort` key that orders numbers ascending as strings.
pub fn sort_key(n: i64) -> String {
    format!("{:020}", n.max(0))
}

/// The time of a line as people read it: the clock time, with the full date for
/// screen readers and tooltips (`datetime`, `title`).
pub struct At {
    pub iso: String,
    pub clock: String,
    pub full: String,
}

impl At {
    pub fn of(micros: i64) -> Self {
        let ts = konvent_store::timestamp(micros);
        Self {
            iso: ts.to_string(),
            clock: ts
                .in_tz("Europe/Berlin")
                .map(|z| z.strftime("%H:%M").to_string())
                .unwrap_or_else(|_| ts.to_string()),
            full: crate::layout::datetime_de(micros),
        }
    }
}

/// The page changes an entry brings, rendered once for everybody who reads `fx`'s
/// language. Entries that change no region bring none.
pub fn ops(record: &LiveRecord, fx: &Fx) -> Vec<DomOp> {
    match record.kind.as_str() {
        "chat" | "announcement" | "dm" | "chat_lock" => chat::ops(record, fx),
        "hand" | "floor" => floor::ops(record, fx),
        "agenda" | "timer" | "feedback_open" => lobby::ops(record, fx),
        "impulse" | "summary" | "seat" | "round" => cafe::ops(record, fx),
        "question" => questions::ops(record, fx),
        "pin" => pins::ops(record, fx),
        "removed" => removed(record),
        _ => Vec::new(),
    }
}

/// An item the organizers removed (K17): its element goes wherever a page shows it.
fn removed(record: &LiveRecord) -> Vec<DomOp> {
    let item = record.data["item"].as_str().unwrap_or_default();
    let Some(id) = record.data["id"].as_i64() else {
        return Vec::new();
    };
    match item {
        "chat" | "pin" | "question" => vec![DomOp::Remove {
            id: format!("{item}-{id}"),
        }],
        // An impulse also leaves the moderation's merge form.
        "impulse" => ["impulse", "merge-from", "merge-into"]
            .into_iter()
            .map(|list| DomOp::Remove {
                id: format!("{list}-{id}"),
            })
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn viewer() -> Viewer {
        Viewer {
            id: AccountId::new(5),
            moderates: vec!["plenum".into()],
            mine: ["q3".to_owned()].into(),
            now: "2026-12-03T10:00:00Z".parse().expect("a time"),
            ..Viewer::visitor()
        }
    }

    #[test]
    fn a_gate_holds_when_all_its_conditions_hold() {
        let v = viewer();
        assert!(v.allows("account:4,5"));
        assert!(!v.allows("not-account:5"));
        assert!(v.allows("moderator:plenum"));
        assert!(!v.allows("moderator:lounge"));
        assert!(!v.allows("organizer"));
        assert!(v.allows("mine:q3 not-mine:q4"));
        assert!(v.allows("account:5 until:2026-12-03T10:15:00Z"));
        assert!(!v.allows("account:5 until:2026-12-03T09:59:00Z"));
        assert!(!v.allows("nonsense"));
    }

    #[test]
    fn a_live_fragment_hides_every_gated_part_and_a_page_decides() {
        let live = Fx::live(Lang::De, "k");
        assert_eq!(live.gate("organizer"), " data-gate=\"organizer\" hidden");
        let page = Fx::page(Lang::De, "k", "t", "/x", viewer());
        assert_eq!(page.gate("account:5"), " data-gate=\"account:5\"");
        assert_eq!(page.gate("organizer"), " data-gate=\"organizer\" hidden");
    }
}
