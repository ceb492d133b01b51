//! Figures: [`coef::CoefPlot`] (coefficients with confidence intervals across saved fit
//! results) and [`map::FirmMap`] (firms on a longitude/latitude plane coloured by a culture
//! measure, with the historical jinshi prefectures).
//!
//! Data flow: a figure is built from its inputs (validated there), then [`save`] picks the
//! backend from the file extension ([`PlotFormat`]: SVG or PNG) and calls the figure's
//! [`Figure::draw`] on a plotters drawing area.
//!
//! Text: every label uses the bundled font [`FONT_BYTES`] (WenQuanYi Micro Hei, Apache-2.0;
//! see `assets/README.md`), registered with plotters' pure-Rust `ab_glyph` text backend, so no
//! system font library is needed and Chinese labels render. PNG text is rasterized with that
//! font; SVG text stays `<text>` elements with `font-family` [`FONT_FAMILY`] (laid out with the
//! bundled font's metrics; the viewer draws it with the named family or its sans-serif
//! fallback).

pub mod coef;
pub mod map;

use std::path::Path;
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::{Error, Result};

/// The bundled font: WenQuanYi Micro Hei 0.2.0-beta (Debian `fonts-wqy-microhei`
/// 0.2.0-beta-3.1), a TrueType collection whose face 0 is used. Licence Apache-2.0.
pub const FONT_BYTES: &[u8] = include_bytes!("../../../assets/fonts/wqy-microhei.ttc");

/// The family name under which the bundled font is registered, and which SVG output names in
/// `font-family` (a CSS list: the font, then the generic `sans-serif`).
pub const FONT_FAMILY: &str = "WenQuanYi Micro Hei, sans-serif";

/// Result type of drawing code (plotters errors are boxed, then mapped by [`save`]).
pub type DrawResult = std::result::Result<(), Box<dyn std::error::Error>>;

/// Register the bundled font with plotters once.
///
/// **Errors**: [`Error::Schema`] if the embedded font does not parse (it does: tested).
pub fn ensure_font() -> Result<()> {
    static OK: OnceLock<bool> = OnceLock::new();
    let ok = *OK.get_or_init(|| {
        plotters::style::register_font(FONT_FAMILY, FontStyle::Normal, FONT_BYTES).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(Error::Schema {
            path: "assets/fonts/wqy-microhei.ttc".into(),
            message: "the bundled font does not parse".into(),
        })
    }
}

/// The bundled font at `size` pixels.
pub fn font(size: f64) -> FontDesc<'static> {
    FontDesc::new(FontFamily::Name(FONT_FAMILY), size, FontStyle::Normal)
}

/// Image formats, chosen by the output file's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlotFormat {
    /// Scalable vector graphics (`.svg`), text as `<text>` elements.
    Svg,
    /// Portable network graphics (`.png`), text rasterized with the bundled font.
    Png,
}

