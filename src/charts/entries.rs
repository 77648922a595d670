//! Small multiples: a latency chart of a workload with several entry
//! endpoints drawn once per entry, each panel titled with the entry and its
//! share of requests. A 4 ms lookup and a 200 ms payment blended into one
//! distribution describe neither; the blended view is drawn only when the
//! study asks for it (`blend_entries`).

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::backend::{Area, Res};
use super::canvas::SIZE;
use super::palette::INK;
use super::study::Ctx;
use super::text::{Ink, fit, put, style};
use crate::report::figures::Chart;

/// Height of one row of panels in a grid, pixels.
const ROW_H: u32 = 330;
/// Height of the title and three subtitle lines above a chart, pixels.
const HEADER_H: u32 = 140;
/// Height of a panel's own title line, pixels.
const TITLE_H: u32 = 30;
/// Height of the whole-system panels under the entries' grid of the
/// latency-over-time chart, pixels.
pub(crate) const SYSTEM_H: u32 = 300;

/// Columns of the grid of entry panels.
const COLS: usize = 2;

/// The canvas of `chart`: taller than [`SIZE`] when its entry panels need
/// the room.
pub(crate) fn size(cx: &Ctx, chart: Chart) -> (u32, u32) {
    if !cx.per_entry() {
        return SIZE;
    }
    let n = cx.entries.len();
    let grid = n.div_ceil(COLS) as u32 * ROW_H;
    let body = match chart {
        Chart::LatencyVsLoad | Chart::LatencyCdf => grid,
        Chart::LatencyOverTime => grid + SYSTEM_H,
        // One row per entry: the mean request and the slowest 1% side by
        // side, a bar per design.
        Chart::Attribution => n as u32 * attribution_row(cx),
        Chart::ThroughputVsLoad | Chart::CpuByCategory => 0,
    };
    (SIZE.0, (HEADER_H + body).max(SIZE.1))
}

/// Height of one entry's row of attribution bars.
fn attribution_row(cx: &Ctx) -> u32 {
    (110 + 40 * cx.focus_points.len() as u32).max(220)
}

/// Draws `each` once per entry endpoint of `cx`, in a grid of [`COLS`]
/// columns filling `area`, each panel under a title naming its entry.
pub(crate) fn grid<DB: DrawingBackend>(
    cx: &Ctx,
    area: &Area<DB>,
    ink: Ink,
    mut each: impl FnMut(&Ctx, &Area<DB>) -> Res<(), DB>,
) -> Res<(), DB> {
    let n = cx.entries.len();
    let cells = area.split_evenly((n.div_ceil(COLS), COLS));
    for ((i, name, share), cell) in cx.entries.iter().zip(&cells) {
        let body = titled(cell, ink, name, *share)?;
        each(&cx.for_entry(*i), &body)?;
    }
    Ok(())
}

/// Puts an entry panel's title at the top of `cell`; returns the area under
/// it.
pub(crate) fn titled<DB: DrawingBackend>(
    cell: &Area<DB>,
    ink: Ink,
    name: &str,
    share: f64,
) -> Res<Area<DB>, DB> {
    let (w, _) = cell.dim_in_pixel();
    let title = format!("{name}: {} of requests", percent(share));
    put(
        cell,
        ink,
        &fit(&title, 18.0, w.saturating_sub(24)),
        (w as i32 / 2, 6),
        style(18.0, INK).at(HPos::Center, VPos::Top),
    )?;
    Ok(cell.split_vertically(TITLE_H).1)
}

/// A share as a percentage with the digits it needs (85%, 2.5%, 0.4%).
fn percent(share: f64) -> String {
    let p = share * 100.0;
    if p >= 10.0 || (p - p.round()).abs() < 0.05 {
        format!("{p:.0}%")
    } else {
        format!("{p:.1}%")
    }
}

/// `lines` (a chart's subtitle) with a line saying the panels are per
/// entry endpoint, and which when only the busiest are drawn.
pub(crate) fn subtitle(cx: &Ctx, mut lines: Vec<String>) -> Vec<String> {
    if !cx.per_entry() {
        return lines;
    }
    let total =
        cx.r.points
            .iter()
            .find(|p| p.entries.len() > 1)
            .map_or(0, |p| p.entries.len());
    lines.push(if total > cx.entries.len() {
        let share: f64 = cx.entries.iter().map(|e| e.2).sum();
        format!(
            "One panel per entry endpoint: the {} busiest of {total} ({} of requests)",
            cx.entries.len(),
            percent(share)
        )
    } else {
        "One panel per entry endpoint, each on its own scale".to_string()
    });
    lines
}

#[cfg(test)]
mod tests {
    use super::percent;

    #[test]
    fn shares_read_as_percentages() {
        assert_eq!(percent(0.85), "85%");
        assert_eq!(percent(0.05), "5%");
        assert_eq!(percent(0.025), "2.5%");
        assert_eq!(percent(1.0 / 3.0), "33%");
    }
}
