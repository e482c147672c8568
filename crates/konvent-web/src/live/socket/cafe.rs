//! Café tables (K9): walking up to a table whose round is running takes a seat there.

use konvent_core::convention::live::{Command, Refusal};
use konvent_store::Room;

use super::Connection;
use super::duplex::Socket;

impl<S: Socket> Connection<S> {
    /// A café table whose round is running seats whoever walks up to it (K9: "Sie begeben
    /// sich auf der Karte selbstständig zum ausgewählten Thema"); a full table refuses.
    pub(super) async fn take_seat_at(&mut self, room: &Room) -> Result<(), Refusal> {
        if room.kind != konvent_core::convention::RoomKind::Table {
            return Ok(());
        }
        let rounds = self
            .live
            .store
            .rounds(self.info.event.id)
            .await
            .map_err(crate::live::refusal)?;
        let Some(table) = rounds
            .iter()
            .filter(|r| r.status == konvent_core::strategy::RoundStatus::Running)
            .flat_map(|r| &r.tables)
            .find(|t| t.room_slug == room.slug)
        else {
            return Ok(());
        };
        let seat = Command::Seat {
            id: None,
            table: table.id,
            user: None,
        };
        crate::live::run(
            &self.live,
            &self.info,
            &self.actor,
            self.room.as_ref(),
            seat,
        )
        .await
        .map(|_| ())
    }
}
