//! A committed live-log entry on its way to connections: who may see it, and its finished
//! `ev` frame in each language. The frames are rendered once, by the node that committed
//! the entry (or that read it back from the database), and shared by every connection of
//! every node; the hub never looks inside them.

use konvent_core::ids::{AccountId, EventId};
use std::sync::Arc;

use bytes::{BufMut, Bytes, BytesMut};

use crate::Text;
use konvent_core::convention::log::Audience;
use serde::{Deserialize, Serialize};

/// A committed entry with its frames.
#[derive(Debug, Clone)]
pub struct Entry {
    pub event_id: EventId,
    /// Assigned by the database in the writing transaction; the hub never assigns one.
    pub seq: i64,
    /// The room it concerns (`None`: the whole event).
    pub room: Option<Arc<str>>,
    pub audience: Audience,
    pub sender_id: Option<AccountId>,
    pub recipient_id: Option<AccountId>,
    /// The `ev` frame per language (indexed by the language's number, German first).
    pub frames: Box<[Text]>,
}

impl Entry {
    /// The frame in language `lang` (the first language's when there is none in it).
    pub fn frame(&self, lang: usize) -> &Text {
        self.frames
            .get(lang)
            .or_else(|| self.frames.first())
            .unwrap_or(&EMPTY)
    }

    /// Whether `account` (staff or not) may see this entry.
    pub fn visible_to(&self, account: AccountId, staff: bool) -> bool {
        self.audience
            .admits(account, staff, self.sender_id, self.recipient_id)
    }

    /// The entry as one bus message: a JSON header line, then the frames back to back
    /// (their lengths are in the header). Decoding slices the message without copying.
    pub fn encode(&self) -> Bytes {
        let header = Header {
            e: self.event_id,
            s: self.seq,
            r: self.room.as_deref(),
            a: self.audience.as_str(),
            f: self.sender_id,
            t: self.recipient_id,
            n: self.frames.iter().map(|f| f.len()).collect(),
        };
        let head = serde_json::to_vec(&header).unwrap_or_default();
        let mut out = BytesMut::with_capacity(
            head.len() + 1 + self.frames.iter().map(|f| f.len()).sum::<usize>(),
        );
        out.put_slice(&head);
        out.put_u8(b'\n');
        for frame in &self.frames {
            out.put_slice(frame.as_bytes());
        }
        out.freeze()
    }

    /// The entry of a bus message; `None` for anything that is not one (a message from
    /// another version, or damaged): the receiver then relies on the database.
    pub fn decode(message: &Bytes) -> Option<Self> {
        let split = message.iter().position(|b| *b == b'\n')?;
        let header: Header<'_> = serde_json::from_slice(&message[..split]).ok()?;
        let mut at = split + 1;
        let mut frames = Vec::with_capacity(header.n.len());
        for len in &header.n {
            let end = at.checked_add(*len)?;
            if end > message.len() {
                return None;
            }
            // Checked here, once per node, for every connection it goes to.
            frames.push(Text::try_from(message.slice(at..end)).ok()?);
            at = end;
        }
        Some(Self {
            event_id: header.e,
            seq: header.s,
            room: header.r.map(Arc::from),
            audience: Audience::parse(header.a).ok()?,
            sender_id: header.f,
            recipient_id: header.t,
            frames: frames.into(),
        })
    }
}

static EMPTY: Text = Text::from_static("");

/// The routing part of a bus message (short keys: it travels with every entry).
#[derive(Serialize, Deserialize)]
struct Header<'a> {
    e: EventId,
    s: i64,
    #[serde(borrow)]
    r: Option<&'a str>,
    a: &'a str,
    f: Option<AccountId>,
    t: Option<AccountId>,
    n: Vec<usize>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_survives_the_bus_and_a_damaged_message_is_no_entry() {
        let entry = Entry {
            event_id: EventId::new(3),
            seq: 42,
            room: Some(Arc::from("plenum")),
            audience: Audience::Staff,
            sender_id: Some(AccountId::new(7)),
            recipient_id: None,
            frames: vec![
                Text::from("{\"t\":\"ev\",\"seq\":42,\"x\":\"Grüße\\n\"}"),
                Text::from("{\"t\":\"ev\",\"seq\":42,\"x\":\"hi\"}"),
            ]
            .into(),
        };
        let message = entry.encode();
        let back = Entry::decode(&message).expect("decodes");
        assert_eq!(back.seq, 42);
        assert_eq!(back.room.as_deref(), Some("plenum"));
        assert_eq!(back.audience, Audience::Staff);
        assert_eq!(back.sender_id, Some(AccountId::new(7)));
        assert_eq!(back.frames, entry.frames);
        let cut = message.slice(..message.len() - 3);
        assert!(Entry::decode(&cut).is_none(), "a cut message is refused");
        assert!(Entry::decode(&Bytes::from("hello")).is_none());
    }
}
