//! Message queues (docs/topology.md "Message queues"): exact cases with
//! constant costs and evenly spaced arrivals. The queueing check (M/M/c/K)
//! is in tests/queueing.rs.

mod common;

use common::queueing::{Pooled, pool};
use common::{Run, TempDir, ztsim};
use ztsim::config::parse_topology;
use ztsim::model::Design;
use ztsim::model::cost::Span;
use ztsim::model::metrics::RunMetrics;
use ztsim::model::run_replications;
use ztsim::report::summary::summarize;

const US: u64 = 1_000;

/// One zone with a 400 us RTT, the given services and queues, `requests`
/// constant arrivals at `rate` per second into `a.e`, no warm-up.
fn topology(body: &str, rate: f64, requests: u64) -> String {
    format!(
        "[zones.z]\nrtt = \"400us\"\n{body}\n[workload]\narrivals = \"constant\"\nrate = {rate}\n\
         requests = {requests}\nentry = [{{ endpoint = \"a.e\" }}]\n"
    )
}

fn run(text: &str) -> RunMetrics {
    let topo = parse_topology("queues.toml", text).unwrap_or_else(|e| panic!("{e:?}"));
    let mut runs = run_replications(&topo, &Design::plaintext());
    assert!(runs[0].saturation.is_none(), "unexpected saturation");
    runs.remove(0)
}

/// a publishes `times` messages at once to queue q (broker k.p, no CPU);
/// w.e consumes them in 10 ms of CPU, `concurrency` at a time, at most
/// `capacity` waiting; `extra` adds to the queue's table.
fn burst(times: u32, capacity: u32, on_full: &str, extra: &str) -> String {
    format!(
        "[services.a]\nendpoints.e.stages = [[{{ queue = \"q\", times = {times}, parallel = true }}]]\n\
         [services.k]\nendpoints.p = {{}}\n\
         [services.w]\ncores = 8\nendpoints.e.cpu = \"10ms\"\n\
         [services.v]\ncores = 8\nendpoints.e.cpu = \"1ms\"\n\
         [queues.q]\nbroker = \"k.p\"\ncapacity = {capacity}\non_full = \"{on_full}\"\n{extra}"
    )
}

const ONE_CONSUMER: &str = "consumers = [{ endpoint = \"w.e\", concurrency = 1 }]";

/// Five messages reach the broker at once (0.4 ms into each request, one
/// request every 100 ms). Group w (concurrency 1, capacity 2) takes the
/// first, queues two and drops two; group v (concurrency 5) takes all
/// five. A delivery holds w's slot 0.2 + 10 + 0.2 = 10.4 ms, so the
/// queued two wait 10.4 and 20.8 ms: 31.2 / 3 = 10.4 ms on average, and
/// each message is consumed 10.4 ms after it leaves the queue. The
/// producer waits for none of it: 0.2 + 0.2 + 0.2 + 0.2 = 0.8 ms a request.
#[test]
fn a_burst_into_a_full_queue_drops_the_rest() {
    let n = 50;
    let groups = "consumers = [{ endpoint = \"w.e\", concurrency = 1 }, { endpoint = \"v.e\", concurrency = 5 }]";
    let text = topology(&burst(5, 2, "drop", groups), 10.0, n);
    let r = run(&text);
    let l = &r.endpoints[0].latency;
    assert_eq!((l.min(), l.max()), (Some(800 * US), Some(800 * US)));
    assert_eq!(r.endpoints[0].failed, 0);
    let q = &r.queues[0];
    assert_eq!(q.published, 5 * n);
    assert_eq!((q.blocked, q.blocked_sum), (0, 0));
    let (w, v) = (&q.groups[0], &q.groups[1]);
    assert_eq!((w.dropped, w.queued.count()), (2 * n, 3 * n));
    assert_eq!(w.queued.sum(), u128::from(n) * 31_200 * u128::from(US));
    assert_eq!(w.queued.max(), Some(20_800 * US));
    assert_eq!(
        (v.dropped, v.queued.count(), v.queued.max()),
        (0, 5 * n, Some(0))
    );
    // Each delivery is an asynchronous call of its own: 10.4 ms for w,
    // 1.4 ms for v, after the ones before it in the group's queue.
    let (dw, dv) = (&r.asynch[0], &r.asynch[1]);
    assert_eq!((dw.latency.count(), dw.failed), (3 * n, 0));
    assert_eq!(
        (dw.latency.min(), dw.latency.max()),
        (Some(10_400 * US), Some(10_400 * US))
    );
    assert_eq!(
        (dv.latency.count(), dv.latency.max()),
        (5 * n, Some(1_400 * US))
    );
    // The summary: 2 of 5 dropped for w, none for v; w's mean in system
    // is 10.4 queued + 10.4 consuming.
    let topo = parse_topology("queues.toml", &text).unwrap();
    let s = summarize(&topo, &Design::plaintext(), &[r.into()]);
    let qs = &s.queues.expect("queues reported")[0];
    assert_eq!(
        (qs.name.as_str(), qs.broker.as_str(), qs.on_full.as_str()),
        ("q", "k.p", "drop")
    );
    assert!(qs.blocked_share.is_none());
    let (w, v) = (&qs.groups[0], &qs.groups[1]);
    assert!((w.dropped_share.mean - 0.4).abs() < 1e-12);
    assert!((w.dropped.mean - 2.0 * n as f64).abs() < 1e-9);
    assert!(v.dropped_share.mean == 0.0);
    assert!((w.mean_queued_ms.mean - 10.4).abs() < 1e-9);
    assert!((w.mean_in_system_ms.expect("not saturated").mean - 20.8).abs() < 1e-9);
}

