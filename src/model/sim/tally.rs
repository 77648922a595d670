//! Events counted by cause (`ztsim bench -m`): what a call costs in events,
//! and so where the floor of a design's events per call lies. An event of a
//! call is named by the phase it ends (a wait's end, a job's end); the
//! others by their kind. The count rides on the probe, so a normal run pays
//! nothing for it.

use super::state::Phase;
use super::{Probe, Simulation, ev};
use crate::engine::Event;
use crate::model::metrics::RunMetrics;
use crate::model::probe::{EventTally, Probes, TALLY_KINDS, TALLY_PHASES};
use crate::model::{Design, Topology};

/// Every phase, in declaration order (its index is `phase as usize`).
const PHASES: [Phase; 27] = [
    Phase::Token,
    Phase::Connect,
    Phase::TcpRtt,
    Phase::OriginJob,
    Phase::HandshakeOut,
    Phase::ServerHandshake,
    Phase::HandshakeKeyExchange,
    Phase::ServerFinish,
    Phase::ClientFinish,
    Phase::HandshakeBack,
    Phase::Request,
    Phase::WaypointJob,
    Phase::WaypointOut,
    Phase::DestJob,
    Phase::AuthzHop,
    Phase::AuthzJob,
    Phase::AuthzRemote,
    Phase::PoolWait,
    Phase::Worker,
    Phase::ServiceJob,
    Phase::Slow,
    Phase::External,
    Phase::Refused,
    Phase::Children,
    Phase::QueueBlocked,
    Phase::Response,
    Phase::Backoff,
];

/// What a call in `phase` is doing, for people. A job's end is an event
/// only where the call's next step is not a known wait (`chain.rs`).
fn doing(phase: Phase) -> &'static str {
    match phase {
        Phase::Token => "token fetch",
        Phase::Connect => "wait for a connection",
        Phase::TcpRtt => "TCP handshake",
        Phase::OriginJob => "caller-side job before the request",
        Phase::HandshakeOut => "ClientHello's flight",
        Phase::ServerHandshake => "server's handshake job",
        Phase::HandshakeKeyExchange => "TLS 1.2 key exchange's flights",
        Phase::ServerFinish => "server's job on the key exchange",
        Phase::ClientFinish => "client's job on the server's Finished",
        Phase::HandshakeBack => "server's last handshake flight",
        Phase::Request => "request's transit to the callee",
        Phase::WaypointJob => "waypoint's job",
        Phase::WaypointOut => "transit from the waypoint",
        Phase::DestJob => "callee-side proxy's job",
        Phase::AuthzHop => "hop to the policy sidecar",
        Phase::AuthzJob => "policy evaluation",
        Phase::AuthzRemote => "remote policy call",
        Phase::PoolWait => "wait for a pooled connection",
        Phase::Worker => "wait for a worker",
        Phase::ServiceJob => "service job",
        Phase::Slow => "slow call's added latency",
        Phase::External => "external service's answer",
        Phase::Refused => "refusal's way back",
        Phase::Children => "wait for the calls it made",
        Phase::QueueBlocked => "publish held by a full queue",
        Phase::Response => "response's transit to the caller",
        Phase::Backoff => "retry backoff",
    }
}

/// The name of an event of `kind` whose call was in phase `phase - 1` (0:
/// no call).
fn cause(kind: u8, phase: usize) -> String {
    let of_call = phase.checked_sub(1).and_then(|p| PHASES.get(p)).copied();
    match (kind, of_call) {
        (ev::STEP, Some(p)) => format!("wait ends: {}", doing(p)),
        (ev::CPU_DONE, Some(p)) => format!("job ends: {}", doing(p)),
        (ev::ARRIVAL, _) => "a user's request arrives".into(),
        (ev::SEND, _) => "a call is sent again (backoff, token)".into(),
        (ev::TIMEOUT, _) => "a timer lane comes due".into(),
        (ev::CORE_FREE, _) => "a core is handed to a waiting job".into(),
        (ev::WINDOW_START | ev::WINDOW_END | ev::DRAIN_LIMIT, _) => "the window moves".into(),
        (ev::ROTATE, _) => "a certificate rotates".into(),
        (ev::CRASH | ev::RESTART, _) => "a replica goes down or comes back".into(),
        (ev::PAUSE, _) => "a core pauses".into(),
        _ => format!("event kind {kind}, phase {phase}"),
    }
}

