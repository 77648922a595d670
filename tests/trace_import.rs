//! `ztsim import`: the shipped samples import to one topology whatever their
//! format, and simulating it reproduces the recorded request durations; real
//! world mess is cleaned and counted; bad input is refused with its position.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use ztsim::model::topology::{Arrivals, Window};
use ztsim::model::{Design, run_replications};
use ztsim::trace::{self, Format, Import, write};

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("topologies/traces")
        .join(name)
}

const SAMPLES: [&str; 3] = [
    "checkout.jaeger.json",
    "checkout.zipkin.json",
    "checkout.otlp.jsonl",
];

fn import_one(path: &Path) -> Import {
    trace::import(&[path.to_path_buf()], None).unwrap_or_else(|d| panic!("{path:?}: {d:?}"))
}

/// A scratch folder of this test's own.
fn scratch(test: &str) -> PathBuf {
    common::scratch("trace-import", test)
}

fn write_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// The topology text without comments (which name the source file).
fn body(import: &Import) -> String {
    write::topology_toml(&import.model, "checkout", "the sample")
}

/// The import loaded as `ztsim run` loads it: both files written side by
/// side in a scratch folder, then read by the ordinary loader (which also
/// reads and checks the recorded arrivals).
fn load_import(import: &Import, test: &str) -> ztsim::model::Topology {
    let dir = scratch(test);
    write_file(
        &dir,
        "checkout.arrivals.csv",
        &write::arrivals_csv(&import.model),
    );
    let path = write_file(&dir, "checkout.toml", &body(import));
    ztsim::config::load_topology(&path).unwrap_or_else(|d| panic!("{d:?}"))
}

#[test]
fn the_three_formats_of_the_sample_import_to_the_same_topology() {
    let imports: Vec<Import> = SAMPLES.iter().map(|s| import_one(&sample(s))).collect();
    let formats: Vec<Format> = imports.iter().map(|i| i.files[0].format).collect();
    assert_eq!(formats, [Format::Jaeger, Format::Zipkin, Format::Otlp]);
    assert!(imports[2].files[0].json_lines);
    for i in &imports[1..] {
        assert_eq!(body(i), body(&imports[0]));
        assert_eq!(
            write::arrivals_csv(&i.model),
            write::arrivals_csv(&imports[0].model)
        );
        assert_eq!(i.model.cleanup, imports[0].model.cleanup);
    }
    let c = &imports[0].model.cleanup;
    // 300 traces, every call a client span with a server child, 5% of calls
    // with the callee's clock off by 0.3-0.9 ms (more than the 40-120 us of
    // network on either side, so each needs a shift, never a cut).
    assert_eq!(
        (c.traces, c.roots, c.orphans, c.duplicates),
        (300, 300, 0, 0)
    );
    assert_eq!(c.spans_read, 4499);
    assert_eq!(c.clients_merged, 1499);
    assert_eq!(c.spans_used, 4499 - 1499);
    assert!((60..=120).contains(&c.skew_shifted), "{c:?}");
    assert_eq!(c.skew_truncated, 0);
    assert!((300_000..=900_000).contains(&c.skew_max_ns), "{c:?}");

    // The call graphs the generator made, read back from the topology.
    let topo = load_import(&imports[0], "graphs");
    let ep = |name: &str| {
        topo.endpoints
            .iter()
            .find(|e| e.name == name)
            .unwrap_or_else(|| panic!("no endpoint {name}"))
    };
    let calls = |name: &str| -> Vec<Vec<(String, u32, bool, f64)>> {
        ep(name)
            .stages
            .iter()
            .map(|s| {
                s.iter()
                    .map(|&c| {
                        let c = &topo.calls[c as usize];
                        (
                            topo.endpoints[c.target as usize].name.clone(),
                            c.times,
                            c.parallel,
                            c.probability,
                        )
                    })
                    .collect()
            })
            .collect()
    };
    let checkout = calls("frontend.POST_checkout");
    assert_eq!(checkout.len(), 3, "{checkout:?}");
    let mut first: Vec<&str> = checkout[0].iter().map(|c| c.0.as_str()).collect();
    first.sort_unstable();
    assert_eq!(
        first,
        ["cart.GetCart", "catalog.ListProducts", "currency.Convert"]
    );
    let currency = checkout[0]
        .iter()
        .find(|c| c.0 == "currency.Convert")
        .unwrap();
    assert_eq!((currency.1, currency.2, currency.3), (2, true, 1.0));
    assert_eq!(checkout[1][0].0, "payment.Charge");
    assert_eq!(checkout[2][0].0, "email.SendConfirmation");
    assert!((0.3..0.5).contains(&checkout[2][0].3), "{checkout:?}");
    assert_eq!(
        calls("catalog.ListProducts"),
        [[("postgres.SELECT_products".to_string(), 3, false, 1.0)]]
    );
    let payment = calls("payment.Charge");
    assert_eq!(payment.len(), 2, "{payment:?}");
    assert_eq!(payment[0][0].0, "fraud.Score");
    assert!((0.6..0.8).contains(&payment[0][0].3));
    assert_eq!(payment[1][0].0, "postgres.INSERT_payment");
    let product = calls("frontend.GET_product");
    assert_eq!(
        product.len(),
        1,
        "parallel calls are one stage: {product:?}"
    );
    assert_eq!(product[0].len(), 2);
    // Sizes are the means of the recorded attributes (uniform 100-200 bytes
    // for GetCart's request).
    let cart = ep("cart.GetCart");
    assert!(
        (140..=160).contains(&cart.request_bytes),
        "{}",
        cart.request_bytes
    );
    assert_eq!(ep("redis.HGETALL").request_bytes, 0);
    // Arrivals: ~10 requests per second.
    assert!(
        matches!(topo.workload.arrivals, Arrivals::Poisson { rate } if (8.0..12.0).contains(&rate))
    );
    assert!(topo.services.iter().all(|s| s.replicas == 1));
}

