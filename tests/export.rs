//! Exported traces (`ztsim run --export-traces`): the picked requests are the
//! slowest and a seeded sample; each trace's span tree is consistent with the
//! simulation to the nanosecond (root = latency, children inside parents,
//! phases adding up to the latency and to its critical-path attribution);
//! the files have Jaeger's and OTLP's shapes; the same seed writes the same
//! bytes.

mod common;

use std::collections::HashMap;
use std::path::Path;

use common::ztsim;

use serde_json::Value as Json;
use ztsim::config::{parse_design, parse_topology};
use ztsim::model::cost::{SPANS, Span};
use ztsim::model::record::{self, CallKind, RequestTrace, Side, Step};
use ztsim::model::{Design, Topology};
use ztsim::report::traces::{self, EPOCH_NS, Kind};

/// A chain client -> front -> mid -> db with random CPU at a load that
/// queues, plus the policy and identity services a Zero Trust design calls.
const CHAIN: &str = r#"
[zones.z]
rtt = { dist = "lognormal", median = "0.4ms", p99 = "1.5ms" }
[services.front]
cores = 2
endpoints.get = { cpu = { dist = "exponential", mean = "1ms" }, stages = [[{ call = "mid.get" }], [{ call = "db.read", times = 2 }]] }
[services.mid]
cores = 2
endpoints.get = { cpu = { dist = "exponential", mean = "2ms" }, stages = [[{ call = "db.read" }]] }
[services.db]
endpoints.read = { cpu = { dist = "exponential", mean = "0.3ms" } }
[services.policy]
replicas = 2
endpoints.check.cpu = "0.3ms"
[services.identity]
endpoints.issue.cpu = "1ms"
[workload]
arrivals = "poisson"
rate = 300
duration = "4s"
warmup = "0.5s"
replications = 2
seed = 11
entry = [{ endpoint = "front.get" }]
"#;

/// mTLS 1.2 with a new connection per call, a remote policy service and
/// tokens fetched from the identity service: every phase kind shows up.
const NAIVE: &str = r#"
name = "naive"
[transport]
security = "mtls"
tls_version = "1.2"
[connections]
reuse = "per-request"
[resumption]
tickets = false
[identity]
token_ttl = "100ms"
token_issuer = "identity.issue"
[authn]
jwt = "rs256"
[authz]
mode = "remote"
policy = "policy.check"
"#;

/// Sidecar proxies, pooled connections with a small pool (connection waits),
/// policy in the sidecar with a cache.
const SIDECAR: &str = r#"
name = "sidecar"
[transport]
security = "mtls"
terminate = "sidecar"
[connections]
reuse = "pool"
max_per_destination = 3
[proxy]
mode = "sidecar"
[authz]
mode = "proxy"
cache_ttl = "50ms"
"#;

fn setup(design: &str) -> (Topology, Design) {
    let topo = parse_topology("chain.toml", CHAIN).unwrap_or_else(|e| panic!("{e:?}"));
    let design = parse_design("d.toml", design, Some(&topo)).unwrap_or_else(|e| panic!("{e:?}"));
    (topo, design)
}

/// Leaf phases of a trace, summed per critical-path span; a token fetch's
/// or a remote policy check's phases are that call's time, which the
/// simulation charges to authn and authz as a whole.
fn leaf_attribution(t: &RequestTrace) -> [u64; SPANS] {
    let mut sum = [0u64; SPANS];
    for ph in &t.phases {
        let mut c = ph.call as usize;
        let mut infra = None;
        loop {
            match t.calls[c].kind {
                CallKind::Authz => infra = Some(Span::Authz),
                CallKind::Token => infra = Some(Span::Authn),
                _ => {}
            }
            match t.calls[c].parent {
                Some(p) => c = p as usize,
                None => break,
            }
        }
        let a = ph.attribution();
        match infra {
            Some(span) => sum[span as usize] += a.iter().sum::<u64>(),
            None => {
                for (s, x) in sum.iter_mut().zip(a) {
                    *s += x;
                }
            }
        }
    }
    sum
}

