//! `ztsim migrate`: a rollout from one design to another, one group of
//! services at a time (docs/migration.md). Each step moves a unit (a
//! namespace, or a service when the topology has no namespaces) to the
//! target design in permissive mode; a moved service turns strict in the
//! step its last caller moves. Every step is a design with overrides
//! ([`Rollout::design`]) run like any other, judged against the SLOs.
//!
//! Orders: callees first by default (a unit moves once every unit it calls
//! has), by hand (`Order::Given`), or searched (`Order::Auto`): every set of
//! moved units is a state whose verdict and added cores do not depend on
//! the order that reached it, so the search evaluates each set once, keeps
//! those within the SLOs from which the full set can still be reached
//! through sets within the SLOs, and walks from the empty set taking at
//! each step the move that adds the fewest cores (ties: fewest busy cores,
//! then the unit listed first). It is exact (it says when no order exists)
//! and deterministic, and costs one evaluation per set: at most
//! [`MAX_AUTO_UNITS`] units.

use crate::model::Topology;
use crate::model::design::{Design, Mode, Overrides};
pub use crate::report::migration::Capacity;
use crate::report::migration::{EntryAt, Migration, Step, StepAt};
use crate::report::slo::{Slo, Verdict};
use crate::study::capacity::{Search, at_rate, evaluate, rate_capacity};
use crate::study::progress::{Progress, Silent};

/// Units `--order auto` searches at most (2^units evaluations per rate).
pub const MAX_AUTO_UNITS: usize = 10;

/// What moves together: a namespace, or a service.
#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    /// The namespace's or the service's name.
    pub name: String,
    /// Its services (indices into `Topology::services`).
    pub services: Vec<usize>,
}

/// How the steps are ordered.
#[derive(Debug, Clone)]
pub enum Order {
    /// Callees first.
    Callees,
    /// These steps, each a name and its services (indices into
    /// `Topology::services`), as the file named last gave them.
    Given(Vec<(String, Vec<usize>)>, String),
    /// The search of the module docs.
    Auto,
}

/// The units of `topo`: its namespaces (a service without one is a unit of
/// its own) or, without namespaces, its services; never external services.
pub fn units(topo: &Topology) -> Vec<Unit> {
    let ours = || {
        topo.services
            .iter()
            .enumerate()
            .filter(|(_, s)| s.external.is_none())
    };
    let mut units: Vec<Unit> = Vec::new();
    for (i, s) in ours() {
        match &s.namespace {
            Some(ns) => match units.iter_mut().find(|u| &u.name == ns) {
                Some(u) => u.services.push(i),
                None => units.push(Unit {
                    name: ns.clone(),
                    services: vec![i],
                }),
            },
            None => units.push(Unit {
                name: s.name.clone(),
                services: vec![i],
            }),
        }
    }
    units
}

/// For each service, the services that call it.
fn callers(topo: &Topology) -> Vec<Vec<usize>> {
    let mut callers = vec![Vec::new(); topo.services.len()];
    for &(a, b) in &topo.edges {
        let (a, b) = (
            topo.endpoints[a as usize].service as usize,
            topo.endpoints[b as usize].service as usize,
        );
        if a != b && !callers[b].contains(&a) {
            callers[b].push(a);
        }
    }
    callers
}

/// Callees first: each step moves the first unit (in listed order) whose
/// callees have all moved; in a cycle of units, the one with the fewest
/// callees left.
pub fn callees_first(topo: &Topology, units: &[Unit]) -> Vec<usize> {
    let callers = callers(topo);
    let unit_of = |s: usize| units.iter().position(|u| u.services.contains(&s));
    // calls[u][v]: a service of u calls one of v.
    let n = units.len();
    let mut calls = vec![vec![false; n]; n];
    for (callee, cs) in callers.iter().enumerate() {
        for &caller in cs {
            if let (Some(u), Some(v)) = (unit_of(caller), unit_of(callee))
                && u != v
            {
                calls[u][v] = true;
            }
        }
    }
    let mut moved = vec![false; n];
    let mut order = Vec::new();
    while order.len() < n {
        let left = |u: usize| (0..n).filter(|&v| calls[u][v] && !moved[v]).count();
        let next = (0..n)
            .filter(|&u| !moved[u])
            .min_by_key(|&u| (left(u), u))
            .expect("a unit is left");
        moved[next] = true;
        order.push(next);
    }
    order
}

/// The designs of a rollout's steps on one topology.
pub struct Rollout<'a> {
    from: &'a Design,
    to: &'a Design,
    /// For each service, the services that call it.
    callers: Vec<Vec<usize>>,
}

impl<'a> Rollout<'a> {
    /// A rollout of `topo` from `from` to `to`.
    pub fn new(topo: &Topology, from: &'a Design, to: &'a Design) -> Self {
        Rollout {
            from,
            to,
            callers: callers(topo),
        }
    }

