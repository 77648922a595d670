//! One replication of one topology under one design: the call state machine
//! of MODEL.md s3, driven by the engine's event queue.
//!
//! A call is one attempt of one caller -> callee request. Its life, each
//! arrow a cost hook that the design switches on or off:
//!
//! caller: token refresh -> pick replica -> get a connection (pool, wait or
//! open: TCP round trip) -> origin job (client handshake CPU, outbound proxy,
//! bulk crypto) -> handshake flights (server handshake CPU between them) ->
//! request transit (plus local proxy hops) [-> waypoint job -> transit]
//! callee: inbound proxy job (JWT, policy in the proxy) -> policy sidecar or
//! remote policy call -> worker thread -> service job (business CPU, in-process
//! JWT and policy, library crypto) -> stages of child calls -> response
//! transit -> caller releases the connection.
//!
//! A station's CPU for a call is charged as one job, the first time the call
//! reaches that station; the response-path share (bulk crypto of the answer)
//! rides with it. Local hops to proxies are folded into the adjacent network
//! transit. Both keep the event count per call low without changing totals.
//!
//! Timeouts abandon an attempt on the caller's side only: the callee keeps
//! working (and consuming cores) until it is done, which is how retries
//! amplify load on a saturated service.

use std::collections::VecDeque;

use rustc_hash::FxHashMap;

use super::cost::{Attribution, CPU_CATEGORIES, Cpu, CpuParts, Span, span_of};
use super::design::{
    AuthzMode, Design, ProxyMode, Reuse, Scope, Security, Termination, TicketCache, TlsVersion,
};
use super::dist::{Dist, round};
use super::metrics::{
    Counters, Outcomes, RunMetrics, Saturation, SeriesBucket, StationMetrics, StationOwner,
};
pub use super::probe::{NoProbe, Probe};
use super::timeline::{CallKind, HandshakeKind, Side, Step};
use super::topology::{Arrivals, Balance, EndpointId, Topology, Window, ZoneId, replay_time};
use crate::engine::rng::{self, Component, StreamRng, Streams, derive, unit_f64};
use crate::engine::{EventQueue, Slab, SlotRef, Station};
use crate::units::{NANOS_PER_SEC, Nanos};

/// "No such slot/replica/user/station".
const NONE: u32 = u32::MAX;
/// Past this many calls in flight a run is saturated beyond doubt; stopping
/// keeps memory bounded.
const MAX_CALLS_IN_FLIGHT: usize = 4_000_000;

/// Event kinds.
mod ev {
    pub const ARRIVAL: u8 = 0;
    pub const SEND: u8 = 1;
    pub const STEP: u8 = 2;
    pub const CPU_DONE: u8 = 3;
    pub const TIMEOUT: u8 = 4;
    pub const WINDOW_START: u8 = 5;
    pub const WINDOW_END: u8 = 6;
    pub const DRAIN_LIMIT: u8 = 7;
    pub const ROTATE: u8 = 8;
}

/// Labels for keys derived from a call's key.
mod label {
    pub const CPU: u64 = 1;
    pub const REQUEST_TRANSIT: u64 = 2;
    pub const RESPONSE_TRANSIT: u64 = 3;
    pub const PROBABILITY: u64 = 4;
    pub const BALANCE: u64 = 5;
    pub const ATTEMPT: u64 = 6;
    pub const REPEAT: u64 = 7;
    // Security draws use labels of their own, so switching a design on or off
    // never shifts the business draws above (common random numbers).
    pub const HANDSHAKE: u64 = 16;
    pub const PROXY: u64 = 17;
    pub const AUTHZ: u64 = 18;
    pub const INFRA: u64 = 19;
    pub const LOCAL: u64 = 20;
    pub const WAYPOINT: u64 = 21;
    /// Which requests an export samples: from the request's key, so the
    /// same requests whatever the design.
    pub const SAMPLE: u64 = 22;
}

/// What a call is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
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
enum Phase {
    Token,
    Connect,
    TcpRtt,
    OriginJob,
    HandshakeOut,
    ServerHandshake,
    HandshakeBack,
    Request,
    WaypointJob,
    WaypointOut,
    DestJob,
    AuthzHop,
    AuthzJob,
    AuthzRemote,
    Worker,
    ServiceJob,
    Children,
    Response,
    Backoff,
}

/// The handshake a new connection performs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Handshake {
    None,
    Full,
    Resumed,
    ZeroRtt,
}

/// Per-call state, kept in a slab.
#[derive(Debug, Clone, Copy)]
struct Call {
    /// Randomness key: derived from the request and the call's position in the
    /// call graph, so the same logical call draws the same values across designs.
    key: u64,
    kind: Kind,
    phase: Phase,
    /// The caller's call slot, NONE for a user request.
    parent: u32,
    /// The call site (`Topology::calls`), NONE unless `Child`.
    spec: u32,
    endpoint: EndpointId,
    /// Index into `Workload::entries` (user requests only).
    entry: u32,
    /// Chosen replica (global index).
    replica: u32,
    /// The caller's replica, NONE for the client.
    caller_replica: u32,
    /// TLS/connection endpoints: origin and destination peers.
    origin: u32,
    dest: u32,
    /// Connection pool and connection in it, NONE while none is held.
    pool: u32,
    conn: u32,
    handshake: Handshake,
    /// Closed-loop user that sent it (user requests only), else NONE.
    user: u32,
    stage: u32,
    pending: u32,
    repeat: u32,
    attempt: u32,
    first_sent: Nanos,
    /// Station of the current job (NONE: a client-side delay, no station).
    station: u32,
    /// When the current phase began (for attribution).
    mark: Nanos,
    /// Part of the current transit that is local proxy hops.
    local: Nanos,
    /// Waypoint replica the call goes through (NONE without waypoints).
    waypoint: u32,
    measured: bool,
    failed: bool,
    abandoned: bool,
}

/// Pending timeouts that share one duration. Their expiries arrive in the
/// order they were armed, so a FIFO holds them and only the earliest sits in
/// the event queue: the heap does not fill with timeouts of calls that
/// finished long ago (a 5 s client timeout at 1500 rps would be 7500 events).
#[derive(Debug)]
struct TimerLane {
    delay: Nanos,
    /// (expiry, call slot, slot generation when armed).
    pending: VecDeque<(Nanos, u32, u32)>,
    /// An event for the front entry is in the queue.
    armed: bool,
}

/// The bulky per-call figures, beside the slab (indexed by slot) so that
/// the hot `Call` stays small to copy.
#[derive(Debug, Clone, Copy, Default)]
struct Costs {
    /// The current job's demand by CPU category.
    parts: CpuParts,
    /// CPU owed to the service's own cores, gathered on the way in (a policy
    /// sidecar job may run in between).
    service_parts: CpuParts,
    /// Time spent so far, by critical-path span.
    attr: Attribution,
}

/// A running replica.
#[derive(Debug)]
struct Replica {
    zone: ZoneId,
    /// Its own cores.
    cores: u32,
    /// Its sidecar proxy's station (may equal `cores`), NONE without one.
    sidecar: u32,
    /// Its policy sidecar's station, NONE without one.
    policy: u32,
    workers: u32,
    limit: u32,
    waiting: VecDeque<u32>,
    outstanding: u32,
    /// When this replica's token expires.
    token_expiry: Nanos,
}

/// A TLS/connection endpoint: a replica (library or sidecar), the client, or
/// a node proxy.
#[derive(Debug, Clone, Copy)]
struct Peer {
    zone: ZoneId,
    /// Where its CPU runs; NONE for the client (outside the system).
    station: u32,
    /// Certificate generation; bumps at each rotation.
    epoch: u32,
    /// True for proxies (sidecar, node): app <-> proxy is a local hop.
    proxy: bool,
}

#[derive(Debug, Clone, Copy)]
struct Conn {
    alive: bool,
    ready: bool,
    streams: u32,
    opened: Nanos,
    idle_since: Nanos,
    origin_epoch: u32,
    dest_epoch: u32,
}

#[derive(Debug, Default)]
struct Pool {
    conns: Vec<Conn>,
    alive: u32,
    /// Calls waiting for a connection.
    waiting: VecDeque<u32>,
}

/// The state of one replication.
pub struct Simulation<'t, P: Probe = NoProbe> {
    topo: &'t Topology,
    design: &'t Design,
    queue: EventQueue,
    calls: Slab<Call>,
    costs: Vec<Costs>,
    stations: Vec<Station>,
    owners: Vec<StationOwner>,
    replicas: Vec<Replica>,
    replica_base: Vec<u32>,
    next_replica: Vec<u32>,
    peers: Vec<Peer>,
    client_peer: u32,
    /// Node-proxy peer of each replica (NONE without node proxies).
    node_peer: Vec<u32>,
    waypoints: Vec<(ZoneId, u32)>,
    next_waypoint: u32,
    pools: Vec<Pool>,
    pool_index: FxHashMap<(u32, u32), u32>,
    /// Ticket expiry per (origin peer, destination peer or service), and for
    /// per-service caches the replica peer that issued it.
    tickets: FxHashMap<(u32, u32), (Nanos, u32)>,
    /// Authz decision cache expiry per (replica, caller endpoint, endpoint).
    decisions: FxHashMap<(u32, u32, u32), Nanos>,
    /// Verified-token cache expiry per (enforcing peer, caller peer).
    verified: FxHashMap<(u32, u32), Nanos>,
    timers: Vec<TimerLane>,
    /// Connections cost nothing and nothing runs at the origin (plaintext,
    /// no proxies, established connections with unlimited streams): calls skip
    /// the pool and origin bookkeeping entirely.
    direct: bool,
    streams: Streams,
    arrival_rng: StreamRng,
    entry_rng: StreamRng,
    user_rngs: Vec<StreamRng>,
    /// Certificate renewal jitter, one stream per peer (order-independent).
    rotation_rngs: Vec<StreamRng>,
    entry_cdf: Vec<f64>,
    window_start: Nanos,
    window_end: Nanos,
    next_request: u64,
    in_system: u64,
    in_system_at_start: u64,
    in_system_area: u128,
    last_change: Nanos,
    measured_outstanding: u64,
    draining: bool,
    done: bool,
    metrics: RunMetrics,
    /// Picks requests to export (`record::run_and_pick`) or follows picked
    /// requests' calls (`record::record`). `NoProbe`, the default, is a
    /// zero-sized type whose hooks compile to nothing: a normal run pays
    /// nothing for exports.
    probe: P,
}

