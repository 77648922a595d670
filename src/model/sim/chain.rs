//! A job whose call then only waits (a handshake flight, a transit, the
//! inbound proxy's hop to a policy sidecar without a decision cache): the
//! wait is known as the job starts, since its draws come from the call's
//! key, so the call's next event is scheduled then, for the job's end plus
//! the wait. The job's end is no event: its core's release is held like an
//! off-path tail's (`schedule_done`), in the place in the event order the
//! job's end would have taken, so every core is taken and freed exactly as
//! before, one event fewer per such job.
//!
//! What the job's end did is done in that same place: its spans are
//! accounted when the call is next looked at (`settle_job`: at the wait's
//! end, by a timeout after the job's end, or as the run stops); a
//! callee's answer frees its
//! worker at once where nobody can tell (no limit on workers), and takes
//! the call off its replica's count of calls in progress once the answer's
//! place has passed, where a least-outstanding or zone-aware caller reads
//! that count (`count_answers`). Not in a topology whose replicas go down:
//! a crash looks for the calls still in their service job.
//!
//! The one difference: two events at the same nanosecond pop in the order
//! they were scheduled, and the call's next event is now scheduled as the
//! job starts, not as it ends, so it pops before an event at that very
//! nanosecond scheduled while the job ran, where it used to pop after.
//! Such ties come from constant times (a topology's fixed round trips,
//! fixed handshake CPU); where one decides which job queues first, the
//! run's figures move, far inside their confidence intervals, the way
//! another seed's would.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::state::{Call, Handshake, Phase};
use super::{Probe, Simulation, ev};
use crate::engine::{EventKey, EventQueue};
use crate::model::topology::{Balance, Topology};
use crate::units::Nanos;

/// Which jobs are chained to the wait after them.
pub(super) struct Chains {
    /// Off only in the test that shows chaining changes no figure.
    pub(super) on: bool,
    /// Per endpoint: its calls answer as their service job ends (no
    /// stages, no broker, no slow calls, no limit on workers).
    answers: Vec<bool>,
    /// The inbound proxy's job chained to the hop to a policy sidecar
    /// (not where replicas go down: a crash looks at the call's phase).
    policy_hops: bool,
    /// Per service: callers read its replicas' counts of calls in
    /// progress (least-outstanding over several replicas, zone-aware).
    counted: Vec<bool>,
    /// Per service (empty unless counted): the answers its replicas'
    /// counts still hold, as (place in the event order, replica), earliest
    /// on top, so a caller's read looks at one answer, not every replica.
    given: Vec<BinaryHeap<Reverse<(EventKey, u32)>>>,
}

impl Chains {
    pub(super) fn new(topo: &Topology) -> Self {
        let downs = super::down::any(topo);
        Chains {
            on: true,
            policy_hops: !downs,
            answers: topo
                .endpoints
                .iter()
                .map(|ep| {
                    let s = &topo.services[ep.service as usize];
                    !downs
                        && ep.stages.is_empty()
                        && ep.queue.is_none()
                        && ep.slow.is_none()
                        && s.concurrency.is_none()
                })
                .collect(),
            counted: topo
                .services
                .iter()
                .map(|s| {
                    s.locality.is_some()
                        || (s.balance == Balance::LeastOutstanding && s.replicas > 1)
                })
                .collect(),
            given: topo.services.iter().map(|_| BinaryHeap::new()).collect(),
        }
    }
}

/// The job a chained wait followed: what its end is noted as (a TLS 1.2
/// server's CPU on the key exchange is noted as its first flight's, the
/// same step of an exported trace).
pub(super) fn job_before(wait: Phase) -> Phase {
    match wait {
        Phase::HandshakeOut | Phase::Request => Phase::OriginJob,
        Phase::HandshakeKeyExchange | Phase::HandshakeBack => Phase::ServerHandshake,
        Phase::WaypointOut => Phase::WaypointJob,
        Phase::AuthzHop => Phase::DestJob,
        Phase::Response => Phase::ServiceJob,
        other => unreachable!("no job is chained to {other:?}"),
    }
}

