//! Bulk invitations (A2): a list of people to invite, read from a CSV/XLSX file or from
//! pasted addresses, and checked row by row before anything is written. Pure functions;
//! whether an event, conference, room or topic exists is for the caller to check
//! against the store ([`Lookup`]).
//!
//! Columns (German or English header, any order and case): `E-Mail` (required), `Name`
//! (required in a file), `Organisation`, `Rolle` (default: participant), `Bereich` (a
//! scope such as `conference:DMK`), `Veranstaltung` (an event's slug or number), `Sprache`
//! (`de`/`en`; default: the inviter's).

use std::collections::HashMap;

use crate::authz::{Grant, Role, Scope};
use crate::gremien::transfer::{FileKind, ImportReport, RowProblem, read_sheet};
use crate::ids::EventId;

/// Most people in one list.
pub const MAX_ROWS: usize = 5_000;
/// Largest pasted text accepted, in bytes (a file has the directory import's limit).
pub const MAX_PASTE_BYTES: usize = 512 * 1024;
/// Longest name or organisation.
pub const MAX_NAME: usize = 200;

/// One person to invite, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitee {
    /// The spreadsheet row, or the line of the pasted text.
    pub row: usize,
    /// Lower-cased.
    pub email: String,
    pub name: Option<String>,
    pub organisation: Option<String>,
    pub grant: Grant,
    /// The event to join, as its id.
    pub event: Option<EventId>,
    /// `de` or `en`; None = the inviter's language.
    pub language: Option<String>,
}

/// What the caller knows about the things a row may name.
pub trait Lookup {
    /// The id of the event with this slug or number.
    fn event(&self, slug_or_id: &str) -> Option<EventId>;
    /// Whether the scope names something that exists.
    fn scope_exists(&self, scope: &Scope) -> bool;
    /// Whether the inviter may invite with this grant into this event (an organizer
    /// only participants of their own event; an admin anything).
    fn may_invite(&self, grant: &Grant, event: Option<EventId>) -> Result<(), String>;
    /// The event a row without event column joins (the organizer's page's event).
    fn default_event(&self) -> Option<EventId>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Column {
    Email,
    Name,
    Organisation,
    Role,
    Scope,
    Event,
    Language,
}

impl Column {
    const ALL: [Column; 7] = [
        Self::Email,
        Self::Name,
        Self::Organisation,
        Self::Role,
        Self::Scope,
        Self::Event,
        Self::Language,
    ];

    fn german(self) -> &'static str {
        match self {
            Self::Email => "E-Mail",
            Self::Name => "Name",
            Self::Organisation => "Organisation",
            Self::Role => "Rolle",
            Self::Scope => "Bereich",
            Self::Event => "Veranstaltung",
            Self::Language => "Sprache",
        }
    }

    fn aliases(self) -> &'static [&'static str] {
        match self {
            Self::Email => &["e-mail", "email", "mail", "e-mail-adresse"],
            Self::Name => &["name"],
            Self::Organisation => &["organisation", "organization"],
            Self::Role => &["rolle", "role"],
            Self::Scope => &["bereich", "scope"],
            Self::Event => &["veranstaltung", "event"],
            Self::Language => &["sprache", "language"],
        }
    }

    fn from_header(header: &str) -> Option<Column> {
        let header = header.trim().to_lowercase();
        Self::ALL
            .into_iter()
            .find(|c| c.aliases().contains(&header.as_str()))
    }
}

/// A row before its checks: the cells by column, and where it came from.
#[derive(Default)]
struct RawInvitee {
    row: usize,
    cells: HashMap<Column, String>,
}

impl RawInvitee {
    fn get(&self, column: Column) -> &str {
        self.cells.get(&column).map_or("", String::as_str)
    }
}

