//! The live side of an event: the hub (fan-out, bus, sequencer), the WebSocket, and the
//! commands people send (`docs/live-protocol.md`). Commands go authorize → validate →
//! store (one transaction with its live-log entry) → bus; the same path serves the
//! WebSocket and the plain HTML forms that work without JavaScript.

pub mod cafe;
pub mod commit;
pub mod fragments;
pub mod info;
pub mod moderation;
pub mod parts;
pub mod publish;
pub mod socket;

use konvent_core::ids::{AccountId, EventId};
use std::sync::Arc;

use jiff::Timestamp;
use konvent_core::authz::event::{self as rules, DirectMessage, DirectMessageAllowed};
use konvent_core::authz::{Action, Principal};
use konvent_core::convention::RoomKind;
use konvent_core::convention::live::{self, Command, LiveRefusal, Recipient, Refusal, TimerAction};
use konvent_core::convention::log::payload::{self, Payload};
use konvent_store::{ChatLine, EventRole, Room, Store, StoreError, Timer, Who, Written};

use crate::markdown::chat_to_html;
use commit::Committer;
use konvent_live::{Bus, Fanout, Goodbye, InProcessBus, LiveMetrics, Maps};
use publish::{Publisher, StoreLog};

use info::Infos;
pub use info::{EventInfo, room_refs};

/// The live state of one node.
pub struct Live {
    pub store: Store,
    pub fanout: Arc<Fanout>,
    /// Renders committed entries and puts them on the bus.
    pub publisher: Arc<Publisher>,
    /// Avatars on the venue maps.
    pub maps: Arc<Maps>,
    chats: Committer<ChatLine>,
    /// Impulses go through their own group commit.
    pub impulses: Committer<konvent_store::NewImpulse>,
    /// The events' parts that change rarely, as this node last read them.
    infos: Infos,
    /// Mutes and chat locks per event (K17).
    pub moderation: moderation::Cache,
    /// Parts of the pages that only the live log changes (chat, hands, café rounds).
    pub parts: parts::Parts,
    /// Durable commands per person within 10 seconds (`live_writes_per_10s`; staff get
    /// [`live::STAFF_WRITE_FACTOR`] times as many); 0: no limit.
    writes_per_window: usize,
    /// The log's epoch (read once: a new one needs the nodes restarted).
    epoch: tokio::sync::OnceCell<Arc<str>>,
    /// The people lists that follow the event's presence (K15+).
    pub people: Arc<crate::networking::watch::PeopleWatch>,
}

/// Where an event's log stands when a connection opens: its last sequence number and the
/// log's epoch.
#[derive(Debug, Clone)]
pub struct LogPosition {
    pub last_seq: i64,
    pub epoch: Arc<str>,
}

impl Live {
    /// The live side of a single node (the bus is the node itself).
    pub fn new(store: Store, metrics: LiveMetrics, writes_per_window: usize) -> Arc<Self> {
        Self::with_bus(store, metrics, writes_per_window, |fanout, _| {
            InProcessBus::of(fanout)
        })
    }

    /// The live side with the bus `bus` makes for the node's fan-out and maps (a bus
    /// between nodes delivers what it receives to them).
    pub fn with_bus(
        store: Store,
        metrics: LiveMetrics,
        writes_per_window: usize,
        bus: impl FnOnce(&Arc<Fanout>, &Arc<Maps>) -> Arc<dyn Bus>,
    ) -> Arc<Self> {
        let fanout = Fanout::new(
            Arc::new(StoreLog {
                store: store.clone(),
            }),
            metrics,
        );
        let maps = Maps::new(fanout.clone());
        let bus = bus(&fanout, &maps);
        fanout.set_bus(bus.clone());
        let publisher = Publisher::new(store.clone(), bus);
        let changes = fanout.changes();
        let forgets = store.memo_changes();
        let live = Arc::new(Self {
            people: crate::networking::watch::PeopleWatch::new(&fanout),
            maps,
            chats: Committer::new(store.clone(), publisher.clone(), commit::chats),
            impulses: Committer::new(store.clone(), publisher.clone(), commit::impulses),
            store,
            fanout,
            publisher,
            infos: Infos::default(),
            moderation: moderation::Cache::default(),
            parts: parts::Parts::default(),
            writes_per_window,
            epoch: tokio::sync::OnceCell::new(),
        });
        tokio::spawn(info::follow_other_nodes(Arc::downgrade(&live), changes));
        tokio::spawn(info::tell_other_nodes(Arc::downgrade(&live), forgets));
        live
    }

