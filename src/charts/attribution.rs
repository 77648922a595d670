//! Chart 5: at the focus load, the critical path of the mean request (and of
//! the slowest 1%) split by span, per design.

use plotters::prelude::*;

use super::backend::{Area, Res};
use super::bars::{Bar, bar_panel, longest, used_rows};
use super::legend::{LEGEND_W, Row, draw_legend};
use super::palette::{span_colour, span_label};
use super::study::{Ctx, frame};
use super::text::Ink;
use crate::model::cost::SPAN_NAMES;
use crate::report::figures::Chart;

pub(crate) fn draw<DB: DrawingBackend>(cx: &Ctx, root: &Area<DB>, ink: Ink) -> Res<(), DB> {
    let body = frame(root, ink, Chart::Attribution, &cx.focus_subtitle())?;
    let (w, h) = body.dim_in_pixel();
    let (left, legend) = body.split_horizontally(w.saturating_sub(LEGEND_W));

    let mut spans: Vec<String> = SPAN_NAMES.iter().map(|s| s.to_string()).collect();
    for (_, p) in &cx.focus_points {
        for a in &p.summary.attribution {
            if !spans.contains(&a.span) {
                spans.push(a.span.clone());
            }
        }
    }
    let span = |name: &str| spans.iter().position(|s| s == name).unwrap_or(0);
    let names: Vec<String> = cx
        .focus_points
        .iter()
        .map(|(d, _)| cx.designs[*d].clone())
        .collect();
    let bars = |tail: bool| -> Vec<Bar> {
        cx.focus_points
            .iter()
            .map(|(_, p)| {
                let s = &p.summary;
                if s.saturated.is_some() {
                    return Bar::note("saturated: no latency breakdown");
                }
                let mut segs: Vec<(usize, f64)> = s
                    .attribution
                    .iter()
                    .filter_map(|a| {
                        let v = if tail {
                            a.p99_ms.map(|e| e.mean)?
                        } else {
                            a.mean_ms.mean
                        };
                        Some((span(&a.span), v))
                    })
                    .collect();
                if segs.is_empty() {
                    return Bar::note("no breakdown");
                }
                segs.sort_by_key(|s| s.0);
                Bar {
                    segments: segs,
                    note: None,
                    suffix: String::new(),
                }
            })
            .collect()
    };
    let mean = bars(false);
    let tail = bars(true);
    let colour = |i: usize| span_colour(&spans[i], i);
    let mean_desc = "Mean request: time on its critical path (ms)";
    if tail.iter().any(|b| b.note.is_none()) {
        // One scale for both panels unless the tail would squash the mean.
        let (m, t) = (longest(&mean), longest(&tail));
        let shared = (t <= 2.5 * m).then_some(m.max(t));
        let (top, bottom) = left.split_vertically(h / 2);
        bar_panel(
            &top,
            ink,
            (&names, &mean),
            &colour,
            (mean_desc, "ms"),
            shared,
        )?;
        bar_panel(
            &bottom,
            ink,
            (&names, &tail),
            &colour,
            (
                "Slowest 1% (requests at or above p99): mean time on the critical path (ms)",
                "ms",
            ),
            shared,
        )?;
    } else {
        bar_panel(
            &left,
            ink,
            (&names, &mean),
            &colour,
            (mean_desc, "ms"),
            None,
        )?;
    }
    let mut rows = vec![Row::Heading("Span".into())];
    rows.extend(used_rows(&spans, &[&mean, &tail], &colour, &span_label));
    rows.push(Row::Heading("Notes".into()));
    rows.push(Row::Note("Successful requests only; spans".into()));
    rows.push(Row::Note("with no time in any design omitted.".into()));
    draw_legend(&legend, ink, &rows)
}
