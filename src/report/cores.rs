//! The summary's figures of cores: each service's (its own, or its nodes'
//! when it runs on nodes) and every other group of cores (proxies, policy
//! sidecars, topology nodes, the load generator), with their names.

use serde::{Deserialize, Serialize};

use super::stats::Estimate;
use crate::model::Replication;
use crate::model::cost::{CPU_CATEGORIES, CPU_NAMES};
use crate::model::metrics::{StationMetrics, StationOwner};
use crate::model::topology::Topology;

const MS: f64 = 1e-6;

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// One service's cores.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServiceSummary {
    /// Service name.
    pub name: String,
    /// Replicas.
    pub replicas: u32,
    /// Cores per replica (a fraction as a number: 0.5); on nodes, its first
    /// node's.
    pub cores: crate::units::Millicores,
    /// The nodes it runs on (`node`, `nodes`), sharing their cores with the
    /// services there: its utilisation, offered utilisation, core wait and
    /// CPU are then those of all its nodes together. Empty: cores of its own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<String>,
    /// Measured busy share of all its cores, 0..1.
    pub utilisation: Estimate,
    /// rate x CPU demand per request / cores, from the model alone (open loop).
    pub offered_utilisation: Option<f64>,
    /// Mean wait for a core per CPU job, in ms.
    pub queueing_ms: Estimate,
    /// Share of the cores' capacity busy in each CPU category (business,
    /// handshake, bulk_crypto, jwt, authz, proxy); they add up to `utilisation`.
    pub cpu: Vec<CpuShare>,
    /// Share of the cores' capacity paused (`pauses`), not in `utilisation`;
    /// absent for cores that never pause.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused: Option<Estimate>,
}

/// Busy share of capacity in one CPU category.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CpuShare {
    /// Category name.
    pub category: String,
    /// Busy core-time in this category / core-time available.
    pub share: Estimate,
}

/// A group of proxy or policy cores (sidecars of a service, a zone's node
/// proxy, the waypoints).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProxySummary {
    /// What it is, e.g. `cart sidecars`, `node proxy az1`, `waypoints`.
    pub name: String,
    /// "sidecar", "policy-sidecar", "node-proxy" or "waypoint".
    pub kind: String,
    /// Instances in the group.
    pub instances: u32,
    /// Busy share of the group's cores.
    pub utilisation: Estimate,
    /// Mean wait for a core per CPU job, in ms.
    pub queueing_ms: Estimate,
    /// Split by CPU category, as for services.
    pub cpu: Vec<CpuShare>,
    /// Share of the group's capacity paused (the load generator's
    /// `client_pauses`); absent for cores that never pause.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused: Option<Estimate>,
}

/// A station group's display name and kind.
pub(super) fn owner_name(topo: &Topology, owner: StationOwner) -> (String, &'static str) {
    match owner {
        StationOwner::Service(s) => (topo.services[s as usize].name.clone(), "service"),
        StationOwner::Sidecar(s) => (
            format!("{} sidecars", topo.services[s as usize].name),
            "sidecar",
        ),
        StationOwner::PolicySidecar(s) => (
            format!("{} policy sidecars", topo.services[s as usize].name),
            "policy-sidecar",
        ),
        StationOwner::Node(z) => (
            format!("node proxies {}", topo.zones[z as usize]),
            "node-proxy",
        ),
        StationOwner::Host(n) => {
            let on: Vec<&str> = topo
                .services
                .iter()
                .filter(|s| s.nodes_used().contains(&n))
                .map(|s| s.name.as_str())
                .collect();
            let node = &topo.nodes[n as usize].name;
            (format!("node {node} ({})", on.join(", ")), "node")
        }
        StationOwner::Waypoint => ("waypoints".to_string(), "waypoint"),
        StationOwner::Client => ("load generator".to_string(), "client"),
        StationOwner::Workers(s) => {
            let svc = &topo.services[s as usize];
            let name = if svc.external.is_some() {
                format!("{} (its concurrency limit)", svc.name)
            } else {
                format!("{} worker threads", svc.name)
            };
            (name, "workers")
        }
    }
}

