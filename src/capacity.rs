//! Capacity planning on top of the simulation: the highest offered rate a
//! design sustains within its SLOs ([`rate_capacity`]), and the smallest
//! replica or core counts that meet them at a target rate
//! ([`size_for_rate`]).
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
use serde::{Deserialize, Serialize};

use crate::engine::rng::derive;
use crate::model::design::{AuthzMode, ProxyMode};
use crate::model::metrics::StationOwner;
use crate::model::topology::Arrivals;
use crate::model::{Design, RunMetrics, Topology, guard, sim};
use crate::report::slo::{Slo, Verdict, verdict_all};
use crate::report::stats::Estimate;
use crate::report::summarize;

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

/// One evaluated point: a rate (and, for sizing, a size) and what its
/// replications said.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// Offered rate, requests per second.
    pub rate_rps: f64,
    /// Seed of its replications (derived from the base seed and the rate).
    pub seed: u64,
    /// Replications run (more when the first ones could not decide).
    pub replications: u32,
    /// Against every SLO together.
    pub verdict: Verdict,
    /// Whether the run saturated (queues grew without bound).
    pub saturated: bool,
    /// Each SLO's figure in ms (mean and 95% CI half-width), in the order of
    /// the SLOs; null when saturated.
    pub figures_ms: Vec<Option<Estimate>>,
    /// Share of requests that failed (mean over replications).
    pub failed_ratio: f64,
    /// The busiest group of cores (a service, its sidecars, a proxy).
    pub busiest: Option<String>,
    /// Its utilisation (mean over replications), 0..1.
    pub busiest_utilisation: f64,
    /// Requests finished per second of the window (mean).
    pub completed_rps: f64,
}

/// A group of cores as one evaluation measured it.
#[derive(Debug, Clone)]
struct Load {
    owner: StationOwner,
    name: String,
    /// Busy share of its cores (mean over replications).
    utilisation: f64,
    /// Busy cores, i.e. core-seconds per second (mean).
    busy_cores: f64,
    /// Cores in the group.
    cores: f64,
    /// Time waited for its cores per user request, ms (mean).
    queueing_ms: f64,
}

/// What one evaluation yields.
struct Evaluation {
    point: Point,
    loads: Vec<Load>,
    saturation_bottleneck: Option<String>,
}

/// The topology at an open-loop rate, on the seed of that rate: a
/// closed-loop workload is replaced by Poisson arrivals.
fn at_rate(topo: &Topology, rate: f64) -> Topology {
    let mut t = topo.clone();
    t.workload.arrivals = match t.workload.arrivals {
        Arrivals::Constant { .. } => Arrivals::Constant { rate },
        Arrivals::Poisson { .. } | Arrivals::Closed { .. } => Arrivals::Poisson { rate },
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
fn evaluate(topo: &Topology, design: &Design, slos: &[Slo], search: &Search) -> Evaluation {
    let mut t = topo.clone();
    let max = search.max_replications.max(search.replications).max(1);
    let mut n = search.replications.clamp(1, max);
    let mut runs: Vec<RunMetrics> = Vec::new();
    loop {
        let more: Vec<RunMetrics> = (runs.len() as u32..n)
            .into_par_iter()
            .map(|r| sim::simulate(&t, design, r))
            .collect();
        runs.extend(more);
        t.workload.replications = n;
        let summary = summarize(&t, design, &runs);
        let verdict = verdict_all(slos, &summary);
        if verdict != Verdict::Unsure || n >= max {
            return evaluation(&t, &runs, &summary, slos, verdict);
        }
        n = (n * 2).min(max);
    }
}

fn evaluation(
    topo: &Topology,
    runs: &[RunMetrics],
    summary: &crate::report::Summary,
    slos: &[Slo],
    verdict: Verdict,
) -> Evaluation {
    let mean = |f: &dyn Fn(&RunMetrics) -> f64| runs.iter().map(f).sum::<f64>() / runs.len() as f64;
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
            let of = |r: &RunMetrics| r.station(owner).cloned().unwrap_or_default();
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
                    let requests = r.all_requests().latency.count().max(1);
                    of(r).waited as f64 * 1e-6 / requests as f64
                }),
            }
        })
        .collect();
    let busiest = loads
        .iter()
        .max_by(|a, b| a.utilisation.total_cmp(&b.utilisation));
    let figures_ms = slos
        .iter()
        .map(|s| {
            summary
                .requests
                .latency_ms
                .as_ref()
                .map(|l| s.statistic.of(l))
        })
        .collect();
    Evaluation {
        point: Point {
            rate_rps: topo.workload.arrivals.rate().unwrap_or(0.0),
            seed: topo.workload.seed,
            replications: runs.len() as u32,
            verdict,
            saturated: summary.saturated.is_some(),
            figures_ms,
            failed_ratio: summary.requests.failed_ratio.mean,
            busiest: busiest.map(|l| l.name.clone()),
            busiest_utilisation: busiest.map_or(0.0, |l| l.utilisation),
            completed_rps: summary.throughput.completed_rps.mean,
        },
        loads,
        saturation_bottleneck: summary
            .saturated
            .as_ref()
            .and_then(|s| s.bottleneck.clone()),
    }
}

