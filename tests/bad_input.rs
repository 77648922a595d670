//! Bad topologies are refused with diagnostics that name the file, line and
//! key of the mistake, never with a panic.
//!
//! The corpus lives in `tests/data/bad/` (see its README for the header
//! convention); every file there is a case.

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};

use common::{Case, check_corpus, corpus, describe};

use ztsim::config::{Diagnostic, load_topology, parse_topology};

/// Corpus files whose diagnostics are known to be wrong in the source. They
/// are still required to be refused without a panic; the full check runs in
/// the `#[ignore]`d tests at the bottom. Remove an entry once it is fixed.
const NEEDS_FIX: &[&str] = &[];

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(non-string panic payload)".into())
}

/// Parses without letting a panic escape.
fn parse(file: &str, text: &str) -> Result<Result<(), Vec<Diagnostic>>, String> {
    catch_unwind(AssertUnwindSafe(|| parse_topology(file, text).map(|_| ())))
        .map_err(|p| panic_message(&*p))
}

/// Only checks that the file is refused without a panic. The file is read
/// from disk as `ztsim validate` reads it (a case may not be UTF-8).
fn check_refused(case: &Case) -> Result<Vec<Diagnostic>, String> {
    let loaded = catch_unwind(AssertUnwindSafe(|| load_topology(&case.path).map(|_| ())))
        .map_err(|p| panic_message(&*p));
    match loaded {
        Err(msg) => Err(format!("{}: PANICKED: {msg}", case.file)),
        Ok(Ok(())) => Err(format!("{}: wrongly ACCEPTED", case.file)),
        Ok(Err(diags)) if diags.is_empty() => {
            Err(format!("{}: refused with no diagnostic at all", case.file))
        }
        Ok(Err(diags)) => Ok(diags),
    }
}

/// The full check of a header's expectations.
fn check(case: &Case) -> Result<(), String> {
    let diags = check_refused(case)?;
    case.check(&diags)?;
    // Beyond the one that matches, none may lack its location.
    match diags.iter().find(|d| {
        (d.file != case.file && d.file != case.want_file())
            || d.line.is_none()
            || d.column.is_none()
    }) {
        Some(d) => Err(format!(
            "{}: a diagnostic lacks the file name, line or column:\n{}",
            case.file,
            describe(d)
        )),
        None => Ok(()),
    }
}

#[test]
fn every_bad_file_is_refused_where_the_mistake_is() {
    check_corpus("bad", ".toml", 40, NEEDS_FIX, |case, full| {
        if full {
            check(case)
        } else {
            check_refused(case).map(|_| ())
        }
    });
}

/// The text every corpus file was derived from, minus the mistake; it must
/// be valid, or the corpus would test nothing.
const GOOD: &str = r#"[zones.az1]
rtt = "0.4ms"

[services.api]
zone = "az1"
replicas = 2
cores = 2

[services.api.endpoints.get]
cpu = "1ms"
stages = [[{ call = "db.query" }]]

[services.db]
zone = "az1"

[services.db.endpoints.query]
cpu = { dist = "exponential", mean = "1ms" }

[workload]
arrivals = "poisson"
rate = 100
duration = "1s"
entry = [{ endpoint = "api.get" }]
"#;

