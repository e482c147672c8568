//! The columns of the directory file and its non-empty cells: where each column stands
//! in a file (its header, German or English, in any order), a data row sorted into
//! columns, and a row's cells for an export.

use std::collections::HashMap;

use jiff::civil::Date;

use super::{DirectoryRow, ENGLISH_HEADERS, HEADERS, ImportReport, RowProblem};
use crate::gremien::directory::MAX_TEXT;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Column {
    Conference,
    ConferenceName,
    LeadStates,
    OfficeContact,
    Role,
    Person,
    Title,
    Function,
    Organisation,
    StartsOn,
    EndsOn,
    Resolution,
    LegalBasis,
    Note,
}

impl Column {
    const ALL: [Column; 14] = [
        Self::Conference,
        Self::ConferenceName,
        Self::LeadStates,
        Self::OfficeContact,
        Self::Role,
        Self::Person,
        Self::Title,
        Self::Function,
        Self::Organisation,
        Self::StartsOn,
        Self::EndsOn,
        Self::Resolution,
        Self::LegalBasis,
        Self::Note,
    ];
    const REQUIRED: [Column; 2] = [Self::Conference, Self::Role];

    pub(super) fn index(self) -> usize {
        self as usize
    }

    fn german(self) -> &'static str {
        HEADERS[self.index()]
    }

    /// The English alias, also used as the field name when the checks of
    /// [`crate::validation`] report on this column.
    pub(super) fn english(self) -> &'static str {
        ENGLISH_HEADERS[self.index()]
    }

    fn from_header(header: &str) -> Option<Column> {
        let header = header.trim().to_lowercase();
        Self::ALL
            .into_iter()
            .find(|c| header == c.german().to_lowercase() || header == c.english())
    }

    /// The column a [`FieldErrors`] field stands for (see [`Column::english`]);
    /// `PersonInput` calls the person's name `name`, `check_period` the end `ends_on`.
    pub(super) fn from_field(field: &str) -> Option<Column> {
        match field {
            "name" => Some(Self::Person),
            "appointing_resolution" => Some(Self::Resolution),
            _ => Self::ALL.into_iter().find(|c| c.english() == field),
        }
    }
}

/// A non-empty cell, trimmed.
#[derive(Debug)]
pub(super) enum Cell {
    Text(String),
    /// A real date cell of a spreadsheet (or a date to export).
    Date(Date),
    /// An Excel error value such as `#DIV/0!`.
    ExcelError(String),
}

impl Cell {
    /// A text cell, `None` if blank. Text is cut after `MAX_TEXT + 1` characters: that is
    /// enough to report it as too long, and bounds the memory a file can make us use
    /// (one long shared string may be referenced by every cell of a workbook).
    pub(super) fn text(value: &str) -> Option<Cell> {
        let value = value.trim();
        (!value.is_empty()).then(|| Cell::Text(value.chars().take(MAX_TEXT + 1).collect()))
    }

    pub(super) fn into_text(self) -> String {
        match self {
            Cell::Text(text) | Cell::ExcelError(text) => text,
            Cell::Date(date) => date.to_string(),
        }
    }
}

/// What takes the rows of a file in order: the spreadsheet row number and its non-empty
/// cells with their 0-based positions.
pub(super) type RowSink<'a> = dyn FnMut(usize, Vec<(usize, Cell)>) -> Result<(), ImportReport> + 'a;

/// Where each column stands in the file and what its header says there.
pub(super) struct Layout {
    positions: HashMap<usize, Column>,
    names: [Option<String>; 14],
}

impl Layout {
    /// Reads the header row; any problem stops the import.
    pub(super) fn from_header(
        row: usize,
        cells: Vec<(usize, Cell)>,
    ) -> Result<Layout, ImportReport> {
        let mut layout = Layout {
            positions: HashMap::new(),
            names: Default::default(),
        };
        let mut problems = Vec::new();
        let mut problem = |column: &str, reason: String| {
            problems.push(RowProblem {
                row,
                column: Some(column.to_owned()),
                reason,
            });
        };
        for (position, cell) in cells {
            let header = cell.into_text();
            match Column::from_header(&header) {
                None => problem(&header, format!("Unbekannte Spalte „{header}“.")),
                Some(column) if layout.names[column.index()].is_some() => problem(
                    &header,
                    format!("Die Spalte „{}“ kommt mehrfach vor.", column.german()),
                ),
                Some(column) => {
                    layout.positions.insert(position, column);
                    layout.names[column.index()] = Some(header);
                }
            }
        }
        for column in Column::REQUIRED {
            if layout.names[column.index()].is_none() {
                problem(
                    column.german(),
                    format!("Die Pflichtspalte „{}“ fehlt.", column.german()),
                );
            }
        }
        if problems.is_empty() {
            Ok(layout)
        } else {
            Err(ImportReport { problems })
        }
    }

    pub(super) fn name(&self, column: Column) -> String {
        self.names[column.index()]
            .clone()
            .unwrap_or_else(|| column.german().to_owned())
    }

    pub(super) fn place(&self, row: usize, cells: Vec<(usize, Cell)>) -> RawRow {
        let mut raw = RawRow {
            row,
            cells: Default::default(),
            stray: false,
        };
        for (position, cell) in cells {
            match self.positions.get(&position) {
                Some(column) => raw.cells[column.index()] = Some(cell),
                None => raw.stray = true,
            }
        }
        raw
    }
}

/// A data row sorted into columns, not yet checked.
pub(super) struct RawRow {
    pub(super) row: usize,
    pub(super) cells: [Option<Cell>; 14],
    /// A value stands in a column without header.
    pub(super) stray: bool,
}

/// The cells of a row in the column order of [`HEADERS`].
pub(super) fn export_cells(row: &DirectoryRow) -> [Option<Cell>; 14] {
    let text = |value: &Option<String>| value.as_deref().and_then(Cell::text);
    let person = row.person.as_ref();
    [
        Cell::text(row.conference.as_str()),
        text(&row.conference_name),
        text(&row.lead_states),
        text(&row.office_contact),
        Cell::text(row.role.german()),
        Cell::text(person.map_or("N.N.", |p| p.name.as_str())),
        person.and_then(|p| text(&p.title)),
        person.and_then(|p| text(&p.function)),
        person.and_then(|p| text(&p.organisation)),
        row.starts_on.map(Cell::Date),
        row.ends_on.map(Cell::Date),
        row.appointing_resolution
            .and_then(|r| Cell::text(&r.to_string())),
        text(&row.legal_basis),
        text(&row.note),
    ]
}