    /// Where the event's log stands now (read from the database).
    pub async fn log_position(&self, event_id: EventId) -> Result<LogPosition, StoreError> {
        let epoch = self
            .epoch
            .get_or_try_init(|| async { self.store.live_epoch().await.map(Arc::from) })
            .await?
            .clone();
        Ok(LogPosition {
            last_seq: self.store.last_seq(event_id).await?,
            epoch,
        })
    }

    /// The node shuts down: every live connection is told to reconnect (to another
    /// node, through the proxy); waits up to `grace` for them to go.
    pub async fn drain(&self, grace: std::time::Duration) {
        let told = self.fanout.close_all(Goodbye::Restart);
        tracing::info!(connections = told, "live: told every connection to move on");
        let deadline = tokio::time::Instant::now() + grace;
        while self.fanout.connections() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// The event's parts, from this node's copy while it is fresh ([`info::FRESH`]).
    pub async fn info(&self, slug: &str) -> Result<Arc<EventInfo>, StoreError> {
        if let Some(info) = self.infos.fresh(slug) {
            return Ok(info);
        }
        let info = Arc::new(EventInfo::read(&self.store, slug).await?);
        self.publisher.know(info.event.id, &info.event.slug);
        self.fanout
            .set_mute_threshold(info.event.id, info.event.mute_threshold);
        self.maps.ensure(info.event.id, info.map.clone());
        self.infos.keep(info.clone());
        Ok(info)
    }

    /// Counts one durable command of `account` against its budget in the event; false
    /// when the budget of the last 10 seconds is spent (the command is refused, and
    /// nothing is read or written for it).
    pub(crate) fn within_budget(&self, event_id: EventId, account: AccountId, staff: bool) -> bool {
        let limit = rules::write_limit(self.writes_per_window, staff);
        self.fanout.budgets.try_spend(event_id, account, limit)
    }

    /// The account signed out: its open sockets, in every event, close with 4001
    /// ("signed out"). A socket's rights are taken when it opens; without this, a socket
    /// opened before the sign-out would go on acting for the account.
    pub fn signed_out(&self, account: AccountId) {
        let closed = self
            .fanout
            .close_account_everywhere(account, Goodbye::SignedOut);
        tracing::debug!(%account, closed, "live: sockets closed after sign-out");
    }

    /// The account's grants or event roles changed: its open sockets close with 4003
    /// ("rights changed: reconnect"); the client reconnects at once, and the server
    /// derives its rights anew from the database (a grant taken away no longer lets an
    /// old socket announce or run the timer). Called by every handler that changes
    /// grants or a person's part in an event.
    pub fn account_changed(&self, account: AccountId) {
        let closed = self
            .fanout
            .close_account_everywhere(account, Goodbye::RightsChanged);
        tracing::debug!(
            %account,
            closed,
            "live: sockets closed after a change of rights"
        );
    }

    /// Publishes a committed entry (only fresh ones: a re-sent command was published
    /// the first time).
    pub fn publish(&self, written: &Written) {
        if written.fresh {
            // The event's current item, timer, feedback switch and its rooms' speakers
            // are part of its cached parts: its pages read them from there, so a
            // reload equals the live page.
            let record = &written.record;
            if [
                payload::Agenda::KIND,
                payload::Timer::KIND,
                payload::FeedbackOpen::KIND,
                payload::Floor::KIND,
            ]
            .contains(&record.kind.as_str())
            {
                self.invalidate(record.event_id);
            }
            self.publisher.publish(record);
        }
    }
}

/// Who acts in an event, with what they may do there.
#[derive(Debug, Clone)]
pub struct Actor {
    pub who: Who,
    pub email: String,
    /// Organizer of this event (or admin).
    pub organizer: bool,
    /// Organizers and the help desk's helpers: they see messages to the help desk and
    /// questions waiting for approval.
    pub staff: bool,
    principal: Principal,
}

impl Actor {
    /// The principal's part in the event, or `None` when it may not enter.
    pub async fn of(
        store: &Store,
        info: &EventInfo,
        principal: &Principal,
    ) -> Result<Option<Self>, StoreError> {
        let event = info.event.id;
        let organizer = principal.may(Action::OrganizeEvent(event));
        // Role, removal and name in one read, from the store's copy while it is fresh.
        let membership = store.membership(event, principal.user_id).await?;
        let role = membership.role;
        let moderates = info.rooms.iter().any(|r| moderates(principal, event, r));
        if !organizer && role.is_none() && !moderates {
            return Ok(None);
        }
        // Removed from the event (K17): out until an organizer lets them back.
        if !organizer && membership.removed {
            return Ok(None);
        }
        // The one place a person's name in an event is decided for what they do there:
        // their pseudonym while the event allows pseudonyms (issue 21), so everything
        // they write (chat, impulses, hands, questions, pins) carries it, never the real name.
        Ok(Some(Self {
            who: Who::new(principal.user_id, membership.name.clone()),
            email: principal.email.clone(),
            organizer,
            staff: organizer || role == Some(EventRole::Helper),
            principal: principal.clone(),
        }))
    }

