//! Property tests over the input parsers, the validator and the engine.
//!
//! Mutation-based: each case starts from a real file (`topologies/*.toml`,
//! `models/*.toml`, `topologies/chatty.study.toml` and a small study with
//! parameters) and applies one to three random mutations: lines deleted,
//! duplicated or swapped; characters deleted or inserted; a value replaced by
//! a TOML value of another type (huge and negative numbers, "nan", "inf",
//! durations such as "1e30s", "-5ms" or "99999999999999h", empty strings,
//! arrays, tables, dates); a key renamed by one edit; a key or a whole
//! top-level table removed; an unknown key added. The result goes through the
//! same entry points as the command line, and every case must hold:
//!
//! - nothing panics (a panic is caught and reported with the input);
//! - a refused input gets at least one diagnostic, each with a message and the
//!   file it is about, and a line and column unless it is one of the
//!   documented whole-file or parameter diagnostics ([`lineless_reason`]);
//! - an accepted input is a validated model, and the engine runs it without
//!   panicking or hanging: 50 requests, no warm-up (what a file saying
//!   `requests = 50` would ask for). Models too large or too long to run in
//!   a few milliseconds are counted as skipped ([`short_run`]); the extreme
//!   values among them have their own test
//!   ([`engine_survives_extreme_validated_values`]).
//!
//! The runs are deterministic: a fixed seed and a fixed number of cases per
//! target, whatever `PROPTEST_CASES` says, so every run tries the same inputs
//! (`cargo test --test fuzz_inputs -- --nocapture` prints the counts; how
//! many are refused depends only on the validator). `FUZZ_TIMING=1` also
//! prints every simulation slower than 200 ms with its input.
//!
//! `tests/data/bad-studies/` holds malformed study files, one mistake each,
//! with the expected diagnostic in their header (see its README); they are
//! checked by [`every_bad_study_is_refused_where_the_mistake_is`].
//!
//! Problems the fuzzer has found that still need a fix in `src/` are listed in
//! [`KNOWN`] (tolerated by the fuzz targets, counted and printed) and each has
//! a regression test: `#[ignore]`d at the bottom, or a bad-study file listed in
//! [`STUDY_NEEDS_FIX`]. Once fixed, drop the `KNOWN` entry and un-ignore the
//! test (or unlist the file).

mod common;

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::ops::Range;
use std::panic::{self, AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::{Once, mpsc};
use std::time::Duration;

use common::{Case, check_corpus, corpus_dir, root};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use ztsim::config::study::{self, Input, StudySpec};
use ztsim::config::{Diagnostic, parse_design, parse_topology};
use ztsim::model::Design;
use ztsim::model::design::Security;
use ztsim::model::dist::Dist;
use ztsim::model::sim::simulate;
use ztsim::model::topology::{Arrivals, Topology, Window};

// ---------------------------------------------------------------------------
// Fixed budgets: the same inputs on every run.

/// Mutated topology files.
const TOPOLOGY_CASES: u32 = 1500;
/// Mutated design files; each is checked against chatty and on its own.
const DESIGN_CASES: u32 = 3000;
/// Mutated study files, read from disk and expanded.
const STUDY_FILE_CASES: u32 = 600;
/// Study specs with random parameter paths and values, expanded.
const STUDY_PARAM_CASES: u32 = 1200;

/// Requests per simulated accepted case (no warm-up, one replication).
const SIM_REQUESTS: u64 = 50;
/// A simulation that takes longer than this is reported as a hang.
const SIM_TIMEOUT: Duration = Duration::from_secs(20);

fn runner(cases: u32, seed: u8) -> TestRunner {
    let config = Config {
        cases,
        failure_persistence: None,
        fork: false,
        timeout: 0,
        max_shrink_iters: 0,
        rng_algorithm: RngAlgorithm::ChaCha,
        ..Config::default()
    };
    TestRunner::new_with_rng(
        config,
        TestRng::from_seed(RngAlgorithm::ChaCha, &[seed; 32]),
    )
}

// ---------------------------------------------------------------------------
// Catching panics with their location.

thread_local! {
    static CATCHING: Cell<bool> = const { Cell::new(false) };
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

fn install_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !CATCHING.with(Cell::get) {
                return previous(info);
            }
            let payload = info.payload();
            let msg = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "(non-string panic payload)".into());
            let at = info
                .location()
                .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()))
                .unwrap_or_else(|| "unknown location".into());
            // A panic inside the standard library (an overflowing `sum`,
            // an index) is located by the first frame in ztsim's own code.
            let mut at = at;
            if !at.starts_with("src/") {
                let bt = std::backtrace::Backtrace::force_capture().to_string();
                if let Some(frame) = bt
                    .lines()
                    .filter_map(|l| l.trim().strip_prefix("at "))
                    .map(|l| l.trim_start_matches("./"))
                    .find(|l| l.starts_with("src/"))
                {
                    at = format!("{frame} (in {at})");
                }
            }
            LAST_PANIC.with(|p| *p.borrow_mut() = Some(format!("panicked at {at}: {msg}")));
        }));
    });
}

/// Runs `f`, turning a panic into its message and location.
fn guarded<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    install_hook();
    CATCHING.with(|c| c.set(true));
    let result = catch_unwind(AssertUnwindSafe(f));
    CATCHING.with(|c| c.set(false));
    result.map_err(|_| {
        LAST_PANIC
            .with(|p| p.borrow_mut().take())
            .unwrap_or_else(|| "panicked (no message)".into())
    })
}

// ---------------------------------------------------------------------------
// Problems found, deduplicated by a signature.

/// Problems the fuzzer finds today that need a fix in `src/`: (substrings
/// of the signature, what is wrong). A problem whose signature contains all
/// the substrings of an entry is counted and printed but does not fail the
/// fuzz targets; each has a regression test that is `#[ignore]`d or listed in
/// [`STUDY_NEEDS_FIX`]. Drop the entry once it is fixed.
const KNOWN: &[(&[&str], &str)] = &[];

#[derive(Default)]
struct Findings {
    /// Signature -> (count, first input that showed it, details).
    by_sig: BTreeMap<String, (usize, String, String)>,
}

impl Findings {
    fn add(&mut self, sig: String, details: String, input: &dyn Fn() -> String) {
        let e = self
            .by_sig
            .entry(sig)
            .or_insert_with(|| (0, input(), details));
        e.0 += 1;
    }

    /// Prints everything; fails on problems not in [`KNOWN`].
    fn finish(&self, target: &str) {
        let mut unknown = Vec::new();
        for (sig, (n, input, details)) in &self.by_sig {
            let known = KNOWN
                .iter()
                .find(|(parts, _)| parts.iter().all(|p| sig.contains(p)));
            let text = format!(
                "[{target}] {n} case(s): {sig}\n  {details}\n  first input:\n{}",
                indent(input, "    ")
            );
            match known {
                Some((_, why)) => eprintln!("KNOWN (needs fix: {why}): {text}\n"),
                None => unknown.push(text),
            }
        }
        assert!(
            unknown.is_empty(),
            "{} problem(s) found:\n\n{}",
            unknown.len(),
            unknown.join("\n\n")
        );
    }
}

