//! Checking the rows of an import: the header first, then every data row on its own (each
//! cell parsed into its domain type, every problem noted), and that a conference has the
//! same data on all its rows.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::str::FromStr;

use jiff::civil::Date;

use super::columns::{Cell, Column, Layout, RawRow};
use super::{DirectoryRow, ImportReport, MAX_ROWS, PersonFields, RowProblem, too_many_rows};
use crate::gremien::directory::{
    Abbreviation, MAX_TEXT, PersonInput, ResolutionNumber, RoleKind, check_period,
    is_vacancy_marker,
};
use crate::validation::{FieldErrors, optional_date, optional_text};

/// Takes the rows of a file in order: the first non-empty row is the header, the later
/// non-empty ones are data.
#[derive(Default)]
pub(super) struct Collector {
    layout: Option<Layout>,
    rows: Vec<RawRow>,
}

impl Collector {
    /// `cells` holds the non-empty cells of one row with their 0-based positions.
    pub(super) fn push(
        &mut self,
        row: usize,
        cells: Vec<(usize, Cell)>,
    ) -> Result<(), ImportReport> {
        if cells.is_empty() {
            return Ok(());
        }
        match &self.layout {
            None => self.layout = Some(Layout::from_header(row, cells)?),
            Some(_) if self.rows.len() >= MAX_ROWS => return Err(too_many_rows(MAX_ROWS)),
            Some(layout) => self.rows.push(layout.place(row, cells)),
        }
        Ok(())
    }

    pub(super) fn finish(self) -> Result<Vec<DirectoryRow>, ImportReport> {
        match self.layout {
            Some(layout) => check_rows(&layout, self.rows),
            None => Ok(Vec::new()),
        }
    }
}

fn check_rows(layout: &Layout, raw_rows: Vec<RawRow>) -> Result<Vec<DirectoryRow>, ImportReport> {
    let mut problems = Vec::new();
    let mut rows = Vec::with_capacity(raw_rows.len());
    let mut conferences = ConferenceData::default();
    for raw in raw_rows {
        let mut check = RowCheck {
            layout,
            row: raw.row,
            cells: raw.cells,
            problems: &mut problems,
        };
        if raw.stray {
            check.problem(
                None,
                "Die Zeile hat einen Wert in einer Spalte ohne Überschrift.",
            );
        }
        if let Some(row) = check.directory_row() {
            conferences.check(&row, &mut check);
            rows.push(row);
        }
    }
    if problems.is_empty() {
        Ok(rows)
    } else {
        Err(ImportReport { problems })
    }
}

/// Checks the cells of one row, noting every problem.
struct RowCheck<'a> {
    layout: &'a Layout,
    row: usize,
    cells: [Option<Cell>; 14],
    problems: &'a mut Vec<RowProblem>,
}

