//! `ztsim sensitivity`: the ranking on a case whose answer is known,
//! determinism across thread counts, `--param` parsing and bad input, and
//! the tornado chart files.

mod common;

use std::path::Path;

use common::{Run, TempDir};

use ztsim::config::study::Input;
use ztsim::config::{parse_design, parse_topology};
use ztsim::report::sensitivity::{KnobResult, SensitivityResults};
use ztsim::study::sensitivity::{self, Spec};

/// client -> api -> backend in one zone with a fixed 1 ms RTT and no
/// business CPU; four cores each, so at 20 rps handshake jobs almost never
/// queue.
const TOPOLOGY: &str = r#"
name = "pair"
[zones.z]
rtt = "1ms"
[services.api]
cores = 4
endpoints.get = { stages = [[{ call = "backend.get" }]] }
[services.backend]
cores = 4
endpoints.get = {}
[workload]
arrivals = "poisson"
rate = 20
warmup = "1s"
duration = "6s"
seed = 11
replications = 3
entry = [{ endpoint = "api.get" }]
"#;

/// mTLS 1.3 with a new connection per call, whose only CPU is 2 ms on the
/// server side of each full handshake, all of it before the server's flight
/// (`server_finish = 0`: one job per connection): each request opens two
/// connections (client -> api, api -> backend), so p99 moves by twice any
/// change of `server_full`.
const DESIGN: &str = r#"
name = "handshake-heavy"
[transport]
security = "mtls"
tls_version = "1.3"
bulk_gb_per_s = 1000.0
[transport.cpu]
client_full = "0us"
server_full = "2ms"
server_finish = "0us"
mtls_client = "0us"
mtls_server = "0us"
[connections]
reuse = "per-request"
"#;

fn spec() -> Spec {
    Spec {
        topology: Input {
            name: "pair.toml".into(),
            text: TOPOLOGY.into(),
        },
        design: Input {
            name: "handshake-heavy.toml".into(),
            text: DESIGN.into(),
        },
        rate: 20.0,
        replications: None,
        seed: None,
        duration: None,
        requests: None,
        warmup: None,
        costs: None,
    }
}

fn knob<'a>(r: &'a SensitivityResults, path: &str) -> &'a KnobResult {
    r.knobs
        .iter()
        .find(|k| k.path == path)
        .unwrap_or_else(|| panic!("no knob {path} in {:?}", paths(r)))
}

fn paths(r: &SensitivityResults) -> Vec<&str> {
    r.knobs.iter().map(|k| k.path.as_str()).collect()
}

