//! One error type at the edge. Each variant has a status and a stable code; the
//! `error_pages` middleware turns it into `{"error":{"code","message"}}` for the JSON
//! API and into a German (or English) page for browsers. Internal causes are logged,
//! never shown.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use konvent_core::FieldErrors;
use konvent_core::Refused;
use konvent_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    /// Not signed in; browsers are sent to the sign-in page and come back to `next`.
    #[error("sign-in required")]
    SignInRequired { next: String },
    #[error("forbidden")]
    Forbidden,
    /// Missing or wrong CSRF token, or a cross-site form post.
    #[error("csrf")]
    Csrf,
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Invalid(FieldErrors),
    #[error("{0}")]
    Conflict(String),
    /// A rule of the domain refused; shown in the reader's language.
    #[error("{0}")]
    Refused(Refused),
    #[error("too many requests")]
    TooManyRequests,
    #[error("payload too large")]
    PayloadTooLarge,
    #[error("internal error: {0}")]
    Internal(String),
}

/// What the error middleware needs to render an error; stored in the response.
#[derive(Debug, Clone)]
pub struct ErrorInfo {
    pub code: &'static str,
    /// A message id in the locale files, or a literal message (German) when `literal`.
    pub message: String,
    pub literal: bool,
    /// A domain refusal, translated by the middleware (then `message` is unused).
    pub refused: Option<Refused>,
    pub sign_in_next: Option<String>,
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::SignInRequired { .. } => StatusCode::UNAUTHORIZED,
            Self::Forbidden | Self::Csrf => StatusCode::FORBIDDEN,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Conflict(_) | Self::Refused(_) => StatusCode::CONFLICT,
            Self::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound => "not_found",
            Self::SignInRequired { .. } => "sign_in_required",
            Self::Forbidden => "forbidden",
            Self::Csrf => "csrf_failed",
            Self::BadRequest(_) => "bad_request",
            Self::Invalid(_) => "invalid_input",
            Self::Conflict(_) | Self::Refused(_) => "conflict",
            Self::TooManyRequests => "too_many_requests",
            Self::PayloadTooLarge => "payload_too_large",
            Self::Internal(_) => "internal",
        }
    }

    fn info(&self) -> ErrorInfo {
        let (message, literal) = match self {
            Self::BadRequest(m) | Self::Conflict(m) => (m.clone(), true),
            Self::Invalid(errors) => (errors.to_string(), true),
            Self::Refused(r) => (r.to_string(), true),
            _ => (format!("error-{}", self.code().replace('_', "-")), false),
        };
        ErrorInfo {
            code: self.code(),
            message,
            literal,
            refused: match self {
                Self::Refused(r) => Some(r.clone()),
                _ => None,
            },
            sign_in_next: match self {
                Self::SignInRequired { next } => Some(next.clone()),
                _ => None,
            },
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let Self::Internal(cause) = &self {
            tracing::error!(%cause, "request failed");
        }
        let mut response = self.status().into_response();
        response.extensions_mut().insert(self.info());
        response
    }
}

impl From<StoreError> for AppError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => Self::NotFound,
            StoreError::Refused(r) => Self::Refused(r),
            StoreError::Invalid(errors) => Self::Invalid(errors),
            StoreError::Import(report) => Self::BadRequest(report.to_string()),
            StoreError::InvalidToken => Self::NotFound,
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<askama::Error> for AppError {
    fn from(err: askama::Error) -> Self {
        Self::Internal(format!("template: {err}"))
    }
}

pub type AppResult<T> = Result<T, AppError>;
