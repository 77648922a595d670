//! Tornado charts of a sensitivity analysis (`tornado-p99`, and with an SLO
//! `tornado-capacity`), as SVG and PNG with the study charts' machinery:
//! one row per parameter, the largest effect on top; from a vertical line at
//! the base design's value, a bar to the low variation's value (upper half
//! of the row) and one to the high variation's (lower half), each labelled
//! with the setting; effects within noise are drawn pale.

use std::io;
use std::path::{Path, PathBuf};

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::axis::{Axis, fmt_num};
use super::backend::{Area, Res};
use super::canvas::{Drawing, frame_titled, save};
use super::legend::{LEGEND_FONT, LEGEND_W, Row, Swatch, draw_legend, item};
use super::palette::{INK, MUTED, mix};
use super::plot::Plot;
use super::plot::{TICK_FONT, axes, build, local, x_label_area};
use super::text::{Ink, fit, put, style, text_width};
use crate::report::sensitivity::{Effect, KnobResult, Outcome, SensitivityResults};
use crate::report::words;

/// Colour of the low variations' bars.
const LOW: RGBColor = RGBColor(31, 119, 180);
/// Colour of the high variations' bars.
const HIGH: RGBColor = RGBColor(255, 127, 14);
/// Most rows drawn; the rest are counted in the legend.
const MAX_ROWS: usize = 14;
const VALUE_FONT: f64 = 14.0;

/// One end of a row: the variation's value (None: saturated, or no
/// capacity) and its setting.
struct End {
    value: Option<f64>,
    setting: String,
}

struct TornadoRow {
    name: String,
    quiet: bool,
    low: End,
    high: End,
}

/// A tornado chart, ready to draw.
struct Tornado {
    title: String,
    subtitle: Vec<String>,
    x_desc: String,
    unit: String,
    base: Option<f64>,
    rows: Vec<TornadoRow>,
    /// Where a missing value is drawn (true: the right edge) and what it says.
    missing: (bool, String),
    /// Rows not drawn, for the legend.
    hidden: usize,
    notes: Vec<String>,
}

/// Writes `tornado-p99.svg/.png` and, when capacities were measured,
/// `tornado-capacity.svg/.png` into `dir`; returns the paths written.
pub fn render(r: &SensitivityResults, dir: &Path) -> io::Result<Vec<PathBuf>> {
    crate::report::output::create_dir(dir)?;
    let mut written = save(dir, "tornado-p99", &p99_chart(r))?;
    if let Some(chart) = capacity_chart(r) {
        written.extend(save(dir, "tornado-capacity", &chart)?);
    }
    Ok(written)
}

fn subtitle(r: &SensitivityResults) -> Vec<String> {
    let window = r
        .duration_s
        .map_or(String::new(), |d| format!(" of {} s", fmt_num(d)));
    vec![format!(
        "each parameter varied alone, all else as in the base design; same seed for every run, {}{window}",
        words::count(r.replications as usize, "replication")
    )]
}

fn rows(
    knobs: &[&KnobResult],
    effect: &dyn Fn(&KnobResult) -> Option<&Effect>,
    value: &dyn Fn(&Outcome) -> Option<f64>,
) -> Vec<TornadoRow> {
    knobs
        .iter()
        .map(|k| TornadoRow {
            name: k.path.clone(),
            quiet: effect(k).is_some_and(|e| e.within_noise == Some(true)),
            low: End {
                value: value(&k.low),
                setting: k.low_value.clone(),
            },
            high: End {
                value: value(&k.high),
                setting: k.high_value.clone(),
            },
        })
        .collect()
}

fn p99_chart(r: &SensitivityResults) -> Tornado {
    let knobs: Vec<&KnobResult> = r.knobs.iter().collect();
    let shown = knobs.len().min(MAX_ROWS);
    let p99 = |o: &Outcome| o.p99_ms.map(|e| e.mean);
    Tornado {
        title: format!(
            "p99 sensitivity: {} under {} at {} rps",
            r.topology,
            r.design,
            fmt_num(r.rate_rps)
        ),
        subtitle: subtitle(r),
        x_desc: "p99 latency (ms)".into(),
        unit: "ms".into(),
        base: p99(&r.base),
        rows: rows(&knobs[..shown], &|k| Some(&k.p99), &p99),
        missing: (true, "saturated".into()),
        hidden: knobs.len() - shown,
        notes: vec![
            "Pale: the effect is within".into(),
            "the paired 95% interval".into(),
            "over replications (noise).".into(),
        ],
    }
}

