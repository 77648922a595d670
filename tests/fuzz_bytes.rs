//! Byte-level mutation fuzzing of every input kind `tests/fuzz_inputs.rs`
//! does not reach with its TOML-aware mutations: raw bytes (invalid UTF-8,
//! NUL, truncation, spliced hostile numbers) of the shipped topologies,
//! designs and studies and of the bad corpora, recorded arrivals CSV,
//! Jaeger, Zipkin and OTLP traces, and command-line flags through the real
//! binary.
//!
//! Every case must be accepted or refused with diagnostics naming a file
//! (and, for a topology, design or recording, a line and column), never
//! panic. The library functions run in-process for speed; flags go through
//! the binary. Each target has a fixed seed and case count, so every run
//! tries the same inputs (`-- --nocapture` prints the counts).

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{TempDir, corpus, root, ztsim};
use ztsim::config::study::{expand, read_study};
use ztsim::config::{Diagnostic, check_design, load_topology};
use ztsim::trace::synth::{Checkout, write_jaeger, write_otlp, write_zipkin};

/// SplitMix64: a deterministic source for the mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Tokens spliced into inputs: numbers past every limit, broken quoting,
/// invalid UTF-8, NUL and control characters.
const TOKENS: &[&[u8]] = &[
    b"1e400",
    b"-1",
    b"18446744073709551616",
    b"99999999999999999999999",
    b"nan",
    b"-0",
    b"1e-300",
    b"\"",
    b"[",
    b"{",
    b"]]",
    b"\xff\xfe",
    b"\xc3",
    b"\xe2\x80\xae",
    b"\x00",
    b"\x1b[31m",
    b"\n",
    b",",
];

/// One to four byte mutations of `base`.
fn mutate(rng: &mut Rng, base: &[u8]) -> Vec<u8> {
    let mut b = base.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(b.len() + 1);
        match rng.below(7) {
            0 if at < b.len() => b[at] ^= 1 << rng.below(8),
            1 if at < b.len() => b[at] = rng.next() as u8,
            2 => {
                let end = (at + 1 + rng.below(16)).min(b.len());
                b.drain(at.min(end)..end);
            }
            3 => {
                let end = (at + 1 + rng.below(40)).min(b.len());
                let copy = b[at.min(end)..end].to_vec();
                b.splice(at..at, copy);
            }
            4 => b.truncate(at),
            _ => {
                let t = TOKENS[rng.below(TOKENS.len())];
                b.splice(at..at, t.iter().copied());
            }
        }
    }
    b
}

/// Runs `f`, turning a panic into its message.
fn guarded<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|p| {
        p.downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(non-string panic)".into())
    })
}

/// What a target found: counts and the problems, with the input that showed
/// each (the first of a kind).
#[derive(Default)]
struct Tally {
    accepted: usize,
    refused: usize,
    problems: Vec<String>,
}

impl Tally {
    fn check(
        &mut self,
        outcome: Result<Result<(), Vec<Diagnostic>>, String>,
        lines: bool,
        input: &[u8],
    ) {
        let problem = match outcome {
            Err(panic) => Some(format!("PANICKED: {panic}")),
            Ok(Ok(())) => {
                self.accepted += 1;
                None
            }
            Ok(Err(diags)) => {
                self.refused += 1;
                if diags.is_empty() {
                    Some("refused with no diagnostic".into())
                } else {
                    diags
                        .iter()
                        .find(|d| {
                            d.file.is_empty()
                                || d.message.is_empty()
                                || (lines
                                    && (d.line.is_none() || d.column.is_none())
                                    && !lineless(d))
                        })
                        .map(|d| format!("diagnostic without file, message or line: {d}"))
                }
            }
        };
        if let Some(p) = problem
            && self.problems.len() < 5
        {
            self.problems.push(format!(
                "{p}\n  input: {:?}",
                String::from_utf8_lossy(&input[..input.len().min(2000)])
            ));
        }
    }

    fn finish(&self, target: &str, cases: usize) {
        eprintln!(
            "fuzz {target}: {cases} mutated inputs, {} refused, {} accepted",
            self.refused, self.accepted
        );
        assert!(
            self.problems.is_empty(),
            "[{target}]\n{}",
            self.problems.join("\n\n")
        );
    }
}

/// Diagnostics about a whole file: one that cannot be read, an empty
/// recording.
fn lineless(d: &Diagnostic) -> bool {
    d.message.starts_with("cannot read the file") || d.message.starts_with("the file is empty")
}

/// The files of `dir` (under the repository) ending in `suffix`.
fn files(dir: &str, suffix: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    v.sort();
    v
}

