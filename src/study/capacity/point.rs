//! One evaluated point of a capacity search or a sizing: a topology at a
//! rate (and size) run until its replications decide the SLOs.
//!
//! Every evaluated point is a set of replications judged by
//! [`verdict_all`], which respects the 95% confidence interval of each
//! figure: a point meets the SLOs only when the intervals say so. An
//! undecided point gets more replications (doubling, up to a cap); still
//! undecided, it counts as not met. A point's seed derives from the base seed
//! and its rate, never from the design or the sizes, so designs and sizes are
//! compared on common random numbers; replications run in parallel and are
//! collected in order, so results do not depend on the number of threads.

use rayon::prelude::*;

use crate::engine::rng::derive;
use crate::model::metrics::{RunMetrics, StationOwner};
use crate::model::sim;
use crate::model::topology::Arrivals;
use crate::model::{Design, Replication, Replications, Topology};
use crate::report::capacity::Point;
use crate::report::slo::{Slo, Verdict, any_scoped, binding, verdict_all};
use crate::report::{Summary, summarize};

/// How a search evaluates points and when it stops.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Search {
    /// Relative width at which a rate bracket counts as found: the search
    /// stops when `missed / met <= 1 + resolution` (e.g. 0.02).
    pub resolution: f64,
    /// Replications of a point at first.
    pub replications: u32,
    /// Replications an undecided point may grow to (doubling).
    pub max_replications: u32,
    /// First rate tried [default: the topology's rate].
    pub start_rps: Option<f64>,
    /// Highest rate tried [default: 1000 x the first].
    pub max_rps: Option<f64>,
}

impl Default for Search {
    fn default() -> Self {
        Search {
            resolution: 0.02,
            replications: 3,
            max_replications: 12,
            start_rps: None,
            max_rps: None,
        }
    }
}

/// A group of cores as one evaluation measured it.
#[derive(Debug, Clone)]
pub(crate) struct Load {
    pub(super) owner: StationOwner,
    pub(super) name: String,
    /// Busy share of its cores (mean over replications).
    pub(super) utilisation: f64,
    /// Busy cores, i.e. core-seconds per second (mean).
    pub(super) busy_cores: f64,
    /// Cores in the group.
    pub(super) cores: f64,
    /// Time waited for its cores per user request, ms (mean).
    pub(super) queueing_ms: f64,
}

/// What one evaluation yields.
#[derive(Clone)]
pub(crate) struct Evaluation {
    pub(crate) point: Point,
    pub(crate) loads: Vec<Load>,
    pub(crate) saturation_bottleneck: Option<String>,
    /// The replications' summary.
    pub(crate) summary: Summary,
    /// Cores deployed, all groups (mean over replications).
    pub(crate) cores: f64,
    /// Busy cores, all groups (mean over replications).
    pub(crate) busy_cores: f64,
}

/// The topology at an open-loop rate, on the seed of that rate: a
/// closed-loop or replayed workload is replaced by Poisson arrivals (a
/// recording has one rate; its shape at other rates is `ztsim run --replay
/// --replay-speed`'s question).
pub fn at_rate(topo: &Topology, rate: f64) -> Topology {
    let mut t = topo.clone();
    t.workload.arrivals = match t.workload.arrivals {
        Arrivals::Constant { .. } => Arrivals::Constant { rate },
        Arrivals::Poisson { .. }
        | Arrivals::Profile { .. }
        | Arrivals::Closed { .. }
        | Arrivals::Replay { .. } => Arrivals::Poisson { rate },
    };
    t.workload.seed = point_seed(topo.workload.seed, rate);
    t
}

/// The seed of the point at `rate`: the same for every design and size.
pub fn point_seed(base: u64, rate: f64) -> u64 {
    derive(base, rate.to_bits())
}

/// Runs replications of `topo` (already at its rate and seed) until the
/// verdict is decided or the cap is reached.
///
/// `alone`: nothing else runs beside this evaluation (one design left to
/// search), so threads that a round leaves idle (3 replications on 2
/// threads) run the next replications ahead of need, kept for the round
/// after if the verdict is undecided. Replication `r` is the same
/// simulation whenever it runs and a verdict reads only the replications it
/// asked for, so this changes the time taken, never a result.
pub(crate) fn evaluate(
    topo: &Topology,
    design: &Design,
    slos: &[Slo],
    search: &Search,
    alone: bool,
) -> Evaluation {
    let mut t = topo.clone();
    let max = search.max_replications.max(search.replications).max(1);
    let mut n = search.replications.clamp(1, max);
    let threads = rayon::current_num_threads().max(1) as u32;
    let mut runs = Replications::default();
    // Replications run ahead of need, in order from `runs.len()`.
    let mut ahead: Vec<RunMetrics> = Vec::new();
    loop {
        let take = (n as usize - runs.len()).min(ahead.len());
        runs.add(ahead.par_drain(..take).map(|m| (m, ())));
        let from = runs.len() as u32 + ahead.len() as u32;
        let until = if alone && n < max {
            n.next_multiple_of(threads).min(max)
        } else {
            n
        };
        let fresh = from.max(n)..until.max(n);
        // The replications needed now and those run ahead, side by side.
        let (_, more) = rayon::join(
            || runs.run(&t, design, from.min(n), n),
            || {
                fresh
                    .into_par_iter()
                    .map(|r| sim::simulate(&t, design, r))
                    .collect::<Vec<_>>()
            },
        );
        ahead.extend(more);
        t.workload.replications = n;
        let summary = summarize(&t, design, &runs.runs);
        let verdict = verdict_all(slos, &summary);
        if verdict != Verdict::Unsure || n >= max {
            return evaluation(&t, &runs.runs, summary, slos, verdict);
        }
        n = (n * 2).min(max);
    }
}

