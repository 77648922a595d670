//! The validated system model: zones and their network, services with replicas
//! and cores, endpoints with CPU demand and call graphs, and the workload.
//!
//! Plain data with dense integer ids. It is built only by `config`, which has
//! checked every invariant the simulation relies on (names resolve, the call
//! graph is acyclic, counts are positive), so the simulation never re-checks.
//! The workload's types live in `workload.rs` and are re-exported here.

use super::dist::Dist;
use crate::units::{Millicores, Nanos};

pub use super::workload::{
    Arrivals, MAX_REPLICATIONS, REPLAY_SPEEDS, Recording, Window, Workload, replay_time,
};

pub use super::ids::{CallId, EdgeId, EndpointId, NodeId, ServiceId, ZoneId};

/// A whole system and its workload.
#[derive(Debug, Clone, PartialEq)]
pub struct Topology {
    /// Name used in reports and output folders.
    pub name: String,
    /// Zone names.
    pub zones: Vec<String>,
    /// Round-trip times between placements.
    pub network: Network,
    /// Nodes whose cores the services placed on them share (`[nodes]`).
    pub nodes: Vec<Node>,
    /// Deployable units.
    pub services: Vec<Service>,
    /// Operations of all services, with qualified names `service.endpoint`.
    pub endpoints: Vec<Endpoint>,
    /// Every call site of every call graph.
    pub calls: Vec<CallSpec>,
    /// Distinct (caller endpoint, callee endpoint) pairs, for per-edge latency.
    pub edges: Vec<(EndpointId, EndpointId)>,
    /// Message queues (`[queues.NAME]`), in file order.
    pub queues: Vec<Queue>,
    /// What arrives.
    pub workload: Workload,
}

/// Round-trip-time distributions between zones.
#[derive(Debug, Clone, PartialEq)]
pub struct Network {
    /// RTT between processes on the same host (loopback).
    pub same_host: Dist,
    /// RTT from zone a to zone b, at `a * zones + b`; symmetric.
    pub rtt: Vec<Dist>,
    /// Link bandwidth in bytes per second, if payload serialisation time counts.
    pub bandwidth: Option<f64>,
    /// Number of zones (row length of `rtt`).
    pub zones: usize,
}

impl Network {
    /// The RTT distribution between two zones.
    #[inline]
    pub fn rtt(&self, a: ZoneId, b: ZoneId) -> &Dist {
        &self.rtt[a as usize * self.zones + b as usize]
    }
}

/// A node (`[nodes.NAME]`): cores that every replica placed on it shares,
/// as one FCFS queue; calls between its replicas take `same_host`.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Its name.
    pub name: String,
    /// The zone it is in.
    pub zone: ZoneId,
    /// Its cores (whole or a fraction).
    pub cores: Millicores,
}

/// How a caller spreads calls over a service's replicas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Balance {
    /// Each replica in turn.
    RoundRobin,
    /// Uniformly at random.
    Random,
    /// The replica with the fewest calls in progress (ties in turn).
    LeastOutstanding,
}

/// Zone-aware balancing (`locality = "prefer-zone"`): a caller picks among
/// the replicas in its own zone (by the service's [`Balance`]) while the
/// zone has one, and among the other zones' replicas when every local one
/// has `spill_over` calls outstanding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Locality {
    /// Calls outstanding at every local replica at which a call spills
    /// (None: never, while the zone has a replica).
    pub spill_over: Option<u32>,
}