impl<'t, P: Probe> Simulation<'t, P> {
    /// The wait that follows the job `slot` has just started (its call
    /// moving on at `end`), if the call does nothing else in between, as
    /// its phase and length; what the job's end would have done besides is
    /// done.
    pub(super) fn wait_after_job(&mut self, slot: u32, end: EventKey) -> Option<(Phase, Nanos)> {
        let phase = self.calls.get(slot).phase;
        let chainable = matches!(
            phase,
            Phase::OriginJob
                | Phase::ServerHandshake
                | Phase::ServerFinish
                | Phase::WaypointJob
                | Phase::DestJob
                | Phase::ServiceJob
        );
        if !self.chains.on || !chainable {
            return None;
        }
        let c = *self.calls.get(slot);
        // A transit's local proxy hops are kept apart for its spans.
        let (then, wait, local) = match phase {
            Phase::OriginJob => match c.handshake {
                Handshake::Full | Handshake::Resumed => {
                    return Some((Phase::HandshakeOut, self.hello_flight(&c)));
                }
                // A request leaving on a usable connection changes nothing
                // another call can see.
                _ if self.via_waypoint(&c) || !self.usable(&c) => return None,
                _ => {
                    let (d, local) = self.request_leg(&c);
                    (Phase::Request, d, local)
                }
            },
            Phase::ServerHandshake => return Some(self.server_flight_wait(&c)),
            Phase::ServerFinish => return Some((Phase::HandshakeBack, self.finished_flight(&c))),
            Phase::WaypointJob => {
                let (d, local) = self.waypoint_leg(&c);
                (Phase::WaypointOut, d, local)
            }
            Phase::DestJob => {
                if !self.chains.policy_hops {
                    return None;
                }
                let local = self.policy_hop_after_job(&c)?;
                (Phase::AuthzHop, 0, local)
            }
            _ => {
                if !self.chains.answers[c.endpoint as usize] {
                    return None;
                }
                self.answer_at(slot, &c, end);
                let (d, local) = self.response_leg(&c);
                (Phase::Response, d, local)
            }
        };
        self.calls.get_mut(slot).local = local;
        Some((then, wait + local))
    }

    /// The job whose call moves on at `end` is followed by a wait of `wait`
    /// in `then`: the wait's end is scheduled now, and the job's end is
    /// accounted when next looked at ([`Self::settle_job`]).
    pub(super) fn chain(&mut self, slot: u32, end: EventKey, then: Phase, wait: Nanos) {
        self.costs[slot as usize].ended = end;
        self.calls.get_mut(slot).phase = then;
        let at = EventQueue::time_of(end).saturating_add(wait);
        self.queue.schedule_at(at, ev::STEP, slot, 0);
    }

    /// Accounts a chained job's end ([`Self::job_ended`]) once its place in
    /// the event order has passed: at the wait's end, or at a timeout
    /// after it. Before then the call's spans are as the job's start left
    /// them, as they would be without chaining.
    pub(super) fn settle_job(&mut self, slot: u32) {
        self.settle_job_before(slot, self.queue.current() + 1);
    }

    /// [`Self::settle_job`] if the job ended before `handled`.
    fn settle_job_before(&mut self, slot: u32, handled: EventKey) {
        let end = self.costs[slot as usize].ended;
        if end == 0 || end >= handled {
            return;
        }
        self.costs[slot as usize].ended = 0;
        let job = job_before(self.calls.get(slot).phase);
        self.job_ended(slot, job, EventQueue::time_of(end));
        if job == Phase::DestJob {
            self.count_decision(slot);
        }
    }

    /// The run stopped with every event before `handled` handled: the
    /// chained jobs that ended before it are accounted, as their ends'
    /// events would have been (a stopped run's counters).
    pub(super) fn settle_jobs(&mut self, handled: EventKey) {
        let ended: Vec<u32> = self
            .calls
            .live_indices()
            .filter(|&s| self.costs[s as usize].ended != 0)
            .collect();
        for slot in ended {
            self.settle_job_before(slot, handled);
        }
    }

    /// [`Self::respond`]'s bookkeeping for an answer given at `end`, known
    /// as the service job starts: the worker is freed (there is no limit,
    /// so nobody waits for it) and the call leaves its replica's count of
    /// calls in progress, at once or, where callers read that count, once
    /// `end` has passed.
    fn answer_at(&mut self, slot: u32, c: &Call, end: EventKey) {
        self.note_answer(slot, EventQueue::time_of(end));
        let service = self.topo.endpoints[c.endpoint as usize].service;
        let r = &mut self.replicas[c.replica as usize];
        r.workers -= 1;
        if self.chains.counted[service as usize] {
            self.chains.given[service as usize].push(Reverse((end, c.replica)));
        } else {
            r.outstanding -= 1;
        }
    }

