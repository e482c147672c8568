//! The admin forms of role assignments: assigning a role, editing an assignment and
//! ending it.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use konvent_core::FieldErrors;
use konvent_core::authz::Action;
use konvent_core::gremien::{AssignmentInput, RoleKind};
use konvent_core::ids::{AssignmentId, PersonId};
use konvent_core::validation::optional_text;
use konvent_store::{Assignment, AssignmentChange, StoreError};
use serde::Deserialize;

use crate::AppState;
use crate::ctx::{CsrfForm, Ctx, Id};
use crate::directory::{Holder, role_label};
use crate::error::AppResult;
use crate::forms::{Field, FormPage, Kind, choices, form_response, store_errors};
use crate::layout::Chrome;

#[derive(Deserialize, Default)]
pub struct AssignmentForm {
    #[serde(default)]
    role: String,
    #[serde(default)]
    person_id: String,
    #[serde(default)]
    function: String,
    #[serde(default)]
    starts_on: String,
    #[serde(default)]
    ends_on: String,
    #[serde(default)]
    appointing_resolution: String,
    #[serde(default)]
    legal_basis: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    replaces: String,
}

impl AssignmentForm {
    fn from_assignment(a: &Assignment) -> Self {
        Self {
            role: a.role.as_str().to_owned(),
            person_id: a
                .person
                .as_ref()
                .map(|p| p.id.to_string())
                .unwrap_or_default(),
            function: a.function.clone().unwrap_or_default(),
            starts_on: a.starts_on.map(|d| d.to_string()).unwrap_or_default(),
            ends_on: a.ends_on.map(|d| d.to_string()).unwrap_or_default(),
            appointing_resolution: a.appointing_resolution.clone().unwrap_or_default(),
            legal_basis: a.legal_basis.clone(),
            note: a.note.clone().unwrap_or_default(),
            replaces: String::new(),
        }
    }

    fn parse(&self, replaceable: &[Holder]) -> Result<AssignmentChange, FieldErrors> {
        let mut errors = FieldErrors::new();
        let input = AssignmentInput::parse(
            &self.role,
            &self.starts_on,
            &self.ends_on,
            &self.appointing_resolution,
            &self.legal_basis,
            &self.note,
        )
        .map_err(|e| errors.0.extend(e.0))
        .ok();
        let id = |errors: &mut FieldErrors, field: &'static str, value: &str| match value.trim() {
            "" => None,
            v => v
                .parse::<i64>()
                .map_err(|_| errors.add(field, "invalid-choice", "Bitte aus der Liste wählen."))
                .ok(),
        };
        let person_id = id(&mut errors, "person_id", &self.person_id).map(PersonId::new);
        let replaces = id(&mut errors, "replaces", &self.replaces).map(AssignmentId::new);
        if replaces.is_some_and(|r| !replaceable.iter().any(|h| h.id == r)) {
            errors.add("replaces", "invalid-choice", "Bitte aus der Liste wählen.");
        }
        let function = optional_text(&mut errors, "function", &self.function, 500);
        match input {
            Some(input) if errors.is_empty() => Ok(AssignmentChange {
                person_id,
                function,
                input,
                replaces,
            }),
            _ => Err(errors),
        }
    }
}

struct AssignmentFormContext {
    action: String,
    title: String,
    cancel: String,
    /// Current assignments a new one may replace; empty when editing.
    replaceable: Vec<Holder>,
}

