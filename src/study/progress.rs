//! What a long computation tells whoever started it, as it goes: the one
//! progress interface of the study layer. Sweeps count points, capacity
//! searches the points they evaluate, sensitivity its runs, migrations their
//! evaluations. The library never prints: the binary implements
//! [`Progress`] (a bar on a terminal, nothing otherwise), and a library user
//! passes [`Silent`].
//!
//! A search has no fixed count of runs. It reports a *bound* on its total
//! (what is done plus the most it can still run, e.g. the bisection steps
//! left in its bracket, [`crate::study::capacity::bisection_bound`]), which
//! shrinks as it learns, or no bound while none is known yet. [`Tally`]
//! adds up the bounds of searches running side by side.

use std::sync::Mutex;

use crate::config::Diagnostic;

/// Progress and messages of a study run, a search or an analysis.
pub trait Progress: Sync {
    /// Text for the user, newlines included.
    fn say(&self, text: &str);
    /// A warning for the user (on a terminal, to standard error; with
    /// `--json`, in the document too).
    fn warn(&self, warning: &Diagnostic);
    /// The work starts: at most `bound` units in all (None: not known
    /// yet), `done` of them already done (a resumed sweep's points).
    fn start(&self, bound: Option<u64>, done: u64);
    /// One more unit is done (called from worker threads).
    fn point_done(&self);
    /// The bound on the total changed: a search narrowed its bracket, or
    /// one of several searches found one (None: not known).
    fn bound(&self, _bound: Option<u64>) {}
    /// What is being done now, in a few words (`naive-mtls: 700 rps`).
    fn doing(&self, _what: &str) {}
    /// No more units will run.
    fn finish(&self);
}

/// Tells nothing: for library users and tests.
pub struct Silent;

impl Progress for Silent {
    fn say(&self, _text: &str) {}
    fn warn(&self, _warning: &Diagnostic) {}
    fn start(&self, _bound: Option<u64>, _done: u64) {}
    fn point_done(&self) {}
    fn finish(&self) {}
}

/// One task's count: units done and the most it may still run.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Count {
    done: u64,
    left: Option<u64>,
    ended: bool,
}

/// Several tasks (one search per design) running side by side, shown as
/// one total: the sum of each task's done and bound left, known once every
/// task's is.
pub struct Tally<'a> {
    progress: &'a dyn Progress,
    counts: Mutex<Vec<Count>>,
}

/// The sum of done and left over `counts`; None while one is unknown.
fn total(counts: &[Count]) -> Option<u64> {
    counts.iter().map(|c| c.left.map(|l| c.done + l)).sum()
}

impl<'a> Tally<'a> {
    /// Starts `tasks` tasks with no bound known yet (`left` None), or each
    /// with the bound `left`.
    pub fn start(progress: &'a dyn Progress, tasks: usize, left: Option<u64>) -> Self {
        let counts = vec![
            Count {
                done: 0,
                left,
                ended: false,
            };
            tasks
        ];
        progress.start(total(&counts), 0);
        Tally {
            progress,
            counts: Mutex::new(counts),
        }
    }

    /// Task `task` finished one unit and may run at most `left` more (None:
    /// not known).
    pub fn done(&self, task: usize, left: Option<u64>) {
        // Told under the lock, so the last bound shown is the latest.
        if let Ok(mut counts) = self.counts.lock()
            && let Some(c) = counts.get_mut(task)
        {
            c.done += 1;
            c.left = left;
            self.progress.bound(total(&counts));
            self.progress.point_done();
        }
    }

    /// Task `task` ended: it runs no more units.
    pub fn ended(&self, task: usize) {
        if let Ok(mut counts) = self.counts.lock()
            && let Some(c) = counts.get_mut(task)
        {
            c.left = Some(0);
            c.ended = true;
            self.progress.bound(total(&counts));
        }
    }

    /// Tasks not ended yet.
    pub fn running(&self) -> usize {
        self.counts
            .lock()
            .map_or(0, |c| c.iter().filter(|c| !c.ended).count())
    }

    /// What is being done now.
    pub fn doing(&self, what: &str) {
        self.progress.doing(what);
    }

    /// Every task ended.
    pub fn finish(&self) {
        self.progress.finish();
    }

    /// The current bound on the total (None: not known yet).
    pub fn bound(&self) -> Option<u64> {
        self.counts.lock().ok().and_then(|c| total(&c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    /// Records the bar as a terminal would show it.
    #[derive(Default)]
    struct Bar {
        pos: AtomicU64,
        /// The bound, plus one (0: unknown).
        len: AtomicU64,
    }

    impl Progress for Bar {
        fn say(&self, _: &str) {}
        fn warn(&self, _: &Diagnostic) {}
        fn start(&self, bound: Option<u64>, done: u64) {
            self.bound(bound);
            self.pos.store(done, Ordering::SeqCst);
        }
        fn point_done(&self) {
            self.pos.fetch_add(1, Ordering::SeqCst);
        }
        fn bound(&self, bound: Option<u64>) {
            self.len.store(bound.map_or(0, |b| b + 1), Ordering::SeqCst);
        }
        fn finish(&self) {}
    }

    #[test]
    fn the_total_is_known_once_every_task_has_a_bound() {
        let bar = Bar::default();
        let t = Tally::start(&bar, 2, None);
        assert_eq!(bar.len.load(Ordering::SeqCst), 0);
        t.done(0, Some(5)); // design 0 bracketed: 1 done, at most 5 more
        assert_eq!(t.bound(), None, "design 1 has no bracket yet");
        t.done(1, None);
        t.done(1, Some(3)); // design 1: 2 done, at most 3 more
        assert_eq!(t.bound(), Some(1 + 5 + 2 + 3));
        assert_eq!(bar.len.load(Ordering::SeqCst), 12);
        assert_eq!(bar.pos.load(Ordering::SeqCst), 3);
        t.done(0, Some(0)); // design 0 ended early: its bound falls to what it did
        assert_eq!(t.bound(), Some(2 + 2 + 3));
        // Left with nothing to do is not ended: only `ended` says so.
        assert_eq!(t.running(), 2);
        t.ended(0);
        assert_eq!(t.running(), 1);
        t.ended(1);
        assert_eq!(t.running(), 0);
    }

    #[test]
    fn known_counts_start_with_their_total() {
        let bar = Bar::default();
        let t = Tally::start(&bar, 3, Some(4));
        assert_eq!(bar.len.load(Ordering::SeqCst), 13);
        t.done(2, Some(3));
        assert_eq!(t.bound(), Some(12));
    }
}
