//! Invitations to council sessions and follow-up meetings as calendar entries (issue 18,
//! G6): iMIP `REQUEST`s under the same UID as the meeting's `.ics` feed entry
//! (`session-<id>@konvent`, `follow-up-<id>@konvent`), so that the invitation, its
//! updates and the subscribed feed are one entry in the invitee's calendar.
//!
//! Why the first invitation waits for a button and the updates do not: a session is
//! usually created as "planned" weeks ahead, with date and place still moving, and the
//! office decides when it is firm enough to occupy a hundred calendars. After that,
//! every invitee's calendar must follow the meeting, so a change of date, time or place
//! sends an update (higher SEQUENCE) and a cancellation a `CANCEL` to everybody invited,
//! without anyone having to remember it. Pressing the button again invites those added
//! to the directory since (the others are not mailed twice).
//!
//! Invitees: for a session, the council's members and the conferences' offices (their
//! accounts, and office addresses that are mail addresses); for a follow-up meeting, the
//! people its page lists with an address: the offices and the spokespersons' and
//! offices' accounts of the conferences the session's resolutions concern.
//!
//! The update follows the change in its own transaction, right after it: what an
//! invitation said is stored (`sent_as`), so an update is never sent twice, and one
//! missed (the node died between the save and the update) is found by [`reconcile`],
//! which every node runs every minute, and sent then.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use jiff::Timestamp;
use konvent_core::authz::Action;
use konvent_core::gremien::council::SessionState;
use konvent_store::{
    CalendarPart, FollowUp, InvitationMail, Invitee, MeetingKind, NewMail, Session, Visibility,
};

use super::feeds::{follow_up_event, sequence, session_event};
use crate::AppState;
use crate::ctx::{CsrfForm, Ctx, Id};
use crate::error::{AppError, AppResult};
use crate::events::Empty;
use crate::i18n::{Lang, Tr};
use crate::ics::{self, IcsEvent, IcsStatus, Method, Person};
use crate::layout::date_de;
use crate::mail::{LinkMail, composed_mail};

/// What an invitation says that, when changed, makes it an update.
fn session_sent_as(s: &Session) -> String {
    format!(
        "{}|{}|{}|{}|{}",
        s.date,
        s.start_time,
        s.end_time,
        s.place.as_deref().unwrap_or_default(),
        s.video_url.as_deref().unwrap_or_default()
    )
}

fn follow_up_sent_as(f: &FollowUp) -> String {
    format!(
        "{}|{}|{}|{}",
        f.date,
        f.start_time,
        f.end_time,
        f.video_url.as_deref().unwrap_or_default()
    )
}

/// The mails of one meeting's invitations, each in its recipient's mail language (the
/// meeting's name and the calendar entry stay as the council writes them, in German).
fn composer<'a>(
    state: &'a AppState,
    entry: &'a IcsEvent,
    when: &'a str,
) -> impl Fn(&Invitee, &str, i64, InvitationMail) -> Result<NewMail, String> + Sync + 'a {
    move |invitee: &Invitee, language: &str, seq: i64, what: InvitationMail| {
        let lang = Lang::parse(language).unwrap_or_default();
        let t = Tr::new(lang);
        let (key, method) = match what {
            InvitationMail::Invitation => ("invitation", Method::Request),
            InvitationMail::Update => ("update", Method::Request),
            InvitationMail::Cancellation => ("cancellation", Method::Cancel),
        };
        let mut event = entry.clone();
        event.sequence = u32::try_from(seq).unwrap_or(u32::MAX);
        if method == Method::Cancel {
            event.status = IcsStatus::Cancelled;
        } else {
            event.status = IcsStatus::Confirmed;
        }
        let base = state.settings.public_base();
        let m = LinkMail {
            lang: lang.code(),
            subject: t.with(
                &format!("meeting-mail-{key}-subject"),
                &[("meeting", event.summary.as_str())],
            ),
            greeting: t.get("mail-greeting"),
            lead: t.with(
                &format!("meeting-mail-{key}-lead"),
                &[("meeting", event.summary.as_str()), ("when", when)],
            ),
            action: t.get("meeting-mail-action"),
            link: event.url.clone().unwrap_or_else(|| base.clone()),
            expires: t.get("meeting-mail-calendar"),
            ignore: String::new(),
            footer: t.with("mail-footer", &[("base", base.as_str())]),
        };
        let ics = ics::message(
            method,
            &event,
            &state.mail.organizer(),
            &[Person {
                name: invitee.name.clone(),
                email: invitee.email.clone(),
            }],
            Timestamp::now(),
        );
        composed_mail(
            &state.mail,
            &format!("meeting_{key}"),
            &invitee.email,
            &m,
            Some(CalendarPart {
                method: method.as_str().to_owned(),
                ics,
            }),
        )
        .map_err(|e| e.to_string())
    }
}

