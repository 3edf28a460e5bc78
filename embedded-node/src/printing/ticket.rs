//! What a ticket or receipt says, and how it becomes bytes a printer takes: ESC/POS for
//! receipt printers, an 8-bit grey PWG raster page (IPP Everywhere's one required
//! format) for document and label printers, and the same drawing as a PNG preview.
//!
//! Owns: the templates (58 mm, 80 mm, A6), the event's logo atop each. Never: talks to
//! a printer or reads the database (the caller hands it the order as the counter sees
//! it, and the logo already read).

use std::sync::Arc;

use escpos::driver::Driver;
use escpos::printer::Printer;
use escpos::utils::{JustifyMode, Protocol, QRCodeCorrectionLevel, QRCodeModel, QRCodeOption};
use resvg::{tiny_skia, usvg};

use boothcloud_core::manifest::Paper;
use boothcloud_core::money::{self, Currency, Minor};

use super::jobs::JobKind;
use super::logo::Logo;

/// Everything printed on one ticket. It travels as JSON to a paired booth that prints
/// it for this one (`printing::peer`).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Ticket {
    pub kind: JobKind,
    pub event: String,
    pub pickup_number: String,
    /// (quantity, name, line total)
    pub lines: Vec<(u32, String, Minor)>,
    pub total: Minor,
    pub currency: Currency,
    pub paid: String,
    /// The digital receipt's address, for its QR code.
    pub receipt_url: Option<String>,
    /// Local time the order was taken, as printed (`14:32`).
    pub taken: String,
    /// 0 for the original, n for a reprint.
    pub copy: i64,
    /// The booth that sold it, when another booth prints it for that one.
    #[serde(default)]
    pub for_booth: Option<String>,
}

/// Most lines a ticket carries; longer texts are cut.
pub const MAX_LINES: usize = 200;
const MAX_TEXT: usize = 200;

impl Ticket {
    /// A ticket that came from another booth, checked against what a ticket can hold.
    pub fn check(&self) -> Result<(), String> {
        let long = |s: &str| s.chars().count() > MAX_TEXT;
        if self.lines.len() > MAX_LINES {
            return Err(format!("a ticket holds at most {MAX_LINES} lines"));
        }
        if self.pickup_number.chars().count() > 16 || self.pickup_number.is_empty() {
            return Err("the pickup number must be 1 to 16 characters".into());
        }
        if [&self.event, &self.paid, &self.taken].into_iter().any(|s| long(s))
            || self.lines.iter().any(|(_, name, _)| long(name))
            || self.receipt_url.as_deref().is_some_and(|u| u.len() > 500)
            || self.for_booth.as_deref().is_some_and(long)
        {
            return Err(format!("a ticket's texts are at most {MAX_TEXT} characters"));
        }
        if self.copy < 0 || self.lines.iter().any(|(qty, _, _)| *qty > 10_000) {
            return Err("a ticket's copy and quantities must be sensible".into());
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TicketError {
    #[error("the ticket could not be drawn: {0}")]
    Draw(String),
}

/// ESC/POS commands, written to memory (the crate's printer writes through a driver).
#[derive(Clone, Default)]
struct Memory(Arc<std::sync::Mutex<Vec<u8>>>);

impl Driver for Memory {
    fn name(&self) -> String {
        "memory".into()
    }
    fn write(&self, data: &[u8]) -> escpos::errors::Result<()> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).extend_from_slice(data);
        Ok(())
    }
    fn read(&self, _buf: &mut [u8]) -> escpos::errors::Result<usize> {
        Ok(0)
    }
    fn flush(&self) -> escpos::errors::Result<()> {
        Ok(())
    }
}

/// Only what a receipt printer's code page surely has: ASCII (others become `?`).
fn ascii(text: &str) -> String {
    text.chars().map(|c| if c.is_ascii() && !c.is_ascii_control() { c } else { '?' }).collect()
}

fn columns(left: &str, right: &str, width: usize) -> String {
    let room = width.saturating_sub(right.len() + 1);
    let left: String = left.chars().take(room).collect();
    format!("{left:<room$} {right}")
}

impl Ticket {
    /// The ticket as ESC/POS: initialise, the logo, the pickup number large, lines,
    /// total, QR, cut.
    pub fn escpos(&self, paper: Paper, logo: Option<&Logo>) -> Result<Vec<u8>, TicketError> {
        let draw = |e: escpos::errors::PrinterError| TicketError::Draw(e.to_string());
        let memory = Memory::default();
        let mut p = Printer::new(memory.clone(), Protocol::default(), None);
        let width = paper.columns();
        p.init().map_err(draw)?;
        p.justify(JustifyMode::CENTER).map_err(draw)?;
        if let Some(logo) = logo {
            p.custom(&logo.escpos(paper.dots())).map_err(draw)?;
        }
        if self.copy > 0 {
            p.bold(true)
                .map_err(draw)?
                .writeln(&format!("*** REPRINT (copy {}) ***", self.copy + 1))
                .map_err(draw)?
                .bold(false)
                .map_err(draw)?;
        }
        p.writeln(&ascii(&self.event)).map_err(draw)?;
        if let Some(booth) = &self.for_booth {
            p.bold(true)
                .map_err(draw)?
                .writeln(&format!("FOR {}", ascii(booth)))
                .map_err(draw)?
                .bold(false)
                .map_err(draw)?;
        }
        p.writeln(match self.kind {
            JobKind::Ticket => "PICKUP TICKET",
            JobKind::Receipt => "RECEIPT",
            JobKind::Label => "LABEL",
        })
        .map_err(draw)?;
        p.size(4, 4).map_err(draw)?.bold(true).map_err(draw)?;
        p.writeln(&ascii(&self.pickup_number)).map_err(draw)?;
        p.bold(false).map_err(draw)?.reset_size().map_err(draw)?;
        p.writeln(&self.taken).map_err(draw)?;
        p.justify(JustifyMode::LEFT).map_err(draw)?;
        p.writeln(&"-".repeat(width)).map_err(draw)?;
        for (qty, name, total) in &self.lines {
            let left = format!("{qty} x {}", ascii(name));
            let right = if !self.kind.shows_prices() {
                String::new()
            } else {
                money::display(*total, self.currency)
            };
            p.writeln(&columns(&left, &right, width)).map_err(draw)?;
        }
        p.writeln(&"-".repeat(width)).map_err(draw)?;
        if self.kind.shows_prices() {
            p.bold(true).map_err(draw)?;
            p.writeln(&columns("TOTAL", &money::display(self.total, self.currency), width))
                .map_err(draw)?;
            p.bold(false).map_err(draw)?;
        }
        p.writeln(&columns("Paid", &ascii(&self.paid), width)).map_err(draw)?;
        if let Some(url) = &self.receipt_url {
            p.justify(JustifyMode::CENTER).map_err(draw)?;
            p.qrcode_option(
                url,
                QRCodeOption::new(QRCodeModel::Model2, 6, QRCodeCorrectionLevel::M),
            )
            .map_err(draw)?;
        }
        p.feeds(3).map_err(draw)?.print_cut().map_err(draw)?;
        let bytes = std::mem::take(&mut *memory.0.lock().unwrap_or_else(|e| e.into_inner()));
        Ok(bytes)
    }