/// The same burst into a `block` queue with one group: the first three
/// messages are taken, the fourth publish is held until the first
/// delivery ends (10.4 ms later), the fifth until the second (20.8 ms).
/// The request waits for its slowest publish: 0.2 + 0.2 + 20.8 + 0.2 +
/// 0.2 = 21.6 ms, 20.8 of it queueing in its attribution. The held
/// publishes wait 31.2 ms together, 6.24 ms per publish; the messages
/// wait 0, 10.4, 20.8, 20.8 and 20.8 ms in the queue (14.56 on average),
/// and none is dropped.
#[test]
fn a_full_queue_holds_the_publish() {
    let n = 50;
    let text = topology(&burst(5, 2, "block", ONE_CONSUMER), 10.0, n);
    let r = run(&text);
    let l = &r.endpoints[0].latency;
    assert_eq!((l.min(), l.max()), (Some(21_600 * US), Some(21_600 * US)));
    let attr = r.endpoints[0].attribution.mean().unwrap();
    assert!((attr[Span::Queueing as usize] - 20_800_000.0).abs() < 1e-6);
    assert!((attr.iter().sum::<f64>() - 21_600_000.0).abs() < 1e-6);
    let q = &r.queues[0];
    assert_eq!((q.published, q.blocked), (5 * n, 2 * n));
    assert_eq!(q.blocked_sum, n * 31_200 * US);
    let w = &q.groups[0];
    assert_eq!((w.dropped, w.queued.count()), (0, 5 * n));
    assert_eq!(w.queued.sum(), u128::from(n) * 72_800 * u128::from(US));
    let topo = parse_topology("queues.toml", &text).unwrap();
    let s = summarize(&topo, &Design::plaintext(), &[r.into()]);
    let qs = &s.queues.expect("queues reported")[0];
    assert!((qs.blocked_share.expect("block").mean - 0.4).abs() < 1e-12);
    assert!((qs.mean_blocked_ms.expect("block").mean - 6.24).abs() < 1e-9);
    assert!((qs.groups[0].mean_queued_ms.mean - 14.56).abs() < 1e-9);
}

/// A message every 5 ms into one consumer that takes 10.4 ms, one waiting
/// at most: message 0 is consumed at once, 1 waits, 2 finds the queue
/// full and is dropped, 3 waits (taken at 20.8 ms), 4 is dropped... Every
/// other message is dropped while the consumer falls 0.4 ms further
/// behind each round: over 20 messages 9 are dropped and 11 consumed, the
/// waiting ones for 5.4, 5.8, ..., 9.0 ms (72 ms in all).
#[test]
fn a_slow_consumer_drops_every_other_message() {
    let body = "[services.a]\nendpoints.e.stages = [[{ queue = \"q\" }]]\n\
         [services.k]\nendpoints.p = {}\n\
         [services.w]\nendpoints.e.cpu = \"10ms\"\n\
         [queues.q]\nbroker = \"k.p\"\ncapacity = 1\non_full = \"drop\"\n\
         consumers = [{ endpoint = \"w.e\" }]";
    let r = run(&topology(body, 200.0, 20));
    let q = &r.queues[0];
    let w = &q.groups[0];
    assert_eq!(q.published, 20);
    assert_eq!((w.dropped, w.queued.count()), (9, 11));
    assert_eq!(w.queued.sum(), 72_000 * u128::from(US));
    assert_eq!(
        (w.queued.min(), w.queued.max()),
        (Some(0), Some(9_000 * US))
    );
    assert_eq!(r.asynch[0].latency.count(), 11);
}

