//! Workloads with several entry endpoints: each entry keeps its own latency
//! CDF, time series and critical-path attribution, and the latency charts
//! draw one panel per entry unless the study asks for them blended
//! (`blend_entries`). A 1 ms lookup and a 20 ms payment must not share one
//! p99.
//!
//! The system is exact: constant arrivals far apart and constant CPU, so
//! every lookup takes the same time and every payment 19 ms longer.

mod common;

use std::path::Path;

use common::{TempDir, ztsim_in};
use serde_json::Value;

const TOPOLOGY: &str = r#"
name = "two-doors"
[zones.z]
rtt = "1ms"
[services.api]
zone = "z"
cores = 8
[services.api.endpoints.lookup]
cpu = "1ms"
[services.api.endpoints.pay]
cpu = "20ms"
[workload]
arrivals = "constant"
rate = 20
client_zone = "z"
warmup = "1s"
duration = "20s"
seed = 7
replications = 2
entry = [
  { endpoint = "api.lookup", weight = 3 },
  { endpoint = "api.pay", weight = 1 },
]
"#;

/// A study of `topology` under plaintext and one constant-cost mTLS design,
/// with `extra` lines; returns its results.json and the output folder.
fn sweep(dir: &Path, topology: &str, extra: &str) -> (Value, std::path::PathBuf) {
    std::fs::write(dir.join("two.toml"), topology).unwrap();
    std::fs::write(dir.join("plain.toml"), common::PLAIN).unwrap();
    std::fs::write(dir.join("mtls.toml"), common::MTLS).unwrap();
    std::fs::write(
        dir.join("two.study.toml"),
        format!(
            "topology = \"two.toml\"\ndesigns = [\"plain.toml\", \"mtls.toml\"]\nrates = [10, 20]\n{extra}"
        ),
    )
    .unwrap();
    let out = dir.join("out");
    let run: common::Run =
        ztsim_in(dir, &["sweep", "two.study.toml", "--out", "out", "--quiet"]).into();
    assert_eq!(run.code, Some(0), "{}", run.show());
    let json = std::fs::read_to_string(out.join("results.json")).unwrap();
    (serde_json::from_str(&json).unwrap(), out)
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("{v} is not a number"))
}

/// The visible text of an SVG chart (kept invisible beside its outlines).
fn svg_text(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Width and height of a PNG.
fn png_size(path: &Path) -> (u32, u32) {
    let png = std::fs::read(path).unwrap();
    let at = |i: usize| u32::from_be_bytes(png[i..i + 4].try_into().unwrap());
    (at(16), at(20))
}

#[test]
fn each_entry_keeps_its_own_distributions() {
    let dir = TempDir::new("entries-own");
    let (r, _) = sweep(dir.path(), TOPOLOGY, "");
    for p in r["points"].as_array().unwrap() {
        let entries = p["entries"].as_array().expect("per-entry results");
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0]["name"], "api.lookup");
        assert_eq!(entries[1]["name"], "api.pay");
        // Constant costs: each entry's CDF is one value, and a payment
        // takes exactly 19 ms more than a lookup (within the histogram's
        // 0.1%).
        let spread = |e: &Value| {
            let cdf = e["cdf"].as_array().unwrap();
            assert!(cdf.len() >= 10, "{cdf:?}");
            let ms: Vec<f64> = cdf.iter().map(|c| f(&c["ms"])).collect();
            (ms[0], ms[ms.len() - 1])
        };
        let (lo_a, hi_a) = spread(&entries[0]);
        let (lo_b, hi_b) = spread(&entries[1]);
        assert!(hi_a <= lo_a * 1.002, "lookup CDF {lo_a}..{hi_a}");
        assert!(hi_b <= lo_b * 1.002, "payment CDF {lo_b}..{hi_b}");
        assert!(((lo_b - lo_a) - 19.0).abs() < 0.05, "{lo_a} vs {lo_b}");
        // The blended CDF spans both.
        let all: Vec<f64> = p["cdf"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| f(&c["ms"]))
            .collect();
        assert!(all[0] <= lo_a * 1.002 && all[all.len() - 1] >= lo_b * 0.998);

        // Attribution per entry: the business CPU is the endpoint's own.
        let endpoints = p["summary"]["endpoints"].as_array().unwrap();
        let cpu = |e: &Value| {
            let a = e["attribution"].as_array().expect("per-entry attribution");
            let total: f64 = a.iter().map(|s| f(&s["mean_ms"]["mean"])).sum();
            let mean = f(&e["latency_ms"]["mean"]["mean"]);
            assert!((total - mean).abs() < 1e-6 * mean, "{total} vs {mean}");
            let business = a.iter().find(|s| s["span"] == "business_cpu").unwrap();
            f(&business["mean_ms"]["mean"])
        };
        assert!((cpu(&endpoints[0]) - 1.0).abs() < 1e-9);
        assert!((cpu(&endpoints[1]) - 20.0).abs() < 1e-9);

        // The entries' series split the whole's requests interval by
        // interval, and carry no handshake count of their own.
        let whole = p["series"].as_array().unwrap();
        let (a, b) = (
            entries[0]["series"].as_array().unwrap(),
            entries[1]["series"].as_array().unwrap(),
        );
        assert!(!whole.is_empty());
        for (i, w) in whole.iter().enumerate() {
            let part = |s: &[Value]| s.get(i).map_or(0.0, |x| f(&x["requests_per_s"]));
            let sum = part(a) + part(b);
            assert!((sum - f(&w["requests_per_s"])).abs() < 1e-9, "interval {i}");
        }
        assert!(a.iter().all(|s| s.get("full_handshakes_per_s").is_none()));
        assert!(
            whole
                .iter()
                .all(|s| s.get("full_handshakes_per_s").is_some())
        );
    }
}

