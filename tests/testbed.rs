//! `ztsim testbed`: the loopback testbed's quick run end to end (it runs, its
//! CSV is well-formed with finite errors, the chart and the model files are
//! written), its refusals of bad flags, and a clean stop on Ctrl-C. The
//! accuracy targets are reported by the full run, never asserted here: this
//! machine's load decides them.
#![cfg(feature = "lab")]

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::{Run, TempDir};

const HEADER: &str = "design,rate_rps,metric,measured,predicted,rel_error";
const METRICS: [&str; 6] = [
    "p50_ms",
    "p90_ms",
    "p99_ms",
    "mean_ms",
    "throughput_rps",
    "cpu_util",
];

fn two_cores() -> bool {
    std::thread::available_parallelism().is_ok_and(|n| n.get() >= 2)
}

#[test]
fn quick_testbed_writes_a_well_formed_csv_the_chart_and_the_model() {
    let dir = TempDir::new("testbed");
    let r = Run::from(common::ztsim_in(dir.path(), &["testbed", "--quick"]));
    if !two_cores() {
        // One core: the load generator has nowhere to go, and says so.
        r.expect_code(2);
        assert!(r.stderr.contains("--client-core"), "{}", r.show());
        return;
    }
    r.expect_code(0);
    // Each design's verdict, and the same with the CPU each rate spent.
    let given: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.contains("given each rate's measured server CPU: worst mean"))
        .collect();
    assert_eq!(given.len(), 2, "{}", r.show());
    // Both cores probed for pauses, and what was seen said.
    assert!(
        r.stdout
            .contains("cores' pauses of 100 us or more over 1 s")
            && r.stdout.contains("core 0: ")
            && r.stdout.contains("core 1: "),
        "{}",
        r.show()
    );
    assert!(
        given
            .iter()
            .all(|l| !l.contains("NaN") && !l.contains("inf")),
        "{}",
        r.show()
    );
    let out = dir.path().join("output/testbed");
    let csv = std::fs::read_to_string(out.join("testbed.csv")).expect("testbed.csv");
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some(HEADER));
    // (design, rate) -> metrics seen.
    let mut seen: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f.len(), 6, "{line}");
        let nums: Vec<f64> = f[3..]
            .iter()
            .map(|v| v.parse::<f64>().unwrap_or_else(|_| panic!("{line}")))
            .collect();
        assert!(nums.iter().all(|v| v.is_finite()), "not finite: {line}");
        let rate: f64 = f[1].parse().expect("rate");
        assert!(rate > 0.0, "{line}");
        if f[2] == "knee_rps" {
            assert!(nums[0] > 0.0 && nums[1] > 0.0, "{line}");
            continue;
        }
        let err = (nums[1] - nums[0]) / nums[0];
        assert!(
            (err - nums[2]).abs() < 1e-9,
            "rel_error is not (p - m) / m: {line}"
        );
        seen.entry((f[0].to_string(), f[1].to_string()))
            .or_default()
            .push(f[2].to_string());
    }
    let designs: Vec<&str> = {
        let mut d: Vec<&str> = seen.keys().map(|k| k.0.as_str()).collect();
        d.dedup();
        d
    };
    assert_eq!(designs, ["plain-ka", "tls13-full"], "{csv}");
    for ((design, rate), metrics) in &seen {
        assert_eq!(metrics, &METRICS, "{design} at {rate}");
    }
    assert_eq!(seen.len(), 6, "two designs at three rates each:\n{csv}");
    // Each rate's notes say what the load generator's core showed.
    let txt = std::fs::read_to_string(out.join("testbed.txt")).expect("testbed.txt");
    assert_eq!(txt.matches("in its idle turns").count(), 6, "{txt}");
    // And how the server's core woke: each rate's idle waits, and in the
    // calibration the time from a send to the server running, awake.
    assert_eq!(
        txt.matches("idle waits of the server ended by a send")
            .count(),
        6,
        "{txt}"
    );
    assert!(txt.contains("us after a send awake"), "{txt}");
    let svg = std::fs::read_to_string(out.join("testbed.svg")).expect("testbed.svg");
    assert!(svg.contains("<svg"), "not an SVG");
    let png = std::fs::read(out.join("testbed.png")).expect("testbed.png");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    for f in [
        "model/plain-ka.topology.toml",
        "model/plain-ka.toml",
        "model/tls13-full.topology.toml",
        "model/tls13-full.toml",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    // The model files are ordinary ztsim input.
    let check = Run::from(common::ztsim_in(
        dir.path(),
        &[
            "validate",
            "output/testbed/model/tls13-full.toml",
            "output/testbed/model/tls13-full.topology.toml",
        ],
    ));
    check.expect_code(0);
}

#[track_caller]
fn refused(args: &[&str], flag: &str, also: &str) {
    let dir = TempDir::new("testbed-bad");
    let r = Run::from(common::ztsim_in(dir.path(), args));
    r.expect_code(2);
    assert!(
        r.stderr.contains(flag) && r.stderr.contains(also),
        "{}",
        r.show()
    );
    assert!(!dir.path().join("output").exists(), "wrote output");
}

#[test]
fn bad_flags_exit_2_naming_the_flag() {
    refused(
        &["testbed", "--server-core", "4096"],
        "--server-core",
        "core 4096 does not exist",
    );
    refused(
        &["testbed", "--client-core", "4096"],
        "--client-core",
        "core 4096 does not exist",
    );
    refused(
        &["testbed", "--designs", "tls13-full,tls14-full"],
        "--designs",
        "tls14-full",
    );
    refused(&["testbed", "--rates", "100,-5"], "--rates", "-5");
    refused(&["testbed", "--rates", "0"], "--rates", "greater than 0");
    refused(
        &["testbed", "--handler-cpu", "1h"],
        "--handler-cpu",
        "100ms",
    );
    refused(&["testbed", "--timeout", "0s"], "--timeout", "above zero");
    refused(
        &["testbed", "--pause-probe", "10m"],
        "--pause-probe",
        "at most 120s",
    );
    refused(&["testbed", "--pause-probe", "1"], "--pause-probe", "unit");
    if two_cores() {
        refused(
            &["testbed", "--server-core", "1", "--client-core", "1"],
            "--client-core",
            "must differ",
        );
    }
}

#[test]
fn ctrl_c_stops_the_testbed_with_exit_130() {
    if !two_cores() {
        return;
    }
    let dir = TempDir::new("testbed-int");
    let mut child = common::spawn(
        Some(dir.path()),
        &["testbed", "--designs", "plain-ka", "--duration", "60s"],
    );
    // Past the calibration, into the first rate's 60 s window.
    std::thread::sleep(Duration::from_secs(12));
    let pid = child.id().to_string();
    let sent = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill");
    assert!(sent.success());
    let t = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "still running 20 s after Ctrl-C"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(130));
    assert!(!dir.path().join("output/testbed/testbed.csv").exists());
}