    /// The ticket drawn as SVG, `paper`'s printable width wide (dots at 203 dpi).
    pub fn svg(&self, paper: Paper, logo: Option<&Logo>) -> String {
        let w = paper.dots();
        let esc = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
        let mid = w / 2;
        let mut y = 40;
        let mut body = String::new();
        if let Some(logo) = logo {
            let (lw, lh) = logo.fit(w);
            body.push_str(&logo.element((w - lw) / 2, 16, lw, lh));
            y += 16 + lh;
        }
        let text = |body: &mut String,
                    y: u32,
                    size: u32,
                    weight: &str,
                    anchor: &str,
                    x: u32,
                    s: &str| {
            body.push_str(&format!(
                r#"<text x="{x}" y="{y}" font-size="{size}" font-weight="{weight}" text-anchor="{anchor}">{}</text>"#,
                esc(s)
            ));
        };
        if self.copy > 0 {
            text(
                &mut body,
                y,
                26,
                "bold",
                "middle",
                mid,
                &format!("REPRINT (copy {})", self.copy + 1),
            );
            y += 36;
        }
        text(&mut body, y, 26, "normal", "middle", mid, &self.event);
        if let Some(booth) = &self.for_booth {
            y += 34;
            text(&mut body, y, 26, "bold", "middle", mid, &format!("For {booth}"));
        }
        y += 150;
        text(&mut body, y, 140, "bold", "middle", mid, &self.pickup_number);
        y += 40;
        text(&mut body, y, 24, "normal", "middle", mid, &self.taken);
        y += 44;
        for (qty, name, total) in &self.lines {
            text(&mut body, y, 26, "normal", "start", 12, &format!("{qty} × {name}"));
            if self.kind.shows_prices() {
                text(
                    &mut body,
                    y,
                    26,
                    "normal",
                    "end",
                    w - 12,
                    &money::display(*total, self.currency),
                );
            }
            y += 34;
        }
        if self.kind.shows_prices() {
            y += 8;
            text(&mut body, y, 30, "bold", "start", 12, "Total");
            text(
                &mut body,
                y,
                30,
                "bold",
                "end",
                w - 12,
                &money::display(self.total, self.currency),
            );
            y += 40;
        }
        text(&mut body, y, 24, "normal", "start", 12, &format!("Paid: {}", self.paid));
        y += 20;
        if let Some(url) = &self.receipt_url {
            if let Ok(code) = qrcode::QrCode::new(url.as_bytes()) {
                let n = code.width() as u32;
                let scale = 6;
                let mut d = String::new();
                for (i, c) in code.to_colors().iter().enumerate() {
                    if *c == qrcode::Color::Dark {
                        d.push_str(&format!("M{} {}h1v1h-1z", i as u32 % n, i as u32 / n));
                    }
                }
                let x = (w - n * scale) / 2;
                body.push_str(&format!(
                    r#"<path transform="translate({x} {y}) scale({scale})" d="{d}" shape-rendering="crispEdges"/>"#
                ));
                y += n * scale;
            }
        }
        let h = y + 40;
        format!(
            r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif"><rect width="{w}" height="{h}" fill="#fff"/>{body}</svg>"##
        )
    }

