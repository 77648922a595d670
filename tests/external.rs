//! Services outside the system (`external = true`, docs/topology.md): exact
//! latencies with constant costs, their own TLS whatever the design, no
//! checks of ours at them, and the keys they refuse.

mod common;

use common::show_all as show;
use ztsim::config::{parse_design, parse_topology};
use ztsim::model::cost::Span;
use ztsim::model::metrics::RunMetrics;
use ztsim::model::sim::simulate;
use ztsim::model::{Design, Topology};

const US: u64 = 1_000;
const MS: u64 = 1_000_000;

/// api (64 cores, so nothing queues; 1 ms of CPU) calls psp.charge once per
/// request; psp is external, 20 ms away, and answers after 50 ms. Constant
/// arrivals 100 ms apart: no call overlaps another.
fn shop(psp: &str) -> Topology {
    let text = format!(
        r#"
[zones.az1]
rtt = "400us"
[zones.internet]
rtt = "1ms"
[[network.links]]
zones = ["az1", "internet"]
rtt = "20ms"

[services.api]
zone = "az1"
cores = 64
[services.api.endpoints.pay]
cpu = "1ms"
stages = [[{{ call = "psp.charge" }}]]

[services.psp]
external = true
zone = "internet"
{psp}
[services.psp.endpoints.charge]
latency = "50ms"

[services.policy]
zone = "az1"
[services.policy.endpoints.check]
cpu = "300us"

[workload]
arrivals = "constant"
rate = 10
warmup = "1s"
duration = "20s"
replications = 1
entry = [{{ endpoint = "api.pay" }}]
"#
    );
    parse_topology("ext.toml", &text).unwrap_or_else(|e| panic!("{}", show(&e)))
}

fn design(t: &Topology, text: &str) -> Design {
    parse_design("d.toml", text, Some(t)).unwrap_or_else(|e| panic!("{}", show(&e)))
}

fn run(t: &Topology, d: &Design) -> RunMetrics {
    let r = simulate(t, d, 0);
    assert!(r.saturation.is_none(), "{:?}", r.saturation);
    r
}

/// Every request took exactly `ns`.
fn every_request(r: &RunMetrics, ns: u64) {
    let h = &r.endpoints[0].latency;
    assert!(h.count() >= 199, "requests measured: {}", h.count());
    assert_eq!((h.min(), h.max()), (Some(ns), Some(ns)), "min and max");
}

#[test]
fn a_constant_delay_adds_exactly_that_delay() {
    // Plaintext to it: 0.4 ms to api + 1 ms CPU + 20 ms round trip + 50 ms.
    let t = shop("tls = \"none\"");
    let r = run(&t, &Design::plaintext());
    every_request(&r, 400 * US + MS + 20 * MS + 50 * MS);
    let a = r.endpoints[0].attribution.mean().expect("attribution");
    assert_eq!(a[Span::External as usize], 50.0 * MS as f64, "{a:?}");
    // Its concurrency limit is never reached: nothing waits.
    let t = shop("tls = \"none\"\nconcurrency = 1");
    every_request(&run(&t, &Design::plaintext()), 71_400 * US);
}

#[test]
fn its_own_tls_costs_a_handshake_per_call_when_asked_whatever_the_design() {
    // TLS 1.3, a connection per call: TCP round trip, client handshake CPU
    // on api's cores (460 us, the published default), ClientHello and the
    // server's flight (one round trip) with its 230 us between, then the
    // request and response (one round trip) and the 50 ms.
    let want = 400 * US + MS + 20 * MS + 460 * US + 20 * MS + 230 * US + 20 * MS + 50 * MS;
    let t = shop("tls = \"1.3\"\nconnections = \"per-request\"");
    let r = run(&t, &Design::plaintext());
    every_request(&r, want);
    assert_eq!(r.counters.handshakes_full, r.counters.connections_opened);
    assert!(r.counters.handshakes_full >= 200);
    // TLS 1.2: a second round trip on the full handshake (its own, smaller
    // CPU figures: client 260 us, server 130 us).
    let t = shop("tls = \"1.2\"\nconnections = \"per-request\"");
    every_request(
        &run(&t, &Design::plaintext()),
        400 * US + MS + 20 * MS + 260 * US + 40 * MS + 130 * US + 20 * MS + 50 * MS,
    );
    // A mesh design with mTLS, resumption and remote policy on every hop
    // changes nothing at the external hop: one-way TLS, no resumption, no
    // policy call; only the client's hop to api pays the mesh's costs.
    let mesh = r#"
name = "mesh"
[transport]
security = "mtls"
[connections]
reuse = "per-request"
[resumption]
tickets = true
[authz]
mode = "remote"
policy = "policy.check"
"#;
    let d = design(&t, mesh);
    let r = run(&t, &d);
    // The external hop as api sees it, exactly as under plaintext.
    let hop = &r.edges[0].latency;
    let want = 20 * MS + 260 * US + 40 * MS + 130 * US + 20 * MS + 50 * MS;
    assert_eq!((hop.min(), hop.max()), (Some(want), Some(want)));
    // One policy decision per request: at api, none at psp.
    assert_eq!(r.counters.authz_decisions, r.endpoints[0].latency.count());
}

