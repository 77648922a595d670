//! Text on the charts: the bundled DejaVu Sans, its metrics (read with
//! ttf-parser), the one layout of a line of text that both formats share
//! (advances, pair kerning, the anchor conventions of plotters' SVG backend),
//! and [`put`], which draws a line on either backend: glyph by glyph for
//! bitmaps, as glyph outlines (and an invisible `<text>`) for SVG, see
//! [`super::svg_text`].

use std::sync::{Once, OnceLock};

use plotters::prelude::*;
use plotters::style::FontStyle;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use ttf_parser::{Face, GlyphId};

use super::canvas::{Area, Res};
use super::svg_text;

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

fn font(size: f64, color: RGBColor) -> TextStyle<'static> {
    (FONT, size).into_font().color(&color)
}

/// Which backend the text goes to: for bitmaps glyphs are placed here (see
/// [`typeset`]); for SVG as outlines (see [`super::svg_text`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ink {
    Svg,
    Bitmap,
}

/// How a piece of text is drawn: size (plotters' convention: the SVG font
/// size is size / 1.24), colour, anchor, and whether it reads bottom to top.
#[derive(Clone, Copy)]
pub(crate) struct Style {
    size: f64,
    pub(crate) colour: RGBColor,
    h: HPos,
    v: VPos,
    pub(crate) rotated: bool,
}

pub(crate) fn style(size: f64, colour: RGBColor) -> Style {
    Style {
        size,
        colour,
        h: HPos::Left,
        v: VPos::Top,
        rotated: false,
    }
}

impl Style {
    pub(crate) fn at(self, h: HPos, v: VPos) -> Style {
        Style { h, v, ..self }
    }
    pub(crate) fn rotated(self) -> Style {
        Style {
            rotated: true,
            ..self
        }
    }
}

/// Draws `text` at `pos` (pixels, relative to `area`) anchored as `st` says.
pub(crate) fn put<DB: DrawingBackend>(
    area: &Area<DB>,
    ink: Ink,
    text: &str,
    pos: (i32, i32),
    st: Style,
) -> Res<(), DB> {
    if text.is_empty() {
        return Ok(());
    }
    let laid = metrics().map(|m| Line::lay(m, text, st));
    if let (Ink::Bitmap, Some(line)) = (ink, &laid) {
        return typeset(area, line, text, pos, st);
    }
    if let (Ink::Svg, Some(line)) = (ink, &laid) {
        let (bx, by) = area.get_base_pixel();
        svg_text::collect(line, (bx + pos.0, by + pos.1), st);
    }
    let mut ts = font(st.size, st.colour).pos(Pos::new(st.h, st.v));
    if st.rotated {
        ts = ts.transform(FontTransform::Rotate270);
    }
    area.draw(&Text::new(text.to_string(), pos, ts))
}

/// The em of text drawn at `size`, in pixels (as the SVG backend sets it).
fn em(size: f64) -> f64 {
    size / 1.24
}

/// Width of `text` at `size` in pixels, from the font's advances and kerning.
pub(crate) fn text_width(text: &str, size: f64) -> u32 {
    match metrics() {
        Some(m) => {
            let unit = em(size) / m.upem;
            (m.advance_of(text) * unit).ceil().max(0.0) as u32
        }
        None => (text.chars().count() as f64 * em(size) * 0.6) as u32,
    }
}

