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
/// returns how many. Iterative: endpoints joined across many traces can form
/// a chain far deeper than any one trace, and the stack must not overflow.
fn break_cycles(endpoints: &mut [EndpointModel]) -> u64 {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    let mut mark = vec![Mark::New; endpoints.len()];
    let mut dropped = 0;
    // (endpoint, stage, call site) of each endpoint being visited.
    let mut stack: Vec<(usize, usize, usize)> = Vec::new();
    for i in 0..endpoints.len() {
        if mark[i] != Mark::New {
            continue;
        }
        mark[i] = Mark::Open;
        stack.push((i, 0, 0));
        while let Some(&(at, s, c)) = stack.last() {
            let top = stack.len() - 1;
            let stages = &mut endpoints[at].stages;
            if s == stages.len() {
                stages.retain(|s| !s.is_empty());
                mark[at] = Mark::Done;
                stack.pop();
            } else if c == stages[s].len() {
                stack[top] = (at, s + 1, 0);
            } else {
                let t = stages[s][c].target;
                match mark[t] {
                    Mark::Open => {
                        stages[s].remove(c);
                        dropped += 1;
                    }
                    Mark::New => {
                        stack[top] = (at, s, c + 1);
                        mark[t] = Mark::Open;
                        stack.push((t, 0, 0));
                    }
                    Mark::Done => stack[top] = (at, s, c + 1),
                }
            }
        }
    }
    dropped
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Endpoints whose stages call `targets` (one call site per stage).
    fn graph(targets: &[Vec<usize>]) -> Vec<EndpointModel> {
        targets
            .iter()
            .enumerate()
            .map(|(i, ts)| EndpointModel {
                service: 0,
                raw: format!("e{i}"),
                name: format!("e{i}"),
                invocations: 1,
                cpu: Vec::new(),
                mean_self: 0.0,
                request_size: None,
                response_size: None,
                stages: ts
                    .iter()
                    .map(|&target| {
                        vec![CallModel {
                            target,
                            times: 1,
                            parallel: false,
                            probability: 1.0,
                        }]
                    })
                    .collect(),
            })
            .collect()
    }

    fn targets(eps: &[EndpointModel]) -> Vec<Vec<usize>> {
        eps.iter()
            .map(|e| e.stages.iter().flatten().map(|c| c.target).collect())
            .collect()
    }

    /// Depth-first from endpoint 0: B -> A and C -> A close cycles and go
    /// (with their now empty stages); A -> B and B -> C stay.
    #[test]
    fn drops_exactly_the_call_sites_that_close_a_cycle() {
        let mut eps = graph(&[vec![1], vec![0, 2], vec![0]]);
        assert_eq!(break_cycles(&mut eps), 2);
        assert_eq!(targets(&eps), [vec![1], vec![2], vec![]]);
        assert!(eps.iter().all(|e| e.stages.iter().all(|s| !s.is_empty())));
    }

    /// A chain far deeper than any stack, closed into a ring: one call site
    /// goes, the chain stays.
    #[test]
    fn a_chain_of_200_000_endpoints_does_not_overflow() {
        let n = 200_000;
        let mut eps = graph(&(0..n).map(|i| vec![(i + 1) % n]).collect::<Vec<_>>());
        assert_eq!(break_cycles(&mut eps), 1);
        assert!(eps[n - 1].stages.is_empty());
        assert_eq!(eps[n - 2].stages[0][0].target, n - 1);
    }
}