/// Copies every file of `from` (under the repository) into `to`.
fn copy_dir(from: &str, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for p in files(from, "") {
        if p.is_file() {
            std::fs::copy(&p, to.join(p.file_name().unwrap())).unwrap();
        }
    }
}

#[test]
fn topologies_and_designs_survive_byte_mutations() {
    const CASES: usize = 1500;
    let tmp = TempDir::new("fuzz-bytes-toml");
    // Beside the recordings the shipped and bad topologies name.
    copy_dir("topologies", tmp.path());
    copy_dir("tests/data/bad", tmp.path());
    let mut bases: Vec<(PathBuf, bool)> = Vec::new();
    for p in files("topologies", ".toml")
        .into_iter()
        .chain(corpus("bad", ".toml"))
    {
        if !p.to_string_lossy().ends_with(".study.toml") {
            bases.push((p, true));
        }
    }
    for p in files("models", ".toml")
        .into_iter()
        .chain(corpus("bad-designs", ".toml"))
    {
        bases.push((p, false));
    }
    let case = tmp.path().join("case.toml");
    let mut rng = Rng(13);
    let mut tally = Tally::default();
    for _ in 0..CASES {
        let (base, topology) = &bases[rng.below(bases.len())];
        let bytes = mutate(&mut rng, &std::fs::read(base).unwrap());
        std::fs::write(&case, &bytes).unwrap();
        let outcome = guarded(|| {
            if *topology {
                load_topology(&case).map(|_| ())
            } else {
                check_design(&case, None).map(|_| ())
            }
        });
        tally.check(outcome, true, &bytes);
    }
    tally.finish("topology and design bytes", CASES);
}

#[test]
fn studies_survive_byte_mutations() {
    const CASES: usize = 300;
    let tmp = TempDir::new("fuzz-bytes-study");
    // The studies' relative paths hold in a copy of the repository's layout.
    copy_dir("topologies", &tmp.path().join("topologies"));
    copy_dir("models", &tmp.path().join("models"));
    let bad = tmp.path().join("tests/data/bad-studies");
    copy_dir("tests/data/bad-studies", &bad);
    let mut bases: Vec<(PathBuf, PathBuf)> = vec![(
        root().join("topologies/chatty.study.toml"),
        tmp.path().join("topologies/case.study.toml"),
    )];
    for p in corpus("bad-studies", ".study.toml") {
        bases.push((p, bad.join("case.study.toml")));
    }
    let mut rng = Rng(14);
    let mut tally = Tally::default();
    for _ in 0..CASES {
        let (base, case) = &bases[rng.below(bases.len())];
        let bytes = mutate(&mut rng, &std::fs::read(base).unwrap());
        std::fs::write(case, &bytes).unwrap();
        let outcome = guarded(|| read_study(case).and_then(|s| expand(&s).map(|_| ())));
        // Lines are required where the study's own checks locate them; a
        // parameter combination refused together has none (docs/study.md).
        tally.check(outcome, false, &bytes);
    }
    tally.finish("study bytes", CASES);
}

#[test]
fn recorded_arrivals_survive_byte_mutations() {
    const CASES: usize = 1500;
    let tmp = TempDir::new("fuzz-bytes-csv");
    copy_dir("topologies", tmp.path());
    let topology = tmp.path().join("minimal-replay.toml");
    let csv = tmp.path().join("minimal-replay.arrivals.csv");
    let mut bases = vec![std::fs::read(&csv).unwrap()];
    // A short one too, so mutations reach the header and the last row.
    bases.push(bases[0][..400].to_vec());
    for p in files("tests/data/bad", ".csv") {
        bases.push(std::fs::read(p).unwrap());
    }
    let mut rng = Rng(15);
    let mut tally = Tally::default();
    for _ in 0..CASES {
        let base = &bases[rng.below(bases.len())];
        let bytes = mutate(&mut rng, base);
        std::fs::write(&csv, &bytes).unwrap();
        // Through the topology that names it, as `ztsim run` reads it.
        let outcome = guarded(|| load_topology(&topology).map(|_| ()));
        tally.check(outcome, true, &bytes);
    }
    tally.finish("arrivals CSV bytes", CASES);
}

