//! Authentication and authorization (docs/model.md s3 JWT and policy hooks):
//! where checks apply, JWT verification and its cache, policy decisions and
//! their cache, evaluation in a proxy or in process, a policy sidecar over
//! a local hop, and calls to the remote policy service. Infrastructure calls
//! (policy checks, token fetches) start and resume their caller here.

use super::state::{Call, Kind, NONE, Phase};
use super::{Probe, Simulation, label};
use crate::engine::rng::{self, derive};
use crate::model::cost::{Cpu, CpuParts, Span};
use crate::model::design::{AuthzMode, Scope};
use crate::model::dist::Dist;
use crate::model::topology::EndpointId;
use crate::units::Nanos;

impl<'t, P: Probe> Simulation<'t, P> {
    /// Starts a policy check or token fetch on behalf of `slot`.
    pub(super) fn infra_call(&mut self, slot: u32, kind: Kind, endpoint: EndpointId) {
        let now = self.queue.now();
        let p = *self.calls.get(slot);
        let caller = if kind == Kind::Token {
            p.caller_replica
        } else {
            p.replica
        };
        let mut call = Call::new(
            derive(p.key, label::INFRA),
            kind,
            slot,
            NONE,
            endpoint,
            caller,
            now,
            p.measured,
        );
        call.attempt = p.attempt;
        let child = self.insert(call);
        self.dispatch(child);
    }

    /// A policy check or token fetch answered: the waiting call resumes.
    pub(super) fn infra_finished(&mut self, slot: u32) {
        let now = self.queue.now();
        let c = *self.calls.get(slot);
        self.calls.remove(slot);
        let span = if c.kind == Kind::Authz {
            Span::Authz
        } else {
            Span::Authn
        };
        {
            let p = self.calls.get_mut(c.parent);
            self.costs[c.parent as usize].attr[span as usize] += now - p.mark;
            p.mark = now;
        }
        if c.kind == Kind::Authz {
            self.cache_decision(c.parent);
            self.admit(c.parent);
        } else {
            self.dispatch(c.parent);
        }
    }

    /// True if checks apply to this call (every hop, or the edge only).
    /// Never at an external service, which checks nothing of ours.
    pub(super) fn checked(&self, c: &Call, scope: Scope) -> bool {
        matches!(c.kind, Kind::Root | Kind::Child)
            && (scope == Scope::EveryHop || c.kind == Kind::Root)
            && !self.to_external(c)
    }

    /// JWT and `Proxy`-mode policy at an L7 proxy, added to `parts`.
    pub(super) fn enforce_at_proxy(&mut self, slot: u32, parts: &mut CpuParts) {
        self.verify_jwt(slot, parts);
        if self.callee_design(self.calls.get(slot)).authz.mode == AuthzMode::Proxy {
            self.authz_at(slot, parts);
        }
    }

    /// JWT verification CPU (unless cached), added to `parts`.
    pub(super) fn verify_jwt(&mut self, slot: u32, parts: &mut CpuParts) {
        let c = *self.calls.get(slot);
        let a = self.callee_design(&c).authn;
        if a.jwt.is_none() || !self.checked(&c, a.scope) {
            return;
        }
        let now = self.queue.now();
        let origin = self.origin_peer(c.caller_replica);
        let key = (c.dest, origin);
        if a.cache_ttl > 0 && self.verified.get(&key).is_some_and(|&e| e > now) {
            if let Some(k) = self.counters(slot) {
                k.jwt_cache_hits += 1;
            }
            return;
        }
        if a.cache_ttl > 0 {
            self.verified.insert(key, now.saturating_add(a.cache_ttl));
        }
        if let Some(k) = self.counters(slot) {
            k.jwt_verifications += 1;
        }
        parts[Cpu::Jwt as usize] += a.verify_cpu;
    }

    pub(super) fn decision_key(&self, c: &Call) -> (u32, u32, u32) {
        let caller = if c.kind == Kind::Root {
            NONE
        } else if c.parent == NONE {
            // An asynchronous call: its caller may be gone; its call site
            // names it.
            let edge = self.topo.calls[c.spec as usize].edge;
            self.topo.edges[edge as usize].0
        } else {
            self.calls.get(c.parent).endpoint
        };
        (c.replica, caller, c.endpoint)
    }

