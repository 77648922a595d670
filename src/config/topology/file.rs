//! The serde form of a topology file: every key, its type and its doc (the
//! JSON Schema is generated from these); no checks beyond the types.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

use crate::config::dist::DistSpec;
use crate::units::{Bytes, CoresText, Dur};

/// A topology (`topologies/*.toml`): the system being modelled, its zones and
/// network, its services and their call graphs, and the workload that drives
/// it. Reference: docs/topology.md.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "ztsim topology")]
pub(in crate::config) struct TopologyFile {
    /// Name used in reports and as the output folder (output/runs/<name>/). Default: the file name without .toml.
    pub(super) name: Option<String>,
    /// Free text for humans; not used by the simulator.
    #[allow(dead_code)]
    pub(super) description: Option<String>,
    /// Loopback RTT, bandwidth and the links between zones. Not needed with a single zone.
    #[serde(default)]
    pub(super) network: NetworkFile,
    /// The zones (hosts, racks, availability zones, regions) by name; at least one. File order matters only for the `workload.client_zone` default.
    pub(super) zones: IndexMap<String, ZoneFile>,
    /// Nodes by name: cores that the services placed on one (`node`, `nodes`) share, their calls to each other a loopback apart. Default: none (each replica has cores of its own).
    #[serde(default)]
    pub(super) nodes: IndexMap<String, NodeFile>,
    /// The services by name.
    pub(super) services: IndexMap<String, ServiceFile>,
    /// Message queues by name: a broker endpoint, a bounded queue per consumer group, the groups. A call site publishes with { queue = "NAME" }. Default: none.
    #[serde(default)]
    pub(super) queues: IndexMap<String, QueueFile>,
    /// What arrives and what is measured.
    pub(super) workload: WorkloadFile,
}

/// Loopback RTT, bandwidth and links between zones.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct NetworkFile {
    /// Round-trip time when a replica calls itself (loopback). Default: "40us".
    #[schemars(extend("default" = "40us"))]
    pub(super) same_host: Option<DistSpec>,
    /// Link bandwidth in Gbit/s: every message also takes size / bandwidth on the wire. Default: none (payload size costs no time). Must be positive.
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub(super) bandwidth_gbps: Option<f64>,
    /// RTT between pairs of zones: every pair of distinct zones needs exactly one link. Default: none.
    #[serde(default)]
    pub(super) links: Vec<LinkFile>,
}

/// A link between two zones (links are symmetric).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct LinkFile {
    /// The two zones the link joins (order does not matter). Read as a list
    /// so that a link naming one or three zones is refused by the compiler
    /// with its line, not truncated to two.
    #[schemars(length(equal = 2))]
    pub(super) zones: Vec<String>,
    /// Round-trip time between a replica in one zone and a replica in the other.
    pub(super) rtt: DistSpec,
}

/// A zone: a placement for replicas.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ZoneFile {
    /// Round-trip time between two different replicas in this zone (same AZ: ~0.4ms).
    pub(super) rtt: DistSpec,
}

/// A node: a machine whose cores every replica placed on it shares.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct NodeFile {
    /// The zone it is in. May be omitted only when the topology has one zone.
    pub(super) zone: Option<String>,
    /// Its cores: a number (4, 0.5) or Kubernetes millicores ("3500m"), shared by every replica on it as one FCFS queue.
    pub(super) cores: CoresText,
}

/// How callers spread calls over a service's replicas. Default: "round-robin".
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) enum BalanceFile {
    RoundRobin,
    Random,
    LeastOutstanding,
}

/// Whether callers prefer the replicas in their own zone. Default: "none".
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) enum LocalityFile {
    None,
    PreferZone,
}

