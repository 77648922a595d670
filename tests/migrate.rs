//! `ztsim migrate` (docs/migration.md): how steps are formed and when a
//! service turns strict, each step's latency timed exactly with constant
//! costs, the searched order (fewest cores added at each step, and saying
//! when no order exists), order files refused at their line, and the
//! command end to end.

mod common;

use common::{MTLS, PLAIN, TempDir, show_all as show, ztsim};
use ztsim::config::rollout::load_rollout;
use ztsim::config::{parse_design, parse_topology};
use ztsim::model::{Design, Topology};
use ztsim::report::slo::Slo;
use ztsim::study::capacity::Search;
use ztsim::study::migrate::{Capacity, Order, Plan, Rollout, callees_first, migrate, units};

/// client -> a -> b -> c, 1 ms of CPU each on 64 cores (nothing queues),
/// 400 us round trips, constant arrivals 100 ms apart; a has 1 replica, b 3
/// and c 2.
fn chain() -> Topology {
    let text = r#"
[zones.az1]
rtt = "400us"

[services.a]
cores = 64
[services.a.endpoints.work]
cpu = "1ms"
stages = [[{ call = "b.work" }]]

[services.b]
cores = 64
replicas = 3
[services.b.endpoints.work]
cpu = "1ms"
stages = [[{ call = "c.work" }]]

[services.c]
cores = 64
replicas = 2
[services.c.endpoints.work]
cpu = "1ms"

[workload]
arrivals = "constant"
rate = 10
warmup = "1s"
duration = "20s"
replications = 2
entry = [{ endpoint = "a.work" }]
"#;
    parse_topology("chain.toml", text).unwrap_or_else(|e| panic!("{}", show(&e)))
}

/// A sidecar with 2 cores per replica, costing nothing per request.
const SIDECAR: &str = r#"
name = "sidecar"
[transport]
security = "mtls"
cpu = { client_full = "0s", server_full = "0s", client_resumed = "0s", server_resumed = "0s", mtls_client = "0s", mtls_server = "0s" }
[proxy]
mode = "sidecar"
request_cpu = "0s"
cores = 2
"#;

const PLAIN_HOP: f64 = 0.8;
const MTLS_HOP: f64 = 0.8 + 0.1 + 0.4 + 0.2 + 0.01 + 0.02;

fn design(t: &Topology, text: &str) -> Design {
    parse_design("d.toml", text, Some(t)).unwrap_or_else(|e| panic!("{}", show(&e)))
}

fn plan<'a>(from: &'a Design, to: &'a Design, slos: &'a [Slo], order: Order) -> Plan<'a> {
    Plan {
        from,
        to,
        order,
        slos,
        rates: &[10.0],
        search: Search {
            replications: 2,
            max_replications: 2,
            ..Search::default()
        },
        capacity: Capacity::Bound,
    }
}

#[test]
fn callees_move_first_and_a_service_turns_strict_when_its_last_caller_moves() {
    let t = chain();
    let u = units(&t);
    assert_eq!(
        u.iter().map(|u| u.name.as_str()).collect::<Vec<_>>(),
        ["a", "b", "c"]
    );
    assert_eq!(callees_first(&t, &u), [2, 1, 0]);
    let (from, to) = (design(&t, PLAIN), design(&t, MTLS));
    let of = |moved: [bool; 3]| {
        Rollout::new(&t, &from, &to)
            .design(&moved)
            .overrides
            .unwrap()
            .of_service
    };
    // Index 0: the target design, permissive; 1: strict.
    assert_eq!(of([false, false, true]), [None, None, Some(0)]);
    assert_eq!(of([false, true, true]), [None, Some(0), Some(1)]);
    // a's only caller is the client: strict as soon as it moves.
    assert_eq!(of([true, true, true]), [Some(1), Some(1), Some(1)]);
    assert_eq!(of([true, false, false]), [Some(1), None, None]);
}

#[test]
fn each_step_costs_exactly_what_its_hops_cost() {
    let t = chain();
    let (from, to) = (design(&t, PLAIN), design(&t, MTLS));
    let m = migrate(&t, &plan(&from, &to, &[], Order::Callees));
    let mean = |k: usize| {
        m.steps[k].at[0].entries[0]
            .mean_ms
            .expect("not saturated")
            .mean
    };
    let work = 3.0;
    let want = [
        3.0 * PLAIN_HOP + work,
        // c moved, permissive: b still calls it in plaintext.
        3.0 * PLAIN_HOP + work,
        // b moved: b -> c is mTLS (c now strict), a -> b plaintext.
        2.0 * PLAIN_HOP + MTLS_HOP + work,
        3.0 * MTLS_HOP + work,
    ];
    assert_eq!(m.steps.len(), 4);
    let p99 = |k: usize| {
        m.steps[k].at[0].entries[0]
            .p99_ms
            .expect("not saturated")
            .mean
    };
    for (k, w) in want.iter().enumerate() {
        assert!((mean(k) - w).abs() < 1e-9, "step {k}: {} vs {w}", mean(k));
        // Every request takes the same time: p99 is it too, to the
        // histogram's resolution (0.1%).
        assert!(
            (p99(k) - w).abs() <= w * 1e-3,
            "step {k}: p99 {} vs {w}",
            p99(k)
        );
        assert_eq!(m.steps[k].at[0].entries[0].failed_ratio, 0.0);
    }
    assert_eq!(m.steps[1].moves, ["c"]);
    assert_eq!(m.steps[2].strict, ["c"]);
    assert_eq!(m.steps[3].strict, ["a", "b", "c"]);
    // No sidecars in either design: no cores added.
    assert!(m.steps.iter().all(|s| s.at[0].cores_added == 0.0));
}

