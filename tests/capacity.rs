//! Capacity search and sizing against closed forms (M/M/c, Erlang C), and
//! the `ztsim capacity` command's refusals of bad input.
//!
//! Every topology has one zone with a zero RTT and exponential CPU, so a
//! service is an M/M/c queue whose latency the tests compute from the
//! formulas, never from a run.

mod common;

use std::path::PathBuf;

use ztsim::config::parse_topology;
use ztsim::model::{Design, Topology};
use ztsim::report::slo::{Slo, Verdict};
use ztsim::study::capacity::{Search, SizeBy, rate_capacity, size_for_rate};

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

/// A service `a` (exponential CPU `a_ms`) calling `b` (exponential
/// `b_ms`), each 1 replica x 1 core, round robin, zero network.
fn chain(a_ms: f64, b_ms: f64, rate: f64, requests: u64) -> Topology {
    let text = format!(
        "[zones.z]\nrtt = \"0ns\"\n\
         [services.a]\nendpoints.e.cpu = {{ dist = \"exponential\", mean = \"{a_ms}ms\" }}\n\
         endpoints.e.stages = [[{{ call = \"b.e\" }}]]\n\
         [services.b]\nendpoints.e.cpu = {{ dist = \"exponential\", mean = \"{b_ms}ms\" }}\n\
         [workload]\narrivals = \"poisson\"\nrate = {rate}\nwarmup = \"1s\"\n\
         requests = {requests}\nseed = 3\nreplications = 3\nentry = [{{ endpoint = \"a.e\" }}]\n"
    );
    parse_topology("chain.toml", &text).unwrap_or_else(|e| panic!("{e:?}"))
}

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

/// M/M/1 with 1 ms mean CPU: the sojourn time is exponential with rate
/// mu - lambda, so p99 = ln(100) / (mu - lambda) and an SLO of 20 ms on the
/// p99 holds up to lambda = mu - ln(100) / 20 ms = 769.7 rps. Percentiles
/// are noisier than means: the stated simulation error is 2%.
#[test]
fn rate_search_brackets_the_mm1_p99_capacity() {
    let mu = 1000.0;
    let want = mu - 100f64.ln() / 0.020;
    let topo = station(1, 1, 1.0, 200.0, 100_000);
    let search = Search::default();
    let cap = rate_capacity(&topo, &Design::plaintext(), &[slo("p99=20ms")], &search);
    let (met, top) = (cap.met_rps.unwrap(), cap.limit_rps.unwrap());
    eprintln!(
        "bracket [{met}, {top}], analytic {want:.1} rps, {} runs",
        cap.runs
    );
    assert!(
        top / met <= 1.0 + search.resolution,
        "bracket [{met}, {top}] too wide"
    );
    let err = 0.02;
    assert!(
        met <= want * (1.0 + err) && top >= want * (1.0 - err),
        "bracket [{met}, {top}] misses the analytic {want:.1} rps"
    );
    // Saturation is where the one core is full: 1000 rps, by extrapolation.
    let sat = cap.saturation_estimate_rps.unwrap();
    assert!((sat / mu - 1.0).abs() < 0.05, "saturation estimate {sat}");
    assert_eq!(cap.bottleneck.as_deref(), Some("s"));
}

/// The same search twice gives the same points, and a second design is
/// judged on the same seeds (common random numbers).
#[test]
fn rate_search_is_deterministic_and_seeds_follow_the_rate() {
    let topo = station(1, 2, 1.0, 500.0, 5_000);
    let search = Search {
        resolution: 0.1,
        ..Search::default()
    };
    let slos = [slo("mean=2ms")];
    let a = rate_capacity(&topo, &Design::plaintext(), &slos, &search);
    let b = rate_capacity(&topo, &Design::plaintext(), &slos, &search);
    assert_eq!(a, b);
    for p in &a.points {
        assert_eq!(p.seed, ztsim::study::capacity::point_seed(7, p.rate_rps));
    }
}

/// Threads left idle by a round of replications run the next ones ahead
/// of need (`point::evaluate`): on 1, 2 and 3 threads the search's points
/// are the same, among them points that needed 6 and 12 replications
/// (reusing replications run ahead), so running ahead changes no result.
#[test]
fn running_replications_ahead_changes_no_result() {
    let topo = station(1, 2, 1.0, 500.0, 2_000);
    let search = Search {
        resolution: 0.02,
        ..Search::default()
    };
    let slos = [slo("p99=8ms")];
    let on = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| rate_capacity(&topo, &Design::plaintext(), &slos, &search))
    };
    let one = on(1);
    let grown: Vec<u32> = one.points.iter().map(|p| p.replications).collect();
    assert!(
        grown.contains(&6) || grown.contains(&12),
        "no point needed more than 3 replications: {grown:?}"
    );
    assert_eq!(one, on(2));
    assert_eq!(one, on(3));
}

