//! The event's logo as tickets print it: read from the asset cache (`[event] logo`),
//! checked, and drawn atop each ticket: an `<image>` in the ticket's drawing (preview
//! and raster printers) and a raster bit image for ESC/POS receipt printers.
//!
//! Owns: reading the logo (bounded in bytes and in dots), decoding it through resvg
//! (PNG, JPEG, GIF, WebP or SVG), and the last one read. Never: fetches anything but
//! through the asset cache, lets the logo reach files on the booth (an SVG logo's own
//! images are not loaded), or fails a ticket: a logo that cannot be had leaves the
//! ticket without one, and the Printers screen says why.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use resvg::{tiny_skia, usvg};

use boothcloud_core::cache::key::AssetPath;

use crate::assets::{AssetCache, AssetError, AssetRequest, PassedBody, Served};

/// Largest logo file read.
pub const MAX_LOGO_BYTES: u64 = 1 << 20;
/// Largest logo side, in its own pixels (a raster logo is decoded whole when drawn).
pub const MAX_LOGO_SIDE: f32 = 4096.0;
/// The box a logo is fitted into atop a ticket: this share of the paper's width, and
/// at most this many dots tall (15 mm at 203 dpi).
const WIDTH_SHARE: f32 = 0.6;
pub const MAX_LOGO_DOTS_TALL: u32 = 120;

#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum LogoError {
    #[error("the logo `{0}` is not in the asset cache and the origin did not give it: {1}")]
    Unavailable(String, String),
    #[error("the logo is larger than {} KiB", MAX_LOGO_BYTES / 1024)]
    TooLarge,
    #[error("the logo is stored compressed ({0}); serve it without Content-Encoding")]
    Encoded(String),
    #[error("the logo is not a PNG, JPEG, GIF, WebP or SVG image")]
    NotAnImage,
    #[error("the logo is larger than {MAX_LOGO_SIDE} pixels on a side")]
    TooManyPixels,
}

/// A checked logo: its bytes as a data URL and its own size.
pub struct Logo {
    href: String,
    width: f32,
    height: f32,
    fonts: Arc<usvg::fontdb::Database>,
    /// The ESC/POS bit image, per paper width in dots (drawn once each).
    bits: Mutex<HashMap<u32, Arc<Vec<u8>>>>,
}

impl std::fmt::Debug for Logo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Logo({}x{})", self.width, self.height)
    }
}

fn mime_of(bytes: &[u8]) -> Option<&'static str> {
    let head = &bytes[..bytes.len().min(512)];
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if head.starts_with(&[0xff, 0xd8, 0xff]) {
        Some("image/jpeg")
    } else if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        Some("image/webp")
    } else if head.windows(4).any(|w| w == b"<svg") {
        Some("image/svg+xml")
    } else {
        None
    }
}

/// Drawing options that load only data URLs (the logo), never a file of the booth's.
pub(super) fn options(fonts: &Arc<usvg::fontdb::Database>) -> usvg::Options<'static> {
    usvg::Options {
        fontdb: fonts.clone(),
        // Only the data URL this module writes is loaded: no file of the booth's.
        image_href_resolver: usvg::ImageHrefResolver {
            resolve_data: usvg::ImageHrefResolver::default_data_resolver(),
            resolve_string: Box::new(|_, _| None),
        },
        ..usvg::Options::default()
    }
}

/// The first image in a drawing, wherever it sits.
fn first_image(group: &usvg::Group) -> Option<&usvg::Image> {
    group.children().iter().find_map(|node| match node {
        usvg::Node::Image(image) => Some(image.as_ref()),
        usvg::Node::Group(g) => first_image(g),
        _ => None,
    })
}

