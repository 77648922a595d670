//! What one replication measures. Memory is bounded by the topology's size,
//! never by the length of the run: histograms have fixed buckets, counters
//! are scalars, the slowest requests kept for the attribution are capped
//! (`super::tail`) and the time series takes wider intervals for longer runs
//! (`super::series`).

use hdrhistogram::Histogram;

pub use super::interval::IntervalLatency;
use super::series::SeriesBucket;
pub use super::tail::AttributionStats;
use super::topology::{NodeId, ServiceId, ZoneId};
use crate::engine::station::MAX_CATEGORIES;
use crate::units::Nanos;

/// Largest latency the histograms resolve (about 76 minutes); longer values
/// are clamped to it and flagged by `max`, which is exact.
const HIGHEST_TRACKABLE: u64 = 1 << 42;
/// 3 significant digits: quantiles within 0.1% of the true value.
const SIGNIFICANT_DIGITS: u8 = 3;

/// Observations a histogram keeps as plain values before it allocates its
/// buckets: as many as fit in the buckets' own size (a dense HdrHistogram
/// costs 135 KB whatever it holds: 34,816 counts of 4 bytes), so its memory
/// follows the values seen, never more than the buckets would take. A run
/// with thousands of edges calls most of them a few hundred times at most.
pub(crate) const FEW: usize = 17_408;

/// A streaming latency distribution: quantiles with bounded relative error
/// (HdrHistogram) plus exact count, sum, min and max. Up to [`FEW`]
/// observations are kept as values; quantiles of those are read from a
/// histogram built on the spot with the same buckets, so both forms answer
/// exactly alike.
#[derive(Debug, Clone)]
pub struct LatencyHistogram {
    /// The buckets, once more than `FEW` observations arrived.
    hdr: Option<Box<Histogram<u32>>>,
    /// The observations (clamped as the buckets would hold them) until then.
    few: Vec<Nanos>,
    count: u64,
    sum: u128,
    min: Nanos,
    max: Nanos,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self {
            hdr: None,
            few: Vec::new(),
            count: 0,
            sum: 0,
            min: Nanos::MAX,
            max: 0,
        }
    }
}

/// A histogram with the buckets every `LatencyHistogram` uses, up to `high`.
fn buckets_up_to(high: Nanos) -> Histogram<u32> {
    Histogram::new_with_bounds(1, high.max(2), SIGNIFICANT_DIGITS)
        .expect("bounds from 1 to at least 2 are valid")
}

impl LatencyHistogram {
    /// Adds one observation.
    #[inline]
    pub fn record(&mut self, v: Nanos) {
        // HdrHistogram cannot hold 0; 1 ns is within its resolution anyway.
        let held = v.clamp(1, HIGHEST_TRACKABLE);
        match &mut self.hdr {
            Some(hdr) => hdr.saturating_record(held),
            None => {
                if self.few.len() == self.few.capacity() {
                    // Double, but never past the one value that tips it
                    // into buckets: kept values cost at most what they do.
                    let more = self.few.len().max(4).min(FEW + 1 - self.few.len());
                    self.few.reserve_exact(more);
                }
                self.few.push(held);
                if self.few.len() > FEW {
                    self.allocate();
                }
            }
        }
        self.count += 1;
        self.sum += u128::from(v);
        self.min = self.min.min(v);
        self.max = self.max.max(v);
    }

    /// Moves the kept values into buckets.
    fn allocate(&mut self) -> &mut Histogram<u32> {
        let few = std::mem::take(&mut self.few);
        self.hdr.get_or_insert_with(|| {
            let mut hdr = Box::new(buckets_up_to(HIGHEST_TRACKABLE));
            for v in few {
                hdr.saturating_record(v);
            }
            hdr
        })
    }

