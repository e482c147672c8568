//! Loads the demo data (DESIGN.md "Demo data") into an empty store: the directory of the
//! FachMK deck through the ordinary import, sessions 43–48 with their follow-up
//! meetings, the four resolutions of the decks with their relevance (and so the
//! spokespersons' duties), a few reports, the deck's workshop, and the demo admin account.

use konvent_core::authz::{Grant, Role, Scope};
use konvent_core::demo;
use konvent_core::gremien::council::{ReportInput, ResolutionInput, SessionInput};

use konvent_core::konvent::{self, AgendaEntry};

use konvent_core::strategy::demo::{self as strategy_demo, DemoTopic};
use konvent_core::strategy::grouping::group;
use konvent_core::strategy::{PinStatus, RoundStatus, TABLE_CAPACITY, Visibility};

use crate::{
    Actor, EventRole, NewEvent, NewRoom, NewTable, NewTopic, Result, Store, StoreError, Who,
};

fn invalid(what: String) -> StoreError {
    StoreError::Corrupt(format!("demo data: {what}"))
}

pub async fn load(store: &Store, follow_up_offset_days: i64) -> Result<()> {
    let actor = Actor::system("Demo-Daten");
    store
        .import_directory(&actor, &demo::directory_rows(), |_| {})
        .await?;
    for (number, date, place) in demo::SESSIONS {
        let input = SessionInput::parse(
            &number.to_string(),
            date,
            "10:00",
            "16:00",
            place,
            "",
            "held",
        )
        .map_err(|e| invalid(format!("session {number}: {e}")))?;
        store
            .create_session(&actor, &input, follow_up_offset_days)
            .await?;
    }
    let conferences = store.conferences().await?;
    for r in demo::RESOLUTIONS {
        let session = r.session.map(|n| n.to_string()).unwrap_or_default();
        let input = ResolutionInput::parse(r.number, r.title, r.body, "", &session, "published")
            .map_err(|e| invalid(format!("resolution {}: {e}", r.number)))?;
        let relevance: Vec<(String, String)> = conferences
            .iter()
            .map(|c| (c.abbreviation.clone(), r.relevance.to_owned()))
            .collect();
        store
            .save_resolution(&actor, None, &input, &relevance)
            .await?;
    }
    for (session, conference, no_exchange, answer) in demo::REPORTS {
        let report = if no_exchange {
            ReportInput::no_exchange()
        } else {
            ReportInput::parse(answer, "", "", "").map_err(|e| invalid(format!("report: {e}")))?
        };
        store
            .file_report(&actor, session, conference, &report)
            .await?;
    }
    store
        .create_workshop(
            &actor,
            demo::WORKSHOP_TITLE,
            None,
            None,
            &demo::WORKSHOP_QUESTIONS,
        )
        .await?;
    let event = load_konvent(store, &actor).await?;
    load_strategy(store, &actor, event).await?;
    load_pseudonyms(store, &actor, event).await?;
    let admin = Grant::new(Role::Admin, Scope::Global).map_err(invalid)?;
    store
        .ensure_account(demo::ADMIN_EMAIL, demo::ADMIN_NAME, &[admin])
        .await?;
    load_seats(store, &actor).await?;
    load_minutes(store, &actor).await?;
    load_documents(store, &actor).await?;
    Ok(())
}

/// The minutes of the 46th session (G11), with the office's notes, finalised and
/// released to the members.
async fn load_minutes(store: &Store, actor: &Actor) -> Result<()> {
    store.generate_minutes(actor, 46).await?;
    let session = store.session(46).await?;
    let notes: Vec<(i64, String)> = store
        .agenda(session.id)
        .await?
        .into_iter()
        .filter(|item| item.is_reporting)
        .map(|item| {
            (
                item.id,
                "Die fachpolitischen Sprecherinnen und Sprecher berichten aus ihren \
                 Fachministerkonferenzen; die Berichte liegen der Niederschrift zugrunde."
                    .to_owned(),
            )
        })
        .collect();
    store
        .edit_minutes(
            actor,
            46,
            "Die Sitzung wurde um 10:00 Uhr eröffnet und um 16:00 Uhr geschlossen.",
            &notes,
        )
        .await?;
    store.finalise_minutes(actor, 46).await?;
    // The demo sends no mail: the members find the release in konvent.
    store.release_minutes(actor, 46, &|_| None).await?;
    Ok(())
}

