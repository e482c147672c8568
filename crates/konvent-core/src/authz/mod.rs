//! Who may do what (DESIGN.md "Who uses it"). Roles are granted with a scope: a
//! spokesperson speaks for one conference, a moderator leads one room. The web layer asks
//! these functions for every request; hiding a button is never the only check.

pub mod event;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::gremien::Abbreviation;
use crate::ids::{AccountId, EventId, RoomId, TopicId};

/// The roles of DESIGN.md's table. `public` is the absence of a principal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Organizer,
    Moderator,
    Patron,
    Member,
    Spokesperson,
    FachmkOffice,
    Participant,
}

impl Role {
    pub const ALL: [Role; 8] = [
        Self::Admin,
        Self::Organizer,
        Self::Moderator,
        Self::Patron,
        Self::Member,
        Self::Spokesperson,
        Self::FachmkOffice,
        Self::Participant,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Organizer => "organizer",
            Self::Moderator => "moderator",
            Self::Patron => "patron",
            Self::Member => "member",
            Self::Spokesperson => "spokesperson",
            Self::FachmkOffice => "fachmk_office",
            Self::Participant => "participant",
        }
    }

    /// Which kind of scope a grant of this role needs; `None` means it is global.
    pub fn scope_kind(self) -> Option<ScopeKind> {
        match self {
            Self::Admin | Self::Member | Self::Participant => None,
            Self::Organizer => Some(ScopeKind::Event),
            Self::Moderator => Some(ScopeKind::Room),
            Self::Patron => Some(ScopeKind::Topic),
            Self::Spokesperson | Self::FachmkOffice => Some(ScopeKind::Conference),
        }
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim())
            .ok_or_else(|| {
                let known: Vec<_> = Self::ALL.iter().map(|r| r.as_str()).collect();
                format!("unknown role {s:?}; known roles: {}", known.join(", "))
            })
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScopeKind {
    Conference,
    Event,
    Room,
    Topic,
}

impl ScopeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Conference => "conference",
            Self::Event => "event",
            Self::Room => "room",
            Self::Topic => "topic",
        }
    }
}

/// What a grant applies to, written `conference:DMK`, `event:3`, `room:12`, `topic:2`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Scope {
    Global,
    Conference(Abbreviation),
    Event(EventId),
    Room(RoomId),
    Topic(TopicId),
}

impl Scope {
    pub fn kind(&self) -> Option<ScopeKind> {
        match self {
            Self::Global => None,
            Self::Conference(_) => Some(ScopeKind::Conference),
            Self::Event(_) => Some(ScopeKind::Event),
            Self::Room(_) => Some(ScopeKind::Room),
            Self::Topic(_) => Some(ScopeKind::Topic),
        }
    }
}

impl FromStr for Scope {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.is_empty() || s == "global" {
            return Ok(Self::Global);
        }
        let (kind, value) = s.split_once(':').ok_or_else(|| {
            format!("scope {s:?} must be written KIND:VALUE, e.g. conference:DMK")
        })?;
        let id = || {
            value
                .parse::<i64>()
                .map_err(|_| format!("scope {s:?}: {value:?} is not a number"))
        };
        match kind {
            "conference" => Abbreviation::parse(value)
                .map(Self::Conference)
                .map_err(|m| format!("scope {s:?}: {m}")),
            "event" => id().map(|id| Self::Event(EventId::new(id))),
            "room" => id().map(|id| Self::Room(RoomId::new(id))),
            "topic" => id().map(|id| Self::Topic(TopicId::new(id))),
            _ => Err(format!(
                "unknown scope kind {kind:?}; use conference, event, room or topic"
            )),
        }
    }
}

impl TryFrom<String> for Scope {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<Scope> for String {
    fn from(value: Scope) -> Self {
        value.to_string()
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Global => f.write_str("global"),
            Self::Conference(a) => write!(f, "conference:{a}"),
            Self::Event(id) => write!(f, "event:{id}"),
            Self::Room(id) => write!(f, "room:{id}"),
            Self::Topic(id) => write!(f, "topic:{id}"),
        }
    }
}

/// One role with its scope.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Grant {
    pub role: Role,
    pub scope: Scope,
}

