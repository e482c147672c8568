//! Field-level validation errors: what forms show beside a field and what the JSON API
//! returns. Each error has a stable `code` (the key of its message in the locale files)
//! and a German fallback message for places without a locale (the command line).

use std::fmt;

/// One problem with one input field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The form field (or CSV column) the problem belongs to.
    pub field: &'static str,
    /// A stable code, also the Fluent message id `error-<code>`.
    pub code: &'static str,
    /// The German message, used where no locale is at hand.
    pub message: String,
}

/// All problems found in one submitted form; empty means valid.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: &'static str, code: &'static str, message: impl Into<String>) {
        self.0.push(FieldError {
            field,
            code,
            message: message.into(),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The first problem of a field, if any.
    pub fn get(&self, field: &str) -> Option<&FieldError> {
        self.0.iter().find(|e| e.field == field)
    }

    /// `Ok(value)` when nothing was found, else the collected errors.
    pub fn into_result<T>(self, value: T) -> Result<T, FieldErrors> {
        if self.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }
}

impl fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{}: {}", e.field, e.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for FieldErrors {}

/// Trims a text input and enforces a length limit; empty becomes `None`.
pub fn optional_text(
    errors: &mut FieldErrors,
    field: &'static str,
    value: &str,
    max_chars: usize,
) -> Option<String> {
    let value = value.trim();
    if value.chars().count() > max_chars {
        errors.add(
            field,
            "too-long",
            format!("Höchstens {max_chars} Zeichen erlaubt."),
        );
        return None;
    }
    (!value.is_empty()).then(|| value.to_owned())
}

/// Like [`optional_text`], but the field must not be empty.
pub fn required_text(
    errors: &mut FieldErrors,
    field: &'static str,
    value: &str,
    max_chars: usize,
) -> String {
    let before = errors.0.len();
    match optional_text(errors, field, value, max_chars) {
        Some(v) => v,
        None => {
            if errors.0.len() == before {
                errors.add(field, "required", "Bitte ausfüllen.");
            }
            String::new()
        }
    }
}

/// Parses an optional calendar date, ISO (`2024-03-20`) or German (`20.03.2024`).
pub fn optional_date(
    errors: &mut FieldErrors,
    field: &'static str,
    value: &str,
) -> Option<jiff::civil::Date> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    match parse_date(value) {
        Some(d) => Some(d),
        None => {
            errors.add(
                field,
                "invalid-date",
                "Kein gültiges Datum (TT.MM.JJJJ oder JJJJ-MM-TT).",
            );
            None
        }
    }
}

/// A date written as `YYYY-MM-DD` or `DD.MM.YYYY`.
pub fn parse_date(value: &str) -> Option<jiff::civil::Date> {
    let value = value.trim();
    if let Ok(d) = value.parse::<jiff::civil::Date>() {
        return Some(d);
    }
    let mut parts = value.split('.');
    let (d, m, y) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 {
        return None;
    }
    jiff::civil::Date::new(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_read_in_iso_and_german_form() {
        let d = jiff::civil::date(2024, 3, 20);
        assert_eq!(parse_date("2024-03-20"), Some(d));
        assert_eq!(parse_date("20.03.2024"), Some(d));
        assert_eq!(parse_date("31.02.2024"), None);
        assert_eq!(parse_date("20.03.24"), None);
        assert_eq!(parse_date("gestern"), None);
    }

    #[test]
    fn required_text_reports_empty_and_too_long() {
        let mut errors = FieldErrors::new();
        assert_eq!(required_text(&mut errors, "name", "  ", 10), "");
        assert_eq!(errors.get("name").map(|e| e.code), Some("required"));
        let mut errors = FieldErrors::new();
        required_text(&mut errors, "name", "zu lang für zehn", 10);
        assert_eq!(errors.0.len(), 1);
        assert_eq!(errors.get("name").map(|e| e.code), Some("too-long"));
    }
}
