//! Nodes and co-location (docs/topology.md "Nodes and co-location"):
//! services placed on one node share its cores as one FCFS queue, and a
//! call between two replicas on one node takes `network.same_host`. Exact
//! cases with constant costs; a queueing check (two services on a 2-core
//! node are one M/M/2 queue); the bad inputs are in tests/data/bad.

mod common;

use common::queueing::{check, erlang_c, pool};
use common::show_all as show;
use common::{Run, TempDir, ztsim};
use ztsim::config::parse_topology;
use ztsim::model::metrics::{RunMetrics, StationOwner};
use ztsim::model::sim::simulate;
use ztsim::model::{Design, Replication, Topology, run_replications};
use ztsim::report::summarize;

const US: u64 = 1_000;
const MS: u64 = 1_000_000;

/// Zones a and b (400 us within a zone, 5 ms between them), the default
/// 40 us `same_host`, `body` (nodes and services), constant arrivals at 20
/// requests a second into `entry` for 20 s after a 1 s warm-up.
fn topology(body: &str, entry: &str) -> Topology {
    let text = format!(
        "[zones.a]\nrtt = \"400us\"\n[zones.b]\nrtt = \"400us\"\n\
         [network]\nlinks = [{{ zones = [\"a\", \"b\"], rtt = \"5ms\" }}]\n{body}\n\
         [workload]\narrivals = \"constant\"\nrate = 20\nclient_zone = \"a\"\n\
         warmup = \"1s\"\nduration = \"20s\"\nentry = [{{ endpoint = \"{entry}\" }}]\n"
    );
    parse_topology("nodes.toml", &text).unwrap_or_else(|e| panic!("{}", show(&e)))
}

fn run(t: &Topology) -> RunMetrics {
    let r = simulate(t, &Design::plaintext(), 0);
    assert!(r.saturation.is_none(), "{:?}", r.saturation);
    r
}

/// The measured requests' latencies, each distinct value once.
fn latencies(r: &RunMetrics) -> (Option<u64>, Option<u64>, u64) {
    let h = &r.endpoints[0].latency;
    (h.min(), h.max(), h.count())
}

/// a (1 ms of CPU) calls b (1 ms), one request at a time.
const A_CALLS_B: &str = "[services.a]\nnode = \"n1\"\nendpoints.e.cpu = \"1ms\"\n\
                         endpoints.e.stages = [[{ call = \"b.e\" }]]\n\
                         [services.b]\nendpoints.e.cpu = \"1ms\"\n";

/// The client (zone a) reaches a in 200 us each way. On one node, a's call
/// to b takes 20 us each way (half of `same_host`): 200 + 1000 + 20 +
/// 1000 + 20 + 200 us = 2.44 ms. On two nodes of zone a, the zone's 400 us:
/// 2.8 ms; with b's node in zone b, the 5 ms link: 7.4 ms.
#[test]
fn a_call_within_a_node_is_a_loopback_apart() {
    for (nodes, b_on, want) in [
        ("[nodes.n1]\nzone = \"a\"\ncores = 1\n", "n1", 2_440 * US),
        (
            "[nodes.n1]\nzone = \"a\"\ncores = 1\n[nodes.n2]\nzone = \"a\"\ncores = 1\n",
            "n2",
            2_800 * US,
        ),
        (
            "[nodes.n1]\nzone = \"a\"\ncores = 1\n[nodes.n2]\nzone = \"b\"\ncores = 1\n",
            "n2",
            7_400 * US,
        ),
    ] {
        let body = format!("{nodes}{A_CALLS_B}node = \"{b_on}\"\n");
        let r = run(&topology(&body, "a.e"));
        let (min, max, n) = latencies(&r);
        assert!(n >= 399, "requests measured: {n}");
        assert_eq!((min, max), (Some(want), Some(want)), "b on {b_on}");
    }
}