impl Grant {
    /// Checks that the scope fits the role (a spokesperson needs a conference, an admin
    /// needs none).
    pub fn new(role: Role, scope: Scope) -> Result<Self, String> {
        if role.scope_kind() != scope.kind() {
            return Err(match role.scope_kind() {
                None => format!("role {role} is global and takes no scope"),
                Some(kind) => format!("role {role} needs a scope {}:…", kind.as_str()),
            });
        }
        Ok(Self { role, scope })
    }
}

/// A signed-in account with its grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user_id: AccountId,
    pub display_name: String,
    pub email: String,
    pub grants: Vec<Grant>,
}

/// Everything the server checks before it acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action<'a> {
    /// Create and edit conferences, persons and role assignments; import.
    EditDirectory,
    /// Read the audit log of a conference.
    ReadAuditLog(&'a Abbreviation),
    /// Invite accounts and change their roles.
    ManageAccounts,
    /// Create and change council sessions, agendas, resolutions, follow-up meetings.
    EditCouncil,
    /// Read confidential decision papers (resolutions not yet published).
    ReadConfidential,
    /// Speak for a conference: file its report for a session, tick off the
    /// spokesperson's duties.
    SpeakFor(&'a Abbreviation),
    /// Work for a conference (spokesperson or its office): submit and follow concerns.
    WorkFor(&'a Abbreviation),
    /// Read a conference's informal reports to the council (G4) with their answers and
    /// author: the council's members, admins, and the conference's own spokespersons and
    /// office. Everybody else sees at most whether it reported.
    ReadReport(&'a Abbreviation),
    /// Add a group's work result to a workshop.
    AddWorkResult,
    /// Run a workshop: keep its documents (upload, replace, delete). The office (admins)
    /// runs every workshop; a workshop of an event (`Some(event)`) is also run by that
    /// event's organizers.
    RunWorkshop(Option<i64>),
    /// Run an event (K1–K7, K13, K14): agenda, rooms, announcements, the pitch timer,
    /// podium questions, feedback results.
    OrganizeEvent(EventId),
    /// Lead a room of an event: give and take the floor.
    ModerateRoom { event: EventId, room: RoomId },
    /// Read a focus topic's target-picture versions while they are confidential (S2):
    /// the council's members, the topic's patron, admins.
    ReadDraftTargetPicture(TopicId),
    /// Consolidate a topic's impulses and write the next target-picture version (S3):
    /// the project team (admins) and the topic's patron.
    ConsolidateTopic(TopicId),
}

impl Principal {
    pub fn has_role(&self, role: Role) -> bool {
        self.grants.iter().any(|g| g.role == role)
    }

    fn holds(&self, role: Role, conference: &Abbreviation) -> bool {
        self.grants
            .iter()
            .any(|g| g.role == role && g.scope == Scope::Conference(conference.clone()))
    }

    fn holds_scope(&self, role: Role, scope: &Scope) -> bool {
        self.grants
            .iter()
            .any(|g| g.role == role && &g.scope == scope)
    }

    pub fn is_admin(&self) -> bool {
        self.has_role(Role::Admin)
    }

    /// The conferences this person speaks for or works for.
    pub fn conferences(&self) -> impl Iterator<Item = &Abbreviation> {
        self.grants.iter().filter_map(|g| match &g.scope {
            Scope::Conference(a) => Some(a),
            _ => None,
        })
    }

    pub fn may(&self, action: Action<'_>) -> bool {
        match action {
            // Governance data is the office's (FITKO) responsibility: admins only.
            Action::EditDirectory
            | Action::ManageAccounts
            | Action::ReadAuditLog(_)
            | Action::EditCouncil => self.is_admin(),
            // The decision papers go to the council's members.
            Action::ReadConfidential => self.is_admin() || self.has_role(Role::Member),
            // A spokesperson reports for the conferences they speak for, nobody else's.
            Action::SpeakFor(conference) => {
                self.is_admin() || self.holds(Role::Spokesperson, conference)
            }
            Action::WorkFor(conference) => {
                self.is_admin()
                    || self.holds(Role::Spokesperson, conference)
                    || self.holds(Role::FachmkOffice, conference)
            }
            // Reports are internal to the council and the reporting conference.
            Action::ReadReport(conference) => {
                self.may(Action::ReadConfidential) || self.may(Action::WorkFor(conference))
            }
            // Workshop groups are whoever takes part: any signed-in account.
            Action::AddWorkResult => true,
            Action::RunWorkshop(event) => {
                self.is_admin()
                    || event.is_some_and(|e| self.may(Action::OrganizeEvent(EventId::new(e))))
            }
            Action::OrganizeEvent(event) => {
                self.is_admin() || self.holds_scope(Role::Organizer, &Scope::Event(event))
            }
            Action::ModerateRoom { event, room } => {
                self.may(Action::OrganizeEvent(event))
                    || self.holds_scope(Role::Moderator, &Scope::Room(room))
            }
            Action::ReadDraftTargetPicture(topic) => {
                self.may(Action::ReadConfidential)
                    || self.holds_scope(Role::Patron, &Scope::Topic(topic))
            }
            Action::ConsolidateTopic(topic) => {
                self.is_admin() || self.holds_scope(Role::Patron, &Scope::Topic(topic))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(grants: Vec<Grant>) -> Principal {
        Principal {
            user_id: AccountId::new(1),
            display_name: "Test".into(),
            email: "t@example.org".into(),
            grants,
        }
    }

    #[test]
    fn scopes_round_trip_through_their_written_form() {
        for s in ["global", "conference:DMK", "event:3", "room:12", "topic:2"] {
            let scope: Scope = s.parse().expect("valid scope");
            assert_eq!(scope.to_string(), s);
        }
        assert!("conference".parse::<Scope>().is_err());
        assert!("room:x".parse::<Scope>().is_err());
        assert!("planet:3".parse::<Scope>().is_err());
    }

    #[test]
    fn a_grant_needs_the_scope_its_role_requires() {
        let dmk = Scope::Conference(Abbreviation::parse("DMK").expect("valid"));
        assert!(Grant::new(Role::Spokesperson, dmk.clone()).is_ok());
        assert!(Grant::new(Role::Spokesperson, Scope::Global).is_err());
        assert!(Grant::new(Role::Admin, dmk).is_err());
        assert!(Grant::new(Role::Admin, Scope::Global).is_ok());
    }

    #[test]
    fn a_spokesperson_reports_only_for_their_own_conference() {
        let dmk = Abbreviation::parse("DMK").expect("valid");
        let imk = Abbreviation::parse("IMK").expect("valid");
        let p = principal(vec![
            Grant::new(Role::Spokesperson, Scope::Conference(dmk.clone())).expect("valid"),
        ]);
        assert!(p.may(Action::SpeakFor(&dmk)));
        assert!(!p.may(Action::SpeakFor(&imk)));
        let office = principal(vec![
            Grant::new(Role::FachmkOffice, Scope::Conference(dmk.clone())).expect("valid"),
        ]);
        assert!(!office.may(Action::SpeakFor(&dmk)));
    }

    #[test]
    fn members_and_admins_read_confidential_papers() {
        let member = principal(vec![
            Grant::new(Role::Member, Scope::Global).expect("valid"),
        ]);
        let participant = principal(vec![
            Grant::new(Role::Participant, Scope::Global).expect("valid"),
        ]);
        assert!(member.may(Action::ReadConfidential));
        assert!(!member.may(Action::EditCouncil));
        assert!(!participant.may(Action::ReadConfidential));
    }

    #[test]
    fn reports_reach_members_and_the_reporting_conference_only() {
        let dmk = Abbreviation::parse("DMK").expect("valid");
        let imk = Abbreviation::parse("IMK").expect("valid");
        let with = |role, scope| principal(vec![Grant::new(role, scope).expect("valid")]);
        let at = |a: &Abbreviation| Scope::Conference(a.clone());
        for reader in [
            with(Role::Admin, Scope::Global),
            with(Role::Member, Scope::Global),
            with(Role::Spokesperson, at(&dmk)),
            with(Role::FachmkOffice, at(&dmk)),
        ] {
            assert!(reader.may(Action::ReadReport(&dmk)), "{:?}", reader.grants);
        }
        for outsider in [
            with(Role::Spokesperson, at(&imk)),
            with(Role::FachmkOffice, at(&imk)),
            with(Role::Participant, Scope::Global),
            with(Role::Patron, Scope::Topic(TopicId::new(1))),
            with(Role::Organizer, Scope::Event(EventId::new(1))),
        ] {
            assert!(
                !outsider.may(Action::ReadReport(&dmk)),
                "{:?}",
                outsider.grants
            );
        }
    }

    #[test]
    fn organizers_and_moderators_are_scoped_to_their_event_and_room() {
        let organizer = principal(vec![
            Grant::new(Role::Organizer, Scope::Event(EventId::new(1))).expect("valid"),
        ]);
        assert!(organizer.may(Action::OrganizeEvent(EventId::new(1))));
        assert!(!organizer.may(Action::OrganizeEvent(EventId::new(2))));
        assert!(organizer.may(Action::ModerateRoom {
            event: EventId::new(1),
            room: RoomId::new(9),
        }));
        assert!(!organizer.may(Action::ModerateRoom {
            event: EventId::new(2),
            room: RoomId::new(9),
        }));
        let moderator = principal(vec![
            Grant::new(Role::Moderator, Scope::Room(RoomId::new(3))).expect("valid"),
        ]);
        assert!(moderator.may(Action::ModerateRoom {
            event: EventId::new(1),
            room: RoomId::new(3),
        }));
        assert!(!moderator.may(Action::ModerateRoom {
            event: EventId::new(1),
            room: RoomId::new(4),
        }));
        assert!(!moderator.may(Action::OrganizeEvent(EventId::new(1))));
        let participant = principal(vec![
            Grant::new(Role::Participant, Scope::Global).expect("valid"),
        ]);
        assert!(!participant.may(Action::OrganizeEvent(EventId::new(1))));
        assert!(!participant.may(Action::ModerateRoom {
            event: EventId::new(1),
            room: RoomId::new(3),
        }));
    }

    #[test]
    fn a_workshop_is_run_by_the_office_and_the_organizers_of_its_event() {
        let with = |role, scope| principal(vec![Grant::new(role, scope).expect("valid")]);
        let admin = with(Role::Admin, Scope::Global);
        assert!(admin.may(Action::RunWorkshop(None)));
        assert!(admin.may(Action::RunWorkshop(Some(1))));
        let organizer = with(Role::Organizer, Scope::Event(EventId::new(1)));
        assert!(organizer.may(Action::RunWorkshop(Some(1))));
        assert!(!organizer.may(Action::RunWorkshop(Some(2))));
        assert!(
            !organizer.may(Action::RunWorkshop(None)),
            "a council workshop is the office's"
        );
        for outsider in [
            with(Role::Participant, Scope::Global),
            with(Role::Member, Scope::Global),
            with(Role::Moderator, Scope::Room(RoomId::new(1))),
            with(Role::Patron, Scope::Topic(TopicId::new(1))),
        ] {
            assert!(
                !outsider.may(Action::RunWorkshop(Some(1))),
                "{:?}",
                outsider.grants
            );
        }
    }

    #[test]
    fn only_admins_edit_the_directory() {
        let admin = principal(vec![Grant::new(Role::Admin, Scope::Global).expect("valid")]);
        assert!(admin.may(Action::EditDirectory));
        for role in Role::ALL.into_iter().filter(|r| *r != Role::Admin) {
            let scope = match role.scope_kind() {
                None => Scope::Global,
                Some(ScopeKind::Conference) => {
                    Scope::Conference(Abbreviation::parse("IMK").expect("valid"))
                }
                Some(ScopeKind::Event) => Scope::Event(EventId::new(1)),
                Some(ScopeKind::Room) => Scope::Room(RoomId::new(1)),
                Some(ScopeKind::Topic) => Scope::Topic(TopicId::new(1)),
            };
            let p = principal(vec![Grant::new(role, scope).expect("valid")]);
            assert!(!p.may(Action::EditDirectory), "{role} must not edit");
            assert!(
                !p.may(Action::ManageAccounts),
                "{role} must not manage accounts"
            );
        }
    }
}
