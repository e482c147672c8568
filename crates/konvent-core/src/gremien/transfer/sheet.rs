//! Any table: the readers of the directory import for other lists (bulk invitations).

use super::columns::Cell;
use super::csv_file::read_csv;
use super::xlsx_file::read_xlsx_guarded;
use super::{FileKind, ImportReport, too_many_rows};

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