fn indent(s: &str, pad: &str) -> String {
    s.lines()
        .map(|l| format!("{pad}{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[derive(Default)]
struct Counts {
    tried: usize,
    refused: usize,
    accepted: usize,
    simulated: usize,
    sim_skipped: usize,
}

impl Counts {
    fn print(&self, target: &str, findings: &Findings) {
        let panics: usize = findings
            .by_sig
            .iter()
            .filter(|(sig, _)| sig.contains("panic") || sig.contains("did not finish"))
            .map(|(_, (n, _, _))| n)
            .sum();
        eprintln!(
            "fuzz {target}: {} mutated inputs tried, {} refused with diagnostics, {} accepted ({} simulated, {} skipped as too large or too long to simulate), {}",
            self.tried,
            self.refused,
            self.accepted,
            self.simulated,
            self.sim_skipped,
            if panics == 0 {
                "none panicked or hung".to_string()
            } else {
                format!("{panics} panicked or hung")
            }
        );
    }
}

// ---------------------------------------------------------------------------
// Which diagnostics may come without a line.

/// Where a parsed input came from.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Origin {
    /// `parse_topology` / `parse_design` on text: every diagnostic is about
    /// the text, so every one must have a line.
    File,
    /// `read_study` + `expand` on a study file: a mistake in the study file
    /// must be located in it too.
    StudyFile,
    /// `expand` on a `StudySpec` built in memory (as `--param` flags do):
    /// parameter paths have no file position.
    Params,
}

/// Why `d` may lack a line and column, or None if it must have them.
fn lineless_reason(origin: Origin, d: &Diagnostic) -> Option<&'static str> {
    let m = d.message.as_str();
    if m.starts_with("cannot read the file") {
        return Some("whole-file: the file cannot be read");
    }
    if origin != Origin::File && m.starts_with("with ") {
        // `about_param`: the file was regenerated with a parameter's value,
        // so its line numbers would point at no file the user has.
        return Some("parameter value refused when applied (no file holds the regenerated text)");
    }
    if origin == Origin::Params && (m.starts_with("parameter `") || m.starts_with("--param ")) {
        return Some("parameter given in memory or as a --param flag: no file position");
    }
    None
}

/// Checks every diagnostic of a refused input. `files`: the names a
/// diagnostic may name (the first is the one passed in).
fn check_diags(
    origin: Origin,
    files: &[&str],
    diags: &[Diagnostic],
    findings: &mut Findings,
    input: &dyn Fn() -> String,
    target: &str,
) {
    if diags.is_empty() {
        findings.add(
            format!("{target}: refused with no diagnostic"),
            String::new(),
            input,
        );
    }
    for d in diags {
        let shown = d.to_string();
        if d.message.trim().is_empty() {
            findings.add(format!("{target}: empty message"), shown.clone(), input);
        }
        if d.file.trim().is_empty() {
            findings.add(format!("{target}: no file name"), shown.clone(), input);
        } else if !(files.iter().any(|f| d.file == *f)
            // A topology's recorded arrivals are an input file of it.
            || d.file.ends_with(".arrivals.csv")
            // Parameters given in memory stand for `--param` flags.
            || origin == Origin::Params && d.file == "command line")
        {
            findings.add(
                format!(
                    "{target}: diagnostic names file {:?}, not an input file: {}",
                    d.file,
                    shape(&d.message)
                ),
                shown.clone(),
                input,
            );
        }
        if (d.line.is_none() || d.column.is_none()) && lineless_reason(origin, d).is_none() {
            findings.add(
                format!("{target}: no line/column: {}", shape(&d.message)),
                format!(
                    "{shown}   [file {:?}, line {:?}, column {:?}, key {:?}]",
                    d.file,
                    d.line,
                    d.column,
                    d.key.as_ref().map(|k| k.to_string())
                ),
                input,
            );
        }
    }
}

/// A message with quoted and numeric parts blanked, so one kind of
/// diagnostic gets one signature.
fn shape(msg: &str) -> String {
    let mut out = String::new();
    let mut in_tick = false;
    for c in msg.chars() {
        match c {
            '`' => {
                in_tick = !in_tick;
                if in_tick {
                    out.push_str("`_`");
                }
            }
            _ if in_tick => {}
            c if c.is_ascii_digit() => {
                if !out.ends_with('#') {
                    out.push('#');
                }
            }
            c => out.push(c),
        }
    }
    out.chars().take(90).collect()
}

// ---------------------------------------------------------------------------
// Running accepted models.

/// The largest models simulated; bigger ones are counted as skipped. The
/// engine allocates per replica, per user and per node proxy, and a call
/// graph's expected calls multiply every request's events.
const MAX_UNITS: u64 = 5_000;
const MAX_CALLS_PER_REQUEST: f64 = 3_000.0;
const MAX_RETRIES: u32 = 20;
/// Time scales beyond which a model is not simulated (see also
/// [`MIN_RENEWAL_NS`]): any one duration that
/// moves the clock (a CPU demand, an RTT, an interarrival time, a timeout),
/// the whole run's span, and TTLs (scheduled ahead). Durations near
/// u64::MAX overflow the engine's arithmetic (the ignored
/// `engine_survives_extreme_validated_values` below), and a clock that runs
/// far ahead makes the time series allocate one bucket per second of it, an
/// allocation failure that aborts the whole test binary. Both are known;
/// the fuzz targets keep clear of them so they can look for anything else.
const MAX_STEP_NS: f64 = 1e12;
const MAX_SPAN_NS: f64 = 1e14;
const MAX_TTL_NS: f64 = 1e15;
const MAX_RATE: f64 = 1e6;
/// Shortest certificate renewal interval simulated: below it the engine
/// spends seconds per case counting renewals (the ignored
/// `tiny_certificate_renewal_intervals_finish`).
const MIN_RENEWAL_NS: f64 = 1e6;

/// A value a distribution will hardly exceed.
fn dist_max(d: &Dist) -> f64 {
    match d {
        Dist::Constant(v) => *v as f64,
        Dist::Exponential { mean } => mean * 40.0,
        Dist::LogNormal { mu, sigma } => (mu + 6.0 * sigma).exp(),
        Dist::Uniform { high, .. } => *high as f64,
        Dist::Histogram { edges, .. } => edges.last().copied().unwrap_or(0) as f64,
        Dist::Empirical { values } => values.iter().max().copied().unwrap_or(0) as f64,
    }
}

/// Whether the model's time scales stay within the bounds above.
fn time_scales_ok(t: &Topology, d: &Design, calls: f64) -> bool {
    let mut steps: Vec<f64> = Vec::new();
    steps.extend(t.network.rtt.iter().map(dist_max));
    steps.push(dist_max(&t.network.same_host));
    steps.extend(t.endpoints.iter().map(|e| dist_max(&e.cpu)));
    for c in &t.calls {
        steps.push(c.timeout.unwrap_or(0) as f64);
        steps.push(c.backoff as f64 * 2f64.powi(c.retries.min(32) as i32));
    }
    steps.push(t.workload.timeout.unwrap_or(0) as f64);
    let arrival = match &t.workload.arrivals {
        // Past a million requests a second the gaps round to zero and the
        // run ends only when the engine's cap on calls in flight trips:
        // seconds of work for one case.
        Arrivals::Poisson { rate } | Arrivals::Constant { rate } if *rate > MAX_RATE => {
            return false;
        }
        Arrivals::Poisson { rate } | Arrivals::Constant { rate } => 40.0 * 1e9 / rate,
        // A profile may be near zero for long stretches: not a quick case.
        Arrivals::Profile { .. } => return false,
        Arrivals::Closed { think, .. } => dist_max(think),
        Arrivals::Replay { times, .. } => {
            times.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0) as f64
        }
    };
    steps.push(arrival);
    let bytes = t
        .endpoints
        .iter()
        .map(|e| e.request_bytes as f64 + e.response_bytes as f64)
        .fold(0.0, f64::max);
    let per_byte = d.transport.bulk_ns_per_byte
        + d.proxy.cost.ns_per_byte
        + d.proxy
            .waypoint
            .as_ref()
            .map_or(0.0, |w| w.cost.ns_per_byte)
        + t.network.bandwidth.map_or(0.0, |bw| 1e9 / bw);
    steps.push(bytes * per_byte);
    let hs = &d.transport.cpu;
    steps.push(
        [
            hs.client_full,
            hs.server_full,
            hs.client_resumed,
            hs.server_resumed,
            hs.mtls_client,
            hs.mtls_server,
            hs.hello_retry,
        ]
        .iter()
        .map(|&v| v as f64)
        .sum(),
    );
    steps.push(dist_max(&d.proxy.cost.request_cpu));
    if let Some(w) = &d.proxy.waypoint {
        steps.push(dist_max(&w.cost.request_cpu));
    }
    steps.push(d.authn.verify_cpu as f64);
    steps.push(dist_max(&d.authz.eval_cpu));
    let step = steps.iter().copied().fold(0.0, f64::max);
    let span = SIM_REQUESTS as f64 * (arrival + (calls + 1.0) * 8.0 * step);
    let ttls = [
        d.identity.cert_ttl,
        d.identity.token.as_ref().map_or(0, |k| k.ttl),
        d.resumption.ticket_ttl,
        d.connections.idle_timeout,
        d.connections.max_lifetime.unwrap_or(0),
        d.authn.cache_ttl,
        d.authz.cache_ttl,
    ];
    // Certificate renewals: one event (or, when they close nothing, one
    // turn of a counting loop) per peer per renewal interval.
    let renewal =
        d.identity.cert_ttl as f64 * d.identity.renew_ratio * (1.0 - d.identity.renew_jitter);
    let renewals_ok = d.transport.security == Security::Plaintext || renewal >= MIN_RENEWAL_NS;
    renewals_ok
        && step.is_finite()
        && step <= MAX_STEP_NS
        && span <= MAX_SPAN_NS
        && ttls.iter().all(|&v| v as f64 <= MAX_TTL_NS)
}

