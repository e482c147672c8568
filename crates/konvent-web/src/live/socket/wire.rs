//! The live socket on the wire: tungstenite reads the client's frames and answers its
//! pings and closes; the hub's text frames are written by this file, without a copy. Each
//! gets a header of its own (two to ten bytes), and the header and the frame's shared
//! bytes go to the kernel in one vectored write with whatever else is waiting. The frame
//! one entry makes for a thousand connections is so never copied into a thousand write
//! buffers, and no waker is registered for a write that does not block.
//!
//! Everything that is not a text frame (close, pong, ping) still goes through
//! tungstenite, so that its close handshake stays right: what it writes lands in a buffer
//! of ours and goes out in order with the text frames.

use std::collections::VecDeque;
use std::io::{self, IoSlice, Read, Write};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use futures_util::{Sink, Stream};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig, WebSocketContext};

use super::{Message, WsError};

/// Buffers handed to the kernel in one write at most (a header and a body per frame).
const SLICES: usize = 64;
/// Frames waiting before a send has to write first (a batch is 64).
const WAITING: usize = 256;
/// A queue whose buffer grew past this many frames gives it back once written.
const KEEP: usize = 16;

/// A WebSocket over `S` (the connection's TCP stream), server side.
pub(crate) struct WireSocket<S> {
    io: S,
    ws: WebSocketContext,
    /// What waits to be written, in order.
    out: VecDeque<Chunk>,
    /// The stream ended (closed, or failed): nothing more is read.
    ended: bool,
    /// The last read found nothing more: the next one waits until the stream is readable.
    drained: bool,
}

/// The stream under a [`WireSocket`]: the connection's TCP stream.
pub(crate) trait WireIo: AsyncRead + AsyncWrite + Unpin {
    /// Whether a read would find something, without reading: a connection woken for a
    /// frame to write is polled for reading too, and tungstenite's read prepares (zeroes)
    /// a read buffer every time it is asked.
    fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>>;

    /// Writes as much of `bufs` as the stream takes, in one call to the kernel.
    fn poll_send(&mut self, cx: &mut Context<'_>, bufs: &[IoSlice<'_>]) -> Poll<io::Result<usize>>;
}

/// A frame waiting to be written: its header and its bytes, `done` of them written.
struct Chunk {
    head: [u8; 10],
    head_len: u8,
    body: Bytes,
    done: usize,
}

impl Chunk {
    /// A text frame with `body` as its payload (final, unmasked: a server's).
    fn text(body: Bytes) -> Self {
        let mut head = [0u8; 10];
        head[0] = 0x81;
        let len = body.len();
        let head_len = if len < 126 {
            head[1] = len as u8;
            2
        } else if let Ok(len) = u16::try_from(len) {
            head[1] = 126;
            head[2..4].copy_from_slice(&len.to_be_bytes());
            4
        } else {
            head[1] = 127;
            head[2..10].copy_from_slice(&(len as u64).to_be_bytes());
            10
        };
        Self {
            head,
            head_len,
            body,
            done: 0,
        }
    }

    /// Bytes already framed (tungstenite's).
    fn raw(body: Bytes) -> Self {
        Self {
            head: [0; 10],
            head_len: 0,
            body,
            done: 0,
        }
    }

    /// The parts still to write: of the header, of the body.
    fn rest(&self) -> (&[u8], &[u8]) {
        let head = usize::from(self.head_len);
        if self.done < head {
            (&self.head[self.done..head], &self.body)
        } else {
            (&[], &self.body[self.done - head..])
        }
    }

    fn len(&self) -> usize {
        usize::from(self.head_len) + self.body.len()
    }
}

impl<S: WireIo> WireSocket<S> {
    /// The socket after the handshake; `read` holds what the client sent after its
    /// request.
    pub(crate) fn new(io: S, read: Vec<u8>, config: WebSocketConfig) -> Self {
        Self {
            io,
            ws: WebSocketContext::from_partially_read(read, Role::Server, Some(config)),
            out: VecDeque::new(),
            ended: false,
            drained: false,
        }
    }

