//! The distributions a study keeps per point for its charts: the pooled
//! latency CDF and the time series, of all requests and, with several entry
//! endpoints, of each entry's own.

use serde::{Deserialize, Serialize};

use crate::model::Replication;
use crate::model::metrics::{IntervalLatency, LatencyHistogram};
use crate::model::profile::RateProfile;
use crate::model::series::SeriesBucket;
use crate::model::topology::Topology;

/// Quantiles at which a point's latency CDF is kept (pooled over
/// replications): dense enough to draw, small enough to store.
pub const CDF_QUANTILES: [f64; 23] = [
    0.001, 0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.925, 0.95, 0.97,
    0.98, 0.99, 0.995, 0.999, 0.9999, 1.0,
];

/// One point of the latency CDF.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CdfPoint {
    /// Cumulative fraction of requests.
    pub q: f64,
    /// Latency at that fraction, ms.
    pub ms: f64,
}

/// One interval of the time series, averaged over replications.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SeriesPoint {
    /// Interval start, seconds of simulated time (warm-up included).
    pub t_s: f64,
    /// Requests finished per second in the interval.
    pub requests_per_s: f64,
    /// Their mean latency, ms (absent when none finished).
    pub mean_ms: Option<f64>,
    /// Their 99th percentile, ms, over every replication's requests of the
    /// interval (absent when none finished).
    #[serde(default)]
    pub p99_ms: Option<f64>,
    /// Their largest latency, ms.
    pub max_ms: Option<f64>,
    /// Full TLS handshakes per second in the interval (absent from an entry
    /// endpoint's own series: handshakes are not split by entry).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_handshakes_per_s: Option<f64>,
    /// The rate profile's mean over the interval, requests per second
    /// (only with a profile).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offered_per_s: Option<f64>,
}

/// One entry endpoint's own distributions at a point.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EntryResult {
    /// Entry endpoint (`service.endpoint`).
    pub name: String,
    /// Share of the workload's entry mix.
    pub weight: f64,
    /// Its latency CDF, all replications pooled (empty when saturated).
    pub cdf: Vec<CdfPoint>,
    /// Its requests and latency per interval, averaged over replications.
    pub series: Vec<SeriesPoint>,
}

/// Fewest requests beyond a quantile for it to be drawn: the 99.99th
/// percentile of 4,500 requests is the slowest one, not a percentile.
pub const CDF_TAIL_REQUESTS: f64 = 10.0;

/// The pooled latency CDF of a point's replications, up to the highest
/// quantile with at least [`CDF_TAIL_REQUESTS`] requests beyond it.
pub fn cdf(pooled: &LatencyHistogram) -> Vec<CdfPoint> {
    let n = pooled.count() as f64;
    CDF_QUANTILES
        .iter()
        .filter(|&&q| (1.0 - q) * n >= CDF_TAIL_REQUESTS)
        .filter_map(|&q| pooled.quantile(q).map(|v| CdfPoint { q, ms: v * 1e-6 }))
        .collect()
}

/// The time series of a point, averaged over its replications (its p99
/// pooled), with the offered rate of `profile` if the workload has one.
pub fn series(runs: &[Replication], profile: Option<&RateProfile>) -> Vec<SeriesPoint> {
    series_of(runs, |r| &r.series, profile.map(|p| (p, 1.0)), true)
}

/// Each entry endpoint's own CDF and series when the workload has several;
/// empty with one. `pooled` holds each entry's latency over every
/// replication ([`crate::model::replication::Replications::pooled_entries`]).
pub fn entries(
    topo: &Topology,
    runs: &[Replication],
    pooled: &[LatencyHistogram],
    profile: Option<&RateProfile>,
) -> Vec<EntryResult> {
    let entries = &topo.workload.entries;
    if entries.len() < 2 {
        return Vec::new();
    }
    let total: f64 = entries.iter().map(|e| e.1).sum();
    entries
        .iter()
        .enumerate()
        .map(|(i, &(ep, weight))| {
            let share = weight / total;
            let no_requests = LatencyHistogram::default();
            EntryResult {
                name: topo.endpoints[ep as usize].name.clone(),
                weight,
                cdf: cdf(pooled.get(i).unwrap_or(&no_requests)),
                series: series_of(
                    runs,
                    |r| r.entry_series.get(i).map_or(&[], |s| s.as_slice()),
                    profile.map(|p| (p, share)),
                    false,
                ),
            }
        })
        .collect()
}

/// The series `pick` chooses of each replication, averaged over them, with
/// `share` of `profile`'s offered rate, and the full handshakes if asked
/// (they are counted for the whole system only).
fn series_of(
    runs: &[Replication],
    pick: impl Fn(&Replication) -> &[SeriesBucket],
    profile: Option<(&RateProfile, f64)>,
    handshakes: bool,
) -> Vec<SeriesPoint> {
    let n = runs.iter().map(|r| pick(r).len()).max().unwrap_or(0);
    let width_ns = runs.first().map_or(1_000_000_000, |r| r.series_interval);
    let width = width_ns as f64 * 1e-9;
    (0..n)
        .map(|i| {
            let buckets: Vec<_> = runs.iter().filter_map(|r| pick(r).get(i)).collect();
            let reps = runs.len() as f64;
            let requests: u64 = buckets.iter().map(|b| b.requests).sum();
            let sum: u64 = buckets.iter().map(|b| b.latency_sum).sum();
            let max = buckets.iter().map(|b| b.latency_max).max().unwrap_or(0);
            let mut pooled = IntervalLatency::default();
            for b in &buckets {
                pooled.merge(&b.latency);
            }
            let (t0, w_ns) = (i as u64 * width_ns, width_ns);
            SeriesPoint {
                t_s: i as f64 * width,
                requests_per_s: requests as f64 / reps / width,
                mean_ms: (requests > 0).then(|| sum as f64 / requests as f64 * 1e-6),
                p99_ms: pooled.quantile(0.99).map(|v| v as f64 * 1e-6),
                max_ms: (requests > 0).then_some(max as f64 * 1e-6),
                full_handshakes_per_s: handshakes.then(|| {
                    buckets.iter().map(|b| b.handshakes_full).sum::<u64>() as f64 / reps / width
                }),
                offered_per_s: profile.map(|(p, share)| p.integral(t0, t0 + w_ns) / width * share),
            }
        })
        .collect()
}
