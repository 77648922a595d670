//! The same flags on every command (issue 17, command line item 7):
//! `--requests` on `sweep` and `sensitivity` as on `run`, several `-m` on
//! `run`. The help texts of shared flags are checked against each other in
//! `src/main.rs` (`shared_flags_read_the_same_in_every_command`).
//!
//! Every command runs in a fresh temporary folder on tiny workloads.

mod common;

use std::path::Path;

use common::{Run, TempDir, root};
use serde_json::Value;

/// One service, one endpoint of a constant 1 ms of CPU on one core, no
/// network, measured for a duration (so a request count visibly replaces it).
const TIMED: &str = "name = \"timed\"\n[zones.z]\nrtt = \"0ns\"\n\
    [services.s]\nendpoints.e.cpu = \"1ms\"\n\
    [workload]\narrivals = \"poisson\"\nrate = 100\nduration = \"1s\"\nwarmup = \"0s\"\n\
    replications = 2\nentry = [{ endpoint = \"s.e\" }]\n";

fn file(rel: &str) -> String {
    root().join(rel).display().to_string()
}

fn ztsim_in(dir: &Path, args: &[&str]) -> Run {
    Run::from(common::ztsim_in(dir, args))
}

fn timed(dir: &Path) -> String {
    let path = dir.join("timed.toml");
    std::fs::write(&path, TIMED).unwrap();
    path.display().to_string()
}

