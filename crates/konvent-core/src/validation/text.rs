//! The one check of what people write, from a display name to a chat line: every form,
//! the JSON API and the live commands tidy text here and differ only in its [`Shape`],
//! its longest length and the words of their messages.

use unicode_normalization::UnicodeNormalization;

/// What a text may hold besides its characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// One line: a name or a title. No line breaks, tabs or other control characters,
    /// and none of the [`invisible`] characters.
    Line,
    /// Several lines: a message, a description, Markdown. Line breaks and tabs stay
    /// (every break becomes `\n`, so tidy text stays the same when tidied again), and
    /// so do the zero-width joiners (U+200C, U+200D) that emoji and some scripts need.
    Lines,
}

/// Why a text was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// Nothing but white space.
    Empty,
    TooLong {
        chars: usize,
        max: usize,
    },
    /// A control character (in a [`Shape::Line`]: also a line break or a tab).
    Control,
    /// A character that is invisible or changes the writing direction ([`invisible`]).
    Hidden,
}

/// The German words for a [`Problem::Control`] or [`Problem::Hidden`] in a longer text.
pub const HIDDEN_MESSAGE: &str = "Der Text enthält unsichtbare oder die Schreibrichtung \
     ändernde Zeichen (etwa U+202E oder U+200B). Bitte nur sichtbare Zeichen verwenden.";

/// Tidies a text people write: trimmed, normalised to NFC, not empty, at most
/// `max_chars` characters, and of its `shape`.
pub fn tidy(value: &str, shape: Shape, max_chars: usize) -> Result<String, Problem> {
    let value: String = value.trim().nfc().collect();
    if value.is_empty() {
        return Err(Problem::Empty);
    }
    let chars = value.chars().count();
    if chars > max_chars {
        return Err(Problem::TooLong {
            chars,
            max: max_chars,
        });
    }
    let (breaks, joiners) = match shape {
        Shape::Line => (false, false),
        Shape::Lines => (true, true),
    };
    for c in value.chars() {
        if c.is_control() && !(breaks && matches!(c, '\n' | '\r' | '\t')) {
            return Err(Problem::Control);
        }
        if invisible(c) && !(joiners && matches!(c, '\u{200C}' | '\u{200D}')) {
            return Err(Problem::Hidden);
        }
    }
    Ok(match shape {
        Shape::Line => value,
        Shape::Lines if value.contains('\r') => value.replace("\r\n", "\n").replace('\r', "\n"),
        Shape::Lines => value,
    })
}

/// Characters that are invisible or reorder text: direction marks and overrides
/// (U+200E/F, U+202A–202E, U+2066–2069, U+061C), zero-width characters (U+200B–200D,
/// U+2060–2064, U+FEFF), fillers that look like nothing (Hangul fillers, U+3164),
/// the soft hyphen, invisible separators and tag characters. With them a name can pose
/// as another ("Admin" + U+200B) or show reversed.
pub fn invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E007F}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_normalised_and_its_breaks_made_plain() {
        assert_eq!(
            tidy("  e\u{301}in Satz \r\n zwei\r", Shape::Lines, 50),
            Ok("éin Satz \n zwei".to_owned())
        );
        assert_eq!(tidy(" Titel ", Shape::Line, 5), Ok("Titel".to_owned()));
    }

    #[test]
    fn empty_and_long_texts_are_refused() {
        assert_eq!(tidy(" \n\t ", Shape::Lines, 5), Err(Problem::Empty));
        assert_eq!(
            tidy(&"ä".repeat(6), Shape::Line, 5),
            Err(Problem::TooLong { chars: 6, max: 5 })
        );
    }

    #[test]
    fn a_line_holds_no_break_and_no_hidden_character() {
        assert_eq!(tidy("a\nb", Shape::Line, 9), Err(Problem::Control));
        assert_eq!(tidy("a\tb", Shape::Line, 9), Err(Problem::Control));
        assert_eq!(tidy("Ad\u{200B}min", Shape::Line, 9), Err(Problem::Hidden));
        assert_eq!(
            tidy("Team \u{1F469}\u{200D}\u{1F4BB}", Shape::Line, 9),
            Err(Problem::Hidden)
        );
    }

    #[test]
    fn lines_keep_breaks_tabs_and_joiners_but_no_other_hidden_character() {
        assert!(tidy("a\n\tb", Shape::Lines, 9).is_ok());
        assert!(tidy("Team \u{1F469}\u{200D}\u{1F4BB}", Shape::Lines, 9).is_ok());
        assert_eq!(tidy("a\u{7}b", Shape::Lines, 9), Err(Problem::Control));
        assert_eq!(
            tidy("Admin\u{202E}nimdA", Shape::Lines, 20),
            Err(Problem::Hidden)
        );
        assert_eq!(tidy("a\u{2028}b", Shape::Lines, 9), Err(Problem::Hidden));
    }

    #[test]
    fn tidy_text_stays_the_same_when_tidied_again() {
        for value in [
            "a\r\n\r\nb",
            " x\ry ",
            "e\u{301}\u{301}",
            "\u{1F469}\u{200D}\u{1F4BB}",
        ] {
            let once = tidy(value, Shape::Lines, 50).expect("tidy");
            assert_eq!(tidy(&once, Shape::Lines, 50), Ok(once.clone()), "{value:?}");
        }
    }
}
