//! Connecting the crowd: dialing (many at once, spread over the nodes, the stall group
//! with a small receive buffer), each client's task that reads its frames and records
//! what arrived when, and reopening connections the server closed.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpSocket;
use tokio::sync::{Semaphore, mpsc};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use super::frames::{KONVENT_FRAME_BYTES, konvent_message, message_id};
use super::{
    CONNECTING, Client, ClientState, Crowd, Dial, MAX_MESSAGES, SHARDS, Shared, histogram, live_url,
};
use crate::servers::{Running, Target};

impl Dial {
    async fn connect(
        &self,
        i: usize,
    ) -> Result<tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>> {
        let url = &self.urls[i % self.urls.len()];
        let mut req = url.as_str().into_client_request()?;
        if let Some(token) = self.tokens.get(i) {
            req.headers_mut()
                .insert("cookie", format!("konvent_session={token}").parse()?);
        }
        let socket = TcpSocket::new_v4()?;
        if i >= self.n - self.stall_count
            && let Some(size) = self.stall_rcvbuf
        {
            socket.set_recv_buffer_size(size)?;
        }
        let addr = req
            .uri()
            .authority()
            .context("no host in the URL")?
            .as_str()
            .parse()?;
        let stream = socket.connect(addr).await?;
        stream.set_nodelay(true)?;
        let config = WebSocketConfig::default()
            .read_buffer_size(2048)
            .write_buffer_size(0);
        let (mut ws, _) = tokio_tungstenite::client_async_with_config(req, stream, Some(config))
            .await
            .context("WebSocket handshake")?;
        if self.target == Target::SocketIo {
            // Engine.IO's open packet, then socket.io's connect and its answer.
            let open = ws.next().await.context("no open packet")??;
            if !open.to_text().is_ok_and(|t| t.starts_with('0')) {
                bail!("expected an Engine.IO open packet, got {open:?}");
            }
            ws.send(Message::Text("40".into())).await?;
            loop {
                let m = ws.next().await.context("no socket.io connect answer")??;
                if m.to_text().is_ok_and(|t| t.starts_with("40")) {
                    break;
                }
            }
        }
        Ok(ws)
    }
}

impl Crowd {
    /// Connects `n` clients; the last `stall_count` of them with a receive buffer of
    /// `stall_rcvbuf` bytes (they are the ones that stall later).
    pub async fn connect(
        server: &Running,
        n: usize,
        stall_count: usize,
        stall_rcvbuf: Option<u32>,
        frame_bytes: usize,
    ) -> Result<Self> {
        Self::connect_first(server, n, n, stall_count, stall_rcvbuf, frame_bytes).await
    }

    /// A crowd of `n` clients of which only the first `first` connect now; the rest with
    /// [`Crowd::dial_more`].
    pub async fn connect_first(
        server: &Running,
        n: usize,
        first: usize,
        stall_count: usize,
        stall_rcvbuf: Option<u32>,
        frame_bytes: usize,
    ) -> Result<Self> {
        let url = match server.target {
            Target::Konvent => live_url(server.port),
            Target::Tokio => format!("ws://127.0.0.1:{}/", server.port),
            Target::SocketIo => format!(
                "ws://127.0.0.1:{}/socket.io/?EIO=4&transport=websocket",
                server.port
            ),
        };
        let dial = Dial {
            target: server.target,
            urls: vec![url],
            tokens: server.tokens.clone(),
            stall_count: stall_count.min(n.saturating_sub(1)),
            stall_rcvbuf,
            n,
            frame_bytes,
        };
        Self::connect_with(dial, first).await
    }

    /// Connects `n` clients to several konvent nodes on one database, client `i` to
    /// `ports[i % ports.len()]`, all in the load-test room.
    pub async fn connect_spread(ports: &[u16], tokens: &[String], n: usize) -> Result<Self> {
        if ports.is_empty() {
            bail!("no nodes to connect to");
        }
        let dial = Dial {
            target: Target::Konvent,
            urls: ports.iter().map(|&p| live_url(p)).collect(),
            tokens: tokens.to_vec(),
            stall_count: 0,
            stall_rcvbuf: None,
            n,
            frame_bytes: KONVENT_FRAME_BYTES,
        };
        Self::connect_with(dial, n).await
    }

    async fn connect_with(dial: Dial, first: usize) -> Result<Self> {
        let n = dial.n;
        let shared = Arc::new(Shared {
            base: Instant::now(),
            intended: (0..MAX_MESSAGES).map(|_| AtomicU64::new(0)).collect(),
            arrivals: (0..MAX_MESSAGES).map(|_| AtomicU32::new(0)).collect(),
            last: (0..MAX_MESSAGES).map(|_| AtomicU64::new(0)).collect(),
            hist: (0..SHARDS).map(|_| Mutex::new(histogram())).collect(),
            ack_hist: Mutex::new(histogram()),
            phase_first: AtomicUsize::new(0),
            errors: AtomicU64::new(0),
            acks: AtomicU64::new(0),
            out_of_order: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            next_id: AtomicUsize::new(1),
            next_sender: AtomicUsize::new(0),
            frame_bytes: AtomicUsize::new(0),
        });
        let mut crowd = Self {
            dial,
            clients: Vec::with_capacity(n),
            shared,
            stalling: AtomicBool::new(false),
        };
        crowd.dial_more(first).await?;
        Ok(crowd)
    }

