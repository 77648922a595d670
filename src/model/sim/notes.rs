//! What the probe is told, for exports only: a call's creation, and each
//! wait, transit and job as a timed phase. Every hook is `#[cold]` and
//! behind `P::ON`, so the normal run compiles it away.

use super::state::{Call, Kind, NONE, Phase};
use super::{Probe, Simulation};
use crate::model::cost::{CPU_CATEGORIES, CpuParts};
use crate::model::timeline::{CallKind, Side, Step};
use crate::units::Nanos;

impl<'t, P: Probe> Simulation<'t, P> {
    /// The arrival index of the user request in `slot` (its key's index).
    pub(super) fn next_request_of(&self, slot: u32) -> u64 {
        // Requests are numbered as they arrive; the recorder and selector
        // need the number, which the key does not reveal, so it is kept in
        // the `repeat` and `attempt` fields of a root call (unused by roots).
        let c = self.calls.get(slot);
        u64::from(c.repeat) | (u64::from(c.attempt) << 32)
    }

    #[cold]
    pub(super) fn note_insert(&mut self, slot: u32) {
        let now = self.queue.now();
        let c = *self.calls.get(slot);
        let kind = match c.kind {
            Kind::Root => CallKind::Root,
            Kind::Child => CallKind::Child,
            Kind::Authz => CallKind::Authz,
            Kind::Token => CallKind::Token,
        };
        let parent = (c.kind != Kind::Root).then_some(c.parent);
        let request = self.next_request.wrapping_sub(1);
        let caller = (c.caller_replica != NONE).then_some(c.caller_replica);
        let (attempt, repeat) = if c.kind == Kind::Root {
            (0, 0)
        } else {
            (c.attempt, c.repeat)
        };
        if let Some(rec) = self.probe.recorder() {
            rec.inserted(
                slot, parent, request, kind, c.endpoint, caller, now, attempt, repeat,
            );
        }
    }

    /// A wait (or handshake flight, or backoff) of the call in `slot` ended.
    #[cold]
    pub(super) fn note_wait(&mut self, slot: u32, start: Nanos, end: Nanos) {
        let phase = self.calls.get(slot).phase;
        let (step, side) = match phase {
            Phase::Backoff => (Step::Backoff, Side::Client),
            Phase::Connect => (Step::ConnectionWait, Side::Client),
            Phase::TcpRtt => (Step::TcpConnect, Side::Client),
            Phase::HandshakeOut => (Step::TlsClientHello, Side::Client),
            Phase::HandshakeKeyExchange => (Step::TlsKeyExchange, Side::Client),
            Phase::HandshakeBack => (Step::TlsServerFlight, Side::Client),
            Phase::Worker => (Step::WorkerWait, Side::Server),
            Phase::QueueBlocked => (Step::QueueWait, Side::Server),
            Phase::External => (Step::External, Side::Server),
            Phase::Refused => (Step::Refused, Side::Client),
            Phase::OriginJob
            | Phase::ServerHandshake
            | Phase::ServerFinish
            | Phase::ClientFinish
            | Phase::WaypointJob => (Step::CoreWait, Side::Client),
            _ => (Step::CoreWait, Side::Server),
        };
        if let Some(rec) = self.probe.recorder() {
            rec.phase(slot, step, side, start, end, [0; CPU_CATEGORIES], 0);
        }
    }

    /// The callee answered the call in `slot` at `at`: its server side ends.
    #[inline]
    pub(super) fn note_answer(&mut self, slot: u32, at: Nanos) {
        if P::ON
            && let Some(t) = self.probe.recorder().and_then(|r| r.call(slot))
            && let Some((_, end)) = &mut t.server
        {
            *end = at;
        }
    }

    #[cold]
    pub(super) fn note_transit(&mut self, slot: u32, c: &Call, now: Nanos) {
        let (step, side) = match c.phase {
            Phase::Request => (Step::RequestTransit, Side::Client),
            Phase::WaypointOut => (Step::WaypointTransit, Side::Client),
            Phase::Response => (Step::ResponseTransit, Side::Client),
            _ => (Step::PolicyHop, Side::Server),
        };
        if let Some(rec) = self.probe.recorder() {
            rec.phase(slot, step, side, c.mark, now, [0; CPU_CATEGORIES], c.local);
        }
    }

    #[cold]
    pub(super) fn note_job(
        &mut self,
        slot: u32,
        phase: Phase,
        start: Nanos,
        end: Nanos,
        parts: CpuParts,
    ) {
        let (step, side) = match phase {
            Phase::OriginJob | Phase::ClientFinish => (Step::CallerCpu, Side::Client),
            Phase::ServerHandshake | Phase::ServerFinish => (Step::HandshakeCpu, Side::Client),
            Phase::WaypointJob => (Step::WaypointCpu, Side::Client),
            Phase::DestJob => (Step::InboundProxyCpu, Side::Server),
            Phase::AuthzJob => (Step::PolicyCpu, Side::Server),
            _ => (Step::ServiceCpu, Side::Server),
        };
        if let Some(rec) = self.probe.recorder() {
            rec.phase(slot, step, side, start, end, parts, 0);
        }
    }
}
