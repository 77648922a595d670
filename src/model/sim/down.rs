//! Replicas down (`down = [{ replica, at, for }]`, docs/topology.md
//! "Replicas down"): at `at` a replica crashes, for `for` it is down, then
//! it is back. With `crashes = { every, for }` the same crash and restart
//! come by a rate: each replica draws, from a stream of its own, its up
//! time (exponential) at the start and at each restart, and its down time
//! at each crash.
//!
//! - At the crash, the calls of the call graphs it is serving (those past
//!   its door and not yet answered) fail at once for their callers, with
//!   reason `error` (retried as `retry_on` says). What they had started
//!   winds down without doing more: one waiting for a worker is dropped,
//!   one running or queued on the replica's cores finishes that job (the
//!   engine does not take a job back), then calls nothing more; calls it
//!   had already made run on at their callees.
//! - While it is down, callers skip it: a call the balancer would have
//!   sent it goes to the next replica up (least-outstanding: the least
//!   busy one up). With no replica up, a call fails after the round trip
//!   of a refused connection. A call already on its way at the crash fails
//!   where it reaches the replica, its failure travelling back.
//! - Connections from or to it opened before it came back are closed when
//!   next looked at: the first calls after the restart connect and
//!   handshake again (a node proxy, which does not crash with it, keeps
//!   its connections).
//! - Calls to the policy and identity services are never failed: they skip
//!   a replica that is down, and are served by it if none is up.

use super::state::{Call, Kind, NONE, Phase};
use super::{Probe, Simulation, ev, label};
use crate::engine::rng::Streams;
use crate::engine::rng::{Component, StreamRng, derive};
use crate::model::cost::Span;
use crate::model::dist::Dist;
use crate::model::topology::{Balance, Reason, Topology};
use crate::units::Nanos;

/// Whether any replica of `topo` ever goes down (`down` or `crashes`).
pub(super) fn any(topo: &Topology) -> bool {
    topo.services
        .iter()
        .any(|s| !s.down.is_empty() || s.crashes.is_some())
}

/// Which replicas are down; empty when the topology has no `down`.
#[derive(Debug, Default)]
pub(super) struct Outages {
    /// Per replica (global index).
    down: Vec<bool>,
    /// Per replica: when it last came back (0: never down).
    back: Vec<Nanos>,
    /// Per replica: since when it is down (while it is).
    since: Vec<Nanos>,
    /// Per replica of a service with `crashes`: its stream of up and down
    /// times (by global replica index, so the same whatever the threads).
    draws: Vec<Option<StreamRng>>,
}

impl Outages {
    pub(super) fn new(
        topo: &Topology,
        replicas: usize,
        replica_base: &[u32],
        streams: &Streams,
    ) -> Self {
        if !any(topo) {
            return Outages::default();
        }
        let mut draws = vec![None; replicas];
        for (s, svc) in topo.services.iter().enumerate() {
            if svc.crashes.is_some() {
                let base = replica_base[s];
                for r in base..base + svc.replicas {
                    draws[r as usize] = Some(streams.stream(Component::Crashes, u64::from(r)));
                }
            }
        }
        Outages {
            down: vec![false; replicas],
            back: vec![0; replicas],
            since: vec![0; replicas],
            draws,
        }
    }
}

impl<'t, P: Probe> Simulation<'t, P> {
    /// Schedules every crash and restart.
    pub(super) fn schedule_outages(&mut self) {
        for (s, svc) in self.topo.services.iter().enumerate() {
            let base = self.replica_base[s];
            for w in &svc.down {
                let r = base + w.replica;
                self.queue.schedule_at(w.at, ev::CRASH, r, 0);
                self.queue.schedule_at(w.until, ev::RESTART, r, 0);
            }
            if svc.crashes.is_some() {
                for r in base..base + svc.replicas {
                    let up = self.crash_draw(r, true);
                    self.queue.schedule_at(up, ev::CRASH, r, 0);
                }
            }
        }
    }

    /// Replica `r`'s next up time (`up`) or down time from its stream; at
    /// least 1 ns, so that a crash and its restart never share an instant.
    fn crash_draw(&mut self, r: u32, up: bool) -> Nanos {
        let service = self.replicas[r as usize].service as usize;
        let Some(rate) = &self.topo.services[service].crashes else {
            return 0;
        };
        let Some(rng) = self.outages.draws[r as usize].as_mut() else {
            return 0;
        };
        let t = if up {
            Dist::Exponential {
                mean: rate.every as f64,
            }
            .sample(rng)
        } else {
            rate.lasts.sample(rng)
        };
        t.max(1)
    }

    /// Replica `r`'s time down inside the window up to now goes to the
    /// counters; from now on it counts from now.
    pub(super) fn count_down_time(&mut self, r: u32) {
        let now = self.queue.now();
        let from = self.outages.since[r as usize].max(self.window_start);
        let to = now.min(self.window_end);
        self.metrics.counters.replica_down_ns += to.saturating_sub(from);
        self.outages.since[r as usize] = now;
    }

    /// At the window's end: the time of the replicas still down.
    pub(super) fn count_down_at_close(&mut self) {
        for r in 0..self.outages.down.len() as u32 {
            if self.outages.down[r as usize] {
                self.count_down_time(r);
            }
        }
    }

    /// Whether replica `r` is down.
    #[inline]
    pub(super) fn is_down(&self, r: u32) -> bool {
        !self.outages.down.is_empty() && self.outages.down[r as usize]
    }

    /// When the replica behind `peer` last came back, if it is one that
    /// went down: connections opened before then are gone.
    pub(super) fn reset_at(&self, peer: u32) -> Nanos {
        if self.outages.down.is_empty() || peer as usize >= self.replicas.len() {
            return 0;
        }
        self.outages.back[peer as usize]
    }