#[test]
fn default_knobs_apply_to_the_design_and_rank_handshake_cpu_by_its_analytic_effect() {
    let s = spec();
    let topo = parse_topology(&s.topology.name, &s.topology.text).unwrap();
    let design = parse_design(&s.design.name, &s.design.text, Some(&topo)).unwrap();
    let (knobs, skipped) = sensitivity::default_knobs(&design, &s.design);
    let names: Vec<&str> = knobs.iter().map(|k| k.path.as_str()).collect();
    let skipped_paths: Vec<&str> = skipped.iter().map(|k| k.path.as_str()).collect();
    // What does not exist in this design is not varied, and says why.
    for absent in [
        "proxy.request_cpu",
        "authz.eval_cpu",
        "authn.verify_cpu",
        "transport.cpu.client_full",
        "resumption.ticket_ttl",
        "connections.idle_timeout",
    ] {
        assert!(!names.contains(&absent), "{absent} varied: {names:?}");
        assert!(skipped_paths.contains(&absent), "{absent} not reported");
    }
    let server = knobs
        .iter()
        .find(|k| k.path == "transport.cpu.server_full")
        .expect("server_full varied");
    assert_eq!(
        (
            server.base.as_str(),
            server.low.label.as_str(),
            server.high.label.as_str()
        ),
        ("2ms", "1ms", "4ms")
    );
    let reuse = knobs
        .iter()
        .find(|k| k.path == "connections.reuse")
        .unwrap();
    assert_eq!(
        (reuse.low.label.as_str(), reuse.high.label.as_str()),
        ("pool", "multiplex")
    );

    let prepared = sensitivity::prepare(&s, knobs).unwrap();
    let r = sensitivity::run(&s, &prepared, None);
    // Base: TCP + TLS 1.3 + request = 3 RTT per hop, two hops, plus 2 ms of
    // server handshake CPU per hop: 10 ms, a little more at the p99.
    let base = r.base.p99_ms.unwrap().mean;
    assert!((10.0..10.6).contains(&base), "base p99 {base}");
    let hs = knob(&r, "transport.cpu.server_full");
    // 1 ms -> 4 ms on each of two hops: p99 moves by 6 ms.
    let spread = hs.p99.spread.unwrap();
    assert!((spread - 6.0).abs() < 0.3, "server_full spread {spread} ms");
    assert_eq!(hs.p99.within_noise, Some(false));
    let low = hs.low.p99_ms.unwrap().mean;
    assert!((low - (base - 2.0)).abs() < 0.3, "low {low} vs base {base}");
    // A certificate lifetime of 2.4 h or 240 h cannot matter in 7 s: the
    // same seeds give the same requests, so the effect is exactly nil.
    let cert = knob(&r, "identity.cert_ttl");
    assert_eq!(cert.p99.spread, Some(0.0));
    assert_eq!(cert.p99.within_noise, Some(true));
    assert!(hs.p99.rank < cert.p99.rank);
    // Pooling removes both handshakes: the largest effect of all.
    assert_eq!(r.knobs[0].path, "connections.reuse");
    let ranks: Vec<usize> = r.knobs.iter().map(|k| k.p99.rank).collect();
    assert_eq!(ranks, (1..=r.knobs.len()).collect::<Vec<_>>());
}

// ---------------------------------------------------------------------------
// The binary

/// A temporary folder holding the pair topology and the handshake-heavy design.
fn pair_dir(label: &str) -> TempDir {
    let dir = TempDir::new(&format!("sensitivity-{label}"));
    std::fs::write(dir.path().join("pair.toml"), TOPOLOGY).unwrap();
    std::fs::write(dir.path().join("handshake-heavy.toml"), DESIGN).unwrap();
    dir
}

fn ztsim(dir: &Path, args: &[&str]) -> Run {
    Run::from(common::ztsim_in(dir, args))
}

fn sensitivity(dir: &Path, extra: &[&str]) -> Run {
    let mut args = vec![
        "sensitivity",
        "pair.toml",
        "--model",
        "handshake-heavy.toml",
        "--rate",
        "20",
    ];
    args.extend_from_slice(extra);
    ztsim(dir, &args)
}

#[test]
fn explicit_params_restrict_the_analysis_and_rank_the_costly_knob_first() {
    let dir = pair_dir("explicit");
    let r = sensitivity(
        dir.path(),
        &[
            "--param",
            "identity.cert_ttl=12h,48h",
            "--param",
            "transport.cpu.server_full=1ms,4ms",
        ],
    );
    assert_eq!(r.code, Some(0), "{}\n{}", r.stdout, r.stderr);
    let out = dir.path().join("output/sensitivity/pair-handshake-heavy");
    let json = std::fs::read_to_string(out.join("sensitivity.json")).unwrap();
    let res: SensitivityResults = serde_json::from_str(&json).unwrap();
    assert_eq!(
        paths(&res),
        ["transport.cpu.server_full", "identity.cert_ttl"]
    );
    assert!((res.knobs[0].p99.spread.unwrap() - 6.0).abs() < 0.3);
    assert_eq!(res.knobs[1].p99.within_noise, Some(true));
    assert!(res.skipped.is_empty(), "only the given params are varied");
    // The table says the same, the quiet knob marked.
    let row = |p: &str| {
        r.stdout
            .lines()
            .find(|l| l.contains(p))
            .unwrap()
            .to_string()
    };
    assert!(
        row("transport.cpu.server_full")
            .trim_start()
            .starts_with("1 ")
    );
    assert!(row("identity.cert_ttl").contains("within noise"));
    let csv = std::fs::read_to_string(out.join("sensitivity.csv")).unwrap();
    assert!(csv.starts_with("rank_p99,parameter,kind,base_value,low_value,high_value"));
    assert!(
        csv.lines()
            .nth(1)
            .unwrap()
            .starts_with("1,transport.cpu.server_full,explicit,2ms,1ms,4ms,")
    );

    // Never overwritten: a second run goes next door.
    let again = sensitivity(dir.path(), &["--param", "identity.cert_ttl=1h"]);
    assert_eq!(again.code, Some(0), "{}", again.stderr);
    assert!(
        dir.path()
            .join("output/sensitivity/pair-handshake-heavy-2/sensitivity.json")
            .exists()
    );
}

