//! The frames as the clients see them: the message number, `ev` head and `ack` id read
//! without a JSON parser (substring search), konvent's chat message, and the baselines'
//! frames padded to the size of konvent's.

use std::sync::atomic::Ordering;

use super::Shared;
use crate::servers::Target;

/// The number in "lg 123" (after a quote: the text, not the rendered HTML).
pub(super) fn message_id(frame: &[u8]) -> Option<usize> {
    let at = LG.0.find(frame)? + 4;
    let mut id = 0usize;
    let mut digits = 0;
    for &b in &frame[at..] {
        if !b.is_ascii_digit() || digits > 18 {
            break;
        }
        id = id * 10 + usize::from(b - b'0');
        digits += 1;
    }
    (digits > 0).then_some(id)
}

/// The `seq` of a konvent `ev` frame, and whether it is a chat line: the frame starts
/// `{"t":"ev","seq":N,"kind":"…"` (docs/live-protocol.md), so its first bytes tell.
pub(crate) fn ev_head(frame: &[u8]) -> Option<(u64, bool)> {
    const HEAD: &[u8] = br#"{"t":"ev","seq":"#;
    const CHAT: &[u8] = br#","kind":"chat""#;
    let rest = frame.strip_prefix(HEAD)?;
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || digits > 18 {
        return None;
    }
    let seq = rest[..digits]
        .iter()
        .fold(0u64, |n, b| n * 10 + u64::from(b - b'0'));
    Some((seq, rest[digits..].starts_with(CHAT)))
}

/// The message number in the id of a konvent `ack` (`"id":"m123"`).
fn ack_id(frame: &[u8]) -> Option<usize> {
    number_after(frame, &ACK_ID).map(|id| id as usize)
}

/// The decimal number right after `key` (e.g. `"x":`).
pub(crate) fn number_after(frame: &[u8], key: &Needle) -> Option<u64> {
    let at = key.0.find(frame)? + key.0.needle().len();
    let mut value = 0u64;
    let mut digits = 0;
    for &b in frame.get(at..)? {
        if !b.is_ascii_digit() || digits > 18 {
            break;
        }
        value = value * 10 + u64::from(b - b'0');
        digits += 1;
    }
    (digits > 0).then_some(value)
}