/// Total demand of a job; saturating, as a tail draw may be huge.
fn sum(parts: &CpuParts) -> Nanos {
    parts.iter().fold(0, |a: Nanos, &b| a.saturating_add(b))
}

impl<'t> Simulation<'t> {
    /// Prepares replication `replication` of `topo` under `design`.
    pub fn new(topo: &'t Topology, design: &'t Design, replication: u32) -> Self {
        Simulation::with_probe(topo, design, replication, NoProbe)
    }
}

impl<'t, P: Probe> Simulation<'t, P> {
    /// [`Simulation::new`], reporting to `probe`.
    pub(crate) fn with_probe(
        topo: &'t Topology,
        design: &'t Design,
        replication: u32,
        probe: P,
    ) -> Self {
        let w = &topo.workload;
        let streams = Streams::new(w.seed, replication);
        let window_start = w.warmup;
        let window_end = match w.window {
            Window::Duration(d) => window_start.saturating_add(d),
            Window::Requests(_) => Nanos::MAX,
        };
        let window = (window_start, window_end);
        let mut stations = Vec::new();
        let mut owners = Vec::new();
        let mut add_station = |servers: u32, owner: StationOwner| {
            stations.push(Station::new(servers, window));
            owners.push(owner);
            (stations.len() - 1) as u32
        };
        let sidecars = design.proxy.mode == ProxyMode::Sidecar;
        let mut replicas = Vec::new();
        let mut replica_base = Vec::new();
        for (s, svc) in topo.services.iter().enumerate() {
            replica_base.push(replicas.len() as u32);
            for i in 0..svc.replicas {
                let cores = add_station(svc.cores, StationOwner::Service(s as u32));
                let sidecar = match (sidecars, design.proxy.shares_service_cores) {
                    (false, _) => NONE,
                    (true, true) => cores,
                    (true, false) => {
                        add_station(design.proxy.cost.cores, StationOwner::Sidecar(s as u32))
                    }
                };
                let policy = if design.authz.mode == AuthzMode::Sidecar {
                    add_station(
                        design.authz.sidecar_cores,
                        StationOwner::PolicySidecar(s as u32),
                    )
                } else {
                    NONE
                };
                replicas.push(Replica {
                    zone: svc.zone_of(i),
                    cores,
                    sidecar,
                    policy,
                    workers: 0,
                    limit: svc.concurrency.unwrap_or(NONE),
                    waiting: VecDeque::new(),
                    outstanding: 0,
                    token_expiry: 0,
                });
            }
        }
        // Peers: one per replica (its library or its sidecar), the client,
        // then one node proxy per zone.
        let mut peers: Vec<Peer> = replicas
            .iter()
            .map(|r| Peer {
                zone: r.zone,
                station: if design.transport.terminate == Termination::Sidecar {
                    r.sidecar
                } else {
                    r.cores
                },
                epoch: 0,
                proxy: design.transport.terminate == Termination::Sidecar,
            })
            .collect();
        let client_peer = peers.len() as u32;
        peers.push(Peer {
            zone: w.client_zone,
            station: NONE,
            epoch: 0,
            proxy: false,
        });
        // Node proxies: one per node, `nodes_per_zone` nodes in each zone;
        // replica r runs on node r mod nodes_per_zone of its zone.
        let mut node_peer = vec![NONE; replicas.len()];
        if design.proxy.mode == ProxyMode::Node {
            let nodes = design.proxy.nodes_per_zone as usize;
            let mut node_of = vec![NONE; topo.zones.len() * nodes];
            for (r, np) in node_peer.iter_mut().enumerate() {
                let z = replicas[r].zone as usize;
                let slot = &mut node_of[z * nodes + r % nodes];
                if *slot == NONE {
                    let station =
                        add_station(design.proxy.cost.cores, StationOwner::Node(z as ZoneId));
                    *slot = peers.len() as u32;
                    peers.push(Peer {
                        zone: z as ZoneId,
                        station,
                        epoch: 0,
                        proxy: true,
                    });
                }
                *np = *slot;
            }
        }
        let waypoints = design.proxy.waypoint.as_ref().map_or(Vec::new(), |wp| {
            (0..wp.replicas)
                .map(|i| {
                    let zone = (i as usize % topo.zones.len()) as ZoneId;
                    (zone, add_station(wp.cost.cores, StationOwner::Waypoint))
                })
                .collect()
        });
        let mut acc = 0.0;
        let entry_cdf = w
            .entries
            .iter()
            .map(|&(_, weight)| {
                acc += weight;
                acc
            })
            .collect();
        let users = match &w.arrivals {
            Arrivals::Closed { users, .. } => *users,
            _ => 0,
        };
        let mut delays: Vec<Nanos> = topo.calls.iter().filter_map(|c| c.timeout).collect();
        delays.extend(w.timeout);
        delays.sort_unstable();
        delays.dedup();
        let timers = delays
            .into_iter()
            .map(|delay| TimerLane {
                delay,
                pending: VecDeque::new(),
                armed: false,
            })
            .collect();
        let k = &design.connections;
        let direct = k.reuse == Reuse::Multiplex
            && k.prewarm
            && k.max_concurrent_streams == u32::MAX
            && design.transport.security == Security::Plaintext
            && design.proxy.mode == ProxyMode::None;
        let peers_len = peers.len();
        Simulation {
            timers,
            direct,
            topo,
            design,
            queue: EventQueue::new(),
            calls: Slab::new(),
            costs: Vec::new(),
            stations,
            owners,
            replicas,
            replica_base,
            next_replica: vec![0; topo.services.len()],
            peers,
            client_peer,
            node_peer,
            waypoints,
            next_waypoint: 0,
            pools: Vec::new(),
            pool_index: FxHashMap::default(),
            tickets: FxHashMap::default(),
            decisions: FxHashMap::default(),
            verified: FxHashMap::default(),
            streams,
            arrival_rng: streams.stream(Component::Arrivals, 0),
            entry_rng: streams.stream(Component::EntryMix, 0),
            user_rngs: (0..users)
                .map(|u| streams.stream(Component::Users, u64::from(u)))
                .collect(),
            rotation_rngs: (0..peers_len)
                .map(|p| streams.stream(Component::Rotation, p as u64))
                .collect(),
            entry_cdf,
            window_start,
            window_end,
            next_request: 0,
            in_system: 0,
            in_system_at_start: 0,
            in_system_area: 0,
            last_change: 0,
            measured_outstanding: 0,
            draining: false,
            done: false,
            metrics: RunMetrics {
                endpoints: vec![Outcomes::default(); w.entries.len()],
                edges: vec![Outcomes::default(); topo.edges.len()],
                series_interval: series_interval(w),
                ..RunMetrics::default()
            },
            probe,
        }
    }

    /// [`Self::run`], handing back the probe.
    pub(crate) fn run_probed(mut self) -> (RunMetrics, P) {
        self.simulate_all();
        let metrics = self.finish();
        (metrics, self.probe)
    }

    /// Runs to the end of the window (and the drain of measured requests) and
    /// returns what was measured.
    pub fn run(mut self) -> RunMetrics {
        self.simulate_all();
        self.finish()
    }

    fn simulate_all(&mut self) {
        self.start();
        while let Some(event) = self.queue.pop() {
            match event.kind() {
                ev::ARRIVAL => self.arrival(event.target),
                ev::SEND => self.send(event.target),
                ev::STEP => self.step(event.target),
                ev::CPU_DONE => self.cpu_done(event.target),
                ev::TIMEOUT => self.timer_fired(event.target),
                ev::WINDOW_START => self.in_system_at_start = self.in_system,
                ev::WINDOW_END => self.window_closed(),
                ev::DRAIN_LIMIT => self.drain_limit(),
                ev::ROTATE => self.rotate(event.target),
                other => unreachable!("unknown event kind {other}"),
            }
            if self.done || (self.draining && self.measured_outstanding == 0) {
                break;
            }
            if self.calls.len() > MAX_CALLS_IN_FLIGHT {
                self.saturate(format!(
                    "more than {MAX_CALLS_IN_FLIGHT} calls in flight: queues grow without bound"
                ));
                break;
            }
        }
    }

    fn start(&mut self) {
        let w = &self.topo.workload;
        self.queue
            .schedule_at(self.window_start, ev::WINDOW_START, 0, 0);
        if let Window::Duration(_) = w.window {
            self.queue
                .schedule_at(self.window_end, ev::WINDOW_END, 0, 0);
        }
        match &w.arrivals {
            Arrivals::Poisson { .. } | Arrivals::Constant { .. } => {
                let gap = self.next_gap();
                self.queue.schedule(gap, ev::ARRIVAL, NONE, 0);
            }
            Arrivals::Replay { times, speed, .. } => {
                self.queue
                    .schedule_at(replay_time(times[0], *speed), ev::ARRIVAL, NONE, 0);
            }
            Arrivals::Closed { users, think } => {
                // Stagger the users by one think time so they do not all fire at 0.
                for u in 0..*users {
                    let t = think.sample(&mut self.user_rngs[u as usize]);
                    self.queue.schedule(t, ev::ARRIVAL, u, 0);
                }
            }
        }
        if self.design.transport.security != Security::Plaintext
            && self.design.identity.rotation_closes_connections
        {
            // Every certificate is issued at time 0, as after a deployment;
            // without jitter they all rotate together (a storm). Renewals
            // that close nothing change nothing, so they are not simulated.
            for p in 0..self.peers.len() as u32 {
                if p != self.client_peer {
                    let t = self.renewal_interval(p);
                    self.queue.schedule(t, ev::ROTATE, p, 0);
                }
            }
        }
    }

    fn next_gap(&mut self) -> Nanos {
        match self.topo.workload.arrivals {
            Arrivals::Poisson { rate } => {
                let u = unit_f64(&mut self.arrival_rng);
                round(-(1.0 - u).ln() / rate * NANOS_PER_SEC as f64)
            }
            Arrivals::Constant { rate } => round(NANOS_PER_SEC as f64 / rate),
            Arrivals::Closed { .. } | Arrivals::Replay { .. } => {
                unreachable!("closed loops and replays draw no gaps")
            }
        }
    }

