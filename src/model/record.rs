//! Traces of chosen requests: which requests to show (the slowest and a
//! seeded sample), and the timeline of every call and phase of each, as plain
//! data for the report layer to write as Jaeger or OTLP JSON.
//!
//! Recording costs nothing when off: the simulation is generic over its
//! probe, and the normal run's is a zero-sized no-op. A run picks requests
//! with a small [`Selector`] only when asked, and the simulation is deterministic, so the
//! replications holding picked requests are run again with a [`Recorder`]
//! that follows only those requests' calls. The re-run is identical to the
//! first: recording reads the state, never changes it.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};

use super::cost::{Attribution, CpuParts, SPANS, Span, span_of};
use super::design::Design;
use super::metrics::RunMetrics;
use super::sim::{Probes, Simulation};
use super::topology::{EndpointId, Topology};
use crate::units::Nanos;

/// A request picked for export, by replication and arrival index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pick {
    /// Replication it ran in.
    pub replication: u32,
    /// Its arrival index in that replication (0-based, warm-up included).
    pub request: u64,
    /// End-to-end latency in the run that picked it.
    pub latency: Nanos,
    /// Among the slowest.
    pub slowest: bool,
    /// In the random sample.
    pub sampled: bool,
}

/// Keeps, for one replication, the `k` slowest successful measured requests
/// and the `m` with the smallest sample hash (a uniform sample without
/// replacement that merges across replications and is the same for every
/// design: the hash comes from the request's key).
#[derive(Debug, Default)]
pub struct Selector {
    k: usize,
    m: usize,
    /// Min-heap of (latency, earlier request first) of the slowest so far.
    slowest: BinaryHeap<Reverse<(Nanos, Reverse<u64>)>>,
    /// Max-heap of (hash, request) of the sample so far.
    sample: BinaryHeap<(u64, u64)>,
    latency: FxHashMap<u64, Nanos>,
}

impl Selector {
    pub(crate) fn new(k: usize, m: usize) -> Self {
        Selector {
            k,
            m,
            ..Selector::default()
        }
    }

    /// A successful measured request finished.
    pub(crate) fn offer(&mut self, request: u64, hash: u64, latency: Nanos) {
        let mut keep = false;
        if self.k > 0 {
            let item = Reverse((latency, Reverse(request)));
            if self.slowest.len() < self.k {
                self.slowest.push(item);
                keep = true;
            } else if self.slowest.peek().is_some_and(|top| item < *top) {
                self.slowest.pop();
                self.slowest.push(item);
                keep = true;
            }
        }
        if self.m > 0 {
            if self.sample.len() < self.m {
                self.sample.push((hash, request));
                keep = true;
            } else if self.sample.peek().is_some_and(|&top| (hash, request) < top) {
                self.sample.pop();
                self.sample.push((hash, request));
                keep = true;
            }
        }
        if keep {
            self.latency.insert(request, latency);
        }
    }
}

/// What a phase of a call was doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Waiting for a pooled connection (pool at its limit).
    ConnectionWait,
    /// The TCP handshake round trip.
    TcpConnect,
    /// TLS: the ClientHello's flight to the server.
    TlsClientHello,
    /// TLS: the server's flight back (and extra round trips: TLS 1.2 full,
    /// HelloRetryRequest).
    TlsServerFlight,
    /// Waiting for a core before a CPU job.
    CoreWait,
    /// Caller-side CPU: client handshake, outbound proxy, bulk crypto.
    CallerCpu,
    /// Server handshake CPU, where TLS terminates.
    HandshakeCpu,
    /// The waypoint proxy's CPU (L7 policy, JWT).
    WaypointCpu,
    /// The destination proxy's CPU (inbound sidecar or node proxy).
    InboundProxyCpu,
    /// The local hops to a policy sidecar and back.
    PolicyHop,
    /// Policy evaluation on a policy sidecar.
    PolicyCpu,
    /// Waiting for a worker thread.
    WorkerWait,
    /// The service's own job: business CPU plus in-process security.
    ServiceCpu,
    /// The request crossing the network (and local proxy hops).
    RequestTransit,
    /// Waypoint to destination.
    WaypointTransit,
    /// The response crossing back.
    ResponseTransit,
    /// Waiting before a retry.
    Backoff,
}

