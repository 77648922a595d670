//! Chart 5: at the focus load, the critical path of the mean request (and of
//! the slowest 1%) split by span, per design; with several entry endpoints,
//! one row per entry, the mean request beside the slowest 1%.

use plotters::prelude::*;

use super::backend::{Area, Res};
use super::bars::{Bar, bar_panel, longest, used_rows};
use super::entries;
use super::legend::{LEGEND_W, Row, draw_legend};
use super::palette::{span_colour, span_label};
use super::study::{Ctx, frame};
use super::text::Ink;
use crate::model::cost::SPAN_NAMES;
use crate::report::figures::Chart;

const MEAN_DESC: &str = "Mean request: time on its critical path (ms)";
const TAIL_DESC: &str =
    "Slowest 1% (requests at or above p99): mean time on the critical path (ms)";

pub(crate) fn draw<DB: DrawingBackend>(cx: &Ctx, root: &Area<DB>, ink: Ink) -> Res<(), DB> {
    let lines = entries::subtitle(cx, cx.focus_subtitle());
    let body = frame(root, ink, Chart::Attribution, &lines)?;
    let (w, h) = body.dim_in_pixel();
    let (left, legend) = body.split_horizontally(w.saturating_sub(LEGEND_W));

    let views: Vec<Ctx> = if cx.per_entry() {
        cx.entries.iter().map(|e| cx.for_entry(e.0)).collect()
    } else {
        vec![cx.clone()]
    };
    let mut spans: Vec<String> = SPAN_NAMES.iter().map(|s| s.to_string()).collect();
    for v in &views {
        for (_, p) in &v.focus_points {
            for a in v.attribution(p) {
                if !spans.contains(&a.span) {
                    spans.push(a.span.clone());
                }
            }
        }
    }
    let names: Vec<String> = cx
        .focus_points
        .iter()
        .map(|(d, _)| cx.designs[*d].clone())
        .collect();
    let colour = |i: usize| span_colour(&spans[i], i);
    let drawn: Vec<(Vec<Bar>, Vec<Bar>)> = views.iter().map(|v| bars(v, &spans)).collect();
    let colour: &dyn Fn(usize) -> RGBColor = &colour;
    if cx.per_entry() {
        let rows = left.split_evenly((views.len(), 1));
        for (((_, name, share), bars), row) in cx.entries.iter().zip(&drawn).zip(&rows) {
            let row = entries::titled(row, ink, name, *share)?;
            let (rw, _) = row.dim_in_pixel();
            let panels = row.split_horizontally(rw / 2);
            let descs = ("Mean request (ms)", "Slowest 1%, at or above p99 (ms)");
            mean_and_tail(panels, ink, &names, bars, colour, descs)?;
        }
    } else {
        let (mean, tail) = &drawn[0];
        if tail.iter().any(|b| b.note.is_none()) {
            let panels = left.split_vertically(h / 2);
            mean_and_tail(
                panels,
                ink,
                &names,
                &drawn[0],
                colour,
                (MEAN_DESC, TAIL_DESC),
            )?;
        } else {
            bar_panel(&left, ink, (&names, mean), colour, (MEAN_DESC, "ms"), None)?;
        }
    }
    let all: Vec<&[Bar]> = drawn
        .iter()
        .flat_map(|(m, t)| [m.as_slice(), t.as_slice()])
        .collect();
    let mut rows = vec![Row::Heading("Span".into())];
    rows.extend(used_rows(&spans, &all, colour, &span_label));
    rows.push(Row::Heading("Notes".into()));
    rows.push(Row::Note("Successful requests only; spans".into()));
    rows.push(Row::Note("with no time in any design omitted.".into()));
    if cx.per_entry() {
        rows.push(Row::Note("The slowest 1% of each entry".into()));
        rows.push(Row::Note("endpoint's own requests.".into()));
    }
    draw_legend(&legend, ink, &rows)
}

/// The mean request's bars and the slowest 1%'s in two panels, on one
/// scale unless the tail would squash the mean.
fn mean_and_tail<DB: DrawingBackend>(
    (first, second): (Area<DB>, Area<DB>),
    ink: Ink,
    names: &[String],
    (mean, tail): &(Vec<Bar>, Vec<Bar>),
    colour: &dyn Fn(usize) -> RGBColor,
    (mean_desc, tail_desc): (&str, &str),
) -> Res<(), DB> {
    let (m, t) = (longest(mean), longest(tail));
    let shared = (t <= 2.5 * m).then_some(m.max(t));
    bar_panel(
        &first,
        ink,
        (names, mean),
        colour,
        (mean_desc, "ms"),
        shared,
    )?;
    bar_panel(
        &second,
        ink,
        (names, tail),
        colour,
        (tail_desc, "ms"),
        shared,
    )
}

/// Each design's bar for the mean request and for the slowest 1% of `cx`'s
/// requests, segments indexed into `spans`.
fn bars(cx: &Ctx, spans: &[String]) -> (Vec<Bar>, Vec<Bar>) {
    let span = |name: &str| spans.iter().position(|s| s == name).unwrap_or(0);
    let of = |tail: bool| -> Vec<Bar> {
        cx.focus_points
            .iter()
            .map(|(_, p)| {
                if p.summary.saturated.is_some() {
                    return Bar::note("saturated: no latency breakdown");
                }
                let mut segs: Vec<(usize, f64)> = cx
                    .attribution(p)
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
    (of(false), of(true))
}
