//! Documents as tagged PDF (PDF/UA-1), written with `pdf-writer`: A4 pages, headings,
//! paragraphs, bullet lists and tables, lines wrapped by the fonts' real widths, new
//! pages as needed.
//!
//! What makes the file accessible (ISO 14289-1): the document language (`/Lang`), the
//! title in the document information and the XMP metadata, shown in the viewer's
//! window (`DisplayDocTitle`), the XMP identifier `pdfuaid:part 1`, `MarkInfo /Marked`,
//! and a structure tree (Document > H1, H2, H3, P, L > LI > Lbl + LBody, Table > TR >
//! TH + TD) whose elements own the page's marked-content sequences (BDC with an MCID)
//! through the ParentTree, in reading order. Page numbers and table rules are marked as
//! artifacts. The fonts are embedded: DejaVu Sans and DejaVu Sans Bold, cut down to
//! Windows-1252 (see `fonts/README.md`), as simple TrueType fonts in WinAnsiEncoding
//! whose `/Widths` are read from the font files themselves.

mod fonts;
mod layout;

use pdf_writer::types::{FontFlags, ListNumbering, StructRole, TabOrder, TableHeaderScope};
use pdf_writer::writers::StructTreeRoot;
use pdf_writer::{Finish, Name, Pdf, Rect, Ref, TextStr};

use fonts::{Font, font};
use layout::{Kid, Layout};

const WIDTH: f32 = 595.0;
const HEIGHT: f32 = 842.0;
const MARGIN: f32 = 56.0;
/// The page number sits in the bottom margin.
const FOOTER_Y: f32 = 30.0;
const CELL_PADDING: f32 = 3.0;
const REGULAR: Name<'static> = Name(b"F1");
const BOLD: Name<'static> = Name(b"F2");

/// One block of the document, in reading order.
pub enum Block {
    /// The document's title (H1).
    Title(String),
    /// A section heading (H2).
    Heading(String),
    /// A heading inside a section (H3).
    Subheading(String),
    /// A paragraph (P).
    Text(String),
    /// A bullet list (L > LI > Lbl + LBody).
    List(Vec<String>),
    /// A table with one header row (Table > TR > TH / TD); `widths` are the columns'
    /// shares of the line (summing to 1).
    Table {
        header: Vec<String>,
        widths: Vec<f32>,
        rows: Vec<Vec<String>>,
    },
}

impl Block {
    pub fn title(text: String) -> Self {
        Self::Title(text)
    }
    pub fn heading(text: String) -> Self {
        Self::Heading(text)
    }
    pub fn subheading(text: String) -> Self {
        Self::Subheading(text)
    }
    pub fn text(text: String) -> Self {
        Self::Text(text)
    }
    pub fn list(items: Vec<String>) -> Self {
        Self::List(items)
    }
    /// A table; `columns` are the header cells with their shares of the line.
    pub fn table(columns: &[(&str, f32)], rows: Vec<Vec<String>>) -> Self {
        Self::Table {
            header: columns.iter().map(|(h, _)| (*h).to_owned()).collect(),
            widths: columns.iter().map(|(_, w)| *w).collect(),
            rows,
        }
    }
}

/// The XMP metadata: title, language and the PDF/UA-1 identifier.
fn xmp(title: &str, lang: &str) -> String {
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    format!(
        "<?xpacket begin=\"\u{feff}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n\
<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\n\
<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n\
<rdf:Description rdf:about=\"\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\" \
xmlns:pdf=\"http://ns.adobe.com/pdf/1.3/\" xmlns:pdfuaid=\"http://www.aiim.org/pdfua/ns/id/\">\n\
<dc:format>application/pdf</dc:format>\n\
<dc:title><rdf:Alt><rdf:li xml:lang=\"x-default\">{}</rdf:li></rdf:Alt></dc:title>\n\
<dc:language><rdf:Bag><rdf:li>{}</rdf:li></rdf:Bag></dc:language>\n\
<pdf:Producer>konvent</pdf:Producer>\n\
<pdfuaid:part>1</pdfuaid:part>\n\
</rdf:Description>\n</rdf:RDF>\n</x:xmpmeta>\n<?xpacket end=\"w\"?>",
        escape(title),
        escape(lang)
    )
}

