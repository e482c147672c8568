//! The pinboard (K11): one pin as the pinboard shows it, with "Stimme geben" (or
//! "Stimme zurückziehen" for who voted), "Hier möchte ich anknüpfen", its status and
//! outcome, and the organizers' controls.

use askama::Template;
use konvent_core::ids::PinId;
use konvent_store::{LiveRecord, Pin};
use serde_json::Value;

use super::{DomOp, Fx, html, sort_key};

/// The list the pinboard shows its pins in.
pub const LIST: &str = "pins";

/// What a pin's fragment shows: from the store for a page, from the entry's data for a
/// live frame.
pub struct PinData<'a> {
    pub id: PinId,
    pub text: &'a str,
    pub author: &'a str,
    /// The focus topic's title.
    pub topic: Option<&'a str>,
    pub status: &'a str,
    pub outcome: &'a str,
    pub outcome_url: Option<&'a str>,
    pub votes: i64,
}

impl<'a> PinData<'a> {
    pub fn of(pin: &'a Pin) -> Self {
        Self {
            id: pin.id,
            text: &pin.text,
            author: &pin.author_name,
            topic: pin.topic.as_ref().map(|(_, title)| title.as_str()),
            status: pin.status.as_str(),
            outcome: &pin.outcome,
            outcome_url: pin.outcome_url.as_deref(),
            votes: pin.votes,
        }
    }

    fn from_entry(data: &'a Value) -> Option<Self> {
        Some(Self {
            id: PinId::new(data["id"].as_i64()?),
            text: data["text"].as_str()?,
            author: data["author"].as_str().unwrap_or_default(),
            topic: data["topic"].as_str(),
            status: data["status"].as_str()?,
            outcome: data["outcome"].as_str().unwrap_or_default(),
            outcome_url: data["outcome_url"].as_str(),
            votes: data["votes"].as_i64().unwrap_or(0),
        })
    }
}

/// The `mine` key of a pin the viewer voted for.
pub fn vote_key(id: PinId) -> String {
    format!("p{id}")
}

/// The `mine` key of a pin the viewer follows up on (a connection point, K16).
pub fn follow_key(id: PinId) -> String {
    format!("f{id}")
}

/// Most votes first, then the order they were pinned in (as the store lists them).
fn sort(votes: i64, id: PinId) -> String {
    format!("{}-{}", sort_key(i64::MAX / 2 - votes), sort_key(id.get()))
}

#[derive(Template)]
#[template(path = "konvent/fragments/pin.html")]
struct PinItem<'a> {
    fx: &'a Fx,
    p: PinData<'a>,
    sort: String,
    status: String,
    votes: String,
    vote: String,
    voted: String,
    not_voted: String,
    followed: String,
    not_followed: String,
}

pub fn pin(p: PinData<'_>, fx: &Fx) -> String {
    let vote = vote_key(p.id);
    let follow = follow_key(p.id);
    html(&PinItem {
        sort: sort(p.votes, p.id),
        status: fx.t.get(&format!("pin-status-{}", p.status)),
        votes: fx.t.count("pin-votes", p.votes),
        voted: format!("mine:{vote}"),
        not_voted: format!("not-mine:{vote}"),
        followed: format!("mine:{follow}"),
        not_followed: format!("not-mine:{follow}"),
        vote,
        fx,
        p,
    })
}

/// A pin entry: the pin in its place by votes (taken out and put back, so that a vote
/// moves it where a reload shows it); a tombstone removes it.
pub fn ops(record: &LiveRecord, fx: &Fx) -> Vec<DomOp> {
    let Some(id) = record.data["id"].as_i64() else {
        return Vec::new();
    };
    let remove = DomOp::Remove {
        id: format!("pin-{id}"),
    };
    if record.data["redacted"].as_bool() == Some(true) {
        return vec![remove];
    }
    match PinData::from_entry(&record.data) {
        Some(p) => vec![
            remove,
            DomOp::Upsert {
                into: LIST,
                html: pin(p, fx),
            },
        ],
        None => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;
    use crate::live::fragments::Viewer;
    use konvent_core::ids::AccountId;
    use konvent_core::ids::EventId;
    use konvent_store::Audience;
    use serde_json::json;

    fn entry() -> LiveRecord {
        LiveRecord {
            event_id: EventId::new(1),
            seq: 9,
            kind: "pin".into(),
            room: None,
            audience: Audience::All,
            sender_id: Some(AccountId::new(4)),
            recipient_id: None,
            data: json!({ "id": 7, "topic": "Datennutzung", "author": "Anna", "text": "Später",
                "status": "picked_up", "outcome": "In der Nachbesprechung", "outcome_url": null,
                "votes": 2, "action": "decided" }),
            at: 0,
        }
    }

    #[test]
    fn a_live_pin_carries_its_status_and_every_button_gated() {
        let ops = ops(&entry(), &Fx::live(Lang::De, "k"));
        assert_eq!(ops[0], DomOp::Remove { id: "pin-7".into() });
        let DomOp::Upsert { into, html } = &ops[1] else {
            panic!("an upsert");
        };
        assert_eq!(*into, "pins");
        assert!(html.contains("2 Stimmen</span> · <span class=\"pin-status\">aufgegriffen</span>: <span class=\"pin-outcome\">In der Nachbesprechung"), "{html}");
        for rule in [
            "not-mine:p7",
            "mine:p7",
            "not-mine:f7",
            "mine:f7",
            "organizer",
        ] {
            assert!(
                html.contains(&format!("data-gate=\"{rule}\" hidden")),
                "{rule}"
            );
        }
        assert!(html.contains("Stimme geben"));
        assert!(html.contains("Hier möchte ich anknüpfen"));
    }

    #[test]
    fn a_page_offers_who_voted_to_take_the_vote_back() {
        let fx = Fx::page(
            Lang::De,
            "k",
            "t",
            "/konvent/k/pinnwand",
            Viewer {
                mine: [vote_key(PinId::new(7))].into(),
                ..Viewer::visitor()
            },
        );
        let data = entry().data;
        let html = pin(PinData::from_entry(&data).expect("data"), &fx);
        assert!(
            html.contains(r#"data-unmark="p7" data-gate="mine:p7">"#),
            "{html}"
        );
        assert!(html.contains(r#"data-mark="p7" data-gate="not-mine:p7" hidden"#));
        assert!(
            html.contains(r#"data-gate="not-mine:f7">"#),
            "not followed yet"
        );
    }
}
