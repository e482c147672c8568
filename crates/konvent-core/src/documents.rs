//! Documents (G12): files attached to agenda items, resolutions, target-picture versions
//! and workshops, with versions. What a file is gets decided by its bytes, never by the
//! name or type the client claims; only PDF and the office formats are taken.

use std::io::{Cursor, Read};

use crate::validation::{FieldErrors, required_name};

/// Documents one agenda item, resolution, target-picture version or workshop may hold.
pub const MAX_PER_OWNER: usize = 20;
/// Characters of a document's title.
pub const MAX_TITLE_CHARS: usize = 200;
/// Characters of a file's name.
pub const MAX_FILE_NAME_CHARS: usize = 120;
/// Versions one document may have.
pub const MAX_VERSIONS: i64 = 50;

/// What a document belongs to; its confidentiality and who may change it follow from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OwnerKind {
    AgendaItem,
    Resolution,
    TargetPicture,
    Workshop,
}

impl OwnerKind {
    pub const ALL: [Self; 4] = [
        Self::AgendaItem,
        Self::Resolution,
        Self::TargetPicture,
        Self::Workshop,
    ];

    /// The stored and URL form (`agenda-item`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AgendaItem => "agenda-item",
            Self::Resolution => "resolution",
            Self::TargetPicture => "target-picture",
            Self::Workshop => "workshop",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == value)
    }
}

/// The formats konvent takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Pdf,
    Docx,
    Xlsx,
    Pptx,
    Odt,
    Ods,
    Odp,
}

impl Format {
    pub const ALL: [Self; 7] = [
        Self::Pdf,
        Self::Docx,
        Self::Xlsx,
        Self::Pptx,
        Self::Odt,
        Self::Ods,
        Self::Odp,
    ];

    /// The content type a download is served with.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Pdf => "application/pdf",
            Self::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Self::Pptx => {
                "application/vnd.openxmlformats-officedocument.presentationml.presentation"
            }
            Self::Odt => "application/vnd.oasis.opendocument.text",
            Self::Ods => "application/vnd.oasis.opendocument.spreadsheet",
            Self::Odp => "application/vnd.oasis.opendocument.presentation",
        }
    }

    /// The file-name extension, also the short label in lists ("PDF").
    pub fn extension(self) -> &'static str {
        match self {
            Self::Pdf => "pdf",
            Self::Docx => "docx",
            Self::Xlsx => "xlsx",
            Self::Pptx => "pptx",
            Self::Odt => "odt",
            Self::Ods => "ods",
            Self::Odp => "odp",
        }
    }

    pub fn from_content_type(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.content_type() == value)
    }

    /// What the bytes are: a PDF by its header, an OOXML file by its
    /// `[Content_Types].xml` and main part, an ODF file by its `mimetype` entry.
    /// `None` for everything else (HTML, images, executables, other archives).
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        // PDF readers accept the header within the first KiB; we ask for it first.
        if bytes.starts_with(b"%PDF-") {
            return Some(Self::Pdf);
        }
        if !bytes.starts_with(b"PK\x03\x04") {
            return None;
        }
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).ok()?;
        if let Ok(mut entry) = archive.by_name("mimetype") {
            let mut mime = String::new();
            // ODF stores `mimetype` uncompressed, so no codec is needed; a short read is enough.
            (&mut entry).take(100).read_to_string(&mut mime).ok()?;
            return match mime.trim() {
                "application/vnd.oasis.opendocument.text" => Some(Self::Odt),
                "application/vnd.oasis.opendocument.spreadsheet" => Some(Self::Ods),
                "application/vnd.oasis.opendocument.presentation" => Some(Self::Odp),
                _ => None,
            };
        }
        let names: Vec<&str> = archive.file_names().collect();
        if !names.contains(&"[Content_Types].xml") {
            return None;
        }
        if names.contains(&"word/document.xml") {
            Some(Self::Docx)
        } else if names.contains(&"xl/workbook.xml") {
            Some(Self::Xlsx)
        } else if names.contains(&"ppt/presentation.xml") {
            Some(Self::Pptx)
        } else {
            None
        }
    }
}

/// A checked upload: its title, its file's name (with the extension of its format) and format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    pub title: String,
    pub file_name: String,
    pub format: Format,
}