#[test]
fn a_pool_opens_once_and_reuses() {
    let t = shop("tls = \"1.3\"");
    let r = run(&t, &Design::plaintext());
    // The baseline's pools start warm: every call rides the warm connection.
    every_request(&r, 71_400 * US);
    assert_eq!(r.counters.connections_opened, 0);
}

#[test]
fn keys_that_make_no_sense_outside_the_system_are_refused_at_their_line() {
    let bad = |psp: &str, endpoint: &str| -> String {
        let text = format!(
            "[zones.az1]\nrtt = \"1ms\"\n[services.api]\n[services.api.endpoints.get]\ncpu = \"1ms\"\nstages = [[{{ call = \"psp.x\" }}]]\n[services.psp]\nexternal = true\n{psp}\n[services.psp.endpoints.x]\n{endpoint}\n[workload]\narrivals = \"poisson\"\nrate = 1\nentry = [{{ endpoint = \"api.get\" }}]\n"
        );
        match parse_topology("ext.toml", &text) {
            Ok(_) => panic!("accepted:\n{text}"),
            Err(e) => show(&e),
        }
    };
    let e = bad("cores = 4", "latency = \"5ms\"");
    assert!(
        e.contains("ext.toml:9:") && e.contains("services.psp.cores") && e.contains("no `cores`"),
        "{e}"
    );
    let e = bad("replicas = 2", "latency = \"5ms\"");
    assert!(e.contains("services.psp.replicas"), "{e}");
    let e = bad("", "cpu = \"1ms\"");
    assert!(
        e.contains("needs `latency`") && e.contains("services.psp.endpoints.x.cpu"),
        "{e}"
    );
    let e = bad("", "latency = \"5ms\"\nstages = [[{ call = \"api.get\" }]]");
    assert!(e.contains("services.psp.endpoints.x.stages"), "{e}");
    let e = bad("tls = \"1.1\"", "latency = \"5ms\"");
    assert!(e.contains("services.psp.tls"), "{e}");
    // And the other way round: `latency` and `tls` only outside the system.
    let text = "[zones.az1]\nrtt = \"1ms\"\n[services.api]\ntls = \"1.3\"\n[services.api.endpoints.get]\nlatency = \"1ms\"\n[workload]\narrivals = \"poisson\"\nrate = 1\nentry = [{ endpoint = \"api.get\" }]\n";
    let e = show(&parse_topology("int.toml", text).expect_err("accepted"));
    assert!(
        e.contains("int.toml:4:") && e.contains("services.api.tls"),
        "{e}"
    );
    assert!(e.contains("services.api.endpoints.get.latency"), "{e}");
}

#[test]
fn a_saturated_limit_is_named_the_bottleneck_not_a_core() {
    // 100 calls a second that each hold one of psp's 2 slots for 50 ms
    // need 5: the backlog grows at psp's limit while api's 64 cores idle.
    let t = shop("tls = \"none\"\nconcurrency = 2");
    let mut t = t;
    t.workload.arrivals = ztsim::model::topology::Arrivals::Constant { rate: 100.0 };
    let r = simulate(&t, &Design::plaintext(), 0);
    let sat = r.saturation.expect("saturated");
    let psp = t.services.iter().position(|s| s.name == "psp").unwrap() as u32;
    assert_eq!(
        sat.bottleneck,
        Some(ztsim::model::metrics::StationOwner::Workers(psp))
    );
    // With room for all (5 in progress at most), the same load is stable.
    let mut t = shop("tls = \"none\"\nconcurrency = 6");
    t.workload.arrivals = ztsim::model::topology::Arrivals::Constant { rate: 100.0 };
    every_request(&simulate(&t, &Design::plaintext(), 0), 71_400 * US);
}
