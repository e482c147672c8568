//! The demo seats with their members, the Königsteiner Schlüssel, and the votes of the
//! 48th session and a running written procedure (G9, G10).

use konvent_core::authz::{Grant, Role, Scope};
use konvent_core::convention;
use konvent_core::demo;
use konvent_core::gremien::council::ResolutionInput;

use super::invalid;
use crate::{Actor, Result, Store};

/// The Königsteiner Schlüssel of 2016 (the facts file's values) and the seventeen seats,
/// each with a demo member; the Bund with a deputy too (G9).
pub(super) async fn load_seats(store: &Store, actor: &Actor) -> Result<()> {
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
        held_on_the_session_day(store, vote.get(), i).await?;
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
    let opened = convention::berlin_time(day, 10, minutes)
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
