//! Replayed arrivals (`[workload] replay`, `arrivals = "replay"`, `ztsim run
//! --replay`): exact latencies of known recorded arrivals, speed, entries,
//! common random numbers, and bad recordings located in the CSV file.

mod common;

use std::path::PathBuf;

use common::scratch;
use ztsim::config::{Diagnostic, load_topology};
use ztsim::model::guard::Size;
use ztsim::model::metrics::RunMetrics;
use ztsim::model::topology::{Arrivals, Window};
use ztsim::model::{Design, Topology, run_replications};

const MS: u64 = 1_000_000;

/// A fresh folder holding `topo.toml` and `rec.arrivals.csv`, under Cargo's
/// scratch folder (the system's temporary folder kept every run's).
fn files(name: &str, toml: &str, csv: &str) -> PathBuf {
    let dir = scratch("replay", name);
    std::fs::write(dir.join("rec.arrivals.csv"), csv).unwrap();
    let path = dir.join("topo.toml");
    std::fs::write(&path, toml).unwrap();
    path
}

/// One zone with a 1 ms RTT; `a.e` takes 2 ms of CPU and `a.f` 1 ms on one
/// core; the workload is given.
fn topology(workload: &str) -> String {
    format!(
        r#"
[zones.z]
rtt = "1ms"
[services.a]
endpoints.e.cpu = "2ms"
endpoints.f.cpu = "1ms"
[workload]
{workload}
"#
    )
}

fn load(name: &str, workload: &str, csv: &str) -> Topology {
    load_topology(&files(name, &topology(workload), csv)).unwrap_or_else(|e| panic!("{e:?}"))
}

fn errors(name: &str, workload: &str, csv: &str) -> Vec<Diagnostic> {
    load_topology(&files(name, &topology(workload), csv)).expect_err("refused")
}

fn run(topo: &Topology) -> RunMetrics {
    let mut runs = run_replications(topo, &Design::plaintext());
    let r = runs.remove(0);
    assert!(r.saturation.is_none(), "unexpected saturation");
    r
}

/// Recorded arrivals at 0, 1 and 10 ms into `a.e` (2 ms of CPU, 0.5 ms each
/// way): the first takes 3 ms; the second arrives at the service at 1.5 ms,
/// waits for the core until 2.5 ms, runs to 4.5 ms and is back at 5 ms: 4 ms;
/// the third finds the core idle: 3 ms.
#[test]
fn replayed_arrivals_give_exact_latencies_with_queueing() {
    let topo = load(
        "exact",
        "arrivals = \"replay\"\nreplay = \"rec.arrivals.csv\"",
        "at_ns,entry\n0,a.e\n1000000,a.e\n10000000,a.e\n",
    );
    assert!(matches!(topo.workload.arrivals, Arrivals::Replay { .. }));
    // The window spans the recording: everything after warm-up is measured.
    assert_eq!(topo.workload.window, Window::Duration(10 * MS + 1));
    let r = run(&topo);
    let h = &r.endpoints[0].latency;
    assert_eq!(h.count(), 3);
    assert_eq!(h.min(), Some(3 * MS));
    assert_eq!(h.max(), Some(4 * MS));
    assert_eq!(h.mean(), Some(10.0 * MS as f64 / 3.0));
    assert_eq!(r.arrived, 3);
}

/// Speed 2 plays the same recording at 0, 0.5 and 5 ms: the second request
/// now waits 1.5 ms for the core (4.5 ms end to end).
#[test]
fn speed_scales_the_recorded_times() {
    let mut topo = load(
        "speed",
        "arrivals = \"replay\"\nreplay = \"rec.arrivals.csv\"",
        "at_ns,entry\n0,a.e\n1000000,a.e\n10000000,a.e\n",
    );
    topo.workload.replay(2.0).unwrap();
    assert_eq!(topo.workload.window, Window::Duration(5 * MS + 1));
    let r = run(&topo);
    let h = &r.endpoints[0].latency;
    assert_eq!(
        (h.count(), h.min(), h.max()),
        (3, Some(3 * MS), Some(4_500_000))
    );
    assert_eq!(h.mean(), Some((3.0 + 4.5 + 3.0) * MS as f64 / 3.0));
    // Half speed: nothing overlaps any more.
    topo.workload.replay(0.5).unwrap();
    let h = run(&topo).endpoints[0].latency.clone();
    assert_eq!(
        (h.count(), h.min(), h.max()),
        (3, Some(3 * MS), Some(3 * MS))
    );
}

