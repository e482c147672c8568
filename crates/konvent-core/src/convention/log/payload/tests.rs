//! Each payload serializes to exactly the JSON its kind has always had (the wire
//! format and the stored rows), and reads back from it.

use jiff::Timestamp;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::*;
use crate::convention::AgendaKind;

fn at(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}

fn ada() -> Who {
    Who::new(AccountId::new(7), "Ada")
}

fn line() -> Line {
    Line {
        id: 12,
        from: ada(),
        text: "Hallo *alle*".into(),
        html: "Hallo <em>alle</em>".into(),
    }
}

/// `payload` is stored as `expected` (keys and all, byte for byte) and reads back as
/// itself.
fn same<P>(payload: P, expected: Value)
where
    P: Payload + DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let data = payload.data().expect("serializes");
    assert_eq!(data, expected, "{}", P::KIND);
    assert_eq!(data.to_string(), expected.to_string(), "{}", P::KIND);
    let back: P = serde_json::from_value(data).expect("reads back");
    assert_eq!(back, payload, "{}", P::KIND);
}

fn table() -> CafeTable {
    CafeTable {
        id: TableId::new(3),
        topic: "Mobilität".into(),
        question: "Wie kommen wir hin?".into(),
        moderator: None,
        capacity: 25,
        people: vec![ada()],
        status: "running".into(),
    }
}

fn table_json() -> Value {
    json!({
        "id": 3,
        "topic": "Mobilität",
        "question": "Wie kommen wir hin?",
        "moderator": null,
        "capacity": 25,
        "people": [{ "id": 7, "name": "Ada" }],
        "status": "running",
    })
}

#[test]
fn written_lines_keep_their_shape() {
    let lines = json!({
        "id": 12,
        "from": { "id": 7, "name": "Ada" },
        "text": "Hallo *alle*",
        "html": "Hallo <em>alle</em>",
    });
    same(Chat(line()), lines.clone());
    same(Announcement(line()), lines);
    same(
        Dm::new(line(), Some(Who::new(AccountId::new(9), "Bea"))),
        json!({
            "id": 12,
            "from": { "id": 7, "name": "Ada" },
            "to": { "id": 9, "name": "Bea" },
            "text": "Hallo *alle*",
            "html": "Hallo <em>alle</em>",
        }),
    );
    same(
        Dm::new(line(), None),
        json!({
            "id": 12,
            "from": { "id": 7, "name": "Ada" },
            "to_helpdesk": true,
            "text": "Hallo *alle*",
            "html": "Hallo <em>alle</em>",
        }),
    );
}

#[test]
fn the_floor_keeps_its_shape() {
    same(
        Hand {
            user: ada(),
            up: true,
            queue: vec![ada()],
        },
        json!({ "user": { "id": 7, "name": "Ada" }, "up": true, "queue": [{ "id": 7, "name": "Ada" }] }),
    );
    same(
        Floor {
            speaker: None,
            queue: Vec::new(),
        },
        json!({ "speaker": null, "queue": [] }),
    );
}

#[test]
fn agenda_timer_and_questions_keep_their_shape() {
    let entry = AgendaEntry {
        kind: AgendaKind::Pitch,
        title: "Pitches".into(),
        starts_at: at("2025-06-14T11:00:00Z"),
        ends_at: at("2025-06-14T11:30:00Z"),
    };
    let entry_json = json!({
        "kind": "pitch",
        "title": "Pitches",
        "starts_at": "2025-06-14T11:00:00Z",
        "ends_at": "2025-06-14T11:30:00Z",
    });
    same(
        Agenda {
            current: Some(0),
            item: Some(entry.clone()),
            agenda: vec![entry],
        },
        json!({ "current": 0, "item": entry_json, "agenda": [entry_json] }),
    );
    same(
        Timer {
            running: true,
            seconds: 180,
            ends_at: Some(at("2025-06-14T11:03:00.5Z")),
            label: "Pitch 1".into(),
        },
        json!({
            "running": true,
            "seconds": 180,
            "ends_at": "2025-06-14T11:03:00.5Z",
            "label": "Pitch 1",
        }),
    );
    same(
        Question {
            id: QuestionId::new(4),
            text: "Warum?".into(),
            asker: None,
            status: QuestionStatus::Pending,
            votes: 0,
        },
        json!({ "id": 4, "text": "Warum?", "asker": null, "status": "pending", "votes": 0 }),
    );
    same(FeedbackOpen { open: true }, json!({ "open": true }));
}