/// b's two replicas dealt over n1 (a's node) and n2 (zone a): round-robin
/// alternates, so half the requests take 2.44 ms and half 2.8 ms.
#[test]
fn replicas_are_dealt_round_the_nodes() {
    let body = format!(
        "[nodes.n1]\nzone = \"a\"\ncores = 1\n[nodes.n2]\nzone = \"a\"\ncores = 1\n\
         {A_CALLS_B}replicas = 2\nnodes = [\"n1\", \"n2\"]\n"
    );
    let r = run(&topology(&body, "a.e"));
    let h = &r.endpoints[0].latency;
    assert_eq!((h.min(), h.max()), (Some(2_440 * US), Some(2_800 * US)));
    // k requests at 2.44 ms and the rest at 2.8 ms add up to the sum.
    let n = u128::from(h.count());
    let near = (n * 2_800 * u128::from(US) - h.sum()) / (360 * u128::from(US));
    assert!((2 * near).abs_diff(n) <= 1, "{near} of {n} on a's node");
}

/// `front` (cores of its own, no CPU) calls a twice at once; a (1 ms)
/// calls b (1 ms). On one 1-core node the four jobs take turns: a1
/// [0.4, 1.4] ms, a2 [1.4, 2.4]; b1 arrives at 1.42 and waits for a2,
/// runs [2.4, 3.4]; b2 arrives at 2.42 and runs [3.4, 4.4], back at a2 at
/// 4.42, at front at 4.62, at the client at 4.82 ms. On two 1-core nodes
/// of the zone: b1 runs [1.6, 2.6], b2 [2.6, 3.6] (arriving as b1 ends),
/// back at front at 4.0 and at the client at 4.2 ms.
#[test]
fn services_on_one_node_take_turns_on_its_cores() {
    let front = "[services.front]\nzone = \"a\"\n\
                 endpoints.e.stages = [[{ call = \"a.e\", times = 2, parallel = true }]]\n";
    for (nodes, b_on, want) in [
        ("[nodes.n1]\nzone = \"a\"\ncores = 1\n", "n1", 4_820 * US),
        (
            "[nodes.n1]\nzone = \"a\"\ncores = 1\n[nodes.n2]\nzone = \"a\"\ncores = 1\n",
            "n2",
            4_200 * US,
        ),
    ] {
        let body = format!("{nodes}{front}{A_CALLS_B}node = \"{b_on}\"\n");
        let r = run(&topology(&body, "front.e"));
        let (min, max, n) = latencies(&r);
        assert!(n >= 399, "requests measured: {n}");
        assert_eq!((min, max), (Some(want), Some(want)), "b on {b_on}");
    }
}

/// Utilisation is counted per node: a and b on n1 (2 cores) busy 2 ms a
/// request at 20 a second is 40 ms of CPU a second over 2 cores, 2%, the
/// node's station (no station of a or b's own), measured and offered; the
/// summary lists it as `node n1 (a, b)` and each service says it runs
/// there, with the node's figures.
#[test]
fn utilisation_is_counted_per_node() {
    let body = format!("[nodes.n1]\nzone = \"a\"\ncores = 2\n{A_CALLS_B}node = \"n1\"\n");
    let t = topology(&body, "a.e");
    let r = run(&t);
    assert!(r.station(StationOwner::Service(0)).is_none());
    let node = r
        .station(StationOwner::Host(0))
        .expect("the node's station");
    assert_eq!(node.instances, 1);
    assert_eq!(node.capacity, 2 * 20 * 1_000 * MS, "2 cores for 20 s");
    assert_eq!(node.busy.iter().sum::<u64>(), 400 * 2 * MS);
    assert!((node.utilisation() - 0.02).abs() < 1e-12);
    assert!((t.offered_node_utilisation(20.0)[0] - 0.02).abs() < 1e-12);
    assert!((t.offered_utilisation(20.0)[1] - 0.02).abs() < 1e-12);

    let s = summarize(&t, &Design::plaintext(), &[Replication::from(r)]);
    let names: Vec<&str> = s.proxies.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["node n1 (a, b)"]);
    assert_eq!(s.proxies[0].kind, "node");
    for svc in &s.services {
        assert_eq!(svc.nodes, ["n1"], "{}", svc.name);
        assert!((svc.utilisation.mean - 0.02).abs() < 1e-12);
        assert_eq!(svc.offered_utilisation, Some(0.02));
    }
}

// ---- two services on a 2-core node are one M/M/2 queue -------------------