    // ---- user requests -------------------------------------------------

    /// A new user request: from the open-loop process (`user` NONE) or a
    /// closed-loop user who finished thinking.
    fn arrival(&mut self, user: u32) {
        let now = self.queue.now();
        let topo = self.topo;
        let entry = if let Arrivals::Replay {
            times,
            entries,
            speed,
        } = &topo.workload.arrivals
        {
            // Request k is the k-th recorded one: its time and entry are given.
            let k = self.next_request as usize;
            if let Some(&next) = times.get(k + 1) {
                self.queue
                    .schedule_at(replay_time(next, *speed), ev::ARRIVAL, NONE, 0);
            }
            entries[k] as usize
        } else {
            if user == NONE {
                let gap = self.next_gap();
                self.queue.schedule(gap, ev::ARRIVAL, NONE, 0);
            }
            let u = unit_f64(&mut self.entry_rng);
            self.entry_cdf
                .partition_point(|&c| c <= u)
                .min(self.entry_cdf.len() - 1)
        };
        let measured = !self.draining && now >= self.window_start && now < self.window_end;
        let request = self.next_request;
        let key = self.streams.key(Component::Requests, request);
        self.next_request += 1;
        if measured {
            self.metrics.arrived += 1;
            self.measured_outstanding += 1;
        }
        self.change_in_system(1);
        let slot = self.insert(Call::new(
            key,
            Kind::Root,
            NONE,
            NONE,
            self.topo.workload.entries[entry].0,
            NONE,
            now,
            measured,
        ));
        let c = self.calls.get_mut(slot);
        c.entry = entry as u32;
        c.user = user;
        // A user request never repeats or retries: those fields hold its
        // arrival index, which exports need (see `next_request_of`).
        c.repeat = request as u32;
        c.attempt = (request >> 32) as u32;
        self.send(slot);
        if let Window::Requests(n) = self.topo.workload.window
            && measured
            && self.metrics.arrived == n
        {
            self.set_window_end(now + 1);
            self.window_closed();
        }
    }

    /// The client has the outcome of a user request (response or timeout).
    fn request_finished(&mut self, slot: u32, ok: bool) {
        let now = self.queue.now();
        let c = *self.calls.get(slot);
        self.change_in_system(-1);
        if now >= self.window_start && now < self.window_end {
            self.metrics.finished_in_window += 1;
        }
        let latency = now - c.first_sent;
        if c.measured {
            let o = &mut self.metrics.endpoints[c.entry as usize];
            o.latency.record(latency);
            o.failed += u64::from(!ok);
            if ok {
                debug_assert_eq!(
                    self.costs[slot as usize].attr.iter().sum::<u64>(),
                    latency,
                    "attribution must add up"
                );
                o.attribution
                    .record(latency, &self.costs[slot as usize].attr);
            }
            self.measured_outstanding -= 1;
            if P::ON && ok && self.probe.selector().is_some() {
                let request = self.next_request_of(slot);
                if let Some(sel) = self.probe.selector() {
                    sel.offer(request, derive(c.key, label::SAMPLE), latency);
                }
            }
        }
        if let Some(rec) = self.probe.recorder() {
            rec.request_done(slot, now, ok, latency, &self.costs[slot as usize].attr);
        }
        if let Some(bucket) = self.series_bucket(now) {
            bucket.record(latency, ok);
        }
        if c.user != NONE
            && let Arrivals::Closed { think, .. } = &self.topo.workload.arrivals
        {
            let t = think.sample(&mut self.user_rngs[c.user as usize]);
            self.queue.schedule(t, ev::ARRIVAL, c.user, 0);
        }
    }

    /// The time-series bucket of `t`; None past the series' bounded length
    /// (the window plus its drain are far shorter).
    fn series_bucket(&mut self, t: Nanos) -> Option<&mut SeriesBucket> {
        const MAX_BUCKETS: u64 = 100_000;
        let b = t / self.metrics.series_interval;
        if b >= MAX_BUCKETS {
            return None;
        }
        let b = b as usize;
        if self.metrics.series.len() <= b {
            self.metrics.series.resize(b + 1, SeriesBucket::default());
        }
        Some(&mut self.metrics.series[b])
    }

    fn change_in_system(&mut self, delta: i64) {
        let now = self.queue.now();
        let from = self.last_change.max(self.window_start);
        let to = now.min(self.window_end);
        if to > from {
            self.in_system_area += u128::from(self.in_system) * u128::from(to - from);
        }
        self.last_change = now;
        self.in_system = self.in_system.wrapping_add_signed(delta);
    }

    // ---- bookkeeping ---------------------------------------------------

    fn insert(&mut self, call: Call) -> u32 {
        self.metrics.calls += 1;
        let slot = self.calls.insert(call).index;
        let i = slot as usize;
        if i < self.costs.len() {
            self.costs[i] = Costs::default();
        } else {
            self.costs.resize(i + 1, Costs::default());
        }
        self.metrics.peak_calls_in_flight = self.metrics.peak_calls_in_flight.max(self.calls.len());
        if P::ON && self.probe.recorder().is_some() {
            self.note_insert(slot);
        }
        slot
    }

    /// Closes the current phase: its time goes to `span`.
    #[inline]
    fn span(&mut self, slot: u32, span: Span) {
        let now = self.queue.now();
        let c = self.calls.get_mut(slot);
        let start = c.mark;
        self.costs[slot as usize].attr[span as usize] += now - start;
        c.mark = now;
        if P::ON && self.probe.recorder().is_some() {
            self.note_wait(slot, start, now);
        }
    }

    /// Waits `delay` in `phase`; the STEP event continues the call.
    #[inline]
    fn wait(&mut self, slot: u32, phase: Phase, delay: Nanos) {
        self.calls.get_mut(slot).phase = phase;
        self.queue.schedule(delay, ev::STEP, slot, 0);
    }

    fn counters(&mut self, slot: u32) -> Option<&mut Counters> {
        if self.calls.get(slot).measured {
            Some(&mut self.metrics.counters)
        } else {
            None
        }
    }

    // ---- caller side ---------------------------------------------------

    /// Caller side: (re)send a call, first refreshing the caller's token.
    fn send(&mut self, slot: u32) {
        let now = self.queue.now();
        let c = *self.calls.get(slot);
        if c.phase == Phase::Backoff {
            self.span(slot, Span::Retry);
        }
        if let Some(token) = &self.design.identity.token
            && c.kind == Kind::Child
            && self.replicas[c.caller_replica as usize].token_expiry <= now
        {
            // The first call to find the token expired fetches a new one; the
            // others carry on with the old one during the refresh.
            self.replicas[c.caller_replica as usize].token_expiry = now.saturating_add(token.ttl);
            if let Some(k) = self.counters(slot) {
                k.token_fetches += 1;
            }
            self.calls.get_mut(slot).phase = Phase::Token;
            self.infra_call(slot, Kind::Token, token.issuer);
            return;
        }
        self.dispatch(slot);
    }

    /// Starts a policy check or token fetch on behalf of `slot`.
    fn infra_call(&mut self, slot: u32, kind: Kind, endpoint: EndpointId) {
        let now = self.queue.now();
        let p = *self.calls.get(slot);
        let caller = if kind == Kind::Token {
            p.caller_replica
        } else {
            p.replica
        };
        let mut call = Call::new(
            derive(p.key, label::INFRA),
            kind,
            slot,
            NONE,
            endpoint,
            caller,
            now,
            p.measured,
        );
        call.attempt = p.attempt;
        let child = self.insert(call);
        self.dispatch(child);
    }

    /// Picks a replica and gets a connection to it.
    fn dispatch(&mut self, slot: u32) {
        let c = *self.calls.get(slot);
        let service = self.topo.endpoints[c.endpoint as usize].service;
        let replica = self.pick_replica(service, c.key);
        self.replicas[replica as usize].outstanding += 1;
        let origin = self.origin_peer(c.caller_replica);
        let dest = self.dest_peer(replica);
        {
            let c = self.calls.get_mut(slot);
            c.replica = replica;
            c.origin = origin;
            c.dest = dest;
        }
        if let Some(timeout) = self.timeout_of(&c) {
            self.arm_timer(slot, timeout);
        }
        if self.direct {
            return self.request(slot, 0);
        }
        self.acquire(slot);
    }

    fn origin_peer(&self, caller_replica: u32) -> u32 {
        if caller_replica == NONE {
            self.client_peer
        } else if self.design.proxy.mode == ProxyMode::Node {
            self.node_peer[caller_replica as usize]
        } else {
            caller_replica
        }
    }

    fn dest_peer(&self, replica: u32) -> u32 {
        if self.design.proxy.mode == ProxyMode::Node {
            self.node_peer[replica as usize]
        } else {
            replica
        }
    }

    fn timeout_of(&self, c: &Call) -> Option<Nanos> {
        match c.kind {
            Kind::Root => self.topo.workload.timeout,
            Kind::Child => self.topo.calls[c.spec as usize].timeout,
            Kind::Authz | Kind::Token => None,
        }
    }

    fn pick_replica(&mut self, service: u32, key: u64) -> u32 {
        let svc = &self.topo.services[service as usize];
        let base = self.replica_base[service as usize];
        let n = svc.replicas;
        if n == 1 {
            return base;
        }
        let turn = &mut self.next_replica[service as usize];
        let local = match svc.balance {
            Balance::RoundRobin => {
                let r = *turn;
                *turn = (r + 1) % n;
                r
            }
            Balance::Random => {
                let u = unit_f64(&mut rng::call_rng(derive(key, label::BALANCE)));
                ((u * f64::from(n)) as u32).min(n - 1)
            }
            Balance::LeastOutstanding => {
                // Scan from the round-robin pointer so ties rotate.
                let start = *turn;
                *turn = (start + 1) % n;
                (0..n)
                    .map(|k| (start + k) % n)
                    .min_by_key(|&r| self.replicas[(base + r) as usize].outstanding)
                    .unwrap_or(start)
            }
        };
        base + local
    }

    /// True if this call's hop is under TLS.
    fn encrypted(&self, c: &Call) -> bool {
        self.design.encrypts(c.kind == Kind::Root)
    }

