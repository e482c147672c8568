//! The HTTP server under the router: our own accept loop on hyper's HTTP/1.1 connection,
//! because `axum::serve` sets no timeouts (a client that sends nothing, or one header line
//! every few seconds, would hold its connection forever) and no connection limits.
//!
//! - **Header timeout** (`header_timeout_secs`): a request's head must arrive within this
//!   time, counted from when the server starts waiting for it; on a kept-alive connection
//!   that is the end of the previous response, so it is also how long such a connection
//!   may stay idle between requests.
//! - **Body timeout** (`body_timeout_secs`): a request body must arrive whole within this
//!   time after its head.
//! - **Send timeout** (`send_timeout_secs`): a connection on which no request is being
//!   handled and nothing moves in either direction (a client that stopped reading its
//!   response) is closed after this time.
//! - **Connection limits** (`max_connections`, `max_connections_per_address`): a
//!   connection over a limit is answered `503` and closed. Reverse proxies carry many
//!   clients over connections from their own address, so the addresses in
//!   `connection_limit_exempt` (by default loopback, where a proxy on the same machine
//!   connects from) are not limited per address.
//!
//! WebSocket connections leave hyper after the upgrade; none of the timeouts applies to
//! them (the live hub has its own pings), but they stay counted until they close.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tower::ServiceExt;

use crate::Settings;

/// The timeouts and limits of [`run`], from the settings (0: none).
#[derive(Debug, Clone)]
pub struct Limits {
    pub header_timeout: Option<Duration>,
    pub body_timeout: Option<Duration>,
    pub send_timeout: Option<Duration>,
    pub max_connections: usize,
    pub max_per_address: usize,
    pub exempt: Vec<IpAddr>,
}

impl Limits {
    pub fn from_settings(s: &Settings) -> Self {
        let secs = |n: u32| (n > 0).then(|| Duration::from_secs(u64::from(n)));
        Self {
            header_timeout: secs(s.header_timeout_secs),
            body_timeout: secs(s.body_timeout_secs),
            send_timeout: secs(s.send_timeout_secs),
            max_connections: s.max_connections as usize,
            max_per_address: s.max_connections_per_address as usize,
            exempt: s.connection_limit_exempt.clone(),
        }
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then lets the requests in
/// flight finish (open WebSockets are not waited for).
pub async fn run(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = Arc::new(limits);
    let counts = Arc::new(Counts::default());
    let (stop_tx, stop_rx) = watch::channel(false);
    let (close_tx, close_rx) = watch::channel(());
    let mut shutdown = pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(guard) = counts.admit(peer.ip(), &limits) else {
            tracing::debug!(%peer, "connection refused: over the connection limit");
            tokio::spawn(refuse(stream));
            continue;
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(connection(
            stream,
            peer,
            guard,
            app.clone(),
            limits.clone(),
            stop_rx.clone(),
            close_rx.clone(),
        ));
    }
    drop(listener);
    let _ = stop_tx.send(true);
    drop(close_rx);
    close_tx.closed().await;
    Ok(())
}

/// Answers a connection over a limit with `503` and closes it.
async fn refuse(mut stream: TcpStream) {
    const MESSAGE: &str = "Zu viele Verbindungen, bitte gleich erneut.";
    let busy = format!(
        "HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\nretry-after: 5\r\n\
         content-type: text/plain; charset=utf-8\r\ncontent-length: {}\r\n\r\n{MESSAGE}",
        MESSAGE.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        let _ = stream.write_all(busy.as_bytes()).await;
        let _ = stream.shutdown().await;
    })
    .await;
}

async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    guard: Guard,
    app: Router,
    limits: Arc<Limits>,
    mut stop: watch::Receiver<bool>,
    close_rx: watch::Receiver<()>,
) {
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Tracked {
        inner: stream,
        activity: Some(activity.clone()),
        _guard: guard,
    });
    let body_timeout = limits.body_timeout;
    let in_flight = activity.clone();
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        let req = req.map(|body| Body::new(Deadline::new(body, body_timeout)));
        let busy = Busy::new(in_flight.clone());
        let app = app.clone();
        async move {
            let response = app.oneshot(req).await;
            drop(busy);
            response
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let mut conn = pin!(builder.serve_connection(io, service).with_upgrades());
    let mut stopping = false;
    let check_every = limits.send_timeout.map_or(Duration::from_secs(3600), |t| {
        (t / 4).max(Duration::from_millis(50))
    });
    let mut tick = tokio::time::interval(check_every);
    let mut stall = Stall::new(Instant::now());
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
                break;
            }
            _ = stop.wait_for(|s| *s), if !stopping => {
                stopping = true;
                conn.as_mut().graceful_shutdown();
            }
            _ = tick.tick() => {
                if let Some(limit) = limits.send_timeout
                    && stall.check(&activity, Instant::now()) >= limit
                {
                    tracing::debug!(%peer, "closing a connection that made no progress");
                    break;
                }
            }
        }
    }
    drop(close_rx);
}

/// Open connections, in total and per client address.
#[derive(Default)]
struct Counts {
    total: AtomicUsize,
    per_address: Mutex<HashMap<IpAddr, usize>>,
}

impl Counts {
    /// Counts a new connection, or `None` when it is over a limit.
    fn admit(self: &Arc<Self>, ip: IpAddr, limits: &Limits) -> Option<Guard> {
        let mut per_address = self.per_address.lock().unwrap_or_else(|e| e.into_inner());
        let total = self.total.load(Ordering::Relaxed);
        if limits.max_connections > 0 && total >= limits.max_connections {
            return None;
        }
        let mine = per_address.entry(ip).or_insert(0);
        if limits.max_per_address > 0
            && *mine >= limits.max_per_address
            && !limits.exempt.contains(&ip)
        {
            return None;
        }
        *mine += 1;
        self.total.fetch_add(1, Ordering::Relaxed);
        Some(Guard {
            counts: self.clone(),
            ip,
        })
    }
}

