//! Slow calls (`slow = { fraction, latency }`, docs/topology.md "Slow
//! calls"): a fraction of an endpoint's calls wait an added latency after
//! their own CPU and before their stages, holding their worker thread but
//! no core (a lock, a garbage-collection pause, a slow disk). On an
//! external endpoint it adds to the endpoint's `latency`. Drawn from the
//! call's key under a label of its own, so the same calls are slow under
//! every design and a topology without `slow` draws as before.

use super::state::{Call, Phase};
use super::{Probe, Simulation, label};
use crate::engine::rng::{self, derive, unit_f64};
use crate::model::dist::Dist;
use crate::units::Nanos;

impl<'t, P: Probe> Simulation<'t, P> {
    /// The time call `c` (in `slot`) adds by being slow, zero if it is not.
    pub(super) fn slow_draw(&mut self, slot: u32, c: &Call) -> Nanos {
        let Some(slow) = &self.topo.endpoints[c.endpoint as usize].slow else {
            return 0;
        };
        let mut r = rng::call_rng(derive(c.key, label::SLOW));
        if unit_f64(&mut r) >= slow.fraction {
            return 0;
        }
        let d = match &slow.latency {
            Dist::Constant(v) => *v,
            d => d.sample(&mut r),
        };
        if let Some(k) = self.counters(slot) {
            k.slow += 1;
        }
        d
    }

    /// The service job of `slot` is done: a slow call waits, then the
    /// stages run.
    pub(super) fn service_job_done(&mut self, slot: u32) {
        let c = *self.calls.get(slot);
        match self.slow_draw(slot, &c) {
            0 => self.run_stages(slot),
            d => self.wait(slot, Phase::Slow, d),
        }
    }
}
