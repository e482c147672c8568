//! What a live connection reads from and writes to: the WebSocket in the server, two
//! channels joined into one sink and stream in the unit tests.

#[cfg(test)]
use std::pin::Pin;
#[cfg(test)]
use std::task::{Context, Poll};

use futures_util::{Sink, Stream};

use super::{Message, WsError};

/// A sink and stream of WebSocket messages: the WebSocket
/// ([`super::upgrade::LiveSocket`]), or a [`Duplex`].
pub(super) trait Socket:
    Sink<Message, Error = WsError> + Stream<Item = Result<Message, WsError>> + Unpin + Send + 'static
{
}
impl<S> Socket for S where
    S: Sink<Message, Error = WsError>
        + Stream<Item = Result<Message, WsError>>
        + Unpin
        + Send
        + 'static
{
}

/// What a [`Duplex`] writes to the client through (a channel in the unit tests).
#[cfg(test)]
pub(super) trait ToClient: Sink<Message, Error = WsError> + Unpin + Send + 'static {}
#[cfg(test)]
impl<W> ToClient for W where W: Sink<Message, Error = WsError> + Unpin + Send + 'static {}

/// What a [`Duplex`] reads from the client through (a channel in the unit tests).
#[cfg(test)]
pub(super) trait FromClient:
    Stream<Item = Result<Message, WsError>> + Unpin + Send + 'static
{
}
#[cfg(test)]
impl<R> FromClient for R where R: Stream<Item = Result<Message, WsError>> + Unpin + Send + 'static {}

/// Two halves as one sink and stream: the connection is generic over its [`Socket`]
/// (axum's testing-websockets example), so its logic runs against channels in the unit
/// tests and against the WebSocket in the server.
#[cfg(test)]
pub(super) struct Duplex<W, R> {
    pub(super) sink: W,
    pub(super) stream: R,
}

#[cfg(test)]
impl<W: ToClient, R: FromClient> Sink<Message> for Duplex<W, R> {
    type Error = WsError;

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

#[cfg(test)]
impl<W: ToClient, R: FromClient> Stream for Duplex<W, R> {
    type Item = Result<Message, WsError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.stream).poll_next(cx)
    }
}
