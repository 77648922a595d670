//! A real system on loopback: one server thread pinned to one core (a single
//! FCFS-like CPU, as ztsim's one-core station), driven by an open-loop load
//! generator pinned to another core, over real TCP and real rustls.
//!
//! `server.rs` is the server (an event loop over non-blocking sockets that
//! handles each request to completion: optional JWT verification and Rego
//! decision, then a calibrated CPU spin); `client.rs` the load generator
//! (Poisson arrivals sent on time, latency from the intended send time) and
//! the closed-loop probes that measure the loopback round trip and the
//! server's per-request and per-connection IO CPU; `link.rs` one connection
//! (plaintext or TLS) and the request framing; `spin.rs` the spin;
//! `pauses.rs` the probe of the cores' pauses.
//!
//! Every loop is bounded in count and time, only loopback addresses are used
//! (the server on 127.0.0.1, the load generator's connections from
//! 127.0.1.1-64), and every thread is joined before a call returns.

mod client;
mod link;
mod pauses;
mod server;
mod spin;

use std::path::Path;
use std::time::Duration;

pub use client::{Load, Phase, PhaseResult, Pool, Probe, probe, run_phase};
pub use pauses::{CorePauses, PAUSE_THRESHOLD_NS, probe_pauses};
pub use server::{Auth, Server, ServerSpec, Wake};
pub use spin::Spin;

use crate::{LabError, fail};

/// Held by each test that pins threads to cores: two such tests at once
/// would share a core, and one's spin would pause the other's server.
#[cfg(test)]
pub(crate) static PINNING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Cores this process may be pinned to (their ids, as `--server-core` and
/// `--client-core` name them).
pub fn cores() -> Vec<usize> {
    core_affinity::get_core_ids()
        .unwrap_or_default()
        .into_iter()
        .map(|c| c.id)
        .collect()
}

/// Pins the calling thread to `core`.
pub fn pin_current(core: usize) -> Result<(), LabError> {
    if core_affinity::set_for_current(core_affinity::CoreId { id: core }) {
        Ok(())
    } else {
        Err(LabError(format!("could not pin a thread to core {core}")))
    }
}

/// CPU time (ns) the thread whose `/proc/<pid>/task/<tid>` folder is `task`
/// has run, from its `schedstat` (nanosecond resolution, readable from any
/// thread of the process).
pub fn thread_cpu_ns(task: &Path) -> Result<u64, LabError> {
    let text = std::fs::read_to_string(task.join("schedstat"))
        .map_err(|e| fail(&format!("reading {}/schedstat", task.display()), e))?;
    text.split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| LabError(format!("unexpected schedstat: {text:?}")))
}

/// Time (ns) the hypervisor has kept `core` from running this machine's
/// work since boot: the `steal` column of its `/proc/stat` line. A phase
/// during which it grows was measured on a core that was not all ours.
pub fn steal_ns(core: usize) -> Result<u64, LabError> {
    core_stat_ns(core, &[STEAL])
}

/// Time (ns) `core` has spent handling hardware and software interrupts
/// since boot (the `irq` and `softirq` columns of `/proc/stat`): packet
/// processing that runs on the server's core beside, and ahead of, its
/// thread.
pub fn interrupts_ns(core: usize) -> Result<u64, LabError> {
    core_stat_ns(core, &[IRQ, SOFTIRQ])
}

/// Columns of a `/proc/stat` cpu line after its label.
const IRQ: usize = 5;
const SOFTIRQ: usize = 6;
const STEAL: usize = 7;

/// The sum of `columns` of `core`'s `/proc/stat` line, in clock ticks
/// turned into ns.
fn core_stat_ns(core: usize, columns: &[usize]) -> Result<u64, LabError> {
    let text = std::fs::read_to_string("/proc/stat").map_err(|e| fail("reading /proc/stat", e))?;
    let label = format!("cpu{core}");
    let line = text
        .lines()
        .find(|l| l.split_whitespace().next() == Some(label.as_str()))
        .ok_or_else(|| LabError(format!("no {label} line in /proc/stat")))?;
    let fields: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map_while(|v| v.parse().ok())
        .collect();
    let mut ticks = 0u64;
    for &c in columns {
        let v = fields.get(c).ok_or_else(|| {
            LabError(format!(
                "{label} in /proc/stat has no column {}: {line:?}",
                c + 1
            ))
        })?;
        ticks = ticks.saturating_add(*v);
    }
    // SAFETY: sysconf only reads a constant of the running system.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if hz <= 0 {
        return Err(LabError(
            "the clock tick rate (_SC_CLK_TCK) is unknown".into(),
        ));
    }
    Ok(ticks.saturating_mul(1_000_000_000 / hz as u64))
}

/// The calling thread's `/proc/<pid>/task/<tid>` folder.
pub(crate) fn own_task() -> Result<std::path::PathBuf, LabError> {
    let link = std::fs::read_link("/proc/thread-self").map_err(|e| fail("/proc/thread-self", e))?;
    Ok(Path::new("/proc").join(link))
}

/// Longest a server may run, whatever its caller does: a bound on its loop.
pub const SERVER_LIFETIME: Duration = Duration::from_secs(3600);