/// Documents (G12) on two agenda items: the reporting items of the 46th and 47th
/// sessions, each a small PDF; the 46th's in a second version.
async fn load_documents(store: &Store, actor: &Actor) -> Result<()> {
    use crate::{NewFile, Owner};
    use konvent_core::documents::{Format, OwnerKind, simple_pdf};
    for (number, title, lines) in [
        (
            46,
            "Übersicht der Berichte der Fachministerkonferenzen",
            [
                "Uebersicht der Berichte",
                "46. Sitzung des IT-Planungsrats",
                "Stand: Entwurf",
            ],
        ),
        (
            47,
            "Sachstand Reporting FachMK",
            [
                "Sachstand Reporting FachMK",
                "47. Sitzung des IT-Planungsrats",
                "Stand: final",
            ],
        ),
    ] {
        let Ok(session) = store.session(number).await else {
            continue;
        };
        let Some(item) = store.agenda(session.id).await?.into_iter().next() else {
            continue;
        };
        let owner = Owner {
            kind: OwnerKind::AgendaItem,
            id: item.id,
        };
        let pdf = simple_pdf(&lines);
        let file_name = format!("Reporting-FachMK-{number}.pdf");
        let id = store
            .add_document(
                actor,
                owner,
                title,
                NewFile {
                    file_name: &file_name,
                    format: Format::Pdf,
                    bytes: &pdf,
                },
            )
            .await?;
        if number == 46 {
            let pdf = simple_pdf(&[lines[0], lines[1], "Stand: nach Abstimmung mit den FachMK"]);
            store
                .replace_document(
                    actor,
                    id,
                    NewFile {
                        file_name: &file_name,
                        format: Format::Pdf,
                        bytes: &pdf,
                    },
                )
                .await?;
        }
    }
    Ok(())
}

/// The Königsteiner Schlüssel of 2016 (the facts file's values) and the seventeen seats,
/// each with a demo member; the Bund with a deputy too (G9).
async fn load_seats(store: &Store, actor: &Actor) -> Result<()> {
    use konvent_core::gremien::majority::{KeyTable, Seat};
    store.save_key_table(actor, &KeyTable::demo_2016()).await?;
    let member = Grant::new(Role::Member, Scope::Global).map_err(invalid)?;
    for seat in Seat::ALL {
        let (email, name) = demo::seat_member(seat);
        store
            .ensure_account(&email, &name, std::slice::from_ref(&member))
            .await?;
        store.assign_seat(actor, seat, &email, false).await?;
    }
    let (email, name) = demo::SEAT_DEPUTY;
    store
        .ensure_account(email, name, std::slice::from_ref(&member))
        .await?;
    store.assign_seat(actor, Seat::Bund, email, true).await?;
    load_votes(store, actor).await?;
    Ok(())
}

