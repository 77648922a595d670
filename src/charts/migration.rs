//! The migration chart (`ztsim migrate`): by step, the p99 latency of each
//! entry endpoint (top panel, with the p99 objective if there is one) and
//! the cores deployed and used beyond step 0 (bottom panel), at the highest
//! rate; the legend says what each step moved.

use std::io;
use std::path::{Path, PathBuf};

use plotters::prelude::*;

use super::axis::{Axis, Scale};
use super::backend::{Area, Res};
use super::canvas::{Drawing, Marker, frame_titled, marker, save};
use super::legend::{LEGEND_W, Row, Swatch, draw_legend, item, line_swatch};
use super::palette::DESIGN_COLOURS;
use super::plot::plot;
use super::text::Ink;
use crate::model::slo::Statistic;
use crate::report::migration::Migration;

/// Colours of the two core curves.
const DEPLOYED: RGBColor = RGBColor(90, 90, 90);
const USED: RGBColor = RGBColor(200, 120, 30);

struct MigrationChart<'a> {
    m: &'a Migration,
}

/// Writes `migration.svg` and `migration.png` into `dir`; returns their
/// paths.
pub fn render(m: &Migration, dir: &Path) -> io::Result<Vec<PathBuf>> {
    save(dir, "migration", &MigrationChart { m })
}

impl MigrationChart<'_> {
    /// The highest rate's figures of step `k`.
    fn at(&self, k: usize) -> &crate::report::migration::StepAt {
        self.m.steps[k].at.last().expect("a step has a rate")
    }

    fn steps_axis(&self) -> Axis {
        let n = self.m.steps.len();
        Axis {
            lo: -0.3,
            hi: n as f64 - 0.7,
            ticks: (0..n).map(|k| k as f64).collect(),
            minor: Vec::new(),
            scale: Scale::Fixed((0..n).map(|k| (k as f64, k.to_string())).collect()),
        }
    }
}

impl Drawing for MigrationChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &Area<DB>, ink: Ink) -> Res<(), DB> {
        let m = self.m;
        let rate = self.at(0).rate_rps;
        let body = frame_titled(
            root,
            ink,
            &format!(
                "Migration of {} from {} to {}, step by step",
                m.topology, m.from, m.to
            ),
            &[format!(
                "at {rate} rps; {}; a moved service turns strict when its last caller moves",
                m.order
            )],
        )?;
        let (w, h) = body.dim_in_pixel();
        let (left, right) = body.split_horizontally(w.saturating_sub(LEGEND_W));
        let (top, bottom) = left.split_vertically(h * 3 / 5);
        let x = self.steps_axis();
        // Top: p99 per entry endpoint.
        let entries: Vec<&str> = self
            .at(0)
            .entries
            .iter()
            .map(|e| e.endpoint.as_str())
            .collect();
        let p99 = |k: usize, e: usize| self.at(k).entries[e].p99_ms.map(|x| x.mean);
        let slo = m
            .slos
            .iter()
            .find(|s| s.statistic == Statistic::P99)
            .map(|s| s.limit_ms);
        let mut ys: Vec<f64> = (0..m.steps.len())
            .flat_map(|k| (0..entries.len()).filter_map(move |e| p99(k, e)))
            .collect();
        ys.extend(slo);
        let y = Axis::values(&ys, true, 0.1);
        let mut chart = plot(&top, ink, &x, &y, "", "p99 latency (ms)")?;
        for (e, _) in entries.iter().enumerate() {
            let colour = DESIGN_COLOURS[e % DESIGN_COLOURS.len()];
            let pts: Vec<(f64, f64)> = (0..m.steps.len())
                .filter_map(|k| p99(k, e).map(|v| (k as f64, y.to(v))))
                .collect();
            chart.draw_series(LineSeries::new(pts.clone(), colour.stroke_width(3)))?;
            for p in &pts {
                marker(&chart, *p, Marker::Circle, 5, colour.filled())?;
            }
        }
        if let Some(limit) = slo {
            chart.draw_series(DashedLineSeries::new(
                [(x.lo, y.to(limit)), (x.hi, y.to(limit))],
                10,
                7,
                RED.stroke_width(2),
            ))?;
        }
        // Bottom: cores beyond step 0.
        let deployed: Vec<f64> = (0..m.steps.len()).map(|k| self.at(k).cores_added).collect();
        let used: Vec<f64> = (0..m.steps.len())
            .map(|k| self.at(k).busy_cores_added)
            .collect();
        // Linear from zero (or below, if a step uses less): a difference.
        let lo = deployed.iter().chain(&used).copied().fold(0.0, f64::min);
        let hi = deployed.iter().chain(&used).copied().fold(0.0, f64::max);
        let top_y = if hi > lo {
            hi + (hi - lo) * 0.1
        } else {
            lo + 1.0
        };
        let yc = Axis::linear(lo, top_y, true);
        let mut chart = plot(&bottom, ink, &x, &yc, "step", "cores added")?;
        for (values, colour, shape) in [
            (&deployed, DEPLOYED, Marker::Square),
            (&used, USED, Marker::Circle),
        ] {
            let pts: Vec<(f64, f64)> = values
                .iter()
                .enumerate()
                .map(|(k, &v)| (k as f64, v))
                .collect();
            chart.draw_series(LineSeries::new(pts.clone(), colour.stroke_width(3)))?;
            for p in &pts {
                marker(&chart, *p, shape, 5, colour.filled())?;
            }
        }
        draw_legend(&right, ink, &self.legend(&entries, slo))
    }
}

impl MigrationChart<'_> {
    fn legend(&self, entries: &[&str], slo: Option<f64>) -> Vec<Row> {
        let mut rows = vec![Row::Heading("p99 latency".into())];
        for (e, name) in entries.iter().enumerate() {
            rows.push(item(
                line_swatch(
                    DESIGN_COLOURS[e % DESIGN_COLOURS.len()],
                    Some(Marker::Circle),
                ),
                *name,
            ));
        }
        if let Some(limit) = slo {
            rows.push(item(
                Swatch::Line {
                    colour: RED,
                    dashed: true,
                    marker: None,
                },
                format!("objective: p99 <= {} ms", super::axis::fmt_num(limit)),
            ));
        }
        rows.push(Row::Heading("Cores beyond step 0".into()));
        rows.push(item(
            line_swatch(DEPLOYED, Some(Marker::Square)),
            "deployed",
        ));
        rows.push(item(
            line_swatch(USED, Some(Marker::Circle)),
            "busy (CPU used)",
        ));
        rows.push(Row::Heading("Steps".into()));
        for s in &self.m.steps {
            let what = if s.index == 0 {
                format!("0: all {}", self.m.from)
            } else {
                format!("{}: + {}", s.index, s.moves.join(", "))
            };
            rows.push(Row::Note(what));
        }
        rows
    }
}
