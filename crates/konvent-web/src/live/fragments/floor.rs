//! The floor of a room: who speaks, and the queue of raised hands.

use askama::Template;
use konvent_core::ids::AccountId;
use konvent_store::LiveRecord;

use super::{DomOp, Fx, html};

/// A person as a live entry names them.
pub struct Person {
    pub id: AccountId,
    pub name: String,
}

impl Person {
    fn of(value: &serde_json::Value) -> Option<Self> {
        Some(Self {
            id: AccountId::new(value["id"].as_i64()?),
            name: value["name"].as_str().unwrap_or_default().to_owned(),
        })
    }
}

#[derive(Template)]
#[template(path = "konvent/fragments/speaker.html")]
struct Speaker<'a> {
    fx: &'a Fx,
    room: &'a str,
    speaker: Option<&'a Person>,
}

/// "Es spricht: …" of a room.
pub fn speaker(room: &str, speaker: Option<&Person>, fx: &Fx) -> String {
    html(&Speaker { fx, room, speaker })
}

#[derive(Template)]
#[template(path = "konvent/fragments/queue.html")]
struct Queue<'a> {
    fx: &'a Fx,
    room: &'a str,
    queue: &'a [Person],
    give_gate: String,
    /// The people waiting see "Hand senken" instead of "Hand heben".
    raise_gate: String,
    lower_gate: String,
}

/// A room's queue of raised hands with "Wort erteilen" for its moderators, and the
/// person's own "Hand heben" or "Hand senken".
pub fn queue(room: &str, queue: &[Person], fx: &Fx) -> String {
    let waiting = queue
        .iter()
        .map(|p| p.id.to_string())
        .collect::<Vec<_>>()
        .join(",");
    html(&Queue {
        fx,
        room,
        queue,
        give_gate: format!("moderator:{room}"),
        raise_gate: format!("not-account:{waiting}"),
        lower_gate: format!("account:{waiting}"),
    })
}

pub fn ops(record: &LiveRecord, fx: &Fx) -> Vec<DomOp> {
    let Some(room) = record.room.as_deref() else {
        return Vec::new();
    };
    let waiting: Vec<Person> = record.data["queue"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Person::of)
        .collect();
    let mut ops = vec![DomOp::Replace {
        id: "queue-box".into(),
        html: queue(room, &waiting, fx),
    }];
    if record.kind == "floor" {
        let now = Person::of(&record.data["speaker"]);
        ops.push(DomOp::Replace {
            id: "speaker-box".into(),
            html: speaker(room, now.as_ref(), fx),
        });
    }
    ops
}