impl Logo {
    /// Checks a logo file: a known image type, within the bounds, with a size.
    pub fn from_bytes(bytes: &[u8], fonts: Arc<usvg::fontdb::Database>) -> Result<Logo, LogoError> {
        if bytes.len() as u64 > MAX_LOGO_BYTES {
            return Err(LogoError::TooLarge);
        }
        let mime = mime_of(bytes).ok_or(LogoError::NotAnImage)?;
        let href = format!(
            "data:{mime};base64,{}",
            base64::engine::general_purpose::STANDARD.encode(bytes)
        );
        let probe = format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"><image href="{href}"/></svg>"#
        );
        let tree =
            usvg::Tree::from_str(&probe, &options(&fonts)).map_err(|_| LogoError::NotAnImage)?;
        let size = first_image(tree.root()).ok_or(LogoError::NotAnImage)?.size();
        if size.width() > MAX_LOGO_SIDE || size.height() > MAX_LOGO_SIDE {
            return Err(LogoError::TooManyPixels);
        }
        Ok(Logo { href, width: size.width(), height: size.height(), fonts, bits: Mutex::default() })
    }

    /// Its size atop a ticket `paper_dots` wide: as large as fits the box, shape kept.
    pub fn fit(&self, paper_dots: u32) -> (u32, u32) {
        let max_w = paper_dots as f32 * WIDTH_SHARE;
        let scale = (max_w / self.width).min(MAX_LOGO_DOTS_TALL as f32 / self.height);
        (
            (self.width * scale).round().max(1.0) as u32,
            (self.height * scale).round().max(1.0) as u32,
        )
    }

    /// The logo as an SVG element at (`x`, `y`), `w` × `h`.
    pub fn element(&self, x: u32, y: u32, w: u32, h: u32) -> String {
        format!(r#"<image x="{x}" y="{y}" width="{w}" height="{h}" href="{}"/>"#, self.href)
    }

    /// `GS v 0`: the logo in black and white dots for a receipt printer `paper_dots`
    /// wide (each line padded to whole bytes, a set bit printed black).
    pub fn escpos(&self, paper_dots: u32) -> Arc<Vec<u8>> {
        let mut drawn = self.bits.lock().unwrap_or_else(|e| e.into_inner());
        drawn.entry(paper_dots).or_insert_with(|| Arc::new(self.draw_bits(paper_dots))).clone()
    }

    fn draw_bits(&self, paper_dots: u32) -> Vec<u8> {
        let (w, h) = self.fit(paper_dots);
        let svg = format!(
            r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}"><rect width="{w}" height="{h}" fill="#fff"/>{}</svg>"##,
            self.element(0, 0, w, h)
        );
        let Some(mut pixmap) = tiny_skia::Pixmap::new(w, h) else { return Vec::new() };
        let Ok(tree) = usvg::Tree::from_str(&svg, &options(&self.fonts)) else { return Vec::new() };
        resvg::render(&tree, tiny_skia::Transform::default(), &mut pixmap.as_mut());
        let row_bytes = w.div_ceil(8);
        let mut out = Vec::with_capacity(8 + (row_bytes * h) as usize);
        out.extend_from_slice(&[0x1d, 0x76, 0x30, 0x00]);
        out.extend_from_slice(&(row_bytes as u16).to_le_bytes());
        out.extend_from_slice(&(h as u16).to_le_bytes());
        for row in pixmap.data().chunks_exact(4 * w as usize) {
            let mut line = vec![0u8; row_bytes as usize];
            for (x, p) in row.chunks_exact(4).enumerate() {
                let grey =
                    (u32::from(p[0]) * 77 + u32::from(p[1]) * 150 + u32::from(p[2]) * 29) >> 8;
                if grey < 128 {
                    line[x / 8] |= 0x80 >> (x % 8);
                }
            }
            out.extend_from_slice(&line);
        }
        out
    }
}

/// The logo last read, kept while the cache hands back the same stored object.
#[derive(Default)]
pub struct Logos {
    last: Mutex<Option<Kept>>,
}

struct Kept {
    path: AssetPath,
    entry: Option<Arc<crate::assets::store::Entry>>,
    logo: Result<Arc<Logo>, LogoError>,
}

impl Logos {
    /// The logo at `path`, from the asset cache (fetched from the origin on a miss,
    /// like any asset a kiosk asks for).
    pub async fn get(
        &self,
        cache: &Arc<AssetCache>,
        path: &AssetPath,
        fonts: Arc<usvg::fontdb::Database>,
    ) -> Result<Arc<Logo>, LogoError> {
        let unavailable =
            |e: &dyn std::fmt::Display| LogoError::Unavailable(path.to_string(), e.to_string());
        let request = AssetRequest {
            path: path.clone(),
            headers: Vec::new(),
            only_if_cached: false,
            from_peer: false,
        };
        let served = cache.get(&request).await.map_err(|e: AssetError| unavailable(&e))?;
        let (entry, bytes) =
            match served {
                Served::Cached { entry, .. } => {
                    if let Some(kept) = &*self.last.lock().unwrap_or_else(|e| e.into_inner()) {
                        if &kept.path == path
                            && kept.entry.as_ref().is_some_and(|k| Arc::ptr_eq(k, &entry))
                        {
                            return kept.logo.clone();
                        }
                    }
                    if let Some((_, coding)) = entry.meta.headers.iter().find(|(n, v)| {
                        n == "content-encoding" && !v.eq_ignore_ascii_case("identity")
                    }) {
                        return Err(LogoError::Encoded(coding.clone()));
                    }
                    if entry.meta.len > MAX_LOGO_BYTES {
                        return Err(LogoError::TooLarge);
                    }
                    let bytes = match (&entry.memory, &entry.file) {
                        (Some(b), _) => b.to_vec(),
                        (None, Some(file)) => {
                            tokio::fs::read(file).await.map_err(|e| unavailable(&e))?
                        }
                        (None, None) => return Err(unavailable(&"the stored logo has no body")),
                    };
                    (Some(entry), bytes)
                }
                Served::Passed { status, body, .. } => {
                    if status != 200 {
                        return Err(unavailable(&format!("the origin answered {status}")));
                    }
                    match body {
                        PassedBody::Bytes(b) => (None, b.to_vec()),
                        PassedBody::Stream(_) => return Err(LogoError::TooLarge),
                    }
                }
            };
        let logo = tokio::task::spawn_blocking(move || Logo::from_bytes(&bytes, fonts))
            .await
            .map_err(|e| unavailable(&e))?
            .map(Arc::new);
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) =
            Some(Kept { path: path.clone(), entry, logo: logo.clone() });
        logo
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fonts() -> Arc<usvg::fontdb::Database> {
        Arc::new(crate::charts::render::load_fonts())
    }

