//! The directory of conferences and who speaks for them (G1, G2): the input types that
//! forms and imports are parsed into, with their rules.

use std::fmt;
use std::str::FromStr;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::validation::{FieldErrors, optional_date, optional_text};

/// Longest free text in the directory (names, functions, notes).
pub const MAX_TEXT: usize = 500;

/// A conference's short name, e.g. `DMK` or `E-Justice-Rat`; also its URL segment.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Abbreviation(String);

impl Abbreviation {
    pub fn parse(value: &str) -> Result<Self, &'static str> {
        let value = value.trim();
        if value.is_empty() {
            return Err("Bitte ein Kürzel angeben.");
        }
        if value.chars().count() > 24 {
            return Err("Das Kürzel ist zu lang (höchstens 24 Zeichen).");
        }
        if !value
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
        {
            return Err("Das Kürzel darf nur Buchstaben, Ziffern und Bindestriche enthalten.");
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Abbreviation {
    type Error = &'static str;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Abbreviation> for String {
    fn from(value: Abbreviation) -> Self {
        value.0
    }
}

impl fmt::Display for Abbreviation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The three roles a person can hold for a conference (G2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoleKind {
    /// fachpolitische:r Sprecher:in, appointed by the council from its members.
    Spokesperson,
    /// Ansprechpartner:in, named by the conference.
    Contact,
    /// Berichterstatter:in, a council member representing the conference in a session.
    Rapporteur,
}

impl RoleKind {
    pub const ALL: [RoleKind; 3] = [Self::Spokesperson, Self::Contact, Self::Rapporteur];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Spokesperson => "spokesperson",
            Self::Contact => "contact",
            Self::Rapporteur => "rapporteur",
        }
    }

    /// The German name, as the seed deck and exports write it.
    pub fn german(self) -> &'static str {
        match self {
            Self::Spokesperson => "Sprecher:in",
            Self::Contact => "Ansprechpartner:in",
            Self::Rapporteur => "Berichterstatter:in",
        }
    }

    /// The legal basis a role rests on when nothing else is recorded (seed deck,
    /// "Rechtliche Grundlagen").
    pub fn default_legal_basis(self) -> &'static str {
        match self {
            Self::Spokesperson => "Beschluss 2022/43; IT-Staatsvertrag § 1 Abs. 2",
            Self::Contact => "GO IT-PLR § 17",
            Self::Rapporteur => "GO IT-PLR § 18",
        }
    }
}

impl FromStr for RoleKind {
    type Err = &'static str;

    /// Accepts the code names and the usual German spellings.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_lowercase();
        let plain: String = lower.chars().filter(|c| c.is_alphanumeric()).collect();
        match plain.as_str() {
            "spokesperson"
            | "sprecherin"
            | "sprecher"
            | "sprecherinnen"
            | "fachpolitischesprecherin"
            | "fachpolitischersprecher" => Ok(Self::Spokesperson),
            "contact" | "ansprechpartnerin" | "ansprechpartner" | "ansprechperson" => {
                Ok(Self::Contact)
            }
            "rapporteur" | "berichterstatterin" | "berichterstatter" => Ok(Self::Rapporteur),
            _ => {
                Err("Unbekannte Rolle (Sprecher:in, Ansprechpartner:in oder Berichterstatter:in).")
            }
        }
    }
}

impl fmt::Display for RoleKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A resolution's number, `YYYY/NN` (G5), e.g. `2022/43`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ResolutionNumber {
    pub year: u16,
    pub number: u16,
}

impl ResolutionNumber {
    pub fn parse(value: &str) -> Result<Self, &'static str> {
        const MSG: &str = "Beschlussnummer bitte als JJJJ/NN angeben, z. B. 2022/43.";
        let value = value.trim();
        let value = value
            .strip_prefix("Beschluss")
            .map(str::trim)
            .unwrap_or(value);
        let (year, number) = value.split_once('/').ok_or(MSG)?;
        // Digits only: `u16::from_str` would also take a sign ("2024/+5").
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if year.len() != 4 || number.is_empty() || number.len() > 3 {
            return Err(MSG);
        }
        if !digits(year) || !digits(number) {
            return Err(MSG);
        }
        let year: u16 = year.parse().map_err(|_| MSG)?;
        let number: u16 = number.parse().map_err(|_| MSG)?;
        if !(2010..=2100).contains(&year) || number == 0 {
            return Err(MSG);
        }
        Ok(Self { year, number })
    }
}