/// The terminal and summary.json report the queue.
#[test]
fn the_run_reports_the_queue() {
    let dir = TempDir::new("queues");
    let topo = dir.path().join("q.toml");
    std::fs::write(
        &topo,
        topology(&burst(5, 2, "drop", ONE_CONSUMER), 10.0, 50),
    )
    .unwrap();
    let out = dir.path().join("out");
    let run = Run::from(ztsim(&[
        "run".as_ref(),
        topo.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ]));
    run.expect_code(0);
    assert!(
        run.stdout.contains(
            "queue q (at k.p, 2 waiting per group, drop when full): 50.0 messages/s published"
        ),
        "{}",
        run.show()
    );
    assert!(
        run.stdout
            .contains("group w.e (concurrency 1): 30.0 consumed/s, queued 10.400 ms mean"),
        "{}",
        run.show()
    );
    let json = std::fs::read_to_string(out.join("summary.json")).unwrap();
    assert!(json.contains("\"queues\""), "{json}");
}

/// M/M/c/K: state probabilities p_n = p_0 a^n / n! for n <= c and
/// p_0 a^n / (c! c^(n-c)) above, up to K (as in tests/queueing.rs);
/// returns (P(block) = p_K, mean number in the system).
fn mmck(c: u32, k: u32, a: f64) -> (f64, f64) {
    let mut terms = vec![1.0];
    for n in 1..=k {
        let prev = terms[n as usize - 1];
        terms.push(prev * a / f64::from(n.min(c)));
    }
    let total: f64 = terms.iter().sum();
    let l = terms
        .iter()
        .enumerate()
        .map(|(n, t)| n as f64 * t / total)
        .sum();
    (terms[k as usize] / total, l)
}

/// `check` with the standard error relative to the estimate itself.
fn within(what: &str, got: &Pooled, want: f64, tol: f64) {
    let (got, rse) = (got.mean, got.se / got.mean);
    let err = got / want - 1.0;
    eprintln!(
        "{what}: expected {want:.6e}, simulated {got:.6e} ({:+.2}%, se {:.2}%)",
        100.0 * err,
        100.0 * rse
    );
    assert!(err.abs() < tol, "{what}: expected {want}, got {got}");
    assert!(rse <= tol / 4.0, "{what}: run too short");
}

/// Poisson messages published straight to the broker (no CPU, zero RTT)
/// into one group of concurrency c whose consumer has c cores and
/// exponential CPU of mean 1 ms, at most `capacity` waiting, dropping the
/// rest: M/M/c/K with K = c + capacity. The share dropped is the blocking
/// probability p_K and a consumed message's mean time from publish to
/// the end of its consumption (queued plus consuming) is
/// L / (lambda (1 - p_K)), within 3%; above capacity too.
#[test]
fn a_queue_with_one_group_is_mmck() {
    let mu = 1000.0;
    for (c, capacity, rho, seed) in [(1, 4, 0.9, 201), (2, 3, 0.9, 202), (3, 2, 1.5, 203)] {
        let lambda = rho * f64::from(c) * mu;
        let text = format!(
            "[zones.z]\nrtt = \"0ns\"\n[services.k]\nendpoints.p = {{}}\n\
             [services.w]\ncores = {c}\nendpoints.e.cpu = {{ dist = \"exponential\", mean = \"1ms\" }}\n\
             [queues.q]\nbroker = \"k.p\"\ncapacity = {capacity}\non_full = \"drop\"\n\
             consumers = [{{ endpoint = \"w.e\", concurrency = {c} }}]\n\
             [workload]\narrivals = \"poisson\"\nrate = {lambda}\nwarmup = \"1s\"\nrequests = 200000\n\
             seed = {seed}\nreplications = 16\nentry = [{{ endpoint = \"k.p\" }}]\n"
        );
        let topo = parse_topology("mmck.toml", &text).unwrap_or_else(|e| panic!("{e:?}"));
        let runs = run_replications(&topo, &Design::plaintext());
        assert!(runs.iter().all(|r| r.saturation.is_none()));
        let (block, l) = mmck(c, c + capacity, lambda / mu);
        let name = format!("M/M/{c}/{} rho {rho}", c + capacity);
        within(
            &format!("{name} dropped share"),
            &pool(&runs, |r| {
                let q = &r.queues[0];
                (q.groups[0].dropped as f64, q.published as f64)
            }),
            block,
            0.03,
        );
        within(
            &format!("{name} mean time in system"),
            &pool(&runs, |r| {
                let (queued, consumed) = (&r.queues[0].groups[0].queued, &r.asynch[0].latency);
                (
                    (queued.sum() + consumed.sum()) as f64,
                    queued.count() as f64,
                )
            }),
            l / (lambda * (1.0 - block)) * 1e9,
            0.03,
        );
    }
}
