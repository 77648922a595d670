//! Exact, deterministic cases (docs/model.md s5): constant RTTs and CPU, evenly
//! spaced arrivals slow enough that nothing queues unless the test means it
//! to, so every latency is known to the nanosecond. Plus reproducibility and
//! common random numbers.

use ztsim::config::parse_topology;
use ztsim::model::Design;
use ztsim::model::metrics::{LatencyHistogram, RunMetrics};
use ztsim::model::{Replications, Topology, run_replications};
use ztsim::report::summarize;

const MS: u64 = 1_000_000;

fn run(text: &str) -> (Topology, RunMetrics) {
    let topo = parse_topology("exact.toml", text).unwrap_or_else(|e| panic!("{e:?}"));
    let mut runs = run_replications(&topo, &Design::plaintext());
    assert_eq!(runs.len(), 1);
    let r = runs.remove(0);
    assert!(r.saturation.is_none(), "unexpected saturation");
    (topo, r)
}

/// One zone with a 1 ms RTT (0.5 ms each way), the given services, and
/// `requests` constant arrivals at `rate` per second into `a.e`.
fn chain(services: &str, rate: f64, requests: u64) -> String {
    format!(
        "[zones.z]\nrtt = \"1ms\"\n{services}\n[workload]\narrivals = \"constant\"\nrate = {rate}\n\
         requests = {requests}\nentry = [{{ endpoint = \"a.e\" }}]\n"
    )
}

/// Every one of `count` observations was exactly `ns`.
/// `chain`'s workload measured by time instead of count: the window opens
/// half a gap before the first arrival and closes half a gap after the
/// last, so all the CPU of those requests (each far shorter than half a
/// gap) is inside it, for busy-time checks.
fn windowed(text: &str, rate: f64, requests: u64) -> String {
    let gap = (1e9 / rate) as u64;
    text.replace(
        &format!("requests = {requests}\n"),
        &format!(
            "warmup = \"{}ns\"\nduration = \"{}ns\"\n",
            gap / 2,
            requests * gap
        ),
    )
}

fn all_exactly(what: &str, h: &LatencyHistogram, count: u64, ns: u64) {
    let got = (h.count(), h.min(), h.max(), h.mean());
    assert_eq!(
        got,
        (count, Some(ns), Some(ns), Some(ns as f64)),
        "{what}: (count, min, max, mean)"
    );
}

/// The distinct values of a histogram, rounded to 0.1 ms, with their counts.
fn values(h: &LatencyHistogram) -> Vec<(u64, u64)> {
    h.buckets()
        .into_iter()
        .map(|(v, n)| ((v as f64 / 1e5).round() as u64 * 100_000, n))
        .collect()
}

/// client -> A (1 ms CPU) -> B (2 ms CPU) over a 1 ms RTT:
/// 0.5 + 1 + (0.5 + 2 + 0.5) + 0.5 = 5 ms end to end; the edge A -> B is 3 ms.
#[test]
fn chain_over_fixed_rtt() {
    let (_, r) = run(&chain(
        r#"
[services.a]
endpoints.e = { cpu = "1ms", stages = [[{ call = "b.e" }]] }
[services.b]
endpoints.e.cpu = "2ms""#,
        10.0,
        100,
    ));
    all_exactly("end to end", &r.endpoints[0].latency, 100, 5 * MS);
    all_exactly("edge A->B", &r.edges[0].latency, 100, 3 * MS);
    assert_eq!((r.endpoints[0].failed, r.arrived), (0, 100));
}

/// Stages run in sequence; calls within a stage in parallel, so a stage costs
/// its slowest call: 0.5 + 1 + max(3, 6) + 2 + 0.5 = 10 ms.
#[test]
fn stages_add_and_parallel_calls_take_the_max() {
    let (_, r) = run(&chain(
        r#"
[services.a]
endpoints.e = { cpu = "1ms", stages = [[{ call = "b.e" }, { call = "c.e" }], [{ call = "d.e" }]] }
[services.b]
endpoints.e.cpu = "2ms"
[services.c]
endpoints.e.cpu = "5ms"
[services.d]
endpoints.e.cpu = "1ms""#,
        10.0,
        50,
    ));
    all_exactly("end to end", &r.endpoints[0].latency, 50, 10 * MS);
    for (edge, ms) in [(0, 3), (1, 6), (2, 2)] {
        all_exactly(&format!("edge {edge}"), &r.edges[edge].latency, 50, ms * MS);
    }
}

