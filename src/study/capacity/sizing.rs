//! Sizing: the fewest replicas (or cores per replica) of each service that
//! meet every SLO at a target rate. Start from the busy cores measured at a
//! roomy probe size, grow the service requests wait longest for, then shrink
//! back what was grown while the SLOs still hold.

use std::collections::HashMap;

use super::point::{
    Evaluation, LIGHT_LOAD, Load, Search, at_rate, binding_at, evaluate, figures_text, round_sig,
};
use crate::model::design::{AuthzMode, ProxyMode};
use crate::model::metrics::StationOwner;
use crate::model::{Design, Topology};
use crate::report::capacity::{ServiceSize, SizeBy, Sizing, SizingStep};
use crate::report::slo::{Slo, Verdict};
use crate::study::progress::{Silent, Tally};
use crate::units::Millicores;

/// Sizing counts whole cores (it grows a service one core or one replica
/// at a time, and prices whole vCPUs): the first allowance of a fraction of
/// a core that a sizing of `topo` under `design` would count, as the key
/// that gives it and its value. Callers refuse such a sizing.
pub fn fractional_cores(topo: &Topology, design: &Design) -> Option<(String, Millicores)> {
    let services = topo.services.iter().filter(|s| s.external.is_none());
    if let Some(s) = services.clone().find(|s| s.cores.as_whole().is_none()) {
        return Some((format!("services.{}.cores", s.name), s.cores));
    }
    let fraction = |m: Millicores| m.as_whole().is_none();
    for (s, _) in services.enumerate() {
        let d = design.of(s as u32);
        if has_sidecar(d) && fraction(d.proxy.cost.cores) {
            return Some(("proxy.cores".into(), d.proxy.cost.cores));
        }
        if d.authz.mode == AuthzMode::Sidecar && fraction(d.authz.sidecar_cores) {
            return Some(("authz.sidecar_cores".into(), d.authz.sidecar_cores));
        }
    }
    None
}

fn has_sidecar(design: &Design) -> bool {
    design.proxy.mode == ProxyMode::Sidecar && !design.proxy.shares_service_cores
}

/// Whole cores of an allowance (rounded up: sizing is refused beforehand
/// when one is a fraction, [`fractional_cores`]).
fn whole(m: Millicores) -> u32 {
    m.servers()
}

/// Cores each replica brings besides its own: a sidecar proxy with cores of
/// its own, a policy sidecar.
fn per_replica_proxy_cores(design: &Design) -> u32 {
    let sidecar = if has_sidecar(design) {
        whole(design.proxy.cost.cores)
    } else {
        0
    };
    let policy = if design.authz.mode == AuthzMode::Sidecar {
        whole(design.authz.sidecar_cores)
    } else {
        0
    };
    sidecar + policy
}

/// Most configurations one sizing evaluates while growing.
const MAX_GROWTH: usize = 40;

/// The sizing search's state: the topology at the target rate and the
/// current count of each service.
struct Sizer<'a> {
    topo: Topology,
    design: &'a Design,
    slos: &'a [Slo],
    search: &'a Search,
    by: SizeBy,
    runs: usize,
    steps: Vec<SizingStep>,
    /// Told of each evaluation, as task `task` (no bound: a sizing grows
    /// until the SLOs hold).
    tally: &'a Tally<'a>,
    task: usize,
    /// Every size evaluated at the target rate: a size tried again (a
    /// shrink back to a size the growth passed through) is the same
    /// simulation on the same seed, so it is looked up rather than rerun.
    seen: HashMap<Vec<u32>, Evaluation>,
}