/// The highest sustainable rate of one design, as a bracket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RateCapacity {
    /// Design name.
    pub design: String,
    /// The objectives every point was judged against.
    pub slos: Vec<Slo>,
    /// Highest rate shown (95% intervals) to meet every SLO.
    pub met_rps: Option<f64>,
    /// Lowest rate shown to miss one.
    pub missed_rps: Option<f64>,
    /// Lowest rate not shown to meet them (missed or undecided): the top of
    /// the bracket `[met_rps, limit_rps]`.
    pub limit_rps: Option<f64>,
    /// Lowest rate at which a run saturated, if any did.
    pub saturation_rps: Option<f64>,
    /// Where saturation starts by extrapolation: rate / utilisation of the
    /// busiest cores at the highest rate that did not saturate.
    pub saturation_estimate_rps: Option<f64>,
    /// The group of cores that saturates first (from the lowest saturated
    /// run, else the busiest at the highest unsaturated one).
    pub bottleneck: Option<String>,
    /// The point at `met_rps`, with its SLO figures.
    pub at_met: Option<Point>,
    /// Rates the intervals could not decide even at the replication cap
    /// (counted as not met).
    pub unsure: Vec<f64>,
    /// Replications simulated in all.
    pub runs: usize,
    /// Why the search stopped short of a bracket, if it did.
    pub note: Option<String>,
    /// Every evaluated point, in the order evaluated.
    pub points: Vec<Point>,
}

impl RateCapacity {
    /// Relative width of the final bracket, `limit / met - 1`.
    pub fn width(&self) -> Option<f64> {
        Some(self.limit_rps? / self.met_rps? - 1.0)
    }
}

/// `x` to `digits` significant digits.
fn round_sig(x: f64, digits: i32) -> f64 {
    if x <= 0.0 || !x.is_finite() {
        return x;
    }
    let scale = 10f64.powi(digits - 1 - x.log10().floor() as i32);
    (x * scale).round() / scale
}

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

/// Busiest-core utilisation below which queueing adds little to latency:
/// an SLO missed there is missed at any rate.
const LIGHT_LOAD: f64 = 0.2;