impl TryFrom<String> for ResolutionNumber {
    type Error = &'static str;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<ResolutionNumber> for String {
    fn from(value: ResolutionNumber) -> Self {
        value.to_string()
    }
}

impl fmt::Display for ResolutionNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{:02}", self.year, self.number)
    }
}

/// A conference as entered in a form or an import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConferenceInput {
    pub abbreviation: Abbreviation,
    pub name: String,
    pub lead_states: Option<String>,
    pub office_contact: Option<String>,
}

impl ConferenceInput {
    pub fn parse(
        abbreviation: &str,
        name: &str,
        lead_states: &str,
        office_contact: &str,
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let abbreviation = Abbreviation::parse(abbreviation)
            .map_err(|m| errors.add("abbreviation", "invalid-abbreviation", m))
            .ok();
        let name = crate::validation::required_name(&mut errors, "name", name, MAX_TEXT);
        let lead_states = optional_text(&mut errors, "lead_states", lead_states, MAX_TEXT);
        let office_contact = optional_text(&mut errors, "office_contact", office_contact, MAX_TEXT);
        match abbreviation {
            Some(abbreviation) if errors.is_empty() => Ok(Self {
                abbreviation,
                name,
                lead_states,
                office_contact,
            }),
            _ => Err(errors),
        }
    }
}

/// A person as entered in a form or an import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonInput {
    pub name: String,
    pub title: Option<String>,
    pub function: Option<String>,
    pub organisation: Option<String>,
}

impl PersonInput {
    pub fn parse(
        name: &str,
        title: &str,
        function: &str,
        organisation: &str,
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let name = crate::validation::required_name(&mut errors, "name", name, MAX_TEXT);
        if is_vacancy_marker(&name) {
            errors.add(
                "name",
                "vacancy-not-a-person",
                "„N.N.“ ist keine Person: Eine Vakanz wird ohne Person eingetragen.",
            );
        }
        let title = crate::validation::optional_name(&mut errors, "title", title, 100);
        let function = optional_text(&mut errors, "function", function, MAX_TEXT);
        let organisation = optional_text(&mut errors, "organisation", organisation, MAX_TEXT);
        errors.into_result(Self {
            name,
            title,
            function,
            organisation,
        })
    }
}

/// `N.N.` (nomen nominandum) marks a vacancy where a name would stand.
pub fn is_vacancy_marker(name: &str) -> bool {
    matches!(
        name.trim().to_lowercase().as_str(),
        "n.n." | "n. n." | "nn" | "n.n" | "vakant"
    )
}

/// A role assignment as entered in a form or an import: who (or nobody, a vacancy)
/// holds which role from when to when, on what basis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignmentInput {
    pub role: RoleKind,
    pub starts_on: Option<Date>,
    pub ends_on: Option<Date>,
    pub appointing_resolution: Option<ResolutionNumber>,
    pub legal_basis: String,
    /// E.g. "Neubesetzung zur 44. IT-PLR-Sitzung geplant".
    pub note: Option<String>,
}

