//! Runs a resolved study: every grid point's replications, points in
//! parallel, each summarised as soon as it is done so memory holds only the
//! points in flight. Results come back in grid order and are identical
//! whatever the number of threads: a point is a self-contained computation
//! seeded by its coordinates.

use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;

use crate::config::study::{Point, Study};
use crate::model::Replications;
use crate::report::review::setup::{DesignParameters, Setup};
use crate::report::study::{Coordinates, PointResult, StudyResults, cdf, entries, series};
use crate::report::summarize;
use crate::study::resolved::resolved;

/// How a sweep ended.
#[derive(Debug)]
pub struct Outcome {
    /// The points that are done (reused or computed), in grid order.
    pub results: StudyResults,
    /// Every point is done.
    pub complete: bool,
    /// Points simulated in this run.
    pub computed: usize,
    /// Points taken from an earlier, interrupted run.
    pub reused: usize,
    /// Points that are the same system as another (`Point::same_as`), given
    /// its results in this run without being simulated.
    pub shared: usize,
}

/// Runs `study`; `done` is called (from worker threads) after each point.
pub fn run(study: &Study, done: &(dyn Fn() + Sync)) -> StudyResults {
    let never = AtomicBool::new(false);
    run_resumable(study, Vec::new(), &|_| done(), &never).results
}

/// Runs the points of `study` that `previous` (results of an earlier run of
/// the same study) does not hold. `finished` sees each new point as soon as
/// it is done, so the caller can save it; once `stop` is set no new point
/// starts (points in flight finish), and the outcome says what is missing.
/// A point that is the same system as an earlier one (`same_as`) is never
/// simulated: once that point is done, it gets its results (and `finished`
/// sees it too).
pub fn run_resumable(
    study: &Study,
    previous: Vec<PointResult>,
    finished: &(dyn Fn(&PointResult) + Sync),
    stop: &AtomicBool,
) -> Outcome {
    let all: Vec<usize> = (0..study.points.len()).collect();
    run_subset(study, &all, previous, finished, stop)
}

/// As [`run_resumable`], for the points `owned` only (a shard's share, grid
/// indices): the outcome holds those points and is complete when they are
/// all done. Points of `previous` outside `owned` are ignored. A point owned
/// whose `same_as` is not owned stays missing: a split keeps them together
/// ([`crate::study::shard::owned`]).
pub fn run_subset(
    study: &Study,
    owned: &[usize],
    previous: Vec<PointResult>,
    finished: &(dyn Fn(&PointResult) + Sync),
    stop: &AtomicBool,
) -> Outcome {
    let mut slots: Vec<Option<PointResult>> = vec![None; study.points.len()];
    let mut mine = vec![false; study.points.len()];
    for &i in owned {
        if let Some(m) = mine.get_mut(i) {
            *m = true;
        }
    }
    let mut reused = 0;
    for p in previous {
        if mine.get(p.index) == Some(&true) {
            let i = p.index;
            slots[i] = Some(p);
            reused += 1;
        }
    }
    let todo: Vec<usize> = (0..slots.len())
        .filter(|&i| mine[i] && slots[i].is_none() && study.points[i].same_as.is_none())
        .collect();
    let computed: Vec<PointResult> = todo
        .par_iter()
        .filter_map(|&index| {
            if stop.load(Ordering::SeqCst) {
                return None;
            }
            let result = run_point(index, &study.points[index]);
            finished(&result);
            Some(result)
        })
        .collect();
    let n_computed = computed.len();
    for p in computed {
        let i = p.index;
        slots[i] = Some(p);
    }
    let mut shared = 0;
    for (i, point) in study.points.iter().enumerate() {
        let Some(j) = point.same_as else { continue };
        if !mine[i] || slots[i].is_some() {
            continue;
        }
        if let Some(first) = &slots[j] {
            let result = same_system(i, point, first);
            finished(&result);
            slots[i] = Some(result);
            shared += 1;
        }
    }
    let complete = (0..slots.len()).all(|i| !mine[i] || slots[i].is_some());
    Outcome {
        results: results_of(study, slots.into_iter().flatten().collect()),
        complete,
        computed: n_computed,
        reused,
        shared,
    }
}

