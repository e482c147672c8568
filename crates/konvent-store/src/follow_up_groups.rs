//! Follow-up groups (K16+): small groups of the people who marked the same connection
//! point, started from "Meine Ergebnisse". A group may meet in a room of an event (one of
//! its rooms, or a small room created for it, named after the connection point) and its
//! members propose dates that go out as calendar invitations.

use konvent_core::convention::networking::FollowUpRefusal;
use konvent_core::ids::{AccountId, EventId, FollowUpGroupId, RoomId};
use std::str::FromStr;

use konvent_core::convention::RoomKind;
use konvent_core::convention::networking::{
    GROUP_MEMBERS_MAX, GROUP_ROOM_NAME_MAX, GROUP_ROOMS_PER_EVENT,
};
use konvent_core::strategy::FollowTarget;

use crate::live::{NewRoom, Tx, insert_room};
use crate::{Result, Store, StoreError, Who, now_micros};

/// A small follow-up group started from a connection point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowUpGroup {
    pub id: FollowUpGroupId,
    pub name: String,
    pub target: FollowTarget,
    pub target_id: i64,
    pub members: Vec<Who>,
    /// Who started it (`None` once that account is deleted): only they choose its room.
    pub created_by: Option<AccountId>,
    /// The latest date proposal, if any.
    pub meeting: Option<GroupMeeting>,
    /// Where the group meets in konvent, if its starter chose a room.
    pub room: Option<GroupRoom>,
}

/// A follow-up group's room: one of an event's rooms (its page is
/// `/konvent/{event_slug}/raeume/{slug}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRoom {
    pub event_slug: String,
    pub event_title: String,
    pub slug: String,
    pub name: String,
}

/// The room a group's starter chooses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupPlace {
    /// One of the rooms [`Store::group_room_choices`] offers.
    Room(RoomId),
    /// A new small room in this event, named after the connection point (the group
    /// keeps the one it has there already).
    NewRoom { event_id: EventId },
}

/// An event the person takes part in, with the rooms a group may meet in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomChoice {
    pub event_id: EventId,
    pub event_title: String,
    /// (room id, name), in the event's order.
    pub rooms: Vec<(i64, String)>,
}

/// A follow-up group's date proposal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupMeeting {
    /// Unix microseconds (UTC).
    pub starts_at: i64,
    pub minutes: i64,
    /// A place, a video link or a room of an event.
    pub place: String,
    /// 1 for the first proposal, higher with each new one (iCalendar SEQUENCE).
    pub sequence: i64,
}

/// A member of a follow-up group as its date proposal's mail reaches them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRecipient {
    pub who: Who,
    pub email: String,
    /// The mail language the person chose ("de" until chosen).
    pub language: String,
}

