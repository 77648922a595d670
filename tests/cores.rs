//! Fractional cores (docs/topology.md "Fractional cores"): c cores with c
//! not whole are ceil(c) servers each at speed c / ceil(c). Exact cases with
//! constant costs; the queueing check (0.5 cores is M/M/1 at half the
//! rate) is in tests/queueing.rs, the bad inputs in tests/data/bad.

mod common;

use common::show_all as show;
use ztsim::config::{parse_design, parse_topology};
use ztsim::model::metrics::{RunMetrics, StationOwner};
use ztsim::model::sim::simulate;
use ztsim::model::{Design, Topology};

const US: u64 = 1_000;
const MS: u64 = 1_000_000;

/// One zone with 400 us round trips, `services`, constant arrivals at
/// `rate` into `a.e` for 20 s after a 1 s warm-up.
fn topology(services: &str, rate: f64, extra: &str) -> Topology {
    let text = format!(
        "[zones.z]\nrtt = \"400us\"\n{services}\n[workload]\narrivals = \"constant\"\nrate = {rate}\n\
         warmup = \"1s\"\nduration = \"20s\"\nentry = [{{ endpoint = \"a.e\" }}]\n{extra}"
    );
    parse_topology("cores.toml", &text).unwrap_or_else(|e| panic!("{}", show(&e)))
}

fn run(t: &Topology, d: &Design) -> RunMetrics {
    let r = simulate(t, d, 0);
    assert!(r.saturation.is_none(), "{:?}", r.saturation);
    r
}

/// Every measured request took exactly `ns`.
fn every_request(r: &RunMetrics, ns: u64) {
    let h = &r.endpoints[0].latency;
    assert!(h.count() >= 399, "requests measured: {}", h.count());
    assert_eq!((h.min(), h.max()), (Some(ns), Some(ns)), "min and max");
}

/// Half a core runs 10 ms of CPU in 20 ms: a call takes the round trip
/// plus 20 ms. At 20 requests a second (one every 50 ms, never queueing)
/// the allowance is busy 20 x 10 ms / 0.5 = 40% of the time, which is what
/// utilisation and the offered utilisation say (a model that counted the
/// server's 20 ms as CPU would say 80% and 40%; one that ignored the
/// fraction, 20 ms less latency and 20%). "500m" is the same allowance.
#[test]
fn half_a_core_is_a_server_at_half_speed() {
    for cores in ["0.5", "\"500m\""] {
        let t = topology(
            &format!("[services.a]\ncores = {cores}\nendpoints.e.cpu = \"10ms\""),
            20.0,
            "",
        );
        let r = run(&t, &Design::plaintext());
        every_request(&r, 400 * US + 20 * MS);
        let s = r.service(0);
        assert_eq!(s.capacity, 10 * 1_000 * MS, "half of 20 s");
        assert_eq!(
            s.busy.iter().sum::<u64>(),
            400 * 10 * MS,
            "CPU, not server time"
        );
        assert!((s.utilisation() - 0.4).abs() < 1e-12);
        assert!((t.offered_utilisation(20.0)[0] - 0.4).abs() < 1e-12);
    }
}

/// Two calls at once into b (two parallel repeats, 1 ms of CPU each):
/// - 0.5 cores (one server at half speed): the second waits for the
///   first; they end 2 and 4 ms after arriving, so a request takes two
///   round trips plus 4 ms;
/// - 1.5 cores (two servers at 3/4 speed): both run at once, each for
///   1 ms x 4/3 = 1333333.3 ns, rounded up to 1333334 ns;
/// - 2 cores: both at once, 1 ms each (today's behaviour).
#[test]
fn jobs_queue_for_the_servers_a_fraction_gives() {
    for (cores, wall) in [("0.5", 4 * MS), ("1.5", 1_333_334), ("2", MS)] {
        let t = topology(
            &format!(
                "[services.a]\nendpoints.e.stages = [[{{ call = \"b.e\", times = 2, parallel = true }}]]\n\
                 [services.b]\ncores = {cores}\nendpoints.e.cpu = \"1ms\""
            ),
            20.0,
            "",
        );
        every_request(&run(&t, &Design::plaintext()), 800 * US + wall);
    }
}

/// The load generator on a quarter of a core: 1 ms of its CPU per request
/// takes 4 ms before the request leaves.
#[test]
fn a_fraction_of_a_client_core() {
    let t = topology(
        "[services.a]\nendpoints.e.cpu = \"1ms\"",
        20.0,
        "client_cores = \"250m\"\nclient_cpu = \"1ms\"\n",
    );
    every_request(&run(&t, &Design::plaintext()), 4 * MS + 400 * US + MS);
}

fn sidecar(cores: &str, cpu: &str) -> String {
    format!(
        "name = \"sidecar\"\n[proxy]\nmode = \"sidecar\"\nrequest_cpu = \"{cpu}\"\ncores = {cores}\n"
    )
}

/// Sidecars with half a core: every sidecar job on a request's path takes
/// twice its CPU, so the latency grows over one core's by exactly what one
/// core's proxy jobs took over no proxy CPU at all. Their CPU is the same;
/// their capacity half, their utilisation double.
#[test]
fn half_a_core_of_sidecar() {
    let t = topology(
        "[services.a]\nendpoints.e.cpu = \"1ms\"\nendpoints.e.stages = [[{ call = \"b.e\" }]]\n\
         [services.b]\nendpoints.e.cpu = \"1ms\"",
        20.0,
        "",
    );
    let latency = |cores: &str, cpu: &str| {
        let d = parse_design("sidecar.toml", &sidecar(cores, cpu), Some(&t))
            .unwrap_or_else(|e| panic!("{}", show(&e)));
        let r = run(&t, &d);
        let h = &r.endpoints[0].latency;
        assert_eq!(h.min(), h.max(), "constant costs, no queueing");
        let side = r
            .stations
            .iter()
            .find(|m| m.owner == StationOwner::Sidecar(1))
            .cloned()
            .expect("b's sidecars");
        (h.min().unwrap(), side)
    };
    let (none, _) = latency("1", "0s");
    let (one, s1) = latency("1", "100us");
    let (half, s2) = latency("0.5", "100us");
    let (milli, s3) = latency("\"500m\"", "100us");
    assert!(one > none, "the proxy costs something");
    assert_eq!(half - one, one - none, "each proxy job twice as long");
    assert_eq!((milli, &s3), (half, &s2), "\"500m\" is 0.5");
    assert_eq!(s2.busy, s1.busy, "the same CPU");
    assert_eq!(2 * s2.capacity, s1.capacity, "half the capacity");
    assert!((s2.utilisation() - 2.0 * s1.utilisation()).abs() < 1e-12);
}