    /// A 4 × 2 PNG: the left half black, the right half white.
    fn half_black_png() -> Vec<u8> {
        let mut p = tiny_skia::Pixmap::new(4, 2).unwrap();
        p.fill(tiny_skia::Color::WHITE);
        p.fill_rect(
            tiny_skia::Rect::from_xywh(0.0, 0.0, 2.0, 2.0).unwrap(),
            &tiny_skia::Paint {
                shader: tiny_skia::Shader::SolidColor(tiny_skia::Color::BLACK),
                ..Default::default()
            },
            tiny_skia::Transform::identity(),
            None,
        );
        p.encode_png().unwrap()
    }

    #[test]
    fn a_logo_fits_the_box_with_its_shape_kept() {
        let logo = Logo::from_bytes(&half_black_png(), fonts()).unwrap();
        assert_eq!((logo.width, logo.height), (4.0, 2.0));
        // 80 mm: 60% of 576 dots is 345 wide, which would be 173 tall: the height bounds it.
        assert_eq!(logo.fit(576), (240, 120));
        let svg = br#"<svg xmlns="http://www.w3.org/2000/svg" width="400" height="40"/>"#;
        let wide = Logo::from_bytes(svg, fonts()).unwrap();
        assert_eq!(wide.fit(384), (230, 23), "a wide logo is bounded by the width");
    }

    #[test]
    fn the_escpos_logo_is_a_gs_v_0_raster_of_its_dots() {
        let logo = Logo::from_bytes(&half_black_png(), fonts()).unwrap();
        let bits = logo.escpos(576);
        assert_eq!(&bits[..4], &[0x1d, 0x76, 0x30, 0x00]);
        let row_bytes = usize::from(u16::from_le_bytes([bits[4], bits[5]]));
        let rows = usize::from(u16::from_le_bytes([bits[6], bits[7]]));
        assert_eq!((row_bytes, rows), (30, 120), "240 dots are 30 bytes a line");
        assert_eq!(bits.len(), 8 + row_bytes * rows);
        let middle = &bits[8 + row_bytes * 60..8 + row_bytes * 61];
        assert_eq!(middle[0], 0xff, "the left half prints black");
        assert_eq!(middle[row_bytes - 1], 0x00, "the right half stays white");
        assert!(Arc::ptr_eq(&bits, &logo.escpos(576)), "drawn once per paper");
    }

    #[test]
    fn what_is_not_a_logo_is_refused_plainly() {
        assert_eq!(Logo::from_bytes(b"hello", fonts()).unwrap_err(), LogoError::NotAnImage);
        let truncated = &half_black_png()[..20];
        assert_eq!(Logo::from_bytes(truncated, fonts()).unwrap_err(), LogoError::NotAnImage);
        let huge = format!(r#"<svg xmlns="http://www.w3.org/2000/svg" width="5000" height="10"/>"#);
        assert_eq!(
            Logo::from_bytes(huge.as_bytes(), fonts()).unwrap_err(),
            LogoError::TooManyPixels
        );
        let big = vec![b' '; MAX_LOGO_BYTES as usize + 1];
        assert_eq!(Logo::from_bytes(&big, fonts()).unwrap_err(), LogoError::TooLarge);
    }

    #[test]
    fn an_svg_logo_cannot_reach_the_booths_files() {
        let svg = br#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><image href="/etc/hostname" width="10" height="10"/></svg>"#;
        let logo = Logo::from_bytes(svg, fonts()).unwrap();
        let bits = logo.escpos(384);
        assert!(bits[8..].iter().all(|b| *b == 0), "nothing but the logo's own drawing prints");
    }
}