    /// The ticket drawn on white paper, at the paper's dots.
    fn pixmap(
        &self,
        paper: Paper,
        fonts: Arc<usvg::fontdb::Database>,
        logo: Option<&Logo>,
    ) -> Result<tiny_skia::Pixmap, TicketError> {
        let options = super::logo::options(&fonts);
        let tree = usvg::Tree::from_str(&self.svg(paper, logo), &options)
            .map_err(|e| TicketError::Draw(e.to_string()))?;
        let size = tree.size().to_int_size();
        let mut pixmap = tiny_skia::Pixmap::new(size.width(), size.height())
            .ok_or_else(|| TicketError::Draw("an empty ticket".into()))?;
        pixmap.fill(tiny_skia::Color::WHITE);
        resvg::render(&tree, tiny_skia::Transform::default(), &mut pixmap.as_mut());
        Ok(pixmap)
    }

    /// The drawing in grey levels (one byte a dot), and its size.
    fn grey(
        &self,
        paper: Paper,
        fonts: Arc<usvg::fontdb::Database>,
        logo: Option<&Logo>,
    ) -> Result<(u32, u32, Vec<u8>), TicketError> {
        let pixmap = self.pixmap(paper, fonts, logo)?;
        let grey = pixmap
            .data()
            .chunks_exact(4)
            .map(|p| {
                ((u32::from(p[0]) * 77 + u32::from(p[1]) * 150 + u32::from(p[2]) * 29) >> 8) as u8
            })
            .collect();
        Ok((pixmap.width(), pixmap.height(), grey))
    }

    /// The preview the screens show: a PNG of the very drawing a raster printer gets.
    pub fn png(
        &self,
        paper: Paper,
        fonts: Arc<usvg::fontdb::Database>,
        logo: Option<&Logo>,
    ) -> Result<Vec<u8>, TicketError> {
        self.pixmap(paper, fonts, logo)?.encode_png().map_err(|e| TicketError::Draw(e.to_string()))
    }

