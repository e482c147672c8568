//! Translations: German first, English second, from the Fluent files in `locales/`,
//! compiled into the binary. Templates call `t.get("message-id")`.

use std::sync::OnceLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};
use unic_langid::{LanguageIdentifier, langid};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    #[default]
    De,
    En,
}

impl Lang {
    /// Every language, in the order of their numbers (`lang as usize`), German first.
    pub const ALL: [Self; 2] = [Self::De, Self::En];

    pub fn code(self) -> &'static str {
        match self {
            Self::De => "de",
            Self::En => "en",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "de" => Some(Self::De),
            "en" => Some(Self::En),
            _ => None,
        }
    }

    /// The other language, offered by the language switch.
    pub fn other(self) -> Self {
        match self {
            Self::De => Self::En,
            Self::En => Self::De,
        }
    }
}

struct Bundles {
    de: FluentBundle<FluentResource>,
    en: FluentBundle<FluentResource>,
}

fn bundle(lang: LanguageIdentifier, source: &'static str) -> FluentBundle<FluentResource> {
    let mut bundle = FluentBundle::new_concurrent(vec![lang]);
    // Unicode isolation marks would end up as invisible characters in HTML.
    bundle.set_use_isolating(false);
    match FluentResource::try_new(source.to_owned()) {
        Ok(resource) => {
            if let Err(errors) = bundle.add_resource(resource) {
                tracing::error!(?errors, "duplicate messages in a locale file");
            }
        }
        Err((_, errors)) => tracing::error!(?errors, "a locale file has syntax errors"),
    }
    bundle
}

fn bundles() -> &'static Bundles {
    static BUNDLES: OnceLock<Bundles> = OnceLock::new();
    BUNDLES.get_or_init(|| Bundles {
        de: bundle(langid!("de"), include_str!("../locales/de/main.ftl")),
        en: bundle(langid!("en"), include_str!("../locales/en/main.ftl")),
    })
}

/// A translator for one language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tr {
    pub lang: Lang,
}

impl Tr {
    pub fn new(lang: Lang) -> Self {
        Self { lang }
    }

    fn bundle(&self) -> &'static FluentBundle<FluentResource> {
        match self.lang {
            Lang::De => &bundles().de,
            Lang::En => &bundles().en,
        }
    }

    /// The message `id`; its id itself when it is missing (visible, never a panic).
    pub fn get(&self, id: &str) -> String {
        self.format(id, None).unwrap_or_else(|| id.to_owned())
    }

    /// The message `id` with arguments.
    pub fn with(&self, id: &str, args: &[(&str, &str)]) -> String {
        let mut fluent_args = FluentArgs::new();
        for (k, v) in args {
            fluent_args.set(*k, *v);
        }
        self.format(id, Some(&fluent_args))
            .unwrap_or_else(|| id.to_owned())
    }

    /// The message `id` for a count `n` (its `$n`), so that a `{ $n -> [one] … *[other] … }`
    /// selector picks the singular or the plural ("1 Stimme", "2 Stimmen").
    pub fn count(&self, id: &str, n: i64) -> String {
        let mut fluent_args = FluentArgs::new();
        fluent_args.set("n", n);
        self.format(id, Some(&fluent_args))
            .unwrap_or_else(|| id.to_owned())
    }

    /// The message `id` if the locale has it.
    pub fn try_get(&self, id: &str) -> Option<String> {
        self.format(id, None)
    }

    fn format(&self, id: &str, args: Option<&FluentArgs>) -> Option<String> {
        let bundle = self.bundle();
        let pattern = bundle.get_message(id)?.value()?;
        let mut errors = Vec::new();
        let text = bundle.format_pattern(pattern, args, &mut errors);
        if !errors.is_empty() {
            tracing::warn!(id, ?errors, "message formatted with errors");
        }
        Some(text.into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The message ids of a Fluent file (lines starting a message).
    fn ids(source: &str) -> Vec<&str> {
        let mut ids: Vec<&str> = source
            .lines()
            .filter(|l| l.chars().next().is_some_and(|c| c.is_ascii_lowercase()))
            .filter_map(|l| l.split_once(" =").map(|(id, _)| id.trim()))
            .collect();
        ids.sort_unstable();
        ids
    }

    #[test]
    fn a_count_picks_the_singular_or_the_plural() {
        let de = Tr::new(Lang::De);
        assert_eq!(de.count("questions-votes", 1), "1 Stimme");
        assert_eq!(de.count("questions-votes", 0), "0 Stimmen");
        assert_eq!(de.count("pin-votes", 2), "2 Stimmen");
        let en = Tr::new(Lang::En);
        assert_eq!(en.count("pin-votes", 1), "1 vote");
        assert_eq!(en.count("questions-votes", 3), "3 votes");
    }

    #[test]
    fn german_and_english_have_the_same_messages() {
        let de = include_str!("../locales/de/main.ftl");
        let en = include_str!("../locales/en/main.ftl");
        assert_eq!(ids(de), ids(en));
        assert!(ids(de).len() > 50);
        let mut unique = ids(de);
        unique.dedup();
        assert_eq!(unique.len(), ids(de).len(), "a message id is defined twice");
    }

    #[test]
    fn messages_format_in_both_languages() {
        assert_eq!(Tr::new(Lang::De).get("nav-gremien"), "Gremien");
        assert_eq!(Tr::new(Lang::En).get("nav-gremien"), "Councils");
        assert_eq!(Tr::new(Lang::De).get("no-such-message"), "no-such-message");
    }
}
