//! The highest offered rate a design sustains within its SLOs, as a bracket
//! `[met, not met]`: found from the busiest cores' measured utilisation,
//! then geometric steps, and bisected to a resolution.

use super::point::{
    Evaluation, LIGHT_LOAD, Search, at_rate, binding_at, evaluate, figures_text, round_sig,
};
use crate::model::{Design, Topology, guard};
use crate::report::capacity::{Point, RateCapacity};
use crate::report::slo::{Slo, Verdict};

/// The shortest decimal strictly inside (lo, hi) near their geometric mean,
/// so the rates in the report read like rates people write.
fn midpoint(lo: f64, hi: f64) -> f64 {
    let mid = (lo * hi).sqrt();
    (1..=15)
        .map(|d| round_sig(mid, d))
        .find(|&m| m > lo && m < hi && (m - mid).abs() <= 0.15 * (hi - lo))
        .unwrap_or(mid)
}

/// A step rounded to two significant digits, for readable bracketing rates.
fn nice(x: f64) -> f64 {
    round_sig(x, 2)
}

/// Most points one search evaluates: bracketing plus bisection need about
/// twenty on any sane model; this only stops a pathological one.
const MAX_POINTS: usize = 60;

/// The rates a search may try and when its bracket is narrow enough.
struct Limits {
    max_rps: f64,
    min_rps: f64,
    /// Smallest relative step up while no rate has missed yet.
    step: f64,
    resolution: f64,
}

/// What the points evaluated so far say, gathered as the search goes.
#[derive(Default)]
struct Findings {
    points: Vec<Point>,
    /// The lowest saturated rate and its bottleneck.
    saturation: Option<(f64, Option<String>)>,
    /// The highest unsaturated rate, where saturation extrapolates to, and
    /// the busiest cores there.
    estimate: Option<(f64, f64, Option<String>)>,
    runs: usize,
    /// Highest rate met and lowest not met.
    lo: Option<f64>,
    hi: Option<f64>,
}

impl Findings {
    fn add(&mut self, rate: f64, e: Evaluation) {
        self.runs += e.point.replications as usize;
        let p = &e.point;
        if p.saturated {
            if self.saturation.as_ref().is_none_or(|(r, _)| rate < *r) {
                self.saturation = Some((rate, e.saturation_bottleneck.clone()));
            }
        } else if p.busiest_utilisation > 0.0
            && self.estimate.as_ref().is_none_or(|(r, _, _)| rate > *r)
        {
            self.estimate = Some((rate, rate / p.busiest_utilisation, p.busiest.clone()));
        }
        if p.verdict == Verdict::Met {
            self.lo = Some(rate);
        } else {
            self.hi = Some(rate);
        }
        self.points.push(e.point);
    }
}

/// The next rate to try after point `p`, or why to stop (None: the bracket
/// is found).
fn next_rate(
    f: &Findings,
    p: &Point,
    limits: &Limits,
    slos: &[Slo],
) -> Result<f64, Option<String>> {
    match (f.lo, f.hi) {
        (Some(l), Some(h)) => {
            if h / l <= 1.0 + limits.resolution {
                return Err(None);
            }
            Ok(midpoint(l, h))
        }
        (Some(l), None) => {
            if l >= limits.max_rps {
                return Err(Some(format!(
                    "every SLO was met at every rate tried, up to {l} rps (the search's maximum)"
                )));
            }
            // Aim just below where the busiest cores would saturate,
            // stepping at least a little and at most 4x.
            let s = if p.busiest_utilisation > 0.0 {
                l / p.busiest_utilisation
            } else {
                f64::INFINITY
            };
            let step = limits.step;
            Ok(nice((0.95 * s).clamp(l * (1.0 + step), l * 4.0))
                .max(l * (1.0 + step))
                .min(limits.max_rps))
        }
        (None, Some(h)) => {
            if h <= limits.min_rps {
                return Err(Some(format!(
                    "the SLOs were missed at every rate tried, down to {h} rps"
                )));
            }
            // Missed with nearly idle cores: latency is at its light-load
            // floor, which lower rates cannot improve.
            if !p.saturated && p.busiest_utilisation < LIGHT_LOAD {
                return Err(Some(format!(
                    "missed even at {h} rps, where the busiest cores ({}) are only {:.0}% busy: the SLOs are below this design's latency at light load ({})",
                    p.busiest.as_deref().unwrap_or("none"),
                    100.0 * p.busiest_utilisation,
                    figures_text(slos, p)
                )));
            }
            // A saturated run finishes about as many requests as its
            // bottleneck can serve: aim below that, or halve.
            let target = if p.saturated && p.completed_rps > 0.0 {
                0.9 * p.completed_rps
            } else {
                h / 2.0
            };
            Ok(nice(target.clamp(h / 8.0, h / 2.0)))
        }
        (None, None) => unreachable!("every point is met or not"),
    }
}

