//! The callee (docs/model.md s3 worker, service job, children, response): a
//! worker thread, one job on the service's cores with the business CPU and
//! in-process security, child calls stage by stage, the response; back at
//! the caller, the call's outcome goes to its parent.

use super::state::{Call, Kind, NONE, Phase};
use super::{Probe, Simulation, label};
use crate::engine::rng::{self, derive, unit_f64};
use crate::model::cost::{Attribution, Cpu, Span};
use crate::model::design::{AuthzMode, ProxyMode};
use crate::model::dist::Dist;
use crate::model::topology::Reason;

impl<'t, P: Probe> Simulation<'t, P> {
    /// Server side: wait for a worker thread.
    pub(super) fn admit(&mut self, slot: u32) {
        if self.turned_away_down(slot) {
            return;
        }
        let c = *self.calls.get(slot);
        if let Some(reason) = self.rejects(&c) {
            return self.reject(slot, &c, reason);
        }
        let r = &mut self.replicas[c.replica as usize];
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
    pub(super) fn serve(&mut self, slot: u32) {
        let c = *self.calls.get(slot);
        if c.phase == Phase::Worker {
            self.span(slot, Span::Queueing);
        }
        self.draw_error(slot, &c);
        if self.to_external(&c) {
            let latency = &self.topo.endpoints[c.endpoint as usize].latency;
            let d = match latency {
                Dist::Constant(v) => *v,
                d => d.sample(&mut rng::call_rng(derive(c.key, label::CPU))),
            };
            let d = d.saturating_add(self.slow_draw(slot, &c));
            return self.wait(slot, Phase::External, d);
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
        let d = self.callee_design(&c);
        let waypoint = d.proxy.waypoint.is_some();
        let l7_proxy = d.proxy.mode == ProxyMode::Sidecar || waypoint;
        if !l7_proxy || !dest.proxy {
            // No L7 proxy in front: the app verifies tokens itself.
            self.verify_jwt(slot, &mut parts);
        }
        if d.authz.mode == AuthzMode::InProcess
            || (d.authz.mode == AuthzMode::Proxy && !dest.proxy && !waypoint)
        {
            self.authz_at(slot, &mut parts);
        }
        let after = &self.topo.endpoints[c.endpoint as usize].cpu_off_path;
        let mut off = self.costs[slot as usize].service_off;
        if !after.is_zero() {
            let t = after.sample(&mut rng::call_rng(derive(c.key, label::CPU_OFF_PATH)));
            parts[category as usize] += t;
            off[category as usize] += t;
        }
        let station = self.replicas[c.replica as usize].cores;
        self.job_with_tail(slot, station, parts, off, Phase::ServiceJob);
    }

    /// Whether the call answers with an error (`error_rate`): it then does
    /// its own work and calls none of its stages.
    fn draw_error(&mut self, slot: u32, c: &Call) {
        let p = self.topo.endpoints[c.endpoint as usize].error_rate;
        if p > 0.0
            && matches!(c.kind, Kind::Root | Kind::Child)
            && unit_f64(&mut rng::call_rng(derive(c.key, label::ERROR))) < p
        {
            if let Some(k) = self.counters(slot) {
                k.errors += 1;
            }
            let call = self.calls.get_mut(slot);
            call.failed = true;
            call.reason = Some(Reason::Error);
        }
    }

    /// Starts the current stage's children, skipping stages with none; after
    /// the last stage (or a failed one) the call responds.
    pub(super) fn run_stages(&mut self, slot: u32) {
        let c = self.calls.get(slot);
        let (endpoint, mut stage, failed) = (c.endpoint as usize, c.stage as usize, c.failed);
        if let Some(q) = self.topo.endpoints[endpoint].queue {
            // A broker's only stage is its consumers' deliveries (`broker.rs`).
            return self.publish(slot, q);
        }
        let stages = &self.topo.endpoints[endpoint].stages;
        while stage < stages.len() && !failed {
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
    pub(super) fn spawn(&mut self, parent: u32, spec: u32) -> u32 {
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
        // A fire-and-forget call answers to no parent: the parent does not
        // wait for it (`asynch.rs`).
        let asynchronous = cs.async_site.is_some();
        let parent = if asynchronous {
            self.async_started(p.measured, fanout);
            NONE
        } else {
            parent
        };
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
        if asynchronous { 0 } else { fanout }
    }

    /// The callee is done: free the worker, send the response back.
    pub(super) fn respond(&mut self, slot: u32) {
        let c = *self.calls.get(slot);
        self.note_answer(slot, self.queue.now());
        let r = &mut self.replicas[c.replica as usize];
        r.outstanding -= 1;
        if let Some(next) = r.waiting.pop_front() {
            // The worker passes straight to the next waiting call.
            self.serve(next);
        } else {
            self.replicas[c.replica as usize].workers -= 1;
        }
        self.response(slot, &c);
    }

    /// The response reached the caller.
    pub(super) fn at_caller(&mut self, slot: u32) {
        let c = *self.calls.get(slot);
        self.release(&c);
        self.pool_release(&c);
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

    /// A child call has its final outcome; frees its slot.
    pub(super) fn child_finished(&mut self, slot: u32, ok: bool) {
        let now = self.queue.now();
        let c = *self.calls.get(slot);
        let cs = &self.topo.calls[c.spec as usize];
        if !ok && c.attempt < cs.retries && c.reason.is_some_and(|r| cs.retry_on.contains(r)) {
            self.retry(slot, &c);
            self.calls.remove(slot);
            return;
        }
        let attr = self.costs[slot as usize].attr;
        self.calls.remove(slot);
        self.record_call(&c, now - c.first_sent, ok);
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
        self.call_outcome(&c, &attr, ok);
    }

    /// One child of `parent`'s current stage is done; the last one to finish
    /// carries the stage's time on the critical path.
    pub(super) fn child_done(&mut self, parent: u32, attr: &Attribution, ok: bool) {
        let now = self.queue.now();
        let p = self.calls.get_mut(parent);
        if !ok {
            p.failed = true;
            p.reason.get_or_insert(Reason::Error);
        }
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
}