/// The point at `rate` as a search evaluates it (on that rate's seed): for
/// scans that check a search against every rate of a grid.
pub fn point_at(
    topo: &Topology,
    design: &Design,
    slos: &[Slo],
    search: &Search,
    rate: f64,
) -> Point {
    evaluate(&at_rate(topo, rate), design, slos, search, false).point
}

fn evaluation(
    topo: &Topology,
    runs: &[Replication],
    summary: Summary,
    slos: &[Slo],
    verdict: Verdict,
) -> Evaluation {
    let mean =
        |f: &dyn Fn(&Replication) -> f64| runs.iter().map(f).sum::<f64>() / runs.len() as f64;
    // Station groups in the order the simulation made them; proxies take
    // their names from the summary, which lists them in that order.
    let mut proxy_names = summary.proxies.iter().map(|p| p.name.clone());
    let loads: Vec<Load> = runs[0]
        .stations
        .iter()
        .map(|m| {
            let owner = m.owner;
            let name = match owner {
                StationOwner::Service(s) => topo.services[s as usize].name.clone(),
                _ => proxy_names.next().unwrap_or_default(),
            };
            let of = |r: &Replication| r.station(owner).cloned().unwrap_or_default();
            Load {
                owner,
                name,
                utilisation: mean(&|r| of(r).utilisation()),
                busy_cores: mean(&|r| {
                    let m = of(r);
                    if r.window == 0 {
                        0.0
                    } else {
                        m.busy.iter().sum::<u64>() as f64 / r.window as f64
                    }
                }),
                cores: mean(&|r| {
                    if r.window == 0 {
                        0.0
                    } else {
                        of(r).capacity as f64 / r.window as f64
                    }
                }),
                queueing_ms: mean(&|r| {
                    let requests = r.requests().max(1);
                    of(r).waited as f64 * 1e-6 / requests as f64
                }),
            }
        })
        .collect();
    // Totals as means of per-replication sums, every group at once.
    let all = |r: &Replication, f: &dyn Fn(&crate::model::metrics::StationMetrics) -> u64| {
        if r.window == 0 {
            0.0
        } else {
            r.stations.iter().map(f).sum::<u64>() as f64 / r.window as f64
        }
    };
    let cores = mean(&|r| all(r, &|m| m.capacity));
    let busy_cores = mean(&|r| all(r, &|m| m.busy.iter().sum()));
    let busiest = loads
        .iter()
        .max_by(|a, b| a.utilisation.total_cmp(&b.utilisation));
    let figures_ms = slos.iter().map(|s| s.figure(&summary)).collect();
    Evaluation {
        point: Point {
            rate_rps: topo.workload.arrivals.rate().unwrap_or(0.0),
            seed: topo.workload.seed,
            replications: runs.len() as u32,
            verdict,
            saturated: summary.saturated.is_some(),
            figures_ms,
            failed_ratio: summary.requests.failed_ratio.mean,
            failed_objective: slos.iter().position(|s| s.missed_by_failures(&summary)),
            busiest: busiest.map(|l| l.name.clone()),
            busiest_utilisation: busiest.map_or(0.0, |l| l.utilisation),
            completed_rps: summary.throughput.completed_rps.mean,
        },
        loads,
        saturation_bottleneck: summary
            .saturated
            .as_ref()
            .and_then(|s| s.bottleneck.clone()),
        summary,
        cores,
        busy_cores,
    }
}

/// `x` to `digits` significant digits.
pub(super) fn round_sig(x: f64, digits: i32) -> f64 {
    if x <= 0.0 || !x.is_finite() {
        return x;
    }
    let scale = 10f64.powi(digits - 1 - x.log10().floor() as i32);
    (x * scale).round() / scale
}

/// Busiest-core utilisation below which queueing adds little to latency:
/// an SLO missed there is missed at any rate.
pub(super) const LIGHT_LOAD: f64 = 0.2;

/// The objective that binds at a point (as [`crate::report::slo::binding_in`]:
/// one missed because its requests failed, else the least headroom),
/// recorded only when some SLO names an endpoint: which endpoint's
/// objective decides.
pub(super) fn binding_at(slos: &[Slo], p: Option<&Point>) -> Option<Slo> {
    if !any_scoped(slos) {
        return None;
    }
    let p = p?;
    p.failed_objective
        .or_else(|| binding(slos, &p.figures_ms))
        .map(|i| slos[i].clone())
}

/// `p99 101 ms (±2.6)` for each SLO's figure at a point.
pub(super) fn figures_text(slos: &[Slo], p: &Point) -> String {
    slos.iter()
        .zip(&p.figures_ms)
        .map(|(s, f)| match f {
            Some(e) => format!(
                "{} {:.1} ms{}",
                s.label(),
                e.mean,
                e.ci95.map_or(String::new(), |c| format!(" ±{c:.1}"))
            ),
            None => format!("{} unmeasured", s.label()),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_depend_on_the_rate_only() {
        assert_eq!(point_seed(1, 500.0), point_seed(1, 500.0));
        assert_ne!(point_seed(1, 500.0), point_seed(1, 501.0));
        assert_ne!(point_seed(1, 500.0), point_seed(2, 500.0));
    }
}
