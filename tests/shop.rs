//! The SimPy comparison's scenario (benches/shop/shop.toml; docs/performance.md,
//! "Against SimPy"): it validates, runs unsaturated under the plaintext
//! baseline, and its mean latency matches a hand estimate from the M/M/c
//! stations along its critical path, so the benchmark times the system it
//! claims to.

use ztsim::config::load_topology;
use ztsim::model::Design;
use ztsim::model::metrics::RunMetrics;
use ztsim::model::topology::Window;
use ztsim::model::{Topology, run_replications};

mod common;
use common::queueing::{Pooled, check, erlang_c, pool};
use common::root;

/// Seconds to ns: the engine counts nanoseconds.
const S: f64 = 1e9;

fn shop() -> Topology {
    load_topology(&root().join("benches/shop/shop.toml")).unwrap_or_else(|e| panic!("{e:?}"))
}

/// M/M/c mean time in the station (wait + service), s.
fn mmc_sojourn(c: u32, lambda: f64, mean_cpu: f64) -> f64 {
    let mu = 1.0 / mean_cpu;
    erlang_c(c, lambda / mu) / (f64::from(c) * mu - lambda) + mean_cpu
}

/// The mean latency by hand (s). Each call costs one RTT (0.5 ms: half
/// each way) and its station's M/M/c sojourn. Frontend (4 cores, 1 ms) then
/// catalog (4 cores, 2 ms) and three db calls one after another (8 cores,
/// 0.5 ms, three visits per request) are the critical path; cart, in
/// parallel with catalog, is 1 ms on average against catalog's 5.7 ms and
/// finishes last less than once in a hundred, which adds under 0.01 ms.
fn hand_mean(rate: f64) -> f64 {
    let rtt = 0.5e-3;
    let frontend = rtt + mmc_sojourn(4, rate, 1e-3);
    let catalog = rtt + mmc_sojourn(4, rate, 2e-3);
    let db = rtt + mmc_sojourn(8, 3.0 * rate, 0.5e-3);
    frontend + catalog + 3.0 * db
}

#[test]
fn the_shop_matches_its_stations_by_hand() {
    let mut topo = shop();
    assert_eq!(topo.services.len(), 4);
    topo.workload.window = Window::Requests(20_000);
    topo.workload.replications = 4;
    let runs = run_replications(&topo, &Design::plaintext());
    assert!(runs.iter().all(|r| r.saturation.is_none()), "saturated");
    // Six calls per request: the user's and five internal ones.
    let calls: u64 = runs.iter().map(|r| r.calls).sum();
    assert!(
        (calls as f64 / 80_000.0 - 6.0).abs() < 0.01,
        "{calls} calls"
    );
    let mean: Pooled = pool(&runs, |r: &RunMetrics| {
        let all = r.all_requests().latency;
        (all.mean().unwrap() * all.count() as f64, all.count() as f64)
    });
    // 7.18 ms: 2.5 ms of network, 6.5 ms of CPU, 0.18 ms of catalog's queue.
    let want = hand_mean(1000.0) * S;
    assert!((want / 1e6 - 7.18).abs() < 0.01, "hand estimate {want}");
    // 2%: 0.14 ms, less than a lost half RTT (0.25 ms) or catalog's queueing
    // (0.17 ms), either of which a wrong engine would show.
    check("shop mean latency", &mean, want, 0.02);
}