/// `times = 3` in sequence costs three calls: 0.5 + 1 + 3 x 3 + 0.5 = 11 ms.
/// In parallel on three cores it costs one: 5 ms. In parallel on one core
/// the three jobs queue FCFS: calls take 3, 5 and 7 ms, the request 9 ms.
#[test]
fn repeated_calls() {
    let callee = |times, parallel, cores| {
        chain(
            &format!(
                "[services.a]\nendpoints.e = {{ cpu = \"1ms\", stages = [[{{ call = \"b.e\", times = {times}, parallel = {parallel} }}]] }}\n\
                 [services.b]\ncores = {cores}\nendpoints.e.cpu = \"2ms\""
            ),
            10.0,
            40,
        )
    };
    let (_, r) = run(&callee(3, false, 1));
    all_exactly("sequential x3", &r.endpoints[0].latency, 40, 11 * MS);
    all_exactly("sequential x3 edge", &r.edges[0].latency, 120, 3 * MS);
    let (_, r) = run(&callee(3, true, 3));
    all_exactly("parallel x3, 3 cores", &r.endpoints[0].latency, 40, 5 * MS);
    all_exactly(
        "parallel x3, 3 cores edge",
        &r.edges[0].latency,
        120,
        3 * MS,
    );
    let (_, r) = run(&callee(3, true, 1));
    all_exactly("parallel x3, 1 core", &r.endpoints[0].latency, 40, 9 * MS);
    assert_eq!(
        values(&r.edges[0].latency),
        vec![(3 * MS, 40), (5 * MS, 40), (7 * MS, 40)]
    );
}

/// Probability 0 never calls, 1 always, 0.3 in a binomial share of requests
/// (within 5 standard deviations); a request with the optional 5 ms call takes
/// 10 ms instead of 5, so the latency sum is exact given the count.
#[test]
fn call_probability() {
    let n = 10_000u64;
    let (_, r) = run(&chain(
        r#"
[services.a]
endpoints.e = { cpu = "1ms", stages = [[{ call = "b.e", probability = 0.0 }], [{ call = "c.e", probability = 1.0 }], [{ call = "d.e", probability = 0.3 }]] }
[services.b]
endpoints.e.cpu = "1ms"
[services.c]
endpoints.e.cpu = "2ms"
[services.d]
endpoints.e.cpu = "4ms""#,
        50.0,
        n,
    ));
    assert_eq!(r.edges[0].latency.count(), 0, "probability 0");
    all_exactly("probability 1", &r.edges[1].latency, n, 3 * MS);
    let k = r.edges[2].latency.count();
    let sd = (n as f64 * 0.3 * 0.7).sqrt();
    eprintln!(
        "probability 0.3: {k} of {n} calls, expected {} +- {sd:.1}",
        0.3 * n as f64
    );
    assert!(
        (k as f64 - 0.3 * n as f64).abs() < 5.0 * sd,
        "probability 0.3: {k} of {n}"
    );
    all_exactly("probability 0.3 edge", &r.edges[2].latency, k, 5 * MS);
    let e2e = &r.endpoints[0].latency;
    assert_eq!(values(e2e), vec![(5 * MS, n - k), (10 * MS, k)]);
    assert_eq!(
        e2e.mean().unwrap() * n as f64,
        (5 * MS * n + 5 * MS * k) as f64
    );
}

