//! Services under different designs (`[[override]]`, docs/design.md
//! "Services under different designs"): every cell of the hop matrix timed
//! exactly with constant costs, refusals counted, CPU where each side's
//! design puts it, and the located refusals of bad overrides.

mod common;

use common::{MTLS, PLAIN, TempDir, show_all as show};
use ztsim::config::{parse_design, parse_topology};
use ztsim::model::cost::Cpu;
use ztsim::model::metrics::{RunMetrics, StationOwner};
use ztsim::model::sim::simulate;
use ztsim::model::{Design, Topology};

const US: u64 = 1_000;
const MS: u64 = 1_000_000;

/// client -> a.work (1 ms) -> b.work (1 ms), 64 cores each so nothing
/// queues, 400 us round trips, constant arrivals 100 ms apart: no call
/// overlaps another. `b` sits in namespace `shop` with label tier=backend.
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
namespace = "shop"
labels = { tier = "backend" }
[services.b.endpoints.work]
cpu = "1ms"

[workload]
arrivals = "constant"
rate = 10
warmup = "1s"
duration = "20s"
replications = 1
entry = [{ endpoint = "a.work" }]
"#;
    parse_topology("chain.toml", text).unwrap_or_else(|e| panic!("{}", show(&e)))
}

/// One-way TLS with the same figures.
const TLS: &str = r#"
name = "tls"
[transport]
security = "tls"
cpu = { client_full = "100us", server_full = "200us", client_resumed = "0s", server_resumed = "0s", mtls_client = "10us", mtls_server = "20us" }
[connections]
reuse = "per-request"
"#;

/// Per hop: TCP round trip, then the request and response round trip.
const PLAIN_HOP: u64 = 800 * US;
/// ... plus client CPU, the handshake's round trip and the server's CPU.
const TLS_HOP: u64 = 800 * US + 100 * US + 400 * US + 200 * US;
const MTLS_HOP: u64 = TLS_HOP + 10 * US + 20 * US;
/// A strict callee's refusal: one round trip.
const REFUSAL: u64 = 400 * US;

/// The design files in a folder, the base design with `overrides` appended.
fn mesh(t: &Topology, base: &str, overrides: &str) -> Design {
    let dir = TempDir::new("mesh");
    for (name, text) in [
        ("plain.toml", PLAIN),
        ("mtls.toml", MTLS),
        ("tls.toml", TLS),
    ] {
        std::fs::write(dir.path().join(name), text).expect("write a design");
    }
    let path = dir.path().join("mesh.toml");
    let text = format!("{base}\n{overrides}");
    parse_design(&path.display().to_string(), &text, Some(t))
        .unwrap_or_else(|e| panic!("{}", show(&e)))
}

fn run(t: &Topology, d: &Design) -> RunMetrics {
    let r = simulate(t, d, 0);
    assert!(r.saturation.is_none(), "{:?}", r.saturation);
    r
}

/// Every request took exactly `ns`, and `failed` of each failed.
fn every_request(r: &RunMetrics, ns: u64, failed: bool) {
    let o = &r.endpoints[0];
    let n = o.latency.count();
    assert!(n >= 199, "requests measured: {n}");
    assert_eq!(
        (o.latency.min(), o.latency.max()),
        (Some(ns), Some(ns)),
        "min and max"
    );
    assert_eq!(o.failed, if failed { n } else { 0 }, "failed requests");
    assert_eq!(
        r.counters.refused,
        if failed { n } else { 0 },
        "refused calls"
    );
}

const WORK: u64 = 2 * MS;

#[test]
fn one_design_everywhere_is_the_design_alone() {
    let t = chain();
    every_request(&run(&t, &mesh(&t, MTLS, "")), 2 * MTLS_HOP + WORK, false);
    every_request(&run(&t, &mesh(&t, PLAIN, "")), 2 * PLAIN_HOP + WORK, false);
    // An override that gives every service the design's own settings
    // changes nothing: same figures, draw for draw.
    let all = "[[override]]\nservices = [\"a\", \"b\"]\n";
    let (x, y) = (run(&t, &mesh(&t, MTLS, "")), run(&t, &mesh(&t, MTLS, all)));
    assert_eq!(
        x.endpoints[0].latency.count(),
        y.endpoints[0].latency.count()
    );
    assert_eq!(x.counters, y.counters);
    assert_eq!(x.stations, y.stations);
}

