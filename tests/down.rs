//! Replicas down (docs/topology.md "Replicas down"): exact cases with
//! constant costs and evenly spaced arrivals, every figure computed by hand
//! in the comment.

use ztsim::config::{parse_design, parse_topology};
use ztsim::model::Design;
use ztsim::model::metrics::RunMetrics;
use ztsim::model::run_replications;

const US: u64 = 1_000;

/// One zone with a 400 us RTT; a (no CPU) calls b once per request; a
/// request every 10 ms from 10 ms on, 1000 measured after a 1 s warm-up.
fn topology(b: &str) -> String {
    format!(
        "[zones.z]\nrtt = \"400us\"\n\
         [services.a]\nendpoints.e.stages = [[{{ call = \"b.e\" }}]]\n\
         [services.b]\n{b}\n\
         [workload]\narrivals = \"constant\"\nrate = 100\nwarmup = \"1s\"\nrequests = 1000\n\
         entry = [{{ endpoint = \"a.e\" }}]\n"
    )
}

fn run_under(text: &str, design: Option<&str>) -> RunMetrics {
    let topo = parse_topology("down.toml", text).unwrap_or_else(|e| panic!("{e:?}"));
    let d = design.map_or_else(Design::plaintext, |d| {
        parse_design("design.toml", d, Some(&topo)).unwrap_or_else(|e| panic!("{e:?}"))
    });
    let mut runs = run_replications(&topo, &d);
    assert!(runs[0].saturation.is_none(), "unexpected saturation");
    runs.remove(0)
}

fn run(text: &str) -> RunMetrics {
    run_under(text, None)
}

/// b has two replicas of one core, 12 ms of CPU a call, round-robin: call
/// k (sent at k x 10 ms + 0.2 ms) goes to replica 0 when k is odd, each
/// replica a call every 20 ms, 12.8 ms a request. Replica 0 crashes at
/// 3.0105 s, serving call 301 (there since 3.0104 s): that call fails at
/// once, its request 0.5 + 0.2 = 0.7 ms after it began. For 2 s the
/// survivor takes every call, 302 to 501: 12 ms of work every 10 ms, so
/// call 302 + j waits 2j ms, and call 502 (the survivor's turn again, sent
/// 10 ms after 501) waits 400 ms: 0.4 + 400 + 12 + 0.4 = 412.8 ms, the
/// slowest request. Without the window no request waits.
#[test]
fn a_crash_fails_the_calls_in_progress_and_the_survivor_takes_the_load() {
    let b = "replicas = 2\nendpoints.e.cpu = \"12ms\"";
    let r = run(&topology(b));
    let l = &r.endpoints[0].latency;
    assert_eq!((l.min(), l.max()), (Some(12_800 * US), Some(12_800 * US)));
    assert_eq!((r.endpoints[0].failed, r.counters.down), (0, 0));
    let r = run(&topology(&format!(
        "{b}\ndown = [{{ replica = 0, at = \"3.0105s\", for = \"2s\" }}]"
    )));
    let l = &r.endpoints[0].latency;
    assert_eq!((l.min(), l.max()), (Some(700 * US), Some(412_800 * US)));
    assert_eq!((r.endpoints[0].failed, r.counters.down), (1, 1));
}

/// b's only replica is down from 3 s for 50 ms: the calls sent then (at
/// 3.0002, 3.0102, ..., 3.0402 s) find no replica up and fail after the
/// round trip of a refused connection: 0.2 + 0.4 + 0.2 = 0.8 ms. The call
/// before them was done by 2.9914 s, the one after is sent at 3.0502 s;
/// the others take 0.4 + 1 + 0.4 = 1.8 ms.
#[test]
fn with_no_replica_up_calls_fail_after_one_round_trip() {
    let r = run(&topology(
        "endpoints.e.cpu = \"1ms\"\ndown = [{ replica = 0, at = \"3s\", for = \"50ms\" }]",
    ));
    let l = &r.endpoints[0].latency;
    assert_eq!((l.min(), l.max()), (Some(800 * US), Some(1_800 * US)));
    assert_eq!((r.endpoints[0].failed, r.counters.down), (5, 5));
}

/// Under mutual TLS over prewarmed keep-alive pools nothing is opened in a
/// steady run. Replica 0 of b crashing takes its connection from a with
/// it: the first call to it after the restart opens one and handshakes
/// again, one connection and one handshake for the window. Two windows, two
/// of each.
#[test]
fn connections_to_a_replica_that_restarts_are_opened_again() {
    let design = "[transport]\nsecurity = \"mtls\"\ntls_version = \"1.3\"\n";
    let b = "replicas = 2\nendpoints.e.cpu = \"1ms\"";
    let handshakes = |r: &RunMetrics| {
        let k = &r.counters;
        (
            k.connections_opened,
            k.handshakes_full + k.handshakes_resumed + k.handshakes_zero_rtt,
        )
    };
    let r = run_under(&topology(b), Some(design));
    assert_eq!(handshakes(&r), (0, 0));
    let r = run_under(
        &topology(&format!(
            "{b}\ndown = [{{ replica = 0, at = \"3s\", for = \"1s\" }}]"
        )),
        Some(design),
    );
    assert_eq!(handshakes(&r), (1, 1));
    assert_eq!(r.endpoints[0].failed, 0, "no call was in progress at 3 s");
    let r = run_under(
        &topology(&format!(
            "{b}\ndown = [{{ replica = 0, at = \"3s\", for = \"1s\" }}, {{ replica = 0, at = \"6s\", for = \"1s\" }}]"
        )),
        Some(design),
    );
    assert_eq!(handshakes(&r), (2, 2));
}

