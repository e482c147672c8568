//! Networking (K15+, K16+): opt-in profiles per event or konvent-wide, contact requests
//! (accepted, declined silently, never asked twice), blocks, and who else marked the
//! same connection point (their follow-up groups: `follow_up_groups`).
//!
//! Who may see a profile is decided here, in SQL, once: in an event, the event's own
//! profile wins over the konvent-wide one, and only the event's participants (not removed
//! from it) appear, with a profile that is not "nobody".

use konvent_core::ids::{AccountId, EventId};
use std::collections::HashMap;
use std::str::FromStr;

use konvent_core::convention::networking::{
    self, Card, ContactRefusal, ProfileFields, ProfileVisibility,
};
use konvent_core::strategy::FollowTarget;

use crate::{Result, Store, StoreError, Who, now_micros};

/// A person's profile as others see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub account: Who,
    /// 0: konvent-wide.
    pub event_id: EventId,
    pub fields: ProfileFields,
}

/// A contact request as its asker or its recipient sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactRequest {
    pub id: i64,
    pub from: Who,
    pub to: Who,
    pub message: String,
    /// The event it was sent from (0: from "Meine Ergebnisse").
    pub event_id: EventId,
    /// For the asker a declined request stays "open" (declining is silent).
    pub accepted: bool,
    pub created_at: i64,
}

/// What became of a contact request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestOutcome {
    /// Sent; the other person decides.
    Sent,
    /// The other person had asked already: the two are contacts now.
    Connected,
}

/// A person's requests and contacts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactOverview {
    /// Open requests to the person.
    pub incoming: Vec<ContactRequest>,
    /// Requests the person sent that are not accepted (declined ones look open).
    pub sent: Vec<ContactRequest>,
    /// Accepted contacts with what their profile shares.
    pub contacts: Vec<Card>,
    /// Their ids, in the order of `contacts`.
    pub contact_ids: Vec<AccountId>,
    pub blocked: Vec<Who>,
}

/// Somebody else who marked the same connection point and allows being found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    pub who: Who,
    /// From a profile visible to everybody signed in; empty otherwise.
    pub organisation: String,
}

/// A connection point of one person with the others who marked it too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointPeers {
    pub target: FollowTarget,
    pub target_id: i64,
    pub label: String,
    pub peers: Vec<Peer>,
}

type ProfileRow = (
    i64,
    String,
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    String,
    i64,
    i64,
);

const PROFILE_COLUMNS: &str = "p.account_id, a.display_name, p.event_id, p.organisation, \
     p.role, p.region, p.topics, p.about, p.phone, p.share_email, p.visibility, \
     p.show_location, p.match_points";

fn profile_from(row: ProfileRow) -> Result<Profile> {
    let (id, name, event_id, organisation, role, region, topics, about, phone, share, vis, loc, m) =
        row;
    Ok(Profile {
        account: Who::new(AccountId::new(id), name),
        event_id: EventId::new(event_id),
        fields: ProfileFields {
            organisation,
            role,
            region,
            topics: serde_json::from_str(&topics).unwrap_or_default(),
            about,
            phone,
            share_email: share != 0,
            visibility: ProfileVisibility::from_str(&vis).map_err(StoreError::Corrupt)?,
            show_location: loc != 0,
            match_points: m != 0,
        },
    })
}

