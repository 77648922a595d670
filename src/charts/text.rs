//! Text on the charts: [`Style`], widths and fitting, and [`put`], which
//! draws a line laid out by [`super::font::Line`] on either backend: glyph
//! by glyph for bitmaps, as glyph outlines (and an invisible `<text>`) for
//! SVG, see [`super::svg_text`].

use plotters::prelude::*;
use plotters::style::FontStyle;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::backend::{Area, Res};
use super::font::{FONT, Line, em, metrics};
use super::svg_text;

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
    let laid = metrics().map(|m| Line::lay(m, text, st.size, (st.h, st.v)));
    if let (Ink::Bitmap, Some(line)) = (ink, &laid) {
        return typeset(area, line, text, pos, st);
    }
    if let (Ink::Svg, Some(line)) = (ink, &laid) {
        let (bx, by) = area.get_base_pixel();
        svg_text::collect(line, (bx + pos.0, by + pos.1), st.rotated, st.colour);
    }
    let mut ts = font(st.size, st.colour).pos(Pos::new(st.h, st.v));
    if st.rotated {
        ts = ts.transform(FontTransform::Rotate270);
    }
    area.draw(&Text::new(text.to_string(), pos, ts))
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
    let cut = |n: usize| chars[..n].iter().collect::<String>().trim_end().to_string() + "…";
    // The longest prefix that fits, by bisection: widths grow with the
    // prefix, and measuring every prefix of a long title is quadratic.
    let (mut fits, mut too_long) = (0, chars.len());
    while too_long - fits > 1 {
        let mid = fits + (too_long - fits) / 2;
        if text_width(&cut(mid), size) <= width {
            fits = mid;
        } else {
            too_long = mid;
        }
    }
    if fits == 0 { "…".into() } else { cut(fits) }
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