    /// Takes a connection from the pool (origin, dest), opens one, or waits.
    fn acquire(&mut self, slot: u32) {
        let now = self.queue.now();
        let c = *self.calls.get(slot);
        let key = (c.origin, c.dest);
        let next = self.pools.len() as u32;
        let pool = *self.pool_index.entry(key).or_insert(next);
        if pool == next {
            let mut p = Pool::default();
            if self.design.connections.prewarm {
                p.conns.push(Conn {
                    alive: true,
                    ready: true,
                    streams: 0,
                    opened: 0,
                    idle_since: now,
                    origin_epoch: self.peers[c.origin as usize].epoch,
                    dest_epoch: self.peers[c.dest as usize].epoch,
                });
                p.alive = 1;
            }
            self.pools.push(p);
        }
        self.calls.get_mut(slot).pool = pool;
        let conns = self.design.connections;
        if conns.reuse != Reuse::PerRequest {
            let cap = if conns.reuse == Reuse::Pool {
                1
            } else {
                conns.max_concurrent_streams
            };
            let (oe, de) = (
                self.peers[c.origin as usize].epoch,
                self.peers[c.dest as usize].epoch,
            );
            let rotation_closes = self.design.identity.rotation_closes_connections;
            let p = &mut self.pools[pool as usize];
            for i in 0..p.conns.len() {
                let k = p.conns[i];
                if !k.alive {
                    continue;
                }
                let stale = (k.streams == 0
                    && now.saturating_sub(k.idle_since) >= conns.idle_timeout)
                    || conns.max_lifetime.is_some_and(|l| now - k.opened >= l)
                    || (rotation_closes && (k.origin_epoch != oe || k.dest_epoch != de));
                if stale {
                    if k.streams == 0 {
                        p.conns[i].alive = false;
                        p.alive -= 1;
                    }
                    continue;
                }
                if k.ready && k.streams < cap {
                    p.conns[i].streams += 1;
                    self.calls.get_mut(slot).conn = i as u32;
                    return self.connected(slot, false);
                }
            }
            if p.alive >= conns.max_per_destination {
                p.waiting.push_back(slot);
                self.calls.get_mut(slot).phase = Phase::Connect;
                if let Some(k) = self.counters(slot) {
                    k.connection_waits += 1;
                }
                return;
            }
        }
        self.open(slot);
    }

    /// Opens a new connection for `slot` in its pool.
    fn open(&mut self, slot: u32) {
        let now = self.queue.now();
        let c = *self.calls.get(slot);
        let conn = Conn {
            alive: true,
            ready: false,
            streams: 1,
            opened: now,
            idle_since: now,
            origin_epoch: self.peers[c.origin as usize].epoch,
            dest_epoch: self.peers[c.dest as usize].epoch,
        };
        let p = &mut self.pools[c.pool as usize];
        p.alive += 1;
        let index = match p.conns.iter().position(|k| !k.alive) {
            Some(i) => {
                p.conns[i] = conn;
                i
            }
            None => {
                p.conns.push(conn);
                p.conns.len() - 1
            }
        };
        let handshake = if self.encrypted(&c) {
            self.choose_handshake(slot)
        } else {
            Handshake::None
        };
        let call = self.calls.get_mut(slot);
        call.conn = index as u32;
        call.handshake = handshake;
        if let Some(k) = self.counters(slot) {
            k.connections_opened += 1;
            match handshake {
                Handshake::None => {}
                Handshake::Full => k.handshakes_full += 1,
                Handshake::Resumed => k.handshakes_resumed += 1,
                Handshake::ZeroRtt => k.handshakes_zero_rtt += 1,
            }
        }
        if let Some(bucket) = self.series_bucket(now) {
            bucket.connections_opened += 1;
            bucket.handshakes_full += u64::from(handshake == Handshake::Full);
        }
        self.connected(slot, true);
    }

    /// Full, resumed or 0-RTT, from the ticket cache.
    fn choose_handshake(&mut self, slot: u32) -> Handshake {
        let now = self.queue.now();
        let c = *self.calls.get(slot);
        let r = self.design.resumption;
        if !r.enabled {
            return Handshake::Full;
        }
        let key = self.ticket_key(&c);
        let hit = match self.tickets.get(&key) {
            Some(&(expiry, issuer)) if expiry > now => {
                if let Some(k) = self.counters(slot) {
                    k.resumption_attempts += 1;
                }
                // A ticket only works at the server that can decrypt it.
                issuer == c.dest
            }
            _ => false,
        };
        if !hit {
            return Handshake::Full;
        }
        if let Some(k) = self.counters(slot) {
            k.resumption_hits += 1;
        }
        if r.early_data && self.design.transport.version == TlsVersion::V13 {
            Handshake::ZeroRtt
        } else {
            Handshake::Resumed
        }
    }

    fn ticket_key(&self, c: &Call) -> (u32, u32) {
        match self.design.resumption.cache {
            TicketCache::PerReplica => (c.origin, c.dest),
            TicketCache::PerService => (
                c.origin,
                NONE - 1 - self.topo.endpoints[c.endpoint as usize].service,
            ),
        }
    }

    /// The call holds a connection; `new` if it must be set up first.
    fn connected(&mut self, slot: u32, new: bool) {
        let c = *self.calls.get(slot);
        if c.phase == Phase::Connect {
            self.span(slot, Span::Queueing);
        }
        if new && let Some(t) = self.probe.recorder().and_then(|r| r.call(slot)) {
            t.handshake = Some(match c.handshake {
                Handshake::None => HandshakeKind::None,
                Handshake::Full => HandshakeKind::Full,
                Handshake::Resumed => HandshakeKind::Resumed,
                Handshake::ZeroRtt => HandshakeKind::ZeroRtt,
            });
        }
        if new && !self.design.connections.tcp_fast_open {
            let rtt = self.rtt(c.origin, c.dest, derive(c.key, label::HANDSHAKE));
            return self.wait(slot, Phase::TcpRtt, rtt);
        }
        self.origin_job(slot);
    }

    /// One RTT draw between two peers.
    fn rtt(&self, a: u32, b: u32, key: u64) -> Nanos {
        let (za, zb) = (self.peers[a as usize].zone, self.peers[b as usize].zone);
        let d = if a == b {
            &self.topo.network.same_host
        } else {
            self.topo.network.rtt(za, zb)
        };
        match d {
            Dist::Constant(v) => *v,
            d => d.sample(&mut rng::call_rng(key)),
        }
    }

    /// Half an RTT draw plus serialisation of `bytes`.
    fn one_way(&self, a: u32, b: u32, bytes: u64, key: u64) -> Nanos {
        let wire = self
            .topo
            .network
            .bandwidth
            .map_or(0, |bw| round(bytes as f64 / bw * NANOS_PER_SEC as f64));
        (self.rtt(a, b, key) / 2).saturating_add(wire)
    }

    /// Half an RTT draw between two zones (a waypoint leg), plus serialisation.
    fn zone_leg(&self, a: ZoneId, b: ZoneId, bytes: u64, key: u64) -> Nanos {
        let half = match self.topo.network.rtt(a, b) {
            Dist::Constant(v) => v / 2,
            d => d.sample(&mut rng::call_rng(key)) / 2,
        };
        half.saturating_add(self.wire(bytes))
    }

    fn wire(&self, bytes: u64) -> Nanos {
        self.topo
            .network
            .bandwidth
            .map_or(0, |bw| round(bytes as f64 / bw * NANOS_PER_SEC as f64))
    }

    /// One local (same-host) one-way hop, app <-> proxy.
    fn local_hop(&self, key: u64) -> Nanos {
        match &self.topo.network.same_host {
            Dist::Constant(v) => v / 2,
            d => d.sample(&mut rng::call_rng(key)) / 2,
        }
    }

    /// Caller-side CPU: client handshake, outbound proxy, bulk crypto.
    fn origin_job(&mut self, slot: u32) {
        let c = *self.calls.get(slot);
        let d = self.design;
        let mut parts = CpuParts::default();
        let hs = &d.transport.cpu;
        parts[Cpu::Handshake as usize] = match c.handshake {
            Handshake::None => 0,
            Handshake::Full => {
                hs.client_full
                    + if d.transport.security == Security::Mtls {
                        hs.mtls_client
                    } else {
                        0
                    }
                    + if self.hello_retry(&c) {
                        hs.hello_retry
                    } else {
                        0
                    }
            }
            Handshake::Resumed | Handshake::ZeroRtt => hs.client_resumed,
        };
        let origin = self.peers[c.origin as usize];
        let ep = &self.topo.endpoints[c.endpoint as usize];
        let bytes = ep.request_bytes + ep.response_bytes;
        if self.encrypted(&c) {
            parts[Cpu::Bulk as usize] = round(bytes as f64 * d.transport.bulk_ns_per_byte);
        }
        if origin.proxy {
            parts[Cpu::Proxy as usize] = self.proxy_cpu(c.key, bytes);
        }
        if !origin.proxy && c.handshake == Handshake::None && origin.station != NONE {
            // Library TLS on an established connection: the calling thread
            // encrypts its request in microseconds as it sends. Queueing that
            // behind millisecond jobs (non-preemptive FCFS) would overstate
            // it, so the CPU is charged to the caller's cores without taking
            // a turn, and its time rides ahead of the transit.
            let demand = sum(&parts);
            let now = self.queue.now();
            self.stations[origin.station as usize].account(now, &parts);
            let cost = &mut self.costs[slot as usize];
            for (cat, &d) in parts.iter().enumerate() {
                cost.attr[span_of(cat) as usize] += d;
            }
            self.calls.get_mut(slot).mark = now.saturating_add(demand);
            if P::ON && self.probe.recorder().is_some() {
                self.note_job(
                    slot,
                    Phase::OriginJob,
                    now,
                    now.saturating_add(demand),
                    parts,
                );
            }
            return self.request(slot, demand);
        }
        self.job(slot, origin.station, parts, Phase::OriginJob);
    }

    fn hello_retry(&self, c: &Call) -> bool {
        let p = self.design.transport.hello_retry;
        p > 0.0 && unit_f64(&mut rng::call_rng(derive(c.key, label::HANDSHAKE + 1))) < p
    }