fn check_design(design_text: &str, must_see: &[Step]) {
    let (topo, design) = setup(design_text);
    let (runs, picks) = record::run_and_pick(&topo, &design, 5, 8);
    assert!(runs.runs.iter().all(|r| r.saturation.is_none()));
    assert_eq!(picks.len(), 13, "{picks:?}");
    // The slowest pick is the run's slowest request, exactly.
    let max = runs
        .runs
        .iter()
        .filter_map(|r| r.endpoints[0].latency.max())
        .max()
        .unwrap();
    assert_eq!(picks[0].latency, max);
    assert!(picks[..5].windows(2).all(|w| w[0].latency >= w[1].latency));
    assert!(picks[..5].iter().all(|p| p.slowest));
    // The sample reaches into both replications and below the slowest.
    assert!(picks.iter().any(|p| p.sampled && p.replication == 1));
    assert!(
        picks[5..]
            .iter()
            .all(|p| p.sampled && p.latency <= picks[4].latency)
    );

    let traces = record::record(&topo, &design, &picks);
    assert_eq!(traces.len(), picks.len());
    let mut seen = Vec::new();
    for (t, p) in traces.iter().zip(&picks) {
        // The re-run is the same run: same latency as when picked.
        assert_eq!(t.latency, p.latency);
        assert_eq!(t.calls[0].end.unwrap() - t.calls[0].start, t.latency);
        // A chain: the phases tile the request's life, so they add up to
        // its latency and, span by span, to its attribution.
        let total: u64 = t.phases.iter().map(|ph| ph.end - ph.start).sum();
        assert_eq!(total, t.latency, "phases add up to the latency");
        assert_eq!(t.attribution.iter().sum::<u64>(), t.latency);
        assert_eq!(
            leaf_attribution(t),
            t.attribution,
            "phases match the attribution"
        );
        for ph in &t.phases {
            let c = &t.calls[ph.call as usize];
            if ph.side == Side::Server {
                let (s, e) = c.server.unwrap();
                assert!(s <= ph.start && ph.end <= e, "{ph:?} outside {c:?}");
            } else {
                assert!(c.start <= ph.start && ph.end <= c.end.unwrap());
            }
            if ph.cpu.iter().sum::<u64>() > 0 {
                assert_eq!(ph.cpu.iter().sum::<u64>(), ph.end - ph.start);
            }
            seen.push(ph.step);
        }
        // Calls: 1 root + mid + 3 db + infra, each child inside its parent.
        assert!(t.calls.len() >= 5);
        for c in &t.calls[1..] {
            let p = &t.calls[c.parent.unwrap() as usize];
            let (s, e) = if c.kind == CallKind::Token {
                (p.start, p.end.unwrap())
            } else {
                p.server.unwrap()
            };
            assert!(s <= c.start && c.end.unwrap() <= e, "{c:?} outside {p:?}");
        }
    }
    for step in must_see {
        assert!(seen.contains(step), "no {step:?} phase in {seen:?}");
    }

    // The spans written: one client span per call, one server span per
    // call, one per phase; children inside parents; root = latency.
    let out = traces::build(&topo, &design, &traces);
    for (o, t) in out.iter().zip(&traces) {
        assert_eq!(o.spans.len(), 2 * t.calls.len() + t.phases.len());
        let by_id: HashMap<u64, &traces::OutSpan> =
            o.spans.iter().map(|s| (s.span_id, s)).collect();
        assert_eq!(by_id.len(), o.spans.len(), "span ids are unique");
        let root = &o.spans[0];
        assert!(root.parent.is_none() && root.kind == Kind::Client && root.service == "client");
        assert_eq!(root.end - root.start, t.latency);
        for s in &o.spans[1..] {
            let p = by_id[&s.parent.expect("one root")];
            assert!(p.start <= s.start && s.end <= p.end, "{s:?} outside {p:?}");
        }
    }
}

#[test]
fn naive_mtls_traces_are_consistent() {
    check_design(
        NAIVE,
        &[
            Step::TcpConnect,
            Step::TlsClientHello,
            Step::TlsServerFlight,
            Step::HandshakeCpu,
            Step::CallerCpu,
            Step::ServiceCpu,
            Step::CoreWait,
            Step::RequestTransit,
            Step::ResponseTransit,
        ],
    );
}

#[test]
fn sidecar_traces_are_consistent() {
    check_design(
        SIDECAR,
        &[
            Step::InboundProxyCpu,
            Step::CallerCpu,
            Step::ServiceCpu,
            Step::ConnectionWait,
            Step::RequestTransit,
        ],
    );
}

#[test]
fn baseline_traces_are_consistent() {
    check_design(
        "name = \"plain\"\n",
        &[Step::ServiceCpu, Step::RequestTransit],
    );
}

