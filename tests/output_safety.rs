//! Writes that stay where they belong (issue 13): no write through a
//! symbolic link planted in an output folder, a refused output folder for
//! every command that writes one, CSV cells that a spreadsheet cannot run,
//! names printed with their control characters escaped, a closed pipe that
//! ends nothing badly, and an impossible output path refused before any
//! simulation.

mod common;

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{Run, root, scratch, ztsim_in};

fn run(dir: &Path, args: &[&str]) -> Run {
    ztsim_in(dir, args).into()
}

fn minimal() -> String {
    root()
        .join("topologies/minimal.toml")
        .to_string_lossy()
        .into_owned()
}

fn plaintext() -> &'static str {
    concat!(env!("CARGO_MANIFEST_DIR"), "/models/plaintext.toml")
}

/// A short sweep's flags (one design, one load, one replication).
fn small_sweep<'a>(topology: &'a str, name: &'a str) -> Vec<&'a str> {
    vec![
        "sweep",
        "--topology",
        topology,
        "-m",
        plaintext(),
        "--rate",
        "100",
        "--duration",
        "0.2s",
        "--warmup",
        "0s",
        "--replications",
        "1",
        "--name",
        name,
    ]
}

/// A folder outside the output folder holding `victim.txt`.
fn outside(dir: &Path) -> (PathBuf, PathBuf) {
    let o = dir.join("outside");
    std::fs::create_dir_all(&o).unwrap();
    let victim = o.join("victim.txt");
    std::fs::write(&victim, "precious").unwrap();
    (o, victim)
}

/// Asserts that `o` holds exactly the untouched `victim.txt`.
#[track_caller]
fn untouched(o: &Path, what: &str) {
    let names: Vec<String> = std::fs::read_dir(o)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["victim.txt"], "{what}: written outside");
    assert_eq!(
        std::fs::read_to_string(o.join("victim.txt")).unwrap(),
        "precious",
        "{what}: the outside file was changed"
    );
}

#[test]
fn a_planted_run_folder_link_is_refused() {
    let dir = scratch("output_safety", "run_link");
    let (o, _) = outside(&dir);
    std::fs::create_dir_all(dir.join("output/runs")).unwrap();
    symlink(&o, dir.join("output/runs/minimal")).unwrap();
    let t = minimal();
    let r = run(
        &dir,
        &["run", &t, "--duration", "0.2s", "--warmup", "0s", "--force"],
    );
    r.expect_code(2);
    assert!(r.stderr.contains("symbolic link"), "{}", r.show());
    untouched(&o, "run --force into a planted link");
    // Without --force the link is not a folder of results either: refused.
    run(&dir, &["run", &t, "--duration", "0.2s", "--warmup", "0s"]).expect_code(2);
    untouched(&o, "run into a planted link");
}

#[test]
fn planted_file_links_are_replaced_never_written_through() {
    let dir = scratch("output_safety", "file_links");
    let (o, victim) = outside(&dir);
    let out = dir.join("output/runs/minimal");
    std::fs::create_dir_all(&out).unwrap();
    // The old fixed temporary name, and every file a run writes.
    for name in [
        "summary.tmp",
        "summary.json",
        "latency.csv",
        "timeseries.csv",
    ] {
        symlink(&victim, out.join(name)).unwrap();
    }
    let t = minimal();
    run(
        &dir,
        &["run", &t, "--duration", "0.2s", "--warmup", "0s", "--force"],
    )
    .expect_code(0);
    untouched(&o, "run over planted file links");
    for name in ["summary.json", "latency.csv", "timeseries.csv"] {
        let m = std::fs::symlink_metadata(out.join(name)).unwrap();
        assert!(m.file_type().is_file(), "{name} should be a new real file");
    }
}