/// A design of constant costs (mutual TLS, a connection per call).
fn mtls(dir: &Path) -> String {
    let path = dir.join("mtls.toml");
    std::fs::write(&path, common::MTLS).unwrap();
    path.display().to_string()
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

// ---------------------------------------------------------------------------
// --requests on sweep and sensitivity

/// Each replication's measured requests, exactly `n`: the mean over
/// replications is `n` and the interval has no width.
#[track_caller]
fn exactly(requests: &Value, n: u64) {
    assert_eq!(requests["mean"].as_f64(), Some(n as f64), "{requests}");
    assert_eq!(requests["ci95"].as_f64(), Some(0.0), "{requests}");
}

#[test]
fn sweep_requests_measures_that_many_requests_at_every_point() {
    let dir = TempDir::new("sweep-requests");
    let t = timed(dir.path());
    let mtls = mtls(dir.path());
    let r = ztsim_in(
        dir.path(),
        &[
            "sweep",
            "--topology",
            &t,
            "-m",
            &mtls,
            "--rate",
            "50,100",
            "--requests",
            "200",
            "--out",
            "s",
            "--quiet",
        ],
    );
    r.expect_code(0);
    let results = json(&dir.path().join("s/results.json"));
    let points = results["points"].as_array().unwrap();
    assert_eq!(points.len(), 2);
    for p in points {
        let s = &p["summary"];
        assert_eq!(s["workload"]["requests"], 200, "{}", s["workload"]);
        assert_eq!(s["workload"]["duration_s"], Value::Null);
        exactly(&s["requests"]["requests"], 200);
    }
    // The report's setup says what ran.
    assert_eq!(results["setup"]["requests"], 200);
    assert_eq!(results["setup"]["duration_s"], Value::Null);
    let md = std::fs::read_to_string(dir.path().join("s/report.md")).unwrap();
    assert!(
        md.contains("Each replication measures 200 requests after a warm-up"),
        "{md}"
    );
}

#[test]
fn sensitivity_requests_measures_that_many_requests_in_every_run() {
    let dir = TempDir::new("sensitivity-requests");
    let t = timed(dir.path());
    let mtls = mtls(dir.path());
    let r = ztsim_in(
        dir.path(),
        &[
            "sensitivity",
            &t,
            "-m",
            &mtls,
            "--param",
            "services.s.cores=1,2",
            "--requests",
            "150",
            "--out",
            "a",
            "--quiet",
        ],
    );
    r.expect_code(0);
    let s = json(&dir.path().join("a/sensitivity.json"));
    assert_eq!(s["requests"], 150, "{s}");
    assert_eq!(s["duration_s"], Value::Null);
    // Without --requests the file has no `requests` key (unchanged bytes).
    let r = ztsim_in(
        dir.path(),
        &[
            "sensitivity",
            &t,
            "-m",
            &mtls,
            "--param",
            "services.s.cores=1,2",
            "--out",
            "b",
            "--quiet",
        ],
    );
    r.expect_code(0);
    let s = json(&dir.path().join("b/sensitivity.json"));
    assert!(s.get("requests").is_none(), "{s}");
    assert_eq!(s["duration_s"], 1.0);
}

#[test]
fn bad_requests_exit_2_with_the_flag_named() {
    let dir = TempDir::new("bad-requests");
    let t = timed(dir.path());
    let mtls = file("models/naive-mtls.toml");
    let day = file("topologies/chatty-24h.toml");
    for command in ["sweep", "sensitivity", "run"] {
        let topology: &[&str] = if command == "sweep" {
            &["--topology", &t]
        } else {
            &[&t]
        };
        for (bad, says) in [
            (
                &["--requests", "0"][..],
                "a request count is a whole number from 1",
            ),
            (&["--requests", "-5"][..], "got `-5`"),
            (&["--requests", "many"][..], "got `many`"),
            (
                &["--requests", "10", "--duration", "2s"][..],
                "cannot be used with",
            ),
        ] {
            let mut args = vec![command];
            args.extend(topology);
            args.extend(["-m", &mtls, "--out", "x"]);
            args.extend(bad);
            let r = ztsim_in(dir.path(), &args);
            r.expect_code(2);
            assert!(r.stderr.contains("--requests"), "{args:?}\n{}", r.show());
            assert!(r.stderr.contains(says), "{args:?}\n{}", r.show());
            assert!(!dir.path().join("x").exists(), "{args:?} wrote results");
        }
    }
    // A rate profile is a mean over a span of time: it needs a duration.
    for args in [
        vec![
            "sweep",
            "--topology",
            &day,
            "-m",
            &mtls,
            "--requests",
            "100",
        ],
        vec!["sensitivity", &day, "-m", &mtls, "--requests", "100"],
    ] {
        let r = ztsim_in(dir.path(), &args);
        r.expect_code(2);
        assert!(
            r.stderr.contains("--requests") && r.stderr.contains("give --duration instead"),
            "{args:?}\n{}",
            r.show()
        );
    }
}

// ---------------------------------------------------------------------------
// several designs on `run`

/// Plaintext under another name, so that it is a design of its own and not
/// the baseline (same costs: every figure equal to the baseline's).
const PLAIN_TOO: &str = "name = \"plain-too\"\n";

#[test]
fn run_with_several_designs_compares_them_on_the_same_seeds() {
    let dir = TempDir::new("run-several");
    let t = timed(dir.path());
    let mtls = mtls(dir.path());
    let too = dir.path().join("plain-too.toml");
    std::fs::write(&too, PLAIN_TOO).unwrap();
    let too = too.display().to_string();
    let r = ztsim_in(dir.path(), &["run", &t, "-m", &mtls, "-m", &too, "--json"]);
    r.expect_code(0);
    let d: Value = serde_json::from_str(&r.stdout).expect("one JSON document");
    assert_eq!(d["command"], "run");
    assert_eq!(d["folder"], "output/runs/timed-mtls-plain-too");
    let designs = d["designs"].as_array().unwrap();
    let names: Vec<&str> = designs
        .iter()
        .map(|x| x["design"].as_str().unwrap())
        .collect();
    // The designs in the order given, the baseline last.
    assert_eq!(names, ["mtls", "plain-too", "plaintext"]);
    let baseline: Vec<bool> = designs
        .iter()
        .map(|x| x["baseline"].as_bool().unwrap())
        .collect();
    assert_eq!(baseline, [false, false, true]);
    for x in designs {
        // Each design's files in a folder of its own, the summary as written.
        let folder = dir.path().join(x["folder"].as_str().unwrap());
        assert_eq!(x["summary"], json(&folder.join("summary.json")));
        for f in ["latency.csv", "timeseries.csv"] {
            assert!(folder.join(f).is_file(), "{}", folder.join(f).display());
        }
        // Common random numbers: one seed, the same arrivals.
        assert_eq!(
            x["summary"]["workload"]["seed"],
            designs[2]["summary"]["workload"]["seed"]
        );
        assert_eq!(
            x["summary"]["throughput"]["offered_rps"],
            designs[2]["summary"]["throughput"]["offered_rps"]
        );
    }
    assert_eq!(d["files"].as_array().unwrap().len(), 9);
    // A design with plaintext's costs measures exactly what the baseline does.
    assert_eq!(
        designs[1]["summary"]["requests"],
        designs[2]["summary"]["requests"]
    );
    // mtls pays handshakes on every call: its p99 is above the baseline's.
    let p99 = |i: usize| {
        designs[i]["summary"]["requests"]["latency_ms"]["p99"]["mean"]
            .as_f64()
            .unwrap()
    };
    assert!(p99(0) > p99(2), "{} <= {}", p99(0), p99(2));
    // The comparison table (on stderr with --json), one row per design.
    let header = r
        .stderr
        .lines()
        .find(|l| l.starts_with("design "))
        .unwrap_or_else(|| panic!("no comparison table\n{}", r.show()));
    for col in [
        "p50 ms",
        "p99 ms",
        "mean ms",
        "throughput rps",
        "CPU ms/request",
        "added p99 ms",
    ] {
        assert!(header.contains(col), "{header}");
    }
    let row = |name: &str| {
        r.stderr
            .lines()
            .find(|l| l.starts_with(name) && l.contains("  "))
            .unwrap_or_else(|| panic!("no row {name}\n{}", r.show()))
            .to_string()
    };
    assert!(
        row("plaintext (baseline)").ends_with("-             -"),
        "{}",
        row("plaintext")
    );
    assert!(
        row("plain-too").ends_with("+0.00         +0.00"),
        "{}",
        row("plain-too")
    );
    assert!(
        r.stderr
            .contains("mtls against the plaintext baseline (same seeds)")
    );
}

#[test]
fn run_with_several_designs_no_baseline_gate_and_out() {
    let dir = TempDir::new("run-several-flags");
    let t = timed(dir.path());
    let mtls = mtls(dir.path());
    let too = dir.path().join("plain-too.toml");
    std::fs::write(&too, PLAIN_TOO).unwrap();
    let too = too.display().to_string();
    let args = [
        "run",
        &t,
        "-m",
        &mtls,
        "-m",
        &too,
        "--out",
        "o",
        "--no-baseline",
    ];
    let r = ztsim_in(dir.path(), &args);
    r.expect_code(0);
    let mut folders: Vec<String> = std::fs::read_dir(dir.path().join("o"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    folders.sort();
    assert_eq!(folders, ["mtls", "plain-too"]);
    assert!(!r.stdout.contains("(baseline)"), "{}", r.show());
    // The same --out again: refused, results kept.
    let before = std::fs::read(dir.path().join("o/mtls/summary.json")).unwrap();
    let again = ztsim_in(dir.path(), &args);
    again.expect_code(2);
    assert!(again.stderr.contains("--force"), "{}", again.show());
    assert_eq!(
        std::fs::read(dir.path().join("o/mtls/summary.json")).unwrap(),
        before
    );
    // A design that misses the SLO fails the gate, after writing.
    let r = ztsim_in(
        dir.path(),
        &[
            "run",
            &t,
            "-m",
            &mtls,
            "-m",
            &too,
            "--out",
            "g",
            "--slo",
            "mean=0.5ms",
            "--fail-on-slo",
        ],
    );
    r.expect_code(3);
    assert!(
        r.stderr
            .contains("design `mtls`: SLO mean <= 500 us missed"),
        "{}",
        r.show()
    );
    assert!(dir.path().join("g/mtls/summary.json").is_file());
}

#[test]
fn run_with_one_design_twice_is_the_one_design_run() {
    let dir = TempDir::new("run-one-twice");
    let t = timed(dir.path());
    let mtls = mtls(dir.path());
    let r = ztsim_in(
        dir.path(),
        &["run", &t, "-m", &mtls, "-m", &mtls, "--quiet"],
    );
    r.expect_code(0);
    // Today's folder and files, no folder per design.
    let d = dir.path().join("output/runs/timed-mtls");
    assert!(d.join("summary.json").is_file());
    assert!(!d.join("mtls").exists());
    // Two different designs of one name would share a folder: refused.
    let other = dir.path().join("other.toml");
    std::fs::write(
        &other,
        "name = \"mtls\"\n[connections]\nreuse = \"per-request\"\n",
    )
    .unwrap();
    let other = other.display().to_string();
    let r = ztsim_in(
        dir.path(),
        &["run", &t, "-m", &mtls, "-m", &other, "--out", "n"],
    );
    r.expect_code(2);
    assert!(
        r.stderr.contains("two different designs are named `mtls`"),
        "{}",
        r.show()
    );
    assert!(!dir.path().join("n").exists());
}