#[test]
fn results_are_byte_identical_on_one_and_two_threads() {
    let dir = pair_dir("threads");
    let mut outs = Vec::new();
    for threads in ["1", "2"] {
        let out = format!("t{threads}");
        // Every default knob, and a capacity search for each.
        let r = sensitivity(
            dir.path(),
            &[
                "--threads",
                threads,
                "--out",
                &out,
                "--slo",
                "p99=20ms",
                "--duration",
                "1s",
                "--warmup",
                "200ms",
            ],
        );
        assert_eq!(r.code, Some(0), "{}", r.stderr);
        outs.push(dir.path().join(out));
    }
    for f in [
        "sensitivity.csv",
        "sensitivity.json",
        "tornado-p99.svg",
        "tornado-p99.png",
        "tornado-capacity.svg",
        "tornado-capacity.png",
    ] {
        let a = std::fs::read(outs[0].join(f)).unwrap();
        let b = std::fs::read(outs[1].join(f)).unwrap();
        assert!(a == b, "{f} differs between 1 and 2 threads");
    }
}

#[test]
fn tornado_chart_is_a_titled_svg_and_a_full_size_png() {
    let dir = pair_dir("chart");
    let r = sensitivity(
        dir.path(),
        &["--param", "transport.cpu.server_full=1ms,4ms", "--out", "o"],
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let svg = std::fs::read_to_string(dir.path().join("o/tornado-p99.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    for text in [
        "p99 sensitivity: pair under handshake-heavy at 20 rps",
        "p99 latency (ms)",
        "transport.cpu.server_full",
        "1ms",
        "4ms",
        "low (x0.5, TTL /10, 1st choice)",
    ] {
        assert!(svg.contains(text), "SVG lacks {text:?}");
    }
    let png = std::fs::read(dir.path().join("o/tornado-p99.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let w = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let h = u32::from_be_bytes(png[20..24].try_into().unwrap());
    assert_eq!((w, h), (1200, 750));
    // Without an SLO there is no capacity chart.
    assert!(!dir.path().join("o/tornado-capacity.svg").exists());
}

#[test]
fn with_an_slo_capacity_is_ranked_and_charted() {
    let dir = pair_dir("capacity");
    let r = sensitivity(
        dir.path(),
        &[
            "--slo",
            "p99=20ms",
            "--param",
            "transport.cpu.server_full=1ms,4ms",
            "--param",
            "identity.cert_ttl=12h,48h",
            "--duration",
            "1s",
            "--warmup",
            "200ms",
            "--out",
            "o",
        ],
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let json = std::fs::read_to_string(dir.path().join("o/sensitivity.json")).unwrap();
    let res: SensitivityResults = serde_json::from_str(&json).unwrap();
    let cap = |o: &ztsim::report::sensitivity::Outcome| o.capacity.as_ref().unwrap().rps.unwrap();
    // Four cores per service and `server_full` of CPU per request on each:
    // saturation at 4 / server_full. Capacity within the SLO lies below it,
    // but not far below (the p99 limit is twice the unloaded latency).
    let hs = knob(&res, "transport.cpu.server_full");
    for (c, sat) in [
        (cap(&hs.low), 4000.0),
        (cap(&res.base), 2000.0),
        (cap(&hs.high), 1000.0),
    ] {
        assert!(c < sat && c > 0.5 * sat, "capacity {c} vs saturation {sat}");
    }
    let c = hs.capacity.as_ref().unwrap();
    assert_eq!(c.rank, 1);
    assert_eq!(c.within_noise, Some(false));
    let cert = knob(&res, "identity.cert_ttl");
    let cc = cert.capacity.as_ref().unwrap();
    assert_eq!(
        (cc.rank, cc.spread, cc.within_noise),
        (2, Some(0.0), Some(true))
    );
    assert!(
        r.stdout
            .contains("capacity, the highest rate meeting p99 <= 20 ms")
    );
    let svg = std::fs::read_to_string(dir.path().join("o/tornado-capacity.svg")).unwrap();
    assert!(
        svg.contains("capacity (rps)")
            && svg.contains("Capacity sensitivity: pair under handshake-heavy")
    );
    assert!(dir.path().join("o/tornado-capacity.png").exists());
}

#[track_caller]
fn refused(dir: &Path, extra: &[&str], wants: &[&str]) {
    let r = sensitivity(dir, extra);
    assert_eq!(r.code, Some(2), "{extra:?}: {}\n{}", r.stdout, r.stderr);
    for w in wants {
        assert!(
            r.stderr.contains(w),
            "{extra:?}: stderr lacks {w:?}:\n{}",
            r.stderr
        );
    }
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    assert!(
        !dir.join("output").exists(),
        "nothing is written on bad input"
    );
}

#[test]
fn bad_params_are_refused_with_the_flag_the_key_and_what_would_be_valid() {
    let dir = pair_dir("bad");
    let d = dir.path();
    // A misspelt key of a design table.
    refused(
        d,
        &["--param", "resumption.tiket_ttl=1m,1h"],
        &[
            "--param resumption.tiket_ttl=1m,1h",
            "handshake-heavy.toml",
            "unknown key `tiket_ttl`",
            "did you mean `ticket_ttl`?",
        ],
    );
    // A misspelt table.
    refused(
        d,
        &["--param", "resumptoin.ticket_ttl=1m,1h"],
        &["did you mean `resumption.ticket_ttl`?"],
    );
    // A misspelt service in a topology path.
    refused(
        d,
        &["--param", "services.backnd.replicas=1,2"],
        &[
            "pair.toml",
            "there is no `backnd`",
            "did you mean `services.backend.replicas`?",
        ],
    );
    // A value the design's validation refuses, located at file and key.
    refused(
        d,
        &["--param", "resumption.ticket_ttl=0s,1h"],
        &[
            "--param resumption.ticket_ttl=0s,1h",
            "handshake-heavy.toml",
            "resumption.ticket_ttl",
            "must be above zero",
        ],
    );
    refused(
        d,
        &["--param", "connections.reuse=pipelined"],
        &[
            "connections.reuse",
            "unknown choice `pipelined`",
            "per-request",
        ],
    );
    // A key the analysis sets, and one that does not apply to the design
    // (it has no proxy): a spread of zero would look like a finding.
    for param in ["workload.rate=10,2000", "proxy.request_cpu=1ms,9ms"] {
        let flag = format!("--param {}", param.split('=').next().unwrap());
        refused(
            d,
            &["--param", param],
            &[flag.as_str(), "neither value changes the system simulated"],
        );
    }
    // Malformed flags.
    refused(
        d,
        &["--param", "transport.cpu.server_full"],
        &["path=value"],
    );
    refused(
        d,
        &["--param", "transport.cpu.server_full=1ms,2ms,3ms"],
        &["give one value", "or two, low and high", "got 3"],
    );
    refused(d, &["--slo", "p98=5ms"], &["--slo", "p99=50ms"]);
    refused(
        d,
        &["--slo", "p99=5ms", "--resolution", "2"],
        &["--resolution", "between 0 and 1"],
    );
    let r = ztsim(
        d,
        &[
            "sensitivity",
            "pair.toml",
            "-m",
            "handshake-heavy.toml",
            "--rate",
            "fast",
        ],
    );
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert!(
        r.stderr.contains("--rate") && r.stderr.contains("1000rps"),
        "{}",
        r.stderr
    );
}
