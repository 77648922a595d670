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
//! (plaintext or TLS) and the request framing; `spin.rs` the spin.
//!
//! Every loop is bounded in count and time, only 127.0.0.1 is used, and every
//! thread is joined before a call returns.

mod client;
mod link;
mod server;
mod spin;

use std::path::Path;
use std::time::Duration;

pub use client::{Load, Phase, PhaseResult, Pool, Probe, probe, run_phase};
pub use server::{Auth, Server, ServerSpec};
pub use spin::Spin;

use crate::{LabError, fail};

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

/// The calling thread's `/proc/<pid>/task/<tid>` folder.
pub(crate) fn own_task() -> Result<std::path::PathBuf, LabError> {
    let link = std::fs::read_link("/proc/thread-self").map_err(|e| fail("/proc/thread-self", e))?;
    Ok(Path::new("/proc").join(link))
}

/// Longest a server may run, whatever its caller does: a bound on its loop.
pub const SERVER_LIFETIME: Duration = Duration::from_secs(3600);
