//! Topology files (`topologies/*.toml`): their serde form, and compilation into
//! a validated [`Topology`] that reports every problem with file, line and key.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

use super::diag::{Diagnostic, KeyPath, Source, did_you_mean};
use super::dist::DistSpec;
use crate::model::dist::Dist;
use crate::model::topology::{
    Arrivals, Balance, CallSpec, Endpoint, EndpointId, Network, Recording, Service, Topology,
    Window, Workload, ZoneId,
};
use crate::units::{Bytes, Dur, Nanos};

/// Expected internal calls per request beyond which a topology is refused:
/// the call graph almost certainly has a runaway `times`.
pub const MAX_EXPECTED_CALLS: f64 = 1e6;
/// Slowest open-loop rate accepted: one request every ~17 minutes.
pub const MIN_RATE: f64 = 1e-3;

/// A topology (`topologies/*.toml`): the system being modelled, its zones and
/// network, its services and their call graphs, and the workload that drives
/// it. Reference: topologies/README.md.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "ztsim topology")]
pub(super) struct TopologyFile {
    /// Name used in reports and as the output folder (output/runs/<name>/). Default: the file name without .toml.
    name: Option<String>,
    /// Free text for humans; not used by the simulator.
    #[allow(dead_code)]
    description: Option<String>,
    /// Loopback RTT, bandwidth and the links between zones. Not needed with a single zone.
    #[serde(default)]
    network: NetworkFile,
    /// The zones (hosts, racks, availability zones, regions) by name; at least one. File order matters only for the `workload.client_zone` default.
    zones: IndexMap<String, ZoneFile>,
    /// The services by name.
    services: IndexMap<String, ServiceFile>,
    /// What arrives and what is measured.
    workload: WorkloadFile,
}

/// Loopback RTT, bandwidth and links between zones.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct NetworkFile {
    /// Round-trip time when a replica calls itself (loopback). Default: "40us".
    #[schemars(extend("default" = "40us"))]
    same_host: Option<DistSpec>,
    /// Link bandwidth in Gbit/s: every message also takes size / bandwidth on the wire. Default: none (payload size costs no time). Must be positive.
    #[schemars(extend("exclusiveMinimum" = 0))]
    bandwidth_gbps: Option<f64>,
    /// RTT between pairs of zones: every pair of distinct zones needs exactly one link. Default: none.
    #[serde(default)]
    links: Vec<LinkFile>,
}

/// A link between two zones (links are symmetric).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct LinkFile {
    /// The two zones the link joins (order does not matter).
    zones: [String; 2],
    /// Round-trip time between a replica in one zone and a replica in the other.
    rtt: DistSpec,
}

/// A zone: a placement for replicas.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ZoneFile {
    /// Round-trip time between two different replicas in this zone (same AZ: ~0.4ms).
    rtt: DistSpec,
}

/// How callers spread calls over a service's replicas. Default: "round-robin".
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
enum BalanceFile {
    RoundRobin,
    Random,
    LeastOutstanding,
}

/// A service: identical replicas, each a multi-core FCFS queue.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("not" = { "required": ["zone", "zones"] }))]
struct ServiceFile {
    /// Every replica runs in this zone. Give `zone` or `zones`; both may be omitted only when the topology has one zone.
    zone: Option<String>,
    /// Replica i runs in zones[i % len]: replicas are dealt round the list. Give `zone` or `zones`.
    #[schemars(length(min = 1))]
    zones: Option<Vec<String>>,
    /// Identical copies of the service. Default: 1.
    #[serde(default = "one")]
    #[schemars(range(min = 1))]
    replicas: i64,
    /// Cores per replica; a call holds a core only while it runs its CPU demand. Default: 1.
    #[serde(default = "one")]
    #[schemars(range(min = 1))]
    cores: i64,
    /// Worker threads per replica, held by a call until it responds (including while it waits on its children). Default: unlimited.
    #[schemars(range(min = 1))]
    concurrency: Option<i64>,
    /// How callers spread calls over the replicas. Default: "round-robin".
    #[schemars(extend("default" = "round-robin"))]
    balance: Option<BalanceFile>,
    /// The service's endpoints (operations) by name, referred to elsewhere as "service.endpoint"; at least one.
    endpoints: IndexMap<String, EndpointFile>,
}

fn one() -> i64 {
    1
}

