//! Cores that pause (`pauses` on a service, `client_pauses` on the
//! workload; docs/topology.md "Pauses"): a garbage collector stopping the
//! world, the hypervisor or the kernel taking a core for milliseconds.
//! Each paused station draws, from a stream of its own, pauses at
//! exponential gaps (start to start); a pause stops each of its cores for
//! the pause's length once the job in hand is done, ahead of every job that
//! waits (`Station::pause`). A pause spends no CPU: a station's utilisation
//! counts only its jobs, so a paused station saturates below 100%.
//! A topology without pauses schedules nothing and draws as before.

use super::state::NONE;
use super::{Probe, Simulation, ev};
use crate::engine::rng::{Component, StreamRng, Streams};
use crate::model::dist::Dist;
use crate::model::topology::Topology;
use crate::model::workload::Pauses;
use crate::units::Nanos;

/// One paused station and its stream.
#[derive(Debug)]
struct Pauser {
    station: u32,
    every: f64,
    lasts: Dist,
    rng: StreamRng,
}

/// The paused stations of a run; empty when the topology has no pauses.
#[derive(Debug, Default)]
pub(super) struct Pausers {
    list: Vec<Pauser>,
}

impl Pausers {
    /// The stations `topo` pauses: each replica's own cores of a service
    /// with `pauses` (`cores` by global replica index), then the client's
    /// (`client`, NONE without client cores). Streams by that order, so
    /// the same whatever the threads.
    pub(super) fn new(
        topo: &Topology,
        cores: &[u32],
        base: &[u32],
        client: u32,
        streams: &Streams,
    ) -> Self {
        let mut list = Vec::new();
        let mut add = |station: u32, p: &Pauses| {
            if station != NONE {
                let rng = streams.stream(Component::Pauses, list.len() as u64);
                list.push(Pauser {
                    station,
                    every: p.every as f64,
                    lasts: p.lasts.clone(),
                    rng,
                });
            }
        };
        for (s, svc) in topo.services.iter().enumerate() {
            if let Some(p) = &svc.pauses {
                let from = base[s] as usize;
                for &station in &cores[from..from + svc.replicas as usize] {
                    add(station, p);
                }
            }
        }
        if let Some(p) = &topo.workload.client_pauses {
            add(client, p);
        }
        Pausers { list }
    }
}

impl<'t, P: Probe> Simulation<'t, P> {
    /// Schedules each paused station's first pause.
    pub(super) fn schedule_pauses(&mut self) {
        for i in 0..self.pausers.list.len() {
            let gap = self.pause_gap(i);
            self.queue.schedule(gap, ev::PAUSE, i as u32, 0);
        }
    }

    /// Pauser `i`'s time to its next pause, at least 1 ns.
    fn pause_gap(&mut self, i: usize) -> Nanos {
        let p = &mut self.pausers.list[i];
        Dist::Exponential { mean: p.every }
            .sample(&mut p.rng)
            .max(1)
    }

    /// Pauser `i`'s pause starts: each core of its station stops for a draw
    /// of its length, now if idle or once its job is done; the next pause
    /// is scheduled. When the other pausers' next pauses are all that is
    /// left to happen, the run is over and this pauser stops: pauses alone
    /// would keep a run that has run dry (a replay shorter than its
    /// `requests`) going for ever.
    pub(super) fn pause(&mut self, i: u32) {
        if self.queue.len() < self.pausers.list.len() {
            return;
        }
        let p = &mut self.pausers.list[i as usize];
        let (station, len) = (p.station, p.lasts.sample(&mut p.rng));
        let now = self.queue.now();
        if len > 0 {
            for _ in 0..self.stations[station as usize].servers() {
                let current = self.queue.current();
                let st = &mut self.stations[station as usize];
                if st.pause(len, now, current) {
                    self.queue.schedule(len, ev::CORE_FREE, station, 0);
                } else {
                    for key in st.take_held() {
                        self.queue.schedule_reserved(key, ev::CORE_FREE, station, 0);
                    }
                }
            }
        }
        let gap = self.pause_gap(i as usize);
        self.queue.schedule(gap, ev::PAUSE, i, 0);
    }
}
