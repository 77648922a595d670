//! A multi-server FCFS queue: `servers` identical cores serving jobs in order of
//! arrival, each job holding one core for its whole demand (M/G/c semantics).
//!
//! The station decides only *who* runs and *when*; the caller schedules the
//! completion event and tells the station when a job departs, or, for a
//! core kept busy past its job's event by an off-path tail, when the core
//! will be free ([`Station::hold`]): that release becomes an event only if
//! a job comes to wait for it. Busy time is
//! accumulated per category and clipped to the measurement window, so
//! utilisation is exact (not sampled) and warm-up is excluded.
//!
//! A fractional allowance (`Station::of_cores`, c cores with c not whole)
//! is ceil(c) servers each running at speed c / ceil(c): 0.5 cores is one
//! server at half speed, 2.5 cores three at 5/6 speed, the same capacity.
//! The caller turns a job's CPU demand into the time it holds a server with
//! [`Station::wall`] (rounded up to the nanosecond); busy time is counted
//! back in core-nanoseconds of CPU, so utilisation is CPU over the
//! allowance.

use std::collections::VecDeque;

use super::Nanos;
use super::queue::EventKey;
use crate::units::{MILLIS_PER_CORE, Millicores};

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
    /// Core-nanoseconds the cores were paused inside the window (no CPU:
    /// not in `busy`).
    pub paused: u64,
}

/// The job a pause stands as in the queue (never a call's slot).
pub const PAUSE: u32 = u32::MAX;

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
    /// The allowance in millicores (servers x 1000 at full speed).
    millis: u32,
    /// Time an idle core takes to start a job (see [`Station::wakeup`]).
    wakeup: Nanos,
    busy: u32,
    /// Busy cores whose release is reserved in the event order but not
    /// scheduled, by its key; only while nobody waits (see
    /// [`Station::hold`]).
    held: Vec<EventKey>,
    queue: VecDeque<Waiting>,
    /// Lengths of the pauses waiting at the queue's front, in its order.
    pauses: VecDeque<Nanos>,
    window: (Nanos, Nanos),
    stats: StationStats,
}

/// Drops from `keys` the reserved places at or before `current` (their
/// happenings would already have popped) and returns how many it dropped:
/// how a held happening that was never scheduled is counted once passed.
#[inline]
fn drop_passed(keys: &mut Vec<EventKey>, current: EventKey) -> u32 {
    if keys.is_empty() {
        return 0;
    }
    let before = keys.len();
    keys.retain(|&k| k > current);
    (before - keys.len()) as u32
}

impl Station {
    /// A station of `servers` cores measuring inside `window` = [start, end).
    pub fn new(servers: u32, window: (Nanos, Nanos)) -> Self {
        Self {
            servers,
            millis: servers.saturating_mul(MILLIS_PER_CORE),
            wakeup: 0,
            busy: 0,
            held: Vec::new(),
            queue: VecDeque::new(),
            pauses: VecDeque::new(),
            window,
            stats: StationStats::default(),
        }
    }

    /// A station of `cores` (whole or not) measuring inside `window`.
    pub fn of_cores(cores: Millicores, window: (Nanos, Nanos)) -> Self {
        let mut s = Self::new(cores.servers(), window);
        s.millis = cores.0;
        s
    }

    /// Whether each server runs at full speed (a whole number of cores).
    #[inline]
    pub fn full_speed(&self) -> bool {
        u64::from(self.millis) == u64::from(self.servers) * u64::from(MILLIS_PER_CORE)
    }

    /// How long a server of this station takes for `cpu` nanoseconds of
    /// CPU: `cpu` itself at full speed, else cpu x ceil(c) / c rounded up
    /// to the nanosecond (exact for 0.5 cores: twice the demand).
    #[inline]
    pub fn wall(&self, cpu: Nanos) -> Nanos {
        if self.full_speed() {
            return cpu;
        }
        let full = u128::from(self.servers) * u128::from(MILLIS_PER_CORE);
        let w = (u128::from(cpu) * full).div_ceil(u128::from(self.millis));
        w.min(u128::from(Nanos::MAX)) as Nanos
    }

