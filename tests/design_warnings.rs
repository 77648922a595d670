//! Keys a design file sets to no effect (docs/design.md, "Keys that have no
//! effect"): each is warned about on standard error, once per run, naming
//! its file, line and key; the exit code and every output file stay as
//! they would be without the warning.

mod common;

use std::path::Path;

use common::{Run, TempDir, root};

/// One service on one core, no network, a few hundred requests.
const TOPOLOGY: &str = "[zones.z]\nrtt = \"0ns\"\n[services.s]\nendpoints.e.cpu = \"1ms\"\n\
    [workload]\narrivals = \"poisson\"\nrate = 100\nrequests = 300\nwarmup = \"0s\"\n\
    replications = 2\nentry = [{ endpoint = \"s.e\" }]\n";

/// Library mTLS without a proxy, policy or tickets, setting keys of each.
const IDLE: &str = "name = \"d\"\n\
    [transport]\nsecurity = \"mtls\"\n\
    [resumption]\ntickets = false\nticket_ttl = \"10m\"\n\
    [proxy]\nmode = \"none\"\nrequest_cpu = \"100us\"\n\
    [authz]\ncache_ttl = \"1s\"\n";

/// The same design without the keys that have no effect.
const CLEAN: &str = "name = \"d\"\n[transport]\nsecurity = \"mtls\"\n[resumption]\ntickets = false\n[proxy]\nmode = \"none\"\n";

fn warnings_of(file: &str) -> Vec<String> {
    vec![
        format!(
            "warning: {file}:6: resumption.ticket_ttl: has no effect: resumption.tickets is false (it applies with resumption.tickets = true)"
        ),
        format!(
            "warning: {file}:9: proxy.request_cpu: has no effect: proxy.mode is \"none\" (it applies with proxy.mode = \"sidecar\" or \"node\")"
        ),
        format!(
            "warning: {file}:11: authz.cache_ttl: has no effect: authz.mode is \"none\" (it applies with authz.mode = \"in-process\", \"proxy\", \"sidecar\" or \"remote\")"
        ),
    ]
}

fn ztsim_in(dir: &Path, args: &[&str]) -> Run {
    Run::from(common::ztsim_in(dir, args))
}

/// The lines of standard error that are warnings.
fn warned(r: &Run) -> Vec<String> {
    r.stderr
        .lines()
        .filter(|l| l.starts_with("warning: "))
        .map(String::from)
        .collect()
}

fn folder() -> TempDir {
    let dir = TempDir::new("design-warnings");
    for (name, text) in [
        ("t.toml", TOPOLOGY),
        ("t2.toml", TOPOLOGY),
        ("idle.toml", IDLE),
        ("clean.toml", CLEAN),
    ] {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

#[test]
fn validate_warns_once_per_key_and_exits_0() {
    let dir = folder();
    // Against two topologies the design is checked twice, warned about once.
    let r = ztsim_in(dir.path(), &["validate", "idle.toml", "t.toml", "t2.toml"]);
    r.expect_code(0);
    assert_eq!(warned(&r), warnings_of("idle.toml"), "{}", r.show());
    assert!(r.stdout.contains("idle.toml: ok (design)"), "{}", r.show());
    let r = ztsim_in(dir.path(), &["validate", "clean.toml", "t.toml"]);
    r.expect_code(0);
    assert_eq!(warned(&r), Vec::<String>::new(), "{}", r.show());
}

/// Each warning of a `--json` document as standard error's first line of
/// it shows it: `warning: file:line:column: key: message`, the parts it
/// has.
fn listed(doc: &serde_json::Value) -> Vec<String> {
    doc["warnings"]
        .as_array()
        .expect("a list of warnings")
        .iter()
        .map(|w| {
            let mut at: Vec<String> = Vec::new();
            at.extend(w["file"].as_str().map(String::from));
            at.extend(
                ["line", "column"]
                    .map(|k| w[k].as_u64().map(|n| n.to_string()))
                    .into_iter()
                    .flatten(),
            );
            let mut text = "warning: ".to_string();
            if !at.is_empty() {
                text += &format!("{}: ", at.join(":"));
            }
            if let Some(key) = w["key"].as_str() {
                text += &format!("{key}: ");
            }
            text + w["message"].as_str().unwrap().lines().next().unwrap()
        })
        .collect()
}

/// Every command's `--json` document lists the warnings standard error
/// showed, in order, as `validate`'s does: a script reading the document
/// learns what a person reading the terminal does.
#[test]
fn every_json_document_lists_the_warnings_it_printed() {
    let dir = folder();
    let study = "name = \"w\"\ntopology = \"t.toml\"\ndesigns = [\"idle.toml\"]\nrates = [50]\n\
        [params]\n\"authz.cache_ttl\" = [\"1s\", \"2s\"]\n";
    std::fs::write(dir.path().join("w.study.toml"), study).unwrap();
    let commands: [&[&str]; 6] = [
        &["validate", "idle.toml", "t.toml"],
        &["run", "t.toml", "-m", "idle.toml", "--out", "run"],
        &[
            "capacity",
            "t.toml",
            "-m",
            "idle.toml",
            "--slo",
            "p99=50ms",
            "--out",
            "cap",
        ],
        &[
            "sensitivity",
            "t.toml",
            "-m",
            "idle.toml",
            "--rate",
            "50",
            "--out",
            "sens",
        ],
        &[
            "migrate",
            "t.toml",
            "--from",
            "clean.toml",
            "--to",
            "idle.toml",
            "--out",
            "mig",
        ],
        &["sweep", "w.study.toml", "--out", "sweep"],
    ];
    for args in commands {
        let mut args = args.to_vec();
        if args[0] != "validate" {
            args.extend(["--threads", "1"]);
        }
        args.push("--json");
        let r = ztsim_in(dir.path(), &args);
        r.expect_code(0);
        let doc: serde_json::Value = serde_json::from_str(&r.stdout).expect("one JSON document");
        assert_eq!(doc["command"], args[0], "{}", r.show());
        let mut expected = warnings_of("idle.toml");
        if args[0] == "sweep" {
            // The swept key has no effect at any point: warned about in
            // the file, and the two points are one system, said as the
            // study's (no file, no line).
            expected.push("warning: 1 of 2 points is the same system as another point (a swept parameter does not apply to their design), so 1 point runs and the other takes its results, seed included:".into());
        }
        assert_eq!(listed(&doc), expected, "{args:?}\n{}", r.show());
        assert_eq!(warned(&r), expected, "{args:?}\n{}", r.show());
    }
    // A clean design, nothing to say; an overloaded service, said at its
    // `cores` (at its table, which leaves them to the default).
    let r = ztsim_in(dir.path(), &["validate", "clean.toml", "t.toml", "--json"]);
    r.expect_code(0);
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).expect("one JSON document");
    assert_eq!(doc["warnings"], serde_json::json!([]), "{}", r.show());
    let r = ztsim_in(
        dir.path(),
        &[
            "run",
            "t.toml",
            "--rate",
            "1200",
            "--requests",
            "50",
            "--json",
            "--out",
            "hot",
        ],
    );
    // Saturated, and not a failure without --fail-on-slo.
    r.expect_code(0);
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).expect("one JSON document");
    let expected = vec!["warning: t.toml:3:11: services.s.cores: at 1200 rps, service `s` is offered 120% of its cores by business CPU alone: it will saturate".to_string()];
    assert_eq!(listed(&doc), expected, "{}", r.show());
    assert_eq!(warned(&r), expected, "{}", r.show());
}