fn station_est(
    runs: &[Replication],
    owner: StationOwner,
    f: impl Fn(&StationMetrics) -> f64,
) -> Estimate {
    Estimate::over(runs, |r| r.station(owner).map_or(0.0, &f))
}

/// Each service's cores: utilisation (measured and offered), queueing, CPU.
pub(super) fn services(topo: &Topology, runs: &[Replication]) -> Vec<ServiceSummary> {
    let w = &topo.workload;
    let offered = w.arrivals.rate().map(|rate| topo.offered_utilisation(rate));
    topo.services
        .iter()
        .enumerate()
        .filter(|(_, s)| s.external.is_none()) // no cores of ours
        .map(|(i, s)| {
            let used = s.nodes_used();
            // Its own station group, or its nodes' together.
            let cores = |r: &Replication| match used.is_empty() {
                true => r.station(StationOwner::Service(i as u32)).cloned(),
                false => Some(merged(
                    used.iter()
                        .filter_map(|&n| r.station(StationOwner::Host(n))),
                )),
            };
            ServiceSummary {
                name: s.name.clone(),
                replicas: s.replicas,
                cores: s.cores,
                nodes: used
                    .iter()
                    .map(|&n| topo.nodes[n as usize].name.clone())
                    .collect(),
                utilisation: Estimate::over(runs, |r| cores(r).map_or(0.0, |m| m.utilisation())),
                offered_utilisation: offered.as_ref().map(|o| o[i]),
                queueing_ms: Estimate::over(runs, |r| {
                    cores(r).map_or(0.0, |m| m.mean_queueing() * MS)
                }),
                cpu: cpu_shares(runs, &cores),
                paused: s.pauses.is_some().then(|| {
                    Estimate::over(runs, |r| {
                        cores(r).map_or(0.0, |m| ratio(m.paused, m.capacity))
                    })
                }),
            }
        })
        .collect()
}

/// Station groups summed into one (a service's nodes).
fn merged<'a>(groups: impl Iterator<Item = &'a StationMetrics>) -> StationMetrics {
    let mut all = StationMetrics::default();
    for m in groups {
        all.instances += m.instances;
        for (a, b) in all.busy.iter_mut().zip(&m.busy) {
            *a += b;
        }
        all.capacity += m.capacity;
        all.jobs += m.jobs;
        all.waited += m.waited;
        all.paused += m.paused;
    }
    all
}

fn cpu_shares(
    runs: &[Replication],
    get: &impl Fn(&Replication) -> Option<StationMetrics>,
) -> Vec<CpuShare> {
    (0..CPU_CATEGORIES)
        .map(|c| CpuShare {
            category: CPU_NAMES[c].to_string(),
            share: Estimate::over(runs, |r| {
                get(r).map_or(0.0, |m| ratio(m.busy[c], m.capacity))
            }),
        })
        .collect()
}

/// Each station group besides the services' own cores: proxies (node
/// proxies, waypoints, policy sidecars...) and a load generator with cores.
pub(super) fn proxies(topo: &Topology, runs: &[Replication]) -> Vec<ProxySummary> {
    runs[0]
        .stations
        .iter()
        .filter_map(|m| {
            if let StationOwner::Service(_) = m.owner {
                return None;
            }
            let (name, kind) = owner_name(topo, m.owner);
            let owner = m.owner;
            Some(ProxySummary {
                name,
                kind: kind.to_string(),
                instances: m.instances,
                utilisation: station_est(runs, owner, StationMetrics::utilisation),
                queueing_ms: station_est(runs, owner, |m| m.mean_queueing() * MS),
                cpu: cpu_shares(runs, &|r| r.station(owner).cloned()),
                paused: (owner == StationOwner::Client && topo.workload.client_pauses.is_some())
                    .then(|| station_est(runs, owner, |m| ratio(m.paused, m.capacity))),
            })
        })
        .collect()
}
