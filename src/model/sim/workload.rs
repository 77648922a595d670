//! User requests (docs/model.md s3, the client): the arrival process (open,
//! closed loop, replay) starts each request, picks its entry endpoint and
//! sends it; when it finishes, its latency and attribution are recorded and
//! a closed-loop user thinks before the next.

use super::state::{Call, Kind, NONE};
use super::{Probe, Simulation, ev, label};
use crate::engine::rng::{Component, derive, unit_f64};
use crate::model::dist::round;
use crate::model::topology::{Arrivals, Window, replay_time};
use crate::units::{NANOS_PER_SEC, Nanos};

impl<'t, P: Probe> Simulation<'t, P> {
    pub(super) fn start(&mut self) {
        let w = &self.topo.workload;
        self.queue
            .schedule_at(self.window_start, ev::WINDOW_START, 0, 0);
        if let Window::Duration(_) = w.window {
            self.queue
                .schedule_at(self.window_end, ev::WINDOW_END, 0, 0);
        }
        match &w.arrivals {
            Arrivals::Poisson { .. } | Arrivals::Constant { .. } => {
                let gap = self.next_gap();
                self.queue.schedule(gap, ev::ARRIVAL, NONE, 0);
            }
            Arrivals::Profile { .. } => self.schedule_profiled(),
            Arrivals::Replay { times, speed, .. } => {
                self.queue
                    .schedule_at(replay_time(times[0], *speed), ev::ARRIVAL, NONE, 0);
            }
            Arrivals::Closed { users, think } => {
                // Stagger the users by one think time so they do not all fire at 0.
                for u in 0..*users {
                    let t = think.sample(&mut self.user_rngs[u as usize]);
                    self.queue.schedule(t, ev::ARRIVAL, u, 0);
                }
            }
        }
        // Every certificate is issued at time 0, as after a deployment;
        // without jitter they all rotate together (a storm). Renewals that
        // close nothing change nothing, so they are not simulated.
        for p in 0..self.peers.len() as u32 {
            if p != self.client_peer && self.rotation_closes(p) {
                let t = self.renewal_interval(p);
                self.queue.schedule(t, ev::ROTATE, p, 0);
            }
        }
    }

    pub(super) fn next_gap(&mut self) -> Nanos {
        match self.topo.workload.arrivals {
            Arrivals::Poisson { rate } => {
                let u = unit_f64(&mut self.arrival_rng);
                round(-(1.0 - u).ln() / rate * NANOS_PER_SEC as f64)
            }
            Arrivals::Constant { rate } => round(NANOS_PER_SEC as f64 / rate),
            Arrivals::Closed { .. } | Arrivals::Replay { .. } | Arrivals::Profile { .. } => {
                unreachable!("closed loops, replays and profiles draw no gaps")
            }
        }
    }

    /// Schedules a rate profile's next arrival, if it has one: the time at
    /// which the cumulative rate since the last grows by a unit exponential
    /// draw (exact for a non-homogeneous Poisson process).
    fn schedule_profiled(&mut self) {
        let Arrivals::Profile { profile, .. } = &self.topo.workload.arrivals else {
            return;
        };
        let u = unit_f64(&mut self.arrival_rng);
        let e = -(1.0 - u).ln();
        // Far beyond any run (100 days plus its drain).
        const HORIZON: Nanos = Nanos::MAX / 4;
        if let Some(t) = self.profile_cursor.next(profile, e, HORIZON) {
            let at = t.max(self.queue.now());
            self.queue.schedule_at(at, ev::ARRIVAL, NONE, 0);
        }
    }

    /// A new user request: from the open-loop process (`user` NONE) or a
    /// closed-loop user who finished thinking.
    pub(super) fn arrival(&mut self, user: u32) {
        let now = self.queue.now();
        let topo = self.topo;
        let entry = if let Arrivals::Replay {
            times,
            entries,
            speed,
        } = &topo.workload.arrivals
        {
            // Request k is the k-th recorded one: its time and entry are given.
            let k = self.next_request as usize;
            if let Some(&next) = times.get(k + 1) {
                self.queue
                    .schedule_at(replay_time(next, *speed), ev::ARRIVAL, NONE, 0);
            }
            entries[k] as usize
        } else {
            if user == NONE && matches!(topo.workload.arrivals, Arrivals::Profile { .. }) {
                self.schedule_profiled();
            } else if user == NONE {
                let gap = self.next_gap();
                self.queue.schedule(gap, ev::ARRIVAL, NONE, 0);
            }
            let u = unit_f64(&mut self.entry_rng);
            self.entry_cdf
                .partition_point(|&c| c <= u)
                .min(self.entry_cdf.len() - 1)
        };
        let measured = !self.draining && now >= self.window_start && now < self.window_end;
        let request = self.next_request;
        let key = self.streams.key(Component::Requests, request);
        self.next_request += 1;
        if measured {
            self.metrics.arrived += 1;
            self.measured_outstanding += 1;
        }
        self.change_in_system(1);
        let slot = self.insert(Call::new(
            key,
            Kind::Root,
            NONE,
            NONE,
            self.topo.workload.entries[entry].0,
            NONE,
            now,
            measured,
        ));
        let c = self.calls.get_mut(slot);
        c.entry = entry as u32;
        c.user = user;
        // A user request never repeats or retries: those fields hold its
        // arrival index, which exports need (see `next_request_of`).
        c.repeat = request as u32;
        c.attempt = (request >> 32) as u32;
        self.send(slot);
        if let Window::Requests(n) = self.topo.workload.window
            && measured
            && self.metrics.arrived == n
        {
            self.set_window_end(now + 1);
            self.window_closed();
        }
    }

    /// The client has the outcome of a user request (response or timeout).
    pub(super) fn request_finished(&mut self, slot: u32, ok: bool) {
        let now = self.queue.now();
        let c = *self.calls.get(slot);
        self.change_in_system(-1);
        if now >= self.window_start && now < self.window_end {
            self.metrics.finished_in_window += 1;
        }
        let latency = now - c.first_sent;
        if c.measured {
            let o = &mut self.metrics.endpoints[c.entry as usize];
            o.latency.record(latency);
            o.failed += u64::from(!ok);
            if ok {
                debug_assert_eq!(
                    self.costs[slot as usize].attr.iter().sum::<u64>(),
                    latency,
                    "attribution must add up"
                );
                o.attribution
                    .record(latency, &self.costs[slot as usize].attr);
            }
            self.measured_outstanding -= 1;
            if P::ON && ok && self.probe.selector().is_some() {
                let request = self.next_request_of(slot);
                if let Some(sel) = self.probe.selector() {
                    sel.offer(request, derive(c.key, label::SAMPLE), latency);
                }
            }
        }
        if let Some(rec) = self.probe.recorder() {
            rec.request_done(slot, now, ok, latency, &self.costs[slot as usize].attr);
        }
        if let Some(bucket) = self.series_bucket(now) {
            bucket.record(latency, ok);
        }
        if let Some(bucket) = self.entry_series_bucket(c.entry as usize, now) {
            bucket.record(latency, ok);
        }
        if c.user != NONE
            && let Arrivals::Closed { think, .. } = &self.topo.workload.arrivals
        {
            let t = think.sample(&mut self.user_rngs[c.user as usize]);
            self.queue.schedule(t, ev::ARRIVAL, c.user, 0);
        }
    }
}
