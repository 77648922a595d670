//! Timeouts and retries (docs/model.md s3): the caller gives up on an attempt
//! after its timeout (the callee keeps working), retries with exponential
//! backoff, or fails the call. Timer lanes keep the event queue free of
//! timeouts of calls that finished long ago.

use super::state::{Call, Kind, Phase};
use super::{Probe, Simulation, ev, label};
use crate::engine::SlotRef;
use crate::engine::rng::derive;
use crate::model::cost::Span;
use crate::model::topology::Reason;
use crate::units::Nanos;

impl<'t, P: Probe> Simulation<'t, P> {
    pub(super) fn timeout_of(&self, c: &Call) -> Option<Nanos> {
        match c.kind {
            Kind::Root => self.topo.workload.timeout,
            Kind::Child => self.topo.calls[c.spec as usize].timeout,
            Kind::Authz | Kind::Token => None,
        }
    }

    pub(super) fn arm_timer(&mut self, slot: u32, delay: Nanos) {
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
    pub(super) fn timer_fired(&mut self, lane: u32) {
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
    pub(super) fn timeout(&mut self, slot: u32, generation: u32) {
        let handle = SlotRef {
            index: slot,
            generation,
        };
        if !self.calls.is_current(handle) || self.calls.get(slot).abandoned {
            return; // it already finished; the slot may hold another call now
        }
        self.settle_job(slot);
        let now = self.queue.now();
        let c = *self.calls.get(slot);
        self.calls.get_mut(slot).abandoned = true;
        if c.kind == Kind::Root {
            return self.request_finished_timeout(slot);
        }
        if let Some(k) = self.counters(slot) {
            k.timeouts += 1;
        }
        self.calls.get_mut(slot).reason = Some(Reason::Timeout);
        // A call still waiting for a pooled connection has nothing in
        // flight: it leaves the queue, and its slot goes once handled.
        let pooled = c.phase == Phase::PoolWait;
        if pooled {
            self.pool_leave(slot, &c);
        }
        let cs = &self.topo.calls[c.spec as usize];
        if c.attempt < cs.retries && cs.retry_on.contains(Reason::Timeout) {
            self.retry(slot, &c);
            if pooled {
                self.calls.remove(slot);
            }
            return;
        }
        // Out of attempts: the caller sees a failure now. The abandoned slot
        // lives on until its response arrives.
        self.record_call(&c, now - c.first_sent, false);
        let mut attr = self.costs[slot as usize].attr;
        attr[Span::Retry as usize] += (now - c.first_sent).saturating_sub(attr.iter().sum::<u64>());
        if pooled {
            self.calls.remove(slot);
        }
        self.call_outcome(&c, &attr, false);
    }

    /// Attempt `c` (in `slot`) failed for a reason its call site retries:
    /// the next attempt goes out after the backoff, carrying the time spent
    /// so far (what the spans did not cover is retry time).
    pub(super) fn retry(&mut self, slot: u32, c: &Call) {
        let now = self.queue.now();
        let cs = &self.topo.calls[c.spec as usize];
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
        attr[Span::Retry as usize] += (now - c.first_sent).saturating_sub(attr.iter().sum::<u64>());
        retry.mark = now;
        retry.phase = Phase::Backoff;
        let delay = cs.backoff.saturating_mul(1 << c.attempt.min(32));
        if let Some(k) = self.counters(slot) {
            k.retries += 1;
        }
        let retry_slot = self.insert(retry);
        self.costs[retry_slot as usize].attr = attr;
        self.queue.schedule(delay, ev::SEND, retry_slot, 0);
    }

    /// A user request timed out at the client: the rest of its time is retry.
    pub(super) fn request_finished_timeout(&mut self, slot: u32) {
        if let Some(k) = self.counters(slot) {
            k.timeouts += 1;
        }
        self.calls.get_mut(slot).reason = Some(Reason::Timeout);
        let now = self.queue.now();
        let first_sent = self.calls.get(slot).first_sent;
        let attr = &mut self.costs[slot as usize].attr;
        let covered: u64 = attr.iter().sum();
        attr[Span::Retry as usize] += (now - first_sent).saturating_sub(covered);
        self.request_finished(slot, false);
    }
}
