//! Sweeps keep common random numbers honest: points whose resolved
//! configuration is identical (a swept parameter that does not apply to a
//! design) run once, share their results exactly, say which parameters did
//! not apply, and are warned about before the sweep starts; resume, shards
//! and merge keep them so.

mod common;

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::AtomicBool;

use common::{Run, TempDir, root, ztsim};

use ztsim::config::study::{self, Input, Study, StudySpec};
use ztsim::report::study::{PointResult, read_results};
use ztsim::study::{shard, sweep};
use ztsim::{model, report};

fn input(rel: &str) -> Input {
    Input::read(&root().join(rel)).unwrap()
}

fn text(v: &str) -> toml::Value {
    toml::Value::String(v.into())
}

/// Plaintext (no TLS: session tickets do not apply) and a TLS design with
/// tickets, sweeping the ticket lifetime over three values at two loads.
fn spec() -> StudySpec {
    StudySpec {
        name: "same".into(),
        title: "same systems".into(),
        topology: input("topologies/minimal.toml"),
        designs: vec![
            input("models/plaintext.toml"),
            input("models/grpc-mtls-local-policy.toml"),
        ],
        rates: vec![200.0, 400.0],
        focus_rate: Some(200.0),
        blend_entries: false,
        params: vec![(
            "resumption.ticket_ttl".into(),
            vec![text("1m"), text("5m"), text("30m")],
        )],
        replications: Some(2),
        seed: Some(5),
        duration: Some(500_000_000),
        requests: None,
        warmup: Some(100_000_000),
        slos: Vec::new(),
        costs: None,
    }
}

/// The points' `same_as`, in grid order.
fn same_as(study: &Study) -> Vec<Option<usize>> {
    study.points.iter().map(|p| p.same_as).collect()
}

/// Runs `study` from `previous`, counting the points simulated through the
/// callback (a point that ran has no `same_as`).
fn run(study: &Study, previous: Vec<PointResult>) -> (sweep::Outcome, usize) {
    let simulated = Mutex::new(0usize);
    let outcome = sweep::run_resumable(
        study,
        previous,
        &|p| {
            if p.same_as.is_none() {
                *simulated.lock().unwrap() += 1;
            }
        },
        &AtomicBool::new(false),
    );
    (outcome, simulated.into_inner().unwrap())
}

fn json<T: serde::Serialize>(x: &T) -> String {
    serde_json::to_string(x).unwrap()
}

#[test]
fn sweeps_with_non_applying_parameters_run_each_distinct_configuration_once() {
    let study = study::expand(&spec()).unwrap();
    // Grid: ttl outermost, then load (200, 400), then design (plaintext,
    // grpc). Plaintext at 5m and 30m is plaintext at 1m, load by load.
    assert_eq!(study.points.len(), 12);
    assert_eq!(
        same_as(&study),
        vec![
            None,
            None,
            None,
            None,
            Some(0),
            None,
            Some(2),
            None,
            Some(0),
            None,
            Some(2),
            None
        ]
    );
    assert_eq!(study.distinct_points(), 8);
    for p in &study.points {
        let expected: &[&str] = if p.design == "plaintext" {
            &["resumption.ticket_ttl"]
        } else {
            &[]
        };
        assert_eq!(p.not_applying, expected, "{} {:?}", p.design, p.params);
    }

    let (outcome, simulated) = run(&study, Vec::new());
    assert!(outcome.complete);
    assert_eq!((outcome.computed, simulated), (8, 8), "one run per system");
    assert_eq!(outcome.shared, 4);
    let points = &outcome.results.points;
    assert_eq!(points.len(), 12, "every grid point is reported");
    for (i, p) in points.iter().enumerate() {
        assert_eq!(p.index, i);
        assert_eq!(p.at.params, study.points[i].params, "its own coordinates");
        assert_eq!(p.same_as, study.points[i].same_as);
        let Some(j) = p.same_as else { continue };
        let first = &points[j];
        // The identical system shows identically: its figures exactly.
        assert_eq!(p.seed, first.seed);
        assert_eq!(json(&p.summary), json(&first.summary));
        assert_eq!(json(&p.replications), json(&first.replications));
        assert_eq!(json(&p.cdf), json(&first.cdf));
        assert_eq!(json(&p.series), json(&first.series));
    }
    // The TLS design's points all ran, each on its own seed.
    let grpc_seeds: Vec<u64> = points
        .iter()
        .filter(|p| p.at.design != "plaintext")
        .map(|p| p.seed)
        .collect();
    let mut distinct = grpc_seeds.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), grpc_seeds.len());
}

