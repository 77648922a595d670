//! The legend column right of a chart: headings, swatches with labels,
//! notes, and a count of the rows that do not fit.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::backend::{Area, Res};
use super::canvas::{Marker, marker_px};
use super::palette::{GRID_BOLD, INK, MUTED, WARMUP};
use super::text::{Ink, fit, put, style};

pub(crate) const LEGEND_FONT: f64 = 16.0;
/// Width of the legend column, pixels.
pub(crate) const LEGEND_W: u32 = 290;

/// What a legend row shows left of its label.
#[derive(Debug, Clone)]
pub(crate) enum Swatch {
    Line {
        colour: RGBColor,
        dashed: bool,
        marker: Option<Marker>,
    },
    Band(RGBColor),
    ErrorBar(RGBColor),
    Cross(RGBColor),
    Block(RGBColor),
    Shade,
}

#[derive(Debug, Clone)]
pub(crate) enum Row {
    Heading(String),
    Item(Swatch, String),
    Note(String),
}

pub(crate) fn item(s: Swatch, label: impl Into<String>) -> Row {
    Row::Item(s, label.into())
}

pub(crate) fn line_swatch(colour: RGBColor, marker: Option<Marker>) -> Swatch {
    Swatch::Line {
        colour,
        dashed: false,
        marker,
    }
}

pub(crate) fn draw_swatch<DB: DrawingBackend>(
    area: &Area<DB>,
    swatch: &Swatch,
    y: i32,
) -> Res<(), DB> {
    let (x0, x1) = (12, 48);
    match swatch {
        Swatch::Line {
            colour,
            dashed,
            marker,
        } => {
            if *dashed {
                for k in 0..3 {
                    let a = x0 + k * 13;
                    area.draw(&PathElement::new(
                        vec![(a, y), ((a + 8).min(x1), y)],
                        colour.stroke_width(2),
                    ))?;
                }
            } else {
                area.draw(&PathElement::new(
                    vec![(x0, y), (x1, y)],
                    colour.stroke_width(3),
                ))?;
            }
            if let Some(m) = marker {
                marker_px(area, ((x0 + x1) / 2, y), *m, 5, colour.filled())?;
            }
        }
        Swatch::Band(c) => {
            area.draw(&Rectangle::new(
                [(x0, y - 8), (x1, y + 8)],
                c.mix(0.2).filled(),
            ))?;
            area.draw(&PathElement::new(vec![(x0, y), (x1, y)], c.stroke_width(2)))?;
        }
        Swatch::ErrorBar(c) => {
            let (m, st) = ((x0 + x1) / 2, c.stroke_width(2));
            area.draw(&PathElement::new(vec![(m, y - 9), (m, y + 9)], st))?;
            area.draw(&PathElement::new(vec![(m - 4, y - 9), (m + 4, y - 9)], st))?;
            area.draw(&PathElement::new(vec![(m - 4, y + 9), (m + 4, y + 9)], st))?;
        }
        Swatch::Cross(c) => {
            area.draw(&Cross::new(((x0 + x1) / 2, y), 7, c.stroke_width(3)))?;
        }
        Swatch::Block(c) => {
            area.draw(&Rectangle::new(
                [(x0 + 6, y - 8), (x1 - 6, y + 8)],
                c.filled(),
            ))?;
        }
        Swatch::Shade => {
            let r = [(x0 + 6, y - 8), (x1 - 6, y + 8)];
            area.draw(&Rectangle::new(r, WARMUP.filled()))?;
            area.draw(&Rectangle::new(r, GRID_BOLD.stroke_width(1)))?;
        }
    }
    Ok(())
}

/// The legend column: headings, swatches with labels, notes; rows that do
/// not fit are counted in a last line.
pub(crate) fn draw_legend<DB: DrawingBackend>(
    area: &Area<DB>,
    ink: Ink,
    rows: &[Row],
) -> Res<(), DB> {
    let (w, h) = area.dim_in_pixel();
    let text_x = 58;
    let label_w = w.saturating_sub(text_x as u32 + 8);
    let row_h = 27;
    let mut y = 26;
    for (i, row) in rows.iter().enumerate() {
        if matches!(row, Row::Heading(_)) && i > 0 {
            y += 8;
        }
        if y + row_h > h as i32 - 8 && i + 1 < rows.len() {
            put(
                area,
                ink,
                &format!("… and {} more", rows.len() - i),
                (12, y),
                style(LEGEND_FONT, MUTED).at(HPos::Left, VPos::Center),
            )?;
            break;
        }
        match row {
            Row::Heading(t) => put(
                area,
                ink,
                &fit(t, LEGEND_FONT, w.saturating_sub(20)),
                (12, y),
                style(LEGEND_FONT, MUTED).at(HPos::Left, VPos::Center),
            )?,
            Row::Note(t) => {
                put(
                    area,
                    ink,
                    &fit(t, 14.5, w.saturating_sub(20)),
                    (12, y),
                    style(14.5, MUTED).at(HPos::Left, VPos::Center),
                )?;
                y -= 4;
            }
            Row::Item(swatch, label) => {
                draw_swatch(area, swatch, y)?;
                put(
                    area,
                    ink,
                    &fit(label, LEGEND_FONT, label_w),
                    (text_x, y),
                    style(LEGEND_FONT, INK).at(HPos::Left, VPos::Center),
                )?;
            }
        }
        y += row_h;
    }
    Ok(())
}