async fn assignment_page(
    state: &AppState,
    ctx: &Ctx,
    fc: &AssignmentFormContext,
    f: &AssignmentForm,
) -> AppResult<FormPage> {
    let t = ctx.tr();
    let roles = RoleKind::ALL
        .iter()
        .map(|r| (r.as_str().to_owned(), role_label(&t, *r)));
    let mut persons = vec![(String::new(), t.get("person-vacancy"))];
    persons.extend(
        state
            .store
            .persons()
            .await?
            .into_iter()
            .map(|p| (p.id.to_string(), p.full_name())),
    );
    let mut fields = vec![
        Field::new(&t, "role", Kind::Select(choices(roles, &f.role))).required(),
        Field::new(
            &t,
            "person_id",
            Kind::Select(choices(persons, &f.person_id)),
        )
        .hint(t.get("hint-person")),
        Field::text(&t, "function", &f.function).hint(t.get("hint-function")),
        Field::new(&t, "starts_on", Kind::Date).value(&f.starts_on),
        Field::new(&t, "ends_on", Kind::Date).value(&f.ends_on),
        Field::text(&t, "appointing_resolution", &f.appointing_resolution)
            .hint(t.get("hint-resolution")),
        Field::text(&t, "legal_basis", &f.legal_basis).hint(t.get("hint-legal-basis")),
        Field::new(&t, "note", Kind::Textarea)
            .value(&f.note)
            .hint(t.get("hint-note")),
    ];
    if !fc.replaceable.is_empty() {
        let mut options = vec![(String::new(), t.get("replaces-nobody"))];
        options.extend(
            fc.replaceable
                .iter()
                .map(|h| (h.id.to_string(), format!("{}: {}", h.role, h.name))),
        );
        fields.push(
            Field::new(&t, "replaces", Kind::Select(choices(options, &f.replaces)))
                .hint(t.get("hint-replaces")),
        );
    }
    let mut page = FormPage::new(
        Chrome::new(ctx, "gremien", fc.title.clone()),
        fc.action.clone(),
        fields,
        t.get("save"),
    );
    page.cancel = Some(fc.cancel.clone());
    Ok(page)
}

async fn new_assignment_context(
    state: &AppState,
    ctx: &Ctx,
    abbr: &str,
) -> AppResult<AssignmentFormContext> {
    let t = ctx.tr();
    let detail = state.store.conference(abbr).await?;
    let replaceable =
        crate::directory::split(&t, &detail.assignments, konvent_store::today()).current;
    Ok(AssignmentFormContext {
        action: format!("/gremien/konferenzen/{abbr}/rollen/neu"),
        title: t.with(
            "assignment-new-for",
            &[("conference", &detail.conference.name)],
        ),
        cancel: format!("/gremien/konferenzen/{abbr}"),
        replaceable,
    })
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), conference = %abbr))]
pub async fn new_assignment(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(abbr): Path<String>,
) -> AppResult<Response> {
    ctx.require(Action::EditDirectory)?;
    let fc = new_assignment_context(&state, &ctx, &abbr).await?;
    let form = AssignmentForm {
        role: RoleKind::Spokesperson.as_str().to_owned(),
        ..AssignmentForm::default()
    };
    form_response(
        assignment_page(&state, &ctx, &fc, &form).await?,
        &FieldErrors::new(),
    )
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), conference = %abbr))]
pub async fn create_assignment(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(abbr): Path<String>,
    CsrfForm(form): CsrfForm<AssignmentForm>,
) -> AppResult<Response> {
    ctx.require(Action::EditDirectory)?;
    let fc = new_assignment_context(&state, &ctx, &abbr).await?;
    let errors = match form.parse(&fc.replaceable) {
        Ok(change) => match state
            .store
            .create_assignment(&ctx.actor()?, &abbr, &change)
            .await
        {
            Ok(_) => {
                return Ok(Redirect::to(&format!("/gremien/konferenzen/{abbr}")).into_response());
            }
            Err(StoreError::Invalid(mut e)) => {
                // The only date rule the store checks here is the replaced assignment's.
                e.0.iter_mut().for_each(|err| err.field = "replaces");
                e
            }
            Err(e) => store_errors(ctx.tr(), "replaces", e)?,
        },
        Err(errors) => errors,
    };
    form_response(assignment_page(&state, &ctx, &fc, &form).await?, &errors)
}

