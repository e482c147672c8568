//! The operator's legal settings (`[legal]` in `konvent.toml`, issue 21): who runs this
//! konvent, the accessibility statement's facts, where barrier reports go, the texts of
//! the imprint and the privacy notice, the help desk and the sign-language video.
//! Every key has a default that gives a complete, truthful page; the demo fills in a
//! fictitious operator ([`LegalSettings::demo`]).

use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LegalSettings {
    /// The public body that runs this konvent, as named on the legal pages; empty: "the
    /// operator of this konvent".
    pub operator: String,
    /// The operator's postal address, one line per line.
    pub operator_address: String,
    /// State of conformity with BITV 2.0 / HVBIT: "fully", "partly" or "not".
    pub conformity: String,
    /// How conformity was assessed ("Selbstbewertung", a test report), Markdown.
    pub assessment: String,
    /// Known barriers, their reasons and alternatives, Markdown; empty: konvent's own
    /// known barriers (the map, video rooms of another provider).
    pub barriers: String,
    /// The statement's dates of preparation and last review, `YYYY-MM-DD`.
    pub prepared_on: String,
    pub reviewed_on: String,
    /// The office that receives barrier reports and answers them; empty: every admin
    /// account of this konvent.
    pub feedback_email: String,
    /// A telephone number for the accessibility contact; empty: none shown.
    pub feedback_phone: String,
    /// The enforcement body: "hessen" (LBIT, after six weeks), "bund" (the arbitration
    /// body under § 16 BGG, after one month), or "custom" with `enforcement_text`.
    pub enforcement: String,
    /// The enforcement body for "custom", Markdown (name, address, when to turn to it).
    pub enforcement_text: String,
    /// The enforcement body's online form for an application (for "hessen" or "bund"),
    /// an `https://` link shown beside its address; empty: none shown.
    pub enforcement_form: String,
    /// The imprint, Markdown, or the path of a Markdown file (`imprint_file` wins).
    pub imprint: String,
    pub imprint_file: String,
    /// The privacy notice, Markdown, or a file; both empty: konvent's generated notice,
    /// which lists what konvent stores and for how long.
    pub privacy: String,
    pub privacy_file: String,
    /// The data protection officer's contact, for the generated privacy notice.
    pub privacy_officer: String,
    /// The help desk, named on the plain-language page: e-mail and telephone.
    pub help_email: String,
    pub help_phone: String,
    /// The operator's sign-language video: an `https://` link, or the path of a video
    /// file (mp4 or webm) served at `/gebaerdensprache/video`; empty: none yet.
    pub sign_language_video: String,
}

impl Default for LegalSettings {
    fn default() -> Self {
        Self {
            operator: String::new(),
            operator_address: String::new(),
            conformity: "partly".to_owned(),
            assessment: String::new(),
            barriers: String::new(),
            prepared_on: String::new(),
            reviewed_on: String::new(),
            feedback_email: String::new(),
            feedback_phone: String::new(),
            enforcement: "hessen".to_owned(),
            enforcement_text: String::new(),
            enforcement_form: String::new(),
            imprint: String::new(),
            imprint_file: String::new(),
            privacy: String::new(),
            privacy_file: String::new(),
            privacy_officer: String::new(),
            help_email: String::new(),
            help_phone: String::new(),
            sign_language_video: String::new(),
        }
    }
}

/// The conformity states a statement may declare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conformity {
    Fully,
    Partly,
    Not,
}

/// Where a person turns when the operator does not answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enforcement {
    Hessen,
    Bund,
    Custom,
}

impl LegalSettings {
    pub fn conformity(&self) -> Conformity {
        match self.conformity.as_str() {
            "fully" => Conformity::Fully,
            "not" => Conformity::Not,
            _ => Conformity::Partly,
        }
    }

    pub fn enforcement(&self) -> Enforcement {
        match self.enforcement.as_str() {
            "bund" => Enforcement::Bund,
            "custom" if !self.enforcement_text.trim().is_empty() => Enforcement::Custom,
            _ => Enforcement::Hessen,
        }
    }