/// b's two replicas crash by a rate, every = 10 s, for = 1 s (constant),
/// over a 2,000 s window after a 1 s warm-up; a request every 100 ms.
fn by_rate(seed: u64) -> RunMetrics {
    run(&format!(
        "[zones.z]\nrtt = \"400us\"\n\
         [services.a]\nendpoints.e.stages = [[{{ call = \"b.e\" }}]]\n\
         [services.b]\nreplicas = 2\nendpoints.e.cpu = \"1ms\"\n\
         crashes = {{ every = \"10s\", for = \"1s\" }}\n\
         [workload]\narrivals = \"constant\"\nrate = 10\nwarmup = \"1s\"\nduration = \"2000s\"\n\
         seed = {seed}\nentry = [{{ endpoint = \"a.e\" }}]\n"
    ))
}

/// Each replica alternates an exponential up time of mean 10 s and 1 s
/// down: a renewal process of mean cycle 11 s and variance 100 s^2, so in
/// 2,000 s a replica crashes 2000 / 11 = 181.8 times on average with
/// variance 2000 x 100 / 11^3 = 150.3; two replicas 363.6, sd 17.3. Four
/// standard deviations: 294 to 433 (a rate of 1 / 10 s counted from the
/// crash, not the restart, would give 400 +- 18, mostly outside; one of
/// 1 / 11 s up time, 334). Each crash is 1 s down, so the time down is the
/// crashes' count in seconds, to within the windows cut by the window's
/// two ends (at most 1 s a replica at each end), and its fraction of the
/// 4,000 replica-seconds is 1 / 11 = 0.0909 within 4 x 17.3 / 4000 =
/// 0.0173.
#[test]
fn crashes_by_a_rate_come_as_often_as_the_mean_time_between_failures_says() {
    let r = by_rate(1);
    let k = &r.counters;
    assert_eq!(r.window, 2_000 * 1_000_000 * US);
    assert!((294..=433).contains(&k.crashes), "{} crashes", k.crashes);
    let down_s = k.replica_down_ns as f64 / 1e9;
    assert!(
        (down_s - k.crashes as f64).abs() <= 2.0,
        "{down_s} s down for {} crashes",
        k.crashes
    );
    let fraction = down_s / 4_000.0;
    assert!((fraction - 1.0 / 11.0).abs() < 0.0173, "down {fraction}");
    assert!(k.down > 0, "crashes fail the calls in progress");
}

/// The crashes come from the seed: the same seed gives the same run, to
/// the call; another seed other crashes.
#[test]
fn crashes_by_a_rate_are_the_same_for_the_same_seed() {
    let (a, b, c) = (by_rate(7), by_rate(7), by_rate(8));
    let key = |r: &RunMetrics| {
        (
            r.counters.clone(),
            r.endpoints[0].failed,
            r.endpoints[0].latency.max(),
        )
    };
    assert_eq!(key(&a), key(&b));
    assert_ne!(a.counters.replica_down_ns, c.counters.replica_down_ns);
}

/// The summary reports the crashes and the time down (`outages`): the same
/// counts as the run metrics, per hour of the window, and the share of b's
/// replica-time down (a never goes down, so it does not dilute it) near
/// 1 / 11 as above; a topology whose replicas never go down has none.
#[test]
fn the_summary_reports_crashes_and_the_share_of_time_down() {
    let text = |extra: &str| {
        format!(
            "[zones.z]\nrtt = \"400us\"\n\
             [services.a]\nendpoints.e.stages = [[{{ call = \"b.e\" }}]]\n\
             [services.b]\nreplicas = 2\nendpoints.e.cpu = \"1ms\"\n{extra}\n\
             [workload]\narrivals = \"constant\"\nrate = 10\nwarmup = \"1s\"\nduration = \"2000s\"\n\
             replications = 2\nentry = [{{ endpoint = \"a.e\" }}]\n"
        )
    };
    let summary = |text: &str| {
        let topo = parse_topology("down.toml", text).unwrap_or_else(|e| panic!("{e:?}"));
        let d = Design::plaintext();
        let runs = ztsim::model::Replications::of(&topo, &d).runs;
        let counters: Vec<_> = runs.iter().map(|r| r.counters.clone()).collect();
        (ztsim::report::summarize(&topo, &d, &runs), counters)
    };
    let (s, k) = summary(&text("crashes = { every = \"10s\", for = \"1s\" }"));
    let o = s.outages.expect("crashes are reported");
    let crashes = (k[0].crashes + k[1].crashes) as f64 / 2.0;
    assert_eq!(o.crashes.mean, crashes);
    assert!((o.crashes_per_hour.mean - crashes * 3600.0 / 2000.0).abs() < 1e-9);
    let down = (k[0].replica_down_ns + k[1].replica_down_ns) as f64 / 2.0;
    let share = down / (2.0 * 2_000e9);
    assert!((o.replica_down_share.mean - share).abs() < 1e-12, "{o:?}");
    assert!((share - 1.0 / 11.0).abs() < 0.0173, "down {share}");
    let json = serde_json::to_value(&o).unwrap();
    assert!(json["replica_down_share"]["ci95"].is_number(), "{json}");
    let (s, _) = summary(&text(""));
    assert!(s.outages.is_none());
    assert!(!serde_json::to_string(&s).unwrap().contains("outages"));
}