/// A worker thread is held from arrival to response, children included.
/// Arrivals every 1 ms (at 1..5 ms); each request holds a worker of A for
/// 1 ms CPU + 3 ms call to B = 4 ms, and takes 5 ms unqueued. With one worker
/// request k (0-based) gets it 4k ms after request 0 but arrived only k ms
/// after it, so waits 3k ms: latencies 5, 8, 11, 14, 17 ms. With two: 5, 5,
/// 7, 7, 9. Unlimited: all 5. Cores (4) are never the constraint.
#[test]
fn worker_thread_limit_serialises() {
    for (limit, expect) in [
        ("concurrency = 1", vec![5, 8, 11, 14, 17]),
        ("concurrency = 2", vec![5, 5, 7, 7, 9]),
        ("", vec![5, 5, 5, 5, 5]),
    ] {
        let (_, r) = run(&chain(
            &format!(
                "[services.a]\ncores = 4\n{limit}\nendpoints.e = {{ cpu = \"1ms\", stages = [[{{ call = \"b.e\" }}]] }}\n\
                 [services.b]\ncores = 4\nendpoints.e.cpu = \"2ms\""
            ),
            1000.0,
            5,
        ));
        let h = &r.endpoints[0].latency;
        let mut want: Vec<(u64, u64)> = Vec::new();
        for ms in &expect {
            match want.last_mut() {
                Some(last) if last.0 == ms * MS => last.1 += 1,
                _ => want.push((ms * MS, 1)),
            }
        }
        assert_eq!(values(h), want, "{limit}");
        let sum: u64 = expect.iter().sum();
        assert_eq!(
            (h.count(), h.min(), h.max(), h.mean()),
            (
                5,
                Some(expect[0] * MS),
                Some(expect[4] * MS),
                Some((sum * MS) as f64 / 5.0)
            ),
            "{limit}"
        );
    }
}

/// A callee slower (50 ms) than the 10 ms timeout, retries = 2, backoff 5 ms
/// doubling: the caller sees 10 + 5 + 10 + 10 + 10 = 45 ms, then a failure;
/// end to end 0.5 + 1 + 45 + 0.5 = 47 ms, every request counted, all failed.
/// A 20 ms client timeout cuts each request at exactly 20 ms. A callee faster
/// than the timeout is unaffected: 5 ms, no failures.
/// `wakeup`: a job that finds the core idle waits 0.5 ms before its 0.9 ms
/// of CPU; one that queued does not. Requests 100 ms apart each pay it
/// (1 + 0.5 + 0.9 = 2.4 ms), and it is no CPU: busy time stays 0.9 ms a
/// request. When a calls b twice at once, the first call wakes b's core
/// (1 + 0.5 + 0.9 = 2.4 ms) and the second waits for it to finish and pays
/// no wake-up of its own (1 + 1.4 + 0.9 = 3.3 ms): 4.3 ms end to end.
#[test]
fn wakeup_is_paid_only_by_jobs_that_find_the_core_idle() {
    let service = "[services.a]\nwakeup = \"0.5ms\"\nendpoints.e.cpu = \"0.9ms\"";
    let (_, r) = run(&windowed(&chain(service, 10.0, 20), 10.0, 20));
    all_exactly("spaced", &r.endpoints[0].latency, 20, 2_400_000);
    assert_eq!(r.service(0).busy.iter().sum::<u64>(), 20 * 900_000);
    let (_, r) = run(&chain(
        r#"
[services.a]
endpoints.e.stages = [[{ call = "b.e", times = 2, parallel = true }]]
[services.b]
wakeup = "0.5ms"
endpoints.e.cpu = "0.9ms""#,
        10.0,
        20,
    ));
    all_exactly("two at once", &r.endpoints[0].latency, 20, 4_300_000);
    assert_eq!(
        values(&r.edges[0].latency),
        vec![(2_400_000, 20), (3_300_000, 20)],
        "a -> b calls"
    );
}

/// `cpu_off_path`: b's 0.5 ms on the path, then 0.5 ms the call does not
/// wait for. a calls b twice in a row over 0.2 ms round trips: the first
/// call takes 0.2 + 0.5 = 0.7 ms and leaves b's core busy until 0.5 ms
/// after it answered; the second reaches b 0.3 ms before that, waits, and
/// takes 0.2 + 0.3 + 0.5 = 1.0 ms. End to end 0.2 + 0.7 + 1.0 = 1.9 ms;
/// b's core is busy 1 ms a call.
#[test]
fn off_path_cpu_holds_the_core_but_not_the_call() {
    let text = windowed(
        &chain(
            r#"
[services.a]
endpoints.e.stages = [[{ call = "b.e", times = 2 }]]
[services.b]
endpoints.e = { cpu = "0.5ms", cpu_off_path = "0.5ms" }"#,
            10.0,
            20,
        ),
        10.0,
        20,
    )
    .replace("rtt = \"1ms\"", "rtt = \"0.2ms\"");
    let (_, r) = run(&text);
    all_exactly("end to end", &r.endpoints[0].latency, 20, 1_900_000);
    assert_eq!(
        values(&r.edges[0].latency),
        vec![(700_000, 20), (1_000_000, 20)],
        "a -> b calls"
    );
    assert_eq!(r.service(1).busy.iter().sum::<u64>(), 40 * 1_000_000);
}

