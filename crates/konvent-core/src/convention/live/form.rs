//! One definition of the commands for two spellings: a JSON frame from the WebSocket
//! and a form posted from a page without JavaScript (`application/x-www-form-urlencoded`).
//!
//! Both go through [`Command`]'s own `Deserialize`. A form has only text, and serde
//! reads an internally tagged enum (`"t"` names the command) through its buffered
//! content, which never turns the text `"12"` into a number or `"on"` into a bool. So
//! the fields that are numbers, flags or the recipient of a direct message read with
//! the readers below, which take the JSON value and its form text alike. A frame may
//! therefore also write `"question":"12"`; every frame that was valid before means the
//! same, and what the server writes out again is the plain JSON of
//! `docs/live-protocol.md`.

use std::fmt;

use serde::de::{self, Deserializer, Unexpected, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use super::{Command, Refusal, RefusalKind, checked};
use crate::ids::{AccountId, ImpulseId, PinId, QuestionId, RoundId, TableId};

/// Reads a command from a posted form's fields, by the same definition as a frame's.
/// The form's own fields (its CSRF token, where to go back to) are the caller's to
/// leave out; fields no command has are ignored, as in a frame.
pub fn from_form<'a>(
    fields: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<Command, Refusal> {
    let fields = de::value::MapDeserializer::<_, FormError>::new(fields.into_iter());
    let command = Command::deserialize(fields).map_err(|e| Refusal {
        kind: RefusalKind::BadFrame,
        message: format!("Formular nicht lesbar: {}", e.serde),
        rule: None,
        form: Some(e.problem),
    })?;
    checked(command)
}

/// What was wrong with a posted form: serde's findings kept apart, so that the edges
/// say them in the reader's language. The texts here are the German ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormProblem {
    /// `t` names no command.
    UnknownCommand(String),
    /// A field the command needs is missing.
    Missing(String),
    /// A field's text is not what the command takes there.
    Wrong { value: String, expected: Expected },
    /// Anything else serde found, in its own words.
    Other(String),
}

/// What a field should have held, as the readers below say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    Number,
    NumberOrNothing,
    Flag,
    Recipient,
    Other,
}

impl fmt::Display for FormProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Formular nicht lesbar: ")?;
        match self {
            Self::UnknownCommand(value) => write!(f, "„{value}“ ist kein Befehl."),
            Self::Missing(field) => write!(f, "Das Feld „{field}“ fehlt."),
            Self::Wrong { value, expected } => match expected {
                Expected::Number => write!(f, "„{value}“ ist keine ganze Zahl."),
                Expected::NumberOrNothing => {
                    write!(f, "„{value}“ ist weder eine ganze Zahl noch leer.")
                }
                Expected::Flag => write!(f, "„{value}“ ist weder ja noch nein."),
                Expected::Recipient => write!(
                    f,
                    "„{value}“ ist weder die Nummer einer Person noch „{HELPDESK}“."
                ),
                Expected::Other => write!(f, "„{value}“ passt hier nicht."),
            },
            Self::Other(reason) => f.write_str(reason),
        }
    }
}

/// serde's error while reading a form: what it found as a [`FormProblem`], and serde's
/// own words for it (the refusal's message, as it has always been).
#[derive(Debug)]
struct FormError {
    problem: FormProblem,
    serde: String,
}

impl fmt::Display for FormError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.serde)
    }
}

impl std::error::Error for FormError {}

impl de::Error for FormError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        let serde = msg.to_string();
        Self {
            problem: FormProblem::Other(serde.clone()),
            serde,
        }
    }

    fn invalid_type(unexpected: Unexpected, expected: &dyn de::Expected) -> Self {
        Self {
            serde: de::value::Error::invalid_type(unexpected, expected).to_string(),
            ..Self::invalid_value(unexpected, expected)
        }
    }

    fn invalid_value(unexpected: Unexpected, expected: &dyn de::Expected) -> Self {
        let serde = de::value::Error::invalid_value(unexpected, expected).to_string();
        let value = match unexpected {
            Unexpected::Str(s) => s.to_owned(),
            Unexpected::Unsigned(n) => n.to_string(),
            Unexpected::Signed(n) => n.to_string(),
            Unexpected::Bool(b) => b.to_string(),
            other => other.to_string(),
        };
        // The readers below name what they take; anything else is serde's own.
        let expected = match expected.to_string().as_str() {
            "a whole number" => Expected::Number,
            "a whole number or nothing" => Expected::NumberOrNothing,
            "true or false" => Expected::Flag,
            e if e.starts_with("a person's number") => Expected::Recipient,
            _ => Expected::Other,
        };
        Self {
            problem: FormProblem::Wrong { value, expected },
            serde,
        }
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        Self {
            problem: FormProblem::UnknownCommand(variant.to_owned()),
            serde: de::value::Error::unknown_variant(variant, expected).to_string(),
        }
    }

    fn missing_field(field: &'static str) -> Self {
        Self {
            problem: FormProblem::Missing(field.to_owned()),
            serde: de::value::Error::missing_field(field).to_string(),
        }
    }
}