    /// Folds another histogram into this one.
    pub fn merge(&mut self, other: &LatencyHistogram) {
        if let Some(theirs) = &other.hdr {
            self.allocate()
                .add(&**theirs)
                .expect("histograms share bounds, so adding cannot fail");
        } else if let Some(hdr) = &mut self.hdr {
            for &v in &other.few {
                hdr.saturating_record(v);
            }
        } else {
            self.few.extend_from_slice(&other.few);
            if self.few.len() > FEW {
                self.allocate();
            }
        }
        self.count += other.count;
        self.sum += other.sum;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
    }

    /// `f` of the buckets: the histogram's own, or the kept values' built on
    /// the spot (small: up to the largest value only).
    fn with_buckets<R>(&self, f: impl FnOnce(&Histogram<u32>) -> R) -> R {
        if let Some(hdr) = &self.hdr {
            return f(hdr);
        }
        let mut h = buckets_up_to(self.few.iter().copied().max().unwrap_or(1));
        for &v in &self.few {
            h.saturating_record(v);
        }
        f(&h)
    }

    /// Number of observations.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Exact sum of the observations (ns).
    pub fn sum(&self) -> u128 {
        self.sum
    }

    /// Exact mean (ns), or None if empty.
    pub fn mean(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum as f64 / self.count as f64)
    }

    /// The q-quantile (ns), within 0.1%; exact at q = 1 (the maximum).
    pub fn quantile(&self, q: f64) -> Option<f64> {
        self.quantiles([q])[0]
    }

    /// Several quantiles at once (one pass over kept values).
    pub fn quantiles<const N: usize>(&self, qs: [f64; N]) -> [Option<f64>; N] {
        if self.count == 0 {
            return [None; N];
        }
        self.with_buckets(|hdr| {
            qs.map(|q| {
                if q >= 1.0 {
                    return Some(self.max as f64);
                }
                // Clamp into [min, max]: the bucket's representative value
                // may lie just outside the observed range, and exact cases
                // should stay exact.
                Some(hdr.value_at_quantile(q).clamp(self.min, self.max) as f64)
            })
        })
    }

    /// Smallest observation.
    pub fn min(&self) -> Option<Nanos> {
        (self.count > 0).then_some(self.min)
    }

    /// Largest observation (exact).
    pub fn max(&self) -> Option<Nanos> {
        (self.count > 0).then_some(self.max)
    }

    /// (value, count) over non-empty buckets, for CDF plots.
    pub fn buckets(&self) -> Vec<(Nanos, u64)> {
        self.with_buckets(|hdr| {
            hdr.iter_recorded()
                .map(|v| (v.value_iterated_to(), u64::from(v.count_at_value())))
                .collect()
        })
    }
}

/// Latency and outcomes of requests at one entry endpoint, or of calls on one
/// edge as their caller saw them.
#[derive(Debug, Clone, Default)]
pub struct Outcomes {
    /// Latency of every finished request/call (failed ones at the moment the
    /// caller gave up), so slow failures stay in the percentiles.
    pub latency: LatencyHistogram,
    /// How many of them failed (timed out, refused, or a dependency failed).
    pub failed: u64,
    /// How many a strict callee refused (edges only: their caller outside
    /// its mesh).
    pub refused: u64,
    /// Critical-path attribution of the successful ones (entry endpoints).
    pub attribution: AttributionStats,
}

/// Whose cores a station is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum StationOwner {
    /// A service's own cores (all replicas).
    Service(ServiceId),
    /// The sidecar proxies of a service's replicas.
    Sidecar(ServiceId),
    /// The policy sidecars of a service's replicas.
    PolicySidecar(ServiceId),
    /// The node proxy of a zone.
    Node(ZoneId),
    /// A node of the topology (`[nodes]`): the cores its services share.
    Host(NodeId),
    /// The waypoint proxies.
    #[default]
    Waypoint,
    /// The load generator, when it has cores of its own.
    Client,
    /// The worker slots (`concurrency`) of a service's replicas: never a
    /// station group, only named as a saturated run's bottleneck when calls
    /// pile up waiting for a slot rather than for a core (an external
    /// service's limit, a thread pool).
    Workers(ServiceId),
}