/// `p99 101 ms (±2.6)` for each SLO's figure at a point.
fn figures_text(slos: &[Slo], p: &Point) -> String {
    slos.iter()
        .zip(&p.figures_ms)
        .map(|(s, f)| match f {
            Some(e) => format!(
                "{} {:.1} ms{}",
                s.statistic.name(),
                e.mean,
                e.ci95.map_or(String::new(), |c| format!(" ±{c:.1}"))
            ),
            None => format!("{} unmeasured", s.statistic.name()),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Most points one search evaluates: bracketing plus bisection need about
/// twenty on any sane model; this only stops a pathological one.
const MAX_POINTS: usize = 60;

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
    let max_rps = search.max_rps.unwrap_or(start * 1000.0).max(start);
    let min_rps = start / 1e4;
    let step = (2.0 * search.resolution).max(0.01);
    let mut points: Vec<Point> = Vec::new();
    let mut saturation: Option<(f64, Option<String>)> = None;
    let mut estimate: Option<(f64, f64, Option<String>)> = None;
    let mut runs = 0usize;
    let mut lo: Option<f64> = None;
    let mut hi: Option<f64> = None;
    let mut note = None;
    let mut rate = start;
    while points.len() < MAX_POINTS {
        let t = at_rate(topo, rate);
        if let Some(why) = guard::Size::of(&t).refusal() {
            note = Some(format!("stopped at {rate} rps: {why}"));
            break;
        }
        let e = evaluate(&t, design, slos, search);
        runs += e.point.replications as usize;
        let p = e.point.clone();
        points.push(e.point);
        if p.saturated {
            if saturation.as_ref().is_none_or(|(r, _)| rate < *r) {
                saturation = Some((rate, e.saturation_bottleneck.clone()));
            }
        } else if p.busiest_utilisation > 0.0 && estimate.as_ref().is_none_or(|(r, _, _)| rate > *r)
        {
            estimate = Some((rate, rate / p.busiest_utilisation, p.busiest.clone()));
        }
        let met = p.verdict == Verdict::Met;
        if met {
            lo = Some(rate);
        } else {
            hi = Some(rate);
        }
        rate = match (lo, hi) {
            (Some(l), Some(h)) => {
                if h / l <= 1.0 + search.resolution {
                    break;
                }
                midpoint(l, h)
            }
            (Some(l), None) => {
                if l >= max_rps {
                    note = Some(format!(
                        "every SLO was met at every rate tried, up to {l} rps (the search's maximum)"
                    ));
                    break;
                }
                // Aim just below where the busiest cores would saturate,
                // stepping at least a little and at most 4x.
                let s = if p.busiest_utilisation > 0.0 {
                    l / p.busiest_utilisation
                } else {
                    f64::INFINITY
                };
                nice((0.95 * s).clamp(l * (1.0 + step), l * 4.0))
                    .max(l * (1.0 + step))
                    .min(max_rps)
            }
            (None, Some(h)) => {
                if h <= min_rps {
                    note = Some(format!(
                        "the SLOs were missed at every rate tried, down to {h} rps"
                    ));
                    break;
                }
                // Missed with nearly idle cores: latency is at its light-load
                // floor, which lower rates cannot improve.
                if !p.saturated && p.busiest_utilisation < LIGHT_LOAD {
                    note = Some(format!(
                        "missed even at {h} rps, where the busiest cores ({}) are only {:.0}% busy: the SLOs are below this design's latency at light load ({})",
                        p.busiest.as_deref().unwrap_or("none"),
                        100.0 * p.busiest_utilisation,
                        figures_text(slos, &p)
                    ));
                    break;
                }
                // A saturated run finishes about as many requests as its
                // bottleneck can serve: aim below that, or halve.
                let target = if p.saturated && p.completed_rps > 0.0 {
                    0.9 * p.completed_rps
                } else {
                    h / 2.0
                };
                nice(target.clamp(h / 8.0, h / 2.0))
            }
            (None, None) => unreachable!("every point is met or not"),
        };
    }
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
    let at_met = lo.and_then(|l| points.iter().find(|p| p.rate_rps == l).cloned());
    let bottleneck = match &saturation {
        Some((_, b)) if b.is_some() => b.clone(),
        _ => estimate.as_ref().and_then(|e| e.2.clone()),
    };
    RateCapacity {
        design: design.name.clone(),
        slos: slos.to_vec(),
        met_rps: lo,
        missed_rps,
        limit_rps: hi,
        saturation_rps: saturation.map(|s| s.0),
        saturation_estimate_rps: estimate.map(|e| e.1),
        bottleneck,
        at_met,
        unsure,
        runs,
        note,
        points,
    }
}

// ---- sizing ------------------------------------------------------------

/// What sizing changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SizeBy {
    /// Replicas of a service (cores per replica fixed).
    Replicas,
    /// Cores per replica (replicas fixed).
    Cores,
}

impl SizeBy {
    /// Its name on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            SizeBy::Replicas => "replicas",
            SizeBy::Cores => "cores",
        }
    }
}