/// A service: identical replicas, each a multi-core FCFS queue.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("not" = { "anyOf": [
    { "required": ["zone", "zones"] },
    { "required": ["down", "crashes"] },
] }))]
pub(super) struct ServiceFile {
    /// Every replica runs in this zone. Give `zone` or `zones`; both may be omitted only when the topology has one zone.
    pub(super) zone: Option<String>,
    /// Replica i runs in zones[i % len]: replicas are dealt round the list. Give `zone` or `zones`.
    #[schemars(length(min = 1))]
    pub(super) zones: Option<Vec<String>>,
    /// Every replica runs on this node (`[nodes.NAME]`), sharing its cores; the service is in the node's zone. Instead of `zone`/`zones` and `cores`.
    pub(super) node: Option<String>,
    /// Replica i runs on nodes[i % len], sharing its cores. Instead of `zone`/`zones` and `cores`.
    #[schemars(length(min = 1))]
    pub(super) nodes: Option<Vec<String>>,
    /// Identical copies of the service. Default: 1 (an external service has no replicas of ours).
    #[schemars(range(min = 1), extend("default" = 1))]
    pub(super) replicas: Option<i64>,
    /// Cores per replica: a number (2, 0.5) or Kubernetes millicores ("500m"); a call holds a core only while it runs its CPU demand. A fraction c is ceil(c) cores each at speed c/ceil(c). Default: 1 (an external service has none).
    #[schemars(extend("default" = 1))]
    pub(super) cores: Option<CoresText>,
    /// Outside the system (a payment provider, a managed database, a SaaS API): its endpoints answer after their `latency`, a pure delay on no cores of ours; no sidecar, policy or token check; reached over its own `tls`. Default: false.
    #[schemars(extend("default" = false))]
    pub(super) external: Option<bool>,
    /// External services only: how calls to it are secured, whatever the design: "1.3" or "1.2" (one-way TLS, never resumed) or "none". Default: "1.3".
    #[schemars(extend("default" = "1.3"))]
    pub(super) tls: Option<ExternalTlsFile>,
    /// External services only: "pool" (keep-alive, one call at a time per connection, as many as needed) or "per-request" (a new connection and handshake per call). Default: "pool".
    #[schemars(extend("default" = "pool"))]
    pub(super) connections: Option<ExternalConnectionsFile>,
    /// Time a job that finds one of the replica's cores idle waits before it runs (the core leaving a sleep state, a virtual CPU scheduled back in): the job holds the core meanwhile but spends no CPU; a job that queued behind another pays nothing. At most 1s. Default: "0s".
    #[schemars(extend("default" = "0s"))]
    pub(super) wakeup: Option<Dur>,
    /// Worker threads per replica, held by a call until it responds (including while it waits on its children). Default: unlimited.
    #[schemars(range(min = 1))]
    pub(super) concurrency: Option<i64>,
    /// How callers spread calls over the replicas. Default: "round-robin".
    #[schemars(extend("default" = "round-robin"))]
    pub(super) balance: Option<BalanceFile>,
    /// "prefer-zone": a caller sends to the replicas in its own zone (chosen among them by `balance`) while there is one, spilling to the other zones' replicas only when every local one has `spill_over` calls outstanding; "none": every replica alike. Default: "none".
    #[schemars(extend("default" = "none"))]
    pub(super) locality: Option<LocalityFile>,
    /// With locality = "prefer-zone": calls outstanding (sent, not yet answered) at every replica in the caller's zone at which a call spills to the other zones (at least 1). Default: never spill while the zone has a replica.
    #[schemars(range(min = 1))]
    pub(super) spill_over: Option<i64>,
    /// The namespace it belongs to (a Kubernetes namespace, a team's share of the estate): a design can give a namespace's services another design or mode (`[[override]] namespace`). Default: none.
    pub(super) namespace: Option<String>,
    /// Labels, e.g. { tier = "backend", team = "payments" }: a design can give the services carrying them another design or mode (`[[override]] labels`). Default: none.
    pub(super) labels: Option<std::collections::BTreeMap<String, String>>,
    /// Most calls a replica lets wait for a worker thread or a core (at least 1); a call that finds the queue full is shed at once: it fails with reason "shed" after its response's trip back, and its caller may retry it (`retry_on`). Default: unbounded.
    #[schemars(range(min = 1))]
    pub(super) queue_limit: Option<i64>,
    /// Client-side connection pools, by the service they reach: e.g. { db = 10 } lets each replica have at most 10 calls in flight to `db` at once (an application's database pool); further calls wait in order for a pooled connection. Each named service must be called by this service. Default: none.
    pub(super) pools: Option<IndexMap<String, i64>>,
    /// Times replicas are down: e.g. [{ replica = 0, at = "10s", for = "5s" }]. At `at` the replica crashes (the calls it is serving fail for their callers, its connections close), for `for` the balancer skips it, then it is back. Default: never.
    pub(super) down: Option<Vec<DownFile>>,
    /// Crashes by a rate instead of at given times: e.g. { every = "2h", for = "1m" }. Each replica crashes on its own after an exponential up time of mean `every` (at least 1s), measured from its start or last restart, and stays down for `for` (a distribution, mean above zero), as with `down`. Not with `down`. Default: never.
    pub(super) crashes: Option<CrashesFile>,
    /// Stop-the-world pauses of each replica's cores: e.g. { every = "1s", for = "5ms" } (a garbage collector, the hypervisor or the kernel taking the cores). Pauses come at exponential gaps of mean `every` (at least 1ms), start to start; each stops every core of the replica for `for` (a distribution, mean above zero and below `every`) once the job in hand is done, ahead of every job that waits, spending no CPU. Not on a service placed on nodes. Default: never.
    pub(super) pauses: Option<PausesFile>,
    /// The service's endpoints (operations) by name, referred to elsewhere as "service.endpoint"; at least one.
    pub(super) endpoints: IndexMap<String, EndpointFile>,
}