/// A substring search built once.
pub(crate) struct Needle(pub(crate) std::sync::LazyLock<memchr::memmem::Finder<'static>>);

macro_rules! needle {
    ($name:ident, $bytes:expr) => {
        static $name: $crate::clients::Needle =
            $crate::clients::Needle(std::sync::LazyLock::new(|| {
                memchr::memmem::Finder::new($bytes)
            }));
    };
}
pub(crate) use needle;

needle!(LG, b"\"lg ");
needle!(ACK_ID, b"\"id\":\"m");
needle!(T_JOINED, br#""t":"joined""#);
needle!(T_ACK, br#""t":"ack""#);
needle!(T_ERROR, br#""t":"error""#);

pub(crate) fn contains(frame: &[u8], needle: &Needle) -> bool {
    needle.0.find(frame).is_some()
}

/// Reads one konvent message (a line of a frame): counts acks, errors and sequence
/// numbers out of order; true for a chat line's `ev`.
pub(super) fn konvent_message(line: &[u8], shared: &Shared, last_seq: &mut u64) -> bool {
    if let Some((seq, chat)) = ev_head(line) {
        if seq <= *last_seq {
            shared.out_of_order.fetch_add(1, Ordering::Relaxed);
        }
        *last_seq = seq;
        chat
    } else if contains(line, &T_JOINED) {
        // `joined` carries old `ev` frames as history.
        false
    } else if contains(line, &T_ACK) {
        shared.acks.fetch_add(1, Ordering::Relaxed);
        if let Some(id) = ack_id(line) {
            shared.acked(id);
        }
        false
    } else {
        if contains(line, &T_ERROR) && shared.errors.fetch_add(1, Ordering::Relaxed) < 5 {
            eprintln!("error frame: {}", String::from_utf8_lossy(line));
        }
        false
    }
}

/// The size of konvent's `ev` frame for a chat line of a load-test account, fragments
/// included (measured at 6104d3f: 1831–1842 bytes by the digits of the numbers). The
/// baselines' frames are padded to what konvent sent earlier in the same `compare`
/// run, or to this (`--frame-bytes`).
pub const KONVENT_FRAME_BYTES: usize = 1840;

/// For the tokio baseline, which broadcasts what it receives: a frame shaped like the
/// `ev` frame konvent sends for a chat line from a load-test account (same keys, same
/// order, same kind of values), its fragment padded so that the frame has `bytes`
/// bytes (or as many as the rest takes, if that is more).
pub fn ev_like(id: usize, bytes: usize) -> String {
    let head = format!(
        r#"{{"t":"ev","seq":{id},"kind":"chat","room":"lasttest","at":"2026-11-23T02:45:52.259363Z","data":{{"from":{{"id":{uid},"name":"Lasttest {uid}"}},"html":"<p>lg {id}</p>\n","id":{id},"text":"lg {id}"}},"dom":[{{"op":"append","target":"chat-list","html":""#,
        uid = 1000 + id % 9000,
    );
    let tail = r#""}]}"#;
    let pad = bytes.saturating_sub(head.len() + tail.len());
    format!("{head}{}{tail}", "x".repeat(pad))
}

/// What a client sends for message `id`; a baseline's frame has `bytes` bytes.
pub(super) fn frame_for(target: Target, id: usize, bytes: usize) -> String {
    match target {
        Target::Konvent => format!(r#"{{"t":"chat","id":"m{id}","text":"lg {id}"}}"#),
        Target::Tokio => ev_like(id, bytes),
        // A socket.io event whose text pads the packet to the same size.
        Target::SocketIo => {
            let head = format!("42[\"chat\",\"lg {id} ");
            let pad = bytes.saturating_sub(head.len() + 2);
            format!("{head}{}\"]", "x".repeat(pad))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_message_number_in_every_target_frame() {
        let konvent = r#"{"t":"ev","seq":77,"kind":"chat","room":"lasttest","at":"2026-11-23T02:45:52.259363Z","data":{"from":{"id":5,"name":"Lasttest 5"},"html":"<p>lg 123</p>\n","id":1,"text":"lg 123"}}"#;
        assert_eq!(message_id(konvent.as_bytes()), Some(123));
        assert_eq!(ev_head(konvent.as_bytes()), Some((77, true)));
        assert_eq!(
            ev_head(br#"{"t":"ev","seq":78,"kind":"hand","room":"lasttest"}"#),
            Some((78, false))
        );
        assert_eq!(ev_head(br#"{"t":"joined","seq":1}"#), None);
        assert_eq!(ack_id(br#"{"t":"ack","id":"m42","seq":9}"#), Some(42));
        assert_eq!(message_id(ev_like(42, 1840).as_bytes()), Some(42));
        assert_eq!(
            message_id(frame_for(Target::SocketIo, 9, 1840).as_bytes()),
            Some(9)
        );
        assert_eq!(message_id(b"{\"t\":\"presence\"}"), None);
    }

    #[test]
    fn baseline_frames_are_as_large_as_konvents() {
        for bytes in [400, KONVENT_FRAME_BYTES, 5000] {
            assert_eq!(ev_like(123, bytes).len(), bytes);
            assert_eq!(frame_for(Target::SocketIo, 123, bytes).len(), bytes);
            let frame: serde_json::Value =
                serde_json::from_str(&ev_like(123, bytes)).expect("JSON");
            assert_eq!(frame["seq"], 123);
        }
        // Never shorter than its own keys.
        assert!(ev_like(123, 10).len() > 10);
    }
}
