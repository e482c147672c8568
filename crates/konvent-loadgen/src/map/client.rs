//! One benchmark client: its socket, the task that reads its frames (counting them and
//! matching the movers' positions against their steps) and writes its steps.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use anyhow::{Context, Result};
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use super::positions::{Match, pos_entries};
use super::{Client, ClientState, SHARDS, Shared};
use crate::clients::{contains, needle, number_after};

needle!(T_POS, br#""t":"pos""#);
needle!(RESET, br#""reset":true"#);
needle!(T_YOU, br#""t":"you""#);
needle!(T_AREAS, br#""t":"areas""#);
needle!(T_ERROR, br#""t":"error""#);
needle!(AVATAR, br#""avatar":"#);
needle!(KEY_X, br#""x":"#);
needle!(KEY_Y, br#""y":"#);
needle!(BLOCKED, br#""code":"blocked""#);
needle!(TOO_FAR, br#""code":"too_far""#);

pub(super) fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds")
}

type Ws = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

pub(super) async fn dial(url: &str, token: &str) -> Result<Ws> {
    let mut req = url.into_client_request()?;
    req.headers_mut()
        .insert("cookie", format!("konvent_session={token}").parse()?);
    let addr = req
        .uri()
        .authority()
        .context("no host in the URL")?
        .as_str()
        .parse()?;
    let stream = tokio::net::TcpStream::connect::<std::net::SocketAddr>(addr).await?;
    stream.set_nodelay(true)?;
    let config = WebSocketConfig::default()
        .read_buffer_size(2048)
        .write_buffer_size(0);
    let (ws, _) = tokio_tungstenite::client_async_with_config(req, stream, Some(config))
        .await
        .context("WebSocket handshake")?;
    Ok(ws)
}

pub(super) fn spawn(i: usize, mut ws: Ws, shared: Arc<Shared>, at: (u16, u16)) -> Client {
    let (out, mut out_rx) = mpsc::unbounded_channel::<String>();
    let state = Arc::new(ClientState::default());
    let st = state.clone();
    let task = tokio::spawn(async move {
        let enter = format!(r#"{{"t":"enter_map","at":[{},{}]}}"#, at.0, at.1);
        if ws.send(Message::Text(enter.into())).await.is_err() {
            st.closed.store(true, Ordering::Relaxed);
            shared.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let mut second = u64::MAX;
        let mut in_second = 0u32;
        loop {
            tokio::select! {
                out = out_rx.recv() => match out {
                    Some(text) => {
                        if ws.send(Message::Text(text.into())).await.is_err() {
                            break;
                        }
                    }
                    None => break,
                },
                msg = ws.next() => match msg {
                    Some(Ok(Message::Text(t))) => {
                        let b = t.as_bytes();
                        st.frames.fetch_add(1, Ordering::Relaxed);
                        st.bytes.fetch_add(b.len() as u64, Ordering::Relaxed);
                        if contains(b, &T_POS) {
                            st.pos_frames.fetch_add(1, Ordering::Relaxed);
                            let now = shared.now_ns();
                            let s = now / 1_000_000_000;
                            if s != second {
                                second = s;
                                in_second = 0;
                            }
                            in_second += 1;
                            st.busiest.fetch_max(in_second, Ordering::Relaxed);
                            if shared.recording.load(Ordering::Relaxed) {
                                record(&shared, b, now, i);
                            }
                        } else if contains(b, &T_AREAS) {
                            st.areas.fetch_add(1, Ordering::Relaxed);
                        } else if contains(b, &T_YOU) {
                            let x = number_after(b, &KEY_X).unwrap_or(0) as u32;
                            let y = number_after(b, &KEY_Y).unwrap_or(0) as u32;
                            let packed = (x & 0x7FFF) << 16 | (y & 0xFFFF);
                            if st.entered.swap(true, Ordering::Relaxed) {
                                st.fix.store(1 << 31 | packed, Ordering::Relaxed);
                            } else {
                                st.avatar.store(number_after(b, &AVATAR).unwrap_or(0), Ordering::Relaxed);
                                st.pos.store(packed, Ordering::Relaxed);
                                shared.entered.fetch_add(1, Ordering::Relaxed);
                                shared.last_enter_ns.fetch_max(shared.now_ns(), Ordering::Relaxed);
                            }
                        } else if contains(b, &T_ERROR) {
                            if contains(b, &BLOCKED) {
                                shared.blocked.fetch_add(1, Ordering::Relaxed);
                            } else if contains(b, &TOO_FAR) {
                                shared.too_far.fetch_add(1, Ordering::Relaxed);
                            }
                            if shared.errors.fetch_add(1, Ordering::Relaxed) < 5 {
                                eprintln!("   error frame: {}", t.as_str());
                            }
                        }
                    }
                    Some(Ok(Message::Close(frame))) => {
                        if shared.dropped.load(Ordering::Relaxed) < 5 {
                            eprintln!("   client {i} closed by the server: {frame:?}");
                        }
                        break;
                    }
                    None | Some(Err(_)) => break,
                    Some(Ok(_)) => {}
                },
            }
        }
        st.closed.store(true, Ordering::Relaxed);
        shared.dropped.fetch_add(1, Ordering::Relaxed);
    });
    Client { out, state, task }
}

/// The staleness of every mover entry in a `pos` frame read at `now` (ns since base).
fn record(shared: &Shared, frame: &[u8], now: u64, i: usize) {
    let Some(ids) = shared.ids.get() else {
        return;
    };
    // A new view lists everybody where they stand, however long ago they stepped
    // there: not news, so not timed.
    if contains(frame, &RESET) {
        let mut movers = 0;
        pos_entries(frame, |id, _, _| {
            if ids.get(id).is_some() {
                movers += 1;
            }
        });
        shared.in_reset.fetch_add(movers, Ordering::Relaxed);
        return;
    }
    let now_us = now / 1000;
    let (mut matched, mut unmatched, mut start) = (0, 0, 0);
    let Ok(mut h) = shared.hist[i % SHARDS].lock() else {
        return;
    };
    let parsed = pos_entries(frame, |id, x, y| {
        let Some(slot) = ids.get(id) else { return };
        match shared.rings[slot as usize].find(x, y) {
            Match::Step(t) => {
                matched += 1;
                h.saturating_record(now_us.saturating_sub(t).max(1));
            }
            Match::Start => start += 1,
            Match::Unknown => unmatched += 1,
        }
    });
    drop(h);
    if parsed.is_none() {
        shared.malformed.fetch_add(1, Ordering::Relaxed);
    }
    shared.matched.fetch_add(matched, Ordering::Relaxed);
    shared.unmatched.fetch_add(unmatched, Ordering::Relaxed);
    shared.at_start.fetch_add(start, Ordering::Relaxed);
}