    /// Queues what tungstenite wrote.
    fn queue_control(&mut self, control: Vec<u8>) {
        if !control.is_empty() {
            self.out.push_back(Chunk::raw(Bytes::from(control)));
        }
    }

    /// Writes what waits, as far as the socket takes it.
    fn poll_write_out(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let Self { io, out, .. } = self;
        while !out.is_empty() {
            let mut slices = [IoSlice::new(&[]); SLICES];
            let mut n = 0;
            for chunk in out.iter() {
                if n + 2 > SLICES {
                    break;
                }
                let (head, body) = chunk.rest();
                for part in [head, body] {
                    if !part.is_empty() {
                        slices[n] = IoSlice::new(part);
                        n += 1;
                    }
                }
            }
            let mut written = ready!(io.poll_send(cx, &slices[..n]))?;
            if written == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            while written > 0 {
                let Some(chunk) = out.front_mut() else { break };
                let left = chunk.len() - chunk.done;
                if written < left {
                    chunk.done += written;
                    break;
                }
                written -= left;
                out.pop_front();
            }
        }
        if out.capacity() > KEEP {
            *out = VecDeque::new();
        }
        Poll::Ready(Ok(()))
    }

    /// Writes what a read left waiting (a pong, a close's answer) as far as the socket
    /// takes it; for the rest the waker is registered. A failure shows at the next read
    /// or write.
    fn write_control(&mut self, cx: &mut Context<'_>) {
        if !self.out.is_empty()
            && let Poll::Ready(Err(e)) = self.poll_write_out(cx)
        {
            tracing::debug!(error = %e, "live: writing a control frame failed");
        }
    }

    /// Hands a message that is not a text frame to tungstenite, and queues what it
    /// writes.
    fn write_through(&mut self, message: Message) -> Result<(), WsError> {
        let mut control = Vec::new();
        let mut capture = Capture(&mut control);
        let written = self
            .ws
            .write(&mut capture, message)
            .and_then(|()| self.ws.flush(&mut capture));
        self.queue_control(control);
        written
    }
}

impl<S: WireIo> Stream for WireSocket<S> {
    type Item = Result<Message, WsError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.ended {
            return Poll::Ready(None);
        }
        // A pong or a close's answer the socket did not take at the last poll: the waker
        // registered then brought the task here.
        this.write_control(cx);
        if this.drained {
            // Not readable yet: tungstenite's buffer holds no whole frame either (its
            // last read ended asking for more). A failure shows in the read below.
            if this.io.poll_read_ready(cx).is_pending() {
                return Poll::Pending;
            }
            this.drained = false;
        }
        // What tungstenite writes while it reads: a pong, a close's answer.
        let mut control = Vec::new();
        let read = this.ws.read(&mut Reading {
            io: &mut this.io,
            cx,
            written: &mut control,
        });
        let polled = match read {
            Ok(message) => {
                if matches!(message, Message::Ping(_) | Message::Close(_)) {
                    // Its answer waits inside tungstenite until the next read or write:
                    // have it now. (After a close, tungstenite reports the connection
                    // closed: that is the close's end, not a failure.)
                    let _ = this.ws.flush(&mut Capture(&mut control));
                }
                Poll::Ready(Some(Ok(message)))
            }
            Err(WsError::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {
                this.drained = true;
                Poll::Pending
            }
            Err(WsError::ConnectionClosed | WsError::AlreadyClosed) => {
                this.ended = true;
                Poll::Ready(None)
            }
            Err(e) => {
                this.ended = true;
                Poll::Ready(Some(Err(e)))
            }
        };
        // A pong or a close's answer goes out at once, not with the next frame. If the
        // socket does not take it now, the waker is registered for when it does, and
        // the next poll here tries again.
        if !control.is_empty() {
            this.queue_control(control);
            this.write_control(cx);
        }
        polled
    }
}