    /// The CPU done in `wall` nanoseconds on one server (rounded down): the
    /// inverse of [`Station::wall`], exact on its results.
    #[inline]
    fn cpu_of(&self, wall: Nanos) -> Nanos {
        if self.full_speed() {
            return wall;
        }
        let full = u128::from(self.servers) * u128::from(MILLIS_PER_CORE);
        (u128::from(wall) * u128::from(self.millis) / full) as Nanos
    }

    /// Core-nanoseconds of CPU the station offers over `ns`.
    pub fn capacity(&self, ns: Nanos) -> u64 {
        Millicores(self.millis).capacity(ns)
    }

    /// Moves the end of the measurement window (a run measured by request
    /// count learns its end only when the last measured request arrives).
    pub fn set_window_end(&mut self, end: Nanos) {
        self.window.1 = end;
    }

    /// Offers `job` at `now`, while the event at `current` is handled.
    /// Returns true if a core is free and the job starts now (the caller
    /// then calls [`Station::start`]); false if it queued, and then the
    /// caller schedules the held releases ([`Station::take_held`]).
    #[inline]
    pub fn arrive(&mut self, job: u32, now: Nanos, current: EventKey) -> bool {
        if self.claim(current) {
            true
        } else {
            self.queue.push_back(Waiting { job, since: now });
            false
        }
    }

    /// Takes a free core if there is one, counting as free the held cores
    /// whose release would have popped before the event at `current`.
    #[inline]
    fn claim(&mut self, current: EventKey) -> bool {
        self.busy -= drop_passed(&mut self.held, current);
        let free = self.busy < self.servers;
        self.busy += u32::from(free);
        free
    }

    /// One core stops for `len` (a stop-the-world pause: a collector, the
    /// hypervisor or the kernel taking the core), ahead of every job that
    /// waits, but only once the job in hand is done: a pause is a job of
    /// the highest priority that spends no CPU. Returns true if a core is
    /// free and the pause starts now (the caller schedules the core's
    /// release `len` from now); false if it waits at the queue's front
    /// (the caller schedules the held releases, as for a job that queues),
    /// and [`Station::depart`] then hands a core to it as [`PAUSE`].
    pub fn pause(&mut self, len: Nanos, now: Nanos, current: EventKey) -> bool {
        if self.claim(current) {
            self.count_pause(now, len);
            true
        } else {
            self.queue.push_front(Waiting {
                job: PAUSE,
                since: now,
            });
            self.pauses.push_front(len);
            false
        }
    }

    /// The length of the pause [`Station::depart`] has just handed a core
    /// to, which starts at `now`.
    pub fn start_pause(&mut self, now: Nanos) -> Nanos {
        debug_assert!(!self.pauses.is_empty(), "no pause was waiting");
        let len = self.pauses.pop_front().unwrap_or(0);
        self.count_pause(now, len);
        len
    }

    fn count_pause(&mut self, now: Nanos, len: Nanos) {
        let (w0, w1) = self.window;
        self.stats.paused += now.saturating_add(len).min(w1).saturating_sub(now.max(w0));
    }

    /// Records that a job starts service at `now` after waiting `waited`; it
    /// holds its server `parts[i]` in category i ([`Station::wall`] of its
    /// CPU), served in that order.
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
    /// window like any job's. `parts` are server time, as in
    /// [`Station::start`]; the busy time kept is the CPU they stand for.
    #[inline]
    pub fn account(&mut self, now: Nanos, parts: &[Nanos]) {
        let (w0, w1) = self.window;
        let mut t = now;
        let full = self.full_speed();
        for (i, &d) in parts.iter().enumerate().take(MAX_CATEGORIES) {
            let inside = t.saturating_add(d).min(w1).saturating_sub(t.max(w0));
            self.stats.busy[i] += if full { inside } else { self.cpu_of(inside) };
            t = t.saturating_add(d);
        }
    }

    /// A job (or a pause) left at `now`: frees its core, and if someone was
    /// waiting hands the core over, returning that job and how long it
    /// waited; [`PAUSE`] for a pause, which [`Station::start_pause`] starts.
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

    /// A busy core is released at the event reserved as `release` (its
    /// job's off-path tail ends), which is not scheduled: nobody waits, so
    /// the release would change nothing but the count of busy cores, and
    /// [`Station::arrive`] counts it from the key. Only while the queue is
    /// empty; with jobs waiting the caller schedules the release.
    #[inline]
    pub fn hold(&mut self, release: EventKey) {
        debug_assert!(self.queue.is_empty(), "a held core with jobs waiting");
        self.held.push(release);
    }