/// What a command's number field holds: a plain number, or a record's typed id read as
/// the same number (so `"table":12` and `table=12` read as before, whatever the id's
/// kind, and write out as the plain number again).
pub(super) trait FromNumber {
    fn from_number(n: i64) -> Self;
}

impl FromNumber for i64 {
    fn from_number(n: i64) -> Self {
        n
    }
}

macro_rules! from_number {
    ($($id:ty),+) => {$(
        impl FromNumber for $id {
            fn from_number(n: i64) -> Self {
                Self::new(n)
            }
        }
    )+};
}

from_number!(QuestionId, TableId, ImpulseId, RoundId, PinId);

/// A whole number: a JSON number, or its digits as text (a form's field).
pub(super) fn number<'de, D: Deserializer<'de>, T: FromNumber>(
    deserializer: D,
) -> Result<T, D::Error> {
    deserializer.deserialize_any(Number).map(T::from_number)
}

/// A whole number or nothing: JSON `null`, an empty form field or a missing one.
pub(super) fn optional_number<'de, D: Deserializer<'de>, T: FromNumber>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    Ok(deserializer
        .deserialize_any(OptionalNumber)?
        .map(T::from_number))
}

/// A person's account, read as a [`number`].
pub(super) fn account<'de, D: Deserializer<'de>>(deserializer: D) -> Result<AccountId, D::Error> {
    number(deserializer).map(AccountId::new)
}

/// A person's account or nobody, read as an [`optional_number`].
pub(super) fn optional_account<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<AccountId>, D::Error> {
    optional_number(deserializer).map(|id| id.map(AccountId::new))
}

/// Yes or no: JSON `true` or `false`, or a form's `true`, `on` (a ticked checkbox's
/// value) or `1`, and `false`, `off`, `0` or the empty text.
pub(super) fn flag<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    deserializer.deserialize_any(Flag)
}

/// Whom a direct message is for, as `to` names it.
pub(super) fn recipient<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Recipient>, D::Error> {
    deserializer.deserialize_any(RecipientVisitor)
}

/// Whom a direct message goes to. A frame names a person by `to` and the help desk by
/// `to_helpdesk: true`; a page's recipient list is one select, so its help-desk option
/// is `to=helpdesk`, and `to` reads that word too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recipient {
    Person(AccountId),
    Helpdesk,
}

/// The word for the help desk in `to`.
const HELPDESK: &str = "helpdesk";

impl Serialize for Recipient {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Person(id) => serializer.serialize_i64(id.get()),
            Self::Helpdesk => serializer.serialize_str(HELPDESK),
        }
    }
}

struct Number;

impl<'de> Visitor<'de> for Number {
    type Value = i64;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a whole number")
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
        Ok(v)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
        i64::try_from(v).map_err(|_| E::invalid_value(Unexpected::Unsigned(v), &self))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<i64, E> {
        v.trim()
            .parse()
            .map_err(|_| E::invalid_value(Unexpected::Str(v), &self))
    }
}

struct OptionalNumber;

impl<'de> Visitor<'de> for OptionalNumber {
    type Value = Option<i64>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a whole number or nothing")
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Number.visit_u64(v).map(Some)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        if v.trim().is_empty() {
            Ok(None)
        } else {
            Number.visit_str(v).map(Some)
        }
    }
}

struct Flag;

impl<'de> Visitor<'de> for Flag {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("true or false")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
        Ok(v)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
        match v.trim() {
            "true" | "on" | "1" => Ok(true),
            "false" | "off" | "0" | "" => Ok(false),
            _ => Err(E::invalid_value(Unexpected::Str(v), &self)),
        }
    }
}

struct RecipientVisitor;