impl Store {
    /// Writes the person's profile for the event (`event_id = 0`: konvent-wide).
    #[tracing::instrument(level = "debug", skip_all, fields(account = %account, event_id = %event_id))]
    pub async fn save_profile(
        &self,
        account: AccountId,
        event_id: EventId,
        fields: &ProfileFields,
    ) -> Result<()> {
        let topics = serde_json::to_string(&fields.topics).map_err(StoreError::Encode)?;
        sqlx::query(
            "INSERT INTO network_profiles (account_id, event_id, organisation, role, region, \
             topics, about, phone, share_email, visibility, show_location, match_points, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
             ON CONFLICT (account_id, event_id) DO UPDATE SET organisation = excluded.organisation, \
             role = excluded.role, region = excluded.region, topics = excluded.topics, \
             about = excluded.about, phone = excluded.phone, share_email = excluded.share_email, \
             visibility = excluded.visibility, show_location = excluded.show_location, \
             match_points = excluded.match_points, updated_at = excluded.updated_at",
        )
        .bind(account.get())
        .bind(event_id.get())
        .bind(&fields.organisation)
        .bind(&fields.role)
        .bind(&fields.region)
        .bind(topics)
        .bind(&fields.about)
        .bind(&fields.phone)
        .bind(i64::from(fields.share_email))
        .bind(fields.visibility.as_str())
        .bind(i64::from(fields.show_location))
        .bind(i64::from(fields.match_points))
        .bind(now_micros())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Removes the person's profile for the event (or the konvent-wide one).
    #[tracing::instrument(level = "debug", skip_all, fields(account = %account, event_id = %event_id))]
    pub async fn delete_profile(&self, account: AccountId, event_id: EventId) -> Result<()> {
        sqlx::query("DELETE FROM network_profiles WHERE account_id = $1 AND event_id = $2")
            .bind(account.get())
            .bind(event_id.get())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The person's own profile for exactly this event (0: konvent-wide), for editing.
    #[tracing::instrument(level = "debug", skip_all, fields(account = %account, event_id = %event_id))]
    pub async fn own_profile(
        &self,
        account: AccountId,
        event_id: EventId,
    ) -> Result<Option<Profile>> {
        let row: Option<ProfileRow> = sqlx::query_as(&format!(
            "SELECT {PROFILE_COLUMNS} FROM network_profiles p JOIN accounts a \
             ON a.id = p.account_id WHERE p.account_id = $1 AND p.event_id = $2"
        ))
        .bind(account.get())
        .bind(event_id.get())
        .fetch_optional(&self.pool)
        .await?;
        row.map(profile_from).transpose()
    }

    /// The profiles an event's participants see of each other: of every participant
    /// (not removed), the event's own profile or else the konvent-wide one, unless it is
    /// visible to nobody. By name. A person who appears in the event under a pseudonym
    /// appears here under it too, and only with the event's own profile (the
    /// konvent-wide one belongs to the real name).
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id))]
    pub async fn event_profiles(&self, event_id: EventId) -> Result<Vec<Profile>> {
        let named = PROFILE_COLUMNS.replacen(
            "a.display_name",
            &crate::pseudonyms::name_in_event("e.event_id", "a.id"),
            1,
        );
        let rows: Vec<ProfileRow> = sqlx::query_as(&format!(
            "SELECT {named} FROM event_people e \
             JOIN accounts a ON a.id = e.account_id \
             JOIN network_profiles p ON p.account_id = e.account_id \
             AND (p.event_id = e.event_id OR (p.event_id = 0 AND NOT EXISTS ( \
                 SELECT 1 FROM network_profiles o WHERE o.account_id = e.account_id \
                 AND o.event_id = e.event_id) AND NOT EXISTS ( \
                 SELECT 1 FROM event_pseudonyms ps JOIN events pe ON pe.id = ps.event_id \
                 WHERE ps.event_id = e.event_id AND ps.account_id = e.account_id \
                 AND pe.pseudonyms_allowed <> 0))) \
             WHERE e.event_id = $1 AND p.visibility <> 'nobody' \
             AND NOT EXISTS (SELECT 1 FROM event_removals r WHERE r.event_id = e.event_id \
                 AND r.account_id = e.account_id) \
             ORDER BY 2, a.id"
        ))
        .bind(event_id.get())
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(profile_from).collect()
    }

    /// Whether the two block each other (either way).
    #[tracing::instrument(level = "debug", skip_all, fields(a = %a, b = %b))]
    pub async fn blocked_between(&self, a: AccountId, b: AccountId) -> Result<bool> {
        let row: Option<(i64,)> = sqlx::query_as(
            "SELECT 1 FROM contact_blocks WHERE (account_id = $1 AND blocked_id = $2) \
             OR (account_id = $2 AND blocked_id = $1)",
        )
        .bind(a.get())
        .bind(b.get())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some())
    }

    /// Whether the two are accepted contacts, neither blocking the other.
    #[tracing::instrument(level = "debug", skip_all, fields(a = %a, b = %b))]
    pub async fn are_contacts(&self, a: AccountId, b: AccountId) -> Result<bool> {
        let row: Option<(i64,)> = sqlx::query_as(
            "SELECT 1 FROM contact_requests WHERE status = 'accepted' \
             AND ((from_id = $1 AND to_id = $2) OR (from_id = $2 AND to_id = $1)) \
             AND NOT EXISTS (SELECT 1 FROM contact_blocks WHERE (account_id = $1 AND \
             blocked_id = $2) OR (account_id = $2 AND blocked_id = $1))",
        )
        .bind(a.get())
        .bind(b.get())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some())
    }

    /// `from` asks `to` to connect. Refused to oneself, between people who block each
    /// other, and when `from` asked before (whatever `to` answered: a declined request
    /// reads as still open). When `to` had asked `from`, the two are contacts at once.
    #[tracing::instrument(level = "debug", skip_all, fields(from = %from, to = %to, event_id = %event_id))]
    pub async fn request_contact(
        &self,
        from: AccountId,
        to: AccountId,
        event_id: EventId,
        message: &str,
    ) -> Result<RequestOutcome> {
        networking::request(from, to)?;
        let mut tx = self.begin_write().await?;
        let blocked: Option<(i64,)> = sqlx::query_as(
            "SELECT 1 FROM contact_blocks WHERE (account_id = $1 AND blocked_id = $2) \
             OR (account_id = $2 AND blocked_id = $1)",
        )
        .bind(from.get())
        .bind(to.get())
        .fetch_optional(&mut *tx)
        .await?;
        let pair: Vec<(i64, i64, String)> = sqlx::query_as(
            "SELECT id, from_id, status FROM contact_requests \
             WHERE (from_id = $1 AND to_id = $2) OR (from_id = $2 AND to_id = $1)",
        )
        .bind(from.get())
        .bind(to.get())
        .fetch_all(&mut *tx)
        .await?;
        let earlier: Vec<(AccountId, bool)> = pair
            .iter()
            .map(|(_, asker, status)| (AccountId::new(*asker), status == "accepted"))
            .collect();
        networking::request_again(from, blocked.is_some(), &earlier)?;
        if let Some((id, _, _)) = pair.iter().find(|(_, _, status)| status == "open") {
            sqlx::query(
                "UPDATE contact_requests SET status = 'accepted', decided_at = $1 WHERE id = $2",
            )
            .bind(now_micros())
            .bind(id)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            return Ok(RequestOutcome::Connected);
        }
        sqlx::query(
            "INSERT INTO contact_requests (from_id, to_id, event_id, message, status, created_at) \
             VALUES ($1, $2, $3, $4, 'open', $5)",
        )
        .bind(from.get())
        .bind(to.get())
        .bind(event_id.get())
        .bind(message)
        .bind(now_micros())
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::refused_on_unique(e, ContactRefusal::AlreadyAsked))?;
        tx.commit().await?;
        Ok(RequestOutcome::Sent)
    }

    /// The recipient accepts or declines an open request; `NotFound` for any other.
    /// Returns the asker.
    #[tracing::instrument(level = "debug", skip_all, fields(account = %account, request_id = request_id))]
    pub async fn answer_contact_request(
        &self,
        account: AccountId,
        request_id: i64,
        accept: bool,
    ) -> Result<AccountId> {
        let row: Option<(i64,)> = sqlx::query_as(
            "UPDATE contact_requests SET status = $1, decided_at = $2 \
             WHERE id = $3 AND to_id = $4 AND status = 'open' RETURNING from_id",
        )
        .bind(if accept { "accepted" } else { "declined" })
        .bind(now_micros())
        .bind(request_id)
        .bind(account.get())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|(from,)| AccountId::new(from))
            .ok_or(StoreError::NotFound)
    }

    /// Blocks (or unblocks) `other` for `account`: no requests, no messages either way;
    /// an open request from `other` is declined with it.
    #[tracing::instrument(level = "debug", skip_all, fields(account = %account, other = %other))]
    pub async fn set_blocked(&self, account: AccountId, other: AccountId, on: bool) -> Result<()> {
        networking::block(account, other)?;
        let mut tx = self.begin_write().await?;
        if on {
            sqlx::query(
                "INSERT INTO contact_blocks (account_id, blocked_id, created_at) \
                 VALUES ($1, $2, $3) ON CONFLICT (account_id, blocked_id) DO NOTHING",
            )
            .bind(account.get())
            .bind(other.get())
            .bind(now_micros())
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE contact_requests SET status = 'declined', decided_at = $1 \
                 WHERE from_id = $2 AND to_id = $3 AND status = 'open'",
            )
            .bind(now_micros())
            .bind(other.get())
            .bind(account.get())
            .execute(&mut *tx)
            .await?;
        } else {
            sqlx::query("DELETE FROM contact_blocks WHERE account_id = $1 AND blocked_id = $2")
                .bind(account.get())
                .bind(other.get())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The person's open requests (both ways), accepted contacts and blocks.
    #[tracing::instrument(level = "debug", skip_all, fields(account = %account))]
    pub async fn contact_overview(&self, account: AccountId) -> Result<ContactOverview> {
        type Row = (i64, i64, String, i64, String, String, String, i64, i64);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT r.id, r.from_id, f.display_name, r.to_id, t.display_name, r.message, \
             r.status, r.created_at, r.event_id FROM contact_requests r \
             JOIN accounts f ON f.id = r.from_id JOIN accounts t ON t.id = r.to_id \
             WHERE r.from_id = $1 OR r.to_id = $1 ORDER BY r.created_at, r.id",
        )
        .bind(account.get())
        .fetch_all(&self.pool)
        .await?;
        let blocked: Vec<(i64, String)> = sqlx::query_as(
            "SELECT a.id, a.display_name FROM contact_blocks b JOIN accounts a \
             ON a.id = b.blocked_id WHERE b.account_id = $1 ORDER BY a.display_name",
        )
        .bind(account.get())
        .fetch_all(&self.pool)
        .await?;
        let mut overview = ContactOverview {
            blocked: blocked
                .into_iter()
                .map(|(id, name)| Who::new(AccountId::new(id), name))
                .collect(),
            ..ContactOverview::default()
        };
        for (id, from_id, from_name, to_id, to_name, message, status, created_at, event_id) in rows
        {
            let (from_id, to_id) = (AccountId::new(from_id), AccountId::new(to_id));
            let request = ContactRequest {
                id,
                event_id: EventId::new(event_id),
                from: Who::new(from_id, from_name),
                to: Who::new(to_id, to_name),
                message,
                accepted: status == "accepted",
                created_at,
            };
            let other = if from_id == account { to_id } else { from_id };
            if request.accepted {
                if !self.blocked_between(account, other).await? {
                    overview.contact_ids.push(other);
                }
            } else if from_id == account {
                overview.sent.push(request);
            } else if status == "open" {
                overview.incoming.push(request);
            }
        }
        for id in overview.contact_ids.clone() {
            overview.contacts.push(self.card(id).await?);
        }
        Ok(overview)
    }

    /// What a contact's profile shares with contacts: the konvent-wide profile, or else
    /// the latest event profile; the name alone without one.
    #[tracing::instrument(level = "debug", skip_all, fields(account = %account))]
    pub async fn card(&self, account: AccountId) -> Result<Card> {
        let row: Option<(String, String, String, String, String, i64, String)> = sqlx::query_as(
            "SELECT a.display_name, a.email, COALESCE(p.organisation, ''), \
                 COALESCE(p.role, ''), COALESCE(p.phone, ''), COALESCE(p.share_email, 0), \
                 COALESCE(p.about, '') FROM accounts a LEFT JOIN network_profiles p \
                 ON p.account_id = a.id AND p.event_id = (SELECT q.event_id FROM \
                 network_profiles q WHERE q.account_id = a.id ORDER BY \
                 CASE WHEN q.event_id = 0 THEN 0 ELSE 1 END, q.updated_at DESC LIMIT 1) \
                 WHERE a.id = $1",
        )
        .bind(account.get())
        .fetch_optional(&self.pool)
        .await?;
        let (name, email, organisation, role, phone, share, about) =
            row.ok_or(StoreError::NotFound)?;
        Ok(Card {
            name,
            organisation,
            role,
            email: (share != 0).then_some(email),
            phone,
            note: about,
        })
    }

    /// The person's connection points with the others who marked the same one and allow
    /// being found (a profile with "match_points"); only when the person allows it too.
    #[tracing::instrument(level = "debug", skip_all, fields(account = %account))]
    pub async fn point_peers(&self, account: AccountId) -> Result<Vec<PointPeers>> {
        if !self.allows_matching(account).await? {
            return Ok(Vec::new());
        }
        let mine = self.connection_points(Some(account)).await?;
        // Everybody else's marks on the same points, in one query for all of them.
        let rows: Vec<(String, i64, i64, String, Option<String>)> = sqlx::query_as(
            "SELECT m.target, m.target_id, a.id, a.display_name, \
             (SELECT p.organisation FROM network_profiles p \
             WHERE p.account_id = a.id AND p.visibility = 'signed_in' \
             ORDER BY p.event_id LIMIT 1) FROM connection_points m \
             JOIN connection_points c ON c.target = m.target AND c.target_id = m.target_id \
             JOIN accounts a ON a.id = c.account_id \
             WHERE m.account_id = $1 AND c.account_id <> $1 \
             AND EXISTS (SELECT 1 FROM network_profiles n WHERE n.account_id = a.id \
                 AND n.match_points = 1) \
             AND NOT EXISTS (SELECT 1 FROM contact_blocks b WHERE (b.account_id = $1 \
                 AND b.blocked_id = a.id) OR (b.account_id = a.id AND b.blocked_id = $1)) \
             ORDER BY a.display_name, a.id",
        )
        .bind(account.get())
        .fetch_all(&self.pool)
        .await?;
        let mut peers: HashMap<(String, i64), Vec<Peer>> = HashMap::new();
        for (target, target_id, id, name, organisation) in rows {
            peers.entry((target, target_id)).or_default().push(Peer {
                who: Who::new(AccountId::new(id), name),
                organisation: organisation.unwrap_or_default(),
            });
        }
        Ok(mine
            .into_iter()
            .map(|point| PointPeers {
                peers: peers
                    .remove(&(point.target.as_str().to_owned(), point.target_id))
                    .unwrap_or_default(),
                target: point.target,
                target_id: point.target_id,
                label: point.label,
            })
            .collect())
    }

    async fn allows_matching(&self, account: AccountId) -> Result<bool> {
        let row: Option<(i64,)> = sqlx::query_as(
            "SELECT 1 FROM network_profiles WHERE account_id = $1 AND match_points = 1",
        )
        .bind(account.get())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some())
    }
}
