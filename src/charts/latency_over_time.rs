//! Chart 6: at the focus load, mean and p99 latency and full TLS handshakes
//! per second over simulated time, warm-up included and shaded; with a rate
//! profile, the offered rate in a third panel. Runs of hours are drawn in
//! minutes or hours.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::axis::{Axis, fmt_num};
use super::backend::{Area, Res};
use super::entries;
use super::legend::{LEGEND_W, Row, Swatch, draw_legend, item, line_swatch};
use super::palette::{MUTED, WARMUP, design_colour};
use super::plot::Plot;
use super::plot::{axes, build, local, note_in_plot, x_label_area, y_label_area};
use super::study::{Ctx, frame, runs};
use super::text::{Ink, put, style};
use crate::report::figures::Chart;
use crate::report::study::{PointResult, SeriesPoint};
use plotters::series::DashedLineSeries;

/// The width of a point's intervals, seconds.
fn interval(p: &PointResult) -> f64 {
    let w = p.summary.series_interval_s;
    if w.is_finite() && w > 0.0 {
        w
    } else {
        let s = &p.series;
        if s.len() > 1 {
            (s[1].t_s - s[0].t_s).abs().max(1e-9)
        } else {
            1.0
        }
    }
}

/// Each design's series at the focus load. Intervals past the end of the
/// measured window only hold the drain of requests in flight: left out.
fn series<'a>(cx: &Ctx<'a>) -> Vec<(usize, &'a PointResult, Vec<&'a SeriesPoint>)> {
    let end_of = |p: &PointResult| {
        let wl = &p.summary.workload;
        wl.duration_s
            .map(|d| wl.warmup_s + d)
            .filter(|e| e.is_finite())
    };
    cx.focus_points
        .iter()
        .map(|(d, p)| {
            let end = end_of(p);
            let s: Vec<&SeriesPoint> = cx
                .series(p)
                .iter()
                .filter(|s| s.t_s.is_finite() && end.is_none_or(|e| s.t_s < e - 1e-9))
                .collect();
            (*d, *p, s)
        })
        .filter(|(_, _, s)| !s.is_empty())
        .collect()
}

type Series<'a> = [(usize, &'a PointResult, Vec<&'a SeriesPoint>)];

/// The time unit of the x axis: seconds, minutes past 2 hours, hours past
/// 12 (its length in seconds and its name).
fn time_unit(t_end: f64) -> (f64, &'static str) {
    if t_end > 12.0 * 3600.0 {
        (3600.0, "h")
    } else if t_end > 7200.0 {
        (60.0, "min")
    } else {
        (1.0, "s")
    }
}

/// The warm-up, shaded across a panel.
fn shade<DB: DrawingBackend>(chart: &mut Plot<'_, DB>, y: &Axis, warmup: f64) -> Res<(), DB> {
    if warmup > 0.0 {
        chart.draw_series(std::iter::once(Rectangle::new(
            [(0.0, y.lo), (warmup, y.hi)],
            WARMUP.filled(),
        )))?;
    }
    Ok(())
}