impl<'de> Visitor<'de> for RecipientVisitor {
    type Value = Option<Recipient>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a person's number or {HELPDESK:?}")
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(Recipient::Person(AccountId::new(v))))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Number
            .visit_u64(v)
            .map(|id| Some(Recipient::Person(AccountId::new(id))))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        if v.trim() == HELPDESK {
            return Ok(Some(Recipient::Helpdesk));
        }
        match OptionalNumber.visit_str::<E>(v) {
            Ok(id) => Ok(id.map(|id| Recipient::Person(AccountId::new(id)))),
            Err(_) => Err(E::invalid_value(Unexpected::Str(v), &self)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{QuestionStatus, TimerAction, parse};
    use super::*;

    fn form(body: &[(&str, &str)]) -> Result<Command, Refusal> {
        from_form(body.iter().copied())
    }

    #[test]
    fn a_form_and_a_frame_of_the_same_command_read_alike() {
        let pairs: [(&[(&str, &str)], &str); 10] = [
            (
                &[("t", "upvote"), ("question", "12")],
                r#"{"t":"upvote","question":12}"#,
            ),
            (
                &[("t", "hand"), ("room", "plenum"), ("up", "true")],
                r#"{"t":"hand","up":true}"#,
            ),
            (
                &[("t", "ask"), ("text", "Wann?"), ("anonymous", "on")],
                r#"{"t":"ask","text":"Wann?","anonymous":true}"#,
            ),
            (
                &[("t", "floor"), ("user", "")],
                r#"{"t":"floor","user":null}"#,
            ),
            (
                &[
                    ("t", "timer"),
                    ("action", "start"),
                    ("seconds", "300"),
                    ("label", "Pitch"),
                ],
                r#"{"t":"timer","action":"start","seconds":300,"label":"Pitch"}"#,
            ),
            (
                &[
                    ("t", "mute"),
                    ("user", "7"),
                    ("minutes", ""),
                    ("reason", ""),
                ],
                r#"{"t":"mute","user":7}"#,
            ),
            (
                &[
                    ("t", "moderate_impulse"),
                    ("impulse", "3"),
                    ("merge_into", "4"),
                ],
                r#"{"t":"moderate_impulse","impulse":3,"merge_into":4}"#,
            ),
            (
                &[("t", "lock_chat"), ("room", "plenum"), ("locked", "false")],
                r#"{"t":"lock_chat","room":"plenum","locked":false}"#,
            ),
            (
                &[("t", "dm"), ("to", "helpdesk"), ("text", "Hilfe")],
                r#"{"t":"dm","to":"helpdesk","text":"Hilfe"}"#,
            ),
            (
                &[("t", "dm"), ("to", "5"), ("text", "Hallo")],
                r#"{"t":"dm","to":5,"text":"Hallo"}"#,
            ),
        ];
        for (fields, frame) in pairs {
            assert_eq!(form(fields), parse(frame), "{frame}");
            assert!(form(fields).is_ok(), "{frame}");
        }
        assert_eq!(
            form(&[
                ("t", "moderate"),
                ("question", " 3 "),
                ("status", "answered")
            ]),
            Ok(Command::Moderate {
                id: None,
                question: QuestionId::new(3),
                status: QuestionStatus::Answered
            })
        );
        assert!(matches!(
            form(&[("t", "timer"), ("action", "stop")]),
            Ok(Command::Timer {
                action: TimerAction::Stop,
                seconds: None,
                label: None,
                ..
            })
        ));
    }

    #[test]
    fn a_frame_s_help_desk_flag_and_plain_values_read_as_before() {
        assert_eq!(
            parse(r#"{"t":"dm","to_helpdesk":true,"text":"x"}"#),
            Ok(Command::Dm {
                id: None,
                to: None,
                to_helpdesk: true,
                text: "x".into()
            })
        );
        assert_eq!(
            parse(r#"{"t":"agenda","current":null}"#),
            parse(r#"{"t":"agenda"}"#)
        );
        for bad in [
            r#"{"t":"upvote","question":1.5}"#,
            r#"{"t":"upvote","question":true}"#,
            r#"{"t":"upvote","question":18446744073709551615}"#,
            r#"{"t":"hand","up":"vielleicht"}"#,
            r#"{"t":"hand"}"#,
            r#"{"t":"dm","to":"jemand","text":"x"}"#,
        ] {
            assert_eq!(parse(bad).expect_err(bad).code(), "bad_frame", "{bad}");
        }
    }

    #[test]
    fn a_form_that_is_no_command_is_refused_with_what_is_wrong() {
        let refusal = form(&[("t", "upvote"), ("question", "zwölf")]).expect_err("no number");
        assert_eq!(refusal.code(), "bad_frame");
        assert!(refusal.message.contains("zwölf"), "{}", refusal.message);
        assert!(
            refusal.message.contains("whole number"),
            "{}",
            refusal.message
        );
        for bad in [
            &[("t", "explode")][..],
            &[("text", "ohne Befehl")],
            &[("t", "chat")],
            &[("t", "hand"), ("up", "vielleicht")],
            &[("t", "chat"), ("id", ""), ("text", "x")],
            &[("t", "chat"), ("text", "a"), ("text", "b")],
        ] {
            let refusal = form(bad).expect_err("refused");
            assert_eq!(refusal.code(), "bad_frame", "{bad:?}");
            assert!(!refusal.message.is_empty());
        }
    }
}