    /// The system with `moved` services (by index) under `to`, permissive
    /// until every caller of theirs has moved, then strict; the rest under
    /// `from`.
    pub fn design(&self, moved: &[bool]) -> Design {
        let of_service = self
            .callers
            .iter()
            .enumerate()
            .map(|(s, callers)| moved[s].then(|| u32::from(callers.iter().all(|&c| moved[c]))))
            .collect();
        let mode = |m| Design {
            mode: m,
            overrides: None,
            ..self.to.clone()
        };
        Design {
            overrides: Some(Box::new(Overrides {
                designs: vec![mode(Mode::Permissive), mode(Mode::Strict)],
                of_service,
            })),
            ..self.from.clone()
        }
    }
}

/// A step's figures at one rate, before comparing with step 0.
struct Judged {
    at: StepAt,
    busy_cores: f64,
}

/// Runs `design` on `topo` at `rate` until the SLO verdict is decided (or
/// the replication cap is reached), as a capacity search judges a point.
/// Points are judged one at a time, so idle threads may run ahead.
fn judge(topo: &Topology, design: &Design, rate: f64, slos: &[Slo], search: &Search) -> Judged {
    let e = evaluate(&at_rate(topo, rate), design, slos, search, true);
    let entries = e
        .summary
        .endpoints
        .iter()
        .map(|x| EntryAt {
            endpoint: x.name.clone(),
            p99_ms: x.latency_ms.as_ref().map(|l| l.p99),
            mean_ms: x.latency_ms.as_ref().map(|l| l.mean),
            failed_ratio: x.failed_ratio.mean,
        })
        .collect();
    let p = e.point;
    let busiest = p.busiest_utilisation;
    Judged {
        at: StepAt {
            rate_rps: rate,
            replications: p.replications,
            verdict: p.verdict,
            saturated: p.saturated,
            figures_ms: p.figures_ms,
            entries,
            capacity_rps: (!p.saturated && busiest > 0.0).then(|| rate / busiest),
            capacity: Capacity::Bound,
            cores: e.cores,
            cores_added: 0.0,
            busy_cores_added: 0.0,
            refused_per_request: e.summary.security.refused.map_or(0.0, |r| r.mean),
        },
        busy_cores: e.busy_cores,
    }
}

/// Everything `migrate` needs besides the topology.
pub struct Plan<'a> {
    /// Before.
    pub from: &'a Design,
    /// After.
    pub to: &'a Design,
    /// How steps are ordered.
    pub order: Order,
    /// The objectives.
    pub slos: &'a [Slo],
    /// Offered rates, ascending (at least one).
    pub rates: &'a [f64],
    /// Replications, as a capacity search's points.
    pub search: Search,
    /// What capacity each step reports.
    pub capacity: Capacity,
}

/// The moved services after the first `k` steps.
fn moved_after(topo: &Topology, steps: &[(String, Vec<usize>)], k: usize) -> Vec<bool> {
    let mut moved = vec![false; topo.services.len()];
    for (_, services) in &steps[..k] {
        for &s in services {
            moved[s] = true;
        }
    }
    moved
}

/// Every step of the rollout `plan` describes, judged at each rate.
pub fn migrate(topo: &Topology, plan: &Plan) -> Migration {
    migrate_told(topo, plan, &Silent)
}

/// How many evaluations [`migrate`] runs: each set of moved units for
/// `--order auto`, then each step (the start included) at each rate, its
/// capacity search, if any, part of it.
fn evaluations(plan: &Plan, units: usize) -> u64 {
    let (sets, steps) = match &plan.order {
        Order::Auto => (1u64 << units, units),
        Order::Callees => (0, units),
        Order::Given(steps, _) => (0, steps.len()),
    };
    sets + (steps as u64 + 1) * plan.rates.len() as u64
}

