//! The strategy process (S1–S4) and the World Café that feeds it (K9–K11, K16): focus
//! topics and their target pictures, café rounds and tables, impulses, the pinboard,
//! connection points, and the grouping of impulses for consolidation.

pub mod cafe;
pub mod consolidation;
pub mod demo;
pub mod grouping;
pub mod impulses;
pub mod pinboard;
pub mod target_pictures;

use std::fmt;
use std::str::FromStr;

/// Longest impulse, in characters.
pub const IMPULSE_MAX: usize = 1000;
/// Longest pinboard entry, in characters.
pub const PIN_MAX: usize = 500;
/// Longest table summary or target-picture text, in characters.
pub const SUMMARY_MAX: usize = 5000;
pub const TARGET_PICTURE_MAX: usize = 20_000;
/// How long an author may still edit an impulse, in seconds.
pub const IMPULSE_EDIT_SECONDS: i64 = 15 * 60;
/// Default seats per café table.
pub const TABLE_CAPACITY: i64 = 25;
/// Default length of a café round, in minutes.
pub const ROUND_MINUTES: i64 = 55;

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$(Self::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($text => Ok(Self::$variant),)+
                    other => Err(format!("unbekannter Wert {other:?}")),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

string_enum! {
    /// Who may read a target-picture version (S2).
    Visibility {
        /// Being written by the project team (the next version).
        Draft = "draft",
        /// Part of the decision papers: members, the patron, admins.
        Confidential = "confidential",
        /// Decided by the council and published with its resolution.
        Published = "published",
    }
}

string_enum! {
    /// Where a café round stands (K9).
    RoundStatus {
        Planned = "planned",
        Running = "running",
        Ended = "ended",
    }
}

string_enum! {
    /// What became of a pinboard entry (K11).
    PinStatus {
        Open = "open",
        /// Taken up: linked to where.
        PickedUp = "picked_up",
        /// Closed with a reason.
        Closed = "closed",
    }
}

string_enum! {
    /// What a connection point (K16) points at.
    FollowTarget {
        Topic = "topic",
        Impulse = "impulse",
        Pin = "pin",
    }
}

impl Visibility {
    /// Everybody may read it, not only the people with access to decision papers.
    pub fn is_public(self) -> bool {
        self == Self::Published
    }

    pub fn label_de(self) -> &'static str {
        match self {
            Self::Draft => "Entwurf",
            Self::Confidential => "vertraulich (Beschlussunterlage)",
            Self::Published => "veröffentlicht",
        }
    }
}

impl PinStatus {
    pub fn label_de(self) -> &'static str {
        match self {
            Self::Open => "offen",
            Self::PickedUp => "aufgegriffen",
            Self::Closed => "geschlossen",
        }
    }
}

/// Checks a text of the strategy work (impulses, pins, summaries, target pictures): the
/// one check of [`crate::validation::text`] for several lines of at most `max`
/// characters (`what` names the text in the message when it is empty).
pub fn text(text: &str, max: usize, what: &str) -> Result<String, String> {
    use crate::validation::text::{HIDDEN_MESSAGE, Problem, Shape, tidy};
    tidy(text, Shape::Lines, max).map_err(|problem| match problem {
        Problem::Empty => format!("Bitte {what} eingeben."),
        Problem::TooLong { chars, max } => {
            format!("Der Text ist zu lang ({chars} Zeichen; höchstens {max}).")
        }
        Problem::Control | Problem::Hidden => HIDDEN_MESSAGE.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn impulse_and_pin_texts_refuse_hidden_and_reversing_characters() {
        assert_eq!(
            text(" Rene\u{301}\nzweite Zeile ", 100, "x").as_deref(),
            Ok("Ren\u{e9}\nzweite Zeile")
        );
        assert!(text("Team \u{1F469}\u{200D}\u{1F4BB}", 100, "x").is_ok());
        for hostile in [
            "Pin\u{202E}txet",
            "\u{2066}Pin\u{2069}",
            "P\u{200B}in",
            "\u{FEFF}Pin",
        ] {
            let refused = text(hostile, 100, "x").expect_err(hostile);
            assert!(refused.contains("unsichtbare"), "{refused}");
        }
    }

    #[test]
    fn values_round_trip_through_their_stored_form() {
        for v in Visibility::ALL {
            assert_eq!(v.as_str().parse::<Visibility>(), Ok(*v));
        }
        for v in PinStatus::ALL {
            assert_eq!(v.as_str().parse::<PinStatus>(), Ok(*v));
        }
        for v in FollowTarget::ALL {
            assert_eq!(v.as_str().parse::<FollowTarget>(), Ok(*v));
        }
        assert!("secret".parse::<Visibility>().is_err());
    }

    #[test]
    fn texts_are_trimmed_and_limited() {
        assert_eq!(
            text("  Daten teilen ", 20, "einen Impuls"),
            Ok("Daten teilen".into())
        );
        assert!(text("   ", 20, "einen Impuls").is_err());
        assert!(text(&"ä".repeat(21), 20, "Der Impuls").is_err());
        assert!(text(&"ä".repeat(20), 20, "Der Impuls").is_ok());
    }
}
