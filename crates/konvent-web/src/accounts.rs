//! Account administration: invitations (single-use, expiring links) and roles with
//! their scopes. Admins only.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use jiff::SignedDuration;
use konvent_core::FieldErrors;
use konvent_core::authz::{Action, Grant, Role, Scope};
use konvent_core::ids::AccountId;
use konvent_store::{Account, NewLink, TokenPurpose};
use serde::Deserialize;

use crate::AppState;
use crate::ctx::{CsrfForm, Ctx, Id};
use crate::error::{AppError, AppResult};
use crate::forms::{Field, Kind, attach, choices};
use crate::i18n::{Lang, Tr};
use crate::layout::{Chrome, datetime_de, render};
use crate::mail::{Link, LinkKind, link_mail};

struct AccountRow {
    id: AccountId,
    name: String,
    email: String,
    organisation: Option<String>,
    has_password: bool,
    /// Role, scope, label, and the label of the provider whose claims gave it.
    grants: Vec<(String, String, String, Option<String>)>,
    /// The providers it signs in with, by label.
    providers: Vec<String>,
    /// The provider (label) it may be linked to at the next sign-in there.
    link_provider: Option<String>,
    disabled: bool,
    /// The admin looking at the page: cannot disable their own account.
    is_self: bool,
}

/// What an invitation did, for the page that follows it.
struct Created {
    email: String,
    /// The invitation link, shown to the admin as well; None for an address that has an
    /// account already (its mail carries a sign-in link, which only its owner sees).
    link: Option<String>,
    expires: String,
}

#[derive(Template)]
#[template(path = "accounts.html")]
struct AccountsPage {
    c: Chrome,
    accounts: Vec<AccountRow>,
    invite_fields: Vec<Field>,
    problems: Vec<String>,
    created: Option<Created>,
    role_choices: Vec<crate::forms::Choice>,
    scope_choices: Vec<crate::forms::Choice>,
    /// The configured single sign-on providers (id, label); empty without any.
    providers: Vec<(String, String)>,
}

fn role_label(t: &Tr, role: Role) -> String {
    t.get(&format!("account-role-{}", role.as_str().replace('_', "-")))
}

/// The roles to choose from: an empty "please choose" first (no role is preselected, so
/// a stray click grants nothing), the least privileged roles next, administration last.
fn role_options(t: &Tr) -> Vec<(String, String)> {
    std::iter::once((String::new(), t.get("choose-role")))
        .chain(
            Role::ALL
                .iter()
                .rev()
                .map(|r| (r.as_str().to_owned(), role_label(t, *r))),
        )
        .collect()
}

/// The valid scopes to choose from: none (for the global roles), each conference, each
/// event, each room of an event and each focus topic.
async fn scope_options(state: &AppState, t: &Tr) -> AppResult<Vec<(String, String)>> {
    let mut options = vec![(String::new(), t.get("scope-none"))];
    for c in state.store.conferences().await? {
        options.push((
            format!("conference:{}", c.abbreviation),
            format!(
                "{}: {} ({})",
                t.get("scope-conference"),
                c.name,
                c.abbreviation
            ),
        ));
    }
    let events = state.store.events().await?;
    for e in &events {
        options.push((
            format!("event:{}", e.id),
            format!("{}: {}", t.get("scope-event"), e.title),
        ));
    }
    for e in &events {
        for r in state.store.rooms(e.id).await? {
            options.push((
                format!("room:{}", r.id),
                format!("{}: {} – {}", t.get("scope-room"), e.title, r.name),
            ));
        }
    }
    for topic in state.store.topics().await? {
        options.push((
            format!("topic:{}", topic.id),
            format!("{}: {}", t.get("scope-topic"), topic.title),
        ));
    }
    Ok(options)
}

#[derive(Deserialize, Default)]
pub struct InviteForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    scope: String,
    /// The language of the mail: "de" or "en".
    #[serde(default)]
    language: String,
}

#[derive(Deserialize)]
pub struct GrantForm {
    #[serde(default)]
    role: String,
    #[serde(default)]
    scope: String,
}

fn parse_grant(errors: &mut FieldErrors, role: &str, scope: &str) -> Option<Grant> {
    if role.trim().is_empty() {
        errors.add("role", "required", "Bitte eine Rolle wählen.");
        return None;
    }
    let role: Role = role
        .parse()
        .map_err(|_| errors.add("role", "invalid-choice", "Bitte aus der Liste wählen."))
        .ok()?;
    let scope: Scope = scope
        .parse()
        .map_err(|m: String| errors.add("scope", "invalid-scope", m))
        .ok()?;
    Grant::new(role, scope)
        .map_err(|m| errors.add("scope", "invalid-scope", m))
        .ok()
}

