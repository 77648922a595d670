//! The real `ztsim` binary: exit codes (0 ok, 1 failure, 2 bad input),
//! messages, output files and determinism.
//!
//! Every command runs in a fresh temporary directory, so a default `output/`
//! lands there; topology paths are absolute.

mod common;

use std::path::Path;

use common::{Run, TempDir};

const LATENCY_CSV_HEADER: &str = "scope,name,replication,count,failed,mean_ms,p50_ms,p90_ms,p95_ms,p99_ms,p999_ms,max_ms,saturated";

/// Short-run overrides for topologies/minimal.toml.
const QUICK: [&str; 6] = ["--duration", "2s", "--warmup", "0s", "--replications", "2"];

fn manifest(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(rel)
        .display()
        .to_string()
}

fn minimal() -> String {
    manifest("topologies/minimal.toml")
}

fn bad(name: &str) -> String {
    manifest(&format!("tests/data/bad/{name}"))
}

fn ztsim_in(dir: &Path, args: &[&str]) -> Run {
    Run::from(common::ztsim_in(dir, args))
}

/// Runs in a throwaway directory.
fn ztsim(args: &[&str]) -> Run {
    let dir = TempDir::new("cmd");
    ztsim_in(dir.path(), args)
}

// ---------------------------------------------------------------------------
// validate

#[test]
fn validate_good_file_exits_0() {
    let file = minimal();
    let r = ztsim(&["validate", &file]);
    r.expect_code(0);
    assert!(
        r.stdout.contains(&file) && r.stdout.contains("ok"),
        "{}",
        r.show()
    );
}

#[test]
fn validate_bad_file_exits_2_with_file_line_col() {
    let file = bad("zero_cores.toml");
    let r = ztsim(&["validate", &file]);
    r.expect_code(2);
    let want = format!("{file}:11:1: services.api.cores: cores must be");
    assert!(r.stderr.contains(&want), "want {want:?}\n{}", r.show());
}

#[test]
fn validate_reports_every_bad_file() {
    let (a, b) = (bad("zero_cores.toml"), bad("rate_zero.toml"));
    let r = ztsim(&["validate", &a, &b]);
    r.expect_code(2);
    assert!(r.stderr.contains(&format!("{a}:11:")), "{}", r.show());
    assert!(r.stderr.contains(&format!("{b}:25:")), "{}", r.show());

    // A good file among bad ones is still checked and reported ok.
    let good = minimal();
    let r = ztsim(&["validate", &a, &good, &b]);
    r.expect_code(2);
    assert!(r.stdout.contains(&good), "{}", r.show());
    assert!(
        r.stderr.contains(&a) && r.stderr.contains(&b),
        "{}",
        r.show()
    );
}

