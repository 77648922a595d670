//! What one replication measures. Memory is fixed by the topology's size, never
//! by the length of the run: histograms have fixed buckets and counters are
//! scalars.

use hdrhistogram::Histogram;

use crate::engine::station::MAX_CATEGORIES;
use crate::units::Nanos;

/// Largest latency the histograms resolve (about 76 minutes); longer values
/// are clamped to it and flagged by `max`, which is exact.
const HIGHEST_TRACKABLE: u64 = 1 << 42;
/// 3 significant digits: quantiles within 0.1% of the true value.
const SIGNIFICANT_DIGITS: u8 = 3;

/// A streaming latency distribution: quantiles with bounded relative error
/// (HdrHistogram) plus exact count, sum, min and max.
#[derive(Debug, Clone)]
pub struct LatencyHistogram {
    hdr: Histogram<u32>,
    count: u64,
    sum: u128,
    min: Nanos,
    max: Nanos,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self {
            hdr: Histogram::new_with_bounds(1, HIGHEST_TRACKABLE, SIGNIFICANT_DIGITS)
                .expect("static histogram bounds are valid"),
            count: 0,
            sum: 0,
            min: Nanos::MAX,
            max: 0,
        }
    }
}

impl LatencyHistogram {
    /// Adds one observation.
    #[inline]
    pub fn record(&mut self, v: Nanos) {
        // HdrHistogram cannot hold 0; 1 ns is within its resolution anyway.
        self.hdr.saturating_record(v.clamp(1, HIGHEST_TRACKABLE));
        self.count += 1;
        self.sum += u128::from(v);
        self.min = self.min.min(v);
        self.max = self.max.max(v);
    }

    /// Folds another histogram into this one.
    pub fn merge(&mut self, other: &LatencyHistogram) {
        self.hdr
            .add(&other.hdr)
            .expect("histograms share bounds, so adding cannot fail");
        self.count += other.count;
        self.sum += other.sum;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
    }

    /// Number of observations.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Exact mean (ns), or None if empty.
    pub fn mean(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum as f64 / self.count as f64)
    }

    /// The q-quantile (ns), within 0.1%; exact at q = 1 (the maximum).
    pub fn quantile(&self, q: f64) -> Option<f64> {
        if self.count == 0 {
            return None;
        }
        if q >= 1.0 {
            return Some(self.max as f64);
        }
        // Clamp into [min, max]: the bucket's representative value may lie
        // just outside the observed range, and exact cases should stay exact.
        let v = self.hdr.value_at_quantile(q).clamp(self.min, self.max);
        Some(v as f64)
    }

    /// Smallest observation.
    pub fn min(&self) -> Option<Nanos> {
        (self.count > 0).then_some(self.min)
    }

    /// Largest observation (exact).
    pub fn max(&self) -> Option<Nanos> {
        (self.count > 0).then_some(self.max)
    }

    /// Iterates (value, count) over non-empty buckets, for CDF plots.
    pub fn buckets(&self) -> impl Iterator<Item = (Nanos, u64)> + '_ {
        self.hdr
            .iter_recorded()
            .map(|v| (v.value_iterated_to(), u64::from(v.count_at_value())))
    }
}

/// Latency and outcomes of requests at one entry endpoint, or of calls on one
/// edge as their caller saw them.
#[derive(Debug, Clone, Default)]
pub struct Outcomes {
    /// Latency of every finished request/call (failed ones at the moment the
    /// caller gave up), so slow failures stay in the percentiles.
    pub latency: LatencyHistogram,
    /// How many of them failed (timed out, or a dependency failed).
    pub failed: u64,
}

/// CPU and queueing of one service, summed over its replicas.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServiceMetrics {
    /// Core-nanoseconds busy inside the window, by CPU category.
    pub busy: [u64; MAX_CATEGORIES],
    /// Core-nanoseconds available inside the window.
    pub capacity: u64,
    /// CPU jobs started inside the window.
    pub jobs: u64,
    /// Total time those jobs waited for a core.
    pub waited: u64,
}

impl ServiceMetrics {
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

/// Why a run was judged saturated.
#[derive(Debug, Clone, PartialEq)]
pub struct Saturation {
    /// The service whose cores were busiest.
    pub bottleneck: Option<u32>,
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
    /// Per service, indexed like `Topology::services`.
    pub services: Vec<ServiceMetrics>,
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
    /// All measured requests, over every entry endpoint.
    pub fn all_requests(&self) -> Outcomes {
        let mut all = Outcomes::default();
        for o in &self.endpoints {
            all.latency.merge(&o.latency);
            all.failed += o.failed;
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
