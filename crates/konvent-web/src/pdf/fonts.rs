//! The embedded fonts, DejaVu Sans and DejaVu Sans Bold cut down to Windows-1252: their
//! widths read from the font files, text encoded in WinAnsi and wrapped by those widths.

use std::sync::LazyLock;

use pdf_writer::Rect;

/// Windows-1252 at 0x80–0x9F (the rest of the upper half is Latin-1); `None` where the
/// code page has no character.
const WIN_ANSI_80: [Option<char>; 32] = [
    Some('€'),
    None,
    Some('‚'),
    Some('ƒ'),
    Some('„'),
    Some('…'),
    Some('†'),
    Some('‡'),
    Some('ˆ'),
    Some('‰'),
    Some('Š'),
    Some('‹'),
    Some('Œ'),
    None,
    Some('Ž'),
    None,
    None,
    Some('‘'),
    Some('’'),
    Some('“'),
    Some('”'),
    Some('•'),
    Some('–'),
    Some('—'),
    Some('˜'),
    Some('™'),
    Some('š'),
    Some('›'),
    Some('œ'),
    None,
    Some('ž'),
    Some('Ÿ'),
];

/// The character a WinAnsiEncoding byte stands for.
pub(super) fn decode_win_ansi(byte: u8) -> Option<char> {
    match byte {
        0x20..=0x7E | 0xA0..=0xFF => Some(char::from(byte)),
        0x80..=0x9F => WIN_ANSI_80[usize::from(byte - 0x80)],
        _ => None,
    }
}

/// A character in Windows-1252 (WinAnsiEncoding); tabs and line breaks become spaces,
/// characters outside the code page "?".
pub(super) fn win_ansi(c: char) -> u8 {
    match c {
        '\t' | '\n' | '\r' => b' ',
        ' '..='~' | '\u{a0}'..='\u{ff}' => c as u32 as u8,
        _ => WIN_ANSI_80
            .iter()
            .position(|x| *x == Some(c))
            .and_then(|i| u8::try_from(0x80 + i).ok())
            .unwrap_or(b'?'),
    }
}

/// An embedded font and what the PDF says about it, read from the font file.
pub(super) struct Font {
    pub(super) base_name: &'static [u8],
    pub(super) data: &'static [u8],
    /// Advance widths of the WinAnsi codes in thousandths of the font size.
    pub(super) widths: [f32; 256],
    pub(super) bbox: Rect,
    pub(super) ascent: f32,
    pub(super) descent: f32,
    pub(super) cap_height: f32,
    pub(super) stem_v: f32,
}

impl Font {
    fn load(base_name: &'static [u8], data: &'static [u8], stem_v: f32) -> Self {
        let face = ttf_parser::Face::parse(data, 0).expect("the bundled font parses");
        let scale = 1000.0 / f32::from(face.units_per_em());
        let mut widths = [0.0; 256];
        for (code, width) in widths.iter_mut().enumerate() {
            let advance = u8::try_from(code)
                .ok()
                .and_then(decode_win_ansi)
                .and_then(|c| face.glyph_index(c))
                .and_then(|g| face.glyph_hor_advance(g));
            *width = advance.map_or(0.0, |a| f32::from(a) * scale);
        }
        let b = face.global_bounding_box();
        Self {
            base_name,
            data,
            widths,
            bbox: Rect::new(
                f32::from(b.x_min) * scale,
                f32::from(b.y_min) * scale,
                f32::from(b.x_max) * scale,
                f32::from(b.y_max) * scale,
            ),
            ascent: f32::from(face.ascender()) * scale,
            descent: f32::from(face.descender()) * scale,
            cap_height: f32::from(face.capital_height().unwrap_or(face.ascender())) * scale,
            stem_v,
        }
    }
}

static REGULAR_FONT: LazyLock<Font> = LazyLock::new(|| {
    Font::load(
        b"DejaVuSans",
        include_bytes!("../../fonts/DejaVuSans.ttf"),
        80.0,
    )
});
static BOLD_FONT: LazyLock<Font> = LazyLock::new(|| {
    Font::load(
        b"DejaVuSans-Bold",
        include_bytes!("../../fonts/DejaVuSans-Bold.ttf"),
        140.0,
    )
});

pub(super) fn font(bold: bool) -> &'static Font {
    if bold { &BOLD_FONT } else { &REGULAR_FONT }
}

pub(super) fn width(byte: u8, bold: bool, size: f32) -> f32 {
    font(bold).widths[usize::from(byte)] * size / 1000.0
}

/// Breaks a paragraph into lines no wider than `max` points, at spaces (a word longer
/// than a line is cut).
pub(super) fn wrap(bytes: &[u8], bold: bool, size: f32, max: f32) -> Vec<Vec<u8>> {
    let mut lines = Vec::new();
    let mut line: Vec<u8> = Vec::new();
    let mut line_width = 0.0;
    for word in bytes.split(|b| *b == b' ').filter(|w| !w.is_empty()) {
        let word_width: f32 = word.iter().map(|b| width(*b, bold, size)).sum();
        let space = if line.is_empty() {
            0.0
        } else {
            width(b' ', bold, size)
        };
        if !line.is_empty() && line_width + space + word_width > max {
            lines.push(std::mem::take(&mut line));
            line_width = 0.0;
        }
        if !line.is_empty() {
            line.push(b' ');
            line_width += space;
        }
        for &b in word {
            let w = width(b, bold, size);
            if line_width + w > max && !line.is_empty() {
                lines.push(std::mem::take(&mut line));
                line_width = 0.0;
            }
            line.push(b);
            line_width += w;
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

pub(super) fn encode(text: &str) -> Vec<u8> {
    text.chars().map(win_ansi).collect()
}
