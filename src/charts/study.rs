//! A study's results organised for drawing ([`Ctx`]): design colours, the
//! lines of the load charts, the points at the focus load, the subtitles;
//! and the small helpers the study charts share.

use plotters::prelude::*;

use super::axis::{Axis, Scale, fmt_num};
use super::backend::{Area, Res};
use super::canvas::{Marker, frame_titled};
use super::legend::{Row, Swatch, item, line_swatch};
use super::palette::{design_colour, line_colour};
use super::text::Ink;
use crate::report::figures::Chart;
use crate::report::study::{CdfPoint, PointResult, SeriesPoint, StudyResults};
pub(crate) use crate::report::study::{focus_rate, same_rate};
use crate::report::summary::{AttributionSummary, LatencySummary, RequestSummary};

/// Fills the background, draws the title and subtitle lines, and returns the
/// area below them.
pub(crate) fn frame<DB: DrawingBackend>(
    root: &Area<DB>,
    ink: Ink,
    chart: Chart,
    lines: &[String],
) -> Res<Area<DB>, DB> {
    frame_titled(root, ink, chart.title(), lines)
}

pub(crate) fn fmt_params(params: &[(String, String)]) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Each swept parameter's name as a legend shows it: its last segment
/// (`ticket_ttl` for `resumption.ticket_ttl`) unless two parameters share
/// it. A legend cut at its width then keeps the values that tell lines
/// apart rather than the path they share.
fn short_keys(combos: &[&Vec<(String, String)>]) -> Vec<(String, String)> {
    let mut keys: Vec<&String> = combos
        .iter()
        .flat_map(|c| c.iter().map(|(k, _)| k))
        .collect();
    keys.sort();
    keys.dedup();
    let last = |k: &str| k.rsplit('.').next().unwrap_or(k).to_string();
    keys.iter()
        .map(|k| {
            let short = last(k);
            let shared = keys.iter().filter(|o| last(o) == short).count() > 1;
            ((*k).clone(), if shared { (*k).clone() } else { short })
        })
        .collect()
}