/// Each request enters where it was recorded: `a.f` (1 ms) and `a.e` (2 ms)
/// in the recording's order, counted per entry, in order of first appearance.
#[test]
fn recorded_entries_are_honoured() {
    let topo = load(
        "entries",
        "arrivals = \"replay\"\nreplay = \"rec.arrivals.csv\"",
        "at_ns,entry\n0,a.f\n20000000,a.e\n40000000,a.f\n60000000,a.f\n",
    );
    let names: Vec<&str> = topo
        .workload
        .entries
        .iter()
        .map(|&(e, _)| topo.endpoints[e as usize].name.as_str())
        .collect();
    assert_eq!(names, ["a.f", "a.e"]);
    assert_eq!(topo.workload.entries[0].1, 0.75);
    let r = run(&topo);
    let f = &r.endpoints[0].latency;
    let e = &r.endpoints[1].latency;
    assert_eq!(
        (f.count(), f.min(), f.max()),
        (3, Some(2 * MS), Some(2 * MS))
    );
    assert_eq!(
        (e.count(), e.min(), e.max()),
        (1, Some(3 * MS), Some(3 * MS))
    );
}

/// Warm-up leaves out the requests recorded before it; `requests` narrows
/// the window to the first N after warm-up.
#[test]
fn warmup_and_request_count_narrow_the_replay() {
    let csv = "at_ns,entry\n0,a.e\n10000000,a.f\n20000000,a.e\n30000000,a.e\n";
    let topo = load(
        "warmup",
        "arrivals = \"replay\"\nreplay = \"rec.arrivals.csv\"\nwarmup = \"5ms\"",
        csv,
    );
    let r = run(&topo);
    assert_eq!(r.arrived, 3);
    assert_eq!(r.endpoints[0].latency.count(), 2); // a.e at 20 and 30 ms
    assert_eq!(r.endpoints[1].latency.count(), 1); // a.f at 10 ms
    let topo = load(
        "count",
        "arrivals = \"replay\"\nreplay = \"rec.arrivals.csv\"\nrequests = 2",
        csv,
    );
    assert_eq!(run(&topo).arrived, 2);
}

/// An open-loop topology keeps its own arrivals until told to replay; then
/// it runs the recording, and replications differ only in service draws
/// (identical here, where every draw is constant).
#[test]
fn open_loop_switches_to_its_recording() {
    let mut topo = load(
        "switch",
        "arrivals = \"poisson\"\nrate = 50\nduration = \"1s\"\nreplications = 3\nreplay = \"rec.arrivals.csv\"\nentry = [{ endpoint = \"a.f\" }]",
        "at_ns,entry\n0,a.e\n1000000,a.e\n10000000,a.e\n",
    );
    assert!(matches!(topo.workload.arrivals, Arrivals::Poisson { .. }));
    topo.workload.replay(1.0).unwrap();
    let runs = run_replications(&topo, &Design::plaintext());
    for r in &runs {
        assert_eq!(r.endpoints[0].latency.count(), 3);
        assert_eq!(r.endpoints[0].latency.max(), Some(4 * MS));
    }
}