fn when(date: &jiff::civil::Date, start: jiff::civil::Time, end: jiff::civil::Time) -> String {
    format!("{}, {}", date_de(date), super::time_range(start, end))
}

/// "Einladungen senden" for a session (the council's office).
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), number = number))]
pub async fn send_for_session(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(number): Id,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<Response> {
    ctx.require(Action::EditCouncil)?;
    let s = state.store.session(number).await?;
    if s.state == SessionState::Cancelled {
        return Err(AppError::BadRequest(
            ctx.tr().get("meeting-cancelled-no-invitations"),
        ));
    }
    let t = Tr::new(Lang::De);
    let entry = session_event(&state.settings.public_base(), &t, &s);
    let when = when(&s.date, s.start_time, s.end_time);
    let compose = composer(&state, &entry, &when);
    let invitees = state.store.meeting_invitees().await?;
    state
        .store
        .send_meeting_invitations(
            MeetingKind::Session,
            s.id.get(),
            &session_sent_as(&s),
            i64::from(sequence(s.created_at, s.modified_at)),
            &invitees,
            &compose,
        )
        .await?;
    state.mail.wake();
    Ok(Redirect::to(&format!("/gremien/sitzungen/{number}")).into_response())
}

/// "Einladungen senden" for a session's follow-up meeting.
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), number = number))]
pub async fn send_for_follow_up(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(number): Id,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<Response> {
    ctx.require(Action::EditCouncil)?;
    let s = state.store.session(number).await?;
    let f = state
        .store
        .follow_up(s.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let t = Tr::new(Lang::De);
    let entry = follow_up_event(&state.settings.public_base(), &t, &f);
    let when = when(&f.date, f.start_time, f.end_time);
    let compose = composer(&state, &entry, &when);
    let invitees = follow_up_invitees(&state, number).await?;
    state
        .store
        .send_meeting_invitations(
            MeetingKind::FollowUp,
            f.id.get(),
            &follow_up_sent_as(&f),
            i64::from(sequence(f.created_at, f.modified_at)),
            &invitees,
            &compose,
        )
        .await?;
    state.mail.wake();
    Ok(Redirect::to(&format!("/gremien/sitzungen/{number}#nachbesprechung")).into_response())
}

/// Whom a follow-up meeting invites, with an address (the session page lists them).
async fn follow_up_invitees(state: &AppState, number: i64) -> AppResult<Vec<Invitee>> {
    use konvent_core::authz::{Role, Scope};
    let mut concerned = std::collections::BTreeSet::new();
    for r in state.store.resolutions(Visibility::Confidential).await? {
        if r.session_number == Some(number) {
            concerned.extend(r.relevance.into_iter().map(|v| v.conference));
        }
    }
    let mut list: Vec<Invitee> = Vec::new();
    let mut add = |email: &str, name: &str| {
        let email = email.trim().to_lowercase();
        if crate::accounts::is_plausible_email(&email) && !list.iter().any(|i| i.email == email) {
            list.push(Invitee {
                email,
                name: name.to_owned(),
            });
        }
    };
    for c in state.store.conferences().await? {
        if !concerned.contains(&c.abbreviation) {
            continue;
        }
        if let Some(office) = &c.office_contact {
            add(office, &c.name);
        }
    }
    for account in state.store.accounts().await? {
        let speaks = account.grants.iter().any(|g| {
            matches!(g.role, Role::Spokesperson | Role::FachmkOffice)
                && matches!(&g.scope, Scope::Conference(a) if concerned.contains(a.as_str()))
        });
        if speaks {
            add(&account.email, &account.display_name);
        }
    }
    Ok(list)
}

/// After a session (and with it perhaps its follow-up) changed: updates or
/// cancellations to those invited. Nothing when no invitation went out.
pub async fn after_session_change(state: &AppState, number: i64) -> AppResult<()> {
    let t = Tr::new(Lang::De);
    let base = state.settings.public_base();
    let s = state.store.session(number).await?;
    let entry = session_event(&base, &t, &s);
    let when = when(&s.date, s.start_time, s.end_time);
    let compose = composer(state, &entry, &when);
    let mut queued = state
        .store
        .update_meeting_invitations(
            MeetingKind::Session,
            s.id.get(),
            &session_sent_as(&s),
            s.state == SessionState::Cancelled,
            i64::from(sequence(s.created_at, s.modified_at)),
            &compose,
        )
        .await?;
    if let Some(f) = state.store.follow_up(s.id).await? {
        queued += after_follow_up(state, &f, s.state == SessionState::Cancelled).await?;
    }
    if queued > 0 {
        state.mail.wake();
    }
    Ok(())
}

/// After a follow-up meeting changed.
pub async fn after_follow_up_change(state: &AppState, number: i64) -> AppResult<()> {
    let s = state.store.session(number).await?;
    if let Some(f) = state.store.follow_up(s.id).await?
        && after_follow_up(state, &f, s.state == SessionState::Cancelled).await? > 0
    {
        state.mail.wake();
    }
    Ok(())
}

async fn after_follow_up(state: &AppState, f: &FollowUp, cancelled: bool) -> AppResult<usize> {
    let t = Tr::new(Lang::De);
    let entry = follow_up_event(&state.settings.public_base(), &t, f);
    let when = when(&f.date, f.start_time, f.end_time);
    let compose = composer(state, &entry, &when);
    Ok(state
        .store
        .update_meeting_invitations(
            MeetingKind::FollowUp,
            f.id.get(),
            &follow_up_sent_as(f),
            cancelled,
            i64::from(sequence(f.created_at, f.modified_at)),
            &compose,
        )
        .await?)
}

/// How often a node looks for meetings whose invitees were not told of a change.
const RECONCILE: std::time::Duration = std::time::Duration::from_secs(60);

/// Runs until the node stops: every minute, sends the updates (or cancellations) that a
/// change missed. Reads only, unless something was missed; the update itself is
/// idempotent (the meeting's row is locked and `sent_as` compared), so several nodes
/// finding the same miss send it once.
pub async fn reconcile(state: AppState) {
    let mut tick = tokio::time::interval(RECONCILE);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = reconcile_once(&state).await {
            tracing::warn!(error = %e, "meeting invitations: cannot look for missed updates");
        }
    }
}

/// One look: the meetings whose last invitation says other than the meeting now.
pub async fn reconcile_once(state: &AppState) -> AppResult<()> {
    let sent = state.store.meeting_invitations_sent().await?;
    if sent.is_empty() {
        return Ok(());
    }
    let differs = |kind, id, now: String, cancelled: bool| {
        sent.get(&(kind, id))
            .is_some_and(|(was, was_cancelled)| *was != now || *was_cancelled != cancelled)
    };
    let sessions = state.store.sessions().await?;
    for s in &sessions {
        let cancelled = s.state == SessionState::Cancelled;
        if differs(
            MeetingKind::Session,
            s.id.get(),
            session_sent_as(s),
            cancelled,
        ) {
            tracing::info!(
                session = s.number,
                "meeting invitations: sending a missed update"
            );
            after_session_change(state, s.number).await?;
        }
    }
    for f in state.store.follow_ups().await? {
        let cancelled = sessions
            .iter()
            .any(|s| s.id == f.session_id && s.state == SessionState::Cancelled);
        if differs(
            MeetingKind::FollowUp,
            f.id.get(),
            follow_up_sent_as(&f),
            cancelled,
        ) {
            tracing::info!(
                session = f.session_number,
                "meeting invitations: sending a missed update"
            );
            after_follow_up_change(state, f.session_number).await?;
        }
    }
    Ok(())
}
