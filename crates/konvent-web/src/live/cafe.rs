//! The World Café's and the pinboard's live commands (K9–K11): impulses at a table,
//! their moderation, the table's summary, rounds, seats and pins. Same path as every
//! live command: authorize → validate → commit (with its live-log entry) → publish.

use konvent_core::authz::event as rules;
use konvent_core::convention::live::{Command, LiveRefusal, Refusal, Wanted, strategy_text};
use konvent_core::ids::{AccountId, ImpulseId, PinId, TableId};
use konvent_core::strategy::{self, PinStatus, RoundStatus};
use konvent_store::{CafeTable, NewImpulse, Written};

use super::{Actor, EventInfo, Live, person_in_event, refusal};

/// Longest outcome note of a pin (where it was taken up, or why it was closed).
pub const OUTCOME_MAX: usize = 1000;
/// Longest link to where a pin was taken up.
pub const URL_MAX: usize = 500;

/// The table, if it belongs to this event.
async fn table_of(live: &Live, info: &EventInfo, table: TableId) -> Result<CafeTable, Refusal> {
    let table = live.store.cafe_table(table).await.map_err(refusal)?;
    if table.event_id == info.event.id {
        Ok(table)
    } else {
        Err(Refusal::from(LiveRefusal::NoSuchTable))
    }
}

/// The table's moderator, a moderator of its room, or an organizer
/// ([`rules::leads_table`]).
pub fn leads(actor: &Actor, info: &EventInfo, table: &CafeTable) -> bool {
    rules::leads_table(
        actor.organizer,
        actor.who.id,
        table.moderator.as_ref().map(|m| m.id),
        info.room(&table.room_slug)
            .is_some_and(|room| actor.moderates(info, room)),
    )
}

fn moderator_only(actor: &Actor, info: &EventInfo, table: &CafeTable) -> Result<(), Refusal> {
    if leads(actor, info, table) {
        Ok(())
    } else {
        Err(Refusal::from(LiveRefusal::TableLeadOnly))
    }
}

/// Runs a café or pinboard command and publishes its entry.
pub async fn run(
    live: &Live,
    info: &EventInfo,
    actor: &Actor,
    command: &Command,
) -> Result<Written, Refusal> {
    if let Command::Impulse {
        id, table, text, ..
    } = command
    {
        // Group commit; the committer publishes.
        return impulse(live, info, actor, *table, text, id.as_deref()).await;
    }
    let written = match command {
        Command::EditImpulse { impulse, text, .. } => {
            edit_impulse(live, info, actor, *impulse, text).await
        }
        Command::ModerateImpulse {
            impulse,
            hidden,
            merge_into,
            ..
        } => moderate_impulse(live, info, actor, *impulse, *hidden, *merge_into).await,
        Command::Summary { table, text, .. } => summary(live, info, actor, *table, text).await,
        Command::Round { round, running, .. } => match rules::organizer_only(actor.organizer) {
            Ok(()) => {
                let status = if *running {
                    RoundStatus::Running
                } else {
                    RoundStatus::Ended
                };
                live.store
                    .set_round(info.event.id, *round, &actor.who, status)
                    .await
                    .map_err(refusal)
            }
            Err(e) => Err(e),
        },
        Command::Seat { table, user, .. } => seat(live, info, actor, *table, *user).await,
        Command::Pin {
            id, text, topic, ..
        } => pin(live, info, actor, text, topic.as_deref(), id.as_deref()).await,
        Command::VotePin { pin, on, .. } => live
            .store
            .vote_pin(info.event.id, *pin, &actor.who, *on)
            .await
            .map_err(refusal),
        Command::DecidePin {
            pin,
            status,
            outcome,
            url,
            ..
        } => decide_pin(live, info, actor, *pin, status, outcome, url.as_deref()).await,
        _ => Err(Refusal::from(LiveRefusal::NotACafeCommand)),
    }?;
    live.publish(&written);
    Ok(written)
}

async fn impulse(
    live: &Live,
    info: &EventInfo,
    actor: &Actor,
    table: TableId,
    text: &str,
    client_id: Option<&str>,
) -> Result<Written, Refusal> {
    let text = strategy_text(text, strategy::IMPULSE_MAX, Wanted::Impulse)?;
    let table = table_of(live, info, table).await?;
    if !leads(actor, info, &table) {
        if table.round_status != RoundStatus::Running {
            return Err(Refusal::from(LiveRefusal::RoundNotRunning));
        }
        let seat = live
            .store
            .seat(table.round_id, actor.who.id)
            .await
            .map_err(refusal)?;
        if seat != Some(table.id) {
            return Err(Refusal::from(LiveRefusal::SitDownFirst));
        }
    }
    live.impulses
        .post(NewImpulse {
            table_id: table.id,
            author: actor.who.clone(),
            text,
            client_id: client_id.map(str::to_owned),
        })
        .await
        .map_err(refusal)
}

