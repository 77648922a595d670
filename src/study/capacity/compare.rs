//! `ztsim capacity`'s work: every design of one topology searched (or
//! sized) in parallel, side by side in one report, the plaintext baseline
//! first when it is there.

use rayon::prelude::*;

use super::point::Search;
use super::rate::rate_capacity_in;
use super::sizing::size_for_rate_in;
use crate::model::{Design, Topology};
use crate::report::capacity::{CONFIDENCE, CapacityReport, PointSettings, SizingReport};
use crate::report::capacity::{HOURS_PER_MONTH, SizeBy};
use crate::report::slo::Slo;
use crate::study::progress::{Progress, Tally};

/// The settings every point of a search shares, as the report shows them.
fn settings(topo: &Topology, search: &Search) -> PointSettings {
    let w = &topo.workload;
    PointSettings {
        warmup_s: w.warmup as f64 * 1e-9,
        duration_s: w.window.duration_s(),
        requests: w.window.requests(),
        seed: w.seed,
        replications: search.replications,
        max_replications: search.max_replications,
    }
}

/// Each design's highest rate within `slos` on `topo`; `progress` counts
/// the points evaluated, bounded once every design's bracket is found.
pub fn capacity_report(
    topo: &Topology,
    designs: &[Design],
    slos: Vec<Slo>,
    search: &Search,
    progress: &dyn Progress,
) -> CapacityReport {
    let tally = Tally::start(progress, designs.len(), None);
    let found = designs
        .par_iter()
        .enumerate()
        .map(|(i, d)| rate_capacity_in(topo, d, &slos, search, &tally, i))
        .collect();
    tally.finish();
    CapacityReport {
        ztsim_version: env!("CARGO_PKG_VERSION").to_string(),
        topology: topo.name.clone(),
        slos,
        resolution: search.resolution,
        settings: settings(topo, search),
        confidence: CONFIDENCE.to_string(),
        designs: found,
    }
}

/// What a sizing is asked for.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    /// Offered rate, requests per second.
    pub rate_rps: f64,
    /// What is sized.
    pub by: SizeBy,
    /// Price of one vCPU for one hour, for monthly costs.
    pub price_per_vcpu_hour: Option<f64>,
}

/// Each design sized for `target` within `slos` on `topo`, compared with
/// the plaintext baseline when it is the first design; `progress` counts
/// the sizes evaluated (no bound: a sizing grows until the SLOs hold).
pub fn sizing_report(
    topo: &Topology,
    designs: &[Design],
    slos: Vec<Slo>,
    target: Target,
    search: &Search,
    progress: &dyn Progress,
) -> SizingReport {
    let tally = Tally::start(progress, designs.len(), None);
    let at = (target.rate_rps, target.by);
    let found = designs
        .par_iter()
        .enumerate()
        .map(|(i, d)| size_for_rate_in(topo, d, &slos, at, search, &tally, i))
        .collect();
    tally.finish();
    let mut r = SizingReport {
        ztsim_version: env!("CARGO_PKG_VERSION").to_string(),
        topology: topo.name.clone(),
        slos,
        target_rps: target.rate_rps,
        size_by: target.by,
        price_per_vcpu_hour: target.price_per_vcpu_hour,
        hours_per_month: HOURS_PER_MONTH,
        settings: settings(topo, search),
        confidence: CONFIDENCE.to_string(),
        designs: found,
        versus_baseline: Vec::new(),
    };
    let baseline = designs
        .first()
        .is_some_and(|d| *d == Design::plaintext())
        .then_some(0);
    r.compare_with(baseline);
    r
}
