//! Chart 1: p50 and p99 latency against offered load, one line per design
//! (and combination of extra parameters), the p99 confidence as bands or
//! error bars, saturated points as an X along the top.

use plotters::prelude::*;

use super::axis::Axis;
use super::backend::{Area, Res};
use super::canvas::{Marker, marker};
use super::entries;
use super::legend::{LEGEND_W, Row, Swatch, draw_legend, item, line_swatch};
use super::palette::KEY;
use super::plot::Plot;
use super::plot::{local, note_in_plot, plot};
use super::study::{Ctx, LoadLine, finite, frame, load_axis, load_legend, runs, same_rate};
use super::text::Ink;
use crate::report::figures::Chart;
use crate::report::study::PointResult;

/// What the latency axis is drawn from: the percentiles (p50 and p99 means,
/// positive), the upper p99 confidence bounds, and whether any point has a
/// confidence interval or saturated.
#[derive(Default)]
struct Span {
    ys: Vec<f64>,
    upper: Vec<f64>,
    any_ci: bool,
    any_sat: bool,
}

fn span(cx: &Ctx) -> Span {
    let mut ys = Vec::new();
    let mut upper = Vec::new();
    let mut any_ci = false;
    let mut any_sat = false;
    for l in &cx.lines {
        for (_, p) in &l.points {
            match cx.latency(p) {
                Some(lat) => {
                    ys.push(lat.p50.mean);
                    ys.push(lat.p99.mean);
                    if let Some(ci) = lat.p99.ci95.and_then(finite) {
                        any_ci = true;
                        upper.push(lat.p99.mean + ci);
                    }
                }
                None => any_sat |= p.summary.saturated.is_some(),
            }
        }
    }
    let ys: Vec<f64> = ys
        .into_iter()
        .filter(|v| v.is_finite() && *v > 0.0)
        .collect();
    Span {
        ys,
        upper,
        any_ci,
        any_sat,
    }
}

pub(crate) fn draw<DB: DrawingBackend>(cx: &Ctx, root: &Area<DB>, ink: Ink) -> Res<(), DB> {
    let lines = entries::subtitle(cx, cx.load_subtitle());
    let body = frame(root, ink, Chart::LatencyVsLoad, &lines)?;
    let (w, _) = body.dim_in_pixel();
    let (left, legend) = body.split_horizontally(w.saturating_sub(LEGEND_W));
    // Shaded bands while they stay readable; error bars beyond four lines.
    let bands = cx.lines.len() <= 4;
    let sp = if cx.per_entry() {
        // The legend's key: any panel's intervals and saturation marks.
        let mut all = Span::default();
        entries::grid(cx, &left, ink, |e, area| {
            let sp = panel(e, area, ink, bands)?;
            all.any_ci |= sp.any_ci;
            all.any_sat |= sp.any_sat;
            Ok(())
        })?;
        all
    } else {
        panel(cx, &left, ink, bands)?
    };
    draw_legend(&legend, ink, &legend_rows(cx, &sp, bands))
}

/// The p50 and p99 lines of `cx`'s requests on `left`; returns what they
/// spanned, for the legend.
fn panel<DB: DrawingBackend>(cx: &Ctx, left: &Area<DB>, ink: Ink, bands: bool) -> Res<Span, DB> {
    // The scale follows the percentiles themselves; confidence bounds may
    // widen it a little but never drive it (two replications give t = 12.7).
    let sp = span(cx);
    let top = sp.ys.iter().copied().fold(0.0, f64::max);
    let mut scale = sp.ys.clone();
    scale.extend(sp.upper.iter().map(|u| u.min(top * 1.5)));
    let x = load_axis(cx);
    // Headroom at the top for the saturation marks.
    let y = Axis::scaled(&sp.ys, &scale, if sp.any_sat { 0.14 } else { 0.06 });
    let y_desc = if y.is_log() {
        "Latency (ms, log scale)"
    } else {
        "Latency (ms)"
    };
    let mut chart = plot(left, ink, &x, &y, cx.load_desc(), y_desc)?;
    if sp.ys.is_empty() {
        note_in_plot(
            left,
            ink,
            &chart,
            "Every point saturated: no latency figures",
        )?;
    }
    for l in &cx.lines {
        draw_line(cx, left, &mut chart, &y, l, bands)?;
    }
    saturation_marks(cx, &chart, &y)?;
    Ok(sp)
}

