//! One replication of one topology under one design: the call state machine
//! of docs/model.md s3, driven by the engine's event queue.
//!
//! A call is one attempt of one caller -> callee request. Its life, each
//! arrow a cost hook that the design switches on or off:
//!
//! caller: token refresh -> pick replica -> get a connection (pool, wait or
//! open: TCP round trip) -> origin job (client handshake CPU, outbound proxy,
//! bulk crypto) -> handshake flights (server handshake CPU between them, in
//! two jobs for a TLS 1.2 full handshake) ->
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
//!
//! This file holds the [`Simulation`] and the event loop that dispatches
//! events to the phases; each phase group has a file of its own, all of them
//! `impl` blocks on `Simulation`:
//!
//! - `workload.rs`: user requests arrive and finish at the client.
//! - `routing.rs`: (re)sending a call: replica choice, peers, the way to a
//!   connection; `locality.rs`: zone-aware replica choice.
//! - `identity.rs`: token refresh before a call; certificate rotation.
//! - `mesh.rs`: which design applies at each end of a call, and the hop's
//!   security when services run under different designs.
//! - `connection.rs`: connection pools: reuse, waits, opening, release.
//! - `handshake.rs`: TLS: full, resumed or 0-RTT (tickets), the handshake
//!   CPU on both sides and its flights; the caller-side job.
//! - `transit.rs`: the network: RTT draws, local proxy hops, request and
//!   response transits.
//! - `proxy.rs`: waypoint and inbound (sidecar, node) proxy jobs.
//! - `auth.rs`: JWT verification, policy decisions and their caches, policy
//!   sidecar and remote policy calls (and infrastructure calls in general).
//! - `service.rs`: worker threads, the service job, child calls by stage,
//!   the response.
//! - `client_pool.rs`: callers' client-side pools (`pools`): waits, release.
//! - `broker.rs`: message queues: publishes, consumer groups' queues,
//!   deliveries, drops and publishes held.
//! - `slow.rs`: the added latency of an endpoint's slow calls (`slow`).
//! - `down.rs`: replicas down (`down`): crashes, skipping, restarts.
//! - `pause.rs`: cores that pause (`pauses`, `client_pauses`).
//! - `timeout.rs`: timeouts, retries and the timer lanes.
//! - `window.rs`: the measurement window, saturation, the final metrics.
//! - `notes.rs`: what the probe is told (exports only).
//! - `state.rs` and `deploy.rs`: the plain state the phases share and the
//!   system built before the first event.
//!
//! A job on a station (`job`, `cpu_done`) and the end of a delay (`step`,
//! `advance`, `job_done`) are here, since every phase goes through them;
//! `chain.rs` finds the jobs whose call then only waits, whose end needs
//! no event.

mod admission;
mod asynch;
mod auth;
mod broker;
mod chain;
mod client_pool;
mod connection;
mod deploy;
mod down;
mod handshake;
mod identity;
mod locality;
mod mesh;
mod notes;
mod pause;
mod proxy;
mod routing;
mod service;
mod slow;
mod state;
mod tally;
mod timeout;
mod transit;
mod window;
mod workload;

use rustc_hash::FxHashMap;

use super::cost::{CpuParts, Span, span_of};
use super::design::{Design, ProxyMode, Reuse, Security};
use super::dist::Dist;
use super::metrics::{AttributionStats, Counters, Outcomes, RunMetrics, StationOwner};
pub use super::probe::{NoProbe, Probe};
use super::tail::slowest_to_keep;
use super::topology::{Arrivals, Topology, Window, ZoneId};
use crate::engine::rng::{Component, StreamRng, Streams};
use crate::engine::station::PAUSE;
use crate::engine::{EventKey, EventQueue, Slab, Station};
use crate::units::Nanos;
use state::{Bucket, Call, Costs, NONE, Peer, Phase, Pool, Replica, TimerLane, sum};
pub use tally::tally_events;