/// `topo` cut down to a short run, or None if it is too large to run fast.
fn short_run(topo: &Topology, design: &Design) -> Option<Topology> {
    let mut t = topo.clone();
    t.workload.window = Window::Requests(SIM_REQUESTS);
    t.workload.warmup = 0;
    t.workload.replications = 1;
    let replicas: u64 = t.services.iter().map(|s| u64::from(s.replicas)).sum();
    let users = match t.workload.arrivals {
        Arrivals::Closed { users, .. } => u64::from(users),
        _ => 0,
    };
    let nodes = u64::from(design.proxy.nodes_per_zone) * t.zones.len() as u64;
    let waypoints = design
        .proxy
        .waypoint
        .as_ref()
        .map_or(0, |w| u64::from(w.replicas));
    let calls: f64 = t.visits().iter().sum();
    let retries = t.calls.iter().map(|c| c.retries).max().unwrap_or(0);
    let small = replicas <= MAX_UNITS
        && users <= MAX_UNITS
        && nodes <= MAX_UNITS
        && waypoints <= MAX_UNITS
        && calls <= MAX_CALLS_PER_REQUEST
        && retries <= MAX_RETRIES
        && time_scales_ok(&t, design, calls);
    small.then_some(t)
}

/// Simulates in a thread of its own so a hang is reported, not waited for.
fn simulate_guarded(topo: Topology, design: Design) -> Result<(), String> {
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("fuzz-sim".into())
        .spawn(move || {
            let r = guarded(|| {
                let m = simulate(&topo, &design, 0);
                std::hint::black_box(&m);
            });
            let _ = tx.send(r);
        })
        .expect("spawn a simulation thread");
    match rx.recv_timeout(SIM_TIMEOUT) {
        Ok(r) => r,
        Err(_) => Err(format!(
            "the simulation did not finish within {SIM_TIMEOUT:?} (a hang, or a loop as long as one)"
        )),
    }
}

fn run_accepted(
    topo: &Topology,
    design: &Design,
    counts: &mut Counts,
    findings: &mut Findings,
    input: &dyn Fn() -> String,
    target: &str,
) {
    match short_run(topo, design) {
        None => counts.sim_skipped += 1,
        Some(t) => {
            counts.simulated += 1;
            let started = std::time::Instant::now();
            let r = simulate_guarded(t, design.clone());
            if std::env::var("FUZZ_TIMING").is_ok()
                && started.elapsed() > Duration::from_millis(200)
            {
                eprintln!("SLOW {:?}\n{}", started.elapsed(), input());
            }
            if let Err(e) = r {
                findings.add(
                    format!("{target}: ENGINE on a validated model: {}", panic_sig(&e)),
                    e,
                    input,
                );
            }
        }
    }
}

/// A panic's location ("panicked at src/x.rs:1:2: msg" -> "src/x.rs:1:2: msg"
/// with numbers in the message blanked).
fn panic_sig(e: &str) -> String {
    match e.strip_prefix("panicked at ") {
        Some(rest) => match rest.split_once(": ") {
            Some((at, msg)) => format!("panic at {at}: {}", shape(msg)),
            None => rest.to_string(),
        },
        None => shape(e),
    }
}

// ---------------------------------------------------------------------------
// Mutations.

/// One edit to a key's name.
#[derive(Debug, Clone)]
enum Edit {
    Delete(usize),
    Insert(usize, char),
    Replace(usize, char),
    Swap(usize),
    Case,
}

#[derive(Debug, Clone)]
enum Mutation {
    DeleteLine(usize),
    DuplicateLine(usize),
    SwapLines(usize, usize),
    DeleteChar(usize),
    InsertChar(usize, char),
    /// The i-th `key = value` in the text gets a new value (as written).
    ReplaceText(usize, String),
    /// The i-th `key =` in the text is renamed.
    TypoText(usize, Edit),
    /// The i-th node of the parsed document gets a new value.
    ReplaceNode(usize, String),
    /// The i-th key of the parsed document is renamed.
    RenameKey(usize, Edit),
    /// The i-th key of the parsed document is removed.
    RemoveKey(usize),
    /// The i-th top-level key (a required table, often) is removed.
    RemoveTop(usize),
    /// A key is added to the i-th table of the parsed document.
    AddKey(usize, String, String),
}

/// TOML values of every type, chosen to sit on the validator's edges.
const SNIPPETS: &[&str] = &[
    r#""""#,
    r#"" ""#,
    r#""nan""#,
    r#""inf""#,
    r#""-inf""#,
    r#""1e30s""#,
    r#""-5ms""#,
    r#""99999999999999h""#,
    r#""18446744073709551615ns""#,
    r#""18446744073709551616ns""#,
    r#""5000000h""#,
    r#""5124095h""#,
    r#""0ms""#,
    r#""0s""#,
    r#""0""#,
    r#""5""#,
    r#""1.5""#,
    r#""1ns""#,
    r#""0.0000001ns""#,
    r#""1.5.5ms""#,
    r#""ms""#,
    r#""5 ms""#,
    r#""5MS""#,
    r#""1KiB""#,
    r#""-1B""#,
    r#""18446744073709551615B""#,
    r#""99999999TiB""#,
    r#""poisson""#,
    r#""closed""#,
    r#""constant""#,
    r#""1.2""#,
    r#""1.3""#,
    r#""x""#,
    r#""a.b""#,
    r#"".""#,
    r#""policy.check""#,
    r#""identity.issue""#,
    r#""gateway.page""#,
    r#""az1""#,
    r#""é""#,
    r#""\u0000""#,
    r#""mtls""#,
    r#""node""#,
    r#""sidecar""#,
    r#""remote""#,
    r#""per-request""#,
    "0",
    "1",
    "-1",
    "2",
    "-5",
    "3",
    "100",
    "4294967295",
    "4294967296",
    "9223372036854775807",
    "-9223372036854775808",
    "65535",
    "65536",
    "10000",
    "10001",
    "0.0",
    "-0.0",
    "0.5",
    "1.0",
    "1.5",
    "-1.0",
    "1e308",
    "-1e308",
    "5e-324",
    "1e-300",
    "nan",
    "inf",
    "-inf",
    "1.2",
    "1.3",
    "true",
    "false",
    "[]",
    "[1]",
    "[0]",
    "[-1]",
    r#"["1ms"]"#,
    r#"["az1", "az1"]"#,
    "[[]]",
    "[{}]",
    r#"[1, "a"]"#,
    r#"[{ call = "db.query" }]"#,
    r#"[{ endpoint = "gateway.page", weight = 0 }]"#,
    "{}",
    "{ a = 1 }",
    r#"{ dist = "exponential", mean = "0ms" }"#,
    r#"{ dist = "exponential", mean = "5000000h" }"#,
    r#"{ dist = "lognormal", mean = "1ms" }"#,
    r#"{ dist = "lognormal", median = "1ns", p99 = "5000000h" }"#,
    r#"{ dist = "lognormal", mean = "1ns", sd = "5000000h" }"#,
    r#"{ dist = "lognormal", mean = "5000000h", sd = "5000000h" }"#,
    r#"{ dist = "uniform", min = "0ns", max = "18446744073709551615ns" }"#,
    r#"{ dist = "uniform", min = "2ms", max = "1ms" }"#,
    r#"{ dist = "histogram", edges = ["0ms", "1ms"], counts = [1e308, 1e308] }"#,
    r#"{ dist = "histogram", edges = ["0ms", "1ms", "1ms"], counts = [1, 1] }"#,
    r#"{ dist = "histogram", edges = ["0ms", "5000000h"], counts = [0.0] }"#,
    r#"{ dist = "empirical", values = [] }"#,
    r#"{ dist = "empirical", values = ["18446744073709551615ns"] }"#,
    r#"{ dist = "constant", value = "5000000h" }"#,
    r#"{ dist = "nope" }"#,
    "1979-05-27T07:32:00Z",
    "1979-05-27",
    "07:32:00",
];

const UNITS: &[&str] = &[
    "ns", "us", "µs", "ms", "s", "m", "h", "B", "KiB", "MB", "x", "",
];

/// A random value as TOML text.
fn snippet() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => prop::sample::select(SNIPPETS).prop_map(str::to_string),
        1 => any::<i64>().prop_map(|i| i.to_string()),
        1 => any::<f64>().prop_map(|f| toml::Value::Float(f).to_string()),
        2 => (
            prop_oneof![0u64..10, 0u64..100_000, Just(u64::MAX), any::<u64>()],
            prop::option::of(0u32..1000),
            prop::sample::select(UNITS),
        )
            .prop_map(|(n, frac, unit)| match frac {
                Some(f) => format!("\"{n}.{f}{unit}\""),
                None => format!("\"{n}{unit}\""),
            }),
        1 => "[a-z0-9 ._\\-]{0,10}".prop_map(|s| toml::Value::String(s).to_string()),
    ]
}

