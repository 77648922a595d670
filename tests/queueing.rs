//! Validation against queueing theory (docs/model.md s5): the engine's FCFS core
//! stations, fed through its call state machine, must reproduce closed forms.
//!
//! Every topology has one zone with a zero RTT, so the network adds nothing.
//! Expected values are computed here from the formulas, never copied from a
//! run. Runs are sized so the standard error of each estimate is at most a
//! quarter of its tolerance (asserted too), so a pass is not luck and an
//! engine with a real error of the tolerance's size cannot pass.

use ztsim::config::parse_topology;
use ztsim::model::Design;
use ztsim::model::metrics::{LatencyHistogram, RunMetrics, StationMetrics, StationOwner};
use ztsim::model::{Replications, Topology, run_replications};
use ztsim::report::summarize;

mod common;
use common::queueing::{Pooled, check, erlang_c, pool};

/// Nanoseconds per second: rates are per second, the engine counts ns.
const S: f64 = 1e9;

// ---- closed forms ------------------------------------------------------

/// M/M/c mean wait for a server (s).
fn mmc_wait(c: u32, lambda: f64, mu: f64) -> f64 {
    erlang_c(c, lambda / mu) / (f64::from(c) * mu - lambda)
}

/// M/M/c FCFS sojourn time tail P(T > t): the wait is 0 with probability
/// 1 - C, else Exp(theta = c mu - lambda); the service Exp(mu) is added.
fn mmc_sojourn_tail(c: u32, lambda: f64, mu: f64, t: f64) -> f64 {
    let pw = erlang_c(c, lambda / mu);
    let theta = f64::from(c) * mu - lambda;
    (1.0 - pw) * (-mu * t).exp() + pw * hypoexp_tail(theta, mu, t)
}

/// P(X + Y > t) for independent X ~ Exp(a), Y ~ Exp(b), a != b.
fn hypoexp_tail(a: f64, b: f64, t: f64) -> f64 {
    (a * (-b * t).exp() - b * (-a * t).exp()) / (a - b)
}

/// Pollaczek-Khinchine M/G/1 mean wait (s) from the service's first two moments.
fn pk_wait(lambda: f64, es: f64, es2: f64) -> f64 {
    lambda * es2 / (2.0 * (1.0 - lambda * es))
}

/// The q-quantile of a decreasing tail function, by bisection.
fn quantile(tail: impl Fn(f64) -> f64, q: f64) -> f64 {
    let (mut lo, mut hi) = (0.0, 1.0);
    while tail(hi) > 1.0 - q {
        hi *= 2.0;
    }
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if tail(mid) > 1.0 - q {
            lo = mid
        } else {
            hi = mid
        }
    }
    0.5 * (lo + hi)
}

// ---- running and pooling ------------------------------------------------

fn run(text: &str) -> (Topology, Vec<RunMetrics>) {
    let topo = parse_topology("test.toml", text).unwrap_or_else(|e| panic!("{e:?}"));
    let runs = run_replications(&topo, &Design::plaintext());
    assert!(
        runs.iter().all(|r| r.saturation.is_none()),
        "unexpected saturation"
    );
    (topo, runs)
}

/// One zone with zero RTT, then the given services and workload.
fn topology(services: &str, workload: &str) -> String {
    format!("[zones.z]\nrtt = \"0ns\"\n{services}\n[workload]\n{workload}\n")
}

/// Mean wait for a core per job at service `s`, pooled (ns).
fn wait(runs: &[RunMetrics], s: usize) -> Pooled {
    pool(runs, |r| {
        (r.service(s).waited as f64, r.service(s).jobs as f64)
    })
}

/// Mean of a latency histogram, pooled (ns).
fn mean_of(runs: &[RunMetrics], h: impl Fn(&RunMetrics) -> &LatencyHistogram) -> Pooled {
    pool(runs, |r| {
        let h = h(r);
        (h.mean().unwrap() * h.count() as f64, h.count() as f64)
    })
}

fn merged(runs: &[RunMetrics], h: impl Fn(&RunMetrics) -> &LatencyHistogram) -> LatencyHistogram {
    let mut all = LatencyHistogram::default();
    runs.iter().for_each(|r| all.merge(h(r)));
    all
}

/// Asserts a single value within relative `tol` (no replication spread).
fn close(what: &str, got: f64, want: f64, tol: f64) {
    let err = got / want - 1.0;
    eprintln!(
        "{what}: expected {want:.6e}, simulated {got:.6e} ({:+.2}%)",
        100.0 * err
    );
    assert!(
        err.abs() < tol,
        "{what}: expected {want}, got {got} ({:+.2}%)",
        100.0 * err
    );
}