/// TLS to an external service.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
pub(super) enum ExternalTlsFile {
    #[serde(rename = "1.3")]
    V13,
    #[serde(rename = "1.2")]
    V12,
    #[serde(rename = "none")]
    None,
}

/// Connections to an external service.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub(super) enum ExternalConnectionsFile {
    Pool,
    PerRequest,
}

/// An endpoint: an operation of a service.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct EndpointFile {
    /// Business CPU demand per call, run on one of the replica's cores before the first stage. Default: zero.
    pub(super) cpu: Option<DistSpec>,
    /// External services only, and required there: the time the endpoint takes to answer once the request reaches it (a pure delay).
    pub(super) latency: Option<DistSpec>,
    /// CPU per call that runs right after `cpu` on the same core but off the call's path (closing a connection, writing a log after responding): it holds the core, so later calls wait for it, but this call does not. Default: zero.
    pub(super) cpu_off_path: Option<DistSpec>,
    /// Bytes of the request to this endpoint. Default: 0.
    #[schemars(extend("default" = 0))]
    pub(super) request_size: Option<Bytes>,
    /// Bytes of its response. Default: 0.
    #[schemars(extend("default" = 0))]
    pub(super) response_size: Option<Bytes>,
    /// The call graph: stages run in order, the calls within one stage in parallel. Default: no calls.
    #[serde(default)]
    pub(super) stages: Vec<Vec<CallFile>>,
    /// A token bucket in front of the endpoint, one per replica (a local rate limit, as a sidecar's): a call that finds no token is rejected at once with reason "limited". Default: none.
    pub(super) rate_limit: Option<RateLimitFile>,
    /// Chance a call answers with an error (reason "error") after its own CPU, making none of its calls. Default: 0.
    #[schemars(range(min = 0, max = 1), extend("default" = 0))]
    pub(super) error_rate: Option<f64>,
    /// A fraction of the calls that take longer: e.g. { fraction = 0.05, latency = "200ms" }. A slow call waits `latency` after its own CPU, holding its worker but no core. Default: none.
    pub(super) slow: Option<SlowFile>,
}

/// A replica's down window.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct DownFile {
    /// The replica, counted from 0.
    #[schemars(range(min = 0))]
    pub(super) replica: i64,
    /// When it crashes, from the start of the run (warm-up included).
    pub(super) at: Dur,
    /// How long it stays down (above zero).
    #[serde(rename = "for")]
    pub(super) lasts: Dur,
}

/// Replicas' crashes by a rate.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CrashesFile {
    /// Mean time between failures of each replica (its up time between crashes), at least 1s.
    pub(super) every: Dur,
    /// How long each crash keeps the replica down (a distribution, mean above zero).
    #[serde(rename = "for")]
    pub(super) lasts: DistSpec,
}

/// Cores that pause now and then.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct PausesFile {
    /// Mean time from one pause's start to the next's, at least 1ms.
    pub(super) every: Dur,
    /// How long each pause stops the cores (a distribution, mean above zero and below `every`).
    #[serde(rename = "for")]
    pub(super) lasts: DistSpec,
}

/// Calls that take longer than the rest.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct SlowFile {
    /// Chance a call is slow, from 0 to 1.
    #[schemars(range(min = 0, max = 1))]
    pub(super) fraction: f64,
    /// The time a slow call adds (a distribution).
    pub(super) latency: DistSpec,
}

