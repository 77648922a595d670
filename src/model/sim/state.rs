//! The plain state the phases share: a call's state and its costs, the
//! replicas, TLS peers, connection pools and timer lanes. Data only; the
//! phase files act on it through the `Simulation`, and keeping it here lets
//! `mod.rs` hold it without importing the phase files (imports point one
//! way: phases -> `mod.rs` -> `state.rs`).

use std::collections::VecDeque;

use crate::engine::EventKey;
use crate::model::cost::{Attribution, CpuParts};
use crate::model::topology::{EndpointId, Reason, ZoneId};
use crate::units::Nanos;

/// "No such slot/replica/user/station".
pub(super) const NONE: u32 = u32::MAX;

/// The pool of a call that holds a connection of its own (`reuse =
/// "per-request"`): opened for it and closed with its response, nobody
/// else can see or take it, so no pool keeps it.
pub(super) const OWN: u32 = NONE - 1;

/// What a call is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// A user request from the client.
    Root,
    /// A call of a call graph.
    Child,
    /// A policy check at the policy service.
    Authz,
    /// A token fetch at the identity service.
    Token,
}

/// Where a call is in its life; what the next STEP or CPU_DONE means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    Token,
    Connect,
    TcpRtt,
    OriginJob,
    HandshakeOut,
    ServerHandshake,
    /// TLS 1.2 full: the server's first flight back and the client's key
    /// exchange out.
    HandshakeKeyExchange,
    /// TLS 1.2 full: the server's CPU on the client's key exchange.
    ServerFinish,
    /// TLS 1.2 full: the client's turn on the server's last flight
    /// (`client_finish`), before the first request.
    ClientFinish,
    HandshakeBack,
    Request,
    WaypointJob,
    WaypointOut,
    DestJob,
    AuthzHop,
    AuthzJob,
    AuthzRemote,
    /// Waiting for a connection of the caller's client-side pool.
    PoolWait,
    Worker,
    ServiceJob,
    /// A slow call's added latency (`slow`), after its own CPU.
    Slow,
    /// An external service's answer (a pure delay).
    External,
    /// A strict callee's refusal on its way back (one round trip).
    Refused,
    Children,
    /// A publish the broker holds until its queue has room (`broker.rs`).
    QueueBlocked,
    Response,
    Backoff,
}

/// The handshake a new connection performs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Handshake {
    None,
    Full,
    Resumed,
    ZeroRtt,
}

/// Per-call state, kept in a slab.
#[derive(Debug, Clone, Copy)]
pub(super) struct Call {
    /// Randomness key: derived from the request and the call's position in the
    /// call graph, so the same logical call draws the same values across designs.
    pub(super) key: u64,
    pub(super) kind: Kind,
    pub(super) phase: Phase,
    /// The caller's call slot, NONE for a user request.
    pub(super) parent: u32,
    /// The call site (`Topology::calls`), NONE unless `Child`.
    pub(super) spec: u32,
    pub(super) endpoint: EndpointId,
    /// Index into `Workload::entries` (user requests only).
    pub(super) entry: u32,
    /// Chosen replica (global index).
    pub(super) replica: u32,
    /// The caller's replica, NONE for the client.
    pub(super) caller_replica: u32,
    /// TLS/connection endpoints: origin and destination peers.
    pub(super) origin: u32,
    pub(super) dest: u32,
    /// Connection pool and connection in it, NONE while none is held
    /// (OWN: a connection of its own, in no pool).
    pub(super) pool: u32,
    pub(super) conn: u32,
    /// The caller's client-side pool it waits in or holds a connection of
    /// (`client_pool.rs`), NONE outside one.
    pub(super) client_pool: u32,
    pub(super) handshake: Handshake,
    /// Closed-loop user that sent it (user requests only), else NONE.
    pub(super) user: u32,
    pub(super) stage: u32,
    pub(super) pending: u32,
    pub(super) repeat: u32,
    pub(super) attempt: u32,
    pub(super) first_sent: Nanos,
    /// Station of the current job (NONE: a client-side delay, no station).
    pub(super) station: u32,
    /// When the current phase began (for attribution).
    pub(super) mark: Nanos,
    /// Part of the current transit that is local proxy hops.
    pub(super) local: Nanos,
    /// Waypoint replica the call goes through (NONE without waypoints).
    pub(super) waypoint: u32,
    pub(super) measured: bool,
    pub(super) failed: bool,
    /// Why it failed, once it has (a call whose child failed: `Error`).
    pub(super) reason: Option<Reason>,
    pub(super) abandoned: bool,
    /// Failed for its caller by its replica's crash (`down.rs`).
    pub(super) crashed: bool,
}

/// Pending timeouts that share one duration. Their expiries arrive in the
/// order they were armed, so a FIFO holds them and only the earliest sits in
/// the event queue: the heap does not fill with timeouts of calls that
/// finished long ago (a 5 s client timeout at 1500 rps would be 7500 events).
#[derive(Debug)]
pub(super) struct TimerLane {
    pub(super) delay: Nanos,
    /// (expiry, call slot, slot generation when armed).
    pub(super) pending: VecDeque<(Nanos, u32, u32)>,
    /// An event for the front entry is in the queue.
    pub(super) armed: bool,
}

