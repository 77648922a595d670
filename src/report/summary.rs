//! Aggregates replications into the run summary that the table, JSON and CSV
//! are written from. Field meanings are documented in `output/README.md`.

use serde::{Deserialize, Serialize};

pub use super::cores::{CpuShare, ProxySummary, ServiceSummary};
use super::cores::{owner_name, proxies, services};
use super::stats::Estimate;
use crate::model::Design;
use crate::model::Replication;
use crate::model::cost::{CPU_CATEGORIES, CPU_NAMES, SPAN_NAMES, SPANS};
use crate::model::metrics::Counters;
use crate::model::replication::{LatencyFigures, OutcomeFigures};
use crate::model::topology::{Arrivals, Topology, Workload};

const MS: f64 = 1e-6;

/// Latency figures in milliseconds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LatencySummary {
    /// Mean.
    pub mean: Estimate,
    /// Median.
    pub p50: Estimate,
    /// 90th percentile.
    pub p90: Estimate,
    /// 95th percentile (unknown, its mean `null`, in results written before
    /// ztsim reported it).
    #[serde(default = "Estimate::unknown", deserialize_with = "maybe_unknown")]
    pub p95: Estimate,
    /// 99th percentile.
    pub p99: Estimate,
    /// 99.9th percentile.
    pub p999: Estimate,
    /// Largest observation.
    pub max: Estimate,
}

/// An estimate whose mean may be `null`: one that was not measured, as
/// [`Estimate::unknown`] writes it.
fn maybe_unknown<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Estimate, D::Error> {
    Ok(super::stats::RawEstimate::deserialize(d)?.estimate())
}

/// Quantiles reported everywhere, with their names.
pub const QUANTILES: [(&str, f64); 5] = [
    ("p50", 0.5),
    ("p90", 0.9),
    ("p95", 0.95),
    ("p99", 0.99),
    ("p999", 0.999),
];

impl LatencySummary {
    /// Over replications; None if any replication observed nothing.
    fn of(hists: &[&LatencyFigures]) -> Option<LatencySummary> {
        let per = |f: &dyn Fn(&LatencyFigures) -> Option<f64>| -> Option<Estimate> {
            let v: Option<Vec<f64>> = hists.iter().map(|h| f(h).map(|x| x * MS)).collect();
            v.map(|v| Estimate::of(&v))
        };
        Some(LatencySummary {
            mean: per(&|h| h.mean())?,
            p50: per(&|h| h.quantile(0.5))?,
            p90: per(&|h| h.quantile(0.9))?,
            p95: per(&|h| h.quantile(0.95))?,
            p99: per(&|h| h.quantile(0.99))?,
            p999: per(&|h| h.quantile(0.999))?,
            max: per(&|h| h.max().map(|m| m as f64))?,
        })
    }
}

/// Requests at one entry endpoint (or all of them).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RequestSummary {
    /// Entry endpoint (`service.endpoint`), or "all".
    pub name: String,
    /// Share of the workload's entry mix.
    pub weight: f64,
    /// Measured requests per replication.
    pub requests: Estimate,
    /// Share of them that failed (timeout or failed dependency).
    pub failed_ratio: Estimate,
    /// End-to-end latency in ms; null when saturated.
    pub latency_ms: Option<LatencySummary>,
    /// Critical-path attribution of its successful requests, per entry
    /// endpoint when the workload has several (the whole workload's is
    /// [`Summary::attribution`]); absent otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attribution: Vec<AttributionSummary>,
}

/// One caller -> callee edge, latency as the caller sees it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EdgeSummary {
    /// Calling endpoint.
    pub caller: String,
    /// Called endpoint.
    pub callee: String,
    /// Calls on this edge per measured user request.
    pub calls_per_request: Estimate,
    /// Share of calls that failed after retries.
    pub failed_ratio: Estimate,
    /// Share of calls a strict callee refused (the caller outside its
    /// mesh); absent when none was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused_ratio: Option<Estimate>,
    /// Caller-seen latency in ms (retries included); null when saturated.
    pub latency_ms: Option<LatencySummary>,
}