/// A deployable unit.
#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    /// Its name.
    pub name: String,
    /// How many replicas.
    pub replicas: u32,
    /// Cores per replica (whole or a fraction, `Millicores`).
    pub cores: Millicores,
    /// Time an idle core of a replica takes to start a job (ns).
    pub wakeup: Nanos,
    /// Worker threads per replica, if limited: a call holds one from arrival
    /// to response, including while it waits on its children.
    pub concurrency: Option<u32>,
    /// Replica choice.
    pub balance: Balance,
    /// Callers prefer the replicas in their own zone, if set.
    pub locality: Option<Locality>,
    /// Replica i runs in zone `placement[i % placement.len()]`.
    pub placement: Vec<ZoneId>,
    /// Replica i runs on node `nodes[i % nodes.len()]`, sharing its cores
    /// (`cores` is then the first node's); empty: each replica has its own.
    pub nodes: Vec<NodeId>,
    /// Its endpoints.
    pub endpoints: Vec<EndpointId>,
    /// Outside the system (a payment provider, a managed database, a SaaS
    /// API): one replica without cores whose endpoints answer after a pure
    /// delay (`Endpoint::latency`), with no sidecar, policy or token check,
    /// reached in plaintext or over its own TLS whatever the design.
    pub external: Option<External>,
    /// Its namespace, if the topology gives one (for per-service designs).
    pub namespace: Option<String>,
    /// Its labels, sorted by key (for per-service designs).
    pub labels: Vec<(String, String)>,
    /// Most calls a replica lets wait for a worker or a core; beyond it a
    /// call is shed at once (None: unbounded).
    pub queue_limit: Option<u32>,
    /// Client-side pools (`pools`): each replica holds at most `size`
    /// calls in flight to `target` at once; the rest wait in order.
    pub pools: Vec<ClientPool>,
    /// When replicas are down (`down`), by replica then time; windows of
    /// one replica do not overlap.
    pub down: Vec<DownWindow>,
    /// Crashes by a rate (`crashes`), each replica on its own; never with
    /// `down`.
    pub crashes: Option<CrashRate>,
    /// Stop-the-world pauses of each replica's cores (`pauses`).
    pub pauses: Option<super::workload::Pauses>,
}

/// Each replica crashes after an exponential time of mean `every` from its
/// start or last restart, and is down for a draw of `lasts`.
#[derive(Debug, Clone, PartialEq)]
pub struct CrashRate {
    /// Mean time between failures of a replica, up time only (ns).
    pub every: Nanos,
    /// How long each crash keeps it down.
    pub lasts: Dist,
}

/// A replica crashes at `at` and is back at `until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DownWindow {
    /// The replica (0-based, of its service).
    pub replica: u32,
    /// When it crashes (ns from the start of the run).
    pub at: Nanos,
    /// When it is back (after `at`).
    pub until: Nanos,
}

/// A client-side connection pool of a caller's replica to a dependency
/// (an application's database pool), not the design's TLS connection pool.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClientPool {
    /// The service called through it.
    pub target: ServiceId,
    /// Calls a replica may have in flight to `target` at once (at least 1).
    pub size: u32,
}

/// A fraction of an endpoint's calls that take longer (`slow`).
#[derive(Debug, Clone, PartialEq)]
pub struct Slow {
    /// Chance a call is slow, in [0, 1].
    pub fraction: f64,
    /// The time a slow call adds, holding its worker but no core.
    pub latency: Dist,
}

/// How calls reach a service outside the system.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct External {
    /// Its own TLS (the design's mesh does not reach it), or plaintext.
    pub tls: Option<ExternalTls>,
}

/// TLS to an external service: one-way (only it presents a certificate),
/// never resumed, its costs its own.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExternalTls {
    /// TLS 1.2 (a second round trip on a full handshake) rather than 1.3.
    pub v12: bool,
    /// A new connection (and handshake) per call, else a keep-alive pool
    /// (one call at a time per connection, as many connections as needed).
    pub per_request: bool,
    /// The caller's CPU per handshake.
    pub client_cpu: Nanos,
    /// The far end's time per handshake: a delay, on no core of ours.
    pub server_cpu: Nanos,
    /// The caller's bulk encryption CPU per payload byte (ns).
    pub bulk_ns_per_byte: f64,
}

impl Service {
    /// The zone of replica `i`.
    pub fn zone_of(&self, i: u32) -> ZoneId {
        self.placement[i as usize % self.placement.len()]
    }

    /// The node replica `i` runs on, if the service is placed on nodes.
    pub fn node_of(&self, i: u32) -> Option<NodeId> {
        (!self.nodes.is_empty()).then(|| self.nodes[i as usize % self.nodes.len()])
    }

