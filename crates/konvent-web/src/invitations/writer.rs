//! The background job of one checked list: written in batches under a lease, each
//! batch one transaction with its mails.

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use jiff::SignedDuration;
use konvent_core::ids::{BulkInvitationId, EventId};
use konvent_core::invitations::Invitee;
use konvent_store::{Actor, BulkClaim, BulkInvite, TokenPurpose};

use super::{BATCH, LEASE};
use crate::AppState;
use crate::error::AppResult;
use crate::i18n::Lang;
use crate::mail::{Link, LinkKind, link_mail};

/// The background job of one checked list, on the node that holds its claim.
pub(super) struct Writer {
    pub(super) state: AppState,
    pub(super) job: BulkInvitationId,
    /// The claim's owner.
    pub(super) worker: String,
    pub(super) actor: Actor,
    pub(super) lang: Lang,
    pub(super) slugs: HashMap<EventId, String>,
}

/// How a writer's work ended.
enum Ended {
    /// Every row is written.
    Done,
    /// The node is stopping: the job is given back.
    Stopping,
    /// Another node took the job over (this node's lease ran out).
    Lost,
}

impl Writer {
    /// The writer of a job claimed again: the inviter and the event's links from the
    /// database.
    pub(super) async fn resumed(
        state: &AppState,
        worker: &str,
        claim: &BulkClaim,
    ) -> AppResult<Self> {
        let inviter = match claim.created_by {
            Some(id) => state.store.principal(id).await?,
            None => None,
        };
        // An inviter whose account is gone: the list still goes out, in konvent's name.
        let actor = match inviter {
            Some(p) => Actor::account(p.user_id, p.display_name),
            None => Actor::system("konvent"),
        };
        let slugs = state
            .store
            .events()
            .await?
            .into_iter()
            .map(|e| (e.id, e.slug))
            .collect();
        Ok(Self {
            state: state.clone(),
            job: claim.id,
            worker: worker.to_owned(),
            actor,
            lang: Lang::parse(&claim.language).unwrap_or_default(),
            slugs,
        })
    }

    pub(super) async fn run(self) {
        let store = &self.state.store;
        let error = match self.write_all().await {
            Ok(Ended::Done) => None,
            Ok(Ended::Stopping) => {
                if let Err(e) = store.release_bulk_invitation(self.job, &self.worker).await {
                    tracing::warn!(job = %self.job, error = %e, "list job not given back; its lease will release it");
                }
                return;
            }
            Ok(Ended::Lost) => {
                tracing::warn!(job = %self.job, "list job taken over by another node");
                return;
            }
            Err(e) => {
                tracing::error!(job = %self.job, error = %e, "bulk invitation stopped");
                Some(
                    "Das Schreiben der Einladungen brach ab (siehe Server-Protokoll); die \
                     gezählten Einladungen sind geschrieben, die übrigen nicht."
                        .to_owned(),
                )
            }
        };
        if let Err(e) = store
            .finish_bulk_invitation(self.job, &self.worker, error.as_deref())
            .await
        {
            tracing::error!(job = %self.job, error = %e, "bulk invitation not marked finished");
        }
    }

    /// Writes the rows left in batches of [`BATCH`], one transaction each, so that a
    /// running event's chat never waits for the whole list (SQLite has one writer).
    /// This is still all or nothing for everything a list can get wrong: every row was
    /// checked before the job was stored, and nothing a later batch writes depends on
    /// an earlier one. What can stop a job midway is the database itself failing; the
    /// job then records how far it came, and the progress page says so.
    async fn write_all(&self) -> AppResult<Ended> {
        let store = &self.state.store;
        loop {
            if self.state.jobs.stopping.load(Ordering::SeqCst) {
                return Ok(Ended::Stopping);
            }
            let rows = store.bulk_invitation_rows(self.job, BATCH).await?;
            if rows.is_empty() {
                return Ok(Ended::Done);
            }
            let emails: Vec<String> = rows.iter().map(|i| i.email.clone()).collect();
            let existing = store.existing_accounts(&emails).await?;
            let batch = rows
                .iter()
                .map(|i| self.invite(i, existing.contains(&i.email)))
                .collect::<AppResult<Vec<_>>>()?;
            let Some(changed) = store
                .write_bulk_invitations(self.job, &self.worker, LEASE, &self.actor, &batch)
                .await?
            else {
                return Ok(Ended::Lost);
            };
            self.state.mail.wake();
            // Open live sockets hold the rights they opened with: they reconnect with more.
            for account in changed {
                self.state.live.account_changed(account);
            }
            tokio::task::yield_now().await;
        }
    }

    /// The link and mail of one person: an invitation for a new address, a sign-in link
    /// (and the grant at once) for an address with an account.
    fn invite(&self, invitee: &Invitee, existing: bool) -> AppResult<BulkInvite> {
        let settings = &self.state.settings;
        let (purpose, kind, path, hours) = if existing {
            (
                TokenPurpose::SignIn,
                LinkKind::SignIn,
                "anmelden/link",
                settings.sign_in_link_hours,
            )
        } else {
            (
                TokenPurpose::Invitation,
                LinkKind::Invitation,
                "einladung",
                settings.invitation_hours,
            )
        };
        let valid_for = SignedDuration::from_hours(i64::from(hours));
        let token = konvent_store::new_token();
        let mut url = format!("{}/{path}/{token}", settings.public_base());
        if let Some(slug) = invitee.event.and_then(|id| self.slugs.get(&id)) {
            url.push_str(&format!("?weiter=/konvent/{slug}"));
        }
        let expires_at = jiff::Timestamp::now()
            .as_microsecond()
            .saturating_add(valid_for.as_micros() as i64);
        let lang = invitee
            .language
            .as_deref()
            .and_then(Lang::parse)
            .unwrap_or(self.lang);
        let mail = link_mail(
            &self.state.mail,
            settings,
            &Link {
                kind,
                lang,
                recipient: &invitee.email,
                inviter: &self.actor.name,
                url: &url,
                expires_at,
            },
        )?;
        Ok(BulkInvite {
            row: invitee.row as i64,
            purpose,
            token,
            email: invitee.email.clone(),
            display_name: invitee.name.clone(),
            organisation: invitee.organisation.clone(),
            grant: invitee.grant.clone(),
            event_id: invitee.event,
            valid_for,
            mail,
        })
    }
}