#[test]
fn planted_probe_and_lock_links_are_not_followed() {
    let dir = scratch("output_safety", "probe_links");
    let (o, victim) = outside(&dir);
    let t = minimal();
    run(&dir, &small_sweep(&t, "ds")).expect_code(0);
    let study = dir.join("output/ds");
    // The write probe's old fixed name: sweep, plot and report truncated
    // the file it pointed to.
    symlink(&victim, study.join(".ztsim-write-test")).unwrap();
    let mut force = small_sweep(&t, "ds");
    force.push("--force");
    run(&dir, &force).expect_code(0);
    untouched(&o, "sweep with a planted probe link");
    run(&dir, &["plot", "output/ds/results.json"]).expect_code(0);
    untouched(&o, "plot with a planted probe link");
    run(&dir, &["report", "output/ds"]).expect_code(0);
    untouched(&o, "report with a planted probe link");
    // A lock file that is a link is not opened: the run is refused.
    symlink(&victim, study.join(".ztsim-lock")).unwrap();
    let r = run(&dir, &force);
    r.expect_code(2);
    assert!(r.stderr.contains("output/ds"), "{}", r.show());
    untouched(&o, "sweep with a planted lock link");
}

#[test]
fn every_command_that_writes_refuses_a_linked_output_folder() {
    let dir = scratch("output_safety", "commands");
    let (o, _) = outside(&dir);
    let t = minimal();
    run(&dir, &small_sweep(&t, "ds")).expect_code(0);
    let mut shard = small_sweep(&t, "sh");
    shard.extend(["--shard", "0/1"]);
    run(&dir, &shard).expect_code(0);
    symlink(&o, dir.join("link")).unwrap();
    let model = root().join("models/istio-sidecar.toml");
    let model = model.to_str().unwrap();
    let trace = root().join("topologies/traces/checkout.zipkin.json");
    let trace = trace.to_str().unwrap();
    let short = ["--duration", "0.2s", "--warmup", "0s"];
    let commands: Vec<Vec<&str>> = vec![
        [&["run", &t, "--out", "link"][..], &short].concat(),
        [&["run", &t, "--export-traces", "link"][..], &short].concat(),
        [&small_sweep(&t, "x")[..], &["--out", "link"]].concat(),
        [&small_sweep(&t, "x")[..], &["--out", "link", "--force"]].concat(),
        [&small_sweep(&t, "x")[..], &["--out", "link", "--resume"]].concat(),
        [
            &small_sweep(&t, "x")[..],
            &["--out", "link", "--shard", "0/2"],
        ]
        .concat(),
        vec!["merge", "output/sh/shards", "--out", "link"],
        vec!["plot", "output/ds/results.json", "--out", "link"],
        vec!["report", "output/ds", "--out", "link"],
        [
            &[
                "capacity", &t, "-m", model, "--slo", "p99=50ms", "--out", "link",
            ][..],
            &short,
        ]
        .concat(),
        [
            &["sensitivity", &t, "-m", model, "--out", "link"][..],
            &short,
        ]
        .concat(),
        vec!["import", trace, "--out", "link"],
    ];
    for args in &commands {
        let t0 = Instant::now();
        let r = run(&dir, args);
        r.expect_code(2);
        assert!(r.stderr.contains("symbolic link"), "{args:?}: {}", r.show());
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "{args:?} simulated first"
        );
        untouched(&o, &args.join(" "));
    }
    // schema --out writes one file: a link there is replaced, not followed.
    symlink(o.join("victim.txt"), dir.join("schema.json")).unwrap();
    run(&dir, &["schema", "study", "--out", "schema.json"]).expect_code(0);
    untouched(&o, "schema --out over a link");
    assert!(
        std::fs::symlink_metadata(dir.join("schema.json"))
            .unwrap()
            .is_file()
    );
}

#[test]
fn a_forced_sweep_removes_only_the_points_it_saved() {
    let dir = scratch("output_safety", "forced_points");
    let points = dir.join("fu/points");
    std::fs::create_dir_all(points.join("deep")).unwrap();
    std::fs::write(points.join("notes.txt"), "mine").unwrap();
    std::fs::write(points.join("deep/keep.json"), "mine").unwrap();
    std::fs::write(points.join("000007.json"), "stale point").unwrap();
    let t = minimal();
    run(
        &dir,
        &[&small_sweep(&t, "fu")[..], &["--out", "fu", "--force"]].concat(),
    )
    .expect_code(0);
    assert_eq!(
        std::fs::read_to_string(points.join("notes.txt")).unwrap(),
        "mine"
    );
    assert_eq!(
        std::fs::read_to_string(points.join("deep/keep.json")).unwrap(),
        "mine"
    );
    assert!(
        !points.join("000007.json").exists(),
        "ztsim's own stale point kept"
    );
}