#[test]
fn timeouts_and_retries() {
    let services = |cpu| {
        format!(
            "[services.a]\nendpoints.e = {{ cpu = \"1ms\", stages = [[{{ call = \"b.e\", timeout = \"10ms\", retries = 2, backoff = \"5ms\" }}]] }}\n\
             [services.b]\ncores = 4\nendpoints.e.cpu = \"{cpu}\""
        )
    };
    let n = 20;
    let (topo, r) = run(&chain(&services("50ms"), 5.0, n));
    all_exactly(
        "end to end, callee too slow",
        &r.endpoints[0].latency,
        n,
        47 * MS,
    );
    all_exactly("edge, callee too slow", &r.edges[0].latency, n, 45 * MS);
    assert_eq!(
        (r.arrived, r.endpoints[0].failed, r.edges[0].failed),
        (n, n, n)
    );
    let summary = summarize(&topo, &Design::plaintext(), &[r.clone().into()]);
    assert_eq!(
        (
            summary.requests.failed_ratio.mean,
            summary.requests.requests.mean
        ),
        (1.0, n as f64)
    );
    assert_eq!(summary.edges[0].failed_ratio.mean, 1.0);

    let text =
        chain(&services("50ms"), 5.0, n).replace("[workload]", "[workload]\ntimeout = \"20ms\"");
    let (_, r) = run(&text);
    all_exactly("client timeout", &r.endpoints[0].latency, n, 20 * MS);
    assert_eq!(r.endpoints[0].failed, n);

    let (_, r) = run(&chain(&services("2ms"), 5.0, n));
    all_exactly(
        "end to end, callee fast",
        &r.endpoints[0].latency,
        n,
        5 * MS,
    );
    all_exactly("edge, callee fast", &r.edges[0].latency, n, 3 * MS);
    assert_eq!((r.endpoints[0].failed, r.edges[0].failed), (0, 0));
}

/// Two replicas in two zones, round-robin, client in the first zone: requests
/// alternate between 1 ms + 1 ms CPU = 2 ms and 10 ms + 1 ms = 11 ms, starting
/// with replica 0.
#[test]
fn cross_zone_round_robin_alternates() {
    let text = |n| {
        format!(
            r#"
[zones.z1]
rtt = "1ms"
[zones.z2]
rtt = "1ms"
[[network.links]]
zones = ["z1", "z2"]
rtt = "10ms"
[services.b]
zones = ["z1", "z2"]
replicas = 2
endpoints.e.cpu = "1ms"
[workload]
arrivals = "constant"
rate = 10
client_zone = "z1"
requests = {n}
entry = [{{ endpoint = "b.e" }}]"#
        )
    };
    // The first three requests, one at a time: 2, then 2 + 11, then 2 + 11 + 2.
    for (n, sum) in [(1, 2), (2, 13), (3, 15)] {
        let (_, r) = run(&text(n));
        assert_eq!(
            r.endpoints[0].latency.mean().unwrap() * n as f64,
            (sum * MS) as f64,
            "{n} requests"
        );
    }
    let (_, r) = run(&text(100));
    assert_eq!(
        values(&r.endpoints[0].latency),
        vec![(2 * MS, 50), (11 * MS, 50)]
    );
    assert_eq!(
        (r.endpoints[0].latency.min(), r.endpoints[0].latency.max()),
        (Some(2 * MS), Some(11 * MS))
    );
}

/// A stochastic topology touching every random stream: Poisson arrivals,
/// an entry mix, exponential and lognormal CPU and RTT, random balancing,
/// probabilistic and parallel calls.
fn stochastic(seed: u64, extra_service: &str) -> String {
    format!(
        r#"
[zones.z]
rtt = {{ dist = "exponential", mean = "0.2ms" }}
[services.api]
replicas = 2
cores = 2
endpoints.get = {{ cpu = {{ dist = "exponential", mean = "1ms" }}, stages = [[{{ call = "db.q", probability = 0.7 }}, {{ call = "cache.g", times = 2, parallel = true }}]] }}
endpoints.put = {{ cpu = {{ dist = "lognormal", median = "1ms", p99 = "5ms" }}, stages = [[{{ call = "db.q", times = 2 }}]] }}
{extra_service}
[services.cache]
replicas = 3
balance = "random"
endpoints.g.cpu = {{ dist = "exponential", mean = "0.2ms" }}
[services.db]
cores = 4
balance = "least-outstanding"
endpoints.q.cpu = {{ dist = "lognormal", mean = "1.5ms", sd = "2ms" }}
[workload]
arrivals = "poisson"
rate = 900
warmup = "1s"
duration = "5s"
seed = {seed}
replications = 4
entry = [{{ endpoint = "api.get", weight = 3 }}, {{ endpoint = "api.put" }}]
"#
    )
}