impl RowCheck<'_> {
    fn directory_row(&mut self) -> Option<DirectoryRow> {
        let before = self.problems.len();
        let conference = self.required(Column::Conference, Abbreviation::parse);
        let conference_name = self.optional_text(Column::ConferenceName);
        let lead_states = self.optional_text(Column::LeadStates);
        let office_contact = self.optional_text(Column::OfficeContact);
        let role = self.required(Column::Role, RoleKind::from_str);
        let person = self.person();
        let starts_on = self.date(Column::StartsOn);
        let ends_on = self.date(Column::EndsOn);
        self.absorb(|e| check_period(e, starts_on, ends_on));
        let appointing_resolution = self.optional(Column::Resolution, ResolutionNumber::parse);
        let legal_basis = self.optional_text(Column::LegalBasis);
        let note = self.optional_text(Column::Note);
        if self.problems.len() > before {
            return None;
        }
        Some(DirectoryRow {
            row: self.row,
            conference: conference?,
            conference_name,
            lead_states,
            office_contact,
            role: role?,
            person,
            starts_on,
            ends_on,
            appointing_resolution,
            legal_basis,
            note,
        })
    }

    fn problem(&mut self, column: Option<Column>, reason: impl Into<String>) {
        self.problems.push(RowProblem {
            row: self.row,
            column: column.map(|c| self.layout.name(c)),
            reason: reason.into(),
        });
    }

    /// Runs a check of [`crate::validation`] or [`super::directory`] and takes over
    /// what it found.
    fn absorb<T>(&mut self, run: impl FnOnce(&mut FieldErrors) -> T) -> T {
        let mut errors = FieldErrors::new();
        let value = run(&mut errors);
        for e in errors.0 {
            self.problem(Column::from_field(e.field), e.message);
        }
        value
    }

    /// The cell as text, empty if blank; an Excel error value is a problem.
    fn text(&mut self, column: Column) -> String {
        match self.cells[column.index()].take() {
            None => String::new(),
            Some(Cell::ExcelError(value)) => {
                self.problem(
                    Some(column),
                    format!("Die Zelle enthält den Excel-Fehler „{value}“."),
                );
                String::new()
            }
            Some(cell) => cell.into_text(),
        }
    }

    fn optional_text(&mut self, column: Column) -> Option<String> {
        let value = self.text(column);
        self.absorb(|e| optional_text(e, column.english(), &value, MAX_TEXT))
    }

    fn required<T>(
        &mut self,
        column: Column,
        parse: impl FnOnce(&str) -> Result<T, &'static str>,
    ) -> Option<T> {
        let value = self.text(column);
        if value.is_empty() {
            self.problem(Some(column), "Bitte ausfüllen.");
            return None;
        }
        parse(&value)
            .map_err(|m| self.problem(Some(column), m))
            .ok()
    }

    fn optional<T>(
        &mut self,
        column: Column,
        parse: impl FnOnce(&str) -> Result<T, &'static str>,
    ) -> Option<T> {
        let value = self.text(column);
        if value.is_empty() {
            return None;
        }
        parse(&value)
            .map_err(|m| self.problem(Some(column), m))
            .ok()
    }

    fn date(&mut self, column: Column) -> Option<Date> {
        if let Some(Cell::Date(date)) = self.cells[column.index()] {
            return Some(date);
        }
        let value = self.text(column);
        self.absorb(|e| optional_date(e, column.english(), &value))
    }

    /// The person, or `None` for a vacancy (empty or "N.N."), which has no other data.
    fn person(&mut self) -> Option<PersonFields> {
        let name = self.text(Column::Person);
        let title = self.text(Column::Title);
        let function = self.text(Column::Function);
        let organisation = self.text(Column::Organisation);
        if name.is_empty() || is_vacancy_marker(&name) {
            for (column, value) in [
                (Column::Title, &title),
                (Column::Function, &function),
                (Column::Organisation, &organisation),
            ] {
                if !value.is_empty() {
                    self.problem(
                        Some(column),
                        "Eine Vakanz (keine Person oder „N.N.“) hat keinen Titel, keine Funktion und keine Organisation.",
                    );
                }
            }
            return None;
        }
        let person = self.absorb(|e| {
            PersonInput::parse(&name, &title, &function, &organisation)
                .map_err(|found| e.0.extend(found.0))
                .ok()
        })?;
        Some(PersonFields {
            name: person.name,
            title: person.title,
            function: person.function,
            organisation: person.organisation,
        })
    }
}

/// The conference-level columns must agree on all rows of one conference, or the file
/// would not say which value holds.
#[derive(Default)]
struct ConferenceData {
    seen: HashMap<(Abbreviation, Column), (String, usize)>,
}

impl ConferenceData {
    fn check(&mut self, row: &DirectoryRow, check: &mut RowCheck<'_>) {
        for (column, value) in [
            (Column::ConferenceName, &row.conference_name),
            (Column::LeadStates, &row.lead_states),
            (Column::OfficeContact, &row.office_contact),
        ] {
            let Some(value) = value else { continue };
            match self.seen.entry((row.conference.clone(), column)) {
                Entry::Vacant(entry) => {
                    entry.insert((value.clone(), row.row));
                }
                Entry::Occupied(entry) if entry.get().0 != *value => {
                    let (first, first_row) = entry.get();
                    check.problem(
                        Some(column),
                        format!(
                            "Die Konferenz „{}“ hat in Zeile {first_row} den Wert „{first}“; eine Konferenz braucht in der ganzen Datei dieselben Angaben.",
                            row.conference
                        ),
                    );
                }
                Entry::Occupied(_) => {}
            }
        }
    }
}