    fn proxy_cpu(&self, key: u64, bytes: u64) -> Nanos {
        let cost = &self.design.proxy.cost;
        let per_request = match &cost.request_cpu {
            Dist::Constant(v) => *v,
            dist => dist.sample(&mut rng::call_rng(derive(key, label::PROXY))),
        };
        per_request + round(bytes as f64 * cost.ns_per_byte)
    }

    /// Runs a CPU job of `parts` on `station` (NONE: a client-side delay),
    /// continuing in `phase` when done. Zero demand continues at once.
    fn job(&mut self, slot: u32, station: u32, parts: CpuParts, phase: Phase) {
        let demand = sum(&parts);
        self.costs[slot as usize].parts = parts;
        let c = self.calls.get_mut(slot);
        c.phase = phase;
        c.station = station;
        if demand == 0 {
            return self.advance(slot);
        }
        if station == NONE {
            self.queue.schedule(demand, ev::STEP, slot, 0);
            return;
        }
        let now = self.queue.now();
        let st = &mut self.stations[station as usize];
        if st.arrive(slot, now) {
            st.start(now, &parts, 0);
            self.queue.schedule(demand, ev::CPU_DONE, slot, 0);
        }
    }

    fn cpu_done(&mut self, slot: u32) {
        let now = self.queue.now();
        let station = self.calls.get(slot).station as usize;
        if let Some((next, waited)) = self.stations[station].depart(now) {
            let parts = self.costs[next as usize].parts;
            self.stations[station].start(now, &parts, waited);
            self.span(next, Span::Queueing);
            self.queue.schedule(sum(&parts), ev::CPU_DONE, next, 0);
        }
        self.advance(slot);
    }

    /// A STEP (delay) ended: close its span and move on.
    fn step(&mut self, slot: u32) {
        let c = *self.calls.get(slot);
        match c.phase {
            Phase::TcpRtt | Phase::HandshakeOut | Phase::HandshakeBack => {
                self.span(slot, Span::HandshakeRtt)
            }
            Phase::Request | Phase::WaypointOut | Phase::Response | Phase::AuthzHop => {
                let now = self.queue.now();
                let local_span = if c.phase == Phase::AuthzHop {
                    Span::Authz
                } else {
                    Span::Proxy
                };
                if P::ON && self.probe.recorder().is_some() {
                    self.note_transit(slot, &c, now);
                }
                let attr = &mut self.costs[slot as usize].attr;
                attr[local_span as usize] += c.local;
                attr[Span::Network as usize] += now - c.mark - c.local;
                let call = self.calls.get_mut(slot);
                call.mark = now;
                call.local = 0;
            }
            _ => {} // client-side CPU delays: accounted in `advance`
        }
        self.advance(slot);
    }

    /// The current phase is complete; do the next step of the call's life.
    fn advance(&mut self, slot: u32) {
        let c = *self.calls.get(slot);
        match c.phase {
            Phase::OriginJob
            | Phase::ServerHandshake
            | Phase::WaypointJob
            | Phase::DestJob
            | Phase::AuthzJob
            | Phase::ServiceJob => self.job_done(slot, c),
            Phase::TcpRtt => self.origin_job(slot),
            Phase::HandshakeOut => {
                let d = self.design;
                let hs = &d.transport.cpu;
                let mut parts = CpuParts::default();
                parts[Cpu::Handshake as usize] = match c.handshake {
                    Handshake::Full => {
                        hs.server_full
                            + if d.transport.security == Security::Mtls {
                                hs.mtls_server
                            } else {
                                0
                            }
                            + if self.hello_retry(&c) {
                                hs.hello_retry
                            } else {
                                0
                            }
                    }
                    _ => hs.server_resumed,
                };
                let station = self.peers[c.dest as usize].station;
                self.job(slot, station, parts, Phase::ServerHandshake);
            }
            Phase::HandshakeBack => self.handshake_done(slot),
            Phase::Request => self.arrived(slot),
            Phase::WaypointOut => self.arrived_at_dest(slot),
            Phase::AuthzHop => {
                let mut parts = CpuParts::default();
                parts[Cpu::Authz as usize] = self.eval_cpu(c.key);
                let station = self.replicas[c.replica as usize].policy;
                self.job(slot, station, parts, Phase::AuthzJob);
            }
            Phase::Response => self.at_caller(slot),
            other => unreachable!("no step ends in phase {other:?}"),
        }
    }

    /// A CPU job finished: attribute its parts, then continue.
    fn job_done(&mut self, slot: u32, c: Call) {
        let now = self.queue.now();
        let cost = &mut self.costs[slot as usize];
        for (cat, &d) in cost.parts.iter().enumerate() {
            cost.attr[span_of(cat) as usize] += d;
        }
        if P::ON && self.probe.recorder().is_some() {
            let parts = self.costs[slot as usize].parts;
            self.note_job(slot, c.phase, c.mark, now, parts);
        }
        self.calls.get_mut(slot).mark = now;
        match c.phase {
            Phase::OriginJob => match c.handshake {
                Handshake::Full | Handshake::Resumed => {
                    let d = self.one_way(
                        c.origin,
                        c.dest,
                        self.design.transport.client_hello_bytes,
                        derive(c.key, label::HANDSHAKE + 2),
                    );
                    self.wait(slot, Phase::HandshakeOut, d);
                }
                _ => self.request(slot, 0),
            },
            Phase::ServerHandshake => {
                // Back to the client, plus the round trips beyond the first:
                // TLS 1.2 full takes two, a HelloRetryRequest one more.
                let mut rtts = 0;
                if c.handshake == Handshake::Full {
                    if self.design.transport.version == TlsVersion::V12 {
                        rtts += 1;
                    }
                    if self.hello_retry(&c) {
                        rtts += 1;
                    }
                }
                let mut d = self.one_way(
                    c.dest,
                    c.origin,
                    self.design.transport.server_hello_bytes,
                    derive(c.key, label::HANDSHAKE + 3),
                );
                for i in 0..rtts {
                    d += self.rtt(c.origin, c.dest, derive(c.key, label::HANDSHAKE + 4 + i));
                }
                self.wait(slot, Phase::HandshakeBack, d);
            }
            Phase::WaypointJob => {
                let (zone, _) = self.waypoints[c.waypoint as usize];
                let dz = self.peers[c.dest as usize].zone;
                let ep = &self.topo.endpoints[c.endpoint as usize];
                let d = self.zone_leg(
                    zone,
                    dz,
                    ep.request_bytes,
                    derive(c.key, label::WAYPOINT + 1),
                );
                // The destination node proxy hands the request to the app.
                let local = self.local_hop(derive(c.key, label::LOCAL + 1));
                self.calls.get_mut(slot).local = local;
                self.wait(slot, Phase::WaypointOut, d + local);
            }
            Phase::DestJob => self.authorize(slot),
            Phase::AuthzJob => {
                self.cache_decision(slot);
                self.admit(slot);
            }
            Phase::ServiceJob => self.run_stages(slot),
            _ => unreachable!(),
        }
    }

    /// The handshake is complete: the connection is ready, a fresh ticket is
    /// cached, and calls waiting on this pool may use it.
    fn handshake_done(&mut self, slot: u32) {
        let now = self.queue.now();
        let c = *self.calls.get(slot);
        if self.design.resumption.enabled {
            let key = self.ticket_key(&c);
            self.tickets.insert(
                key,
                (
                    now.saturating_add(self.design.resumption.ticket_ttl),
                    c.dest,
                ),
            );
        }
        self.mark_ready(&c);
        self.request(slot, 0);
    }

    fn mark_ready(&mut self, c: &Call) {
        self.pools[c.pool as usize].conns[c.conn as usize].ready = true;
        if self.design.connections.reuse == Reuse::Multiplex {
            self.serve_pool_waiters(c.pool);
        }
    }

    /// Request transit to the destination peer (or the waypoint first).
    /// `lead`: time still to pass before the request leaves (inline CPU).
    fn request(&mut self, slot: u32, lead: Nanos) {
        let c = *self.calls.get(slot);
        if c.pool != NONE && (c.handshake == Handshake::None || c.handshake == Handshake::ZeroRtt) {
            // No handshake flights: the connection is usable now.
            if !self.pools[c.pool as usize].conns[c.conn as usize].ready {
                if self.design.resumption.enabled && c.handshake == Handshake::ZeroRtt {
                    let key = self.ticket_key(&c);
                    self.tickets.insert(
                        key,
                        (
                            self.queue
                                .now()
                                .saturating_add(self.design.resumption.ticket_ttl),
                            c.dest,
                        ),
                    );
                }
                self.mark_ready(&c);
            }
        }
        let ep = &self.topo.endpoints[c.endpoint as usize];
        let mut local = 0;
        if self.peers[c.origin as usize].proxy && c.caller_replica != NONE {
            local += self.local_hop(derive(c.key, label::LOCAL));
        }
        if !self.waypoints.is_empty() {
            // Origin node proxy -> waypoint; the waypoint then forwards.
            let w = self.next_waypoint;
            self.next_waypoint = (w + 1) % self.waypoints.len() as u32;
            let (zone, _) = self.waypoints[w as usize];
            let oz = self.peers[c.origin as usize].zone;
            let d = self.zone_leg(oz, zone, ep.request_bytes, derive(c.key, label::WAYPOINT));
            let call = self.calls.get_mut(slot);
            call.local = local;
            call.waypoint = w;
            call.phase = Phase::Request;
            self.queue.schedule(lead + d + local, ev::STEP, slot, 0);
            return;
        }
        if self.peers[c.dest as usize].proxy {
            local += self.local_hop(derive(c.key, label::LOCAL + 1));
        }
        let d = self.one_way(
            c.origin,
            c.dest,
            ep.request_bytes,
            derive(c.key, label::REQUEST_TRANSIT),
        );
        self.calls.get_mut(slot).local = local;
        self.wait(slot, Phase::Request, lead + d + local);
    }