impl<S: WireIo> Sink<Message> for WireSocket<S> {
    type Error = WsError;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), WsError>> {
        if self.out.len() < WAITING {
            return Poll::Ready(Ok(()));
        }
        self.poll_write_out(cx).map_err(WsError::Io)
    }

    fn start_send(mut self: Pin<&mut Self>, message: Message) -> Result<(), WsError> {
        match message {
            Message::Text(text) if self.ws.can_write() => {
                self.out.push_back(Chunk::text(text.into()));
                Ok(())
            }
            other => self.write_through(other),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), WsError>> {
        self.poll_write_out(cx).map_err(WsError::Io)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), WsError>> {
        ready!(self.as_mut().poll_flush(cx))?;
        Pin::new(&mut self.io)
            .poll_shutdown(cx)
            .map_err(WsError::Io)
    }
}

/// What tungstenite reads from while reading: the stream, with what it writes meanwhile
/// (a pong, a close's answer) kept for [`WireSocket`] to write in order.
struct Reading<'a, 'b, S> {
    io: &'a mut S,
    cx: &'a mut Context<'b>,
    written: &'a mut Vec<u8>,
}

impl<S: AsyncRead + Unpin> Read for Reading<'_, '_, S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut buf = ReadBuf::new(buf);
        match Pin::new(&mut *self.io).poll_read(self.cx, &mut buf) {
            Poll::Ready(Ok(())) => Ok(buf.filled().len()),
            Poll::Ready(Err(e)) => Err(e),
            Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
        }
    }
}

impl<S> Write for Reading<'_, '_, S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.written.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// What tungstenite writes to when it frames a close, ping or pong for us (it reads
/// nothing from it).
struct Capture<'a>(&'a mut Vec<u8>);

impl Read for Capture<'_> {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        Err(io::ErrorKind::WouldBlock.into())
    }
}