async fn accounts_page(
    state: &AppState,
    ctx: &Ctx,
    form: &InviteForm,
    errors: &FieldErrors,
    created: Option<Created>,
) -> AppResult<AccountsPage> {
    let t = ctx.tr();
    let me = ctx.signed_in()?.user_id;
    let label = |id: &String| state.sso.label_of(id);
    let accounts = state
        .store
        .accounts()
        .await?
        .into_iter()
        .map(|a: Account| AccountRow {
            id: a.id,
            is_self: a.id == me,
            name: a.display_name,
            email: a.email,
            organisation: a.organisation,
            has_password: a.has_password,
            grants: a
                .grants
                .iter()
                .zip(&a.granted_by)
                .map(|(g, by)| {
                    (
                        g.role.as_str().to_owned(),
                        g.scope.to_string(),
                        role_label(&t, g.role),
                        by.as_ref().map(label),
                    )
                })
                .collect(),
            providers: a.providers.iter().map(label).collect(),
            link_provider: a.link_provider.as_ref().map(label),
            disabled: a.disabled,
        })
        .collect();
    let scopes = scope_options(state, &t).await?;
    let mut invite_fields = vec![
        Field::new(&t, "email", Kind::Email)
            .value(&form.email)
            .required(),
        Field::new(
            &t,
            "role",
            Kind::Select(choices(role_options(&t), &form.role)),
        )
        .required(),
        Field::new(
            &t,
            "scope",
            Kind::Select(choices(scopes.clone(), &form.scope)),
        )
        .hint(t.get("hint-scope")),
        Field::new(
            &t,
            "language",
            Kind::Select(choices(
                [Lang::De, Lang::En].map(|l| {
                    (
                        l.code().to_owned(),
                        t.get(&format!("language-{}", l.code())),
                    )
                }),
                if form.language.is_empty() {
                    ctx.lang.code()
                } else {
                    form.language.as_str()
                },
            )),
        )
        .hint(t.get("hint-mail-language")),
    ];
    let problems = attach(&t, &mut invite_fields, errors);
    Ok(AccountsPage {
        c: Chrome::new(ctx, "", t.get("accounts-title")),
        accounts,
        invite_fields,
        problems,
        created,
        role_choices: choices(role_options(&t), ""),
        scope_choices: choices(scopes, ""),
        providers: state.sso.buttons(),
    })
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn list(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    ctx.require(Action::ManageAccounts)?;
    let page = accounts_page(
        &state,
        &ctx,
        &InviteForm::default(),
        &FieldErrors::new(),
        None,
    )
    .await?;
    Ok(render(&page)?.into_response())
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn invite(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<InviteForm>,
) -> AppResult<Response> {
    ctx.require(Action::ManageAccounts)?;
    let mut errors = FieldErrors::new();
    let email = form.email.trim();
    if !is_plausible_email(email) {
        errors.add(
            "email",
            "invalid-email",
            "Bitte eine gültige E-Mail-Adresse angeben.",
        );
    }
    let grant = parse_grant(&mut errors, &form.role, &form.scope);
    let lang = match form.language.as_str() {
        "" => Some(ctx.lang),
        code => Lang::parse(code),
    };
    if lang.is_none() {
        errors.add("language", "invalid-choice", "Bitte aus der Liste wählen.");
    }
    let (Some(grant), Some(lang)) = (grant.filter(|_| errors.is_empty()), lang) else {
        let page = accounts_page(&state, &ctx, &form, &errors, None).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response());
    };
    let created = invite_by_mail(&state, &ctx, email, &grant, lang).await?;
    let page = accounts_page(
        &state,
        &ctx,
        &InviteForm::default(),
        &FieldErrors::new(),
        Some(created),
    )
    .await?;
    Ok(render(&page)?.into_response())
}

/// Creates the link and queues its mail in one transaction, then wakes the mail worker.
/// A new address gets an invitation; an address with an account gets the invited role
/// at once and a sign-in link instead of a second account.
async fn invite_by_mail(
    state: &AppState,
    ctx: &Ctx,
    email: &str,
    grant: &Grant,
    lang: Lang,
) -> AppResult<Created> {
    let admin = ctx.require(Action::ManageAccounts)?;
    let existing = state.store.has_account(email).await?;
    let (purpose, kind, path, hours) = if existing {
        let hours = state.settings.sign_in_link_hours;
        (
            TokenPurpose::SignIn,
            LinkKind::SignIn,
            "anmelden/link",
            hours,
        )
    } else {
        let hours = state.settings.invitation_hours;
        (
            TokenPurpose::Invitation,
            LinkKind::Invitation,
            "einladung",
            hours,
        )
    };
    let valid_for = SignedDuration::from_hours(i64::from(hours));
    let token = konvent_store::new_token();
    let url = format!("{}/{path}/{token}", state.settings.public_base());
    // The mail names the time the store will set, to the second.
    let expires_at = jiff::Timestamp::now()
        .as_microsecond()
        .saturating_add(valid_for.as_micros() as i64);
    let link = Link {
        kind,
        lang,
        recipient: email,
        inviter: &admin.display_name,
        url: &url,
        expires_at,
    };
    let mail = link_mail(&state.mail, &state.settings, &link)?;
    let actor = ctx.actor()?;
    let new_link = NewLink {
        purpose,
        token: &token,
        email,
        grant: Some(grant),
        by: &actor,
        valid_for,
    };
    let stored = state.store.create_link_with_mail(&new_link, &mail).await?;
    state.mail.wake();
    if existing {
        // Open live sockets hold the rights they opened with: they reconnect with more.
        let account = state
            .store
            .accounts()
            .await?
            .into_iter()
            .find(|a| a.email == email.to_lowercase());
        if let Some(account) = account {
            state.live.account_changed(account.id);
        }
    }
    Ok(Created {
        email: email.to_owned(),
        link: (!existing).then_some(url),
        expires: datetime_de(stored.expires_at),
    })
}

/// Rough check only: the address is confirmed by the person using the invitation.
pub fn is_plausible_email(email: &str) -> bool {
    konvent_core::invitations::plausible_email(email)
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), id = %id))]
pub async fn add_grant(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id<AccountId>,
    CsrfForm(form): CsrfForm<GrantForm>,
) -> AppResult<Response> {
    ctx.require(Action::ManageAccounts)?;
    let mut errors = FieldErrors::new();
    let grant =
        parse_grant(&mut errors, &form.role, &form.scope).ok_or(AppError::Invalid(errors))?;
    state.store.add_grant(&ctx.actor()?, id, &grant).await?;
    state.live.account_changed(id);
    Ok(Redirect::to("/admin/konten").into_response())
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), id = %id))]
pub async fn remove_grant(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id<AccountId>,
    CsrfForm(form): CsrfForm<GrantForm>,
) -> AppResult<Response> {
    let admin = ctx.require(Action::ManageAccounts)?;
    let mut errors = FieldErrors::new();
    let grant =
        parse_grant(&mut errors, &form.role, &form.scope).ok_or(AppError::Invalid(errors))?;
    // An admin cannot lock the office out by removing their own admin role.
    if id == admin.user_id && grant.role == Role::Admin {
        return Err(AppError::Conflict(ctx.tr().get("accounts-own-admin-role")));
    }
    state.store.remove_grant(&ctx.actor()?, id, &grant).await?;
    // Open live sockets hold the rights they opened with: they reconnect with fewer.
    state.live.account_changed(id);
    Ok(Redirect::to("/admin/konten").into_response())
}

