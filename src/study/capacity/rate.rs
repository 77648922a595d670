//! The highest offered rate a design sustains within its SLOs, as a bracket
//! `[met, not met]`: found from the busiest cores' measured utilisation,
//! then geometric steps, and narrowed to a resolution where the latency
//! curve is expected to cross the SLOs, or by bisection.

use super::point::{
    Evaluation, LIGHT_LOAD, Search, at_rate, binding_at, evaluate, figures_text, round_sig,
};
use crate::model::{Design, Topology, guard};
use crate::report::capacity::{Point, RateCapacity};
use crate::report::slo::{Slo, Verdict};
use crate::study::progress::{Silent, Tally};

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

/// Most midpoints [`bisection_bound`] follows before it settles for the
/// closed-form bound (a resolution far finer than any useful one).
const BOUND_BUDGET: u32 = 1 << 14;

/// The most points a search still evaluates to narrow the bracket
/// `[lo, hi]` (met, not met) until `hi / lo <= 1 + resolution`, whichever
/// way each point falls: the deepest path through the very midpoints the
/// search would choose. At most [`MAX_POINTS`].
pub fn bisection_bound(lo: f64, hi: f64, resolution: f64) -> u64 {
    let mut budget = BOUND_BUDGET;
    deepest(lo, hi, resolution, MAX_POINTS as u64, &mut budget)
        .unwrap_or_else(|| widest(hi / lo, resolution))
        .min(MAX_POINTS as u64)
}

/// The depth of the bisection tree below `[lo, hi]`; None past the budget
/// or when a midpoint would not narrow the bracket.
fn deepest(lo: f64, hi: f64, resolution: f64, depth: u64, budget: &mut u32) -> Option<u64> {
    if hi / lo <= 1.0 + resolution {
        return Some(0);
    }
    if depth == 0 || *budget == 0 {
        return None;
    }
    *budget -= 1;
    let m = midpoint(lo, hi);
    if !(m > lo && m < hi) {
        return None;
    }
    let up = deepest(m, hi, resolution, depth - 1, budget)?;
    let down = deepest(lo, m, resolution, depth - 1, budget)?;
    Some(1 + up.max(down))
}

/// A closed-form bound on the steps from bracket ratio `ratio`: a midpoint
/// lies within 15% of the bracket's width of the geometric mean, so each
/// step leaves at most the wider of the two sides that allows.
fn widest(mut ratio: f64, resolution: f64) -> u64 {
    let mut steps = 0;
    while ratio > 1.0 + resolution && steps < MAX_POINTS as u64 {
        let (g, w) = (ratio.sqrt(), 0.15 * (ratio - 1.0));
        let next = (g + w).min(ratio).max(ratio / (g - w).max(1.0));
        if next >= ratio {
            return MAX_POINTS as u64;
        }
        ratio = next;
        steps += 1;
    }
    steps
}

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
    /// Points in a row, since the bracket was last found or halved (in log
    /// width), that narrowed it by less than half: the interpolation is
    /// given two such points, then a midpoint is taken (see [`narrow`]).
    stalled: u32,
}

impl Findings {
    fn add(&mut self, rate: f64, e: Evaluation) {
        self.runs += e.point.replications as usize;
        let width = self.lo.zip(self.hi).map(|(l, h)| (h / l).ln());
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
        let now = self.lo.zip(self.hi).map(|(l, h)| (h / l).ln());
        self.stalled = match (width, now) {
            (Some(w), Some(n)) if n > 0.5 * w => self.stalled + 1,
            _ => 0,
        };
        self.points.push(e.point);
    }

    /// The point evaluated at `rate`.
    fn at(&self, rate: f64) -> Option<&Point> {
        self.points.iter().find(|p| p.rate_rps == rate)
    }
}

/// A point's figures against their limits, the largest share (1: at the
/// limit); None when saturated or unmeasured.
fn share_of_limit(slos: &[Slo], p: &Point) -> Option<f64> {
    if p.saturated || slos.is_empty() {
        return None;
    }
    slos.iter()
        .zip(&p.figures_ms)
        .map(|(s, f)| f.as_ref().map(|e| e.mean / s.limit_ms))
        .try_fold(0f64, |m, y| Some(m.max(y?)))
}

/// Where the SLO figures would reach their limits between the bracket's
/// two points, `lo` met and `hi` not: a latency figure grows like
/// `a + b / (1 - r / S)` as the rate r nears the saturation rate S (the
/// waiting time of a queue), so with S taken from the busiest cores'
/// measured utilisation, the two points fix a and b and the crossing
/// follows. None when a point has no figure (saturated) or the two do not
/// rise.
fn crossing(f: &Findings, slos: &[Slo], lo: f64, hi: f64) -> Option<f64> {
    let saturates = f.estimate.as_ref()?.1;
    let (pl, ph) = (f.at(lo)?, f.at(hi)?);
    let (yl, yh) = (share_of_limit(slos, pl)?, share_of_limit(slos, ph)?);
    let x = |r: f64| (r < saturates).then(|| 1.0 / (1.0 - r / saturates));
    let (xl, xh) = (x(lo)?, x(hi)?);
    if !(yh > yl && xh > xl) {
        return None;
    }
    let at = xl + (1.0 - yl) * (xh - xl) / (yh - yl);
    let r = saturates * (1.0 - 1.0 / at);
    (at > 1.0 && r.is_finite()).then_some(r)
}

