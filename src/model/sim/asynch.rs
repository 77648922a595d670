//! Asynchronous (fire-and-forget) calls (docs/topology.md, "Asynchronous
//! calls"): a call site with `async = true` is spawned like any call but
//! answers to no parent (its `parent` is NONE), so its caller moves on at
//! once. The call still walks every step of docs/model.md s3 (connection,
//! handshake, proxies, policy, the callee's cores, its own children), and
//! its timeouts and retries still apply; its outcome goes to its call
//! site's own figures instead of a parent, so it never adds to a user
//! request's latency or attribution and never fails one.
//!
//! A measured request's asynchronous calls are measured and the run drains
//! them before it ends. Calls in flight that grow over the window make the
//! run saturated (whatever the arrivals: a closed loop's users do not wait
//! for them either).

use super::state::Call;
use super::{Probe, Simulation};
use crate::model::cost::Attribution;
use crate::model::metrics::Saturation;
use crate::units::Nanos;

impl<'t, P: Probe> Simulation<'t, P> {
    /// `n` asynchronous calls of one call site leave a caller whose request
    /// is `measured` or not.
    pub(super) fn async_started(&mut self, measured: bool, n: u32) {
        let n = u64::from(n);
        self.async_in_flight += n;
        let now = self.queue.now();
        if now >= self.window_start && now < self.window_end {
            self.async_started += n;
        }
        if measured {
            self.measured_outstanding += n;
        }
    }

    /// A call of a call graph has its final outcome (after its retries and,
    /// for a sequential `times`, its last repeat): its parent is told, or,
    /// for an asynchronous call, nobody waits.
    pub(super) fn call_outcome(&mut self, c: &Call, attr: &Attribution, ok: bool) {
        if c.parent != super::state::NONE {
            return self.child_done(c.parent, attr, ok);
        }
        self.async_in_flight -= 1;
        if c.measured {
            self.measured_outstanding -= 1;
        }
        // A message's delivery frees its consumer group's slot.
        self.consumed(c.spec);
    }

    /// Records the caller-seen `latency` of call `c` (first attempt's send
    /// to its final outcome) on its edge and, if asynchronous, its site.
    pub(super) fn record_call(&mut self, c: &Call, latency: Nanos, ok: bool) {
        if !c.measured {
            return;
        }
        let cs = &self.topo.calls[c.spec as usize];
        let o = &mut self.metrics.edges[cs.edge as usize];
        o.latency.record(latency);
        o.failed += u64::from(!ok);
        if let Some(site) = cs.async_site {
            let o = &mut self.metrics.asynch[site as usize];
            o.latency.record(latency);
            o.failed += u64::from(!ok);
        }
    }

    /// The window starts: the backlogs' starting points.
    pub(super) fn window_started(&mut self) {
        self.in_system_at_start = self.in_system;
        self.async_at_start = self.async_in_flight;
    }

    /// At the window's end: whether the asynchronous calls in flight grew
    /// by more than max(2% of those started in the window, 50), their
    /// callees not keeping up; the run is then saturated.
    pub(super) fn async_backlog_grew(&mut self) -> bool {
        let growth = self.async_in_flight as i64 - self.async_at_start as i64;
        if growth as f64 <= super::window::backlog_limit(self.async_started as f64) {
            return false;
        }
        self.metrics.saturation = Some(Saturation {
            bottleneck: None,
            backlog_growth: growth,
            reason: format!(
                "asynchronous calls in flight grew by {growth} over the window ({} started): their callees cannot keep up",
                self.async_started
            ),
        });
        self.done = true;
        true
    }
}
