//! Runs a resolved study: every grid point's replications, points in
//! parallel, each summarised as soon as it is done so memory holds only the
//! points in flight. Results come back in grid order and are identical
//! whatever the number of threads: a point is a self-contained computation
//! seeded by its coordinates.

use rayon::prelude::*;

use crate::config::study::Study;
use crate::model::sim::simulate;
use crate::report::study::{Coordinates, PointResult, StudyResults, cdf, series};
use crate::report::summarize;

/// Runs `study`; `done` is called (from worker threads) after each point.
pub fn run(study: &Study, done: &(dyn Fn() + Sync)) -> StudyResults {
    let points = study
        .points
        .par_iter()
        .enumerate()
        .map(|(index, p)| {
            let runs: Vec<_> = (0..p.topology.workload.replications)
                .map(|r| simulate(&p.topology, &p.design_model, r))
                .collect();
            let result = PointResult {
                index,
                at: Coordinates {
                    design: p.design.clone(),
                    rate_rps: p.rate,
                    params: p.params.clone(),
                },
                seed: p.topology.workload.seed,
                summary: summarize(&p.topology, &p.design_model, &runs),
                replications: runs
                    .iter()
                    .map(|r| summarize(&p.topology, &p.design_model, std::slice::from_ref(r)))
                    .collect(),
                cdf: cdf(&runs),
                series: series(&runs),
            };
            done();
            result
        })
        .collect();
    StudyResults {
        ztsim_version: env!("CARGO_PKG_VERSION").to_string(),
        name: study.name.clone(),
        title: study.title.clone(),
        topology: study.topology.clone(),
        designs: study.designs.clone(),
        rates: study.rates.clone(),
        focus_rate: study.focus_rate,
        params: study.params.clone(),
        replications: study.replications,
        points,
    }
}

/// Simulated requests the study will generate (open loop: rate x (warm-up +
/// duration) x replications), to say up front how big it is.
pub fn estimated_requests(study: &Study) -> f64 {
    use crate::model::topology::{Arrivals, Window};
    study
        .points
        .iter()
        .map(|p| {
            let w = &p.topology.workload;
            let per_rep = match (&w.arrivals, w.window) {
                (Arrivals::Poisson { rate } | Arrivals::Constant { rate }, Window::Duration(d)) => {
                    rate * (w.warmup + d) as f64 * 1e-9
                }
                (_, Window::Requests(n)) => n as f64,
                // A user sends at most once per think time.
                (Arrivals::Closed { users, think }, Window::Duration(d)) => {
                    f64::from(*users) * (w.warmup + d) as f64 / think.mean().max(1e6)
                }
            };
            per_rep * f64::from(w.replications)
        })
        .sum()
}
