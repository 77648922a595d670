//! Chart 2: completed against offered throughput per design, with the ideal
//! diagonal: where a line leaves it is the knee.

use plotters::prelude::*;

use super::axis::Axis;
use super::backend::{Area, Res};
use super::canvas::marker;
use super::legend::{LEGEND_W, Row, Swatch, draw_legend, item};
use super::palette::KEY;
use super::plot::{local, plot};
use super::study::{Ctx, finite, frame, load_axis, load_legend, runs};
use super::text::Ink;
use crate::report::figures::Chart;
use crate::report::study::PointResult;

pub(crate) fn draw<DB: DrawingBackend>(cx: &Ctx, root: &Area<DB>, ink: Ink) -> Res<(), DB> {
    let any_sat = cx
        .lines
        .iter()
        .any(|l| l.points.iter().any(|(_, p)| p.summary.saturated.is_some()));
    let mut subtitle = cx.load_subtitle();
    if any_sat {
        subtitle.push(
            "x: saturated, the backlog grew until the run stopped; its completed rate depends on how long it ran, so no line joins it".into(),
        );
    }
    let body = frame(root, ink, Chart::ThroughputVsLoad, &subtitle)?;
    let (w, _) = body.dim_in_pixel();
    let (left, legend) = body.split_horizontally(w.saturating_sub(LEGEND_W));

    let x = load_axis(cx);
    let mut max = x.hi;
    let mut any_ci = false;
    for l in &cx.lines {
        for (_, p) in &l.points {
            let t = &p.summary.throughput.completed_rps;
            let ci = t.ci95.and_then(finite).unwrap_or(0.0);
            any_ci |= ci > 0.0;
            if (t.mean + ci).is_finite() {
                max = max.max(t.mean + ci);
            }
        }
    }
    let y = Axis::linear(0.0, max * 1.04, true);
    let mut chart = plot(
        &left,
        ink,
        &x,
        &y,
        cx.load_desc(),
        "Completed throughput (requests/s)",
    )?;

    // Ideal: everything offered completes.
    let (d0, d1) = (x.lo.max(y.lo), x.hi.min(y.hi));
    if d1 > d0 {
        chart.draw_series(DashedLineSeries::new(
            vec![(d0, d0), (d1, d1)],
            12,
            8,
            KEY.stroke_width(2),
        ))?;
    }
    // Lines that coincide (every design keeps up at low load) stay visible:
    // earlier lines are drawn wider underneath later ones. Error bars stay
    // at their load.
    let n = cx.lines.len();
    for (k, l) in cx.lines.iter().enumerate() {
        let c = l.colour();
        // Nested widths: generous for a few lines, restrained for many.
        let under = (n - 1 - k).min(3) as u32;
        let (width, r) = if n <= 4 {
            (3 + 2 * under, 5 + 2 * under as i32)
        } else {
            (2 + under, 4 + under as i32)
        };
        // A saturated point's throughput depends on the window's length
        // (its backlog grows through it): a mark of its own, no line to it.
        let steady = |(x, p): (f64, &PointResult)| {
            let v = finite(p.summary.throughput.completed_rps.mean)?;
            p.summary.saturated.is_none().then_some((x, v))
        };
        for run in runs(&l.points, steady) {
            chart.draw_series(LineSeries::new(run, c.stroke_width(width)))?;
        }
        for (x, p) in &l.points {
            let t = &p.summary.throughput.completed_rps;
            if !t.mean.is_finite() {
                continue;
            }
            if let Some(ci) = t.ci95.and_then(finite).filter(|c| *c > 0.0) {
                let (px, lo) = local(&left, &chart, (*x, y.clamp((t.mean - ci).max(0.0))));
                let (_, hi) = local(&left, &chart, (*x, y.clamp(t.mean + ci)));
                let bar = c.stroke_width(if n <= 4 { 2 } else { 1 });
                left.draw(&PathElement::new(vec![(px, lo), (px, hi)], bar))?;
                left.draw(&PathElement::new(vec![(px - 5, lo), (px + 5, lo)], bar))?;
                left.draw(&PathElement::new(vec![(px - 5, hi), (px + 5, hi)], bar))?;
            }
            if p.summary.saturated.is_some() {
                chart
                    .plotting_area()
                    .draw(&Cross::new((*x, t.mean), 8, c.stroke_width(3)))?;
            } else {
                marker(&chart, (*x, t.mean), l.marker(), r, c.filled())?;
            }
        }
    }

    draw_legend(&legend, ink, &legend_rows(cx, any_sat, any_ci))
}

fn legend_rows(cx: &Ctx, any_sat: bool, any_ci: bool) -> Vec<Row> {
    let mut rows = load_legend(cx);
    rows.push(Row::Heading("Key".into()));
    rows.push(item(
        Swatch::Line {
            colour: KEY,
            dashed: true,
            marker: None,
        },
        "ideal: completed = offered",
    ));
    if any_sat {
        rows.push(item(Swatch::Cross(KEY), "saturated (see above)"));
    }
    if any_ci {
        rows.push(Row::Note("bars: 95% confidence interval".into()));
    }
    rows
}
