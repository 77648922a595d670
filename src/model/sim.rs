//! One replication of one topology: the call state machine of MODEL.md s3,
//! driven by the engine's event queue.
//!
//! A call is one attempt of one caller -> callee request. Its life:
//! `send` (pick a replica, transit) -> `at_server` (wait for a worker thread
//! if the replica limits them) -> business CPU on the replica's cores ->
//! stages of child calls (cores released, worker held) -> `respond` (transit
//! back) -> `at_caller`. Each arrow is a cost hook; Zero Trust designs add
//! steps between them without changing the shape.
//!
//! Timeouts abandon an attempt on the caller's side only: the callee keeps
//! working (and consuming cores) until it is done, which is how retries
//! amplify load on a saturated service.

use std::collections::VecDeque;

use super::dist::Dist;
use super::metrics::{Outcomes, RunMetrics, Saturation, ServiceMetrics};
use super::topology::{Arrivals, Balance, EndpointId, Topology, Window, ZoneId};
use crate::engine::rng::{self, Component, StreamRng, Streams, derive, unit_f64};
use crate::engine::{EventQueue, Slab, Station};
use crate::units::{NANOS_PER_SEC, Nanos};

/// "No such slot/replica/user".
const NONE: u32 = u32::MAX;
/// Past this many calls in flight a run is saturated beyond doubt; stopping
/// keeps memory bounded.
const MAX_CALLS_IN_FLIGHT: usize = 4_000_000;
/// CPU category index of business logic.
const BUSINESS: usize = 0;

/// Event kinds.
mod ev {
    pub const ARRIVAL: u8 = 0;
    pub const SEND: u8 = 1;
    pub const AT_SERVER: u8 = 2;
    pub const CPU_DONE: u8 = 3;
    pub const AT_CALLER: u8 = 4;
    pub const TIMEOUT: u8 = 5;
    pub const WINDOW_START: u8 = 6;
    pub const WINDOW_END: u8 = 7;
    pub const DRAIN_LIMIT: u8 = 8;
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
}

/// Per-call state, kept in a slab.
#[derive(Debug, Clone, Copy)]
struct Call {
    /// Randomness key: derived from the request and the call's position in the
    /// call graph, so the same logical call draws the same values across designs.
    key: u64,
    /// The caller's call slot, NONE for a user request.
    parent: u32,
    /// The call site (`Topology::calls`), NONE for a user request.
    spec: u32,
    /// What it runs.
    endpoint: EndpointId,
    /// Index into `Workload::entries` (user requests only).
    entry: u32,
    /// Chosen replica (global index).
    replica: u32,
    /// The caller's replica, NONE for the client.
    caller_replica: u32,
    /// Closed-loop user that sent it (user requests only), else NONE.
    user: u32,
    /// Current stage of the callee's call graph.
    stage: u32,
    /// Children of the current stage not yet finished.
    pending: u32,
    /// Which sequential repeat this is (0-based).
    repeat: u32,
    /// Which attempt this is (0 = first).
    attempt: u32,
    /// When the first attempt of this logical call was sent.
    first_sent: Nanos,
    /// CPU demand of the job this call has at a station.
    demand: Nanos,
    /// Part of a request that arrived inside the measurement window.
    measured: bool,
    /// A child failed (or this call timed out): the caller sees an error.
    failed: bool,
    /// The caller gave up on this attempt; its response will be ignored.
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

/// A running replica: its cores, worker threads and calls in progress.
#[derive(Debug)]
struct Replica {
    service: u32,
    zone: ZoneId,
    cores: Station,
    /// Worker threads in use; `limit` NONE when unlimited.
    workers: u32,
    limit: u32,
    /// Calls waiting for a worker thread.
    waiting: VecDeque<u32>,
    /// Calls sent to this replica and not yet responded (load balancing).
    outstanding: u32,
}

/// The state of one replication.
pub struct Simulation<'t> {
    topo: &'t Topology,
    queue: EventQueue,
    calls: Slab<Call>,
    replicas: Vec<Replica>,
    /// First global replica index of each service.
    replica_base: Vec<u32>,
    /// Round-robin pointer per service.
    next_replica: Vec<u32>,
    timers: Vec<TimerLane>,
    streams: Streams,
    arrival_rng: StreamRng,
    entry_rng: StreamRng,
    user_rngs: Vec<StreamRng>,
    /// Cumulative entry weights.
    entry_cdf: Vec<f64>,
    window_start: Nanos,
    window_end: Nanos,
    /// Requests numbered in arrival order (randomness key of the request).
    next_request: u64,
    /// User requests sent and not yet finished from the client's view.
    in_system: u64,
    in_system_at_start: u64,
    in_system_area: u128,
    last_change: Nanos,
    measured_outstanding: u64,
    draining: bool,
    done: bool,
    metrics: RunMetrics,
}

