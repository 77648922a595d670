//! The figures of callers' client-side pools (`pools` in the topology) in
//! the summary and on the terminal, present only when a topology has one.

use std::fmt::Write;

use serde::{Deserialize, Serialize};

use super::stats::Estimate;
use crate::model::Replication;
use crate::model::topology::Topology;

/// One pool of a service's replicas to a dependency, over its replicas.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PoolSummary {
    /// The service whose replicas hold the pool.
    pub service: String,
    /// The service its calls go to.
    pub target: String,
    /// Connections per replica.
    pub size: u32,
    /// Share of the calls that waited for a connection.
    pub waited_share: Estimate,
    /// Mean wait per call, those that did not wait included (ms).
    pub mean_wait_ms: Estimate,
    /// Mean wait of the calls that waited (ms); absent when none did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean_wait_of_waiting_ms: Option<Estimate>,
    /// Mean share of the connections in use over the window.
    pub utilisation: Estimate,
    /// Calls per request whose caller's timeout fired while they waited;
    /// absent when none did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timed_out_waiting: Option<Estimate>,
}

fn ratio(a: f64, b: f64) -> f64 {
    if b == 0.0 { 0.0 } else { a / b }
}

/// The pools of `runs`, None when the topology has none.
pub(super) fn pools(topo: &Topology, runs: &[Replication]) -> Option<Vec<PoolSummary>> {
    let first = &runs.first()?.pools;
    if first.is_empty() {
        return None;
    }
    let out = first
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let waited = runs.iter().all(|r| r.pools[i].waited > 0);
            PoolSummary {
                service: topo.services[p.service as usize].name.clone(),
                target: topo.services[p.target as usize].name.clone(),
                size: p.size,
                waited_share: Estimate::over(runs, |r| {
                    ratio(r.pools[i].waited as f64, r.pools[i].calls as f64)
                }),
                mean_wait_ms: Estimate::over(runs, |r| {
                    ratio(r.pools[i].wait_sum as f64, r.pools[i].calls as f64) * 1e-6
                }),
                mean_wait_of_waiting_ms: waited.then(|| {
                    Estimate::over(runs, |r| {
                        ratio(r.pools[i].wait_sum as f64, r.pools[i].waited as f64) * 1e-6
                    })
                }),
                utilisation: Estimate::over(runs, |r| {
                    let p = &r.pools[i];
                    let capacity = f64::from(p.size) * f64::from(p.replicas) * r.window as f64;
                    ratio(p.busy as f64, capacity)
                }),
                timed_out_waiting: runs.iter().any(|r| r.pools[i].gave_up > 0).then(|| {
                    Estimate::over(runs, |r| {
                        ratio(r.pools[i].gave_up as f64, r.requests() as f64)
                    })
                }),
            }
        })
        .collect();
    Some(out)
}

/// One terminal line per pool.
pub(super) fn render(out: &mut String, pools: &[PoolSummary]) {
    for p in pools {
        let _ = writeln!(
            out,
            "pool {} -> {} ({} per replica): {:.1}% of calls waited, mean wait {:.3} ms{}, {:.1}% in use{}",
            p.service,
            p.target,
            p.size,
            p.waited_share.mean * 100.0,
            p.mean_wait_ms.mean,
            p.mean_wait_of_waiting_ms.map_or(String::new(), |w| format!(
                " ({:.3} ms among those)",
                w.mean
            )),
            p.utilisation.mean * 100.0,
            p.timed_out_waiting.map_or(String::new(), |t| format!(
                ", {:.3} per request timed out waiting",
                t.mean
            )),
        );
    }
}