/// One asynchronous (fire-and-forget) call site: not part of any user
/// request's latency, reported on its own.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AsyncCallSummary {
    /// Calling endpoint.
    pub caller: String,
    /// Called endpoint.
    pub callee: String,
    /// Its calls per measured user request.
    pub calls_per_request: Estimate,
    /// Successful calls per second of the window.
    pub completed_per_s: Estimate,
    /// Share of calls that failed after retries.
    pub failed_ratio: Estimate,
    /// Latency from send to final outcome in ms; null when saturated.
    pub latency_ms: Option<LatencySummary>,
}

/// All internal (service-to-service) calls together: the figure architects
/// quote as "internal request latency".
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InternalCalls {
    /// Internal calls per measured user request.
    pub per_request: Estimate,
    /// Mean caller-seen latency over every internal call, in ms.
    pub latency_ms_mean: Option<Estimate>,
}

/// CPU time per request in one category, over every core of the system.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CategoryTime {
    /// Category name.
    pub category: String,
    /// Core-milliseconds per measured user request.
    pub ms: Estimate,
}

/// Where the time of successful requests went along their critical path, ms.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AttributionSummary {
    /// Span name (network, handshake_rtt, queueing, business_cpu, crypto_cpu,
    /// proxy, authz, authn, retry).
    pub span: String,
    /// Mean time in this span per request.
    pub mean_ms: Estimate,
    /// Mean time in this span over the slowest 1% of successful requests
    /// (each at or above their p99; `model::tail`).
    pub p99_ms: Option<Estimate>,
}

/// What the security machinery did, per measured user request, and its rates.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SecuritySummary {
    /// Connections opened per request.
    pub connections_opened: Estimate,
    /// Calls per request that waited for a pooled connection.
    pub connection_waits: Estimate,
    /// Full TLS handshakes per request.
    pub handshakes_full: Estimate,
    /// Resumed (1-RTT) handshakes per request.
    pub handshakes_resumed: Estimate,
    /// 0-RTT handshakes per request.
    pub handshakes_zero_rtt: Estimate,
    /// Share of new TLS connections that resumed (resumed + 0-RTT over all).
    pub resumption_rate: Option<Estimate>,
    /// Authorization decisions per request.
    pub authz_decisions: Estimate,
    /// Share of decisions answered by the cache.
    pub authz_cache_hit_rate: Option<Estimate>,
    /// JWT verifications per request.
    pub jwt_verifications: Estimate,
    /// Token fetches per request.
    pub token_fetches: Estimate,
    /// Certificate rotations per second of the window.
    pub rotations_per_s: Estimate,
    /// Calls per request that a strict callee refused (their caller
    /// outside its mesh); absent when none was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused: Option<Estimate>,
}

/// Failed attempts per measured user request, by reason, and retries; a
/// figure is absent when no replication saw one.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FailureSummary {
    /// Attempts and requests whose caller's timeout fired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeouts: Option<Estimate>,
    /// Calls shed by a full queue (`queue_limit`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shed: Option<Estimate>,
    /// Calls rejected by a rate limiter (`rate_limit`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limited: Option<Estimate>,
    /// Calls that answered with an error of their own (`error_rate`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<Estimate>,
    /// Retries sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<Estimate>,
    /// Calls slowed by their endpoint's `slow` (not failures: they succeed late).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slow: Option<Estimate>,
    /// Calls failed by a replica down (`down`), also counted as `errors`'
    /// reason for retries but not in `errors`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub down: Option<Estimate>,
}

/// Throughput in requests per second.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Throughput {
    /// Requests that arrived in the window, per second.
    pub offered_rps: Estimate,
    /// Requests that finished in the window, per second.
    pub completed_rps: Estimate,
    /// Time-averaged requests in the system (Little's L).
    pub mean_in_system: Estimate,
}

/// Why results carry no percentiles.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SaturationSummary {
    /// Offered load at which it happened.
    pub offered_rps: Option<f64>,
    /// Service whose cores were busiest.
    pub bottleneck: Option<String>,
    /// Replications judged saturated.
    pub replications: u32,
    /// Human-readable verdict.
    pub message: String,
}