/// Nearest-rank quantile of sorted values.
fn quantile(sorted: &[u64], q: f64) -> f64 {
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1] as f64
}

#[test]
fn simulating_the_import_reproduces_recorded_request_durations() {
    let import = import_one(&sample(SAMPLES[0]));
    let mut topo = load_import(&import, "durations");
    // Low load: 1 request per second on cores sized for 10, so queueing adds
    // next to nothing; 40,000 requests so the simulated side of each
    // comparison is precise and the recorded side carries the noise.
    topo.workload.arrivals = Arrivals::Poisson { rate: 1.0 };
    topo.workload.window = Window::Requests(40_000);
    let runs = run_replications(&topo, &Design::plaintext());
    for (i, &(entry, _)) in topo.workload.entries.iter().enumerate() {
        let name = &topo.endpoints[entry as usize].name;
        let model_ep = import
            .model
            .entries
            .iter()
            .map(|&(e, _)| e)
            .find(|&e| {
                let m = &import.model.endpoints[e];
                format!("{}.{}", import.model.services[m.service].name, m.name) == *name
            })
            .unwrap();
        let mut recorded: Vec<u64> = import
            .model
            .root_durations
            .iter()
            .filter(|r| r.0 == model_ep)
            .map(|r| r.1)
            .collect();
        recorded.sort_unstable();
        let mean = recorded.iter().sum::<u64>() as f64 / recorded.len() as f64;
        let lat = &runs[0].endpoints[i].latency;
        let sim = [
            lat.mean().unwrap(),
            lat.quantile(0.5).unwrap(),
            lat.quantile(0.99).unwrap(),
        ];
        let rec = [mean, quantile(&recorded, 0.5), quantile(&recorded, 0.99)];
        // Mean and median within 5%: the recorded mean of 90-210 requests
        // has a standard error of 2-3%. The p99 within 15%: with 90-210
        // requests it is the 1st-3rd largest, itself uncertain by ~10%.
        let tolerance = [0.05, 0.05, 0.15];
        for (k, what) in ["mean", "p50", "p99"].iter().enumerate() {
            let err = sim[k] / rec[k] - 1.0;
            eprintln!(
                "{name} {what}: recorded {:.3} ms, simulated {:.3} ms ({:+.1}%)",
                rec[k] / 1e6,
                sim[k] / 1e6,
                err * 100.0
            );
            assert!(
                err.abs() <= tolerance[k],
                "{name} {what}: recorded {:.3} ms, simulated {:.3} ms",
                rec[k] / 1e6,
                sim[k] / 1e6
            );
        }
    }
}