/// A line's parameters for its legend label: the value alone when one
/// parameter is swept (its name is in the heading), else `name=value`
/// with short names.
fn line_params(params: &[(String, String)], keys: &[(String, String)]) -> String {
    if let [(_, v)] = params {
        return v.clone();
    }
    params
        .iter()
        .map(|(k, v)| {
            let short = keys
                .iter()
                .find(|(full, _)| full == k)
                .map_or(k, |(_, s)| s);
            format!("{short}={v}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// One line of the load charts: a design and a combination of extra
/// parameters, its points in increasing load.
#[derive(Clone)]
pub(crate) struct LoadLine<'a> {
    pub(crate) design: usize,
    pub(crate) combo: usize,
    pub(crate) label: String,
    pub(crate) points: Vec<(f64, &'a PointResult)>,
}

impl LoadLine<'_> {
    pub(crate) fn colour(&self) -> RGBColor {
        line_colour(self.design, self.combo)
    }
    pub(crate) fn marker(&self) -> Marker {
        Marker::of(self.combo)
    }
}

/// What every chart draws from, worked out once per study: design colours,
/// the load lines, and the points at the focus load. A copy for one entry
/// endpoint ([`Ctx::for_entry`]) reads that entry's latency figures.
#[derive(Clone)]
pub(crate) struct Ctx<'a> {
    pub(crate) r: &'a StudyResults,
    pub(crate) designs: Vec<String>,
    pub(crate) lines: Vec<LoadLine<'a>>,
    /// Some point has no configured rate (closed loop): its x is the
    /// measured arrival rate.
    pub(crate) closed_loop: bool,
    pub(crate) focus: Option<f64>,
    pub(crate) focus_params: Vec<(String, String)>,
    /// (design index, point) at the focus load, in design order.
    pub(crate) focus_points: Vec<(usize, &'a PointResult)>,
    /// The entry endpoints drawn one panel each (index into the workload's
    /// entries, name, share of requests); empty when the charts blend them.
    pub(crate) entries: Vec<(usize, String, f64)>,
    /// The entry this copy draws; None: every request.
    pub(crate) entry: Option<usize>,
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(r: &'a StudyResults) -> Ctx<'a> {
        let mut designs = r.designs.clone();
        for p in &r.points {
            if !designs.contains(&p.at.design) {
                designs.push(p.at.design.clone());
            }
        }
        let design_of =
            |p: &PointResult| designs.iter().position(|d| *d == p.at.design).unwrap_or(0);
        let mut combos: Vec<&Vec<(String, String)>> = Vec::new();
        for p in &r.points {
            if !combos.contains(&&p.at.params) {
                combos.push(&p.at.params);
            }
        }
        let label_params = combos.len() > 1;
        let keys = short_keys(&combos);
        let mut lines: Vec<LoadLine> = Vec::new();
        for p in &r.points {
            let x =
                p.at.rate_rps
                    .unwrap_or(p.summary.throughput.offered_rps.mean);
            if !x.is_finite() {
                continue;
            }
            let design = design_of(p);
            let combo = combos.iter().position(|c| **c == p.at.params).unwrap_or(0);
            match lines
                .iter_mut()
                .find(|l| l.design == design && l.combo == combo)
            {
                Some(l) => l.points.push((x, p)),
                None => lines.push(LoadLine {
                    design,
                    combo,
                    label: if label_params && !p.at.params.is_empty() {
                        format!("{}, {}", p.at.design, line_params(&p.at.params, &keys))
                    } else {
                        p.at.design.clone()
                    },
                    points: vec![(x, p)],
                }),
            }
        }
        lines.sort_by_key(|l| (l.design, l.combo));
        for l in &mut lines {
            l.points.sort_by(|a, b| a.0.total_cmp(&b.0));
        }

        let focus = focus_rate(r);
        let at_focus: Vec<&PointResult> = r
            .points
            .iter()
            .filter(|p| same_rate(p.at.rate_rps, focus))
            .collect();
        let focus_params = at_focus
            .first()
            .map(|p| p.at.params.clone())
            .unwrap_or_default();
        let mut focus_points: Vec<(usize, &PointResult)> = Vec::new();
        for p in at_focus {
            let d = design_of(p);
            if p.at.params == focus_params && !focus_points.iter().any(|(e, _)| *e == d) {
                focus_points.push((d, p));
            }
        }
        focus_points.sort_by_key(|(d, _)| *d);
        Ctx {
            r,
            designs,
            lines,
            closed_loop: r.points.iter().any(|p| p.at.rate_rps.is_none()),
            focus,
            focus_params,
            focus_points,
            entries: if r.per_entry_charts() {
                entry_panels(r)
            } else {
                Vec::new()
            },
            entry: None,
        }
    }

    /// This context for entry endpoint `entry` (an index into the
    /// workload's entries).
    pub(crate) fn for_entry(&self, entry: usize) -> Ctx<'a> {
        Ctx {
            entry: Some(entry),
            ..self.clone()
        }
    }

    /// Whether the latency charts are drawn one panel per entry endpoint.
    pub(crate) fn per_entry(&self) -> bool {
        self.entry.is_none() && self.entries.len() > 1
    }

    /// The requests `p`'s latency figures are read from: this context's
    /// entry endpoint, or all of them.
    fn requests<'p>(&self, p: &'p PointResult) -> Option<&'p RequestSummary> {
        match self.entry {
            Some(i) => p.summary.endpoints.get(i),
            None => Some(&p.summary.requests),
        }
    }

    /// `p`'s latency figures; None when it saturated.
    pub(crate) fn latency<'p>(&self, p: &'p PointResult) -> Option<&'p LatencySummary> {
        if p.summary.saturated.is_some() {
            return None;
        }
        self.requests(p)?.latency_ms.as_ref()
    }

    /// `p`'s latency CDF.
    pub(crate) fn cdf<'p>(&self, p: &'p PointResult) -> &'p [CdfPoint] {
        match self.entry {
            Some(i) => p.entries.get(i).map_or(&[], |e| e.cdf.as_slice()),
            None => &p.cdf,
        }
    }

    /// `p`'s time series.
    pub(crate) fn series<'p>(&self, p: &'p PointResult) -> &'p [SeriesPoint] {
        match self.entry {
            Some(i) => p.entries.get(i).map_or(&[], |e| e.series.as_slice()),
            None => &p.series,
        }
    }

    /// `p`'s critical-path attribution.
    pub(crate) fn attribution<'p>(&self, p: &'p PointResult) -> &'p [AttributionSummary] {
        match self.entry {
            Some(i) => p
                .summary
                .endpoints
                .get(i)
                .map_or(&[], |e| e.attribution.as_slice()),
            None => &p.summary.attribution,
        }
    }

    pub(crate) fn supports(&self, chart: Chart) -> bool {
        let ok = |p: &&(usize, &PointResult)| p.1.summary.saturated.is_none();
        match chart {
            Chart::LatencyVsLoad | Chart::ThroughputVsLoad => !self.lines.is_empty(),
            Chart::CpuByCategory => self
                .focus_points
                .iter()
                .any(|(_, p)| p.summary.throughput.completed_rps.mean > 0.0),
            Chart::LatencyCdf => self.focus_points.iter().filter(ok).any(|(_, p)| {
                p.cdf
                    .iter()
                    .any(|c| c.ms > 0.0 && c.ms.is_finite() && c.q < 1.0)
            }),
            Chart::Attribution => self
                .focus_points
                .iter()
                .filter(ok)
                .any(|(_, p)| !p.summary.attribution.is_empty()),
            Chart::LatencyOverTime => self.focus_points.iter().any(|(_, p)| !p.series.is_empty()),
        }
    }

    pub(crate) fn study_line(&self) -> String {
        let t = if self.r.title.trim().is_empty() {
            &self.r.name
        } else {
            &self.r.title
        };
        match self.r.partial() {
            // First, where a long title cannot push it out of the line.
            Some(partial) => format!("Partial, {partial} (an interrupted sweep): {}", t.trim()),
            None => t.trim().to_string(),
        }
    }

    pub(crate) fn reps(&self) -> String {
        let n = self.r.replications;
        format!("{n} replication{} per point", if n == 1 { "" } else { "s" })
    }

    /// Title of the load axis.
    pub(crate) fn load_desc(&self) -> &'static str {
        if self.r.points.iter().all(|p| p.at.rate_rps.is_none()) {
            "Arrival rate, measured (requests/s)"
        } else {
            "Offered load (requests/s)"
        }
    }

    pub(crate) fn load_subtitle(&self) -> Vec<String> {
        let mut second = format!("topology {}, {}", self.r.topology, self.reps());
        if self.closed_loop {
            second.push_str("; closed-loop points at their measured arrival rate");
        }
        vec![self.study_line(), second]
    }

    pub(crate) fn focus_subtitle(&self) -> Vec<String> {
        let mut at = match self.focus {
            Some(r) => format!("at {} requests/s offered", fmt_num(r)),
            None => "closed loop".to_string(),
        };
        if !self.focus_params.is_empty() {
            at.push_str(&format!(" with {}", fmt_params(&self.focus_params)));
        }
        vec![
            self.study_line(),
            format!("{at}; topology {}, {}", self.r.topology, self.reps()),
        ]
    }

    pub(crate) fn design_rows(&self, saturated_note: bool) -> Vec<Row> {
        let mut rows = vec![Row::Heading("Designs".into())];
        for (d, p) in &self.focus_points {
            let sat = saturated_note && p.summary.saturated.is_some();
            rows.push(item(
                if sat {
                    Swatch::Cross(design_colour(*d))
                } else {
                    Swatch::Line {
                        colour: design_colour(*d),
                        dashed: false,
                        marker: None,
                    }
                },
                if sat {
                    format!("{} (saturated)", self.designs[*d])
                } else {
                    self.designs[*d].clone()
                },
            ));
        }
        rows
    }
}