/// An endpoint: an operation of a service.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct EndpointFile {
    /// Business CPU demand per call, run on one of the replica's cores before the first stage. Default: zero.
    cpu: Option<DistSpec>,
    /// Bytes of the request to this endpoint. Default: 0.
    #[schemars(extend("default" = 0))]
    request_size: Option<Bytes>,
    /// Bytes of its response. Default: 0.
    #[schemars(extend("default" = 0))]
    response_size: Option<Bytes>,
    /// The call graph: stages run in order, the calls within one stage in parallel. Default: no calls.
    #[serde(default)]
    stages: Vec<Vec<CallFile>>,
}

/// A call site: an element of a stage.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct CallFile {
    /// The endpoint called, as "service.endpoint".
    call: String,
    /// How many times the call is made, one after another unless `parallel`. Default: 1.
    #[schemars(range(min = 1), extend("default" = 1))]
    times: Option<i64>,
    /// With times > 1: make all the calls at once instead of one after another. Default: false.
    #[schemars(extend("default" = false))]
    parallel: Option<bool>,
    /// Chance the call site is taken at all, drawn once per invocation of the caller. Default: 1.
    #[schemars(range(min = 0, max = 1), extend("default" = 1))]
    probability: Option<f64>,
    /// The caller gives up on an attempt after this long (above zero). Default: none.
    timeout: Option<Dur>,
    /// Further attempts after a timeout; needs `timeout`. Default: 0.
    #[schemars(range(min = 0), extend("default" = 0))]
    retries: Option<i64>,
    /// Base of the exponential backoff before a retry (backoff x 2^k). Default: "25ms".
    #[schemars(extend("default" = "25ms"))]
    backoff: Option<Dur>,
}

/// How requests arrive: open loop with exponential or fixed gaps, a closed loop of users, or recorded arrivals replayed.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "lowercase")]
enum ArrivalsFile {
    Poisson,
    Constant,
    Closed,
    Replay,
}

/// What arrives and what is measured. Give exactly one of `duration` and
/// `requests` (a replay measures its recorded requests unless narrowed by
/// one); an open loop needs `rate`, a closed loop `users`, a replay `replay`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("allOf" = [
    {
        "if": { "properties": { "arrivals": { "const": "replay" } }, "required": ["arrivals"] },
        "then": { "not": { "required": ["duration", "requests"] } },
        "else": {
            "oneOf": [{ "required": ["duration"] }, { "required": ["requests"] }],
            "required": ["entry"],
            "properties": { "entry": { "minItems": 1 } }
        }
    },
    { "oneOf": [
        {
            "properties": { "arrivals": { "enum": ["poisson", "constant"] } },
            "required": ["rate"],
            "not": { "anyOf": [{ "required": ["users"] }, { "required": ["think"] }] }
        },
        {
            "properties": { "arrivals": { "enum": ["closed"] } },
            "required": ["users"],
            "not": { "required": ["rate"] }
        },
        {
            "properties": { "arrivals": { "enum": ["replay"] } },
            "required": ["replay"],
            "not": { "anyOf": [{ "required": ["rate"] }, { "required": ["users"] }, { "required": ["think"] }] }
        }
    ] }
]))]
struct WorkloadFile {
    /// "poisson" (open loop, exponential gaps), "constant" (open loop, fixed gaps), "closed" (a fixed population of users) or "replay" (the recorded arrivals of `replay`).
    arrivals: ArrivalsFile,
    /// Recorded arrivals: a CSV file (path relative to this file) with the header `at_ns,entry` and one row per request in time order, `at_ns` in integer nanoseconds since the first request and `entry` a "service.endpoint". Required with arrivals = "replay"; with an open loop, `ztsim run --replay` plays it instead.
    replay: Option<String>,
    /// Open-loop arrival rate in requests per second (a number, not a string). Required with an open loop; refused with a closed one.
    #[schemars(extend("exclusiveMinimum" = 0))]
    rate: Option<f64>,
    /// Closed-loop users. Required with a closed loop; refused with an open one.
    #[schemars(range(min = 1))]
    users: Option<i64>,
    /// Closed loop only: each user waits this long after a response before the next request. Default: zero.
    think: Option<DistSpec>,
    /// Where the users are, for the RTT of the client -> entry hop. Default: the first zone in the file.
    client_zone: Option<String>,
    /// Simulated time before measurement starts. Default: "0s".
    #[schemars(extend("default" = "0s"))]
    warmup: Option<Dur>,
    /// Measure requests arriving during this long after warm-up (above zero). Give this or `requests` (a replay: optional, narrows the window).
    duration: Option<Dur>,
    /// Measure this many requests arriving after warm-up. Give this or `duration`.
    #[schemars(range(min = 1))]
    requests: Option<i64>,
    /// The client gives up on a user request after this long (above zero); no client retries. Default: none.
    timeout: Option<Dur>,
    /// Base seed of every random stream. Default: 1.
    #[schemars(extend("default" = 1))]
    seed: Option<u64>,
    /// Independent replications, for 95% confidence intervals. Default: 1.
    #[schemars(range(min = 1), extend("default" = 1))]
    replications: Option<i64>,
    /// The user actions and their mix; at least one (a replay takes its entries from the recording).
    #[serde(default)]
    entry: Vec<EntryFile>,
}

