//! A call leaves its caller: (re)send (after a token refresh, `identity.rs`),
//! choose a replica by the service's balancing, name the TLS peers at both
//! ends, arm the caller's timeout, and go for a connection (or straight to
//! the request when connections cost nothing).

use super::state::{Call, Kind, NONE, Phase};
use super::{Probe, Simulation, label};
use crate::engine::rng::{self, derive, unit_f64};
use crate::model::cost::Span;
use crate::model::topology::{Balance, Reason};

impl<'t, P: Probe> Simulation<'t, P> {
    /// Caller side: (re)send a call, first refreshing the caller's token.
    pub(super) fn send(&mut self, slot: u32) {
        let now = self.queue.now();
        let c = *self.calls.get(slot);
        if c.phase == Phase::Backoff {
            self.span(slot, Span::Retry);
        }
        if self.refresh_token(slot, &c, now) {
            return;
        }
        self.dispatch(slot);
    }

    /// Arms the caller's timeout, takes a connection of the caller's
    /// client-side pool if it has one (`client_pool.rs`), then goes on.
    pub(super) fn dispatch(&mut self, slot: u32) {
        let c = *self.calls.get(slot);
        if let Some(timeout) = self.timeout_of(&c) {
            self.arm_timer(slot, timeout);
        }
        if self.pool_wait(slot, &c) {
            return;
        }
        self.pick(slot);
    }

    /// Picks a replica and gets a connection to it.
    pub(super) fn pick(&mut self, slot: u32) {
        let c = *self.calls.get(slot);
        let service = self.topo.endpoints[c.endpoint as usize].service;
        self.count_answers(service);
        let zone = match c.caller_replica {
            NONE => self.topo.workload.client_zone,
            r => self.replicas[r as usize].zone,
        };
        let first = match self.zone_aware_replica(service, c.key, zone) {
            Some(r) => r,
            None => self.pick_replica(service, c.key),
        };
        let replica = self.skip_down(service, first);
        self.replicas[replica as usize].outstanding += 1;
        let origin = self.origin_peer(c.caller_replica);
        let dest = self.dest_peer(replica);
        {
            let c = self.calls.get_mut(slot);
            c.replica = replica;
            c.origin = origin;
            c.dest = dest;
        }
        let c = *self.calls.get(slot);
        if self.no_replica_up(slot, &c) {
            return;
        }
        // Only calls of the call graphs: the policy and identity services
        // answer every workload, in the mesh or not.
        if c.kind == Kind::Child && !self.to_external(&c) && self.hop(&c).is_none() {
            return self.refuse(slot, &c);
        }
        // An external service's own TLS costs its connections even when the
        // design's cost nothing.
        if self.direct && self.external_tls(&c).is_none() {
            return self.request(slot, 0);
        }
        self.acquire(slot);
    }

    /// A strict callee refuses a caller outside its mesh: the connection
    /// is reset after one round trip, and the call fails.
    fn refuse(&mut self, slot: u32, c: &Call) {
        if let Some(k) = self.counters(slot) {
            k.refused += 1;
        }
        if c.measured {
            let edge = self.topo.calls[c.spec as usize].edge;
            self.metrics.edges[edge as usize].refused += 1;
        }
        let call = self.calls.get_mut(slot);
        call.failed = true;
        call.reason = Some(Reason::Refused);
        let rtt = self.rtt(c.origin, c.dest, derive(c.key, label::HANDSHAKE));
        self.wait(slot, Phase::Refused, rtt);
    }

    /// The refusal reached the caller.
    pub(super) fn refused(&mut self, slot: u32) {
        let c = *self.calls.get(slot);
        self.replicas[c.replica as usize].outstanding -= 1;
        self.at_caller(slot);
    }

    pub(super) fn origin_peer(&self, caller_replica: u32) -> u32 {
        if caller_replica == NONE {
            self.client_peer
        } else if self.node_peer[caller_replica as usize] != NONE {
            self.node_peer[caller_replica as usize]
        } else {
            caller_replica
        }
    }

    pub(super) fn dest_peer(&self, replica: u32) -> u32 {
        if self.node_peer[replica as usize] != NONE {
            self.node_peer[replica as usize]
        } else {
            replica
        }
    }

    pub(super) fn pick_replica(&mut self, service: u32, key: u64) -> u32 {
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
                (start..n)
                    .chain(0..start)
                    .min_by_key(|&r| self.replicas[(base + r) as usize].outstanding)
                    .unwrap_or(start)
            }
        };
        base + local
    }
}