/// The simulator's own work, for performance figures.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Work {
    /// Events processed, over all replications.
    pub events: u64,
    /// Calls simulated (every attempt, user requests included).
    pub calls: u64,
    /// Most calls in flight at once in any replication.
    pub peak_calls_in_flight: usize,
}

/// The workload as run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WorkloadSummary {
    /// "poisson", "constant", "closed" or "replay".
    pub arrivals: String,
    /// Open-loop rate (a replay's mean rate over its span).
    pub rate_rps: Option<f64>,
    /// Closed-loop users.
    pub users: Option<u32>,
    /// Warm-up, seconds.
    pub warmup_s: f64,
    /// Measured duration in seconds, if set by duration.
    pub duration_s: Option<f64>,
    /// Measured request count, if set by count.
    pub requests: Option<u64>,
    /// Base seed.
    pub seed: u64,
    /// Replications.
    pub replications: u32,
}

/// Everything a run reports.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Summary {
    /// Version of ztsim that produced it.
    pub ztsim_version: String,
    /// Topology name.
    pub topology: String,
    /// Design (security model) name.
    pub design: String,
    /// Workload as run.
    pub workload: WorkloadSummary,
    /// Set when the run saturated; latency figures are then null.
    pub saturated: Option<SaturationSummary>,
    /// Throughput.
    pub throughput: Throughput,
    /// All entry endpoints together.
    pub requests: RequestSummary,
    /// Per entry endpoint.
    pub endpoints: Vec<RequestSummary>,
    /// Every internal call together.
    pub internal_calls: InternalCalls,
    /// Per caller -> callee edge.
    pub edges: Vec<EdgeSummary>,
    /// Per asynchronous call site; absent when there is none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub asynchronous: Vec<AsyncCallSummary>,
    /// Per service.
    pub services: Vec<ServiceSummary>,
    /// Per proxy or policy-sidecar group.
    pub proxies: Vec<ProxySummary>,
    /// CPU per request by category, summed over every service and proxy:
    /// what a design costs in cores, independent of how they are spread.
    pub cpu_per_request: Vec<CategoryTime>,
    /// Critical-path attribution of successful requests (all entries).
    pub attribution: Vec<AttributionSummary>,
    /// Security machinery counters.
    pub security: SecuritySummary,
    /// Failures by reason and retries; absent when no call failed or was
    /// retried for these reasons (refusals are in `security`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failures: Option<FailureSummary>,
    /// Replicas' crashes and time down (`down`, `crashes`); absent when no
    /// replica was down inside the window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outages: Option<super::outages::OutageSummary>,
    /// Callers' client-side pools (`pools`); absent when there are none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pools: Option<Vec<super::pools::PoolSummary>>,
    /// Message queues (`queues`); absent when there are none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queues: Option<Vec<super::queues::QueueSummary>>,
    /// Width of the time-series intervals in `timeseries.csv`, seconds.
    pub series_interval_s: f64,
    /// Simulator work.
    pub work: Work,
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

fn secs(r: &Replication) -> f64 {
    r.window as f64 * 1e-9
}

/// Builds the summary of `runs` of `topo` under `design` (at least one run).
pub fn summarize(topo: &Topology, design: &Design, runs: &[Replication]) -> Summary {
    let w = &topo.workload;
    let saturated = saturation(topo, runs);
    let ok = saturated.is_none();
    let all: Vec<&OutcomeFigures> = runs.iter().map(|r| &r.all).collect();
    Summary {
        ztsim_version: env!("CARGO_PKG_VERSION").to_string(),
        topology: topo.name.clone(),
        design: design.name.clone(),
        workload: workload(w),
        saturated,
        throughput: throughput(runs),
        requests: all_requests(&all, ok),
        endpoints: endpoints(topo, runs, ok),
        internal_calls: internal_calls(topo, runs, ok),
        edges: edges(topo, runs, ok),
        asynchronous: asynchronous(topo, runs, ok),
        services: services(topo, runs),
        proxies: proxies(topo, runs),
        cpu_per_request: cpu_per_request(runs),
        attribution: attribution(&all, ok),
        security: security(runs),
        failures: failures(runs),
        outages: super::outages::outages(topo, runs),
        pools: super::pools::pools(topo, runs),
        queues: super::queues::queues(topo, runs, ok),
        series_interval_s: runs[0].series_interval as f64 * 1e-9,
        work: Work {
            events: runs.iter().map(|r| r.events).sum(),
            calls: runs.iter().map(|r| r.calls).sum(),
            peak_calls_in_flight: runs
                .iter()
                .map(|r| r.peak_calls_in_flight)
                .max()
                .unwrap_or(0),
        },
    }
}