pub(crate) fn draw<DB: DrawingBackend>(cx: &Ctx, root: &Area<DB>, ink: Ink) -> Res<(), DB> {
    let lines = entries::subtitle(cx, cx.focus_subtitle());
    let body = frame(root, ink, Chart::LatencyOverTime, &lines)?;
    let (w, h) = body.dim_in_pixel();
    let (left, legend) = body.split_horizontally(w.saturating_sub(LEGEND_W));

    let pts = series(cx);
    let offered = pts
        .iter()
        .any(|(_, _, s)| s.iter().any(|s| s.offered_per_s.is_some()));
    // The latency panel (one per entry endpoint, in a grid) on top; the
    // whole system's offered rate and handshakes below.
    let top_h = if cx.per_entry() {
        h.saturating_sub(entries::SYSTEM_H)
    } else {
        h * if offered { 46 } else { 56 } / 100
    };
    let (top, rest) = left.split_vertically(top_h);
    let (middle, bottom) = if offered {
        let (m, b) = rest.split_vertically((h - top_h) / 2);
        (Some(m), b)
    } else {
        (None, rest)
    };
    let t_end_s = pts
        .iter()
        .filter_map(|(_, p, s)| s.last().map(|l| l.t_s + interval(p)))
        .fold(0.0, f64::max);
    let unit = time_unit(t_end_s);
    let t_end = t_end_s / unit.0;
    let warmup = pts
        .iter()
        .map(|(_, p, _)| p.summary.workload.warmup_s)
        .filter(|w| w.is_finite())
        .fold(0.0, f64::max)
        .min(t_end_s)
        / unit.0;
    let x = Axis::linear(0.0, if t_end > 0.0 { t_end } else { 1.0 }, false);

    let max_hs = pts
        .iter()
        .flat_map(|(_, _, s)| s.iter().filter_map(|s| s.full_handshakes_per_s))
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    let y2 = Axis::linear(0.0, if max_hs > 0.0 { max_hs * 1.08 } else { 1.0 }, true);

    // The panels share the left edge so their time axes line up.
    let max_rate = pts
        .iter()
        .flat_map(|(_, _, s)| s.iter().filter_map(|s| s.offered_per_s))
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    let y3 = Axis::linear(
        0.0,
        if max_rate > 0.0 { max_rate * 1.08 } else { 1.0 },
        true,
    );
    let y_w = y_label_area(&latency_axis(&pts), true)
        .max(y_label_area(&y2, true))
        .max(y_label_area(&y3, true));
    let at = |s: &SeriesPoint, p: &PointResult| (s.t_s + interval(p) / 2.0) / unit.0;
    if cx.per_entry() {
        entries::grid(cx, &top, ink, |e, area| {
            let pts = series(e);
            let y1 = latency_axis(&pts);
            let y_w = y_label_area(&y1, true);
            latency_panel(area, ink, &pts, (&x, &y1, y_w), warmup, &at)
        })?;
    } else {
        latency_panel(&top, ink, &pts, (&x, &latency_axis(&pts), y_w), warmup, &at)?;
    }
    if let Some(middle) = &middle {
        offered_panel(middle, ink, &pts, (&x, &y3, y_w), warmup, &at)?;
    }
    // Three panels leave the lower one short: a label of ten characters
    // fits (the key names it in full: "full TLS handshakes/s").
    let hs_label = if offered {
        "Full TLS/s"
    } else {
        "Full TLS handshakes/s"
    };
    handshake_panel(
        &bottom,
        ink,
        &pts,
        (&x, &y2, y_w),
        warmup,
        (&at, unit.1, hs_label),
    )?;
    draw_legend(&legend, ink, &legend_rows(cx, &pts, warmup, unit))
}

/// The latency axis of `pts`: their means and p99s.
fn latency_axis(pts: &Series) -> Axis {
    let lat: Vec<f64> = pts
        .iter()
        .flat_map(|(_, _, s)| s.iter().flat_map(|s| [s.mean_ms, s.p99_ms]).flatten())
        .filter(|v| v.is_finite() && *v > 0.0)
        .collect();
    Axis::values(&lat, true, 0.1)
}

/// Where a series point is drawn on the x axis.
type At<'f> = dyn Fn(&SeriesPoint, &PointResult) -> f64 + 'f;

/// The middle panel (with a rate profile): the offered rate per interval.
fn offered_panel<DB: DrawingBackend>(
    area: &Area<DB>,
    ink: Ink,
    pts: &Series,
    (x, y, y_w): (&Axis, &Axis, u32),
    warmup: f64,
    at: &At,
) -> Res<(), DB> {
    let mut chart = build(area, x, y, y_w, x_label_area(false))?;
    shade(&mut chart, y, warmup)?;
    // Under a grid of entry panels the panel is too short for the long form.
    let (_, h) = area.dim_in_pixel();
    let desc = if h < 170 {
        "Offered/s"
    } else {
        "Offered (req/s)"
    };
    axes(area, ink, &mut chart, (x, y), "", desc)?;
    // Every design is offered the same profile: draw the first.
    if let Some((_, p, s)) = pts.first() {
        let line: Vec<(f64, f64)> = s
            .iter()
            .filter_map(|s| s.offered_per_s.map(|r| (at(s, p), r)))
            .filter(|(_, r)| r.is_finite())
            .collect();
        chart
            .plotting_area()
            .draw(&PathElement::new(line, MUTED.stroke_width(2)))?;
    }
    Ok(())
}

