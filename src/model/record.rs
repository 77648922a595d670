//! Traces of chosen requests: which requests to show (the slowest and a
//! seeded sample), and the timeline of every call and phase of each, as plain
//! data for the report layer to write as Jaeger or OTLP JSON.
//!
//! Recording costs nothing when off: the simulation is generic over its
//! probe, and the normal run's is a zero-sized no-op. A run picks requests
//! with a small [`Selector`] only when asked, and the simulation is deterministic, so the
//! replications holding picked requests are run again with a [`Recorder`]
//! that follows only those requests' calls. The re-run is identical to the
//! first: recording reads the state, never changes it.
//!
//! The data lives in `timeline.rs` and the probes in `probe.rs`; both are
//! re-exported here, where they have always been found.

use std::cmp::Reverse;

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::design::Design;
use super::probe::Probes;
pub use super::probe::{Recorder, Selector};
use super::replication::Replications;
use super::sim::Simulation;
pub use super::timeline::{
    CallKind, CallTrace, HandshakeKind, Phase, Pick, RequestTrace, Side, Step,
};
use super::topology::Topology;
use crate::units::Nanos;

/// Runs every replication like [`super::run_replications`] and picks, over
/// all of them, the `k` slowest successful measured requests (ties: earlier
/// replication and request first) and a uniform random sample of `m` of the
/// others, deterministic by seed. Picks are sorted slowest first, then the
/// sample in replication and request order.
pub fn run_and_pick(
    topo: &Topology,
    design: &Design,
    k: usize,
    m: usize,
) -> (Replications, Vec<Pick>) {
    let mut runs = Replications::default();
    let selectors = runs.add((0..topo.workload.replications).into_par_iter().map(|r| {
        let probe = Probes {
            selector: Some(Selector::new(k, m)),
            ..Probes::default()
        };
        let (metrics, probe) = Simulation::with_probe(topo, design, r, probe).run_probed();
        (metrics, probe.selector.unwrap_or_default())
    }));
    let mut slowest: Vec<(Reverse<Nanos>, u32, u64)> = Vec::new();
    let mut sample: Vec<(u64, u32, u64)> = Vec::new();
    let mut latency: FxHashMap<(u32, u64), Nanos> = FxHashMap::default();
    for (r, sel) in selectors.into_iter().enumerate() {
        let r = r as u32;
        slowest.extend(
            sel.slowest
                .iter()
                .map(|Reverse((l, Reverse(q)))| (Reverse(*l), r, *q)),
        );
        sample.extend(sel.sample.iter().map(|&(h, q)| (h, r, q)));
        latency.extend(sel.latency.iter().map(|(&q, &l)| ((r, q), l)));
    }
    slowest.sort_unstable();
    slowest.truncate(k);
    sample.sort_unstable();
    let mut picks: Vec<Pick> = slowest
        .iter()
        .map(|&(Reverse(l), r, q)| Pick {
            replication: r,
            request: q,
            latency: l,
            slowest: true,
            sampled: false,
        })
        .collect();
    let mut sampled: Vec<Pick> = Vec::new();
    for &(_, r, q) in &sample {
        if sampled.len() == m {
            break;
        }
        match picks
            .iter_mut()
            .find(|p| (p.replication, p.request) == (r, q))
        {
            Some(p) => p.sampled = true,
            None => sampled.push(Pick {
                replication: r,
                request: q,
                latency: latency[&(r, q)],
                slowest: false,
                sampled: true,
            }),
        }
    }
    sampled.sort_unstable_by_key(|p| (p.replication, p.request));
    picks.extend(sampled);
    (runs, picks)
}

/// The traces of `picks` under `design`: each replication holding picks is
/// run again with a recorder. Picks whose request did not succeed under this
/// design are left out. In pick order.
pub fn record(topo: &Topology, design: &Design, picks: &[Pick]) -> Vec<RequestTrace> {
    let mut reps: Vec<u32> = picks.iter().map(|p| p.replication).collect();
    reps.sort_unstable();
    reps.dedup();
    let traces: Vec<RequestTrace> = reps
        .into_par_iter()
        .flat_map_iter(|r| {
            let mine: Vec<Pick> = picks
                .iter()
                .filter(|p| p.replication == r)
                .copied()
                .collect();
            let probe = Probes {
                recorder: Some(Recorder::new(&mine)),
                ..Probes::default()
            };
            let (_, probe) = Simulation::with_probe(topo, design, r, probe).run_probed();
            probe.recorder.map_or_else(Vec::new, Recorder::into_traces)
        })
        .collect();
    picks
        .iter()
        .filter_map(|p| {
            traces
                .iter()
                .find(|t| (t.pick.replication, t.pick.request) == (p.replication, p.request))
                .cloned()
        })
        .collect()
}
