//! Client-side pools and slow calls (docs/topology.md "Client-side pools",
//! "Slow calls"): exact cases with constant costs and evenly spaced
//! arrivals, every figure computed by hand in the comment. The queueing
//! check of pools (M/M/N) is in tests/queueing.rs.

mod common;

use common::exact::{US, run, topology};
use ztsim::config::parse_topology;
use ztsim::model::Design;
use ztsim::report::summarize;

/// a (no CPU) makes two parallel calls to b (4 ms of CPU, two cores)
/// through a pool of one connection, a request every 10 ms. The first call
/// holds the connection 0.2 + 4 + 0.2 = 4.4 ms; the second waits those
/// 4.4 ms, then takes 4.4 ms: 0.2 + 8.8 + 0.2 = 9.2 ms a request. Half the
/// calls wait, 2.2 ms on average (4.4 among those), and the connection is
/// in use 8.8 of every 10 ms. With a pool of two nothing waits: 4.8 ms.
#[test]
fn a_pool_of_one_serialises_parallel_calls() {
    let services = |size: u32| {
        format!(
            "[services.a]\npools = {{ b = {size} }}\n\
             endpoints.e.stages = [[{{ call = \"b.e\", times = 2, parallel = true }}]]\n\
             [services.b]\ncores = 2\nendpoints.e.cpu = \"4ms\""
        )
    };
    let n = 1_000;
    let r = run(&topology(&services(1), 100.0, n));
    let l = &r.endpoints[0].latency;
    assert_eq!((l.min(), l.max()), (Some(9_200 * US), Some(9_200 * US)));
    let p = &r.pools[0];
    assert_eq!((p.size, p.replicas, p.calls, p.waited), (1, 1, 2 * n, n));
    assert_eq!(p.wait_sum, n * 4_400 * US);
    assert_eq!(p.gave_up, 0);
    // The window spans n requests (10 s): 0.88 up to one request's share.
    let used = p.busy as f64 / r.window as f64;
    assert!((used - 0.88).abs() < 1e-3, "in use {used}");
    let r = run(&topology(&services(2), 100.0, n));
    let l = &r.endpoints[0].latency;
    assert_eq!((l.min(), l.max()), (Some(4_800 * US), Some(4_800 * US)));
    assert_eq!((r.pools[0].calls, r.pools[0].waited), (2 * n, 0));
}

/// Three parallel calls through a pool of one, 1 ms of CPU each (held
/// 1.4 ms), a 2.5 ms timeout armed when each call leaves a (at 0.2 ms).
/// Call 1 returns at 1.6 ms; call 2 waits 1.4 ms, holds the connection
/// from 1.6 ms and times out at 2.7 ms (its answer, at 3.0 ms, gives the
/// connection back); call 3 is still waiting at 2.7 ms: its timeout takes
/// it out of the queue, and b never sees it. The request fails at
/// 2.7 + 0.2 = 2.9 ms; b serves two calls per request, not three.
#[test]
fn a_call_that_times_out_waiting_leaves_the_queue() {
    let services = "[services.a]\npools = { b = 1 }\n\
         endpoints.e.stages = [[{ call = \"b.e\", times = 3, parallel = true, timeout = \"2.5ms\" }]]\n\
         [services.b]\ncores = 2\nendpoints.e.cpu = \"1ms\"";
    let n = 500;
    let r = run(&topology(services, 100.0, n));
    let l = &r.endpoints[0].latency;
    assert_eq!((l.min(), l.max()), (Some(2_900 * US), Some(2_900 * US)));
    assert_eq!(r.endpoints[0].failed, n);
    assert_eq!(r.counters.timeouts, 2 * n);
    let p = &r.pools[0];
    assert_eq!((p.calls, p.waited, p.gave_up), (2 * n, n, n));
    assert_eq!(p.wait_sum, n * 1_400 * US);
    // b's jobs are counted inside the window (its edges cut a request).
    let jobs = r.service(1).jobs;
    assert!(jobs.abs_diff(2 * n) <= 2, "b served {jobs}, want {}", 2 * n);
    // The figures reach the summary: half the calls waited, 0.7 ms on
    // average; one call per request timed out waiting.
    let topo = parse_topology("pools.toml", &topology(services, 100.0, n)).unwrap();
    let s = summarize(&topo, &Design::plaintext(), &[r.into()]);
    let p = &s.pools.expect("pools reported")[0];
    assert_eq!(
        (p.service.as_str(), p.target.as_str(), p.size),
        ("a", "b", 1)
    );
    assert!((p.waited_share.mean - 0.5).abs() < 1e-12);
    assert!((p.mean_wait_ms.mean - 0.7).abs() < 1e-9);
    assert!((p.timed_out_waiting.expect("timed out").mean - 1.0).abs() < 1e-12);
}