/// With random service times, replications of one replay see the same
/// arrivals but different draws; the same seed repeats them exactly.
#[test]
fn replications_differ_only_in_service_draws() {
    let dir = files(
        "draws",
        r#"
[zones.z]
rtt = "1ms"
[services.a]
endpoints.e.cpu = { dist = "exponential", mean = "1ms" }
[workload]
arrivals = "replay"
replay = "rec.arrivals.csv"
replications = 2
"#,
        &(0..200)
            .map(|k| format!("{},a.e\n", k * 5 * MS))
            .fold("at_ns,entry\n".to_string(), |a, b| a + &b),
    );
    let topo = load_topology(&dir).unwrap();
    let a = run_replications(&topo, &Design::plaintext());
    let b = run_replications(&topo, &Design::plaintext());
    assert_eq!(a[0].arrived, 200);
    assert_eq!(a[1].arrived, 200);
    assert_ne!(
        a[0].endpoints[0].latency.mean(),
        a[1].endpoints[0].latency.mean()
    );
    assert_eq!(
        a[0].endpoints[0].latency.mean(),
        b[0].endpoints[0].latency.mean()
    );
}

/// A replay faster than the service can go is reported as saturated.
#[test]
fn an_overloaded_replay_saturates() {
    // 20000 requests 0.5 ms apart into 2 ms of CPU on one core.
    let csv = (0..20_000)
        .map(|k| format!("{},a.e\n", k * MS / 2))
        .fold("at_ns,entry\n".to_string(), |a, b| a + &b);
    let topo = load(
        "saturate",
        "arrivals = \"replay\"\nreplay = \"rec.arrivals.csv\"",
        &csv,
    );
    let r = run_replications(&topo, &Design::plaintext()).remove(0);
    let sat = r.saturation.expect("saturated");
    assert!(sat.backlog_growth > 10_000, "{sat:?}");
}

fn one(diags: &[Diagnostic], text: &str) -> Diagnostic {
    diags
        .iter()
        .find(|d| d.to_string().contains(text))
        .unwrap_or_else(|| panic!("no diagnostic with `{text}` in {diags:#?}"))
        .clone()
}

#[test]
fn bad_recordings_are_located_in_the_csv() {
    let w = "arrivals = \"replay\"\nreplay = \"rec.arrivals.csv\"";
    // Unknown entry: line, column of the field, and a did-you-mean.
    let d = one(
        &errors("unknown", w, "at_ns,entry\n0,a.e\n5,a.ee\n"),
        "unknown entry endpoint `a.ee`",
    );
    assert!(d.file.ends_with("rec.arrivals.csv"), "{d}");
    assert_eq!((d.line, d.column), (Some(3), Some(3)));
    assert_eq!(d.key.as_ref().unwrap().to_string(), "entry");
    assert!(
        d.help.as_deref().unwrap().contains("did you mean `a.e`"),
        "{d}"
    );
    // Times going back.
    let d = one(
        &errors("order", w, "at_ns,entry\n0,a.e\n700,a.e\n500,a.f\n"),
        "in time order: 500 comes after 700 (line 3)",
    );
    assert_eq!((d.line, d.column), (Some(4), Some(1)));
    assert_eq!(d.key.as_ref().unwrap().to_string(), "at_ns");
    // Not an integer.
    let d = one(
        &errors("float", w, "at_ns,entry\n0,a.e\n1.5e6,a.e\n"),
        "`1.5e6` is not a whole number of nanoseconds",
    );
    assert_eq!((d.line, d.column), (Some(3), Some(1)));
    let d = one(
        &errors("negative", w, "at_ns,entry\n-5,a.e\n"),
        "`-5` is not a whole",
    );
    assert_eq!(d.line, Some(2));
    // Bad header, empty file, header only, a missing field.
    let d = one(
        &errors("header", w, "time,endpoint\n0,a.e\n"),
        "the header must be `at_ns,entry`, got `time,endpoint`",
    );
    assert_eq!((d.line, d.column), (Some(1), Some(1)));
    one(&errors("empty", w, ""), "the file is empty");
    one(
        &errors("nohead", w, "at_ns,entry\n"),
        "no recorded requests",
    );
    let d = one(
        &errors("fields", w, "at_ns,entry\n0,a.e\n12\n"),
        "expected two fields",
    );
    assert_eq!(d.line, Some(3));
    // Every problem is reported, not only the first.
    let all = errors("many", w, "at_ns,entry\nx,a.e\n0,b.e\n");
    assert_eq!(all.len(), 2, "{all:#?}");
}