    /// The request reached the first hop after the network: the waypoint, or
    /// the destination peer.
    fn arrived(&mut self, slot: u32) {
        if self.waypoints.is_empty() {
            return self.arrived_at_dest(slot);
        }
        let c = *self.calls.get(slot);
        let (_, station) = self.waypoints[c.waypoint as usize];
        let ep = &self.topo.endpoints[c.endpoint as usize];
        let cost = &self
            .design
            .proxy
            .waypoint
            .as_ref()
            .expect("waypoints exist")
            .cost;
        let mut parts = CpuParts::default();
        let per_request = match &cost.request_cpu {
            Dist::Constant(v) => *v,
            dist => dist.sample(&mut rng::call_rng(derive(c.key, label::WAYPOINT + 2))),
        };
        parts[Cpu::Proxy as usize] =
            per_request + round((ep.request_bytes + ep.response_bytes) as f64 * cost.ns_per_byte);
        // The waypoint is the L7 enforcement point.
        self.enforce_at_proxy(slot, &mut parts);
        self.job(slot, station, parts, Phase::WaypointJob);
    }

    /// At the destination peer: inbound proxy CPU or, for library TLS, CPU
    /// gathered for the service job.
    fn arrived_at_dest(&mut self, slot: u32) {
        let c = *self.calls.get(slot);
        if let Some(t) = self.probe.recorder().and_then(|r| r.call(slot)) {
            let now = self.queue.now();
            t.replica = Some(c.replica);
            t.server = Some((now, now));
        }
        let ep = &self.topo.endpoints[c.endpoint as usize];
        let bytes = ep.request_bytes + ep.response_bytes;
        let dest = self.peers[c.dest as usize];
        let mut parts = CpuParts::default();
        if c.handshake == Handshake::ZeroRtt {
            parts[Cpu::Handshake as usize] = self.design.transport.cpu.server_resumed;
        }
        if self.encrypted(&c) {
            parts[Cpu::Bulk as usize] =
                round(bytes as f64 * self.design.transport.bulk_ns_per_byte);
        }
        let service_station = self.replicas[c.replica as usize].cores;
        if dest.proxy {
            parts[Cpu::Proxy as usize] = self.proxy_cpu(derive(c.key, 1), bytes);
            if self.waypoints.is_empty() {
                // A sidecar is an L7 enforcement point; a node proxy only L4
                // (policy in `Proxy` mode), JWTs need L7 so they fall to the app.
                if self.design.proxy.mode == ProxyMode::Sidecar {
                    self.enforce_at_proxy(slot, &mut parts);
                } else if self.design.authz.mode == AuthzMode::Proxy {
                    self.authz_at(slot, &mut parts);
                }
            }
            if dest.station == service_station {
                // Sidecar sharing the pod's cores: one job with the service's.
                self.costs[slot as usize].service_parts = parts;
                return self.authorize(slot);
            }
            return self.job(slot, dest.station, parts, Phase::DestJob);
        }
        self.costs[slot as usize].service_parts = parts;
        self.authorize(slot);
    }

    /// True if checks apply to this call (every hop, or the edge only).
    fn checked(&self, c: &Call, scope: Scope) -> bool {
        matches!(c.kind, Kind::Root | Kind::Child)
            && (scope == Scope::EveryHop || c.kind == Kind::Root)
    }

    /// JWT and `Proxy`-mode policy at an L7 proxy, added to `parts`.
    fn enforce_at_proxy(&mut self, slot: u32, parts: &mut CpuParts) {
        self.verify_jwt(slot, parts);
        if self.design.authz.mode == AuthzMode::Proxy {
            self.authz_at(slot, parts);
        }
    }

    /// JWT verification CPU (unless cached), added to `parts`.
    fn verify_jwt(&mut self, slot: u32, parts: &mut CpuParts) {
        let c = *self.calls.get(slot);
        let a = self.design.authn;
        if a.jwt.is_none() || !self.checked(&c, a.scope) {
            return;
        }
        let now = self.queue.now();
        let origin = self.origin_peer(c.caller_replica);
        let key = (c.dest, origin);
        if a.cache_ttl > 0 && self.verified.get(&key).is_some_and(|&e| e > now) {
            if let Some(k) = self.counters(slot) {
                k.jwt_cache_hits += 1;
            }
            return;
        }
        if a.cache_ttl > 0 {
            self.verified.insert(key, now.saturating_add(a.cache_ttl));
        }
        if let Some(k) = self.counters(slot) {
            k.jwt_verifications += 1;
        }
        parts[Cpu::Jwt as usize] += a.verify_cpu;
    }

    fn decision_key(&self, c: &Call) -> (u32, u32, u32) {
        let caller = if c.kind == Kind::Root {
            NONE
        } else {
            self.calls.get(c.parent).endpoint
        };
        (c.replica, caller, c.endpoint)
    }

    /// True if a cached decision covers this call (counts the lookup).
    fn decision_cached(&mut self, slot: u32) -> bool {
        let c = *self.calls.get(slot);
        let z = &self.design.authz;
        if z.cache_ttl == 0 {
            if let Some(k) = self.counters(slot) {
                k.authz_decisions += 1;
            }
            return false;
        }
        let now = self.queue.now();
        let hit = self
            .decisions
            .get(&self.decision_key(&c))
            .is_some_and(|&e| e > now);
        if let Some(t) = self.probe.recorder().and_then(|r| r.call(slot)) {
            t.authz_cache_hit = Some(hit);
        }
        if let Some(k) = self.counters(slot) {
            k.authz_decisions += 1;
            k.authz_cache_hits += u64::from(hit);
        }
        hit
    }

    fn cache_decision(&mut self, slot: u32) {
        let ttl = self.design.authz.cache_ttl;
        if ttl > 0 {
            let c = *self.calls.get(slot);
            let key = self.decision_key(&c);
            self.decisions
                .insert(key, self.queue.now().saturating_add(ttl));
        }
    }

    /// Local policy evaluation CPU (unless cached), added to `parts`.
    fn authz_at(&mut self, slot: u32, parts: &mut CpuParts) {
        let c = *self.calls.get(slot);
        if !self.checked(&c, self.design.authz.scope) || self.decision_cached(slot) {
            return;
        }
        parts[Cpu::Authz as usize] += self.eval_cpu(c.key);
        self.cache_decision(slot);
    }

    fn eval_cpu(&self, key: u64) -> Nanos {
        match &self.design.authz.eval_cpu {
            Dist::Constant(v) => *v,
            d => d.sample(&mut rng::call_rng(derive(key, label::AUTHZ))),
        }
    }

    /// Out-of-process policy: a policy sidecar over a local hop, or the
    /// remote policy service. In-process and proxy modes are charged in jobs.
    fn authorize(&mut self, slot: u32) {
        let c = *self.calls.get(slot);
        let z = &self.design.authz;
        let applies =
            matches!(z.mode, AuthzMode::Sidecar | AuthzMode::Remote) && self.checked(&c, z.scope);
        if !applies || self.decision_cached(slot) {
            return self.admit(slot);
        }
        if z.mode == AuthzMode::Sidecar {
            let local = self.local_hop(derive(c.key, label::AUTHZ + 1))
                + self.local_hop(derive(c.key, label::AUTHZ + 2));
            self.calls.get_mut(slot).local = local;
            return self.wait(slot, Phase::AuthzHop, local);
        }
        self.calls.get_mut(slot).phase = Phase::AuthzRemote;
        let policy = z
            .policy
            .expect("validated: remote authz names a policy endpoint");
        self.infra_call(slot, Kind::Authz, policy);
    }

    // ---- callee side -------------------------------------------------

    /// Server side: wait for a worker thread.
    fn admit(&mut self, slot: u32) {
        let replica = self.calls.get(slot).replica as usize;
        let r = &mut self.replicas[replica];
        if r.workers < r.limit {
            r.workers += 1;
            self.serve(slot);
        } else {
            r.waiting.push_back(slot);
            self.calls.get_mut(slot).phase = Phase::Worker;
        }
    }

    /// A worker thread has the call: one job on the service's cores with the
    /// business CPU and whatever in-process security CPU was gathered.
    fn serve(&mut self, slot: u32) {
        let c = *self.calls.get(slot);
        if c.phase == Phase::Worker {
            self.span(slot, Span::Queueing);
        }
        let mut parts = self.costs[slot as usize].service_parts;
        let cpu = &self.topo.endpoints[c.endpoint as usize].cpu;
        // A policy service's work is policy evaluation, an identity service's
        // is token issuing: categorised as such, not as business.
        let category = match c.kind {
            Kind::Authz => Cpu::Authz,
            Kind::Token => Cpu::Jwt,
            Kind::Root | Kind::Child => Cpu::Business,
        };
        parts[category as usize] = match cpu {
            Dist::Constant(v) => *v,
            d => d.sample(&mut rng::call_rng(derive(c.key, label::CPU))),
        };
        let dest = self.peers[c.dest as usize];
        let l7_proxy = self.design.proxy.mode == ProxyMode::Sidecar || !self.waypoints.is_empty();
        if !l7_proxy || !dest.proxy {
            // No L7 proxy in front: the app verifies tokens itself.
            self.verify_jwt(slot, &mut parts);
        }
        if self.design.authz.mode == AuthzMode::InProcess
            || (self.design.authz.mode == AuthzMode::Proxy
                && !dest.proxy
                && self.waypoints.is_empty())
        {
            self.authz_at(slot, &mut parts);
        }
        let station = self.replicas[c.replica as usize].cores;
        self.job(slot, station, parts, Phase::ServiceJob);
    }

    /// Starts the current stage's children, skipping stages with none; after
    /// the last stage (or a failed one) the call responds.
    fn run_stages(&mut self, slot: u32) {
        let c = *self.calls.get(slot);
        let stages = &self.topo.endpoints[c.endpoint as usize].stages;
        let mut stage = c.stage as usize;
        while stage < stages.len() && !c.failed {
            let mut spawned = 0;
            for &spec in &stages[stage] {
                spawned += self.spawn(slot, spec);
            }
            if spawned > 0 {
                let c = self.calls.get_mut(slot);
                c.stage = stage as u32;
                c.pending = spawned;
                c.phase = Phase::Children;
                return;
            }
            stage += 1;
        }
        self.respond(slot);
    }