/// The bulky per-call figures, beside the slab (indexed by slot) so that
/// the hot `Call` stays small to copy.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Costs {
    /// The current job's demand by CPU category.
    pub(super) parts: CpuParts,
    /// The off-path tail of the current job, by category (a proxy's
    /// `off_path_fraction`, an endpoint's or the client's `cpu_off_path`):
    /// the core stays busy for it after the call has moved on.
    pub(super) off: CpuParts,
    /// CPU owed to the service's own cores, gathered on the way in (a policy
    /// sidecar job may run in between).
    pub(super) service_parts: CpuParts,
    /// The off-path tail of `service_parts` (a sidecar on the pod's cores).
    pub(super) service_off: CpuParts,
    /// The wake-up the current job paid before it ran (it found its core
    /// idle): queueing time.
    pub(super) wake: Nanos,
    /// Time spent so far, by critical-path span.
    pub(super) attr: Attribution,
    /// The place in the event order where a chained job ended, its end not
    /// yet accounted (0: none; a job has demand, so it never ends at 0).
    pub(super) ended: EventKey,
}

/// A running replica.
#[derive(Debug)]
pub(super) struct Replica {
    /// The service it is a replica of.
    pub(super) service: u32,
    pub(super) zone: ZoneId,
    /// The topology node it runs on (`[nodes]`), NONE if none.
    pub(super) host: u32,
    /// Its cores' station (a node's, shared, when it runs on one).
    pub(super) cores: u32,
    /// Its sidecar proxy's station (may equal `cores`), NONE without one.
    pub(super) sidecar: u32,
    /// Its policy sidecar's station, NONE without one.
    pub(super) policy: u32,
    pub(super) workers: u32,
    pub(super) limit: u32,
    pub(super) waiting: VecDeque<u32>,
    /// Its service jobs waiting for one of its cores.
    pub(super) queued_jobs: u32,
    /// Most calls that may wait for a worker or a core (NONE: unbounded).
    pub(super) queue_limit: u32,
    /// Calls sent here and not yet answered; where callers read it, an
    /// answer already given may still be counted until the count is next
    /// read (`chain.rs`).
    pub(super) outstanding: u32,
    /// When this replica's token expires.
    pub(super) token_expiry: Nanos,
    /// A service outside the system: no cores, no sidecar, its own TLS.
    pub(super) external: bool,
}

/// A token bucket (`rate_limit`) of one endpoint at one replica.
#[derive(Debug, Clone, Copy)]
pub(super) struct Bucket {
    /// Tokens at `at`.
    pub(super) tokens: f64,
    pub(super) at: Nanos,
}

/// A TLS/connection endpoint: a replica (library or sidecar), the client, or
/// a node proxy.
#[derive(Debug, Clone, Copy)]
pub(super) struct Peer {
    pub(super) zone: ZoneId,
    /// Where its CPU runs; NONE for the client (outside the system).
    pub(super) station: u32,
    /// Certificate generation; bumps at each rotation.
    pub(super) epoch: u32,
    /// True for proxies (sidecar, node): app <-> proxy is a local hop.
    pub(super) proxy: bool,
    /// The topology node (`[nodes]`) it runs on, NONE if none: two peers on
    /// one node are a loopback apart.
    pub(super) host: u32,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Conn {
    pub(super) alive: bool,
    pub(super) ready: bool,
    pub(super) streams: u32,
    pub(super) opened: Nanos,
    pub(super) idle_since: Nanos,
    pub(super) origin_epoch: u32,
    pub(super) dest_epoch: u32,
}

#[derive(Debug, Default)]
pub(super) struct Pool {
    pub(super) conns: Vec<Conn>,
    pub(super) alive: u32,
    /// Calls waiting for a connection.
    pub(super) waiting: VecDeque<u32>,
}

/// Total demand of a job; saturating, as a tail draw may be huge.
pub(super) fn sum(parts: &CpuParts) -> Nanos {
    parts.iter().fold(0, |a: Nanos, &b| a.saturating_add(b))
}

impl Call {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new(
        key: u64,
        kind: Kind,
        parent: u32,
        spec: u32,
        endpoint: EndpointId,
        caller_replica: u32,
        now: Nanos,
        measured: bool,
    ) -> Call {
        Call {
            key,
            kind,
            phase: Phase::Connect,
            parent,
            spec,
            endpoint,
            entry: NONE,
            replica: NONE,
            caller_replica,
            origin: NONE,
            dest: NONE,
            pool: NONE,
            conn: NONE,
            client_pool: NONE,
            handshake: Handshake::None,
            user: NONE,
            stage: 0,
            pending: 0,
            repeat: 0,
            attempt: 0,
            first_sent: now,
            station: NONE,
            mark: now,
            local: 0,
            waypoint: NONE,
            measured,
            failed: false,
            reason: None,
            abandoned: false,
            crashed: false,
        }
    }
}