#[test]
fn validate_whole_bad_corpus_names_every_file() {
    let mut files: Vec<String> = std::fs::read_dir(manifest("tests/data/bad"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| p.display().to_string())
        .collect();
    files.sort();
    let mut args = vec!["validate"];
    args.extend(files.iter().map(String::as_str));
    let r = ztsim(&args);
    r.expect_code(2);
    for f in &files {
        // A case may be about a file it names (`# file:`, a recording).
        let want = common::Case::load(Path::new(f)).want_file();
        assert!(
            r.stderr.contains(&format!("{want}:")),
            "no diagnostic names {want}\n{}",
            r.show()
        );
    }
    assert!(!r.stderr.contains("panicked"), "{}", r.show());
}

#[test]
fn validate_missing_file_exits_2_naming_it() {
    let dir = TempDir::new("missing");
    let file = dir
        .path()
        .join("no-such-topology.toml")
        .display()
        .to_string();
    let r = ztsim(&["validate", &file]);
    r.expect_code(2);
    assert!(r.stderr.contains(&file), "{}", r.show());
}

// ---------------------------------------------------------------------------
// run

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn run_minimal_prints_table_and_writes_results() {
    let dir = TempDir::new("run");
    let file = minimal();
    let mut args = vec!["run", file.as_str()];
    args.extend(QUICK);
    let r = ztsim_in(dir.path(), &args);
    r.expect_code(0);
    for needle in [
        "minimal",
        "api.get",
        "api.get -> db.query",
        "p99",
        "utilisation",
    ] {
        assert!(
            r.stdout.contains(needle),
            "table lacks {needle:?}\n{}",
            r.show()
        );
    }

    let out = dir.path().join("output/runs/minimal");
    let json: serde_json::Value =
        serde_json::from_str(&read(&out.join("summary.json"))).expect("summary.json is JSON");
    let obj = json.as_object().expect("summary.json is an object");
    for key in [
        "ztsim_version",
        "topology",
        "workload",
        "saturated",
        "throughput",
        "requests",
        "endpoints",
        "edges",
        "services",
        "work",
    ] {
        assert!(
            obj.contains_key(key),
            "summary.json lacks `{key}`: {json:#}"
        );
    }
    assert_eq!(json["ztsim_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(json["topology"], "minimal");
    // The overrides took effect.
    assert_eq!(json["workload"]["replications"], 2);
    assert_eq!(json["workload"]["duration_s"], 2.0);
    assert_eq!(json["workload"]["warmup_s"], 0.0);
    assert!(json["saturated"].is_null(), "{json:#}");
    assert_eq!(json["endpoints"].as_array().map(Vec::len), Some(1));
    assert_eq!(json["edges"].as_array().map(Vec::len), Some(1));
    // api and db, plus the policy and identity services designs call.
    assert_eq!(json["services"].as_array().map(Vec::len), Some(4));

    let csv = read(&out.join("latency.csv"));
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some(LATENCY_CSV_HEADER));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert!(!rows.is_empty(), "latency.csv has no rows");
    for row in &rows {
        assert_eq!(row.len(), 13, "{row:?}");
    }
    for (scope, name) in [("endpoint", "api.get"), ("edge", "api.get -> db.query")] {
        let reps: Vec<&str> = rows
            .iter()
            .filter(|r| r[0] == scope && r[1] == name)
            .map(|r| r[2])
            .collect();
        for rep in ["1", "2"] {
            assert!(
                reps.contains(&rep),
                "{scope} {name}: no replication {rep}: {csv}"
            );
        }
    }
}

#[test]
fn run_out_puts_results_there() {
    let cwd = TempDir::new("cwd");
    let target = TempDir::new("out");
    let out = target.path().join("nested/results");
    let (file, out_s) = (minimal(), out.display().to_string());
    let mut args = vec!["run", file.as_str(), "--out", out_s.as_str()];
    args.extend(QUICK);
    ztsim_in(cwd.path(), &args).expect_code(0);
    assert!(out.join("summary.json").is_file());
    assert!(out.join("latency.csv").is_file());
    assert!(
        !cwd.path().join("output").exists(),
        "--out given, yet output/ was written in the working directory"
    );
}

/// Far past saturation a run stops early, before any measured request has
/// finished: its internal calls read `saturated`, not `no calls` (which
/// means a caller failed before calling), and it exits 0 without
/// `--fail-on-slo`.
#[test]
fn run_far_past_saturation_stops_early_and_says_so() {
    let file = manifest("topologies/chatty.toml");
    let design = manifest("models/naive-mtls.toml");
    let run = ztsim(&[
        "run",
        &file,
        "-m",
        &design,
        "--rate",
        "500",
        "--replications",
        "1",
    ]);
    run.expect_code(0);
    let out = &run.stdout;
    assert!(
        out.contains("SATURATED at 500 rps offered, bottleneck `bff`"),
        "{out}"
    );
    assert!(out.contains("(the run stopped there)"), "{out}");
    let edge = out
        .lines()
        .find(|l| l.starts_with("gateway.page -> bff.page"))
        .unwrap_or_else(|| panic!("no edge row:\n{out}"));
    assert!(edge.ends_with("saturated"), "{edge}");
    assert!(!out.contains("no calls"), "{out}");
}

#[test]
fn run_bad_flags_exit_2() {
    let file = minimal();
    let cases: [(&[&str], &str); 9] = [
        (&["--rate", "abc"], "--rate"),
        (&["--rate", "0"], "--rate"),
        (&["--rate=-5"], "--rate"),
        (&["--duration", "5"], "--duration"),
        (&["--warmup", "5"], "--warmup"),
        (&["--replications", "0"], "--replications"),
        (&["--requests", "0"], "--requests"),
        (&["--threads", "0"], "--threads"),
        (&["--frobnicate"], "--frobnicate"),
    ];
    for (flags, named) in cases {
        let dir = TempDir::new("flags");
        let mut args = vec!["run", file.as_str()];
        args.extend(flags);
        let r = ztsim_in(dir.path(), &args);
        assert_eq!(r.code, Some(2), "{flags:?}\n{}", r.show());
        assert!(
            r.stderr.contains(named),
            "{flags:?}: stderr should name {named}\n{}",
            r.show()
        );
        assert!(
            !dir.path().join("output").exists(),
            "{flags:?}: wrote output despite bad input"
        );
    }
}

#[test]
fn run_duration_without_unit_suggests_one() {
    let file = minimal();
    let r = ztsim(&["run", &file, "--duration", "5"]);
    r.expect_code(2);
    assert!(
        r.stderr.contains("\"5s\"") || r.stderr.contains("\"5ms\""),
        "{}",
        r.show()
    );
}

#[test]
fn run_missing_file_exits_2_naming_it() {
    let dir = TempDir::new("missing");
    let file = dir.path().join("nowhere.toml").display().to_string();
    let r = ztsim_in(dir.path(), &["run", &file]);
    r.expect_code(2);
    assert!(r.stderr.contains(&file), "{}", r.show());
    assert!(!dir.path().join("output").exists());
}

#[test]
fn run_bad_topology_exits_2() {
    let file = bad("cycle.toml");
    let r = ztsim(&["run", &file]);
    r.expect_code(2);
    assert!(r.stderr.contains(&format!("{file}:15:")), "{}", r.show());
}

const CLOSED: &str = r#"[zones.az1]
rtt = "0.4ms"

[services.api]
zone = "az1"

[services.api.endpoints.get]
cpu = "1ms"

[workload]
arrivals = "closed"
users = 4
think = "10ms"
duration = "1s"
entry = [{ endpoint = "api.get" }]
"#;

#[test]
fn run_rate_on_closed_loop_exits_2() {
    let dir = TempDir::new("closed");
    let file = dir.path().join("closed.toml");
    std::fs::write(&file, CLOSED).unwrap();
    let file = file.display().to_string();
    // The topology itself is fine...
    ztsim_in(dir.path(), &["validate", &file]).expect_code(0);
    // ...but --rate does not apply to it.
    let r = ztsim_in(dir.path(), &["run", &file, "--rate", "100"]);
    r.expect_code(2);
    assert!(
        r.stderr.contains("--rate") && r.stderr.contains("closed"),
        "{}",
        r.show()
    );
    assert!(!dir.path().join("output").exists());
}

#[test]
fn run_unwritable_out_exits_2_before_simulating() {
    let dir = TempDir::new("unwritable");
    let blocker = dir.path().join("a-file");
    std::fs::write(&blocker, "not a directory").unwrap();
    let out = blocker.join("results").display().to_string();
    let file = minimal();
    let mut args = vec!["run", file.as_str(), "--out", out.as_str()];
    args.extend(QUICK);
    let r = ztsim_in(dir.path(), &args);
    // An output folder that cannot be used is bad input, refused up front.
    r.expect_code(2);
    assert!(
        r.stderr.contains("cannot be written") && r.stderr.contains(&out),
        "the message should say what could not be written where\n{}",
        r.show()
    );
}

fn summary_bytes(extra: &[&str]) -> (Vec<u8>, Vec<u8>) {
    let dir = TempDir::new("det");
    let file = minimal();
    let mut args = vec![
        "run",
        file.as_str(),
        "--duration",
        "1s",
        "--warmup",
        "0s",
        "--replications",
        "3",
        "--out",
        "res",
    ];
    args.extend(extra);
    ztsim_in(dir.path(), &args).expect_code(0);
    let res = dir.path().join("res");
    (
        std::fs::read(res.join("summary.json")).unwrap(),
        std::fs::read(res.join("latency.csv")).unwrap(),
    )
}

#[test]
fn same_run_twice_is_byte_identical() {
    let a = summary_bytes(&[]);
    let b = summary_bytes(&[]);
    assert!(
        a.0 == b.0,
        "summary.json differs between two identical runs"
    );
    assert!(a.1 == b.1, "latency.csv differs between two identical runs");
}

#[test]
fn thread_count_does_not_change_results() {
    let one = summary_bytes(&["--threads", "1"]);
    let two = summary_bytes(&["--threads", "2"]);
    assert!(
        one.0 == two.0,
        "summary.json differs between --threads 1 and 2"
    );
    assert!(
        one.1 == two.1,
        "latency.csv differs between --threads 1 and 2"
    );
}

#[test]
fn seed_changes_results() {
    // Guards the two tests above against a run that ignores its randomness.
    let a = summary_bytes(&["--seed", "1"]);
    let b = summary_bytes(&["--seed", "2"]);
    assert!(a.0 != b.0, "different seeds gave identical summary.json");
}

// ---------------------------------------------------------------------------
// help and usage

#[test]
fn help_for_top_level_and_each_command() {
    let r = ztsim(&["--help"]);
    r.expect_code(0);
    for cmd in ["run", "validate", "bench"] {
        assert!(
            r.stdout.contains(cmd),
            "top-level help lacks {cmd}\n{}",
            r.show()
        );
    }

    let cases: [(&str, &[&str]); 3] = [
        (
            "run",
            &[
                "--rate",
                "--duration",
                "--requests",
                "--warmup",
                "--seed",
                "--replications",
                "--out",
                "--threads",
                "TOPOLOGY",
            ],
        ),
        ("validate", &["FILES"]),
        ("bench", &["--requests"]),
    ];
    for (cmd, flags) in cases {
        for args in [vec![cmd, "--help"], vec!["help", cmd]] {
            let r = ztsim(&args);
            r.expect_code(0);
            for flag in flags {
                assert!(
                    r.stdout.contains(flag),
                    "{args:?} lacks {flag}\n{}",
                    r.show()
                );
            }
        }
    }
}

/// The searches' bench runs the repository's chatty topology: outside a
/// checkout it is refused as bad input, before timing anything.
#[test]
fn bench_searches_outside_the_repository_is_refused() {
    let r = ztsim(&["bench", "--searches"]);
    r.expect_code(2);
    assert!(
        r.stderr.contains("--searches") && r.stderr.contains("repository's root"),
        "{}",
        r.show()
    );
    ztsim(&["bench", "--searches", "--sweep"]).expect_code(2);
}

/// A bench of no requests never ended (its window waits for the first
/// measured request to be the last): refused like every `--requests 0`.
/// Flags that `--sweep` and `--searches` would ignore are refused beside them.
#[test]
fn bench_refuses_no_requests_and_flags_it_would_ignore() {
    for n in ["0", "-5", "many"] {
        let r = ztsim(&["bench", "--requests", n]);
        r.expect_code(2);
        assert!(r.stderr.contains("--requests"), "{}", r.show());
    }
    for (a, b) in [
        ("--sweep", "--model"),
        ("--sweep", "--memory"),
        ("--searches", "--scale"),
        ("--searches", "--requests"),
    ] {
        let args = match b {
            "--model" => vec!["bench", a, b, "models/istio-sidecar.toml"],
            "--requests" => vec!["bench", a, b, "100"],
            _ => vec!["bench", a, b],
        };
        let r = ztsim(&args);
        r.expect_code(2);
        assert!(r.stderr.contains("cannot be used with"), "{}", r.show());
    }
}

/// `bench -m` gives each design's events per call by cause: under
/// istio-sidecar every call ends one hop to its callee's policy sidecar and
/// one evaluation there, which plaintext has none of.
#[test]
fn bench_designs_lists_each_designs_events_by_cause() {
    let (topology, design) = (
        manifest("topologies/ecommerce.toml"),
        manifest("models/istio-sidecar.toml"),
    );
    let r = ztsim(&["bench", &topology, "--requests", "3000", "-m", &design]);
    r.expect_code(0);
    assert_eq!(
        r.stdout.matches("events per call by cause").count(),
        2,
        "{}",
        r.show()
    );
    let per_call = |cause: &str| {
        r.stdout
            .lines()
            .filter(|l| l.ends_with(cause))
            .map(|l| l.split_whitespace().next().unwrap().parse::<f64>().unwrap())
            .collect::<Vec<_>>()
    };
    // One each per call (but the few still in flight as the run ends).
    let once = |cause: &str, designs: usize| {
        let seen = per_call(cause);
        assert!(
            seen.len() == designs && seen.iter().all(|&n| (0.97..=1.0).contains(&n)),
            "{cause}: {seen:?}\n{}",
            r.show()
        );
    };
    // Both designs: to the callee and back.
    once("wait ends: request's transit to the callee", 2);
    once("wait ends: response's transit to the caller", 2);
    // The policy sidecar's: the second design's only.
    once("wait ends: hop to the policy sidecar", 1);
    once("job ends: policy evaluation", 1);
}

#[test]
fn version_flag() {
    let r = ztsim(&["--version"]);
    r.expect_code(0);
    assert!(r.stdout.contains(env!("CARGO_PKG_VERSION")), "{}", r.show());
}

#[test]
fn unknown_command_exits_2() {
    let r = ztsim(&["simulate"]);
    r.expect_code(2);
    assert!(r.stderr.contains("simulate"), "{}", r.show());
}

#[test]
fn no_command_runs_the_built_in_default() {
    // `cargo run --release` with no arguments is the README's first command:
    // it runs the built-in default study and writes under output/default/ of
    // the working directory: results, charts, and the article's figures.
    let dir = TempDir::new("nocmd");
    let r = ztsim_in(dir.path(), &[]);
    r.expect_code(0);
    assert!(r.stdout.contains("built-in default study"), "{}", r.show());
    assert!(
        r.stdout
            .contains("The seed article's figures beside ztsim's"),
        "{}",
        r.show()
    );
    let out = dir.path().join("output/default");
    for f in [
        "results.json",
        "results.csv",
        "latency-vs-load.png",
        "latency-vs-load.svg",
    ] {
        assert!(out.join(f).is_file(), "{f} missing\n{}", r.show());
    }
    // Chart SVGs draw their text as the font's outlines, not with the whole
    // font embedded: small, and every glyph their text uses is in them.
    let mut svgs = 0;
    for e in std::fs::read_dir(&out).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_none_or(|x| x != "svg") || p.ends_with("topology.svg") {
            continue;
        }
        svgs += 1;
        let svg = std::fs::read_to_string(&p).unwrap();
        assert!(svg.len() <= 150_000, "{}: {} bytes", p.display(), svg.len());
        assert!(!svg.contains("@font-face"), "{}", p.display());
        for group in svg.split("<g aria-hidden=\"true\"").skip(1) {
            let group = &group[..group.find("</g>").unwrap()];
            for id in group.split("<use xlink:href=\"#").skip(1) {
                let id = &id[..id.find('"').unwrap()];
                assert!(
                    svg.contains(&format!("<path id=\"{id}\" ")),
                    "{}: glyph {id} not defined",
                    p.display()
                );
            }
        }
    }
    assert_eq!(svgs, 6, "the six study charts");
}