/// Keys the files know (so an added key is often valid where it lands and
/// its value is what gets checked), and random ones.
const KEY_NAMES: &[&str] = &[
    "timeout",
    "retries",
    "backoff",
    "times",
    "parallel",
    "probability",
    "concurrency",
    "balance",
    "replicas",
    "cores",
    "zone",
    "zones",
    "users",
    "think",
    "requests",
    "duration",
    "warmup",
    "rate",
    "arrivals",
    "seed",
    "replications",
    "client_zone",
    "weight",
    "links",
    "bandwidth_gbps",
    "same_host",
    "rtt",
    "cpu",
    "request_size",
    "response_size",
    "stages",
    "security",
    "scope",
    "terminate",
    "tls_version",
    "key_exchange",
    "hello_retry_rate",
    "certificate",
    "chain_length",
    "bulk_gb_per_s",
    "reuse",
    "max_per_destination",
    "max_concurrent_streams",
    "idle_timeout",
    "max_lifetime",
    "tcp_fast_open",
    "prewarm",
    "tickets",
    "ticket_ttl",
    "early_data",
    "cache",
    "cert_ttl",
    "renew_ratio",
    "renew_jitter",
    "rotation_closes_connections",
    "token_ttl",
    "token_issuer",
    "mode",
    "request_cpu",
    "cpu_per_kib",
    "shares_service_cores",
    "nodes_per_zone",
    "waypoint",
    "jwt",
    "verify_cpu",
    "cache_ttl",
    "eval_cpu",
    "sidecar_cores",
    "policy",
    "name",
    "title",
    "topology",
    "designs",
    "rates",
    "focus_rate",
    "blend_entries",
    "params",
    "dist",
    "mean",
    "median",
    "p99",
    "sd",
    "min",
    "max",
    "edges",
    "counts",
    "values",
    "value",
];

fn key_name() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(KEY_NAMES).prop_map(str::to_string),
        1 => "[a-z_]{1,12}",
    ]
}

fn key_char() -> impl Strategy<Value = char> {
    prop_oneof![
        8 => prop::char::range('a', 'z'),
        1 => prop::sample::select(vec!['_', '-', '.', ' ', 'é', '0', 'A']),
    ]
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        any::<usize>().prop_map(Edit::Delete),
        (any::<usize>(), key_char()).prop_map(|(i, c)| Edit::Insert(i, c)),
        (any::<usize>(), key_char()).prop_map(|(i, c)| Edit::Replace(i, c)),
        any::<usize>().prop_map(Edit::Swap),
        Just(Edit::Case),
    ]
}

fn any_char() -> impl Strategy<Value = char> {
    prop_oneof![
        3 => prop::sample::select(vec![
            '[', ']', '{', '}', '"', '\'', '=', ',', '.', '#', '\n', '\\', ' ', '\t', '0', '9',
            '-', '+', 'e', '\0', 'é', '\u{feff}', '\r',
        ]),
        1 => any::<char>(),
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        2 => any::<usize>().prop_map(Mutation::DeleteLine),
        1 => any::<usize>().prop_map(Mutation::DuplicateLine),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        2 => any::<usize>().prop_map(Mutation::DeleteChar),
        2 => (any::<usize>(), any_char()).prop_map(|(i, c)| Mutation::InsertChar(i, c)),
        6 => (any::<usize>(), snippet()).prop_map(|(i, s)| Mutation::ReplaceText(i, s)),
        3 => (any::<usize>(), edit()).prop_map(|(i, e)| Mutation::TypoText(i, e)),
        5 => (any::<usize>(), snippet()).prop_map(|(i, s)| Mutation::ReplaceNode(i, s)),
        2 => (any::<usize>(), edit()).prop_map(|(i, e)| Mutation::RenameKey(i, e)),
        2 => any::<usize>().prop_map(Mutation::RemoveKey),
        1 => any::<usize>().prop_map(Mutation::RemoveTop),
        2 => (any::<usize>(), key_name(), snippet())
            .prop_map(|(i, k, s)| Mutation::AddKey(i, k, s)),
    ]
}

fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    prop::collection::vec(mutation(), 1..=3)
}

fn apply_edit(name: &str, e: &Edit) -> String {
    let mut cs: Vec<char> = name.chars().collect();
    let n = cs.len();
    match *e {
        Edit::Delete(i) if n > 0 => {
            cs.remove(i % n);
        }
        Edit::Insert(i, c) => cs.insert(i % (n + 1), c),
        Edit::Replace(i, c) if n > 0 => cs[i % n] = c,
        Edit::Swap(i) if n > 1 => cs.swap(i % (n - 1), i % (n - 1) + 1),
        Edit::Case => {
            if let Some(c) = cs.first_mut() {
                *c = if c.is_lowercase() {
                    c.to_ascii_uppercase()
                } else {
                    c.to_ascii_lowercase()
                };
            }
        }
        _ => cs.push('x'),
    }
    cs.into_iter().collect()
}

