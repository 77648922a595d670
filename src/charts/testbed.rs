//! The loopback testbed's chart (`ztsim testbed`): one panel per design,
//! p50 and p99 latency against offered load, measured (solid, filled
//! markers) and predicted by ztsim (dashed, open markers).

use std::io;
use std::path::{Path, PathBuf};

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::axis::Axis;
use super::backend::{Area, Res};
use super::canvas::{Drawing, Marker, frame_titled, marker, save};
use super::legend::{LEGEND_W, Row, Swatch, draw_legend, item};
use super::palette::{DESIGN_COLOURS, INK};
use super::plot::plot;
use super::text::{Ink, fit, put, style};
use crate::report::testbed::DesignResult;

const P50: RGBColor = DESIGN_COLOURS[0];
const P99: RGBColor = DESIGN_COLOURS[1];
/// Height of the strip under the panels that holds the shared x title.
const X_TITLE_H: u32 = 30;

struct TestbedChart<'a> {
    results: &'a [DesignResult],
    subtitle: Vec<String>,
}

/// Writes `testbed.svg` and `testbed.png` into `dir`; returns their paths.
/// `subtitle` says what was run (handler CPU, cores, window).
pub fn render(
    results: &[DesignResult],
    subtitle: Vec<String>,
    dir: &Path,
) -> io::Result<Vec<PathBuf>> {
    save(dir, "testbed", &TestbedChart { results, subtitle })
}

/// Columns and rows of panels for `n` designs.
fn grid(n: usize) -> (usize, usize) {
    let cols = match n {
        0..=1 => 1,
        2..=4 => 2,
        5..=9 => 3,
        _ => 4,
    };
    (cols, n.div_ceil(cols).max(1))
}

impl Drawing for TestbedChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &Area<DB>, ink: Ink) -> Res<(), DB> {
        let body = frame_titled(
            root,
            ink,
            "Loopback testbed: measured and ztsim-predicted latency against load",
            &self.subtitle,
        )?;
        let (w, _) = body.dim_in_pixel();
        let (left, right) = body.split_horizontally(w.saturating_sub(LEGEND_W));
        let (cols, rows) = grid(self.results.len());
        // Small multiples: every panel shows the same quantities in the same
        // units, so the x title is written once under the grid and the y
        // unit on the left column only, and the panels keep their height.
        let (lw, lh) = left.dim_in_pixel();
        let (grid_area, footer) = left.split_vertically(lh.saturating_sub(X_TITLE_H));
        put(
            &footer,
            ink,
            "offered load (rps)",
            (lw as i32 / 2, 4),
            style(16.0, INK).at(HPos::Center, VPos::Top),
        )?;
        let panels = grid_area.split_evenly((rows, cols));
        for (i, (d, area)) in self.results.iter().zip(panels.iter()).enumerate() {
            // A quarter of the chart high: the quantity is in the title.
            let y_desc = if i % cols == 0 { "ms" } else { "" };
            panel(d, area, ink, y_desc)?;
        }
        draw_legend(&right, ink, &legend())
    }
}

fn legend() -> Vec<Row> {
    let line = |colour, dashed, marker| Swatch::Line {
        colour,
        dashed,
        marker: Some(marker),
    };
    vec![
        Row::Heading("Latency".into()),
        item(line(P99, false, Marker::Circle), "p99 measured"),
        item(line(P99, true, Marker::Square), "p99 predicted"),
        item(line(P50, false, Marker::Circle), "p50 measured"),
        item(line(P50, true, Marker::Square), "p50 predicted"),
        Row::Note("Measured: real TCP and rustls".into()),
        Row::Note("on loopback, one server core.".into()),
        Row::Note("Predicted: ztsim on the same".into()),
        Row::Note("system, costs measured in".into()),
        Row::Note("the same run.".into()),
    ]
}