/// CPU and queueing of a group of stations (one owner), summed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StationMetrics {
    /// Whose cores.
    pub owner: StationOwner,
    /// Stations in the group (replicas, sidecars...).
    pub instances: u32,
    /// Core-nanoseconds busy inside the window, by CPU category.
    pub busy: [u64; MAX_CATEGORIES],
    /// Core-nanoseconds available inside the window.
    pub capacity: u64,
    /// CPU jobs started inside the window.
    pub jobs: u64,
    /// Total time those jobs waited for a core.
    pub waited: u64,
    /// Core-nanoseconds paused inside the window (`pauses`; not busy).
    pub paused: u64,
}

impl StationMetrics {
    /// Busy fraction of the cores.
    pub fn utilisation(&self) -> f64 {
        if self.capacity == 0 {
            return 0.0;
        }
        self.busy.iter().sum::<u64>() as f64 / self.capacity as f64
    }

    /// Mean wait for a core per CPU job (ns).
    pub fn mean_queueing(&self) -> f64 {
        if self.jobs == 0 {
            0.0
        } else {
            self.waited as f64 / self.jobs as f64
        }
    }
}

/// What the security machinery did, for measured calls.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters {
    /// Connections opened.
    pub connections_opened: u64,
    /// Calls that had to wait for a pooled connection.
    pub connection_waits: u64,
    /// Full TLS handshakes.
    pub handshakes_full: u64,
    /// Resumed TLS handshakes (1 RTT).
    pub handshakes_resumed: u64,
    /// 0-RTT resumptions with early data.
    pub handshakes_zero_rtt: u64,
    /// New TLS connections that found an unexpired ticket.
    pub resumption_attempts: u64,
    /// ... and resumed with it.
    pub resumption_hits: u64,
    /// Authorization decisions needed.
    pub authz_decisions: u64,
    /// ... answered from the decision cache.
    pub authz_cache_hits: u64,
    /// JWT verifications performed.
    pub jwt_verifications: u64,
    /// JWTs accepted from the verified-token cache.
    pub jwt_cache_hits: u64,
    /// Token fetches from the identity service.
    pub token_fetches: u64,
    /// Certificate rotations inside the window.
    pub rotations: u64,
    /// Calls a strict callee refused (their caller outside its mesh).
    pub refused: u64,
    /// Attempts (and user requests) whose caller's timeout fired.
    pub timeouts: u64,
    /// Calls shed by a full queue (`queue_limit`).
    pub shed: u64,
    /// Calls rejected by a rate limiter (`rate_limit`).
    pub limited: u64,
    /// Calls that answered with an error of their own (`error_rate`).
    pub errors: u64,
    /// Retries sent.
    pub retries: u64,
    /// Calls slowed by their endpoint's `slow`.
    pub slow: u64,
    /// Calls failed by a replica down (`down`): at its crash, at its door,
    /// or with no replica up.
    pub down: u64,
    /// Replicas' crashes (`down`, `crashes`) inside the window.
    pub crashes: u64,
    /// Time replicas were down inside the window, summed over replicas
    /// (ns).
    pub replica_down_ns: u64,
}

/// One client-side pool (`pools`) over all replicas of its service, for
/// measured calls.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PoolMetrics {
    /// The service whose replicas hold the pool.
    pub service: ServiceId,
    /// The service its calls go to.
    pub target: ServiceId,
    /// Connections per replica.
    pub size: u32,
    /// Replicas holding one.
    pub replicas: u32,
    /// Calls that took a connection.
    pub calls: u64,
    /// ... of which waited for one.
    pub waited: u64,
    /// Their total wait (ns).
    pub wait_sum: u64,
    /// Calls whose caller's timeout fired while they waited.
    pub gave_up: u64,
    /// Connection-nanoseconds in use inside the window.
    pub busy: u128,
}

