//! Chat lines of a room, announcements, direct messages and the chat lock.

use askama::Template;
use konvent_store::LiveRecord;

use super::{At, DomOp, Fx, html, sort_key};

/// How long an announcement stands in the banner of every room page.
const BANNER_MINUTES: i64 = 10;

#[derive(Template)]
#[template(path = "konvent/fragments/chat_line.html")]
struct ChatLine<'a> {
    fx: &'a Fx,
    seq: i64,
    sort: String,
    at: At,
    from: &'a str,
    body: &'a str,
}

/// One line of a room's chat, with "Melden" for everybody and "Entfernen" for the
/// organizers.
pub fn chat_line(record: &LiveRecord, fx: &Fx) -> String {
    html(&ChatLine {
        fx,
        seq: record.seq,
        sort: sort_key(record.seq),
        at: At::of(record.at),
        from: record.data["from"]["name"].as_str().unwrap_or_default(),
        body: record.data["html"].as_str().unwrap_or_default(),
    })
}

#[derive(Template)]
#[template(path = "konvent/fragments/chat_log.html")]
struct ChatLog<'a> {
    room: &'a str,
    lines: Vec<String>,
}

/// A room's chat as a whole: its last lines, oldest first.
pub fn chat_log(room: &str, records: &[LiveRecord], fx: &Fx) -> String {
    html(&ChatLog {
        room,
        lines: records.iter().map(|r| chat_line(r, fx)).collect(),
    })
}

#[derive(Template)]
#[template(path = "konvent/fragments/chat_locked.html")]
struct ChatLocked<'a> {
    fx: &'a Fx,
    locked: bool,
}

/// The notice that a room's chat is locked (hidden while it is open).
pub fn chat_locked(locked: bool, fx: &Fx) -> String {
    html(&ChatLocked { fx, locked })
}

#[derive(Template)]
#[template(path = "konvent/fragments/announcement.html")]
struct Announcement<'a> {
    seq: i64,
    sort: String,
    at: At,
    from: &'a str,
    body: &'a str,
}

/// One announcement in the lobby's list (newest first).
pub fn announcement(record: &LiveRecord) -> String {
    html(&Announcement {
        seq: record.seq,
        sort: sort_key(i64::MAX / 2 - record.seq),
        at: At::of(record.at),
        from: record.data["from"]["name"].as_str().unwrap_or_default(),
        body: record.data["html"].as_str().unwrap_or_default(),
    })
}

#[derive(Template)]
#[template(path = "konvent/fragments/announcement_banner.html")]
struct Banner<'a> {
    fx: &'a Fx,
    /// The gate that keeps the banner up for [`BANNER_MINUTES`] after it was sent.
    gate: String,
    body: &'a str,
}

/// The banner over every room page with the newest announcement, for ten minutes; no
/// announcement: the banner's empty, hidden place.
pub fn announcement_banner(latest: Option<&LiveRecord>, fx: &Fx) -> String {
    let until = latest
        .map(|r| konvent_store::timestamp(r.at + BANNER_MINUTES * 60_000_000))
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    html(&Banner {
        fx,
        gate: format!("until:{until}"),
        body: latest
            .and_then(|r| r.data["text"].as_str())
            .unwrap_or_default(),
    })
}

#[derive(Template)]
#[template(path = "konvent/fragments/dm_line.html")]
struct DmLine<'a> {
    seq: i64,
    sort: String,
    at: At,
    from: &'a str,
    to: String,
    body: &'a str,
}

/// One direct message: sender → recipient (or the help desk).
pub fn dm_line(record: &LiveRecord, fx: &Fx) -> String {
    html(&DmLine {
        seq: record.seq,
        sort: sort_key(record.seq),
        at: At::of(record.at),
        from: record.data["from"]["name"].as_str().unwrap_or_default(),
        to: record.data["to"]["name"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| fx.t.get("dm-helpdesk")),
        body: record.data["html"].as_str().unwrap_or_default(),
    })
}

pub fn ops(record: &LiveRecord, fx: &Fx) -> Vec<DomOp> {
    if record.data["redacted"].as_bool() == Some(true) {
        return vec![DomOp::Remove {
            id: format!("{}-{}", record.kind, record.seq),
        }];
    }
    match record.kind.as_str() {
        "chat" => vec![DomOp::Upsert {
            into: "chat-log",
            html: chat_line(record, fx),
        }],
        "announcement" => vec![
            DomOp::Upsert {
                into: "announcements",
                html: announcement(record),
            },
            DomOp::Replace {
                id: "announcements-box".into(),
                html: announcement_banner(Some(record), fx),
            },
        ],
        "dm" => vec![DomOp::Upsert {
            into: "dm-log",
            html: dm_line(record, fx),
        }],
        "chat_lock" => vec![DomOp::Replace {
            id: "chat-locked".into(),
            html: chat_locked(record.data["locked"].as_bool() == Some(true), fx),
        }],
        _ => Vec::new(),
    }
}