#[test]
fn the_searched_order_adds_the_fewest_cores_at_each_step() {
    let t = chain();
    let (from, to) = (design(&t, PLAIN), design(&t, SIDECAR));
    let slos = [Slo::parse("p99=50ms").unwrap()];
    let m = migrate(&t, &plan(&from, &to, &slos, Order::Auto));
    assert!(m.note.is_none(), "{:?}", m.note);
    // Sidecars of 2 cores per replica: a (1 replica) adds 2, c (2) 4, b (3) 6.
    let moves: Vec<&str> = m.steps[1..].iter().map(|s| s.moves[0].as_str()).collect();
    assert_eq!(moves, ["a", "c", "b"]);
    let added: Vec<f64> = m.steps.iter().map(|s| s.at[0].cores_added).collect();
    for (got, want) in added.iter().zip([0.0, 2.0, 6.0, 12.0]) {
        assert!((got - want).abs() < 1e-9, "{added:?}");
    }
    assert!(
        m.steps
            .iter()
            .all(|s| s.at[0].verdict == ztsim::report::slo::Verdict::Met)
    );
}

#[test]
fn the_searched_order_is_the_only_one_within_the_slo() {
    let t = chain();
    // Before: one-way TLS, a new connection per call (1.2 ms of round
    // trips + 300 us of handshake CPU per hop: 1.5 ms). After: mTLS over
    // prewarmed pools (one round trip per hop, 0.4 ms), whose handshake is
    // dear (5 ms of server CPU) but never paid once pooled. Which
    // connections exist is the caller's choice and the handshake's figures
    // the callee's, so a callee that moves before its caller is reached by
    // a new connection per call paying its dear handshake (6.3 ms). With
    // 3 ms of work, mean latency by moved set: {} 7.5, {a} 5.3, {a,b} and
    // {a,b,c} 4.2, but {c} 12.3, {b} 11.2, {b,c} 11.2, {a,c} 10.1: within
    // 8 ms, a then b then c is the only order.
    let from = design(
        &t,
        r#"
name = "tls-per-call"
[transport]
security = "tls"
cpu = { client_full = "100us", server_full = "200us", client_resumed = "0s", server_resumed = "0s", mtls_client = "0s", mtls_server = "0s" }
[connections]
reuse = "per-request"
"#,
    );
    let to = design(
        &t,
        r#"
name = "pooled-mtls"
[transport]
security = "mtls"
cpu = { client_full = "100us", server_full = "5ms", client_resumed = "0s", server_resumed = "0s", mtls_client = "0s", mtls_server = "0s" }
[connections]
reuse = "pool"
prewarm = true
"#,
    );
    let slos = [Slo::parse("mean=8ms").unwrap()];
    let mean_by_step = |m: &ztsim::report::migration::Migration| -> Vec<f64> {
        m.steps
            .iter()
            .map(|s| s.at[0].entries[0].mean_ms.expect("not saturated").mean)
            .collect()
    };
    let close = |got: &[f64], want: &[f64]| {
        got.len() == want.len() && got.iter().zip(want).all(|(g, w)| (g - w).abs() < 1e-9)
    };
    // Callees first moves c, then b, then a: two steps miss.
    let callees = migrate(&t, &plan(&from, &to, &slos, Order::Callees));
    let got = mean_by_step(&callees);
    assert!(close(&got, &[7.5, 12.3, 11.2, 4.2]), "{got:?}");
    let m = migrate(&t, &plan(&from, &to, &slos, Order::Auto));
    assert!(m.note.is_none(), "{:?}", m.note);
    let moves: Vec<&str> = m.steps[1..].iter().map(|s| s.moves[0].as_str()).collect();
    assert_eq!(moves, ["a", "b", "c"]);
    let got = mean_by_step(&m);
    assert!(close(&got, &[7.5, 5.3, 4.2, 4.2]), "{got:?}");
    assert!(
        m.steps
            .iter()
            .all(|s| s.at[0].verdict == ztsim::report::slo::Verdict::Met)
    );
}