    /// Starts the call(s) of call site `spec` for parent `slot`; returns how
    /// many children the parent must wait for.
    fn spawn(&mut self, parent: u32, spec: u32) -> u32 {
        let p = *self.calls.get(parent);
        let cs = &self.topo.calls[spec as usize];
        // Call sites have globally unique ids, so (parent, site) names the call.
        let site_key = derive(p.key, u64::from(spec));
        if cs.probability < 1.0 {
            let u = unit_f64(&mut rng::call_rng(derive(site_key, label::PROBABILITY)));
            if u >= cs.probability {
                return 0;
            }
        }
        let now = self.queue.now();
        let fanout = if cs.parallel { cs.times } else { 1 };
        for i in 0..fanout {
            let key = derive(site_key, derive(label::REPEAT, u64::from(i)));
            let mut child = Call::new(
                key,
                Kind::Child,
                parent,
                spec,
                cs.target,
                p.replica,
                now,
                p.measured,
            );
            child.repeat = i;
            let slot = self.insert(child);
            self.send(slot);
        }
        fanout
    }

    /// The callee is done: free the worker, send the response back.
    fn respond(&mut self, slot: u32) {
        let c = *self.calls.get(slot);
        if let Some(t) = self.probe.recorder().and_then(|r| r.call(slot))
            && let Some((_, end)) = &mut t.server
        {
            *end = self.queue.now();
        }
        let r = &mut self.replicas[c.replica as usize];
        r.outstanding -= 1;
        if let Some(next) = r.waiting.pop_front() {
            // The worker passes straight to the next waiting call.
            self.serve(next);
        } else {
            self.replicas[c.replica as usize].workers -= 1;
        }
        let ep = &self.topo.endpoints[c.endpoint as usize];
        let mut local = 0;
        if self.peers[c.dest as usize].proxy {
            local += self.local_hop(derive(c.key, label::LOCAL + 2));
        }
        if self.peers[c.origin as usize].proxy && c.caller_replica != NONE {
            local += self.local_hop(derive(c.key, label::LOCAL + 3));
        }
        let d = if self.waypoints.is_empty() {
            self.one_way(
                c.dest,
                c.origin,
                ep.response_bytes,
                derive(c.key, label::RESPONSE_TRANSIT),
            )
        } else {
            // Back through the call's waypoint: destination -> waypoint -> origin.
            let (wz, _) = self.waypoints[c.waypoint as usize];
            let (dz, oz) = (
                self.peers[c.dest as usize].zone,
                self.peers[c.origin as usize].zone,
            );
            self.zone_leg(
                dz,
                wz,
                ep.response_bytes,
                derive(c.key, label::RESPONSE_TRANSIT),
            ) + self.zone_leg(
                wz,
                oz,
                ep.response_bytes,
                derive(c.key, label::WAYPOINT + 3),
            )
        };
        self.calls.get_mut(slot).local = local;
        self.wait(slot, Phase::Response, d + local);
    }

    /// Gives the connection back: idle (reuse) or closed (per request).
    fn release(&mut self, c: &Call) {
        if c.pool == NONE {
            return; // a direct call holds no connection
        }
        let now = self.queue.now();
        let per_request = self.design.connections.reuse == Reuse::PerRequest;
        let p = &mut self.pools[c.pool as usize];
        let k = &mut p.conns[c.conn as usize];
        k.streams -= 1;
        if k.streams == 0 {
            k.idle_since = now;
            if per_request {
                k.alive = false;
                p.alive -= 1;
            }
        }
        self.serve_pool_waiters(c.pool);
    }

    /// Hands free capacity in a pool to waiting calls, in arrival order.
    fn serve_pool_waiters(&mut self, pool: u32) {
        while let Some(&next) = self.pools[pool as usize].waiting.front() {
            let p = &self.pools[pool as usize];
            let cap = if self.design.connections.reuse == Reuse::Multiplex {
                self.design.connections.max_concurrent_streams
            } else {
                1
            };
            let free = p
                .conns
                .iter()
                .any(|k| k.alive && k.ready && k.streams < cap);
            if !free && p.alive >= self.design.connections.max_per_destination {
                return;
            }
            self.pools[pool as usize].waiting.pop_front();
            self.acquire(next);
            if self.calls.get(next).phase == Phase::Connect {
                // Everything usable was stale; it queued again at the back.
                return;
            }
        }
    }

    /// The response reached the caller.
    fn at_caller(&mut self, slot: u32) {
        let c = *self.calls.get(slot);
        self.release(&c);
        if let Some(t) = self.probe.recorder().and_then(|r| r.call(slot)) {
            t.end = Some(self.queue.now());
            t.abandoned = c.abandoned;
            t.failed |= c.failed;
        }
        if c.abandoned {
            // The caller already moved on (timeout); nothing is waiting.
            self.calls.remove(slot);
            return;
        }
        match c.kind {
            Kind::Root => {
                self.request_finished(slot, !c.failed);
                self.calls.remove(slot);
            }
            Kind::Child => self.child_finished(slot, !c.failed),
            Kind::Authz | Kind::Token => self.infra_finished(slot),
        }
    }

    /// A policy check or token fetch answered: the waiting call resumes.
    fn infra_finished(&mut self, slot: u32) {
        let now = self.queue.now();
        let c = *self.calls.get(slot);
        self.calls.remove(slot);
        let span = if c.kind == Kind::Authz {
            Span::Authz
        } else {
            Span::Authn
        };
        {
            let p = self.calls.get_mut(c.parent);
            self.costs[c.parent as usize].attr[span as usize] += now - p.mark;
            p.mark = now;
        }
        if c.kind == Kind::Authz {
            self.cache_decision(c.parent);
            self.admit(c.parent);
        } else {
            self.dispatch(c.parent);
        }
    }

    /// A child call has its final outcome; frees its slot.
    fn child_finished(&mut self, slot: u32, ok: bool) {
        let now = self.queue.now();
        let c = *self.calls.get(slot);
        let attr = self.costs[slot as usize].attr;
        self.calls.remove(slot);
        let cs = &self.topo.calls[c.spec as usize];
        if c.measured {
            let o = &mut self.metrics.edges[cs.edge as usize];
            o.latency.record(now - c.first_sent);
            o.failed += u64::from(!ok);
        }
        if ok && !cs.parallel && c.repeat + 1 < cs.times {
            // Sequential repeat: the next one goes out as the previous returns,
            // carrying the time spent so far.
            let mut next = Call::new(
                derive(c.key, derive(label::REPEAT, u64::from(c.repeat + 1))),
                Kind::Child,
                c.parent,
                c.spec,
                c.endpoint,
                c.caller_replica,
                now,
                c.measured,
            );
            next.repeat = c.repeat + 1;
            let elapsed_before = attr.iter().sum::<u64>();
            // first_sent tracks this repeat; the carried attribution keeps the
            // parent's critical path exact.
            next.first_sent = now;
            let slot = self.insert(next);
            self.costs[slot as usize].attr = attr;
            self.calls.get_mut(slot).mark = now;
            debug_assert!(elapsed_before <= now);
            self.send(slot);
            return;
        }
        self.child_done(c.parent, &attr, ok);
    }

    /// One child of `parent`'s current stage is done; the last one to finish
    /// carries the stage's time on the critical path.
    fn child_done(&mut self, parent: u32, attr: &Attribution, ok: bool) {
        let now = self.queue.now();
        let p = self.calls.get_mut(parent);
        p.failed |= !ok;
        p.pending -= 1;
        if p.pending == 0 {
            let pa = &mut self.costs[parent as usize].attr;
            for (a, b) in pa.iter_mut().zip(attr) {
                *a += b;
            }
            // Whatever the child's attribution did not cover (a timed-out
            // attempt's unfinished part) is retry time.
            let covered: u64 = pa.iter().sum();
            let life = now - p.first_sent;
            if life > covered {
                pa[Span::Retry as usize] += life - covered;
            }
            p.mark = now;
            p.stage += 1;
            self.run_stages(parent);
        }
    }

    fn arm_timer(&mut self, slot: u32, delay: Nanos) {
        let now = self.queue.now();
        let generation = self.calls.handle(slot).generation;
        let lane = self.timers.partition_point(|l| l.delay < delay);
        let l = &mut self.timers[lane];
        l.pending
            .push_back((now.saturating_add(delay), slot, generation));
        if !l.armed {
            l.armed = true;
            self.queue.schedule(delay, ev::TIMEOUT, lane as u32, 0);
        }
    }

    /// The front of timer lane `lane` is due: fire what is due, re-arm for
    /// the next.
    fn timer_fired(&mut self, lane: u32) {
        let now = self.queue.now();
        while let Some(&(expiry, slot, generation)) = self.timers[lane as usize].pending.front() {
            if expiry > now {
                self.queue.schedule_at(expiry, ev::TIMEOUT, lane, 0);
                return;
            }
            self.timers[lane as usize].pending.pop_front();
            self.timeout(slot, generation);
        }
        self.timers[lane as usize].armed = false;
    }

    /// The caller's timeout for attempt `slot` fired.
    fn timeout(&mut self, slot: u32, generation: u32) {
        let handle = SlotRef {
            index: slot,
            generation,
        };
        if !self.calls.is_current(handle) || self.calls.get(slot).abandoned {
            return; // it already finished; the slot may hold another call now
        }
        let now = self.queue.now();
        let c = *self.calls.get(slot);
        self.calls.get_mut(slot).abandoned = true;
        if c.kind == Kind::Root {
            return self.request_finished_timeout(slot);
        }
        let cs = &self.topo.calls[c.spec as usize];
        if c.attempt < cs.retries {
            let mut retry = Call::new(
                derive(c.key, label::ATTEMPT),
                Kind::Child,
                c.parent,
                c.spec,
                c.endpoint,
                c.caller_replica,
                c.first_sent,
                c.measured,
            );
            retry.attempt = c.attempt + 1;
            retry.repeat = c.repeat;
            let mut attr = self.costs[slot as usize].attr;
            attr[Span::Retry as usize] +=
                (now - c.first_sent).saturating_sub(attr.iter().sum::<u64>());
            retry.mark = now;
            retry.phase = Phase::Backoff;
            let delay = cs.backoff.saturating_mul(1 << c.attempt.min(32));
            let retry_slot = self.insert(retry);
            self.costs[retry_slot as usize].attr = attr;
            self.queue.schedule(delay, ev::SEND, retry_slot, 0);
            return;
        }
        // Out of attempts: the caller sees a failure now. The abandoned slot
        // lives on until its response arrives.
        if c.measured {
            let o = &mut self.metrics.edges[cs.edge as usize];
            o.latency.record(now - c.first_sent);
            o.failed += 1;
        }
        let mut attr = self.costs[slot as usize].attr;
        attr[Span::Retry as usize] += (now - c.first_sent).saturating_sub(attr.iter().sum::<u64>());
        self.child_done(c.parent, &attr, false);
    }