/// The 48th session's attendance and two closed votes on its agenda item (one adopted
/// and published, one rejected), and a running written procedure with some ballots
/// (G9, G10).
async fn load_votes(store: &Store, actor: &Actor) -> Result<()> {
    use crate::attendance::Presence;
    use konvent_core::gremien::majority::{Ballot, DraftKind, Seat};
    let id_of = |email: String| async move {
        store
            .accounts()
            .await?
            .into_iter()
            .find(|a| a.email == email)
            .map(|a| a.id)
            .ok_or_else(|| invalid(format!("no account {email}")))
    };
    // Attendance: the Bund by its deputy, Saarland apologised, the others present,
    // and a guest of the DMK.
    for seat in Seat::ALL {
        let (email, _) = demo::seat_member(seat);
        let presence = match seat {
            Seat::Bund => continue,
            Seat::Sl => Presence::Apology,
            _ => Presence::Member,
        };
        store
            .record_attendance(actor, 48, &email, presence, None)
            .await?;
    }
    store
        .record_attendance(actor, 48, demo::SEAT_DEPUTY.0, Presence::Deputy, None)
        .await?;
    let (email, name, conference) = demo::SESSION_GUEST;
    store.ensure_account(email, name, &[]).await?;
    store
        .record_attendance(actor, 48, email, Presence::Guest, Some(conference))
        .await?;

    let session = store.session(48).await?;
    let item = store.agenda(session.id).await?.first().map(|a| a.id);
    for (i, (number, title, body)) in demo::SESSION_VOTES.into_iter().enumerate() {
        let mut input = ResolutionInput::parse(number, title, body, "", "48", "draft")
            .map_err(|e| invalid(format!("resolution {number}: {e}")))?;
        input.kind = DraftKind::Binding;
        let id = store.save_resolution(actor, None, &input, &[]).await?;
        let vote = store.open_vote(actor, 48, id, item).await?;
        let adopted = i == 0;
        store
            .cast_ballot(
                id_of(demo::SEAT_DEPUTY.0.to_owned()).await?,
                vote,
                if adopted { Ballot::Yes } else { Ballot::No },
            )
            .await?;
        for seat in Seat::laender() {
            let ballot = match seat {
                Seat::Sl => continue,
                Seat::By if adopted => Ballot::Abstain,
                Seat::Nw | Seat::He if !adopted => Ballot::No,
                _ => Ballot::Yes,
            };
            let voter = id_of(demo::seat_member(seat).0).await?;
            store.cast_ballot(voter, vote, ballot).await?;
        }
        store.close_vote(actor, vote).await?;
        held_on_the_session_day(store, vote, i).await?;
        if adopted {
            input.state = konvent_core::gremien::council::ResolutionState::Published;
            store.save_resolution(actor, Some(id), &input, &[]).await?;
        }
    }

    let (number, title, body) = demo::WRITTEN_PROCEDURE;
    let mut input = ResolutionInput::parse(number, title, body, "", "", "draft")
        .map_err(|e| invalid(format!("resolution {number}: {e}")))?;
    input.kind = DraftKind::Recommendation;
    let id = store.save_resolution(actor, None, &input, &[]).await?;
    let no_mail = |_: &crate::Notice| None;
    let deadline = crate::now_micros() + 14 * 86_400_000_000;
    let (vote, _) = store
        .start_written_procedure(actor, id, deadline, &no_mail)
        .await?;
    for (seat, ballot) in [
        (Seat::Bund, Ballot::Yes),
        (Seat::Bw, Ballot::Yes),
        (Seat::Hh, Ballot::Yes),
        (Seat::Sn, Ballot::Abstain),
        (Seat::Th, Ballot::No),
    ] {
        let voter = id_of(demo::seat_member(seat).0).await?;
        store.cast_ballot(voter, vote, ballot).await?;
    }
    Ok(())
}

/// Dates the `i`-th vote of the 48th session on the session's day (10:00 Berlin time
/// and twenty minutes per vote), as if it had been taken there, not when the demo loads.
async fn held_on_the_session_day(store: &Store, vote: i64, i: usize) -> Result<()> {
    let (_, date, _) = demo::SESSIONS
        .into_iter()
        .find(|(n, _, _)| *n == 48)
        .ok_or_else(|| invalid("no 48th session".to_owned()))?;
    let day: jiff::civil::Date = date.parse().map_err(|e| invalid(format!("{e}")))?;
    let minutes = i8::try_from(20 * i).map_err(|e| invalid(format!("{e}")))?;
    let opened = konvent::berlin_time(day, 10, minutes)
        .ok_or_else(|| invalid("10:00 on the session day".to_owned()))?
        .as_microsecond();
    let closed = opened + 15 * 60_000_000;
    sqlx::query("UPDATE council_votes SET opened_at = $1, closed_at = $2 WHERE id = $3")
        .bind(opened)
        .bind(closed)
        .bind(vote)
        .execute(&store.pool)
        .await?;
    sqlx::query("UPDATE council_ballots SET cast_at = $1 WHERE vote_id = $2")
        .bind(opened + 5 * 60_000_000)
        .bind(vote)
        .execute(&store.pool)
        .await?;
    Ok(())
}

