//! Asynchronous (fire-and-forget) calls (docs/topology.md "Asynchronous
//! calls"): exact cases with constant costs and evenly spaced arrivals.
//! The queueing check of the work they put on their callee (M/M/2) is in
//! tests/queueing.rs.

mod common;

use common::exact::{US, run, runs, topology};
use common::{Run, TempDir, ztsim};
use ztsim::model::metrics::RunMetrics;

/// a (2 ms) calls b (10 ms) and then c (1 ms), 10 requests a second.
fn chain(b_call: &str) -> String {
    format!(
        "[services.a]\nendpoints.e = {{ cpu = \"2ms\", stages = [[{{ call = \"b.e\"{b_call} }}], [{{ call = \"c.e\" }}]] }}\n\
         [services.b]\nendpoints.e.cpu = \"10ms\"\n[services.c]\nendpoints.e.cpu = \"1ms\""
    )
}

/// Synchronous, a request takes 0.2 (client to a) + 2 (a) + 0.2 + 10 +
/// 0.2 (b) + 0.2 + 1 + 0.2 (c) + 0.2 (back) = 14.2 ms. Fire-and-forget, a
/// moves to c at once: 0.2 + 2 + 1.4 + 0.2 = 3.8 ms, while b's call takes
/// its own 10.4 ms and b's cores do exactly the same work (the call leaves
/// a at the same instant either way). Every measured request's b call is
/// measured: the run drains them.
#[test]
fn a_fire_and_forget_call_leaves_the_request_but_not_the_callees_cores() {
    let n = 100;
    let sync = run(&topology(&chain(""), 10.0, n));
    let lat = |r: &RunMetrics| (r.endpoints[0].latency.min(), r.endpoints[0].latency.max());
    assert_eq!(lat(&sync), (Some(14_200 * US), Some(14_200 * US)));
    assert!(sync.asynch.is_empty());
    let r = run(&topology(&chain(", async = true"), 10.0, n));
    assert_eq!(lat(&r), (Some(3_800 * US), Some(3_800 * US)));
    assert_eq!(r.endpoints[0].failed, 0);
    let a = &r.asynch[0];
    assert_eq!(a.latency.count(), n, "every measured request's call");
    assert_eq!(
        (a.latency.min(), a.latency.max(), a.failed),
        (Some(10_400 * US), Some(10_400 * US), 0)
    );
    // The edge table sees the same calls.
    assert_eq!(r.edges[0].latency.count(), n);
    assert_eq!(r.service(1).busy, sync.service(1).busy);
    assert_eq!(r.service(1).jobs, sync.service(1).jobs);
    assert!(r.service(1).busy.iter().sum::<u64>() >= 99 * 10_000 * US);
    // The request's attribution holds none of b's time.
    let mean = r.endpoints[0].attribution.mean().unwrap();
    assert!((mean.iter().sum::<f64>() - 3_800_000.0).abs() < 1e-6);
}

/// An asynchronous call's failures are its own: b always errs, yet no
/// request fails. With a 5 ms timeout and one retry after 1 ms on a b of
/// 10 ms: sent at 2.2 ms, timed out at 7.2, resent at 8.2, queued behind
/// the first attempt (b keeps working) and timed out at 13.2: 11 ms, two
/// timeouts and one retry per call, two jobs on b per request.
#[test]
fn an_asynchronous_call_fails_on_its_own() {
    let n = 50;
    let r = run(&topology(
        &chain(", async = true").replace(
            "endpoints.e.cpu = \"10ms\"",
            "endpoints.e = { cpu = \"10ms\", error_rate = 1.0 }",
        ),
        10.0,
        n,
    ));
    assert_eq!((r.endpoints[0].failed, r.asynch[0].failed), (0, n));
    assert_eq!(r.counters.errors, n);
    let timed = chain(", async = true, timeout = \"5ms\", retries = 1, backoff = \"1ms\"");
    let r = run(&topology(&timed, 10.0, n));
    assert_eq!(r.endpoints[0].failed, 0);
    assert_eq!(r.endpoints[0].latency.max(), Some(3_800 * US));
    let a = &r.asynch[0];
    assert_eq!(
        (a.latency.min(), a.latency.max(), a.failed),
        (Some(11_000 * US), Some(11_000 * US), n)
    );
    assert_eq!((r.counters.timeouts, r.counters.retries), (2 * n, n));
}

/// b takes 10 ms on one core, and a sends it 200 calls a second it does
/// not wait for: the requests are fast, but b's backlog grows by about 100
/// calls a second, and the run is saturated (naming the asynchronous
/// calls), not reported with the requests' fine latency.
#[test]
fn an_asynchronous_backlog_saturates_the_run() {
    let text = topology(&chain(", async = true"), 200.0, 1_000);
    let r = &runs(&text)[0];
    let sat = r.saturation.as_ref().expect("saturated");
    assert!(sat.reason.contains("asynchronous calls"), "{}", sat.reason);
}

/// `ztsim run` reports the asynchronous calls in summary.json and the
/// terminal; a topology without them has no such key.
#[test]
fn run_reports_asynchronous_calls() {
    let dir = TempDir::new("asynch-summary");
    let file = dir.path().join("async.toml");
    std::fs::write(&file, topology(&chain(", async = true"), 10.0, 100)).unwrap();
    let out = dir.path().join("out");
    let r = Run::from(ztsim(&[
        "run",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]));
    r.expect_code(0);
    assert!(
        r.stdout
            .contains("asynchronous a.e -> b.e: 10.1 completed/s, not in any request's latency"),
        "{}",
        r.stdout
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let a = &json["asynchronous"][0];
    assert_eq!(
        (a["caller"].as_str(), a["callee"].as_str()),
        (Some("a.e"), Some("b.e"))
    );
    assert_eq!(a["calls_per_request"]["mean"].as_f64(), Some(1.0));
    assert!((a["latency_ms"]["mean"]["mean"].as_f64().unwrap() - 10.4).abs() < 0.02);
    let plain = dir.path().join("plain.toml");
    std::fs::write(&plain, topology(&chain(""), 10.0, 100)).unwrap();
    let out = dir.path().join("plain");
    Run::from(ztsim(&[
        "run",
        plain.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]))
    .expect_code(0);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert!(json.get("asynchronous").is_none());
}
