//! A live connection's two directions as one sink and stream of WebSocket messages.

use std::pin::Pin;
use std::task::{Context, Poll};

use axum::extract::ws::Message;
use futures_util::{Sink, Stream};

/// What a connection writes to the client (axum's `SplitSink` of the WebSocket, a
/// channel in the unit tests).
pub(super) trait ToClient:
    Sink<Message, Error = axum::Error> + Unpin + Send + 'static
{
}
impl<W> ToClient for W where W: Sink<Message, Error = axum::Error> + Unpin + Send + 'static {}

/// What a connection reads from the client (axum's `SplitStream` of the WebSocket, a
/// channel in the unit tests).
pub(super) trait FromClient:
    Stream<Item = Result<Message, axum::Error>> + Unpin + Send + 'static
{
}
impl<R> FromClient for R where
    R: Stream<Item = Result<Message, axum::Error>> + Unpin + Send + 'static
{
}

/// A connection's two directions, as one sink and stream: the connection is generic over
/// them (axum's testing-websockets example), so its logic runs against channels in the
/// unit tests and against the split WebSocket in the server. The halves stay apart, so
/// a writer and a reader can each hold one.
pub(super) struct Duplex<W, R> {
    pub(super) sink: W,
    pub(super) stream: R,
}

impl<W: ToClient, R: FromClient> Sink<Message> for Duplex<W, R> {
    type Error = axum::Error;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Pin::new(&mut self.sink).poll_ready(cx)
    }

    fn start_send(mut self: Pin<&mut Self>, item: Message) -> Result<(), Self::Error> {
        Pin::new(&mut self.sink).start_send(item)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Pin::new(&mut self.sink).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Pin::new(&mut self.sink).poll_close(cx)
    }
}

impl<W: ToClient, R: FromClient> Stream for Duplex<W, R> {
    type Item = Result<Message, axum::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.stream).poll_next(cx)
    }
}
