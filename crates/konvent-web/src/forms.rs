//! Form fields as data, rendered by one partial (`templates/field.html`) so that every
//! form has the same accessible markup: a label, the error beside the field
//! (`aria-describedby`, `aria-invalid`), hints, and the value the person typed.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use konvent_core::FieldErrors;
use konvent_store::StoreError;

use crate::error::{AppError, AppResult};
use crate::layout::render;

use crate::i18n::{Lang, Tr};
use crate::layout::Chrome;

/// A page with one form: heading, problems summary, fields, submit button.
#[derive(Template)]
#[template(path = "form.html")]
pub struct FormPage {
    pub c: Chrome,
    pub heading: String,
    pub intro: Option<String>,
    pub problems: Vec<String>,
    pub action: String,
    pub multipart: bool,
    pub hidden: Vec<(&'static str, String)>,
    pub fields: Vec<Field>,
    pub submit: String,
    pub cancel: Option<String>,
}

impl FormPage {
    /// A form posting to `action`, with the page title as heading.
    pub fn new(c: Chrome, action: impl Into<String>, fields: Vec<Field>, submit: String) -> Self {
        Self {
            heading: c.title.clone(),
            c,
            intro: None,
            problems: Vec::new(),
            action: action.into(),
            multipart: false,
            hidden: Vec::new(),
            fields,
            submit,
            cancel: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Text,
    Email,
    Password { new: bool },
    Date,
    Textarea,
    Select(Vec<Choice>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: &'static str,
    pub label: String,
    pub kind: Kind,
    pub value: String,
    pub required: bool,
    pub hint: Option<String>,
    pub error: Option<String>,
    pub autocomplete: &'static str,
}

impl Field {
    pub fn new(t: &Tr, name: &'static str, kind: Kind) -> Self {
        Self {
            name,
            label: t.get(&format!("field-{}", name.replace('_', "-"))),
            kind,
            value: String::new(),
            required: false,
            hint: None,
            error: None,
            autocomplete: "off",
        }
    }

    pub fn text(t: &Tr, name: &'static str, value: &str) -> Self {
        Self::new(t, name, Kind::Text).value(value)
    }

    pub fn value(mut self, value: &str) -> Self {
        self.value = value.to_owned();
        self
    }

    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    pub fn hint(mut self, hint: String) -> Self {
        self.hint = Some(hint);
        self
    }

    pub fn autocomplete(mut self, value: &'static str) -> Self {
        self.autocomplete = value;
        self
    }

    pub fn input_type(&self) -> &'static str {
        match self.kind {
            Kind::Email => "email",
            Kind::Password { .. } => "password",
            Kind::Date => "date",
            _ => "text",
        }
    }

    pub fn id(&self) -> String {
        format!("f-{}", self.name)
    }

    /// The ids that describe the field: its hint and its error.
    pub fn described_by(&self) -> String {
        let mut ids = Vec::new();
        if self.hint.is_some() {
            ids.push(format!("{}-hint", self.id()));
        }
        if self.error.is_some() {
            ids.push(format!("{}-error", self.id()));
        }
        ids.join(" ")
    }
}

/// A select's options; `selected` marks the one whose value equals it.
pub fn choices(options: impl IntoIterator<Item = (String, String)>, selected: &str) -> Vec<Choice> {
    options
        .into_iter()
        .map(|(value, label)| Choice {
            selected: value == selected,
            value,
            label,
        })
        .collect()
}

/// The message of an error in the page's language: German from the domain, English
/// from the locale file when it has the code.
pub fn message(t: &Tr, code: &str, german: &str) -> String {
    match t.lang {
        Lang::De => german.to_owned(),
        Lang::En => t
            .try_get(&format!("error-{code}"))
            .unwrap_or_else(|| german.to_owned()),
    }
}

/// Puts each error next to its field; errors for fields not on the form are returned
/// for a summary at the top.
pub fn attach(t: &Tr, fields: &mut [Field], errors: &FieldErrors) -> Vec<String> {
    let mut rest = Vec::new();
    for e in &errors.0 {
        let text = message(t, e.code, &e.message);
        match fields.iter_mut().find(|f| f.name == e.field) {
            Some(f) if f.error.is_none() => f.error = Some(text),
            Some(_) => {}
            None => rest.push(text),
        }
    }
    rest
}

/// Shows a form page; with errors, as 422 so that clients see the refusal.
pub fn form_response(mut page: FormPage, errors: &FieldErrors) -> AppResult<Response> {
    let t = page.c.t;
    page.problems = attach(&t, &mut page.fields, errors);
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((status, render(&page)?).into_response())
}

/// A rule's refusal (in the language of `t`) and invalid input become messages beside
/// `field` (or their own fields); other store errors stay errors.
pub fn store_errors(t: Tr, field: &'static str, err: StoreError) -> Result<FieldErrors, AppError> {
    match err {
        StoreError::Refused(refused) => {
            let mut errors = FieldErrors::new();
            errors.add(field, "conflict", crate::refusals::text(t, &refused));
            Ok(errors)
        }
        StoreError::Invalid(errors) => Ok(errors),
        other => Err(other.into()),
    }
}