/// The latency of `hs` when the run did not saturate (a saturated run's
/// latencies describe a growing queue, not the system).
fn latency(ok: bool, hs: Vec<&LatencyFigures>) -> Option<LatencySummary> {
    if ok { LatencySummary::of(&hs) } else { None }
}

/// The first saturated replication's verdict, if any saturated.
fn saturation(topo: &Topology, runs: &[Replication]) -> Option<SaturationSummary> {
    let w = &topo.workload;
    let saturated_runs: Vec<&Replication> =
        runs.iter().filter(|r| r.saturation.is_some()).collect();
    saturated_runs.first().map(|r| {
        let sat = r.saturation.as_ref().expect("filtered on saturation");
        let bottleneck = sat.bottleneck.map(|b| owner_name(topo, b).0);
        let rate = w.arrivals.rate();
        let at = rate.map_or("this load".to_string(), |r| format!("{r:.0} rps offered"));
        let on = bottleneck
            .as_ref()
            .map_or(String::new(), |b| format!(", bottleneck `{b}`"));
        SaturationSummary {
            offered_rps: rate,
            bottleneck,
            replications: saturated_runs.len() as u32,
            message: format!("saturated at {at}{on}: {}", sat.reason),
        }
    })
}

/// Every measured request together.
fn all_requests(all: &[&OutcomeFigures], ok: bool) -> RequestSummary {
    RequestSummary {
        name: "all".into(),
        weight: 1.0,
        requests: Estimate::of(
            &all.iter()
                .map(|o| o.latency.count() as f64)
                .collect::<Vec<_>>(),
        ),
        failed_ratio: Estimate::of(
            &all.iter()
                .map(|o| ratio(o.failed, o.latency.count()))
                .collect::<Vec<_>>(),
        ),
        latency_ms: latency(ok, all.iter().map(|o| &o.latency).collect()),
        attribution: Vec::new(),
    }
}

/// Requests by entry endpoint.
fn endpoints(topo: &Topology, runs: &[Replication], ok: bool) -> Vec<RequestSummary> {
    let several = topo.workload.entries.len() > 1;
    topo.workload
        .entries
        .iter()
        .enumerate()
        .map(|(i, &(ep, weight))| {
            let each: Vec<&OutcomeFigures> = runs.iter().map(|r| &r.endpoints[i]).collect();
            RequestSummary {
                name: topo.endpoints[ep as usize].name.clone(),
                weight,
                requests: Estimate::over(runs, |r| r.endpoints[i].latency.count() as f64),
                failed_ratio: Estimate::over(runs, |r| {
                    ratio(r.endpoints[i].failed, r.endpoints[i].latency.count())
                }),
                latency_ms: latency(ok, each.iter().map(|o| &o.latency).collect()),
                attribution: if several {
                    attribution(&each, ok)
                } else {
                    Vec::new()
                },
            }
        })
        .collect()
}

