//! The bundled DejaVu Sans: registered with plotters for the bitmaps'
//! glyph rasters, and read with ttf-parser for what the layout needs
//! (advances, pair kerning, glyph boxes, outlines); [`Line`], the one layout
//! of a line of text that both formats share.

use std::sync::{Once, OnceLock};

use plotters::style::FontStyle;
use plotters::style::text_anchor::{HPos, VPos};
use ttf_parser::{Face, GlyphId};

/// The family name the font is registered under with plotters.
pub(crate) const FONT: &str = "sans-serif";
const FONT_BYTES: &[u8] = include_bytes!("fonts/DejaVuSans.ttf");

/// Registers the bundled font with plotters (once per process).
pub(crate) fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // A font that fails to parse makes every text draw return an error,
        // which render_all reports; nothing to do here.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES);
    });
}

/// The em of text drawn at `size`, in pixels (as the SVG backend sets it).
pub(crate) fn em(size: f64) -> f64 {
    size / 1.24
}

/// One line of text laid out: its glyphs with their pen positions (font
/// units from the line's start), and where the line starts relative to the
/// anchor point (pixels): the SVG's anchor conventions (top: baseline 0.76
/// em down; centre: 0.5 ex; bottom: -0.5 ex).
pub(crate) struct Line {
    /// Pixels per font unit.
    pub(crate) unit: f64,
    /// (glyph, pen position in font units), in reading order.
    pub(crate) glyphs: Vec<(GlyphId, f64)>,
    /// Start of the line from the anchor, pixels (before rounding).
    pub(crate) x0: f64,
    /// Baseline from the anchor, pixels (before rounding).
    pub(crate) base: f64,
}

impl Line {
    /// Lays out `text` at `size`, anchored as `h` and `v` say.
    pub(crate) fn lay(m: &Metrics, text: &str, size: f64, (h, v): (HPos, VPos)) -> Line {
        let em = em(size);
        let unit = em / m.upem;
        let ids: Vec<GlyphId> = text.chars().map(|c| m.glyph(c)).collect();
        let mut pen = 0.0;
        let mut glyphs = Vec::with_capacity(ids.len());
        for (i, &g) in ids.iter().enumerate() {
            if i > 0 {
                pen += m.kern(ids[i - 1], g);
            }
            glyphs.push((g, pen));
            pen += m.advance(g);
        }
        let width = m.advance_of_glyphs(&ids) * unit;
        let x0 = match h {
            HPos::Left => 0.0,
            HPos::Center => -width / 2.0,
            HPos::Right => -width,
        };
        let base = match v {
            VPos::Top => 0.76 * em,
            VPos::Center => 0.5 * m.x_height * unit,
            VPos::Bottom => -0.5 * m.x_height * unit,
        };
        Line {
            unit,
            glyphs,
            x0,
            base,
        }
    }
}

/// What the typesetting needs from the bundled font, read with ttf-parser:
/// glyph lookup, advances, glyph boxes (as the `glyf` headers give them) and
/// the pair kerning of the first `kern` subtable. A font that does not parse
/// falls back to plotters' own text drawing.
pub(crate) struct Metrics {
    pub(crate) face: Face<'static>,
    pub(crate) upem: f64,
    /// Ascender minus descender (hhea), font units: ab_glyph's pixel scale.
    pub(crate) height: f64,
    x_height: f64,
}

pub(crate) fn metrics() -> Option<&'static Metrics> {
    static M: OnceLock<Option<Metrics>> = OnceLock::new();
    M.get_or_init(|| Metrics::parse(FONT_BYTES)).as_ref()
}

impl Metrics {
    fn parse(data: &'static [u8]) -> Option<Metrics> {
        let face = Face::parse(data, 0).ok()?;
        let hhea = face.tables().hhea;
        let upem = f64::from(face.units_per_em());
        let height = f64::from(hhea.ascender) - f64::from(hhea.descender);
        if upem <= 0.0 || height <= 0.0 {
            return None;
        }
        let mut m = Metrics {
            face,
            upem,
            height,
            x_height: 0.0,
        };
        m.x_height = m
            .bbox(m.glyph('x'))
            .map_or(m.upem * 0.55, |(_, ymax)| f64::from(ymax));
        Some(m)
    }

    /// Glyph of `c` (0, the missing glyph, if the font lacks it).
    pub(crate) fn glyph(&self, c: char) -> GlyphId {
        self.face.glyph_index(c).unwrap_or(GlyphId(0))
    }

    /// Advance width of glyph `g`, font units.
    pub(crate) fn advance(&self, g: GlyphId) -> f64 {
        self.face.glyph_hor_advance(g).map_or(0.0, f64::from)
    }

    /// Kerning between `a` and `b`, font units: the first `kern` subtable,
    /// when it is a horizontal format-0 one.
    pub(crate) fn kern(&self, a: GlyphId, b: GlyphId) -> f64 {
        let Some(kern) = self.face.tables().kern else {
            return 0.0;
        };
        match kern.subtables.into_iter().next() {
            Some(t)
                if t.horizontal
                    && !t.has_cross_stream
                    && !t.variable
                    && matches!(t.format, ttf_parser::kern::Format::Format0(_)) =>
            {
                t.glyphs_kerning(a, b).map_or(0.0, f64::from)
            }
            _ => 0.0,
        }
    }

    pub(crate) fn advance_of_glyphs(&self, glyphs: &[GlyphId]) -> f64 {
        let adv: f64 = glyphs.iter().map(|g| self.advance(*g)).sum();
        let kern: f64 = glyphs.windows(2).map(|w| self.kern(w[0], w[1])).sum();
        adv + kern
    }

    /// Advance of a whole string, font units.
    pub(crate) fn advance_of(&self, text: &str) -> f64 {
        let glyphs: Vec<GlyphId> = text.chars().map(|c| self.glyph(c)).collect();
        self.advance_of_glyphs(&glyphs)
    }

    /// Left edge and top of glyph `g`'s box, font units; None when empty.
    pub(crate) fn bbox(&self, g: GlyphId) -> Option<(i16, i16)> {
        let r = self.face.tables().glyf?.bbox(g)?;
        Some((r.x_min, r.y_max))
    }
}