/// The Strategiekonvent 2025 with the deck's agenda, rooms, house rules and helpers.
async fn load_konvent(store: &Store, actor: &Actor) -> Result<i64> {
    let (y, m, d) = demo::KONVENT_DATE;
    let day = jiff::civil::date(y, m, d);
    let at = |(h, min): (i8, i8)| {
        konvent::berlin_time(day, h, min).ok_or_else(|| invalid(format!("time {h}:{min}")))
    };
    let mut agenda = Vec::new();
    for (kind, title, from, to) in demo::KONVENT_AGENDA {
        agenda.push(AgendaEntry {
            kind: kind.parse().map_err(invalid)?,
            title: title.to_owned(),
            starts_at: at(from)?,
            ends_at: at(to)?,
        });
    }
    let (mod_email, mod_name) = demo::KONVENT_MODERATOR;
    let moderator = store.ensure_account(mod_email, mod_name, &[]).await?;
    let mut rooms = Vec::new();
    for (slug, name, kind, capacity) in demo::KONVENT_ROOMS {
        rooms.push(NewRoom {
            slug: slug.to_owned(),
            name: name.to_owned(),
            kind: kind.parse().map_err(invalid)?,
            capacity,
            moderator_id: (kind == "plenary").then_some(moderator),
        });
    }
    let event = store
        .create_event(&NewEvent {
            slug: demo::KONVENT_SLUG.to_owned(),
            title: demo::KONVENT_TITLE.to_owned(),
            house_rules: demo::HOUSE_RULES.to_owned(),
            mute_threshold: konvent::DEFAULT_MUTE_THRESHOLD,
            feedback_url: None,
            agenda,
            rooms,
        })
        .await?;
    let organizer = Grant::new(Role::Organizer, Scope::Event(event)).map_err(invalid)?;
    store.add_grant(actor, moderator, &organizer).await?;
    store
        .add_to_event(event, moderator, EventRole::Participant)
        .await?;
    for (email, name) in demo::KONVENT_HELPERS {
        let helper = store.ensure_account(email, name, &[]).await?;
        store.add_to_event(event, helper, EventRole::Helper).await?;
    }
    Ok(event)
}

/// The strategy process as the convention left it: the five focus topics with their
/// patrons, an earlier published target picture (with resolution 2024/02, the start of
/// the federal digital strategy) and the confidential version presented at the
/// convention; two café rounds at five tables with impulses and summaries; pins with
/// votes, one picked up and one closed; connection points; and the consolidation of the
/// first topic in progress (two groups saved, one accepted into the next draft).
async fn load_strategy(store: &Store, actor: &Actor, event: i64) -> Result<()> {
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
                topic.id,
                true,
            )
            .await?;
        // A networking profile (K15+) for each, so the list of who is here and the
        // people with the same connection points are filled at once.
        let (organisation, role, region, tag, about) = strategy_demo::PROFILES[i];
        let fields = konvent_core::konvent::networking::ProfileFields {
            organisation: organisation.into(),
            role: role.into(),
            region: region.into(),
            topics: vec![topic.title.clone(), tag.into()],
            about: about.into(),
            phone: String::new(),
            share_email: true,
            visibility: if i % 3 == 2 {
                konvent_core::konvent::networking::ProfileVisibility::Event
            } else {
                konvent_core::konvent::networking::ProfileVisibility::SignedIn
            },
            show_location: true,
            match_points: true,
        };
        store.save_profile(who.id, 0, &fields).await?;
    }
    consolidate(store, &topics[0]).await
}

/// One café round: started, everybody seated (each round at another table), the
/// impulses written by the people at the table, the moderator's summary, ended.
#[allow(clippy::too_many_arguments)]
async fn play_round(
    store: &Store,
    event: i64,
    round_id: i64,
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
    event: i64,
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
            let pin = written.record.data["id"].as_i64().unwrap_or_default();
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
        let members: Vec<i64> = g.members.iter().map(|&i| impulses[i].id).collect();
        let label = g.shared.join(", ");
        saved.push(store.save_group(topic.id, &label, &members, by).await?);
    }
    if let Some(first) = saved.first() {
        store.accept_group(topic.id, *first, by).await?;
    }
    Ok(())
}

/// Pseudonymous participation (issue 21): the convention allows it, and two of its
/// participants appear under a chosen name (what they wrote shows it too).
async fn load_pseudonyms(store: &Store, actor: &Actor, event: i64) -> Result<()> {
    store.set_pseudonyms_allowed(event, true, actor).await?;
    // The last two of the twelve, so the first ones keep their names in the tests that
    // follow them by name.
    for (name, pseudonym) in strategy_demo::PARTICIPANTS
        .iter()
        .rev()
        .zip(["Stille Beobachterin", "Datenlotse"])
    {
        let id = store
            .ensure_account(&strategy_demo::participant_email(name), name, &[])
            .await?;
        store.set_pseudonym(event, id, Some(pseudonym)).await?;
    }
    Ok(())
}
