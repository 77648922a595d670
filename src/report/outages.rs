//! Replicas' crashes and time down (`down`, `crashes` in the topology) in
//! the summary and on the terminal, present only when a replica went down
//! inside the window.

use std::fmt::Write;

use serde::{Deserialize, Serialize};

use super::stats::Estimate;
use crate::model::Replication;
use crate::model::topology::Topology;

/// Replicas down over the measurement window, all services together.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OutageSummary {
    /// Replicas' crashes inside the window (per replication).
    pub crashes: Estimate,
    /// Crashes per hour of the window, all replicas together.
    pub crashes_per_hour: Estimate,
    /// Share of replica-time spent down: the time replicas were down inside
    /// the window, summed over replicas, over the window times the replicas
    /// of the services given `down` or `crashes`.
    pub replica_down_share: Estimate,
}

/// The outages of `runs`, None when no replica was down inside the window.
pub(super) fn outages(topo: &Topology, runs: &[Replication]) -> Option<OutageSummary> {
    let went_down = |r: &Replication| r.counters.crashes > 0 || r.counters.replica_down_ns > 0;
    if !runs.iter().any(went_down) {
        return None;
    }
    let replicas: f64 = topo
        .services
        .iter()
        .filter(|s| !s.down.is_empty() || s.crashes.is_some())
        .map(|s| f64::from(s.replicas))
        .sum();
    let window = |r: &Replication| r.window as f64;
    Some(OutageSummary {
        crashes: Estimate::over(runs, |r| r.counters.crashes as f64),
        crashes_per_hour: Estimate::over(runs, |r| {
            r.counters.crashes as f64 / (window(r) * 1e-9 / 3600.0).max(f64::MIN_POSITIVE)
        }),
        replica_down_share: Estimate::over(runs, |r| {
            r.counters.replica_down_ns as f64 / (window(r) * replicas).max(f64::MIN_POSITIVE)
        }),
    })
}

/// The terminal's line for them.
pub(super) fn render(out: &mut String, o: &OutageSummary) {
    let _ = writeln!(
        out,
        "replicas down: {:.1} crashes in the window ({:.1} an hour), {:.2}% of replica-time down",
        o.crashes.mean,
        o.crashes_per_hour.mean,
        100.0 * o.replica_down_share.mean
    );
}