    /// The distinct nodes its replicas run on, in first-use order.
    pub fn nodes_used(&self) -> Vec<NodeId> {
        let mut used: Vec<NodeId> = Vec::new();
        for i in 0..self.replicas.min(self.nodes.len() as u32) {
            let n = self.nodes[i as usize];
            if !used.contains(&n) {
                used.push(n);
            }
        }
        used
    }
}

/// An operation of a service.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    /// Qualified name, `service.endpoint`.
    pub name: String,
    /// Owner.
    pub service: ServiceId,
    /// CPU demand per call, run before the stages.
    pub cpu: Dist,
    /// CPU per call that runs after `cpu` on the same core but off the
    /// call's path: the core stays busy, the call does not wait.
    pub cpu_off_path: Dist,
    /// An external service's time to answer (a pure delay); zero for a
    /// service of the system.
    pub latency: Dist,
    /// Request payload in bytes.
    pub request_bytes: u64,
    /// Response payload in bytes.
    pub response_bytes: u64,
    /// Sequential stages; the calls inside one stage run in parallel.
    pub stages: Vec<Vec<CallId>>,
    /// A token bucket per replica in front of the endpoint, if any.
    pub rate_limit: Option<RateLimit>,
    /// Chance a call answers with an error after its own CPU, calling none
    /// of its stages, in [0, 1].
    pub error_rate: f64,
    /// Some calls take longer, if set.
    pub slow: Option<Slow>,
    /// The queue (index into [`Topology::queues`]) this endpoint is the
    /// broker of: each of its calls publishes a message there once its CPU
    /// is done. Its only stage holds its consumer groups' delivery sites.
    pub queue: Option<u32>,
}

/// A message queue: a broker endpoint holding, for each consumer group, a
/// bounded FIFO of the messages waiting for one of its consumers.
#[derive(Debug, Clone, PartialEq)]
pub struct Queue {
    /// Its name.
    pub name: String,
    /// The endpoint a publish calls (on the broker's replicas and cores).
    pub broker: EndpointId,
    /// Most messages waiting per consumer group (at least 1).
    pub capacity: u32,
    /// What a publish that finds a group's queue full does.
    pub on_full: OnFull,
    /// Its consumer groups; each receives every message.
    pub groups: Vec<ConsumerGroup>,
}

/// What a publish does when a consumer group's queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnFull {
    /// The broker holds the publish, unanswered, until every group has room.
    Block,
    /// The message is dropped for that group (counted).
    Drop,
}

/// A consumer group of a queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsumerGroup {
    /// The endpoint each message is delivered to.
    pub endpoint: EndpointId,
    /// Most messages being consumed at once (at least 1).
    pub concurrency: u32,
    /// The delivery call site (broker -> consumer, asynchronous), in the
    /// broker endpoint's only stage.
    pub site: CallId,
}

/// A token bucket: `burst` tokens, refilled at `rate` per second; a call
/// that finds no token is rejected at once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Tokens per second.
    pub rate: f64,
    /// Bucket size (and its content at time 0).
    pub burst: u32,
}

/// Why a call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The caller's timeout fired first.
    Timeout,
    /// The callee's queue was full (`queue_limit`).
    Shed,
    /// The callee's rate limiter had no token (`rate_limit`).
    Limited,
    /// The callee answered with an error: its own (`error_rate`) or one of
    /// its calls failed.
    Error,
    /// A strict callee refused a caller outside its mesh.
    Refused,
}

impl Reason {
    /// Every reason, in the order reports list them.
    pub const ALL: [Reason; 5] = [
        Reason::Timeout,
        Reason::Shed,
        Reason::Limited,
        Reason::Error,
        Reason::Refused,
    ];

    /// Its name in files and reports.
    pub fn name(self) -> &'static str {
        match self {
            Reason::Timeout => "timeout",
            Reason::Shed => "shed",
            Reason::Limited => "limited",
            Reason::Error => "error",
            Reason::Refused => "refused",
        }
    }
}

/// The failures a caller retries: a set of [`Reason`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryOn(u8);

