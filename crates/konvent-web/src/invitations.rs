//! Bulk invitations (A2): an admin (any role, any event) or an event's organizer (its
//! participants) uploads a CSV/XLSX list or pastes addresses. The whole list is checked
//! first ([`konvent_core::invitations`], read with the directory import's readers);
//! a list with a problem is refused row by row and nothing is written. A good list
//! becomes a background job that writes the invitations in batches, each batch one
//! transaction with its mails in the outbox, and a progress page counts along.
//!
//! The list is stored with its job before the first batch, and each batch deletes the
//! rows it wrote: a job outlives its node. The node works it under a lease that every
//! batch renews; a stopping node gives the lease back, a dead one lets it run out, and
//! then [`resume`] on any node (this one after its restart) claims the job and writes
//! the rows left. A batch whose lease was taken over writes nothing.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use jiff::SignedDuration;
use konvent_core::authz::{Action, Grant, Role, Scope};
use konvent_core::gremien::transfer::{FileKind, MAX_FILE_BYTES, RowProblem};
use konvent_core::invitations::{self, Invitee, Lookup};
use konvent_store::{Actor, BulkClaim, BulkInvite, TokenPurpose};
use tokio::sync::Notify;
use tokio::task::JoinSet;

use crate::AppState;
use crate::ctx::{Ctx, Id, check_csrf, check_origin};
use crate::error::{AppError, AppResult};
use crate::i18n::Lang;
use crate::layout::{Chrome, render};
use crate::mail::{Link, LinkKind, link_mail};

/// People written per transaction: small enough that a running event's writes wait
/// milliseconds, not seconds, between two batches.
const BATCH: usize = 100;
/// Lists one person may start per hour (besides: one at a time).
const LISTS_PER_HOUR: i64 = 10;
/// How long a node's claim on a job holds without a batch: far above one batch's time.
/// A job of a node that died goes on elsewhere after this.
const LEASE: SignedDuration = SignedDuration::from_secs(90);
/// How often a node looks for jobs nobody works on.
const SWEEP: Duration = Duration::from_secs(30);

/// This node's list jobs: the writers running here, and the bell that makes [`resume`]
/// look at once.
#[derive(Default)]
pub struct Jobs {
    writers: Mutex<JoinSet<()>>,
    bell: Notify,
    stopping: AtomicBool,
}

impl Jobs {
    /// Makes [`resume`] look for unclaimed jobs now.
    pub fn wake(&self) {
        self.bell.notify_one();
    }

    fn spawn(&self, writer: Writer) {
        let mut writers = self.writers.lock().unwrap_or_else(|e| e.into_inner());
        // Finished writers are reaped here, so the set holds only running ones.
        while writers.try_join_next().is_some() {}
        writers.spawn(writer.run());
    }

    /// Tells the writers to stop after their batch and give their jobs back, and waits
    /// for them at most `grace`.
    pub async fn stop(&self, grace: Duration) {
        self.stopping.store(true, Ordering::SeqCst);
        let mut writers =
            std::mem::take(&mut *self.writers.lock().unwrap_or_else(|e| e.into_inner()));
        let all = async { while writers.join_next().await.is_some() {} };
        if tokio::time::timeout(grace, all).await.is_err() {
            tracing::warn!("a list job did not stop in time; its lease will release it");
        }
    }
}

/// A claim's owner: one per writer.
fn worker_name() -> String {
    format!("bulk-{}", &konvent_store::new_token()[..16])
}

/// Runs until the node stops: claims the jobs nobody works on (left by a node that
/// stopped or died, this one before its restart included) and writes their rows left.
pub async fn resume(state: AppState) {
    let mut tick = tokio::time::interval(SWEEP);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = state.jobs.bell.notified() => {}
        }
        if state.jobs.stopping.load(Ordering::SeqCst) {
            return;
        }
        let worker = worker_name();
        let claims = match state.store.claim_bulk_invitations(&worker, LEASE).await {
            Ok(claims) => claims,
            Err(e) => {
                tracing::warn!(error = %e, "list jobs: cannot look for jobs to resume");
                continue;
            }
        };
        for claim in claims {
            match Writer::resumed(&state, &worker, &claim).await {
                Ok(writer) => {
                    tracing::info!(job = claim.id, "list job resumed");
                    state.jobs.spawn(writer);
                }
                Err(e) => tracing::error!(job = claim.id, error = %e, "list job not resumed"),
            }
        }
    }
}

#[derive(Template)]
#[template(path = "invitations.html")]
struct UploadPage {
    c: Chrome,
    action: String,
    /// The event of an organizer's page.
    event: Option<String>,
    error: Option<String>,
    problems: Vec<RowProblem>,
    pasted: String,
}

