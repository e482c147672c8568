//! Import and export of the conference directory (G1, G2) as CSV and XLSX: the spreadsheet
//! a civil servant keeps in Excel or LibreOffice. One row is one role assignment of one
//! conference.
//!
//! Everything here is a pure function over bytes. Each row is parsed and checked on its
//! own (plus that a conference has the same data on all its rows); whether a conference
//! exists is for the store to decide. An import either yields every row or reports every
//! problem of every row, never a part of the file.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt;
use std::io::Cursor;
use std::str::FromStr;

use calamine::{DataRef, Reader, Xlsx};
use jiff::civil::Date;

use super::directory::{
    Abbreviation, MAX_TEXT, PersonInput, ResolutionNumber, RoleKind, check_period,
    is_vacancy_marker,
};
use crate::export::{BOM, CsvWriter, XlsxWriter, is_formula_like};
use crate::validation::{FieldErrors, optional_date, optional_text, parse_date};

/// Largest file accepted for import.
pub const MAX_FILE_BYTES: usize = 5 * 1024 * 1024;
/// Most data rows accepted in one import.
pub const MAX_ROWS: usize = 10_000;

/// The canonical German headers, in the column order of an export.
pub const HEADERS: [&str; 14] = [
    "Konferenz",
    "Name der Konferenz",
    "Federführung",
    "Geschäftsstelle",
    "Rolle",
    "Person",
    "Titel",
    "Funktion",
    "Organisation",
    "Beginn",
    "Ende",
    "Beschluss",
    "Rechtsgrundlage",
    "Hinweis",
];

/// The English header aliases, in the same order as [`HEADERS`].
const ENGLISH_HEADERS: [&str; 14] = [
    "conference",
    "conference_name",
    "lead_states",
    "office_contact",
    "role",
    "person",
    "title",
    "function",
    "organisation",
    "starts_on",
    "ends_on",
    "resolution",
    "legal_basis",
    "note",
];

/// Column widths of the XLSX export, in characters, in the order of [`HEADERS`].
const XLSX_WIDTHS: [f64; 14] = [
    14.0, 40.0, 24.0, 30.0, 20.0, 28.0, 10.0, 45.0, 40.0, 12.0, 12.0, 11.0, 36.0, 45.0,
];

/// A person holding a role, as read from or written to a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonFields {
    pub name: String,
    pub title: Option<String>,
    pub function: Option<String>,
    pub organisation: Option<String>,
}

/// One row of the directory file: one role assignment of one conference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryRow {
    /// 1-based row number in the file as a spreadsheet shows it (the header is row 1,
    /// first data row is 2).
    pub row: usize,
    pub conference: Abbreviation,
    pub conference_name: Option<String>,
    pub lead_states: Option<String>,
    pub office_contact: Option<String>,
    pub role: RoleKind,
    /// None = vacancy ("N.N." or empty person cell).
    pub person: Option<PersonFields>,
    pub starts_on: Option<Date>,
    pub ends_on: Option<Date>,
    pub appointing_resolution: Option<ResolutionNumber>,
    pub legal_basis: Option<String>,
    pub note: Option<String>,
}

/// One problem found in an imported file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowProblem {
    /// The spreadsheet row (the header is 1); 0 means the file as a whole.
    pub row: usize,
    /// The header as written in the file, or the canonical German header if the column
    /// is missing; `None` when the problem concerns no single column.
    pub column: Option<String>,
    /// What is wrong, in German.
    pub reason: String,
}

/// All problems of an import that was refused.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub problems: Vec<RowProblem>,
}

impl ImportReport {
    /// A report about the file as a whole (row 0).
    fn file(reason: impl Into<String>) -> Self {
        Self {
            problems: vec![RowProblem {
                row: 0,
                column: None,
                reason: reason.into(),
            }],
        }
    }
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            match (p.row, &p.column) {
                (0, _) => write!(f, "Datei: {}", p.reason)?,
                (row, Some(column)) => write!(f, "Zeile {row}, Spalte „{column}“: {}", p.reason)?,
                (row, None) => write!(f, "Zeile {row}: {}", p.reason)?,
            }
        }
        Ok(())
    }
}

impl std::error::Error for ImportReport {}

/// Why an export could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("Die Excel-Datei konnte nicht geschrieben werden: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
}

/// The two file formats of the directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Csv,
    Xlsx,
}

impl FileKind {
    /// By extension (`.csv`, `.xlsx`, any case), else by content: a zip archive is taken
    /// for XLSX, UTF-8 text for CSV.
    pub fn detect(file_name: &str, bytes: &[u8]) -> Option<FileKind> {
        let extension = file_name
            .rsplit_once('.')
            .map(|(_, ext)| ext.to_ascii_lowercase());
        match extension.as_deref() {
            Some("csv") => Some(Self::Csv),
            Some("xlsx") => Some(Self::Xlsx),
            _ if bytes.starts_with(b"PK\x03\x04") => Some(Self::Xlsx),
            _ if std::str::from_utf8(bytes).is_ok() => Some(Self::Csv),
            _ => None,
        }
    }
}

