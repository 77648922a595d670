//! A plot on an area: label areas sized to the tick labels, the grid, the
//! axes and their labels (typeset here, not by plotters, so both formats
//! share one layout), and data-to-pixel conversions.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::axis::{Axis, Scale};
use super::backend::{Area, Res};
use super::font::FONT;
use super::palette::{GRID_BOLD, GRID_LIGHT, INK, MUTED};
use super::text::{Ink, fit, put, style};

/// A plot with the charts' own axes.
pub(crate) type Plot<'a, DB> = ChartContext<'a, DB, Cartesian2d<Axis, Axis>>;

pub(crate) const TICK_FONT: f64 = 16.0;
pub(crate) const DESC_FONT: f64 = 18.0;

/// Width of the area left of a plot: tick labels, plus the axis title.
pub(crate) fn y_label_area(y: &Axis, desc: bool) -> u32 {
    y.label_width(TICK_FONT).min(300) + if desc { 50 } else { 20 }
}

/// Height of the area under a plot: tick labels, plus the axis title.
pub(crate) fn x_label_area(desc: bool) -> u32 {
    if desc { 64 } else { 34 }
}

/// A plot on `area` with the given label areas, nothing drawn yet.
pub(crate) fn build<'a, DB: DrawingBackend>(
    area: &'a Area<DB>,
    x: &Axis,
    y: &Axis,
    y_label_w: u32,
    x_label_h: u32,
) -> Res<Plot<'a, DB>, DB> {
    ChartBuilder::on(area)
        .margin_top(12)
        .margin_right(24)
        .x_label_area_size(x_label_h)
        .y_label_area_size(y_label_w)
        .build_cartesian_2d(x.clone(), y.clone())
}

/// Grid, axes, tick labels and axis titles. The labels are drawn here
/// rather than by plotters so that both formats share one typesetting.
pub(crate) fn axes<DB: DrawingBackend>(
    area: &Area<DB>,
    ink: Ink,
    chart: &mut Plot<'_, DB>,
    (x, y): (&Axis, &Axis),
    x_desc: &str,
    y_desc: &str,
) -> Res<(), DB> {
    let mut mesh = chart.configure_mesh();
    mesh.label_style((FONT, TICK_FONT).into_font().color(&TRANSPARENT))
        .bold_line_style(GRID_BOLD.stroke_width(1))
        .light_line_style(GRID_LIGHT.stroke_width(1))
        .axis_style(MUTED.stroke_width(1))
        .set_all_tick_mark_size(5);
    if matches!(y.scale, Scale::Category(_)) {
        mesh.disable_y_mesh();
    }
    mesh.draw()?;

    let (bx, by) = area.get_base_pixel();
    let (_, h) = area.dim_in_pixel();
    let (xr, yr) = chart.plotting_area().get_pixel_range();
    let inside = |t: f64, a: &Axis| t >= a.lo - 1e-9 && t <= a.hi + 1e-9;
    let tick = style(TICK_FONT, INK);
    for &t in x.ticks.iter().filter(|t| inside(**t, x)) {
        let (px, py) = chart.backend_coord(&(t, y.lo));
        put(
            area,
            ink,
            &x.label(t),
            (px - bx, py - by + 9),
            tick.at(HPos::Center, VPos::Top),
        )?;
    }
    let room = (xr.start - bx - if y_desc.is_empty() { 14 } else { 44 }).max(20) as u32;
    for &t in y.ticks.iter().filter(|t| inside(**t, y)) {
        let (px, py) = chart.backend_coord(&(x.lo, t));
        put(
            area,
            ink,
            &fit(&y.label(t), TICK_FONT, room),
            (px - bx - 9, py - by),
            tick.at(HPos::Right, VPos::Center),
        )?;
    }
    if !x_desc.is_empty() {
        let w = (xr.end - xr.start).max(40) as u32 + 100;
        put(
            area,
            ink,
            &fit(x_desc, DESC_FONT, w),
            ((xr.start + xr.end) / 2 - bx, h as i32 - 10),
            style(DESC_FONT, INK).at(HPos::Center, VPos::Bottom),
        )?;
    }
    if !y_desc.is_empty() {
        let len = (yr.end - yr.start).max(40) as u32;
        put(
            area,
            ink,
            &fit(y_desc, DESC_FONT, len),
            (6, (yr.start + yr.end) / 2 - by),
            style(DESC_FONT, INK).at(HPos::Center, VPos::Top).rotated(),
        )?;
    }
    Ok(())
}

/// A plot with its axes drawn, label areas sized to fit.
pub(crate) fn plot<'a, DB: DrawingBackend>(
    area: &'a Area<DB>,
    ink: Ink,
    x: &Axis,
    y: &Axis,
    x_desc: &str,
    y_desc: &str,
) -> Res<Plot<'a, DB>, DB> {
    let mut chart = build(
        area,
        x,
        y,
        y_label_area(y, !y_desc.is_empty()),
        x_label_area(!x_desc.is_empty()),
    )?;
    axes(area, ink, &mut chart, (x, y), x_desc, y_desc)?;
    Ok(chart)
}

/// `at` in data coordinates as pixels relative to `area`.
pub(crate) fn local<DB: DrawingBackend>(
    area: &Area<DB>,
    chart: &Plot<'_, DB>,
    at: (f64, f64),
) -> (i32, i32) {
    let (px, py) = chart.backend_coord(&at);
    let (bx, by) = area.get_base_pixel();
    (px - bx, py - by)
}

/// Text centred in the plotting area, for plots with no data to draw.
pub(crate) fn note_in_plot<DB: DrawingBackend>(
    area: &Area<DB>,
    ink: Ink,
    chart: &Plot<'_, DB>,
    text: &str,
) -> Res<(), DB> {
    let (xr, yr) = chart.plotting_area().get_pixel_range();
    let (bx, by) = area.get_base_pixel();
    put(
        area,
        ink,
        text,
        ((xr.start + xr.end) / 2 - bx, (yr.start + yr.end) / 2 - by),
        style(18.0, MUTED).at(HPos::Center, VPos::Center),
    )
}