/// Reads and checks an uploaded list. Every problem of every row is reported, and none
/// of the list is taken if there is one.
pub fn parse_file(
    kind: FileKind,
    bytes: &[u8],
    lookup: &dyn Lookup,
) -> Result<Vec<Invitee>, ImportReport> {
    let mut rows = read_sheet(kind, bytes, MAX_ROWS)?.into_iter();
    let Some(header) = rows.next() else {
        return Err(file_problem("Die Datei enthält keine Zeilen."));
    };
    let mut positions = HashMap::new();
    let mut problems = Vec::new();
    let mut seen = Vec::new();
    for (position, text) in header.cells {
        match Column::from_header(&text) {
            None => problems.push(problem(
                header.row,
                Some(&text),
                format!("Unbekannte Spalte „{text}“."),
            )),
            Some(column) if seen.contains(&column) => problems.push(problem(
                header.row,
                Some(&text),
                format!("Die Spalte „{}“ kommt mehrfach vor.", column.german()),
            )),
            Some(column) => {
                seen.push(column);
                positions.insert(position, column);
            }
        }
    }
    for required in [Column::Email, Column::Name] {
        if !seen.contains(&required) {
            problems.push(problem(
                header.row,
                Some(required.german()),
                format!("Die Pflichtspalte „{}“ fehlt.", required.german()),
            ));
        }
    }
    if !problems.is_empty() {
        return Err(ImportReport { problems });
    }
    let raw = rows.map(|sheet_row| {
        let mut raw = RawInvitee {
            row: sheet_row.row,
            ..RawInvitee::default()
        };
        let mut stray = false;
        for (position, text) in sheet_row.cells {
            match positions.get(&position) {
                Some(column) => {
                    raw.cells.insert(*column, text);
                }
                None => stray = true,
            }
        }
        (raw, stray)
    });
    check_all(raw, true, lookup)
}

/// Reads pasted addresses, one per line, each `addr@example.org` or
/// `Name <addr@example.org>`; blank lines are skipped. Everyone gets the default:
/// participant, of the page's event if there is one.
pub fn parse_pasted(text: &str, lookup: &dyn Lookup) -> Result<Vec<Invitee>, ImportReport> {
    if text.len() > MAX_PASTE_BYTES {
        return Err(file_problem(format!(
            "Der Text ist länger als {} KB.",
            MAX_PASTE_BYTES / 1024
        )));
    }
    let lines: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .map(|(i, line)| (i + 1, line.trim()))
        .filter(|(_, line)| !line.is_empty())
        .collect();
    if lines.len() > MAX_ROWS {
        return Err(file_problem(format!(
            "Die Liste hat mehr als {MAX_ROWS} Zeilen. Bitte aufteilen."
        )));
    }
    let raw = lines.into_iter().map(|(row, line)| {
        let mut raw = RawInvitee {
            row,
            ..RawInvitee::default()
        };
        let (name, email) = split_name_addr(line);
        raw.cells.insert(Column::Email, email.to_owned());
        if !name.is_empty() {
            raw.cells.insert(Column::Name, name.to_owned());
        }
        (raw, false)
    });
    check_all(raw, false, lookup)
}

/// `Name <addr>` → (`Name`, `addr`); a bare address → (``, `addr`).
fn split_name_addr(line: &str) -> (&str, &str) {
    match line.strip_suffix('>').and_then(|l| l.rsplit_once('<')) {
        Some((name, addr)) => (name.trim().trim_matches('"').trim(), addr.trim()),
        None => ("", line),
    }
}