/// A token bucket: `burst` tokens (full at the start), refilled at `rate`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RateLimitFile {
    /// Tokens added per second (above zero).
    pub(super) rate: f64,
    /// Bucket size: calls let through at once after a quiet spell (at least 1). Default: 1.
    #[schemars(range(min = 1), extend("default" = 1))]
    pub(super) burst: Option<i64>,
}

/// A failure a caller retries.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(super) enum ReasonFile {
    Timeout,
    Shed,
    Limited,
    Error,
}

/// A message queue: publishes go to its broker endpoint; each consumer group receives every message, at most `concurrency` being consumed at once and at most `capacity` waiting.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct QueueFile {
    /// The broker's endpoint, as "service.endpoint": a publish is a call to it (its network hop, security and `cpu` on the broker's cores); it makes no calls of its own. Every call to it publishes.
    pub(super) broker: String,
    /// Most messages waiting per consumer group (at least 1), besides those being consumed.
    #[schemars(range(min = 1))]
    pub(super) capacity: i64,
    /// What a publish that finds a group's queue full does: "block" (the broker answers only once every group has room; the producer waits) or "drop" (the message is lost for that group, counted). Default: "block".
    #[schemars(extend("default" = "block"))]
    pub(super) on_full: Option<OnFullFile>,
    /// The consumer groups; at least one.
    pub(super) consumers: Vec<ConsumerFile>,
}

/// What a publish does when a consumer group's queue is full.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(super) enum OnFullFile {
    Block,
    Drop,
}

/// A consumer group: every message is delivered to its endpoint.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ConsumerFile {
    /// The endpoint consuming the messages, as "service.endpoint".
    pub(super) endpoint: String,
    /// Most messages of this group being consumed at once (at least 1). Default: 1.
    #[schemars(range(min = 1), extend("default" = 1))]
    pub(super) concurrency: Option<i64>,
}

/// A call site: an element of a stage.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("oneOf" = [{ "required": ["call"] }, { "required": ["queue"] }]))]
pub(super) struct CallFile {
    /// The endpoint called, as "service.endpoint". Give this or `queue`.
    pub(super) call: Option<String>,
    /// Publish to this message queue (`[queues.NAME]`): a call to its broker endpoint. Give this or `call`.
    pub(super) queue: Option<String>,
    /// How many times the call is made, one after another unless `parallel`. Default: 1.
    #[schemars(range(min = 1), extend("default" = 1))]
    pub(super) times: Option<i64>,
    /// With times > 1: make all the calls at once instead of one after another. Default: false.
    #[schemars(extend("default" = false))]
    pub(super) parallel: Option<bool>,
    /// Chance the call site is taken at all, drawn once per invocation of the caller. Default: 1.
    #[schemars(range(min = 0, max = 1), extend("default" = 1))]
    pub(super) probability: Option<f64>,
    /// The caller gives up on an attempt after this long (above zero). Default: none.
    pub(super) timeout: Option<Dur>,
    /// Further attempts after a failure `retry_on` names; needs `timeout` unless the callee can reject calls (`queue_limit`, `rate_limit`, `error_rate`). Default: 0.
    #[schemars(range(min = 0), extend("default" = 0))]
    pub(super) retries: Option<i64>,
    /// The failures retried: "timeout", "shed" (the callee's queue was full), "limited" (its rate limit), "error" (it answered with an error, its own or a failed call of its; retrying these at every layer is what makes retry storms). Default: ["timeout", "shed", "limited"].
    pub(super) retry_on: Option<Vec<ReasonFile>>,
    /// Base of the exponential backoff before a retry (backoff x 2^k). Default: "25ms".
    #[schemars(extend("default" = "25ms"))]
    pub(super) backoff: Option<Dur>,
    /// Fire-and-forget: the caller does not wait for this call (nor fails with it); its work still runs on the callee's cores, with its own calls, and its latency is reported apart. Default: false.
    #[serde(rename = "async")]
    #[schemars(extend("default" = false))]
    pub(super) asynchronous: Option<bool>,
}