// ---- sizing ------------------------------------------------------------

/// One M/M/c replica at 3500 rps, 1 ms mean CPU per core, mean latency at
/// most 1.15 ms: Erlang C gives W(5 cores) = 1.252 ms (misses by 9%) and
/// W(6) = 1.071 ms (meets by 7%), so sizing by cores must find exactly 6,
/// starting from 4, the fewest that keep the cores below 100% busy.
#[test]
fn sizing_finds_the_erlang_c_minimum() {
    let (mu, rate, limit_ms) = (1000.0, 3500.0, 1.15);
    let c_min = (1..20)
        .find(|&c| mmc_mean(c, rate, mu) * 1e3 <= limit_ms)
        .unwrap();
    let below = mmc_mean(c_min - 1, rate, mu) * 1e3;
    let at = mmc_mean(c_min, rate, mu) * 1e3;
    eprintln!(
        "analytic minimum {c_min} cores: W({}) = {below:.3} ms, W({c_min}) = {at:.3} ms",
        c_min - 1
    );
    assert!(
        below / limit_ms > 1.05,
        "c - 1 must fail analytically by a margin"
    );
    assert!(at / limit_ms < 0.95, "c must meet analytically by a margin");
    let topo = station(1, 1, 1.0, 100.0, 40_000);
    let sizing = size_for_rate(
        &topo,
        &Design::plaintext(),
        &[slo("mean=1.15ms")],
        rate,
        SizeBy::Cores,
        &Search::default(),
    );
    eprintln!("{:#?}", sizing.steps);
    assert!(sizing.met, "{:?}", sizing.note);
    let s = &sizing.services[0];
    assert_eq!((s.replicas_after, s.cores_after), (1, c_min));
    assert_eq!(
        sizing.steps[0].counts,
        vec![4],
        "start: fewest cores below 100% busy"
    );
    assert_eq!(s.cores_added, i64::from(c_min) - 1);
    assert_eq!(sizing.vcpu_after, u64::from(c_min));
}

/// `a` (0.4 ms) calls `b` (1 ms) at 2850 rps, SLO mean <= 5 ms. By
/// utilisation `a` needs 2 replicas (57% busy) and `b` 3 (95%). At 3
/// replicas `b` alone waits more than M/M/3 would (7.05 ms mean sojourn) and
/// misses; at 4, even split at random (M/M/1 per replica, 3.48 ms) plus `a`
/// (M/M/1 per replica, 0.93 ms) meets. So sizing grows `b`, never `a`.
#[test]
fn sizing_grows_the_bottleneck_only() {
    let rate = 2850.0;
    assert!(mmc_mean(3, rate, 1000.0) * 1e3 > 7.0);
    assert!((mmc_mean(1, rate / 4.0, 1000.0) + mmc_mean(1, rate / 2.0, 2500.0)) * 1e3 < 4.5);
    let topo = chain(0.4, 1.0, 100.0, 40_000);
    let sizing = size_for_rate(
        &topo,
        &Design::plaintext(),
        &[slo("mean=5ms")],
        rate,
        SizeBy::Replicas,
        &Search::default(),
    );
    eprintln!("{:#?}", sizing.steps);
    assert!(sizing.met, "{:?}", sizing.note);
    let got: Vec<(&str, u32, u32)> = sizing
        .services
        .iter()
        .map(|s| (s.service.as_str(), s.replicas_after, s.grown))
        .collect();
    assert_eq!(got, vec![("a", 2, 0), ("b", 4, 1)]);
    assert_eq!(sizing.steps[0].counts, vec![2, 3]);
    assert_eq!(sizing.steps[1].action, "grow b");
    assert_eq!(sizing.cores_added(), 1 + 3);
    // Each step says how many replications decided it, between the
    // search's first round and its cap; a size tried again is the same
    // evaluation, looked up, so the distinct sizes' replications are part
    // of the runs (the rest are the probes').
    let search = Search::default();
    let mut first: std::collections::HashMap<&Vec<u32>, u32> = Default::default();
    for s in &sizing.steps {
        assert!(
            (search.replications..=search.max_replications).contains(&s.replications),
            "{s:?}"
        );
        let n = *first.entry(&s.counts).or_insert(s.replications);
        assert_eq!(n, s.replications, "{s:?}");
    }
    assert!(first.values().sum::<u32>() as usize <= sizing.runs);
}

