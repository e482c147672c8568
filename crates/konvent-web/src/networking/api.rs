//! The JSON API of networking (K15+), for the signed-in person: the people of an event
//! as its list shows them (only profiles visible to the event's participants, never the
//! phone number), one's own contacts with what they share, and one's contact requests
//! (a declined request of one's own reads as open, as on the page).

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value, json};

use crate::AppState;
use crate::ctx::Ctx;
use crate::error::AppResult;
use crate::events::{event_info, require_actor};

/// `GET /api/v1/events/{event}/people`: the event's participants with a visible profile.
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), slug = %slug))]
pub async fn people(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
) -> AppResult<Json<Value>> {
    let info = event_info(&state, &slug).await?;
    let actor = require_actor(&state, &ctx, &info).await?;
    let here = state.live.fanout.whereabouts(info.event.id);
    let blocked = state.store.contact_overview(actor.who.id).await?.blocked;
    let data: Vec<Value> = state
        .store
        .event_profiles(info.event.id)
        .await?
        .into_iter()
        .filter(|p| !blocked.iter().any(|b| b.id == p.account.id))
        .map(|p| {
            let room = if p.fields.show_location {
                here.get(&p.account.id).cloned().flatten()
            } else {
                None
            };
            json!({
                "id": p.account.id,
                "name": p.account.name,
                "organisation": p.fields.organisation,
                "role": p.fields.role,
                "region": p.fields.region,
                "topics": p.fields.topics,
                "about": p.fields.about,
                "online": here.contains_key(&p.account.id),
                "room": room.as_deref(),
            })
        })
        .collect();
    Ok(Json(json!({ "data": data })))
}

/// `GET /api/v1/contacts`: one's accepted contacts with what their profiles share.
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn contacts(State(state): State<AppState>, ctx: Ctx) -> AppResult<Json<Value>> {
    let me = ctx.signed_in()?.user_id;
    let o = state.store.contact_overview(me).await?;
    let data: Vec<Value> = o
        .contact_ids
        .iter()
        .zip(&o.contacts)
        .map(|(id, card)| {
            json!({
                "id": id,
                "name": card.name,
                "organisation": card.organisation,
                "role": card.role,
                "email": card.email,
                "phone": card.phone,
            })
        })
        .collect();
    Ok(Json(json!({ "data": data })))
}

/// `GET /api/v1/contact-requests`: open requests to the person, and the person's own
/// requests not accepted (a declined one looks open).
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn requests(State(state): State<AppState>, ctx: Ctx) -> AppResult<Json<Value>> {
    let me = ctx.signed_in()?.user_id;
    let o = state.store.contact_overview(me).await?;
    let line = |r: &konvent_store::ContactRequest, other: &konvent_store::Who| {
        json!({
            "id": r.id,
            "person": { "id": other.id, "name": other.name },
            "message": r.message,
            "created_at": konvent_store::timestamp(r.created_at).to_string(),
        })
    };
    Ok(Json(json!({
        "incoming": o.incoming.iter().map(|r| line(r, &r.from)).collect::<Vec<_>>(),
        "sent": o.sent.iter().map(|r| line(r, &r.to)).collect::<Vec<_>>(),
    })))
}
