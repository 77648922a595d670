//! Calls turned away and failing (docs/topology.md "Queues, limits and
//! failures"): exact cases with constant costs and evenly spaced arrivals.
//! A bounded queue sheds exactly the excess over the cores' rate; a token
//! bucket lets through exactly its rate; an endpoint's errors fail calls
//! after its own CPU, and `retry_on` decides which failures are retried, with
//! retries multiplying across layers. The queueing check of bounded queues
//! (M/M/c/K) is in tests/queueing.rs.

mod common;

use common::exact::{US, run, topology};
use common::{Run, TempDir, ztsim};

/// 160 rps into one core that takes 10 ms a call, at most one call
/// waiting: the core never idles, so exactly 100 of every 160 calls are
/// served and 60 shed (0.375), give or take the window's two edges. An
/// unbounded queue would grow without end.
#[test]
fn a_bounded_queue_sheds_exactly_the_excess() {
    let n = 3_200;
    let r = run(&topology(
        "[services.a]\nqueue_limit = 1\nendpoints.e.cpu = \"10ms\"",
        160.0,
        n,
    ));
    let shed = r.counters.shed;
    assert!(
        shed.abs_diff(n * 3 / 8) <= 2,
        "shed {shed} of {n}, want {}",
        n * 3 / 8
    );
    assert_eq!(r.endpoints[0].failed, shed, "every shed request fails");
    assert_eq!(r.counters.limited + r.counters.errors, 0);
    // A shed request answers at once: one round trip.
    assert_eq!(r.endpoints[0].latency.min(), Some(400 * US));
}

/// A token bucket of 50 tokens a second and a burst of 1 before 100 rps:
/// a token every 20 ms, a call every 10 ms, so every other call is
/// rejected; with a burst of 1000 (more than the run's calls) none is.
#[test]
fn a_rate_limit_lets_through_exactly_its_rate() {
    let service = |burst| {
        format!(
            "[services.a]\ncores = 4\nendpoints.e = {{ cpu = \"1ms\", rate_limit = {{ rate = 50, burst = {burst} }} }}"
        )
    };
    let n = 2_000;
    let r = run(&topology(&service(1), 100.0, n));
    assert!(
        r.counters.limited.abs_diff(n / 2) <= 1,
        "limited {} of {n}",
        r.counters.limited
    );
    assert_eq!(r.endpoints[0].failed, r.counters.limited);
    assert_eq!(r.counters.shed, 0);
    let r = run(&topology(&service(1000), 100.0, 500));
    assert_eq!(r.counters.limited, 0, "the burst covers every call");
}

/// b answers every call with an error after its 1 ms of CPU, calling none
/// of its stages (c is never reached). a calls b with retries = 2 and
/// backoff 5 ms: by default errors are not retried: 0.2 + 1 + (0.4 + 1) +
/// 0.2 = 2.8 ms. With retry_on = ["error"], three attempts and two backoffs
/// (5 + 10 ms): 0.2 + 1 + 3 x 1.4 + 15 + 0.2 = 20.6 ms. Either way the
/// request fails.
#[test]
fn errors_fail_after_the_callees_cpu_and_are_retried_when_asked() {
    let services = |retry_on: &str| {
        format!(
            "[services.a]\nendpoints.e = {{ cpu = \"1ms\", stages = [[{{ call = \"b.e\", retries = 2, backoff = \"5ms\"{retry_on} }}]] }}\n\
             [services.b]\nendpoints.e = {{ cpu = \"1ms\", error_rate = 1.0, stages = [[{{ call = \"c.e\" }}]] }}\n\
             [services.c]\nendpoints.e.cpu = \"1ms\""
        )
    };
    let n = 50;
    // A timeout that never fires, so that the retries are valid.
    let r = run(&topology(&services(", timeout = \"1s\""), 10.0, n));
    assert_eq!(
        (r.endpoints[0].latency.min(), r.endpoints[0].latency.max()),
        (Some(2_800 * US), Some(2_800 * US))
    );
    assert_eq!((r.endpoints[0].failed, r.counters.errors), (n, n));
    assert_eq!(r.counters.retries, 0);
    assert_eq!(r.service(2).jobs, 0, "c is never called");
    let r = run(&topology(&services(", retry_on = [\"error\"]"), 10.0, n));
    assert_eq!(
        (r.endpoints[0].latency.min(), r.endpoints[0].latency.max()),
        (Some(20_600 * US), Some(20_600 * US))
    );
    assert_eq!(
        (r.endpoints[0].failed, r.counters.errors, r.counters.retries),
        (n, 3 * n, 2 * n)
    );
    // A third of the requests fail when a third of b's answers are errors
    // and nothing is retried.
    let text = topology(&services(", timeout = \"1s\""), 10.0, 3_000)
        .replace("error_rate = 1.0", "error_rate = 0.333");
    let r = run(&text);
    let share = r.endpoints[0].failed as f64 / 3_000.0;
    assert!((share - 0.333).abs() < 0.03, "failed share {share}");
}