async fn edit_impulse(
    live: &Live,
    info: &EventInfo,
    actor: &Actor,
    impulse: ImpulseId,
    text: &str,
) -> Result<Written, Refusal> {
    let text = strategy_text(text, strategy::IMPULSE_MAX, Wanted::Impulse)?;
    let found = live.store.impulse(impulse).await.map_err(refusal)?;
    if found.event_id != info.event.id {
        return Err(Refusal::from(LiveRefusal::NoSuchImpulse));
    }
    live.store
        .edit_impulse(impulse, &actor.who, &text)
        .await
        .map_err(refusal)
}

async fn moderate_impulse(
    live: &Live,
    info: &EventInfo,
    actor: &Actor,
    impulse: ImpulseId,
    hidden: bool,
    merge_into: Option<ImpulseId>,
) -> Result<Written, Refusal> {
    let found = live.store.impulse(impulse).await.map_err(refusal)?;
    if found.event_id != info.event.id {
        return Err(Refusal::from(LiveRefusal::NoSuchImpulse));
    }
    let table = table_of(live, info, found.table_id).await?;
    moderator_only(actor, info, &table)?;
    live.store
        .moderate_impulse(impulse, &actor.who, hidden, merge_into)
        .await
        .map_err(refusal)
}

async fn summary(
    live: &Live,
    info: &EventInfo,
    actor: &Actor,
    table: TableId,
    text: &str,
) -> Result<Written, Refusal> {
    let text = strategy_text(text, strategy::SUMMARY_MAX, Wanted::Summary)?;
    let table = table_of(live, info, table).await?;
    moderator_only(actor, info, &table)?;
    live.store
        .save_summary(table.id, &actor.who, &text)
        .await
        .map_err(refusal)
}

async fn seat(
    live: &Live,
    info: &EventInfo,
    actor: &Actor,
    table: TableId,
    user: Option<AccountId>,
) -> Result<Written, Refusal> {
    let table = table_of(live, info, table).await?;
    if table.round_status == RoundStatus::Ended {
        return Err(Refusal::from(LiveRefusal::RoundOver));
    }
    let account = match user {
        Some(other) if other != actor.who.id => {
            rules::organizer_only(actor.organizer)?;
            person_in_event(&live.store, info, other).await?.id
        }
        _ => actor.who.id,
    };
    live.store
        .take_seat(table.id, account, actor.who.id)
        .await
        .map_err(refusal)
}

async fn pin(
    live: &Live,
    info: &EventInfo,
    actor: &Actor,
    text: &str,
    topic: Option<&str>,
    client_id: Option<&str>,
) -> Result<Written, Refusal> {
    let text = strategy_text(text, strategy::PIN_MAX, Wanted::Pin)?;
    let topic = match topic.map(str::trim).filter(|t| !t.is_empty()) {
        Some(slug) => Some(
            live.store
                .topic(slug)
                .await
                .map_err(|_| Refusal::from(LiveRefusal::NoSuchTopic))?
                .id,
        ),
        None => None,
    };
    live.store
        .add_pin(info.event.id, topic, &actor.who, &text, client_id)
        .await
        .map_err(refusal)
}

async fn decide_pin(
    live: &Live,
    info: &EventInfo,
    actor: &Actor,
    pin: PinId,
    status: &str,
    outcome: &str,
    url: Option<&str>,
) -> Result<Written, Refusal> {
    rules::organizer_only(actor.organizer)?;
    let status: PinStatus = status.parse().map_err(|_| {
        let value = status.to_owned();
        Refusal::from(LiveRefusal::NoSuchPinStatus { value })
    })?;
    let what = if status == PinStatus::Closed {
        Wanted::Reason
    } else {
        Wanted::WhereNext
    };
    let outcome = strategy_text(outcome, OUTCOME_MAX, what)?;
    let url = match url.map(str::trim).filter(|u| !u.is_empty()) {
        None => None,
        Some(u) if u.chars().count() > URL_MAX => {
            return Err(Refusal::from(LiveRefusal::LinkTooLong));
        }
        Some(u) => Some(
            konvent_core::validation::user_link(u)
                .map_err(|_| Refusal::from(LiveRefusal::LinkInvalid))?,
        ),
    };
    live.store
        .decide_pin(
            info.event.id,
            pin,
            &actor.who,
            status,
            &outcome,
            url.as_deref(),
        )
        .await
        .map_err(refusal)
}