/// [`migrate`], telling `progress` of each evaluation.
pub fn migrate_told(topo: &Topology, plan: &Plan, progress: &dyn Progress) -> Migration {
    let units = units(topo);
    progress.start(Some(evaluations(plan, units.len())), 0);
    let rollout = Rollout::new(topo, plan.from, plan.to);
    let top = *plan.rates.last().expect("at least one rate");
    let of_units = |order: Vec<usize>| -> Vec<(String, Vec<usize>)> {
        order
            .into_iter()
            .map(|u| (units[u].name.clone(), units[u].services.clone()))
            .collect()
    };
    let (steps, order, note) = match &plan.order {
        Order::Callees => (
            of_units(callees_first(topo, &units)),
            "callees first".to_string(),
            None,
        ),
        Order::Given(steps, file) => (steps.clone(), format!("in the order of {file}"), None),
        Order::Auto => match auto(topo, &units, &rollout, plan, top, progress) {
            Ok(order) => (
                of_units(order),
                format!(
                    "searched order (within the SLOs at {top} rps, fewest cores added at each step)"
                ),
                None,
            ),
            Err(why) => (
                of_units(callees_first(topo, &units)),
                "callees first".to_string(),
                Some(why),
            ),
        },
    };
    let name = |s: usize| topo.services[s].name.clone();
    let mut base: Vec<Judged> = Vec::new();
    let mut out = Vec::new();
    for k in 0..=steps.len() {
        let moved = moved_after(topo, &steps, k);
        let design = Design {
            name: format!("step {k}"),
            ..rollout.design(&moved)
        };
        let strict = design.overrides.as_ref().map_or(Vec::new(), |o| {
            (0..topo.services.len())
                .filter(|&s| o.of_service[s] == Some(1))
                .map(name)
                .collect()
        });
        let mut at = Vec::new();
        for (i, &rate) in plan.rates.iter().enumerate() {
            progress.doing(&format!("step {k} of {} at {rate} rps", steps.len()));
            let mut j = judge(topo, &design, rate, plan.slos, &plan.search);
            if plan.capacity == Capacity::Search && !plan.slos.is_empty() {
                let c = rate_capacity(topo, &design, plan.slos, &plan.search);
                j.at.capacity_rps = c.met_rps;
                j.at.capacity = Capacity::Search;
            } else if plan.capacity == Capacity::None {
                j.at.capacity_rps = None;
                j.at.capacity = Capacity::None;
            }
            if k == 0 {
                base.push(Judged {
                    at: j.at.clone(),
                    busy_cores: j.busy_cores,
                });
            }
            j.at.cores_added = j.at.cores - base[i].at.cores;
            j.at.busy_cores_added = j.busy_cores - base[i].busy_cores;
            at.push(j.at);
            progress.point_done();
        }
        out.push(Step {
            index: k as u32,
            moves: if k == 0 {
                Vec::new()
            } else {
                vec![steps[k - 1].0.clone()]
            },
            moved: (0..topo.services.len())
                .filter(|&s| moved[s])
                .map(name)
                .collect(),
            strict,
            at,
        });
    }
    progress.finish();
    Migration {
        topology: topo.name.clone(),
        from: plan.from.name.clone(),
        to: plan.to.name.clone(),
        slos: plan.slos.to_vec(),
        order,
        note,
        price_per_vcpu_hour: None,
        steps: out,
    }
}

/// The searched order (module docs), or why there is none.
fn auto(
    topo: &Topology,
    units: &[Unit],
    rollout: &Rollout,
    plan: &Plan,
    rate: f64,
    progress: &dyn Progress,
) -> Result<Vec<usize>, String> {
    let n = units.len();
    let full = (1usize << n) - 1;
    // Each set of moved units: within the SLOs, and its added cores.
    let judged: Vec<(bool, f64, f64)> = (0..=full)
        .map(|set| {
            let mut moved = vec![false; topo.services.len()];
            for (u, unit) in units.iter().enumerate() {
                if set & (1 << u) != 0 {
                    for &s in &unit.services {
                        moved[s] = true;
                    }
                }
            }
            progress.doing(&format!(
                "order: set {} of {} at {rate} rps",
                set + 1,
                full + 1
            ));
            let j = judge(topo, &rollout.design(&moved), rate, plan.slos, &plan.search);
            progress.point_done();
            (j.at.verdict == Verdict::Met, j.at.cores, j.busy_cores)
        })
        .collect();
    // reach[set]: the full set is reachable from it through sets within
    // the SLOs, one unit at a time.
    let mut reach = vec![false; full + 1];
    for set in (0..=full).rev() {
        reach[set] = judged[set].0
            && (set == full || (0..n).any(|u| set & (1 << u) == 0 && reach[set | (1 << u)]));
    }
    if !judged[0].0 {
        return Err(format!(
            "no order can keep every step within the SLOs at {rate} rps: the starting point misses them already"
        ));
    }
    if !judged[full].0 {
        return Err(format!(
            "no order can keep every step within the SLOs at {rate} rps: the last step (everything moved, strict) misses them"
        ));
    }
    if !reach[0] {
        return Err(format!(
            "no order can keep every step within the SLOs at {rate} rps: every order passes a step that misses them"
        ));
    }
    let mut set = 0;
    let mut order = Vec::new();
    while set != full {
        let next = (0..n)
            .filter(|&u| set & (1 << u) == 0 && reach[set | (1 << u)])
            .min_by(|&a, &b| {
                let (ja, jb) = (judged[set | (1 << a)], judged[set | (1 << b)]);
                ja.1.total_cmp(&jb.1)
                    .then(ja.2.total_cmp(&jb.2))
                    .then(a.cmp(&b))
            })
            .expect("a reachable set has a reachable next");
        set |= 1 << next;
        order.push(next);
    }
    Ok(order)
}