#[test]
fn shared_proxies_are_deployed_only_once_a_service_uses_them() {
    let t = chain();
    let from = design(&t, PLAIN);
    let to = design(
        &t,
        "name = \"ambient\"\n[transport]\nsecurity = \"mtls\"\n[proxy]\nmode = \"node\"\ncores = 1\n[proxy.waypoint]\nreplicas = 2\ncores = 2\n",
    );
    let m = migrate(&t, &plan(&from, &to, &[], Order::Callees));
    // Step 0 is the plaintext system alone: 6 replicas x 64 cores, no
    // waypoint or node proxy although the step's design names them.
    assert_eq!(m.steps[0].at[0].cores, 384.0);
    // c moved: its two replicas' node proxies (one core each) and the two
    // waypoints (two cores each).
    assert_eq!(m.steps[1].at[0].cores_added, 6.0);
}

#[test]
fn the_search_says_when_no_order_keeps_the_slos() {
    let t = chain();
    let (from, to) = (design(&t, PLAIN), design(&t, MTLS));
    // Step 0 takes 5.4 ms, everything moved 7.59 ms: between them, only a
    // prefix of the rollout fits.
    let slos = [Slo::parse("mean=6ms").unwrap()];
    let m = migrate(&t, &plan(&from, &to, &slos, Order::Auto));
    let note = m.note.expect("no order");
    assert!(note.contains("last step"), "{note}");
    assert_eq!(m.order, "callees first");
    let slos = [Slo::parse("mean=1ms").unwrap()];
    let m = migrate(&t, &plan(&from, &to, &slos, Order::Auto));
    assert!(m.note.expect("no order").contains("starting point"));
}

#[test]
fn order_files_are_refused_at_their_line() {
    let t = chain();
    let dir = TempDir::new("rollout");
    let path = dir.path().join("order.toml");
    let read = |text: &str| {
        std::fs::write(&path, text).unwrap();
        load_rollout(&path, &t)
    };
    let steps = read("[[step]]\nservices = [\"c\"]\n[[step]]\nservices = [\"a\", \"b\"]\n")
        .unwrap_or_else(|e| panic!("{}", show(&e)));
    assert_eq!(
        steps,
        [("c".to_string(), vec![2]), ("a, b".to_string(), vec![0, 1])]
    );
    let e = show(
        &read("[[step]]\nservices = [\"cc\", \"a\"]\n[[step]]\nservices = [\"a\"]\n").unwrap_err(),
    );
    assert!(
        e.contains("order.toml:2:") && e.contains("did you mean `c`"),
        "{e}"
    );
    assert!(
        e.contains("order.toml:3:") && e.contains("step[0] moves already"),
        "{e}"
    );
    assert!(e.contains("no step moves b, c"), "{e}");
    let e = show(&read("[[step]]\nnamespaces = [\"shop\"]\n").unwrap_err());
    assert!(e.contains("namespace `shop`"), "{e}");
    let e = show(&read("[[stepp]]\n").unwrap_err());
    assert!(e.contains("order.toml:1") && e.contains("stepp"), "{e}");
}

#[test]
fn the_command_writes_its_tables_and_refuses_a_design_with_overrides() {
    let dir = TempDir::new("migrate-cli");
    let root = common::root();
    let out = dir.path().join("out");
    let run = ztsim(&[
        "migrate".as_ref(),
        root.join("topologies/payments.toml").as_os_str(),
        "--from".as_ref(),
        root.join("models/plaintext.toml").as_os_str(),
        "--to".as_ref(),
        root.join("models/istio-sidecar.toml").as_os_str(),
        "--slo".as_ref(),
        "p99=2s".as_ref(),
        "--price-per-vcpu-hour".as_ref(),
        "0.05".as_ref(),
        "--duration".as_ref(),
        "2s".as_ref(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
    let text = String::from_utf8_lossy(&run.stdout);
    assert_eq!(
        run.status.code(),
        Some(0),
        "{text}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(text.contains("step 4: moves platform"), "{text}");
    // istio-sidecar's 64 cores of sidecars at $0.05 an hour: $2336 a month.
    assert!(text.contains("cores added cost $2336 a month"), "{text}");
    let csv = std::fs::read_to_string(out.join("migration.csv")).unwrap();
    // Five steps x two entry endpoints, and the header.
    assert_eq!(csv.lines().count(), 11, "{csv}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("migration.json")).unwrap())
            .unwrap();
    assert_eq!(json["steps"].as_array().unwrap().len(), 5);
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        report.contains("## The steps")
            && report.contains("![p99 and cores added by step](migration.png)"),
        "{report}"
    );
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("data:image/png;base64,"));
    for chart in ["migration.svg", "migration.png"] {
        assert!(
            std::fs::metadata(out.join(chart)).unwrap().len() > 1000,
            "{chart}"
        );
    }
    let run = ztsim(&[
        "migrate".as_ref(),
        root.join("topologies/payments.toml").as_os_str(),
        "--from".as_ref(),
        root.join("topologies/migration/payments-money-moved.design.toml")
            .as_os_str(),
        "--to".as_ref(),
        root.join("models/istio-sidecar.toml").as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("without overrides"));
}