/// One message queue (`[queues.NAME]`), for the messages of measured
/// publishes.
#[derive(Debug, Clone, Default)]
pub struct QueueMetrics {
    /// Messages published (acknowledged by the broker).
    pub published: u64,
    /// ... of which the broker held for room (`on_full = "block"`).
    pub blocked: u64,
    /// Their total time held (ns).
    pub blocked_sum: u64,
    /// Per consumer group, in the queue's order.
    pub groups: Vec<GroupMetrics>,
}

impl QueueMetrics {
    /// Empty, for a queue of `groups` consumer groups.
    pub fn new(groups: usize) -> Self {
        QueueMetrics {
            groups: vec![GroupMetrics::default(); groups],
            ..QueueMetrics::default()
        }
    }
}

/// One consumer group of a queue.
#[derive(Debug, Clone, Default)]
pub struct GroupMetrics {
    /// Time each message delivered to the group waited in its queue (zero
    /// for one delivered at once).
    pub queued: LatencyHistogram,
    /// Messages dropped for the group, its queue full (`on_full = "drop"`).
    pub dropped: u64,
}

/// Why a run was judged saturated.
#[derive(Debug, Clone, PartialEq)]
pub struct Saturation {
    /// The group of cores (service, sidecars, proxy) that was busiest.
    pub bottleneck: Option<StationOwner>,
    /// Requests in system at the end of the window minus at its start.
    pub backlog_growth: i64,
    /// Human explanation.
    pub reason: String,
}

/// Everything one replication measured.
#[derive(Debug, Clone, Default)]
pub struct RunMetrics {
    /// Length of the measurement window (ns).
    pub window: Nanos,
    /// Requests that arrived inside the window.
    pub arrived: u64,
    /// Requests that finished (ok or failed) inside the window.
    pub finished_in_window: u64,
    /// Per entry, indexed like `Workload::entries`.
    pub endpoints: Vec<Outcomes>,
    /// Per edge, indexed like `Topology::edges`.
    pub edges: Vec<Outcomes>,
    /// Per asynchronous call site, indexed like `Topology::async_calls`:
    /// each call's latency from its send to its final outcome.
    pub asynch: Vec<Outcomes>,
    /// Per station group (service cores, sidecars, proxies), in creation order.
    pub stations: Vec<StationMetrics>,
    /// Security machinery counters.
    pub counters: Counters,
    /// Client-side pools, in the order of services and their `pools`.
    pub pools: Vec<PoolMetrics>,
    /// Message queues, indexed like `Topology::queues`.
    pub queues: Vec<QueueMetrics>,
    /// Requests, latency and handshakes per interval, from time 0.
    pub series: Vec<SeriesBucket>,
    /// Each entry's own requests and latency per interval (handshakes are
    /// not split), indexed like `Workload::entries`; empty with one entry.
    pub entry_series: Vec<Vec<SeriesBucket>>,
    /// Width of a series interval (ns).
    pub series_interval: Nanos,
    /// Time-averaged number of requests in the system during the window.
    pub mean_in_system: f64,
    /// Set when the queues grew without bound.
    pub saturation: Option<Saturation>,
    /// Events processed (the simulator's own work).
    pub events: u64,
    /// Calls simulated (every attempt of every call, roots included).
    pub calls: u64,
    /// Most calls in flight at once.
    pub peak_calls_in_flight: usize,
    /// Most events pending at once.
    pub peak_events_pending: usize,
}

impl RunMetrics {
    /// The cores of service `s` (every service of the system has them, but
    /// one on nodes: its cores are its nodes', `StationOwner::Host`).
    pub fn service(&self, s: usize) -> &StationMetrics {
        self.station(StationOwner::Service(s as ServiceId))
            .expect("a service off nodes has a station group")
    }

    /// The station group of `owner`, if the run had one.
    pub fn station(&self, owner: StationOwner) -> Option<&StationMetrics> {
        self.stations.iter().find(|s| s.owner == owner)
    }