#[test]
fn latency_charts_are_drawn_per_entry_unless_blended() {
    let dir = TempDir::new("entries-charts");
    let (_, out) = sweep(dir.path(), TOPOLOGY, "");
    let per_entry = [
        "latency-vs-load",
        "latency-cdf",
        "attribution",
        "latency-over-time",
    ];
    for stem in per_entry {
        let svg = svg_text(&out.join(format!("{stem}.svg")));
        assert!(
            svg.contains("api.lookup: 75% of requests") && svg.contains("api.pay: 25% of requests"),
            "{stem} has no panel per entry"
        );
        assert!(svg.contains("One panel per entry endpoint"), "{stem}");
    }
    // System-wide charts stay whole.
    for stem in ["throughput-vs-load", "cpu-by-category"] {
        let svg = svg_text(&out.join(format!("{stem}.svg")));
        assert!(!svg.contains("of requests"), "{stem} drawn per entry");
    }

    // Asked for, the blended view: no panels, the usual size.
    let dir = TempDir::new("entries-blended");
    let (r, out) = sweep(dir.path(), TOPOLOGY, "blend_entries = true\n");
    assert_eq!(r["blend_entries"], true);
    for stem in per_entry {
        let svg = svg_text(&out.join(format!("{stem}.svg")));
        assert!(!svg.contains("of requests"), "{stem} not blended");
        assert_eq!(
            png_size(&out.join(format!("{stem}.png"))),
            ztsim::charts::SIZE
        );
    }
    // `ztsim plot --blend-entries` redraws per-entry results blended.
    let run: common::Run = ztsim_in(
        dir.path(),
        &[
            "plot",
            "out/results.json",
            "--out",
            "replot",
            "--blend-entries",
        ],
    )
    .into();
    assert_eq!(run.code, Some(0), "{}", run.show());
    let svg = svg_text(&dir.path().join("replot/latency-cdf.svg"));
    assert!(!svg.contains("of requests"));
}