/// An SLO below the latency at light load cannot be met by any size: the
/// search says so instead of growing.
#[test]
fn sizing_refuses_to_grow_for_an_unreachable_slo() {
    let topo = station(1, 1, 1.0, 100.0, 5_000);
    let sizing = size_for_rate(
        &topo,
        &Design::plaintext(),
        &[slo("mean=0.5ms")],
        500.0,
        SizeBy::Replicas,
        &Search::default(),
    );
    assert!(!sizing.met);
    assert!(
        sizing.note.as_deref().unwrap().contains("light load"),
        "{:?}",
        sizing.note
    );
    assert_eq!(sizing.steps.len(), 1, "no growth: {:?}", sizing.steps);
}

// ---- the command line --------------------------------------------------

fn dir() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("capacity-cli");
    std::fs::create_dir_all(&d).unwrap();
    d
}

const OPEN: &str = "[zones.z]\nrtt = \"0ns\"\n[services.s]\nendpoints.e.cpu = \"1ms\"\n\
    [workload]\narrivals = \"poisson\"\nrate = 100\nrequests = 500\nreplications = 2\n\
    entry = [{ endpoint = \"s.e\" }]\n";

const CLOSED: &str = "[zones.z]\nrtt = \"0ns\"\n[services.s]\nendpoints.e.cpu = \"1ms\"\n\
    [workload]\narrivals = \"closed\"\nusers = 10\nthink = \"10ms\"\nrequests = 500\n\
    entry = [{ endpoint = \"s.e\" }]\n";

