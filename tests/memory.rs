//! Memory does not grow with replications already summarised (issue 13): a
//! finished replication keeps its figures, not its histograms. Measured as
//! the peak resident size of a real `ztsim run`, alone in this test binary so
//! that no other child process shares the peak the OS reports.

use std::process::Command;

/// The largest resident size (bytes) of any child this process has waited for.
#[cfg(target_os = "linux")]
fn children_peak_bytes() -> u64 {
    // SAFETY: getrusage writes into the zeroed struct we own and reads nothing else.
    let usage = unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        assert_eq!(libc::getrusage(libc::RUSAGE_CHILDREN, &mut u), 0);
        u
    };
    usage.ru_maxrss as u64 * 1024 // kilobytes on Linux
}

/// 3,000 replications of a two-service system: each replication's histograms
/// take about 0.45 MB, so keeping them (as every replication did before) peaks
/// above 1.3 GB; reduced as they finish, the run stays near the size of one.
#[cfg(target_os = "linux")]
#[test]
fn memory_does_not_grow_with_finished_replications() {
    let dir = std::env::temp_dir().join(format!("ztsim-memory-{}", std::process::id()));
    let status = Command::new(env!("CARGO_BIN_EXE_ztsim"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["run", "topologies/minimal.toml", "--replications", "3000"])
        .args(["--duration", "20ms", "--warmup", "0s", "--threads", "2"])
        .arg("--out")
        .arg(&dir)
        .output()
        .expect("ztsim runs");
    assert!(status.status.success(), "{status:?}");
    let summary = std::fs::read_to_string(dir.join("summary.json")).unwrap();
    assert!(summary.contains("\"replications\": 3000"), "{summary}");
    let _ = std::fs::remove_dir_all(&dir);
    let peak = children_peak_bytes();
    assert!(
        peak < 120 << 20,
        "peak resident size {} MB for 3,000 replications",
        peak >> 20
    );
}