impl Upload {
    /// Checks what a form sent: the title (required when `title` is `Some`), the file's
    /// name and its bytes. Errors go to the fields `title` and `file`.
    pub fn parse(title: Option<&str>, file_name: &str, bytes: &[u8]) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let title = match title {
            Some(t) => required_name(&mut errors, "title", t, MAX_TITLE_CHARS),
            None => String::new(),
        };
        let format = if bytes.is_empty() {
            errors.add("file", "document-no-file", "Bitte eine Datei wählen.");
            None
        } else {
            let format = Format::sniff(bytes);
            if format.is_none() {
                errors.add(
                    "file",
                    "document-bad-type",
                    "Diese Datei ist kein PDF- oder Office-Dokument (erlaubt: PDF, DOCX, XLSX, \
                     PPTX, ODT, ODS, ODP).",
                );
            }
            format
        };
        let file_name = format.map(|f| clean_file_name(file_name, f));
        if let Some(name) = &file_name
            && name.chars().count() > MAX_FILE_NAME_CHARS
        {
            errors.add(
                "file",
                "document-name-too-long",
                format!("Der Dateiname ist zu lang (höchstens {MAX_FILE_NAME_CHARS} Zeichen)."),
            );
        }
        match (format, file_name) {
            (Some(format), Some(file_name)) if errors.is_empty() => Ok(Self {
                title,
                file_name,
                format,
            }),
            _ => Err(errors),
        }
    }
}

/// The name a download carries: the client's file name without any path, without
/// control, invisible and quoting characters, ending in the extension of the format the
/// bytes have ("bericht.html" that is a PDF becomes "bericht.html.pdf").
pub fn clean_file_name(name: &str, format: Format) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let mut clean: String = base
        .chars()
        .filter(|c| !c.is_control() && !crate::validation::invisible(*c) && !matches!(c, '"' | ';'))
        .collect::<String>()
        .trim()
        .trim_start_matches('.')
        .to_owned();
    if clean.is_empty() {
        clean = "dokument".to_owned();
    }
    let extension = format!(".{}", format.extension());
    if !clean.to_lowercase().ends_with(&extension) {
        clean.push_str(&extension);
    }
    clean
}