#[test]
fn traces_and_design_folders_are_checked_before_simulating() {
    let dir = scratch("output_safety", "run_folders");
    let t = minimal();
    let model = |m: &str| root().join("models").join(m).to_string_lossy().into_owned();
    let (sidecar, naive) = (model("istio-sidecar.toml"), model("naive-mtls.toml"));
    let two = |out: &str, rest: &[&str]| -> Vec<String> {
        let mut a: Vec<String> = [
            "run",
            &t,
            "-m",
            &sidecar,
            "-m",
            &naive,
            "--duration",
            "0.2s",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        a.extend(["--out", out].iter().chain(rest).map(|s| s.to_string()));
        a
    };
    let code = |args: &[String]| Run::from(ztsim_in(&dir, args));
    // A second export into a folder holding each design's traces is refused.
    code(&two("a", &["--export-traces", "tr"])).expect_code(0);
    let before = std::fs::read(dir.join("tr/istio-sidecar/jaeger.json")).unwrap();
    let r = code(&two("b", &["--export-traces", "tr"]));
    r.expect_code(2);
    assert!(r.stderr.contains("holds results"), "{}", r.show());
    assert_eq!(
        std::fs::read(dir.join("tr/istio-sidecar/jaeger.json")).unwrap(),
        before
    );
    // The traces' folder is not the results' folder, by any spelling: at once,
    // --wait or not (it would wait on the run's own lock).
    for wait in [&[][..], &["--wait"]] {
        let t0 = Instant::now();
        let r = code(&two(
            "et",
            &[&["--export-traces", "./et/"][..], wait].concat(),
        ));
        r.expect_code(2);
        assert!(
            r.stderr.contains("a folder other than --out"),
            "{}",
            r.show()
        );
        assert!(t0.elapsed() < Duration::from_secs(10));
    }
    // A design's folder that cannot be used is refused before any design
    // runs: ten minutes of simulated time end in seconds only by refusal.
    let (o, _) = outside(&dir);
    std::fs::create_dir_all(dir.join("linked")).unwrap();
    symlink(&o, dir.join("linked/istio-sidecar")).unwrap();
    std::fs::create_dir_all(dir.join("filed")).unwrap();
    std::fs::write(dir.join("filed/naive-mtls"), "mine").unwrap();
    for out in ["linked", "filed"] {
        let mut args = two(out, &[]);
        args[7] = "600s".into();
        let t0 = Instant::now();
        let r = code(&args);
        r.expect_code(2);
        assert!(r.stderr.contains("cannot be written"), "{}", r.show());
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "{out} simulated first"
        );
    }
    untouched(&o, "a linked design folder");
    assert_eq!(
        std::fs::read_to_string(dir.join("filed/naive-mtls")).unwrap(),
        "mine"
    );
}

#[test]
fn man_out_follows_the_output_folder_rules() {
    let dir = scratch("output_safety", "man");
    let (o, _) = outside(&dir);
    symlink(&o, dir.join("link")).unwrap();
    std::fs::write(dir.join("a-file"), "").unwrap();
    for out in ["link", "a-file", "/proc/no-such"] {
        let r = run(&dir, &["man", "--out", out]);
        r.expect_code(2);
        assert!(
            r.stderr.contains("cannot be written"),
            "{out}: {}",
            r.show()
        );
    }
    untouched(&o, "man --out link");
    std::fs::create_dir_all(dir.join("pages")).unwrap();
    std::fs::write(dir.join("pages/ztsim.1"), "mine").unwrap();
    let r = run(&dir, &["man", "--out", "pages"]);
    r.expect_code(2);
    assert!(r.stderr.contains("holds results"), "{}", r.show());
    assert_eq!(
        std::fs::read_to_string(dir.join("pages/ztsim.1")).unwrap(),
        "mine"
    );
    run(&dir, &["man", "--out", "pages", "--force"]).expect_code(0);
    assert!(
        std::fs::read_to_string(dir.join("pages/ztsim.1"))
            .unwrap()
            .contains(".TH ztsim 1")
    );
}