#[test]
fn the_corpus_base_is_valid() {
    if let Err(diags) = parse_topology("good.toml", GOOD) {
        panic!(
            "{}",
            diags
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    // Every corpus file but its header and its mistake is this text: the
    // shared tables must be recognisable in each, so a case cannot fail for
    // an unrelated reason. (Checked loosely: the zone is always there.)
    for path in corpus("bad", ".toml") {
        let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
        assert!(text.contains("[zones.az1]"), "{}", path.display());
    }
}

/// Replaces exactly one occurrence of `from` in GOOD.
fn good_with(from: &str, to: &str) -> String {
    assert_eq!(GOOD.matches(from).count(), 1, "{from:?} must occur once");
    GOOD.replacen(from, to, 1)
}

fn diagnostics(text: &str) -> Vec<Diagnostic> {
    match parse("t.toml", text) {
        Err(msg) => panic!("panicked: {msg}\n{text}"),
        Ok(Ok(())) => panic!("wrongly accepted:\n{text}"),
        Ok(Err(d)) => d,
    }
}

#[test]
fn validation_reports_every_problem() {
    let text = r#"[zones.az1]
rtt = "0.4ms"

[services.api]
zone = "az1"
cores = 0

[services.api.endpoints.get]
cpu = { dist = "lognormal", median = "2ms", p99 = "1ms" }
stages = [[{ call = "db.query", probability = 1.5 }], [{ call = "db.nope", retries = 1 }]]

[services.db]
zone = "az2"
replicas = 0

[services.db.endpoints.query]
cpu = { dist = "uniform", min = "2ms", max = "1ms" }

[workload]
arrivals = "poisson"
rate = 0
duration = "1s"
entry = [{ endpoint = "api.gett" }]
"#;
    let diags = diagnostics(text);
    let want = [
        (6, "services.api.cores", "cores must be"),
        (
            9,
            "services.api.endpoints.get.cpu.p99",
            "p99 must be at least",
        ),
        (
            10,
            "services.api.endpoints.get.stages[0][0].probability",
            "between 0 and 1",
        ),
        (
            10,
            "services.api.endpoints.get.stages[1][0].call",
            "unknown endpoint `db.nope`",
        ),
        (
            10,
            "services.api.endpoints.get.stages[1][0].retries",
            "set `timeout` too",
        ),
        (13, "services.db.zone", "unknown zone `az2`"),
        (14, "services.db.replicas", "replicas must be"),
        (
            17,
            "services.db.endpoints.query.cpu.max",
            "`max` must be at least",
        ),
        (21, "workload.rate", "rate must be a positive number"),
        (
            23,
            "workload.entry[0].endpoint",
            "unknown endpoint `api.gett`",
        ),
    ];
    let shown: Vec<String> = diags.iter().map(|d| d.to_string()).collect();
    let mut missing = Vec::new();
    for (line, key, text) in want {
        let found = diags.iter().any(|d| {
            d.line == Some(line)
                && d.key.as_ref().is_some_and(|k| k.to_string() == key)
                && d.message.contains(text)
        });
        if !found {
            missing.push(format!("line {line} {key}: {text}"));
        }
    }
    assert!(
        missing.is_empty(),
        "missing:\n  {}\ngot:\n  {}",
        missing.join("\n  "),
        shown.join("\n  ")
    );
    assert_eq!(
        diags.len(),
        want.len(),
        "one diagnostic per problem, got:\n  {}",
        shown.join("\n  ")
    );
}

/// The single diagnostic for `text`.
fn only(text: &str) -> Diagnostic {
    let mut d = diagnostics(text);
    assert_eq!(d.len(), 1, "expected one diagnostic, got {d:#?}");
    d.remove(0)
}

#[test]
fn did_you_mean_for_misspelt_keys() {
    let cases = [
        ("replicas = 2", "replcas = 2", "replicas"),
        ("replicas = 2", "Replicas = 2", "replicas"),
        ("cores = 2", "core = 2", "cores"),
        ("cpu = \"1ms\"", "cpus = \"1ms\"", "cpu"),
        (
            "cpu = \"1ms\"",
            "cpu = \"1ms\"\nrespone_size = \"1KiB\"",
            "response_size",
        ),
        (
            "[{ call = \"db.query\" }]",
            "[{ call = \"db.query\", probabilty = 0.5 }]",
            "probability",
        ),
        (
            "{ endpoint = \"api.get\" }",
            "{ endpont = \"api.get\" }",
            "endpoint",
        ),
        ("[workload]", "[workloads]", "workload"),
        ("[zones.az1]\nrtt", "[zones.az1]\nrt", "rtt"),
        (
            "cpu = { dist = \"exponential\", mean = \"1ms\" }",
            "cpu = { dist = \"exponential\", maen = \"1ms\" }",
            "mean",
        ),
    ];
    for (from, to, want) in cases {
        let d = only(&good_with(from, to));
        let help = format!("did you mean `{want}`?");
        assert_eq!(d.help.as_deref(), Some(help.as_str()), "{to}: {d}");
        assert!(d.message.starts_with("unknown key"), "{to}: {d}");
        assert!(
            d.message.contains("valid keys here are") && d.message.contains(&format!("`{want}`")),
            "{to}: the message should list the valid keys: {d}"
        );
        // Display puts help on its own indented line.
        assert!(d.to_string().ends_with(&format!("\n  help: {help}")), "{d}");
    }
}

#[test]
fn did_you_mean_for_misspelt_choices_and_names() {
    let cases = [
        ("arrivals = \"poisson\"", "arrivals = \"poison\"", "poisson"),
        (
            "arrivals = \"poisson\"",
            "arrivals = \"Poisson\"",
            "poisson",
        ),
        (
            "arrivals = \"poisson\"",
            "arrivals = \"constnt\"",
            "constant",
        ),
        (
            "cores = 2",
            "cores = 2\nbalance = \"round_robin\"",
            "round-robin",
        ),
        (
            "cores = 2",
            "cores = 2\nbalance = \"least_outstanding\"",
            "least-outstanding",
        ),
        (
            "dist = \"exponential\"",
            "dist = \"exponental\"",
            "exponential",
        ),
        ("call = \"db.query\"", "call = \"db.qurey\"", "db.query"),
        ("call = \"db.query\"", "call = \"db.Query\"", "db.query"),
        (
            "endpoint = \"api.get\"",
            "endpoint = \"api.gte\"",
            "api.get",
        ),
        (
            "[services.db]\nzone = \"az1\"",
            "[services.db]\nzone = \"az-1\"",
            "az1",
        ),
        (
            "duration = \"1s\"",
            "duration = \"1s\"\nclient_zone = \"AZ1\"",
            "az1",
        ),
    ];
    for (from, to, want) in cases {
        let d = only(&good_with(from, to));
        assert_eq!(
            d.help.as_deref(),
            Some(format!("did you mean `{want}`?").as_str()),
            "{to}: {d}"
        );
    }
}

#[test]
fn no_did_you_mean_when_nothing_is_close() {
    // A far-off key: list what is valid, suggest nothing.
    let d = only(&good_with("cores = 2", "cores = 2\nzzzzzz = 1"));
    assert_eq!(d.help, None, "{d}");
    assert!(d.message.contains("`replicas`"), "{d}");

    // A far-off choice: the message lists the choices.
    let d = only(&good_with(
        "arrivals = \"poisson\"",
        "arrivals = \"bursty\"",
    ));
    assert_eq!(d.help, None, "{d}");
    assert!(
        d.message.contains("`poisson`") && d.message.contains("`closed`"),
        "{d}"
    );

    // A far-off zone: list the zones instead.
    let d = only(&good_with(
        "[services.db]\nzone = \"az1\"",
        "[services.db]\nzone = \"eu-west\"",
    ));
    let help = d.help.clone().unwrap_or_default();
    assert!(!help.contains("did you mean"), "{d}");
    assert!(help.contains("`az1`"), "{d}");

    // A far-off endpoint of a service that exists: list that service's endpoints.
    let d = only(&good_with("call = \"db.query\"", "call = \"db.insert\""));
    let help = d.help.clone().unwrap_or_default();
    assert!(!help.contains("did you mean"), "{d}");
    assert!(help.contains("db.query"), "{d}");
}