impl RetryOn {
    /// Timeouts, shed and rate-limited calls: rejections before any work,
    /// safe to repeat (what in-mesh retry policies retry by default).
    pub const DEFAULT: RetryOn =
        RetryOn(1 << Reason::Timeout as u8 | 1 << Reason::Shed as u8 | 1 << Reason::Limited as u8);

    /// These reasons.
    pub fn of(reasons: &[Reason]) -> RetryOn {
        RetryOn(reasons.iter().fold(0, |a, &r| a | 1 << r as u8))
    }

    /// Whether a failure for `reason` is retried.
    #[inline]
    pub fn contains(self, reason: Reason) -> bool {
        self.0 & (1 << reason as u8) != 0
    }
}

/// One call site in a call graph.
#[derive(Debug, Clone, PartialEq)]
pub struct CallSpec {
    /// What is called.
    pub target: EndpointId,
    /// Which (caller, callee) edge it belongs to.
    pub edge: EdgeId,
    /// How many times (at least 1).
    pub times: u32,
    /// Whether the repeats run in parallel (fan-out) or one after another.
    pub parallel: bool,
    /// Chance the call happens at all, in [0, 1].
    pub probability: f64,
    /// Caller-side timeout per attempt.
    pub timeout: Option<Nanos>,
    /// Extra attempts after a failure `retry_on` names.
    pub retries: u32,
    /// Wait before retry k (0-based) is `backoff * 2^k`.
    pub backoff: Nanos,
    /// Which failures are retried.
    pub retry_on: RetryOn,
    /// Fire-and-forget (`async = true`): the caller does not wait for it.
    /// Its index among the topology's asynchronous call sites
    /// ([`Topology::async_calls`]), whose figures are reported apart.
    pub async_site: Option<u32>,
}

impl Topology {
    /// Expected number of times each endpoint runs per request of entry
    /// `entry` (the entry itself counts once). Requires an acyclic graph.
    /// Linear in the graph's size: weights flow in topological order, so
    /// fan-outs that rejoin are not enumerated path by path.
    pub fn visits_from(&self, entry: EndpointId) -> Vec<f64> {
        let mut visits = vec![0.0; self.endpoints.len()];
        visits[entry as usize] = 1.0;
        for ep in self.topological_order() {
            let weight = visits[ep as usize];
            if weight == 0.0 {
                continue;
            }
            for &c in self.endpoints[ep as usize].stages.iter().flatten() {
                let call = &self.calls[c as usize];
                visits[call.target as usize] += weight * call.probability * f64::from(call.times);
            }
        }
        visits
    }

    /// Endpoints ordered so that every caller comes before its callees.
    fn topological_order(&self) -> Vec<EndpointId> {
        // Iterative depth-first post-order, reversed.
        let n = self.endpoints.len();
        let mut seen = vec![false; n];
        let mut order = Vec::with_capacity(n);
        for root in 0..n {
            if seen[root] {
                continue;
            }
            seen[root] = true;
            // (endpoint, stage, call within the stage) still to follow.
            let mut stack = vec![(root, 0usize, 0usize)];
            while let Some((ep, si, ci)) = stack.pop() {
                let stages = &self.endpoints[ep].stages;
                match stages.get(si) {
                    Some(stage) if ci < stage.len() => {
                        stack.push((ep, si, ci + 1));
                        let t = self.calls[stage[ci] as usize].target as usize;
                        if !seen[t] {
                            seen[t] = true;
                            stack.push((t, 0, 0));
                        }
                    }
                    Some(_) => stack.push((ep, si + 1, 0)),
                    None => order.push(ep as EndpointId),
                }
            }
        }
        order.reverse();
        order
    }