    /// All measured requests, over every entry endpoint.
    pub fn all_requests(&self) -> Outcomes {
        // The entries' slowest hold those of all requests (`tail.rs`).
        let keep = self.endpoints.iter().map(|o| o.attribution.keep()).max();
        let mut all = Outcomes {
            attribution: keep.map_or_else(AttributionStats::default, AttributionStats::keeping),
            ..Outcomes::default()
        };
        for o in &self.endpoints {
            all.latency.merge(&o.latency);
            all.failed += o.failed;
            all.attribution.merge(&o.attribution);
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_quantiles_have_bounded_relative_error() {
        let mut h = LatencyHistogram::default();
        for v in 1..=100_000u64 {
            h.record(v * 1000);
        }
        for q in [0.5, 0.9, 0.99, 0.999] {
            let exact = q * 100_000.0 * 1000.0;
            let got = h.quantile(q).unwrap();
            assert!((got / exact - 1.0).abs() < 0.002, "q{q}: {got} vs {exact}");
        }
        assert_eq!(h.max(), Some(100_000_000));
        assert_eq!(h.mean(), Some(50_000_500.0));
    }

    #[test]
    fn exact_values_stay_exact() {
        let mut h = LatencyHistogram::default();
        for _ in 0..10 {
            h.record(4_000_000);
        }
        assert_eq!(h.quantile(0.5), Some(4_000_000.0));
        assert_eq!(h.quantile(0.99), Some(4_000_000.0));
    }

    /// A histogram holding `values` in its bucket form from the start.
    fn dense(values: &[Nanos]) -> LatencyHistogram {
        let mut h = LatencyHistogram::default();
        h.allocate();
        values.iter().for_each(|&v| h.record(v));
        h
    }

    /// A histogram holding `values` as it would in a run: plainly up to
    /// `FEW`, in buckets past them.
    fn recorded(values: &[Nanos]) -> LatencyHistogram {
        let mut h = LatencyHistogram::default();
        values.iter().for_each(|&v| h.record(v));
        h
    }

    /// Quantiles asked of every histogram: the reported ones, the CDF's
    /// and a spread of others.
    fn qs() -> [f64; 40] {
        let mut q = [0.0; 40];
        let fixed = [0.0, 1e-4, 0.001, 0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999];
        q[..10].copy_from_slice(&fixed);
        for (i, q) in q[10..39].iter_mut().enumerate() {
            *q = (i as f64 + 0.37) / 29.0;
        }
        q[39] = 1.0;
        q
    }

    /// What a histogram answers: every figure a caller can read.
    type Answers = (
        u64,
        u128,
        Option<Nanos>,
        Option<Nanos>,
        Option<f64>,
        [Option<f64>; 40],
        Vec<(Nanos, u64)>,
    );

    fn answers(h: &LatencyHistogram) -> Answers {
        (
            h.count(),
            h.sum(),
            h.min(),
            h.max(),
            h.mean(),
            h.quantiles(qs()),
            h.buckets(),
        )
    }

    /// What a plain HdrHistogram over the whole range answers for `values`,
    /// computed independently of `LatencyHistogram`'s forms.
    fn reference(values: &[Nanos]) -> Answers {
        let mut hdr = Histogram::<u32>::new_with_bounds(1, 1 << 42, 3).unwrap();
        for &v in values {
            hdr.record(v.clamp(1, 1 << 42)).unwrap();
        }
        let (min, max) = (values.iter().min().copied(), values.iter().max().copied());
        let sum: u128 = values.iter().map(|&v| u128::from(v)).sum();
        let n = values.len() as u64;
        let quantiles = qs().map(|q| {
            let (lo, hi) = (min?, max?);
            Some(if q >= 1.0 {
                hi as f64
            } else {
                hdr.value_at_quantile(q).clamp(lo, hi) as f64
            })
        });
        let buckets = hdr
            .iter_recorded()
            .map(|v| (v.value_iterated_to(), u64::from(v.count_at_value())))
            .collect();
        let mean = (n > 0).then(|| sum as f64 / n as f64);
        (n, sum, min, max, mean, quantiles, buckets)
    }

    /// `n` values spread over up to nine decades, with 0, 1 and values
    /// beyond the trackable range (clamped) among them.
    fn spread(n: usize, seed: u64) -> Vec<Nanos> {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15 ^ seed;
        (0..n)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                match i % 97 {
                    0 => 0,
                    1 => 1,
                    2 => (1 << 42) + x % 1000,
                    _ => {
                        let decade = x % 10;
                        (x >> 8) % 10u64.pow(decade as u32 + 1)
                            + if decade == 9 { 1 << 43 } else { 0 }
                    }
                }
            })
            .collect()
    }