fn summary_json(text: &str) -> String {
    let topo = parse_topology("repro.toml", text).unwrap();
    serde_json::to_string(&summarize(
        &topo,
        &Design::plaintext(),
        &Replications::of(&topo, &Design::plaintext()).runs,
    ))
    .unwrap()
}

/// The same seed gives the same bytes; another seed does not; and the thread
/// count does not matter (each replication is a self-contained run).
#[test]
fn reproducible_across_runs_and_thread_counts() {
    let a = summary_json(&stochastic(1, ""));
    assert_eq!(a, summary_json(&stochastic(1, "")), "same seed, same bytes");
    assert_ne!(
        a,
        summary_json(&stochastic(2, "")),
        "another seed, other results"
    );
    let topo = parse_topology("repro.toml", &stochastic(1, "")).unwrap();
    let in_pool = |threads| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let runs = pool.install(|| Replications::of(&topo, &Design::plaintext()));
        let events: Vec<u64> = runs.runs.iter().map(|r| r.events).collect();
        let pooled: Vec<(u64, u64)> = runs.pooled.buckets();
        (
            serde_json::to_string(&summarize(&topo, &Design::plaintext(), &runs.runs)).unwrap(),
            events,
            pooled,
        )
    };
    let one = in_pool(1);
    assert_eq!(one, in_pool(2), "1 thread vs 2 threads");
    assert_eq!(one.0, a);
}

/// Common random numbers: adding a service nobody calls (declared between
/// the others, so service and endpoint indices shift) changes no draw, so
/// every latency distribution and every service's CPU figures are identical.
#[test]
fn unrelated_service_leaves_results_unchanged() {
    let run_all = |extra| {
        let topo = parse_topology("crn.toml", &stochastic(7, extra)).unwrap();
        let runs = run_replications(&topo, &Design::plaintext());
        assert!(
            runs.iter()
                .all(|r| r.saturation.is_none() && r.arrived > 3000)
        );
        (topo, runs)
    };
    let (ta, ra) = run_all("");
    let (tb, rb) = run_all(
        "[services.audit]\ncores = 2\nendpoints.log = { cpu = \"3ms\", stages = [[{ call = \"db.q\" }]] }",
    );
    let fingerprint = |h: &LatencyHistogram| (h.count(), h.mean(), h.min(), h.max(), h.buckets());
    for (a, b) in ra.iter().zip(&rb) {
        assert_eq!(a.arrived, b.arrived);
        for (x, y) in a.endpoints.iter().zip(&b.endpoints) {
            assert_eq!(fingerprint(&x.latency), fingerprint(&y.latency));
            assert_eq!(x.failed, y.failed);
        }
        for (i, &(caller, callee)) in ta.edges.iter().enumerate() {
            let name = |t: &Topology, e: u32| t.endpoints[e as usize].name.clone();
            let j = tb
                .edges
                .iter()
                .position(|&(c, d)| {
                    name(&tb, c) == name(&ta, caller) && name(&tb, d) == name(&ta, callee)
                })
                .unwrap();
            assert_eq!(
                fingerprint(&a.edges[i].latency),
                fingerprint(&b.edges[j].latency),
                "edge {i}"
            );
        }
        for (i, s) in ta.services.iter().enumerate() {
            let j = tb.services.iter().position(|t| t.name == s.name).unwrap();
            let (x, y) = (a.service(i), b.service(j));
            assert_eq!(
                (x.busy, x.capacity, x.jobs, x.waited),
                (y.busy, y.capacity, y.jobs, y.waited),
                "service {}",
                s.name
            );
        }
        assert_eq!(
            b.service(tb.services.iter().position(|s| s.name == "audit").unwrap())
                .jobs,
            0
        );
    }
}