impl AssignmentInput {
    /// Parses the form fields; an empty legal basis takes the role's default.
    pub fn parse(
        role: &str,
        starts_on: &str,
        ends_on: &str,
        appointing_resolution: &str,
        legal_basis: &str,
        note: &str,
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let role = role
            .parse::<RoleKind>()
            .map_err(|m| errors.add("role", "invalid-role", m))
            .ok();
        let starts_on = optional_date(&mut errors, "starts_on", starts_on);
        let ends_on = optional_date(&mut errors, "ends_on", ends_on);
        check_period(&mut errors, starts_on, ends_on);
        let appointing_resolution = match appointing_resolution.trim() {
            "" => None,
            value => ResolutionNumber::parse(value)
                .map_err(|m| errors.add("appointing_resolution", "invalid-resolution", m))
                .ok(),
        };
        let legal_basis = optional_text(&mut errors, "legal_basis", legal_basis, MAX_TEXT);
        let note = optional_text(&mut errors, "note", note, MAX_TEXT);
        match role {
            Some(role) if errors.is_empty() => Ok(Self {
                role,
                starts_on,
                ends_on,
                appointing_resolution,
                legal_basis: legal_basis.unwrap_or_else(|| role.default_legal_basis().to_owned()),
                note,
            }),
            _ => Err(errors),
        }
    }
}

/// An end date must not lie before the start date.
pub fn check_period(errors: &mut FieldErrors, starts_on: Option<Date>, ends_on: Option<Date>) {
    if let (Some(start), Some(end)) = (starts_on, ends_on)
        && end < start
    {
        errors.add(
            "ends_on",
            "end-before-start",
            "Das Ende liegt vor dem Beginn.",
        );
    }
}

/// Why a change of an assignment is refused. The text is German; the web shows it in
/// the reader's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AssignmentRefusal {
    #[error("Diese Besetzung ist bereits beendet.")]
    AlreadyEnded,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolution_numbers_parse_and_print_as_year_slash_number() {
        let n = ResolutionNumber::parse("2022/43").expect("valid");
        assert_eq!((n.year, n.number), (2022, 43));
        assert_eq!(n.to_string(), "2022/43");
        assert_eq!(
            ResolutionNumber::parse("Beschluss 2023/7").map(|n| n.to_string()),
            Ok("2023/07".to_owned())
        );
        for bad in [
            "",
            "2022",
            "22/43",
            "2022/",
            "2022/0",
            "abcd/12",
            "2022/43/1",
            // Found by fuzzing: signs were read as part of the number.
            "2010/+1",
            "+202/1",
        ] {
            assert!(
                ResolutionNumber::parse(bad).is_err(),
                "{bad} must be refused"
            );
        }
    }

    #[test]
    fn roles_accept_code_names_and_german_spellings() {
        assert_eq!("spokesperson".parse(), Ok(RoleKind::Spokesperson));
        assert_eq!("Sprecher:in".parse(), Ok(RoleKind::Spokesperson));
        assert_eq!("Ansprechpartner:in".parse(), Ok(RoleKind::Contact));
        assert_eq!("Berichterstatterin".parse(), Ok(RoleKind::Rapporteur));
        assert!("Vorsitz".parse::<RoleKind>().is_err());
    }

    #[test]
    fn abbreviations_refuse_spaces_and_slashes() {
        assert!(Abbreviation::parse("E-Justice-Rat").is_ok());
        assert!(Abbreviation::parse("DMK").is_ok());
        assert!(Abbreviation::parse("a b").is_err());
        assert!(Abbreviation::parse("../x").is_err());
        assert!(Abbreviation::parse(" ").is_err());
    }

    #[test]
    fn an_assignment_ending_before_it_starts_is_refused() {
        let err = AssignmentInput::parse("contact", "2024-05-01", "2024-04-30", "", "", "")
            .expect_err("end before start");
        assert_eq!(err.get("ends_on").map(|e| e.code), Some("end-before-start"));
    }

    #[test]
    fn an_assignment_without_legal_basis_takes_the_roles_default() {
        let a = AssignmentInput::parse("rapporteur", "", "", "", " ", "").expect("valid");
        assert_eq!(a.legal_basis, "GO IT-PLR § 18");
    }

    #[test]
    fn a_person_named_nn_is_refused_because_vacancies_have_no_person() {
        let err = PersonInput::parse("N.N.", "", "", "").expect_err("vacancy marker");
        assert_eq!(
            err.get("name").map(|e| e.code),
            Some("vacancy-not-a-person")
        );
    }
}
