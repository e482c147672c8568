//! The one writer for every spreadsheet export, CSV and XLSX. Organizers open these files
//! in Excel or LibreOffice, and a cell that starts like a formula (`=HYPERLINK(…)`, `+…`,
//! `-…`, `@…`, a tab or a carriage return) would run as one ("CSV injection"). Every text
//! cell goes through this module, which defuses such cells in one place:
//!
//! - CSV: an apostrophe is put before the cell, as a spreadsheet does when one types
//!   `'=…`; the directory import takes it away again.
//! - XLSX: text is always written as a text cell (never a formula) and such a cell gets
//!   Excel's "quote prefix" style, so that editing it does not turn it into a formula
//!   either; the text itself stays exact.

use std::borrow::Cow;

use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, Worksheet, XlsxError};

/// Starts of a cell that a spreadsheet would run as a formula.
pub const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// The byte order mark that makes Excel read a CSV file as UTF-8 (umlauts).
pub const BOM: &str = "\u{feff}";

/// Whether a spreadsheet would take `text` for a formula.
pub fn is_formula_like(text: &str) -> bool {
    text.starts_with(FORMULA_STARTS)
}

/// `text` as a CSV cell that a spreadsheet shows as text, never runs.
pub fn defuse(text: &str) -> Cow<'_, str> {
    if is_formula_like(text) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// A CSV file: `,`-separated, CRLF line ends, UTF-8 with a BOM, every cell defused.
pub struct CsvWriter {
    out: String,
}

impl CsvWriter {
    /// A file with its header line.
    pub fn new<S: AsRef<str>>(headers: impl IntoIterator<Item = S>) -> Self {
        let mut writer = Self {
            out: String::from(BOM),
        };
        writer.row(headers);
        writer
    }

    /// Appends one line.
    pub fn row<S: AsRef<str>>(&mut self, cells: impl IntoIterator<Item = S>) {
        for (i, cell) in cells.into_iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            let cell = defuse(cell.as_ref());
            if cell.contains([',', ';', '"', '\n', '\r']) {
                self.out.push('"');
                self.out.push_str(&cell.replace('"', "\"\""));
                self.out.push('"');
            } else {
                self.out.push_str(&cell);
            }
        }
        self.out.push_str("\r\n");
    }

    pub fn finish(self) -> Vec<u8> {
        self.out.into_bytes()
    }
}

/// An XLSX workbook with one worksheet: a bold, frozen header line with a filter, text
/// cells written as text (quote-prefixed where they look like formulas) and dates as
/// real date cells shown `dd.mm.yyyy`.
pub struct XlsxWriter {
    sheet: Worksheet,
    columns: u16,
    last_row: u32,
    date_format: Format,
    quoted: Format,
}

impl XlsxWriter {
    /// A worksheet called `name` with these headers and column widths (in characters).
    pub fn new(name: &str, headers: &[(&str, f64)]) -> Result<Self, XlsxError> {
        let mut sheet = Worksheet::new();
        sheet.set_name(name)?;
        let bold = Format::new().set_bold();
        for (col, (header, width)) in (0u16..).zip(headers) {
            sheet.write_string_with_format(0, col, *header, &bold)?;
            sheet.set_column_width(col, *width)?;
        }
        Ok(Self {
            sheet,
            columns: u16::try_from(headers.len()).unwrap_or(u16::MAX),
            last_row: 0,
            date_format: Format::new().set_num_format("dd.mm.yyyy"),
            quoted: Format::new().set_quote_prefix(),
        })
    }

    /// Writes a text cell; `row` 0 is the header line.
    pub fn text(&mut self, row: u32, col: u16, text: &str) -> Result<(), XlsxError> {
        if is_formula_like(text) {
            self.sheet
                .write_string_with_format(row, col, text, &self.quoted)?;
        } else {
            self.sheet.write_string(row, col, text)?;
        }
        self.last_row = self.last_row.max(row);
        Ok(())
    }

    /// Writes a date cell; Excel has no dates before 1900, such a date is written as text.
    pub fn date(&mut self, row: u32, col: u16, date: jiff::civil::Date) -> Result<(), XlsxError> {
        let excel = u16::try_from(date.year()).ok().and_then(|year| {
            ExcelDateTime::from_ymd(year, date.month() as u8, date.day() as u8).ok()
        });
        match excel {
            Some(excel) => {
                self.sheet
                    .write_datetime_with_format(row, col, excel, &self.date_format)?;
                self.last_row = self.last_row.max(row);
                Ok(())
            }
            None => self.text(row, col, &date.to_string()),
        }
    }

    /// The workbook's bytes.
    pub fn finish(mut self) -> Result<Vec<u8>, XlsxError> {
        self.sheet.set_freeze_panes(1, 0)?;
        self.sheet
            .autofilter(0, 0, self.last_row, self.columns.saturating_sub(1))?;
        let mut workbook = Workbook::new();
        workbook.push_worksheet(self.sheet);
        workbook.save_to_buffer()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: [&str; 6] = [
        "=HYPERLINK(\"https://evil.example\",\"Klick\")",
        "+1+1",
        "-2+3",
        "@SUM(A1)",
        "\t=1+1",
        "\r=1+1",
    ];

    #[test]
    fn every_formula_start_is_defused_in_csv() {
        let mut w = CsvWriter::new(["Text"]);
        for cell in HOSTILE {
            w.row([cell]);
        }
        w.row(["harmlos"]);
        let text = String::from_utf8(w.finish()).expect("utf-8");
        let text = text.strip_prefix(BOM).expect("BOM");
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(text.as_bytes());
        let cells: Vec<String> = reader
            .records()
            .map(|r| r.expect("record")[0].to_owned())
            .collect();
        for (cell, hostile) in cells.iter().zip(HOSTILE) {
            assert_eq!(cell, &format!("'{hostile}"));
        }
        assert_eq!(cells.last().map(String::as_str), Some("harmlos"));
    }

    #[test]
    fn csv_cells_with_separators_and_quotes_are_quoted() {
        let mut w = CsvWriter::new(["a", "b"]);
        w.row(["x, \"y\"", "z"]);
        let text = String::from_utf8(w.finish()).expect("utf-8");
        assert!(text.ends_with("\"x, \"\"y\"\"\",z\r\n"), "{text:?}");
    }

    #[test]
    fn an_xlsx_export_never_holds_a_formula() {
        let mut w = XlsxWriter::new("Test", &[("Text", 20.0)]).expect("sheet");
        for (row, cell) in (1u32..).zip(HOSTILE) {
            w.text(row, 0, cell).expect("cell");
        }
        let bytes = w.finish().expect("workbook");
        let sheet = zip_entry(&bytes, "xl/worksheets/sheet1.xml");
        assert!(!sheet.contains("<f>"), "{sheet}");
        let styles = zip_entry(&bytes, "xl/styles.xml");
        assert!(styles.contains("quotePrefix=\"1\""), "{styles}");
    }

    fn zip_entry(bytes: &[u8], name: &str) -> String {
        use std::io::Read;
        let mut archive =
            zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("xlsx is a zip file");
        let mut text = String::new();
        archive
            .by_name(name)
            .expect("entry")
            .read_to_string(&mut text)
            .expect("read");
        text
    }
}
