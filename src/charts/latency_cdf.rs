//! Chart 4: at the focus load, the latency distribution per design (latency
//! on a log axis, percentiles on a "nines" axis).

use plotters::prelude::*;

use super::axis::{Axis, Scale};
use super::backend::{Area, Res};
use super::entries;
use super::legend::{LEGEND_W, Row, draw_legend};
use super::palette::design_colour;
use super::plot::{note_in_plot, plot};
use super::study::{Ctx, frame};
use super::text::Ink;
use crate::report::figures::Chart;

/// "Nines": -log10(1 - q), so 90% is 1, 99% is 2, 99.9% is 3.
fn nines(q: f64) -> f64 {
    -(1.0 - q).max(1e-12).log10()
}

pub(crate) fn draw<DB: DrawingBackend>(cx: &Ctx, root: &Area<DB>, ink: Ink) -> Res<(), DB> {
    let lines = entries::subtitle(cx, cx.focus_subtitle());
    let body = frame(root, ink, Chart::LatencyCdf, &lines)?;
    let (w, _) = body.dim_in_pixel();
    let (left, legend) = body.split_horizontally(w.saturating_sub(LEGEND_W));

    // Designs whose curves coincide, named once per entry endpoint that
    // shows it.
    let mut groups: Vec<(Option<String>, Vec<usize>)> = Vec::new();
    if cx.per_entry() {
        entries::grid(cx, &left, ink, |e, area| {
            let name = e.entry.and_then(|i| cx.entries.iter().find(|x| x.0 == i));
            for g in panel(e, area, ink)? {
                groups.push((name.map(|n| n.1.clone()), g));
            }
            Ok(())
        })?;
    } else {
        groups.extend(panel(cx, &left, ink)?.into_iter().map(|g| (None, g)));
    }
    let mut rows = cx.design_rows(true);
    if !groups.is_empty() {
        rows.push(Row::Heading("Lines on top of each other".into()));
        for (entry, g) in groups {
            if let Some(entry) = entry {
                rows.push(Row::Note(format!("{entry}:")));
            }
            for (i, d) in g.iter().enumerate() {
                let eq = if i == 0 { "" } else { "= " };
                rows.push(Row::Note(format!("{eq}{}", cx.designs[*d])));
            }
        }
    }
    rows.push(Row::Heading("Reading it".into()));
    rows.push(Row::Note("The vertical axis stretches the".into()));
    rows.push(Row::Note("tail: each step up is ten times".into()));
    rows.push(Row::Note("rarer (90%, 99%, 99.9%).".into()));
    if cx
        .focus_points
        .iter()
        .any(|(_, p)| p.summary.saturated.is_some())
    {
        rows.push(Row::Note("Saturated designs have no latency.".into()));
    }
    draw_legend(&legend, ink, &rows)
}

/// The CDF of `cx`'s requests per design on `left`; returns the groups of
/// designs whose curves coincide.
fn panel<DB: DrawingBackend>(cx: &Ctx, left: &Area<DB>, ink: Ink) -> Res<Vec<Vec<usize>>, DB> {
    let curves: Vec<(usize, Vec<(f64, f64)>)> = cx
        .focus_points
        .iter()
        .filter(|(_, p)| p.summary.saturated.is_none())
        .map(|(d, p)| {
            let pts = cx
                .cdf(p)
                .iter()
                .filter(|c| c.q >= 0.0 && c.q < 1.0 && c.ms > 0.0 && c.ms.is_finite())
                .map(|c| (c.ms, nines(c.q)))
                .collect::<Vec<_>>();
            (*d, pts)
        })
        .filter(|(_, pts)| !pts.is_empty())
        .collect();
    let (min, max) = curves
        .iter()
        .flat_map(|(_, pts)| pts.iter().map(|p| p.0))
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    // An entry with no finished request still gets its (empty) axes.
    let x = if curves.is_empty() {
        Axis::log(1.0, 10.0)
    } else {
        Axis::log(min, max)
    };
    let top = curves
        .iter()
        .flat_map(|(_, pts)| pts.iter().map(|p| p.1))
        .fold(1.0, f64::max);
    let marks = [
        (0.0, "0%"),
        (0.5, "50%"),
        (0.9, "90%"),
        (0.99, "99%"),
        (0.995, "99.5%"),
        (0.999, "99.9%"),
        (0.9999, "99.99%"),
        (0.99999, "99.999%"),
        (0.999999, "99.9999%"),
    ];
    // 99.5% only when it is the top of a short sample's curve.
    let labels: Vec<(f64, String)> = marks
        .iter()
        .filter(|(q, _)| *q != 0.995 || top < nines(0.999) - 1e-9)
        .map(|(q, l)| (nines(*q), l.to_string()))
        .filter(|(t, _)| *t <= top + 1e-9)
        .collect();
    let hi = top + 0.15;
    let y = Axis {
        lo: 0.0,
        hi,
        ticks: labels.iter().map(|l| l.0).collect(),
        minor: [0.75, 0.95, 0.995, 0.9995, 0.99995]
            .iter()
            .map(|q| nines(*q))
            .filter(|t| *t < hi)
            .collect(),
        scale: Scale::Fixed(labels),
    };
    let chart = plot(
        left,
        ink,
        &x,
        &y,
        "Latency (ms, log scale)",
        // A panel of small multiples has room for the short form.
        if cx.entry.is_some() {
            "Requests at or below"
        } else {
            "Requests at or below (percentile)"
        },
    )?;
    for (d, pts) in &curves {
        let c = design_colour(*d);
        let pts: Vec<(f64, f64)> = pts.iter().map(|(ms, n)| (x.to(*ms), *n)).collect();
        chart
            .plotting_area()
            .draw(&PathElement::new(pts.clone(), c.stroke_width(3)))?;
        for p in &pts {
            chart
                .plotting_area()
                .draw(&Circle::new(*p, 3, c.filled()))?;
        }
    }
    if curves.is_empty() {
        note_in_plot(left, ink, &chart, "No latency figures")?;
    }
    Ok(overlapping(&curves))
}

/// Designs whose curves coincide (every percentile within 1%), in groups of
/// two or more: drawn last-on-top, the others would vanish unsaid.
fn overlapping(curves: &[(usize, Vec<(f64, f64)>)]) -> Vec<Vec<usize>> {
    let same = |a: &[(f64, f64)], b: &[(f64, f64)]| {
        a.len() == b.len()
            && a.iter()
                .zip(b)
                .all(|(p, q)| p.1 == q.1 && (p.0 / q.0 - 1.0).abs() <= 0.01)
    };
    let mut grouped = vec![false; curves.len()];
    let mut groups = Vec::new();
    for i in 0..curves.len() {
        if grouped[i] {
            continue;
        }
        let mut g = vec![curves[i].0];
        for j in i + 1..curves.len() {
            if !grouped[j] && same(&curves[i].1, &curves[j].1) {
                grouped[j] = true;
                g.push(curves[j].0);
            }
        }
        if g.len() > 1 {
            groups.push(g);
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coinciding_curves_are_named() {
        let a = vec![(1.0, 0.3), (2.0, 1.0), (9.0, 2.0)];
        let b = vec![(1.005, 0.3), (2.01, 1.0), (9.05, 2.0)];
        let c = vec![(1.0, 0.3), (2.5, 1.0), (9.0, 2.0)];
        let curves = vec![(0, a.clone()), (1, c), (2, b), (3, a)];
        assert_eq!(overlapping(&curves), vec![vec![0, 2, 3]]);
        assert!(overlapping(&curves[..2]).is_empty());
    }
}