fn capacity_chart(r: &SensitivityResults) -> Option<Tornado> {
    let knobs = r.by_capacity();
    if knobs.is_empty() {
        return None;
    }
    let shown = knobs.len().min(MAX_ROWS);
    let cap = |o: &Outcome| o.capacity.as_ref().and_then(|c| c.rps);
    let slos = crate::model::slo::list(&r.slos);
    let mut sub = subtitle(r);
    sub.push(format!(
        "capacity: the highest rate meeting {slos}; {}",
        r.capacity_method.as_deref().unwrap_or("")
    ));
    Some(Tornado {
        title: format!(
            "Capacity sensitivity: {} under {} (latency runs at {} rps)",
            r.topology,
            r.design,
            fmt_num(r.rate_rps)
        ),
        subtitle: sub,
        x_desc: "capacity (rps)".into(),
        unit: "rps".into(),
        base: cap(&r.base),
        rows: rows(&knobs[..shown], &|k| k.capacity.as_ref(), &cap),
        missing: (false, "none".into()),
        hidden: knobs.len() - shown,
        notes: vec![
            "Pale: the effect is within".into(),
            "the search's resolution.".into(),
        ],
    })
}

impl Drawing for Tornado {
    fn draw<DB: DrawingBackend>(&self, root: &Area<DB>, ink: Ink) -> Res<(), DB> {
        let body = frame_titled(root, ink, &self.title, &self.subtitle)?;
        let (w, _) = body.dim_in_pixel();
        let (left, legend) = body.split_horizontally(w.saturating_sub(LEGEND_W));
        let names: Vec<String> = self.rows.iter().map(|r| r.name.clone()).collect();
        let y = Axis::categories(names.clone());
        let name_w = names
            .iter()
            .map(|n| text_width(n, TICK_FONT))
            .max()
            .unwrap_or(0)
            .clamp(60, 330)
            + 24;
        let plot_px = (f64::from(left.dim_in_pixel().0) - f64::from(name_w) - 24.0).max(200.0);
        let span = self.span(plot_px);
        let mut chart = build(&left, &span.axis, &y, name_w, x_label_area(true))?;
        axes(&left, ink, &mut chart, (&span.axis, &y), &self.x_desc, "")?;
        self.draw_bars(&left, ink, &mut chart, &y, &span)?;
        if let Some(b) = self.base {
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(b, y.lo), (b, y.hi)],
                INK.stroke_width(2),
            )))?;
        }
        if self.rows.is_empty() {
            put(
                &left,
                ink,
                "no parameter to vary",
                (w as i32 / 3, 100),
                style(LEGEND_FONT, MUTED).at(HPos::Center, VPos::Center),
            )?;
        }
        draw_legend(&legend, ink, &self.legend_rows())
    }
}

/// The x range of a tornado: the values' range `lo..hi`, padded to
/// `x_lo..x_hi` for the settings' labels, which fit `label_px` pixels.
struct XSpan {
    axis: Axis,
    lo: f64,
    x_lo: f64,
    x_hi: f64,
    label_px: f64,
}

