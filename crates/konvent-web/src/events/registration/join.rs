//! Joining an event from its lobby, signed in: what the lobby offers a person who does
//! not take part yet, and the join itself by the event's registration rules.

use axum::http::StatusCode;
use axum::http::header::RETRY_AFTER;
use axum::response::{IntoResponse, Redirect, Response};
use konvent_core::Refused;
use konvent_core::authz::{Action, Principal};
use konvent_core::convention::registration::RegistrationRefusal;
use konvent_core::ids::EventId;
use konvent_store::{NewRegistration, RegistrationMode, RegistrationStatus, StoreError};

use super::{NoticePage, PER_ADDRESS, composer};
use crate::AppState;
use crate::ctx::Ctx;
use crate::error::AppResult;
use crate::layout::{Chrome, render};
use crate::live::EventInfo;

#[derive(Debug, Clone, Default)]
pub struct Join {
    /// The button's label; None: no button.
    pub button: Option<String>,
    /// What stands instead of (or above) the button.
    pub note: String,
}

pub async fn join_state(
    state: &AppState,
    ctx: &Ctx,
    principal: &Principal,
    event_id: EventId,
) -> AppResult<Join> {
    let t = ctx.tr();
    if ctx.may(Action::OrganizeEvent(event_id)) {
        return Ok(Join {
            button: Some(t.get("lobby-register")),
            note: t.get("lobby-register-lead"),
        });
    }
    let pending = state
        .store
        .registration_of(event_id, &principal.email)
        .await?
        .map(|r| r.status)
        .filter(|s| {
            matches!(
                s,
                RegistrationStatus::Waiting
                    | RegistrationStatus::AwaitingApproval
                    | RegistrationStatus::Declined
            )
        });
    if let Some(status) = pending {
        return Ok(Join {
            button: None,
            note: t.get(&format!("lobby-join-{}", status.as_str().replace('_', "-"))),
        });
    }
    let settings = state.store.registration_settings(event_id).await?;
    Ok(match settings.mode {
        RegistrationMode::Invitation => Join {
            button: None,
            note: t.get("lobby-join-invitation-only"),
        },
        RegistrationMode::Open => Join {
            button: Some(t.get("lobby-register")),
            note: t.get("lobby-register-lead"),
        },
        RegistrationMode::Approval => Join {
            button: Some(t.get("lobby-join-apply")),
            note: t.get("lobby-join-approval-lead"),
        },
    })
}

/// A signed-in person joins by the event's rules: registered at once (open, with a
/// place free), on the waiting list, or awaiting an organizer's approval, with the same
/// mails as a registration through the form (their account vouches for the address);
/// refused for an event by invitation only. Counts against the person's budget.
pub async fn join(
    state: &AppState,
    ctx: &Ctx,
    principal: &Principal,
    info: &EventInfo,
) -> AppResult<Response> {
    let t = ctx.tr();
    let notice_page = |message: String| NoticePage {
        c: Chrome::new(ctx, "konvent", t.get("lobby-join-heading")),
        message,
        button: None,
    };
    // The budget: as many tries per hour as an address has through the form.
    let key = format!("register-account:{}", principal.user_id);
    if state.store.recent_sign_in_failures(&key).await? >= PER_ADDRESS {
        let mut response = (
            StatusCode::TOO_MANY_REQUESTS,
            render(&notice_page(t.get("registration-too-many")))?,
        )
            .into_response();
        response
            .headers_mut()
            .insert(RETRY_AFTER, axum::http::HeaderValue::from_static("3600"));
        return Ok(response);
    }
    state.store.record_sign_in_failure(&[&key]).await?;
    let organisation = state
        .store
        .organisation_of(principal.user_id)
        .await?
        .unwrap_or_default();
    let compose = composer(state, info);
    let new = NewRegistration {
        event_id: info.event.id,
        email: &principal.email,
        name: &principal.display_name,
        organisation: &organisation,
        language: ctx.lang.code(),
        confirm_token: "",
    };
    let reg = match state.store.register_account(&new, &compose).await {
        Ok(reg) => reg,
        Err(StoreError::Refused(Refused::Registration(RegistrationRefusal::InvitationOnly))) => {
            let page = notice_page(t.get("lobby-join-invitation-only"));
            return Ok((StatusCode::FORBIDDEN, render(&page)?).into_response());
        }
        Err(e) => return Err(e.into()),
    };
    state.mail.wake();
    if reg.status == RegistrationStatus::Registered {
        // A socket the person has open already reconnects as a participant.
        state.live.account_changed(principal.user_id);
        return Ok(Redirect::to(&format!("/konvent/{}", info.event.slug)).into_response());
    }
    let message = t.with(
        &format!("registration-now-{}", reg.status.as_str().replace('_', "-")),
        &[("event", info.event.title.as_str())],
    );
    Ok(render(&notice_page(message))?.into_response())
}
