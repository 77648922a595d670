//! A study's results: one [`PointResult`] per grid point (design x load x
//! parameters), each with its replications aggregated. `results.json` is this
//! type serialised; `ztsim plot` reads it back to redraw the charts, so it
//! holds everything the charts need and nothing that needs a rerun.

use serde::{Deserialize, Serialize};

use super::summary::Summary;
use crate::model::RunMetrics;
use crate::model::metrics::LatencyHistogram;

/// Quantiles at which a point's latency CDF is kept (pooled over
/// replications): dense enough to draw, small enough to store.
pub const CDF_QUANTILES: [f64; 23] = [
    0.001, 0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.925, 0.95, 0.97, 0.98,
    0.99, 0.995, 0.999, 0.9999, 1.0,
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
    /// Their largest latency, ms.
    pub max_ms: Option<f64>,
    /// Full TLS handshakes per second in the interval.
    pub full_handshakes_per_s: f64,
}

/// A grid point's coordinates.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Coordinates {
    /// Design name.
    pub design: String,
    /// Offered load, requests per second (open loop), or None (closed loop).
    pub rate_rps: Option<f64>,
    /// Other swept parameters as (path, value) in grid order.
    pub params: Vec<(String, String)>,
}

/// One grid point, all its replications.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PointResult {
    /// Index in the grid (the order points are listed in).
    pub index: usize,
    /// Where in the grid.
    pub at: Coordinates,
    /// Seed its replications derived their streams from.
    pub seed: u64,
    /// Aggregated over replications (95% CIs), as `ztsim run` reports it.
    pub summary: Summary,
    /// One summary per replication.
    pub replications: Vec<Summary>,
    /// Latency CDF, all replications pooled (empty when saturated).
    pub cdf: Vec<CdfPoint>,
    /// Time series averaged over replications.
    pub series: Vec<SeriesPoint>,
}

/// Everything a study produced.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StudyResults {
    /// ztsim version that produced it.
    pub ztsim_version: String,
    /// Study name (its output folder).
    pub name: String,
    /// The question it answers, for chart titles and the report.
    pub title: String,
    /// Topology name.
    pub topology: String,
    /// Designs in the order the study lists them.
    pub designs: Vec<String>,
    /// Offered loads swept (requests per second), ascending.
    pub rates: Vec<f64>,
    /// The load at which per-design charts (CDF, CPU, attribution, time
    /// series) are drawn.
    pub focus_rate: Option<f64>,
    /// Names of the swept parameters other than design and load.
    pub params: Vec<String>,
    /// Replications per point.
    pub replications: u32,
    /// The points, in grid order.
    pub points: Vec<PointResult>,
}

/// The pooled latency CDF of a point's replications.
pub fn cdf(runs: &[RunMetrics]) -> Vec<CdfPoint> {
    let mut pooled = LatencyHistogram::default();
    for r in runs {
        pooled.merge(&r.all_requests().latency);
    }
    if pooled.count() == 0 {
        return Vec::new();
    }
    CDF_QUANTILES
        .iter()
        .filter_map(|&q| pooled.quantile(q).map(|v| CdfPoint { q, ms: v * 1e-6 }))
        .collect()
}

/// The time series of a point, averaged over its replications.
pub fn series(runs: &[RunMetrics]) -> Vec<SeriesPoint> {
    let n = runs.iter().map(|r| r.series.len()).max().unwrap_or(0);
    let width = runs.first().map_or(1.0, |r| r.series_interval as f64 * 1e-9);
    (0..n)
        .map(|i| {
            let buckets: Vec<_> = runs.iter().filter_map(|r| r.series.get(i)).collect();
            let reps = runs.len() as f64;
            let requests: u64 = buckets.iter().map(|b| b.requests).sum();
            let sum: u64 = buckets.iter().map(|b| b.latency_sum).sum();
            let max = buckets.iter().map(|b| b.latency_max).max().unwrap_or(0);
            SeriesPoint {
                t_s: i as f64 * width,
                requests_per_s: requests as f64 / reps / width,
                mean_ms: (requests > 0).then(|| sum as f64 / requests as f64 * 1e-6),
                max_ms: (requests > 0).then(|| max as f64 * 1e-6),
                full_handshakes_per_s: buckets.iter().map(|b| b.handshakes_full).sum::<u64>() as f64 / reps / width,
            }
        })
        .collect()
}
