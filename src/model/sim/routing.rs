//! A call leaves its caller: (re)send (after a token refresh, `identity.rs`),
//! choose a replica by the service's balancing, name the TLS peers at both
//! ends, arm the caller's timeout, and go for a connection (or straight to
//! the request when connections cost nothing).

use super::state::{NONE, Phase};
use super::{Probe, Simulation, label};
use crate::engine::rng::{self, derive, unit_f64};
use crate::model::cost::Span;
use crate::model::design::ProxyMode;
use crate::model::topology::Balance;

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

    /// Picks a replica and gets a connection to it.
    pub(super) fn dispatch(&mut self, slot: u32) {
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
        // An external service's own TLS costs its connections even when the
        // design's cost nothing.
        if self.direct && self.external_tls(&c).is_none() {
            return self.request(slot, 0);
        }
        self.acquire(slot);
    }

    pub(super) fn origin_peer(&self, caller_replica: u32) -> u32 {
        if caller_replica == NONE {
            self.client_peer
        } else if self.design.proxy.mode == ProxyMode::Node {
            self.node_peer[caller_replica as usize]
        } else {
            caller_replica
        }
    }

    pub(super) fn dest_peer(&self, replica: u32) -> u32 {
        if self.design.proxy.mode == ProxyMode::Node && !self.replicas[replica as usize].external {
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
                (0..n)
                    .map(|k| (start + k) % n)
                    .min_by_key(|&r| self.replicas[(base + r) as usize].outstanding)
                    .unwrap_or(start)
            }
        };
        base + local
    }
}
