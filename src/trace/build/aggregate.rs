//! The statistics gathered per endpoint turned into a [`Model`]: services
//! and endpoints named safely for the topology format, callees laid into
//! stages, cores sized from measured busy time, cycles broken, entries and
//! arrivals counted.

use rustc_hash::FxHashMap;

use super::names::Names;
use super::{Builder, CallModel, EndpointModel, EpStats, Model, ServiceModel, TARGET_UTILISATION};

impl Builder<'_> {
    pub(super) fn finish(self) -> Model {
        let Builder {
            names,
            mut cleanup,
            endpoints: stats,
            roots,
            ..
        } = self;
        let mut roots = roots;
        roots.sort_by_key(|r| (r.0, r.1));
        let first = roots[0].0;
        let span_ns = roots.last().map_or(0, |r| r.0 - first);
        // The time over which the recorded load is averaged: the arrivals'
        // span, or the lone request's own duration.
        let window_ns = if span_ns > 0 {
            span_ns
        } else {
            roots.iter().map(|r| r.0 + r.2).max().unwrap_or(first) - first
        }
        .max(1);

        // Services and names, in order of first appearance.
        let mut services: Vec<ServiceModel> = Vec::new();
        let mut service_of: FxHashMap<u32, usize> = FxHashMap::default();
        let mut service_names = Names::default();
        let mut endpoint_names: Vec<Names> = Vec::new();
        let mut endpoints = Vec::with_capacity(stats.len());
        let mut busy: Vec<u128> = Vec::new();
        for e in &stats {
            let sid = *service_of.entry(e.key.0).or_insert_with(|| {
                let raw = names.name(e.key.0).to_string();
                services.push(ServiceModel {
                    name: service_names.unique(&raw),
                    raw,
                    cores: 1,
                    busy_cores: 0.0,
                });
                endpoint_names.push(Names::default());
                busy.push(0);
                services.len() - 1
            });
            busy[sid] += e.self_total;
            let raw = names.name(e.key.1).to_string();
            let mut cpu = e.reservoir.clone();
            cpu.sort_unstable();
            let mean =
                |(sum, n): (u128, u64)| (n > 0).then(|| (sum as f64 / n as f64).round() as u64);
            endpoints.push(EndpointModel {
                service: sid,
                // "cart.get" on service cart (ztsim's own export, and
                // instrumentations that qualify names) is endpoint "get".
                name: endpoint_names[sid].unique(
                    raw.strip_prefix(&format!("{}.", services[sid].raw))
                        .filter(|r| !r.is_empty())
                        .unwrap_or(&raw),
                ),
                raw,
                invocations: e.invocations,
                cpu,
                mean_self: e.self_total as f64 / e.invocations.max(1) as f64,
                request_size: mean(e.request),
                response_size: mean(e.response),
                stages: stages(e),
            });
        }
        for (s, b) in services.iter_mut().zip(busy) {
            s.busy_cores = b as f64 / window_ns as f64;
            s.cores = ((s.busy_cores / TARGET_UTILISATION).ceil() as u32).max(1);
        }
        cleanup.cycle_calls_dropped = break_cycles(&mut endpoints);
        let mut entries: Vec<(usize, u64)> = Vec::new();
        for r in &roots {
            match entries.iter_mut().find(|e| e.0 == r.1) {
                Some(e) => e.1 += 1,
                None => entries.push((r.1, 1)),
            }
        }
        entries.sort_by_key(|e| e.0);
        Model {
            services,
            endpoints,
            entries,
            arrivals: roots.iter().map(|r| (r.0 - first, r.1)).collect(),
            span_ns,
            root_durations: roots.iter().map(|r| (r.1, r.2)).collect(),
            cleanup,
        }
    }
}

/// The call graph of one endpoint: callees ordered by the stage where they
/// usually start, then laid into stages: a callee joins the current stage
/// unless, where both were called, one of the stage's callees most often
/// ended before it started.
fn stages(e: &EpStats) -> Vec<Vec<CallModel>> {
    let mut order: Vec<usize> = (0..e.callees.len()).collect();
    let mean_stage = |i: usize| e.callees[i].stage_sum / e.callees[i].present as f64;
    order.sort_by(|&a, &b| mean_stage(a).total_cmp(&mean_stage(b)).then(a.cmp(&b)));
    let before = |a: usize, b: usize| -> bool {
        let (key, idx) = if a < b { ((a, b), 0) } else { ((b, a), 2) };
        e.pairs.get(&key).is_some_and(|t| {
            let (first, other) = (t[idx], t[2 - idx]);
            first > t[1] && first > other
        })
    };
    let mut layers: Vec<Vec<usize>> = Vec::new();
    for x in order {
        match layers.last_mut() {
            Some(layer) if !layer.iter().any(|&m| before(m, x)) => layer.push(x),
            _ => layers.push(vec![x]),
        }
    }
    layers
        .into_iter()
        .map(|layer| {
            layer
                .into_iter()
                .map(|i| {
                    let c = &e.callees[i];
                    let times = ((c.calls as f64 / c.present as f64).round() as u32).max(1);
                    CallModel {
                        target: c.target,
                        times,
                        parallel: times > 1 && 2 * c.multi_parallel >= c.multi.max(1),
                        probability: c.present as f64 / e.invocations as f64,
                    }
                })
                .collect()
        })
        .collect()
}

/// Removes call sites that close a cycle (depth-first, in endpoint order);
/// returns how many.
fn break_cycles(endpoints: &mut [EndpointModel]) -> u64 {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    fn visit(eps: &mut [EndpointModel], at: usize, mark: &mut [Mark], dropped: &mut u64) {
        mark[at] = Mark::Open;
        for s in 0..eps[at].stages.len() {
            let mut c = 0;
            while c < eps[at].stages[s].len() {
                let t = eps[at].stages[s][c].target;
                match mark[t] {
                    Mark::Open => {
                        eps[at].stages[s].remove(c);
                        *dropped += 1;
                        continue;
                    }
                    Mark::New => visit(eps, t, mark, dropped),
                    Mark::Done => {}
                }
                c += 1;
            }
        }
        eps[at].stages.retain(|s| !s.is_empty());
        mark[at] = Mark::Done;
    }
    let mut mark = vec![Mark::New; endpoints.len()];
    let mut dropped = 0;
    for i in 0..endpoints.len() {
        if mark[i] == Mark::New {
            visit(endpoints, i, &mut mark, &mut dropped);
        }
    }
    dropped
}
