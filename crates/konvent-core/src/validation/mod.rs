//! Field-level validation errors: what forms show beside a field and what the JSON API
//! returns. Each error has a stable `code` (the key of its message in the locale files)
//! and a German fallback message for places without a locale (the command line).

pub mod text;

use std::fmt;

use text::Problem;
pub use text::{Shape, invisible};

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

/// A text input ([`text::tidy`] as [`Shape::Lines`]: trimmed, at most `max_chars`
/// characters, no control or hidden characters but line breaks, tabs and joiners);
/// empty becomes `None`. Problems are added to `errors` under `field`.
pub fn optional_text(
    errors: &mut FieldErrors,
    field: &'static str,
    value: &str,
    max_chars: usize,
) -> Option<String> {
    match text::tidy(value, Shape::Lines, max_chars) {
        Ok(v) => Some(v),
        Err(Problem::Empty) => None,
        Err(problem) => {
            let (code, message) = field_problem(Shape::Lines, problem);
            errors.add(field, code, message);
            None
        }
    }
}

/// Like [`optional_text`], but the field must not be empty.
pub fn required_text(
    errors: &mut FieldErrors,
    field: &'static str,
    value: &str,
    max_chars: usize,
) -> String {
    match text::tidy(value, Shape::Lines, max_chars) {
        Ok(v) => v,
        Err(problem) => {
            let (code, message) = field_problem(Shape::Lines, problem);
            errors.add(field, code, message);
            String::new()
        }
    }
}

/// A problem of a text field of `shape` as its error code and German message.
fn field_problem(shape: Shape, problem: Problem) -> (&'static str, String) {
    match (shape, problem) {
        (_, Problem::Empty) => ("required", "Bitte ausfüllen.".to_owned()),
        (_, Problem::TooLong { max, .. }) => {
            ("too-long", format!("Höchstens {max} Zeichen erlaubt."))
        }
        (Shape::Line, Problem::Control | Problem::Hidden) => (
            "invisible-characters",
            "Enthält unsichtbare oder die Schreibrichtung ändernde Zeichen (etwa U+202E oder \
             U+200B) oder einen Zeilenumbruch. Bitte nur sichtbare Zeichen verwenden."
                .to_owned(),
        ),
        (Shape::Lines, Problem::Control | Problem::Hidden) => {
            ("hidden-characters", text::HIDDEN_MESSAGE.to_owned())
        }
    }
}

