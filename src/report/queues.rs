//! The figures of message queues (`[queues.NAME]` in the topology) in the
//! summary and on the terminal, present only when a topology has one. A
//! group's consumption latency and failures are its delivery site's row of
//! the asynchronous-call table (`broker -> consumer`).

use std::fmt::Write;

use serde::{Deserialize, Serialize};

use super::stats::Estimate;
use crate::model::Replication;
use crate::model::replication::LatencyFigures;
use crate::model::topology::{OnFull, Topology};

/// One queue.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QueueSummary {
    /// Its name.
    pub name: String,
    /// Its broker endpoint.
    pub broker: String,
    /// Most messages waiting per consumer group.
    pub capacity: u32,
    /// "block" or "drop".
    pub on_full: String,
    /// Messages published per second.
    pub published_per_s: Estimate,
    /// Share of the publishes the broker held for room (`block` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked_share: Option<Estimate>,
    /// Mean time a publish was held, those not held included (ms; `block`
    /// only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean_blocked_ms: Option<Estimate>,
    /// Its consumer groups.
    pub groups: Vec<GroupSummary>,
}

/// One consumer group of a queue.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GroupSummary {
    /// The consuming endpoint.
    pub consumer: String,
    /// Most messages consumed at once.
    pub concurrency: u32,
    /// Messages consumed successfully per second.
    pub consumed_per_s: Estimate,
    /// Messages dropped, the group's queue full, per replication.
    pub dropped: Estimate,
    /// Share of the messages published that were dropped for the group.
    pub dropped_share: Estimate,
    /// Mean time a message delivered waited in the group's queue (ms).
    pub mean_queued_ms: Estimate,
    /// Its 99th percentile (ms).
    pub p99_queued_ms: Estimate,
    /// Mean time from publish to the end of consumption (ms): time queued
    /// plus the delivery's latency; absent when saturated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean_in_system_ms: Option<Estimate>,
}

fn ratio(a: f64, b: f64) -> f64 {
    if b == 0.0 { 0.0 } else { a / b }
}

/// The queues of `runs`, None when the topology has none; `ok` when the
/// run was not saturated.
pub(super) fn queues(topo: &Topology, runs: &[Replication], ok: bool) -> Option<Vec<QueueSummary>> {
    if topo.queues.is_empty() || runs.is_empty() {
        return None;
    }
    let secs = |r: &Replication| (r.window as f64 * 1e-9).max(f64::MIN_POSITIVE);
    let ms = |ns: Option<f64>| ns.unwrap_or(0.0) * 1e-6;
    let out = topo.queues.iter().enumerate().map(|(q, queue)| {
        let block = queue.on_full == OnFull::Block;
        let groups = queue.groups.iter().enumerate().map(|(g, group)| {
            let site = topo.calls[group.site as usize].async_site.unwrap_or(0) as usize;
            fn fig(r: &Replication, q: usize, g: usize) -> &(LatencyFigures, u64) {
                &r.queues[q].groups[g]
            }
            GroupSummary {
                consumer: topo.endpoints[group.endpoint as usize].name.clone(),
                concurrency: group.concurrency,
                consumed_per_s: Estimate::over(runs, |r| {
                    let a = &r.asynch[site];
                    (a.latency.count() - a.failed) as f64 / secs(r)
                }),
                dropped: Estimate::over(runs, |r| fig(r, q, g).1 as f64),
                dropped_share: Estimate::over(runs, |r| {
                    ratio(fig(r, q, g).1 as f64, r.queues[q].published as f64)
                }),
                mean_queued_ms: Estimate::over(runs, |r| ms(fig(r, q, g).0.mean())),
                p99_queued_ms: Estimate::over(runs, |r| ms(fig(r, q, g).0.quantile(0.99))),
                mean_in_system_ms: ok.then(|| {
                    Estimate::over(runs, |r| {
                        ms(fig(r, q, g).0.mean()) + ms(r.asynch[site].latency.mean())
                    })
                }),
            }
        });
        QueueSummary {
            name: queue.name.clone(),
            broker: topo.endpoints[queue.broker as usize].name.clone(),
            capacity: queue.capacity,
            on_full: if block { "block" } else { "drop" }.into(),
            published_per_s: Estimate::over(runs, |r| r.queues[q].published as f64 / secs(r)),
            blocked_share: block.then(|| {
                Estimate::over(runs, |r| {
                    ratio(r.queues[q].blocked as f64, r.queues[q].published as f64)
                })
            }),
            mean_blocked_ms: block.then(|| {
                Estimate::over(runs, |r| {
                    ratio(r.queues[q].blocked_sum as f64, r.queues[q].published as f64) * 1e-6
                })
            }),
            groups: groups.collect(),
        }
    });
    Some(out.collect())
}

/// One terminal line per queue and one per consumer group.
pub(super) fn render(out: &mut String, queues: &[QueueSummary]) {
    for q in queues {
        let blocked = match (q.blocked_share, q.mean_blocked_ms) {
            (Some(s), Some(m)) => format!(
                ", {:.1}% of publishes held for room, {:.3} ms on average",
                s.mean * 100.0,
                m.mean
            ),
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "queue {} (at {}, {} waiting per group, {} when full): {:.1} messages/s published{blocked}",
            q.name, q.broker, q.capacity, q.on_full, q.published_per_s.mean
        );
        for g in &q.groups {
            let in_system = g.mean_in_system_ms.map_or(String::new(), |t| {
                format!(", {:.3} ms publish to consumed", t.mean)
            });
            let _ = writeln!(
                out,
                "  group {} (concurrency {}): {:.1} consumed/s, queued {:.3} ms mean, {:.3} ms p99{in_system}, {:.0} dropped ({:.2}%)",
                g.consumer,
                g.concurrency,
                g.consumed_per_s.mean,
                g.mean_queued_ms.mean,
                g.p99_queued_ms.mean,
                g.dropped.mean,
                g.dropped_share.mean * 100.0
            );
        }
    }
}
