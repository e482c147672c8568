//! The tokio baseline: the least a WebSocket broadcast server has to do. Every text frame
//! a client sends goes to every connected client; the frame is shared, not copied; each
//! connection has a bounded queue and is closed when it falls behind (as konvent does),
//! and writes what is waiting in one flush. No database, no JSON, no rooms.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::Result;
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::Utf8Bytes;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::protocol::frame::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

const QUEUE: usize = 1024;
const BATCH: usize = 64;

type Peers = Arc<Mutex<HashMap<u64, mpsc::Sender<Utf8Bytes>>>>;

pub async fn serve(bind: &str, nodelay: bool) -> Result<()> {
    let listener = TcpListener::bind(bind).await?;
    let peers: Peers = Arc::default();
    let ids = AtomicU64::new(0);
    loop {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(nodelay)?;
        let id = ids.fetch_add(1, Ordering::Relaxed);
        let peers = peers.clone();
        tokio::spawn(async move {
            let config = WebSocketConfig::default()
                .read_buffer_size(2048)
                .write_buffer_size(16 * 1024)
                .max_message_size(Some(16 * 1024));
            let Ok(ws) = tokio_tungstenite::accept_async_with_config(stream, Some(config)).await
            else {
                return;
            };
            let (tx, mut rx) = mpsc::channel::<Utf8Bytes>(QUEUE);
            peers.lock().map(|mut p| p.insert(id, tx)).ok();
            let mut ws = ws;
            loop {
                tokio::select! {
                    out = rx.recv() => {
                        let Some(text) = out else {
                            // Dropped by the broadcaster: too slow.
                            let _ = ws.send(Message::Close(Some(CloseFrame {
                                code: CloseCode::Library(4008),
                                reason: "slow consumer".into(),
                            }))).await;
                            break;
                        };
                        if ws.feed(Message::Text(text)).await.is_err() { break; }
                        for _ in 1..BATCH {
                            match rx.try_recv() {
                                Ok(text) => if ws.feed(Message::Text(text)).await.is_err() { break },
                                Err(_) => break,
                            }
                        }
                        if ws.flush().await.is_err() { break; }
                    }
                    incoming = ws.next() => match incoming {
                        Some(Ok(Message::Text(text))) => {
                            if let Ok(mut p) = peers.lock() {
                                // Broadcast; a full queue drops the peer (it is closed).
                                p.retain(|_, peer| !matches!(
                                    peer.try_send(text.clone()),
                                    Err(mpsc::error::TrySendError::Full(_))
                                ));
                            }
                        }
                        Some(Ok(_)) => {}
                        _ => break,
                    }
                }
            }
            peers.lock().map(|mut p| p.remove(&id)).ok();
        });
    }
}