    pub fn moderates(&self, info: &EventInfo, room: &Room) -> bool {
        moderates(&self.principal, info.event.id, room)
    }

    /// The slugs of the rooms this person moderates.
    pub fn moderated_rooms(&self, info: &EventInfo) -> Vec<String> {
        info.rooms
            .iter()
            .filter(|r| self.moderates(info, r))
            .map(|r| r.slug.clone())
            .collect()
    }

    /// This person as the live regions' `data-gate` rules see them.
    pub fn viewer(&self, info: &EventInfo) -> fragments::Viewer {
        fragments::Viewer {
            id: self.who.id,
            organizer: self.organizer,
            staff: self.staff,
            moderates: self.moderated_rooms(info),
            mine: Default::default(),
            now: jiff::Timestamp::now(),
        }
    }
}

/// The room's named moderator, a moderator grant for it, or the event's organizers
/// ([`rules::moderates`]).
pub fn moderates(principal: &Principal, event: EventId, room: &Room) -> bool {
    rules::moderates(
        principal,
        event,
        room.id,
        room.moderator.as_ref().map(|m| m.id),
    )
}

fn refusal(e: StoreError) -> Refusal {
    match e {
        StoreError::NotFound => Refusal::from(LiveRefusal::NotFound),
        StoreError::Refused(r) => Refusal::from(r),
        other => {
            tracing::error!(error = %other, "live command failed");
            Refusal::from(LiveRefusal::Internal)
        }
    }
}

/// Runs one durable command for `actor` in `room` (the room they are in). Join, leave
/// and ping belong to the connection and are answered by the socket. On success the
/// entry is committed and published.
///
/// This is the one way into the live log for every durable command, from the WebSocket
/// and from the plain forms alike, and every such command counts against the person's
/// budget first ([`Command::belongs_to_connection`] names the only exemptions): one
/// participant cannot fill the disk with hands raised and lowered, votes given and taken
/// back, or seats taken. Toggles over the budget are refused like any other command;
/// the client's state stays what the last accepted one made it.
pub async fn run(
    live: &Live,
    info: &EventInfo,
    actor: &Actor,
    room: Option<&Room>,
    command: Command,
) -> Result<Written, Refusal> {
    let store = &live.store;
    let event = info.event.id;
    let id = command.id().map(str::to_owned);
    let client_id = id.as_deref();
    if !command.belongs_to_connection() && !live.within_budget(event, actor.who.id, actor.staff) {
        return Err(Refusal::from(LiveRefusal::TooManyActions));
    }
    moderation::check_write(live, info, actor, room, &command).await?;
    let in_room = || room.ok_or_else(|| Refusal::from(LiveRefusal::EnterRoomFirst));
    let written = match command {
        Command::Chat { text, .. } => {
            let room = in_room()?;
            let text = live::text(&text)?;
            // Group commit; the committer publishes.
            return live
                .chats
                .post(ChatLine {
                    event_id: event,
                    room: room.slug.clone(),
                    from: actor.who.clone(),
                    client_id: id,
                    html: chat_to_html(&text),
                    text,
                })
                .await
                .map_err(refusal);
        }
        Command::Announce { text, .. } => {
            rules::organizer_only(actor.organizer)?;
            let text = live::text(&text)?;
            store
                .announce(event, &actor.who, client_id, &text, &chat_to_html(&text))
                .await
        }
        Command::Dm {
            to,
            to_helpdesk,
            text,
            ..
        } => {
            let text = live::text(&text)?;
            let recipient = match (to, to_helpdesk) {
                (Some(Recipient::Helpdesk), _) | (_, true) => None,
                (Some(Recipient::Person(to)), false) => {
                    Some(dm_recipient(store, info, actor, to).await?)
                }
                (None, false) => {
                    return Err(Refusal::from(LiveRefusal::NoRecipient));
                }
            };
            store
                .direct_message(
                    event,
                    &actor.who,
                    recipient.as_ref(),
                    client_id,
                    &text,
                    &chat_to_html(&text),
                )
                .await
        }
        Command::Hand { up, .. } => {
            let room = in_room()?;
            store.set_hand(event, room, &actor.who, up, client_id).await
        }
        Command::Floor { user, .. } => {
            let room = in_room()?;
            if !actor.moderates(info, room) {
                return Err(Refusal::from(LiveRefusal::FloorByModeration));
            }
            let speaker = match user {
                Some(id) => Some(person_in_event(store, info, id).await?),
                None => None,
            };
            store
                .give_floor(event, room, &actor.who, speaker.as_ref(), client_id)
                .await
        }
        Command::Agenda { current, .. } => {
            rules::organizer_only(actor.organizer)?;
            let current = match current {
                None => None,
                Some(i) => Some(
                    usize::try_from(i)
                        .ok()
                        .filter(|i| *i < info.agenda.len())
                        .ok_or_else(|| Refusal::from(LiveRefusal::NoSuchAgendaItem))?,
                ),
            };
            store
                .set_current_item(event, &actor.who, current, &info.agenda, client_id)
                .await
        }
        Command::Timer {
            action,
            seconds,
            label,
            ..
        } => {
            rules::organizer_only(actor.organizer)?;
            let seconds = live::timer_seconds(seconds)?;
            let label = match label {
                Some(l) if !l.trim().is_empty() => live::text(&l)?,
                _ => "Pitch".to_owned(),
            };
            let ends_at = match action {
                // In whole seconds: the entry and the stored timer (microseconds) then
                // name the same end, so a live page and its reload show the same.
                TimerAction::Start => Some(
                    Timestamp::now()
                        .as_second()
                        .checked_add(seconds)
                        .and_then(|end| Timestamp::from_second(end).ok())
                        .ok_or_else(|| Refusal::from(LiveRefusal::TimeOutOfRange))?,
                ),
                TimerAction::Stop => None,
            };
            let timer = Timer {
                label,
                seconds,
                ends_at,
            };
            store.set_timer(event, &actor.who, &timer, client_id).await
        }
        Command::Ask {
            text, anonymous, ..
        } => {
            let text = live::text(&text)?;
            store
                .ask(event, &actor.who, &text, anonymous, client_id)
                .await
        }
        Command::Upvote { question, .. } => {
            store.upvote(event, &actor.who, question, client_id).await
        }
        Command::Moderate {
            question, status, ..
        } => {
            rules::organizer_only(actor.organizer)?;
            store
                .moderate_question(event, &actor.who, question, status, client_id)
                .await
                .map(|(withdrawn, written)| {
                    // A public question taken back leaves everybody's pages first.
                    if let Some(record) = withdrawn {
                        live.publisher.publish(&record);
                    }
                    written
                })
        }
        cafe @ (Command::Impulse { .. }
        | Command::EditImpulse { .. }
        | Command::ModerateImpulse { .. }
        | Command::Summary { .. }
        | Command::Round { .. }
        | Command::Seat { .. }
        | Command::Pin { .. }
        | Command::VotePin { .. }
        | Command::DecidePin { .. }) => {
            // Publishes, itself or through the group commit.
            return cafe::run(live, info, actor, &cafe).await;
        }
        moderating @ (Command::Remove { .. }
        | Command::Report { .. }
        | Command::DismissReport { .. }
        | Command::Mute { .. }
        | Command::Unmute { .. }
        | Command::Expel { .. }
        | Command::Readmit { .. }
        | Command::LockChat { .. }) => {
            return moderation::run(live, info, actor, moderating).await;
        }
        Command::Join { .. }
        | Command::Leave
        | Command::Ping
        | Command::EnterMap { .. }
        | Command::Move { .. }
        | Command::Goto { .. } => {
            return Err(Refusal::from(LiveRefusal::ConnectionCommand));
        }
    }
    .map_err(refusal)?;
    live.publish(&written);
    Ok(written)
}

/// Somebody who takes part in the event (for the floor).
async fn person_in_event(store: &Store, info: &EventInfo, id: AccountId) -> Result<Who, Refusal> {
    let principal = store
        .principal(id)
        .await
        .map_err(refusal)?
        .ok_or_else(|| Refusal::from(LiveRefusal::NoSuchPerson))?;
    match Actor::of(store, info, &principal).await.map_err(refusal)? {
        Some(actor) => Ok(actor.who),
        None => Err(Refusal::from(LiveRefusal::NotInEvent)),
    }
}

/// The person a direct message goes to, if `actor` may write to them
/// ([`DirectMessage::check`]).
async fn dm_recipient(
    store: &Store,
    info: &EventInfo,
    actor: &Actor,
    to: AccountId,
) -> Result<Who, Refusal> {
    let principal = store
        .principal(to)
        .await
        .map_err(refusal)?
        .ok_or_else(|| Refusal::from(LiveRefusal::NoSuchPerson))?;
    let recipient = Actor::of(store, info, &principal)
        .await
        .map_err(refusal)?
        .ok_or_else(|| Refusal::from(LiveRefusal::NotInEvent))?;
    let rule = DirectMessage {
        sender_staff: actor.staff,
        recipient_staff: recipient.staff,
        recipient_moderates: info.rooms.iter().any(|r| recipient.moderates(info, r)),
        // Accepted contacts (K15+) write to each other; a block ends that.
        contacts: store
            .are_contacts(actor.who.id, recipient.who.id)
            .await
            .map_err(refusal)?,
    };
    if rule.check()? == DirectMessageAllowed::BetweenContacts {
        // Between contacts: an hourly budget on top of the live one (K15+).
        let key = format!("direct-message:{}", actor.who.id);
        let spent = store.recent_sign_in_failures(&key).await.map_err(refusal)?;
        if spent >= konvent_core::convention::networking::DMS_PER_HOUR {
            return Err(Refusal::from(LiveRefusal::TooManyDirectMessages));
        }
        store
            .record_sign_in_failure(&[&key])
            .await
            .map_err(refusal)?;
    }
    Ok(recipient.who)
}

/// Rooms of a kind, e.g. the help desk.
pub fn rooms_of(info: &EventInfo, kind: RoomKind) -> impl Iterator<Item = &Room> {
    info.rooms.iter().filter(move |r| r.kind == kind)
}
