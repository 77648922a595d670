//! A replication as it is kept once it has finished: every figure the
//! summaries, tables and CSV files report per replication, and none of the
//! histograms they were read from. A `RunMetrics` holds a dense HdrHistogram
//! per entry and per edge (over 100 KB each); a `Replication` holds a handful
//! of numbers per entry and edge, so memory no longer grows with the
//! histograms of replications already summarised. The one distribution
//! reported over all replications together, the pooled latency CDF, is merged
//! as replications finish (`Replications::pooled`).

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::cost::SPANS;
use super::design::Design;
use super::metrics::{
    Counters, LatencyHistogram, Outcomes, PoolMetrics, QueueMetrics, RunMetrics, Saturation,
    StationMetrics, StationOwner,
};
use super::series::SeriesBucket;
use super::sim;
use super::topology::{ServiceId, Topology};
use crate::units::Nanos;

/// The quantiles kept per replication, the ones every table reports.
pub const KEPT_QUANTILES: [f64; 5] = [0.5, 0.9, 0.95, 0.99, 0.999];

/// A latency distribution reduced to exact count, sum, min and max and the
/// reported quantiles (read from the histogram before it was dropped).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LatencyFigures {
    count: u64,
    sum: u128,
    min: Nanos,
    max: Nanos,
    quantiles: [f64; KEPT_QUANTILES.len()],
}

impl LatencyFigures {
    /// The figures of `h`.
    pub fn of(h: &LatencyHistogram) -> Self {
        Self {
            count: h.count(),
            sum: h.sum(),
            min: h.min().unwrap_or(0),
            max: h.max().unwrap_or(0),
            quantiles: h.quantiles(KEPT_QUANTILES).map(|q| q.unwrap_or(0.0)),
        }
    }

    /// Number of observations.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Exact mean (ns), or None if empty.
    pub fn mean(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum as f64 / self.count as f64)
    }

    /// The q-quantile (ns) for q in [`KEPT_QUANTILES`], or q = 1 (the exact
    /// maximum); None if empty. Other quantiles were not kept: asking for one
    /// is a programming error, caught by the tests of every caller.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        if self.count == 0 {
            return None;
        }
        if q >= 1.0 {
            return Some(self.max as f64);
        }
        let i = KEPT_QUANTILES
            .iter()
            .position(|&k| k == q)
            .unwrap_or_else(|| panic!("quantile {q} is not kept per replication"));
        Some(self.quantiles[i])
    }

    /// Largest observation (exact).
    pub fn max(&self) -> Option<Nanos> {
        (self.count > 0).then_some(self.max)
    }

    /// Smallest observation (exact).
    pub fn min(&self) -> Option<Nanos> {
        (self.count > 0).then_some(self.min)
    }
}

/// The outcomes at one entry endpoint or edge, reduced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OutcomeFigures {
    /// Latency of every finished request or call.
    pub latency: LatencyFigures,
    /// How many of them failed.
    pub failed: u64,
    /// How many a strict callee refused.
    pub refused: u64,
    /// Mean critical-path time per span (ns) of the successful ones.
    pub attribution_mean: Option<[f64; SPANS]>,
    /// The same over the slowest 1% of them, each at or above their p99
    /// ([`super::tail`]).
    pub attribution_tail: Option<[f64; SPANS]>,
}

impl OutcomeFigures {
    /// The figures of `o`.
    pub fn of(o: &Outcomes) -> Self {
        Self {
            latency: LatencyFigures::of(&o.latency),
            failed: o.failed,
            refused: o.refused,
            attribution_mean: o.attribution.mean(),
            attribution_tail: o.attribution.mean_of_slowest_percent(),
        }
    }
}

/// A message queue's figures (see [`QueueMetrics`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueueFigures {
    /// Messages published.
    pub published: u64,
    /// ... of which held for room.
    pub blocked: u64,
    /// Their total time held (ns).
    pub blocked_sum: u64,
    /// Per consumer group: time queued of each message delivered, and the
    /// messages dropped.
    pub groups: Vec<(LatencyFigures, u64)>,
}