impl Tornado {
    /// The x range: every value and the base, with room at both ends for
    /// the settings' labels (in pixels, so long labels never leave the plot
    /// of `plot_px` pixels).
    fn span(&self, plot_px: f64) -> XSpan {
        let values: Vec<f64> = self
            .rows
            .iter()
            .flat_map(|r| [r.low.value, r.high.value])
            .chain([self.base])
            .flatten()
            .filter(|v| v.is_finite())
            .collect();
        let (lo, hi) = values
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                (a.min(v), b.max(v))
            });
        let (lo, hi) = if lo.is_finite() { (lo, hi) } else { (0.0, 1.0) };
        let (lo, hi) = if hi - lo < 1e-9 * hi.abs().max(1.0) {
            let d = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
            (lo - d, hi + d)
        } else {
            (lo, hi)
        };
        let label_px = self
            .rows
            .iter()
            .flat_map(|r| [&r.low, &r.high])
            .map(|e| text_width(&self.label(e), VALUE_FONT))
            .max()
            .unwrap_or(0)
            .min(220) as f64
            + 16.0;
        let inner = (plot_px - 2.0 * label_px).max(plot_px * 0.3);
        let per_px = (hi - lo) / inner;
        let pad = (plot_px - inner) / 2.0 * per_px;
        let mut axis = Axis::linear(lo - pad, hi + pad, false);
        // Latency and capacity are never negative: no ticks below zero.
        if lo >= 0.0 {
            axis.ticks.retain(|t| *t >= 0.0);
            axis.minor.retain(|t| *t >= 0.0);
        }
        XSpan {
            axis,
            lo,
            x_lo: lo - pad,
            x_hi: hi + pad,
            label_px,
        }
    }

    /// The label beside one end's bar: its setting, or why it has no value.
    fn label(&self, e: &End) -> String {
        if e.value.is_some() {
            e.setting.clone()
        } else {
            format!("{}: {}", self.missing.1, e.setting)
        }
    }

    /// Each row's two bars from the base line, labelled beyond their ends.
    fn draw_bars<DB: DrawingBackend>(
        &self,
        left: &Area<DB>,
        ink: Ink,
        chart: &mut Plot<'_, DB>,
        y: &Axis,
        span: &XSpan,
    ) -> Res<(), DB> {
        let base = self.base.unwrap_or(span.lo);
        let half = 0.34;
        for (i, row) in self.rows.iter().enumerate() {
            let c = y.slot(i);
            for (end, colour, top) in [(&row.low, LOW, true), (&row.high, HIGH, false)] {
                let colour = if row.quiet {
                    mix(colour, WHITE, 0.6)
                } else {
                    colour
                };
                let v = match end.value {
                    Some(v) => v,
                    None if self.missing.0 => span.x_hi,
                    None => span.x_lo.max(0.0),
                };
                let (y0, y1) = if top { (c, c + half) } else { (c - half, c) };
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(base.min(v), y0), (base.max(v), y1)],
                    colour.filled(),
                )))?;
                // Place the label beyond the bar's outer end; inside the plot.
                let right = if end.value.is_none() {
                    !self.missing.0
                } else {
                    v >= base
                };
                let (px, py) = local(left, chart, (v, (y0 + y1) / 2.0));
                let tone = if row.quiet { MUTED } else { INK };
                let (pos, h) = if right {
                    ((px + 6, py), HPos::Left)
                } else {
                    ((px - 6, py), HPos::Right)
                };
                put(
                    left,
                    ink,
                    &fit(&self.label(end), VALUE_FONT, span.label_px as u32),
                    pos,
                    style(VALUE_FONT, tone).at(h, VPos::Center),
                )?;
            }
        }
        Ok(())
    }

    fn legend_rows(&self) -> Vec<Row> {
        let mut rows = vec![Row::Heading("Variation".into())];
        rows.push(item(Swatch::Block(LOW), "low (x0.5, TTL /10, 1st choice)"));
        rows.push(item(Swatch::Block(HIGH), "high (x2, TTL x10, 2nd choice)"));
        rows.push(item(
            Swatch::Block(mix(LOW, WHITE, 0.6)),
            "within noise (pale)",
        ));
        rows.push(item(
            Swatch::Line {
                colour: INK,
                dashed: false,
                marker: None,
            },
            match self.base {
                Some(b) => format!("base design: {} {}", fmt_num(b), self.unit),
                None => format!("base design: {}", self.missing.1),
            },
        ));
        rows.push(Row::Heading("Notes".into()));
        rows.extend(self.notes.iter().map(|n| Row::Note(n.clone())));
        if self.hidden > 0 {
            rows.push(Row::Note(format!(
                "{} smaller effects not shown",
                self.hidden
            )));
            rows.push(Row::Note("(sensitivity.csv has them all).".into()));
        }
        rows
    }
}
