//! Charts from a small but real study: three designs at three loads on the
//! minimal topology (naive mTLS saturates at the highest), built without the
//! sweep runner; then the edge cases a study can hand the charts (no points,
//! one point, everything saturated, closed loop, no confidence intervals,
//! extra parameters) must not panic.
//!
//! The charts land in `target/tmp/charts/<case>/` for a look.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ztsim::charts::{Chart, SIZE, focus_rate, render_all};
use ztsim::config::{parse_design, parse_topology};
use ztsim::model::Replications;
use ztsim::report::study::{Coordinates, PointResult, StudyResults, cdf, series};
use ztsim::report::summarize;

const RATES: [f64; 3] = [300.0, 900.0, 1500.0];
const DESIGNS: [&str; 3] = ["plaintext", "istio-sidecar", "naive-mtls"];

fn topology(rate: f64) -> String {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/topologies/minimal.toml"
    ))
    .expect("minimal topology");
    // Short runs: the test is about drawing, not about precision.
    text.replace("rate = 1000 ", &format!("rate = {rate} "))
        .replace("warmup = \"2s\"", "warmup = \"0.5s\"")
        .replace("duration = \"20s\"", "duration = \"2s\"")
        .replace("replications = 3", "replications = 2")
}

fn point(index: usize, design: &str, rate: f64) -> PointResult {
    let topo = parse_topology("minimal.toml", &topology(rate)).expect("topology parses");
    assert_eq!(
        topo.workload.arrivals.rate(),
        Some(rate),
        "rate substituted"
    );
    let file = format!("{}/models/{design}.toml", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&file).expect("design file");
    let d = parse_design(&file, &text, Some(&topo)).expect("design parses");
    let runs = Replications::of(&topo, &d);
    let summary = summarize(&topo, &d, &runs.runs);
    let replications = runs
        .runs
        .iter()
        .map(|r| summarize(&topo, &d, std::slice::from_ref(r)))
        .collect();
    PointResult {
        index,
        at: Coordinates {
            design: design.to_string(),
            rate_rps: Some(rate),
            params: Vec::new(),
        },
        seed: topo.workload.seed,
        same_as: None,
        not_applying: Vec::new(),
        summary,
        replications,
        cdf: cdf(&runs.pooled),
        series: series(&runs.runs, None),
        entries: Vec::new(),
    }
}

/// The study, simulated once for all tests.
fn study() -> &'static StudyResults {
    static STUDY: OnceLock<StudyResults> = OnceLock::new();
    STUDY.get_or_init(|| {
        let mut points = Vec::new();
        for d in DESIGNS {
            for r in RATES {
                points.push(point(points.len(), d, r));
            }
        }
        StudyResults {
            ztsim_version: env!("CARGO_PKG_VERSION").to_string(),
            name: "charts-test".into(),
            title: "What does Zero Trust cost on a two-service call path?".into(),
            topology: "minimal".into(),
            designs: DESIGNS.iter().map(|s| s.to_string()).collect(),
            rates: RATES.to_vec(),
            focus_rate: Some(900.0),
            blend_entries: false,
            params: Vec::new(),
            replications: 2,
            slos: Vec::new(),
            setup: None,
            partial_of: None,
            points,
        }
    })
}

