//! Chart 3: at the focus load, CPU per request on every core of the system,
//! split by CPU category.

use plotters::prelude::*;

use super::backend::{Area, Res};
use super::bars::{Bar, bar_panel, used_rows};
use super::legend::{LEGEND_W, Row, draw_legend};
use super::palette::{cpu_colour, cpu_label};
use super::study::{Ctx, frame};
use super::text::Ink;
use crate::model::cost::CPU_NAMES;
use crate::report::figures::Chart;

pub(crate) fn draw<DB: DrawingBackend>(cx: &Ctx, root: &Area<DB>, ink: Ink) -> Res<(), DB> {
    let body = frame(root, ink, Chart::CpuByCategory, &cx.focus_subtitle())?;
    let (w, _) = body.dim_in_pixel();
    let (left, legend) = body.split_horizontally(w.saturating_sub(LEGEND_W));

    // Category order: the model's, then any unknown names as found.
    let mut cats: Vec<String> = CPU_NAMES.iter().map(|s| s.to_string()).collect();
    for (_, p) in &cx.focus_points {
        for c in &p.summary.cpu_per_request {
            if !cats.contains(&c.category) {
                cats.push(c.category.clone());
            }
        }
    }
    let cat = |name: &str| cats.iter().position(|c| c == name).unwrap_or(0);
    let names: Vec<String> = cx
        .focus_points
        .iter()
        .map(|(d, _)| cx.designs[*d].clone())
        .collect();
    // Core-milliseconds per request over every core of the system: services,
    // policy and identity, sidecars, node proxies, waypoints.
    let bars: Vec<Bar> = cx
        .focus_points
        .iter()
        .map(|(_, p)| {
            let s = &p.summary;
            if s.requests.requests.mean <= 0.0 {
                return Bar::note("no completed requests");
            }
            let mut v = vec![0.0; cats.len()];
            for c in &s.cpu_per_request {
                v[cat(&c.category)] += c.ms.mean;
            }
            Bar {
                segments: v.into_iter().enumerate().collect(),
                note: None,
                suffix: if s.saturated.is_some() {
                    " (saturated)".to_string()
                } else {
                    String::new()
                },
            }
        })
        .collect();
    let colour = |i: usize| cpu_colour(&cats[i], i);
    bar_panel(
        &left,
        ink,
        (&names, &bars),
        &colour,
        ("CPU time per request, all cores (core-ms)", "ms"),
        None,
    )?;
    let mut rows = vec![Row::Heading("CPU category".into())];
    rows.extend(used_rows(&cats, &[&bars], &colour, &cpu_label));
    rows.push(Row::Heading("Notes".into()));
    rows.push(Row::Note("Every core counts: services,".into()));
    rows.push(Row::Note("policy and identity services,".into()));
    rows.push(Row::Note("sidecars, node proxies, waypoints.".into()));
    draw_legend(&legend, ink, &rows)
}
