//! Two real ztsim processes against one output folder (issue 13): nothing
//! is lost, nothing fails spuriously, a second run is refused naming the
//! first (or waits for it with --wait), and a killed run leaves no lock.

mod common;

use std::path::Path;
use std::process::{Child, Output};
use std::time::Duration;

use common::{Run, root, scratch, spawn};

fn minimal() -> String {
    root()
        .join("topologies/minimal.toml")
        .to_string_lossy()
        .into_owned()
}

/// A sweep of `rates` loads, each run 0.3 s of simulated time: a fraction
/// of a second.
fn sweep_args(rates: &str, name: &str, extra: &[&str]) -> Vec<String> {
    sweep_for(rates, "0.3s", name, extra)
}

fn sweep_for(rates: &str, duration: &str, name: &str, extra: &[&str]) -> Vec<String> {
    let mut a: Vec<String> = [
        "sweep",
        "--topology",
        &minimal(),
        "-m",
        concat!(env!("CARGO_MANIFEST_DIR"), "/models/plaintext.toml"),
        "--rate",
        rates,
        "--duration",
        duration,
        "--warmup",
        "0s",
        "--replications",
        "2",
        "--threads",
        "1",
        "--name",
        name,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

fn both(dir: &Path, a: &[String], b: &[String]) -> (Run, Run) {
    let (x, y): (Child, Child) = (spawn(Some(dir), a), spawn(Some(dir), b));
    let done = |c: Child| -> Run {
        let o: Output = c.wait_with_output().unwrap();
        o.into()
    };
    (done(x), done(y))
}

/// The study name in a folder's results.json.
fn study_of(dir: &Path) -> String {
    let text = std::fs::read_to_string(dir.join("results.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["name"].as_str().unwrap_or_default().to_string()
}

#[test]
fn two_sweeps_into_the_default_folder_both_keep_their_results() {
    for round in 0..6 {
        let dir = scratch("concurrency", &format!("default-{round}"));
        let a = sweep_args("100,200", "ds", &[]);
        let (x, y) = both(&dir, &a, &a);
        x.expect_code(0);
        y.expect_code(0);
        // Each says where it wrote, and they wrote to different folders.
        let wrote = |r: &Run| {
            r.stdout
                .lines()
                .find(|l| l.starts_with("wrote "))
                .map(|l| l.split('/').take(2).collect::<Vec<_>>().join("/"))
                .unwrap()
        };
        assert_ne!(wrote(&x), wrote(&y), "round {round}");
        for d in ["output/ds", "output/ds-2"] {
            assert_eq!(study_of(&dir.join(d)), "ds", "round {round}: {d}");
            assert!(!dir.join(d).join(".ztsim-lock").exists());
        }
    }
}

#[test]
fn a_second_forced_run_is_refused_naming_the_first_or_waits_with_wait() {
    for round in 0..4 {
        let dir = scratch("concurrency", &format!("force-{round}"));
        let a = sweep_args("100,200,300", "one", &["--out", "shared", "--force"]);
        let b = sweep_args("100,200,300", "two", &["--out", "shared", "--force"]);
        let (x, y) = both(&dir, &a, &b);
        // Never a failure, never a silent loss: each either finished or was
        // refused with exit 2 naming the holder.
        for r in [&x, &y] {
            assert!(
                r.code == Some(0) || r.code == Some(2),
                "round {round}: {}",
                r.show()
            );
            if r.code == Some(2) {
                assert!(
                    r.stderr.contains("in use by another ztsim run"),
                    "{}",
                    r.show()
                );
                assert!(r.stderr.contains("pid "), "{}", r.show());
                assert!(r.stderr.contains("--wait"), "{}", r.show());
            }
        }
        // The folder holds one whole study: results and saved points agree.
        let manifest = std::fs::read_to_string(dir.join("shared/points/manifest.json")).unwrap();
        let name = study_of(&dir.join("shared"));
        assert!(
            manifest.contains(&format!("\"{name}\"")),
            "round {round}: {manifest}"
        );

        // With --wait both finish, one after the other.
        let dir = scratch("concurrency", &format!("wait-{round}"));
        let a = sweep_args(
            "100,200,300",
            "one",
            &["--out", "shared", "--force", "--wait"],
        );
        let b = sweep_args(
            "100,200,300",
            "two",
            &["--out", "shared", "--force", "--wait"],
        );
        let (x, y) = both(&dir, &a, &b);
        x.expect_code(0);
        y.expect_code(0);
    }
}

#[test]
fn two_resumes_of_one_study_never_fail_spuriously() {
    let dir = scratch("concurrency", "resume");
    let a = sweep_args("100,200", "r", &["--out", "r"]);
    Run::from(common::ztsim_in(&dir, &a)).expect_code(0);
    for round in 0..6 {
        let a = sweep_args("100,200", "r", &["--out", "r", "--resume"]);
        let (x, y) = both(&dir, &a, &a);
        for r in [&x, &y] {
            assert!(
                r.code == Some(0) || r.code == Some(2),
                "round {round}: {}",
                r.show()
            );
        }
        assert!(x.code == Some(0) || y.code == Some(0), "round {round}");
        assert_eq!(study_of(&dir.join("r")), "r");
    }
}

#[test]
fn a_killed_run_leaves_no_stale_lock() {
    let dir = scratch("concurrency", "kill");
    // Minutes of simulated time at high load: seconds of work to kill.
    let long = sweep_for("1000,2000", "600s", "k", &["--out", "k"]);
    let mut child = spawn(Some(&dir), &long);
    // Wait until it holds the folder, then kill it outright.
    for _ in 0..200 {
        if dir.join("k/.ztsim-lock").exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        dir.join("k/.ztsim-lock").exists(),
        "the run never locked its folder"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    let a = sweep_args("100", "k2", &["--out", "k", "--force"]);
    Run::from(common::ztsim_in(&dir, &a)).expect_code(0);
    assert_eq!(study_of(&dir.join("k")), "k2");
}

#[test]
fn a_folder_inside_or_around_a_running_one_is_refused_and_nothing_removed() {
    let dir = scratch("concurrency", "nested");
    // Minutes of simulated time: it holds `outer/points` while we try.
    let long = sweep_for("1000,2000", "600s", "k", &["--out", "outer/points"]);
    let mut child = spawn(Some(&dir), &long);
    let store = dir.join("outer/points/points/manifest.json");
    for _ in 0..500 {
        if store.exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(store.exists(), "the long sweep never started its store");
    // Around it: a forced sweep would remove the running sweep's points.
    let around = sweep_args("100", "a", &["--out", "outer", "--force"]);
    let r = Run::from(common::ztsim_in(&dir, &around));
    r.expect_code(2);
    assert!(r.stderr.contains("contains"), "{}", r.show());
    assert!(r.stderr.contains("pid "), "{}", r.show());
    assert!(store.exists(), "the running sweep's store was removed");
    // Inside it: a run's files would land among the sweep's.
    let t = minimal();
    let inside = [
        "run",
        &t,
        "--duration",
        "0.2s",
        "--out",
        "outer/points/points",
        "--force",
    ];
    let r = Run::from(common::ztsim_in(&dir, &inside));
    r.expect_code(2);
    assert!(r.stderr.contains("is inside"), "{}", r.show());
    assert!(!dir.join("outer/points/points/summary.json").exists());
    child.kill().unwrap();
    child.wait().unwrap();
    // A killed run's lock file below is no lock: the folder is free.
    Run::from(common::ztsim_in(&dir, &around)).expect_code(0);
}