impl Store {
    /// Starts a follow-up group on one of `creator`'s connection points with some of the
    /// people [`Store::point_peers`] shows for it; anybody else is refused. With a
    /// `place`, the group meets in that room (see [`Store::set_group_room`]). One
    /// transaction.
    #[tracing::instrument(level = "debug", skip_all, fields(creator = %creator, target_id = target_id, members = members.len()))]
    pub async fn start_group(
        &self,
        creator: AccountId,
        name: &str,
        target: FollowTarget,
        target_id: i64,
        members: &[AccountId],
        place: Option<GroupPlace>,
    ) -> Result<FollowUpGroupId> {
        let peers = self
            .point_peers(creator)
            .await?
            .into_iter()
            .find(|p| p.target == target && p.target_id == target_id)
            .ok_or(StoreError::NotFound)?
            .peers;
        if members.is_empty() {
            return Err(FollowUpRefusal::NobodyElse.into());
        }
        if members
            .iter()
            .any(|m| !peers.iter().any(|p| p.who.id == *m))
        {
            return Err(FollowUpRefusal::OtherConnectionPoint.into());
        }
        let now = now_micros();
        let mut tx = self.begin_write().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO follow_up_groups (name, target, target_id, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(name)
        .bind(target.as_str())
        .bind(target_id)
        .bind(creator.get())
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let id = FollowUpGroupId::new(id);
        for member in std::iter::once(&creator).chain(members) {
            sqlx::query(
                "INSERT INTO follow_up_group_members (group_id, account_id, joined_at) \
                 VALUES ($1, $2, $3) ON CONFLICT (group_id, account_id) DO NOTHING",
            )
            .bind(id.get())
            .bind(member.get())
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        if let Some(place) = place {
            place_group(&mut tx, creator, id, name, target, target_id, place).await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    /// The group's starter puts it in a room (an event's room, or a new small one);
    /// `NotFound` for anybody else.
    #[tracing::instrument(level = "debug", skip_all, fields(account = %account, group_id = %group_id))]
    pub async fn set_group_room(
        &self,
        account: AccountId,
        group_id: FollowUpGroupId,
        place: GroupPlace,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let row: Option<(String, String, i64)> = sqlx::query_as(
            "SELECT name, target, target_id FROM follow_up_groups \
             WHERE id = $1 AND created_by = $2",
        )
        .bind(group_id.get())
        .bind(account.get())
        .fetch_optional(&mut *tx)
        .await?;
        let (name, target, target_id) = row.ok_or(StoreError::NotFound)?;
        let target = FollowTarget::from_str(&target).map_err(StoreError::Corrupt)?;
        place_group(&mut tx, account, group_id, &name, target, target_id, place).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The events the person takes part in (not removed from), newest first, each with
    /// the rooms a follow-up group may meet in (not the help desk, not café tables).
    #[tracing::instrument(level = "debug", skip_all, fields(account = %account))]
    pub async fn group_room_choices(&self, account: AccountId) -> Result<Vec<RoomChoice>> {
        let rows: Vec<(i64, String, Option<i64>, Option<String>)> = sqlx::query_as(
            "SELECT e.id, e.title, r.id, r.name FROM event_people p \
             JOIN events e ON e.id = p.event_id \
             LEFT JOIN rooms r ON r.event_id = e.id AND r.kind NOT IN ('helpdesk', 'table') \
             WHERE p.account_id = $1 AND NOT EXISTS (SELECT 1 FROM event_removals x \
                 WHERE x.event_id = e.id AND x.account_id = p.account_id) \
             ORDER BY e.starts_at DESC, e.id, r.position, r.id",
        )
        .bind(account.get())
        .fetch_all(&self.pool)
        .await?;
        let mut out: Vec<RoomChoice> = Vec::new();
        for (event_id, event_title, room_id, room_name) in rows {
            if out
                .last()
                .is_none_or(|c| c.event_id != EventId::new(event_id))
            {
                out.push(RoomChoice {
                    event_id: EventId::new(event_id),
                    event_title,
                    rooms: Vec::new(),
                });
            }
            if let (Some(id), Some(name), Some(choice)) = (room_id, room_name, out.last_mut()) {
                choice.rooms.push((id, name));
            }
        }
        Ok(out)
    }

    /// The follow-up groups the person belongs to, with their members, newest first.
    #[tracing::instrument(level = "debug", skip_all, fields(account = %account))]
    pub async fn groups_of(&self, account: AccountId) -> Result<Vec<FollowUpGroup>> {
        type Row = (
            i64,
            String,
            String,
            i64,
            Option<i64>,
            i64,
            String,
            i64,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<i64>,
        );
        let groups: Vec<Row> = sqlx::query_as(
            "SELECT g.id, g.name, g.target, g.target_id, g.meeting_start, g.meeting_minutes, \
             g.meeting_place, g.meeting_sequence, e.slug, e.title, r.slug, r.name, \
             g.created_by \
             FROM follow_up_groups g JOIN follow_up_group_members m ON m.group_id = g.id \
             LEFT JOIN rooms r ON r.id = g.room_id LEFT JOIN events e ON e.id = r.event_id \
             WHERE m.account_id = $1 ORDER BY g.id DESC",
        )
        .bind(account.get())
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(groups.len());
        for row in groups {
            let (id, name, target, target_id, start, minutes, place, sequence) =
                (row.0, row.1, row.2, row.3, row.4, row.5, row.6, row.7);
            let room = match (row.8, row.9, row.10, row.11) {
                (Some(event_slug), Some(event_title), Some(slug), Some(name)) => Some(GroupRoom {
                    event_slug,
                    event_title,
                    slug,
                    name,
                }),
                _ => None,
            };
            let members: Vec<(i64, String)> = sqlx::query_as(
                "SELECT a.id, a.display_name FROM follow_up_group_members m \
                 JOIN accounts a ON a.id = m.account_id WHERE m.group_id = $1 \
                 ORDER BY a.display_name, a.id",
            )
            .bind(id)
            .fetch_all(&self.pool)
            .await?;
            out.push(FollowUpGroup {
                id: FollowUpGroupId::new(id),
                name,
                target: FollowTarget::from_str(&target).map_err(StoreError::Corrupt)?,
                target_id,
                members: members
                    .into_iter()
                    .map(|(id, name)| Who::new(AccountId::new(id), name))
                    .collect(),
                created_by: row.12.map(AccountId::new),
                meeting: start.map(|starts_at| GroupMeeting {
                    starts_at,
                    minutes,
                    place,
                    sequence,
                }),
                room,
            });
        }
        Ok(out)
    }

    /// A member proposes a date for the group (replacing an earlier proposal). Returns
    /// the group as it is now and every member's address and mail language, for the
    /// invitations.
    #[tracing::instrument(level = "debug", skip_all, fields(account = %account, group_id = %group_id))]
    pub async fn propose_meeting(
        &self,
        account: AccountId,
        group_id: FollowUpGroupId,
        starts_at: i64,
        minutes: i64,
        place: &str,
    ) -> Result<(FollowUpGroup, Vec<GroupRecipient>)> {
        let mut tx = self.begin_write().await?;
        let member: Option<(i64,)> = sqlx::query_as(
            "SELECT 1 FROM follow_up_group_members WHERE group_id = $1 AND account_id = $2",
        )
        .bind(group_id.get())
        .bind(account.get())
        .fetch_optional(&mut *tx)
        .await?;
        if member.is_none() {
            return Err(StoreError::NotFound);
        }
        sqlx::query(
            "UPDATE follow_up_groups SET meeting_start = $1, meeting_minutes = $2, \
             meeting_place = $3, meeting_sequence = meeting_sequence + 1 WHERE id = $4",
        )
        .bind(starts_at)
        .bind(minutes)
        .bind(place)
        .bind(group_id.get())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        let group = self
            .groups_of(account)
            .await?
            .into_iter()
            .find(|g| g.id == group_id)
            .ok_or(StoreError::NotFound)?;
        let rows: Vec<(i64, String, String, String)> = sqlx::query_as(
            "SELECT a.id, a.display_name, a.email, COALESCE(p.language, 'de') \
             FROM follow_up_group_members m JOIN accounts a ON a.id = m.account_id \
             LEFT JOIN mail_preferences p ON p.account_id = a.id WHERE m.group_id = $1 \
             ORDER BY a.display_name, a.id",
        )
        .bind(group_id.get())
        .fetch_all(&self.pool)
        .await?;
        let members = rows
            .into_iter()
            .map(|(id, name, email, language)| GroupRecipient {
                who: Who::new(AccountId::new(id), name),
                email,
                language,
            })
            .collect();
        Ok((group, members))
    }
}

/// Puts group `group_id` in a room, inside `tx`: an existing room of an event `account`
/// takes part in, or a new small room there (at most [`GROUP_ROOMS_PER_EVENT`] per
/// event), named after the connection point when everybody in that event may read it
/// (a focus topic, or a pin or visible impulse of the same event), else after the group.
async fn place_group(
    tx: &mut Tx,
    account: AccountId,
    group_id: FollowUpGroupId,
    group_name: &str,
    target: FollowTarget,
    target_id: i64,
    place: GroupPlace,
) -> Result<()> {
    let takes_part = |event_id: EventId| {
        sqlx::query_as::<_, (i64,)>(
            "SELECT 1 FROM event_people p WHERE p.event_id = $1 AND p.account_id = $2 \
             AND NOT EXISTS (SELECT 1 FROM event_removals x WHERE x.event_id = p.event_id \
                 AND x.account_id = p.account_id)",
        )
        .bind(event_id.get())
        .bind(account.get())
    };
    let not_yours = || StoreError::from(FollowUpRefusal::RoomNotYours);
    let (room_id, created) = match place {
        GroupPlace::Room(room_id) => {
            let room: Option<(i64,)> = sqlx::query_as(
                "SELECT event_id FROM rooms WHERE id = $1 AND kind NOT IN ('helpdesk', 'table')",
            )
            .bind(room_id.get())
            .fetch_optional(&mut **tx)
            .await?;
            let (event_id,) = room.ok_or_else(not_yours)?;
            takes_part(EventId::new(event_id))
                .fetch_optional(&mut **tx)
                .await?
                .ok_or_else(not_yours)?;
            (room_id, false)
        }
        GroupPlace::NewRoom { event_id } => {
            takes_part(event_id)
                .fetch_optional(&mut **tx)
                .await?
                .ok_or_else(not_yours)?;
            // The group's own room there already: it stays (no second one).
            let own: Option<(i64,)> = sqlx::query_as(
                "SELECT r.id FROM follow_up_groups g JOIN rooms r ON r.id = g.room_id \
                 WHERE g.id = $1 AND g.room_created = 1 AND r.event_id = $2",
            )
            .bind(group_id.get())
            .bind(event_id.get())
            .fetch_optional(&mut **tx)
            .await?;
            if own.is_some() {
                return Ok(());
            }
            let (count,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM follow_up_groups g JOIN rooms r ON r.id = g.room_id \
                 WHERE r.event_id = $1 AND g.room_created = 1",
            )
            .bind(event_id.get())
            .fetch_one(&mut **tx)
            .await?;
            if count >= GROUP_ROOMS_PER_EVENT {
                return Err(FollowUpRefusal::TooManyRooms.into());
            }
            let label: (Option<String>,) = sqlx::query_as(
                "SELECT CASE $1 WHEN 'topic' THEN (SELECT title FROM topics WHERE id = $2) \
                 WHEN 'impulse' THEN (SELECT text FROM impulses WHERE id = $2 \
                     AND event_id = $3 AND hidden = 0) \
                 ELSE (SELECT text FROM pins WHERE id = $2 AND event_id = $3) END",
            )
            .bind(target.as_str())
            .bind(target_id)
            .bind(event_id.get())
            .fetch_one(&mut **tx)
            .await?;
            let name = room_name(label.0.as_deref().unwrap_or(group_name));
            let slug = free_slug(tx, event_id, group_id).await?;
            let capacity = i64::try_from(GROUP_MEMBERS_MAX + 1).unwrap_or(i64::MAX);
            let room = NewRoom {
                slug,
                name,
                kind: RoomKind::Other,
                capacity,
                moderator_id: None,
            };
            (insert_room(tx, event_id, &room).await?, true)
        }
    };
    sqlx::query("UPDATE follow_up_groups SET room_id = $1, room_created = $2 WHERE id = $3")
        .bind(room_id.get())
        .bind(i64::from(created))
        .bind(group_id.get())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A room name from a connection point's text: one line, at most
/// [`GROUP_ROOM_NAME_MAX`] characters (cut with "…").
fn room_name(label: &str) -> String {
    let line = label.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= GROUP_ROOM_NAME_MAX {
        return line;
    }
    let mut cut: String = line.chars().take(GROUP_ROOM_NAME_MAX - 1).collect();
    cut.push('…');
    cut
}

/// `gruppe-{id}`, or with a number after it if the organizers use that slug already.
async fn free_slug(tx: &mut Tx, event_id: EventId, group_id: FollowUpGroupId) -> Result<String> {
    let taken: Vec<(String,)> =
        sqlx::query_as("SELECT slug FROM rooms WHERE event_id = $1 AND slug LIKE $2")
            .bind(event_id.get())
            .bind(format!("gruppe-{group_id}%"))
            .fetch_all(&mut **tx)
            .await?;
    let base = format!("gruppe-{group_id}");
    let mut slug = base.clone();
    let mut n = 1;
    while taken.iter().any(|(s,)| *s == slug) {
        n += 1;
        slug = format!("{base}-{n}");
    }
    Ok(slug)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_connection_point_makes_a_room_name_of_one_line_within_the_limit() {
        assert_eq!(room_name("Cloud  für\nalle"), "Cloud für alle");
        let long = "x".repeat(300);
        let name = room_name(&long);
        assert_eq!(name.chars().count(), GROUP_ROOM_NAME_MAX);
        assert!(name.ends_with('…'));
    }
}