#[test]
fn a_non_applying_value_really_changes_nothing() {
    // What `same_as` claims, checked by simulation: plaintext with a 30m
    // ticket on the 1m point's topology and seed is the 1m point, exactly.
    let study = study::expand(&spec()).unwrap();
    let (first, same) = (&study.points[0], &study.points[8]);
    assert_eq!(same.same_as, Some(0));
    assert_ne!(
        first.design_model.resumption.ticket_ttl, same.design_model.resumption.ticket_ttl,
        "the files differ"
    );
    let summary = |d: &model::Design| {
        let runs = model::Replications::of(&first.topology, d);
        json(&report::summarize(&first.topology, d, &runs.runs))
    };
    assert_eq!(summary(&first.design_model), summary(&same.design_model));
}

#[test]
fn a_parameter_that_applies_to_every_design_makes_no_aliases() {
    // Both designs resume sessions: the ticket lifetime applies to both.
    let mut s = spec();
    s.designs = vec![
        input("models/tls-edge.toml"),
        input("models/grpc-mtls-local-policy.toml"),
    ];
    let study = study::expand(&s).unwrap();
    assert_eq!(study.distinct_points(), study.points.len());
    assert!(study.points.iter().all(|p| p.not_applying.is_empty()));
    // A topology parameter changes every design's system.
    let mut s = spec();
    s.params = vec![(
        "services.db.replicas".into(),
        vec![toml::Value::Integer(1), toml::Value::Integer(2)],
    )];
    let study = study::expand(&s).unwrap();
    assert_eq!(study.distinct_points(), study.points.len());
}

#[test]
fn a_proxy_parameter_does_not_apply_without_a_proxy() {
    let mut s = spec();
    s.rates = vec![200.0];
    s.designs = vec![
        input("models/plaintext.toml"),
        input("models/istio-sidecar.toml"),
    ];
    s.params = vec![
        (
            "proxy.request_cpu".into(),
            vec![text("100us"), text("300us")],
        ),
        (
            "services.api.replicas".into(),
            vec![toml::Value::Integer(2), toml::Value::Integer(3)],
        ),
    ];
    let study = study::expand(&s).unwrap();
    // cpu outermost, then replicas, then design: plaintext points 0 and 2
    // (replicas 2 and 3 at 100us) run; 4 and 6 (300us) are them.
    assert_eq!(study.points.len(), 8);
    assert_eq!(
        same_as(&study),
        vec![None, None, None, None, Some(0), None, Some(2), None]
    );
    assert_eq!(study.points[6].not_applying, ["proxy.request_cpu"]);
    assert!(study.points[1].not_applying.is_empty());
}

#[test]
fn resume_and_shards_never_run_an_alias() {
    let study = study::expand(&spec()).unwrap();
    let (full, _) = run(&study, Vec::new());
    // Interrupted after the runs were saved but before their aliases were:
    // nothing is simulated again.
    let runs_only: Vec<PointResult> = full
        .results
        .points
        .iter()
        .filter(|p| p.same_as.is_none())
        .cloned()
        .collect();
    let (resumed, simulated) = run(&study, runs_only);
    assert_eq!((resumed.computed, simulated, resumed.shared), (0, 0, 4));
    assert_eq!(json(&resumed.results), json(&full.results));
    let (again, _) = run(&study, full.results.points.clone());
    assert_eq!((again.computed, again.shared, again.reused), (0, 0, 12));

    // Every split keeps an alias with the point it is, covers each point
    // once, and a shard simulates only the points that run.
    for n in 1..=4 {
        let mut seen = vec![0; study.points.len()];
        let mut computed = 0;
        for index in 0..n {
            let owned = shard::owned(&study, shard::Shard { index, count: n });
            for &i in &owned {
                seen[i] += 1;
                if let Some(j) = study.points[i].same_as {
                    assert!(owned.contains(&j), "{i} travels with {j}");
                }
            }
            let out =
                sweep::run_subset(&study, &owned, Vec::new(), &|_| {}, &AtomicBool::new(false));
            assert!(out.complete);
            computed += out.computed;
            for p in &out.results.points {
                assert_eq!(json(p), json(&full.results.points[p.index]));
            }
        }
        assert!(seen.iter().all(|&k| k == 1), "{n} shards: {seen:?}");
        assert_eq!(computed, 8, "{n} shards run each system once");
    }
}

