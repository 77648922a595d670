//! Panels of stacked horizontal bars, one per design (CPU by category,
//! attribution).

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::axis::{Axis, fmt_num};
use super::backend::{Area, Res};
use super::legend::{Row, Swatch, item};
use super::palette::{INK, MUTED};
use super::plot::{TICK_FONT, axes, build, local, x_label_area};
use super::text::{Ink, put, style, text_width};

/// One bar: segments (category, value) in category order, or a note in its
/// place; `suffix` follows the total printed at its end.
pub(crate) struct Bar {
    pub(crate) segments: Vec<(usize, f64)>,
    pub(crate) note: Option<String>,
    pub(crate) suffix: String,
}

impl Bar {
    pub(crate) fn note(text: &str) -> Bar {
        Bar {
            segments: Vec::new(),
            note: Some(text.into()),
            suffix: String::new(),
        }
    }
}

/// Draws one panel of stacked horizontal bars, one per name, the first at
/// the top.
pub(crate) fn bar_panel<DB: DrawingBackend>(
    area: &Area<DB>,
    ink: Ink,
    (names, bars): (&[String], &[Bar]),
    colour: &dyn Fn(usize) -> RGBColor,
    (x_desc, unit): (&str, &str),
    x_max: Option<f64>,
) -> Res<(), DB> {
    let max = x_max.unwrap_or_else(|| longest(bars));
    let x = Axis::linear(0.0, if max > 0.0 { max * 1.18 } else { 1.0 }, true);
    let y = Axis::categories(names.to_vec());
    let y_w = names_width(names);
    let mut chart = build(area, &x, &y, y_w, x_label_area(true))?;
    axes(area, ink, &mut chart, (&x, &y), x_desc, "")?;
    let half = if names.len() <= 1 { 0.3 } else { 0.34 };
    for (i, b) in bars.iter().enumerate() {
        let c = y.slot(i);
        let mut at = 0.0;
        for &(cat, v) in &b.segments {
            if v <= 0.0 || !v.is_finite() {
                continue;
            }
            let r = [(at, c - half), (at + v, c + half)];
            chart.draw_series(std::iter::once(Rectangle::new(r, colour(cat).filled())))?;
            chart.draw_series(std::iter::once(Rectangle::new(r, WHITE.stroke_width(1))))?;
            at += v;
        }
        let (label, tone) = match &b.note {
            Some(n) => (n.clone(), MUTED),
            None => (format!("{} {unit}{}", fmt_num(at), b.suffix), INK),
        };
        let (px, py) = local(area, &chart, (at, c));
        put(
            area,
            ink,
            &label,
            (px + 8, py),
            style(16.0, tone).at(HPos::Left, VPos::Center),
        )?;
    }
    Ok(())
}

/// The longest bar's length.
pub(crate) fn longest(bars: &[Bar]) -> f64 {
    bars.iter()
        .map(|b| {
            b.segments
                .iter()
                .map(|s| s.1)
                .filter(|v| *v > 0.0)
                .sum::<f64>()
        })
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max)
}

/// Width of the label area for design names left of bars.
pub(crate) fn names_width(names: &[String]) -> u32 {
    names
        .iter()
        .map(|n| text_width(n, TICK_FONT))
        .max()
        .unwrap_or(0)
        .clamp(40, 260)
        + 24
}

/// The rows of `cats` that some bar uses, as legend blocks.
pub(crate) fn used_rows(
    cats: &[String],
    bars: &[&[Bar]],
    colour: &dyn Fn(usize) -> RGBColor,
    label: &dyn Fn(&str) -> String,
) -> Vec<Row> {
    (0..cats.len())
        .filter(|i| {
            bars.iter()
                .flat_map(|b| b.iter())
                .any(|b| b.segments.iter().any(|s| s.0 == *i && s.1 > 0.0))
        })
        .map(|i| item(Swatch::Block(colour(i)), label(&cats[i])))
        .collect()
}