#[test]
fn an_impossible_output_path_fails_before_simulating() {
    let dir = scratch("output_safety", "long_name");
    let topo = std::fs::read_to_string(minimal()).unwrap().replace(
        "name = \"minimal\"",
        &format!("name = \"{}\"", "n".repeat(300)),
    );
    std::fs::write(dir.join("t.toml"), topo).unwrap();
    // A name too long for a folder is refused at its key.
    let r = run(&dir, &["run", "t.toml", "--duration", "600s"]);
    r.expect_code(2);
    assert!(
        r.stderr
            .contains("t.toml:3:1: name: topology names are at most 200 characters, got 300"),
        "{}",
        r.show()
    );
    let long = "s".repeat(300);
    // A sweep's --name too long for a folder. Ten minutes of simulated
    // time: only a refusal ends in seconds.
    std::fs::write(
        dir.join("t.toml"),
        std::fs::read_to_string(minimal()).unwrap(),
    )
    .unwrap();
    let args = [
        "sweep",
        "--topology",
        "t.toml",
        "-m",
        plaintext(),
        "--rate",
        "1000",
        "--duration",
        "600s",
        "--name",
        &long,
    ];
    let t0 = Instant::now();
    let r = run(&dir, &args);
    r.expect_code(2);
    assert!(r.stderr.contains("cannot be written"), "{}", r.show());
    assert!(
        t0.elapsed() < Duration::from_secs(10),
        "{args:?}: {:?}",
        t0.elapsed()
    );
    // `schema --out` writes one file: a path that cannot be one is bad input.
    std::fs::write(dir.join("a-file"), "").unwrap();
    for out in ["no/such/folder/s.json", "a-file/s.json", &long] {
        let r = run(&dir, &["schema", "topology", "--out", out]);
        r.expect_code(2);
        assert!(
            r.stderr.contains("--out: cannot write the schema"),
            "{}",
            r.show()
        );
    }
}

/// Every field of every CSV file under `dir`.
fn csv_cells(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(csv_cells(&p));
        } else if p.extension().is_some_and(|x| x == "csv") && !p.ends_with("arrivals.csv") {
            let mut rd = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_path(&p)
                .unwrap();
            for rec in rd.records() {
                out.extend(rec.unwrap().iter().map(|c| (p.clone(), c.to_string())));
            }
        }
    }
    out
}