fn sweep_args(out: &Path, extra: &[&str]) -> Vec<String> {
    let p = |rel: &str| root().join(rel).display().to_string();
    let mut args: Vec<String> = [
        "sweep",
        "--topology",
        &p("topologies/minimal.toml"),
        "-m",
        &p("models/plaintext.toml"),
        "-m",
        &p("models/grpc-mtls-local-policy.toml"),
        "--rate",
        "200",
        "--param",
        "resumption.ticket_ttl=1m,5m,30m",
        "--duration",
        "0.3s",
        "--warmup",
        "0s",
        "--replications",
        "1",
        "--seed",
        "3",
        "--name",
        "same",
        "--threads",
        "2",
        "--out",
        &out.display().to_string(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

#[test]
fn the_sweep_warns_first_reports_once_and_merges_shards_alike() {
    let tmp = TempDir::new("same-system");
    let full = tmp.path().join("full");
    let r = Run::from(ztsim(&sweep_args(&full, &[])));
    r.expect_code(0);
    // The warning, on standard error, before any point ran.
    assert!(
        r.stderr.contains("warning: 2 of 6 points are the same system as another point")
            && r.stderr.contains("so 4 points run")
            && r.stderr.contains(
                "plaintext: resumption.ticket_ttl does not apply; its 3 values are one system, run once with the seed of resumption.ticket_ttl=1m"
            ),
        "{}",
        r.show()
    );
    assert!(
        !r.stderr.contains("grpc-mtls-local-policy:"),
        "{}",
        r.show()
    );
    assert!(r.stdout.contains("= 4 runs"), "{}", r.show());
    // The terminal table shows plaintext once, with a note.
    assert!(
        r.stdout.contains("plaintext, resumption.ticket_ttl=any")
            && !r.stdout.contains("plaintext, resumption.ticket_ttl=5m")
            && r.stdout
                .contains("note: plaintext: resumption.ticket_ttl does not apply"),
        "{}",
        r.show()
    );
    // results.json and results.csv mark the aliases.
    let results = read_results(&full.join("results.json")).unwrap();
    let marks: Vec<(Option<usize>, usize)> = results
        .points
        .iter()
        .map(|p| (p.same_as, p.not_applying.len()))
        .collect();
    assert_eq!(
        marks,
        vec![
            (None, 1),
            (None, 0),
            (Some(0), 1),
            (None, 0),
            (Some(0), 1),
            (None, 0)
        ]
    );
    let csv = std::fs::read_to_string(full.join("results.csv")).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let row2: Vec<&str> = csv
        .lines()
        .find(|l| l.starts_with("2,"))
        .unwrap()
        .split(',')
        .collect();
    assert_eq!(
        (row2[col("same_as")], row2[col("not_applying")]),
        ("0", "resumption.ticket_ttl")
    );
    // The report says it once too (Markdown escapes the underscore).
    let report = std::fs::read_to_string(full.join("report.md")).unwrap();
    assert!(
        report.contains("plaintext: resumption.ticket\\_ttl does not apply; its 3 values")
            && report.contains("- plaintext, resumption.ticket\\_ttl=any: p99")
            && !report.contains("plaintext, resumption.ticket\\_ttl=5m"),
        "{report}"
    );

    // Two shards and a merge give the same bytes.
    for s in ["0/2", "1/2"] {
        let dir = tmp.path().join(format!("shard{}", &s[..1]));
        Run::from(ztsim(&sweep_args(&dir, &["--shard", s]))).expect_code(0);
    }
    let merged = tmp.path().join("merged");
    let r = Run::from(ztsim(&[
        "merge".to_string(),
        tmp.path().join("shard0").display().to_string(),
        tmp.path().join("shard1").display().to_string(),
        "--out".to_string(),
        merged.display().to_string(),
    ]));
    r.expect_code(0);
    for f in ["results.json", "results.csv"] {
        assert_eq!(
            std::fs::read(full.join(f)).unwrap(),
            std::fs::read(merged.join(f)).unwrap(),
            "{f}"
        );
    }
}

#[test]
fn tickets_off_and_no_policy_are_one_system_whatever_their_settings() {
    // A TLS design with tickets off (naive-mtls) ignores the ticket
    // lifetime; plaintext (no policy) ignores the decision cache; the design
    // with tickets and policy (grpc) reads both.
    let mut s = spec();
    s.rates = vec![300.0];
    s.designs = vec![
        input("models/naive-mtls.toml"),
        input("models/plaintext.toml"),
        input("models/grpc-mtls-local-policy.toml"),
    ];
    s.params = vec![
        ("resumption.ticket_ttl".into(), vec![text("1s"), text("1h")]),
        ("authz.cache_ttl".into(), vec![text("0s"), text("10s")]),
    ];
    let study = study::expand(&s).unwrap();
    // ttl outermost, then cache, then design (naive, plaintext, grpc).
    assert_eq!(
        same_as(&study),
        vec![
            None,
            None,
            None,
            None,
            Some(1),
            None,
            Some(0),
            Some(1),
            None,
            Some(3),
            Some(1),
            None
        ]
    );
    let paths = |i: usize| study.points[i].not_applying.clone();
    assert_eq!(paths(6), ["resumption.ticket_ttl"], "naive reads its cache");
    assert_eq!(paths(10), ["resumption.ticket_ttl", "authz.cache_ttl"]);
    assert!(paths(2).is_empty() && paths(11).is_empty());
    // The claim, simulated: naive-mtls at 1h on the 1s point's seed is the
    // 1s point (TLS handshakes happen, tickets are never used).
    let (first, same) = (&study.points[0], &study.points[6]);
    assert_ne!(
        first.design_model.resumption.ticket_ttl,
        same.design_model.resumption.ticket_ttl
    );
    let summary = |d: &model::Design| {
        let runs = model::Replications::of(&first.topology, d);
        json(&report::summarize(&first.topology, d, &runs.runs))
    };
    assert_eq!(summary(&first.design_model), summary(&same.design_model));
}

#[test]
fn a_key_read_only_under_another_setting_is_one_system_where_it_is_not_read() {
    // (a design that never reads the key, one that does, the key, two values)
    let mtls = "[transport]\nsecurity = \"mtls\"\n";
    let cases = [
        (
            "[transport]\nsecurity = \"plaintext\"\n".to_string(),
            mtls.to_string(),
            "transport.cpu.server_full",
            [text("100us"), text("3ms")],
        ),
        (
            format!("{mtls}tls_version = \"1.3\"\n[connections]\nreuse = \"per-request\"\n"),
            format!("{mtls}tls_version = \"1.2\"\n[connections]\nreuse = \"per-request\"\n"),
            "transport.cpu.client_finish",
            [text("10us"), text("200us")],
        ),
        (
            "[connections]\nreuse = \"pool\"\n".to_string(),
            "[connections]\nreuse = \"multiplex\"\nmax_per_destination = 1\n".to_string(),
            "connections.max_concurrent_streams",
            [toml::Value::Integer(1), toml::Value::Integer(100)],
        ),
        (
            format!("{mtls}[connections]\nreuse = \"per-request\"\n"),
            format!("{mtls}[connections]\nreuse = \"pool\"\n"),
            "connections.max_per_destination",
            [toml::Value::Integer(1), toml::Value::Integer(1024)],
        ),
        (
            "[authz]\nmode = \"in-process\"\n".to_string(),
            "[authz]\nmode = \"sidecar\"\n".to_string(),
            "authz.sidecar_cores",
            [text("100m"), toml::Value::Integer(4)],
        ),
        (
            "[authz]\nmode = \"remote\"\npolicy = \"policy.check\"\n".to_string(),
            "[authz]\nmode = \"in-process\"\n".to_string(),
            "authz.eval_cpu",
            [text("10us"), text("3ms")],
        ),
    ];
    for (unread, read, key, values) in cases {
        let mut s = spec();
        s.topology = input("topologies/chatty.toml");
        s.rates = vec![300.0];
        s.focus_rate = None;
        s.replications = Some(1);
        s.duration = Some(300_000_000);
        s.designs = [("unread", &unread), ("read", &read)]
            .map(|(name, body)| Input {
                name: format!("{name}.toml"),
                text: format!("name = \"{name}\"\n{body}"),
            })
            .to_vec();
        s.params = vec![(key.into(), values.to_vec())];
        let study = study::expand(&s).unwrap_or_else(|e| panic!("{key}: {e:?}"));
        // Value outermost, then design: the unread design's second point
        // is its first; the design that reads the key has two systems.
        assert_eq!(same_as(&study), [None, None, Some(0), None], "{key}");
        // The claim, simulated: each design's second value on its first
        // value's seed.
        let summary = |seed_of: usize, design_of: usize| {
            let (t, d) = (
                &study.points[seed_of].topology,
                &study.points[design_of].design_model,
            );
            json(&report::summarize(
                t,
                d,
                &model::Replications::of(t, d).runs,
            ))
        };
        assert_eq!(summary(0, 0), summary(0, 2), "{key} changed the run");
        assert_ne!(
            summary(1, 1),
            summary(1, 3),
            "{key} changes nothing where it applies"
        );
    }
}