    /// A user request timed out at the client: the rest of its time is retry.
    fn request_finished_timeout(&mut self, slot: u32) {
        let now = self.queue.now();
        let first_sent = self.calls.get(slot).first_sent;
        let attr = &mut self.costs[slot as usize].attr;
        let covered: u64 = attr.iter().sum();
        attr[Span::Retry as usize] += (now - first_sent).saturating_sub(covered);
        self.request_finished(slot, false);
    }

    // ---- recording (only with a recorder) ----------------------------------

    /// The arrival index of the user request in `slot` (its key's index).
    fn next_request_of(&self, slot: u32) -> u64 {
        // Requests are numbered as they arrive; the recorder and selector
        // need the number, which the key does not reveal, so it is kept in
        // the `repeat` and `attempt` fields of a root call (unused by roots).
        let c = self.calls.get(slot);
        u64::from(c.repeat) | (u64::from(c.attempt) << 32)
    }

    #[cold]
    fn note_insert(&mut self, slot: u32) {
        let now = self.queue.now();
        let c = *self.calls.get(slot);
        let kind = match c.kind {
            Kind::Root => CallKind::Root,
            Kind::Child => CallKind::Child,
            Kind::Authz => CallKind::Authz,
            Kind::Token => CallKind::Token,
        };
        let parent = (c.kind != Kind::Root).then_some(c.parent);
        let request = self.next_request.wrapping_sub(1);
        let caller = (c.caller_replica != NONE).then_some(c.caller_replica);
        let (attempt, repeat) = if c.kind == Kind::Root {
            (0, 0)
        } else {
            (c.attempt, c.repeat)
        };
        if let Some(rec) = self.probe.recorder() {
            rec.inserted(
                slot, parent, request, kind, c.endpoint, caller, now, attempt, repeat,
            );
        }
    }

    /// A wait (or handshake flight, or backoff) of the call in `slot` ended.
    #[cold]
    fn note_wait(&mut self, slot: u32, start: Nanos, end: Nanos) {
        let phase = self.calls.get(slot).phase;
        let (step, side) = match phase {
            Phase::Backoff => (Step::Backoff, Side::Client),
            Phase::Connect => (Step::ConnectionWait, Side::Client),
            Phase::TcpRtt => (Step::TcpConnect, Side::Client),
            Phase::HandshakeOut => (Step::TlsClientHello, Side::Client),
            Phase::HandshakeBack => (Step::TlsServerFlight, Side::Client),
            Phase::Worker => (Step::WorkerWait, Side::Server),
            Phase::OriginJob | Phase::ServerHandshake | Phase::WaypointJob => {
                (Step::CoreWait, Side::Client)
            }
            _ => (Step::CoreWait, Side::Server),
        };
        if let Some(rec) = self.probe.recorder() {
            rec.phase(slot, step, side, start, end, [0; CPU_CATEGORIES], 0);
        }
    }

    #[cold]
    fn note_transit(&mut self, slot: u32, c: &Call, now: Nanos) {
        let (step, side) = match c.phase {
            Phase::Request => (Step::RequestTransit, Side::Client),
            Phase::WaypointOut => (Step::WaypointTransit, Side::Client),
            Phase::Response => (Step::ResponseTransit, Side::Client),
            _ => (Step::PolicyHop, Side::Server),
        };
        if let Some(rec) = self.probe.recorder() {
            rec.phase(slot, step, side, c.mark, now, [0; CPU_CATEGORIES], c.local);
        }
    }

    #[cold]
    fn note_job(&mut self, slot: u32, phase: Phase, start: Nanos, end: Nanos, parts: CpuParts) {
        let (step, side) = match phase {
            Phase::OriginJob => (Step::CallerCpu, Side::Client),
            Phase::ServerHandshake => (Step::HandshakeCpu, Side::Client),
            Phase::WaypointJob => (Step::WaypointCpu, Side::Client),
            Phase::DestJob => (Step::InboundProxyCpu, Side::Server),
            Phase::AuthzJob => (Step::PolicyCpu, Side::Server),
            _ => (Step::ServiceCpu, Side::Server),
        };
        if let Some(rec) = self.probe.recorder() {
            rec.phase(slot, step, side, start, end, parts, 0);
        }
    }

    // ---- certificates --------------------------------------------------

    fn renewal_interval(&mut self, peer: u32) -> Nanos {
        let id = &self.design.identity;
        let base = id.cert_ttl as f64 * id.renew_ratio;
        let jitter =
            id.renew_jitter * (2.0 * unit_f64(&mut self.rotation_rngs[peer as usize]) - 1.0);
        round((base * (1.0 + jitter)).max(1.0))
    }

    /// Renewals that close no connection change nothing in the simulation,
    /// so they are not events; they are counted here from the same streams.
    fn count_quiet_rotations(&mut self) {
        if self.design.transport.security == Security::Plaintext
            || self.design.identity.rotation_closes_connections
        {
            return;
        }
        for peer in 0..self.peers.len() as u32 {
            if peer == self.client_peer {
                continue;
            }
            let mut t: Nanos = 0;
            loop {
                t = t.saturating_add(self.renewal_interval(peer));
                if t >= self.window_end {
                    break;
                }
                if t >= self.window_start {
                    self.metrics.counters.rotations += 1;
                }
            }
        }
    }

    /// Peer `peer` renews its certificate: connections it opened with the old
    /// one close (lazily, when next picked), if the design says so.
    fn rotate(&mut self, peer: u32) {
        self.peers[peer as usize].epoch += 1;
        let now = self.queue.now();
        if now >= self.window_start && now < self.window_end {
            self.metrics.counters.rotations += 1;
        }
        let t = self.renewal_interval(peer);
        self.queue.schedule(t, ev::ROTATE, peer, 0);
    }

    // ---- the measurement window ----------------------------------------

    fn set_window_end(&mut self, end: Nanos) {
        self.window_end = end;
        for s in &mut self.stations {
            s.set_window_end(end);
        }
    }

    /// Arrivals after this are not measured; decide saturation, then drain.
    fn window_closed(&mut self) {
        let now = self.queue.now();
        self.change_in_system(0);
        self.metrics.window = self.window_end - self.window_start;
        let growth = self.in_system as i64 - self.in_system_at_start as i64;
        let open = self.topo.workload.arrivals.is_open();
        let threshold = (self.metrics.arrived / 50).max(50) as i64;
        if open && growth > threshold {
            self.metrics.saturation = Some(Saturation {
                bottleneck: None,
                backlog_growth: growth,
                reason: format!(
                    "requests in system grew by {growth} over the window ({} arrived): queues grow without bound",
                    self.metrics.arrived
                ),
            });
            self.done = true;
            return;
        }
        self.draining = true;
        // A stable system drains in far less than a window; if it does not,
        // the backlog is not going away.
        let limit = self.metrics.window.max(10 * NANOS_PER_SEC);
        self.queue
            .schedule_at(now.saturating_add(limit), ev::DRAIN_LIMIT, 0, 0);
    }

    fn drain_limit(&mut self) {
        let outstanding = self.measured_outstanding;
        self.saturate(format!(
            "{outstanding} measured requests still unfinished one window after it closed"
        ));
    }

    fn saturate(&mut self, reason: String) {
        if self.metrics.saturation.is_none() {
            let growth = self.in_system as i64 - self.in_system_at_start as i64;
            self.metrics.saturation = Some(Saturation {
                bottleneck: None,
                backlog_growth: growth,
                reason,
            });
        }
        self.done = true;
    }

    fn finish(&mut self) -> RunMetrics {
        if self.metrics.window == 0 {
            // Ended before the window closed (saturated early, or the event
            // queue ran dry): measure what there was.
            let now = self.queue.now().max(self.window_start);
            if self.window_end == Nanos::MAX {
                self.set_window_end(now);
            }
            self.change_in_system(0);
            self.metrics.window = self.window_end.min(now).saturating_sub(self.window_start);
        }
        self.count_quiet_rotations();
        let window = self.metrics.window;
        let mut stations: Vec<StationMetrics> = Vec::new();
        for (st, owner) in self.stations.iter().zip(&self.owners) {
            let m = match stations.iter_mut().find(|m| m.owner == *owner) {
                Some(m) => m,
                None => {
                    stations.push(StationMetrics {
                        owner: *owner,
                        ..StationMetrics::default()
                    });
                    stations.last_mut().expect("just pushed")
                }
            };
            let s = st.stats();
            for (acc, b) in m.busy.iter_mut().zip(s.busy) {
                *acc += b;
            }
            m.capacity += u64::from(st.servers()) * window;
            m.jobs += s.started;
            m.waited += s.waited;
            m.instances += 1;
        }
        if let Some(sat) = &mut self.metrics.saturation {
            sat.bottleneck = stations
                .iter()
                .max_by(|a, b| a.utilisation().total_cmp(&b.utilisation()))
                .map(|m| m.owner);
        }
        self.metrics.stations = stations;
        if window > 0 {
            self.metrics.mean_in_system = self.in_system_area as f64 / window as f64;
        }
        self.metrics.events = self.queue.scheduled();
        self.metrics.peak_events_pending = self.queue.peak_len();
        std::mem::take(&mut self.metrics)
    }
}

impl Call {
    #[allow(clippy::too_many_arguments)]
    fn new(
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
            abandoned: false,
        }
    }
}

/// Time-series bucket width: one second, or a twentieth of shorter runs.
fn series_interval(w: &super::topology::Workload) -> Nanos {
    let span = match w.window {
        Window::Duration(d) => w.warmup + d,
        Window::Requests(_) => 20 * NANOS_PER_SEC,
    };
    (span / 20).clamp(1_000_000, NANOS_PER_SEC)
}

/// Runs one replication of `topo` under `design`.
pub fn simulate(topo: &Topology, design: &Design, replication: u32) -> RunMetrics {
    Simulation::new(topo, design, replication).run()
}
