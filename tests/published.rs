//! `ztsim published`: the presets against published measurements. The quick
//! run goes end to end from a folder outside the repository (the setups are
//! compiled in), writes a well-formed `published.csv` with finite figures,
//! the same bytes twice; and the off-path share of the proxies' CPU does
//! what it must: less latency added for the same CPU. The accuracy itself
//! is reported by the full run (docs/validation.md), not asserted here.
//! The shipped benchmark designs keep the presets' tables.

mod common;

use common::{Run, TempDir, root};

const HEADER: &str = "reference,row,unit,reference_value,ztsim,error";

/// The rows of a CSV (after the header), split on commas outside quotes.
fn rows(csv: &str) -> Vec<Vec<String>> {
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some(HEADER));
    lines
        .map(|l| {
            let (mut cells, mut cell, mut quoted) = (Vec::new(), String::new(), false);
            for ch in l.chars() {
                match ch {
                    '"' => quoted = !quoted,
                    ',' if !quoted => cells.push(std::mem::take(&mut cell)),
                    c => cell.push(c),
                }
            }
            cells.push(cell);
            cells
        })
        .collect()
}

fn value(rows: &[Vec<String>], row: &str) -> f64 {
    rows.iter()
        .find(|r| r[1] == row)
        .unwrap_or_else(|| panic!("no row {row}"))[4]
        .parse()
        .unwrap()
}

#[test]
fn quick_run_writes_finite_rows_and_the_off_path_share_cuts_latency_not_cpu() {
    let dir = TempDir::new("published");
    let r = Run::from(common::ztsim_in(dir.path(), &["published", "--quick"]));
    r.expect_code(0);
    assert!(
        r.stdout.contains("istio-perf") && r.stdout.contains("linkerd-bench"),
        "{}",
        r.show()
    );
    let csv = std::fs::read_to_string(dir.path().join("output/published/published.csv")).unwrap();
    let rows = rows(&csv);
    assert_eq!(rows.len(), 9, "{csv}");
    for row in &rows {
        assert_eq!(row.len(), 6, "{row:?}");
        assert!(
            ["istio-perf", "linkerd-bench"].contains(&row[0].as_str()),
            "{row:?}"
        );
        let n: Vec<f64> = row[3..].iter().map(|c| c.parse().unwrap()).collect();
        assert!(n.iter().all(|v| v.is_finite()), "{row:?}");
        assert!(n[0] > 0.0 && n[1] > 0.0, "{row:?}");
        let error = (n[1] - n[0]) / n[0];
        assert!(
            (error - n[2]).abs() < 2e-3,
            "{row:?}: error is (ztsim - reference) / reference"
        );
    }
    // Every sidecar job puts 0.625 x 200 us less on the path, two sidecars
    // per call: the added p90 and p99 drop by about 0.25 ms, while the CPU
    // per request is the same.
    let all = " (all proxy CPU on the path)";
    for q in ["p90", "p99"] {
        let row = format!("added {q} two sidecars");
        let (split, on_path) = (value(&rows, &row), value(&rows, &format!("{row}{all}")));
        assert!(
            (0.2..0.3).contains(&(on_path - split)),
            "{q}: off the path {split} ms, all on it {on_path} ms"
        );
    }
    let row = "vCPU per 1000 rps per sidecar";
    let (split, on_path) = (value(&rows, row), value(&rows, &format!("{row}{all}")));
    assert!(
        (split - on_path).abs() < 0.01 * on_path,
        "CPU {split} vs {on_path}"
    );
    assert!(
        (0.19..0.21).contains(&split),
        "200 us per request: {split} vCPU"
    );
    // Deterministic: a second run (into output/published-2) writes the same bytes.
    Run::from(common::ztsim_in(dir.path(), &["published", "--quick"])).expect_code(0);
    let again =
        std::fs::read_to_string(dir.path().join("output/published-2/published.csv")).unwrap();
    assert_eq!(csv, again);
}

/// A table of a TOML file.
fn table(path: &str, name: &str) -> toml::Table {
    let text = std::fs::read_to_string(root().join(path)).unwrap();
    let doc: toml::Table = text.parse().unwrap();
    doc.get(name)
        .and_then(|v| v.as_table())
        .cloned()
        .unwrap_or_else(|| panic!("{path}: no [{name}]"))
}

/// The benchmark designs are the presets without what the benchmarks did
/// not enable (JWT, policy, token fetches): every other table is equal.
#[test]
fn the_benchmark_designs_keep_the_presets_tables() {
    for (preset, design, tables) in [
        (
            "models/istio-sidecar.toml",
            "topologies/published/istio-sidecar.design.toml",
            &["transport", "connections", "resumption", "proxy"][..],
        ),
        (
            "models/linkerd-like.toml",
            "topologies/published/linkerd-2021.design.toml",
            &[
                "transport",
                "connections",
                "resumption",
                "identity",
                "proxy",
            ][..],
        ),
    ] {
        for t in tables {
            assert_eq!(
                table(preset, t),
                table(design, t),
                "{design} [{t}] differs from {preset}"
            );
        }
    }
    let mut identity = table("models/istio-sidecar.toml", "identity");
    identity.remove("token_ttl");
    identity.remove("token_issuer");
    assert_eq!(
        identity,
        table("topologies/published/istio-sidecar.design.toml", "identity")
    );
    // Istio 2021: the same but for the era's per-request CPU.
    let mut proxy = table("topologies/published/istio-sidecar.design.toml", "proxy");
    proxy.insert("request_cpu".into(), "350us".into());
    assert_eq!(
        proxy,
        table("topologies/published/istio-2021.design.toml", "proxy")
    );
}