#[test]
fn a_permissive_callee_accepts_a_plaintext_caller_in_plaintext() {
    let t = chain();
    // b moved to mTLS, permissive (the default): a still speaks plaintext,
    // so the hop stays plaintext and costs nothing more.
    let moved = "[[override]]\nservices = [\"b\"]\ndesign = \"mtls.toml\"\n";
    every_request(
        &run(&t, &mesh(&t, PLAIN, moved)),
        2 * PLAIN_HOP + WORK,
        false,
    );
    // Both moved: the hop between them is mTLS; the client's hop to a is
    // a's (the ingress moves with the service it fronts).
    let both = "[[override]]\nservices = [\"a\", \"b\"]\ndesign = \"mtls.toml\"\n";
    every_request(&run(&t, &mesh(&t, PLAIN, both)), 2 * MTLS_HOP + WORK, false);
    // Only a moved: a caller in the mesh reaches a callee outside it in
    // plaintext.
    let first = "[[override]]\nservices = [\"a\"]\ndesign = \"mtls.toml\"\n";
    every_request(
        &run(&t, &mesh(&t, PLAIN, first)),
        MTLS_HOP + PLAIN_HOP + WORK,
        false,
    );
}

#[test]
fn a_strict_callee_refuses_callers_outside_its_mesh_after_one_round_trip() {
    let t = chain();
    let strict = "[[override]]\nservices = [\"b\"]\ndesign = \"mtls.toml\"\nmode = \"strict\"\n";
    // a's call to b is refused: the request fails after the client's hop,
    // a's CPU and one round trip; b never works.
    let r = run(&t, &mesh(&t, PLAIN, strict));
    every_request(&r, PLAIN_HOP + MS + REFUSAL, true);
    let b = r
        .stations
        .iter()
        .find(|s| s.owner == StationOwner::Service(1))
        .expect("b's cores");
    assert_eq!(b.jobs, 0, "b ran nothing");
    // The same with the mode on the design itself and a left outside.
    let strict_base = format!("mode = \"strict\"\n{MTLS}");
    let outside = "[[override]]\nservices = [\"a\"]\ndesign = \"plain.toml\"\n";
    every_request(
        &run(&t, &mesh(&t, &strict_base, outside)),
        PLAIN_HOP + MS + REFUSAL,
        true,
    );
    // One-way TLS is weaker than mTLS: refused too.
    let tls_caller = "[[override]]\nservices = [\"a\"]\ndesign = \"tls.toml\"\n";
    every_request(
        &run(&t, &mesh(&t, &strict_base, tls_caller)),
        TLS_HOP + MS + REFUSAL,
        true,
    );
}

#[test]
fn the_hop_takes_the_weaker_sides_security_and_the_callees_figures() {
    let t = chain();
    // A permissive mTLS callee accepts a one-way TLS caller over one-way
    // TLS: no certificate of the caller's to sign or verify.
    let tls_caller = "[[override]]\nservices = [\"a\"]\ndesign = \"tls.toml\"\n";
    every_request(
        &run(&t, &mesh(&t, MTLS, tls_caller)),
        2 * TLS_HOP + WORK,
        false,
    );
    // An mTLS caller at a one-way TLS callee: the callee asks for no
    // certificate.
    let tls_callee = "[[override]]\nservices = [\"b\"]\ndesign = \"tls.toml\"\n";
    every_request(
        &run(&t, &mesh(&t, MTLS, tls_callee)),
        MTLS_HOP + TLS_HOP + WORK,
        false,
    );
}

#[test]
fn namespaces_and_labels_choose_the_same_services_as_names() {
    let t = chain();
    let by = |sel: &str| {
        let d = mesh(
            &t,
            PLAIN,
            &format!("[[override]]\n{sel}\ndesign = \"mtls.toml\"\nmode = \"strict\"\n"),
        );
        let r = run(&t, &d);
        (r.counters.refused, r.endpoints[0].latency.max())
    };
    let named = by("services = [\"b\"]");
    assert!(named.0 >= 199, "{named:?}");
    assert_eq!(by("namespace = \"shop\""), named);
    assert_eq!(by("labels = { tier = \"backend\" }"), named);
    // A later entry wins: b back to plaintext.
    let later = mesh(
        &t,
        PLAIN,
        "[[override]]\nnamespace = \"shop\"\ndesign = \"mtls.toml\"\nmode = \"strict\"\n\
         [[override]]\nservices = [\"b\"]\ndesign = \"plain.toml\"\n",
    );
    every_request(&run(&t, &later), 2 * PLAIN_HOP + WORK, false);
}