impl<P: Probe> Simulation<'_, P> {
    /// Counts `event`, about to be handled, if a tally is kept.
    #[inline]
    pub(super) fn tally(&mut self, event: &Event) {
        if self.probe.tally().is_none() {
            return; // an export's probe: nothing to read
        }
        let kind = event.kind();
        let phase = if kind == ev::STEP || kind == ev::CPU_DONE {
            self.calls.get(event.target).phase as usize + 1
        } else {
            0
        };
        if let Some(t) = self.probe.tally() {
            t.count(kind, phase);
        }
    }
}

/// Runs replication `replication` of `topo` under `design`, counting the
/// events it handles by cause: its metrics, and each cause with its count,
/// most frequent first (ties by name).
pub fn tally_events(
    topo: &Topology,
    design: &Design,
    replication: u32,
) -> (RunMetrics, Vec<(String, u64)>) {
    let probe = Probes {
        tally: Some(EventTally::default()),
        ..Probes::default()
    };
    let (metrics, probe) = Simulation::with_probe(topo, design, replication, probe).run_probed();
    let tally = probe.tally.unwrap_or_default();
    let mut causes: Vec<(String, u64)> = Vec::new();
    for kind in 0..TALLY_KINDS {
        for phase in 0..TALLY_PHASES {
            let n = tally.counts[kind][phase];
            if n == 0 {
                continue;
            }
            let name = cause(kind as u8, phase);
            match causes.iter_mut().find(|(c, _)| *c == name) {
                Some((_, total)) => *total += n,
                None => causes.push((name, n)),
            }
        }
    }
    causes.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    (metrics, causes)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::model::workload::Window;

    #[test]
    fn every_phase_is_listed_in_order() {
        for (i, p) in PHASES.iter().enumerate() {
            assert_eq!(*p as usize, i, "{p:?}");
        }
        assert!(PHASES.len() < TALLY_PHASES);
    }

    /// The shop: every call is one request's transit and one response's,
    /// a third of them (frontend's and catalog's) end their service job
    /// with stages to run, and every user request arrives once; the causes
    /// add up to the events handled.
    #[test]
    fn the_shops_events_are_its_calls_transits() {
        let mut topo = crate::config::load_topology(Path::new("benches/shop/shop.toml")).unwrap();
        topo.workload.window = Window::Requests(3_000);
        let design = Design::plaintext();
        let (m, causes) = tally_events(&topo, &design, 0);
        let count = |name: &str| {
            causes
                .iter()
                .find(|(c, _)| c == name)
                .map_or(0, |&(_, n)| n)
        };
        let handled: u64 = causes.iter().map(|(_, n)| n).sum();
        // Scheduled, less those still pending when the run ended.
        assert!(handled <= m.events, "{handled} > {}", m.events);
        assert!(m.events - handled <= m.peak_events_pending as u64);
        let calls = m.calls;
        let requests = count("wait ends: request's transit to the callee");
        let responses = count("wait ends: response's transit to the caller");
        let arrivals = count("a user's request arrives");
        let staged = count("job ends: service job");
        let in_flight = m.peak_calls_in_flight as u64;
        assert!(
            requests <= calls && calls - requests <= in_flight,
            "{requests} of {calls}"
        );
        assert!(responses <= requests && requests - responses <= in_flight);
        assert!(arrivals * 6 <= calls + 6 * in_flight && calls <= arrivals * 6);
        assert!(staged * 3 <= calls + 3 * in_flight && calls <= staged * 3 + 3 * in_flight);
        // Nothing else but the window's moves and a few hand-overs of cores.
        let rest = handled - requests - responses - arrivals - staged;
        assert!(rest <= handled / 20, "{causes:?}");
    }
}