impl QueueFigures {
    /// The figures of `m`.
    pub fn of(m: &QueueMetrics) -> Self {
        Self {
            published: m.published,
            blocked: m.blocked,
            blocked_sum: m.blocked_sum,
            groups: m
                .groups
                .iter()
                .map(|g| (LatencyFigures::of(&g.queued), g.dropped))
                .collect(),
        }
    }
}

/// Everything one replication is reported by (see [`RunMetrics`] for what
/// each field means).
#[derive(Debug, Clone, Default)]
pub struct Replication {
    /// Length of the measurement window (ns).
    pub window: Nanos,
    /// Requests that arrived inside the window.
    pub arrived: u64,
    /// Requests that finished inside the window.
    pub finished_in_window: u64,
    /// Per entry, indexed like `Workload::entries`.
    pub endpoints: Vec<OutcomeFigures>,
    /// Per edge, indexed like `Topology::edges`.
    pub edges: Vec<OutcomeFigures>,
    /// Per asynchronous call site, indexed like `Topology::async_calls`.
    pub asynch: Vec<OutcomeFigures>,
    /// All measured requests, over every entry endpoint.
    pub all: OutcomeFigures,
    /// Per station group, in creation order.
    pub stations: Vec<StationMetrics>,
    /// Where each owner's group is in `stations` (a topology of 10^5
    /// services would make a linear search per service quadratic).
    station_of: FxHashMap<StationOwner, usize>,
    /// Security machinery counters.
    pub counters: Counters,
    /// Client-side pools.
    pub pools: Vec<PoolMetrics>,
    /// Message queues, indexed like `Topology::queues`.
    pub queues: Vec<QueueFigures>,
    /// Requests, latency and handshakes per interval, from time 0.
    pub series: Vec<SeriesBucket>,
    /// Each entry's own series; empty with one entry.
    pub entry_series: Vec<Vec<SeriesBucket>>,
    /// Width of a series interval (ns).
    pub series_interval: Nanos,
    /// Time-averaged number of requests in the system during the window.
    pub mean_in_system: f64,
    /// Set when the queues grew without bound.
    pub saturation: Option<Saturation>,
    /// Events processed.
    pub events: u64,
    /// Calls simulated.
    pub calls: u64,
    /// Most calls in flight at once.
    pub peak_calls_in_flight: usize,
}

impl From<RunMetrics> for Replication {
    fn from(m: RunMetrics) -> Self {
        let all = m.all_requests();
        Replication::of(m, &all)
    }
}

impl Replication {
    /// Reduces `m` whose requests over every entry are `all`, keeping its
    /// series and station groups as they are.
    fn of(m: RunMetrics, all: &Outcomes) -> Self {
        Self {
            window: m.window,
            arrived: m.arrived,
            finished_in_window: m.finished_in_window,
            endpoints: m.endpoints.iter().map(OutcomeFigures::of).collect(),
            edges: m.edges.iter().map(OutcomeFigures::of).collect(),
            asynch: m.asynch.iter().map(OutcomeFigures::of).collect(),
            all: OutcomeFigures::of(all),
            station_of: m
                .stations
                .iter()
                .enumerate()
                .map(|(i, s)| (s.owner, i))
                .collect(),
            stations: m.stations,
            counters: m.counters,
            pools: m.pools,
            queues: m.queues.iter().map(QueueFigures::of).collect(),
            series: m.series,
            entry_series: m.entry_series,
            series_interval: m.series_interval,
            mean_in_system: m.mean_in_system,
            saturation: m.saturation,
            events: m.events,
            calls: m.calls,
            peak_calls_in_flight: m.peak_calls_in_flight,
        }
    }

    /// The cores of service `s` (every service of the system has them, but
    /// one on nodes: its cores are its nodes', `StationOwner::Host`).
    pub fn service(&self, s: ServiceId) -> &StationMetrics {
        self.station(StationOwner::Service(s))
            .expect("a service off nodes has a station group")
    }