fn ztsim(args: &[&str]) -> (i32, String) {
    let out = common::ztsim(args);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn bad_input_is_refused_with_exit_2() {
    let d = dir();
    let open = d.join("open.toml");
    let closed = d.join("closed.toml");
    std::fs::write(&open, OPEN).unwrap();
    std::fs::write(&closed, CLOSED).unwrap();
    let open = open.to_str().unwrap();
    let out = d.join("out");
    let out = out.to_str().unwrap();

    let (code, err) = ztsim(&["capacity", open, "--slo", "p98=5ms", "--out", out]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--slo") && err.contains("mean, p50, p90, p95, p99, p99.9"),
        "{err}"
    );

    let (code, err) = ztsim(&["capacity", open, "--out", out]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("at least one SLO") && err.contains("p99=50ms"),
        "{err}"
    );

    let (code, err) = ztsim(&["capacity", open, "--slo", "p99=5ms", "--target-rate", "0"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--target-rate") && err.contains("greater than 0"),
        "{err}"
    );

    let (code, err) = ztsim(&["capacity", closed.to_str().unwrap(), "--slo", "p99=5ms"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("closed.toml") && err.contains("open-loop"),
        "{err}"
    );

    let (code, err) = ztsim(&[
        "capacity",
        open,
        "--slo",
        "p99=5ms",
        "--target-rate",
        "100",
        "--size",
        "disks",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("replicas") && err.contains("cores"), "{err}");

    let (code, err) = ztsim(&["capacity", open, "--slo", "p99=5ms", "--resolution", "0"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--resolution") && err.contains("2%"), "{err}");

    // Search bounds the wrong way round, or a first rate too big to run:
    // refused before any run (they once ran and reported no answer).
    let (code, err) = ztsim(&[
        "capacity",
        open,
        "--slo",
        "p99=5ms",
        "--start-rate",
        "1000",
        "--max-rate",
        "10",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--max-rate") && err.contains("--start-rate 1000 rps"),
        "{err}"
    );
    let (code, err) = ztsim(&[
        "capacity",
        open,
        "--slo",
        "p99=5ms",
        "--duration",
        "1s",
        "--start-rate",
        "1e300",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--start-rate") && err.contains("at 1.000e300 rps") && err.contains("events"),
        "{err}"
    );
}

/// A small end-to-end run: the files are written, and a second run into
/// the same --out is refused rather than written over the first.
#[test]
fn capacity_writes_its_files_and_never_overwrites() {
    let d = dir();
    let open = d.join("e2e.toml");
    std::fs::write(&open, OPEN).unwrap();
    let out = d.join("e2e-out");
    let _ = std::fs::remove_dir_all(&out);
    let _ = std::fs::remove_dir_all(d.join("e2e-out-2"));
    let args = [
        "capacity",
        open.to_str().unwrap(),
        "--slo",
        "mean=3ms",
        "--resolution",
        "10%",
        "--out",
        out.to_str().unwrap(),
        "--threads",
        "1",
    ];
    let (code, err) = ztsim(&args);
    assert_eq!(code, 0, "{err}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("capacity.json")).unwrap()).unwrap();
    let met = json["designs"][0]["met_rps"].as_f64().unwrap();
    // Constant 1 ms CPU on one core (M/D/1): mean 1 ms + rho / (2 mu (1 - rho))
    // reaches 3 ms at rho = 0.8, i.e. 800 rps.
    assert!(met > 700.0 && met <= 820.0, "{met}");
    let csv = std::fs::read_to_string(out.join("capacity.csv")).unwrap();
    assert!(csv.starts_with("design,met_rps,not_met_rps"), "{csv}");
    // Again into the folder named with --out: refused (exit 2), the first
    // results kept, no folder beside it.
    let (code, err) = ztsim(&args);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("already holds results") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("capacity.csv")).unwrap(),
        csv
    );
    assert!(!d.join("e2e-out-2").exists());
}

/// Same inputs and seed give byte-identical `sizing.json` on 1 and 2 threads.
#[test]
fn sizing_output_does_not_depend_on_threads() {
    let d = dir();
    let open = d.join("threads.toml");
    std::fs::write(&open, OPEN).unwrap();
    let run = |threads: &str| {
        let out = d.join(format!("threads-{threads}"));
        let (code, err) = ztsim(&[
            "capacity",
            open.to_str().unwrap(),
            "--slo",
            "p99=4ms",
            "--target-rate",
            "1500",
            "--price-per-vcpu-hour",
            "0.05",
            "--out",
            out.to_str().unwrap(),
            "--force",
            "--threads",
            threads,
        ]);
        assert_eq!(code, 0, "{err}");
        std::fs::read(out.join("sizing.json")).unwrap()
    };
    let one = run("1");
    assert_eq!(one, run("2"));
    let json: serde_json::Value = serde_json::from_slice(&one).unwrap();
    // 1500 rps of constant 1 ms CPU needs 2 one-core replicas to stay below 100% busy.
    let s = &json["designs"][0]["services"][0];
    assert!(s["replicas_after"].as_u64().unwrap() >= 2, "{s}");
    assert_eq!(json["hours_per_month"].as_f64(), Some(730.0));
}

/// The search's shortcut (the next rate inside a bracket where the
/// latency curve through its two ends reaches the SLO, rather than the
/// midpoint) against a brute-force scan: every rate of a grid at the
/// search's resolution, each judged as the search judges a point. The scan's
/// capacity is the rate below its first rate not met; the search's must be
/// within two grid steps of it (the points differ in seed, so the rates at
/// the knee, which even 12 replications may leave undecided, fall either
/// way), and its bracket at most the resolution wide.
#[test]
fn rate_search_matches_a_brute_force_scan() {
    let topo = chain(0.4, 0.8, 300.0, 4_000);
    let slos = [slo("p99=8ms")];
    let resolution = 0.05;
    let search = Search {
        resolution,
        ..Search::default()
    };
    let plain = Design::plaintext();
    let cap = rate_capacity(&topo, &plain, &slos, &search);
    let (met, top) = (cap.met_rps.unwrap(), cap.limit_rps.unwrap());
    assert!(top / met <= 1.0 + resolution, "bracket [{met}, {top}]");
    let step = 1.0 + resolution;
    let mut rate = 400.0;
    let scan = loop {
        let p = ztsim::study::capacity::point_at(&topo, &plain, &slos, &search, rate);
        if p.verdict != Verdict::Met {
            break rate / step;
        }
        rate *= step;
        assert!(rate < 1250.0, "the scan never missed");
    };
    eprintln!("search [{met}, {top}] in {} runs; scan {scan:.1}", cap.runs);
    assert!(scan > 400.0, "the scan starts above the capacity");
    assert!(
        met >= scan / step.powi(2) / 1.001 && met <= scan * step.powi(2) * 1.001,
        "search {met} vs scan {scan:.1}"
    );
}