/// One counted connection; dropped with its socket (after a WebSocket upgrade, when the
/// WebSocket closes).
struct Guard {
    counts: Arc<Counts>,
    ip: IpAddr,
}

impl Drop for Guard {
    fn drop(&mut self) {
        let mut per_address = self
            .counts
            .per_address
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(n) = per_address.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                per_address.remove(&self.ip);
            }
        }
        self.counts.total.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Whether bytes moved on a connection, and how many requests are being handled. Moving
/// bytes only counts (no clock is read there); the connection's watchdog notes when the
/// count last changed.
struct Activity {
    moved: AtomicU64,
    busy: AtomicUsize,
}

impl Activity {
    fn new() -> Self {
        Self {
            moved: AtomicU64::new(0),
            busy: AtomicUsize::new(0),
        }
    }

    fn touch(&self) {
        self.moved.fetch_add(1, Ordering::Relaxed);
    }
}

/// The watchdog's view of an [`Activity`]: since when nothing has moved while no request
/// was being handled.
struct Stall {
    seen: u64,
    since: Instant,
}

impl Stall {
    fn new(now: Instant) -> Self {
        Self {
            seen: 0,
            since: now,
        }
    }

    /// How long nothing has moved while no request was being handled, as of `now`.
    fn check(&mut self, activity: &Activity, now: Instant) -> Duration {
        let moved = activity.moved.load(Ordering::Relaxed);
        if moved != self.seen || activity.busy.load(Ordering::Relaxed) > 0 {
            self.seen = moved;
            self.since = now;
        }
        now.saturating_duration_since(self.since)
    }
}

/// Marks a request as being handled while it lives.
struct Busy(Arc<Activity>);

impl Busy {
    fn new(activity: Arc<Activity>) -> Self {
        activity.busy.fetch_add(1, Ordering::Relaxed);
        Self(activity)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.touch();
        self.0.busy.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The client's socket, noting every byte that moves while it speaks HTTP, and holding
/// the connection's place in the counts.
pub(crate) struct Tracked {
    inner: TcpStream,
    /// `None` once the connection is a WebSocket (the watchdog stopped with HTTP).
    activity: Option<Arc<Activity>>,
    _guard: Guard,
}

impl Tracked {
    /// The stream of a connection upgraded to a WebSocket: the watchdog ended with the
    /// HTTP connection, so no byte is counted any more (the live hub closes a socket that
    /// falls behind).
    pub(crate) fn unwatched(mut self) -> Self {
        self.activity = None;
        self
    }

    fn moved(&self) {
        if let Some(activity) = &self.activity {
            activity.touch();
        }
    }
}

impl crate::live::socket::WireIo for Tracked {
    fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.inner.poll_read_ready(cx)
    }

    /// One `sendmsg`: the kernel's way for a socket, where `writev` goes through the
    /// file layer first.
    fn poll_send(
        &mut self,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        loop {
            std::task::ready!(self.inner.poll_write_ready(cx))?;
            let sent = self.inner.try_io(tokio::io::Interest::WRITABLE, || {
                socket2::SockRef::from(&self.inner).send_vectored(bufs)
            });
            match sent {
                // Readiness was stale: `try_io` cleared it, wait for the next.
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                sent => return Poll::Ready(sent),
            }
        }
    }
}

impl AsyncRead for Tracked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.moved();
        }
        polled
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.moved();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.moved();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// A request body that fails when it has not arrived whole by its deadline.
struct Deadline {
    inner: Incoming,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Deadline {
    fn new(inner: Incoming, limit: Option<Duration>) -> Self {
        use hyper::body::Body as _;
        let sleep = limit
            .filter(|_| !inner.is_end_stream())
            .map(|limit| Box::pin(tokio::time::sleep(limit)));
        Self { inner, sleep }
    }
}

impl hyper::body::Body for Deadline {
    type Data = hyper::body::Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        if let Some(sleep) = self.sleep.as_mut()
            && sleep.as_mut().poll(cx).is_ready()
        {
            return Poll::Ready(Some(Err("the request body did not arrive in time".into())));
        }
        Pin::new(&mut self.inner)
            .poll_frame(cx)
            .map_err(axum::BoxError::from)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_watchdog_counts_the_time_nothing_moved_while_no_request_ran() {
        let start = Instant::now();
        let at = |secs| start + Duration::from_secs(secs);
        let activity = Arc::new(Activity::new());
        let mut stall = Stall::new(start);
        assert_eq!(stall.check(&activity, at(5)), Duration::from_secs(5));

        // Bytes moved on the socket: the clock starts again.
        activity.touch();
        assert_eq!(stall.check(&activity, at(6)), Duration::ZERO);
        assert_eq!(stall.check(&activity, at(9)), Duration::from_secs(3));

        // A request being handled holds it at zero, and its end starts it again.
        let busy = Busy::new(activity.clone());
        assert_eq!(stall.check(&activity, at(20)), Duration::ZERO);
        assert_eq!(stall.check(&activity, at(30)), Duration::ZERO);
        drop(busy);
        assert_eq!(stall.check(&activity, at(31)), Duration::ZERO, "it ended");
        assert_eq!(stall.check(&activity, at(33)), Duration::from_secs(2));
    }
}