fn check_all(
    raw: impl Iterator<Item = (RawInvitee, bool)>,
    name_required: bool,
    lookup: &dyn Lookup,
) -> Result<Vec<Invitee>, ImportReport> {
    let mut problems = Vec::new();
    let mut invitees = Vec::new();
    let mut first_row_of: HashMap<String, usize> = HashMap::new();
    for (raw, stray) in raw {
        let before = problems.len();
        let mut report = |column: Option<Column>, reason: String| {
            problems.push(problem(raw.row, column.map(Column::german), reason));
        };
        if stray {
            report(
                None,
                "Die Zeile hat einen Wert in einer Spalte ohne Überschrift.".to_owned(),
            );
        }
        let email = raw.get(Column::Email).to_lowercase();
        if email.is_empty() {
            report(Some(Column::Email), "Bitte ausfüllen.".to_owned());
        } else if !plausible_email(&email) {
            report(
                Some(Column::Email),
                format!("„{email}“ ist keine gültige E-Mail-Adresse."),
            );
        } else if let Some(first) = first_row_of.get(&email) {
            report(
                Some(Column::Email),
                format!("Die Adresse „{email}“ steht schon in Zeile {first}."),
            );
        } else {
            first_row_of.insert(email.clone(), raw.row);
        }
        let name = raw.get(Column::Name);
        if name_required && name.is_empty() {
            report(Some(Column::Name), "Bitte ausfüllen.".to_owned());
        }
        let organisation = raw.get(Column::Organisation);
        for (column, value) in [(Column::Name, name), (Column::Organisation, organisation)] {
            if value.chars().count() > MAX_NAME {
                report(
                    Some(column),
                    format!("Höchstens {MAX_NAME} Zeichen, bitte kürzen."),
                );
            }
        }
        let event_cell = raw.get(Column::Event);
        let event = if event_cell.is_empty() {
            lookup.default_event()
        } else {
            let found = lookup.event(event_cell);
            if found.is_none() {
                report(
                    Some(Column::Event),
                    format!("Unbekannte Veranstaltung „{event_cell}“."),
                );
            }
            found
        };
        let grant = grant(
            raw.get(Column::Role),
            raw.get(Column::Scope),
            event,
            lookup,
            &mut report,
        );
        let language = match raw.get(Column::Language).to_lowercase().as_str() {
            "" => None,
            "de" | "deutsch" | "german" => Some("de".to_owned()),
            "en" | "englisch" | "english" => Some("en".to_owned()),
            other => {
                report(
                    Some(Column::Language),
                    format!("Unbekannte Sprache „{other}“ (de oder en)."),
                );
                None
            }
        };
        if let Some(grant) = &grant
            && let Err(reason) = lookup.may_invite(grant, event)
        {
            report(Some(Column::Role), reason);
        }
        if problems.len() > before {
            continue;
        }
        if let Some(grant) = grant {
            invitees.push(Invitee {
                row: raw.row,
                email,
                name: (!name.is_empty()).then(|| name.to_owned()),
                organisation: (!organisation.is_empty()).then(|| organisation.to_owned()),
                grant,
                event,
                language,
            });
        }
    }
    if problems.is_empty() {
        Ok(invitees)
    } else {
        Err(ImportReport { problems })
    }
}

/// The grant of a row: the role (participant if empty) with its scope; a role that
/// takes an event as scope gets the row's event when no scope is written.
fn grant(
    role: &str,
    scope: &str,
    event: Option<EventId>,
    lookup: &dyn Lookup,
    report: &mut impl FnMut(Option<Column>, String),
) -> Option<Grant> {
    let role: Role = if role.is_empty() {
        Role::Participant
    } else {
        let role = role.to_lowercase().replace([' ', '-'], "_");
        match role.parse::<Role>() {
            Ok(role) => role,
            Err(_) => {
                report(
                    Some(Column::Role),
                    format!(
                        "Unbekannte Rolle „{role}“ (z. B. participant, organizer, member, spokesperson)."
                    ),
                );
                return None;
            }
        }
    };
    let scope: Scope = match (scope, role.scope_kind(), event) {
        ("", Some(crate::authz::ScopeKind::Event), Some(event)) => Scope::Event(event),
        (scope, ..) => match scope.parse() {
            Ok(scope) => scope,
            Err(reason) => {
                report(Some(Column::Scope), reason);
                return None;
            }
        },
    };
    let grant = match Grant::new(role, scope) {
        Ok(grant) => grant,
        Err(reason) => {
            report(Some(Column::Scope), reason);
            return None;
        }
    };
    if grant.scope != Scope::Global && !lookup.scope_exists(&grant.scope) {
        report(
            Some(Column::Scope),
            format!("Unbekannter Bereich „{}“.", grant.scope),
        );
        return None;
    }
    Some(grant)
}

