//! A multi-server FCFS queue: `servers` identical cores serving jobs in order of
//! arrival, each job holding one core for its whole demand (M/G/c semantics).
//!
//! The station decides only *who* runs and *when*; the caller schedules the
//! completion event and tells the station when a job departs. Busy time is
//! accumulated per category and clipped to the measurement window, so
//! utilisation is exact (not sampled) and warm-up is excluded.

use std::collections::VecDeque;

use super::Nanos;

/// Most categories a station splits its busy time into.
pub const MAX_CATEGORIES: usize = 8;

/// What a station measured inside the window.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StationStats {
    /// Core-nanoseconds of service inside the window, by category.
    pub busy: [u64; MAX_CATEGORIES],
    /// Jobs that started service inside the window.
    pub started: u64,
    /// Total time those jobs waited for a core.
    pub waited: u64,
}

/// A job waiting for a core.
#[derive(Debug, Clone, Copy)]
struct Waiting {
    job: u32,
    since: Nanos,
}

/// A pool of identical cores with one FCFS queue.
#[derive(Debug)]
pub struct Station {
    servers: u32,
    /// Time an idle core takes to start a job (see [`Station::wakeup`]).
    wakeup: Nanos,
    busy: u32,
    queue: VecDeque<Waiting>,
    window: (Nanos, Nanos),
    stats: StationStats,
}

impl Station {
    /// A station of `servers` cores measuring inside `window` = [start, end).
    pub fn new(servers: u32, window: (Nanos, Nanos)) -> Self {
        Self {
            servers,
            wakeup: 0,
            busy: 0,
            queue: VecDeque::new(),
            window,
            stats: StationStats::default(),
        }
    }

    /// Moves the end of the measurement window (a run measured by request
    /// count learns its end only when the last measured request arrives).
    pub fn set_window_end(&mut self, end: Nanos) {
        self.window.1 = end;
    }

    /// Offers `job` at `now`. Returns true if a core is free and the job starts
    /// now (the caller then calls [`Station::start`]); false if it queued.
    #[inline]
    pub fn arrive(&mut self, job: u32, now: Nanos) -> bool {
        if self.busy < self.servers {
            self.busy += 1;
            true
        } else {
            self.queue.push_back(Waiting { job, since: now });
            false
        }
    }

    /// Records that a job starts service at `now` after waiting `waited`; its
    /// demand is `parts[i]` in category i, served in that order.
    #[inline]
    pub fn start(&mut self, now: Nanos, parts: &[Nanos], waited: Nanos) {
        self.account(now, parts);
        let (w0, w1) = self.window;
        if now >= w0 && now < w1 {
            self.stats.started += 1;
            self.stats.waited += waited;
        }
    }

    /// Charges CPU that runs without taking a turn in the queue (work done
    /// inline by a thread that already runs): busy time only, clipped to the
    /// window like any job's.
    #[inline]
    pub fn account(&mut self, now: Nanos, parts: &[Nanos]) {
        let (w0, w1) = self.window;
        let mut t = now;
        for (busy, &d) in self.stats.busy.iter_mut().zip(parts) {
            *busy += t.saturating_add(d).min(w1).saturating_sub(t.max(w0));
            t = t.saturating_add(d);
        }
    }

    /// A job left at `now`: frees its core, and if someone was waiting hands
    /// the core over, returning that job and how long it waited.
    #[inline]
    pub fn depart(&mut self, now: Nanos) -> Option<(u32, Nanos)> {
        match self.queue.pop_front() {
            Some(w) => Some((w.job, now - w.since)),
            None => {
                self.busy -= 1;
                None
            }
        }
    }

    /// Sets the time an idle core takes to start a job.
    pub fn set_wakeup(&mut self, wakeup: Nanos) {
        self.wakeup = wakeup;
    }

    /// Time a job that finds a core idle waits before it runs (a core
    /// leaving a sleep state, a virtual CPU being scheduled again): the job
    /// holds the core meanwhile but spends no CPU. A job that queued starts
    /// on a core that was running, and pays nothing.
    pub fn wakeup(&self) -> Nanos {
        self.wakeup
    }

    /// Cores.
    pub fn servers(&self) -> u32 {
        self.servers
    }

    /// Jobs waiting for a core.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Jobs in service plus waiting.
    pub fn in_system(&self) -> usize {
        self.busy as usize + self.queue.len()
    }

    /// What was measured.
    pub fn stats(&self) -> &StationStats {
        &self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fcfs_hand_over_and_clipped_busy_time() {
        let mut s = Station::new(1, (10, 100));
        assert!(s.arrive(1, 0));
        s.start(0, &[20], 0); // 10 of its 20 ns fall in the window
        assert!(!s.arrive(2, 5));
        assert!(!s.arrive(3, 6));
        assert_eq!(s.depart(20), Some((2, 15)));
        s.start(20, &[0, 30], 15);
        assert_eq!(s.depart(50), Some((3, 44)));
        s.start(50, &[10, 50], 44); // 10 ns in category 0, then 50 clipped at 100
        assert_eq!(s.depart(110), None);
        assert_eq!(s.in_system(), 0);
        let st = s.stats();
        assert_eq!((st.busy[0], st.busy[1]), (10 + 10, 30 + 40));
        assert_eq!((st.started, st.waited), (2, 59));
    }

    #[test]
    fn several_cores_serve_in_parallel() {
        let mut s = Station::new(2, (0, 1000));
        assert!(s.arrive(1, 0));
        assert!(s.arrive(2, 0));
        assert!(!s.arrive(3, 0));
        assert_eq!(s.in_system(), 3);
        assert_eq!(s.depart(5), Some((3, 5)));
        assert_eq!(s.depart(6), None);
        assert_eq!(s.depart(7), None);
        assert_eq!(s.in_system(), 0);
    }
}