    /// The held releases, to be scheduled now that a job waits (each frees
    /// its core through [`Station::depart`], as any release does).
    #[inline]
    pub fn take_held(&mut self) -> std::vec::Drain<'_, EventKey> {
        self.held.drain(..)
    }

    /// The latest held release, if any.
    pub fn last_held(&self) -> Option<EventKey> {
        self.held.iter().copied().max()
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

    /// Servers (the cores rounded up).
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

    /// Busy time by category over a window of `ns`, at most its capacity,
    /// for a run stopped before its window's end (saturated): a job is
    /// counted when it starts, to its end or the window's, so the jobs then
    /// in service were counted beyond it; the categories are scaled down to
    /// the capacity together.
    pub fn busy_within(&self, ns: Nanos) -> [u64; MAX_CATEGORIES] {
        let busy = self.stats.busy;
        let total: u128 = busy.iter().map(|&b| u128::from(b)).sum();
        let capacity = u128::from(self.capacity(ns));
        if total <= capacity {
            return busy;
        }
        let mut scaled = busy.map(|b| (u128::from(b) * capacity / total) as u64);
        // What rounding down lost goes to the largest category, so a core
        // busy throughout counts exactly its capacity.
        let lost = capacity as u64 - scaled.iter().sum::<u64>();
        if let Some(top) = scaled.iter_mut().max() {
            *top += lost;
        }
        scaled
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The key of an event at `t` scheduled first of all.
    fn at(t: Nanos) -> EventKey {
        EventKey::from(t) << 64
    }

    #[test]
    fn fcfs_hand_over_and_clipped_busy_time() {
        let mut s = Station::new(1, (10, 100));
        assert!(s.arrive(1, 0, at(0)));
        s.start(0, &[20], 0); // 10 of its 20 ns fall in the window
        assert!(!s.arrive(2, 5, at(5)));
        assert!(!s.arrive(3, 6, at(6)));
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
    fn busy_time_of_a_cut_window_is_at_most_its_capacity() {
        // One core, window [0, 100): a job of 60 + 90 ns counted to 100,
        // then the run stops at 50 with the job in service.
        let mut s = Station::new(1, (0, 100));
        assert!(s.arrive(1, 0, at(0)));
        s.start(0, &[60, 90], 0);
        assert_eq!(s.busy_within(100), [60, 40, 0, 0, 0, 0, 0, 0]);
        // 100 counted over a capacity of 50: both categories halved.
        assert_eq!(s.busy_within(50), [30, 20, 0, 0, 0, 0, 0, 0]);
        // Over 33: 19.8 and 13.2 rounded down, the lost one to the first.
        assert_eq!(s.busy_within(33), [20, 13, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn fractional_cores_are_slower_servers_counted_in_cpu() {
        // 0.5 cores: one server at half speed; 80 ns of CPU hold it 160 ns
        // and count 80 core-ns busy, over a capacity of half the window.
        let mut s = Station::of_cores(Millicores(500), (0, 1000));
        assert_eq!((s.servers(), s.wall(80), s.capacity(1000)), (1, 160, 500));
        assert!(s.arrive(1, 0, at(0)));
        s.start(0, &[s.wall(80)], 0);
        assert_eq!(s.stats().busy[0], 80);
        // 2.5 cores: three servers at 5/6 speed; 100 ns of CPU take 120 ns,
        // 7 ns take ceil(8.4) = 9 ns, which count back as 7.
        let mut s = Station::of_cores(Millicores(2500), (0, 1000));
        assert_eq!((s.servers(), s.wall(100), s.wall(7)), (3, 120, 9));
        s.account(0, &[9, 120]);
        assert_eq!((s.stats().busy[0], s.stats().busy[1]), (7, 100));
        // Whole cores: unchanged.
        let s = Station::of_cores(Millicores(2000), (0, 1000));
        assert_eq!((s.servers(), s.wall(77), s.capacity(10)), (2, 77, 20));
    }

    #[test]
    fn several_cores_serve_in_parallel() {
        let mut s = Station::new(2, (0, 1000));
        assert!(s.arrive(1, 0, at(0)));
        assert!(s.arrive(2, 0, at(0)));
        assert!(!s.arrive(3, 0, at(0)));
        assert_eq!(s.in_system(), 3);
        assert_eq!(s.depart(5), Some((3, 5)));
        assert_eq!(s.depart(6), None);
        assert_eq!(s.depart(7), None);
        assert_eq!(s.in_system(), 0);
    }

    #[test]
    fn a_held_core_is_free_once_its_release_has_passed() {
        let mut s = Station::new(2, (0, 1000));
        // Two jobs hold both cores until 30 and 40 (reserved as the 5th and
        // 6th events), with no release scheduled.
        let (r30, r40) = (at(30) | 5 << 8, at(40) | 6 << 8);
        assert!(s.arrive(1, 0, at(0)));
        s.hold(r40);
        assert!(s.arrive(2, 0, at(0)));
        s.hold(r30);
        // At 30, an event scheduled before the release (4th) comes first:
        // the core is still busy, the job queues, and the releases must be
        // scheduled.
        assert!(!s.arrive(3, 30, at(30) | 4 << 8));
        let mut due: Vec<EventKey> = s.take_held().collect();
        due.sort();
        assert_eq!(due, vec![r30, r40]);
        assert_eq!(s.depart(30), Some((3, 0)));
        // Held again until 40; one scheduled after it (7th) finds it free,
        // and the other core too once 50 has passed.
        s.hold(at(50) | 9 << 8);
        assert_eq!(s.depart(40), None);
        assert!(s.arrive(4, 40, at(40) | 7 << 8));
        assert!(!s.arrive(5, 40, at(40) | 8 << 8));
        assert_eq!(s.take_held().count(), 1);
        assert_eq!(s.depart(50), Some((5, 10)));
        s.hold(at(60) | 10 << 8);
        assert_eq!(s.last_held(), Some(at(60) | 10 << 8));
        assert_eq!(s.in_system(), 2);
        assert!(s.arrive(6, 70, at(70)));
        assert_eq!((s.in_system(), s.last_held()), (2, None));
    }

    #[test]
    fn a_pause_goes_ahead_of_waiting_jobs_once_the_job_in_hand_is_done() {
        // One core, window [0, 1000). Job 1 runs 0-50; job 2 waits from 10;
        // a pause of 100 comes at 20: it waits for job 1, not behind job 2.
        let mut s = Station::new(1, (0, 1000));
        assert!(s.arrive(1, 0, at(0)));
        s.start(0, &[50], 0);
        assert!(!s.arrive(2, 10, at(10)));
        assert!(!s.pause(100, 20, at(20)));
        assert_eq!(s.in_system(), 3);
        assert_eq!(s.depart(50), Some((PAUSE, 30)));
        assert_eq!(s.start_pause(50), 100);
        // The pause ends at 150 and hands the core to job 2 (waited 140).
        assert_eq!(s.depart(150), Some((2, 140)));
        s.start(150, &[40], 140);
        assert_eq!(s.depart(190), None);
        // An idle core pauses at once; a job meanwhile waits for it.
        assert!(s.pause(30, 900, at(900)));
        assert!(!s.arrive(3, 910, at(910)));
        assert_eq!(s.depart(930), Some((3, 20)));
        s.start(930, &[10], 20);
        assert_eq!(s.depart(940), None);
        // Paused 100 + 30, no CPU; a pause past the window's end is clipped.
        assert!(s.pause(500, 950, at(950)));
        let st = s.stats();
        assert_eq!(
            (st.busy[0], st.paused, st.started, st.waited),
            (100, 180, 3, 160)
        );
    }

    #[test]
    fn pauses_waiting_together_keep_their_own_lengths() {
        // Two cores, both busy: two pauses of 7 and 9 wait ahead of job 3.
        let mut s = Station::new(2, (0, 100));
        assert!(s.arrive(1, 0, at(0)) && s.arrive(2, 0, at(0)));
        assert!(!s.arrive(3, 1, at(1)));
        assert!(!s.pause(7, 2, at(2)));
        assert!(!s.pause(9, 2, at(2)));
        let mut lens = Vec::new();
        for t in [10, 12] {
            assert_eq!(s.depart(t).map(|(j, _)| j), Some(PAUSE));
            lens.push(s.start_pause(t));
        }
        lens.sort();
        assert_eq!(lens, vec![7, 9]);
        assert_eq!(s.depart(17).map(|(j, _)| j), Some(3));
        assert_eq!(s.stats().paused, 16);
    }
}