/// The upper panel: mean latency per interval.
fn latency_panel<DB: DrawingBackend>(
    top: &Area<DB>,
    ink: Ink,
    pts: &Series,
    (x, y1, y_w): (&Axis, &Axis, u32),
    warmup: f64,
    at: &At,
) -> Res<(), DB> {
    let no_latency = !pts.iter().any(|(_, _, s)| {
        s.iter()
            .any(|s| s.mean_ms.is_some_and(|v| v.is_finite() && v > 0.0))
    });
    let y1_desc = if y1.is_log() {
        "Latency (ms, log)"
    } else {
        "Latency (ms)"
    };
    let mut chart = build(top, x, y1, y_w, x_label_area(false))?;
    shade(&mut chart, y1, warmup)?;
    axes(top, ink, &mut chart, (x, y1), "", y1_desc)?;
    if warmup > 0.0 {
        let (px, py) = local(top, &chart, (warmup / 2.0, y1.hi));
        put(
            top,
            ink,
            "warm-up",
            (px, py + 8),
            style(15.0, MUTED).at(HPos::Center, VPos::Top),
        )?;
    }
    for (d, p, s) in pts {
        let c = design_colour(*d);
        for run in runs(s, |s| {
            s.p99_ms
                .filter(|v| v.is_finite() && *v > 0.0)
                .map(|v| (at(s, p), y1.clamp(v)))
        }) {
            chart.draw_series(DashedLineSeries::new(run, 8, 5, c.stroke_width(2)))?;
        }
        for run in runs(s, |s| {
            s.mean_ms
                .filter(|v| v.is_finite() && *v > 0.0)
                .map(|v| (at(s, p), y1.clamp(v)))
        }) {
            if run.len() == 1 {
                chart
                    .plotting_area()
                    .draw(&Circle::new(run[0], 3, c.filled()))?;
            }
            chart
                .plotting_area()
                .draw(&PathElement::new(run, c.stroke_width(2)))?;
        }
    }
    if no_latency {
        note_in_plot(top, ink, &chart, "No request finished")?;
    }
    Ok(())
}

/// The lower panel: full TLS handshakes per second.
fn handshake_panel<DB: DrawingBackend>(
    bottom: &Area<DB>,
    ink: Ink,
    pts: &Series,
    (x, y2, y_w): (&Axis, &Axis, u32),
    warmup: f64,
    (at, unit, label): (&At, &str, &str),
) -> Res<(), DB> {
    let mut chart2 = build(bottom, x, y2, y_w, x_label_area(true))?;
    shade(&mut chart2, y2, warmup)?;
    axes(
        bottom,
        ink,
        &mut chart2,
        (x, y2),
        &format!("Simulated time ({unit}), warm-up included"),
        label,
    )?;
    for (d, p, s) in pts {
        let c = design_colour(*d);
        let line: Vec<(f64, f64)> = s
            .iter()
            .filter_map(|s| Some((at(s, p), s.full_handshakes_per_s.filter(|v| v.is_finite())?)))
            .collect();
        chart2
            .plotting_area()
            .draw(&PathElement::new(line, c.stroke_width(2)))?;
    }
    Ok(())
}

fn legend_rows(cx: &Ctx, pts: &Series, warmup: f64, unit: (f64, &str)) -> Vec<Row> {
    let mut rows = vec![Row::Heading("Designs".into())];
    for (d, p, _) in pts {
        let mut label = cx.designs[*d].clone();
        if p.summary.saturated.is_some() {
            label.push_str(" (saturated)");
        }
        rows.push(item(line_swatch(design_colour(*d), None), label));
    }
    rows.push(Row::Heading("Key".into()));
    rows.push(item(line_swatch(MUTED, None), "mean latency"));
    rows.push(item(
        Swatch::Line {
            colour: MUTED,
            dashed: true,
            marker: None,
        },
        "p99 latency",
    ));
    if warmup > 0.0 {
        rows.push(item(Swatch::Shade, "warm-up (not measured)"));
    }
    if pts
        .iter()
        .any(|(_, _, s)| s.iter().any(|s| s.offered_per_s.is_some()))
    {
        rows.push(item(line_swatch(MUTED, None), "offered rate (middle)"));
        rows.push(Row::Note("Lower panel: full TLS handshakes/s.".into()));
    }
    rows.push(Row::Heading("Notes".into()));
    rows.push(Row::Note("Averaged over replications (p99".into()));
    rows.push(Row::Note("pooled), one point per".into()));
    let every = pts.first().map_or(1.0, |(_, p, _)| interval(p));
    let (every, name) = if every >= 60.0 && unit.0 > 1.0 {
        (every / 60.0, "min")
    } else {
        (every, "s")
    };
    rows.push(Row::Note(format!(
        "{} {name} of simulated time.",
        fmt_num(every)
    )));
    rows
}