/// Past this many calls in flight a run is saturated beyond doubt; stopping
/// keeps memory bounded.
const MAX_CALLS_IN_FLIGHT: usize = 4_000_000;
/// Events in a row at one simulated instant before the run is stopped: a
/// model whose requests take no time (zero think time, RTT and CPU in a
/// closed loop, or arrivals closer than a nanosecond) would otherwise spin
/// forever without the clock moving. Far above any real burst (a fan-out of
/// a million calls at once takes a few million).
const MAX_EVENTS_AT_ONE_INSTANT: u64 = 10_000_000;

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
    /// A core whose job's call has moved on finishes the job's off-path tail.
    pub const CORE_FREE: u8 = 9;
    /// A replica crashes (`down`).
    pub const CRASH: u8 = 10;
    /// A replica is back.
    pub const RESTART: u8 = 11;
    /// A station's cores pause (`pauses`).
    pub const PAUSE: u8 = 12;
}

/// `aux` of a CPU_DONE whose core stays busy with an off-path tail.
const KEEP_CORE: u32 = 1;

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
    pub const CLIENT: u64 = 23;
    pub const CPU_OFF_PATH: u64 = 24;
    pub const ERROR: u64 = 25;
    pub const SLOW: u64 = 26;
}

/// The state of one replication.
pub struct Simulation<'t, P: Probe = NoProbe> {
    topo: &'t Topology,
    /// The design of each service (`Design::of`).
    designs: Vec<&'t Design>,
    /// The design the node proxies run (`Design::node_proxies`).
    node_design: &'t Design,
    queue: EventQueue,
    calls: Slab<Call>,
    costs: Vec<Costs>,
    stations: Vec<Station>,
    owners: Vec<StationOwner>,
    replicas: Vec<Replica>,
    replica_base: Vec<u32>,
    next_replica: Vec<u32>,
    /// Zone-aware services' replicas by zone (`locality.rs`).
    localities: locality::Localities,
    /// Each endpoint's first rate-limit bucket (NONE without a limit);
    /// its service's replicas' buckets follow in order.
    bucket_base: Vec<u32>,
    buckets: Vec<Bucket>,
    peers: Vec<Peer>,
    client_peer: u32,
    /// Node-proxy peer of each replica (NONE without node proxies).
    node_peer: Vec<u32>,
    waypoints: Vec<(ZoneId, u32)>,
    next_waypoint: u32,
    pools: Vec<Pool>,
    /// Callers' client-side pools (`pools` in the topology).
    client_pools: client_pool::ClientPools,
    /// Message queues (`queues` in the topology).
    brokers: broker::Brokers,
    /// Which replicas are down (`down` in the topology).
    outages: down::Outages,
    /// Stations whose cores pause (`pauses`, `client_pauses`).
    pausers: pause::Pausers,
    pool_index: FxHashMap<(u32, u32), u32>,
    /// Ticket expiry per (origin peer, destination peer or service), and for
    /// per-service caches the replica peer that issued it.
    tickets: FxHashMap<(u32, u32), (Nanos, u32)>,
    /// Authz decision cache expiry per (replica, caller endpoint, endpoint).
    decisions: FxHashMap<(u32, u32, u32), Nanos>,
    /// Verified-token cache expiry per (enforcing peer, caller peer).
    verified: FxHashMap<(u32, u32), Nanos>,
    timers: Vec<TimerLane>,
    /// Which jobs are chained to the wait after them (`chain.rs`).
    chains: chain::Chains,
    /// Connections cost nothing and nothing runs at the origin (plaintext,
    /// no proxies, established connections with unlimited streams): calls skip
    /// the pool and origin bookkeeping entirely.
    direct: bool,
    streams: Streams,
    arrival_rng: StreamRng,
    /// Where a rate profile's arrivals are along it.
    profile_cursor: crate::model::profile::Cursor,
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
    /// Asynchronous calls in flight (a sequential `times` counts once), at
    /// the window's start, and started inside the window.
    async_in_flight: u64,
    async_at_start: u64,
    async_started: u64,
    draining: bool,
    done: bool,
    /// When the window is next checked for a backlog that has clearly
    /// outgrown it (`window.rs`, `clearly_saturated`; MAX: never), and the
    /// growth seen at the last check if it already looked so.
    next_check: Nanos,
    growth_at_check: Option<i64>,
    metrics: RunMetrics,
    /// Picks requests to export (`record::run_and_pick`) or follows picked
    /// requests' calls (`record::record`). `NoProbe`, the default, is a
    /// zero-sized type whose hooks compile to nothing: a normal run pays
    /// nothing for exports.
    probe: P,
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
        let d = deploy::deploy(topo, design, (window_start, window_end));
        let users = match &w.arrivals {
            Arrivals::Closed { users, .. } => *users,
            _ => 0,
        };
        let peers_len = d.peers.len();
        let (bucket_base, buckets) = admission::buckets(topo);
        let (client_pools, pool_metrics) = client_pool::ClientPools::new(topo, &d.replica_base);
        let outages = down::Outages::new(topo, d.replicas.len(), &d.replica_base, &streams);
        let (brokers, queue_metrics) = broker::Brokers::new(topo);
        let cores: Vec<u32> = d.replicas.iter().map(|r| r.cores).collect();
        let client_station = d.peers[d.client_peer as usize].station;
        let pausers = pause::Pausers::new(topo, &cores, &d.replica_base, client_station, &streams);
        Simulation {
            timers: deploy::timer_lanes(topo),
            chains: chain::Chains::new(topo),
            direct: design.all().all(direct)
                && topo.workload.client_cpu == Dist::ZERO
                && topo.workload.client_cpu_off_path == Dist::ZERO,
            topo,
            designs: (0..topo.services.len() as u32)
                .map(|s| design.of(s))
                .collect(),
            node_design: design.node_proxies().unwrap_or(design),
            queue: EventQueue::new(),
            calls: Slab::new(),
            costs: Vec::new(),
            stations: d.stations,
            owners: d.owners,
            replicas: d.replicas,
            replica_base: d.replica_base,
            next_replica: vec![0; topo.services.len()],
            localities: locality::Localities::new(topo),
            bucket_base,
            buckets,
            peers: d.peers,
            client_peer: d.client_peer,
            node_peer: d.node_peer,
            waypoints: d.waypoints,
            next_waypoint: 0,
            pools: Vec::new(),
            client_pools,
            brokers,
            outages,
            pausers,
            pool_index: FxHashMap::default(),
            tickets: FxHashMap::default(),
            decisions: FxHashMap::default(),
            verified: FxHashMap::default(),
            streams,
            arrival_rng: streams.stream(Component::Arrivals, 0),
            profile_cursor: Default::default(),
            entry_rng: streams.stream(Component::EntryMix, 0),
            user_rngs: (0..users)
                .map(|u| streams.stream(Component::Users, u64::from(u)))
                .collect(),
            rotation_rngs: (0..peers_len)
                .map(|p| streams.stream(Component::Rotation, p as u64))
                .collect(),
            entry_cdf: deploy::entry_cdf(w),
            window_start,
            window_end,
            next_request: 0,
            in_system: 0,
            in_system_at_start: 0,
            in_system_area: 0,
            last_change: 0,
            measured_outstanding: 0,
            async_in_flight: 0,
            async_at_start: 0,
            async_started: 0,
            draining: false,
            done: false,
            next_check: window::first_check(topo, window_start, window_end),
            growth_at_check: None,
            metrics: RunMetrics {
                endpoints: vec![
                    Outcomes {
                        attribution: AttributionStats::keeping(slowest_to_keep(w.window)),
                        ..Outcomes::default()
                    };
                    w.entries.len()
                ],
                edges: vec![Outcomes::default(); topo.edges.len()],
                asynch: vec![Outcomes::default(); topo.async_calls().len()],
                entry_series: if w.entries.len() > 1 {
                    vec![Vec::new(); w.entries.len()]
                } else {
                    Vec::new()
                },
                series_interval: crate::model::series::series_interval(w),
                pools: pool_metrics,
                queues: queue_metrics,
                ..RunMetrics::default()
            },
            probe,
        }
    }

    /// [`Self::run`], handing back the probe.
    pub(crate) fn run_probed(mut self) -> (RunMetrics, P) {
        let handled = self.simulate_all();
        self.settle_jobs(handled);
        let metrics = self.finish();
        (metrics, self.probe)
    }

    /// Runs to the end of the window (and the drain of measured requests) and
    /// returns what was measured.
    pub fn run(mut self) -> RunMetrics {
        let handled = self.simulate_all();
        self.settle_jobs(handled);
        self.finish()
    }

    /// Runs events until the run ends; returns the place in the event order
    /// before which every event was handled (the one popped at a stop is not).
    fn simulate_all(&mut self) -> EventKey {
        self.start();
        self.schedule_outages();
        self.schedule_pauses();
        let (mut instant, mut at_instant) = (0, 0u64);
        loop {
            let Some(event) = self.queue.pop() else {
                self.ran_dry();
                return EventKey::MAX;
            };
            if event.time == instant {
                at_instant += 1;
                if at_instant > MAX_EVENTS_AT_ONE_INSTANT {
                    self.saturate(format!(
                        "more than {MAX_EVENTS_AT_ONE_INSTANT} events at one instant ({instant} ns): the model makes no progress in time (requests that take no time at all, or arrivals closer than a nanosecond)"
                    ));
                    return self.queue.current();
                }
            } else {
                (instant, at_instant) = (event.time, 1);
            }
            if event.time >= self.next_check && self.clearly_saturated() {
                // Stopped at the check's time, the window's new end: every
                // event before it was handled, none at or after it.
                return u128::from(self.window_end) << 64;
            }
            if P::ON {
                self.tally(&event);
            }
            match event.kind() {
                ev::ARRIVAL => self.arrival(event.target),
                ev::SEND => self.send(event.target),
                ev::STEP => self.step(event.target),
                ev::CPU_DONE => self.cpu_done(event.target, event.aux),
                ev::CORE_FREE => self.core_free(event.target),
                ev::TIMEOUT => self.timer_fired(event.target),
                ev::WINDOW_START => self.window_started(),
                ev::WINDOW_END => self.window_closed(),
                ev::DRAIN_LIMIT => self.drain_limit(),
                ev::ROTATE => self.rotate(event.target),
                ev::CRASH => self.crash(event.target),
                ev::RESTART => self.restart(event.target),
                ev::PAUSE => self.pause(event.target),
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
        self.queue.current() + 1
    }

    /// No event is left: the clock ends where the last held core is
    /// released, as it would had that release been an event.
    fn ran_dry(&mut self) {
        let last = self.stations.iter().filter_map(Station::last_held).max();
        if let Some(key) = last {
            self.queue.advance_to(EventQueue::time_of(key));
        }
    }

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

    /// Runs a CPU job of `parts` on `station` (NONE: a client-side delay),
    /// continuing in `phase` when done. Zero demand continues at once.
    fn job(&mut self, slot: u32, station: u32, parts: CpuParts, phase: Phase) {
        self.job_with_tail(slot, station, parts, CpuParts::default(), phase);
    }

    /// [`Self::job`] whose last `off` nanoseconds (by category, each at most
    /// that category's part) run off the call's critical path: the call
    /// moves on after `demand - off`, while the core stays busy (and later
    /// jobs wait) for the whole demand (`[proxy] off_path_fraction`,
    /// docs/design.md; `cpu_off_path`, docs/topology.md).
    fn job_with_tail(
        &mut self,
        slot: u32,
        station: u32,
        parts: CpuParts,
        mut off: CpuParts,
        phase: Phase,
    ) {
        let mut parts = parts;
        for (o, &p) in off.iter_mut().zip(&parts) {
            *o = (*o).min(p);
        }
        if station != NONE && !self.stations[station as usize].full_speed() {
            // A fraction of a core: the job holds its slower server longer
            // (docs/model.md s3, step 7), and that is the call's time.
            let st = &self.stations[station as usize];
            for d in parts.iter_mut().chain(off.iter_mut()) {
                *d = st.wall(*d);
            }
        }
        let demand = sum(&parts);
        let cost = &mut self.costs[slot as usize];
        cost.parts = parts;
        cost.off = off;
        cost.wake = 0;
        let off = sum(&off);
        let c = self.calls.get_mut(slot);
        c.phase = phase;
        c.station = station;
        if demand == 0 {
            return self.advance(slot);
        }
        if station == NONE {
            let end = self
                .queue
                .reserve(self.queue.now().saturating_add(demand - off));
            match self.wait_after_job(slot, end) {
                Some((then, wait)) => self.chain(slot, end, then, wait),
                None => self.queue.schedule_reserved(end, ev::STEP, slot, 0),
            }
            return;
        }
        let now = self.queue.now();
        let st = &mut self.stations[station as usize];
        if st.arrive(slot, now, self.queue.current()) {
            let wake = st.wakeup();
            st.start(now.saturating_add(wake), &parts, 0);
            self.costs[slot as usize].wake = wake;
            self.schedule_done(slot, station, demand + wake, off);
        } else {
            // A job waits: the held cores' releases must now hand over.
            for key in st.take_held() {
                self.queue.schedule_reserved(key, ev::CORE_FREE, station, 0);
            }
            if phase == Phase::ServiceJob {
                let replica = self.calls.get(slot).replica;
                self.replicas[replica as usize].queued_jobs += 1;
            }
        }
    }

    /// The end of a job that has just started: one event when there is no
    /// off-path tail (the call moves on and the core is freed together);
    /// otherwise the call's event at the end of its on-path part and the
    /// core's release at the end of the whole demand. That release is an
    /// event only if a job waits for the station (now or when one queues,
    /// `job_with_tail`); otherwise the station holds its reserved place and
    /// counts the core free once it has passed (`Station::hold`).
    ///
    /// A job whose call then only waits schedules neither: the call's event
    /// comes at the end of that wait, and the core's release is held
    /// likewise (`chain.rs`).
    #[inline]
    fn schedule_done(&mut self, slot: u32, station: u32, demand: Nanos, off: Nanos) {
        let now = self.queue.now();
        // Where the call moves on (and, without a tail, the core is freed).
        let end = self.queue.reserve(now.saturating_add(demand - off));
        let chained = self.wait_after_job(slot, end);
        let release = if off == 0 {
            end
        } else {
            self.queue.reserve(now.saturating_add(demand))
        };
        match chained {
            Some((then, wait)) => self.chain(slot, end, then, wait),
            None if off == 0 => return self.queue.schedule_reserved(end, ev::CPU_DONE, slot, 0),
            None => self
                .queue
                .schedule_reserved(end, ev::CPU_DONE, slot, KEEP_CORE),
        }
        let st = &mut self.stations[station as usize];
        if st.queued() > 0 {
            self.queue
                .schedule_reserved(release, ev::CORE_FREE, station, 0);
        } else {
            st.hold(release);
        }
    }

    fn cpu_done(&mut self, slot: u32, aux: u32) {
        if aux != KEEP_CORE {
            let station = self.calls.get(slot).station;
            self.core_free(station);
        }
        self.advance(slot);
    }

    /// A core of `station` is free: the next waiting job, if any, starts.
    fn core_free(&mut self, station: u32) {
        let now = self.queue.now();
        if let Some((next, waited)) = self.stations[station as usize].depart(now) {
            if next == PAUSE {
                let len = self.stations[station as usize].start_pause(now);
                self.queue.schedule(len, ev::CORE_FREE, station, 0);
                return;
            }
            let cost = &self.costs[next as usize];
            let (parts, off) = (cost.parts, sum(&cost.off));
            self.stations[station as usize].start(now, &parts, waited);
            let c = self.calls.get(next);
            if c.phase == Phase::ServiceJob {
                let replica = c.replica;
                self.replicas[replica as usize].queued_jobs -= 1;
            }
            self.span(next, Span::Queueing);
            self.schedule_done(next, station, sum(&parts), off);
        }
    }

    /// A STEP (delay) ended: close its span and move on.
    fn step(&mut self, slot: u32) {
        self.settle_job(slot);
        let phase = self.calls.get(slot).phase;
        match phase {
            Phase::TcpRtt
            | Phase::HandshakeOut
            | Phase::HandshakeKeyExchange
            | Phase::HandshakeBack => self.span(slot, Span::HandshakeRtt),
            Phase::Request | Phase::WaypointOut | Phase::Response | Phase::AuthzHop => {
                let now = self.queue.now();
                let local_span = if phase == Phase::AuthzHop {
                    Span::Authz
                } else {
                    Span::Proxy
                };
                if P::ON && self.probe.recorder().is_some() {
                    let c = *self.calls.get(slot);
                    self.note_transit(slot, &c, now);
                }
                let call = self.calls.get_mut(slot);
                let (mark, local) = (call.mark, call.local);
                call.mark = now;
                call.local = 0;
                let attr = &mut self.costs[slot as usize].attr;
                attr[local_span as usize] += local;
                attr[Span::Network as usize] += now - mark - local;
            }
            Phase::External => self.span(slot, Span::External),
            Phase::Slow => self.span(slot, Span::Business),
            Phase::Refused => self.span(slot, Span::Network),
            _ => {} // client-side CPU delays: accounted in `advance`
        }
        self.advance(slot);
    }

    /// The current phase is complete; do the next step of the call's life.
    fn advance(&mut self, slot: u32) {
        // Only the phase: most steps read the few fields they need, and a
        // copy of the whole call is made only for those that take one.
        let phase = self.calls.get(slot).phase;
        match phase {
            Phase::OriginJob
            | Phase::ServerHandshake
            | Phase::ServerFinish
            | Phase::ClientFinish
            | Phase::WaypointJob
            | Phase::DestJob
            | Phase::AuthzJob
            | Phase::ServiceJob => self.job_done(slot, phase),
            Phase::TcpRtt => self.origin_job(slot),
            Phase::HandshakeOut => {
                let c = *self.calls.get(slot);
                self.server_handshake(slot, &c)
            }
            Phase::HandshakeKeyExchange => self.server_finish(slot),
            Phase::HandshakeBack => self.server_finished_arrived(slot),
            Phase::Request => self.arrived(slot),
            Phase::WaypointOut => self.arrived_at_dest(slot),
            Phase::AuthzHop => {
                let c = *self.calls.get(slot);
                self.policy_sidecar_job(slot, &c)
            }
            Phase::Response => self.at_caller(slot),
            Phase::External => self.respond(slot),
            Phase::Slow => self.run_stages(slot),
            Phase::Refused => self.refused(slot),
            other => unreachable!("no step ends in phase {other:?}"),
        }
    }

    /// A CPU job finished: attribute its parts, then continue.
    fn job_done(&mut self, slot: u32, phase: Phase) {
        let mark = self.job_ended(slot, phase, self.queue.now());
        // The steps that take the call see it as it was when the job ended
        // (marked at the job's start).
        let ended = |sim: &Self| Call {
            mark,
            ..*sim.calls.get(slot)
        };
        match phase {
            Phase::OriginJob => self.client_hello(slot, &ended(self)),
            Phase::ServerHandshake => self.server_flight(slot, &ended(self)),
            Phase::ServerFinish => self.server_finished_flight(slot),
            Phase::ClientFinish => self.handshake_done(slot),
            Phase::WaypointJob => self.waypoint_out(slot, &ended(self)),
            Phase::DestJob => self.authorize(slot),
            Phase::AuthzJob => {
                self.cache_decision(slot);
                self.admit(slot);
            }
            Phase::ServiceJob => self.service_job_done(slot),
            _ => unreachable!(),
        }
    }

    /// The job in `phase` ends at `end`: its on-path parts and wake-up go
    /// to the call's spans, and its next phase starts then. Returns when
    /// the job's phase started.
    fn job_ended(&mut self, slot: u32, phase: Phase, end: Nanos) -> Nanos {
        let cost = &mut self.costs[slot as usize];
        // Only the on-path part of the job is the call's time.
        let mut parts = cost.parts;
        for (p, &o) in parts.iter_mut().zip(&cost.off) {
            *p -= o;
        }
        for (cat, &d) in parts.iter().enumerate() {
            cost.attr[span_of(cat) as usize] += d;
        }
        cost.attr[Span::Queueing as usize] += cost.wake;
        let call = self.calls.get_mut(slot);
        let mark = std::mem::replace(&mut call.mark, end);
        if P::ON && self.probe.recorder().is_some() {
            self.note_job(slot, phase, mark, end, parts);
        }
        mark
    }
}

/// Connections cost nothing and nothing runs at the origin (plaintext, no
/// proxies, established connections with unlimited streams): calls skip the
/// pool and origin bookkeeping entirely.
fn direct(design: &Design) -> bool {
    let k = &design.connections;
    k.reuse == Reuse::Multiplex
        && k.prewarm
        && k.max_concurrent_streams == u32::MAX
        && design.transport.security == Security::Plaintext
        && design.proxy.mode == ProxyMode::None
}

/// Runs one replication of `topo` under `design`.
pub fn simulate(topo: &Topology, design: &Design, replication: u32) -> RunMetrics {
    Simulation::new(topo, design, replication).run()
}
