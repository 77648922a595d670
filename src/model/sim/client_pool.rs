//! Client-side connection pools (`pools = { db = 10 }`, docs/topology.md
//! "Client-side pools"): each replica of a caller has at most `size` calls
//! in flight to a dependency; a call that finds them all taken waits in
//! arrival order, before it picks a replica of its callee. The connection
//! goes back when the call's response reaches the caller (whatever its
//! outcome, a timed-out attempt's included); a call whose caller's timeout
//! fires while it waits leaves the queue. The wait is queueing time.
//!
//! This is the application's pool (a database pool), not the design's TLS
//! connection pool: a call holding a pooled connection still gets a
//! transport connection from the design's pool afterwards, and pays its
//! handshake if that one is new.

use std::collections::VecDeque;

use super::state::{Call, Kind, NONE, Phase};
use super::{Probe, Simulation};
use crate::model::cost::Span;
use crate::model::metrics::PoolMetrics;
use crate::model::topology::Topology;
use crate::units::Nanos;

/// Every client-side pool of a run.
#[derive(Debug, Default)]
pub(super) struct ClientPools {
    /// Per call site, the pool its calls take a connection of (an index
    /// into `defs`), NONE without one; empty when the topology has none.
    site: Vec<u32>,
    defs: Vec<Def>,
    /// One per replica of each pool's service, `Def::base` onwards.
    states: Vec<State>,
}

/// One pool key of one service.
#[derive(Debug, Clone, Copy)]
struct Def {
    /// Its first replica's state.
    base: u32,
    /// Its service's first replica (global index).
    first_replica: u32,
    size: u32,
}

/// One replica's pool.
#[derive(Debug, Default)]
struct State {
    busy: u32,
    /// Calls waiting for a connection, in arrival order.
    waiting: VecDeque<u32>,
    /// When `busy` last changed.
    since: Nanos,
}

impl ClientPools {
    /// The pools of `topo` (replica `i` of service `s` is `replica_base[s] + i`)
    /// and their empty metrics.
    pub(super) fn new(topo: &Topology, replica_base: &[u32]) -> (Self, Vec<PoolMetrics>) {
        let mut pools = ClientPools::default();
        let mut metrics = Vec::new();
        for (s, svc) in topo.services.iter().enumerate() {
            for p in &svc.pools {
                pools.defs.push(Def {
                    base: pools.states.len() as u32,
                    first_replica: replica_base[s],
                    size: p.size,
                });
                pools
                    .states
                    .extend((0..svc.replicas).map(|_| State::default()));
                metrics.push(PoolMetrics {
                    service: s as u32,
                    target: p.target,
                    size: p.size,
                    replicas: svc.replicas,
                    ..PoolMetrics::default()
                });
            }
        }
        if metrics.is_empty() {
            return (pools, metrics);
        }
        pools.site = vec![NONE; topo.calls.len()];
        for ep in &topo.endpoints {
            for &spec in ep.stages.iter().flatten() {
                let target = topo.endpoints[topo.calls[spec as usize].target as usize].service;
                pools.site[spec as usize] = metrics
                    .iter()
                    .position(|m| m.service == ep.service && m.target == target)
                    .map_or(NONE, |k| k as u32);
            }
        }
        (pools, metrics)
    }
}

impl<'t, P: Probe> Simulation<'t, P> {
    /// Call `c` (in `slot`) takes a connection of its caller's pool if it
    /// goes through one; true if it must wait for one.
    pub(super) fn pool_wait(&mut self, slot: u32, c: &Call) -> bool {
        if c.kind != Kind::Child || self.client_pools.site.is_empty() {
            return false;
        }
        let def = self.client_pools.site[c.spec as usize];
        if def == NONE {
            return false;
        }
        let d = self.client_pools.defs[def as usize];
        let state = d.base + (c.caller_replica - d.first_replica);
        self.calls.get_mut(slot).client_pool = state;
        if self.client_pools.states[state as usize].busy < d.size {
            self.pool_busy(state, 1);
            self.pool_granted(c, 0);
            return false;
        }
        self.client_pools.states[state as usize]
            .waiting
            .push_back(slot);
        self.calls.get_mut(slot).phase = Phase::PoolWait;
        true
    }

    /// Call `c` got its connection after waiting `wait`.
    fn pool_granted(&mut self, c: &Call, wait: Nanos) {
        if c.measured {
            let m = &mut self.metrics.pools[self.client_pools.site[c.spec as usize] as usize];
            m.calls += 1;
            m.waited += u64::from(wait > 0);
            m.wait_sum = m.wait_sum.saturating_add(wait);
        }
    }

    /// The connection of `c`, if it holds one, goes back: to the first
    /// call waiting, which goes on its way, or to the pool.
    pub(super) fn pool_release(&mut self, c: &Call) {
        if c.client_pool == NONE {
            return;
        }
        let state = c.client_pool;
        let Some(next) = self.client_pools.states[state as usize].waiting.pop_front() else {
            return self.pool_busy(state, -1);
        };
        let n = *self.calls.get(next);
        let wait = self.queue.now() - n.mark;
        self.pool_granted(&n, wait);
        self.span(next, Span::Queueing);
        self.pick(next);
    }

    /// The caller's timeout fired on `c` while it waited: it leaves the
    /// queue (its slot is freed by the caller once the timeout is handled).
    pub(super) fn pool_leave(&mut self, slot: u32, c: &Call) {
        let waiting = &mut self.client_pools.states[c.client_pool as usize].waiting;
        if let Some(i) = waiting.iter().position(|&s| s == slot) {
            waiting.remove(i);
        }
        if c.measured {
            self.metrics.pools[self.client_pools.site[c.spec as usize] as usize].gave_up += 1;
        }
    }

    /// `state`'s connections in use change by `delta`; the time at the old
    /// count inside the window is added to its pool's busy time.
    fn pool_busy(&mut self, state: u32, delta: i32) {
        let now = self.queue.now();
        let (from, to) = self.window_part(self.client_pools.states[state as usize].since, now);
        let s = &mut self.client_pools.states[state as usize];
        let busy = s.busy;
        s.busy = s.busy.saturating_add_signed(delta);
        s.since = now;
        if to > from {
            let def = self.pool_def(state);
            self.metrics.pools[def].busy += u128::from(busy) * u128::from(to - from);
        }
    }

    /// The pool definition of replica pool `state`.
    fn pool_def(&self, state: u32) -> usize {
        self.client_pools
            .defs
            .partition_point(|d| d.base <= state)
            .saturating_sub(1)
    }

    /// The part of [from, to] inside the measurement window.
    fn window_part(&self, from: Nanos, to: Nanos) -> (Nanos, Nanos) {
        (from.max(self.window_start), to.min(self.window_end))
    }

    /// At the end of the run: the busy time since each pool's last change.
    pub(super) fn close_pools(&mut self) {
        for state in 0..self.client_pools.states.len() as u32 {
            self.pool_busy(state, 0);
        }
    }
}
