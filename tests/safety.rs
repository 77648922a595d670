//! Outputs that are safe to share: names from input files never leave the
//! output folder, never overwrite results silently, and are escaped in SVG
//! and quoted in CSV; runs that would explode are refused with their figure.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{root, scratch, ztsim_in};

fn tmp(name: &str) -> PathBuf {
    scratch("safety", name)
}

fn ztsim(dir: &Path, args: &[&str]) -> Output {
    ztsim_in(dir, args)
}

/// A topology and design whose names try to climb out and inject markup.
fn hostile(dir: &Path) -> (PathBuf, PathBuf) {
    let topo = std::fs::read_to_string(root().join("topologies/minimal.toml"))
        .unwrap()
        .replace("name = \"minimal\"", "name = \"../../escape\"");
    let t = dir.join("t.toml");
    std::fs::write(&t, topo).unwrap();
    let d = dir.join("d.toml");
    std::fs::write(
        &d,
        "name = \"<script>alert(1)</script>, \\\"quoted\\\"\"\n[transport]\nsecurity = \"tls\"\n",
    )
    .unwrap();
    (t, d)
}

#[test]
fn names_never_leave_the_output_folder() {
    let dir = tmp("paths");
    let (t, d) = hostile(&dir);
    let out = ztsim(
        &dir,
        &[
            "run",
            t.to_str().unwrap(),
            "--duration",
            "0.5s",
            "--warmup",
            "0s",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = ztsim(
        &dir,
        &[
            "sweep",
            "--topology",
            t.to_str().unwrap(),
            "-m",
            d.to_str().unwrap(),
            "--rate",
            "100",
            "--duration",
            "0.5s",
            "--name",
            "../../../escape",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Everything written is under dir/output; nothing appeared above it.
    assert!(!dir.parent().unwrap().join("escape").exists());
    assert!(!dir.join("escape").exists());
    let written: Vec<PathBuf> = walk(&dir.join("output"));
    assert!(written.iter().any(|p| p.ends_with("summary.json")));
    assert!(written.iter().any(|p| p.ends_with("results.csv")));
    for p in &written {
        assert!(p.starts_with(dir.join("output")), "{}", p.display());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn input_strings_are_escaped_in_svg_and_quoted_in_csv() {
    let dir = tmp("svg-and-csv-quoting");
    let (t, d) = hostile(&dir);
    let out_dir = dir.join("s");
    let out = ztsim(
        &dir,
        &[
            "sweep",
            "--topology",
            t.to_str().unwrap(),
            "-m",
            d.to_str().unwrap(),
            "--rate",
            "100",
            "--duration",
            "0.5s",
            "--out",
            out_dir.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let svg = std::fs::read_to_string(out_dir.join("latency-vs-load.svg")).unwrap();
    assert!(
        !svg.contains("<script>"),
        "raw markup from a design name in the SVG"
    );
    assert!(
        svg.contains("&lt;script&gt;"),
        "the design name should appear, escaped"
    );
    // The CSV quotes the comma and doubles the quotes: a reader gets the name back.
    let mut rd = csv::Reader::from_path(out_dir.join("results.csv")).unwrap();
    let design = rd.records().next().unwrap().unwrap()[1].to_string();
    assert_eq!(design, "<script>alert(1)</script>, \"quoted\"");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn run_results_are_not_overwritten_without_force() {
    let dir = tmp("overwrite");
    let topo = root().join("topologies/minimal.toml");
    let run = |extra: &[&str]| {
        let mut a = vec![
            "run",
            topo.to_str().unwrap(),
            "--duration",
            "0.5s",
            "--warmup",
            "0s",
        ];
        a.extend(extra);
        ztsim(&dir, &a)
    };
    assert!(run(&[]).status.success());
    let first = std::fs::read(dir.join("output/runs/minimal/summary.json")).unwrap();
    let out = run(&["--seed", "5"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("minimal-2"));
    assert_eq!(
        std::fs::read(dir.join("output/runs/minimal/summary.json")).unwrap(),
        first
    );
    assert!(run(&["--seed", "5", "--force"]).status.success());
    assert_ne!(
        std::fs::read(dir.join("output/runs/minimal/summary.json")).unwrap(),
        first
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn runs_that_would_explode_are_refused_with_their_figure() {
    let dir = tmp("guard");
    let topo = root().join("topologies/chatty.toml");
    let out = ztsim(
        &dir,
        &[
            "run",
            topo.to_str().unwrap(),
            "--rate",
            "100000",
            "--duration",
            "10h",
        ],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("events") && err.contains("beyond the budget") && err.contains("--no-guard"),
        "{err}"
    );
    // A rate certain to saturate is a warning, not an abort.
    let out = ztsim(
        &dir,
        &[
            "run",
            topo.to_str().unwrap(),
            "--rate",
            "2000",
            "--duration",
            "1s",
            "--warmup",
            "0s",
        ],
    );
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("warning"));
    let _ = std::fs::remove_dir_all(&dir);
}