/// Finds the highest offered rate at which `design` meets every SLO on
/// `topo`: brackets it (from the first point's utilisation, where
/// saturation would be, then geometric steps) and bisects the bracket
/// geometrically to `search.resolution`.
pub fn rate_capacity(
    topo: &Topology,
    design: &Design,
    slos: &[Slo],
    search: &Search,
) -> RateCapacity {
    let start = search
        .start_rps
        .or(topo.workload.arrivals.rate())
        .filter(|r| *r > 0.0)
        .unwrap_or(100.0);
    let limits = Limits {
        max_rps: search.max_rps.unwrap_or(start * 1000.0).max(start),
        min_rps: start / 1e4,
        step: (2.0 * search.resolution).max(0.01),
        resolution: search.resolution,
    };
    let mut found = Findings::default();
    let mut note = None;
    let mut rate = start;
    while found.points.len() < MAX_POINTS {
        let t = at_rate(topo, rate);
        if let Some(why) = guard::Size::of(&t, design).refusal() {
            note = Some(format!("stopped at {rate} rps: {why}"));
            break;
        }
        let e = evaluate(&t, design, slos, search);
        let p = e.point.clone();
        found.add(rate, e);
        match next_rate(&found, &p, &limits, slos) {
            Ok(next) => rate = next,
            Err(why) => {
                note = why;
                break;
            }
        }
    }
    conclude(design, slos, found, note)
}

/// The bracket and what was learned on the way to it.
fn conclude(design: &Design, slos: &[Slo], f: Findings, note: Option<String>) -> RateCapacity {
    let points = f.points;
    let unsure: Vec<f64> = points
        .iter()
        .filter(|p| p.verdict == Verdict::Unsure)
        .map(|p| p.rate_rps)
        .collect();
    let missed_rps = points
        .iter()
        .filter(|p| p.verdict == Verdict::Missed)
        .map(|p| p.rate_rps)
        .min_by(f64::total_cmp);
    let at_met =
        f.lo.and_then(|l| points.iter().find(|p| p.rate_rps == l).cloned());
    // What decides the capacity: the objective closest to (or beyond) its
    // limit where the rate is not met, else where it last was.
    let at_limit = f.hi.and_then(|h| points.iter().find(|p| p.rate_rps == h));
    let binding = binding_at(slos, at_limit).or_else(|| binding_at(slos, at_met.as_ref()));
    let bottleneck = match &f.saturation {
        Some((_, b)) if b.is_some() => b.clone(),
        _ => f.estimate.as_ref().and_then(|e| e.2.clone()),
    };
    RateCapacity {
        design: design.name.clone(),
        slos: slos.to_vec(),
        met_rps: f.lo,
        missed_rps,
        limit_rps: f.hi,
        saturation_rps: f.saturation.map(|s| s.0),
        saturation_estimate_rps: f.estimate.map(|e| e.1),
        bottleneck,
        at_met,
        binding,
        unsure,
        runs: f.runs,
        note,
        points,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn midpoints_are_short_decimals_inside_the_bracket() {
        assert_eq!(midpoint(500.0, 1000.0), 700.0);
        assert_eq!(midpoint(700.0, 1000.0), 800.0);
        let m = midpoint(1000.0, 1010.0);
        assert!(m > 1000.0 && m < 1010.0, "{m}");
        assert_eq!(nice(1234.0), 1200.0);
    }
}