    /// An entry whose requests may take no simulated time at all: some RTT
    /// of the network is under 2 ns (a message takes half a round trip, in
    /// whole nanoseconds, so 1 ns is none), and the entry's CPU and that of every call
    /// it certainly makes (probability 1), all the way down, are zero. In a
    /// closed loop with no think time, such requests stop the clock.
    pub fn instant_entry(&self) -> Option<EndpointId> {
        let net = &self.network;
        if net.same_host.mean() >= 2.0 && net.rtt.iter().all(|d| d.mean() >= 2.0) {
            return None;
        }
        // Callees before callers, so each endpoint sees its callees' verdict.
        let mut instant = vec![false; self.endpoints.len()];
        for ep in self.topological_order().into_iter().rev() {
            let e = &self.endpoints[ep as usize];
            instant[ep as usize] = e.cpu.mean() == 0.0
                && e.stages.iter().flatten().all(|&c| {
                    let call = &self.calls[c as usize];
                    // Asynchronous work is not the request's time.
                    call.probability < 1.0
                        || call.async_site.is_some()
                        || instant[call.target as usize]
                });
        }
        self.workload
            .entries
            .iter()
            .map(|&(ep, _)| ep)
            .find(|&ep| instant[ep as usize])
    }

    /// The asynchronous (fire-and-forget) call sites, in the order of their
    /// `async_site` index.
    pub fn async_calls(&self) -> Vec<CallId> {
        let mut sites: Vec<(u32, CallId)> = (0..self.calls.len() as CallId)
            .filter_map(|c| self.calls[c as usize].async_site.map(|a| (a, c)))
            .collect();
        sites.sort_unstable();
        sites.into_iter().map(|(_, c)| c).collect()
    }

    /// Expected endpoint visits per request, over the entry mix.
    pub fn visits(&self) -> Vec<f64> {
        let mut total = vec![0.0; self.endpoints.len()];
        for &(entry, weight) in &self.workload.entries {
            for (t, v) in total.iter_mut().zip(self.visits_from(entry)) {
                *t += weight * v;
            }
        }
        total
    }

    /// Mean CPU demand per request on each service, in core-seconds.
    pub fn cpu_per_request(&self) -> Vec<f64> {
        let mut per_service = vec![0.0; self.services.len()];
        for (ep, v) in self.endpoints.iter().zip(self.visits()) {
            per_service[ep.service as usize] += v * ep.cpu.mean() * 1e-9;
        }
        per_service
    }

    /// Offered utilisation of each service's cores at `rate` requests per second:
    /// rate x demand / cores (>= 1 means certain saturation). A service on
    /// nodes is offered what all its nodes are, together (every service on
    /// them, over their cores).
    pub fn offered_utilisation(&self, rate: f64) -> Vec<f64> {
        let demand = self.node_demand(rate);
        self.cpu_per_request()
            .iter()
            .zip(&self.services)
            .map(|(d, s)| {
                if s.external.is_some() {
                    0.0 // no cores of ours
                } else if !s.nodes.is_empty() {
                    let used = s.nodes_used();
                    let busy: f64 = used.iter().map(|&n| demand[n as usize]).sum();
                    let cores: f64 = used
                        .iter()
                        .map(|&n| self.nodes[n as usize].cores.cores())
                        .sum();
                    busy / cores
                } else {
                    rate * d / (f64::from(s.replicas) * s.cores.cores())
                }
            })
            .collect()
    }

    /// Offered utilisation of each node's cores at `rate` requests per
    /// second: the business CPU of every replica on it (a service's demand
    /// spread evenly over its replicas) over its cores.
    pub fn offered_node_utilisation(&self, rate: f64) -> Vec<f64> {
        self.node_demand(rate)
            .iter()
            .zip(&self.nodes)
            .map(|(busy, n)| busy / n.cores.cores())
            .collect()
    }

    /// Busy cores each node is offered at `rate`.
    fn node_demand(&self, rate: f64) -> Vec<f64> {
        let mut busy = vec![0.0; self.nodes.len()];
        if self.nodes.is_empty() {
            return busy;
        }
        for (d, s) in self.cpu_per_request().iter().zip(&self.services) {
            for i in 0..s.replicas {
                if let Some(n) = s.node_of(i) {
                    busy[n as usize] += rate * d / f64::from(s.replicas);
                }
            }
        }
        busy
    }

    /// The endpoint id with this qualified name.
    pub fn endpoint(&self, name: &str) -> Option<EndpointId> {
        self.endpoints
            .iter()
            .position(|e| e.name == name)
            .map(|i| i as EndpointId)
    }
}
