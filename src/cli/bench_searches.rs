//! `ztsim bench --searches`: the time users wait for the searches, each run
//! as the command a user types (a child process of this binary, on
//! `topologies/chatty.toml`), wall clock and CPU, against their targets.
//! Run from the repository's root; outputs go to a scratch folder that is
//! removed afterwards.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use super::failure::{Failure, flag_error};

/// One timed command: what it is, its arguments after `ztsim`, and the
/// wall-clock time it should take at most on a quiet 2-core machine.
struct Search {
    what: &'static str,
    args: &'static [&'static str],
    target_s: f64,
}

const SEARCHES: [Search; 3] = [
    Search {
        what: "capacity search, two designs and plaintext, p99 <= 50 ms",
        args: &[
            "capacity",
            "topologies/chatty.toml",
            "-m",
            "models/naive-mtls.toml",
            "-m",
            "models/grpc-mtls-local-policy.toml",
            "--slo",
            "p99=50ms",
        ],
        target_s: 5.0,
    },
    Search {
        what: "sensitivity of istio-sidecar at 150 rps",
        args: &[
            "sensitivity",
            "topologies/chatty.toml",
            "-m",
            "models/istio-sidecar.toml",
            "--rate",
            "150",
        ],
        target_s: 5.0,
    },
    Search {
        what: "sizing of naive-mtls for 1000 rps, p99 <= 150 ms",
        args: &[
            "capacity",
            "topologies/chatty.toml",
            "-m",
            "models/naive-mtls.toml",
            "--slo",
            "p99=150ms",
            "--target-rate",
            "1000",
        ],
        target_s: 45.0,
    },
];

/// CPU seconds (user and system) of the children waited for so far.
fn children_cpu_s() -> f64 {
    // SAFETY: getrusage writes into the zeroed struct we hand it and reads
    // nothing else.
    let usage = unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        if libc::getrusage(libc::RUSAGE_CHILDREN, &mut u) != 0 {
            return f64::NAN;
        }
        u
    };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}

/// Runs and times every search; bad input (exit 2) when the files are not
/// where a repository checkout has them, an error if a search fails.
pub(super) fn searches() -> Result<(), Failure> {
    if !Path::new("topologies/chatty.toml").is_file() {
        return Err(flag_error(
            "--searches",
            "it runs topologies/chatty.toml and models/*.toml, not found here: run it from the repository's root",
        ));
    }
    let exe = std::env::current_exe().map_err(|e| Failure::Other(e.to_string()))?;
    let scratch = std::env::temp_dir().join(format!("ztsim-bench-searches-{}", std::process::id()));
    outln!("searches on chatty, each the command a user types (wall clock; CPU of the process)");
    let mut result = Ok(());
    for (i, s) in SEARCHES.iter().enumerate() {
        let out = scratch.join(i.to_string());
        let (cpu0, t0) = (children_cpu_s(), Instant::now());
        let status = Command::new(&exe)
            .args(s.args)
            .arg("--out")
            .arg(&out)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .map_err(|e| Failure::Other(e.to_string()))?;
        let (wall, cpu) = (t0.elapsed().as_secs_f64(), children_cpu_s() - cpu0);
        if !status.status.success() {
            result = Err(Failure::Other(format!(
                "`ztsim {}` failed: {}",
                s.args.join(" "),
                String::from_utf8_lossy(&status.stderr).trim()
            )));
            break;
        }
        outln!(
            "  {:<58} {wall:>7.1} s   CPU {cpu:>7.1} s   target <= {} s: {}",
            s.what,
            s.target_s,
            if wall <= s.target_s { "met" } else { "not met" }
        );
    }
    let _ = std::fs::remove_dir_all(&scratch);
    result
}