impl Sizer<'_> {
    fn sized(&self, counts: &[u32]) -> Topology {
        let mut t = self.topo.clone();
        for (s, &n) in t.services.iter_mut().zip(counts) {
            match self.by {
                SizeBy::Replicas => s.replicas = n,
                SizeBy::Cores => s.cores = Millicores::whole(n),
            }
        }
        t
    }

    /// Runs `topo` as one evaluation of this sizing, told to the tally as
    /// `what`.
    fn run(&mut self, topo: &Topology, search: &Search, what: &str) -> Evaluation {
        self.tally.doing(&format!("{}: {what}", self.design.name));
        let e = evaluate(
            topo,
            self.design,
            self.slos,
            search,
            self.tally.running() == 1,
        );
        self.runs += e.point.replications as usize;
        self.tally.done(self.task, None);
        e
    }

    fn evaluate(&mut self, counts: &[u32], action: String) -> Evaluation {
        let e = match self.seen.get(counts) {
            Some(e) => e.clone(),
            None => {
                let e = self.run(&self.sized(counts), self.search, &action);
                self.seen.insert(counts.to_vec(), e.clone());
                e
            }
        };
        self.steps.push(SizingStep {
            action,
            counts: counts.to_vec(),
            verdict: e.point.verdict,
            replications: e.point.replications,
            kept: false,
        });
        e
    }

    /// Marks the last configuration evaluated as the one the search moves to.
    fn keep_last(&mut self) {
        if let Some(s) = self.steps.last_mut() {
            s.kept = true;
        }
    }

    /// The service whose count would relieve this group of cores, if any.
    fn service_of(&self, owner: StationOwner) -> Option<usize> {
        match (owner, self.by) {
            (StationOwner::Service(s), _) => Some(s as usize),
            (StationOwner::Sidecar(s) | StationOwner::PolicySidecar(s), SizeBy::Replicas) => {
                Some(s as usize)
            }
            _ => None,
        }
    }

    /// Per service, the smallest count at which every group of its cores
    /// would be below 100% busy, from busy cores measured at `probe`.
    fn smallest_stable(&self, probe: &[u32], e: &Evaluation) -> Vec<u32> {
        let mut need = vec![1u32; self.topo.services.len()];
        for l in &e.loads {
            let Some(s) = self.service_of(l.owner) else {
                continue;
            };
            let svc = &self.topo.services[s];
            // Cores of this group per unit of the count.
            let per_unit = match (l.owner, self.by) {
                (StationOwner::Service(_), SizeBy::Replicas) => f64::from(whole(svc.cores)),
                (StationOwner::Service(_), SizeBy::Cores) => f64::from(svc.replicas),
                // Sidecars: their cores now, spread over the replicas now.
                _ => (l.cores / f64::from(probe[s].max(1))).max(1.0),
            };
            let n = (l.busy_cores / per_unit).floor() + 1.0;
            need[s] = need[s].max(n.min(f64::from(u32::MAX / 2)) as u32);
        }
        need
    }
}

