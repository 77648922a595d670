//! The terminal side of a study run: its lines printed, a progress bar when
//! stderr is a terminal (nothing otherwise, so logs stay clean), and Ctrl-C
//! or SIGTERM turned into a clean stop.

use std::io::IsTerminal;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use ztsim::study::folder::Progress;

/// Set by Ctrl-C (or SIGTERM): no new point starts.
pub static STOP: AtomicBool = AtomicBool::new(false);

/// This process's command line, `ztsim` first.
pub fn command_line() -> Vec<String> {
    std::env::args()
        .enumerate()
        .map(|(i, a)| if i == 0 { "ztsim".to_string() } else { a })
        .collect()
}

/// A study run shown on the terminal.
#[derive(Default)]
pub struct Terminal {
    bar: OnceLock<ProgressBar>,
}

impl Progress for Terminal {
    fn say(&self, text: &str) {
        out!("{text}");
    }

    fn warn(&self, text: &str) {
        errln!("{}", text.trim_end());
    }

    fn start(&self, total: u64, done: u64) {
        // Ctrl-C and SIGTERM stop the sweep cleanly; a second handler cannot
        // be installed, which only matters to tests running several sweeps.
        let _ = ctrlc::set_handler(|| STOP.store(true, Ordering::SeqCst));
        let bar = self.bar.get_or_init(|| progress(total));
        bar.inc(done);
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

/// A progress bar on a terminal; nothing otherwise (logs stay clean), nor
/// with --quiet.
fn progress(points: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() || super::print::mode() == super::print::Mode::Quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(points);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} points, {elapsed} elapsed, ETA {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}