/// The shortest decimal within `[lo, hi]` and within `near` (relative) of
/// `x`, once `x` is brought inside them.
fn short_within(x: f64, (lo, hi): (f64, f64), near: f64) -> f64 {
    let x = x.clamp(lo, hi);
    (1..=15)
        .map(|d| round_sig(x, d))
        .find(|&m| m >= lo && m <= hi && (m - x).abs() <= near * x)
        .unwrap_or(x)
}

/// The next rate inside the bracket `[l, h]`. A bracket within two
/// resolutions is split at its midpoint, which ends the search whichever
/// way it falls. A wider one is split where the SLO figures are expected
/// to reach their limits ([`crossing`]), kept a resolution away from
/// either end, so that a good prediction ends the search in one or two
/// points where bisection takes five or six; after two points that did not
/// halve the bracket (log width), a midpoint, so the search never takes
/// more than about three times bisection's points.
fn narrow(f: &Findings, slos: &[Slo], (l, h): (f64, f64), resolution: f64) -> f64 {
    let step = 1.0 + resolution;
    if h / l <= step * step || f.stalled >= 2 {
        return midpoint(l, h);
    }
    match crossing(f, slos, l, h) {
        Some(r) => short_within(r, (l * step, h / step), resolution / 4.0),
        None => midpoint(l, h),
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
            Ok(narrow(f, slos, (l, h), limits.resolution))
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
/// saturation would be, then geometric steps) and narrows the bracket to
/// `search.resolution` ([`narrow`]).
pub fn rate_capacity(
    topo: &Topology,
    design: &Design,
    slos: &[Slo],
    search: &Search,
) -> RateCapacity {
    rate_capacity_in(
        topo,
        design,
        slos,
        search,
        &Tally::start(&Silent, 1, None),
        0,
    )
}

/// [`rate_capacity`] as task `task` of `tally`: each point evaluated is one
/// unit, with the bisection's bound on the points left once the bracket is
/// found.
pub(crate) fn rate_capacity_in(
    topo: &Topology,
    design: &Design,
    slos: &[Slo],
    search: &Search,
    tally: &Tally,
    task: usize,
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
        tally.doing(&format!("{}: {rate} rps", design.name));
        let e = evaluate(&t, design, slos, search, tally.running() == 1);
        let p = e.point.clone();
        found.add(rate, e);
        let next = next_rate(&found, &p, &limits, slos);
        let left = match (&next, found.lo, found.hi) {
            (Err(_), _, _) => Some(0),
            // Each halving of the bracket takes at most three points
            // ([`narrow`]).
            (Ok(_), Some(l), Some(h)) => Some(
                (3 * bisection_bound(l, h, limits.resolution))
                    .min((MAX_POINTS - found.points.len()) as u64),
            ),
            _ => None,
        };
        tally.done(task, left);
        match next {
            Ok(next) => rate = next,
            Err(why) => {
                note = why;
                break;
            }
        }
    }
    tally.ended(task);
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

    /// The points a bisection takes when every rate up to `threshold` meets
    /// the SLOs, following the search's own midpoints and stop.
    fn bisect(mut lo: f64, mut hi: f64, resolution: f64, threshold: f64) -> u64 {
        let mut points = 0;
        while hi / lo > 1.0 + resolution {
            let m = midpoint(lo, hi);
            points += 1;
            if m <= threshold { lo = m } else { hi = m }
        }
        points
    }

    #[test]
    fn the_bisection_bound_is_the_most_points_any_outcome_takes() {
        // Within the resolution: nothing left. 100 -> 103 at 2%: one
        // midpoint (101.5) leaves 1.5% on either side.
        assert_eq!(bisection_bound(100.0, 101.9, 0.02), 0);
        assert_eq!(midpoint(100.0, 103.0), 101.5);
        assert_eq!(bisection_bound(100.0, 103.0, 0.02), 1);
        for (lo, hi, res) in [
            (500.0, 1000.0, 0.02),
            (120.0, 960.0, 0.05),
            (700.0, 2800.0, 0.01),
        ] {
            let bound = bisection_bound(lo, hi, res);
            // Every threshold inside the bracket, geometrically spaced: each
            // leaf of the bisection is reached by some threshold.
            let n = 20_000;
            let most = (0..=n)
                .map(|i| bisect(lo, hi, res, lo * (hi / lo).powf(i as f64 / n as f64)))
                .max()
                .unwrap();
            assert_eq!(bound, most, "[{lo}, {hi}] at {res}");
            // Halving the log-ratio is the least a step can do.
            let ideal = ((hi / lo).ln() / (1.0 + res).ln()).log2().ceil() as u64;
            assert!(bound >= ideal, "{bound} < {ideal}");
        }
    }

    #[test]
    fn a_resolution_too_fine_to_follow_falls_back_to_the_closed_form() {
        let ideal = (8f64.ln() / 1e-9f64.ln_1p()).log2().ceil() as u64;
        let b = bisection_bound(100.0, 800.0, 1e-9);
        assert!(b >= ideal && b <= MAX_POINTS as u64, "{b}");
        assert!(widest(8.0, 0.02) >= bisection_bound(100.0, 800.0, 0.02));
    }
}