    /// Takes off `service`'s replicas' counts of calls in progress the
    /// answers whose place in the event order has passed (at or before the
    /// event being handled, as `Station::claim` counts a held release),
    /// before a caller reads those counts.
    pub(super) fn count_answers(&mut self, service: u32) {
        if !self.chains.counted[service as usize] {
            return;
        }
        let now = self.queue.current();
        let given = &mut self.chains.given[service as usize];
        while let Some(&Reverse((end, replica))) = given.peek()
            && end <= now
        {
            given.pop();
            self.replicas[replica as usize].outstanding -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::Simulation;
    use crate::model::dist::Dist;
    use crate::model::workload::Window;
    use crate::model::{Design, Topology};

    fn topology(name: &str) -> Topology {
        let path = format!("topologies/{name}.toml");
        let mut topo = crate::config::load_topology(Path::new(&path)).unwrap();
        topo.workload.warmup = 0;
        topo.workload.window = Window::Requests(1_500);
        topo
    }

    /// Runs `topo` under models/`design`.toml chained and not: fewer
    /// events, and every other figure the same.
    fn same_but_events(topo: &Topology, design: &str, what: &str) {
        let file = format!("models/{design}.toml");
        let design = crate::config::load_design(Path::new(&file), topo, None)
            .unwrap()
            .design;
        same_but_events_of(topo, &design, 0, what);
    }

    /// [`same_but_events`] for replication `r` of `design`.
    fn same_but_events_of(topo: &Topology, design: &Design, r: u32, what: &str) {
        let chained = Simulation::new(topo, design, r).run();
        let mut plain = Simulation::new(topo, design, r);
        plain.chains.on = false;
        let mut plain = plain.run();
        assert!(
            chained.events < plain.events,
            "{what}: {} events chained, {} not",
            chained.events,
            plain.events
        );
        plain.events = chained.events;
        plain.peak_events_pending = chained.peak_events_pending;
        assert_eq!(format!("{chained:?}"), format!("{plain:?}"), "{what}");
    }

    /// Chaining saves events and changes nothing else: every shipped
    /// topology under designs that take every chained path (handshake
    /// flights of TLS 1.2 and 1.3, full and resumed, sidecars with
    /// off-path tails, waypoints, node proxies, answers after the service
    /// job, counted by least-outstanding callers or not, policy and
    /// identity calls) measures the same to the last nanosecond,
    /// histograms, counters, cores and series included. Chaining may
    /// reorder only events at the very same nanosecond (see the module's
    /// comment); over these runs none that it reorders tie, though with
    /// the topologies' constant round trips longer runs have some.
    #[test]
    fn chained_jobs_measure_what_unchained_jobs_measure() {
        let designs = [
            "plaintext",
            "naive-mtls",
            "istio-sidecar",
            "istio-ambient-waypoint",
            "linkerd-like",
            "grpc-mtls-local-policy",
            "tls-edge",
        ];
        for name in ["ecommerce", "chatty", "bank", "payments", "minimal"] {
            let topo = topology(name);
            for design in designs {
                same_but_events(&topo, design, &format!("{name} under {design}"));
            }
        }
    }

    /// A run that stops saturated, chained jobs under way: what the jobs
    /// that ended before the stop had done is counted (istio-sidecar's
    /// policy decisions among it), and nothing of those ending after, as
    /// without chaining, although the event at which the stop is seen may
    /// come later when chained (the job ends between are no events).
    /// ecommerce past istio-sidecar's ~2,000 rps stops a few seconds into
    /// its 10-s window; several replications and rates, so that some stop
    /// with chained jobs ending around the stop's instant.
    #[test]
    fn a_run_stopped_saturated_counts_what_it_would_unchained() {
        let mut topo = topology("ecommerce");
        topo.workload.window = Window::Duration(10_000_000_000);
        let file = "models/istio-sidecar.toml";
        let design = crate::config::load_design(Path::new(file), &topo, None)
            .unwrap()
            .design;
        for rate in [2_400.0, 3_000.0] {
            assert!(topo.workload.arrivals.set_rate(rate));
            for r in 0..4 {
                let stopped = Simulation::new(&topo, &design, r).run();
                assert!(stopped.saturation.is_some() && stopped.window < 10_000_000_000);
                same_but_events_of(&topo, &design, r, &format!("ecommerce at {rate} rps, {r}"));
            }
        }
    }

    /// Timeouts that fire inside chained jobs and their waits (abandoning
    /// calls, retrying them, failing requests) change nothing either:
    /// every call of chatty at 150 rps gives up after 20 ms and retries up
    /// to 8 times, a retry storm under naive-mtls. Retries after timeouts
    /// of one length keep calls in step, so that no two events tie the
    /// round trips are drawn (exponential, of the topology's means)
    /// rather than fixed.
    #[test]
    fn timeouts_inside_chained_jobs_see_what_they_would_unchained() {
        let mut topo = topology("chatty");
        let net = &mut topo.network;
        for d in net.rtt.iter_mut().chain([&mut net.same_host]) {
            *d = Dist::Exponential { mean: d.mean() };
        }
        topo.workload.window = Window::Requests(5_000);
        assert!(topo.workload.arrivals.set_rate(150.0));
        for call in &mut topo.calls {
            call.timeout = Some(20_000_000);
            call.retries = 8;
        }
        for design in ["naive-mtls", "istio-sidecar"] {
            same_but_events(&topo, design, &format!("chatty, timeouts, {design}"));
        }
    }
}
