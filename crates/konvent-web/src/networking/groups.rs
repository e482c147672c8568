//! Follow-up groups (K16+): the people who marked the same connection point start a
//! small group from "Meine Ergebnisse", meet in a room of an event (one of its rooms, or
//! a small one created for the group) or elsewhere, and propose dates that every member
//! gets as a calendar invitation, in their own mail language.

use axum::extract::{Path, State};
use axum::response::Redirect;
use konvent_core::convention::networking as rules;
use konvent_core::ids::{AccountId, FollowUpGroupId};
use konvent_core::strategy::FollowTarget;
use konvent_store::{FollowUpGroup, GroupPlace, GroupRecipient};
use serde::Deserialize;

use super::contacts::spend;
use crate::AppState;
use crate::ctx::{CsrfForm, CsrfPairs, Ctx};
use crate::error::{AppError, AppResult};
use crate::i18n::{Lang, Tr};
use crate::ics::{IcsEvent, IcsStatus, Method, Person};
use crate::mail::{LinkMail, composed_mail};

/// The room a group's form names (`raum`): empty for none, `r{id}` for one of an
/// event's rooms, `neu{event id}` for a new small room in that event.
fn group_place(value: &str) -> AppResult<Option<GroupPlace>> {
    let value = value.trim();
    let bad = || AppError::BadRequest("Bitte einen Raum aus der Liste wählen.".into());
    if value.is_empty() {
        return Ok(None);
    }
    if let Some(id) = value.strip_prefix("neu") {
        let event_id = id.parse().map_err(|_| bad())?;
        return Ok(Some(GroupPlace::NewRoom { event_id }));
    }
    let id = value
        .strip_prefix('r')
        .and_then(|id| id.parse().ok())
        .ok_or_else(bad)?;
    Ok(Some(GroupPlace::Room(id)))
}

/// Starts a follow-up group on a connection point with some of the people who marked
/// it too (fields: `name`, `target`, `id`, `mitglied` repeated, `raum` optional).
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn start_group(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfPairs(pairs): CsrfPairs,
) -> AppResult<Redirect> {
    let me = ctx.signed_in()?.user_id;
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    };
    let name = konvent_core::strategy::text(get("name"), rules::GROUP_NAME_MAX, "einen Namen")
        .map_err(AppError::BadRequest)?;
    let target: FollowTarget = get("target")
        .parse()
        .map_err(|_| AppError::BadRequest("Unbekannter Anknüpfungspunkt.".into()))?;
    let target_id: i64 = get("id").parse().map_err(|_| AppError::NotFound)?;
    let place = group_place(get("raum"))?;
    let members = pairs
        .iter()
        .filter(|(k, _)| k == "mitglied")
        .map(|(_, v)| {
            v.parse::<i64>()
                .map(AccountId::new)
                .map_err(|_| AppError::NotFound)
        })
        .collect::<AppResult<Vec<_>>>()?;
    if members.len() > rules::GROUP_MEMBERS_MAX {
        return Err(AppError::BadRequest(format!(
            "Höchstens {} Mitglieder.",
            rules::GROUP_MEMBERS_MAX
        )));
    }
    spend(&state, "follow-up-group", me, rules::GROUPS_PER_HOUR).await?;
    state
        .store
        .start_group(me, &name, target, target_id, &members, place)
        .await?;
    if let Some(GroupPlace::NewRoom { event_id }) = place {
        // A room was created: the event's cached rooms (map, lobby) are read anew.
        state.live.invalidate(event_id);
    }
    Ok(Redirect::to("/meine-ergebnisse?hinweis=gruppe"))
}

#[derive(Deserialize)]
pub struct RoomForm {
    #[serde(default)]
    raum: String,
}

/// The group's starter chooses (or changes) its room.
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), id = %id))]
pub async fn set_room(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<RoomForm>,
) -> AppResult<Redirect> {
    let me = ctx.signed_in()?.user_id;
    let group_id = FollowUpGroupId::new(id.parse().map_err(|_| AppError::NotFound)?);
    let place = group_place(&form.raum)?
        .ok_or_else(|| AppError::BadRequest("Bitte einen Raum aus der Liste wählen.".into()))?;
    spend(&state, "follow-up-group", me, rules::GROUPS_PER_HOUR).await?;
    state.store.set_group_room(me, group_id, place).await?;
    if let GroupPlace::NewRoom { event_id } = place {
        state.live.invalidate(event_id);
    }
    Ok(Redirect::to("/meine-ergebnisse?hinweis=raum"))
}

async fn group(
    state: &AppState,
    me: AccountId,
    group_id: FollowUpGroupId,
) -> AppResult<FollowUpGroup> {
    state
        .store
        .groups_of(me)
        .await?
        .into_iter()
        .find(|g| g.id == group_id)
        .ok_or(AppError::NotFound)
}

#[derive(Deserialize)]
pub struct ProposalForm {
    /// `YYYY-MM-DD`.
    datum: String,
    /// `HH:MM`, local time (Europe/Berlin).
    uhrzeit: String,
    #[serde(default)]
    dauer: String,
    #[serde(default)]
    ort: String,
}

/// The date proposal's start (Unix microseconds) and length in minutes, or what is wrong.
fn parse_proposal(form: &ProposalForm) -> Result<(jiff::civil::DateTime, i64), String> {
    let date: jiff::civil::Date = form
        .datum
        .trim()
        .parse()
        .map_err(|_| "Bitte ein Datum wählen (TT.MM.JJJJ).".to_owned())?;
    let time: jiff::civil::Time = form
        .uhrzeit
        .trim()
        .parse()
        .map_err(|_| "Bitte eine Uhrzeit wählen (HH:MM).".to_owned())?;
    let minutes: i64 = match form.dauer.trim() {
        "" => 60,
        d => d
            .parse()
            .ok()
            .filter(|m| (15..=480).contains(m))
            .ok_or_else(|| "Die Dauer liegt zwischen 15 und 480 Minuten.".to_owned())?,
    };
    Ok((date.to_datetime(time), minutes))
}