/// Retrying errors at every layer multiplies the attempts: a -> b -> c,
/// each call site retrying once on errors, c always failing: each of b's
/// two attempts tries c twice, four errors and three retries a request.
#[test]
fn retries_on_errors_multiply_across_layers() {
    let call = |to: &str| {
        format!(
            "stages = [[{{ call = \"{to}.e\", retries = 1, backoff = \"1ms\", retry_on = [\"error\"] }}]]"
        )
    };
    let services = format!(
        "[services.a]\nendpoints.e = {{ cpu = \"1ms\", {} }}\n[services.b]\nendpoints.e = {{ cpu = \"1ms\", {} }}\n\
         [services.c]\nendpoints.e = {{ cpu = \"1ms\", error_rate = 1.0 }}",
        call("b"),
        call("c")
    );
    let n = 40;
    let r = run(&topology(&services, 10.0, n));
    assert_eq!(
        (r.endpoints[0].failed, r.counters.errors, r.counters.retries),
        (n, 4 * n, 3 * n)
    );
}

/// A caller retries shed calls by default: b sheds (one core, 10 ms, no
/// waiting room) the second of two calls a makes at once; the retry after
/// 20 ms backoff finds b free, so no request fails. With retry_on =
/// ["timeout"] the shed call is not retried and every request fails.
#[test]
fn shed_calls_are_retried_by_default() {
    let services = |retry_on: &str| {
        format!(
            "[services.a]\ncores = 2\nendpoints.e.stages = [[{{ call = \"b.e\", times = 2, parallel = true, retries = 1, backoff = \"20ms\"{retry_on} }}]]\n\
             [services.b]\nqueue_limit = 1\nconcurrency = 1\nendpoints.e.cpu = \"10ms\""
        )
    };
    let n = 20;
    // concurrency 1 and queue_limit 1: one call runs, one waits; make the
    // second one shed by a third call arriving with them.
    let text = services("").replace("times = 2", "times = 3");
    let r = run(&topology(&text, 10.0, n));
    assert_eq!(r.counters.shed, n, "the third call of each request is shed");
    assert_eq!(r.counters.retries, n);
    assert_eq!(r.endpoints[0].failed, 0);
    let text =
        services(", timeout = \"1s\", retry_on = [\"timeout\"]").replace("times = 2", "times = 3");
    let r = run(&topology(&text, 10.0, n));
    assert_eq!((r.counters.shed, r.counters.retries), (n, 0));
    assert_eq!(r.endpoints[0].failed, n);
}

/// The summary counts failures by reason; without any, the key is absent.
#[test]
fn run_reports_failures_by_reason() {
    let dir = TempDir::new("admission-summary");
    let topo = dir.path().join("shed.toml");
    std::fs::write(
        &topo,
        topology(
            "[services.a]\nqueue_limit = 1\nendpoints.e.cpu = \"10ms\"",
            160.0,
            1_600,
        ),
    )
    .expect("write");
    let out = dir.path().join("out");
    let r = Run::from(ztsim(&[
        "run",
        topo.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]));
    r.expect_code(0);
    assert!(
        r.stdout
            .contains("failures per request: 0.375 shed (queue full)"),
        "{}",
        r.stdout
    );
    assert!(
        r.stderr.contains("its bounded queue will shed the excess"),
        "{}",
        r.stderr
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert!((json["failures"]["shed"]["mean"].as_f64().unwrap() - 0.375).abs() < 0.002);
    assert!(json["failures"].get("errors").is_none());
    let plain = dir.path().join("plain.toml");
    std::fs::write(
        &plain,
        topology("[services.a]\nendpoints.e.cpu = \"1ms\"", 10.0, 100),
    )
    .unwrap();
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
    assert!(json.get("failures").is_none());
}