/// `text`, shortened with an ellipsis to fit `width` pixels.
pub(crate) fn fit(text: &str, size: f64, width: u32) -> String {
    if text_width(text, size) <= width {
        return text.to_string();
    }
    let chars: Vec<char> = text.chars().collect();
    let mut n = chars.len();
    while n > 1 {
        n -= 1;
        let s: String = chars[..n].iter().collect::<String>().trim_end().to_string() + "…";
        if text_width(&s, size) <= width {
            return s;
        }
    }
    "…".into()
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
    fn lay(m: &Metrics, text: &str, st: Style) -> Line {
        let em = em(st.size);
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
        let x0 = match st.h {
            HPos::Left => 0.0,
            HPos::Center => -width / 2.0,
            HPos::Right => -width,
        };
        let base = match st.v {
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

/// Places glyphs for bitmaps. plotters' own ab_glyph path drops each glyph's
/// left side bearing and rounds each glyph's baseline separately, which makes
/// letters dance; here every glyph is rasterised alone by plotters and put
/// where the font's metrics say.
fn typeset<DB: DrawingBackend>(
    area: &Area<DB>,
    line: &Line,
    text: &str,
    pos: (i32, i32),
    st: Style,
) -> Res<(), DB> {
    let Some(m) = metrics() else {
        return Ok(());
    };
    let unit = line.unit;
    let fd = FontDesc::new(FontFamily::Name(FONT), unit * m.height, FontStyle::Normal);
    let mut pixels: Vec<(i32, i32, f32)> = Vec::new();
    let mut buf = [0u8; 4];
    for (c, &(g, pen)) in text.chars().zip(&line.glyphs) {
        let Some((xmin, ymax)) = m.bbox(g) else {
            continue;
        };
        // plotters reports glyph pixels from the glyph box's corner, its
        // rows shifted by a rounded half size: undo both.
        let mut cell: Vec<(i32, i32, f32)> = Vec::new();
        let drawn = fd.draw(c.encode_utf8(&mut buf), (0, 0), |x, y, a| {
            cell.push((x, y, a));
            Ok::<(), ()>(())
        });
        if matches!(drawn, Ok(Ok(()))) && !cell.is_empty() {
            let shift = cell.iter().map(|p| p.1).min().unwrap_or(0);
            let left =
                (line.x0 + pen * unit).round() as i32 + (f64::from(xmin) * unit).floor() as i32;
            let top = line.base.round() as i32 + (-f64::from(ymax) * unit).floor() as i32 - shift;
            pixels.extend(
                cell.into_iter()
                    .filter(|p| p.2 > 0.0)
                    .map(|(x, y, a)| (left + x, top + y, a)),
            );
        }
    }
    for (x, y, a) in pixels {
        let (dx, dy) = if st.rotated { (y, -x) } else { (x, y) };
        area.draw(&Pixel::new(
            (pos.0 + dx, pos.1 + dy),
            st.colour.mix(f64::from(a.min(1.0))),
        ))?;
    }
    Ok(())
}

/// What the typesetting needs from the bundled font, read with ttf-parser:
/// glyph lookup, advances, glyph boxes (as the `glyf` headers give them) and
/// the pair kerning of the first `kern` subtable. A font that does not parse
/// falls back to plotters' own text drawing.
pub(crate) struct Metrics {
    pub(crate) face: Face<'static>,
    upem: f64,
    /// Ascender minus descender (hhea), font units: ab_glyph's pixel scale.
    height: f64,
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
    fn glyph(&self, c: char) -> GlyphId {
        self.face.glyph_index(c).unwrap_or(GlyphId(0))
    }

    /// Advance width of glyph `g`, font units.
    fn advance(&self, g: GlyphId) -> f64 {
        self.face.glyph_hor_advance(g).map_or(0.0, f64::from)
    }

    /// Kerning between `a` and `b`, font units: the first `kern` subtable,
    /// when it is a horizontal format-0 one.
    fn kern(&self, a: GlyphId, b: GlyphId) -> f64 {
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

    fn advance_of_glyphs(&self, glyphs: &[GlyphId]) -> f64 {
        let adv: f64 = glyphs.iter().map(|g| self.advance(*g)).sum();
        let kern: f64 = glyphs.windows(2).map(|w| self.kern(w[0], w[1])).sum();
        adv + kern
    }

    /// Advance of a whole string, font units.
    fn advance_of(&self, text: &str) -> f64 {
        let glyphs: Vec<GlyphId> = text.chars().map(|c| self.glyph(c)).collect();
        self.advance_of_glyphs(&glyphs)
    }

    /// Left edge and top of glyph `g`'s box, font units; None when empty.
    fn bbox(&self, g: GlyphId) -> Option<(i16, i16)> {
        let r = self.face.tables().glyf?.bbox(g)?;
        Some((r.x_min, r.y_max))
    }
}