impl Step {
    /// The name shown in trace viewers.
    pub fn name(self) -> &'static str {
        match self {
            Step::ConnectionWait => "wait for connection",
            Step::TcpConnect => "tcp connect",
            Step::TlsClientHello => "tls handshake: client hello",
            Step::TlsServerFlight => "tls handshake: server flight",
            Step::CoreWait => "wait for core",
            Step::CallerCpu => "caller cpu",
            Step::HandshakeCpu => "tls handshake cpu",
            Step::WaypointCpu => "waypoint proxy",
            Step::InboundProxyCpu => "inbound proxy",
            Step::PolicyHop => "policy check: sidecar hop",
            Step::PolicyCpu => "policy check: sidecar",
            Step::WorkerWait => "wait for worker",
            Step::ServiceCpu => "cpu",
            Step::RequestTransit => "network: request",
            Step::WaypointTransit => "network: waypoint to destination",
            Step::ResponseTransit => "network: response",
            Step::Backoff => "retry backoff",
        }
    }
}

/// Which span of its call a phase belongs under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The caller's (client) span: getting a connection, transit.
    Client,
    /// The callee's (server) span: proxies, policy, worker, cores.
    Server,
}

/// One phase of a call: a leaf of the trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phase {
    /// Index of its call in [`RequestTrace::calls`].
    pub call: u32,
    /// What it was.
    pub step: Step,
    /// Under the client or the server span.
    pub side: Side,
    /// Start and end, simulated ns.
    pub start: Nanos,
    /// End, simulated ns.
    pub end: Nanos,
    /// For CPU jobs, the demand by category (ns), summing to end - start.
    pub cpu: CpuParts,
    /// For transits, the part that is local proxy hops (ns).
    pub local: Nanos,
}

impl Phase {
    /// The phase's time split by critical-path span, as the simulation
    /// attributes it.
    pub fn attribution(&self) -> Attribution {
        let mut a = [0; SPANS];
        let d = self.end - self.start;
        match self.step {
            Step::ConnectionWait | Step::CoreWait | Step::WorkerWait => {
                a[Span::Queueing as usize] = d
            }
            Step::TcpConnect | Step::TlsClientHello | Step::TlsServerFlight => {
                a[Span::HandshakeRtt as usize] = d
            }
            Step::Backoff => a[Span::Retry as usize] = d,
            Step::RequestTransit | Step::WaypointTransit | Step::ResponseTransit => {
                a[Span::Proxy as usize] = self.local;
                a[Span::Network as usize] = d - self.local;
            }
            Step::PolicyHop => {
                a[Span::Authz as usize] = self.local;
                a[Span::Network as usize] = d - self.local;
            }
            _ => {
                for (cat, &ns) in self.cpu.iter().enumerate() {
                    a[span_of(cat) as usize] += ns;
                }
            }
        }
        a
    }
}

/// What a traced call was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallKind {
    /// The user request.
    Root,
    /// A call of a call graph.
    Child,
    /// A check at the remote policy service.
    Authz,
    /// A token fetch from the identity service.
    Token,
}

/// The TLS handshake a call's new connection made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandshakeKind {
    /// A new connection without TLS.
    None,
    /// Full handshake.
    Full,
    /// Resumed from a ticket.
    Resumed,
    /// Resumed with 0-RTT early data.
    ZeroRtt,
}

/// One call of a traced request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallTrace {
    /// Index of the calling call, None for the user request.
    pub parent: Option<u32>,
    /// What it was for.
    pub kind: CallKind,
    /// The endpoint called.
    pub endpoint: EndpointId,
    /// The caller's replica (global index), None for the client.
    pub caller_replica: Option<u32>,
    /// The callee's replica (global index), once picked.
    pub replica: Option<u32>,
    /// When the caller sent it.
    pub start: Nanos,
    /// When the caller had the response; None if it never came back
    /// before the run ended (an abandoned attempt).
    pub end: Option<Nanos>,
    /// When the callee had the request and when it answered.
    pub server: Option<(Nanos, Nanos)>,
    /// The handshake of the connection it opened, None if it reused one.
    pub handshake: Option<HandshakeKind>,
    /// Attempt number (0: first).
    pub attempt: u32,
    /// Sequential or parallel repeat index.
    pub repeat: u32,
    /// The caller gave up on it (timeout).
    pub abandoned: bool,
    /// It, or a call below it, failed.
    pub failed: bool,
    /// Whether a policy decision came from the cache, if one was looked up.
    pub authz_cache_hit: Option<bool>,
}