impl Write for Capture<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::{SinkExt, StreamExt};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_tungstenite::tungstenite::protocol::CloseFrame;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

    impl WireIo for tokio::io::DuplexStream {
        fn poll_read_ready(&self, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }

        fn poll_send(
            &mut self,
            cx: &mut Context<'_>,
            bufs: &[IoSlice<'_>],
        ) -> Poll<io::Result<usize>> {
            Pin::new(self).poll_write_vectored(cx, bufs)
        }
    }

    /// A server socket on one end of a pipe, and a tungstenite client on the other.
    async fn pair(
        capacity: usize,
    ) -> (
        WireSocket<tokio::io::DuplexStream>,
        tokio_tungstenite::WebSocketStream<tokio::io::DuplexStream>,
    ) {
        let (server, client) = tokio::io::duplex(capacity);
        let server = WireSocket::new(server, Vec::new(), WebSocketConfig::default());
        let client =
            tokio_tungstenite::WebSocketStream::from_raw_socket(client, Role::Client, None).await;
        (server, client)
    }

    #[tokio::test]
    async fn text_frames_of_every_header_size_arrive_whole_and_in_order() {
        // Through a pipe smaller than the frames, so writes stop halfway and go on.
        let (mut server, mut client) = pair(1000).await;
        let texts: Vec<String> = [0, 1, 125, 126, 65535, 65536, 200_000]
            .iter()
            .map(|&n| "ä".repeat(n / 2) + &"x".repeat(n % 2))
            .collect();
        let sent = texts.clone();
        let writer = tokio::spawn(async move {
            for text in sent {
                server
                    .feed(Message::Text(text.into()))
                    .await
                    .expect("queued");
            }
            server.flush().await.expect("written");
            server
        });
        for text in &texts {
            match client.next().await {
                Some(Ok(Message::Text(got))) => assert_eq!(got.as_str(), text),
                other => panic!("expected a text of {} bytes, got {other:?}", text.len()),
            }
        }
        writer.await.expect("the writer ran");
    }

    #[tokio::test]
    async fn a_ping_is_answered_without_a_frame_to_send_and_a_close_in_order() {
        let (mut server, mut client) = pair(64 * 1024).await;
        client
            .send(Message::Ping(Bytes::from_static(b"hi")))
            .await
            .expect("sent");
        client
            .send(Message::Text("from the client".into()))
            .await
            .expect("sent");
        // The server reads the ping, then the text; the pong goes out on its own.
        assert!(matches!(server.next().await, Some(Ok(Message::Ping(_)))));
        match server.next().await {
            Some(Ok(Message::Text(text))) => assert_eq!(text.as_str(), "from the client"),
            other => panic!("expected the client's text, got {other:?}"),
        }
        match client.next().await {
            Some(Ok(Message::Pong(data))) => assert_eq!(&data[..], b"hi"),
            other => panic!("expected a pong, got {other:?}"),
        }
        // A text, then a close: the client sees both, in that order.
        server
            .feed(Message::Text("last".into()))
            .await
            .expect("sent");
        let close = CloseFrame {
            code: CloseCode::Library(4008),
            reason: "slow consumer".into(),
        };
        server
            .send(Message::Close(Some(close)))
            .await
            .expect("sent");
        match client.next().await {
            Some(Ok(Message::Text(text))) => assert_eq!(text.as_str(), "last"),
            other => panic!("expected the last text, got {other:?}"),
        }
        match client.next().await {
            Some(Ok(Message::Close(Some(frame)))) => {
                assert_eq!(frame.code, CloseCode::Library(4008));
                assert_eq!(frame.reason.as_str(), "slow consumer");
            }
            other => panic!("expected the close frame, got {other:?}"),
        }
        // After its close, no text is written.
        assert!(server.send(Message::Text("late".into())).await.is_err());
    }

    #[tokio::test]
    async fn a_pong_the_socket_could_not_take_goes_out_once_it_can() {
        // A pipe of 64 bytes, 62 of them taken by a text the client has not read yet:
        // the pong (4 bytes) fits only halfway.
        let (mut server, mut client) = pair(64).await;
        server
            .send(Message::Text("x".repeat(60).into()))
            .await
            .expect("written");
        let (pinged, mut ping_read) = tokio::sync::mpsc::unbounded_channel();
        let reader = tokio::spawn(async move {
            while let Some(Ok(message)) = server.next().await {
                if matches!(message, Message::Ping(_)) {
                    let _ = pinged.send(());
                }
            }
        });
        client
            .send(Message::Ping(Bytes::from_static(b"hi")))
            .await
            .expect("sent");
        // The server read the ping and began its pong before the client reads anything.
        ping_read.recv().await.expect("the ping was read");
        let answers = async {
            let text = client.next().await;
            let pong = client.next().await;
            (text, pong)
        };
        let (text, pong) = tokio::time::timeout(std::time::Duration::from_secs(2), answers)
            .await
            .expect("the pong came");
        assert!(matches!(text, Some(Ok(Message::Text(_)))));
        match pong {
            Some(Ok(Message::Pong(data))) => assert_eq!(&data[..], b"hi"),
            other => panic!("expected a pong, got {other:?}"),
        }
        reader.abort();
    }

    #[tokio::test]
    async fn the_client_s_close_is_answered_and_ends_the_stream() {
        let (mut server, client) = pair(64 * 1024).await;
        let mut raw = client.into_inner();
        // A masked close frame with code 1000, written by hand.
        let mask = [1u8, 2, 3, 4];
        let payload = 1000u16.to_be_bytes();
        let masked: Vec<u8> = payload
            .iter()
            .enumerate()
            .map(|(i, b)| b ^ mask[i % 4])
            .collect();
        let mut frame = vec![0x88, 0x80 | 2];
        frame.extend_from_slice(&mask);
        frame.extend_from_slice(&masked);
        raw.write_all(&frame).await.expect("sent");
        match server.next().await {
            Some(Ok(Message::Close(Some(close)))) => assert_eq!(close.code, CloseCode::Normal),
            other => panic!("expected the client's close, got {other:?}"),
        }
        // The answer, unmasked: 0x88, length 2, code 1000.
        let mut answer = [0u8; 4];
        raw.read_exact(&mut answer).await.expect("answered");
        assert_eq!(answer, [0x88, 2, 0x03, 0xe8]);
    }
}
