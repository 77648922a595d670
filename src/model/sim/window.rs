//! The measurement window: requests in system over time, the time series,
//! the end of the window (saturation or drain), and the final metrics with
//! each station's busy time.

use super::{Probe, Simulation, down, ev};
use crate::model::metrics::{RunMetrics, Saturation, StationMetrics, StationOwner};
use crate::model::series::SeriesBucket;
use crate::model::topology::{Arrivals, Topology};
use crate::units::{NANOS_PER_SEC, Nanos};

/// The window is checked for a clearly saturated run this many times.
const CHECKS: u64 = 16;
/// Standard deviations of the rest of the window's net drain that a backlog
/// must exceed to end the run (`clearly_saturated`).
const CHECK_SIGMAS: f64 = 6.0;

/// The growth of a backlog over the window past which a run is saturated:
/// 2% of the `count` that entered it (requests arrived, asynchronous calls
/// started), and at least 50.
pub(super) fn backlog_limit(count: f64) -> f64 {
    (count / 50.0).max(50.0)
}

/// When a run is first checked for a backlog that has clearly outgrown its
/// window (`Simulation::clearly_saturated`): a sixteenth into a window of
/// known length, under open arrivals at a steady rate and with every
/// replica up, unless the workload asks for whole windows
/// (`stop_when_saturated`); otherwise never (MAX). A rate profile, a replay
/// or a replica coming back can drain a backlog faster than the load seen
/// so far shows.
pub(super) fn first_check(topo: &Topology, start: Nanos, end: Nanos) -> Nanos {
    let steady = matches!(
        topo.workload.arrivals,
        Arrivals::Poisson { .. } | Arrivals::Constant { .. }
    ) && !down::any(topo);
    if !steady || !topo.workload.stop_when_saturated || end == Nanos::MAX || end - start < CHECKS {
        return Nanos::MAX;
    }
    start + (end - start) / CHECKS
}

impl<'t, P: Probe> Simulation<'t, P> {
    /// The time-series bucket of `t`; None past the series' bounded length
    /// (the window plus its drain are far shorter).
    pub(super) fn series_bucket(&mut self, t: Nanos) -> Option<&mut SeriesBucket> {
        bucket_at(&mut self.metrics.series, self.metrics.series_interval, t)
    }

    /// Entry `entry`'s own bucket of `t`, when the workload has several
    /// entries (its charts are drawn per entry); None otherwise.
    pub(super) fn entry_series_bucket(
        &mut self,
        entry: usize,
        t: Nanos,
    ) -> Option<&mut SeriesBucket> {
        let interval = self.metrics.series_interval;
        let series = self.metrics.entry_series.get_mut(entry)?;
        bucket_at(series, interval, t)
    }

    pub(super) fn change_in_system(&mut self, delta: i64) {
        let now = self.queue.now();
        let from = self.last_change.max(self.window_start);
        let to = now.min(self.window_end);
        if to > from {
            self.in_system_area += u128::from(self.in_system) * u128::from(to - from);
        }
        self.last_change = now;
        self.in_system = self.in_system.wrapping_add_signed(delta);
    }

    pub(super) fn set_window_end(&mut self, end: Nanos) {
        self.window_end = end;
        for s in &mut self.stations {
            s.set_window_end(end);
        }
    }

    /// Arrivals after this are not measured; decide saturation, then drain.
    pub(super) fn window_closed(&mut self) {
        let now = self.queue.now();
        self.change_in_system(0);
        self.metrics.window = self.window_end - self.window_start;
        self.count_down_at_close();
        let growth = self.in_system as i64 - self.in_system_at_start as i64;
        let open = self.topo.workload.arrivals.is_open();
        if self.async_backlog_grew() {
            return;
        }
        if open && growth as f64 > backlog_limit(self.metrics.arrived as f64) {
            self.metrics.saturation = Some(Saturation {
                bottleneck: None,
                backlog_growth: growth,
                reason: format!(
                    "requests in system grew by {growth} over the window ({} arrived): queues grow without bound",
                    self.metrics.arrived
                ),
            });
            self.done = true;
            return;
        }
        self.draining = true;
        // A stable system drains in far less than a window; if it does not,
        // the backlog is not going away.
        let limit = self.metrics.window.max(10 * NANOS_PER_SEC);
        self.queue
            .schedule_at(now.saturating_add(limit), ev::DRAIN_LIMIT, 0, 0);
    }

    /// At a check inside the window: whether the requests in system have
    /// grown so far past the window's saturation threshold (`window_closed`)
    /// that the rest of the window cannot bring them back under it, at this
    /// check and the one before, growing between them. Then the run ends
    /// here, saturated, its window cut at the check: what a saturated run
    /// reports (its completed throughput, its cores' utilisation) is as
    /// well measured by then, and the rest would only grow the backlog.
    ///
    /// The rest of the window (`r` long) could drain the backlog only by
    /// completing more requests than arrive: by `(completed - arrived) * r`
    /// at the rates seen so far, plus chance. Requests arrive and complete
    /// one at a time, so the net change over `r` has a standard deviation
    /// of about `sqrt((arrival + completion rate) * r)`; the backlog must
    /// exceed the threshold by that drain and six of those deviations.
    pub(super) fn clearly_saturated(&mut self) -> bool {
        let at = self.next_check;
        let (start, end) = (self.window_start, self.window_end);
        let step = (end - start) / CHECKS;
        self.next_check = if at + step < end {
            at + step
        } else {
            Nanos::MAX
        };
        let growth = self.in_system as i64 - self.in_system_at_start as i64;
        let (elapsed, rest) = ((at - start) as f64, (end - at) as f64);
        let arriving = self.metrics.arrived as f64 / elapsed;
        let completing = self.metrics.finished_in_window as f64 / elapsed;
        let threshold = backlog_limit(arriving * (end - start) as f64);
        let drain = ((completing - arriving) * rest).max(0.0);
        let chance = CHECK_SIGMAS * ((arriving + completing) * rest).sqrt();
        let looks = growth as f64 > threshold + drain + chance;
        let before = std::mem::replace(&mut self.growth_at_check, looks.then_some(growth));
        if !looks || before.is_none_or(|g| growth <= g) {
            return false;
        }
        self.set_window_end(at);
        self.saturate(format!(
            "requests in system grew by {growth} in the first {:.3} s of the window ({} arrived), more than the rest of it could drain: queues grow without bound (the run stopped there)",
            elapsed / NANOS_PER_SEC as f64,
            self.metrics.arrived
        ));
        true
    }