/// The guard and the study size count a replay's recorded requests in its
/// window, not a rate times a duration.
#[test]
fn the_guard_counts_recorded_requests() {
    let mut topo = load(
        "guard",
        "arrivals = \"replay\"\nreplay = \"rec.arrivals.csv\"",
        "at_ns,entry\n0,a.e\n1000000,a.e\n10000000,a.e\n",
    );
    assert_eq!(
        Size::of(&topo, &ztsim::model::Design::plaintext()).requests,
        3.0
    );
    topo.workload.window = Window::Duration(5 * MS);
    assert_eq!(
        Size::of(&topo, &ztsim::model::Design::plaintext()).requests,
        2.0
    );
    // Its mean rate: 2 gaps over 10 ms.
    assert_eq!(topo.workload.arrivals.rate(), Some(200.0));
}

/// `ztsim run --replay` on an open-loop topology with a recording: the
/// window follows --warmup and --replay-speed, --requests narrows it, and
/// --rate is refused for a replay.
#[test]
fn the_cli_switches_to_the_recording() {
    let topo = files(
        "cli",
        &topology(
            "arrivals = \"poisson\"\nrate = 100\nduration = \"1s\"\nwarmup = \"2s\"\nreplay = \"rec.arrivals.csv\"\nentry = [{ endpoint = \"a.f\" }]",
        ),
        "at_ns,entry\n0,a.e\n2500000000,a.e\n3000000000,a.f\n",
    );
    let run = |extra: &[&str]| {
        let out_dir = topo.with_file_name(format!("out-{}", extra.join("_")));
        let mut args = vec![
            "run",
            topo.to_str().unwrap(),
            "--replay",
            "--force",
            "--out",
            out_dir.to_str().unwrap(),
        ];
        args.extend(extra);
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_ztsim"))
            .args(&args)
            .output()
            .unwrap();
        let summary: Option<serde_json::Value> = std::fs::read(out_dir.join("summary.json"))
            .ok()
            .map(|b| serde_json::from_slice(&b).unwrap());
        (out, summary)
    };
    let measured = |s: &serde_json::Value| s["requests"]["requests"]["mean"].as_f64().unwrap();
    // Warm-up 2 s: the two requests after it.
    let (out, s) = run(&[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(measured(&s.unwrap()), 2.0);
    // Without warm-up: all three, whatever the file's warm-up was.
    let (_, s) = run(&["--warmup", "0s"]);
    let s = s.unwrap();
    assert_eq!(measured(&s), 3.0);
    assert_eq!(s["workload"]["arrivals"], "replay");
    // Twice as fast: 0, 1.25 and 1.5 s; a warm-up of 1.3 s keeps one.
    let (_, s) = run(&["--warmup", "1.3s", "--replay-speed", "2"]);
    assert_eq!(measured(&s.unwrap()), 1.0);
    // --requests narrows the window.
    let (_, s) = run(&["--warmup", "0s", "--requests", "2"]);
    assert_eq!(measured(&s.unwrap()), 2.0);
    // --rate does not apply.
    let (out, _) = run(&["--rate", "5"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--replay-speed"));
}

/// Cores that pause (`pauses`) keep scheduling events of their own; a
/// replay shorter than its `requests` must still end once its recorded
/// requests are done, as it does without pauses, not run on for ever on
/// pauses alone.
#[test]
fn a_replay_that_runs_dry_ends_though_its_cores_pause() {
    let toml = r#"
[zones.z]
rtt = "1ms"
[services.a]
pauses = { every = "5ms", for = "1ms" }
endpoints.e.cpu = "2ms"
[workload]
arrivals = "replay"
replay = "rec.arrivals.csv"
requests = 100
entry = [{ endpoint = "a.e" }]
"#;
    let csv = "at_ns,entry\n0,a.e\n1000000,a.e\n10000000,a.e\n";
    let topo = load_topology(&files("pauses-dry", toml, csv)).unwrap_or_else(|e| panic!("{e:?}"));
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runs = run_replications(&topo, &Design::plaintext());
        let _ = tx.send(runs[0].arrived);
    });
    let arrived = rx
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("the run ended");
    assert_eq!(arrived, 3);
}