    /// Connects clients until `upto` are connected (at most the crowd's size): a crowd
    /// connected in steps shows what each further connection costs the server.
    pub async fn dial_more(&mut self, upto: usize) -> Result<()> {
        let from = self.clients.len();
        let upto = upto.min(self.dial.n);
        let wss = self.dial_many((from..upto).collect()).await?;
        for (i, ws) in wss {
            let client = self.spawn(i, ws);
            self.clients.push(client);
        }
        Ok(())
    }

    async fn dial_many(
        &self,
        which: Vec<usize>,
    ) -> Result<
        Vec<(
            usize,
            tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>,
        )>,
    > {
        let limit = Arc::new(Semaphore::new(CONNECTING));
        let dial = Arc::new(Dial {
            target: self.dial.target,
            urls: self.dial.urls.clone(),
            tokens: self.dial.tokens.clone(),
            stall_count: self.dial.stall_count,
            stall_rcvbuf: self.dial.stall_rcvbuf,
            n: self.dial.n,
            frame_bytes: self.dial.frame_bytes,
        });
        let mut pending = Vec::with_capacity(which.len());
        for i in which {
            let permit = limit.clone().acquire_owned().await?;
            let dial = dial.clone();
            pending.push((
                i,
                tokio::spawn(async move {
                    let _permit = permit;
                    dial.connect(i).await
                }),
            ));
        }
        let mut out = Vec::with_capacity(pending.len());
        for (i, p) in pending {
            out.push((i, p.await?.with_context(|| format!("client {i}"))?));
        }
        Ok(out)
    }

    fn spawn(
        &self,
        i: usize,
        ws: tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>,
    ) -> Client {
        let (out, mut out_rx) = mpsc::unbounded_channel::<String>();
        let state = Arc::new(ClientState::default());
        let shared = self.shared.clone();
        let st = state.clone();
        let target = self.dial.target;
        let task = tokio::spawn(async move {
            let mut ws = ws;
            let mut last_seq = 0u64;
            loop {
                if st.stalled.load(Ordering::Relaxed) {
                    st.resume.notified().await;
                    continue;
                }
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
                            if target == Target::SocketIo && t.as_str() == "2" {
                                // Engine.IO ping.
                                let _ = ws.send(Message::Text("3".into())).await;
                                continue;
                            }
                            // konvent sends several messages in one frame, one per line;
                            // they all arrived when the frame did.
                            let now = shared.now_ns();
                            for bytes in t.as_bytes().split(|b| *b == b'\n') {
                                let is_message = match target {
                                    Target::Tokio => true,
                                    Target::SocketIo => bytes.starts_with(b"42"),
                                    Target::Konvent => konvent_message(bytes, &shared, &mut last_seq),
                                };
                                if is_message && let Some(id) = message_id(bytes) {
                                    shared.frame_bytes.store(bytes.len(), Ordering::Relaxed);
                                    if st.stall_group.load(Ordering::Relaxed) {
                                        st.stall_frames.fetch_add(1, Ordering::Relaxed);
                                    } else {
                                        shared.arrived(id, i, now);
                                    }
                                }
                            }
                        }
                        Some(Ok(Message::Close(frame))) => {
                            let code = frame.map_or(0, |f| u32::from(u16::from(f.code)));
                            st.close_code.store(code, Ordering::Relaxed);
                            break;
                        }
                        None | Some(Err(_)) => break,
                        Some(Ok(_)) => {}
                    },
                }
            }
            st.closed.store(true, Ordering::Relaxed);
            if !st.stall_group.load(Ordering::Relaxed) {
                shared.dropped.fetch_add(1, Ordering::Relaxed);
            }
        });
        Client { out, state, task }
    }

    /// Opens again the connections that the server closed (slow consumers, after an
    /// overload); returns how many.
    pub async fn reconnect_closed(&mut self) -> Result<usize> {
        let closed: Vec<usize> = (0..self.clients.len())
            .filter(|&i| self.clients[i].state.closed.load(Ordering::Relaxed))
            .collect();
        if closed.is_empty() {
            return Ok(0);
        }
        let wss = self.dial_many(closed.clone()).await?;
        for (i, ws) in wss {
            let client = self.spawn(i, ws);
            let old = std::mem::replace(&mut self.clients[i], client);
            old.task.abort();
        }
        // Let the new ones take their place (konvent: hello, joined, presence).
        tokio::time::sleep(Duration::from_millis(500)).await;
        Ok(closed.len())
    }
}