#[derive(Deserialize)]
pub struct DisableForm {
    #[serde(default)]
    gesperrt: String,
}

/// Disables an account (its sessions end, its live sockets close) or enables it again.
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), id = %id))]
pub async fn set_disabled(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id<AccountId>,
    CsrfForm(form): CsrfForm<DisableForm>,
) -> AppResult<Response> {
    let admin = ctx.require(Action::ManageAccounts)?;
    let disabled = match form.gesperrt.as_str() {
        "1" => true,
        "0" => false,
        _ => return Err(AppError::BadRequest("gesperrt: 1 oder 0".to_owned())),
    };
    if disabled && id == admin.user_id {
        return Err(AppError::Conflict(ctx.tr().get("accounts-disable-oneself")));
    }
    if state.store.principal(id).await?.is_none() {
        return Err(AppError::NotFound);
    }
    if state
        .store
        .set_account_disabled(&ctx.actor()?, id, disabled)
        .await?
        && disabled
    {
        state.live.signed_out(id);
    }
    Ok(Redirect::to("/admin/konten").into_response())
}

#[derive(Deserialize)]
pub struct LinkForm {
    #[serde(default)]
    provider: String,
}

/// Allows the account to be linked to a provider at its next sign-in there with the
/// account's verified address (empty `provider`: takes that back).
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), id = %id))]
pub async fn allow_link(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id<AccountId>,
    CsrfForm(form): CsrfForm<LinkForm>,
) -> AppResult<Response> {
    ctx.require(Action::ManageAccounts)?;
    let provider = match form.provider.as_str() {
        "" => None,
        p if state.sso.buttons().iter().any(|(known, _)| known == p) => Some(p),
        _ => {
            let mut errors = FieldErrors::new();
            errors.add("provider", "invalid-choice", "Bitte aus der Liste wählen.");
            return Err(AppError::Invalid(errors));
        }
    };
    state
        .store
        .allow_provider_link(&ctx.actor()?, id, provider)
        .await?;
    Ok(Redirect::to("/admin/konten").into_response())
}

#[cfg(test)]
mod tests {
    use super::is_plausible_email;

    #[test]
    fn plausible_emails_are_told_from_typos() {
        assert!(is_plausible_email("martina.klement@berlin.de"));
        assert!(!is_plausible_email("martina.klement"));
        assert!(!is_plausible_email("a@b"));
        assert!(!is_plausible_email("a b@berlin.de"));
        assert!(!is_plausible_email("a@b.de, c@d.de"));
    }
}
