//! Charts: the six of a study, drawn from [`StudyResults`] alone (so `ztsim
//! plot` can redraw them from `results.json`), the tornado charts of a
//! sensitivity analysis and the topology diagram. Each chart is an SVG (text
//! drawn as the bundled DejaVu Sans' glyph outlines, so it looks the same
//! everywhere, with the text itself kept invisible for search) and a
//! 1200x750 PNG typeset with the same font and layout.
//!
//! The charts read `report`'s plain data (results, the list of chart kinds
//! in [`crate::report::figures`], the topology's shape); `report` never
//! calls back here.
//!
//! Conventions shared by every chart:
//! - one colour per design, fixed by the design's position in
//!   [`StudyResults::designs`] (then first appearance among the points);
//!   combinations of extra swept parameters get shades of their design's
//!   colour and their own marker shape;
//! - the *load* charts ([`Chart::LatencyVsLoad`], [`Chart::ThroughputVsLoad`])
//!   draw every point, at its configured rate (closed-loop points: at their
//!   measured arrival rate); the *focus* charts (the others) draw one point
//!   per design at the load [`focus_rate`] picks and the first combination of
//!   extra parameters found there;
//! - a latency axis turns logarithmic when the values drawn span more than
//!   10x, a decade (the CDF's latency axis always is); confidence bounds never decide
//!   the scale;
//! - saturated points have no latency: the load charts mark them with an X,
//!   the focus charts say so in the legend or in place of the bar;
//! - with several entry endpoints the latency charts (latency vs load, CDF,
//!   attribution, latency over time) draw one panel per entry, each on its
//!   own scale ([`entries`]), unless the study asked for `blend_entries`.

mod attribution;
mod axis;
mod backend;
mod bars;
mod canvas;
mod cpu_by_category;
pub mod diagram;
mod entries;
mod font;
mod latency_cdf;
mod latency_over_time;
mod latency_vs_load;
mod legend;
pub mod migration;
mod palette;
mod plot;
mod study;
mod svg_text;
pub mod testbed;
mod text;
mod throughput_vs_load;
pub mod tornado;

use std::io;
use std::path::{Path, PathBuf};

use plotters::prelude::*;

pub use crate::report::figures::Chart;
use crate::report::study::StudyResults;
pub use crate::report::study::focus_rate;
use backend::{Area, Res};
pub use canvas::SIZE;
use canvas::{Drawing, save};
use study::Ctx;
use text::Ink;

/// Renders every chart that the results can support into `dir` (created if
/// missing) as `<stem>.svg` and `<stem>.png`; returns the paths written, SVG
/// then PNG for each chart, in [`Chart::ALL`] order. Each file is written
/// through a temporary file and a rename.
///
/// A chart is skipped when it would have nothing to draw:
/// - no points at all: nothing is written;
/// - [`Chart::LatencyCdf`] and [`Chart::Attribution`]: when every design is
///   saturated at the focus load (no latency figures exist);
/// - [`Chart::CpuByCategory`]: when no design at the focus load completed a
///   request;
/// - [`Chart::LatencyOverTime`]: when no point at the focus load has a time
///   series. Otherwise it is always drawn, saturated designs included (their
///   climbing latency is the point), so warm-up, rotations and token expiry
///   show; intervals past the end of the measured window (the drain of
///   requests in flight) are left out.
///
/// The load charts are drawn whenever there are points, even with a single
/// load (lone markers) or every point saturated (only the X marks, and a
/// note). With more than four lines the p99 confidence interval is drawn as
/// error bars rather than shaded bands, which would turn to mud.
pub fn render_all(results: &StudyResults, dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    if results.points.is_empty() {
        return Ok(written);
    }
    crate::report::output::create_dir(dir)?;
    let cx = Ctx::new(results);
    for chart in Chart::ALL {
        written.extend(render_with(&cx, chart, dir)?);
    }
    Ok(written)
}

/// Renders one chart into `dir` (created if missing) as `<stem>.svg` and
/// `<stem>.png`; returns the paths written, none if the results cannot
/// support the chart (see [`render_all`]).
pub fn render(chart: Chart, results: &StudyResults, dir: &Path) -> io::Result<Vec<PathBuf>> {
    if results.points.is_empty() {
        return Ok(Vec::new());
    }
    crate::report::output::create_dir(dir)?;
    render_with(&Ctx::new(results), chart, dir)
}

/// The topology diagram of `results` (SVG text without a prolog, for
/// [`crate::report::review::write`]); None for results written before the
/// topology was recorded.
pub fn topology_diagram(results: &StudyResults) -> Option<String> {
    results.setup.as_ref().map(|s| diagram::svg(&s.topology))
}

fn render_with(cx: &Ctx, chart: Chart, dir: &Path) -> io::Result<Vec<PathBuf>> {
    if !cx.supports(chart) {
        return Ok(Vec::new());
    }
    save(dir, chart.stem(), &StudyChart(cx, chart))
}

struct StudyChart<'a>(&'a Ctx<'a>, Chart);

impl Drawing for StudyChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &Area<DB>, ink: Ink) -> Res<(), DB> {
        draw(self.0, self.1, root, ink)
    }

    fn size(&self) -> (u32, u32) {
        entries::size(self.0, self.1)
    }
}

fn draw<DB: DrawingBackend>(cx: &Ctx, chart: Chart, root: &Area<DB>, ink: Ink) -> Res<(), DB> {
    match chart {
        Chart::LatencyVsLoad => latency_vs_load::draw(cx, root, ink),
        Chart::ThroughputVsLoad => throughput_vs_load::draw(cx, root, ink),
        Chart::CpuByCategory => cpu_by_category::draw(cx, root, ink),
        Chart::LatencyCdf => latency_cdf::draw(cx, root, ink),
        Chart::Attribution => attribution::draw(cx, root, ink),
        Chart::LatencyOverTime => latency_over_time::draw(cx, root, ink),
    }
}
