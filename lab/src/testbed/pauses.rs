//! Pauses of a core: a thread pinned to it reads the clock in a tight loop
//! and keeps every gap between two reads longer than a threshold. A gap is
//! time the thread did not run although it never yields: the hypervisor
//! running another guest on the core, the kernel's own work, an interrupt
//! storm. Timer ticks and ordinary interrupts take tens of microseconds and
//! are part of every measured CPU cost already; the threshold keeps them
//! out.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::pin_current;
use crate::LabError;

/// Shortest gap counted as a pause, ns: well above a timer tick's handling
/// (20-40 us on a virtual machine) and short beside the pauses that move a
/// p99 (milliseconds).
pub const PAUSE_THRESHOLD_NS: u64 = 100_000;

/// Most pauses kept per core: a core paused more often than that in one
/// probe is not one to measure on (and the memory stays bounded).
const MAX_PAUSES: usize = 100_000;

/// What one core's probe saw.
#[derive(Debug, Clone, Default)]
pub struct CorePauses {
    /// The core probed.
    pub core: usize,
    /// How long the probe ran, ns.
    pub span_ns: u64,
    /// Each pause's length, ns, ascending.
    pub pauses_ns: Vec<u64>,
}

impl CorePauses {
    /// Share of the probe's time the core was paused.
    pub fn paused_share(&self) -> f64 {
        self.pauses_ns.iter().sum::<u64>() as f64 / self.span_ns.max(1) as f64
    }
}

/// Probes every core of `cores` at once, each on a thread pinned to it,
/// for `span` (cut short when `stop` is set).
pub fn probe_pauses(
    cores: &[usize],
    span: Duration,
    stop: &AtomicBool,
) -> Result<Vec<CorePauses>, LabError> {
    std::thread::scope(|s| {
        let probes: Vec<_> = cores
            .iter()
            .map(|&core| s.spawn(move || probe_core(core, span, stop)))
            .collect();
        probes
            .into_iter()
            .map(|p| {
                p.join()
                    .map_err(|_| LabError("a pause probe thread panicked".into()))?
            })
            .collect()
    })
}

/// One core's probe, on the calling thread.
fn probe_core(core: usize, span: Duration, stop: &AtomicBool) -> Result<CorePauses, LabError> {
    pin_current(core)?;
    let start = Instant::now();
    let mut last = start;
    let mut pauses_ns = Vec::new();
    let mut reads: u64 = 0;
    loop {
        let now = Instant::now();
        let gap = (now - last).as_nanos() as u64;
        if gap >= PAUSE_THRESHOLD_NS && pauses_ns.len() < MAX_PAUSES {
            pauses_ns.push(gap);
        }
        last = now;
        reads += 1;
        // The stop flag and the end every few thousand reads: a read of
        // the clock takes tens of nanoseconds, so both are seen within
        // a fraction of a millisecond.
        if reads.is_multiple_of(4096) && (now - start >= span || stop.load(Ordering::Relaxed)) {
            break;
        }
    }
    pauses_ns.sort_unstable();
    Ok(CorePauses {
        core,
        span_ns: (last - start).as_nanos() as u64,
        pauses_ns,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_probe_ends_on_time_and_on_stop() {
        let _alone = super::super::PINNING.lock();
        let core = super::super::cores()[0];
        let stop = AtomicBool::new(false);
        let t = Instant::now();
        let p = probe_pauses(&[core], Duration::from_millis(50), &stop).unwrap();
        assert!(t.elapsed() < Duration::from_secs(2));
        assert_eq!(p.len(), 1);
        assert!(p[0].span_ns >= 50_000_000);
        assert!(p[0].pauses_ns.windows(2).all(|w| w[0] <= w[1]));
        assert!(p[0].pauses_ns.iter().all(|&g| g >= PAUSE_THRESHOLD_NS));
        // Stopped at once: a probe of an hour returns within a second.
        stop.store(true, Ordering::Relaxed);
        let t = Instant::now();
        probe_pauses(&[core], Duration::from_secs(3600), &stop).unwrap();
        assert!(t.elapsed() < Duration::from_secs(1));
    }
}