    /// One page of PWG raster (PWG 5102.4), 8-bit sGray at 203 dpi.
    pub fn pwg_raster(
        &self,
        paper: Paper,
        fonts: Arc<usvg::fontdb::Database>,
        logo: Option<&Logo>,
    ) -> Result<Vec<u8>, TicketError> {
        let (w, h, grey) = self.grey(paper, fonts, logo)?;
        Ok(pwg_grey8(w, h, 203, &grey))
    }
}

/// PWG raster, one page, sGray 8 bits per dot; each line run-length coded (PackBits
/// repeats only: 0..=127 = that many more copies of the next dot).
pub fn pwg_grey8(w: u32, h: u32, dpi: u32, grey: &[u8]) -> Vec<u8> {
    let mut header = [0u8; 1796];
    header[..9].copy_from_slice(b"PwgRaster");
    let mut put = |at: usize, v: u32| header[at..at + 4].copy_from_slice(&v.to_be_bytes());
    put(276, dpi); // HWResolution
    put(280, dpi);
    put(352, w * 72 / dpi); // PageSize, points
    put(356, h * 72 / dpi);
    put(372, w); // Width
    put(376, h); // Height
    put(384, 8); // BitsPerColor
    put(388, 8); // BitsPerPixel
    put(392, w); // BytesPerLine
    put(400, 18); // ColorSpace: sGray
    put(420, 1); // NumColors
    put(452, 1); // TotalPageCount
    put(456, 1); // CrossFeedTransform
    put(460, 1); // FeedTransform
    put(480, 0x00ff_ffff); // AlternatePrimary
    let mut out = Vec::with_capacity(1800 + grey.len() / 8);
    out.extend_from_slice(b"RaS2");
    out.extend_from_slice(&header);
    for row in grey.chunks_exact(w as usize) {
        out.push(0); // this line once
        let mut i = 0;
        while i < row.len() {
            let v = row[i];
            let mut n = 1;
            while i + n < row.len() && n < 128 && row[i + n] == v {
                n += 1;
            }
            out.push((n - 1) as u8);
            out.push(v);
            i += n;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticket(copy: i64) -> Ticket {
        Ticket {
            kind: JobKind::Ticket,
            event: "Harbour Lights".into(),
            pickup_number: "A-042".into(),
            lines: vec![(2, "Hot cocoa".into(), 800), (1, "Glühwein".into(), 450)],
            total: 1250,
            currency: Currency::parse("EUR").unwrap(),
            paid: "card".into(),
            receipt_url: Some("https://10.0.0.2:8787/r/abc".into()),
            taken: "14:32".into(),
            copy,
            for_booth: None,
        }
    }

    #[test]
    fn a_ticket_from_another_booth_says_whose_it_is_and_is_bounded() {
        let mut t = ticket(0);
        t.for_booth = Some("Stand A".into());
        assert!(t.check().is_ok());
        let bytes = t.escpos(Paper::Roll80, None).unwrap();
        assert!(bytes.windows(11).any(|w| w == b"FOR Stand A"));
        let back: Ticket = serde_json::from_str(&serde_json::to_string(&t).unwrap()).unwrap();
        assert_eq!(back.escpos(Paper::Roll80, None).unwrap(), bytes, "it travels whole");
        t.lines = vec![(1, "x".into(), 1); MAX_LINES + 1];
        assert!(t.check().unwrap_err().contains("at most"));
        let mut t = ticket(0);
        t.pickup_number = String::new();
        assert!(t.check().is_err());
        let mut t = ticket(0);
        t.event = "e".repeat(201);
        assert!(t.check().is_err());
    }

    #[test]
    fn an_escpos_ticket_initialises_shows_the_number_large_and_cuts() {
        let bytes = ticket(0).escpos(Paper::Roll80, None).unwrap();
        assert!(bytes.starts_with(&[0x1b, 0x40]), "ESC @ first");
        let has = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
        assert!(has(b"A-042"));
        assert!(has(&[0x1d, 0x21]), "GS ! (character size) for the number");
        assert!(has(&[0x1d, 0x56]), "GS V (cut)");
        assert!(has(b"2 x Hot cocoa"));
        assert!(has(b"Gl?hwein"), "only ASCII reaches the code page");
        assert!(!has(b"REPRINT"));
        let again = ticket(1).escpos(Paper::Roll58, None).unwrap();
        assert!(again.windows(7).any(|w| w == b"REPRINT"), "a reprint says so");
    }

    #[test]
    fn only_the_receipt_shows_prices() {
        let shows = |kind: JobKind| {
            let mut t = ticket(0);
            t.kind = kind;
            let bytes = t.escpos(Paper::Roll80, None).unwrap();
            bytes.windows(5).any(|w| w == b"TOTAL")
        };
        assert!(shows(JobKind::Receipt));
        assert!(!shows(JobKind::Ticket), "the prep table needs no prices");
        assert!(!shows(JobKind::Label), "nor does a bag anyone can read");
    }

    #[test]
    fn a_raster_ticket_is_one_pwg_page_of_the_papers_width() {
        let fonts = Arc::new(crate::charts::render::load_fonts());
        let page = ticket(0).pwg_raster(Paper::Roll80, fonts.clone(), None).unwrap();
        assert_eq!(&page[..4], b"RaS2");
        assert_eq!(&page[4..13], b"PwgRaster");
        let width = u32::from_be_bytes(page[4 + 372..4 + 376].try_into().unwrap());
        let height = u32::from_be_bytes(page[4 + 376..4 + 380].try_into().unwrap());
        assert_eq!(width, Paper::Roll80.dots());
        assert!(height > 400, "{height}");
        let png = ticket(0).png(Paper::Roll58, fonts, None).unwrap();
        assert_eq!(&png[1..4], b"PNG");
    }

    #[test]
    fn pwg_lines_decode_back_to_the_dots() {
        let grey: Vec<u8> = (0..3 * 300).map(|i| if (i / 7) % 2 == 0 { 0 } else { 255 }).collect();
        let page = pwg_grey8(300, 3, 203, &grey);
        let mut at = 4 + 1796;
        let mut decoded = Vec::new();
        for _ in 0..3 {
            assert_eq!(page[at], 0);
            at += 1;
            let mut line = 0;
            while line < 300 {
                let n = usize::from(page[at]) + 1;
                decoded.extend(std::iter::repeat_n(page[at + 1], n));
                line += n;
                at += 2;
            }
        }
        assert_eq!(decoded, grey);
        assert_eq!(at, page.len());
    }
}