    /// Checks the values a typo would silently turn into another statement; the server
    /// refuses to start otherwise, with this message.
    pub fn check(&self) -> Result<(), String> {
        if !["fully", "partly", "not"].contains(&self.conformity.as_str()) {
            return Err(format!(
                "legal.conformity must be \"fully\", \"partly\" or \"not\", not {:?}",
                self.conformity
            ));
        }
        if !["hessen", "bund", "custom"].contains(&self.enforcement.as_str()) {
            return Err(format!(
                "legal.enforcement must be \"hessen\", \"bund\" or \"custom\", not {:?}",
                self.enforcement
            ));
        }
        if self.enforcement == "custom" && self.enforcement_text.trim().is_empty() {
            return Err("legal.enforcement = \"custom\" needs legal.enforcement_text".into());
        }
        if !self.enforcement_form.is_empty() && !self.enforcement_form.starts_with("https://") {
            return Err(format!(
                "legal.enforcement_form must be an https:// link, not {:?}",
                self.enforcement_form
            ));
        }
        for (key, value) in [
            ("prepared_on", &self.prepared_on),
            ("reviewed_on", &self.reviewed_on),
        ] {
            if !value.is_empty() && value.parse::<jiff::civil::Date>().is_err() {
                return Err(format!(
                    "legal.{key} must be a date YYYY-MM-DD, not {value:?}"
                ));
            }
        }
        for (key, value) in [
            ("feedback_email", &self.feedback_email),
            ("help_email", &self.help_email),
        ] {
            if !value.is_empty() && value.parse::<lettre::Address>().is_err() {
                return Err(format!("legal.{key} is not an e-mail address: {value:?}"));
            }
        }
        Ok(())
    }

    /// A fictitious operator for `--demo`: every page shows filled-in example texts.
    pub fn demo() -> Self {
        Self {
            operator: "Musterstelle für föderale Zusammenarbeit (Beispiel)".to_owned(),
            operator_address: "Musterstraße 1\n60000 Musterstadt".to_owned(),
            conformity: "partly".to_owned(),
            assessment: "Die Erklärung beruht auf einer **Selbstbewertung** (Prüfung mit \
                         axe-core in jedem Browsertest und einer Prüfung mit Tastatur und \
                         Screenreader) vom 3. Dezember 2026."
                .to_owned(),
            barriers: String::new(),
            prepared_on: "2026-12-03".to_owned(),
            reviewed_on: "2026-12-03".to_owned(),
            feedback_email: "barrierefreiheit@musterstelle.example".to_owned(),
            feedback_phone: "+49 69 000000-0".to_owned(),
            enforcement: "hessen".to_owned(),
            enforcement_text: String::new(),
            enforcement_form: "https://lbit.hessen.de/Durchsetzungs-und-Ueberwachungsstelle/Durchsetzungsverfahren-beantragen"
                .to_owned(),
            imprint: DEMO_IMPRINT.to_owned(),
            imprint_file: String::new(),
            privacy: String::new(),
            privacy_file: String::new(),
            privacy_officer: "Datenschutzbeauftragte der Musterstelle, Musterstraße 1, \
                              60000 Musterstadt, datenschutz@musterstelle.example"
                .to_owned(),
            help_email: "hilfe@musterstelle.example".to_owned(),
            help_phone: "+49 69 000000-1".to_owned(),
            sign_language_video: "https://video.musterstelle.example/gebaerdensprache-konvent"
                .to_owned(),
        }
    }
}

const DEMO_IMPRINT: &str = "\
## Herausgeberin

Musterstelle für föderale Zusammenarbeit (Beispiel)  
Anstalt des öffentlichen Rechts  
Musterstraße 1  
60000 Musterstadt

Telefon: +49 69 000000-0  
E-Mail: <kontakt@musterstelle.example>

## Vertreten durch

Die Präsidentin, Erika Mustermann

## Aufsicht

Musterministerium, Musterplatz 2, 60001 Musterstadt

## Verantwortlich für den Inhalt

Max Beispiel, Anschrift wie oben

*Dies ist ein Beispieltext der Demo. Eine echte Installation setzt `legal.imprint` oder \
`legal.imprint_file` in `konvent.toml`.*
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_and_the_demo_pass_the_start_up_check() {
        assert_eq!(LegalSettings::default().check(), Ok(()));
        assert_eq!(LegalSettings::demo().check(), Ok(()));
    }

    #[test]
    fn typos_in_the_statement_settings_stop_the_start() {
        let bad = |f: fn(&mut LegalSettings)| {
            let mut s = LegalSettings::default();
            f(&mut s);
            s.check().expect_err("refused")
        };
        assert!(bad(|s| s.conformity = "teilweise".into()).contains("conformity"));
        assert!(bad(|s| s.enforcement = "hamburg".into()).contains("enforcement"));
        assert!(bad(|s| s.enforcement = "custom".into()).contains("enforcement_text"));
        assert!(bad(|s| s.prepared_on = "3.12.2026".into()).contains("prepared_on"));
        assert!(bad(|s| s.feedback_email = "kein Postfach".into()).contains("feedback_email"));
    }
}