/// Reads a directory file of the given kind.
pub fn parse(kind: FileKind, bytes: &[u8]) -> Result<Vec<DirectoryRow>, ImportReport> {
    match kind {
        FileKind::Csv => parse_csv(bytes),
        FileKind::Xlsx => parse_xlsx(bytes),
    }
}

// ---------------------------------------------------------------------------------------
// Columns and cells
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Column {
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

    fn index(self) -> usize {
        self as usize
    }

    fn german(self) -> &'static str {
        HEADERS[self.index()]
    }

    /// The English alias, also used as the field name when the checks of
    /// [`crate::validation`] report on this column.
    fn english(self) -> &'static str {
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
    fn from_field(field: &str) -> Option<Column> {
        match field {
            "name" => Some(Self::Person),
            "appointing_resolution" => Some(Self::Resolution),
            _ => Self::ALL.into_iter().find(|c| c.english() == field),
        }
    }
}

/// A non-empty cell, trimmed.
#[derive(Debug)]
enum Cell {
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
    fn text(value: &str) -> Option<Cell> {
        let value = value.trim();
        (!value.is_empty()).then(|| Cell::Text(value.chars().take(MAX_TEXT + 1).collect()))
    }

    fn into_text(self) -> String {
        match self {
            Cell::Text(text) | Cell::ExcelError(text) => text,
            Cell::Date(date) => date.to_string(),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Header and rows, shared by CSV and XLSX
// ---------------------------------------------------------------------------------------

/// Where each column stands in the file and what its header says there.
struct Layout {
    positions: HashMap<usize, Column>,
    names: [Option<String>; 14],
}

impl Layout {
    /// Reads the header row; any problem stops the import.
    fn from_header(row: usize, cells: Vec<(usize, Cell)>) -> Result<Layout, ImportReport> {
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

    fn name(&self, column: Column) -> String {
        self.names[column.index()]
            .clone()
            .unwrap_or_else(|| column.german().to_owned())
    }

    fn place(&self, row: usize, cells: Vec<(usize, Cell)>) -> RawRow {
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
struct RawRow {
    row: usize,
    cells: [Option<Cell>; 14],
    /// A value stands in a column without header.
    stray: bool,
}

/// Takes the rows of a file in order: the first non-empty row is the header, the later
/// non-empty ones are data.
#[derive(Default)]
struct Collector {
    layout: Option<Layout>,
    rows: Vec<RawRow>,
}

impl Collector {
    /// `cells` holds the non-empty cells of one row with their 0-based positions.
    fn push(&mut self, row: usize, cells: Vec<(usize, Cell)>) -> Result<(), ImportReport> {
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

    fn finish(self) -> Result<Vec<DirectoryRow>, ImportReport> {
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

fn check_size(bytes: &[u8]) -> Result<(), ImportReport> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(ImportReport::file(format!(
            "Die Datei ist größer als {} MB.",
            MAX_FILE_BYTES / (1024 * 1024)
        )));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// CSV
// ---------------------------------------------------------------------------------------

/// Reads a CSV file: UTF-8 (a BOM is ignored), `,` or `;` as delimiter.
pub fn parse_csv(bytes: &[u8]) -> Result<Vec<DirectoryRow>, ImportReport> {
    let mut collector = Collector::default();
    read_csv(bytes, &mut |row, cells| collector.push(row, cells))?;
    collector.finish()
}

/// What takes the rows of a file in order: the spreadsheet row number and its non-empty
/// cells with their 0-based positions.
type RowSink<'a> = dyn FnMut(usize, Vec<(usize, Cell)>) -> Result<(), ImportReport> + 'a;

fn read_csv(bytes: &[u8], sink: &mut RowSink<'_>) -> Result<(), ImportReport> {
    check_size(bytes)?;
    let bytes = bytes.strip_prefix(BOM.as_bytes()).unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        ImportReport::file(format!(
            "Die Datei ist nicht in UTF-8 kodiert (erstes fremdes Zeichen in Zeile {line}). \
             Bitte in Excel als „CSV UTF-8 (durch Trennzeichen getrennt)“ speichern."
        ))
    })?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(sniff_delimiter(text))
        .from_reader(text.as_bytes());
    let mut record = csv::StringRecord::new();
    let mut row = 0;
    loop {
        let line_before = reader.position().line();
        let more = reader
            .read_record(&mut record)
            .map_err(|e| ImportReport::file(format!("Die CSV-Datei ist nicht lesbar: {e}")))?;
        if !more {
            break;
        }
        row += 1 + blank_lines_before(
            &record,
            reader.position().line().saturating_sub(line_before),
        );
        let cells = record
            .iter()
            .enumerate()
            .filter_map(|(position, field)| csv_cell(field).map(|cell| (position, cell)))
            .collect();
        sink(row, cells)?;
    }
    Ok(())
}

/// German Excel writes `;`, everything else `,`: whichever the header line has more of.
fn sniff_delimiter(text: &str) -> u8 {
    let header = text.lines().next().unwrap_or_default();
    let count = |c| header.matches(c).count();
    if count(';') > count(',') { b';' } else { b',' }
}

fn csv_cell(field: &str) -> Option<Cell> {
    let field = field.trim();
    let field = match field.strip_prefix('\'') {
        // The export defuses formula-like cells with an apostrophe; taken away again.
        Some(rest) if is_formula_like(rest) => rest,
        _ => field,
    };
    Cell::text(field)
}

/// The csv crate skips blank lines, which a spreadsheet shows as empty rows; they are
/// counted here so that row numbers match the spreadsheet. `lines_read` is how many lines
/// reading the record took, of which its own are one plus the line breaks inside quotes.
fn blank_lines_before(record: &csv::StringRecord, lines_read: u64) -> usize {
    let own_lines = 1 + record
        .iter()
        .map(|f| f.matches('\n').count())
        .sum::<usize>();
    usize::try_from(lines_read)
        .unwrap_or(usize::MAX)
        .saturating_sub(own_lines)
}

/// Writes a CSV file: `,`-separated, UTF-8 with a BOM so that Excel shows umlauts,
/// dates as `YYYY-MM-DD`, a vacancy as "N.N.", formula-like cells defused
/// ([`crate::export`]).
pub fn write_csv(rows: &[DirectoryRow]) -> Vec<u8> {
    let mut w = CsvWriter::new(HEADERS);
    for row in rows {
        w.row(
            export_cells(row)
                .into_iter()
                .map(|cell| cell.map(Cell::into_text).unwrap_or_default()),
        );
    }
    w.finish()
}

/// The cells of a row in the column order of [`HEADERS`].
fn export_cells(row: &DirectoryRow) -> [Option<Cell>; 14] {
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

// ---------------------------------------------------------------------------------------
// XLSX
// ---------------------------------------------------------------------------------------

/// Reads the first worksheet of an XLSX workbook. Dates may be date cells or text.
pub fn parse_xlsx(bytes: &[u8]) -> Result<Vec<DirectoryRow>, ImportReport> {
    let mut collector = Collector::default();
    read_xlsx_guarded(bytes, &mut |row, cells| collector.push(row, cells))?;
    collector.finish()
}

fn read_xlsx_guarded(bytes: &[u8], sink: &mut RowSink<'_>) -> Result<(), ImportReport> {
    // calamine indexes shared strings without a bounds check: a cell naming a string the
    // file does not have panics inside it. Such a file is unreadable, not a crash (the
    // rows taken before the panic are thrown away with the error).
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read_xlsx(bytes, sink)))
        .unwrap_or_else(|_| {
            Err(ImportReport::file(
                "Die Datei ist keine lesbare Excel-Arbeitsmappe (.xlsx).",
            ))
        })
}

fn read_xlsx(bytes: &[u8], sink: &mut RowSink<'_>) -> Result<(), ImportReport> {
    check_size(bytes)?;
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(unreadable_xlsx)?;
    let Some(sheet) = workbook.sheet_names().into_iter().next() else {
        return Err(ImportReport::file(
            "Die Arbeitsmappe enthält kein Tabellenblatt.",
        ));
    };
    // The cell reader streams the sheet; a whole `Range` would be allocated from the
    // sheet's stated dimensions, which a small file can make enormous.
    let mut cells = workbook
        .worksheet_cells_reader(&sheet)
        .map_err(unreadable_xlsx)?;
    let mut current: Option<(u32, Vec<(usize, Cell)>)> = None;
    while let Some(cell) = cells.next_cell().map_err(unreadable_xlsx)? {
        let (row, position) = cell.get_position();
        let Some(value) = xlsx_cell(cell.get_value()) else {
            continue;
        };
        let position = position as usize;
        match &mut current {
            Some((current_row, values)) if *current_row == row => values.push((position, value)),
            _ => {
                if let Some((done, values)) = current.replace((row, vec![(position, value)])) {
                    sink(done as usize + 1, values)?;
                }
            }
        }
    }
    if let Some((done, values)) = current {
        sink(done as usize + 1, values)?;
    }
    Ok(())
}

fn unreadable_xlsx(error: calamine::XlsxError) -> ImportReport {
    match error {
        calamine::XlsxError::Password => {
            ImportReport::file("Die Arbeitsmappe ist mit einem Passwort geschützt.")
        }
        other => ImportReport::file(format!(
            "Die Datei ist keine lesbare Excel-Arbeitsmappe (.xlsx): {other}"
        )),
    }
}

fn xlsx_cell(value: &DataRef<'_>) -> Option<Cell> {
    match value {
        DataRef::Empty => None,
        DataRef::String(s) | DataRef::DurationIso(s) => Cell::text(s),
        DataRef::SharedString(s) => Cell::text(s),
        DataRef::Int(i) => Cell::text(&i.to_string()),
        DataRef::Float(f) => Cell::text(&number_text(*f)),
        DataRef::Bool(b) => Cell::text(if *b { "WAHR" } else { "FALSCH" }),
        DataRef::DateTime(dt) => match excel_date(dt) {
            Some(date) => Some(Cell::Date(date)),
            None => Cell::text(&number_text(dt.as_f64())),
        },
        DataRef::DateTimeIso(s) => match s.get(..10).and_then(parse_date) {
            Some(date) => Some(Cell::Date(date)),
            None => Cell::text(s),
        },
        DataRef::Error(e) => Some(Cell::ExcelError(e.to_string())),
    }
}

/// Whole numbers without ".0", as a spreadsheet shows them.
fn number_text(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        value.to_string()
    }
}

/// The calendar day of an Excel serial date. calamine does the arithmetic (days since
/// 1899-12-30, the 1900 leap-year bug, and the 1904 date system of old Mac workbooks,
/// whose flag it keeps private); jiff checks the result. Time of day is dropped.
fn excel_date(value: &calamine::ExcelDateTime) -> Option<Date> {
    // Excel's dates end at 9999-12-31 (serial 2 958 465); the range also keeps
    // calamine's unchecked arithmetic away from overflow.
    if !value.is_datetime() || !(1.0..2_958_466.0).contains(&value.as_f64()) {
        return None;
    }
    let (year, month, day, ..) = value.to_ymd_hms_milli();
    let month = i8::try_from(month).ok()?;
    let day = i8::try_from(day).ok()?;
    Date::new(i16::try_from(year).ok()?, month, day).ok()
}

/// Writes an XLSX workbook: the same columns as [`write_csv`], the header bold and
/// frozen with a filter, dates as real date cells shown `dd.mm.yyyy`.
pub fn write_xlsx(rows: &[DirectoryRow]) -> Result<Vec<u8>, ExportError> {
    let headers: Vec<(&str, f64)> = HEADERS.into_iter().zip(XLSX_WIDTHS).collect();
    let mut w = XlsxWriter::new("Verzeichnis", &headers)?;
    for (row_number, row) in (1u32..).zip(rows) {
        for (col, cell) in (0u16..).zip(export_cells(row)) {
            match cell {
                None => {}
                Some(Cell::Date(date)) => w.date(row_number, col, date)?,
                Some(cell) => w.text(row_number, col, &cell.into_text())?,
            }
        }
    }
    Ok(w.finish()?)
}

// ---------------------------------------------------------------------------------------
// Any table: the same readers for other lists (bulk invitations)
// ---------------------------------------------------------------------------------------

/// One non-empty row of a sheet: its spreadsheet row number (blank rows counted) and its
/// non-empty cells as trimmed text with their 0-based positions. A date cell reads as
/// `YYYY-MM-DD`, an Excel error value as its text (`#DIV/0!`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SheetRow {
    pub row: usize,
    pub cells: Vec<(usize, String)>,
}

/// Reads the non-empty rows of a CSV file or of an XLSX workbook's first sheet, with
/// the checks of the directory import (size, UTF-8, damaged files); the first row is
/// the header, and more than `max_rows` rows after it refuse the file.
pub fn read_sheet(
    kind: FileKind,
    bytes: &[u8],
    max_rows: usize,
) -> Result<Vec<SheetRow>, ImportReport> {
    let mut rows: Vec<SheetRow> = Vec::new();
    let mut sink = |row, cells: Vec<(usize, Cell)>| {
        if cells.is_empty() {
            return Ok(());
        }
        if rows.len() > max_rows {
            return Err(too_many_rows(max_rows));
        }
        rows.push(SheetRow {
            row,
            cells: cells
                .into_iter()
                .map(|(position, cell)| (position, cell.into_text()))
                .collect(),
        });
        Ok(())
    };
    match kind {
        FileKind::Csv => read_csv(bytes, &mut sink)?,
        FileKind::Xlsx => read_xlsx_guarded(bytes, &mut sink)?,
    }
    Ok(rows)
}

fn too_many_rows(max_rows: usize) -> ImportReport {
    ImportReport::file(format!(
        "Die Datei hat mehr als {max_rows} Datenzeilen. Bitte in mehrere Dateien aufteilen."
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn abbreviation(value: &str) -> Abbreviation {
        Abbreviation::parse(value).expect("valid abbreviation")
    }

    fn sample_rows() -> Vec<DirectoryRow> {
        vec![
            DirectoryRow {
                row: 2,
                conference: abbreviation("DMK"),
                conference_name: Some("Digitalministerkonferenz".to_owned()),
                lead_states: Some("Berlin & Bund (Vorsitz IT-PLR)".to_owned()),
                office_contact: Some("+49 30 9026-0, \"Geschäftsstelle\"".to_owned()),
                role: RoleKind::Spokesperson,
                person: Some(PersonFields {
                    name: "Martina Klement".to_owned(),
                    title: Some("Dr.".to_owned()),
                    function: Some(
                        "CDO des Landes Berlin und Staatssekretärin für Digitalisierung".to_owned(),
                    ),
                    organisation: Some("Senatskanzlei Berlin".to_owned()),
                }),
                starts_on: Some(date(2022, 6, 29)),
                ends_on: Some(date(2025, 12, 31)),
                appointing_resolution: Some(
                    ResolutionNumber::parse("2022/43").expect("valid resolution"),
                ),
                legal_basis: Some("Beschluss 2022/43; IT-Staatsvertrag § 1 Abs. 2".to_owned()),
                note: Some("Zeile eins\nZeile zwei; mit Semikolon".to_owned()),
            },
            DirectoryRow {
                row: 3,
                conference: abbreviation("E-Justice-Rat"),
                conference_name: None,
                lead_states: None,
                office_contact: None,
                role: RoleKind::Spokesperson,
                person: None,
                starts_on: None,
                ends_on: None,
                appointing_resolution: None,
                legal_basis: None,
                note: Some("Neubesetzung zur 44. IT-PLR-Sitzung geplant".to_owned()),
            },
            DirectoryRow {
                row: 4,
                conference: abbreviation("VMK"),
                conference_name: Some("Verkehrsministerkonferenz".to_owned()),
                lead_states: Some("Hessen".to_owned()),
                office_contact: None,
                role: RoleKind::Contact,
                person: Some(PersonFields {
                    name: "Jörg Müller-Übel".to_owned(),
                    title: None,
                    function: Some("=Referent".to_owned()),
                    organisation: None,
                }),
                starts_on: Some(date(2024, 3, 20)),
                ends_on: None,
                appointing_resolution: Some(
                    ResolutionNumber::parse("2023/7").expect("valid resolution"),
                ),
                legal_basis: None,
                note: None,
            },
        ]
    }

    fn problems(result: Result<Vec<DirectoryRow>, ImportReport>) -> Vec<(usize, Option<String>)> {
        result
            .expect_err("import must be refused")
            .problems
            .into_iter()
            .map(|p| (p.row, p.column))
            .collect()
    }

    fn at(row: usize, column: &str) -> (usize, Option<String>) {
        (row, Some(column.to_owned()))
    }

    fn csv(text: &str) -> Result<Vec<DirectoryRow>, ImportReport> {
        parse_csv(text.as_bytes())
    }

    #[test]
    fn rows_survive_a_round_trip_through_csv() {
        let rows = sample_rows();
        let parsed = parse_csv(&write_csv(&rows)).expect("own export must be readable");
        assert_eq!(parsed, rows);
    }

    #[test]
    fn rows_survive_a_round_trip_through_xlsx() {
        let rows = sample_rows();
        let bytes = write_xlsx(&rows).expect("export");
        let parsed = parse_xlsx(&bytes).expect("own export must be readable");
        assert_eq!(parsed, rows);
    }

    #[test]
    fn the_csv_export_has_a_bom_german_headers_and_german_roles() {
        let bytes = write_csv(&sample_rows());
        let text = String::from_utf8(bytes).expect("utf-8");
        assert!(text.starts_with("\u{feff}Konferenz,Name der Konferenz,Federführung,"));
        assert!(text.contains("E-Justice-Rat,,,,Sprecher:in,N.N.,"));
        assert!(text.contains(",2022-06-29,2025-12-31,2022/43,"));
        assert!(
            text.contains(",'=Referent,"),
            "formula-like cells are defused"
        );
    }

    #[test]
    fn a_semicolon_csv_with_german_headers_and_german_dates_is_read() {
        let rows = csv(
            "Konferenz;Rolle;Person;Funktion;Beginn;Ende;Beschluss\n\
             IMK;Sprecher:in;Stephan Manke;StS im Ministerium für Inneres, Bau;20.03.2024;31.12.2026;Beschluss 2022/43\n",
        )
        .expect("valid");
        assert_eq!(rows.len(), 1);
        let row = &rows[0];
        assert_eq!(row.row, 2);
        assert_eq!(row.conference.as_str(), "IMK");
        assert_eq!(row.role, RoleKind::Spokesperson);
        let person = row.person.as_ref().expect("a person");
        assert_eq!(
            person.function.as_deref(),
            Some("StS im Ministerium für Inneres, Bau")
        );
        assert_eq!(row.starts_on, Some(date(2024, 3, 20)));
        assert_eq!(row.ends_on, Some(date(2026, 12, 31)));
        assert_eq!(
            row.appointing_resolution.map(|r| r.to_string()).as_deref(),
            Some("2022/43")
        );
    }

    #[test]
    fn english_headers_are_accepted_in_any_order_and_case() {
        let rows = csv(" Role ,CONFERENCE,person,starts_on,note\n\
             contact,UMK,Dirk Schrödter,2024-01-15,  Hinweis mit Leerzeichen  \n")
        .expect("valid");
        assert_eq!(rows[0].conference.as_str(), "UMK");
        assert_eq!(rows[0].role, RoleKind::Contact);
        assert_eq!(rows[0].starts_on, Some(date(2024, 1, 15)));
        assert_eq!(rows[0].note.as_deref(), Some("Hinweis mit Leerzeichen"));
    }

    #[test]
    fn a_missing_role_column_is_reported_on_row_one() {
        let found = problems(csv("Konferenz,Person\nDMK,Markus Richter\n"));
        assert_eq!(found, vec![at(1, "Rolle")]);
    }

    #[test]
    fn an_unknown_column_stops_the_import_at_the_header() {
        let found = problems(csv("Konferenz,Rolle,Telefon\nDMK,Vorsitz,030\n"));
        assert_eq!(
            found,
            vec![at(1, "Telefon")],
            "the bad role of row 2 is not checked"
        );
    }

    #[test]
    fn a_duplicate_column_is_reported_on_row_one() {
        let found = problems(csv("Konferenz,Rolle,role\nDMK,contact,contact\n"));
        assert_eq!(found, vec![at(1, "role")]);
    }

    #[test]
    fn an_unknown_role_is_reported_with_row_and_column() {
        let found = problems(csv("Konferenz,Rolle\nDMK,contact\nDMK,Vorsitz\n"));
        assert_eq!(found, vec![at(3, "Rolle")]);
    }

    #[test]
    fn a_bad_date_is_reported_with_row_and_column() {
        let found = problems(csv("Konferenz,Rolle,Beginn\nDMK,contact,31.02.2024\n"));
        assert_eq!(found, vec![at(2, "Beginn")]);
    }

    #[test]
    fn an_end_before_the_start_is_reported_on_the_end_column() {
        let result = csv("conference,role,starts_on,Ende\nDMK,contact,2024-05-01,30.04.2024\n");
        let report = result.expect_err("refused");
        assert_eq!(report.problems.len(), 1);
        assert_eq!(
            report.to_string(),
            "Zeile 2, Spalte „Ende“: Das Ende liegt vor dem Beginn."
        );
    }

    #[test]
    fn a_bad_resolution_number_is_reported_with_row_and_column() {
        let found = problems(csv("Konferenz,Rolle,Beschluss\nDMK,contact,43/2022\n"));
        assert_eq!(found, vec![at(2, "Beschluss")]);
    }

    #[test]
    fn all_problems_of_all_rows_are_reported_together() {
        let found = problems(csv("Konferenz,Rolle,Person,Titel,Beginn,Beschluss\n\
             DMK,Sprecher:in,Markus Richter,,2024-01-01,2022/43\n\
             a b,,Markus Richter,,,\n\
             IMK,Vorsitz,,,gestern,2022\n\
             ,,,\n\
             GMK,contact,N.N.,Dr.,,\n"));
        assert_eq!(
            found,
            vec![
                at(3, "Konferenz"),
                at(3, "Rolle"),
                at(4, "Rolle"),
                at(4, "Beginn"),
                at(4, "Beschluss"),
                at(6, "Titel"),
            ]
        );
    }

    #[test]
    fn nn_and_an_empty_person_are_read_as_vacancies() {
        let rows = csv("Konferenz,Rolle,Person\nVMK,Sprecher:in,N.N.\nJuMiKo,Sprecher:in,\n")
            .expect("valid");
        assert_eq!(rows.len(), 2);
        assert!(rows.iter().all(|r| r.person.is_none()));
    }

    #[test]
    fn a_vacancy_with_a_function_is_refused() {
        let found = problems(csv(
            "Konferenz,Rolle,Person,Funktion\nVMK,contact,n.n.,StS\n",
        ));
        assert_eq!(found, vec![at(2, "Funktion")]);
    }

    #[test]
    fn too_long_text_is_refused() {
        let long = "x".repeat(MAX_TEXT + 1);
        let found = problems(csv(&format!(
            "Konferenz,Rolle,Hinweis\nDMK,contact,{long}\n"
        )));
        assert_eq!(found, vec![at(2, "Hinweis")]);
    }

    #[test]
    fn one_conference_with_two_names_is_reported() {
        let found = problems(csv("Konferenz,Name der Konferenz,Rolle\n\
             DMK,Digitalministerkonferenz,contact\n\
             DMK,,rapporteur\n\
             DMK,Digitalministerrunde,spokesperson\n"));
        assert_eq!(found, vec![at(4, "Name der Konferenz")]);
    }

    #[test]
    fn a_value_in_a_column_without_header_is_reported() {
        let report = csv("Konferenz,Rolle\nDMK,contact,übrig\n").expect_err("refused");
        assert_eq!(report.problems.len(), 1);
        assert_eq!(report.problems[0].row, 2);
        assert_eq!(report.problems[0].column, None);
    }

    #[test]
    fn a_byte_order_mark_is_ignored() {
        let rows = csv("\u{feff}Konferenz;Rolle\nDMK;contact\n").expect("valid");
        assert_eq!(rows[0].conference.as_str(), "DMK");
    }

    #[test]
    fn row_numbers_count_blank_lines_and_not_lines_inside_quotes() {
        let text = "Konferenz,Rolle,Hinweis\n\
                    DMK,contact,\"zwei\nZeilen\"\n\
                    \n\
                    DMK,Vorsitz,\n";
        assert_eq!(problems(csv(text)), vec![at(4, "Rolle")]);
        let windows = text.replace('\n', "\r\n");
        assert_eq!(problems(csv(&windows)), vec![at(4, "Rolle")]);
    }

    #[test]
    fn a_csv_that_is_not_utf8_is_refused_with_advice() {
        let report =
            parse_csv(b"Konferenz;Rolle\nUMK;Ansprechpartner\xfcn\n").expect_err("refused");
        assert_eq!(report.problems.len(), 1);
        assert_eq!(report.problems[0].row, 0);
        assert!(report.problems[0].reason.contains("Zeile 2"));
        assert!(report.to_string().contains("CSV UTF-8"));
    }

    #[test]
    fn too_many_rows_are_refused() {
        let mut text = String::from("Konferenz,Rolle\n");
        for _ in 0..=MAX_ROWS {
            text.push_str("DMK,contact\n");
        }
        let report = csv(&text).expect_err("refused");
        assert_eq!(report.problems.len(), 1);
        assert_eq!(report.problems[0].row, 0);
        text.truncate(text.len() - "DMK,contact\n".len());
        assert_eq!(csv(&text).expect("exactly the limit").len(), MAX_ROWS);
    }

    #[test]
    fn too_large_files_are_refused() {
        let bytes = vec![b'a'; MAX_FILE_BYTES + 1];
        assert_eq!(problems(parse_csv(&bytes)), vec![(0, None)]);
        assert_eq!(problems(parse_xlsx(&bytes)), vec![(0, None)]);
    }

    #[test]
    fn an_empty_file_gives_no_rows() {
        assert_eq!(csv(""), Ok(Vec::new()));
        assert_eq!(csv("Konferenz,Rolle\n"), Ok(Vec::new()));
    }

    #[test]
    fn garbage_bytes_as_xlsx_give_a_problem_not_a_panic() {
        for garbage in [
            &b""[..],
            b"PK\x03\x04",
            b"Konferenz,Rolle\nDMK,contact\n",
            &[0xff; 300],
        ] {
            assert_eq!(problems(parse_xlsx(garbage)), vec![(0, None)]);
        }
        // Damaged copies of a real workbook: any result is fine, a panic is not.
        let good = write_xlsx(&sample_rows()).expect("export");
        for i in (0..good.len()).step_by(37) {
            let mut bad = good.clone();
            bad[i] ^= 0x5a;
            let _ = parse_xlsx(&bad);
            let _ = parse_xlsx(&good[..i]);
        }
    }

    #[test]
    fn xlsx_date_cells_and_text_dates_are_both_read() {
        use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
        let mut workbook = Workbook::new();
        let sheet = workbook.add_worksheet();
        let date_format = Format::new().set_num_format("yyyy-mm-dd hh:mm");
        for (col, header) in (0u16..).zip(["Konferenz", "Rolle", "Beginn", "Ende", "Beschluss"]) {
            sheet.write_string(0, col, header).expect("write");
        }
        sheet.write_string(1, 0, "KMK").expect("write");
        sheet
            .write_string(1, 1, "Ansprechpartner:in")
            .expect("write");
        let start = ExcelDateTime::parse_from_str("2024-03-20 14:30:00").expect("datetime");
        sheet
            .write_datetime_with_format(1, 2, start, &date_format)
            .expect("write");
        sheet.write_string(1, 3, "31.12.2025").expect("write");
        sheet.write_number(1, 4, 2022.0).expect("write");
        let bytes = workbook.save_to_buffer().expect("save");

        let found = problems(parse_xlsx(&bytes));
        assert_eq!(
            found,
            vec![at(2, "Beschluss")],
            "2022 is no resolution number"
        );

        let mut workbook = Workbook::new();
        let sheet = workbook.add_worksheet();
        for (col, header) in (0u16..).zip(["Konferenz", "Rolle", "Beginn", "Ende"]) {
            sheet.write_string(0, col, header).expect("write");
        }
        sheet.write_string(1, 0, "KMK").expect("write");
        sheet.write_string(1, 1, "contact").expect("write");
        let start = ExcelDateTime::parse_from_str("2024-03-20 14:30:00").expect("datetime");
        sheet
            .write_datetime_with_format(1, 2, start, &date_format)
            .expect("write");
        sheet.write_string(1, 3, "31.12.2025").expect("write");
        let rows = parse_xlsx(&workbook.save_to_buffer().expect("save")).expect("valid");
        assert_eq!(rows[0].starts_on, Some(date(2024, 3, 20)));
        assert_eq!(rows[0].ends_on, Some(date(2025, 12, 31)));
    }

    #[test]
    fn excel_serial_dates_count_days_from_1899_12_30() {
        use calamine::{ExcelDateTime, ExcelDateTimeType};
        let epoch = date(1899, 12, 30);
        let serial = |value: f64| ExcelDateTime::new(value, ExcelDateTimeType::DateTime, false);
        // From 1900-03-01 (serial 61) on; before it Excel counts a 29 February 1900.
        for days in (61..=2_958_465).step_by(997).chain([2_958_465]) {
            let expected = epoch.checked_add(jiff::Span::new().days(days)).ok();
            assert_eq!(
                excel_date(&serial(days as f64 + 0.75)),
                expected,
                "serial {days}"
            );
        }
        assert_eq!(excel_date(&serial(45_371.0)), Some(date(2024, 3, 20)));
        for bad in [-1.0, 0.0, 60.0, 2_958_466.0, f64::NAN, f64::INFINITY, 1e300] {
            assert_eq!(excel_date(&serial(bad)), None, "serial {bad}");
        }
    }

    #[test]
    fn xlsx_problems_name_the_sheet_row() {
        use rust_xlsxwriter::Workbook;
        let mut workbook = Workbook::new();
        let sheet = workbook.add_worksheet();
        sheet.write_string(2, 1, "Konferenz").expect("write");
        sheet.write_string(2, 2, "Rolle").expect("write");
        sheet.write_string(3, 1, "DMK").expect("write");
        sheet.write_string(3, 2, "Sprecher:in").expect("write");
        sheet.write_string(5, 1, "DMK").expect("write");
        sheet.write_string(5, 2, "Vorsitz").expect("write");
        let found = problems(parse_xlsx(&workbook.save_to_buffer().expect("save")));
        assert_eq!(found, vec![at(6, "Rolle")]);
    }

    #[test]
    fn file_kind_is_detected_by_extension_then_by_content() {
        assert_eq!(
            FileKind::detect("Verzeichnis.CSV", b"PK\x03\x04"),
            Some(FileKind::Csv)
        );
        assert_eq!(
            FileKind::detect("verzeichnis.xlsx", b""),
            Some(FileKind::Xlsx)
        );
        assert_eq!(
            FileKind::detect("upload", b"PK\x03\x04rest"),
            Some(FileKind::Xlsx)
        );
        assert_eq!(
            FileKind::detect("upload.txt", "Konferenz;Rolle".as_bytes()),
            Some(FileKind::Csv)
        );
        assert_eq!(FileKind::detect("upload", &[0xff, 0xfe, 0x00]), None);
    }

    #[test]
    fn the_report_has_one_line_per_problem() {
        let report = ImportReport {
            problems: vec![
                RowProblem {
                    row: 0,
                    column: None,
                    reason: "Zu groß.".to_owned(),
                },
                RowProblem {
                    row: 4,
                    column: Some("Ende".to_owned()),
                    reason: "Das Ende liegt vor dem Beginn.".to_owned(),
                },
                RowProblem {
                    row: 5,
                    column: None,
                    reason: "Fehler.".to_owned(),
                },
            ],
        };
        assert_eq!(
            report.to_string(),
            "Datei: Zu groß.\nZeile 4, Spalte „Ende“: Das Ende liegt vor dem Beginn.\nZeile 5: Fehler."
        );
    }
}