/// A Zipkin v2 span.
fn zspan(
    trace: &str,
    id: &str,
    parent: Option<&str>,
    service: &str,
    name: &str,
    ts: u64,
    dur: u64,
) -> String {
    let parent = parent.map_or(String::new(), |p| format!("\"parentId\":\"{p}\","));
    format!(
        "{{\"traceId\":\"{trace}\",{parent}\"id\":\"{id}\",\"name\":\"{name}\",\"timestamp\":{ts},\"duration\":{dur},\"localEndpoint\":{{\"serviceName\":\"{service}\"}}}}"
    )
}

fn zipkin(spans: &[String]) -> String {
    format!("[\n{}\n]\n", spans.join(",\n"))
}

#[test]
fn orphans_are_dropped_with_their_subtrees_and_counted() {
    let dir = scratch("orphans");
    let spans = [
        zspan("a1", "1", None, "web", "home", 1_000, 1_000),
        zspan("a1", "2", Some("1"), "db", "q", 1_100, 500),
        // Parent 99 was never recorded: 3 and its child 4 are dropped.
        zspan("a1", "3", Some("99"), "db", "lost", 1_200, 300),
        zspan("a1", "4", Some("3"), "db", "below", 1_250, 100),
        zspan("b2", "1", None, "web", "home", 2_000, 1_000),
    ];
    let import = trace::import(&[write_file(&dir, "t.json", &zipkin(&spans))], None).unwrap();
    let c = &import.model.cleanup;
    assert_eq!(
        (c.orphans, c.orphan_descendants, c.roots, c.spans_used),
        (1, 1, 2, 3)
    );
    assert!(
        import
            .model
            .endpoints
            .iter()
            .all(|e| e.raw != "lost" && e.raw != "below")
    );
    let report = import.report();
    assert!(report.contains("1 orphan spans"), "{report}");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn skewed_children_are_shifted_into_their_parent_and_counted() {
    let dir = scratch("skew");
    let spans = [
        zspan("a1", "1", None, "web", "home", 10_000, 1_000),
        // Starts 200 us before its parent: shifted right by 200 us.
        zspan("a1", "2", Some("1"), "api", "get", 9_800, 400),
        // Its child moves with it: 9_900 + 200 = 10_100, inside the new [10_000, 10_400].
        zspan("a1", "3", Some("2"), "db", "q", 9_900, 100),
        // Ends 300 us after its parent: shifted left.
        zspan("a1", "4", Some("1"), "cache", "get", 10_800, 500),
        // Longer than its parent: cut to it.
        zspan("b2", "1", None, "web", "home", 20_000, 1_000),
        zspan("b2", "2", Some("1"), "api", "get", 19_900, 1_500),
    ];
    let import = trace::import(&[write_file(&dir, "t.json", &zipkin(&spans))], None).unwrap();
    let c = &import.model.cleanup;
    assert_eq!(
        (c.skew_shifted, c.skew_truncated, c.skew_max_ns),
        (3, 1, 300_000),
        "{c:?}"
    );
    // After the shifts, api.get [10_000, 10_400] and cache.get [10_500,
    // 11_000] run one after the other, so web.home has two stages.
    let home = import
        .model
        .endpoints
        .iter()
        .find(|e| e.raw == "home")
        .unwrap();
    assert_eq!(home.stages.len(), 2, "{home:?}");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn interleaved_traces_and_duplicate_ids_are_handled() {
    let dir = scratch("interleave");
    let a = [
        zspan("a1", "1", None, "web", "home", 1_000, 1_000),
        zspan("a1", "2", Some("1"), "db", "q", 1_100, 500),
    ];
    let b = [
        zspan("b2", "1", None, "web", "home", 3_000, 800),
        zspan("b2", "2", Some("1"), "db", "q", 3_100, 300),
    ];
    let grouped = zipkin(&[a[0].clone(), a[1].clone(), b[0].clone(), b[1].clone()]);
    // Children before parents, traces mixed, one span sent twice.
    let mixed = zipkin(&[
        b[1].clone(),
        a[1].clone(),
        b[0].clone(),
        a[1].clone(),
        a[0].clone(),
    ]);
    let g = trace::import(&[write_file(&dir, "g.json", &grouped)], None).unwrap();
    let m = trace::import(&[write_file(&dir, "m.json", &mixed)], None).unwrap();
    assert_eq!(m.model.cleanup.duplicates, 1);
    assert_eq!(g.model.cleanup.duplicates, 0);
    assert_eq!(
        write::topology_toml(&g.model, "t", ""),
        write::topology_toml(&m.model, "t", "")
    );
    // Zipkin's shared spans: a client and a server span under one id are a
    // call, not a duplicate.
    let shared = format!(
        "[{},{},{}]",
        zspan("c3", "1", None, "web", "home", 1_000, 1_000),
        zspan("c3", "2", Some("1"), "web", "get", 1_100, 600)
            .replace("\"name\"", "\"kind\":\"CLIENT\",\"name\""),
        zspan("c3", "2", Some("1"), "api", "get", 1_200, 400)
            .replace("\"name\"", "\"kind\":\"SERVER\",\"name\""),
    );
    let s = trace::import(&[write_file(&dir, "s.json", &shared)], None).unwrap();
    let c = &s.model.cleanup;
    assert_eq!(
        (c.shared_split, c.duplicates, c.clients_merged),
        (1, 0, 1),
        "{c:?}"
    );
    let names: Vec<String> = s
        .model
        .endpoints
        .iter()
        .map(|e| format!("{}.{}", s.model.services[e.service].name, e.name))
        .collect();
    assert_eq!(names, ["web.home", "api.get"]);
    std::fs::remove_dir_all(dir).ok();
}

fn error_of(path: &Path, format: Option<Format>) -> String {
    match trace::import(&[path.to_path_buf()], format) {
        Ok(_) => panic!("{path:?} was accepted"),
        Err(d) => d.iter().map(|d| format!("{d}\n")).collect(),
    }
}

#[test]
fn bad_input_is_refused_with_where_and_why() {
    let dir = scratch("bad");
    // Invalid JSON: the position of the problem.
    let broken = write_file(
        &dir,
        "broken.json",
        "[\n{\"traceId\":\"a\",\"id\":\"1\",\"timestamp\":5,}\n]\n",
    );
    let e = error_of(&broken, None);
    assert!(e.contains("broken.json:2:"), "{e}");
    assert!(e.contains("invalid Zipkin v2 JSON"), "{e}");
    // A missing required field: named, with its position.
    let missing = write_file(
        &dir,
        "missing.json",
        "[{\"traceId\":\"a\",\"timestamp\":5}]",
    );
    let e = error_of(&missing, None);
    assert!(
        e.contains("missing field `id`") && e.contains("missing.json:1:"),
        "{e}"
    );
    // Cut short.
    let cut = write_file(
        &dir,
        "cut.json",
        "{\"data\":[{\"traceID\":\"a\",\"spans\":[",
    );
    let e = error_of(&cut, None);
    assert!(e.contains("cut short"), "{e}");
    // The wrong format named.
    let e = error_of(&sample(SAMPLES[1]), Some(Format::Jaeger));
    assert!(
        e.contains("looks like Zipkin v2 JSON")
            && e.contains("not Jaeger JSON")
            && e.contains("--format zipkin"),
        "{e}"
    );
    let e = error_of(&sample(SAMPLES[2]), Some(Format::Zipkin));
    assert!(
        e.contains("looks like OTLP JSON") && e.contains("--format otlp"),
        "{e}"
    );
    // Not traces at all.
    let topo = Path::new(env!("CARGO_MANIFEST_DIR")).join("topologies/minimal.toml");
    assert!(error_of(&topo, None).contains("looks like a TOML file"));
    let csv = write_file(&dir, "a.csv", "at_ns,entry\n0,web.home\n");
    assert!(error_of(&csv, None).contains("looks like a CSV file"));
    let empty = write_file(&dir, "empty.json", "  \n");
    assert!(error_of(&empty, None).contains("an empty file"));
    let other = write_file(&dir, "other.json", "{\"hello\": 1}");
    assert!(error_of(&other, None).contains("no trace format"));
    // No root anywhere.
    let rootless = write_file(
        &dir,
        "rootless.json",
        &zipkin(&[zspan("a1", "2", Some("1"), "db", "q", 1_100, 500)]),
    );
    let e = error_of(&rootless, None);
    assert!(e.contains("no root span in any of the 1 traces"), "{e}");
    // Exit code 2 from the command, with file, line and column.
    let out = Command::new(env!("CARGO_BIN_EXE_ztsim"))
        .args(["import", broken.to_str().unwrap(), "--out"])
        .arg(dir.join("out"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("broken.json:2:"), "{stderr}");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn the_command_writes_a_topology_and_arrivals_that_load() {
    let dir = scratch("cli");
    let out = Command::new(env!("CARGO_BIN_EXE_ztsim"))
        .arg("import")
        .arg(sample(SAMPLES[2]))
        .arg("--out")
        .arg(&dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("4499 spans in 300 traces"), "{stdout}");
    assert!(stdout.contains("client spans merged"), "{stdout}");
    // The name is the file's up to its first dot.
    let toml = std::fs::read_to_string(dir.join("checkout.toml")).unwrap();
    assert!(toml.contains("replay = \"checkout.arrivals.csv\""));
    // Loadable as written, recorded arrivals included.
    let topo = ztsim::config::load_topology(&dir.join("checkout.toml")).unwrap();
    assert!(topo.workload.recording.is_some());
    let csv = std::fs::read_to_string(dir.join("checkout.arrivals.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("at_ns,entry"));
    let rows: Vec<(u64, &str)> = lines
        .map(|l| {
            let (at, entry) = l.split_once(',').unwrap();
            (at.parse().unwrap(), entry)
        })
        .collect();
    assert_eq!(rows.len(), 300);
    assert_eq!(rows[0].0, 0);
    assert!(rows.windows(2).all(|w| w[0].0 <= w[1].0));
    assert!(
        rows.iter()
            .all(|r| r.1 == "frontend.POST_checkout" || r.1 == "frontend.GET_product")
    );
    // A second import into the same --out does not overwrite the first: it
    // is refused (exit 2), and no folder is made beside it.
    let again = Command::new(env!("CARGO_BIN_EXE_ztsim"))
        .args(["import", "--name", "checkout"])
        .arg(sample(SAMPLES[0]))
        .arg("--out")
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already holds results"));
    assert_eq!(
        std::fs::read_to_string(dir.join("checkout.arrivals.csv")).unwrap(),
        csv
    );
    let second = dir.with_file_name(format!("{}-2", dir.file_name().unwrap().to_string_lossy()));
    assert!(!second.exists());
    std::fs::remove_dir_all(dir).ok();
}

/// A small deterministic generator for the mutations below.
struct Mutator(u64);

impl Mutator {
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

    /// One edit: delete, duplicate or move a range, or insert a character or
    /// an edge value.
    fn mutate(&mut self, text: &mut Vec<u8>) {
        const INSERTS: [&str; 12] = [
            "\"",
            "{",
            "}",
            "[",
            "]",
            ",",
            ":",
            "null",
            "-1",
            "1e400",
            "\"0000000000000000\"",
            "\u{fffd}",
        ];
        let len = text.len();
        let a = self.below(len);
        let b = (a + 1 + self.below(40)).min(len);
        match self.below(4) {
            0 => {
                text.drain(a..b);
            }
            1 => {
                let piece: Vec<u8> = text[a..b].to_vec();
                let at = self.below(len);
                text.splice(at..at, piece);
            }
            2 => {
                let at = self.below(len);
                let ins = INSERTS[self.below(INSERTS.len())].as_bytes();
                text.splice(at..at, ins.iter().copied());
            }
            _ => {
                // Replace a number with an edge value.
                let digits = text[a..].iter().position(u8::is_ascii_digit).map(|p| a + p);
                if let Some(start) = digits {
                    let end = start
                        + text[start..]
                            .iter()
                            .take_while(|c| c.is_ascii_digit())
                            .count();
                    let edge = [
                        "0",
                        "18446744073709551615",
                        "99999999999999999999999",
                        "1.5",
                    ];
                    text.splice(start..end, edge[self.below(edge.len())].bytes());
                }
            }
        }
    }
}

#[test]
fn mutated_trace_files_never_panic() {
    let dir = scratch("fuzz");
    let mut m = Mutator(2026);
    let mut accepted = 0;
    let mut refused = 0;
    for (name, traces) in [("a.json", 0), ("b.json", 1), ("c.jsonl", 2)] {
        // A few traces of each format, to keep each try small.
        let few = || ztsim::trace::synth::Checkout::new(3, 50.0).take(4);
        let mut base = Vec::new();
        match traces {
            0 => ztsim::trace::synth::write_jaeger(few(), &mut base).unwrap(),
            1 => ztsim::trace::synth::write_zipkin(few(), &mut base).unwrap(),
            _ => ztsim::trace::synth::write_otlp(few(), &mut base).unwrap(),
        }
        for _ in 0..400 {
            let mut text = base.clone();
            for _ in 0..1 + m.below(3) {
                m.mutate(&mut text);
            }
            let path = dir.join(name);
            std::fs::write(&path, &text).unwrap();
            match trace::import(std::slice::from_ref(&path), None) {
                Ok(import) => {
                    accepted += 1;
                    // Whatever was accepted writes a topology the loader takes
                    // or refuses with a diagnostic, never a panic.
                    let toml = write::topology_toml(&import.model, "fuzz", "fuzz");
                    write_file(
                        &dir,
                        "fuzz.arrivals.csv",
                        &write::arrivals_csv(&import.model),
                    );
                    let path = write_file(&dir, "fuzz.toml", &toml);
                    let _ = ztsim::config::load_topology(&path);
                }
                Err(d) => {
                    refused += 1;
                    assert!(!d.is_empty());
                }
            }
        }
    }
    // Both outcomes happen, so the mutations reach the builder, not only the parser.
    assert!(
        accepted > 100 && refused > 100,
        "{accepted} accepted, {refused} refused"
    );
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn cpu_samples_are_a_capped_deterministic_reservoir() {
    let dir = scratch("reservoir");
    let path = dir.join("many.jsonl");
    let traces = ztsim::trace::synth::Checkout::new(11, 100.0).take(1000);
    ztsim::trace::synth::write_otlp(traces, std::fs::File::create(&path).unwrap()).unwrap();
    let a = import_one(&path);
    let b = import_one(&path);
    assert_eq!(a.model, b.model, "the same file gives the same samples");
    let select = a
        .model
        .endpoints
        .iter()
        .find(|e| e.raw == "SELECT products")
        .unwrap();
    // 3 reads in each of ~700 checkouts: more than the cap.
    assert!(select.invocations > 1500, "{}", select.invocations);
    assert_eq!(select.cpu.len(), ztsim::trace::build::CPU_SAMPLES);
    assert!(select.cpu.windows(2).all(|w| w[0] <= w[1]));
    // A uniform sample: its mean is the mean of every invocation's self time
    // within a few percent (lognormal, p99/median 3: CV ~0.5, so the standard
    // error of a 1,000-sample mean against the whole is ~1%).
    let sampled = select.cpu.iter().sum::<u64>() as f64 / select.cpu.len() as f64;
    assert!(
        (sampled / select.mean_self - 1.0).abs() < 0.05,
        "{sampled} vs {}",
        select.mean_self
    );
    std::fs::remove_dir_all(dir).ok();
}