/// The same requests under another design: same arrival index, same entry;
/// picks are made once, by the design run.
#[test]
fn the_baseline_shows_the_same_requests() {
    let (topo, design) = setup(NAIVE);
    let (_, picks) = record::run_and_pick(&topo, &design, 3, 3);
    let zt = record::record(&topo, &design, &picks);
    let base = record::record(&topo, &Design::plaintext(), &picks);
    assert_eq!(base.len(), zt.len());
    for (b, z) in base.iter().zip(&zt) {
        assert_eq!(b.pick, z.pick);
        assert_eq!(b.calls[0].start, z.calls[0].start, "same arrival");
        assert!(b.latency < z.latency);
    }
}

fn read_json(p: &Path) -> Json {
    serde_json::from_slice(&std::fs::read(p).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn hex(s: &Json, len: usize) -> &str {
    let s = s.as_str().expect("a string id");
    assert!(
        s.len() == len && s.chars().all(|c| c.is_ascii_hexdigit()),
        "{s}"
    );
    s
}

/// The files: Jaeger and OTLP shapes, the baseline beside, byte-identical
/// on a second run and on another thread count.
#[test]
fn exported_files_have_the_documented_shape_and_are_deterministic() {
    let root = std::env::temp_dir().join(format!("ztsim-export-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let topo = Path::new(env!("CARGO_MANIFEST_DIR")).join("topologies/minimal.toml");
    let design = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/istio-sidecar.toml");
    let run = |name: &str, threads: &str| {
        let dir = root.join(name);
        let out = ztsim(&[
            "run",
            topo.to_str().unwrap(),
            "--model",
            design.to_str().unwrap(),
            "--duration",
            "2s",
            "--replications",
            "2",
            "--threads",
            threads,
            "--out",
            root.join(format!("{name}-run")).to_str().unwrap(),
            "--export-traces",
            dir.to_str().unwrap(),
            "--export-slowest",
            "4",
            "--export-sample",
            "6",
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        dir
    };
    let a = run("a", "1");
    let b = run("b", "2");
    for f in [
        "jaeger.json",
        "otlp.json",
        "index.csv",
        "baseline/jaeger.json",
        "baseline/otlp.json",
    ] {
        assert_eq!(
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
            "{f} differs between runs"
        );
    }

    // Jaeger.
    let j = read_json(&a.join("jaeger.json"));
    let data = j["data"].as_array().unwrap();
    assert_eq!(data.len(), 10);
    let index = std::fs::read_to_string(a.join("index.csv")).unwrap();
    let rows: Vec<&str> = index.lines().skip(1).collect();
    assert_eq!(rows.len(), 10);
    for (t, row) in data.iter().zip(&rows) {
        let tid = hex(&t["traceID"], 32);
        assert!(row.starts_with(tid), "index row {row} is trace {tid}");
        let processes = t["processes"].as_object().unwrap();
        assert!(processes.values().any(|p| p["serviceName"] == "client"));
        let spans = t["spans"].as_array().unwrap();
        let ids: HashMap<&str, &Json> = spans.iter().map(|s| (hex(&s["spanID"], 16), s)).collect();
        let mut roots = 0;
        for s in spans {
            assert_eq!(s["traceID"], t["traceID"]);
            assert!(s["operationName"].as_str().is_some_and(|n| !n.is_empty()));
            assert!(processes.contains_key(s["processID"].as_str().unwrap()));
            let start = s["startTime"].as_u64().unwrap();
            let dur = s["duration"].as_u64().unwrap();
            assert!((EPOCH_NS / 1000..EPOCH_NS / 1000 + 3_600_000_000).contains(&start));
            for tag in s["tags"].as_array().unwrap() {
                let ty = tag["type"].as_str().unwrap();
                assert!(["string", "int64", "bool"].contains(&ty));
                assert!(tag["key"].is_string());
            }
            match s["references"].as_array().unwrap().as_slice() {
                [] => roots += 1,
                [r] => {
                    assert_eq!(r["refType"], "CHILD_OF");
                    assert_eq!(r["traceID"], t["traceID"]);
                    let p = ids[r["spanID"].as_str().unwrap()];
                    let (ps, pd) = (
                        p["startTime"].as_u64().unwrap(),
                        p["duration"].as_u64().unwrap(),
                    );
                    assert!(
                        ps <= start && start + dur <= ps + pd,
                        "child outside parent"
                    );
                }
                more => panic!("{} references", more.len()),
            }
        }
        assert_eq!(roots, 1);
        // The root's exact duration is a tag; its µs duration covers it.
        let root = &spans[0];
        let ns = root["tags"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["key"] == "ztsim.latency_ns")
            .unwrap()["value"]
            .as_i64()
            .unwrap() as u64;
        let latency_ms: f64 = row.split(',').nth(4).unwrap().parse().unwrap();
        assert!((ns as f64 / 1e6 - latency_ms).abs() < 1e-6);
        let dur = root["duration"].as_u64().unwrap();
        assert!(dur * 1000 >= ns && dur * 1000 < ns + 2000);
    }
    // The slowest first: the first row's latency is the largest.
    let lat: Vec<f64> = rows
        .iter()
        .map(|r| r.split(',').nth(4).unwrap().parse().unwrap())
        .collect();
    assert!(lat.iter().all(|&l| l <= lat[0]));

    // OTLP.
    let o = read_json(&a.join("otlp.json"));
    let mut spans_by_trace: HashMap<String, Vec<Json>> = HashMap::new();
    let mut services = Vec::new();
    for rs in o["resourceSpans"].as_array().unwrap() {
        let attrs = rs["resource"]["attributes"].as_array().unwrap();
        assert_eq!(attrs[0]["key"], "service.name");
        services.push(
            attrs[0]["value"]["stringValue"]
                .as_str()
                .unwrap()
                .to_string(),
        );
        for ss in rs["scopeSpans"].as_array().unwrap() {
            assert_eq!(ss["scope"]["name"], "ztsim");
            for s in ss["spans"].as_array().unwrap() {
                hex(&s["spanId"], 16);
                let kind = s["kind"].as_u64().unwrap();
                assert!((1..=3).contains(&kind));
                let start: u64 = s["startTimeUnixNano"].as_str().unwrap().parse().unwrap();
                let end: u64 = s["endTimeUnixNano"].as_str().unwrap().parse().unwrap();
                assert!(start >= EPOCH_NS && end > start);
                for a in s["attributes"].as_array().unwrap() {
                    let v = a["value"].as_object().unwrap();
                    assert!(
                        v.len() == 1
                            && ["stringValue", "intValue", "boolValue"]
                                .contains(&v.keys().next().unwrap().as_str())
                    );
                }
                spans_by_trace
                    .entry(hex(&s["traceId"], 32).to_string())
                    .or_default()
                    .push(s.clone());
            }
        }
    }
    assert!(
        services.contains(&"client".to_string()) && services.contains(&"api".to_string()),
        "{services:?}"
    );
    assert_eq!(spans_by_trace.len(), 10);
    for (t, row) in data.iter().zip(&rows) {
        let spans = &spans_by_trace[t["traceID"].as_str().unwrap()];
        assert_eq!(spans.len(), t["spans"].as_array().unwrap().len());
        let time = |s: &Json, k: &str| s[k].as_str().unwrap().parse::<u64>().unwrap();
        let by_id: HashMap<&str, &Json> = spans
            .iter()
            .map(|s| (s["spanId"].as_str().unwrap(), s))
            .collect();
        let root = spans
            .iter()
            .find(|s| s.get("parentSpanId").is_none())
            .unwrap();
        // Root duration = the request's latency, to the nanosecond.
        let latency_ms: f64 = row.split(',').nth(4).unwrap().parse().unwrap();
        let ns = time(root, "endTimeUnixNano") - time(root, "startTimeUnixNano");
        assert!((ns as f64 / 1e6 - latency_ms).abs() < 1e-6);
        assert_eq!(root["kind"], 3);
        for s in spans {
            if let Some(p) = s.get("parentSpanId") {
                let p = by_id[p.as_str().unwrap()];
                assert!(time(p, "startTimeUnixNano") <= time(s, "startTimeUnixNano"));
                assert!(time(s, "endTimeUnixNano") <= time(p, "endTimeUnixNano"));
            }
        }
    }
    // The baseline: the same requests (same arrival indices), faster.
    let base_index = std::fs::read_to_string(a.join("baseline/index.csv")).unwrap();
    let key = |r: &str| r.split(',').skip(1).take(2).collect::<Vec<_>>().join(",");
    let zt_keys: Vec<String> = rows.iter().map(|r| key(r)).collect();
    let base_keys: Vec<String> = base_index.lines().skip(1).map(key).collect();
    assert_eq!(zt_keys, base_keys);
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn export_and_replay_flags_are_checked() {
    let topo = Path::new(env!("CARGO_MANIFEST_DIR")).join("topologies/minimal.toml");
    let out = ztsim(&["run", topo.to_str().unwrap(), "--replay"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--replay") && err.contains("names no recorded arrivals"),
        "{err}"
    );
    let out = ztsim(&["run", topo.to_str().unwrap(), "--replay-speed", "2"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("add --replay"));
    let out = ztsim(&["run", topo.to_str().unwrap(), "--export-slowest", "3"]);
    assert_eq!(out.status.code(), Some(2), "needs --export-traces");
}