fn out_dir(case: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("charts")
        .join(case);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Checks both files of `chart` in `dir` and returns their sizes.
fn check_chart(dir: &Path, chart: Chart) -> (u64, u64) {
    let svg_path = dir.join(format!("{}.svg", chart.stem()));
    let svg = std::fs::read_to_string(&svg_path)
        .unwrap_or_else(|e| panic!("{}: {e}", svg_path.display()));
    let head = svg.trim_start();
    assert!(
        head.starts_with("<svg") || head.starts_with("<?xml"),
        "{} does not start like an SVG",
        svg_path.display()
    );
    assert!(
        svg.trim_end().ends_with("</svg>"),
        "{} is cut short",
        svg_path.display()
    );
    assert!(
        svg.contains(chart.title()),
        "{} lacks its title",
        svg_path.display()
    );
    let lines = check_svg_text(&svg);
    assert!(
        lines.iter().any(|l| l.trim() == chart.title()),
        "{} does not draw its title",
        svg_path.display()
    );

    let png_path = dir.join(format!("{}.png", chart.stem()));
    let png = std::fs::read(&png_path).unwrap_or_else(|e| panic!("{}: {e}", png_path.display()));
    assert_eq!(
        &png[..8],
        b"\x89PNG\r\n\x1a\n",
        "{} signature",
        png_path.display()
    );
    assert_eq!(&png[12..16], b"IHDR", "{} header", png_path.display());
    let w = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let h = u32::from_be_bytes(png[20..24].try_into().unwrap());
    assert_eq!((w, h), SIZE, "{} size", png_path.display());
    assert!(
        png.len() > 20_000,
        "{} is {} bytes: blank?",
        png_path.display(),
        png.len()
    );
    (svg.len() as u64, png.len() as u64)
}

/// Checks a chart SVG's text: every line is drawn as glyph outlines, one
/// `<use>` per visible character, each glyph defined once in `<defs>`, and
/// the text itself kept (invisible) beside it. Returns the lines' text.
fn check_svg_text(svg: &str) -> Vec<String> {
    let defs = svg.split("<defs>").nth(1).unwrap_or("");
    let defs = &defs[..defs.find("</defs>").unwrap_or(0)];
    assert!(!svg.contains("@font-face"), "the font is embedded again");
    let mut lines = Vec::new();
    for group in svg.split("<g aria-hidden=\"true\"").skip(1) {
        let end = group.find("</g>").expect("glyph group closed");
        let uses: Vec<&str> = group[..end]
            .split("<use xlink:href=\"#")
            .skip(1)
            .map(|u| &u[..u.find('"').unwrap()])
            .collect();
        for id in &uses {
            assert!(
                defs.contains(&format!("<path id=\"{id}\" ")),
                "glyph {id} used but not defined"
            );
        }
        let rest = &group[end..];
        let text = rest.find("<text fill-opacity=\"0\" ").and_then(|t| {
            let t = &rest[t..];
            Some(&t[t.find('>')? + 1..t.find("</text>")?])
        });
        let text = text
            .expect("each glyph group is followed by its invisible text")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&amp;", "&");
        let visible = text.chars().filter(|c| !c.is_whitespace()).count();
        assert_eq!(uses.len(), visible, "glyphs drawn for {text:?}");
        lines.push(text);
    }
    assert_eq!(
        lines.len(),
        svg.matches("<text ").count(),
        "every text drawn as outlines"
    );
    lines
}

#[test]
fn a_study_gets_all_six_charts() {
    let s = study();
    // The study is what the charts are meant to show: naive mTLS saturates at
    // the highest load, nothing saturates at the focus load.
    let saturated: Vec<_> = s
        .points
        .iter()
        .filter(|p| p.summary.saturated.is_some())
        .map(|p| (p.at.design.as_str(), p.at.rate_rps))
        .collect();
    assert!(
        saturated.contains(&("naive-mtls", Some(1500.0))),
        "expected naive-mtls to saturate at 1500 rps: {saturated:?}"
    );
    assert!(
        s.points
            .iter()
            .filter(|p| p.at.rate_rps == Some(900.0))
            .all(|p| p.summary.saturated.is_none()),
        "nothing should saturate at the focus load"
    );

    assert_eq!(focus_rate(s), Some(900.0));
    let mut unset = s.clone();
    unset.focus_rate = None;
    assert_eq!(
        focus_rate(&unset),
        Some(900.0),
        "highest load at which nothing saturates"
    );

    let dir = out_dir("study");
    let written = render_all(s, &dir).expect("charts render");
    assert_eq!(written.len(), 2 * Chart::ALL.len(), "{written:?}");
    for chart in Chart::ALL {
        let (svg, png) = check_chart(&dir, chart);
        eprintln!("{:<20} svg {svg:>8} B  png {png:>7} B", chart.stem());
    }
    // Written atomically: no temporary files left behind.
    let stray: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !(n.ends_with(".svg") || n.ends_with(".png")) || n.starts_with('.'))
        .collect();
    assert!(stray.is_empty(), "{stray:?}");
}

