//! Input that validates but is huge or degenerate: every case ends in
//! seconds, with a clear refusal (exit 2) or a finished run, never an abort,
//! a stack overflow, a hang or memory beyond what the input justifies.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{Run, TempDir, root};

use ztsim::config::parse_topology;
use ztsim::model::dist::Dist;
use ztsim::model::guard::Size;
use ztsim::model::topology::Arrivals;
use ztsim::model::{Design, Replications, run_replications};

/// Runs ztsim in `dir`, killing it and failing the test past `limit`.
fn within(dir: &Path, args: &[&str], limit: Duration) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ztsim"))
        .args(args)
        .current_dir(dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start ztsim");
    let start = Instant::now();
    while child.try_wait().expect("poll ztsim").is_none() {
        if start.elapsed() > limit {
            child.kill().expect("kill ztsim");
            let _ = child.wait();
            panic!("ztsim {args:?} still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Run::from(child.wait_with_output().expect("collect ztsim"))
}

/// A refusal: exit 2 with `text` in the message, within 30 s.
#[track_caller]
fn refused(dir: &Path, args: &[&str], text: &str) -> Run {
    let run = within(dir, args, Duration::from_secs(30));
    run.expect_code(2);
    assert!(
        run.stderr.contains(text),
        "wanted `{text}`:\n{}",
        run.show()
    );
    run
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// One service `s` with one endpoint, in zone `a` of RTT `rtt`.
fn single(rtt: &str, cpu: &str, replicas: &str, workload: &str) -> String {
    format!(
        "[zones.a]\nrtt = \"{rtt}\"\n[services.s]\nreplicas = {replicas}\nendpoints.e = {{ cpu = \"{cpu}\" }}\n\
         [workload]\n{workload}\nduration = \"1s\"\nwarmup = \"0s\"\nentry = [{{ endpoint = \"s.e\" }}]\n"
    )
}

const POISSON: &str = "arrivals = \"poisson\"\nrate = 10";

/// A call chain `depth` services deep: s0.e -> s1.e -> ...
fn chain(depth: usize) -> String {
    let mut t = String::from("[zones.a]\nrtt = \"1ms\"\n");
    for i in 0..depth {
        t.push_str(&format!("[services.s{i}]\n"));
        if i + 1 < depth {
            t.push_str(&format!(
                "endpoints.e = {{ cpu = \"1us\", stages = [[{{ call = \"s{}.e\" }}]] }}\n",
                i + 1
            ));
        } else {
            t.push_str("endpoints.e = { cpu = \"1us\" }\n");
        }
    }
    t.push_str(&format!(
        "[workload]\n{POISSON}\nduration = \"1s\"\nentry = [{{ endpoint = \"s0.e\" }}]\n"
    ));
    t
}

#[test]
fn replications_beyond_the_limit_are_refused_from_flags_and_files() {
    let tmp = TempDir::new("limits-reps");
    let d = tmp.path();
    write(d, "t.toml", &single("1ms", "1us", "1", POISSON));
    let many = single(
        "1ms",
        "1us",
        "1",
        &format!("{POISSON}\nreplications = 1000000000"),
    );
    write(d, "many.toml", &many);
    refused(
        d,
        &["run", "t.toml", "--replications", "4000000000"],
        "--replications: must be from 1 to 10000",
    );
    refused(
        d,
        &["validate", "many.toml"],
        "workload.replications: replications must be a whole number from 1 to 10000",
    );
    // Just inside the limit is still accepted by validation.
    let ok = single(
        "1ms",
        "1us",
        "1",
        &format!("{POISSON}\nreplications = 10000"),
    );
    write(d, "ok.toml", &ok);
    within(d, &["validate", "ok.toml"], Duration::from_secs(30)).expect_code(0);
}

#[test]
fn thread_counts_are_capped() {
    let tmp = TempDir::new("limits-threads");
    let d = tmp.path();
    write(d, "t.toml", &single("1ms", "1us", "1", POISSON));
    refused(
        d,
        &["run", "t.toml", "--threads", "100000"],
        "--threads: must be from 1 to 1024, got 100000",
    );
}

#[test]
fn thousands_of_zones_without_links_are_reported_once_per_zone_quickly() {
    let tmp = TempDir::new("limits-zones");
    let d = tmp.path();
    let mut t = String::new();
    for i in 0..3000 {
        t.push_str(&format!("[zones.z{i}]\nrtt = \"1ms\"\n"));
    }
    t.push_str(&format!("[services.s]\nzone = \"z0\"\nendpoints.e = {{}}\n[workload]\n{POISSON}\nduration = \"1s\"\nentry = [{{ endpoint = \"s.e\" }}]\n"));
    write(d, "zones.toml", &t);
    let start = Instant::now();
    let run = refused(
        d,
        &["validate", "zones.toml"],
        "no RTT between zones `z0` and `z1` (nor between `z0` and 2998 other zones after it)",
    );
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "took {:?}",
        start.elapsed()
    );
    // 20 zones named, then one line for the rest (4.5 million pairs).
    assert_eq!(
        run.stderr.matches("no RTT between").count(),
        20,
        "{}",
        run.show()
    );
    assert!(
        run.stderr.contains("2979 more zones lack links"),
        "{}",
        run.show()
    );
    // The matrix is built when every pair has its link: three zones, three links.
    let mesh = "[zones.a]\nrtt = \"1ms\"\n[zones.b]\nrtt = \"1ms\"\n[zones.c]\nrtt = \"1ms\"\n\
        [[network.links]]\nzones = [\"a\", \"b\"]\nrtt = \"2ms\"\n[[network.links]]\nzones = [\"c\", \"a\"]\nrtt = \"3ms\"\n\
        [[network.links]]\nzones = [\"b\", \"c\"]\nrtt = \"4ms\"\n\
        [services.s]\nzone = \"a\"\nendpoints.e = {}\n[workload]\narrivals = \"poisson\"\nrate = 10\nduration = \"1s\"\nentry = [{ endpoint = \"s.e\" }]\n";
    let topo = parse_topology("mesh.toml", mesh).expect("a full mesh validates");
    let ms = |a: usize, b: usize| topo.network.rtt[a * 3 + b].mean() / 1e6;
    assert_eq!(
        [ms(0, 1), ms(1, 0), ms(0, 2), ms(2, 0), ms(1, 2), ms(2, 1)],
        [2.0, 2.0, 3.0, 3.0, 4.0, 4.0]
    );
    assert_eq!([ms(0, 0), ms(1, 1), ms(2, 2)], [1.0, 1.0, 1.0]);
}

#[test]
fn huge_replica_counts_are_refused_by_the_guard_with_the_figure() {
    let tmp = TempDir::new("limits-replicas");
    let d = tmp.path();
    write(d, "many.toml", &single("1ms", "1us", "100000000", POISSON));
    refused(
        d,
        &["run", "many.toml"],
        "GiB of memory, beyond the budget of 8 GiB",
    );
    // A waypoint of 4e9 replicas, from the design file.
    write(d, "t.toml", &single("1ms", "1us", "1", POISSON));
    let design =
        "name = \"w\"\n[proxy]\nmode = \"node\"\n[proxy.waypoint]\nreplicas = 4000000000\n";
    write(d, "w.toml", design);
    refused(
        d,
        &["run", "t.toml", "--model", "w.toml"],
        "GiB of memory, beyond the budget of 8 GiB",
    );
}

#[test]
fn a_closed_loop_whose_requests_take_no_time_is_refused() {
    let tmp = TempDir::new("limits-closed");
    let d = tmp.path();
    let closed = "arrivals = \"closed\"\nusers = 2";
    write(d, "zero.toml", &single("0ms", "0ms", "1", closed));
    let run = refused(
        d,
        &["validate", "zero.toml"],
        "zero.toml:7:1: workload.arrivals: a closed loop with no think time",
    );
    assert!(
        run.stderr
            .contains("requests to `s.e` that can take no simulated time"),
        "{}",
        run.show()
    );
    // A round trip of 1 ns is no time each way (half of it, in whole ns).
    write(d, "one-ns.toml", &single("1ns", "0ms", "1", closed));
    refused(
        d,
        &["validate", "one-ns.toml"],
        "requests to `s.e` that can take no simulated time",
    );
    // 2 ns moves the clock, but 20 users with no think time would send 1e10
    // requests in the second: sized by their quickest request and refused
    // (a floor of 1 ms per request once let this run for hours).
    write(
        d,
        "fast.toml",
        &single("2ns", "0ms", "1", "arrivals = \"closed\"\nusers = 20"),
    );
    refused(d, &["run", "fast.toml"], "1.00e10 requests");
    // Any CPU, RTT or think time moves the clock: accepted.
    for (rtt, cpu, extra) in [
        ("0ms", "1us", ""),
        ("1us", "0ms", ""),
        ("0ms", "0ms", "\nthink = \"1ms\""),
    ] {
        write(
            d,
            "ok.toml",
            &single(rtt, cpu, "1", &format!("{closed}{extra}")),
        );
        within(d, &["validate", "ok.toml"], Duration::from_secs(30)).expect_code(0);
    }
}

/// An input file is read up to a bound (the TOML parser holds about a
/// hundred bytes per byte of a long array): a bigger file, or an endless
/// one, is refused instead of taking gigabytes.
#[test]
fn input_files_beyond_the_size_limit_are_refused() {
    let tmp = TempDir::new("limits-size");
    let d = tmp.path();
    let padding = "# padding\n".repeat(900_000);
    write(
        d,
        "big.toml",
        &format!("{padding}{}", single("1ms", "1us", "1", POISSON)),
    );
    refused(
        d,
        &["validate", "big.toml"],
        "big.toml: the file is larger than 8 MiB",
    );
    if Path::new("/dev/zero").exists() {
        refused(
            d,
            &["validate", "/dev/zero"],
            "/dev/zero: the file is larger than 8 MiB",
        );
    }
    // The same file just under the limit is read.
    let fits = "# padding\n".repeat(800_000);
    write(
        d,
        "fits.toml",
        &format!("{fits}{}", single("1ms", "1us", "1", POISSON)),
    );
    within(d, &["validate", "fits.toml"], Duration::from_secs(30)).expect_code(0);
}

#[test]
fn the_engine_stops_a_run_stuck_at_one_instant() {
    // Validation refuses this model; build it past validation, as a rule
    // that misses a case would let through.
    let text = single("0ms", "1us", "1", "arrivals = \"closed\"\nusers = 2");
    let mut topo = parse_topology("t.toml", &text).unwrap();
    topo.endpoints[0].cpu = Dist::ZERO;
    assert!(matches!(topo.workload.arrivals, Arrivals::Closed { .. }));
    let start = Instant::now();
    let runs = run_replications(&topo, &Design::plaintext());
    assert!(
        start.elapsed() < Duration::from_secs(60),
        "took {:?}",
        start.elapsed()
    );
    let why = &runs[0]
        .saturation
        .as_ref()
        .expect("stopped as saturated")
        .reason;
    assert!(why.contains("events at one instant (0 ns)"), "{why}");
}

#[test]
fn a_100000_deep_chain_validates_in_linear_time_and_runs_without_overflow() {
    // 1 us round trips, so that each request (100,000 calls one after the
    // other) ends well inside the second measured.
    let text = chain(100_000).replace("rtt = \"1ms\"", "rtt = \"1us\"");
    let start = Instant::now();
    let topo = parse_topology("chain.toml", &text).expect("a deep chain is valid");
    let took = start.elapsed();
    // Well under a second in a release build; bounded generously for a
    // shared machine (the quadratic code took about 50 s in release).
    assert!(took < Duration::from_secs(40), "validation took {took:?}");
    assert_eq!(topo.edges.len(), 99_999);
    assert_eq!(topo.visits().iter().sum::<f64>(), 100_000.0);
    // Histograms take buckets only past 64 values, so a few requests down
    // the chain fit easily (all edges kept dense would be 28 GB).
    let size = Size::of(&topo, &Design::plaintext());
    assert!(size.refusal().is_none(), "{size:?}");
    assert!(size.memory < 2e9, "{size:?}");
    let runs = Replications::of(&topo, &Design::plaintext());
    let r = &runs.runs[0];
    assert!(r.saturation.is_none());
    let requests = r.requests();
    assert!(requests > 0);
    // Requests went all the way down: every edge carried calls, none failed.
    assert!(
        r.edges
            .iter()
            .all(|e| e.latency.count() > 0 && e.failed == 0)
    );
}

#[test]
fn a_study_grid_beyond_the_limit_is_refused_before_it_is_built() {
    let tmp = TempDir::new("limits-study");
    let d = tmp.path();
    write(d, "t.toml", &single("1ms", "1us", "1", POISSON));
    let seeds: Vec<String> = (1..=2000).map(|i| i.to_string()).collect();
    let cores: Vec<String> = (1..=1000).map(|i| i.to_string()).collect();
    let study = format!(
        "topology = \"t.toml\"\ndesigns = [\"{}\"]\n[params]\n\"workload.seed\" = [{}]\n\"services.s.cores\" = [{}]\n",
        root().join("models/plaintext.toml").display(),
        seeds.join(", "),
        cores.join(", ")
    );
    write(d, "big.study.toml", &study);
    refused(
        d,
        &["validate", "big.study.toml"],
        "the study's grid has 2000000 points (1 designs x 1 rates x 2000 `workload.seed` x 1000 `services.s.cores`), beyond the limit of 10000",
    );
}