#[test]
fn many_entries_draw_the_busiest_on_a_taller_canvas() {
    // Eight entries: the six busiest get a panel each, three rows.
    let mut topo = String::from(
        "name = \"many\"\n[zones.z]\nrtt = \"1ms\"\n[services.api]\nzone = \"z\"\ncores = 8\n",
    );
    let mut entry = String::new();
    for i in 0..8 {
        topo.push_str(&format!(
            "[services.api.endpoints.e{i}]\ncpu = \"{}ms\"\n",
            i + 1
        ));
        entry.push_str(&format!(
            "{{ endpoint = \"api.e{i}\", weight = {} }},\n",
            10 - i
        ));
    }
    topo.push_str(&format!(
        "[workload]\narrivals = \"constant\"\nrate = 20\nclient_zone = \"z\"\nwarmup = \"1s\"\n\
         duration = \"10s\"\nseed = 3\nreplications = 1\nentry = [\n{entry}]\n"
    ));
    let dir = TempDir::new("entries-many");
    let (_, out) = sweep(dir.path(), &topo, "");
    let svg = svg_text(&out.join("latency-cdf.svg"));
    assert!(
        svg.contains("the 6 busiest of 8"),
        "no note of the entries left out"
    );
    assert!(svg.contains("api.e5: ") && !svg.contains("api.e6: "));
    let (w, h) = png_size(&out.join("latency-cdf.png"));
    assert_eq!(w, ztsim::charts::SIZE.0);
    assert!(h > ztsim::charts::SIZE.1, "three rows of panels in {h} px");
}

#[test]
fn one_entry_has_no_per_entry_figures() {
    let one = TOPOLOGY.replace(
        "entry = [\n  { endpoint = \"api.lookup\", weight = 3 },\n  { endpoint = \"api.pay\", weight = 1 },\n]",
        "entry = [{ endpoint = \"api.lookup\" }]",
    );
    let dir = TempDir::new("entries-one");
    let (r, out) = sweep(dir.path(), &one, "");
    for p in r["points"].as_array().unwrap() {
        assert!(p.get("entries").is_none());
        assert!(p["summary"]["endpoints"][0].get("attribution").is_none());
    }
    assert!(r.get("blend_entries").is_none());
    let svg = svg_text(&out.join("latency-cdf.svg"));
    assert!(!svg.contains("One panel per entry endpoint"));
}

/// The rows of `ztsim run` for `topology`'s two entries: (name, requests,
/// rest of the row).
fn run_rows(name: &str, topology: &str) -> Vec<(String, f64, String)> {
    let dir = TempDir::new(name);
    std::fs::write(dir.path().join("two.toml"), topology).unwrap();
    let run: common::Run = ztsim_in(dir.path(), &["run", "two.toml", "--out", "out"]).into();
    assert_eq!(run.code, Some(0), "{}", run.show());
    run.stdout
        .lines()
        .filter(|l| l.starts_with("api.lookup ") || l.starts_with("api.pay "))
        .map(|l| {
            let cells: Vec<&str> = l.split_whitespace().collect();
            (
                cells[0].into(),
                cells[1].parse().unwrap(),
                cells[3..].join(" "),
            )
        })
        .collect()
}

/// Weights near f64::MAX sum to infinity; normalised, each must keep its
/// share rather than become 0 (which sent every request to one entry and
/// called the other saturated).
#[test]
fn huge_weights_keep_their_shares() {
    let rows = run_rows(
        "entries-huge",
        &TOPOLOGY
            .replace("weight = 3 }", "weight = 1e308 }")
            .replace("weight = 1 }", "weight = 1e308 }"),
    );
    assert_eq!(rows.len(), 2, "{rows:?}");
    // 400 requests a replication, each entry drawn with probability 1/2.
    for (name, requests, rest) in &rows {
        assert!(
            (150.0..=250.0).contains(requests),
            "{name}: {requests} {rest}"
        );
    }
}

/// An entry of a weight too small to draw a request reads `no requests`,
/// not `saturated`, in a run that is not saturated.
#[test]
fn an_entry_that_drew_no_request_is_not_called_saturated() {
    let rows = run_rows(
        "entries-tiny",
        &TOPOLOGY.replace("weight = 1 }", "weight = 1e-12 }"),
    );
    let pay = rows
        .iter()
        .find(|r| r.0 == "api.pay")
        .expect("a row for api.pay");
    assert_eq!(pay.1, 0.0, "{rows:?}");
    assert_eq!(pay.2, "no requests", "{rows:?}");
    let lookup = rows.iter().find(|r| r.0 == "api.lookup").unwrap();
    assert_eq!(lookup.1, 400.0, "{rows:?}");
}