/// One service before and after sizing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceSize {
    /// Service name.
    pub service: String,
    /// Replicas in the topology file.
    pub replicas_before: u32,
    /// Cores per replica in the topology file.
    pub cores_before: u32,
    /// Replicas found.
    pub replicas_after: u32,
    /// Cores per replica found.
    pub cores_after: u32,
    /// Service cores added (replicas x cores, after minus before; negative
    /// when the file over-provisions).
    pub cores_added: i64,
    /// vCPUs added: the service's cores plus the per-replica sidecar and
    /// policy-sidecar cores of the design that come with its replicas.
    pub vcpu_added: i64,
    /// Steps the search grew it beyond its utilisation-based start.
    pub grown: u32,
    /// Busy share of its cores at the size found (mean).
    pub utilisation: f64,
}

/// One configuration the sizing search evaluated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SizingStep {
    /// "start", "grow SERVICE" or "shrink SERVICE".
    pub action: String,
    /// The count of each service (replicas or cores per replica), in
    /// topology order.
    pub counts: Vec<u32>,
    /// What its replications said.
    pub verdict: Verdict,
    /// Whether the search moved to it (a growth that did not shorten the
    /// wait, or a shrink that missed, is not kept).
    pub kept: bool,
}

/// The smallest size of one design that meets every SLO at a target rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sizing {
    /// Design name.
    pub design: String,
    /// The objectives.
    pub slos: Vec<Slo>,
    /// Offered rate, requests per second.
    pub target_rps: f64,
    /// What was sized.
    pub size_by: SizeBy,
    /// Whether the size found meets every SLO.
    pub met: bool,
    /// Per service, in topology order.
    pub services: Vec<ServiceSize>,
    /// vCPUs of the sized services and their per-replica proxies before.
    pub vcpu_before: u64,
    /// ... and after.
    pub vcpu_after: u64,
    /// Cores of proxies that do not scale with services (node proxies,
    /// waypoints), the same before and after.
    pub fixed_vcpu: u64,
    /// The final evaluation, with its SLO figures.
    pub at_size: Option<Point>,
    /// Replications simulated in all.
    pub runs: usize,
    /// Why the SLOs could not be met by sizing, if they were not.
    pub note: Option<String>,
    /// Every configuration evaluated, in order.
    pub steps: Vec<SizingStep>,
}

impl Sizing {
    /// Service cores added over all services.
    pub fn cores_added(&self) -> i64 {
        self.services.iter().map(|s| s.cores_added).sum()
    }

    /// vCPUs added over all services.
    pub fn vcpu_added(&self) -> i64 {
        self.vcpu_after as i64 - self.vcpu_before as i64
    }

    /// All vCPUs after sizing, fixed proxies included.
    pub fn total_vcpu(&self) -> u64 {
        self.vcpu_after + self.fixed_vcpu
    }
}

/// Cores each replica brings besides its own: a sidecar proxy with cores of
/// its own, a policy sidecar.
fn per_replica_proxy_cores(design: &Design) -> u32 {
    let sidecar = if design.proxy.mode == ProxyMode::Sidecar && !design.proxy.shares_service_cores {
        design.proxy.cost.cores
    } else {
        0
    };
    let policy = if design.authz.mode == AuthzMode::Sidecar {
        design.authz.sidecar_cores
    } else {
        0
    };
    sidecar + policy
}