#[derive(Template)]
#[template(path = "invitation_progress.html")]
struct ProgressPage {
    c: Chrome,
    job: konvent_store::BulkJob,
    /// The lobby to go back to, for an organizer's list.
    event: Option<(String, String)>,
    path: String,
}

/// Where a list comes from: the admin page, or an event's page.
#[derive(Clone)]
struct Place {
    /// (id, slug, title)
    event: Option<(i64, String, String)>,
}

impl Place {
    fn action(&self) -> String {
        match &self.event {
            Some((_, slug, _)) => format!("/konvent/{slug}/einladungen"),
            None => "/admin/einladungen".to_owned(),
        }
    }

    /// Admins everywhere; an event's organizers on its page.
    fn require(&self, ctx: &Ctx) -> AppResult<()> {
        match &self.event {
            Some((id, ..)) => ctx.require(Action::OrganizeEvent(*id)).map(drop),
            None => ctx.require(Action::ManageAccounts).map(drop),
        }
    }
}

fn page(ctx: &Ctx, place: &Place) -> UploadPage {
    UploadPage {
        c: Chrome::new(
            ctx,
            if place.event.is_some() { "konvent" } else { "" },
            ctx.tr().get("bulk-title"),
        ),
        action: place.action(),
        event: place.event.as_ref().map(|(_, _, title)| title.clone()),
        error: None,
        problems: vec![],
        pasted: String::new(),
    }
}

async fn event_place(state: &AppState, slug: &str) -> AppResult<Place> {
    let info = crate::events::event_info(state, slug).await?;
    Ok(Place {
        event: Some((
            info.event.id,
            info.event.slug.clone(),
            info.event.title.clone(),
        )),
    })
}

pub async fn admin_form(ctx: Ctx) -> AppResult<Response> {
    let place = Place { event: None };
    place.require(&ctx)?;
    Ok(render(&page(&ctx, &place))?.into_response())
}

pub async fn event_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
) -> AppResult<Response> {
    let place = event_place(&state, &slug).await?;
    place.require(&ctx)?;
    Ok(render(&page(&ctx, &place))?.into_response())
}

pub async fn admin_upload(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    multipart: Multipart,
) -> AppResult<Response> {
    submit(state, ctx, headers, multipart, Place { event: None }).await
}

pub async fn event_upload(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
    headers: HeaderMap,
    multipart: Multipart,
) -> AppResult<Response> {
    let place = event_place(&state, &slug).await?;
    submit(state, ctx, headers, multipart, place).await
}

/// What the form sent: a file, pasted addresses, or both empty.
struct Upload {
    file: Option<(String, Vec<u8>)>,
    pasted: String,
}

async fn read_upload(ctx: &Ctx, mut multipart: Multipart) -> AppResult<Upload> {
    let mut csrf = String::new();
    let mut upload = Upload {
        file: None,
        pasted: String::new(),
    };
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| AppError::BadRequest(format!("Upload unlesbar: {e}")))?
    {
        match field.name() {
            Some("csrf") => csrf = field.text().await.map_err(|_| AppError::Csrf)?,
            Some("file") => {
                let name = field.file_name().unwrap_or("").to_owned();
                let bytes = field.bytes().await.map_err(|_| AppError::PayloadTooLarge)?;
                if bytes.len() > MAX_FILE_BYTES {
                    return Err(AppError::PayloadTooLarge);
                }
                if !bytes.is_empty() {
                    upload.file = Some((name, bytes.to_vec()));
                }
            }
            Some("addresses") => {
                upload.pasted = field.text().await.map_err(|_| AppError::PayloadTooLarge)?;
            }
            _ => {}
        }
    }
    check_csrf(ctx, &csrf)?;
    Ok(upload)
}