#[test]
fn charts_survive_degenerate_studies() {
    let full = study();

    // No points: nothing to draw, nothing written.
    let mut empty = full.clone();
    empty.points.clear();
    let dir = out_dir("empty");
    assert!(render_all(&empty, &dir).unwrap().is_empty());

    // One design at one load.
    let mut one = full.clone();
    one.points = vec![full.points[1].clone()];
    one.designs = vec!["plaintext".into()];
    one.rates = vec![900.0];
    let dir = out_dir("single");
    let written = render_all(&one, &dir).unwrap();
    assert_eq!(written.len(), 12, "{written:?}");
    for chart in Chart::ALL {
        check_chart(&dir, chart);
    }

    // Everything saturated: the load charts show it, CDF and attribution
    // have nothing to draw.
    let mut sat = full.clone();
    sat.points.retain(|p| p.summary.saturated.is_some());
    assert!(!sat.points.is_empty());
    sat.focus_rate = None;
    assert_eq!(
        focus_rate(&sat),
        Some(1500.0),
        "lowest load as a last resort"
    );
    let dir = out_dir("all-saturated");
    let written = render_all(&sat, &dir).unwrap();
    for chart in [Chart::LatencyVsLoad, Chart::ThroughputVsLoad] {
        check_chart(&dir, chart);
    }
    for chart in [Chart::LatencyCdf, Chart::Attribution] {
        assert!(
            !written
                .iter()
                .any(|p| p.to_string_lossy().contains(chart.stem())),
            "{} drawn without data",
            chart.stem()
        );
    }

    // Closed loop: no rates, no focus rate.
    let mut closed = full.clone();
    for p in &mut closed.points {
        p.at.rate_rps = None;
    }
    closed.rates.clear();
    closed.focus_rate = None;
    let dir = out_dir("closed-loop");
    assert!(!render_all(&closed, &dir).unwrap().is_empty());

    // A single replication: no confidence intervals anywhere (via JSON, as
    // `ztsim plot` reads them back).
    let mut json = serde_json::to_value(full).unwrap();
    strip_ci(&mut json);
    let no_ci: StudyResults = serde_json::from_value(json).unwrap();
    let dir = out_dir("no-ci");
    assert_eq!(render_all(&no_ci, &dir).unwrap().len(), 12);

    // Extra parameters: a line per (design, params); the focus charts take
    // the first combination. Also a focus rate no point has, and a design
    // missing from the list.
    let mut params = full.clone();
    params.params = vec!["authz.cache_ttl".into()];
    params.focus_rate = Some(12345.0);
    params.designs.pop();
    params.points = full
        .points
        .iter()
        .flat_map(|p| {
            ["0s", "30s"].into_iter().map(move |v| {
                let mut q = p.clone();
                q.at.params = vec![("authz.cache_ttl".into(), v.into())];
                if v == "30s"
                    && let Some(l) = q.summary.requests.latency_ms.as_mut()
                {
                    l.p99.mean *= 0.7;
                    l.p50.mean *= 0.9;
                }
                q
            })
        })
        .collect();
    let dir = out_dir("params");
    assert_eq!(render_all(&params, &dir).unwrap().len(), 12);
}

fn strip_ci(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                if k == "ci95" {
                    *x = serde_json::Value::Null;
                } else {
                    strip_ci(x);
                }
            }
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(strip_ci),
        _ => {}
    }
}