    /// Kept values and buckets answer exactly as a plain HdrHistogram does,
    /// whatever the sizes (on both sides of `FEW`) and however they were
    /// merged (kept into kept, kept into buckets, buckets into kept).
    #[test]
    fn kept_values_answer_like_buckets() {
        let sizes = [
            0,
            1,
            2,
            7,
            63,
            64,
            65,
            130,
            1000,
            5000,
            FEW - 1,
            FEW,
            FEW + 1,
            FEW + 700,
        ];
        for (seed, &n) in sizes.iter().enumerate() {
            let v = spread(n, seed as u64);
            let want = reference(&v);
            let (s, d) = (recorded(&v), dense(&v));
            assert_eq!(s.hdr.is_none(), n <= FEW, "n = {n}");
            assert_eq!(answers(&s), want, "n = {n}");
            assert_eq!(answers(&d), want, "n = {n}");
            for cut in [0, 1, n / 3, n.saturating_sub(1), n] {
                let (a, b) = v.split_at(cut.min(n));
                for (mut x, y) in [
                    (recorded(a), recorded(b)),
                    (recorded(a), dense(b)),
                    (dense(a), recorded(b)),
                    (dense(a), dense(b)),
                ] {
                    x.merge(&y);
                    assert_eq!(answers(&x), want, "n = {n}, cut = {cut}");
                }
            }
        }
    }

    /// Two constant values, as the exact tests record them: the larger is
    /// answered exactly (clamped to the maximum), the smaller within 0.1%.
    #[test]
    fn repeated_values_answer_exactly() {
        let v: Vec<Nanos> = (0..30_000).map(|i| [250_000, 4_000_000][i % 2]).collect();
        for n in [10, FEW, 30_000] {
            let h = recorded(&v[..n]);
            assert_eq!(answers(&h), reference(&v[..n]), "n = {n}");
            let low = h.quantile(0.25).unwrap();
            assert!((250_000.0..250_250.0).contains(&low), "{low}");
            assert_eq!(h.quantile(0.75), Some(4_000_000.0));
        }
    }

    /// Kept values never cost more than the buckets would: `FEW` of them
    /// fill the buckets' size, and the vector stops growing there.
    #[test]
    fn kept_values_cost_at_most_the_buckets() {
        let hdr = buckets_up_to(HIGHEST_TRACKABLE);
        let bucket_bytes = hdr.distinct_values() * std::mem::size_of::<u32>();
        assert_eq!(FEW * std::mem::size_of::<Nanos>(), bucket_bytes);
        let mut h = LatencyHistogram::default();
        for v in 0..FEW as u64 {
            h.record(v);
            assert!(h.few.capacity() <= FEW + 1);
        }
        h.record(1);
        assert!(h.hdr.is_some() && h.few.capacity() == 0);
    }

    #[test]
    fn merge_adds_counts() {
        let (mut a, mut b) = (LatencyHistogram::default(), LatencyHistogram::default());
        a.record(10);
        b.record(30);
        a.merge(&b);
        assert_eq!(
            (a.count(), a.mean(), a.min(), a.max()),
            (2, Some(20.0), Some(10), Some(30))
        );
    }
}
