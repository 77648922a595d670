//! The exact tests' small system: one zone with a 400 us RTT, constant
//! arrivals into `a.e` (tests/admission.rs, tests/pools.rs, tests/asynch.rs).

use ztsim::config::parse_topology;
use ztsim::model::metrics::RunMetrics;
use ztsim::model::{Design, run_replications};

/// One microsecond in ns.
pub const US: u64 = 1_000;

/// One zone with a 400 us RTT, the given services, `requests` constant
/// arrivals at `rate` per second into `a.e` after a 1 s warm-up.
pub fn topology(services: &str, rate: f64, requests: u64) -> String {
    format!(
        "[zones.z]\nrtt = \"400us\"\n{services}\n[workload]\narrivals = \"constant\"\nrate = {rate}\n\
         warmup = \"1s\"\nrequests = {requests}\nentry = [{{ endpoint = \"a.e\" }}]\n"
    )
}

/// Every replication of `text` under plaintext.
pub fn runs(text: &str) -> Vec<RunMetrics> {
    let topo = parse_topology("exact.toml", text).unwrap_or_else(|e| panic!("{e:?}"));
    run_replications(&topo, &Design::plaintext())
}

/// The first replication of `text`, which must not saturate.
pub fn run(text: &str) -> RunMetrics {
    let mut runs = runs(text);
    assert!(runs[0].saturation.is_none(), "unexpected saturation");
    runs.remove(0)
}