#[test]
fn the_cafe_keeps_its_shape() {
    same(
        Round {
            round: 1,
            status: "running".into(),
            ends_at: Some(at("2025-06-14T12:00:00Z")),
            rounds: vec![CafeRound {
                id: RoundId::new(2),
                number: 1,
                status: "running".into(),
                ends_at: None,
                tables: vec![table()],
            }],
        },
        json!({
            "round": 1,
            "status": "running",
            "ends_at": "2025-06-14T12:00:00Z",
            "rounds": [{
                "id": 2,
                "number": 1,
                "status": "running",
                "ends_at": null,
                "tables": [table_json()],
            }],
        }),
    );
    let mut seated = table_json();
    seated["table"] = json!(3);
    seated["seated"] = json!(1);
    same(
        Seat {
            account: AccountId::new(7),
            table: TableId::new(3),
            tables: vec![table().into()],
        },
        json!({ "account": 7, "table": 3, "tables": [seated] }),
    );
    same(
        Impulse {
            id: ImpulseId::new(5),
            table: TableId::new(3),
            round: 1,
            author: Author {
                id: Some(7),
                name: "Ada".into(),
            },
            text: "Radwege".into(),
            hidden: false,
            merged_into: None,
            edited: false,
            created_at: at("2025-06-14T11:40:00Z"),
            action: ImpulseAction::Added,
        },
        json!({
            "id": 5,
            "table": 3,
            "round": 1,
            "author": { "id": 7, "name": "Ada" },
            "text": "Radwege",
            "hidden": false,
            "merged_into": null,
            "edited": false,
            "created_at": "2025-06-14T11:40:00Z",
            "action": "added",
        }),
    );
    same(
        Summary {
            table: TableId::new(3),
            round: 1,
            text: "Mehr Radwege".into(),
            by: "Ada".into(),
        },
        json!({ "table": 3, "round": 1, "text": "Mehr Radwege", "by": "Ada" }),
    );
    same(
        Pin {
            id: PinId::new(8),
            topic: Some("Mobilität".into()),
            author: "Ada".into(),
            text: "Bus".into(),
            status: "open".into(),
            outcome: String::new(),
            outcome_url: None,
            votes: 2,
            action: PinAction::Voted,
        },
        json!({
            "id": 8,
            "topic": "Mobilität",
            "author": "Ada",
            "text": "Bus",
            "status": "open",
            "outcome": "",
            "outcome_url": null,
            "votes": 2,
            "action": "voted",
        }),
    );
}

#[test]
fn moderation_keeps_its_shape() {
    same(
        Removed {
            item: "chat".into(),
            id: 12,
        },
        json!({ "item": "chat", "id": 12 }),
    );
    same(ChatLock { locked: true }, json!({ "locked": true }));
    same(
        Report {
            report: 1,
            item: "impulse".into(),
            id: 5,
        },
        json!({ "report": 1, "item": "impulse", "id": 5 }),
    );
    let user = json!({ "id": 7, "name": "Ada" });
    same(
        Moderation::Mute {
            user: ada(),
            until: None,
            reason: "Ton".into(),
        },
        json!({ "action": "mute", "user": user, "until": null, "reason": "Ton" }),
    );
    same(
        Moderation::Mute {
            user: ada(),
            until: Some(at("2025-06-14T12:00:00Z")),
            reason: String::new(),
        },
        json!({ "action": "mute", "user": user, "until": "2025-06-14T12:00:00Z", "reason": "" }),
    );
    same(
        Moderation::Unmute { user: ada() },
        json!({ "action": "unmute", "user": user }),
    );
    same(
        Moderation::Expel {
            user: ada(),
            reason: "Spam".into(),
        },
        json!({ "action": "expel", "user": user, "reason": "Spam" }),
    );
    same(
        Moderation::Readmit { user: ada() },
        json!({ "action": "readmit", "user": user }),
    );
    same(
        Moderation::Dismiss {
            item: "chat".into(),
            id: 12,
        },
        json!({ "action": "dismiss", "item": "chat", "id": 12 }),
    );
    same(
        VenueMap {
            source: None,
            by: "Kommandozeile".into(),
        },
        json!({ "source": null, "by": "Kommandozeile" }),
    );
}

#[test]
fn a_hidden_impulse_is_committed_as_its_tombstone() {
    let impulse = Impulse {
        id: ImpulseId::new(5),
        table: TableId::new(3),
        round: 1,
        author: Author {
            id: Some(7),
            name: "Ada".into(),
        },
        text: "Radwege".into(),
        hidden: true,
        merged_into: None,
        edited: false,
        created_at: at("2025-06-14T11:40:00Z"),
        action: ImpulseAction::Moderated,
    };
    let data = Tombstone(impulse).data().expect("serializes");
    assert_eq!(Tombstone::<Impulse>::KIND, "impulse");
    assert_eq!(
        data,
        json!({
            "id": 5,
            "table": 3,
            "round": 1,
            "author": { "id": 7, "name": "Ada" },
            "action": "moderated",
            "hidden": true,
            "redacted": true,
        })
    );
}

#[test]
fn every_kind_is_the_protocols() {
    let protocol = include_str!("../../../../../../docs/live-protocol.md");
    for kind in KINDS {
        assert!(
            protocol.contains(&format!("| `{kind}` |")),
            "{kind} is missing from docs/live-protocol.md's kinds"
        );
    }
}