/// An entry endpoint that users call directly.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct EntryFile {
    /// The endpoint, as "service.endpoint".
    endpoint: String,
    /// Relative frequency; weights are normalised to sum to 1. Default: 1.
    #[serde(default = "unit_weight")]
    #[schemars(extend("exclusiveMinimum" = 0))]
    weight: f64,
}

fn unit_weight() -> f64 {
    1.0
}

/// Parses and validates a topology; `file` names it in diagnostics.
pub fn parse_topology(file: &str, text: &str) -> Result<Topology, Vec<Diagnostic>> {
    let src = Source::parse(file, text).map_err(|d| vec![d])?;
    let raw: TopologyFile = src.deserialize().map_err(|d| vec![d])?;
    let stem = std::path::Path::new(file)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("topology")
        .to_string();
    Compiler {
        src: &src,
        errors: Vec::new(),
    }
    .compile(raw, stem)
}

/// Collects every problem instead of stopping at the first.
struct Compiler<'s> {
    src: &'s Source,
    errors: Vec<Diagnostic>,
}

impl Compiler<'_> {
    fn error(&mut self, path: &KeyPath, message: impl Into<String>) {
        self.errors.push(self.src.error(path, message));
    }

    fn error_help(&mut self, path: &KeyPath, message: impl Into<String>, help: Option<String>) {
        let mut d = self.src.error(path, message);
        d.help = help;
        self.errors.push(d);
    }

    fn dist(&mut self, spec: &DistSpec, path: &KeyPath) -> Dist {
        spec.compile(self.src, path).unwrap_or_else(|d| {
            self.errors.push(d);
            Dist::ZERO
        })
    }

    /// An integer that must be at least `min`.
    fn count(&mut self, value: i64, min: i64, path: &KeyPath, what: &str) -> u32 {
        match u32::try_from(value) {
            Ok(v) if value >= min => v,
            _ => {
                self.error(
                    path,
                    format!(
                        "{what} must be a whole number from {min} to {}, got {value}",
                        u32::MAX
                    ),
                );
                min.max(0) as u32
            }
        }
    }

    fn zone(&mut self, zones: &IndexMap<String, ZoneFile>, name: &str, path: &KeyPath) -> ZoneId {
        match zones.get_index_of(name) {
            Some(i) => i as ZoneId,
            None => {
                let help = did_you_mean(name, zones.keys().map(String::as_str))
                    .map(|s| format!("did you mean `{s}`?"))
                    .or_else(|| Some(format!("zones defined: {}", list(zones.keys()))));
                self.error_help(path, format!("unknown zone `{name}`"), help);
                0
            }
        }
    }

    fn compile(mut self, raw: TopologyFile, stem: String) -> Result<Topology, Vec<Diagnostic>> {
        let root = KeyPath::root();
        if raw.zones.is_empty() {
            self.error(
                &root.key("zones"),
                "define at least one zone, e.g. [zones.az1] rtt = \"0.4ms\"",
            );
        }
        if raw.zones.len() > usize::from(ZoneId::MAX) {
            self.error(&root.key("zones"), format!("at most {} zones", ZoneId::MAX));
        }
        let network = self.network(&raw);

        // Endpoint ids first, so calls can refer forward.
        let mut endpoint_names = Vec::new();
        for (sname, svc) in &raw.services {
            for ename in svc.endpoints.keys() {
                endpoint_names.push(format!("{sname}.{ename}"));
            }
        }
        let mut services = Vec::new();
        let mut endpoints = Vec::new();
        let mut calls = Vec::new();
        let mut edges: Vec<(EndpointId, EndpointId)> = Vec::new();
        for (sname, svc) in &raw.services {
            let sp = root.key("services").key(sname);
            let placement = match (&svc.zone, &svc.zones) {
                (Some(z), None) => vec![self.zone(&raw.zones, z, &sp.key("zone"))],
                (None, Some(zs)) if !zs.is_empty() => zs
                    .iter()
                    .enumerate()
                    .map(|(i, z)| self.zone(&raw.zones, z, &sp.key("zones").index(i)))
                    .collect(),
                (None, None) if raw.zones.len() == 1 => vec![0],
                _ => {
                    self.error(&sp, "give the service's placement as either `zone = \"az1\"` or `zones = [\"az1\", \"az2\"]`");
                    vec![0]
                }
            };
            let sid = services.len() as u32;
            let mut eps = Vec::new();
            for (ename, ep) in &svc.endpoints {
                let epath = sp.key("endpoints").key(ename);
                let eid = endpoints.len() as EndpointId;
                eps.push(eid);
                let cpu = ep
                    .cpu
                    .as_ref()
                    .map_or(Dist::ZERO, |c| self.dist(c, &epath.key("cpu")));
                let mut stages = Vec::new();
                for (si, stage) in ep.stages.iter().enumerate() {
                    let mut ids = Vec::new();
                    for (ci, call) in stage.iter().enumerate() {
                        let cp = epath.key("stages").index(si).index(ci);
                        if let Some(spec) = self.call(call, &cp, &endpoint_names, eid, &mut edges) {
                            ids.push(calls.len() as u32);
                            calls.push(spec);
                        }
                    }
                    stages.push(ids);
                }
                endpoints.push(Endpoint {
                    name: format!("{sname}.{ename}"),
                    service: sid,
                    cpu,
                    request_bytes: ep.request_size.map_or(0, |b| b.0),
                    response_bytes: ep.response_size.map_or(0, |b| b.0),
                    stages,
                });
            }
            if svc.endpoints.is_empty() {
                self.error(
                    &sp.key("endpoints"),
                    "a service needs at least one endpoint",
                );
            }
            let concurrency = svc
                .concurrency
                .map(|c| self.count(c, 1, &sp.key("concurrency"), "concurrency"));
            services.push(Service {
                name: sname.clone(),
                replicas: self.count(svc.replicas, 1, &sp.key("replicas"), "replicas"),
                cores: self.count(svc.cores, 1, &sp.key("cores"), "cores"),
                concurrency,
                balance: match svc.balance {
                    None | Some(BalanceFile::RoundRobin) => Balance::RoundRobin,
                    Some(BalanceFile::Random) => Balance::Random,
                    Some(BalanceFile::LeastOutstanding) => Balance::LeastOutstanding,
                },
                placement,
                endpoints: eps,
            });
        }
        let workload = self.workload(&raw, &endpoint_names);
        let topo = Topology {
            name: raw.name.unwrap_or(stem),
            zones: raw.zones.keys().cloned().collect(),
            network,
            services,
            endpoints,
            calls,
            edges,
            workload,
        };
        if self.errors.is_empty() {
            self.check_graph(&topo);
        }
        if self.errors.is_empty() {
            Ok(topo)
        } else {
            Err(self.errors)
        }
    }

    fn network(&mut self, raw: &TopologyFile) -> Network {
        let n = raw.zones.len();
        let np = KeyPath::root().key("network");
        let mut rtt: Vec<Option<Dist>> = vec![None; n * n];
        for (i, (name, z)) in raw.zones.iter().enumerate() {
            rtt[i * n + i] =
                Some(self.dist(&z.rtt, &KeyPath::root().key("zones").key(name).key("rtt")));
        }
        for (li, link) in raw.network.links.iter().enumerate() {
            let lp = np.key("links").index(li);
            let a = self.zone(&raw.zones, &link.zones[0], &lp.key("zones").index(0)) as usize;
            let b = self.zone(&raw.zones, &link.zones[1], &lp.key("zones").index(1)) as usize;
            if a == b {
                self.error(&lp.key("zones"), "a link joins two different zones; the RTT within a zone is the zone's own `rtt`");
                continue;
            }
            if rtt[a * n + b].is_some() {
                self.error(
                    &lp.key("zones"),
                    format!(
                        "a second link between `{}` and `{}`",
                        link.zones[0], link.zones[1]
                    ),
                );
            }
            let d = self.dist(&link.rtt, &lp.key("rtt"));
            rtt[a * n + b] = Some(d.clone());
            rtt[b * n + a] = Some(d);
        }
        let names: Vec<&String> = raw.zones.keys().collect();
        for a in 0..n {
            for b in a + 1..n {
                if rtt[a * n + b].is_none() {
                    // Point at the links if there are any, else at the zone
                    // that lacks one.
                    let links = np.key("links");
                    let at = [links.clone(), np.clone()]
                        .into_iter()
                        .find(|p| self.src.contains(p))
                        .unwrap_or_else(|| KeyPath::root().key("zones").key(names[b]));
                    let mut d = self.src.error(
                        &at,
                        format!(
                            "no RTT between zones `{}` and `{}`: add [[network.links]] zones = [\"{}\", \"{}\"], rtt = \"1ms\"",
                            names[a], names[b], names[a], names[b]
                        ),
                    );
                    d.key = Some(links);
                    self.errors.push(d);
                }
            }
        }
        let bandwidth = raw.network.bandwidth_gbps.and_then(|g| {
            if g.is_finite() && g >= 1e-6 {
                Some(g * 1e9 / 8.0)
            } else {
                self.error(
                    &np.key("bandwidth_gbps"),
                    format!("bandwidth must be at least 1e-6 Gbit/s (1 kbit/s), got {g}"),
                );
                None
            }
        });
        let same_host = match &raw.network.same_host {
            Some(d) => self.dist(d, &np.key("same_host")),
            // Loopback TCP round trip (SOURCES.md, network round trips).
            None => Dist::Constant(40_000),
        };
        Network {
            same_host,
            rtt: rtt.into_iter().map(|d| d.unwrap_or(Dist::ZERO)).collect(),
            bandwidth,
            zones: n,
        }
    }

    fn endpoint_ref(&mut self, name: &str, path: &KeyPath, names: &[String]) -> Option<EndpointId> {
        if let Some(i) = names.iter().position(|n| n == name) {
            return Some(i as EndpointId);
        }
        let (svc, _) = name.split_once('.').unwrap_or((name, ""));
        let prefix = format!("{svc}.");
        let of_service: Vec<&str> = names
            .iter()
            .filter(|n| n.starts_with(&prefix))
            .map(String::as_str)
            .collect();
        let (message, help) = if !name.contains('.') {
            (
                format!("`{name}` is not an endpoint name"),
                format!(
                    "name an endpoint as `service.endpoint`, e.g. `{}`",
                    names.first().map_or("api.get", String::as_str)
                ),
            )
        } else if of_service.is_empty() {
            let mut services: Vec<&str> = names
                .iter()
                .filter_map(|n| n.split_once('.').map(|p| p.0))
                .collect();
            services.dedup();
            let listed = services
                .iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let help = match did_you_mean(name, names.iter().map(String::as_str)) {
                Some(s) => format!("there is no service `{svc}`; did you mean `{s}`?"),
                None => format!("there is no service `{svc}`; services defined: {listed}"),
            };
            (format!("unknown endpoint `{name}`"), help)
        } else {
            let help = did_you_mean(name, of_service.iter().copied())
                .map(|s| format!("did you mean `{s}`?"))
                .unwrap_or_else(|| format!("endpoints of `{svc}`: {}", of_service.join(", ")));
            (format!("unknown endpoint `{name}`"), help)
        };
        self.error_help(path, message, Some(help));
        None
    }

    fn call(
        &mut self,
        call: &CallFile,
        path: &KeyPath,
        names: &[String],
        caller: EndpointId,
        edges: &mut Vec<(EndpointId, EndpointId)>,
    ) -> Option<CallSpec> {
        let target = self.endpoint_ref(&call.call, &path.key("call"), names);
        let times = call
            .times
            .map_or(1, |t| self.count(t, 1, &path.key("times"), "times"));
        let probability = call.probability.unwrap_or(1.0);
        if !(0.0..=1.0).contains(&probability) {
            self.error(
                &path.key("probability"),
                format!("a probability must be between 0 and 1, got {probability}"),
            );
        }
        let retries = call
            .retries
            .map_or(0, |r| self.count(r, 0, &path.key("retries"), "retries"));
        if retries > 0 && call.timeout.is_none() {
            self.error(
                &path.key("retries"),
                "retries happen after a timeout: set `timeout` too",
            );
        }
        if call.timeout.is_some_and(|t| t.0 == 0) {
            self.error(&path.key("timeout"), "a timeout must be above zero");
        }
        let target = target?;
        let edge = match edges.iter().position(|&e| e == (caller, target)) {
            Some(i) => i,
            None => {
                edges.push((caller, target));
                edges.len() - 1
            }
        } as u32;
        Some(CallSpec {
            target,
            edge,
            times,
            parallel: call.parallel.unwrap_or(false),
            probability,
            timeout: call.timeout.map(|t| t.0),
            retries,
            // Exponential backoff base; gRPC's default initial backoff is 1 s,
            // but in-mesh retry policies start far lower (Envoy: 25 ms).
            backoff: call.backoff.map_or(25_000_000, |b| b.0),
        })
    }

    fn workload(&mut self, raw: &TopologyFile, names: &[String]) -> Workload {
        let w = &raw.workload;
        let wp = KeyPath::root().key("workload");
        let rate = |c: &mut Self| match w.rate {
            Some(r) if r.is_finite() && r >= MIN_RATE => r,
            Some(r) => {
                c.error(
                    &wp.key("rate"),
                    format!("rate must be a positive number of requests per second, at least {MIN_RATE}, got {r}"),
                );
                1.0
            }
            None => {
                c.error(
                    &wp.key("arrivals"),
                    "open-loop arrivals need `rate` (requests per second)",
                );
                1.0
            }
        };
        let recording = w.replay.as_ref().and_then(|f| self.recording(f, names));
        let replay = matches!(w.arrivals, ArrivalsFile::Replay);
        if replay && w.replay.is_none() {
            self.error(
                &wp.key("arrivals"),
                "arrivals = \"replay\" needs `replay`, the recorded arrivals: replay = \"FILE.arrivals.csv\" (written by `ztsim import`)",
            );
        }
        if replay && w.rate.is_some() {
            self.error(
                &wp.key("rate"),
                "a replay's arrivals come from its recording; remove `rate` (play it faster with `ztsim run --replay-speed`)",
            );
        }
        let arrivals = match w.arrivals {
            ArrivalsFile::Poisson => Arrivals::Poisson { rate: rate(self) },
            ArrivalsFile::Constant => Arrivals::Constant { rate: rate(self) },
            // Set from the recording below, once the window is known.
            ArrivalsFile::Replay => Arrivals::Constant { rate: 1.0 },
            ArrivalsFile::Closed => {
                let users = match w.users {
                    Some(u) => self.count(u, 1, &wp.key("users"), "users"),
                    None => {
                        self.error(
                            &wp.key("arrivals"),
                            "a closed loop needs `users` (and `think`, a think time)",
                        );
                        1
                    }
                };
                let think = w
                    .think
                    .as_ref()
                    .map_or(Dist::ZERO, |t| self.dist(t, &wp.key("think")));
                Arrivals::Closed { users, think }
            }
        };
        let open = !matches!(arrivals, Arrivals::Closed { .. });
        if open && (w.users.is_some() || w.think.is_some()) {
            self.error(
                &wp.key("arrivals"),
                "`users` and `think` belong to arrivals = \"closed\"",
            );
        }
        let replay_window = replay && w.duration.is_none() && w.requests.is_none();
        if !open && w.rate.is_some() {
            self.error(&wp.key("rate"), "a closed loop's rate follows from users and think time; remove `rate` or use arrivals = \"poisson\"");
        }
        let window = match (w.duration, w.requests) {
            (Some(d), None) if d.0 > 0 => Window::Duration(d.0),
            (None, Some(n)) if n > 0 => Window::Requests(n as u64),
            (Some(_), None) => {
                self.error(
                    &wp.key("duration"),
                    "the measured duration must be above zero",
                );
                Window::Requests(1)
            }
            (None, Some(n)) => {
                self.error(
                    &wp.key("requests"),
                    format!("requests must be at least 1, got {n}"),
                );
                Window::Requests(1)
            }
            // Replaced by the recording's span below.
            (None, None) if replay => Window::Requests(1),
            _ => {
                self.error(
                    &wp,
                    "give exactly one of `duration` (e.g. \"60s\") or `requests` (a count)",
                );
                Window::Requests(1)
            }
        };
        let mut entries = Vec::new();
        if w.entry.is_empty() && !replay {
            self.error(
                &wp.key("entry"),
                "name at least one entry endpoint: entry = [{ endpoint = \"frontend.home\" }]",
            );
        }
        for (i, e) in w.entry.iter().enumerate() {
            let ep = wp.key("entry").index(i);
            if !(e.weight.is_finite() && e.weight > 0.0) {
                self.error(
                    &ep.key("weight"),
                    format!("a weight must be a positive number, got {}", e.weight),
                );
            }
            if let Some(id) = self.endpoint_ref(&e.endpoint, &ep.key("endpoint"), names) {
                entries.push((id, e.weight));
            }
        }
        let total: f64 = entries.iter().map(|e| e.1).sum();
        for e in &mut entries {
            e.1 /= total;
        }
        let client_zone = match &w.client_zone {
            Some(z) => self.zone(&raw.zones, z, &wp.key("client_zone")),
            None => 0,
        };
        if w.timeout.is_some_and(|t| t.0 == 0) {
            self.error(&wp.key("timeout"), "a timeout must be above zero");
        }
        let warmup = w.warmup.map_or(0, |d| d.0);
        let span = match window {
            Window::Duration(d) => warmup.checked_add(d),
            Window::Requests(_) => Some(warmup),
        };
        if span.is_none_or(|s| s as f64 > crate::config::dist::MAX_MEAN_NS * 10.0) {
            self.error(
                &wp.key("duration"),
                "warm-up plus duration is beyond 100 days of simulated time (or overflows): shorten them",
            );
        }
        let mut workload = Workload {
            arrivals,
            entries,
            client_zone,
            warmup,
            window,
            timeout: w.timeout.map(|t| t.0),
            seed: w.seed.unwrap_or(1),
            replications: w.replications.map_or(1, |r| {
                self.count(r, 1, &wp.key("replications"), "replications")
            }),
            recording,
        };
        if replay && workload.recording.is_some() {
            // The entry mix is the recording's; a duration or request count
            // given in the file narrows the window the recording spans.
            match workload.replay(1.0) {
                Ok(()) if !replay_window => workload.window = window,
                Ok(()) => {}
                Err(why) => self.error(&wp.key("warmup"), why),
            }
        }
        workload
    }

    /// Reads the recorded arrivals named by `workload.replay`, relative to
    /// the topology file; problems inside it are located in it.
    fn recording(&mut self, name: &str, names: &[String]) -> Option<Recording> {
        let at = KeyPath::root().key("workload").key("replay");
        let path = std::path::Path::new(self.src.file())
            .parent()
            .unwrap_or(std::path::Path::new(""))
            .join(name);
        let shown = path.display().to_string();
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                self.error_help(
                    &at,
                    format!("cannot read the recorded arrivals `{shown}`: {e}"),
                    Some("the path is relative to the topology file; `ztsim import` writes FILE.arrivals.csv beside the topology it writes".into()),
                );
                return None;
            }
        };
        match parse_arrivals(&shown, &text, names) {
            Ok((times, entries)) => Some(Recording {
                file: shown,
                times: times.into(),
                entries: entries.into(),
            }),
            Err(mut d) => {
                self.errors.append(&mut d);
                None
            }
        }
    }

    /// Cycles and runaway fan-out, found on the compiled graph.
    fn check_graph(&mut self, topo: &Topology) {
        // Depth-first search with colours; a grey target closes a cycle.
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            New,
            Open,
            Done,
        }
        let mut mark = vec![Mark::New; topo.endpoints.len()];
        let mut path: Vec<EndpointId> = Vec::new();
        fn visit(
            topo: &Topology,
            ep: EndpointId,
            mark: &mut [Mark],
            path: &mut Vec<EndpointId>,
        ) -> Option<Vec<EndpointId>> {
            mark[ep as usize] = Mark::Open;
            path.push(ep);
            for &c in topo.endpoints[ep as usize].stages.iter().flatten() {
                let t = topo.calls[c as usize].target;
                match mark[t as usize] {
                    Mark::Open => {
                        let start = path.iter().position(|&p| p == t).unwrap_or(0);
                        let mut cycle = path[start..].to_vec();
                        cycle.push(t);
                        return Some(cycle);
                    }
                    Mark::New => {
                        if let Some(cycle) = visit(topo, t, mark, path) {
                            return Some(cycle);
                        }
                    }
                    Mark::Done => {}
                }
            }
            path.pop();
            mark[ep as usize] = Mark::Done;
            None
        }
        for ep in 0..topo.endpoints.len() as EndpointId {
            if mark[ep as usize] == Mark::New
                && let Some(cycle) = visit(topo, ep, &mut mark, &mut path)
            {
                let names: Vec<&str> = cycle
                    .iter()
                    .map(|&e| topo.endpoints[e as usize].name.as_str())
                    .collect();
                let (svc, ep) = names[0].split_once('.').unwrap_or((names[0], ""));
                let at = KeyPath::root()
                    .key("services")
                    .key(svc)
                    .key("endpoints")
                    .key(ep)
                    .key("stages");
                self.error(
                    &at,
                    format!(
                        "the call graph has a cycle: {}; a request would never finish",
                        names.join(" -> ")
                    ),
                );
                return;
            }
        }
        for (i, &(entry, _)) in topo.workload.entries.iter().enumerate() {
            let calls: f64 = topo.visits_from(entry).iter().sum::<f64>() - 1.0;
            if calls.is_nan() || calls > MAX_EXPECTED_CALLS {
                self.error(
                    &KeyPath::root().key("workload").key("entry").index(i),
                    format!(
                        "one request to `{}` makes {calls:.3e} internal calls on average, beyond the limit of {MAX_EXPECTED_CALLS:.0}; check the `times` of its call graph",
                        topo.endpoints[entry as usize].name
                    ),
                );
            }
        }
    }
}