#[test]
fn traces_of_every_format_survive_byte_mutations() {
    const CASES: usize = 1200;
    let tmp = TempDir::new("fuzz-bytes-traces");
    let traces = || Checkout::new(7, 50.0).take(12);
    let mut bases: Vec<Vec<u8>> = vec![Vec::new(), Vec::new(), Vec::new()];
    write_jaeger(traces(), &mut bases[0]).unwrap();
    write_zipkin(traces(), &mut bases[1]).unwrap();
    write_otlp(traces(), &mut bases[2]).unwrap();
    let case = tmp.path().join("case.json");
    let mut rng = Rng(16);
    let mut tally = Tally::default();
    let t0 = Instant::now();
    for _ in 0..CASES {
        let pick = rng.below(bases.len());
        let bytes = mutate(&mut rng, &bases[pick]);
        std::fs::write(&case, &bytes).unwrap();
        let outcome =
            guarded(|| ztsim::trace::import(std::slice::from_ref(&case), None).map(|_| ()));
        tally.check(outcome, false, &bytes);
    }
    assert!(
        t0.elapsed() < Duration::from_secs(60),
        "trace fuzzing took {:?}",
        t0.elapsed()
    );
    tally.finish("trace bytes", CASES);
}

/// An OTLP time past 2^64 - 1 is refused where it is written, never clamped.
#[test]
fn otlp_times_beyond_u64_are_refused_with_their_line() {
    let tmp = TempDir::new("otlp-u64");
    let mut otlp = Vec::new();
    write_otlp(Checkout::new(7, 50.0).take(2), &mut otlp).unwrap();
    let text = String::from_utf8(otlp).unwrap();
    for huge in [
        "\"99999999999999999999999\"",
        "1e30",
        "\"18446744073709551616\"",
        "\"-5\"",
    ] {
        let at = text.find("\"startTimeUnixNano\":\"").unwrap() + "\"startTimeUnixNano\":".len();
        let end = at + 1 + text[at + 1..].find('"').unwrap() + 1;
        let bad = format!("{}{huge}{}", &text[..at], &text[end..]);
        let path = tmp.path().join("huge.otlp.json");
        std::fs::write(&path, &bad).unwrap();
        let diags = ztsim::trace::import(std::slice::from_ref(&path), None)
            .err()
            .unwrap_or_else(|| panic!("{huge}: accepted"));
        let d = &diags[0];
        assert!(
            d.message.contains("below 2^64") && d.line == Some(1) && d.column.is_some(),
            "{huge}: {d}"
        );
    }
}

/// Hostile values of each flag through the real binary: every run exits 0
/// or 2, never panics, and a refusal names the flag or a file.
#[test]
fn flags_survive_hostile_values() {
    const CASES: usize = 300;
    // Values for --replications and --threads past a few thousand are
    // the resource guards' (issue 13 items 5 and 11), tested with them.
    const FLAGS: &[(&str, &[&str])] = &[
        (
            "--seed",
            &["-1", "18446744073709551616", "1.5", "", "0x10", "7", "١"],
        ),
        (
            "--rate",
            &[
                "-1", "0", "1e-300", "nan", "inf", "1e400", "1.5k", "abc", "50",
            ],
        ),
        (
            "--warmup",
            &["-5ms", "1e30s", "99999999999999h", "5", "0s", "ms", "2401h"],
        ),
        (
            "--duration",
            &["0s", "-1s", "1e30s", "5", "2401h", "\u{202e}1s"],
        ),
        (
            "--requests",
            &["0", "-1", "1e9", "18446744073709551616", "3"],
        ),
        ("--replications", &["0", "-1", "x", "2"]),
        ("--threads", &["0", "-1", "x", "1"]),
        ("--replay-speed", &["0", "-1", "nan", "2"]),
        ("--export-slowest", &["-1", "x", "2"]),
        ("--bogus", &["1"]),
    ];
    let tmp = TempDir::new("fuzz-flags");
    let topology = root().join("topologies/minimal.toml").display().to_string();
    let mut rng = Rng(17);
    let mut problems = Vec::new();
    for n in 0..CASES {
        let out = tmp.path().join(format!("run-{n}")).display().to_string();
        let mut args: Vec<String> = vec!["run".into(), topology.clone(), "--out".into(), out];
        let mut given = Vec::new();
        for _ in 0..1 + rng.below(3) {
            let (flag, values) = FLAGS[rng.below(FLAGS.len())];
            args.push(flag.into());
            args.push(values[rng.below(values.len())].into());
            given.push(flag);
        }
        if !given.contains(&"--duration") && !given.contains(&"--requests") {
            args.extend(["--requests".into(), "20".into()]);
        }
        let r: common::Run = ztsim(&args).into();
        let named = given.iter().any(|f| r.stderr.contains(f))
            || r.stderr.contains(".toml")
            || r.stderr.contains("unexpected argument");
        let ok = match r.code {
            Some(0) => true,
            Some(2) => named,
            _ => false,
        };
        if !ok || r.stderr.contains("panicked") {
            problems.push(format!("{args:?}\n{}", r.show()));
        }
    }
    eprintln!("fuzz flags: {CASES} command lines");
    assert!(
        problems.is_empty(),
        "{}",
        problems[..problems.len().min(5)].join("\n\n")
    );
}
