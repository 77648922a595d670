//! What an exported trace holds, as plain data: the picked requests, their
//! calls and the timed phases of each call. The probe fills it in
//! (`probe.rs`), `record.rs` hands it out, and the report layer writes it as
//! Jaeger or OTLP JSON. Knows nothing of the simulation.

use super::cost::{Attribution, CpuParts, SPANS, Span, span_of};
use super::topology::EndpointId;
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

/// What a phase of a call was doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Waiting for a pooled connection (pool at its limit).
    ConnectionWait,
    /// The TCP handshake round trip.
    TcpConnect,
    /// TLS: the ClientHello's flight to the server.
    TlsClientHello,
    /// TLS 1.2 full: the server's first flight back and the client's key
    /// exchange on its way out (the server's CPU on it follows).
    TlsKeyExchange,
    /// TLS: the server's (last) flight back (and a HelloRetryRequest's extra
    /// round trip).
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
    /// A publish held by the broker until its queue has room.
    QueueWait,
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
    /// An external service answering (a pure delay).
    External,
    /// A strict callee refusing a caller outside its mesh (one round trip).
    Refused,
}

impl Step {
    /// The name shown in trace viewers.
    pub fn name(self) -> &'static str {
        match self {
            Step::ConnectionWait => "wait for connection",
            Step::TcpConnect => "tcp connect",
            Step::TlsClientHello => "tls handshake: client hello",
            Step::TlsKeyExchange => "tls handshake: server flight, client key exchange",
            Step::TlsServerFlight => "tls handshake: server flight",
            Step::CoreWait => "wait for core",
            Step::CallerCpu => "caller cpu",
            Step::HandshakeCpu => "tls handshake cpu",
            Step::WaypointCpu => "waypoint proxy",
            Step::InboundProxyCpu => "inbound proxy",
            Step::PolicyHop => "policy check: sidecar hop",
            Step::PolicyCpu => "policy check: sidecar",
            Step::WorkerWait => "wait for worker",
            Step::QueueWait => "wait for queue room",
            Step::ServiceCpu => "cpu",
            Step::RequestTransit => "network: request",
            Step::WaypointTransit => "network: waypoint to destination",
            Step::ResponseTransit => "network: response",
            Step::Backoff => "retry backoff",
            Step::External => "external service",
            Step::Refused => "refused by strict callee",
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
            Step::ConnectionWait | Step::CoreWait | Step::WorkerWait | Step::QueueWait => {
                a[Span::Queueing as usize] = d
            }
            Step::TcpConnect
            | Step::TlsClientHello
            | Step::TlsKeyExchange
            | Step::TlsServerFlight => a[Span::HandshakeRtt as usize] = d,
            Step::Backoff => a[Span::Retry as usize] = d,
            Step::External => a[Span::External as usize] = d,
            Step::Refused => a[Span::Network as usize] = d,
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