/// A `Content-Disposition: attachment` value with an ASCII fallback and the exact name
/// as RFC 6266 / RFC 8187 `filename*` (for umlauts).
pub fn attachment_disposition(file_name: &str) -> String {
    let ascii: String = file_name
        .chars()
        .map(|c| match c {
            'ä' => "ae".to_owned(),
            'ö' => "oe".to_owned(),
            'ü' => "ue".to_owned(),
            'Ä' => "Ae".to_owned(),
            'Ö' => "Oe".to_owned(),
            'Ü' => "Ue".to_owned(),
            'ß' => "ss".to_owned(),
            c if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' => c.to_string(),
            _ => "_".to_owned(),
        })
        .collect();
    let mut encoded = String::new();
    for b in file_name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// "1,2 MB", "34 KB", "512 Bytes" (German decimal comma).
pub fn size_label(bytes: i64) -> String {
    if bytes < 1024 {
        return format!("{bytes} Bytes");
    }
    let (value, unit) = if bytes < 1024 * 1024 {
        (bytes as f64 / 1024.0, "KB")
    } else {
        (bytes as f64 / (1024.0 * 1024.0), "MB")
    };
    format!("{value:.1} {unit}").replace('.', ",")
}

/// A small, valid one-page PDF with the given lines (ASCII) in Helvetica: the demo's
/// documents and the tests' uploads.
pub fn simple_pdf(lines: &[&str]) -> Vec<u8> {
    let mut text = String::from("BT /F1 12 Tf 56 780 Td 16 TL");
    for line in lines {
        let escaped: String = line
            .chars()
            .map(|c| match c {
                '(' | ')' | '\\' => format!("\\{c}"),
                c if c.is_ascii() && !c.is_control() => c.to_string(),
                _ => "?".to_owned(),
            })
            .collect();
        text.push_str(&format!(" ({escaped}) Tj T*"));
    }
    text.push_str(" ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>".to_owned(),
        format!("<< /Length {} >>\nstream\n{text}\nendstream", text.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for offset in offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// Why a document or a new version is refused. The texts are German; the web shows each
/// case in the reader's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DocumentRefusal {
    #[error("Hier sind höchstens {} Dokumente möglich.", MAX_PER_OWNER)]
    TooManyDocuments,
    #[error("Ein Dokument hat höchstens {} Versionen.", MAX_VERSIONS)]
    TooManyVersions,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zip_with(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        let mut w = zip::ZipWriter::new(&mut out);
        let stored = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        for (name, bytes) in entries {
            w.start_file(*name, stored).expect("entry");
            w.write_all(bytes).expect("write");
        }
        w.finish().expect("finish");
        out.into_inner()
    }

    #[test]
    fn formats_are_told_by_their_bytes() {
        assert_eq!(Format::sniff(b"%PDF-1.7\n..."), Some(Format::Pdf));
        assert_eq!(Format::sniff(b"<html><script>alert(1)</script>"), None);
        assert_eq!(Format::sniff(b""), None);
        let odt = zip_with(&[("mimetype", b"application/vnd.oasis.opendocument.text")]);
        assert_eq!(Format::sniff(&odt), Some(Format::Odt));
        let ods = zip_with(&[(
            "mimetype",
            b"application/vnd.oasis.opendocument.spreadsheet",
        )]);
        assert_eq!(Format::sniff(&ods), Some(Format::Ods));
        let docx = zip_with(&[
            ("[Content_Types].xml", b"<Types/>"),
            ("word/document.xml", b"<w/>"),
        ]);
        assert_eq!(Format::sniff(&docx), Some(Format::Docx));
        let xlsx = zip_with(&[
            ("[Content_Types].xml", b"<Types/>"),
            ("xl/workbook.xml", b"<w/>"),
        ]);
        assert_eq!(Format::sniff(&xlsx), Some(Format::Xlsx));
        let pptx = zip_with(&[
            ("[Content_Types].xml", b"<Types/>"),
            ("ppt/presentation.xml", b"<p/>"),
        ]);
        assert_eq!(Format::sniff(&pptx), Some(Format::Pptx));
        let other = zip_with(&[("index.html", b"<html>")]);
        assert_eq!(Format::sniff(&other), None);
        let epub = zip_with(&[("mimetype", b"application/epub+zip")]);
        assert_eq!(Format::sniff(&epub), None);
        assert_eq!(Format::sniff(b"PK\x03\x04broken"), None);
    }

    #[test]
    fn an_upload_needs_a_title_a_file_and_a_known_format() {
        let ok =
            Upload::parse(Some(" Vorlage "), "C:\\tmp\\Vorlage.pdf", b"%PDF-1.4").expect("valid");
        assert_eq!(ok.title, "Vorlage");
        assert_eq!(ok.file_name, "Vorlage.pdf");
        assert_eq!(ok.format, Format::Pdf);
        let bad = Upload::parse(Some(""), "x.html", b"<html>").expect_err("invalid");
        assert!(bad.get("title").is_some());
        assert_eq!(bad.get("file").map(|e| e.code), Some("document-bad-type"));
        let long = "a".repeat(MAX_FILE_NAME_CHARS + 1);
        let bad = Upload::parse(None, &long, b"%PDF-1.4").expect_err("too long");
        assert_eq!(
            bad.get("file").map(|e| e.code),
            Some("document-name-too-long")
        );
        let none = Upload::parse(None, "", b"").expect_err("no file");
        assert_eq!(none.get("file").map(|e| e.code), Some("document-no-file"));
    }

    #[test]
    fn file_names_lose_paths_and_get_the_extension_of_their_format() {
        assert_eq!(
            clean_file_name("../../etc/passwd", Format::Pdf),
            "passwd.pdf"
        );
        assert_eq!(clean_file_name("seite.html", Format::Pdf), "seite.html.pdf");
        assert_eq!(clean_file_name("Bericht.PDF", Format::Pdf), "Bericht.PDF");
        assert_eq!(clean_file_name("a\"b;c.odt", Format::Odt), "abc.odt");
        assert_eq!(clean_file_name("", Format::Docx), "dokument.docx");
        assert_eq!(clean_file_name(".hidden", Format::Pdf), "hidden.pdf");
    }

    #[test]
    fn the_disposition_carries_umlauts_as_rfc_6266_filename_star() {
        assert_eq!(
            attachment_disposition("Übersicht Länder.pdf"),
            "attachment; filename=\"Uebersicht Laender.pdf\"; \
             filename*=UTF-8''%C3%9Cbersicht%20L%C3%A4nder.pdf"
        );
    }

    #[test]
    fn sizes_read_in_german() {
        assert_eq!(size_label(512), "512 Bytes");
        assert_eq!(size_label(2048), "2,0 KB");
        assert_eq!(size_label(1_258_291), "1,2 MB");
    }

    #[test]
    fn the_simple_pdf_is_a_pdf_with_its_text() {
        let pdf = simple_pdf(&["Tagesordnung (Entwurf)"]);
        assert_eq!(Format::sniff(&pdf), Some(Format::Pdf));
        let text = String::from_utf8(pdf).expect("ascii");
        assert!(text.contains("(Tagesordnung \\(Entwurf\\)) Tj"));
        assert!(text.ends_with("%%EOF\n"));
    }

    #[test]
    fn owner_kinds_round_trip() {
        for k in OwnerKind::ALL {
            assert_eq!(OwnerKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(OwnerKind::parse("session"), None);
    }
}