/// The results of point `index`, the same system as the point `first` ran:
/// its figures exactly, under its own coordinates.
fn same_system(index: usize, p: &Point, first: &PointResult) -> PointResult {
    PointResult {
        index,
        at: coordinates(p),
        same_as: p.same_as,
        not_applying: p.not_applying.clone(),
        ..first.clone()
    }
}

fn coordinates(p: &Point) -> Coordinates {
    Coordinates {
        design: p.design.clone(),
        rate_rps: p.rate,
        params: p.params.clone(),
    }
}

/// The study's results made of `points` (in grid order).
pub fn results_of(study: &Study, points: Vec<PointResult>) -> StudyResults {
    StudyResults {
        ztsim_version: env!("CARGO_PKG_VERSION").to_string(),
        name: study.name.clone(),
        title: study.title.clone(),
        topology: study.topology.clone(),
        designs: study.designs.clone(),
        rates: study.rates.clone(),
        focus_rate: study.focus_rate,
        blend_entries: study.blend_entries,
        params: study.params.clone(),
        replications: study.replications,
        slos: study.slos.clone(),
        setup: study.points.first().map(|p| {
            let designs = study
                .designs
                .iter()
                .zip(&study.design_inputs)
                .map(|(name, input)| {
                    let mut d = DesignParameters::from_file(name, &input.text);
                    if let Some(q) = study.points.iter().find(|q| q.design == *name) {
                        d.resolved = resolved(&q.design_model, input, &d.parameters);
                    }
                    d
                })
                .collect();
            Setup::new(&p.topology, designs)
        }),
        partial_of: None,
        points,
    }
}

/// One point: its replications, summarised.
fn run_point(index: usize, p: &Point) -> PointResult {
    let runs = Replications::of(&p.topology, &p.design_model);
    let profile = match &p.topology.workload.arrivals {
        crate::model::topology::Arrivals::Profile { profile, .. } => Some(profile),
        _ => None,
    };
    PointResult {
        index,
        at: coordinates(p),
        seed: p.topology.workload.seed,
        same_as: None,
        not_applying: p.not_applying.clone(),
        summary: summarize(&p.topology, &p.design_model, &runs.runs),
        replications: runs
            .runs
            .iter()
            .map(|r| summarize(&p.topology, &p.design_model, std::slice::from_ref(r)))
            .collect(),
        cdf: cdf(&runs.pooled),
        series: series(&runs.runs, profile),
        entries: entries(&p.topology, &runs.runs, &runs.pooled_entries, profile),
    }
}

/// Simulated requests the study will generate (open loop: rate x (warm-up +
/// duration) x replications), to say up front how big it is.
pub fn estimated_requests(study: &Study) -> f64 {
    study
        .points
        .iter()
        .filter(|p| p.same_as.is_none())
        .map(point_requests)
        .sum()
}

/// Simulated requests of one point, all replications.
pub fn point_requests(p: &Point) -> f64 {
    use crate::model::topology::{Arrivals, Window};
    let w = &p.topology.workload;
    let per_rep = match (&w.arrivals, w.window) {
        (Arrivals::Poisson { rate } | Arrivals::Constant { rate }, Window::Duration(d)) => {
            rate * (w.warmup + d) as f64 * 1e-9
        }
        (Arrivals::Profile { profile, .. }, Window::Duration(d)) => {
            profile.integral(0, w.warmup.saturating_add(d))
        }
        (_, Window::Requests(n)) => n as f64,
        (Arrivals::Replay { times, speed, .. }, Window::Duration(d)) => {
            crate::model::guard::replayed(times, *speed, w.warmup.saturating_add(d)) as f64
        }
        // A user sends at most once per think time.
        (Arrivals::Closed { users, think }, Window::Duration(d)) => {
            f64::from(*users) * (w.warmup + d) as f64 / think.mean().max(1e6)
        }
    };
    per_rep * f64::from(w.replications)
}