/// The timeline of one user request.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestTrace {
    /// Replication and arrival index.
    pub pick: Pick,
    /// Its calls, the user request first, parents before children.
    pub calls: Vec<CallTrace>,
    /// Every timed phase of every call.
    pub phases: Vec<Phase>,
    /// End-to-end latency in this run.
    pub latency: Nanos,
    /// The critical-path attribution the run measured for it.
    pub attribution: Attribution,
}

/// Follows the calls of chosen requests through one replication.
#[derive(Debug, Default)]
pub struct Recorder {
    wanted: FxHashMap<u64, Pick>,
    /// Live call slot -> (trace, call index).
    slots: FxHashMap<u32, (u32, u32)>,
    pub(crate) traces: Vec<RequestTrace>,
    finished: FxHashSet<u32>,
}

impl Recorder {
    pub(crate) fn new(picks: &[Pick]) -> Self {
        Recorder {
            wanted: picks.iter().map(|p| (p.request, *p)).collect(),
            ..Recorder::default()
        }
    }

    /// A call was created in `slot`: follow it if its request is wanted.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn inserted(
        &mut self,
        slot: u32,
        parent_slot: Option<u32>,
        request: u64,
        kind: CallKind,
        endpoint: EndpointId,
        caller_replica: Option<u32>,
        now: Nanos,
        attempt: u32,
        repeat: u32,
    ) {
        let call = |parent| CallTrace {
            parent,
            kind,
            endpoint,
            caller_replica,
            replica: None,
            start: now,
            end: None,
            server: None,
            handshake: None,
            attempt,
            repeat,
            abandoned: false,
            failed: false,
            authz_cache_hit: None,
        };
        let place = match parent_slot {
            None => self.wanted.get(&request).map(|&pick| {
                self.traces.push(RequestTrace {
                    pick,
                    calls: vec![call(None)],
                    phases: Vec::new(),
                    latency: 0,
                    attribution: [0; SPANS],
                });
                ((self.traces.len() - 1) as u32, 0)
            }),
            Some(p) => self.slots.get(&p).map(|&(t, pc)| {
                let calls = &mut self.traces[t as usize].calls;
                calls.push(call(Some(pc)));
                (t, (calls.len() - 1) as u32)
            }),
        };
        match place {
            Some(at) => self.slots.insert(slot, at),
            None => self.slots.remove(&slot),
        };
    }

    /// The traced call in `slot`, if followed.
    #[inline]
    pub(crate) fn call(&mut self, slot: u32) -> Option<&mut CallTrace> {
        let &(t, c) = self.slots.get(&slot)?;
        Some(&mut self.traces[t as usize].calls[c as usize])
    }

    /// A phase of the call in `slot` ended; empty phases are dropped.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn phase(
        &mut self,
        slot: u32,
        step: Step,
        side: Side,
        start: Nanos,
        end: Nanos,
        cpu: CpuParts,
        local: Nanos,
    ) {
        if end <= start {
            return;
        }
        if let Some(&(t, call)) = self.slots.get(&slot) {
            self.traces[t as usize].phases.push(Phase {
                call,
                step,
                side,
                start,
                end,
                cpu,
                local,
            });
        }
    }

    /// The user request in `slot` finished.
    pub(crate) fn request_done(
        &mut self,
        slot: u32,
        now: Nanos,
        ok: bool,
        latency: Nanos,
        attr: &Attribution,
    ) {
        if let Some(&(t, _)) = self.slots.get(&slot) {
            let trace = &mut self.traces[t as usize];
            trace.latency = latency;
            trace.attribution = *attr;
            trace.calls[0].end = Some(now);
            trace.calls[0].failed = !ok;
            if ok {
                self.finished.insert(t);
            }
        }
    }

    /// Traces of the wanted requests that succeeded, in pick order.
    fn into_traces(self) -> Vec<RequestTrace> {
        let finished = self.finished;
        self.traces
            .into_iter()
            .enumerate()
            .filter(|(i, _)| finished.contains(&(*i as u32)))
            .map(|(_, t)| t)
            .collect()
    }
}