/// One service of `cores` cores and one endpoint with `cpu` demand, Poisson
/// arrivals at `rate`, measured over `requests` per replication.
fn station(cores: u32, cpu: &str, rate: f64, requests: u64, reps: u32, seed: u64) -> String {
    topology(
        &format!("[services.s]\ncores = {cores}\nendpoints.e.cpu = {cpu}"),
        &format!(
            "arrivals = \"poisson\"\nrate = {rate}\nwarmup = \"2s\"\nrequests = {requests}\n\
             seed = {seed}\nreplications = {reps}\nentry = [{{ endpoint = \"s.e\" }}]"
        ),
    )
}

const EXP_1MS: &str = r#"{ dist = "exponential", mean = "1ms" }"#;

/// M/M/c with 1 ms mean service at utilisation `rho`: mean wait (Erlang C),
/// end-to-end mean W + E[S], and sojourn quantiles. The quantiles are what
/// tell FCFS from LIFO or random order (the mean wait is the same for all).
/// Returns the simulated mean wait (ns).
fn mmc(c: u32, rho: f64, requests: u64, seed: u64) -> f64 {
    let mu = 1000.0;
    let lambda = rho * f64::from(c) * mu;
    let (_, runs) = run(&station(c, EXP_1MS, lambda, requests, 16, seed));
    let name = format!("M/M/{c} rho {rho}");
    let w = wait(&runs, 0);
    let wq = mmc_wait(c, lambda, mu) * S;
    check(&format!("{name} mean wait"), &w, wq, 0.03);
    check(
        &format!("{name} mean latency"),
        &mean_of(&runs, |r| &r.endpoints[0].latency),
        wq + S / mu,
        0.03,
    );
    let all = merged(&runs, |r| &r.endpoints[0].latency);
    for q in [0.5, 0.9, 0.99] {
        let want = quantile(|t| mmc_sojourn_tail(c, lambda, mu, t), q) * S;
        close(
            &format!("{name} latency p{}", q * 100.0),
            all.quantile(q).unwrap(),
            want,
            0.03,
        );
    }
    let (jobs, arrived): (u64, u64) = runs
        .iter()
        .map(|r| (r.service(0).jobs, r.arrived))
        .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    close(
        &format!("{name} CPU jobs per request"),
        jobs as f64 / arrived as f64,
        1.0,
        0.001,
    );
    w.mean
}

/// M/M/1 (Erlang C with c = 1: W = rho / (mu - lambda)). Raising rho from 0.5
/// to 0.9 must multiply the wait by (0.9 / 0.1) / (0.5 / 0.5) = 9.
#[test]
fn mm1_mean_wait_and_sojourn() {
    let w5 = mmc(1, 0.5, 200_000, 11);
    mmc(1, 0.8, 600_000, 12);
    let w9 = mmc(1, 0.9, 1_500_000, 13);
    close("M/M/1 wait ratio rho 0.9 / 0.5", w9 / w5, 9.0, 0.04);
}

/// M/M/4: one replica of four cores sharing one FCFS queue (Erlang C).
#[test]
fn mmc_mean_wait_and_sojourn() {
    for (rho, requests, seed) in [(0.5, 800_000, 21), (0.8, 800_000, 22), (0.9, 1_500_000, 23)] {
        mmc(4, rho, requests, seed);
    }
}