fn panel<DB: DrawingBackend>(
    d: &DesignResult,
    area: &Area<DB>,
    ink: Ink,
    y_desc: &str,
) -> Res<(), DB> {
    let (w, _) = area.dim_in_pixel();
    put(
        area,
        ink,
        &fit(&d.design, 18.0, w.saturating_sub(20)),
        (w as i32 / 2, 4),
        style(18.0, INK).at(HPos::Center, VPos::Top),
    )?;
    let area = area.split_vertically(26).1;
    let curves = [
        (
            P99,
            false,
            d.points
                .iter()
                .map(|p| (p.rate_rps, p.measured.p99_ms))
                .collect::<Vec<_>>(),
        ),
        (
            P99,
            true,
            d.points
                .iter()
                .map(|p| (p.rate_rps, p.predicted.p99_ms))
                .collect(),
        ),
        (
            P50,
            false,
            d.points
                .iter()
                .map(|p| (p.rate_rps, p.measured.p50_ms))
                .collect(),
        ),
        (
            P50,
            true,
            d.points
                .iter()
                .map(|p| (p.rate_rps, p.predicted.p50_ms))
                .collect(),
        ),
    ];
    let ys: Vec<f64> = curves
        .iter()
        .flat_map(|c| c.2.iter().map(|p| p.1))
        .filter(|v| v.is_finite() && *v > 0.0)
        .collect();
    let xs: Vec<f64> = d.points.iter().map(|p| p.rate_rps).collect();
    let mut x = Axis::values(&xs, true, 0.05);
    // A panel is a quarter of the chart wide: four labels at most, or
    // "250500750" runs together.
    if x.ticks.len() > 4 {
        let keep = x.ticks.len().div_ceil(4);
        x.ticks = x.ticks.iter().copied().step_by(keep).collect();
    }
    let y = Axis::values(&ys, true, 0.08);
    let mut chart = plot(&area, ink, &x, &y, "", y_desc)?;
    for (colour, dashed, pts) in &curves {
        let pts: Vec<(f64, f64)> = pts
            .iter()
            .filter(|p| p.1.is_finite() && p.1 > 0.0)
            .map(|&(a, b)| (a, y.clamp(b)))
            .collect();
        if *dashed {
            chart.draw_series(DashedLineSeries::new(
                pts.clone(),
                10,
                7,
                colour.stroke_width(2),
            ))?;
            for p in &pts {
                marker(&chart, *p, Marker::Square, 4, WHITE.filled())?;
                marker(&chart, *p, Marker::Square, 4, colour.stroke_width(2))?;
            }
        } else {
            chart.draw_series(LineSeries::new(pts.clone(), colour.stroke_width(3)))?;
            for p in &pts {
                marker(&chart, *p, Marker::Circle, 5, colour.filled())?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testbed::{Figures, Point};

    fn figures(scale: f64) -> Figures {
        Figures {
            p50_ms: scale,
            p90_ms: 2.0 * scale,
            p99_ms: 4.0 * scale,
            mean_ms: 1.2 * scale,
            throughput_rps: 100.0,
            cpu_util: 0.5,
        }
    }

    /// Sixteen designs, as a full run has: every panel drawn, both files
    /// written. ZTSIM_CHART_DIR keeps them for a look.
    #[test]
    fn sixteen_panels_are_drawn() {
        let results: Vec<DesignResult> = (0..16)
            .map(|i| DesignResult {
                design: format!("design-{i}"),
                points: (1..=8)
                    .map(|k| Point {
                        rate_rps: 150.0 * k as f64,
                        measured: figures(0.5 * 1.6f64.powi(k)),
                        predicted: figures(0.45 * 1.6f64.powi(k)),
                        given_cpu: None,
                    })
                    .collect(),
            })
            .collect();
        let dir = std::env::var_os("ZTSIM_CHART_DIR").map_or_else(
            || std::env::temp_dir().join(format!("ztsim-testbed-chart-{}", std::process::id())),
            PathBuf::from,
        );
        std::fs::create_dir_all(&dir).unwrap();
        let files = render(&results, vec!["a subtitle".into()], &dir).unwrap();
        for f in &files {
            assert!(
                std::fs::metadata(f).unwrap().len() > 10_000,
                "{}",
                f.display()
            );
        }
        if std::env::var_os("ZTSIM_CHART_DIR").is_none() {
            std::fs::remove_dir_all(&dir).unwrap();
        }
    }
}