    pub(super) fn drain_limit(&mut self) {
        let outstanding = self.measured_outstanding;
        self.saturate(format!(
            "{outstanding} measured requests still unfinished one window after it closed"
        ));
    }

    pub(super) fn saturate(&mut self, reason: String) {
        if self.metrics.saturation.is_none() {
            let growth = self.in_system as i64 - self.in_system_at_start as i64;
            self.metrics.saturation = Some(Saturation {
                bottleneck: None,
                backlog_growth: growth,
                reason,
            });
        }
        self.done = true;
    }

    /// The service whose replicas hold more calls waiting for a worker slot
    /// than any group of stations holds jobs waiting for a core, if one does:
    /// its concurrency limit, not a core, is where the backlog grows.
    fn workers_bottleneck(&self) -> Option<StationOwner> {
        let mut waiting = vec![0usize; self.topo.services.len()];
        for (s, &base) in self.replica_base.iter().enumerate() {
            let n = self.topo.services[s].replicas;
            waiting[s] = (base..base + n)
                .map(|r| self.replicas[r as usize].waiting.len())
                .sum();
        }
        let mut queued: Vec<(StationOwner, usize)> = Vec::new();
        for (st, owner) in self.stations.iter().zip(&self.owners) {
            match queued.iter_mut().find(|(o, _)| o == owner) {
                Some((_, q)) => *q += st.queued(),
                None => queued.push((*owner, st.queued())),
            }
        }
        let most_queued = queued.iter().map(|&(_, q)| q).max().unwrap_or(0);
        let (s, &w) = waiting.iter().enumerate().max_by_key(|&(_, &w)| w)?;
        (w > most_queued).then_some(StationOwner::Workers(s as u32))
    }

    pub(super) fn finish(&mut self) -> RunMetrics {
        // Stopped before the window closed: the jobs then in service were
        // counted busy to their ends, past where the run stopped.
        let cut = self.metrics.window == 0;
        if cut {
            // Ended before the window closed (saturated early, or the event
            // queue ran dry): measure what there was.
            let now = self.queue.now().max(self.window_start);
            if self.window_end == Nanos::MAX {
                self.set_window_end(now);
            }
            self.change_in_system(0);
            self.metrics.window = self.window_end.min(now).saturating_sub(self.window_start);
        }
        self.count_quiet_rotations();
        self.close_pools();
        let window = self.metrics.window;
        let mut stations: Vec<StationMetrics> = Vec::new();
        for (st, owner) in self.stations.iter().zip(&self.owners) {
            let m = match stations.iter_mut().find(|m| m.owner == *owner) {
                Some(m) => m,
                None => {
                    stations.push(StationMetrics {
                        owner: *owner,
                        ..StationMetrics::default()
                    });
                    stations.last_mut().expect("just pushed")
                }
            };
            let s = st.stats();
            let busy = if cut { st.busy_within(window) } else { s.busy };
            for (acc, b) in m.busy.iter_mut().zip(busy) {
                *acc += b;
            }
            m.capacity += st.capacity(window);
            m.jobs += s.started;
            m.waited += s.waited;
            m.paused += s.paused;
            m.instances += 1;
        }
        let workers = self
            .metrics
            .saturation
            .is_some()
            .then(|| self.workers_bottleneck())
            .flatten();
        if let Some(sat) = &mut self.metrics.saturation {
            sat.bottleneck = workers.or_else(|| {
                stations
                    .iter()
                    .max_by(|a, b| a.utilisation().total_cmp(&b.utilisation()))
                    .map(|m| m.owner)
            });
        }
        self.metrics.stations = stations;
        if window > 0 {
            self.metrics.mean_in_system = self.in_system_area as f64 / window as f64;
        }
        self.metrics.events = self.queue.scheduled();
        self.metrics.peak_events_pending = self.queue.peak_len();
        std::mem::take(&mut self.metrics)
    }
}

/// The bucket of `t` in `series`, grown to reach it; None past the bounded
/// length.
fn bucket_at(
    series: &mut Vec<SeriesBucket>,
    interval: Nanos,
    t: Nanos,
) -> Option<&mut SeriesBucket> {
    const MAX_BUCKETS: u64 = 100_000;
    let b = t / interval;
    if b >= MAX_BUCKETS {
        return None;
    }
    let b = b as usize;
    if series.len() <= b {
        series.resize(b + 1, SeriesBucket::default());
    }
    Some(&mut series[b])
}