/// M/D/1 and M/U/1 (Pollaczek-Khinchine: Wq = lambda E[S^2] / (2 (1 - rho))):
/// constant 1 ms CPU gives rho S / (2 (1 - rho)), half the M/M/1 wait;
/// uniform on [0, 2 ms] has E[S^2] = (2 ms)^2 / 3.
#[test]
fn mg1_pollaczek_khinchine() {
    let cases = [
        ("M/D/1", r#""1ms""#, 1e-3, 1e-6, 0.8, 300_000),
        ("M/D/1", r#""1ms""#, 1e-3, 1e-6, 0.9, 500_000),
        (
            "M/U/1",
            r#"{ dist = "uniform", min = "0ms", max = "2ms" }"#,
            1e-3,
            4e-6 / 3.0,
            0.8,
            300_000,
        ),
    ];
    for (i, (name, cpu, es, es2, rho, requests)) in cases.into_iter().enumerate() {
        let lambda = rho / es;
        let (_, runs) = run(&station(1, cpu, lambda, requests, 16, 31 + i as u64));
        let wq = pk_wait(lambda, es, es2) * S;
        check(
            &format!("{name} rho {rho} mean wait"),
            &wait(&runs, 0),
            wq,
            0.03,
        );
        check(
            &format!("{name} rho {rho} mean latency"),
            &mean_of(&runs, |r| &r.endpoints[0].latency),
            wq + es * S,
            0.03,
        );
    }
}

/// Cores that pause (`pauses`): each pause is a job of the highest
/// priority that waits for the job in hand (non-preemptive) and spends no
/// CPU, so one core with Poisson pauses and Poisson requests is an M/G/1
/// with two non-preemptive priority classes. Cobham's formula gives the
/// requests' mean wait, W2 = W0 / ((1 - rho1) (1 - rho1 - rho2)) with
/// W0 = (lambda1 E[D^2] + lambda2 E[S^2]) / 2. Requests at rho2 = 0.5 of 1
/// ms exponential work, pauses every 100 ms: of a constant 10 ms, W2 =
/// 2.778 ms; of exponential 10 ms (E[D^2] twice as large), 4.167 ms. The
/// same load without pauses waits 1 ms; pauses served in turn behind the
/// waiting jobs (FCFS: W0 / (1 - rho1 - rho2)) wait 2.5 and 3.75 ms (the
/// first simulated at -9.98%), and pauses counted as CPU move the
/// utilisation from 0.5 to 0.6. Simulated: 2.779 and 4.143 ms.
#[test]
fn pauses_are_a_non_preemptive_priority_class() {
    let (l1, l2, es, es2) = (10.0, 500.0, 1e-3, 2e-6);
    let constant = "\"10ms\"";
    let cases = [
        (constant, 1e-2, 1e-4, false, 301),
        (
            r#"{ dist = "exponential", mean = "10ms" }"#,
            1e-2,
            2e-4,
            false,
            302,
        ),
        // The load generator's one core, its CPU per request the work.
        (constant, 1e-2, 1e-4, true, 303),
    ];
    for (lasts, ed, ed2, client, seed) in cases {
        let pauses = format!("{{ every = \"100ms\", for = {lasts} }}");
        let (service, workload) = if client {
            (
                "endpoints.e.cpu = \"0ns\"".to_string(),
                format!("client_cores = 1\nclient_cpu = {EXP_1MS}\nclient_pauses = {pauses}\n"),
            )
        } else {
            (
                format!("pauses = {pauses}\nendpoints.e.cpu = {EXP_1MS}"),
                String::new(),
            )
        };
        let text = topology(
            &format!("[services.s]\ncores = 1\n{service}"),
            &format!(
                "{workload}arrivals = \"poisson\"\nrate = {l2}\nwarmup = \"2s\"\nrequests = 300000\n\
                 seed = {seed}\nreplications = 16\nentry = [{{ endpoint = \"s.e\" }}]"
            ),
        );
        let (topo, runs) = run(&text);
        let cores = |r: &RunMetrics| -> StationMetrics {
            let owner = if client {
                StationOwner::Client
            } else {
                StationOwner::Service(0)
            };
            r.station(owner).expect("the paused station").clone()
        };
        let (rho1, rho2) = (l1 * ed, l2 * es);
        let w0 = (l1 * ed2 + l2 * es2) / 2.0;
        let wq = w0 / ((1.0 - rho1) * (1.0 - rho1 - rho2)) * S;
        let name = format!(
            "M/M/1 at rho {rho2} with pauses of {lasts}{}",
            if client { " (client)" } else { "" }
        );
        let wait = pool(&runs, |r| (cores(r).waited as f64, cores(r).jobs as f64));
        check(&format!("{name}: mean wait"), &wait, wq, 0.03);
        check(
            &format!("{name}: mean latency"),
            &mean_of(&runs, |r| &r.endpoints[0].latency),
            wq + es * S,
            0.03,
        );
        check(
            &format!("{name}: utilisation (pauses are no CPU)"),
            &pool(&runs, |r| {
                let s = cores(r);
                (s.busy.iter().sum::<u64>() as f64, s.capacity as f64)
            }),
            rho2,
            0.01,
        );
        let paused = pool(&runs, |r| {
            (cores(r).paused as f64, cores(r).capacity as f64)
        });
        check(
            &format!("{name}: share of time paused"),
            &paused,
            rho1,
            0.03,
        );
        // The summary reports it for the cores that pause, and only them.
        let again = Replications::of(&topo, &Design::plaintext()).runs;
        let summary = summarize(&topo, &Design::plaintext(), &again);
        let client_group = summary.proxies.iter().find(|p| p.kind == "client");
        let (reported, other) = if client {
            (
                client_group.and_then(|p| p.paused),
                summary.services[0].paused,
            )
        } else {
            (
                summary.services[0].paused,
                client_group.and_then(|p| p.paused),
            )
        };
        let reported = reported.expect("the paused share reported").mean;
        let per_run: f64 = runs
            .iter()
            .map(|r| cores(r).paused as f64 / cores(r).capacity as f64)
            .sum::<f64>()
            / runs.len() as f64;
        close(
            &format!("{name}: paused share reported"),
            reported,
            per_run,
            1e-9,
        );
        assert!(
            other.is_none(),
            "{name}: a paused share for cores that never pause"
        );
    }
}

/// Tandem (Jackson) network: A's CPU, then A calls B; A's core is free while
/// it waits, so each station is an M/M/1 in its own right (Burke) and the
/// sojourn is W_A + S_A + W_B + S_B. By Reich's theorem the two sojourns of
/// one request are independent, so end-to-end latency is the sum of
/// Exp(mu_A - lambda) and Exp(mu_B - lambda): its quantiles are checked too.
#[test]
fn tandem_jackson_network() {
    let (lambda, sa, sb) = (1000.0, 0.8e-3, 0.7e-3);
    let (_, runs) = run(&topology(
        r#"
[services.a]
endpoints.e.cpu = { dist = "exponential", mean = "0.8ms" }
endpoints.e.stages = [[{ call = "b.e" }]]
[services.b]
endpoints.e.cpu = { dist = "exponential", mean = "0.7ms" }"#,
        &format!(
            "arrivals = \"poisson\"\nrate = {lambda}\nwarmup = \"2s\"\nrequests = 500000\n\
             seed = 41\nreplications = 16\nentry = [{{ endpoint = \"a.e\" }}]"
        ),
    ));
    let mm1 = |s: f64| mmc_wait(1, lambda, 1.0 / s) * S;
    let (wa, wb) = (mm1(sa), mm1(sb));
    check("tandem A mean wait", &wait(&runs, 0), wa, 0.03);
    check("tandem B mean wait", &wait(&runs, 1), wb, 0.03);
    check(
        "tandem edge A->B mean",
        &mean_of(&runs, |r| &r.edges[0].latency),
        wb + sb * S,
        0.03,
    );
    check(
        "tandem end-to-end mean",
        &mean_of(&runs, |r| &r.endpoints[0].latency),
        wa + sa * S + wb + sb * S,
        0.03,
    );
    let all = merged(&runs, |r| &r.endpoints[0].latency);
    let (ta, tb) = (1.0 / sa - lambda, 1.0 / sb - lambda);
    for q in [0.5, 0.9, 0.99] {
        let want = quantile(|t| hypoexp_tail(ta, tb, t), q) * S;
        close(
            &format!("tandem latency p{}", q * 100.0),
            all.quantile(q).unwrap(),
            want,
            0.03,
        );
    }
}

/// A load generator with a core of its own is the first station of a
/// tandem: its CPU per request (exponential, 0.6 ms) queues for that core
/// (M/M/1), then the service's (exponential, 0.8 ms), so the end-to-end
/// latency is Exp(mu_c - lambda) + Exp(mu_s - lambda). Without
/// `client_cores` the same CPU is a delay that never queues: latency is
/// S_c + the service's M/M/1 sojourn, and there is no client station.
#[test]
fn load_generator_with_one_core_is_a_tandem_queue() {
    let (lambda, sc, ss) = (1000.0, 0.6e-3, 0.8e-3);
    let text = |cores: &str| {
        topology(
            "[services.s]\nendpoints.e.cpu = { dist = \"exponential\", mean = \"0.8ms\" }",
            &format!(
                "arrivals = \"poisson\"\nrate = {lambda}\nwarmup = \"2s\"\nrequests = 400000\n\
                 seed = 45\nreplications = 16\n{cores}\
                 client_cpu = {{ dist = \"exponential\", mean = \"0.6ms\" }}\n\
                 entry = [{{ endpoint = \"s.e\" }}]"
            ),
        )
    };
    let mm1 = |s: f64| mmc_wait(1, lambda, 1.0 / s) * S;
    let (_, runs) = run(&text("client_cores = 1\n"));
    let client = |r: &RunMetrics| r.station(StationOwner::Client).cloned().unwrap();
    check(
        "client core mean wait",
        &pool(&runs, |r| {
            let m = client(r);
            (m.waited as f64, m.jobs as f64)
        }),
        mm1(sc),
        0.03,
    );
    check(
        "client core utilisation",
        &pool(&runs, |r| (client(r).utilisation(), 1.0)),
        lambda * sc,
        0.01,
    );
    check(
        "client then service, end-to-end mean",
        &mean_of(&runs, |r| &r.endpoints[0].latency),
        mm1(sc) + sc * S + mm1(ss) + ss * S,
        0.03,
    );
    let all = merged(&runs, |r| &r.endpoints[0].latency);
    let (tc, ts) = (1.0 / sc - lambda, 1.0 / ss - lambda);
    for q in [0.5, 0.9, 0.99] {
        close(
            &format!("client then service, latency p{}", q * 100.0),
            all.quantile(q).unwrap(),
            quantile(|t| hypoexp_tail(tc, ts, t), q) * S,
            0.03,
        );
    }
    let (_, runs) = run(&text(""));
    assert!(runs[0].station(StationOwner::Client).is_none());
    check(
        "client CPU as a delay, end-to-end mean",
        &mean_of(&runs, |r| &r.endpoints[0].latency),
        sc * S + mm1(ss) + ss * S,
        0.03,
    );
}

/// Random balancing splits a Poisson stream into independent Poisson streams:
/// three one-core replicas at rho 0.8 are three M/M/1 queues.
#[test]
fn random_balancing_gives_independent_mm1() {
    let (_, runs) = run(&topology(
        &format!("[services.s]\nreplicas = 3\nbalance = \"random\"\nendpoints.e.cpu = {EXP_1MS}"),
        "arrivals = \"poisson\"\nrate = 2400\nwarmup = \"2s\"\nrequests = 400000\n\
         seed = 51\nreplications = 16\nentry = [{ endpoint = \"s.e\" }]",
    ));
    check(
        "random 3 x M/M/1 mean wait",
        &wait(&runs, 0),
        mmc_wait(1, 800.0, 1000.0) * S,
        0.03,
    );
}

/// Little's law, L = lambda W, on a sample path: the time-average number in
/// the system equals the arrival rate times the mean latency. The warm-up is
/// half the window, so an engine that let it into the average would be off
/// by up to 50%.
#[test]
fn littles_law() {
    for (cores, rate, seed) in [(1, 800.0, 61), (2, 1800.0, 62)] {
        let (_, runs) = run(&topology(
            &format!("[services.s]\ncores = {cores}\nendpoints.e.cpu = {EXP_1MS}"),
            &format!(
                "arrivals = \"poisson\"\nrate = {rate}\nwarmup = \"10s\"\nduration = \"20s\"\n\
                 seed = {seed}\nreplications = 8\nentry = [{{ endpoint = \"s.e\" }}]"
            ),
        ));
        for r in &runs {
            let lambda = r.arrived as f64 / (r.window as f64 / S);
            let w = r.endpoints[0].latency.mean().unwrap() / S;
            close(
                &format!("Little L ({cores} cores, rate {rate})"),
                r.mean_in_system,
                lambda * w,
                0.02,
            );
        }
    }
}

/// Utilisation = rate x mean demand / (replicas x cores), for exponential and
/// lognormal demand (both parameterisations) and round-robin over replicas.
/// The busy-time estimate has relative s.d. sqrt((1 + cv^2) / jobs), about
/// 0.2% here; a warm-up of half the window catches unclipped busy time.
#[test]
fn utilisation_is_rate_times_demand_over_cores() {
    let sigma = 4f64.ln() / 2.326_347_874_040_841; // median 1ms, p99 4ms
    let cases = [
        (1, 1, EXP_1MS, 1e-3, 700.0, 200),
        (3, 2, EXP_1MS, 1e-3, 4200.0, 30),
        (
            3,
            2,
            r#"{ dist = "lognormal", mean = "1ms", sd = "1.5ms" }"#,
            1e-3,
            4200.0,
            120,
        ),
        (
            3,
            2,
            r#"{ dist = "lognormal", median = "1ms", p99 = "4ms" }"#,
            1e-3 * (sigma * sigma / 2.0).exp(),
            3600.0,
            40,
        ),
    ];
    for (i, (replicas, cores, cpu, mean, rate, secs)) in cases.into_iter().enumerate() {
        let (topo, runs) = run(&topology(
            &format!(
                "[services.s]\nreplicas = {replicas}\ncores = {cores}\nendpoints.e.cpu = {cpu}"
            ),
            &format!(
                "arrivals = \"poisson\"\nrate = {rate}\nwarmup = \"{}s\"\nduration = \"{secs}s\"\n\
                 seed = {}\nreplications = 8\nentry = [{{ endpoint = \"s.e\" }}]",
                secs / 2,
                71 + i
            ),
        ));
        let want = rate * mean / f64::from(replicas * cores);
        let what = format!("utilisation {replicas}x{cores} {cpu}");
        check(
            &what,
            &pool(&runs, |r| (r.service(0).utilisation(), 1.0)),
            want,
            0.01,
        );
        let offered = summarize(
            &topo,
            &Design::plaintext(),
            &Replications::of(&topo, &Design::plaintext()).runs,
        )
        .services[0]
            .offered_utilisation
            .unwrap();
        close(&format!("offered {what}"), offered, want, 1e-9);
    }
}

/// Closed loop (machine-repairman, M/M/1//N): N users think Exp(Z), then
/// queue at one Exp(S) core. Exact: p_n ~ N!/(N-n)! (S/Z)^n, X = (1 - p0) / S,
/// R = N / X - Z; and the interactive response-time law N = X (R + Z).
#[test]
fn closed_loop_response_time_law() {
    let (n, z, s) = (10u32, 10e-3, 1e-3);
    let (_, runs) = run(&topology(
        &format!("[services.s]\nendpoints.e.cpu = {EXP_1MS}"),
        &format!(
            "arrivals = \"closed\"\nusers = {n}\nthink = {{ dist = \"exponential\", mean = \"10ms\" }}\n\
             warmup = \"2s\"\nduration = \"150s\"\nseed = 81\nreplications = 8\n\
             entry = [{{ endpoint = \"s.e\" }}]"
        ),
    ));
    let weights: Vec<f64> = (0..=n)
        .scan(1.0, |w, k| {
            let cur = *w;
            *w *= f64::from(n - k) * s / z;
            Some(cur)
        })
        .collect();
    let x = (1.0 - weights[0] / weights.iter().sum::<f64>()) / s;
    let r = f64::from(n) / x - z;
    let xs = pool(&runs, |m| {
        (m.finished_in_window as f64, m.window as f64 / S)
    });
    let rs = mean_of(&runs, |m| &m.endpoints[0].latency);
    check("closed loop throughput X", &xs, x, 0.02);
    check("closed loop response R", &rs, r * S, 0.02);
    close(
        "closed loop N = X (R + Z)",
        xs.mean * (rs.mean / S + z),
        f64::from(n),
        0.02,
    );
}

/// Above capacity the run is reported saturated, with no latency figures;
/// at 80% of capacity it is not.
#[test]
fn saturation_is_detected_only_above_capacity() {
    for (rate, saturated) in [(1200.0, true), (800.0, false), (3200.0, false)] {
        let cores = if rate > 3000.0 { 4 } else { 1 };
        let topo = parse_topology(
            "sat.toml",
            &topology(
                &format!("[services.s]\ncores = {cores}\nendpoints.e.cpu = {EXP_1MS}"),
                &format!(
                    "arrivals = \"poisson\"\nrate = {rate}\nwarmup = \"1s\"\nduration = \"10s\"\n\
                     seed = 91\nreplications = 4\nentry = [{{ endpoint = \"s.e\" }}]"
                ),
            ),
        )
        .unwrap();
        let summary = summarize(
            &topo,
            &Design::plaintext(),
            &Replications::of(&topo, &Design::plaintext()).runs,
        );
        eprintln!(
            "rate {rate} on {cores} cores: saturated {:?}",
            summary.saturated.as_ref().map(|s| &s.message)
        );
        assert_eq!(
            summary.saturated.is_some(),
            saturated,
            "rate {rate} on {cores} cores"
        );
        assert_eq!(summary.requests.latency_ms.is_none(), saturated);
    }
}

/// A run whose backlog has clearly outgrown its window stops there,
/// saturated (`clearly_saturated`, docs/model.md s5): at twice an M/M/1's
/// capacity it stops within the window's first quarter, its completed
/// throughput is the core's capacity and the core is busy, never more than
/// fully. At and below capacity no run of twenty is stopped early: the
/// rest of the window could still bring the backlog down, and a wrong stop
/// would turn a stable run saturated.
#[test]
fn a_clearly_saturated_run_stops_early() {
    let one_core_to = |rate: f64, seed: u64, stop: bool| {
        let workload = format!(
            "arrivals = \"poisson\"\nrate = {rate}\nwarmup = \"1s\"\nduration = \"10s\"\n\
             seed = {seed}\nreplications = 20\nentry = [{{ endpoint = \"s.e\" }}]"
        );
        let text = topology(
            &format!("[services.s]\nendpoints.e.cpu = {EXP_1MS}"),
            &workload,
        );
        let mut topo = parse_topology("sat.toml", &text).unwrap();
        topo.workload.stop_when_saturated = stop;
        run_replications(&topo, &Design::plaintext())
    };
    let one_core = |rate: f64, seed: u64| one_core_to(rate, seed, true);
    let full = 10.0 * S;
    let overloaded = one_core(2000.0, 5);
    for r in &overloaded {
        let sat = r.saturation.as_ref().expect("saturated");
        assert!(sat.reason.contains("stopped there"), "{}", sat.reason);
        assert!((r.window as f64) <= 0.25 * full, "window {} ns", r.window);
        let busy = r.service(0).utilisation();
        assert!((0.99..=1.0).contains(&busy), "utilisation {busy}");
    }
    let completed = pool(&overloaded, |r| {
        (r.finished_in_window as f64, r.window as f64 / S)
    });
    check("completed rps at twice capacity", &completed, 1000.0, 0.03);
    for rate in [950.0, 1000.0] {
        for r in one_core(rate, 6) {
            assert_eq!(r.window as f64, full, "rate {rate}: {:?}", r.saturation);
        }
    }
    // A workload that asks for whole windows (the testbed's) runs them,
    // saturated or not.
    for r in one_core_to(2000.0, 5, false) {
        let sat = r.saturation.as_ref().expect("saturated");
        assert!(!sat.reason.contains("stopped there"), "{}", sat.reason);
        assert_eq!(r.window as f64, full);
    }
}

/// M/M/c/K: state probabilities p_n = p_0 a^n / n! for n <= c and
/// p_0 a^n / (c! c^(n-c)) above, up to K; returns (P(block) = p_K, mean
/// number in the system, mean number waiting).
fn mmck(c: u32, k: u32, a: f64) -> (f64, f64, f64) {
    let mut terms = vec![1.0];
    for n in 1..=k {
        let prev = terms[n as usize - 1];
        terms.push(prev * a / f64::from(n.min(c)));
    }
    let total: f64 = terms.iter().sum();
    let p: Vec<f64> = terms.iter().map(|t| t / total).collect();
    let l = p.iter().enumerate().map(|(n, q)| n as f64 * q).sum();
    let lq = p
        .iter()
        .enumerate()
        .map(|(n, q)| (n as f64 - f64::from(c)).max(0.0) * q)
        .sum();
    (p[k as usize], l, lq)
}

/// A bounded queue (`queue_limit`) is M/M/c/K with K = c + limit: the
/// share of requests shed is the blocking probability p_K, the accepted
/// ones wait Lq / (lambda (1 - p_K)), and the mean over every request (a
/// shed one answers at once: zero RTT) is L / lambda. Offered above
/// capacity too, where an unbounded queue would saturate.
#[test]
fn bounded_queue_is_mmck() {
    let mu = 1000.0;
    for (c, limit, rho, seed) in [(1, 4, 0.9, 101), (2, 3, 0.9, 102), (2, 2, 1.5, 103)] {
        let lambda = rho * f64::from(c) * mu;
        let text = topology(
            &format!(
                "[services.s]\ncores = {c}\nqueue_limit = {limit}\nendpoints.e.cpu = {EXP_1MS}"
            ),
            &format!(
                "arrivals = \"poisson\"\nrate = {lambda}\nwarmup = \"1s\"\nrequests = 200000\n\
                 seed = {seed}\nreplications = 16\nentry = [{{ endpoint = \"s.e\" }}]"
            ),
        );
        let (_, runs) = run(&text);
        let (block, l, lq) = mmck(c, c + limit, lambda / mu);
        let name = format!("M/M/{c}/{} rho {rho}", c + limit);
        check(
            &format!("{name} shed share"),
            &pool(&runs, |r| {
                (
                    r.counters.shed as f64,
                    r.endpoints[0].latency.count() as f64,
                )
            }),
            block,
            0.03,
        );
        check(
            &format!("{name} mean wait of accepted calls"),
            &wait(&runs, 0),
            lq / (lambda * (1.0 - block)) * S,
            0.03,
        );
        check(
            &format!("{name} mean latency over all requests"),
            &mean_of(&runs, |r| &r.endpoints[0].latency),
            l / lambda * S,
            0.03,
        );
    }
}

/// Fire-and-forget calls (`async = true`): Poisson requests at a (no CPU)
/// each send one call to b (exponential 1 ms CPU, two cores) and do not
/// wait for it. b is then an M/M/2 queue fed at the request rate: the
/// calls' mean latency is the Erlang C wait plus 1 ms (zero RTT), within
/// 3% (b's calls not queueing would give 1 ms, -64% at rho 0.8; a caller
/// that waited would make the requests take it too: they take no time).
#[test]
fn asynchronous_calls_queue_as_mmc() {
    let (c, mu) = (2, 1000.0);
    for (rho, seed) in [(0.5, 111), (0.8, 112)] {
        let lambda = rho * f64::from(c) * mu;
        let text = topology(
            &format!(
                "[services.a]\nendpoints.e.stages = [[{{ call = \"b.e\", async = true }}]]\n\
                 [services.b]\ncores = {c}\nendpoints.e.cpu = {EXP_1MS}"
            ),
            &format!(
                "arrivals = \"poisson\"\nrate = {lambda}\nwarmup = \"1s\"\nrequests = 300000\n\
                 seed = {seed}\nreplications = 16\nentry = [{{ endpoint = \"a.e\" }}]"
            ),
        );
        let (_, runs) = run(&text);
        assert!(runs.iter().all(|r| r.endpoints[0].latency.max() == Some(0)));
        check(
            &format!("M/M/{c} rho {rho} asynchronous call latency"),
            &mean_of(&runs, |r| &r.asynch[0].latency),
            (mmc_wait(c, lambda, mu) + 1.0 / mu) * S,
            0.03,
        );
    }
}

/// Fractional cores (docs/topology.md "Fractional cores"): 0.5 cores is one
/// server at half speed, so exponential CPU of mean 1 ms is M/M/1 with mu
/// halved (500/s). At 250 rps: rho = 0.5, mean wait rho / (mu - lambda) =
/// 2 ms, mean response 1 / (mu - lambda) = 4 ms, utilisation 0.5. A model
/// that ran the fraction at full speed would give 1 / (1000 - 250) = 1.33
/// ms, one that only scaled utilisation the same; either misses by 67%.
/// 2.5 cores are three servers at 5/6 speed: M/M/3 with mu = 833.3/s, at
/// 2000 rps rho = 0.8 (Erlang C wait 1.55 ms; whole cores at full speed,
/// M/M/3 at mu = 1000, 0.44 ms).
#[test]
fn fractional_cores_are_slower_servers() {
    for (cores, servers, lambda, seed) in [("\"500m\"", 1, 250.0, 201), ("2.5", 3, 2000.0, 202)] {
        let millis: f64 = if servers == 1 { 500.0 } else { 2500.0 };
        let mu = 1000.0 * millis / (1000.0 * f64::from(servers));
        let text = topology(
            &format!("[services.s]\ncores = {cores}\nendpoints.e.cpu = {EXP_1MS}"),
            &format!(
                "arrivals = \"poisson\"\nrate = {lambda}\nwarmup = \"2s\"\nrequests = 400000\n\
                 seed = {seed}\nreplications = 16\nentry = [{{ endpoint = \"s.e\" }}]"
            ),
        );
        let (_, runs) = run(&text);
        let name = format!("{cores} cores = M/M/{servers} at mu {mu:.1}");
        let wq = mmc_wait(servers, lambda, mu) * S;
        check(&format!("{name} mean wait"), &wait(&runs, 0), wq, 0.03);
        check(
            &format!("{name} mean latency"),
            &mean_of(&runs, |r| &r.endpoints[0].latency),
            wq + S / mu,
            0.03,
        );
        let rho = lambda / (f64::from(servers) * mu);
        check(
            &format!("{name} utilisation"),
            &pool(&runs, |r| {
                let s = r.service(0);
                (s.busy.iter().sum::<u64>() as f64, s.capacity as f64)
            }),
            rho,
            0.01,
        );
    }
}

/// A caller's client-side pool of N connections to a dependency with
/// ample cores (N of them: no call waits for a core), zero RTT, Poisson
/// calls and exponential work: the connections are the N servers of an
/// M/M/N queue. The share of calls that wait is Erlang C and the mean wait
/// C / (N mu - lambda). A pool released one step late (at the callee's
/// response rather than the caller's) or not FIFO would still pass the
/// share but not the wait; one that lets N + 1 through moves the share of
/// N = 4 at 70% from 0.43 to 0.19. Simulated: 0.6997 and 2.328 ms for
/// M/M/1 (0.700, 2.333 ms), 0.4296 and 0.360 ms for M/M/4 (0.4287,
/// 0.357 ms), in use 0.700 of the time.
#[test]
fn client_pool_is_mmn() {
    let mu = 1000.0;
    for (n, rho, seed) in [(1, 0.7, 111), (4, 0.7, 112)] {
        let lambda = rho * f64::from(n) * mu;
        let text = topology(
            &format!(
                "[services.a]\ncores = 1\npools = {{ b = {n} }}\n\
                 endpoints.e.stages = [[{{ call = \"b.e\" }}]]\n\
                 [services.b]\ncores = {n}\nendpoints.e.cpu = {EXP_1MS}"
            ),
            &format!(
                "arrivals = \"poisson\"\nrate = {lambda}\nwarmup = \"1s\"\nrequests = 400000\n\
                 seed = {seed}\nreplications = 16\nentry = [{{ endpoint = \"a.e\" }}]"
            ),
        );
        let (_, runs) = run(&text);
        let c = erlang_c(n, lambda / mu);
        let name = format!("pool M/M/{n} rho {rho}");
        check(
            &format!("{name} share of calls that waited"),
            &pool(&runs, |r| {
                (r.pools[0].waited as f64, r.pools[0].calls as f64)
            }),
            c,
            0.03,
        );
        check(
            &format!("{name} mean wait"),
            &pool(&runs, |r| {
                (r.pools[0].wait_sum as f64, r.pools[0].calls as f64)
            }),
            mmc_wait(n, lambda, mu) * S,
            0.03,
        );
        // The connections in use on average: lambda / mu of them.
        check(
            &format!("{name} utilisation"),
            &pool(&runs, |r| {
                let p = &r.pools[0];
                (p.busy as f64, f64::from(p.size) * r.window as f64)
            }),
            rho,
            0.02,
        );
    }
}