/// Calls along each edge of the call graph.
fn edges(topo: &Topology, runs: &[Replication], ok: bool) -> Vec<EdgeSummary> {
    topo.edges
        .iter()
        .enumerate()
        .map(|(i, &(a, b))| EdgeSummary {
            caller: topo.endpoints[a as usize].name.clone(),
            callee: topo.endpoints[b as usize].name.clone(),
            calls_per_request: Estimate::over(runs, |r| {
                ratio(r.edges[i].latency.count(), r.requests())
            }),
            failed_ratio: Estimate::over(runs, |r| {
                ratio(r.edges[i].failed, r.edges[i].latency.count())
            }),
            refused_ratio: runs.iter().any(|r| r.edges[i].refused > 0).then(|| {
                Estimate::over(runs, |r| {
                    ratio(r.edges[i].refused, r.edges[i].latency.count())
                })
            }),
            latency_ms: latency(ok, runs.iter().map(|r| &r.edges[i].latency).collect()),
        })
        .collect()
}

/// Each asynchronous call site's calls, throughput, failures, latency.
fn asynchronous(topo: &Topology, runs: &[Replication], ok: bool) -> Vec<AsyncCallSummary> {
    let (calls, edges) = (&topo.calls, &topo.edges);
    let name = |e: u32| topo.endpoints[e as usize].name.clone();
    let sites = topo.async_calls().into_iter().enumerate();
    sites
        .map(|(i, c)| AsyncCallSummary {
            caller: name(edges[calls[c as usize].edge as usize].0),
            callee: name(calls[c as usize].target),
            calls_per_request: Estimate::over(runs, |r| {
                ratio(r.asynch[i].latency.count(), r.requests())
            }),
            completed_per_s: Estimate::over(runs, |r| {
                let done = r.asynch[i].latency.count() - r.asynch[i].failed;
                done as f64 / secs(r).max(f64::MIN_POSITIVE)
            }),
            failed_ratio: Estimate::over(runs, |r| {
                ratio(r.asynch[i].failed, r.asynch[i].latency.count())
            }),
            latency_ms: latency(ok, runs.iter().map(|r| &r.asynch[i].latency).collect()),
        })
        .collect()
}

/// Internal calls per request and their mean latency.
fn internal_calls(topo: &Topology, runs: &[Replication], ok: bool) -> InternalCalls {
    let internal = |r: &Replication| -> (f64, f64) {
        let count: u64 = r.edges.iter().map(|o| o.latency.count()).sum();
        let total: f64 = r
            .edges
            .iter()
            .filter_map(|o| o.latency.mean().map(|m| m * o.latency.count() as f64))
            .sum();
        (
            count as f64,
            if count == 0 {
                0.0
            } else {
                total / count as f64
            },
        )
    };
    InternalCalls {
        per_request: Estimate::over(runs, |r| internal(r).0 / (r.requests().max(1)) as f64),
        latency_ms_mean: (ok && !topo.edges.is_empty())
            .then(|| Estimate::over(runs, |r| internal(r).1 * MS)),
    }
}

/// CPU time per request by category, over every station.
fn cpu_per_request(runs: &[Replication]) -> Vec<CategoryTime> {
    (0..CPU_CATEGORIES)
        .map(|c| CategoryTime {
            category: CPU_NAMES[c].to_string(),
            ms: Estimate::over(runs, |r| {
                let busy: u64 = r.stations.iter().map(|m| m.busy[c]).sum();
                busy as f64 * MS / (r.requests().max(1)) as f64
            }),
        })
        .collect()
}

/// Critical-path time by span, on average and over the slowest 1%.
fn attribution(all: &[&OutcomeFigures], ok: bool) -> Vec<AttributionSummary> {
    (0..SPANS)
        .map(|span| {
            let per_run = |tail: bool| -> Option<Estimate> {
                let v: Option<Vec<f64>> = all
                    .iter()
                    .map(|o| {
                        let a = if tail {
                            o.attribution_tail
                        } else {
                            o.attribution_mean
                        };
                        a.map(|a| a[span] * MS)
                    })
                    .collect();
                v.map(|v| Estimate::of(&v))
            };
            AttributionSummary {
                span: SPAN_NAMES[span].to_string(),
                mean_ms: per_run(false).unwrap_or(Estimate {
                    mean: 0.0,
                    ci95: None,
                }),
                p99_ms: if ok { per_run(true) } else { None },
            }
        })
        .collect()
}