#[test]
fn no_csv_cell_starts_a_formula() {
    let dir = scratch("output_safety", "formulas");
    let evil = "@SUM(1+1)*cmd|' /C calc'!A0";
    let topo = std::fs::read_to_string(minimal())
        .unwrap()
        .replace("[services.api]", "[services.\"=api\"]")
        .replace(
            "[services.api.endpoints.get]",
            "[services.\"=api\".endpoints.\"+get\"]",
        )
        .replace("call = \"db.query\"", "call = \"-db.@query\"")
        .replace("[services.db]", "[services.\"-db\"]")
        .replace(
            "[services.db.endpoints.query]",
            "[services.\"-db\".endpoints.\"@query\"]",
        )
        .replace("endpoint = \"api.get\"", "endpoint = \"=api.+get\"");
    std::fs::write(dir.join("t.toml"), topo).unwrap();
    std::fs::write(
        dir.join("d.toml"),
        format!("name = \"{evil}\"\n[transport]\nsecurity = \"tls\"\n"),
    )
    .unwrap();
    let short = [
        "--duration",
        "0.3s",
        "--warmup",
        "0s",
        "--replications",
        "2",
    ];
    let runs: Vec<Vec<&str>> = vec![
        [
            &["run", "t.toml", "-m", "d.toml", "--export-traces", "traces"][..],
            &short,
        ]
        .concat(),
        [
            &[
                "sweep",
                "--topology",
                "t.toml",
                "-m",
                "d.toml",
                "--rate",
                "5000",
            ][..],
            &short,
        ]
        .concat(),
        [
            &[
                "capacity",
                "t.toml",
                "-m",
                "d.toml",
                "--slo",
                "p99=20ms",
                "--no-baseline",
            ][..],
            &short,
        ]
        .concat(),
        [
            &[
                "capacity",
                "t.toml",
                "-m",
                "d.toml",
                "--slo",
                "p99=20ms",
                "--target-rate",
                "300",
            ][..],
            &short,
        ]
        .concat(),
        [
            &[
                "sensitivity",
                "t.toml",
                "-m",
                "d.toml",
                "--param",
                "transport.security=tls,mtls",
            ][..],
            &short,
        ]
        .concat(),
    ];
    for args in &runs {
        run(&dir, args).expect_code(0);
    }
    let cells = csv_cells(&dir);
    let files: std::collections::BTreeSet<String> = cells
        .iter()
        .map(|(p, _)| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for f in [
        "results.csv",
        "latency.csv",
        "capacity.csv",
        "sizing.csv",
        "index.csv",
        "sensitivity.csv",
    ] {
        assert!(files.contains(f), "no {f} written: {files:?}");
    }
    let mut quoted = 0;
    for (p, c) in &cells {
        let number = c.trim().parse::<f64>().is_ok_and(f64::is_finite);
        assert!(
            number || !c.starts_with(['=', '+', '-', '@', '\t', '\r']),
            "{}: live formula cell {c:?}",
            p.display()
        );
        quoted += usize::from(c.starts_with("'=") || c.starts_with("'@") || c.starts_with("'-"));
    }
    assert!(
        quoted > 20,
        "the hostile names should appear, quoted ({quoted})"
    );
}

#[test]
fn control_characters_in_names_are_printed_escaped() {
    let dir = scratch("output_safety", "escapes");
    let t = minimal();
    let run_design = |name: &str| {
        std::fs::write(
            dir.join("d.toml"),
            format!("name = \"{name}\"\n[transport]\nsecurity = \"tls\"\n"),
        )
        .unwrap();
        run(
            &dir,
            &[
                "run",
                &t,
                "-m",
                "d.toml",
                "--duration",
                "0.2s",
                "--warmup",
                "0s",
            ],
        )
    };
    // A name with control characters is refused at its key, escaped.
    let r = run_design("evil\\u001b]0;pwned\\u0007\\u001b[2J");
    r.expect_code(2);
    assert!(
        r.stderr
            .contains("d.toml:1:1: name: design names cannot hold control characters")
            && r.stderr.contains("evil\\u{1b}]0;pwned\\u{7}\\u{1b}[2J")
            && !r.stderr.contains('\u{1b}'),
        "{}",
        r.show()
    );
    // One that is only invisible (a right-to-left override) runs, and is
    // printed escaped.
    let r = run_design("evil\\u202e");
    r.expect_code(0);
    assert!(r.stdout.contains("evil\\u{202e}"), "{}", r.show());
    // A name in a diagnostic (an unknown key after it) is escaped on stderr.
    std::fs::write(
        dir.join("bad.toml"),
        "name = \"x\"\n[transport]\n\"sec\\u001b[31murity\" = \"tls\"\n",
    )
    .unwrap();
    let r = run(&dir, &["validate", &t, "bad.toml"]);
    r.expect_code(2);
    for text in [&r.stdout, &r.stderr] {
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{7}'),
            "{}",
            r.show()
        );
    }
    assert!(r.stderr.contains("murity"), "{}", r.show());
    // A flag's value is echoed escaped too, by clap's messages as by ours.
    for args in [
        vec!["run", "\u{1b}[2Jx.toml"],
        vec!["run", &t, "--seed", "\u{1b}]0;pwned\u{7}"],
        vec!["schema", "topo\u{1b}[31mlogy"],
        vec!["run", &t, "--no-such-\u{1b}[2J"],
    ] {
        let r = run(&dir, &args);
        r.expect_code(2);
        assert!(
            !r.stderr.contains('\u{1b}') && r.stderr.contains("\\u{1b}"),
            "{args:?}: {}",
            r.show()
        );
    }
}

#[test]
fn a_closed_pipe_ends_quietly_and_the_results_are_written() {
    let dir = scratch("output_safety", "pipe");
    let t = minimal();
    for args in [
        vec!["run", t.as_str(), "--duration", "0.2s", "--warmup", "0s"],
        vec!["validate", t.as_str()],
        vec!["schema", "topology"],
    ] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ztsim"))
            .args(&args)
            .current_dir(&dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The reader goes away before ztsim prints anything, as `| head -0`.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
    assert!(dir.join("output/runs/minimal/summary.json").is_file());
}