    /// True if a cached decision covers this call (counts the lookup).
    pub(super) fn decision_cached(&mut self, slot: u32) -> bool {
        let c = *self.calls.get(slot);
        let z = &self.callee_design(&c).authz;
        if z.cache_ttl == 0 {
            if let Some(k) = self.counters(slot) {
                k.authz_decisions += 1;
            }
            return false;
        }
        let now = self.queue.now();
        let hit = self
            .decisions
            .get(&self.decision_key(&c))
            .is_some_and(|&e| e > now);
        if let Some(t) = self.probe.recorder().and_then(|r| r.call(slot)) {
            t.authz_cache_hit = Some(hit);
        }
        if let Some(k) = self.counters(slot) {
            k.authz_decisions += 1;
            k.authz_cache_hits += u64::from(hit);
        }
        hit
    }

    pub(super) fn cache_decision(&mut self, slot: u32) {
        let c = *self.calls.get(slot);
        let ttl = self.callee_design(&c).authz.cache_ttl;
        if ttl > 0 {
            let key = self.decision_key(&c);
            self.decisions
                .insert(key, self.queue.now().saturating_add(ttl));
        }
    }

    /// Local policy evaluation CPU (unless cached), added to `parts`.
    pub(super) fn authz_at(&mut self, slot: u32, parts: &mut CpuParts) {
        let c = *self.calls.get(slot);
        if !self.checked(&c, self.callee_design(&c).authz.scope) || self.decision_cached(slot) {
            return;
        }
        parts[Cpu::Authz as usize] += self.eval_cpu(&c);
        self.cache_decision(slot);
    }

    /// The callee's policy evaluation CPU for this call.
    pub(super) fn eval_cpu(&self, c: &Call) -> Nanos {
        match &self.callee_design(c).authz.eval_cpu {
            Dist::Constant(v) => *v,
            d => d.sample(&mut rng::call_rng(derive(c.key, label::AUTHZ))),
        }
    }

    /// Out-of-process policy: a policy sidecar over a local hop, or the
    /// remote policy service. In-process and proxy modes are charged in jobs.
    pub(super) fn authorize(&mut self, slot: u32) {
        let c = *self.calls.get(slot);
        let z = &self.callee_design(&c).authz;
        let applies =
            matches!(z.mode, AuthzMode::Sidecar | AuthzMode::Remote) && self.checked(&c, z.scope);
        if !applies || self.decision_cached(slot) {
            return self.admit(slot);
        }
        if z.mode == AuthzMode::Sidecar {
            let local = self.policy_sidecar_hop(&c);
            self.calls.get_mut(slot).local = local;
            return self.wait(slot, Phase::AuthzHop, local);
        }
        self.calls.get_mut(slot).phase = Phase::AuthzRemote;
        let policy = z
            .policy
            .expect("validated: remote authz names a policy endpoint");
        self.infra_call(slot, Kind::Authz, policy);
    }

    /// The local hops to the policy sidecar and back.
    fn policy_sidecar_hop(&self, c: &Call) -> Nanos {
        self.local_hop(derive(c.key, label::AUTHZ + 1))
            + self.local_hop(derive(c.key, label::AUTHZ + 2))
    }

    /// The hop to the policy sidecar when it surely follows the inbound
    /// proxy's job, known as that job starts (`chain.rs`): the callee's
    /// policy is a sidecar's, applies to this call, and has no decision
    /// cache, whose content could change while the job runs. The decision
    /// is counted when the job's end is accounted ([`Self::count_decision`]).
    pub(super) fn policy_hop_after_job(&self, c: &Call) -> Option<Nanos> {
        let z = &self.callee_design(c).authz;
        if z.mode != AuthzMode::Sidecar || z.cache_ttl != 0 || !self.checked(c, z.scope) {
            return None;
        }
        Some(self.policy_sidecar_hop(c))
    }

    /// Counts the uncached decision [`Self::authorize`] would have counted
    /// at the end of a job chained by [`Self::policy_hop_after_job`].
    pub(super) fn count_decision(&mut self, slot: u32) {
        let cached = self.decision_cached(slot);
        debug_assert!(!cached, "no cache, no cached decision");
    }

    /// The hop to the policy sidecar is done: its evaluation job.
    pub(super) fn policy_sidecar_job(&mut self, slot: u32, c: &Call) {
        let mut parts = CpuParts::default();
        parts[Cpu::Authz as usize] = self.eval_cpu(c);
        let station = self.replicas[c.replica as usize].policy;
        self.job(slot, station, parts, Phase::AuthzJob);
    }
}