/// One line's p50 and p99 runs with the p99 confidence (a band over
/// consecutive points, or error bars at their load).
fn draw_line<'a, DB: DrawingBackend>(
    cx: &Ctx,
    left: &Area<DB>,
    chart: &mut Plot<'_, DB>,
    y: &Axis,
    l: &LoadLine<'a>,
    bands: bool,
) -> Res<(), DB> {
    let c = l.colour();
    let y_lo_data = y.from(y.lo);
    let ok = |(x, p): (f64, &'a PointResult)| cx.latency(p).map(move |lat| (x, lat));
    for run in runs(&l.points, ok) {
        // 95% CI of p99: a band over consecutive points, a bar for an
        // isolated one.
        let band: Vec<(f64, f64, f64)> = run
            .iter()
            .filter_map(|(x, lat)| {
                let ci = lat.p99.ci95.and_then(finite)?;
                let m = lat.p99.mean;
                Some((*x, y.clamp((m - ci).max(y_lo_data)), y.clamp(m + ci)))
            })
            .collect();
        if bands && band.len() == run.len() && band.len() > 1 {
            let mut poly: Vec<(f64, f64)> = band.iter().map(|b| (b.0, b.2)).collect();
            poly.extend(band.iter().rev().map(|b| (b.0, b.1)));
            chart.draw_series(std::iter::once(Polygon::new(poly, c.mix(0.16).filled())))?;
        } else {
            for (bx, lo, hi) in &band {
                let (px, plo) = local(left, chart, (*bx, *lo));
                let (_, phi) = local(left, chart, (*bx, *hi));
                let st = c.mix(0.8).stroke_width(2);
                left.draw(&PathElement::new(vec![(px, plo), (px, phi)], st))?;
                left.draw(&PathElement::new(vec![(px - 4, plo), (px + 4, plo)], st))?;
                left.draw(&PathElement::new(vec![(px - 4, phi), (px + 4, phi)], st))?;
            }
        }
        let p99: Vec<(f64, f64)> = run
            .iter()
            .map(|(x, lat)| (*x, y.clamp(lat.p99.mean)))
            .collect();
        let p50: Vec<(f64, f64)> = run
            .iter()
            .map(|(x, lat)| (*x, y.clamp(lat.p50.mean)))
            .collect();
        chart.draw_series(DashedLineSeries::new(p50.clone(), 10, 7, c.stroke_width(2)))?;
        chart.draw_series(LineSeries::new(p99.clone(), c.stroke_width(3)))?;
        for pt in &p50 {
            marker(chart, *pt, l.marker(), 4, WHITE.filled())?;
            marker(chart, *pt, l.marker(), 4, c.stroke_width(2))?;
        }
        for pt in &p99 {
            marker(chart, *pt, l.marker(), 5, c.filled())?;
        }
    }
    Ok(())
}

/// Saturated points: an X along the top, stacked downwards when several
/// lines saturate at the same load.
fn saturation_marks<DB: DrawingBackend>(cx: &Ctx, chart: &Plot<'_, DB>, y: &Axis) -> Res<(), DB> {
    let mut stacked: Vec<(f64, i32)> = Vec::new();
    for l in &cx.lines {
        for (x, p) in &l.points {
            if p.summary.saturated.is_none() {
                continue;
            }
            let k = match stacked
                .iter_mut()
                .find(|(sx, _)| same_rate(Some(*sx), Some(*x)))
            {
                Some((_, k)) => {
                    *k += 1;
                    *k
                }
                None => {
                    stacked.push((*x, 0));
                    0
                }
            };
            chart.plotting_area().draw(
                &(EmptyElement::at((*x, y.hi))
                    + Cross::new((0, 14 + 15 * k), 6, l.colour().stroke_width(3))),
            )?;
        }
    }
    Ok(())
}

fn legend_rows(cx: &Ctx, sp: &Span, bands: bool) -> Vec<Row> {
    let mut rows = load_legend(cx);
    rows.push(Row::Heading("Key".into()));
    rows.push(item(line_swatch(KEY, Some(Marker::Circle)), "p99 latency"));
    rows.push(item(
        Swatch::Line {
            colour: KEY,
            dashed: true,
            marker: None,
        },
        "p50 latency (median)",
    ));
    if sp.any_ci {
        let swatch = if bands {
            Swatch::Band(KEY)
        } else {
            Swatch::ErrorBar(KEY)
        };
        rows.push(item(swatch, "p99, 95% confidence"));
    }
    if sp.any_sat {
        rows.push(item(Swatch::Cross(KEY), "saturated: no latency"));
    }
    rows
}
