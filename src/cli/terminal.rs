//! The terminal side of a long command (a sweep, a capacity search, a
//! sensitivity analysis, a migration, the testbed, an import): its lines
//! printed, a progress bar with the time left when stderr is a terminal
//! (nothing otherwise, so logs stay clean), and for a sweep Ctrl-C or
//! SIGTERM turned into a clean stop.

use std::io::IsTerminal;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use ztsim::config::Diagnostic;
use ztsim::study::progress::Progress;

/// Set by Ctrl-C (or SIGTERM): no new point starts.
pub static STOP: AtomicBool = AtomicBool::new(false);

/// This process's command line, `ztsim` first.
pub fn command_line() -> Vec<String> {
    std::env::args()
        .enumerate()
        .map(|(i, a)| if i == 0 { "ztsim".to_string() } else { a })
        .collect()
}

/// A long command shown on the terminal: its lines printed, and its
/// progress as a bar (a spinner while no bound on the work is known) on
/// standard error when that is a terminal and --quiet is not given; never on
/// standard output, and nothing at all otherwise, so logs, pipes and output
/// files are the same with and without a terminal.
pub struct Terminal {
    bar: OnceLock<ProgressBar>,
    /// What one unit is, after the count (`points`, `runs`; empty: no
    /// count is shown, only what is being done).
    unit: &'static str,
    /// The bound is the most the work may take (a search), not its count.
    at_most: bool,
    /// Ctrl-C and SIGTERM stop the work cleanly (a sweep saves its points).
    stoppable: bool,
    /// Redrawn on a timer, so elapsed time moves between units; off where
    /// the timer's thread would disturb a measurement (the testbed).
    ticking: bool,
    /// Whether the bar now has a bound (a bar) or not (a spinner).
    bounded: AtomicU8,
}

impl Terminal {
    /// A sweep: its points counted, Ctrl-C stopping it cleanly.
    pub fn sweep() -> Self {
        let mut t = Terminal::counting("points");
        t.stoppable = true;
        t
    }

    /// Work counted exactly in `unit`s.
    pub fn counting(unit: &'static str) -> Self {
        Terminal {
            bar: OnceLock::new(),
            unit,
            at_most: false,
            stoppable: false,
            ticking: true,
            bounded: AtomicU8::new(UNSET),
        }
    }

    /// A search: `unit`s counted against a bound on them, once known.
    pub fn searching(unit: &'static str) -> Self {
        let mut t = Terminal::counting(unit);
        t.at_most = true;
        t
    }

    /// Without the redrawing timer: the bar moves only as units end (the
    /// testbed's, a lab command).
    #[cfg(feature = "lab")]
    pub fn untimed(mut self) -> Self {
        self.ticking = false;
        self
    }

    fn style(&self, bound: Option<u64>) -> ProgressStyle {
        let unit = self.unit;
        let template = match bound {
            Some(_) if self.at_most => {
                format!(
                    "{{bar:40}} {{pos}} of at most {{len}} {unit}, {{elapsed}} elapsed, ETA {{eta}}  {{wide_msg}}"
                )
            }
            Some(_) => {
                format!(
                    "{{bar:40}} {{pos}}/{{len}} {unit}, {{elapsed}} elapsed, ETA {{eta}}  {{wide_msg}}"
                )
            }
            None if unit.is_empty() => "{spinner} {elapsed} elapsed  {wide_msg}".to_string(),
            None => format!("{{spinner}} {{pos}} {unit}, {{elapsed}} elapsed  {{wide_msg}}"),
        };
        ProgressStyle::with_template(&template).unwrap_or_else(|_| ProgressStyle::default_bar())
    }
}

impl Terminal {
    /// Prints with `print`, the bar (if drawn) cleared first and redrawn
    /// below the text.
    pub fn above(&self, print: impl FnOnce()) {
        match self.bar.get() {
            Some(bar) => bar.suspend(print),
            None => print(),
        }
    }
}

/// A command that fails half-way leaves no bar behind its error.
impl Drop for Terminal {
    fn drop(&mut self) {
        if let Some(bar) = self.bar.get() {
            bar.finish_and_clear();
        }
    }
}

/// [`Terminal::bounded`] before the first bound.
const UNSET: u8 = 2;

impl Progress for Terminal {
    fn say(&self, text: &str) {
        self.above(|| out!("{text}"));
    }

    fn warn(&self, warning: &Diagnostic) {
        self.above(|| super::print::warnings(std::slice::from_ref(warning)));
    }

    fn start(&self, bound: Option<u64>, done: u64) {
        if self.stoppable {
            // A second handler cannot be installed, which only matters to
            // tests running several sweeps.
            let _ = ctrlc::set_handler(|| STOP.store(true, Ordering::SeqCst));
        }
        let bar = self.bar.get_or_init(|| {
            if !shown() {
                return ProgressBar::hidden();
            }
            let bar = ProgressBar::new(0);
            if self.ticking {
                bar.enable_steady_tick(Duration::from_millis(200));
            }
            bar
        });
        self.bound(bound);
        bar.set_position(done);
    }

    fn bound(&self, bound: Option<u64>) {
        let Some(bar) = self.bar.get() else {
            return;
        };
        let kind = u8::from(bound.is_some());
        if self.bounded.swap(kind, Ordering::SeqCst) != kind {
            bar.set_style(self.style(bound));
        }
        if let Some(n) = bound {
            bar.set_length(n);
        }
    }

    fn doing(&self, what: &str) {
        if let Some(bar) = self.bar.get() {
            bar.set_message(super::print::printable(what).into_owned());
        }
    }

    fn point_done(&self) {
        if let Some(bar) = self.bar.get() {
            bar.inc(1);
        }
    }

    fn finish(&self) {
        if let Some(bar) = self.bar.get() {
            bar.finish_and_clear();
        }
    }
}

/// Whether progress is drawn: on a terminal (standard error), and not with
/// --quiet; logs and pipes stay clean.
fn shown() -> bool {
    std::io::stderr().is_terminal() && super::print::mode() != super::print::Mode::Quiet
}
