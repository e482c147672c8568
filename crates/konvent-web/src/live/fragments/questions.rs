//! Podium questions (K13): one question as the questions page shows it, with
//! "Unterstützen" (or "Sie unterstützen diese Frage" for who did), its status (the asker
//! of a pending one reads "wartet auf Freigabe") and the organizers' controls.

use askama::Template;
use konvent_core::ids::QuestionId;
use konvent_store::{LiveRecord, Question};
use serde_json::Value;

use super::{DomOp, Fx, html, sort_key};

/// The list the questions page shows its questions in.
pub const LIST: &str = "questions";

/// What a question's fragment shows: from the store for a page, from the entry's data
/// for a live frame.
pub struct QuestionData<'a> {
    pub id: QuestionId,
    pub text: &'a str,
    /// `None` when the asker stays anonymous.
    pub asker: Option<&'a str>,
    pub status: &'a str,
    pub votes: i64,
}

impl<'a> QuestionData<'a> {
    pub fn of(q: &'a Question) -> Self {
        Self {
            id: q.id,
            text: &q.text,
            asker: q.asker.as_ref().map(|a| a.name.as_str()),
            status: q.status.as_str(),
            votes: q.votes,
        }
    }

    fn from_entry(data: &'a Value) -> Option<Self> {
        Some(Self {
            id: QuestionId::new(data["id"].as_i64()?),
            text: data["text"].as_str()?,
            asker: data["asker"]["name"].as_str(),
            status: data["status"].as_str()?,
            votes: data["votes"].as_i64().unwrap_or(0),
        })
    }
}

/// The `mine` key of a question the viewer supports.
pub fn mine_key(id: QuestionId) -> String {
    format!("q{id}")
}

/// Most support first, then the order they were asked in (as the store lists them).
fn sort(votes: i64, id: QuestionId) -> String {
    format!("{}-{}", sort_key(i64::MAX / 2 - votes), sort_key(id.get()))
}

#[derive(Template)]
#[template(path = "konvent/fragments/question.html")]
struct QuestionItem<'a> {
    fx: &'a Fx,
    q: QuestionData<'a>,
    sort: String,
    asker: String,
    status: String,
    votes: String,
    key: String,
    mine: String,
    not_mine: String,
    /// Approved: open for support.
    open: bool,
    /// The organizers' other choices: (status, label).
    moderation: Vec<(&'static str, String)>,
}

pub fn question(q: QuestionData<'_>, fx: &Fx) -> String {
    let key = mine_key(q.id);
    let moderation = [
        ("approved", "questions-approve"),
        ("answered", "questions-answered"),
        ("rejected", "questions-reject"),
    ]
    .into_iter()
    .filter(|(status, _)| *status != q.status)
    .map(|(status, label)| (status, fx.t.get(label)))
    .collect();
    html(&QuestionItem {
        sort: sort(q.votes, q.id),
        asker: q
            .asker
            .map(str::to_owned)
            .unwrap_or_else(|| fx.t.get("question-anonymous")),
        status: fx.t.get(&format!("question-status-{}", q.status)),
        votes: fx.t.count("questions-votes", q.votes),
        mine: format!("mine:{key}"),
        not_mine: format!("not-mine:{key}"),
        key,
        open: q.status == "approved",
        moderation,
        fx,
        q,
    })
}

/// A question entry: the question in its place by support (taken out and put back, so
/// that a vote moves it where a reload shows it); a tombstone removes it.
pub fn ops(record: &LiveRecord, fx: &Fx) -> Vec<DomOp> {
    let Some(id) = record.data["id"].as_i64() else {
        return Vec::new();
    };
    let remove = DomOp::Remove {
        id: format!("question-{id}"),
    };
    if record.data["redacted"].as_bool() == Some(true) {
        return vec![remove];
    }
    match QuestionData::from_entry(&record.data) {
        Some(q) => vec![
            remove,
            DomOp::Upsert {
                into: LIST,
                html: question(q, fx),
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

    fn entry(status: &str, votes: i64) -> LiveRecord {
        LiveRecord {
            event_id: EventId::new(1),
            seq: 9,
            kind: "question".into(),
            room: None,
            audience: Audience::Staff,
            sender_id: Some(AccountId::new(4)),
            recipient_id: Some(AccountId::new(4)),
            data: json!({ "id": 5, "text": "Wann?", "asker": null, "status": status, "votes": votes }),
            at: 0,
        }
    }

    fn upsert(ops: &[DomOp]) -> &str {
        assert_eq!(
            ops[0],
            DomOp::Remove {
                id: "question-5".into()
            },
            "taken out to be put back in its place"
        );
        match &ops[1] {
            DomOp::Upsert { into, html } => {
                assert_eq!(*into, "questions");
                html
            }
            other => panic!("an upsert, not {other:?}"),
        }
    }

    #[test]
    fn a_pending_question_arrives_with_its_status_and_no_support_button() {
        let ops = ops(&entry("pending", 0), &Fx::live(Lang::De, "k"));
        let html = upsert(&ops);
        assert!(html.contains("wartet auf Freigabe"), "{html}");
        assert!(!html.contains("name=\"t\" value=\"upvote\""));
        assert!(html.contains("anonym"));
    }

    #[test]
    fn an_approved_question_arrives_with_every_personal_part_gated() {
        let ops = ops(&entry("approved", 1), &Fx::live(Lang::De, "k"));
        let html = upsert(&ops);
        assert!(html.contains("1 Stimme<"), "{html}");
        assert!(html.contains(r#"data-mark="q5" data-gate="not-mine:q5" hidden"#));
        assert!(html.contains(r#"data-gate="mine:q5" hidden"#));
        assert!(html.contains(r#"data-gate="organizer" hidden"#));
        assert!(!html.contains(r#"value="approved""#), "no approving twice");
    }

    #[test]
    fn a_page_shows_whoever_supported_the_question_that_they_did() {
        let fx = Fx::page(
            Lang::De,
            "k",
            "t",
            "/konvent/k/fragen",
            Viewer {
                mine: [mine_key(QuestionId::new(5))].into(),
                ..Viewer::visitor()
            },
        );
        let data = entry("approved", 3).data;
        let html = question(QuestionData::from_entry(&data).expect("data"), &fx);
        assert!(
            html.contains(r#"<p class="supported" data-gate="mine:q5">"#),
            "{html}"
        );
        assert!(html.contains(r#"data-gate="not-mine:q5" hidden"#));
    }

    #[test]
    fn more_support_sorts_first_and_ties_keep_the_order_asked() {
        let q = QuestionId::new;
        assert!(sort(3, q(9)) < sort(2, q(1)));
        assert!(sort(2, q(1)) < sort(2, q(10)));
    }
}