#[test]
fn run_warns_and_writes_what_it_would_without_the_keys() {
    let dir = folder();
    let run = |design: &str, out: &str| {
        ztsim_in(
            dir.path(),
            &[
                "run",
                "t.toml",
                "-m",
                design,
                "--out",
                out,
                "--threads",
                "1",
            ],
        )
    };
    let r = run("idle.toml", "idle");
    r.expect_code(0);
    assert_eq!(warned(&r), warnings_of("idle.toml"), "{}", r.show());
    let c = run("clean.toml", "clean");
    c.expect_code(0);
    assert_eq!(warned(&c), Vec::<String>::new(), "{}", c.show());
    // The keys change nothing the run writes.
    let read = |f: &str| std::fs::read(dir.path().join(f)).unwrap();
    assert_eq!(read("idle/summary.json"), read("clean/summary.json"));
    assert_eq!(read("idle/latency.csv"), read("clean/latency.csv"));
    assert_eq!(read("idle/timeseries.csv"), read("clean/timeseries.csv"));
}

#[test]
fn a_design_named_by_an_override_is_warned_about_in_its_own_file() {
    let dir = folder();
    let base = "[transport]\nsecurity = \"mtls\"\n[[override]]\nservices = [\"s\"]\ndesign = \"idle.toml\"\n";
    std::fs::write(dir.path().join("base.toml"), base).unwrap();
    let r = ztsim_in(dir.path(), &["validate", "base.toml", "t.toml"]);
    r.expect_code(0);
    // Named as the override's path from the design's folder.
    assert_eq!(warned(&r), warnings_of("idle.toml"), "{}", r.show());
}

#[test]
fn a_study_warns_once_about_keys_no_point_applies() {
    let dir = folder();
    // proxy.mode swept on: the proxy's key applies at the sidecar points.
    let study = "name = \"w\"\ntopology = \"t.toml\"\ndesigns = [\"idle.toml\"]\nrates = [50, 100]\n\
        [params]\n\"proxy.mode\" = [\"none\", \"sidecar\"]\n";
    std::fs::write(dir.path().join("w.study.toml"), study).unwrap();
    let expected: Vec<String> = warnings_of("idle.toml")
        .into_iter()
        .filter(|w| !w.contains("proxy.request_cpu"))
        .collect();
    let r = ztsim_in(dir.path(), &["validate", "w.study.toml"]);
    r.expect_code(0);
    assert_eq!(warned(&r), expected, "{}", r.show());
    let r = ztsim_in(
        dir.path(),
        &["sweep", "w.study.toml", "--out", "w", "--threads", "1"],
    );
    r.expect_code(0);
    assert_eq!(warned(&r), expected, "{}", r.show());
}

#[test]
fn no_shipped_model_sets_a_key_to_no_effect() {
    let models: Vec<String> = std::fs::read_dir(root().join("models"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| p.display().to_string())
        .collect();
    assert!(models.len() >= 9, "{models:?}");
    let mut args = vec!["validate"];
    args.extend(models.iter().map(String::as_str));
    let topology = root().join("topologies/chatty.toml").display().to_string();
    args.push(&topology);
    let r = Run::from(common::ztsim(&args));
    r.expect_code(0);
    assert!(!r.stderr.contains("warning"), "{}", r.show());
}
