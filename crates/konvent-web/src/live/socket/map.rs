//! The venue map as a connection walks it: entering, stepping, refused steps and the
//! rooms walked into or out of.

use std::sync::Arc;

use futures_util::SinkExt;
use konvent_core::convention::live::{LiveRefusal, Refusal};
use konvent_core::convention::map::AreaTarget;
use konvent_live::JoinRefusal;
use konvent_live::map::{MAX_STEP, MoveRefusal, Spot, area_key};
use serde_json::json;

use super::duplex::Socket;
use super::{Connection, WsError, error_frame, text_frame};

impl<S: Socket> Connection<S> {
    /// The event's map as the hub has it now (the cached event info may be older: the
    /// organizer replaced the map since this connection opened).
    pub(super) fn venue(&self) -> Arc<konvent_core::convention::map::VenueMap> {
        self.live
            .maps
            .map(self.info.event.id)
            .unwrap_or_else(|| self.info.map.clone())
    }

    /// Steps onto the venue map: the avatar appears, the client learns where.
    pub(super) async fn enter_map(&mut self, at: Option<(i64, i64)>) -> Result<(), WsError> {
        let event = self.info.event.id;
        let Some(spot) = self
            .live
            .maps
            .enter(event, self.conn, &self.actor.who.name, at)
        else {
            let refusal = Refusal::from(LiveRefusal::NoMap);
            return self
                .socket
                .send(error_frame(None, &refusal, self.lang))
                .await;
        };
        self.on_map = true;
        self.you(spot, None).await
    }

    /// The client's own avatar, as the server has it (after entering, a `goto`, or a
    /// refused step).
    async fn you(&mut self, spot: Spot, id: Option<&str>) -> Result<(), WsError> {
        let area = spot
            .area
            .and_then(|i| self.venue().areas.get(i).cloned())
            .map(|a| area_key(&a.target).to_owned());
        let frame = text_frame(json!({
            "t": "you",
            "avatar": self.conn,
            "x": spot.x,
            "y": spot.y,
            "area": area,
            "id": id,
        }));
        self.socket.send(frame).await
    }

    pub(super) async fn refuse_move(
        &mut self,
        id: Option<&str>,
        refusal: MoveRefusal,
    ) -> Result<(), WsError> {
        let message = match refusal {
            MoveRefusal::NotOnMap => Refusal::from(LiveRefusal::EnterMapFirst),
            MoveRefusal::Blocked => Refusal::from(LiveRefusal::Blocked),
            MoveRefusal::TooFar => Refusal::from(LiveRefusal::StepTooFar { max: MAX_STEP }),
            MoveRefusal::TooFast => Refusal::from(LiveRefusal::TooManySteps),
        };
        self.socket
            .send(error_frame(id, &message, self.lang))
            .await?;
        self.correct().await
    }

    /// Tells the client where its avatar really stands.
    async fn correct(&mut self) -> Result<(), WsError> {
        if !self.on_map {
            return Ok(());
        }
        match self
            .live
            .maps
            .enter(self.info.event.id, self.conn, &self.actor.who.name, None)
        {
            Some(spot) => self.you(spot, None).await,
            None => Ok(()),
        }
    }

    /// Takes a step that the map allows: walking into an area joins its room (a full one
    /// refuses, and the avatar stays where it was); walking out of it leaves the room.
    pub(super) async fn walk_to(&mut self, spot: Spot, id: Option<&str>) -> Result<(), WsError> {
        let event = self.info.event.id;
        let target = spot
            .area
            .and_then(|i| self.venue().areas.get(i).cloned())
            .map(|a| a.target);
        let room_now = self.room.as_ref().map(|r| r.slug.clone());
        match target {
            Some(AreaTarget::Room { room }) if room_now.as_deref() != Some(room.as_str()) => {
                // Rooms added since this connection opened are on the map too.
                let info = match self.live.info(&self.info.event.slug).await {
                    Ok(info) => info,
                    Err(_) => self.info.clone(),
                };
                let Some(room) = info.room(&room).cloned() else {
                    return self.correct().await;
                };
                if let Err(refusal) = self.take_seat_at(&room).await {
                    self.socket
                        .send(error_frame(id, &refusal, self.lang))
                        .await?;
                    return self.correct().await;
                }
                match self
                    .live
                    .fanout
                    .join(event, self.conn, &room.slug, room.capacity)
                {
                    Ok(joined) => {
                        self.live.maps.place(event, self.conn, spot);
                        self.joined(room, joined).await?;
                    }
                    Err(JoinRefusal::Full | JoinRefusal::Gone) => {
                        self.refuse_full(&room, id).await?;
                        return self.correct().await;
                    }
                }
            }
            Some(AreaTarget::Room { .. }) => self.live.maps.place(event, self.conn, spot),
            _ => {
                self.live.maps.place(event, self.conn, spot);
                if room_now.is_some() {
                    self.leave().await?;
                }
            }
        }
        if id.is_some() {
            self.you(spot, id).await?;
        }
        Ok(())
    }
}