#[test]
fn each_side_pays_its_own_designs_cpu() {
    let t = chain();
    // Sidecars at b only: a's library mTLS ends at b's sidecar, which pays
    // the server handshake; b's own cores pay none.
    let sidecar = r#"
[[override]]
services = ["b"]
design = "sidecar.toml"
"#;
    let dir = TempDir::new("mesh-sidecar");
    std::fs::write(
        dir.path().join("sidecar.toml"),
        MTLS.replace("name = \"mtls\"", "name = \"sidecar\"")
            + "[proxy]\nmode = \"sidecar\"\nrequest_cpu = \"50us\"\n",
    )
    .expect("write");
    let path = dir.path().join("mesh.toml");
    let d = parse_design(
        &path.display().to_string(),
        &format!("{MTLS}{sidecar}"),
        Some(&t),
    )
    .unwrap_or_else(|e| panic!("{}", show(&e)));
    let r = run(&t, &d);
    let busy = |owner: StationOwner, cpu: Cpu| {
        r.stations
            .iter()
            .find(|s| s.owner == owner)
            .map_or(0, |s| s.busy[cpu as usize])
    };
    let n = r.endpoints[0].latency.count();
    assert!(busy(StationOwner::Sidecar(1), Cpu::Handshake) > 0);
    assert_eq!(busy(StationOwner::Service(1), Cpu::Handshake), 0);
    assert!(busy(StationOwner::Sidecar(1), Cpu::Proxy) > 0);
    // a has no sidecar: its server handshakes (the client's hop) and its
    // client handshakes (to b) run on its own cores.
    assert!(
        r.stations
            .iter()
            .all(|s| s.owner != StationOwner::Sidecar(0))
    );
    let a_hs = busy(StationOwner::Service(0), Cpu::Handshake);
    let per_request = (200 + 20 + 100 + 10) * US;
    let want = n * per_request;
    // The window clips the jobs at its edges: within one request's worth.
    assert!(
        a_hs.abs_diff(want) <= per_request,
        "a's handshake CPU {a_hs} vs {want}"
    );
}

#[test]
fn bad_overrides_are_refused_at_their_line() {
    let t = chain();
    let dir = TempDir::new("mesh-bad");
    std::fs::write(dir.path().join("mtls.toml"), MTLS).expect("write");
    std::fs::write(
        dir.path().join("nested.toml"),
        "[[override]]\nservices = [\"a\"]\n",
    )
    .expect("write");
    let path = dir.path().join("mesh.toml").display().to_string();
    let refuse = |text: &str| -> String {
        let e = parse_design(&path, text, Some(&t)).expect_err("refused");
        show(&e)
    };
    let e = refuse("[[override]]\nservices = [\"bb\"]\n");
    assert!(
        e.contains("mesh.toml:2")
            && e.contains("no service `bb`")
            && e.contains("did you mean `b`"),
        "{e}"
    );
    let e = refuse("[[override]]\ndesign = \"mtls.toml\"\n");
    assert!(
        e.contains("mesh.toml:1") && e.contains("says no services"),
        "{e}"
    );
    let e = refuse("[[override]]\nnamespace = \"billing\"\n");
    assert!(
        e.contains("namespace `billing`") && e.contains("`shop`"),
        "{e}"
    );
    let e = refuse("[[override]]\nlabels = { tier = \"front\" }\n");
    assert!(e.contains("tier = \"front\""), "{e}");
    let e = refuse("[[override]]\nservices = [\"a\"]\nnamespace = \"shop\"\n");
    assert!(e.contains("chooses no service"), "{e}");
    let e = refuse("[[override]]\nservices = [\"a\"]\ndesign = \"nested.toml\"\n");
    assert!(
        e.contains("mesh.toml:3") && e.contains("overrides of its own"),
        "{e}"
    );
    let e = refuse("[[override]]\nservices = [\"a\"]\ndesign = \"missing.toml\"\n");
    assert!(e.contains("does not exist"), "{e}");
    let e = refuse("[[override]]\nservices = [\"a\"]\nmode = \"lenient\"\n");
    assert!(e.contains("mesh.toml:3") && e.contains("permissive"), "{e}");
    // Node proxies are shared: two designs must run the same ones.
    std::fs::write(
        dir.path().join("node2.toml"),
        "[transport]\nsecurity = \"mtls\"\nterminate = \"node\"\n[proxy]\nmode = \"node\"\nnodes_per_zone = 2\n",
    )
    .expect("write");
    let e = refuse(
        "[transport]\nsecurity = \"mtls\"\nterminate = \"node\"\n[proxy]\nmode = \"node\"\n\
         [[override]]\nservices = [\"b\"]\ndesign = \"node2.toml\"\n",
    );
    assert!(e.contains("node proxies unlike"), "{e}");
}
