//! The demo strategy process (S1–S4, K9–K11): focus topics and target pictures, café
//! rounds, the pinboard and a consolidation in progress.

use konvent_core::authz::{Grant, Role, Scope};
use konvent_core::demo;
use konvent_core::ids::{EventId, ImpulseId, PinId, RoundId};
use konvent_core::strategy::demo::{self as strategy_demo, DemoTopic};
use konvent_core::strategy::grouping::group;
use konvent_core::strategy::{PinStatus, RoundStatus, TABLE_CAPACITY, Visibility};

use super::invalid;
use crate::{Actor, EventRole, NewTable, NewTopic, Result, Store, Who};

/// The strategy process as the convention left it: the five focus topics with their
/// patrons, an earlier published target picture (with resolution 2024/02, the start of
/// the federal digital strategy) and the confidential version presented at the
/// convention; two café rounds at five tables with impulses and summaries; pins with
/// votes, one picked up and one closed; connection points; and the consolidation of the
/// first topic in progress (two groups saved, one accepted into the next draft).
pub(super) async fn load_strategy(store: &Store, actor: &Actor, event: EventId) -> Result<()> {
    let topics = strategy_demo::topics().map_err(invalid)?;
    let (mod_email, mod_name) = demo::KONVENT_MODERATOR;
    let organizer = Who::new(
        store.ensure_account(mod_email, mod_name, &[]).await?,
        mod_name,
    );
    let mut people = Vec::new();
    for name in strategy_demo::PARTICIPANTS {
        let id = store
            .ensure_account(&strategy_demo::participant_email(name), name, &[])
            .await?;
        store
            .add_to_event(event, id, EventRole::Participant)
            .await?;
        people.push(Who::new(id, name.to_owned()));
    }
    let strategy = store.resolution(2024, 2, crate::Visibility::Public).await?;
    let mut tables = Vec::new();
    let mut patrons = Vec::new();
    for t in &topics {
        let topic = store
            .create_topic(&NewTopic {
                slug: t.slug.clone(),
                title: t.title.clone(),
                patron: t.patron.clone(),
                question: t.question.clone(),
                guiding_questions: t.guiding_questions.clone(),
            })
            .await?;
        let grant = Grant::new(Role::Patron, Scope::Topic(topic)).map_err(invalid)?;
        let patron = store
            .ensure_account(&strategy_demo::patron_email(&t.slug), &t.patron, &[])
            .await?;
        store.add_grant(actor, patron, &grant).await?;
        store
            .add_to_event(event, patron, EventRole::Participant)
            .await?;
        patrons.push(Who::new(patron, t.patron.clone()));
        let by = "Projektteam Föderale Digitalstrategie";
        let earlier = store
            .add_target_picture(topic, &t.earlier_target_picture(), Visibility::Draft, by)
            .await?;
        store
            .advance_target_picture(earlier, Visibility::Confidential, None)
            .await?;
        store
            .advance_target_picture(earlier, Visibility::Published, Some(strategy.id))
            .await?;
        let current = store
            .add_target_picture(topic, &t.target_picture, Visibility::Draft, by)
            .await?;
        store
            .advance_target_picture(current, Visibility::Confidential, None)
            .await?;
        tables.push(NewTable {
            topic_id: topic,
            moderator_id: Some(patron),
            capacity: TABLE_CAPACITY,
        });
    }
    for round in 0..2 {
        let id = store
            .create_round(
                event,
                round as i64 + 1,
                konvent_core::strategy::ROUND_MINUTES,
                &tables,
            )
            .await?;
        play_round(
            store, event, id, round, &topics, &people, &patrons, &organizer,
        )
        .await?;
    }
    pinboard(store, event, &topics, &people, &organizer).await?;
    for (i, who) in people.iter().enumerate() {
        let topic = store.topic(&topics[i % topics.len()].slug).await?;
        store
            .follow(
                who.id,
                konvent_core::strategy::FollowTarget::Topic,
                topic.id.get(),
                true,
            )
            .await?;
        // A networking profile (K15+) for each, so the list of who is here and the
        // people with the same connection points are filled at once.
        let (organisation, role, region, tag, about) = strategy_demo::PROFILES[i];
        let fields = konvent_core::convention::networking::ProfileFields {
            organisation: organisation.into(),
            role: role.into(),
            region: region.into(),
            topics: vec![topic.title.clone(), tag.into()],
            about: about.into(),
            phone: String::new(),
            share_email: true,
            visibility: if i % 3 == 2 {
                konvent_core::convention::networking::ProfileVisibility::Event
            } else {
                konvent_core::convention::networking::ProfileVisibility::SignedIn
            },
            show_location: true,
            match_points: true,
        };
        store.save_profile(who.id, EventId::new(0), &fields).await?;
    }
    consolidate(store, &topics[0]).await
}