/// Services a and b, each exponential CPU of mean 1 ms, on one 2-core
/// node with zero RTT; Poisson arrivals at 1600 a second split evenly
/// between them. Their jobs join one queue for the node's two cores: M/M/2
/// at rho = 0.8, Erlang C 0.711, mean wait C / (2 mu - lambda) = 1.778 ms,
/// for both services alike. Two services on cores of their own (one each)
/// would be two M/M/1 queues at rho = 0.8, a mean wait of 4 ms.
#[test]
fn two_services_on_a_two_core_node_are_one_mm2_queue() {
    let text = "[zones.z]\nrtt = \"0ns\"\n[network]\nsame_host = \"0ns\"\n\
                [nodes.n1]\ncores = 2\n\
                [services.a]\nnode = \"n1\"\nendpoints.e.cpu = { dist = \"exponential\", mean = \"1ms\" }\n\
                [services.b]\nnode = \"n1\"\nendpoints.e.cpu = { dist = \"exponential\", mean = \"1ms\" }\n\
                [workload]\narrivals = \"poisson\"\nrate = 1600\nwarmup = \"2s\"\nrequests = 400000\n\
                seed = 301\nreplications = 16\n\
                entry = [{ endpoint = \"a.e\", weight = 1 }, { endpoint = \"b.e\", weight = 1 }]\n";
    let topo = parse_topology("mm2.toml", text).unwrap_or_else(|e| panic!("{}", show(&e)));
    let runs = run_replications(&topo, &Design::plaintext());
    assert!(runs.iter().all(|r| r.saturation.is_none()));
    let (lambda, mu) = (1600.0, 1000.0);
    let wq = erlang_c(2, lambda / mu) / (2.0 * mu - lambda) * 1e9;
    let node = |r: &RunMetrics| r.station(StationOwner::Host(0)).cloned().unwrap();
    check(
        "node mean wait",
        &pool(&runs, |r| (node(r).waited as f64, node(r).jobs as f64)),
        wq,
        0.03,
    );
    for e in 0..2 {
        check(
            &format!("service {e} mean latency"),
            &pool(&runs, |r| {
                let h = &r.endpoints[e].latency;
                (h.mean().unwrap() * h.count() as f64, h.count() as f64)
            }),
            wq + 1e9 / mu,
            0.03,
        );
    }
    check(
        "node utilisation",
        &pool(&runs, |r| {
            (
                node(r).busy.iter().sum::<u64>() as f64,
                node(r).capacity as f64,
            )
        }),
        0.8,
        0.01,
    );
}

// ---- the command line ------------------------------------------------------

/// api and db on n1 (2 cores), 1 ms each a request, at `rate`.
fn node_file(dir: &TempDir, rate: u32) -> String {
    let path = dir.path().join("nodes.toml");
    let text = format!(
        "[zones.a]\nrtt = \"400us\"\n\n[nodes.n1]\ncores = 2\n\n\
         [services.api]\nnode = \"n1\"\nendpoints.e.cpu = \"1ms\"\n\
         endpoints.e.stages = [[{{ call = \"db.e\" }}]]\n\n\
         [services.db]\nnode = \"n1\"\nendpoints.e.cpu = \"1ms\"\n\n\
         [workload]\narrivals = \"poisson\"\nrate = {rate}\nrequests = 200\n\
         entry = [{{ endpoint = \"api.e\" }}]\n"
    );
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

/// `ztsim run` warns about a node offered more than its cores (2 ms a
/// request at 1200 a second is 120% of 2 cores), not about its services;
/// capacity sizing refuses nodes at the first `[nodes.NAME]` (line 4).
#[test]
fn the_command_line_warns_about_a_node_and_sizing_refuses_nodes() {
    let dir = TempDir::new("nodes");
    let file = node_file(&dir, 1200);
    let out = dir.path().join("out");
    let run = Run::from(ztsim(&["run", &file, "--out", out.to_str().unwrap()]));
    assert!(
        run.stderr
            .contains("node `n1` is offered 120% of its cores by business CPU alone"),
        "{}",
        run.show()
    );
    assert!(!run.stderr.contains("service `api`"), "{}", run.show());

    let run = Run::from(ztsim(&[
        "capacity",
        &file,
        "--slo",
        "p99=50ms",
        "--target-rate",
        "100",
    ]));
    run.expect_code(2);
    assert!(
        run.stderr.contains("nodes.toml:4:") && run.stderr.contains("nodes.n1"),
        "{}",
        run.show()
    );
    assert!(
        run.stderr.contains("sizing nodes is not supported"),
        "{}",
        run.show()
    );
}