/// Zero Trust work per request: connections, handshakes, decisions, tokens.
fn security(runs: &[Replication]) -> SecuritySummary {
    let per_req = |f: fn(&Counters) -> u64| {
        Estimate::over(runs, move |r| ratio(f(&r.counters), r.requests()))
    };
    let rate = |num: fn(&Counters) -> u64, den: fn(&Counters) -> u64| -> Option<Estimate> {
        runs.iter()
            .all(|r| den(&r.counters) > 0)
            .then(|| Estimate::over(runs, |r| ratio(num(&r.counters), den(&r.counters))))
    };
    SecuritySummary {
        connections_opened: per_req(|k| k.connections_opened),
        connection_waits: per_req(|k| k.connection_waits),
        handshakes_full: per_req(|k| k.handshakes_full),
        handshakes_resumed: per_req(|k| k.handshakes_resumed),
        handshakes_zero_rtt: per_req(|k| k.handshakes_zero_rtt),
        resumption_rate: rate(
            |k| k.handshakes_resumed + k.handshakes_zero_rtt,
            |k| k.handshakes_full + k.handshakes_resumed + k.handshakes_zero_rtt,
        ),
        authz_decisions: per_req(|k| k.authz_decisions),
        authz_cache_hit_rate: rate(|k| k.authz_cache_hits, |k| k.authz_decisions),
        jwt_verifications: per_req(|k| k.jwt_verifications),
        token_fetches: per_req(|k| k.token_fetches),
        rotations_per_s: Estimate::over(runs, |r| {
            r.counters.rotations as f64 / secs(r).max(f64::MIN_POSITIVE)
        }),
        refused: runs
            .iter()
            .any(|r| r.counters.refused > 0)
            .then(|| per_req(|k| k.refused)),
    }
}

/// Failures by reason and retries per request, if any happened.
fn failures(runs: &[Replication]) -> Option<FailureSummary> {
    let per_req = |f: fn(&Counters) -> u64| {
        runs.iter()
            .any(|r| f(&r.counters) > 0)
            .then(|| Estimate::over(runs, move |r| ratio(f(&r.counters), r.requests())))
    };
    let f = FailureSummary {
        timeouts: per_req(|k| k.timeouts),
        shed: per_req(|k| k.shed),
        limited: per_req(|k| k.limited),
        errors: per_req(|k| k.errors),
        retries: per_req(|k| k.retries),
        slow: per_req(|k| k.slow),
        down: per_req(|k| k.down),
    };
    [
        f.timeouts, f.shed, f.limited, f.errors, f.retries, f.slow, f.down,
    ]
    .iter()
    .any(Option::is_some)
    .then_some(f)
}

/// Offered and completed rates and the mean number in the system.
fn throughput(runs: &[Replication]) -> Throughput {
    Throughput {
        offered_rps: Estimate::over(runs, |r| {
            ratio(r.arrived, 1) / secs(r).max(f64::MIN_POSITIVE)
        }),
        completed_rps: Estimate::over(runs, |r| {
            ratio(r.finished_in_window, 1) / secs(r).max(f64::MIN_POSITIVE)
        }),
        mean_in_system: Estimate::over(runs, |r| r.mean_in_system),
    }
}

/// The workload as run.
fn workload(w: &Workload) -> WorkloadSummary {
    let (arrivals, users) = match &w.arrivals {
        Arrivals::Poisson { .. } => ("poisson", None),
        Arrivals::Profile { .. } => ("profile", None),
        Arrivals::Constant { .. } => ("constant", None),
        Arrivals::Closed { users, .. } => ("closed", Some(*users)),
        Arrivals::Replay { .. } => ("replay", None),
    };
    WorkloadSummary {
        arrivals: arrivals.to_string(),
        rate_rps: w.arrivals.rate(),
        users,
        warmup_s: w.warmup as f64 * 1e-9,
        duration_s: w.window.duration_s(),
        requests: w.window.requests(),
        seed: w.seed,
        replications: w.replications,
    }
}