/// Without `pools` nothing is reported.
#[test]
fn no_pools_no_pool_figures() {
    let text = topology("[services.a]\nendpoints.e.cpu = \"1ms\"", 100.0, 50);
    let topo = parse_topology("pools.toml", &text).unwrap();
    let r = run(&text);
    assert!(r.pools.is_empty());
    let s = summarize(&topo, &Design::plaintext(), &[r.into()]);
    assert!(s.pools.is_none() && s.failures.is_none());
}

/// Every call of a slow endpoint (fraction 1) waits 5 ms after its 1 ms
/// of CPU: 0.2 + 1 + 5 + 0.2 = 6.4 ms, yet its core is busy 1 ms a call.
/// b holds one worker thread and two cores, and a calls it twice at once:
/// the second call waits out the first's worker, CPU and slow time
/// (6 ms), so 0.2 + 0.2 + 6 + 6 + 0.2 + 0.2 = 12.8 ms: the slow time holds
/// the worker. At fraction 0.5 about half the calls are slow (the count
/// is binomial: 4000 calls, sd 32), each taking exactly 1.4 or 6.4 ms.
#[test]
fn slow_calls_hold_their_worker_but_no_core() {
    let n = 1_000;
    let r = run(&topology(
        "[services.a]\nendpoints.e = { cpu = \"1ms\", slow = { fraction = 1.0, latency = \"5ms\" } }",
        100.0,
        n,
    ));
    let l = &r.endpoints[0].latency;
    assert_eq!((l.min(), l.max()), (Some(6_400 * US), Some(6_400 * US)));
    assert_eq!(r.counters.slow, n);
    let busy: u64 = r.service(0).busy.iter().sum();
    assert_eq!(busy, r.service(0).jobs * 1_000 * US);
    let r = run(&topology(
        "[services.a]\nendpoints.e.stages = [[{ call = \"b.e\", times = 2, parallel = true }]]\n\
         [services.b]\ncores = 2\nconcurrency = 1\n\
         endpoints.e = { cpu = \"1ms\", slow = { fraction = 1.0, latency = \"5ms\" } }",
        50.0,
        200,
    ));
    let l = &r.endpoints[0].latency;
    assert_eq!((l.min(), l.max()), (Some(12_800 * US), Some(12_800 * US)));
    let n = 4_000;
    let r = run(&topology(
        "[services.a]\nendpoints.e = { cpu = \"1ms\", slow = { fraction = 0.5, latency = \"5ms\" } }",
        100.0,
        n,
    ));
    let slow = r.counters.slow;
    assert!(slow.abs_diff(n / 2) < 130, "{slow} slow of {n}");
    let l = &r.endpoints[0].latency;
    assert_eq!((l.min(), l.max()), (Some(1_400 * US), Some(6_400 * US)));
    let mean = l.mean().unwrap();
    let want = 1_400_000.0 + 5e6 * slow as f64 / n as f64;
    assert!((mean / want - 1.0).abs() < 1e-9, "mean {mean}, want {want}");
}