/// How requests arrive: open loop with exponential or fixed gaps, a closed loop of users, or recorded arrivals replayed.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "lowercase")]
pub(super) enum ArrivalsFile {
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
            "anyOf": [{ "required": ["rate"] }, { "required": ["profile"] }],
            "not": { "anyOf": [{ "required": ["users"] }, { "required": ["think"] }] }
        },
        {
            "properties": { "arrivals": { "enum": ["closed"] } },
            "required": ["users"],
            "not": { "anyOf": [{ "required": ["rate"] }, { "required": ["profile"] }] }
        },
        {
            "properties": { "arrivals": { "enum": ["replay"] } },
            "required": ["replay"],
            "not": { "anyOf": [{ "required": ["rate"] }, { "required": ["profile"] }, { "required": ["users"] }, { "required": ["think"] }] }
        }
    ] }
]))]
pub(super) struct WorkloadFile {
    /// "poisson" (open loop, exponential gaps), "constant" (open loop, fixed gaps), "closed" (a fixed population of users) or "replay" (the recorded arrivals of `replay`).
    pub(super) arrivals: ArrivalsFile,
    /// Recorded arrivals: a CSV file (path relative to this file) with the header `at_ns,entry` and one row per request in time order, `at_ns` in integer nanoseconds since the first request and `entry` a "service.endpoint". Required with arrivals = "replay"; with an open loop, `ztsim run --replay` plays it instead.
    pub(super) replay: Option<String>,
    /// Open-loop arrival rate in requests per second (a number, not a string). Required with an open loop; refused with a closed one.
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub(super) rate: Option<f64>,
    /// A rate varying over time, for arrivals = "poisson": points [time from the start of the run (warm-up included), requests per second], linear between them, e.g. [["0s", 200], ["1h", 800]] (then no `rate`); or the shape "daily" with `rate` its mean over a day.
    pub(super) profile: Option<super::profile::ProfileSpec>,
    /// Closed-loop users. Required with a closed loop; refused with an open one.
    #[schemars(range(min = 1))]
    pub(super) users: Option<i64>,
    /// Closed loop only: each user waits this long after a response before the next request. Default: zero.
    pub(super) think: Option<DistSpec>,
    /// Where the users are, for the RTT of the client -> entry hop. Default: the first zone in the file.
    pub(super) client_zone: Option<String>,
    /// The load generator's own cores, when it can saturate (a benchmark client on one core): its CPU per request (`client_cpu`, the client side of handshakes, bulk crypto) then queues for them. Default: unbounded, the client's CPU is a delay.
    pub(super) client_cores: Option<CoresText>,
    /// The client's own CPU per request it sends (building, writing, reading; TLS is separate), on `client_cores` when given. Default: zero.
    pub(super) client_cpu: Option<DistSpec>,
    /// The client's CPU per request off the request's path (closing its connection after the response): it holds `client_cores` after `client_cpu`, so later requests wait for it, but this one does not. Default: zero.
    pub(super) client_cpu_off_path: Option<DistSpec>,
    /// Stop-the-world pauses of the load generator's cores, as a service's `pauses`: e.g. { every = "1s", for = "5ms" }. The client's CPU per request (`client_cpu`, its side of handshakes) waits for a pause to end, so the requests due during one are sent late; their latency counts from when they were due. Only with `client_cores`. Default: never.
    pub(super) client_pauses: Option<PausesFile>,
    /// Simulated time before measurement starts. Default: "0s".
    #[schemars(extend("default" = "0s"))]
    pub(super) warmup: Option<Dur>,
    /// Measure requests arriving during this long after warm-up (above zero). Give this or `requests` (a replay: optional, narrows the window).
    pub(super) duration: Option<Dur>,
    /// Measure this many requests arriving after warm-up. Give this or `duration`.
    #[schemars(range(min = 1))]
    pub(super) requests: Option<i64>,
    /// The client gives up on a user request after this long (above zero); no client retries. Default: none.
    pub(super) timeout: Option<Dur>,
    /// Base seed of every random stream. Default: 1.
    #[schemars(extend("default" = 1))]
    pub(super) seed: Option<u64>,
    /// Independent replications, for 95% confidence intervals. Default: 1.
    #[schemars(range(min = 1), extend("default" = 1))]
    pub(super) replications: Option<i64>,
    /// The user actions and their mix; at least one (a replay takes its entries from the recording).
    #[serde(default)]
    pub(super) entry: Vec<EntryFile>,
}

/// An entry endpoint that users call directly.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct EntryFile {
    /// The endpoint, as "service.endpoint".
    pub(super) endpoint: String,
    /// Relative frequency; weights are normalised to sum to 1. Default: 1.
    #[serde(default = "unit_weight")]
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub(super) weight: f64,
}

fn unit_weight() -> f64 {
    1.0
}