/// Hours in a month for prices per hour: 365 x 24 / 12.
pub const HOURS_PER_MONTH: f64 = 730.0;

/// Most configurations one sizing evaluates while growing.
const MAX_GROWTH: usize = 40;

/// The sizing search's state: the topology at the target rate and the
/// current count of each service.
struct Sizer<'a> {
    topo: Topology,
    design: &'a Design,
    slos: &'a [Slo],
    search: &'a Search,
    by: SizeBy,
    runs: usize,
    steps: Vec<SizingStep>,
}

impl Sizer<'_> {
    fn sized(&self, counts: &[u32]) -> Topology {
        let mut t = self.topo.clone();
        for (s, &n) in t.services.iter_mut().zip(counts) {
            match self.by {
                SizeBy::Replicas => s.replicas = n,
                SizeBy::Cores => s.cores = n,
            }
        }
        t
    }

    fn evaluate(&mut self, counts: &[u32], action: String) -> Evaluation {
        let e = evaluate(&self.sized(counts), self.design, self.slos, self.search);
        self.runs += e.point.replications as usize;
        self.steps.push(SizingStep {
            action,
            counts: counts.to_vec(),
            verdict: e.point.verdict,
            kept: false,
        });
        e
    }

    /// Marks the last configuration evaluated as the one the search moves to.
    fn keep_last(&mut self) {
        if let Some(s) = self.steps.last_mut() {
            s.kept = true;
        }
    }

    /// The service whose count would relieve this group of cores, if any.
    fn service_of(&self, owner: StationOwner) -> Option<usize> {
        match (owner, self.by) {
            (StationOwner::Service(s), _) => Some(s as usize),
            (StationOwner::Sidecar(s) | StationOwner::PolicySidecar(s), SizeBy::Replicas) => {
                Some(s as usize)
            }
            _ => None,
        }
    }

    /// Per service, the smallest count at which every group of its cores
    /// would be below 100% busy, from busy cores measured at `probe`.
    fn smallest_stable(&self, probe: &[u32], e: &Evaluation) -> Vec<u32> {
        let mut need = vec![1u32; self.topo.services.len()];
        for l in &e.loads {
            let Some(s) = self.service_of(l.owner) else {
                continue;
            };
            let svc = &self.topo.services[s];
            // Cores of this group per unit of the count.
            let per_unit = match (l.owner, self.by) {
                (StationOwner::Service(_), SizeBy::Replicas) => f64::from(svc.cores),
                (StationOwner::Service(_), SizeBy::Cores) => f64::from(svc.replicas),
                // Sidecars: their cores now, spread over the replicas now.
                _ => (l.cores / f64::from(probe[s].max(1))).max(1.0),
            };
            let n = (l.busy_cores / per_unit).floor() + 1.0;
            need[s] = need[s].max(n.min(f64::from(u32::MAX / 2)) as u32);
        }
        need
    }
}