    /// `r`, the balancer's pick among `service`'s replicas, or, if it is
    /// down, the next one up (the least busy one up with least-outstanding);
    /// `r` itself only if all are down.
    pub(super) fn skip_down(&self, service: u32, r: u32) -> u32 {
        if !self.is_down(r) {
            return r;
        }
        let base = self.replica_base[service as usize];
        let n = self.topo.services[service as usize].replicas;
        let mut up = (1..n)
            .map(|k| base + (r - base + k) % n)
            .filter(|&x| !self.outages.down[x as usize]);
        let next = match self.topo.services[service as usize].balance {
            Balance::LeastOutstanding => up.min_by_key(|&x| self.replicas[x as usize].outstanding),
            Balance::RoundRobin | Balance::Random => up.next(),
        };
        next.unwrap_or(r)
    }

    /// Replica `r` crashes.
    pub(super) fn crash(&mut self, r: u32) {
        let now = self.queue.now();
        self.outages.down[r as usize] = true;
        self.outages.since[r as usize] = now;
        if now >= self.window_start && now < self.window_end {
            self.metrics.counters.crashes += 1;
        }
        if self.outages.draws[r as usize].is_some() {
            let down = self.crash_draw(r, false);
            self.queue.schedule(down, ev::RESTART, r, 0);
        }
        let victims: Vec<_> = self
            .calls
            .live_indices()
            .filter(|&s| self.calls.get(s).replica == r)
            .map(|s| self.calls.handle(s))
            .collect();
        for v in victims {
            // Failing one call may have moved another on: look again.
            if !self.calls.is_current(v) {
                continue;
            }
            let c = *self.calls.get(v.index);
            let serving = matches!(
                c.phase,
                Phase::DestJob
                    | Phase::AuthzHop
                    | Phase::AuthzJob
                    | Phase::AuthzRemote
                    | Phase::Worker
                    | Phase::ServiceJob
                    | Phase::Slow
                    | Phase::Children
                    | Phase::QueueBlocked
            );
            if !serving || c.abandoned || !matches!(c.kind, Kind::Root | Kind::Child) {
                continue;
            }
            self.lost(v.index, &c);
            if c.phase == Phase::Worker {
                let waiting = &mut self.replicas[r as usize].waiting;
                if let Some(i) = waiting.iter().position(|&s| s == v.index) {
                    waiting.remove(i);
                }
                self.replicas[r as usize].outstanding -= 1;
                self.at_caller(v.index);
            }
        }
    }

    /// Replica `r` is back.
    pub(super) fn restart(&mut self, r: u32) {
        self.count_down_time(r);
        self.outages.down[r as usize] = false;
        self.outages.back[r as usize] = self.queue.now();
        if self.outages.draws[r as usize].is_some() {
            let up = self.crash_draw(r, true);
            self.queue.schedule(up, ev::CRASH, r, 0);
        }
    }

    /// Call `c` (in `slot`) fails for its caller now, its replica down;
    /// the callee's side is left to wind down, calling nothing more.
    fn lost(&mut self, slot: u32, c: &Call) {
        let now = self.queue.now();
        if let Some(k) = self.counters(slot) {
            k.down += 1;
        }
        let call = self.calls.get_mut(slot);
        call.abandoned = true;
        call.crashed = true;
        call.failed = true;
        call.reason = Some(Reason::Error);
        let mut attr = self.costs[slot as usize].attr;
        attr[Span::Retry as usize] += (now - c.first_sent).saturating_sub(attr.iter().sum::<u64>());
        if c.kind == Kind::Root {
            self.costs[slot as usize].attr = attr;
            return self.request_finished(slot, false);
        }
        let cs = &self.topo.calls[c.spec as usize];
        if c.attempt < cs.retries && cs.retry_on.contains(Reason::Error) {
            return self.retry(slot, c);
        }
        self.record_call(c, now - c.first_sent, false);
        self.call_outcome(c, &attr, false);
    }

    /// At replica's door: a call that finds it down fails there (true), its
    /// failure travelling back; one the crash already failed is dropped.
    pub(super) fn turned_away_down(&mut self, slot: u32) -> bool {
        if self.outages.down.is_empty() {
            return false;
        }
        let c = *self.calls.get(slot);
        if !matches!(c.kind, Kind::Root | Kind::Child) {
            return false;
        }
        if c.crashed {
            // Failed by the crash on its way in: nothing waits for it.
            self.replicas[c.replica as usize].outstanding -= 1;
            self.at_caller(slot);
            return true;
        }
        if !self.is_down(c.replica) {
            return false;
        }
        if let Some(k) = self.counters(slot) {
            k.down += 1;
        }
        self.replicas[c.replica as usize].outstanding -= 1;
        let call = self.calls.get_mut(slot);
        call.failed = true;
        call.reason = Some(Reason::Error);
        self.response(slot, &c);
        true
    }

    /// No replica of the callee is up: the call fails after the round trip
    /// of a refused connection (true).
    pub(super) fn no_replica_up(&mut self, slot: u32, c: &Call) -> bool {
        if c.replica == NONE
            || !self.is_down(c.replica)
            || !matches!(c.kind, Kind::Root | Kind::Child)
        {
            return false;
        }
        if let Some(k) = self.counters(slot) {
            k.down += 1;
        }
        let call = self.calls.get_mut(slot);
        call.failed = true;
        call.reason = Some(Reason::Error);
        let rtt = self.rtt(c.origin, c.dest, derive(c.key, label::HANDSHAKE));
        self.wait(slot, Phase::Refused, rtt);
        true
    }
}