impl<'t> Simulation<'t> {
    /// Prepares replication `replication` of `topo`.
    pub fn new(topo: &'t Topology, replication: u32) -> Self {
        let w = &topo.workload;
        let streams = Streams::new(w.seed, replication);
        let window_start = w.warmup;
        let window_end = match w.window {
            Window::Duration(d) => window_start.saturating_add(d),
            Window::Requests(_) => Nanos::MAX,
        };
        let mut replicas = Vec::new();
        let mut replica_base = Vec::new();
        for (s, svc) in topo.services.iter().enumerate() {
            replica_base.push(replicas.len() as u32);
            for i in 0..svc.replicas {
                replicas.push(Replica {
                    service: s as u32,
                    zone: svc.zone_of(i),
                    cores: Station::new(svc.cores, (window_start, window_end)),
                    workers: 0,
                    limit: svc.concurrency.unwrap_or(NONE),
                    waiting: VecDeque::new(),
                    outstanding: 0,
                });
            }
        }
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
        Simulation {
            topo,
            timers,
            queue: EventQueue::new(),
            calls: Slab::new(),
            replicas,
            replica_base,
            next_replica: vec![0; topo.services.len()],
            streams,
            arrival_rng: streams.stream(Component::Arrivals, 0),
            entry_rng: streams.stream(Component::EntryMix, 0),
            user_rngs: (0..users)
                .map(|u| streams.stream(Component::Users, u64::from(u)))
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
                ..RunMetrics::default()
            },
        }
    }

    /// Runs to the end of the window (and the drain of measured requests) and
    /// returns what was measured.
    pub fn run(mut self) -> RunMetrics {
        self.start();
        while let Some(event) = self.queue.pop() {
            match event.kind() {
                ev::ARRIVAL => self.arrival(event.target),
                ev::SEND => self.send(event.target),
                ev::AT_SERVER => self.at_server(event.target),
                ev::CPU_DONE => self.cpu_done(event.target),
                ev::AT_CALLER => self.at_caller(event.target),
                ev::TIMEOUT => self.timer_fired(event.target),
                ev::WINDOW_START => self.in_system_at_start = self.in_system,
                ev::WINDOW_END => self.window_closed(),
                ev::DRAIN_LIMIT => self.drain_limit(),
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
        self.finish()
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
            Arrivals::Closed { users, think } => {
                // Stagger the users by one think time so they do not all fire at 0.
                for u in 0..*users {
                    let t = think.sample(&mut self.user_rngs[u as usize]);
                    self.queue.schedule(t, ev::ARRIVAL, u, 0);
                }
            }
        }
    }

    fn next_gap(&mut self) -> Nanos {
        match self.topo.workload.arrivals {
            Arrivals::Poisson { rate } => {
                let u = unit_f64(&mut self.arrival_rng);
                (-(1.0 - u).ln() / rate * NANOS_PER_SEC as f64).round() as Nanos
            }
            Arrivals::Constant { rate } => (NANOS_PER_SEC as f64 / rate).round() as Nanos,
            Arrivals::Closed { .. } => unreachable!("closed loops have no arrival process"),
        }
    }

    // ---- user requests -------------------------------------------------

    /// A new user request: from the open-loop process (`user` NONE) or a
    /// closed-loop user who finished thinking.
    fn arrival(&mut self, user: u32) {
        let now = self.queue.now();
        if user == NONE {
            let gap = self.next_gap();
            self.queue.schedule(gap, ev::ARRIVAL, NONE, 0);
        }
        let u = unit_f64(&mut self.entry_rng);
        let entry = self
            .entry_cdf
            .partition_point(|&c| c <= u)
            .min(self.entry_cdf.len() - 1);
        let measured = !self.draining && now >= self.window_start && now < self.window_end;
        let key = self.streams.key(Component::Requests, self.next_request);
        self.next_request += 1;
        if measured {
            self.metrics.arrived += 1;
            self.measured_outstanding += 1;
        }
        self.change_in_system(1);
        let call = Call {
            key,
            parent: NONE,
            spec: NONE,
            endpoint: self.topo.workload.entries[entry].0,
            entry: entry as u32,
            replica: NONE,
            caller_replica: NONE,
            user,
            stage: 0,
            pending: 0,
            repeat: 0,
            attempt: 0,
            first_sent: now,
            demand: 0,
            measured,
            failed: false,
            abandoned: false,
        };
        let slot = self.insert(call);
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
        if c.measured {
            let o = &mut self.metrics.endpoints[c.entry as usize];
            o.latency.record(now - c.first_sent);
            o.failed += u64::from(!ok);
            self.measured_outstanding -= 1;
        }
        if c.user != NONE
            && let Arrivals::Closed { think, .. } = &self.topo.workload.arrivals
        {
            let t = think.sample(&mut self.user_rngs[c.user as usize]);
            self.queue.schedule(t, ev::ARRIVAL, c.user, 0);
        }
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

    // ---- one call ------------------------------------------------------

    fn insert(&mut self, call: Call) -> u32 {
        self.metrics.calls += 1;
        let slot = self.calls.insert(call).index;
        self.metrics.peak_calls_in_flight = self.metrics.peak_calls_in_flight.max(self.calls.len());
        slot
    }

    /// Caller side: pick a replica and put the request on the wire.
    fn send(&mut self, slot: u32) {
        let c = *self.calls.get(slot);
        let service = self.topo.endpoints[c.endpoint as usize].service;
        let replica = self.pick_replica(service, c.key);
        self.replicas[replica as usize].outstanding += 1;
        self.calls.get_mut(slot).replica = replica;
        let bytes = self.topo.endpoints[c.endpoint as usize].request_bytes;
        let delay = self.transit(
            c.caller_replica,
            replica,
            bytes,
            derive(c.key, label::REQUEST_TRANSIT),
        );
        self.queue.schedule(delay, ev::AT_SERVER, slot, 0);
        if let Some(timeout) = self.timeout_of(&c) {
            self.arm_timer(slot, timeout);
        }
    }

    fn timeout_of(&self, c: &Call) -> Option<Nanos> {
        if c.spec == NONE {
            self.topo.workload.timeout
        } else {
            self.topo.calls[c.spec as usize].timeout
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

    /// One-way delay between a caller (replica index, or NONE for the client)
    /// and a replica: half an RTT draw, plus serialisation if bandwidth is set.
    fn transit(&self, caller: u32, replica: u32, bytes: u64, key: u64) -> Nanos {
        let net = &self.topo.network;
        let to = &self.replicas[replica as usize];
        let rtt: &Dist = if caller == replica {
            &net.same_host
        } else {
            let from = if caller == NONE {
                self.topo.workload.client_zone
            } else {
                self.replicas[caller as usize].zone
            };
            net.rtt(from, to.zone)
        };
        let half = match rtt {
            Dist::Constant(v) => v / 2,
            d => d.sample(&mut rng::call_rng(key)) / 2,
        };
        let wire = net.bandwidth.map_or(0, |bw| {
            (bytes as f64 / bw * NANOS_PER_SEC as f64).round() as Nanos
        });
        half + wire
    }

    /// Server side: the request reached its replica.
    fn at_server(&mut self, slot: u32) {
        let replica = self.calls.get(slot).replica as usize;
        let r = &mut self.replicas[replica];
        if r.workers < r.limit {
            r.workers += 1;
            self.serve(slot);
        } else {
            r.waiting.push_back(slot);
        }
    }

    /// A worker thread has the call: run the endpoint's business CPU.
    fn serve(&mut self, slot: u32) {
        let c = *self.calls.get(slot);
        let cpu = &self.topo.endpoints[c.endpoint as usize].cpu;
        let demand = match cpu {
            Dist::Constant(v) => *v,
            d => d.sample(&mut rng::call_rng(derive(c.key, label::CPU))),
        };
        self.run_cpu(slot, demand);
    }

    /// Queues a CPU job of `demand` on the call's replica cores; zero demand
    /// skips the queue entirely (it would otherwise wait for a core to do nothing).
    fn run_cpu(&mut self, slot: u32, demand: Nanos) {
        if demand == 0 {
            return self.cpu_finished(slot);
        }
        let now = self.queue.now();
        let c = self.calls.get_mut(slot);
        c.demand = demand;
        let station = &mut self.replicas[c.replica as usize].cores;
        if station.arrive(slot, now) {
            station.start(now, demand, BUSINESS, 0);
            self.queue.schedule(demand, ev::CPU_DONE, slot, 0);
        }
    }

    fn cpu_done(&mut self, slot: u32) {
        let now = self.queue.now();
        let replica = self.calls.get(slot).replica as usize;
        if let Some((next, waited)) = self.replicas[replica].cores.depart(now) {
            let demand = self.calls.get(next).demand;
            self.replicas[replica]
                .cores
                .start(now, demand, BUSINESS, waited);
            self.queue.schedule(demand, ev::CPU_DONE, next, 0);
        }
        self.cpu_finished(slot);
    }

    fn cpu_finished(&mut self, slot: u32) {
        self.run_stages(slot);
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
            let child = Call {
                key: derive(site_key, derive(label::REPEAT, u64::from(i))),
                parent,
                spec,
                endpoint: cs.target,
                entry: NONE,
                replica: NONE,
                caller_replica: p.replica,
                user: NONE,
                stage: 0,
                pending: 0,
                repeat: i,
                attempt: 0,
                first_sent: now,
                demand: 0,
                measured: p.measured,
                failed: false,
                abandoned: false,
            };
            let slot = self.insert(child);
            self.send(slot);
        }
        fanout
    }

    /// The callee is done: free the worker, send the response back.
    fn respond(&mut self, slot: u32) {
        let c = *self.calls.get(slot);
        let r = &mut self.replicas[c.replica as usize];
        r.outstanding -= 1;
        if let Some(next) = r.waiting.pop_front() {
            // The worker passes straight to the next waiting call.
            self.serve(next);
        } else {
            r.workers -= 1;
        }
        let bytes = self.topo.endpoints[c.endpoint as usize].response_bytes;
        let delay = self.transit(
            c.caller_replica,
            c.replica,
            bytes,
            derive(c.key, label::RESPONSE_TRANSIT),
        );
        self.queue.schedule(delay, ev::AT_CALLER, slot, 0);
    }

    /// The response reached the caller.
    fn at_caller(&mut self, slot: u32) {
        let c = *self.calls.get(slot);
        if c.abandoned {
            // The caller already moved on (timeout); nothing is waiting.
        } else if c.parent == NONE {
            self.request_finished(slot, !c.failed);
        } else {
            self.child_finished(slot, !c.failed);
            return;
        }
        self.calls.remove(slot);
    }

    /// A child call has its final outcome; frees its slot.
    fn child_finished(&mut self, slot: u32, ok: bool) {
        let now = self.queue.now();
        let c = *self.calls.get(slot);
        self.calls.remove(slot);
        let cs = &self.topo.calls[c.spec as usize];
        if c.measured {
            let o = &mut self.metrics.edges[cs.edge as usize];
            o.latency.record(now - c.first_sent);
            o.failed += u64::from(!ok);
        }
        if ok && !cs.parallel && c.repeat + 1 < cs.times {
            // Sequential repeat: the next one goes out as the previous returns.
            let next = Call {
                key: derive(c.key, derive(label::REPEAT, u64::from(c.repeat + 1))),
                repeat: c.repeat + 1,
                attempt: 0,
                first_sent: now,
                stage: 0,
                pending: 0,
                failed: false,
                abandoned: false,
                ..c
            };
            let slot = self.insert(next);
            self.send(slot);
            return;
        }
        let p = self.calls.get_mut(c.parent);
        p.failed |= !ok;
        p.pending -= 1;
        if p.pending == 0 {
            p.stage += 1;
            self.run_stages(c.parent);
        }
    }

    fn arm_timer(&mut self, slot: u32, delay: Nanos) {
        let now = self.queue.now();
        let generation = self.calls.handle(slot).generation;
        let lane = self.timers.partition_point(|l| l.delay < delay);
        let l = &mut self.timers[lane];
        l.pending.push_back((now + delay, slot, generation));
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
        let handle = crate::engine::SlotRef {
            index: slot,
            generation,
        };
        if !self.calls.is_current(handle) || self.calls.get(slot).abandoned {
            return; // it already finished; the slot may hold another call now
        }
        let now = self.queue.now();
        let c = *self.calls.get(slot);
        self.calls.get_mut(slot).abandoned = true;
        if c.parent == NONE {
            return self.request_finished(slot, false);
        }
        let cs = &self.topo.calls[c.spec as usize];
        if c.attempt < cs.retries {
            let retry = Call {
                key: derive(c.key, label::ATTEMPT),
                attempt: c.attempt + 1,
                replica: NONE,
                stage: 0,
                pending: 0,
                failed: false,
                abandoned: false,
                ..c
            };
            let delay = cs.backoff.saturating_mul(1 << c.attempt.min(32));
            let retry_slot = self.insert(retry);
            self.queue.schedule(delay, ev::SEND, retry_slot, 0);
            return;
        }
        // Out of attempts: the caller sees a failure now. The abandoned slot
        // lives on until its response arrives, so give the parent a copy.
        if c.measured {
            let o = &mut self.metrics.edges[cs.edge as usize];
            o.latency.record(now - c.first_sent);
            o.failed += 1;
        }
        let p = self.calls.get_mut(c.parent);
        p.failed = true;
        p.pending -= 1;
        if p.pending == 0 {
            p.stage += 1;
            self.run_stages(c.parent);
        }
    }

    // ---- the measurement window ----------------------------------------

    fn set_window_end(&mut self, end: Nanos) {
        self.window_end = end;
        for r in &mut self.replicas {
            r.cores.set_window_end(end);
        }
    }

    /// Arrivals after this are not measured; decide saturation, then drain.
    fn window_closed(&mut self) {
        let now = self.queue.now();
        self.change_in_system(0);
        self.metrics.window = self.window_end - self.window_start;
        let growth = self.in_system as i64 - self.in_system_at_start as i64;
        let open = self.topo.workload.arrivals.rate().is_some();
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
        self.queue.schedule_at(now + limit, ev::DRAIN_LIMIT, 0, 0);
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

    fn finish(mut self) -> RunMetrics {
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
        let window = self.metrics.window;
        let mut services = vec![ServiceMetrics::default(); self.topo.services.len()];
        for r in &self.replicas {
            let s = &mut services[r.service as usize];
            let st = r.cores.stats();
            for (acc, b) in s.busy.iter_mut().zip(st.busy) {
                *acc += b;
            }
            s.capacity += u64::from(r.cores.servers()) * window;
            s.jobs += st.started;
            s.waited += st.waited;
        }
        if let Some(sat) = &mut self.metrics.saturation {
            sat.bottleneck = services
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.utilisation().total_cmp(&b.1.utilisation()))
                .map(|(i, _)| i as u32);
        }
        self.metrics.services = services;
        if window > 0 {
            self.metrics.mean_in_system = self.in_system_area as f64 / window as f64;
        }
        self.metrics.events = self.queue.scheduled();
        self.metrics.peak_events_pending = self.queue.peak_len();
        self.metrics
    }
}

/// Runs one replication of `topo`.
pub fn simulate(topo: &Topology, replication: u32) -> RunMetrics {
    Simulation::new(topo, replication).run()
}