impl Sizer<'_> {
    /// Counts at which busy cores can be measured: business CPU alone leaves
    /// half the cores idle, and whatever still saturates is doubled (a few
    /// times at most). Returns them with their evaluation.
    fn probe(&mut self, before: &[u32], rate_rps: f64) -> (Vec<u32>, Evaluation) {
        let probe_search = Search {
            max_replications: self.search.replications,
            ..*self.search
        };
        let business = self.topo.offered_utilisation(rate_rps);
        let mut probe: Vec<u32> = before
            .iter()
            .zip(&business)
            .map(|(&n, &u)| {
                let want = (f64::from(n) * u / 0.5).ceil();
                n.max(want.min(f64::from(u32::MAX / 4)) as u32)
            })
            .collect();
        let mut measured = None;
        for _ in 0..8 {
            let e = self.run(&self.sized(&probe), &probe_search, "probe");
            let saturated = e.point.saturated;
            let mut raised = false;
            if saturated {
                for l in &e.loads {
                    if let Some(s) = self.service_of(l.owner)
                        && l.utilisation >= 0.9
                    {
                        probe[s] = probe[s].saturating_mul(2);
                        raised = true;
                    }
                }
            }
            measured = Some(e);
            if !saturated || !raised {
                break;
            }
        }
        (probe, measured.expect("the probe ran at least once"))
    }

    /// An SLO missed at light load is missed at any size: checked first (at
    /// a rate leaving the busiest cores of the probe ~10% busy), rather than
    /// growing services that cannot help. Returns why no size will do.
    fn light_load_floor(
        &mut self,
        probe: &[u32],
        measured: &Evaluation,
        rate_rps: f64,
    ) -> Option<String> {
        let busiest = measured.point.busiest_utilisation;
        let floor = if busiest > LIGHT_LOAD / 2.0 && !measured.point.saturated {
            let light = rate_rps * (LIGHT_LOAD / 2.0) / busiest;
            let t = at_rate(&self.sized(probe), light);
            self.run(&t, self.search, "light load").point
        } else {
            measured.point.clone()
        };
        (floor.verdict == Verdict::Missed && !floor.saturated).then(|| {
            format!(
                "missed even at light load ({} rps, busiest cores {:.0}% busy: {}): no size meets the SLOs",
                round_sig(floor.rate_rps, 3),
                100.0 * floor.busiest_utilisation,
                figures_text(self.slos, &floor)
            )
        })
    }

    /// Grows, one at a time, the service whose cores requests wait for
    /// longest until the SLOs are met (`last` is then the met evaluation);
    /// returns why it stopped short, if it did.
    fn grow(
        &mut self,
        counts: &mut [u32],
        grown: &mut [u32],
        last: &mut Evaluation,
    ) -> Option<String> {
        let by = self.by;
        let min_limit = self
            .slos
            .iter()
            .map(|s| s.limit_ms)
            .fold(f64::INFINITY, f64::min);
        let mut growth = 0;
        // Services whose last growth did not shorten the wait for their cores
        // (e.g. a caller's own fan-out queueing on its cores): not grown again.
        let mut futile = vec![false; counts.len()];
        while last.point.verdict != Verdict::Met {
            if growth >= MAX_GROWTH {
                return Some(format!(
                    "still not met after growing {MAX_GROWTH} times; the SLOs may need a different design"
                ));
            }
            // The group of cores requests wait for longest; utilisation breaks ties.
            let mut order: Vec<&Load> = last.loads.iter().collect();
            order.sort_by(|a, b| {
                b.queueing_ms
                    .total_cmp(&a.queueing_ms)
                    .then(b.utilisation.total_cmp(&a.utilisation))
            });
            if let Some(top) = order.first()
                && self.service_of(top.owner).is_none()
                && (last.point.saturated || top.utilisation >= 0.95)
            {
                return Some(format!(
                    "the bottleneck is `{}` ({:.0}% busy), which sizing by {} cannot grow",
                    top.name,
                    100.0 * top.utilisation,
                    by.name()
                ));
            }
            let candidate = order
                .iter()
                .find(|l| self.service_of(l.owner).is_some_and(|s| !futile[s]));
            let Some(top) = candidate else {
                return Some(format!(
                    "growing services no longer shortens the wait for cores: the SLOs are missed for reasons more {} cannot fix (latency at light load: handshakes, remote calls)",
                    by.name()
                ));
            };
            let s = self.service_of(top.owner).expect("a candidate is sizable");
            if top.queueing_ms < 0.01 * min_limit && !last.point.saturated {
                return Some(format!(
                    "requests wait only {:.3} ms per request for cores (most at `{}`): the SLOs are missed for reasons more {} cannot fix",
                    top.queueing_ms,
                    top.name,
                    by.name()
                ));
            }
            let (owner, waited) = (top.owner, top.queueing_ms);
            counts[s] += 1;
            growth += 1;
            let name = self.topo.services[s].name.clone();
            let e = self.evaluate(counts, format!("grow {name}"));
            let now = e
                .loads
                .iter()
                .find(|l| l.owner == owner)
                .map_or(0.0, |l| l.queueing_ms);
            if e.point.verdict != Verdict::Met && !last.point.saturated && now > 0.9 * waited {
                counts[s] -= 1;
                futile[s] = true;
                continue;
            }
            self.keep_last();
            grown[s] += 1;
            *last = e;
        }
        None
    }

    /// Shrinks each grown service back one at a time while the SLOs hold.
    fn shrink(&mut self, counts: &mut Vec<u32>, grown: &mut [u32], last: &mut Evaluation) {
        for s in 0..counts.len() {
            while grown[s] > 0 {
                let mut fewer = counts.clone();
                fewer[s] -= 1;
                let name = self.topo.services[s].name.clone();
                let e = self.evaluate(&fewer, format!("shrink {name}"));
                if e.point.verdict != Verdict::Met {
                    break;
                }
                self.keep_last();
                *counts = fewer;
                grown[s] -= 1;
                *last = e;
            }
        }
    }
}

/// Finds, for `design` at `rate_rps`, the smallest replica (or core) count
/// of each service that meets every SLO: each service starts at the smallest
/// count that keeps its cores below 100% busy (measured, security CPU
/// included); while the SLOs are missed, the service whose cores make
/// requests wait longest grows by one; then each grown service is shrunk
/// back one at a time while the SLOs still hold.
pub fn size_for_rate(
    topo: &Topology,
    design: &Design,
    slos: &[Slo],
    rate_rps: f64,
    by: SizeBy,
    search: &Search,
) -> Sizing {
    let tally = Tally::start(&Silent, 1, None);
    size_for_rate_in(topo, design, slos, (rate_rps, by), search, &tally, 0)
}