/// A member of a follow-up group proposes a date: stored with the group, and every
/// member gets a calendar invitation by mail (iTIP REQUEST, the same UID for each new
/// proposal, so calendars update it), in the mail language they chose. Without a place
/// the group's room is the place.
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), id = %id))]
pub async fn propose_meeting(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<ProposalForm>,
) -> AppResult<Redirect> {
    let me = ctx.signed_in()?.user_id;
    let group_id = FollowUpGroupId::new(id.parse().map_err(|_| AppError::NotFound)?);
    let (start, minutes) = parse_proposal(&form).map_err(AppError::BadRequest)?;
    let place = rules::optional_text(&form.ort, rules::PROPOSAL_TEXT_MAX, "Der Ort")
        .map_err(AppError::BadRequest)?;
    let starts_at = start
        .in_tz("Europe/Berlin")
        .map_err(|_| AppError::BadRequest("Diese Uhrzeit gibt es nicht.".into()))?
        .timestamp();
    if starts_at < jiff::Timestamp::now() {
        return Err(AppError::BadRequest(
            "Der Termin liegt in der Vergangenheit.".into(),
        ));
    }
    let end = start
        .checked_add(jiff::Span::new().minutes(minutes))
        .map_err(|_| AppError::BadRequest("Diese Dauer geht nicht.".into()))?;
    let base = state.settings.public_base();
    let place = match group(&state, me, group_id).await?.room {
        Some(room) if place.is_empty() => format!(
            "{} ({base}/konvent/{}/raeume/{})",
            room.name, room.event_slug, room.slug
        ),
        _ => place,
    };
    spend(&state, "group-proposal", me, rules::PROPOSALS_PER_HOUR).await?;
    let (group, members) = state
        .store
        .propose_meeting(me, group_id, starts_at.as_microsecond(), minutes, &place)
        .await?;
    let now = jiff::Timestamp::now();
    let event = IcsEvent {
        uid: format!("follow-up-group-{}@konvent", group.id),
        // The group's own name and its members' names: no text of ours to translate.
        summary: group.name.clone(),
        description: Some(
            group
                .members
                .iter()
                .map(|m| m.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        ),
        location: (!place.is_empty()).then(|| place.clone()),
        url: Some(format!("{base}/meine-ergebnisse#gruppe-{}", group.id)),
        start,
        end,
        status: IcsStatus::Confirmed,
        sequence: group
            .meeting
            .as_ref()
            .and_then(|m| u32::try_from(m.sequence).ok())
            .unwrap_or(0),
        last_modified: now,
        created: now,
    };
    let attendees: Vec<Person> = members
        .iter()
        .map(|m| Person {
            name: m.who.name.clone(),
            email: m.email.clone(),
        })
        .collect();
    let ics = crate::ics::message(
        Method::Request,
        &event,
        &state.mail.organizer(),
        &attendees,
        now,
    );
    let when = crate::layout::datetime_de(starts_at.as_microsecond());
    let mut mails = Vec::with_capacity(members.len());
    for member in &members {
        let m = proposal_mail(&base, &group, member, &when, &place);
        mails.push(composed_mail(
            &state.mail,
            "follow_up_meeting",
            &member.email,
            &m,
            Some(konvent_store::CalendarPart {
                method: Method::Request.as_str().to_owned(),
                ics: ics.clone(),
            }),
        )?);
    }
    state.store.queue_mails(&mails).await?;
    state.mail.wake();
    Ok(Redirect::to("/meine-ergebnisse?hinweis=termin"))
}

/// The texts of one member's date-proposal mail, in the member's mail language.
fn proposal_mail(
    base: &str,
    group: &FollowUpGroup,
    member: &GroupRecipient,
    when: &str,
    place: &str,
) -> LinkMail {
    let lang = Lang::parse(&member.language).unwrap_or_default();
    let t = Tr::new(lang);
    LinkMail {
        lang: lang.code(),
        subject: t.with(
            "net-proposal-mail-subject",
            &[("group", group.name.as_str())],
        ),
        greeting: t.with(
            "registration-mail-greeting",
            &[("name", member.who.name.as_str())],
        ),
        lead: t.with(
            "net-proposal-mail-lead",
            &[
                ("group", group.name.as_str()),
                ("when", when),
                ("place", place),
            ],
        ),
        action: t.get("net-proposal-mail-action"),
        link: format!("{base}/meine-ergebnisse#gruppe-{}", group.id),
        expires: String::new(),
        ignore: String::new(),
        footer: t.with("mail-footer", &[("base", base)]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use konvent_core::ids::{EventId, RoomId};

    #[test]
    fn a_groups_room_field_names_no_room_an_events_room_or_a_new_one() {
        assert_eq!(group_place("").ok(), Some(None));
        assert_eq!(
            group_place("r7").ok(),
            Some(Some(GroupPlace::Room(RoomId::new(7))))
        );
        assert_eq!(
            group_place("neu3").ok(),
            Some(Some(GroupPlace::NewRoom {
                event_id: EventId::new(3)
            }))
        );
        assert!(group_place("x").is_err());
        assert!(group_place("r").is_err());
    }
}
