//! What a study was run on, kept in `results.json` so a report can be written
//! later from the results alone: the topology's shape (for the diagram) and
//! each design's parameters as its file set them.

use serde::{Deserialize, Serialize};

use crate::model::topology::{Arrivals, Topology};

/// A topology's services and who calls whom, per user request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopologyGraph {
    /// Topology name.
    pub name: String,
    /// Zone names.
    pub zones: Vec<String>,
    /// Services in file order.
    pub services: Vec<ServiceNode>,
    /// Caller -> callee service pairs with expected calls per user request.
    pub calls: Vec<ServiceCall>,
    /// Entry endpoints (`service.endpoint`) and their share of requests.
    pub entries: Vec<(String, f64)>,
    /// Where the clients are.
    pub client_zone: String,
    /// The arrival process, in words.
    pub arrivals: String,
}

/// One service box of the diagram.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceNode {
    /// Service name.
    pub name: String,
    /// Replicas.
    pub replicas: u32,
    /// Cores per replica (a fraction as a number: 0.5).
    pub cores: crate::units::Millicores,
    /// Zones its replicas run in.
    pub zones: Vec<String>,
    /// Endpoint names (without the service prefix).
    pub endpoints: Vec<String>,
    /// Outside the system: no replicas or cores of ours (a pure delay).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub external: bool,
}

/// Calls from one service to another, summed over their endpoints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceCall {
    /// Calling service (index into `services`).
    pub from: usize,
    /// Called service (index into `services`).
    pub to: usize,
    /// Expected calls per user request (times and probabilities applied).
    pub per_request: f64,
}

impl TopologyGraph {
    /// The shape of `topo`.
    pub fn of(topo: &Topology) -> TopologyGraph {
        let visits = topo.visits();
        let mut calls: Vec<ServiceCall> = Vec::new();
        for (e, ep) in topo.endpoints.iter().enumerate() {
            for &c in ep.stages.iter().flatten() {
                let call = &topo.calls[c as usize];
                let from = ep.service as usize;
                let to = topo.endpoints[call.target as usize].service as usize;
                let n = visits[e] * call.probability * f64::from(call.times);
                match calls.iter_mut().find(|s| s.from == from && s.to == to) {
                    Some(s) => s.per_request += n,
                    None => calls.push(ServiceCall {
                        from,
                        to,
                        per_request: n,
                    }),
                }
            }
        }
        let zone = |z: u16| topo.zones[z as usize].clone();
        TopologyGraph {
            name: topo.name.clone(),
            zones: topo.zones.clone(),
            services: topo
                .services
                .iter()
                .map(|s| {
                    let mut zones: Vec<String> = Vec::new();
                    for &z in &s.placement {
                        if !zones.contains(&zone(z)) {
                            zones.push(zone(z));
                        }
                    }
                    ServiceNode {
                        name: s.name.clone(),
                        replicas: s.replicas,
                        cores: s.cores,
                        external: s.external.is_some(),
                        zones,
                        endpoints: s
                            .endpoints
                            .iter()
                            .map(|&e| {
                                let full = &topo.endpoints[e as usize].name;
                                full.strip_prefix(&format!("{}.", s.name))
                                    .unwrap_or(full)
                                    .to_string()
                            })
                            .collect(),
                    }
                })
                .collect(),
            calls,
            entries: topo
                .workload
                .entries
                .iter()
                .map(|&(e, w)| (topo.endpoints[e as usize].name.clone(), w))
                .collect(),
            client_zone: zone(topo.workload.client_zone),
            arrivals: match &topo.workload.arrivals {
                Arrivals::Poisson { .. } => "open loop, Poisson arrivals".into(),
                Arrivals::Profile { profile, rate } => format!(
                    "open loop, Poisson arrivals following a rate profile ({} points, mean {rate:.1}/s over the window, peak {:.1}/s)",
                    profile.points().len(),
                    profile.peak()
                ),
                Arrivals::Constant { .. } => "open loop, evenly spaced arrivals".into(),
                Arrivals::Replay { times, speed, .. } => format!(
                    "replay of {} recorded arrivals at {speed}x speed",
                    times.len()
                ),
                Arrivals::Closed { users, think } => format!(
                    "closed loop of {users} users, mean think time {:.1} ms",
                    think.mean() * 1e-6
                ),
            },
        }
    }

    /// Internal (service-to-service) calls per user request.
    pub fn calls_per_request(&self) -> f64 {
        self.calls.iter().map(|c| c.per_request).sum()
    }
}

/// A design's parameters as its file set them (flattened `table.key`
/// paths); keys it leaves out take the defaults of docs/design.md.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DesignParameters {
    /// Design name.
    pub name: String,
    /// Its description, if the file gives one.
    pub description: Option<String>,
    /// (path, value as TOML) in file order.
    pub parameters: Vec<(String, String)>,
    /// Every parameter as the simulation resolved it, defaults included
    /// (`study::resolved`); empty in results written before ztsim kept it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resolved: Vec<Resolved>,
}

/// One parameter of a design as it ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resolved {
    /// Parameter path (`transport.cpu.server_full`).
    pub path: String,
    /// Its value as a design file writes it; `-` where it does not apply.
    pub value: String,
    /// Whether the design's file sets it (else it is a default).
    pub set: bool,
}

/// Everything the report needs beyond the measured points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Setup {
    /// The topology of the first grid point (swept parameters may change
    /// replicas or cores elsewhere in the grid).
    pub topology: TopologyGraph,
    /// The designs, in study order.
    pub designs: Vec<DesignParameters>,
    /// Measured duration and warm-up per replication, seconds (None: a
    /// request count).
    pub duration_s: Option<f64>,
    /// Measured requests per replication (absent with a duration).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests: Option<u64>,
    /// Warm-up per replication, seconds.
    pub warmup_s: f64,
    /// Base seed.
    pub seed: u64,
}

impl DesignParameters {
    /// The parameters set in a design file's text (already validated, so
    /// a parse failure only means there is nothing to show).
    pub fn from_file(name: &str, text: &str) -> DesignParameters {
        let table: toml::Table = text.parse().unwrap_or_default();
        let mut parameters = Vec::new();
        let mut description = None;
        for (k, v) in &table {
            match (k.as_str(), v) {
                ("name", _) => {}
                ("description", toml::Value::String(d)) => description = Some(d.clone()),
                _ => flatten(k, v, &mut parameters),
            }
        }
        DesignParameters {
            name: name.to_string(),
            description,
            parameters,
            resolved: Vec::new(),
        }
    }
}

/// `table.key = value` pairs of a TOML value, nested tables flattened.
fn flatten(path: &str, v: &toml::Value, out: &mut Vec<(String, String)>) {
    match v {
        toml::Value::Table(t) => {
            for (k, v) in t {
                flatten(&format!("{path}.{k}"), v, out);
            }
        }
        other => out.push((path.to_string(), other.to_string())),
    }
}

impl Setup {
    /// The setup of a study whose first grid point runs `topo`.
    pub fn new(topo: &Topology, designs: Vec<DesignParameters>) -> Setup {
        let w = &topo.workload;
        Setup {
            topology: TopologyGraph::of(topo),
            designs,
            duration_s: w.window.duration_s(),
            requests: w.window.requests(),
            warmup_s: w.warmup as f64 * 1e-9,
            seed: w.seed,
        }
    }
}