    /// The station group of `owner`, if the run had one.
    pub fn station(&self, owner: StationOwner) -> Option<&StationMetrics> {
        self.station_of.get(&owner).map(|&i| &self.stations[i])
    }

    /// Measured requests over every entry endpoint.
    pub fn requests(&self) -> u64 {
        self.all.latency.count()
    }
}

/// Latency histograms pooled over replications: all requests, and each
/// entry's when there are several.
#[derive(Default)]
struct Pooled {
    all: LatencyHistogram,
    entries: Vec<LatencyHistogram>,
}

impl Pooled {
    fn add(&mut self, all: &Outcomes, m: &RunMetrics) {
        self.all.merge(&all.latency);
        if m.endpoints.len() > 1 {
            merge_entries(&mut self.entries, m.endpoints.iter().map(|o| &o.latency));
        }
    }

    fn merge(&mut self, other: &Pooled) {
        self.all.merge(&other.all);
        merge_entries(&mut self.entries, &other.entries);
    }
}

/// Adds `more` entry by entry into `into` (grown to their number).
fn merge_entries<'a>(
    into: &mut Vec<LatencyHistogram>,
    more: impl IntoIterator<Item = &'a LatencyHistogram>,
) {
    for (i, m) in more.into_iter().enumerate() {
        if into.len() <= i {
            into.push(LatencyHistogram::default());
        }
        into[i].merge(m);
    }
}

/// Every replication of one run, in replication order, and the latency of
/// all their measured requests pooled.
#[derive(Debug, Clone, Default)]
pub struct Replications {
    /// One per replication, in order.
    pub runs: Vec<Replication>,
    /// All measured requests of every replication in one histogram.
    pub pooled: LatencyHistogram,
    /// The same per entry, indexed like `Workload::entries`, when there are
    /// several (their charts are drawn per entry); empty with one.
    pub pooled_entries: Vec<LatencyHistogram>,
}

impl Replications {
    /// Every replication of `topo` under `design`.
    pub fn of(topo: &Topology, design: &Design) -> Self {
        let mut runs = Replications::default();
        runs.run(topo, design, 0, topo.workload.replications);
        runs
    }

    /// Adds the replications numbered `from..to` of `topo` under `design`, in
    /// parallel. Each is reduced as soon as it finishes, so at most one
    /// `RunMetrics` per thread is alive. The result is the same whatever the
    /// number of threads: replications are kept in order, and pooling adds
    /// integer counts, which commutes.
    pub fn run(&mut self, topo: &Topology, design: &Design, from: u32, to: u32) {
        self.add(
            (from..to)
                .into_par_iter()
                .map(|r| (sim::simulate(topo, design, r), ())),
        );
    }

    /// Adds finished runs, each with something of its own that the caller
    /// keeps (`T`, returned in replication order).
    pub fn add<T: Send>(
        &mut self,
        runs: impl IndexedParallelIterator<Item = (RunMetrics, T)>,
    ) -> Vec<T> {
        type Kept<T> = (Vec<(usize, Replication, T)>, Pooled);
        let (mut more, pooled): Kept<T> = runs
            .enumerate()
            .fold(
                || (Vec::new(), Pooled::default()),
                |(mut kept, mut pooled), (i, (m, extra))| {
                    let all = m.all_requests();
                    pooled.add(&all, &m);
                    kept.push((i, Replication::of(m, &all), extra));
                    (kept, pooled)
                },
            )
            .reduce(
                || (Vec::new(), Pooled::default()),
                |(mut a, mut pa), (b, pb)| {
                    a.extend(b);
                    pa.merge(&pb);
                    (a, pa)
                },
            );
        more.sort_unstable_by_key(|&(i, _, _)| i);
        self.pooled.merge(&pooled.all);
        merge_entries(&mut self.pooled_entries, &pooled.entries);
        more.into_iter()
            .map(|(_, r, extra)| {
                self.runs.push(r);
                extra
            })
            .collect()
    }

    /// Number of replications.
    pub fn len(&self) -> usize {
        self.runs.len()
    }

    /// True before any replication was added.
    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }
}
