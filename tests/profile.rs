//! Rate profiles (docs/topology.md, `profile`): arrivals follow the
//! integral of the profile, not its start or its mean; a slow profile's
//! mean latency is the arrival-weighted average of its steady states; the
//! series' p99 per interval; a run is the same bytes on the same seed.
//!
//! One zone with zero RTT, so the network adds nothing and a request's
//! latency is its time at the one service.

use ztsim::config::parse_topology;
use ztsim::model::Design;
use ztsim::model::metrics::RunMetrics;
use ztsim::model::profile::RateProfile;
use ztsim::model::run_replications;
use ztsim::model::topology::Arrivals;

fn topology(cpu: &str, workload: &str) -> String {
    format!(
        "[zones.z]\nrtt = \"0ns\"\n[services.s]\nzone = \"z\"\ncores = 1\n[services.s.endpoints.e]\ncpu = {cpu}\n[workload]\narrivals = \"poisson\"\nentry = [{{ endpoint = \"s.e\" }}]\n{workload}\n"
    )
}

fn run(text: &str) -> Vec<RunMetrics> {
    let topo = parse_topology("test.toml", text).unwrap_or_else(|e| panic!("{e:?}"));
    let runs = run_replications(&topo, &Design::plaintext());
    assert!(runs.iter().all(|r| r.saturation.is_none()), "saturated");
    runs
}

/// A ramp from 50/s to 950/s over 100 s: the arrivals in every 10-s block
/// (requests finish within microseconds, so the series counts them) and in
/// the measured second half match the profile's integral within four
/// standard deviations of a Poisson count. A generator at the start rate
/// (50/s) or at the mean rate (500/s) misses most blocks by tens of
/// standard deviations.
#[test]
fn arrivals_follow_the_integral_of_the_profile() {
    let text = topology(
        "\"1us\"",
        "profile = [[\"0s\", 50], [\"100s\", 950]]\nwarmup = \"50s\"\nduration = \"50s\"\nseed = 7",
    );
    let topo = parse_topology("t.toml", &text).unwrap();
    let Arrivals::Profile { profile, rate } = &topo.workload.arrivals else {
        panic!("a profile");
    };
    // rate() is the mean over the measured window, [50 s, 100 s).
    assert!((rate - 725.0).abs() < 1e-9, "{rate}");
    let runs = run(&text);
    let m = &runs[0];
    let s = 1_000_000_000u64;
    let expected = profile.integral(50 * s, 100 * s);
    assert!((expected - 36_250.0).abs() < 1e-6);
    let arrived = m.arrived as f64;
    assert!(
        (arrived - expected).abs() < 4.0 * expected.sqrt(),
        "{arrived} arrivals in the window, expected {expected}"
    );
    assert_eq!(m.series_interval, s, "1-s intervals for a 100-s run");
    for block in 0..10u64 {
        let got: u64 = m.series[(block * 10) as usize..(block * 10 + 10) as usize]
            .iter()
            .map(|b| b.requests)
            .sum();
        let want = profile.integral(block * 10 * s, (block + 1) * 10 * s);
        assert!(
            (got as f64 - want).abs() < 4.0 * want.sqrt() + 2.0,
            "block {block}: {got} requests, the profile integrates to {want}"
        );
    }
    // Same seed, same arrivals.
    let again = run(&text);
    assert_eq!(m.series, again[0].series);
    assert_eq!(m.arrived, again[0].arrived);
}

/// M/M/1 (mu = 1000/s) under a slow ramp from 100/s to 700/s over 400 s:
/// the queue relaxes in tens of milliseconds, so each moment is near its
/// steady state and the measured mean latency is the arrival-weighted
/// average of the steady-state sojourn 1 / (mu - lambda(t)): 2.078 ms. A
/// run at the mean rate (400/s) gives 1.667 ms, at the start rate 1.111 ms;
/// the tolerance is 4%.
#[test]
fn a_slow_profile_averages_its_steady_states() {
    let text = topology(
        "{ dist = \"exponential\", mean = \"1ms\" }",
        "profile = [[\"0s\", 100], [\"400s\", 700]]\nduration = \"400s\"\nseed = 11\nreplications = 3",
    );
    let mu = 1000.0;
    let p = RateProfile::new(&[(0, 100.0), (400_000_000_000, 700.0)]);
    // Arrival-weighted steady-state mean, by the midpoint rule over 1 ms steps.
    let (mut num, mut den) = (0.0, 0.0);
    for i in 0..400_000u64 {
        let lambda = p.at(i * 1_000_000 + 500_000);
        num += lambda / (mu - lambda);
        den += lambda;
    }
    let expected = num / den;
    assert!((expected - 2.0775e-3).abs() < 1e-5, "{expected}");
    let runs = run(&text);
    let per_run: Vec<f64> = runs
        .iter()
        .map(|r| r.all_requests().latency.mean().unwrap() * 1e-9)
        .collect();
    let mean = per_run.iter().sum::<f64>() / per_run.len() as f64;
    let sd = (per_run.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 2.0).sqrt();
    let se = sd / (per_run.len() as f64).sqrt();
    let tol = 0.04 * expected;
    assert!(se < tol / 2.0, "standard error {se} too large for {tol}");
    assert!(
        (mean - expected).abs() < tol,
        "mean latency {mean} s, steady states average {expected} s"
    );
}

/// Each interval's p99 is the nearest-rank p99 of that interval's requests:
/// here every request takes its own CPU (no queueing: gaps of 1 s, CPU at
/// most 5 ms), so the requests finishing in an interval are known.
#[test]
fn interval_p99_is_the_p99_of_its_requests() {
    // Constant arrivals every 50 ms with CPU uniform on [1 ms, 5 ms]: a
    // request never waits, so its latency is its CPU.
    let text = "[zones.z]\nrtt = \"0ns\"\n[services.s]\nzone = \"z\"\ncores = 1\n[services.s.endpoints.e]\ncpu = { dist = \"uniform\", min = \"1ms\", max = \"5ms\" }\n[workload]\narrivals = \"constant\"\nrate = 20\nentry = [{ endpoint = \"s.e\" }]\nduration = \"20s\"\n";
    let runs = run(text);
    let m = &runs[0];
    for b in &m.series {
        if b.requests == 0 {
            continue;
        }
        let p99 = b.latency.quantile(0.99).unwrap();
        // About 20 requests an interval (one may finish across a boundary):
        // with at most 100, the nearest-rank p99 is the largest.
        assert!((19..=21).contains(&b.requests), "{}", b.requests);
        assert_eq!(p99, b.latency_max);
        let p50 = b.latency.quantile(0.5).unwrap();
        assert!(p50 <= p99 && p50 >= 1_000_000);
    }
}