async fn edit_assignment_context(
    state: &AppState,
    ctx: &Ctx,
    id: AssignmentId,
) -> AppResult<(Assignment, AssignmentFormContext)> {
    let a = state.store.assignment(id).await?;
    let fc = AssignmentFormContext {
        action: format!("/gremien/rollen/{id}/bearbeiten"),
        title: ctx
            .tr()
            .with("assignment-edit-for", &[("conference", &a.conference_name)]),
        cancel: format!("/gremien/konferenzen/{}", a.conference),
        replaceable: vec![],
    };
    Ok((a, fc))
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), id = %id))]
pub async fn edit_assignment(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id<AssignmentId>,
) -> AppResult<Response> {
    ctx.require(Action::EditDirectory)?;
    let (a, fc) = edit_assignment_context(&state, &ctx, id).await?;
    let form = AssignmentForm::from_assignment(&a);
    form_response(
        assignment_page(&state, &ctx, &fc, &form).await?,
        &FieldErrors::new(),
    )
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), id = %id))]
pub async fn update_assignment(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id<AssignmentId>,
    CsrfForm(form): CsrfForm<AssignmentForm>,
) -> AppResult<Response> {
    ctx.require(Action::EditDirectory)?;
    let (a, fc) = edit_assignment_context(&state, &ctx, id).await?;
    let errors = match form.parse(&[]) {
        Ok(change) => match state
            .store
            .update_assignment(&ctx.actor()?, id, &change)
            .await
        {
            Ok(()) => {
                return Ok(
                    Redirect::to(&format!("/gremien/konferenzen/{}", a.conference)).into_response(),
                );
            }
            Err(e) => store_errors(ctx.tr(), "person_id", e)?,
        },
        Err(errors) => errors,
    };
    form_response(assignment_page(&state, &ctx, &fc, &form).await?, &errors)
}

#[derive(Deserialize, Default)]
pub struct EndForm {
    #[serde(default)]
    ends_on: String,
}

fn end_page(ctx: &Ctx, a: &Assignment, ends_on: &str) -> FormPage {
    let t = ctx.tr();
    let holder = Holder::new(&t, a);
    let title = t.with(
        "assignment-end-title",
        &[
            ("role", &holder.role),
            ("name", &holder.name),
            ("conference", &a.conference),
        ],
    );
    let fields = vec![
        Field::new(&t, "ends_on", Kind::Date)
            .value(ends_on)
            .required(),
    ];
    let mut page = FormPage::new(
        Chrome::new(ctx, "gremien", title),
        format!("/gremien/rollen/{}/beenden", a.id),
        fields,
        t.get("end"),
    );
    page.intro = Some(t.get("assignment-end-lead"));
    page.cancel = Some(format!("/gremien/konferenzen/{}", a.conference));
    page
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), id = %id))]
pub async fn end_assignment_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id<AssignmentId>,
) -> AppResult<Response> {
    ctx.require(Action::EditDirectory)?;
    let a = state.store.assignment(id).await?;
    let today = konvent_store::today().to_string();
    form_response(end_page(&ctx, &a, &today), &FieldErrors::new())
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), id = %id))]
pub async fn end_assignment(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id<AssignmentId>,
    CsrfForm(form): CsrfForm<EndForm>,
) -> AppResult<Response> {
    ctx.require(Action::EditDirectory)?;
    let a = state.store.assignment(id).await?;
    let mut errors = FieldErrors::new();
    let ends_on = konvent_core::validation::optional_date(&mut errors, "ends_on", &form.ends_on);
    if let Some(ends_on) = ends_on {
        match state.store.end_assignment(&ctx.actor()?, id, ends_on).await {
            Ok(()) => {
                return Ok(
                    Redirect::to(&format!("/gremien/konferenzen/{}", a.conference)).into_response(),
                );
            }
            Err(e) => errors = store_errors(ctx.tr(), "ends_on", e)?,
        }
    } else if errors.is_empty() {
        errors.add("ends_on", "required", "Bitte ausfüllen.");
    }
    form_response(end_page(&ctx, &a, &form.ends_on), &errors)
}