impl PlotFormat {
    /// Every format with its extension.
    pub const TABLE: [(PlotFormat, &'static str); 2] =
        [(PlotFormat::Svg, "svg"), (PlotFormat::Png, "png")];

    /// The format for a file name by its extension (case-insensitive).
    ///
    /// **Errors**: [`Error::Usage`] for a missing or unknown extension.
    pub fn from_path(path: &Path) -> Result<PlotFormat> {
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        PlotFormat::TABLE
            .iter()
            .find(|(_, e)| *e == ext)
            .map(|(f, _)| *f)
            .ok_or_else(|| {
                Error::usage(format!(
                    "--out {}: unknown image format {}(expected a .svg or .png file)",
                    path.display(),
                    if ext.is_empty() {
                        String::new()
                    } else {
                        format!("\".{ext}\" ")
                    }
                ))
            })
    }
}

/// A figure that can draw itself on any plotters backend.
pub trait Figure {
    /// Width and height in pixels.
    fn size(&self) -> (u32, u32);

    /// Draw on `root` (already filled white).
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static;
}

/// Draw `figure` into `path`, SVG or PNG by extension.
///
/// **Errors**: [`Error::Usage`] for an unknown extension; [`Error::Io`] when drawing or writing
/// fails (e.g. the directory does not exist).
pub fn save<F: Figure>(figure: &F, path: &Path) -> Result<()> {
    let format = PlotFormat::from_path(path)?;
    ensure_font()?;
    let size = figure.size();
    let drawn: DrawResult = match format {
        PlotFormat::Svg => {
            let root = SVGBackend::new(path, size).into_drawing_area();
            draw_on(figure, &root)
        }
        PlotFormat::Png => {
            let root = BitMapBackend::new(path, size).into_drawing_area();
            draw_on(figure, &root)
        }
    };
    drawn.map_err(|e| Error::Io {
        path: path.display().to_string(),
        message: format!("cannot draw the figure: {e}"),
    })
}

/// Draw `figure` as an SVG document in memory (for tests and previews).
///
/// **Errors**: [`Error::Io`] (path `<svg>`) when drawing fails.
pub fn to_svg_string<F: Figure>(figure: &F) -> Result<String> {
    ensure_font()?;
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, figure.size()).into_drawing_area();
        draw_on(figure, &root).map_err(|e| Error::Io {
            path: "<svg>".into(),
            message: format!("cannot draw the figure: {e}"),
        })?;
    }
    Ok(out)
}

fn draw_on<F: Figure, DB: DrawingBackend>(figure: &F, root: &DrawingArea<DB, Shift>) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    figure.draw(root)?;
    root.present()?;
    Ok(())
}

/// Series colours (Tableau 10), cycled.
pub const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// Viridis at five stops; [`viridis`] interpolates linearly between them.
const VIRIDIS: [(u8, u8, u8); 5] = [
    (68, 1, 84),
    (59, 82, 139),
    (33, 145, 140),
    (94, 201, 98),
    (253, 231, 37),
];

/// The viridis colour at `t` in [0, 1] (clamped; NaN gives the middle colour).
pub fn viridis(t: f64) -> RGBColor {
    let t = if t.is_nan() { 0.5 } else { t.clamp(0.0, 1.0) };
    let x = t * (VIRIDIS.len() - 1) as f64;
    let i = (x.floor() as usize).min(VIRIDIS.len() - 2);
    let f = x - i as f64;
    let mix = |a: u8, b: u8| (a as f64 + f * (b as f64 - a as f64)).round() as u8;
    let (a, b) = (VIRIDIS[i], VIRIDIS[i + 1]);
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Round tick label: up to 4 significant digits, no trailing zeros.
pub fn tick_label(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let mag = v.abs().log10().floor() as i32;
    let decimals = (3 - mag).clamp(0, 8) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// The trimmed contents of an SVG document's `<text>` elements (for tests).
#[cfg(test)]
pub(crate) fn svg_texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| {
            let body = &t[t.find('>')? + 1..];
            Some(body[..body.find("</text>")?].trim().to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_font_parses() {
        ensure_font().unwrap();
    }

    #[test]
    fn format_from_extension() {
        assert_eq!(
            PlotFormat::from_path(Path::new("a/b.SVG")).unwrap(),
            PlotFormat::Svg
        );
        assert_eq!(
            PlotFormat::from_path(Path::new("b.png")).unwrap(),
            PlotFormat::Png
        );
        let e = PlotFormat::from_path(Path::new("b.pdf")).unwrap_err();
        assert!(e.to_string().contains("\".pdf\""), "{e}");
        assert!(PlotFormat::from_path(Path::new("b")).is_err());
    }

    #[test]
    fn viridis_ends() {
        assert_eq!(viridis(0.0), RGBColor(68, 1, 84));
        assert_eq!(viridis(1.0), RGBColor(253, 231, 37));
        assert_eq!(viridis(0.5), RGBColor(33, 145, 140));
    }

    #[test]
    fn ticks() {
        assert_eq!(tick_label(0.25), "0.25");
        assert_eq!(tick_label(1200.0), "1200");
        assert_eq!(tick_label(-0.0123456), "-0.01235");
    }
}
