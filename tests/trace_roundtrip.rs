//! Export, then import: simulated requests written as Jaeger and OTLP traces
//! (`ztsim run --export-traces`) read back by `ztsim import` give the
//! topology they came from (services, endpoints, call graph, entry) and the
//! recorded request durations, exactly for OTLP (nanoseconds) and within
//! its two microsecond roundings for Jaeger. The phase spans of the export (wait for core,
//! network, TLS) are in-process spans and must not become endpoints.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use ztsim::trace::{self, Import};

fn scratch(test: &str) -> PathBuf {
    common::scratch("roundtrip", test)
}

/// A two-level call graph with a parallel stage and a repeated call.
const TOPOLOGY: &str = r#"name = "rt"
[zones.az1]
rtt = "0.4ms"
[services.web]
zone = "az1"
replicas = 2
cores = 2
[services.web.endpoints.page]
cpu = { dist = "exponential", mean = "1ms" }
stages = [
  [{ call = "cart.get" }, { call = "catalog.list" }],
  [{ call = "db.query", times = 2 }],
]
[services.cart]
zone = "az1"
[services.cart.endpoints.get]
cpu = "300us"
stages = [[{ call = "db.query" }]]
[services.catalog]
zone = "az1"
[services.catalog.endpoints.list]
cpu = { dist = "lognormal", median = "500us", p99 = "2ms" }
[services.db]
zone = "az1"
cores = 4
[services.db.endpoints.query]
cpu = { dist = "exponential", mean = "400us" }
[services.policy]
zone = "az1"
replicas = 2
cores = 2
[services.policy.endpoints.check]
cpu = "200us"
[services.identity]
zone = "az1"
[services.identity.endpoints.issue]
cpu = "1ms"
[workload]
arrivals = "poisson"
rate = 100
client_zone = "az1"
warmup = "500ms"
duration = "3s"
seed = 5
replications = 2
entry = [{ endpoint = "web.page" }]
"#;

/// Runs the topology under `model` and exports 10 slowest + 40 sampled
/// requests; returns the export folder.
fn export(test: &str, model: &str) -> PathBuf {
    let dir = scratch(test);
    std::fs::write(dir.join("rt.toml"), TOPOLOGY).unwrap();
    let root = env!("CARGO_MANIFEST_DIR");
    let out = Command::new(env!("CARGO_BIN_EXE_ztsim"))
        .arg("run")
        .arg(dir.join("rt.toml"))
        .args(["-m", &format!("{root}/models/{model}.toml")])
        .args(["--export-slowest", "10", "--export-sample", "40"])
        .arg("--export-traces")
        .arg(dir.join("traces"))
        .arg("--out")
        .arg(dir.join("run"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir.join("traces")
}

/// (entry, latency in ns) of every exported request, from index.csv.
fn exported(dir: &Path) -> Vec<(String, u64)> {
    let text = std::fs::read_to_string(dir.join("index.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (entry, latency) = (col("entry"), col("latency_ms"));
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let ms: f64 = f[latency].parse().unwrap();
            (f[entry].to_string(), (ms * 1e6).round() as u64)
        })
        .collect()
}

fn import(file: &Path) -> Import {
    trace::import(&[file.to_path_buf()], None).unwrap_or_else(|d| panic!("{d:?}"))
}

/// Endpoints (`service.endpoint`), each with its stages of (callee, times).
type Graph = Vec<(String, Vec<Vec<(String, u32)>>)>;

/// The imported call graph as (endpoint, stages of (callee, times)), less
/// the endpoints named in `infrastructure` and the calls to them (stages
/// left empty dropped).
fn graph(i: &Import, infrastructure: &[&str]) -> Graph {
    let m = &i.model;
    let name = |e: usize| {
        let ep = &m.endpoints[e];
        format!("{}.{}", m.services[ep.service].name, ep.name)
    };
    let mut g: Vec<_> = (0..m.endpoints.len())
        .map(|e| {
            let stages = m.endpoints[e]
                .stages
                .iter()
                .map(|s| {
                    let mut calls: Vec<(String, u32)> = s
                        .iter()
                        .map(|c| (name(c.target), c.times))
                        .filter(|(n, _)| !infrastructure.contains(&n.as_str()))
                        .collect();
                    calls.sort();
                    calls
                })
                .filter(|s| !s.is_empty())
                .collect();
            (name(e), stages)
        })
        .filter(|(n, _)| !infrastructure.contains(&n.as_str()))
        .collect();
    g.sort();
    g
}

fn expected_graph() -> Graph {
    let s = |v: &[(&str, u32)]| v.iter().map(|(a, n)| (a.to_string(), *n)).collect();
    vec![
        ("cart.get".into(), vec![s(&[("db.query", 1)])]),
        ("catalog.list".into(), vec![]),
        ("db.query".into(), vec![]),
        (
            "web.page".into(),
            vec![
                s(&[("cart.get", 1), ("catalog.list", 1)]),
                s(&[("db.query", 2)]),
            ],
        ),
    ]
}

fn check_roundtrip(test: &str, model: &str, infrastructure: &[&str]) {
    let dir = export(test, model);
    let requests = exported(&dir);
    assert!(requests.len() >= 40, "{} requests exported", requests.len());
    let mut want: Vec<u64> = requests.iter().map(|r| r.1).collect();
    want.sort_unstable();
    // Jaeger keeps microseconds, its start rounded down and its end up.
    for (file, tolerance_ns) in [("otlp.json", 0), ("jaeger.json", 2_000)] {
        let i = import(&dir.join(file));
        // Only the services the requests went through, under their names;
        // no endpoint for a phase span or for the exporting client.
        assert_eq!(graph(&i, infrastructure), expected_graph(), "{file}");
        // What was left out is there only as infrastructure.
        for e in &i.model.endpoints {
            let n = format!("{}.{}", i.model.services[e.service].name, e.name);
            assert!(
                expected_graph().iter().any(|(g, _)| *g == n)
                    || infrastructure.contains(&n.as_str()),
                "{file}: unexpected endpoint {n}"
            );
        }
        let m = &i.model;
        assert_eq!(m.cleanup.orphans, 0, "{file}");
        assert_eq!(m.cleanup.roots as usize, requests.len(), "{file}");
        assert_eq!(m.entries.len(), 1, "{file}");
        let entry = &m.endpoints[m.entries[0].0];
        assert_eq!(
            (m.services[entry.service].name.as_str(), entry.name.as_str()),
            ("web", "page")
        );
        assert_eq!(m.entries[0].1 as usize, requests.len());
        // Every recorded request's duration, as simulated.
        let mut got: Vec<u64> = m.root_durations.iter().map(|r| r.1).collect();
        got.sort_unstable();
        assert_eq!(got.len(), want.len(), "{file}");
        for (g, w) in got.iter().zip(&want) {
            assert!(
                g.abs_diff(*w) <= tolerance_ns,
                "{file}: a request of {w} ns came back as {g} ns"
            );
        }
    }
}

#[test]
fn plaintext_requests_come_back_as_they_were_simulated() {
    check_roundtrip("plaintext", "plaintext", &[]);
}

/// Under naive mTLS the export carries many more phase spans (TCP and TLS
/// handshakes, JWT, policy, waits) and real calls to the remote policy
/// service and the token issuer, which come back as calls too.
#[test]
fn zero_trust_phases_do_not_become_endpoints() {
    check_roundtrip("naive", "naive-mtls", &["policy.check", "identity.issue"]);
}