/// Most entry endpoints drawn as panels: the busiest, when there are more.
pub(crate) const MAX_ENTRY_PANELS: usize = 6;

/// The entry endpoints of `r` drawn one panel each: every one, at most
/// [`MAX_ENTRY_PANELS`] (the largest shares, in workload order).
fn entry_panels(r: &StudyResults) -> Vec<(usize, String, f64)> {
    let Some(p) = r.points.iter().find(|p| p.entries.len() > 1) else {
        return Vec::new();
    };
    let total: f64 = p.entries.iter().map(|e| e.weight).sum();
    let mut all: Vec<(usize, String, f64)> = p
        .entries
        .iter()
        .enumerate()
        .map(|(i, e)| (i, e.name.clone(), e.weight / total))
        .collect();
    all.sort_by(|a, b| b.2.total_cmp(&a.2).then(a.0.cmp(&b.0)));
    all.truncate(MAX_ENTRY_PANELS);
    all.sort_by_key(|e| e.0);
    all
}

/// Splits `points` into runs of consecutive elements for which `f` is Some.
pub(crate) fn runs<T: Copy, U>(points: &[T], f: impl Fn(T) -> Option<U>) -> Vec<Vec<U>> {
    let mut out: Vec<Vec<U>> = Vec::new();
    let mut cur: Vec<U> = Vec::new();
    for &p in points {
        match f(p) {
            Some(v) => cur.push(v),
            None => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

pub(crate) fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

/// X axis of the load charts: from zero unless the loads sit far from it;
/// ticks at the loads swept when there are few enough to label.
pub(crate) fn load_axis(cx: &Ctx) -> Axis {
    let mut xs: Vec<f64> = cx
        .lines
        .iter()
        .flat_map(|l| l.points.iter().map(|(x, _)| *x))
        .collect();
    if xs.is_empty() {
        return Axis::linear(0.0, 1.0, true);
    }
    xs.sort_by(f64::total_cmp);
    xs.dedup_by(|a, b| same_rate(Some(*a), Some(*b)));
    let (min, max) = (xs[0], xs[xs.len() - 1]);
    let span = (max - min).max(max.abs() * 0.2).max(1.0);
    let lo = if min >= 0.0 && min <= 0.5 * max {
        0.0
    } else {
        min - span * 0.08
    };
    let axis = Axis::linear(lo.min(min), max + span * 0.06, false);
    let gap = xs
        .windows(2)
        .map(|w| w[1] - w[0])
        .fold(f64::INFINITY, f64::min);
    if cx.closed_loop || xs.len() > 10 || gap < (axis.hi - axis.lo) * 0.07 {
        return axis;
    }
    let mut ticks = xs;
    if axis.lo == 0.0 && ticks[0] > (axis.hi - axis.lo) * 0.07 {
        ticks.insert(0, 0.0);
    }
    Axis {
        scale: Scale::Fixed(ticks.iter().map(|t| (*t, fmt_num(*t))).collect()),
        ticks,
        minor: Vec::new(),
        ..axis
    }
}

pub(crate) fn load_legend(cx: &Ctx) -> Vec<Row> {
    let swept: Vec<&(String, String)> =
        cx.r.points
            .first()
            .map_or(Vec::new(), |p| p.at.params.iter().collect());
    let heading = if !cx.lines.iter().any(|l| l.combo > 0) {
        "Designs".into()
    } else if let [(k, _)] = swept.as_slice() {
        // One swept parameter: its name once, in the heading.
        format!("Design, {}", k.rsplit('.').next().unwrap_or(k))
    } else {
        "Design, parameters".into()
    };
    let mut rows = vec![Row::Heading(heading)];
    for l in &cx.lines {
        rows.push(item(
            line_swatch(l.colour(), Some(l.marker())),
            l.label.clone(),
        ));
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn combo(kv: &[(&str, &str)]) -> Vec<(String, String)> {
        kv.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn legends_keep_the_values_that_differ() {
        // One parameter: the value alone (the heading names the parameter).
        let a = combo(&[("resumption.ticket_ttl", "1h")]);
        let keys = short_keys(&[&a]);
        assert_eq!(line_params(&a, &keys), "1h");
        // Two: short names, unless they share a last segment.
        let b = combo(&[("resumption.ticket_ttl", "1h"), ("policy.cache.ttl", "5s")]);
        let keys = short_keys(&[&b]);
        assert_eq!(line_params(&b, &keys), "ticket_ttl=1h, ttl=5s");
        let c = combo(&[("a.ttl", "1h"), ("b.ttl", "5s")]);
        let keys = short_keys(&[&c]);
        assert_eq!(line_params(&c, &keys), "a.ttl=1h, b.ttl=5s");
    }
}