/// [`size_for_rate`] as task `task` of `tally`, each evaluation one unit.
pub(crate) fn size_for_rate_in(
    topo: &Topology,
    design: &Design,
    slos: &[Slo],
    (rate_rps, by): (f64, SizeBy),
    search: &Search,
    tally: &Tally,
    task: usize,
) -> Sizing {
    let t = at_rate(topo, rate_rps);
    let before: Vec<u32> = t
        .services
        .iter()
        .map(|s| match by {
            SizeBy::Replicas => s.replicas,
            SizeBy::Cores => whole(s.cores),
        })
        .collect();
    let mut sizer = Sizer {
        topo: t,
        design,
        slos,
        search,
        by,
        runs: 0,
        steps: Vec::new(),
        tally,
        task,
        seen: HashMap::new(),
    };
    let (probe, measured) = sizer.probe(&before, rate_rps);
    let mut counts = sizer.smallest_stable(&probe, &measured);
    let mut grown = vec![0u32; counts.len()];
    let mut note = sizer.light_load_floor(&probe, &measured, rate_rps);
    let mut last = sizer.evaluate(&counts, "start".into());
    sizer.keep_last();
    if note.is_none() {
        note = sizer.grow(&mut counts, &mut grown, &mut last);
    }
    if last.point.verdict == Verdict::Met {
        sizer.shrink(&mut counts, &mut grown, &mut last);
    }
    tally.ended(task);
    let services = sized_services(topo, design, by, &counts, &grown, &last);
    let extra = u64::from(per_replica_proxy_cores(design));
    let vcpu = |r: u32, c: u32| u64::from(r) * (u64::from(c) + extra);
    let vcpu_before = services
        .iter()
        .map(|z| vcpu(z.replicas_before, z.cores_before))
        .sum();
    let vcpu_after = services
        .iter()
        .map(|z| vcpu(z.replicas_after, z.cores_after))
        .sum();
    let fixed_vcpu = last
        .loads
        .iter()
        .filter(|l| matches!(l.owner, StationOwner::Node(_) | StationOwner::Waypoint))
        .map(|l| l.cores.round() as u64)
        .sum();
    Sizing {
        design: design.name.clone(),
        slos: slos.to_vec(),
        target_rps: rate_rps,
        size_by: by,
        met: last.point.verdict == Verdict::Met,
        services,
        vcpu_before,
        vcpu_after,
        fixed_vcpu,
        binding: binding_at(slos, Some(&last.point)),
        at_size: Some(last.point),
        runs: sizer.runs,
        note,
        steps: sizer.steps,
    }
}

/// Each service of `topo` before and at `counts`, in topology order.
fn sized_services(
    topo: &Topology,
    design: &Design,
    by: SizeBy,
    counts: &[u32],
    grown: &[u32],
    last: &Evaluation,
) -> Vec<ServiceSize> {
    let extra = i64::from(per_replica_proxy_cores(design));
    topo.services
        .iter()
        .enumerate()
        .filter(|(_, svc)| svc.external.is_none()) // nothing of ours to size
        .map(|(i, svc)| {
            let (ra, ca) = match by {
                SizeBy::Replicas => (counts[i], whole(svc.cores)),
                SizeBy::Cores => (svc.replicas, counts[i]),
            };
            let cores_added = i64::from(ra) * i64::from(ca)
                - i64::from(svc.replicas) * i64::from(whole(svc.cores));
            let proxies_added = (i64::from(ra) - i64::from(svc.replicas)) * extra;
            ServiceSize {
                service: svc.name.clone(),
                replicas_before: svc.replicas,
                cores_before: whole(svc.cores),
                replicas_after: ra,
                cores_after: ca,
                cores_added,
                vcpu_added: cores_added + proxies_added,
                grown: grown[i],
                utilisation: last
                    .loads
                    .iter()
                    .find(|l| l.owner == StationOwner::Service(i as u32))
                    .map_or(0.0, |l| l.utilisation),
            }
        })
        .collect()
}
