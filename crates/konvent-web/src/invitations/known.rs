//! What exists, and what an inviter may grant, for checking a list.

use konvent_core::ids::EventId;
use std::collections::{HashMap, HashSet};

use konvent_core::authz::{Grant, Role, Scope};
use konvent_core::invitations::Lookup;

use super::upload::Place;
use crate::AppState;
use crate::error::AppResult;

/// What exists, and what this inviter may grant, for checking a list.
pub(super) struct Known {
    /// Slug and number → id.
    events: HashMap<String, EventId>,
    /// id → slug, for the links into the lobby.
    pub(super) slugs: HashMap<EventId, String>,
    scopes: HashSet<String>,
    admin: bool,
    page_event: Option<EventId>,
}

impl Known {
    pub(super) async fn load(
        state: &AppState,
        principal: &konvent_core::authz::Principal,
        place: &Place,
    ) -> AppResult<Self> {
        let mut known = Known {
            events: HashMap::new(),
            slugs: HashMap::new(),
            scopes: HashSet::new(),
            admin: principal.is_admin(),
            page_event: place.event.as_ref().map(|(id, ..)| *id),
        };
        for e in state.store.events().await? {
            known.events.insert(e.slug.clone(), e.id);
            known.events.insert(e.id.to_string(), e.id);
            known.scopes.insert(Scope::Event(e.id).to_string());
            for r in state.store.rooms(e.id).await? {
                known.scopes.insert(Scope::Room(r.id).to_string());
            }
            known.slugs.insert(e.id, e.slug);
        }
        for c in state.store.conferences().await? {
            known
                .scopes
                .insert(format!("conference:{}", c.abbreviation));
        }
        for topic in state.store.topics().await? {
            known.scopes.insert(Scope::Topic(topic.id).to_string());
        }
        Ok(known)
    }
}

impl Lookup for Known {
    fn event(&self, slug_or_id: &str) -> Option<EventId> {
        self.events.get(slug_or_id.trim()).copied()
    }

    fn scope_exists(&self, scope: &Scope) -> bool {
        self.scopes.contains(&scope.to_string())
    }

    fn may_invite(&self, grant: &Grant, event: Option<EventId>) -> Result<(), String> {
        if self.admin {
            return Ok(());
        }
        if grant.role != Role::Participant {
            return Err("Organisator:innen laden nur Teilnehmende ein (Rolle participant).".into());
        }
        if event != self.page_event {
            return Err("Nur in die eigene Veranstaltung.".into());
        }
        Ok(())
    }

    fn default_event(&self) -> Option<EventId> {
        self.page_event
    }
}