/// One café round: started, everybody seated (each round at another table), the
/// impulses written by the people at the table, the moderator's summary, ended.
#[allow(clippy::too_many_arguments)]
async fn play_round(
    store: &Store,
    event: EventId,
    round_id: RoundId,
    round: usize,
    topics: &[DemoTopic],
    people: &[Who],
    patrons: &[Who],
    organizer: &Who,
) -> Result<()> {
    store
        .set_round(event, round_id, organizer, RoundStatus::Running)
        .await?;
    let tables = store
        .rounds(event)
        .await?
        .into_iter()
        .find(|r| r.id == round_id)
        .map(|r| r.tables)
        .unwrap_or_default();
    let mut seated: Vec<Vec<&Who>> = vec![Vec::new(); tables.len()];
    for (i, who) in people.iter().enumerate() {
        let at = (i + round * 2) % tables.len();
        store.take_seat(tables[at].id, who.id, who.id).await?;
        seated[at].push(who);
    }
    for (t, table) in tables.iter().enumerate() {
        let topic = topics
            .iter()
            .find(|d| d.slug == table.topic.slug)
            .ok_or_else(|| invalid(format!("table topic {}", table.topic.slug)))?;
        for (i, text) in topic.impulses[round].iter().enumerate() {
            // Every fifth impulse is the moderator's, the rest come from the table.
            let author = match seated[t].get(i % 5) {
                Some(who) if i % 5 != 4 => *who,
                _ => &patrons[t],
            };
            store.add_impulse(table.id, author, text, None).await?;
        }
        store
            .save_summary(table.id, &patrons[t], &topic.summaries[round])
            .await?;
    }
    store
        .set_round(event, round_id, organizer, RoundStatus::Ended)
        .await?;
    Ok(())
}

/// The pins of all tables, with votes; the most voted is picked up, one closed.
async fn pinboard(
    store: &Store,
    event: EventId,
    topics: &[DemoTopic],
    people: &[Who],
    organizer: &Who,
) -> Result<()> {
    let mut pins = Vec::new();
    let mut n = 0;
    for topic in topics {
        let id = store.topic(&topic.slug).await?.id;
        for text in &topic.pins {
            let author = &people[n % people.len()];
            let written = store.add_pin(event, Some(id), author, text, None).await?;
            let pin = PinId::new(written.record.data["id"].as_i64().unwrap_or_default());
            // A spread of dot votes: 0 to 6 per pin.
            for voter in people.iter().skip(n % 4).step_by(2).take((n * 5) % 7) {
                store.vote_pin(event, pin, voter, true).await?;
            }
            pins.push(pin);
            n += 1;
        }
    }
    let (ranked, _) = store.pins(event, organizer.id).await?;
    if let Some(top) = ranked.first() {
        store
            .decide_pin(
                event,
                top.id,
                organizer,
                PinStatus::PickedUp,
                "Wird in der Nachbesprechung der 46. Sitzung des IT-Planungsrats aufgegriffen.",
                Some("/gremien/nachbesprechungen"),
            )
            .await?;
    }
    if let Some(last) = ranked.last() {
        store
            .decide_pin(
                event,
                last.id,
                organizer,
                PinStatus::Closed,
                "Geht im Schwerpunktthema Informationssicherheit auf.",
                None,
            )
            .await?;
    }
    Ok(())
}

/// The first topic's consolidation in progress: the two biggest groups saved, the first
/// accepted into the draft of the next target-picture version.
async fn consolidate(store: &Store, topic: &DemoTopic) -> Result<()> {
    let topic = store.topic(&topic.slug).await?;
    let impulses = store.topic_impulses(topic.id).await?;
    let texts: Vec<&str> = impulses.iter().map(|i| i.text.as_str()).collect();
    let (groups, _) = group(&texts);
    let by = "Projektteam Föderale Digitalstrategie";
    let mut saved = Vec::new();
    for g in groups.iter().filter(|g| g.members.len() > 1).take(2) {
        let members: Vec<ImpulseId> = g.members.iter().map(|&i| impulses[i].id).collect();
        let label = g.shared.join(", ");
        saved.push(store.save_group(topic.id, &label, &members, by).await?);
    }
    if let Some(first) = saved.first() {
        store.accept_group(topic.id, *first, by).await?;
    }
    Ok(())
}