/// Writes the document as tagged PDF; `title` is its title (document information, XMP
/// metadata, the viewer's window) and `lang` its language (e.g. "de-DE").
pub fn document(title: &str, lang: &str, blocks: &[Block]) -> Vec<u8> {
    let mut layout = Layout::new();
    for block in blocks {
        layout.block(block);
    }
    let (pages, elements, page_owners) = layout.finish();

    let mut next = Ref::new(1);
    let catalog_id = next.bump();
    let tree_id = next.bump();
    let info_id = next.bump();
    let metadata_id = next.bump();
    let root_id = next.bump();
    let fonts: Vec<(Name, &Font, Ref, Ref, Ref)> = [(REGULAR, false), (BOLD, true)]
        .into_iter()
        .map(|(name, bold)| (name, font(bold), next.bump(), next.bump(), next.bump()))
        .collect();
    let page_ids: Vec<(Ref, Ref, Ref)> = pages
        .iter()
        .map(|_| (next.bump(), next.bump(), next.bump()))
        .collect();
    let element_ids: Vec<Ref> = elements.iter().map(|_| next.bump()).collect();

    let mut pdf = Pdf::new();
    let mut catalog = pdf.catalog(catalog_id);
    catalog.pages(tree_id);
    catalog.lang(TextStr(lang));
    catalog.viewer_preferences().display_doc_title(true);
    catalog.mark_info().marked(true);
    catalog.pair(Name(b"StructTreeRoot"), root_id);
    catalog.metadata(metadata_id);
    catalog.finish();

    pdf.document_info(info_id)
        .title(TextStr(title))
        .producer(TextStr("konvent"));
    pdf.metadata(metadata_id, xmp(title, lang).as_bytes());

    pdf.pages(tree_id)
        .kids(page_ids.iter().map(|(page, _, _)| *page))
        .count(i32::try_from(page_ids.len()).unwrap_or(i32::MAX));

    for (_, font, font_id, descriptor_id, file_id) in &fonts {
        let base = Name(font.base_name);
        let mut dict = pdf.indirect(*font_id).dict();
        dict.pair(Name(b"Type"), Name(b"Font"));
        dict.pair(Name(b"Subtype"), Name(b"TrueType"));
        dict.pair(Name(b"BaseFont"), base);
        dict.pair(Name(b"FirstChar"), 32);
        dict.pair(Name(b"LastChar"), 255);
        dict.insert(Name(b"Widths"))
            .array()
            .items(font.widths[32..].iter().copied());
        dict.pair(Name(b"FontDescriptor"), *descriptor_id);
        dict.pair(Name(b"Encoding"), Name(b"WinAnsiEncoding"));
        dict.finish();
        pdf.font_descriptor(*descriptor_id)
            .name(base)
            .flags(FontFlags::NON_SYMBOLIC)
            .bbox(font.bbox)
            .italic_angle(0.0)
            .ascent(font.ascent)
            .descent(font.descent)
            .cap_height(font.cap_height)
            .stem_v(font.stem_v)
            .font_file2(*file_id);
        pdf.stream(*file_id, font.data).pair(
            Name(b"Length1"),
            i32::try_from(font.data.len()).unwrap_or(0),
        );
    }

    for (i, (content, (page_id, content_id, owners_id))) in
        pages.into_iter().zip(&page_ids).enumerate()
    {
        let mut page = pdf.page(*page_id);
        page.media_box(Rect::new(0.0, 0.0, WIDTH, HEIGHT));
        page.parent(tree_id);
        page.contents(*content_id);
        page.struct_parents(i32::try_from(i).unwrap_or(i32::MAX));
        page.tab_order(TabOrder::StructureOrder);
        let mut resources = page.resources();
        let mut font_dict = resources.fonts();
        for (name, _, font_id, _, _) in &fonts {
            font_dict.pair(*name, *font_id);
        }
        font_dict.finish();
        resources.finish();
        page.finish();
        pdf.stream(*content_id, &content.finish());
        pdf.indirect(*owners_id)
            .array()
            .items(page_owners[i].iter().map(|e| element_ids[*e]));
    }

    let mut root = pdf.indirect(root_id).start::<StructTreeRoot>();
    root.child(element_ids[0]);
    let mut nums = root.parent_tree();
    let mut entries = nums.nums();
    for (i, (_, _, owners_id)) in page_ids.iter().enumerate() {
        entries.insert(i32::try_from(i).unwrap_or(i32::MAX), *owners_id);
    }
    entries.finish();
    nums.finish();
    root.parent_tree_next_key(i32::try_from(page_ids.len()).unwrap_or(i32::MAX));
    root.finish();

    for (element, id) in elements.iter().zip(&element_ids) {
        let mut e = pdf.struct_element(*id);
        e.kind(element.role);
        e.parent(element.parent.map_or(root_id, |p| element_ids[p]));
        match element.role {
            StructRole::L => {
                e.attributes()
                    .push()
                    .list()
                    .list_numbering(ListNumbering::Disc);
            }
            StructRole::TH => {
                e.attributes()
                    .push()
                    .table()
                    .scope(TableHeaderScope::Column);
            }
            _ => {}
        }
        let mut kids = e.children();
        for kid in &element.kids {
            match kid {
                Kid::Element(k) => {
                    kids.struct_element(element_ids[*k]);
                }
                Kid::Content { page, mcid } => {
                    kids.marked_content_ref()
                        .page(page_ids[*page].0)
                        .marked_content_id(*mcid);
                }
            }
        }
    }
    pdf.finish()
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdf::fonts::{decode_win_ansi, width, win_ansi, wrap};

    #[test]
    fn german_text_is_encoded_and_wrapped_onto_pages() {
        let long =
            "Die Registermodernisierung braucht Fachkräfte für Öffentliche Verwaltung. ".repeat(20);
        let blocks = vec![
            Block::title("Arbeitsergebnisse – Strategiekonvent".into()),
            Block::list(vec![long.clone(); 80]),
            Block::table(
                &[("Beitrag", 0.7), ("Stimmen", 0.3)],
                vec![vec![long.clone(), "3".into()]; 20],
            ),
        ];
        let pdf = document("Test", "de-DE", &blocks);
        assert!(pdf.starts_with(b"%PDF-"));
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains("/WinAnsiEncoding"));
        assert!(text.contains("/FontFile2"));
        assert!(text.contains("<pdfuaid:part>1</pdfuaid:part>"));
        // More than one page, and every page is in the tree.
        let count = text
            .split("/Count ")
            .nth(1)
            .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or(0);
        assert!(count > 1, "{count} pages");
        assert_eq!(text.matches("/StructParents ").count(), count);
        // "Fachkräfte" in WinAnsi (ä = 0xE4), as pdf-writer writes strings: in hex.
        assert!(text.contains("466163686B72E4667465"));
        for row in wrap(&long.bytes().collect::<Vec<_>>(), false, 10.0, 300.0) {
            let w: f32 = row.iter().map(|b| width(*b, false, 10.0)).sum();
            assert!(w <= 300.0, "{w}");
        }
    }

    #[test]
    fn every_win_ansi_character_has_a_glyph_and_round_trips() {
        for byte in (0x20..=0x7E).chain(0x80..=0xFF) {
            if let Some(c) = decode_win_ansi(byte) {
                assert_eq!(win_ansi(c), byte, "{c}");
                for bold in [false, true] {
                    assert!(width(byte, bold, 1000.0) > 0.0, "{c} bold={bold}");
                }
            }
        }
        assert_eq!(win_ansi('€'), 0x80);
        assert_eq!(win_ansi('✓'), b'?');
    }
}