/// Runs every replication like [`super::run_replications`] and picks, over
/// all of them, the `k` slowest successful measured requests (ties: earlier
/// replication and request first) and a uniform random sample of `m` of the
/// others, deterministic by seed. Picks are sorted slowest first, then the
/// sample in replication and request order.
pub fn run_and_pick(
    topo: &Topology,
    design: &Design,
    k: usize,
    m: usize,
) -> (Vec<RunMetrics>, Vec<Pick>) {
    let results: Vec<(RunMetrics, Selector)> = (0..topo.workload.replications)
        .into_par_iter()
        .map(|r| {
            let probe = Probes {
                selector: Some(Selector::new(k, m)),
                recorder: None,
            };
            let (metrics, probe) = Simulation::with_probe(topo, design, r, probe).run_probed();
            (metrics, probe.selector.unwrap_or_default())
        })
        .collect();
    let mut slowest: Vec<(Reverse<Nanos>, u32, u64)> = Vec::new();
    let mut sample: Vec<(u64, u32, u64)> = Vec::new();
    let mut latency: FxHashMap<(u32, u64), Nanos> = FxHashMap::default();
    let mut runs = Vec::new();
    for (r, (metrics, sel)) in results.into_iter().enumerate() {
        let r = r as u32;
        slowest.extend(
            sel.slowest
                .iter()
                .map(|Reverse((l, Reverse(q)))| (Reverse(*l), r, *q)),
        );
        sample.extend(sel.sample.iter().map(|&(h, q)| (h, r, q)));
        latency.extend(sel.latency.iter().map(|(&q, &l)| ((r, q), l)));
        runs.push(metrics);
    }
    slowest.sort_unstable();
    slowest.truncate(k);
    sample.sort_unstable();
    let mut picks: Vec<Pick> = slowest
        .iter()
        .map(|&(Reverse(l), r, q)| Pick {
            replication: r,
            request: q,
            latency: l,
            slowest: true,
            sampled: false,
        })
        .collect();
    let mut sampled: Vec<Pick> = Vec::new();
    for &(_, r, q) in &sample {
        if sampled.len() == m {
            break;
        }
        match picks
            .iter_mut()
            .find(|p| (p.replication, p.request) == (r, q))
        {
            Some(p) => p.sampled = true,
            None => sampled.push(Pick {
                replication: r,
                request: q,
                latency: latency[&(r, q)],
                slowest: false,
                sampled: true,
            }),
        }
    }
    sampled.sort_unstable_by_key(|p| (p.replication, p.request));
    picks.extend(sampled);
    (runs, picks)
}

/// The traces of `picks` under `design`: each replication holding picks is
/// run again with a recorder. Picks whose request did not succeed under this
/// design are left out. In pick order.
pub fn record(topo: &Topology, design: &Design, picks: &[Pick]) -> Vec<RequestTrace> {
    let mut reps: Vec<u32> = picks.iter().map(|p| p.replication).collect();
    reps.sort_unstable();
    reps.dedup();
    let traces: Vec<RequestTrace> = reps
        .into_par_iter()
        .flat_map_iter(|r| {
            let mine: Vec<Pick> = picks
                .iter()
                .filter(|p| p.replication == r)
                .copied()
                .collect();
            let probe = Probes {
                selector: None,
                recorder: Some(Recorder::new(&mine)),
            };
            let (_, probe) = Simulation::with_probe(topo, design, r, probe).run_probed();
            probe.recorder.map_or_else(Vec::new, Recorder::into_traces)
        })
        .collect();
    picks
        .iter()
        .filter_map(|p| {
            traces
                .iter()
                .find(|t| (t.pick.replication, t.pick.request) == (p.replication, p.request))
                .cloned()
        })
        .collect()
}
