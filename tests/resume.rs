//! No lost work: a sweep saves each finished point as it completes; an
//! interrupted sweep (Ctrl-C, kill -9) keeps what finished and `--resume`
//! continues without recomputing it, ending with the same bytes as an
//! uninterrupted run. Existing results are never overwritten without --force.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use common::{root, scratch, ztsim};

fn tmp(name: &str) -> PathBuf {
    scratch("resume", name)
}

/// The chatty study on one thread: long enough (seconds) to interrupt.
fn sweep_args(out: &Path, extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = vec![
        "sweep".into(),
        root()
            .join("topologies/chatty.study.toml")
            .display()
            .to_string(),
        "--replications".into(),
        "2".into(),
        "--threads".into(),
        "1".into(),
        "--out".into(),
        out.display().to_string(),
    ];
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

fn spawn(args: &[String]) -> Child {
    common::spawn(None, args)
}

fn saved_points(out: &Path) -> usize {
    std::fs::read_dir(out.join("points"))
        .map(|d| {
            d.flatten()
                .filter(|e| e.file_name() != "manifest.json")
                .count()
        })
        .unwrap_or(0)
}

/// Waits until the running sweep has saved at least `n` points.
fn wait_for_points(out: &Path, n: usize, child: &mut Child) {
    let t0 = Instant::now();
    while saved_points(out) < n {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the sweep ended before it could be interrupted"
        );
        assert!(
            t0.elapsed() < Duration::from_secs(120),
            "no point saved in 120 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
}

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// A finished study of the default study's size (48 points of chatty,
/// here 2 replications where it has 3) keeps results.json within 2 MB and
/// its folder within 5 MB: compact JSON, replications written keys once,
/// and no second copy of the points (`ztsim bench --sweep` measures the
/// default study itself).
fn outputs_are_sized_for_people(dir: &Path) {
    let saved: Vec<_> = std::fs::read_dir(dir.join("points"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        saved,
        ["manifest.json"],
        "saved points kept beside results.json"
    );
    let json = std::fs::metadata(dir.join("results.json")).unwrap().len();
    let folder: u64 = std::fs::read_dir(dir)
        .unwrap()
        .chain(std::fs::read_dir(dir.join("points")).unwrap())
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    assert!(json <= 2_000_000, "results.json is {json} bytes");
    assert!(folder <= 5_000_000, "the folder is {folder} bytes");
}

#[test]
fn interrupted_sweeps_resume_to_the_same_results() {
    let dir = tmp("interrupt");
    let full = dir.join("full");
    let out = ztsim(&sweep_args(&full, &[]));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    outputs_are_sized_for_people(&full);

    // Ctrl-C: stops cleanly, flushes partial results, says how to resume.
    let part = dir.join("part");
    let mut child = spawn(&sweep_args(&part, &[]));
    wait_for_points(&part, 3, &mut child);
    signal(&child, "-INT");
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(
        err.contains("interrupted") && err.contains("--resume"),
        "{err}"
    );
    let saved = saved_points(&part);
    assert!((3..48).contains(&saved), "{saved} points saved");
    assert!(part.join("results.csv").is_file() && part.join("results.json").is_file());
    // The partial results say so, and so do the charts and report made of them.
    let json = String::from_utf8(read(&part.join("results.json"))).unwrap();
    assert!(json.contains("\"partial_of\":48"), "{json:.300}");
    let results = part.join("results.json");
    for (command, file) in [("plot", "latency-vs-load.svg"), ("report", "report.md")] {
        let to = dir.join(command);
        let out = ztsim(&[
            command,
            results.to_str().unwrap(),
            "--out",
            to.to_str().unwrap(),
        ]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{err}");
        let partial = format!("artial, {saved} of 48 points");
        assert!(
            err.contains("an interrupted sweep's results") && err.contains(&partial),
            "{err}"
        );
        let drawn = String::from_utf8(read(&to.join(file))).unwrap();
        assert!(drawn.contains(&partial), "{file}: {drawn:.600}");
    }
    let out = ztsim(&sweep_args(&part, &["--resume"]));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(&format!("{saved} reused")), "{stdout}");
    assert_eq!(
        read(&part.join("results.json")),
        read(&full.join("results.json"))
    );
    assert_eq!(
        read(&part.join("results.csv")),
        read(&full.join("results.csv"))
    );

    // kill -9: no handler runs, yet every finished point is on disk.
    let killed = dir.join("killed");
    let mut child = spawn(&sweep_args(&killed, &[]));
    wait_for_points(&killed, 2, &mut child);
    signal(&child, "-KILL");
    let _ = child.wait();
    let out = ztsim(&sweep_args(&killed, &["--resume"]));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        read(&killed.join("results.json")),
        read(&full.join("results.json"))
    );

    // Rerunning a finished study with --resume recomputes nothing and
    // changes nothing: its points, read back from results.json, write the
    // same results.json and results.csv.
    let before = read(&full.join("results.json"));
    let csv = read(&full.join("results.csv"));
    let out = ztsim(&sweep_args(&full, &["--resume"]));
    assert!(String::from_utf8_lossy(&out.stdout).contains("0 points computed, 48 reused"));
    assert_eq!(read(&full.join("results.json")), before);
    assert_eq!(read(&full.join("results.csv")), csv);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn existing_results_are_kept_unless_forced() {
    let dir = tmp("keep");
    let out_dir = dir.join("s");
    let quick = |extra: &[&str]| {
        let mut a = vec![
            "sweep".to_string(),
            "--topology".into(),
            root().join("topologies/minimal.toml").display().to_string(),
            "-m".into(),
            root().join("models/plaintext.toml").display().to_string(),
            "--rate".into(),
            "100".into(),
            "--duration".into(),
            "0.5s".into(),
            "--out".into(),
            out_dir.display().to_string(),
        ];
        a.extend(extra.iter().map(|s| s.to_string()));
        ztsim(&a)
    };
    assert!(quick(&[]).status.success());
    let first = read(&out_dir.join("results.json"));
    // Again without --force: the folder named with --out is refused, not
    // replaced by another beside it; the old one untouched.
    let out = quick(&["--seed", "2"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already holds results"));
    assert_eq!(read(&out_dir.join("results.json")), first);
    assert!(!dir.join("s-2").exists());
    // --resume into a folder of a different study is refused.
    let out = quick(&["--seed", "3", "--resume"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("different study"));
    // --force replaces it.
    assert!(quick(&["--seed", "3", "--force"]).status.success());
    assert_ne!(read(&out_dir.join("results.json")), first);
    let _ = std::fs::remove_dir_all(&dir);
}
