//! Capacity search and sizing against closed forms (M/M/c, Erlang C), and
//! the `ztsim capacity` command's refusals of bad input.
//!
//! Every topology has one zone with a zero RTT and exponential CPU, so a
//! service is an M/M/c queue whose latency the tests compute from the
//! formulas, never from a run.

use std::process::Command;

use ztsim::capacity::{Search, SizeBy, rate_capacity, size_for_rate};
use ztsim::config::parse_topology;
use ztsim::model::{Design, Topology};
use ztsim::report::slo::{Slo, Verdict};

// ---- closed forms ------------------------------------------------------

/// Erlang C: probability an arrival waits in M/M/c with offered load
/// `a` = lambda / mu (via the stable Erlang B recursion).
fn erlang_c(c: u32, a: f64) -> f64 {
    let b = (1..=c).fold(1.0, |b, k| a * b / (f64::from(k) + a * b));
    let rho = a / f64::from(c);
    b / (1.0 - rho * (1.0 - b))
}

/// M/M/c mean sojourn time (s): wait C(c, a) / (c mu - lambda) plus service 1 / mu.
fn mmc_mean(c: u32, lambda: f64, mu: f64) -> f64 {
    if lambda >= f64::from(c) * mu {
        return f64::INFINITY;
    }
    erlang_c(c, lambda / mu) / (f64::from(c) * mu - lambda) + 1.0 / mu
}

/// The rate at which an increasing function of the rate reaches `limit`,
/// by bisection on [0, hi).
fn solve_rate(f: impl Fn(f64) -> f64, limit: f64, hi: f64) -> f64 {
    let (mut lo, mut hi) = (0.0, hi);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if f(mid) <= limit { lo = mid } else { hi = mid }
    }
    0.5 * (lo + hi)
}

// ---- topologies --------------------------------------------------------

/// One service `s` of `replicas` x `cores`, exponential CPU of `cpu_ms`,
/// Poisson arrivals, zero network, `requests` measured per replication.
fn station(replicas: u32, cores: u32, cpu_ms: f64, rate: f64, requests: u64) -> Topology {
    let text = format!(
        "[zones.z]\nrtt = \"0ns\"\n\
         [services.s]\nreplicas = {replicas}\ncores = {cores}\n\
         endpoints.e.cpu = {{ dist = \"exponential\", mean = \"{cpu_ms}ms\" }}\n\
         [workload]\narrivals = \"poisson\"\nrate = {rate}\nwarmup = \"1s\"\n\
         requests = {requests}\nseed = 7\nreplications = 3\nentry = [{{ endpoint = \"s.e\" }}]\n"
    );
    parse_topology("station.toml", &text).unwrap_or_else(|e| panic!("{e:?}"))
}

fn slo(text: &str) -> Slo {
    Slo::parse(text).unwrap()
}

// ---- rate capacity -----------------------------------------------------

/// M/M/2 with 1 ms mean CPU per core and an SLO of 2 ms on the mean
/// latency: the analytic capacity solves C(2, a) / (2 mu - lambda) + 1 / mu
/// = 2 ms. The bracket must be at most the resolution wide and contain it,
/// within 1.5% of simulation error (at this utilisation the mean latency
/// moves ~3% per 1% of rate, and each point's interval is ~2% wide).
#[test]
fn rate_search_brackets_the_mmc_mean_latency_capacity() {
    let (c, mu, limit_ms) = (2, 1000.0, 2.0);
    let want = solve_rate(|l| mmc_mean(c, l, mu) * 1e3, limit_ms, 2.0 * mu);
    let topo = station(1, c, 1.0, 500.0, 40_000);
    let search = Search {
        resolution: 0.02,
        ..Search::default()
    };
    let cap = rate_capacity(&topo, &Design::plaintext(), &[slo("mean=2ms")], &search);
    eprintln!("{cap:#?}\nanalytic capacity {want:.1} rps");
    let (met, top) = (cap.met_rps.unwrap(), cap.limit_rps.unwrap());
    assert!(
        top / met <= 1.0 + search.resolution,
        "bracket [{met}, {top}] too wide"
    );
    let err = 0.015;
    assert!(
        met <= want * (1.0 + err) && top >= want * (1.0 - err),
        "bracket [{met}, {top}] misses the analytic {want:.1} rps"
    );
    // The figure reported at the met rate is within its SLO, interval included.
    let at = cap.at_met.as_ref().unwrap();
    let f = at.figures_ms[0].unwrap();
    assert!(f.mean + f.ci95.unwrap() <= limit_ms);
    assert_eq!(at.verdict, Verdict::Met);
}
