//! The dispatch of the client's commands: joining and leaving rooms and moving on the
//! map here, every other command through the same path as a form post.

use futures_util::SinkExt;
use konvent_core::convention::live::{self, Command, LiveRefusal, Refusal, RefusalKind};
use konvent_live::map::{MoveRefusal, area_key};
use serde_json::json;

use super::duplex::Socket;
use super::{Connection, WsError, error_frame, text_frame};

/// How long a connection waits before it reads the next command after one refused for
/// being over the budget: a flood then costs the server at most 50 refusals a second
/// (the flooder's frames wait in its own socket buffers), and the people around it
/// notice nothing. A person who merely hit the limit does not notice the pause.
const OVER_BUDGET_PAUSE: std::time::Duration = std::time::Duration::from_millis(20);

impl<S: Socket> Connection<S> {
    pub(super) async fn command(&mut self, text: &str) -> Result<(), WsError> {
        let command = match live::parse(text) {
            Ok(command) => command,
            Err(refusal) => {
                return self
                    .socket
                    .send(error_frame(None, &refusal, self.lang))
                    .await;
            }
        };
        match command {
            Command::Ping => self.socket.send(text_frame(json!({ "t": "pong" }))).await,
            Command::Join { room } => self.join(&room).await,
            Command::Leave => self.leave().await,
            Command::EnterMap { at } => self.enter_map(at).await,
            Command::Move { x, y } => {
                match self.live.maps.plan(self.info.event.id, self.conn, x, y) {
                    Ok(spot) => self.walk_to(spot, None).await,
                    // Latest value wins: a move over the rate is dropped, the next one counts.
                    Err(MoveRefusal::TooFast) => Ok(()),
                    Err(refusal) => self.refuse_move(None, refusal).await,
                }
            }
            Command::Goto { id, area } => {
                let Some(index) = self
                    .venue()
                    .areas
                    .iter()
                    .position(|a| area_key(&a.target) == area)
                else {
                    let refusal = Refusal::from(LiveRefusal::NoSuchArea);
                    return self
                        .socket
                        .send(error_frame(id.as_deref(), &refusal, self.lang))
                        .await;
                };
                if self.live.maps.map(self.info.event.id).is_some() && !self.on_map {
                    self.enter_map(None).await?;
                }
                match self.live.maps.spot_in(self.info.event.id, self.conn, index) {
                    Ok(spot) => self.walk_to(spot, id.as_deref()).await,
                    Err(refusal) => self.refuse_move(id.as_deref(), refusal).await,
                }
            }
            command => {
                let id = command.id().map(str::to_owned);
                let outcome = crate::live::run(
                    &self.live,
                    &self.info,
                    &self.actor,
                    self.room.as_ref(),
                    command,
                )
                .await;
                let (frame, over_budget) = match outcome {
                    Ok(written) => (
                        text_frame(json!({ "t": "ack", "id": id, "seq": written.record.seq })),
                        false,
                    ),
                    Err(refusal) => (
                        error_frame(id.as_deref(), &refusal, self.lang),
                        refusal.kind == RefusalKind::RateLimited,
                    ),
                };
                self.socket.send(frame).await?;
                if over_budget {
                    tokio::time::sleep(OVER_BUDGET_PAUSE).await;
                }
                Ok(())
            }
        }
    }
}