async fn submit(
    state: AppState,
    ctx: Ctx,
    headers: HeaderMap,
    multipart: Multipart,
    place: Place,
) -> AppResult<Response> {
    check_origin(&headers)?;
    place.require(&ctx)?;
    let principal = ctx.signed_in()?.clone();
    let t = ctx.tr();
    let upload = read_upload(&ctx, multipart).await?;
    let mut result = page(&ctx, &place);
    result.pasted = upload.pasted.chars().take(20_000).collect();
    let refuse = |result: UploadPage, status: StatusCode| -> AppResult<Response> {
        Ok((status, render(&result)?).into_response())
    };

    // The budget: one list at a time, a few per hour.
    let hour_ago = jiff::Timestamp::now().as_microsecond() - 3_600_000_000;
    let (started, running) = state
        .store
        .bulk_invitations_by(principal.user_id, hour_ago)
        .await?;
    if running || started >= LISTS_PER_HOUR {
        result.error = Some(t.get(if running {
            "bulk-busy"
        } else {
            "bulk-too-many-lists"
        }));
        return refuse(result, StatusCode::TOO_MANY_REQUESTS);
    }

    let known = Known::load(&state, &principal, &place).await?;
    let parsed = match (&upload.file, upload.pasted.trim()) {
        (Some((name, bytes)), _) => match FileKind::detect(name, bytes) {
            Some(kind) => invitations::parse_file(kind, bytes, &known),
            None => {
                result.error = Some(t.get("import-unknown-kind"));
                return refuse(result, StatusCode::UNPROCESSABLE_ENTITY);
            }
        },
        (None, "") => {
            result.error = Some(t.get("bulk-no-input"));
            return refuse(result, StatusCode::UNPROCESSABLE_ENTITY);
        }
        (None, pasted) => invitations::parse_pasted(pasted, &known),
    };
    let invitees = match parsed {
        Ok(invitees) if invitees.is_empty() => {
            result.error = Some(t.get("bulk-no-input"));
            return refuse(result, StatusCode::UNPROCESSABLE_ENTITY);
        }
        Ok(invitees) => invitees,
        Err(report) => {
            result.problems = report.problems;
            return refuse(result, StatusCode::UNPROCESSABLE_ENTITY);
        }
    };

    let actor = ctx.actor()?;
    let worker = worker_name();
    let job = state
        .store
        .start_bulk_invitation(
            &actor,
            place.event.as_ref().map(|(id, ..)| *id),
            ctx.lang.code(),
            &invitees,
            &worker,
            LEASE,
        )
        .await?;
    state.jobs.spawn(Writer {
        state: state.clone(),
        job,
        worker,
        actor,
        lang: ctx.lang,
        slugs: known.slugs,
    });
    Ok(Redirect::to(&format!("/einladungen/{job}")).into_response())
}

/// What exists, and what this inviter may grant, for checking a list.
struct Known {
    /// Slug and number → id.
    events: HashMap<String, i64>,
    /// id → slug, for the links into the lobby.
    slugs: HashMap<i64, String>,
    scopes: HashSet<String>,
    admin: bool,
    page_event: Option<i64>,
}

impl Known {
    async fn load(
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
    fn event(&self, slug_or_id: &str) -> Option<i64> {
        self.events.get(slug_or_id.trim()).copied()
    }

    fn scope_exists(&self, scope: &Scope) -> bool {
        self.scopes.contains(&scope.to_string())
    }

    fn may_invite(&self, grant: &Grant, event: Option<i64>) -> Result<(), String> {
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

    fn default_event(&self) -> Option<i64> {
        self.page_event
    }
}

/// The background job of one checked list, on the node that holds its claim.
struct Writer {
    state: AppState,
    job: i64,
    /// The claim's owner.
    worker: String,
    actor: Actor,
    lang: Lang,
    slugs: HashMap<i64, String>,
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
    async fn resumed(state: &AppState, worker: &str, claim: &BulkClaim) -> AppResult<Self> {
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

    async fn run(self) {
        let store = &self.state.store;
        let error = match self.write_all().await {
            Ok(Ended::Done) => None,
            Ok(Ended::Stopping) => {
                if let Err(e) = store.release_bulk_invitation(self.job, &self.worker).await {
                    tracing::warn!(job = self.job, error = %e, "list job not given back; its lease will release it");
                }
                return;
            }
            Ok(Ended::Lost) => {
                tracing::warn!(job = self.job, "list job taken over by another node");
                return;
            }
            Err(e) => {
                tracing::error!(job = self.job, error = %e, "bulk invitation stopped");
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
            tracing::error!(job = self.job, error = %e, "bulk invitation not marked finished");
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

/// The progress of a list: for whoever started it, and admins.
pub async fn progress(State(state): State<AppState>, ctx: Ctx, Id(id): Id) -> AppResult<Response> {
    let principal = ctx.signed_in()?;
    let job = state
        .store
        .bulk_invitation(id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !principal.is_admin() && job.created_by != Some(principal.user_id) {
        return Err(AppError::NotFound);
    }
    let mut event = None;
    if let Some(event_id) = job.event_id {
        event = state
            .store
            .events()
            .await?
            .into_iter()
            .find(|e| e.id == event_id)
            .map(|e| (e.slug, e.title));
    }
    let page = ProgressPage {
        c: Chrome::new(&ctx, "", ctx.tr().get("bulk-progress-title")),
        job,
        event,
        path: format!("/einladungen/{id}"),
    };
    Ok(render(&page)?.into_response())
}