/// Spans of `key = value` pairs in the text (keys and values as written),
/// found by a light scan that knows strings and comments.
fn assignments(text: &str) -> Vec<(Range<usize>, Range<usize>)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' | b'\'' => i = skip_string(b, i),
            b'=' => {
                // The key: back over spaces, then over key characters.
                let mut ke = i;
                while ke > 0 && b[ke - 1] == b' ' {
                    ke -= 1;
                }
                let mut ks = ke;
                while ks > 0 && (b[ks - 1].is_ascii_alphanumeric() || b"_-.\"".contains(&b[ks - 1]))
                {
                    ks -= 1;
                }
                let mut vs = i + 1;
                while vs < b.len() && b[vs] == b' ' {
                    vs += 1;
                }
                let ve = value_end(b, vs);
                if ks < ke && vs < ve {
                    out.push((ks..ke, vs..ve));
                }
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// Index of the closing quote of the string starting at `i` (or the end).
fn skip_string(b: &[u8], i: usize) -> usize {
    let q = b[i];
    let mut j = i + 1;
    while j < b.len() && b[j] != q && b[j] != b'\n' {
        if q == b'"' && b[j] == b'\\' {
            j += 1;
        }
        j += 1;
    }
    j.min(b.len().saturating_sub(1))
}

fn value_end(b: &[u8], vs: usize) -> usize {
    if vs >= b.len() {
        return vs;
    }
    match b[vs] {
        b'"' | b'\'' => (skip_string(b, vs) + 1).min(b.len()),
        b'[' | b'{' => {
            let mut depth = 0i32;
            let mut j = vs;
            while j < b.len() {
                match b[j] {
                    b'"' | b'\'' => j = skip_string(b, j),
                    b'#' => {
                        while j < b.len() && b[j] != b'\n' {
                            j += 1;
                        }
                        continue;
                    }
                    b'[' | b'{' => depth += 1,
                    b']' | b'}' => {
                        depth -= 1;
                        if depth == 0 {
                            return j + 1;
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            b.len()
        }
        _ => {
            let mut j = vs;
            while j < b.len() && !b",}]\n#".contains(&b[j]) {
                j += 1;
            }
            while j > vs && b[j - 1] == b' ' {
                j -= 1;
            }
            j
        }
    }
}

/// A step into a parsed document.
#[derive(Debug, Clone)]
enum Seg {
    K(String),
    I(usize),
}

fn all_nodes(v: &toml::Value, path: &mut Vec<Seg>, out: &mut Vec<Vec<Seg>>) {
    match v {
        toml::Value::Table(t) => {
            for (k, c) in t {
                path.push(Seg::K(k.clone()));
                out.push(path.clone());
                all_nodes(c, path, out);
                path.pop();
            }
        }
        toml::Value::Array(a) => {
            for (i, c) in a.iter().enumerate() {
                path.push(Seg::I(i));
                out.push(path.clone());
                all_nodes(c, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

fn node_mut<'a>(v: &'a mut toml::Value, path: &[Seg]) -> Option<&'a mut toml::Value> {
    let mut v = v;
    for s in path {
        v = match (s, v) {
            (Seg::K(k), toml::Value::Table(t)) => t.get_mut(k)?,
            (Seg::I(i), toml::Value::Array(a)) => a.get_mut(*i)?,
            _ => return None,
        };
    }
    Some(v)
}

fn value_of(snippet: &str) -> Option<toml::Value> {
    toml::from_str::<toml::Table>(&format!("v = {snippet}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
}

/// Applies a tree mutation; None if the text is not TOML (any more) or the
/// mutation does not apply.
fn tree_mutation(text: &str, m: &Mutation) -> Option<String> {
    let table: toml::Table = toml::from_str(text).ok()?;
    let mut doc = toml::Value::Table(table);
    let mut nodes = Vec::new();
    all_nodes(&doc, &mut Vec::new(), &mut nodes);
    let keyed: Vec<&Vec<Seg>> = nodes
        .iter()
        .filter(|p| matches!(p.last(), Some(Seg::K(_))))
        .collect();
    match m {
        Mutation::ReplaceNode(i, s) => {
            let path = nodes.get(i % nodes.len().max(1))?.clone();
            *node_mut(&mut doc, &path)? = value_of(s)?;
        }
        Mutation::RenameKey(i, e) | Mutation::TypoText(i, e) => {
            let path = (*keyed.get(i % keyed.len().max(1))?).clone();
            let (Some(Seg::K(k)), parent) = (path.last(), &path[..path.len() - 1]) else {
                return None;
            };
            let toml::Value::Table(t) = node_mut(&mut doc, parent)? else {
                return None;
            };
            let v = t.remove(k)?;
            t.insert(apply_edit(k, e), v);
        }
        Mutation::RemoveKey(i) => {
            let path = (*keyed.get(i % keyed.len().max(1))?).clone();
            let (Some(Seg::K(k)), parent) = (path.last(), &path[..path.len() - 1]) else {
                return None;
            };
            let toml::Value::Table(t) = node_mut(&mut doc, parent)? else {
                return None;
            };
            t.remove(k)?;
        }
        Mutation::RemoveTop(i) => {
            let toml::Value::Table(t) = &mut doc else {
                return None;
            };
            let k = t.keys().nth(i % t.len().max(1))?.clone();
            t.remove(&k);
        }
        Mutation::AddKey(i, k, s) => {
            let mut tables: Vec<Vec<Seg>> = vec![Vec::new()];
            tables.extend(
                nodes
                    .iter()
                    .filter(|p| {
                        matches!(node_mut(&mut doc.clone(), p), Some(toml::Value::Table(_)))
                    })
                    .cloned(),
            );
            let path = tables[i % tables.len()].clone();
            let toml::Value::Table(t) = node_mut(&mut doc, &path)? else {
                return None;
            };
            t.insert(k.clone(), value_of(s)?);
        }
        _ => return None,
    }
    let toml::Value::Table(t) = doc else {
        return None;
    };
    toml::to_string(&t).ok()
}

fn floor_char(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Applies one mutation to `text`; mutations that do not apply leave it as is.
fn apply(text: &str, m: &Mutation) -> String {
    let mut lines: Vec<&str> = text.split_inclusive('\n').collect();
    let n = lines.len();
    match m {
        Mutation::DeleteLine(i) if n > 0 => {
            lines.remove(i % n);
            lines.concat()
        }
        Mutation::DuplicateLine(i) if n > 0 => {
            let l = lines[i % n];
            lines.insert(i % n, l);
            let mut s = lines.concat();
            if !l.ends_with('\n') {
                s.insert(floor_char(&s, s.len() - l.len()), '\n');
            }
            s
        }
        Mutation::SwapLines(a, b) if n > 0 => {
            let mut owned: Vec<String> = lines
                .iter()
                .map(|l| l.trim_end_matches('\n').to_string())
                .collect();
            owned.swap(a % n, b % n);
            owned.join("\n") + "\n"
        }
        Mutation::DeleteChar(i) if !text.is_empty() => {
            let at = floor_char(text, i % text.len());
            let mut s = text.to_string();
            s.remove(at);
            s
        }
        Mutation::InsertChar(i, c) => {
            let at = floor_char(text, i % (text.len() + 1));
            let mut s = text.to_string();
            s.insert(at, *c);
            s
        }
        Mutation::ReplaceText(i, v) => {
            let pairs = assignments(text);
            match pairs.get(i % pairs.len().max(1)) {
                Some((_, vr)) => format!("{}{v}{}", &text[..vr.start], &text[vr.end..]),
                None => text.to_string(),
            }
        }
        Mutation::TypoText(i, e) => {
            let pairs = assignments(text);
            match pairs.get(i % pairs.len().max(1)) {
                Some((kr, _)) => format!(
                    "{}{}{}",
                    &text[..kr.start],
                    apply_edit(&text[kr.clone()], e),
                    &text[kr.end..]
                ),
                None => tree_mutation(text, m).unwrap_or_else(|| text.to_string()),
            }
        }
        _ => tree_mutation(text, m).unwrap_or_else(|| text.to_string()),
    }
}

fn mutate(base: &str, ms: &[Mutation]) -> String {
    ms.iter().fold(base.to_string(), |t, m| apply(&t, m))
}

/// The mutated text shown as its differences from the base, for reports.
/// Tree mutations rewrite the whole file, so they are compared with the base
/// rewritten the same way.
fn show_input(name: &str, base: &str, ms: &[Mutation], text: &str) -> String {
    let mut best = diff(base, text);
    if let Some(canon) = toml::from_str::<toml::Table>(base)
        .ok()
        .and_then(|t| toml::to_string(&t).ok())
    {
        let d = diff(&canon, text);
        if d.1 < best.1 {
            best = d;
        }
    }
    format!("{name} with mutations {ms:?}\n{}", best.0)
}

/// Changed lines of `b` against `a` (one block, common head and tail
/// trimmed), and how many lines it spans.
fn diff(a: &str, b: &str) -> (String, usize) {
    let a: Vec<&str> = a.lines().collect();
    let b: Vec<&str> = b.lines().collect();
    let mut lo = 0;
    while lo < a.len() && lo < b.len() && a[lo] == b[lo] {
        lo += 1;
    }
    let (mut ea, mut eb) = (a.len(), b.len());
    while ea > lo && eb > lo && a[ea - 1] == b[eb - 1] {
        ea -= 1;
        eb -= 1;
    }
    let span = (ea - lo) + (eb - lo);
    let mut s = String::new();
    for l in a[lo..ea].iter().take(30) {
        s.push_str(&format!("- {l}\n"));
    }
    for (j, l) in b[lo..eb].iter().enumerate().take(30) {
        s.push_str(&format!("+ {:>4} {l}\n", lo + j + 1));
    }
    if span > 60 {
        s.push_str("  (diff cut at 30 lines each side)\n");
    }
    (s, span)
}

// ---------------------------------------------------------------------------
// Base files.

struct Base {
    name: String,
    text: String,
}

fn bases(dir: &str, skip_studies: bool) -> Vec<Base> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .filter(|p| !(skip_studies && p.to_string_lossy().ends_with(".study.toml")))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| Base {
            name: format!("{dir}/{}", p.file_name().unwrap().to_string_lossy()),
            text: std::fs::read_to_string(&p).unwrap(),
        })
        .collect()
}

fn chatty() -> Topology {
    let text = std::fs::read_to_string(root().join("topologies/chatty.toml")).unwrap();
    parse_topology("topologies/chatty.toml", &text).unwrap()
}

// ---------------------------------------------------------------------------
// Fuzz targets.

#[test]
fn mutated_topologies_are_refused_with_located_errors_or_run() {
    let topos = bases("topologies", true);
    let designs = bases("models", false);
    assert!(topos.len() >= 3 && designs.len() >= 5);
    for b in &topos {
        parse_topology(&b.name, &b.text).unwrap_or_else(|d| panic!("{}: {d:?}", b.name));
    }
    let counts = RefCell::new(Counts::default());
    let findings = RefCell::new(Findings::default());
    let strategy = (0..topos.len(), 0..designs.len(), mutations());
    runner(TOPOLOGY_CASES, 1)
        .run(&strategy, |(bi, di, ms)| {
            let (mut counts, mut findings) = (counts.borrow_mut(), findings.borrow_mut());
            let base = &topos[bi];
            let text = mutate(&base.text, &ms);
            let input = || show_input(&base.name, &base.text, &ms, &text);
            counts.tried += 1;
            match guarded(|| parse_topology(&base.name, &text)) {
                Err(p) => findings.add(format!("topology: {}", panic_sig(&p)), p, &input),
                Ok(Err(diags)) => {
                    counts.refused += 1;
                    check_diags(
                        Origin::File,
                        &[&base.name],
                        &diags,
                        &mut findings,
                        &input,
                        "topology",
                    );
                }
                Ok(Ok(topo)) => {
                    counts.accepted += 1;
                    // A design that may call `policy`/`identity`; plaintext
                    // if the mutation removed what it needs.
                    let d = &designs[di];
                    let design = match guarded(|| parse_design(&d.name, &d.text, Some(&topo))) {
                        Ok(Ok(design)) => design,
                        Ok(Err(_)) => Design::plaintext(),
                        Err(p) => {
                            findings.add(
                                format!("design on mutated topology: {}", panic_sig(&p)),
                                p,
                                &input,
                            );
                            Design::plaintext()
                        }
                    };
                    run_accepted(
                        &topo,
                        &design,
                        &mut counts,
                        &mut findings,
                        &input,
                        "topology",
                    );
                }
            }
            Ok(())
        })
        .unwrap();
    let (counts, findings) = (counts.into_inner(), findings.into_inner());
    counts.print("topologies", &findings);
    assert_eq!(counts.tried, TOPOLOGY_CASES as usize);
    findings.finish("topologies");
}

#[test]
fn mutated_designs_are_refused_with_located_errors_or_run() {
    let designs = bases("models", false);
    let topo = chatty();
    for b in &designs {
        parse_design(&b.name, &b.text, Some(&topo)).unwrap_or_else(|d| panic!("{}: {d:?}", b.name));
    }
    let counts = RefCell::new(Counts::default());
    let findings = RefCell::new(Findings::default());
    let strategy = (0..designs.len(), mutations());
    runner(DESIGN_CASES, 2)
        .run(&strategy, |(bi, ms)| {
            let (mut counts, mut findings) = (counts.borrow_mut(), findings.borrow_mut());
            let base = &designs[bi];
            let text = mutate(&base.text, &ms);
            let input = || show_input(&base.name, &base.text, &ms, &text);
            counts.tried += 1;
            // On its own (as `ztsim validate` does without a topology).
            match guarded(|| parse_design(&base.name, &text, None)) {
                Err(p) => findings.add(format!("design alone: {}", panic_sig(&p)), p, &input),
                Ok(Err(diags)) => check_diags(
                    Origin::File,
                    &[&base.name],
                    &diags,
                    &mut findings,
                    &input,
                    "design alone",
                ),
                Ok(Ok(_)) => {}
            }
            match guarded(|| parse_design(&base.name, &text, Some(&topo))) {
                Err(p) => findings.add(format!("design: {}", panic_sig(&p)), p, &input),
                Ok(Err(diags)) => {
                    counts.refused += 1;
                    check_diags(
                        Origin::File,
                        &[&base.name],
                        &diags,
                        &mut findings,
                        &input,
                        "design",
                    );
                }
                Ok(Ok(design)) => {
                    counts.accepted += 1;
                    run_accepted(&topo, &design, &mut counts, &mut findings, &input, "design");
                }
            }
            Ok(())
        })
        .unwrap();
    let (counts, findings) = (counts.into_inner(), findings.into_inner());
    counts.print("designs", &findings);
    assert_eq!(counts.tried, DESIGN_CASES as usize);
    findings.finish("designs");
}

/// A copy of `topologies/` and `models/` in a fresh folder, so mutated study
/// files can sit beside the files they name.
fn sandbox(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ztsim-fuzz-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for sub in ["topologies", "models"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
        for e in std::fs::read_dir(root().join(sub)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|e| e == "toml") {
                std::fs::copy(&p, dir.join(sub).join(p.file_name().unwrap())).unwrap();
            }
        }
    }
    dir
}

/// A small study with parameters of both kinds, beside the topologies.
const PARAM_STUDY: &str = r#"name = "fuzz"
title = "A small study with parameters"
topology = "minimal.toml"
designs = ["../models/plaintext.toml", "../models/istio-sidecar.toml", "../models/grpc-mtls-local-policy.toml"]
rates = [100, 200]
focus_rate = 100
replications = 2
seed = 7
duration = "1s"
warmup = "100ms"

[params]
"resumption.ticket_ttl" = ["1m", "5m"]
"services.db.replicas" = [1, 2]
"#;

fn check_study(spec: &StudySpec, study: &study::Study) -> Result<(), String> {
    // The invariants the sweep relies on.
    if study.points.is_empty() {
        return Err("accepted with no points".into());
    }
    if study.replications == 0 {
        return Err("accepted with zero replications".into());
    }
    let _ = spec;
    Ok(())
}

#[test]
fn mutated_study_files_are_refused_with_located_errors_or_run() {
    let dir = sandbox("studies");
    let studies = [
        Base {
            name: "chatty.study.toml".into(),
            text: std::fs::read_to_string(root().join("topologies/chatty.study.toml")).unwrap(),
        },
        Base {
            name: "params.study.toml".into(),
            text: PARAM_STUDY.into(),
        },
    ];
    // Every file a diagnostic may name.
    let mut known_files: Vec<String> = Vec::new();
    for sub in ["topologies", "models"] {
        for e in std::fs::read_dir(dir.join(sub)).unwrap() {
            known_files.push(e.unwrap().path().display().to_string());
        }
    }
    for b in &studies {
        let path = dir.join("topologies").join(&b.name);
        std::fs::write(&path, &b.text).unwrap();
        let spec = study::read_study(&path).unwrap_or_else(|d| panic!("{}: {d:?}", b.name));
        study::expand(&spec).unwrap_or_else(|d| panic!("{}: {d:?}", b.name));
    }
    let counts = RefCell::new(Counts::default());
    let findings = RefCell::new(Findings::default());
    let path = dir.join("topologies/case.study.toml");
    let strategy = (0..studies.len(), mutations(), any::<prop::sample::Index>());
    runner(STUDY_FILE_CASES, 3)
        .run(&strategy, |(bi, ms, pick)| {
            let (mut counts, mut findings) = (counts.borrow_mut(), findings.borrow_mut());
            let base = &studies[bi];
            let text = mutate(&base.text, &ms);
            let input = || show_input(&base.name, &base.text, &ms, &text);
            std::fs::write(&path, &text).unwrap();
            counts.tried += 1;
            let study_file = path.display().to_string();
            let outcome = guarded(|| {
                let spec = study::read_study(&path)?;
                let study = study::expand(&spec)?;
                Ok::<_, Vec<Diagnostic>>((spec, study))
            });
            // Files the study names, resolved as read_study does.
            let mut files: Vec<&str> = vec![&study_file];
            let extra: Vec<String> = toml::from_str::<toml::Table>(&text)
                .ok()
                .map(|t| {
                    let mut v = Vec::new();
                    if let Some(toml::Value::String(s)) = t.get("topology") {
                        v.push(dir.join("topologies").join(s).display().to_string());
                    }
                    if let Some(toml::Value::Array(a)) = t.get("designs") {
                        for d in a.iter().filter_map(|d| d.as_str()) {
                            v.push(dir.join("topologies").join(d).display().to_string());
                        }
                    }
                    v
                })
                .unwrap_or_default();
            files.extend(extra.iter().map(String::as_str));
            files.extend(known_files.iter().map(String::as_str));
            match outcome {
                Err(p) => findings.add(format!("study: {}", panic_sig(&p)), p, &input),
                Ok(Err(diags)) => {
                    counts.refused += 1;
                    check_diags(
                        Origin::StudyFile,
                        &files,
                        &diags,
                        &mut findings,
                        &input,
                        "study",
                    );
                }
                Ok(Ok((spec, study))) => {
                    counts.accepted += 1;
                    if let Err(e) = check_study(&spec, &study) {
                        findings.add(format!("study: {e}"), String::new(), &input);
                    }
                    let p = pick.get(&study.points);
                    run_accepted(
                        &p.topology,
                        &p.design_model,
                        &mut counts,
                        &mut findings,
                        &input,
                        "study",
                    );
                }
            }
            Ok(())
        })
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let (counts, findings) = (counts.into_inner(), findings.into_inner());
    counts.print("study files", &findings);
    assert_eq!(counts.tried, STUDY_FILE_CASES as usize);
    findings.finish("study files");
}

/// Parameter paths and the value each has in the files: every key path of
/// the topology and the designs (arrays excepted: a path cannot index them),
/// plus some that are wrong on purpose.
fn param_paths(texts: &[&str]) -> Vec<(String, Option<toml::Value>)> {
    let mut out: Vec<(String, Option<toml::Value>)> = Vec::new();
    for t in texts {
        let mut doc = toml::Value::Table(toml::from_str(t).unwrap());
        let mut nodes = Vec::new();
        all_nodes(&doc, &mut Vec::new(), &mut nodes);
        for p in nodes {
            if p.iter().all(|s| matches!(s, Seg::K(_))) {
                let joined = p
                    .iter()
                    .map(|s| match s {
                        Seg::K(k) => k.as_str(),
                        Seg::I(_) => "",
                    })
                    .collect::<Vec<_>>()
                    .join(".");
                if !out.iter().any(|(q, _)| *q == joined) {
                    out.push((joined, node_mut(&mut doc, &p).cloned()));
                }
            }
        }
    }
    for p in [
        "",
        ".",
        "services",
        "services.",
        "services..replicas",
        "transport",
        "transport.cpu",
        "transport.cpu.client_full.x",
        "workload.rate.x",
        "workload.entry",
        "zones.az9.rtt",
        "services.nope.replicas",
        "authz.policy",
        "identity.token_issuer",
        "proxy.waypoint.replicas",
        "name",
        "description",
        "nope",
        "nope.x",
    ] {
        out.push((p.to_string(), None));
    }
    out
}

#[test]
fn study_parameters_are_refused_with_clear_errors_or_run() {
    let read = |rel: &str| Input::read(&root().join(rel)).unwrap();
    let topologies = [
        read("topologies/minimal.toml"),
        read("topologies/chatty.toml"),
    ];
    let designs = bases("models", false)
        .into_iter()
        .map(|b| Input {
            name: b.name,
            text: b.text,
        })
        .collect::<Vec<_>>();
    let mut texts: Vec<&str> = topologies.iter().map(|t| t.text.as_str()).collect();
    texts.extend(designs.iter().map(|d| d.text.as_str()));
    let paths = param_paths(&texts);
    let mut files: Vec<&str> = topologies.iter().map(|t| t.name.as_str()).collect();
    files.extend(designs.iter().map(|d| d.name.as_str()));

    // A path (sometimes misspelt) and one or two values: the value it has
    // in the files (so some points are valid), or any value.
    let param = (
        prop::sample::select(paths.clone()),
        prop::option::weighted(0.2, edit()),
        prop::collection::vec(prop::option::weighted(0.5, snippet()), 1..=2),
    )
        .prop_map(|((p, original), e, vs)| {
            let p = match e {
                Some(e) => apply_edit(&p, &e),
                None => p,
            };
            let values = vs
                .iter()
                .filter_map(|v| match v {
                    Some(v) => value_of(v),
                    None => original.clone().or_else(|| value_of("1")),
                })
                .collect::<Vec<_>>();
            (p, values)
        });
    let strategy = (
        0..topologies.len(),
        prop::sample::subsequence((0..designs.len()).collect::<Vec<_>>(), 1..=2),
        prop::collection::vec(param, 1..=2),
        any::<prop::sample::Index>(),
    );
    let counts = RefCell::new(Counts::default());
    let findings = RefCell::new(Findings::default());
    runner(STUDY_PARAM_CASES, 4)
        .run(&strategy, |(ti, dis, params, pick)| {
            let (mut counts, mut findings) = (counts.borrow_mut(), findings.borrow_mut());
            let spec = StudySpec {
                name: "fuzz".into(),
                title: "fuzz".into(),
                topology: topologies[ti].clone(),
                designs: dis.iter().map(|&i| designs[i].clone()).collect(),
                rates: vec![100.0],
                focus_rate: None,
                blend_entries: false,
                params: params.clone(),
                replications: Some(1),
                seed: Some(1),
                duration: Some(100_000_000),
                requests: None,
                warmup: Some(0),
                slos: Vec::new(),
                costs: None,
            };
            let input = || {
                format!(
                    "topology {}, designs {:?}, params {}",
                    spec.topology.name,
                    spec.designs.iter().map(|d| &d.name).collect::<Vec<_>>(),
                    spec.params
                        .iter()
                        .map(|(p, vs)| format!(
                            "{p:?} = [{}]",
                            vs.iter()
                                .map(|v| v.to_string())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ))
                        .collect::<Vec<_>>()
                        .join("; ")
                )
            };
            counts.tried += 1;
            match guarded(|| study::expand(&spec)) {
                Err(p) => findings.add(format!("params: {}", panic_sig(&p)), p, &input),
                Ok(Err(diags)) => {
                    counts.refused += 1;
                    check_diags(
                        Origin::Params,
                        &files,
                        &diags,
                        &mut findings,
                        &input,
                        "params",
                    );
                }
                Ok(Ok(study)) => {
                    counts.accepted += 1;
                    if let Err(e) = check_study(&spec, &study) {
                        findings.add(format!("params: {e}"), String::new(), &input);
                    }
                    let p = pick.get(&study.points);
                    run_accepted(
                        &p.topology,
                        &p.design_model,
                        &mut counts,
                        &mut findings,
                        &input,
                        "params",
                    );
                }
            }
            Ok(())
        })
        .unwrap();
    let (counts, findings) = (counts.into_inner(), findings.into_inner());
    counts.print("study parameters", &findings);
    assert_eq!(counts.tried, STUDY_PARAM_CASES as usize);
    findings.finish("study parameters");
}

#[test]
fn the_mutator_mutates() {
    let text = "a = 1\n[t]\nb = \"x\" # c\nc = { d = [1, 2], e = \"y\" }\n";
    let pairs: Vec<(&str, &str)> = assignments(text)
        .into_iter()
        .map(|(k, v)| (&text[k], &text[v]))
        .collect();
    assert_eq!(
        pairs,
        [
            ("a", "1"),
            ("b", "\"x\""),
            ("c", "{ d = [1, 2], e = \"y\" }"),
            ("d", "[1, 2]"),
            ("e", "\"y\"")
        ]
    );
    assert_eq!(
        apply(text, &Mutation::ReplaceText(1, "nan".into())),
        "a = 1\n[t]\nb = nan # c\nc = { d = [1, 2], e = \"y\" }\n"
    );
    assert_eq!(apply_edit("replicas", &Edit::Delete(3)), "repicas");
    let removed = apply(text, &Mutation::RemoveTop(1));
    assert!(!removed.contains("[t]"), "{removed}");
    // Every base file is rewritten by the tree mutations (so they apply).
    for b in bases("models", false) {
        assert_ne!(
            apply(&b.text, &Mutation::RemoveKey(3)),
            b.text,
            "{}",
            b.name
        );
    }
}

// ---------------------------------------------------------------------------
// The corpus of malformed study files.

/// Corpus cases whose diagnostics are known to fall short in `src/`: they are
/// still required to be refused without a panic, and are fully checked by
/// the `#[ignore]`d `bad_studies_that_need_a_fix` below. Remove an entry once
/// it is fixed.
const STUDY_NEEDS_FIX: &[&str] = &[];

fn study_diags(path: &Path) -> Result<Vec<Diagnostic>, String> {
    let shown = path.display().to_string();
    match guarded(|| study::read_study(path).and_then(|s| study::expand(&s).map(|_| ()))) {
        Err(p) => Err(format!("{shown}: {p}")),
        Ok(Ok(())) => Err(format!("{shown}: wrongly ACCEPTED")),
        Ok(Err(d)) if d.is_empty() => Err(format!("{shown}: refused with no diagnostic")),
        Ok(Err(d)) => Ok(d),
    }
}

fn check_study_case(case: &Case) -> Result<(), String> {
    case.check(&study_diags(&case.path)?)
}

#[test]
fn every_bad_study_is_refused_where_the_mistake_is() {
    check_corpus(
        "bad-studies",
        ".study.toml",
        10,
        STUDY_NEEDS_FIX,
        |case, full| {
            if full {
                check_study_case(case)
            } else {
                // Only: no panic (some are still wrongly accepted).
                match study_diags(&case.path) {
                    Err(e) if e.contains("panicked") => Err(e),
                    _ => Ok(()),
                }
            }
        },
    );
}

#[test]
fn bad_studies_that_need_a_fix() {
    let mut failures = Vec::new();
    for name in STUDY_NEEDS_FIX {
        let case = Case::load(&corpus_dir("bad-studies").join(name));
        if let Err(e) = check_study_case(&case) {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

// ---------------------------------------------------------------------------
// Regressions: problems the fuzzer found (minimised by hand). Each is
// `#[ignore]`d until `src/` is fixed; then un-ignore it and drop its entry
// from `KNOWN`.

/// A small valid topology that measures 50 requests from time 0, so a
/// simulation of it is what `ztsim run` would do.
const SMALL: &str = r#"[zones.az1]
rtt = "0.4ms"

[services.api]
zone = "az1"
replicas = 2
cores = 2

[services.api.endpoints.get]
cpu = { dist = "exponential", mean = "1ms" }
request_size = "1KiB"
response_size = "4KiB"
stages = [[{ call = "db.query" }]]

[services.db]
zone = "az1"
cores = 4

[services.db.endpoints.query]
cpu = "1ms"
response_size = "2KiB"

[services.policy]
zone = "az1"

[services.policy.endpoints.check]
cpu = "300us"

[services.identity]
zone = "az1"

[services.identity.endpoints.issue]
cpu = "1ms"

[workload]
arrivals = "poisson"
rate = 1000
requests = 50
entry = [{ endpoint = "api.get" }]
"#;

/// `text` with the value at dotted `path` set to `value` (TOML), tables
/// created as needed.
fn with(text: &str, path: &str, value: &str) -> String {
    let mut doc: toml::Table = toml::from_str(text).unwrap();
    let segs: Vec<&str> = path.split('.').collect();
    let mut t = &mut doc;
    for s in &segs[..segs.len() - 1] {
        t = t
            .entry(s.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()))
            .as_table_mut()
            .unwrap();
    }
    t.insert(
        segs[segs.len() - 1].to_string(),
        value_of(value).unwrap_or_else(|| panic!("not a TOML value: {value}")),
    );
    toml::to_string(&doc).unwrap()
}

const MAX_NS: &str = r#""18446744073709551615ns""#;

/// (what, topology edits, design file, design edits): each is a valid-looking
/// pair of files with one value at the edge of what the parsers accept.
type Extreme = (
    &'static str,
    &'static [(&'static str, &'static str)],
    &'static str,
    &'static [(&'static str, &'static str)],
);

const EXTREMES: &[Extreme] = &[
    (
        "endpoint cpu = u64::MAX ns",
        &[("services.db.endpoints.query.cpu", MAX_NS)],
        "plaintext",
        &[],
    ),
    (
        "endpoint cpu = u64::MAX ns, with TLS",
        &[("services.db.endpoints.query.cpu", MAX_NS)],
        "tls-edge",
        &[],
    ),
    (
        "endpoint cpu = 5000000h",
        &[("services.db.endpoints.query.cpu", r#""5000000h""#)],
        "plaintext",
        &[],
    ),
    (
        "rate = 1e-300 (arrivals at the end of time)",
        &[("workload.rate", "1e-300")],
        "istio-sidecar",
        &[],
    ),
    (
        "rate = 1e-300, node proxies",
        &[("workload.rate", "1e-300")],
        "istio-ambient",
        &[],
    ),
    (
        "rate = 1e-300, tokens",
        &[("workload.rate", "1e-300")],
        "grpc-mtls-local-policy",
        &[],
    ),
    (
        "call timeout = u64::MAX ns with retries",
        &[(
            "services.api.endpoints.get.stages",
            r#"[[{ call = "db.query", timeout = "18446744073709551615ns", retries = 2 }]]"#,
        )],
        "plaintext",
        &[],
    ),
    (
        "call backoff = u64::MAX ns",
        &[(
            "services.api.endpoints.get.stages",
            r#"[[{ call = "db.query", timeout = "1us", retries = 3, backoff = "18446744073709551615ns" }]]"#,
        )],
        "plaintext",
        &[],
    ),
    (
        "workload timeout = u64::MAX ns",
        &[("workload.timeout", MAX_NS)],
        "plaintext",
        &[],
    ),
    (
        "request_size = u64::MAX B",
        &[(
            "services.api.endpoints.get.request_size",
            r#""18446744073709551615B""#,
        )],
        "grpc-mtls-local-policy",
        &[],
    ),
    (
        "bandwidth_gbps = 1e-300",
        &[("network.bandwidth_gbps", "1e-300")],
        "plaintext",
        &[],
    ),
    (
        "identity.token_ttl = u64::MAX ns",
        &[],
        "grpc-mtls-local-policy",
        &[("identity.token_ttl", MAX_NS)],
    ),
    (
        "proxy.cpu_per_kib = u64::MAX ns",
        &[],
        "istio-sidecar",
        &[("proxy.cpu_per_kib", MAX_NS)],
    ),
    (
        "authn.verify_cpu = u64::MAX ns",
        &[],
        "naive-mtls",
        &[("authn.verify_cpu", MAX_NS)],
    ),
    (
        "transport.cpu.client_full = u64::MAX ns",
        &[],
        "naive-mtls",
        &[("transport.cpu.client_full", MAX_NS)],
    ),
    (
        "transport.bulk_gb_per_s = 1e-300",
        &[],
        "naive-mtls",
        &[("transport.bulk_gb_per_s", "1e-300")],
    ),
    (
        "identity.cert_ttl = u64::MAX ns, rotation closes connections",
        &[],
        "istio-sidecar",
        &[
            ("identity.cert_ttl", MAX_NS),
            ("identity.rotation_closes_connections", "true"),
        ],
    ),
    (
        "identity.cert_ttl = 1ns, rotation closes connections",
        &[],
        "istio-sidecar",
        &[
            ("identity.cert_ttl", r#""1ns""#),
            ("identity.rotation_closes_connections", "true"),
        ],
    ),
    (
        "resumption.ticket_ttl = u64::MAX ns",
        &[],
        "naive-mtls",
        &[
            ("resumption.tickets", "true"),
            ("resumption.ticket_ttl", MAX_NS),
        ],
    ),
    (
        "authn.cache_ttl = u64::MAX ns",
        &[],
        "naive-mtls",
        &[("authn.cache_ttl", MAX_NS)],
    ),
    (
        "authz.cache_ttl = u64::MAX ns",
        &[],
        "grpc-mtls-local-policy",
        &[("authz.cache_ttl", MAX_NS)],
    ),
    (
        "connections.idle_timeout = u64::MAX ns",
        &[],
        "istio-sidecar",
        &[("connections.idle_timeout", MAX_NS)],
    ),
    (
        "connections.max_lifetime = 1ns",
        &[],
        "istio-sidecar",
        &[("connections.max_lifetime", r#""1ns""#)],
    ),
];

/// Parses one extreme case; runs it if accepted. Ok if it is refused with
/// located diagnostics or runs to the end.
fn run_extreme(x: &Extreme) -> Result<String, String> {
    let (_, topo_edits, design, design_edits) = *x;
    let topo_text = topo_edits
        .iter()
        .fold(SMALL.to_string(), |t, (p, v)| with(&t, p, v));
    let design_name = format!("models/{design}.toml");
    let base = std::fs::read_to_string(root().join(&design_name)).unwrap();
    let design_text = design_edits.iter().fold(base, |t, (p, v)| with(&t, p, v));
    let refused = |diags: Vec<Diagnostic>| {
        let lineless: Vec<String> = diags
            .iter()
            .filter(|d| d.line.is_none())
            .map(|d| d.to_string())
            .collect();
        if lineless.is_empty() {
            Ok(format!("refused: {}", diags[0]))
        } else {
            Err(format!("refused without a line: {}", lineless.join("; ")))
        }
    };
    let topo = match parse_topology("small.toml", &topo_text) {
        Ok(t) => t,
        Err(d) => return refused(d),
    };
    let design = match parse_design(&design_name, &design_text, Some(&topo)) {
        Ok(d) => d,
        Err(d) => return refused(d),
    };
    let m = guarded(|| simulate(&topo, &design, 0))?;
    Ok(format!("ran: {} requests arrived", m.arrived))
}

#[test]
fn engine_survives_extreme_validated_values() {
    // One child process per case: a memory blow-up aborts a process, and
    // must not take the others' results with it.
    if let Ok(i) = std::env::var("ZTSIM_FUZZ_EXTREME") {
        let i: usize = i.parse().unwrap();
        match run_extreme(&EXTREMES[i]) {
            Ok(s) => println!("RESULT ok {s}"),
            Err(e) => println!("RESULT FAIL {e}"),
        }
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let mut failures = Vec::new();
    for (i, x) in EXTREMES.iter().enumerate() {
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(r#"ulimit -v 4000000; exec "$0" "$@""#)
            .arg(&exe)
            .args([
                "engine_survives_extreme_validated_values",
                "--exact",
                "--include-ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("ZTSIM_FUZZ_EXTREME", i.to_string())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let result = stdout
            .lines()
            .find_map(|l| l.split_once("RESULT ").map(|(_, r)| r))
            .map(str::to_string)
            .unwrap_or_else(|| {
                let why = stderr
                    .lines()
                    .find(|l| l.contains("memory allocation") || l.contains("panicked"))
                    .unwrap_or("no output");
                format!("FAIL the process died ({}): {why}", out.status)
            });
        eprintln!("{}: {result}", x.0);
        if result.starts_with("FAIL") {
            failures.push(format!("{} (design {}): {result}", x.0, x.2));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} extreme cases fail:\n  {}",
        failures.len(),
        EXTREMES.len(),
        failures.join("\n  ")
    );
}

#[test]
fn tiny_call_timeouts_with_retries_run() {
    let topo_text = with(
        SMALL,
        "services.api.endpoints.get.stages",
        r#"[[{ call = "db.query", timeout = "100ns", retries = 1 }]]"#,
    );
    let topo = parse_topology("small.toml", &topo_text).unwrap();
    let mut failures = Vec::new();
    for design in [
        "grpc-mtls-local-policy",
        "pq-hybrid",
        "plaintext",
        "istio-sidecar",
    ] {
        let name = format!("models/{design}.toml");
        let text = std::fs::read_to_string(root().join(&name)).unwrap();
        let d = parse_design(&name, &text, Some(&topo)).unwrap();
        if let Err(e) = guarded(|| simulate(&topo, &d, 0)) {
            failures.push(format!("{design}: {e}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn tiny_certificate_renewal_intervals_finish() {
    let topo_text = with(
        &SMALL.replace("requests = 50", "duration = \"10s\""),
        "workload.rate",
        "100",
    );
    let topo = parse_topology("small.toml", &topo_text).unwrap();
    let mut failures = Vec::new();
    for (design, key, value) in [
        ("linkerd-like", "identity.cert_ttl", r#""1ns""#),
        ("linkerd-like", "identity.renew_ratio", "1e-200"),
        ("istio-sidecar", "identity.cert_ttl", r#""10ns""#),
    ] {
        let name = format!("models/{design}.toml");
        let text = std::fs::read_to_string(root().join(&name)).unwrap();
        let d = match parse_design(&name, &with(&text, key, value), Some(&topo)) {
            // Refusing such a value with a located error is a fix too.
            Err(diags) if diags.iter().all(|d| d.line.is_some()) => continue,
            Err(diags) => panic!("{design} {key} = {value}: refused without a line: {diags:?}"),
            Ok(d) => d,
        };
        let started = std::time::Instant::now();
        if let Err(e) = simulate_guarded(topo.clone(), d) {
            failures.push(format!("{design} with {key} = {value}: {e}"));
        } else if started.elapsed() > Duration::from_secs(5) {
            failures.push(format!(
                "{design} with {key} = {value}: took {:?}",
                started.elapsed()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
