//! Zone-aware balancing (docs/topology.md "Zone-aware balancing"): exact
//! cases with constant costs over two zones 5 ms apart (400 us within a
//! zone), the client and the caller `api` in zone a, `db` with one replica
//! in each zone.

mod common;

use common::show_all as show;
use ztsim::config::parse_topology;
use ztsim::model::Design;
use ztsim::model::metrics::RunMetrics;
use ztsim::model::sim::simulate;

const US: u64 = 1_000;
const MS: u64 = 1_000_000;

/// `api.e` calls `db.e` (1 ms of CPU on `db_cores` cores) `times` times in
/// parallel; `db` has the given extra keys. A request every 50 ms.
fn run(db: &str, db_cores: u32, times: u32) -> RunMetrics {
    let text = format!(
        r#"
[zones.a]
rtt = "400us"
[zones.b]
rtt = "400us"
[[network.links]]
zones = ["a", "b"]
rtt = "5ms"

[services.api]
zone = "a"
cores = 8
endpoints.e.stages = [[{{ call = "db.e", times = {times}, parallel = true }}]]

[services.db]
zones = ["a", "b"]
replicas = 2
cores = {db_cores}
{db}
endpoints.e.cpu = "1ms"

[workload]
arrivals = "constant"
rate = 20
warmup = "1s"
duration = "20s"
entry = [{{ endpoint = "api.e" }}]
"#
    );
    let t = parse_topology("locality.toml", &text).unwrap_or_else(|e| panic!("{}", show(&e)));
    let r = simulate(&t, &Design::plaintext(), 0);
    assert!(r.saturation.is_none());
    assert_eq!(r.endpoints[0].latency.count(), 400);
    r
}

/// (min, max, mean) of the requests' latency.
fn figures(r: &RunMetrics) -> (u64, u64, f64) {
    let h = &r.endpoints[0].latency;
    (h.min().unwrap(), h.max().unwrap(), h.mean().unwrap())
}

/// The client -> api hop (0.4 ms) and db's 1 ms: a call to db in zone a
/// adds 0.4 ms, one in zone b 5 ms.
const LOCAL: u64 = 400 * US + 400 * US + MS;
const REMOTE: u64 = 400 * US + 5 * MS + MS;

/// Without locality round-robin sends every other call to zone b: half
/// the requests take 6.4 ms, half 1.8 ms (mean 4.1 ms). With
/// `locality = "prefer-zone"` every call stays in zone a: all take 1.8 ms,
/// the mean dropping by half of the 4.6 ms the link adds.
#[test]
fn prefer_zone_keeps_every_call_local() {
    let (lo, hi, mean) = figures(&run("", 2, 1));
    assert_eq!((lo, hi), (LOCAL, REMOTE));
    assert!((mean - (LOCAL + REMOTE) as f64 / 2.0).abs() < 1.0, "{mean}");
    let (lo, hi, mean) = figures(&run("locality = \"prefer-zone\"", 2, 1));
    assert_eq!((lo, hi), (LOCAL, LOCAL));
    assert_eq!(mean, LOCAL as f64);
}

/// Two calls at once into db on one core per replica:
/// - `spill_over = 1`: the first finds the local replica idle, the second
///   finds it with one call outstanding and spills to zone b: every request
///   takes the remote call, 6.4 ms (spill share 50% of db's calls);
/// - `spill_over = 2`: both stay local and the second waits for the first
///   on the one core: 0.8 ms + 2 ms = 2.8 ms;
/// - no `spill_over`: never spills, also 2.8 ms.
#[test]
fn spill_over_sends_the_excess_to_the_other_zone() {
    let prefer = "locality = \"prefer-zone\"";
    let (lo, hi, _) = figures(&run(&format!("{prefer}\nspill_over = 1"), 1, 2));
    assert_eq!((lo, hi), (REMOTE, REMOTE));
    let queued = 800 * US + 2 * MS;
    for extra in ["\nspill_over = 2", ""] {
        let (lo, hi, _) = figures(&run(&format!("{prefer}{extra}"), 1, 2));
        assert_eq!((lo, hi), (queued, queued), "{extra}");
    }
    // Four calls at once with spill_over = 2: two stay, two spill, the
    // remote pair queueing on zone b's one core: 0.4 + 5 + 2 ms.
    let (lo, hi, _) = figures(&run(&format!("{prefer}\nspill_over = 2"), 1, 4));
    assert_eq!(
        (lo, hi),
        (400 * US + 5 * MS + 2 * MS, 400 * US + 5 * MS + 2 * MS)
    );
}