/// Rough check only: the address is confirmed by the person using the invitation.
pub fn plausible_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.contains('@')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && email.len() <= 254
        && !email
            .chars()
            .any(|c| c.is_whitespace() || c == ',' || c == ';' || c == '<' || c == '>')
}

fn problem(row: usize, column: Option<&str>, reason: impl Into<String>) -> RowProblem {
    RowProblem {
        row,
        column: column.map(str::to_owned),
        reason: reason.into(),
    }
}

fn file_problem(reason: impl Into<String>) -> ImportReport {
    ImportReport {
        problems: vec![problem(0, None, reason)],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Event 7 is "strategiekonvent-2025"; conference DMK exists; the inviter is an
    /// organizer of event 7 when `organizer_of` is set.
    struct Known {
        organizer_of: Option<EventId>,
    }

    impl Lookup for Known {
        fn event(&self, slug_or_id: &str) -> Option<EventId> {
            matches!(slug_or_id, "strategiekonvent-2025" | "7").then_some(EventId::new(7))
        }
        fn scope_exists(&self, scope: &Scope) -> bool {
            matches!(scope, Scope::Event(e) if e.get() == 7)
                || scope.to_string() == "conference:DMK"
        }
        fn may_invite(&self, grant: &Grant, event: Option<EventId>) -> Result<(), String> {
            match self.organizer_of {
                None => Ok(()),
                Some(own) if grant.role == Role::Participant && event == Some(own) => Ok(()),
                Some(_) => Err("Nur Teilnehmende der eigenen Veranstaltung.".to_owned()),
            }
        }
        fn default_event(&self) -> Option<EventId> {
            self.organizer_of
        }
    }

    const ADMIN: Known = Known { organizer_of: None };

    fn found(result: Result<Vec<Invitee>, ImportReport>) -> Vec<(usize, Option<String>)> {
        result
            .expect_err("refused")
            .problems
            .into_iter()
            .map(|p| (p.row, p.column))
            .collect()
    }

    fn at(row: usize, column: &str) -> (usize, Option<String>) {
        (row, Some(column.to_owned()))
    }

    #[test]
    fn a_good_list_gives_one_invitee_per_row_with_defaults() {
        let csv = "E-Mail;Name;Organisation;Rolle;Bereich;Veranstaltung;Sprache\n\
                   Eva@Example.org;Eva Beispiel;FITKO;;;strategiekonvent-2025;en\n\
                   max@example.org;Max Muster;;spokesperson;conference:DMK;;\n\
                   ora@example.org;Ora Nisa;;organizer;;7;\n";
        let rows = parse_file(FileKind::Csv, csv.as_bytes(), &ADMIN).expect("valid");
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].email, "eva@example.org");
        assert_eq!(rows[0].grant.role, Role::Participant);
        assert_eq!(rows[0].event, Some(EventId::new(7)));
        assert_eq!(rows[0].language.as_deref(), Some("en"));
        assert_eq!(rows[1].grant.scope.to_string(), "conference:DMK");
        assert_eq!(
            rows[2].grant.scope,
            Scope::Event(crate::ids::EventId::new(7)),
            "the row's event"
        );
    }

    #[test]
    fn every_bad_row_is_reported_and_nothing_is_taken() {
        let csv = "email,name,role,event\n\
                   eva@example.org,Eva,,\n\
                   kaputt-at-example.org,Kaputt,,\n\
                   EVA@example.org,Eva zwei,,\n\
                   neu@example.org,Neu,,gibt-es-nicht\n\
                   rolle@example.org,Rolle,kaiser,\n\
                   leer@example.org,,,\n";
        assert_eq!(
            found(parse_file(FileKind::Csv, csv.as_bytes(), &ADMIN)),
            vec![
                at(3, "E-Mail"),
                at(4, "E-Mail"),
                at(5, "Veranstaltung"),
                at(6, "Rolle"),
                at(7, "Name"),
            ]
        );
    }

    #[test]
    fn unknown_scopes_and_wrong_scopes_are_reported() {
        let csv = "E-Mail,Name,Rolle,Bereich\n\
                   a@example.org,A,spokesperson,conference:XYZ\n\
                   b@example.org,B,admin,conference:DMK\n\
                   c@example.org,C,member,irgendwas\n";
        assert_eq!(
            found(parse_file(FileKind::Csv, csv.as_bytes(), &ADMIN)),
            vec![at(2, "Bereich"), at(3, "Bereich"), at(4, "Bereich")]
        );
    }

    #[test]
    fn an_organizer_invites_only_participants_of_their_event() {
        let organizer = Known {
            organizer_of: Some(EventId::new(7)),
        };
        let csv = "E-Mail,Name,Rolle\na@example.org,A,\nb@example.org,B,admin\n";
        assert_eq!(
            found(parse_file(FileKind::Csv, csv.as_bytes(), &organizer)),
            vec![at(3, "Rolle")]
        );
        let rows = parse_pasted("a@example.org\n", &organizer).expect("valid");
        assert_eq!(rows[0].event, Some(EventId::new(7)), "the page's event");
    }

    #[test]
    fn pasted_addresses_may_carry_names_and_blank_lines() {
        let rows = parse_pasted(
            "\n  Eva Beispiel <eva@example.org>\n\"Max, M.\" <max@example.org>\nora@example.org\n",
            &ADMIN,
        )
        .expect("valid");
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].row, 2);
        assert_eq!(rows[0].name.as_deref(), Some("Eva Beispiel"));
        assert_eq!(rows[1].name.as_deref(), Some("Max, M."));
        assert_eq!(rows[2].name, None);
        assert_eq!(
            found(parse_pasted("a@example.org\nnichts\na@example.org", &ADMIN)),
            vec![at(2, "E-Mail"), at(3, "E-Mail")]
        );
    }

    #[test]
    fn too_many_rows_and_unknown_columns_refuse_the_file() {
        let mut csv = String::from("E-Mail,Name\n");
        for i in 0..=MAX_ROWS {
            csv.push_str(&format!("p{i}@example.org,P {i}\n"));
        }
        assert_eq!(
            found(parse_file(FileKind::Csv, csv.as_bytes(), &ADMIN)),
            vec![(0, None)]
        );
        let mut paste = String::new();
        for i in 0..=MAX_ROWS {
            paste.push_str(&format!("p{i}@example.org\n"));
        }
        assert_eq!(found(parse_pasted(&paste, &ADMIN)), vec![(0, None)]);
        assert_eq!(
            found(parse_file(
                FileKind::Csv,
                b"E-Mail,Telefon\na@example.org,030\n",
                &ADMIN
            )),
            vec![at(1, "Telefon"), at(1, "Name")]
        );
    }

    #[test]
    fn an_xlsx_list_is_read_like_a_csv() {
        use rust_xlsxwriter::Workbook;
        let mut workbook = Workbook::new();
        let sheet = workbook.add_worksheet();
        for (col, text) in (0u16..).zip(["Name", "E-Mail"]) {
            sheet.write_string(0, col, text).expect("write");
        }
        sheet.write_string(1, 0, "Eva").expect("write");
        sheet.write_string(1, 1, "eva@example.org").expect("write");
        sheet.write_string(3, 0, "Max").expect("write");
        sheet.write_string(3, 1, "max@").expect("write");
        let bytes = workbook.save_to_buffer().expect("save");
        assert_eq!(
            found(parse_file(FileKind::Xlsx, &bytes, &ADMIN)),
            vec![at(4, "E-Mail")]
        );
    }
}