/// Finds, for `design` at `rate_rps`, the smallest replica (or core) count
/// of each service that meets every SLO: each service starts at the smallest
/// count that keeps its cores below 100% busy (measured, security CPU
/// included); while the SLOs are missed, the service whose cores make
/// requests wait longest grows by one; then each grown service is shrunk
/// back one at a time while the SLOs still hold.
pub fn size_for_rate(
    topo: &Topology,
    design: &Design,
    slos: &[Slo],
    rate_rps: f64,
    by: SizeBy,
    search: &Search,
) -> Sizing {
    let t = at_rate(topo, rate_rps);
    let before: Vec<u32> = t
        .services
        .iter()
        .map(|s| match by {
            SizeBy::Replicas => s.replicas,
            SizeBy::Cores => s.cores,
        })
        .collect();
    let mut sizer = Sizer {
        topo: t,
        design,
        slos,
        search,
        by,
        runs: 0,
        steps: Vec::new(),
    };
    let probe_search = Search {
        max_replications: search.replications,
        ..*search
    };
    // Probe at a size where business CPU alone leaves half the cores idle;
    // double whatever still saturates, so busy cores can be measured.
    let business = sizer.topo.offered_utilisation(rate_rps);
    let mut probe: Vec<u32> = before
        .iter()
        .zip(&business)
        .map(|(&n, &u)| {
            let want = (f64::from(n) * u / 0.5).ceil();
            n.max(want.min(f64::from(u32::MAX / 4)) as u32)
        })
        .collect();
    let mut measured = None;
    for _ in 0..8 {
        let e = evaluate(&sizer.sized(&probe), design, slos, &probe_search);
        sizer.runs += e.point.replications as usize;
        let saturated = e.point.saturated;
        let mut raised = false;
        if saturated {
            for l in &e.loads {
                if let Some(s) = sizer.service_of(l.owner)
                    && l.utilisation >= 0.9
                {
                    probe[s] = probe[s].saturating_mul(2);
                    raised = true;
                }
            }
        }
        measured = Some(e);
        if !saturated || !raised {
            break;
        }
    }
    let measured = measured.expect("the probe ran at least once");
    let start = sizer.smallest_stable(&probe, &measured);
    let mut counts = start.clone();
    let mut grown = vec![0u32; counts.len()];
    // An SLO missed at light load is missed at any size: check that first
    // (at a rate leaving the busiest cores of the probe ~10% busy), rather
    // than grow services that cannot help.
    let busiest = measured.point.busiest_utilisation;
    let floor = if busiest > LIGHT_LOAD / 2.0 && !measured.point.saturated {
        let light = rate_rps * (LIGHT_LOAD / 2.0) / busiest;
        let e = evaluate(&at_rate(&sizer.sized(&probe), light), design, slos, search);
        sizer.runs += e.point.replications as usize;
        e.point
    } else {
        measured.point.clone()
    };
    let mut note = None;
    if floor.verdict == Verdict::Missed && !floor.saturated {
        note = Some(format!(
            "missed even at light load ({} rps, busiest cores {:.0}% busy: {}): no size meets the SLOs",
            round_sig(floor.rate_rps, 3),
            100.0 * floor.busiest_utilisation,
            figures_text(slos, &floor)
        ));
    }
    let mut last = sizer.evaluate(&counts, "start".into());
    sizer.keep_last();
    let min_limit = slos
        .iter()
        .map(|s| s.limit_ms)
        .fold(f64::INFINITY, f64::min);
    let mut growth = 0;
    // Services whose last growth did not shorten the wait for their cores
    // (e.g. a caller's own fan-out queueing on its cores): not grown again.
    let mut futile = vec![false; counts.len()];
    while last.point.verdict != Verdict::Met && note.is_none() {
        if growth >= MAX_GROWTH {
            note = Some(format!(
                "still not met after growing {MAX_GROWTH} times; the SLOs may need a different design"
            ));
            break;
        }
        // The group of cores requests wait for longest; utilisation breaks ties.
        let mut order: Vec<&Load> = last.loads.iter().collect();
        order.sort_by(|a, b| {
            b.queueing_ms
                .total_cmp(&a.queueing_ms)
                .then(b.utilisation.total_cmp(&a.utilisation))
        });
        if let Some(top) = order.first()
            && sizer.service_of(top.owner).is_none()
            && (last.point.saturated || top.utilisation >= 0.95)
        {
            note = Some(format!(
                "the bottleneck is `{}` ({:.0}% busy), which sizing by {} cannot grow",
                top.name,
                100.0 * top.utilisation,
                by.name()
            ));
            break;
        }
        let candidate = order
            .iter()
            .find(|l| sizer.service_of(l.owner).is_some_and(|s| !futile[s]));
        let Some(top) = candidate else {
            note = Some(format!(
                "growing services no longer shortens the wait for cores: the SLOs are missed for reasons more {} cannot fix (latency at light load: handshakes, remote calls)",
                by.name()
            ));
            break;
        };
        let s = sizer.service_of(top.owner).expect("a candidate is sizable");
        if top.queueing_ms < 0.01 * min_limit && !last.point.saturated {
            note = Some(format!(
                "requests wait only {:.3} ms per request for cores (most at `{}`): the SLOs are missed for reasons more {} cannot fix",
                top.queueing_ms,
                top.name,
                by.name()
            ));
            break;
        }
        let (owner, waited) = (top.owner, top.queueing_ms);
        counts[s] += 1;
        growth += 1;
        let name = sizer.topo.services[s].name.clone();
        let e = sizer.evaluate(&counts, format!("grow {name}"));
        let now = e
            .loads
            .iter()
            .find(|l| l.owner == owner)
            .map_or(0.0, |l| l.queueing_ms);
        if e.point.verdict != Verdict::Met && !last.point.saturated && now > 0.9 * waited {
            counts[s] -= 1;
            futile[s] = true;
            continue;
        }
        sizer.keep_last();
        grown[s] += 1;
        last = e;
    }
    if last.point.verdict == Verdict::Met {
        for s in 0..counts.len() {
            while grown[s] > 0 {
                let mut fewer = counts.clone();
                fewer[s] -= 1;
                let name = sizer.topo.services[s].name.clone();
                let e = sizer.evaluate(&fewer, format!("shrink {name}"));
                if e.point.verdict != Verdict::Met {
                    break;
                }
                sizer.keep_last();
                counts = fewer;
                grown[s] -= 1;
                last = e;
            }
        }
    }
    let extra = i64::from(per_replica_proxy_cores(design));
    let services: Vec<ServiceSize> = topo
        .services
        .iter()
        .enumerate()
        .map(|(i, svc)| {
            let (ra, ca) = match by {
                SizeBy::Replicas => (counts[i], svc.cores),
                SizeBy::Cores => (svc.replicas, counts[i]),
            };
            let cores_added =
                i64::from(ra) * i64::from(ca) - i64::from(svc.replicas) * i64::from(svc.cores);
            let proxies_added = (i64::from(ra) - i64::from(svc.replicas)) * extra;
            ServiceSize {
                service: svc.name.clone(),
                replicas_before: svc.replicas,
                cores_before: svc.cores,
                replicas_after: ra,
                cores_after: ca,
                cores_added,
                vcpu_added: cores_added + proxies_added,
                grown: grown[i],
                utilisation: last
                    .loads
                    .iter()
                    .find(|l| l.owner == StationOwner::Service(i as u32))
                    .map_or(0.0, |l| l.utilisation),
            }
        })
        .collect();
    let vcpu = |r: u32, c: u32| u64::from(r) * (u64::from(c) + extra as u64);
    let vcpu_before = services
        .iter()
        .map(|z| vcpu(z.replicas_before, z.cores_before))
        .sum();
    let vcpu_after = services
        .iter()
        .map(|z| vcpu(z.replicas_after, z.cores_after))
        .sum();
    let fixed_vcpu = last
        .loads
        .iter()
        .filter(|l| matches!(l.owner, StationOwner::Node(_) | StationOwner::Waypoint))
        .map(|l| l.cores.round() as u64)
        .sum();
    Sizing {
        design: design.name.clone(),
        slos: slos.to_vec(),
        target_rps: rate_rps,
        size_by: by,
        met: last.point.verdict == Verdict::Met,
        services,
        vcpu_before,
        vcpu_after,
        fixed_vcpu,
        at_size: Some(last.point),
        runs: sizer.runs,
        note,
        steps: sizer.steps,
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

    #[test]
    fn seeds_depend_on_the_rate_only() {
        assert_eq!(point_seed(1, 500.0), point_seed(1, 500.0));
        assert_ne!(point_seed(1, 500.0), point_seed(1, 501.0));
        assert_ne!(point_seed(1, 500.0), point_seed(2, 500.0));
    }
}