/// A path on this site to return to after an action (a sign-in, a language switch, a
/// form): only such paths are followed, never another site (no open redirect).
///
/// The value is checked as given and once more percent-decoded, because a browser
/// reading the `Location` header drops tabs and line breaks and treats `\` like `/`:
/// `/\t/evil.example` would take it to `//evil.example`. Refused are values that do not
/// start with exactly one `/`, that hold control characters, backslashes or whitespace
/// other than the plain space, or whose decoded form does any of that. What is accepted
/// comes back with spaces and non-ASCII characters percent-encoded, fit for a header.
pub fn local_path(value: &str) -> Option<String> {
    fn plain(path: &str) -> bool {
        path.starts_with('/')
            && !path.starts_with("//")
            && !path.chars().any(|c| {
                c == '\\' || c.is_control() || (c.is_whitespace() && c != ' ') || invisible(c)
            })
    }
    let decoded = percent_decode(value)?;
    if !plain(value) || !plain(&decoded) || decoded.starts_with("/ /") {
        return None;
    }
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if c.is_ascii_graphic() {
            out.push(c);
        } else {
            let mut buf = [0; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    Some(out)
}

/// A link people enter (where a pin was taken up): `https://` or `http://` with a host,
/// or a path on this site ([`local_path`]).
pub fn user_link(value: &str) -> Result<String, &'static str> {
    let value = value.trim();
    let lower = value.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    match rest {
        Some(rest) => {
            let host_ok = rest
                .chars()
                .next()
                .is_some_and(|c| c.is_alphanumeric() || c == '[');
            let decoded = percent_decode(value).unwrap_or_default();
            let clean = |s: &str| {
                !s.chars()
                    .any(|c| c == '\\' || c.is_control() || c.is_whitespace() || invisible(c))
            };
            if host_ok && clean(value) && clean(&decoded) {
                Ok(value.to_owned())
            } else {
                Err("Der Link ist keine gültige Adresse.")
            }
        }
        None => local_path(value).ok_or("Der Link muss mit https://, http:// oder / beginnen."),
    }
}

/// `%XX` sequences decoded; `None` when the result is not UTF-8 (a trick, not a path).
fn percent_decode(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                let (h, l) = (hex(h).unwrap_or(0), hex(l).unwrap_or(0));
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// A name or title people enter (display names, names of events and rooms, titles of
/// resolutions, topics and pins): trimmed, normalised to NFC, at most `max_chars`
/// characters, one line, and free of invisible and direction-changing characters
/// ([`invisible`]). Problems are added to `errors` under `field`; the result is then
/// empty.
pub fn required_name(
    errors: &mut FieldErrors,
    field: &'static str,
    value: &str,
    max_chars: usize,
) -> String {
    match checked_name(value, max_chars) {
        Ok(v) => v,
        Err((code, message)) => {
            errors.add(field, code, message);
            String::new()
        }
    }
}

/// Like [`required_name`], but the field may stay empty (`None`).
pub fn optional_name(
    errors: &mut FieldErrors,
    field: &'static str,
    value: &str,
    max_chars: usize,
) -> Option<String> {
    if value.trim().is_empty() {
        return None;
    }
    let v = required_name(errors, field, value, max_chars);
    (!v.is_empty()).then_some(v)
}

/// The rule of [`required_name`] on its own: the clean name, or an error code and German message.
pub fn checked_name(value: &str, max_chars: usize) -> Result<String, (&'static str, String)> {
    text::tidy(value, Shape::Line, max_chars).map_err(|p| field_problem(Shape::Line, p))
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

    #[test]
    fn local_paths_are_kept_and_everything_else_is_refused() {
        assert_eq!(local_path("/").as_deref(), Some("/"));
        assert_eq!(
            local_path("/konvent/x?tab=1#a").as_deref(),
            Some("/konvent/x?tab=1#a")
        );
        assert_eq!(
            local_path("/suche?q=ä ö").as_deref(),
            Some("/suche?q=%C3%A4%20%C3%B6")
        );
        for hostile in [
            "",
            "evil.example",
            "//evil.example",
            "///evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r/evil.example",
            "\t//evil.example",
            "/%09/evil.example",
            "/%0a/evil.example",
            "/%0D/evil.example",
            "/%2F/evil.example",
            "/%2f%2fevil.example",
            "/%5Cevil.example",
            "/%5cevil.example",
            "/\u{0}/evil.example",
            "/\u{7f}/evil.example",
            "/\u{85}/evil.example",
            "/\u{2028}/evil.example",
            "/\u{200B}/evil.example",
            "/%E2%80%AE/evil",
            "/ /evil.example",
            "https://evil.example",
            "javascript:alert(1)",
            "/%FF%FE",
        ] {
            assert_eq!(local_path(hostile), None, "{hostile:?}");
        }
    }

    #[test]
    fn user_links_are_web_addresses_or_local_paths() {
        assert!(user_link("https://beispiel.de/x").is_ok());
        assert!(user_link("http://beispiel.de").is_ok());
        assert_eq!(user_link(" /konvent/a ").as_deref(), Ok("/konvent/a"));
        for hostile in [
            "javascript:alert(1)",
            "data:text/html,x",
            "//evil.example",
            "/\t/evil.example",
            "/%09/evil.example",
            "https://",
            "https:///evil.example",
            "https://\t@evil.example",
            "https://beispiel.de/%0a",
            "https://evil.example\\@beispiel.de",
            "ftp://beispiel.de",
        ] {
            assert!(user_link(hostile).is_err(), "{hostile:?}");
        }
    }

    #[test]
    fn names_are_normalised_and_spoofing_characters_refused() {
        // "é" as e + combining acute becomes the one composed character.
        assert_eq!(
            checked_name(" Rene\u{301} ", 50).as_deref(),
            Ok("Ren\u{e9}")
        );
        assert_eq!(
            checked_name("Jörg Müller-Übel", 50).as_deref(),
            Ok("Jörg Müller-Übel")
        );
        for hostile in [
            "Admin\u{202E}nimdA",
            "Ad\u{200B}min",
            "\u{2066}Admin\u{2069}",
            "\u{2067}x",
            "\u{2068}x",
            "Admin\u{200E}",
            "Admin\u{200F}",
            "\u{FEFF}Admin",
            "Ad\u{200D}min",
            "Ad\u{2060}min",
            "Ad\u{00AD}min",
            "Ad\u{061C}min",
            "Ad\u{3164}min",
            "Ad\u{E0041}min",
            "Zeile\nzwei",
            "Tab\there",
        ] {
            let refused = checked_name(hostile, 50).expect_err(hostile);
            assert_eq!(refused.0, "invisible-characters", "{hostile:?}");
        }
        let mut errors = FieldErrors::new();
        assert_eq!(
            required_name(&mut errors, "display_name", "Ad\u{200B}min", 50),
            ""
        );
        assert_eq!(
            errors.get("display_name").map(|e| e.code),
            Some("invisible-characters")
        );
        assert!(errors.0[0].message.contains("unsichtbare"));
    }
}