/// Most problems reported from one recording: past that it is the wrong file.
const MAX_RECORDING_ERRORS: usize = 10;

/// Parses recorded arrivals (`*.arrivals.csv`): the header `at_ns,entry`, then
/// one row per request in time order, `at_ns` an integer count of nanoseconds
/// since the first request and `entry` a qualified endpoint name among
/// `names`. Every problem names `file`, its line and column and the column's
/// name (up to ten problems).
pub fn parse_arrivals(
    file: &str,
    text: &str,
    names: &[String],
) -> Result<(Vec<Nanos>, Vec<EndpointId>), Vec<Diagnostic>> {
    let located = |line: usize, column: usize, key: &str, message: String| Diagnostic {
        file: file.to_string(),
        line: Some(line),
        column: Some(column),
        key: (!key.is_empty()).then(|| KeyPath::root().key(key)),
        message,
        help: None,
    };
    let mut lines = text.lines().enumerate();
    let Some((_, header)) = lines.next() else {
        return Err(vec![
            Diagnostic::new(
                file,
                "the file is empty: recorded arrivals start with the header `at_ns,entry`",
            )
            .with_help("`ztsim import` writes this file from Jaeger, Zipkin or OTLP traces"),
        ]);
    };
    let header = header.trim_start_matches('\u{feff}').trim();
    let fields: Vec<&str> = header.split(',').map(str::trim).collect();
    if fields != ["at_ns", "entry"] {
        return Err(vec![
            located(1, 1, "", format!("the header must be `at_ns,entry`, got `{header}`"))
                .with_help("one row per recorded request follows: nanoseconds since the first request, then the entry endpoint as `service.endpoint`"),
        ]);
    }
    let mut errors = Vec::new();
    let mut times = Vec::new();
    let mut entries = Vec::new();
    let mut last: Option<(Nanos, usize)> = None;
    let max = (crate::config::dist::MAX_MEAN_NS * 10.0) as Nanos;
    for (i, raw) in lines {
        if errors.len() >= MAX_RECORDING_ERRORS {
            break;
        }
        let line = i + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let Some((at, entry)) = raw.split_once(',') else {
            errors.push(located(
                line,
                1,
                "",
                format!("expected two fields, `at_ns,entry`, got `{}`", raw.trim()),
            ));
            continue;
        };
        let entry_col = at.chars().count() + 2;
        let at_col = 1 + at.chars().take_while(|c| c.is_whitespace()).count();
        match at.trim().parse::<u64>() {
            Ok(t) if t > max => errors.push(located(
                line,
                at_col,
                "at_ns",
                format!("{t} ns is beyond 100 days of simulated time"),
            )),
            Ok(t) => {
                if let Some((prev, prev_line)) = last
                    && t < prev
                {
                    errors.push(
                        located(
                            line,
                            at_col,
                            "at_ns",
                            format!("arrivals must be in time order: {t} comes after {prev} (line {prev_line})"),
                        )
                        .with_help("sort the rows by at_ns"),
                    );
                }
                last = Some((t, line));
                times.push(t);
            }
            Err(_) => errors.push(located(
                line,
                at_col,
                "at_ns",
                format!(
                    "`{}` is not a whole number of nanoseconds (at_ns counts integer ns since the first request, e.g. 1500000)",
                    at.trim()
                ),
            )),
        }
        let name = entry.trim().trim_matches('"');
        if name.contains(',') {
            errors.push(located(
                line,
                entry_col,
                "entry",
                format!("expected two fields, `at_ns,entry`, got `{}`", raw.trim()),
            ));
            continue;
        }
        match names.iter().position(|n| n == name) {
            Some(id) => entries.push(id as EndpointId),
            None => {
                let help = did_you_mean(name, names.iter().map(String::as_str))
                    .map(|s| format!("did you mean `{s}`?"))
                    .unwrap_or_else(|| {
                        format!(
                            "entries are endpoints of the topology as `service.endpoint`, e.g. `{}`",
                            names.first().map_or("api.get", String::as_str)
                        )
                    });
                errors.push(
                    located(
                        line,
                        entry_col,
                        "entry",
                        format!("unknown entry endpoint `{name}`"),
                    )
                    .with_help(help),
                );
            }
        }
    }
    if errors.is_empty() && times.is_empty() {
        errors.push(located(
            1,
            1,
            "",
            "no recorded requests: add one row per request after the header".into(),
        ));
    }
    if errors.is_empty() {
        Ok((times, entries))
    } else {
        Err(errors)
    }
}

fn list<'a>(names: impl Iterator<Item = &'a String>) -> String {
    names
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
