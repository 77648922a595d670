//! The design-review report of a study: one self-contained HTML file (charts
//! inline, no network needed) and a Markdown version for pasting into a
//! design document. The content is built once as a [`Document`] of plain
//! text, then rendered by `html` and `markdown`, which alone escape it, so
//! a name from an input file (a service called `<script>`) shows as text.
//! `document.rs` holds the document's types; this file builds it from the
//! results and writes the files.

mod designs;
mod document;
mod html;
mod markdown;
pub mod setup;

use std::io;
use std::path::{Path, PathBuf};

use super::figures::Chart;
use super::slo::{Verdict, any_scoped, binding_in, verdict_all};
use super::study::{PointResult, StudyResults, same_system_notes, sameness};
use super::words;
use crate::model::cost::SPAN_NAMES;
use crate::model::slo::Slo;
use designs::designs;

pub use document::{
    Block, DIAGRAM_FILE, Document, HTML_FILE, MARKDOWN_FILE, SECTIONS, Section, Table, escape,
};

/// Writes `report.html`, `report.md` and (given the topology `diagram`, SVG
/// text without a prolog) `topology.svg` into `dir`, which already holds the
/// study's charts (`<stem>.svg`/`.png`); `slos` override the study's own
/// when not empty. Returns the paths written.
pub fn write(
    dir: &Path,
    results: &StudyResults,
    slos: &[Slo],
    diagram: Option<&str>,
) -> io::Result<Vec<PathBuf>> {
    let slos = if slos.is_empty() { &results.slos } else { slos };
    let charts: Vec<Chart> = Chart::ALL
        .into_iter()
        .filter(|c| dir.join(format!("{}.png", c.stem())).exists())
        .collect();
    let doc = document(results, slos, &charts, diagram);
    let mut written = write_document(dir, &doc)?;
    if let Some(diagram) = diagram {
        let svg = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{diagram}\n");
        super::write_atomic(&dir.join(DIAGRAM_FILE), svg.as_bytes())?;
        written.push(dir.join(DIAGRAM_FILE));
    }
    Ok(written)
}

/// Writes `doc` as `report.html` and `report.md` into `dir`, which holds
/// the charts it names; returns the paths written.
pub fn write_document(dir: &Path, doc: &Document) -> io::Result<Vec<PathBuf>> {
    let html = html::render(doc, dir)?;
    super::write_atomic(&dir.join(HTML_FILE), html.as_bytes())?;
    super::write_atomic(&dir.join(MARKDOWN_FILE), markdown::render(doc).as_bytes())?;
    Ok(vec![dir.join(HTML_FILE), dir.join(MARKDOWN_FILE)])
}

/// The name of the design the others are compared against: `plaintext` if
/// the study has it, else the first.
fn baseline(results: &StudyResults) -> Option<&str> {
    results
        .designs
        .iter()
        .find(|d| d.as_str() == "plaintext")
        .or(results.designs.first())
        .map(String::as_str)
}

/// A design and its swept parameters as one label (`any` for one that does
/// not apply to it).
fn label(p: &PointResult) -> String {
    let mut s = p.at.design.clone();
    for (k, v) in &p.at.params {
        let v = if p.not_applying.contains(k) { "any" } else { v };
        s += &format!(", {k}={v}");
    }
    s
}

fn rate_text(r: Option<f64>) -> String {
    r.map_or("-".into(), |r| format!("{r} rps"))
}

fn ms(x: f64) -> String {
    let t = if x.abs() >= 100.0 {
        format!("{x:.0}")
    } else if x.abs() >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    };
    format!("{} ms", no_negative_zero(t))
}

/// A difference with its sign, two decimals: `+1.25`, `-0.40`, `0.00`.
fn signed(x: f64) -> String {
    no_negative_zero(format!("{x:+.2}"))
}

/// `-0.00` (a tiny negative rounded away) and `+0.00` read as `0.00`.
fn no_negative_zero(t: String) -> String {
    if t.chars().all(|c| matches!(c, '-' | '+' | '0' | '.')) {
        t.trim_start_matches(['-', '+']).to_string()
    } else {
        t
    }
}

/// The rows of the study: each (design, parameters) combination with its
/// points in load order; a row whose every point is the same system as
/// another row's is that row, said once.
fn lines(results: &StudyResults) -> Vec<Vec<&PointResult>> {
    let mut out: Vec<Vec<&PointResult>> = Vec::new();
    for p in &results.points {
        match out
            .iter_mut()
            .find(|l| l[0].at.design == p.at.design && l[0].at.params == p.at.params)
        {
            Some(l) => l.push(p),
            None => out.push(vec![p]),
        }
    }
    out.retain(|l| l.iter().any(|p| p.same_as.is_none()));
    for l in &mut out {
        l.sort_by(|a, b| {
            a.at.rate_rps
                .unwrap_or(0.0)
                .total_cmp(&b.at.rate_rps.unwrap_or(0.0))
        });
    }
    out
}

/// The focus load, the charts' (the study's, else the highest load no
/// design saturated at): a study without `rates` (a rate profile) has it too.
fn focus(results: &StudyResults) -> Option<f64> {
    crate::report::study::focus_rate(results)
}

/// Builds the report of `results` judged against `slos`; `charts` are the
/// charts present in the study folder, `diagram` the topology's (SVG text).
pub fn document(
    results: &StudyResults,
    slos: &[Slo],
    charts: &[Chart],
    diagram: Option<&str>,
) -> Document {
    let sections = SECTIONS
        .iter()
        .map(|&(id, heading)| Section {
            id,
            heading: heading.to_string(),
            blocks: match id {
                "question" => question(results, slos),
                "topology" => topology(results, diagram),
                "designs" => designs(results),
                "charts" => chart_blocks(results, charts),
                "capacity" => capacity(results, slos),
                "attribution" => attribution(results),
                "assumptions" => assumptions(results),
                _ => sources(),
            },
        })
        .collect();
    Document {
        title: results.title.clone(),
        subtitle: format!(
            "ztsim {} design review of study `{}` on topology `{}`{}",
            results.ztsim_version,
            results.name,
            results.topology,
            results.partial().map_or(String::new(), |p| format!(
                " (partial, {p}: the sweep was interrupted; resume it with `ztsim sweep ... --resume` for the rest)"
            ))
        ),
        sections,
        footer: "Written by ztsim from the study's results.json; regenerate with `ztsim report`."
            .into(),
    }
}

fn question(results: &StudyResults, slos: &[Slo]) -> Vec<Block> {
    let mut blocks = vec![Block::Text(format!(
        "“{}”: to answer it, the study runs topology `{}` under {}: {}.",
        results.title,
        results.topology,
        words::count(results.designs.len(), "design"),
        results.designs.join(", ")
    ))];
    let mut scope = String::new();
    if !results.rates.is_empty() {
        scope += &format!(
            "Offered loads: {} requests/s. ",
            results
                .rates
                .iter()
                .map(|r| format!("{r}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if !results.params.is_empty() {
        scope += &format!("Swept parameters: {}. ", results.params.join(", "));
    }
    scope += &format!(
        "Each point is {}; figures are means with 95% confidence intervals across them.",
        words::count(results.replications as usize, "independent replication")
    );
    if !slos.is_empty() {
        scope += &format!(
            " Objectives: {} on end-to-end latency.",
            crate::model::slo::list(slos)
        );
    }
    blocks.push(Block::Text(scope));
    let same = same_system_notes(&sameness(results));
    if !same.is_empty() {
        blocks.push(Block::Text(
            "Some swept parameters do not apply to some designs: the points they tell apart are one system, so each such system ran once and its points share its results exactly (an identical system is shown identically, not with another seed's noise):".into(),
        ));
        blocks.push(Block::List(same));
    }
    let Some(base) = baseline(results) else {
        return blocks;
    };
    let focus = focus(results);
    let mut findings = Vec::new();
    let base_line = lines(results).into_iter().find(|l| l[0].at.design == base);
    let base_at = base_line
        .as_ref()
        .and_then(|l| l.iter().find(|p| p.at.rate_rps == focus).copied());
    for line in lines(results) {
        let at = line.iter().find(|p| p.at.rate_rps == focus);
        let mut f = label(line[0]);
        match at.map(|p| (&p.summary.saturated, &p.summary.requests.latency_ms)) {
            Some((Some(_), _)) => f += &format!(": saturated at {}", rate_text(focus)),
            Some((None, Some(l))) => {
                f += &format!(": p99 {} at {}", ms(l.p99.mean), rate_text(focus));
                if line[0].at.design != base
                    && let Some(b) = base_at.and_then(|b| b.summary.requests.latency_ms.as_ref())
                {
                    f += &format!(" ({} ms against {base})", signed(l.p99.mean - b.p99.mean));
                }
            }
            _ => f += ": no measured requests at the focus load",
        }
        let stable = line
            .iter()
            .filter(|p| p.summary.saturated.is_none())
            .filter_map(|p| p.at.rate_rps)
            .max_by(f64::total_cmp);
        if !results.rates.is_empty() {
            f += &format!("; highest stable load swept: {}", rate_text(stable));
        }
        if !slos.is_empty() {
            let met = highest_meeting(&line, slos);
            f += &match met {
                Some(r) => format!("; meets the objectives up to {r} rps"),
                None => "; meets the objectives at none of the loads swept".into(),
            };
        }
        findings.push(f);
    }
    blocks.push(Block::List(findings));
    blocks
}

fn topology(results: &StudyResults, diagram: Option<&str>) -> Vec<Block> {
    let Some(setup) = &results.setup else {
        return vec![Block::Text(
            "These results were written by an older ztsim that did not record the topology; rerun the study to see its diagram.".into(),
        )];
    };
    let g = &setup.topology;
    let mut blocks = vec![Block::Text(format!(
        "Topology `{}`: {} over {} ({}); clients in {}; {}; {:.1} internal calls per user request on average. Entry mix: {}.",
        g.name,
        words::count(g.services.len(), "service"),
        words::count(g.zones.len(), "zone"),
        g.zones.join(", "),
        g.client_zone,
        g.arrivals,
        g.calls_per_request(),
        g.entries
            .iter()
            .map(|(e, w)| format!("{e} {:.0}%", w * 100.0))
            .collect::<Vec<_>>()
            .join(", ")
    ))];
    blocks.extend(diagram.map(|d| Block::Diagram(d.to_string())));
    if !results.params.is_empty() {
        blocks.push(Block::Text(format!(
            "Drawn as in the first grid point; the swept parameters ({}) may change it elsewhere in the grid.",
            results.params.join(", ")
        )));
    }
    blocks.push(Block::Table(Table {
        header: vec![
            "service".into(),
            "replicas".into(),
            "cores each".into(),
            "zones".into(),
            "endpoints".into(),
        ],
        rows: g
            .services
            .iter()
            .map(|s| {
                let (replicas, cores) = if s.external {
                    ("external".to_string(), "-".to_string())
                } else {
                    (s.replicas.to_string(), s.cores.to_string())
                };
                vec![
                    s.name.clone(),
                    replicas,
                    cores,
                    s.zones.join(", "),
                    s.endpoints.join(", "),
                ]
            })
            .collect(),
    }));
    blocks
}

fn chart_blocks(results: &StudyResults, charts: &[Chart]) -> Vec<Block> {
    if charts.is_empty() {
        return vec![Block::Text(
            "No chart could be drawn: the study has no measured points.".into(),
        )];
    }
    let at = rate_text(focus(results));
    let panels = if results.per_entry_charts() {
        " One panel per entry endpoint, each on its own scale."
    } else {
        ""
    };
    charts
        .iter()
        .map(|&chart| {
            let latency = !matches!(chart, Chart::ThroughputVsLoad | Chart::CpuByCategory);
            Block::Chart {
                chart,
                caption: caption(chart, &at) + if latency { panels } else { "" },
            }
        })
        .collect()
}

/// What `chart` shows, `at` the focus load.
fn caption(chart: Chart, at: &str) -> String {
    match chart {
        Chart::LatencyVsLoad => "p50 and p99 end-to-end latency against offered load, one line per design; an X along the top marks a load at which the design saturated. Where a line turns up is its knee.".into(),
        Chart::ThroughputVsLoad => "Completed against offered requests per second; a line that leaves the diagonal cannot keep up.".into(),
        Chart::CpuByCategory => format!("At {at}: CPU per user request on the services' cores and the proxies' busy share, by category (business, handshake, bulk crypto, JWT, authorization, proxy)."),
        Chart::LatencyCdf => format!("At {at}: the distribution of end-to-end latency per design, tail on a nines axis."),
        Chart::Attribution => format!("At {at}: the critical path of the mean request (and of the slowest 1%, each at or above p99) split into network, handshake round trips, queueing, CPU, proxy, authorization and authentication."),
        Chart::LatencyOverTime => format!("At {at}: mean latency and full TLS handshakes per second over simulated time; warm-up shaded. Certificate rotations and ticket expiry show as spikes."),
    }
}

/// The highest load of `line` at which every SLO is met, below any load
/// that missed one (a design that misses at 300 rps but meets at 500 by
/// chance does not get 500).
fn highest_meeting(line: &[&PointResult], slos: &[Slo]) -> Option<f64> {
    let mut best = None;
    for p in line {
        match verdict_all(slos, &p.summary) {
            Verdict::Met => best = p.at.rate_rps.or(best),
            _ => break,
        }
    }
    best
}

fn capacity(results: &StudyResults, slos: &[Slo]) -> Vec<Block> {
    if results.rates.is_empty() {
        return vec![Block::Text(
            "The study runs a closed loop (fixed users), so there is no offered load to find a capacity on; see the charts.".into(),
        )];
    }
    let mut blocks = Vec::new();
    let mut header = vec![
        "design".to_string(),
        "highest stable load".into(),
        "saturates from".into(),
        "bottleneck".into(),
    ];
    if slos.is_empty() {
        blocks.push(Block::Text("No objective was set for this study, so capacity here is where saturation starts. Add `slo = [\"p99=50ms\"]` to the study file, or pass `--slo p99=50ms` to `ztsim report` or `ztsim sweep`, for the load each design sustains within an SLO; `ztsim capacity` searches it to a finer resolution than the swept loads.".into()));
    } else {
        blocks.push(Block::Text(format!(
            "Judged against {} on end-to-end latency over the swept loads. A load meets an objective only when the whole 95% confidence interval of its figure is within it, and misses it when the whole interval is beyond it or the design saturates; otherwise the replications cannot tell (\"unsure\"), and it counts as not met. The capacity lies between the last load met and the first not met; `ztsim capacity` narrows that bracket by searching between them.",
            crate::model::slo::list(slos)
        )));
        header.insert(1, "meets the objectives up to".into());
        header.insert(2, "first load not met".into());
        header.insert(
            3,
            format!(
                "{} at the last load met",
                slos.iter()
                    .map(|s| s.label())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
        if any_scoped(slos) {
            header.insert(4, "objective that binds".into());
        }
    }
    let mut rows = Vec::new();
    for line in lines(results) {
        let stable = line
            .iter()
            .filter(|p| p.summary.saturated.is_none())
            .filter_map(|p| p.at.rate_rps)
            .max_by(f64::total_cmp);
        let first_sat = line.iter().find(|p| p.summary.saturated.is_some());
        let mut row = vec![
            label(line[0]),
            rate_text(stable),
            first_sat.map_or("beyond the loads swept".into(), |p| {
                rate_text(p.at.rate_rps)
            }),
            first_sat
                .and_then(|p| p.summary.saturated.as_ref())
                .and_then(|s| s.bottleneck.clone())
                .unwrap_or_default(),
        ];
        if !slos.is_empty() {
            let met = highest_meeting(&line, slos);
            let first_not = line
                .iter()
                .find(|p| verdict_all(slos, &p.summary) != Verdict::Met);
            let at_met = met.and_then(|r| line.iter().find(|p| p.at.rate_rps == Some(r)));
            let figures = at_met.map_or(String::new(), |p| figures_text(slos, p));
            row.insert(
                1,
                met.map_or("none of the loads".into(), |r| format!("{r} rps")),
            );
            row.insert(
                2,
                first_not.map_or("none".into(), |p| {
                    let v = match verdict_all(slos, &p.summary) {
                        Verdict::Unsure => "unsure",
                        _ => "missed",
                    };
                    format!("{} ({v})", rate_text(p.at.rate_rps))
                }),
            );
            row.insert(3, figures);
            if any_scoped(slos) {
                row.insert(4, binding_text(slos, first_not.copied(), at_met.copied()));
            }
        }
        rows.push(row);
    }
    blocks.push(Block::Table(Table { header, rows }));
    blocks
}

/// Each SLO's figure at a point, `12.3 ± 0.45; 4.56` (empty if saturated).
fn figures_text(slos: &[Slo], p: &PointResult) -> String {
    if p.summary.requests.latency_ms.is_none() {
        return String::new();
    }
    slos.iter()
        .map(|s| match s.figure(&p.summary) {
            Some(e) => match e.ci95 {
                Some(c) => format!("{} ± {c:.2}", ms(e.mean)),
                None => ms(e.mean),
            },
            None => "-".into(),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The objective with the least headroom at the first load not met (or,
/// if that load saturated or every load was met, at the last load met).
fn binding_text(
    slos: &[Slo],
    first_not: Option<&PointResult>,
    met: Option<&PointResult>,
) -> String {
    let at = |p: Option<&PointResult>| binding_in(slos, &p?.summary);
    at(first_not)
        .or_else(|| at(met))
        .map_or("-".into(), |i| slos[i].to_string())
}

fn attribution(results: &StudyResults) -> Vec<Block> {
    let focus = focus(results);
    let Some(base) = baseline(results) else {
        return vec![Block::Text("The study has no designs.".into())];
    };
    let all = lines(results);
    fn at_load<'r>(line: &[&'r PointResult], load: Option<f64>) -> Option<&'r PointResult> {
        line.iter().find(|p| p.at.rate_rps == load).copied()
    }
    let base_point = all
        .iter()
        .find(|l| l[0].at.design == base && l[0].at.params == all[0][0].at.params)
        .and_then(|l| at_load(l, focus));
    let Some(base_point) = base_point.filter(|p| p.summary.requests.latency_ms.is_some()) else {
        return vec![Block::Text(format!(
            "The baseline ({base}) has no measured latency at {}, so there is nothing to attribute against.",
            rate_text(focus)
        ))];
    };
    let span_ms = |p: &PointResult, span: &str| {
        p.summary
            .attribution
            .iter()
            .find(|a| a.span == span)
            .map_or(0.0, |a| a.mean_ms.mean)
    };
    let stable: Vec<&PointResult> = all
        .iter()
        .filter_map(|l| at_load(l, focus))
        .filter(|p| p.summary.requests.latency_ms.is_some() && p.summary.saturated.is_none())
        .collect();
    // Only spans that move somewhere.
    let spans: Vec<&str> = SPAN_NAMES
        .iter()
        .copied()
        .filter(|s| {
            stable
                .iter()
                .any(|p| (span_ms(p, s) - span_ms(base_point, s)).abs() >= 0.005)
        })
        .collect();
    let mut header = vec![
        "design".to_string(),
        "mean latency".into(),
        format!("added vs {base}"),
    ];
    header.extend(spans.iter().map(|s| s.replace('_', " ")));
    let mean_of = |p: &PointResult| {
        p.summary
            .requests
            .latency_ms
            .as_ref()
            .map_or(0.0, |l| l.mean.mean)
    };
    let base_mean = mean_of(base_point);
    let rows = stable
        .iter()
        .map(|p| {
            let mean = mean_of(p);
            let mut row = vec![
                label(p),
                ms(mean),
                format!("{} ms", signed(mean - base_mean)),
            ];
            row.extend(
                spans
                    .iter()
                    .map(|s| signed(span_ms(p, s) - span_ms(base_point, s))),
            );
            row
        })
        .collect();
    let saves = stable.iter().any(|p| {
        spans
            .iter()
            .any(|s| span_ms(p, s) - span_ms(base_point, s) <= -0.005)
    });
    let mut blocks = vec![Block::Text(format!(
        "At {}: the critical path of the mean request, per span, in ms added (or saved) against {base}. The spans add up to the mean latency exactly, so each row's span columns add up to its added latency. Saturated designs have no latency to attribute and are left out.",
        rate_text(focus)
    ))];
    blocks.push(Block::Table(Table { header, rows }));
    if saves {
        blocks.push(Block::Text(format!(
            "A negative figure is time a design spends less than {base} in that span, for one of two known reasons. With calls in parallel, the critical path runs through the slowest of them; under another design a different call may be the slowest (one with less business CPU, say), so a span can shrink while the total grows. And a modelling limit, not a saving: node-proxy designs place replicas on nodes, so a call between two replicas on one node takes the loopback round trip, while {base} places no replicas on nodes and pays the zone's round trip on every call; read such a design's network overhead as understated (the design guide's known limitations)."
        )));
    }
    let saturated: Vec<String> = all
        .iter()
        .filter_map(|l| at_load(l, focus))
        .filter(|p| p.summary.saturated.is_some())
        .map(label)
        .collect();
    if !saturated.is_empty() {
        blocks.push(Block::Text(format!(
            "Saturated at this load: {}.",
            saturated.join(", ")
        )));
    }
    blocks
}

fn assumptions(results: &StudyResults) -> Vec<Block> {
    let mut list = Vec::new();
    if let Some(s) = &results.setup {
        list.push(format!(
            "Each replication measures {} after a warm-up of {:.1} s that is not counted; replications use independent random streams from base seed {}, and every design at a load sees the same arrivals and service times (common random numbers), so differences between designs are the designs', not noise.",
            match (s.duration_s, s.requests) {
                (Some(d), _) => format!("{d:.1} s of simulated time"),
                (None, Some(n)) => words::count(n as usize, "request"),
                (None, None) => "a fixed number of requests".into(),
            },
            s.warmup_s,
            s.seed
        ));
    }
    list.extend(
        [
            "Cores are FCFS multi-server queues per replica; a call's CPU runs as one job per station visit, on whichever cores do the work (service, sidecar, node proxy, waypoint, policy engine).",
            "Network delay is drawn per direction as half a round trip from the zone pair's RTT distribution; payloads add serialisation time only where a bandwidth is set. There is no packet loss, congestion or host co-location beyond same-host loopback for a replica calling itself and for proxy hops.",
            "Handshake round trips follow the protocols (TCP 1 RTT, TLS 1.2 full 2 / resumed 1, TLS 1.3 full 1 / resumed 1 / 0-RTT 0, HelloRetryRequest +1); mTLS adds CPU, not round trips.",
            "CPU costs of handshakes, bulk encryption, JWT verification, policy evaluation and proxies are per-operation constants from published benchmarks (next section); real hardware differs, so each is a parameter of the design file.",
            "A run whose queues grow without bound over its window is reported as saturated, with its busiest service as the bottleneck, and has no latency figures; a run clearly saturated stops there, its throughput and utilisation measured up to that point.",
            "Confidence intervals are Student t 95% intervals over replications of the per-replication figure (a percentile's interval is that of per-replication percentiles).",
        ]
        .map(String::from),
    );
    vec![Block::List(list)]
}

/// Default costs and the published figures they come from (docs/sources.md);
/// docs/design.md gives every default, docs/sources.md its derivation.
pub const DEFAULT_COSTS: [(&str, &str, &str, &str); 14] = [
    (
        "TLS 1.3 full handshake, server (ECDSA)",
        "230 us",
        "147-315 us",
        "rustls perf report 2026-03-07 (BoringSSL, OpenSSL 3.6, rustls 0.23)",
    ),
    (
        "TLS 1.3 full handshake, client (ECDSA, chain 2)",
        "460 us",
        "316-609 us",
        "rustls perf report 2026-03-07",
    ),
    (
        "TLS 1.3 full handshake, server (RSA-2048)",
        "600 us",
        "424-768 us",
        "rustls perf report 2026-03-07",
    ),
    (
        "TLS 1.2 full handshake, server (ECDSA)",
        "130 us",
        "74-191 us",
        "rustls perf report 2026-03-07",
    ),
    (
        "TLS 1.2 resumed handshake (ticket), server",
        "30 us",
        "14-45 us",
        "rustls perf report 2026-03-07",
    ),
    (
        "TLS 1.3 resumed handshake (PSK-DHE), server",
        "200 us",
        "138-265 us",
        "rustls perf report 2026-03-07",
    ),
    (
        "AES-GCM bulk encryption",
        "7.5 GB/s per core",
        "6.6-8.3 GB/s",
        "rustls perf report 2026-03-07",
    ),
    (
        "JWT verification",
        "RS256 31 us, ES256 59 us, EdDSA 54 us, HS256 1.8 us",
        "same",
        "pascaldekloe/jwt README (Go, Apple M1)",
    ),
    (
        "Envoy sidecar CPU",
        "200 us per request per proxy",
        "0.20 vCPU per 1000 rps",
        "istio.io performance and scalability (Istio 1.24)",
    ),
    (
        "ztunnel node proxy CPU",
        "60 us per request",
        "0.06 vCPU per 1000 rps",
        "istio.io performance and scalability (Istio 1.24)",
    ),
    (
        "waypoint (L7) proxy CPU",
        "250 us per request",
        "0.25 vCPU per 1000 rps",
        "istio.io performance and scalability (Istio 1.24)",
    ),
    (
        "OPA in-process policy evaluation",
        "45 us",
        "45 us/op mean, 134 us p99",
        "openpolicyagent.org, policy performance",
    ),
    (
        "Round trips",
        "TCP 1 RTT; TLS 1.2 2/1; TLS 1.3 1/1/0-RTT",
        "protocol facts",
        "RFC 5246, RFC 5077, RFC 8446, RFC 7413",
    ),
    (
        "Certificate lifetime",
        "24 h, renewed at 50%",
        "Istio 24 h at 50%; SPIRE 1 h",
        "istio pilot-agent defaults; spiffe/spire docs",
    ),
];

fn sources() -> Vec<Block> {
    vec![
        Block::Text("Default costs, each overridable in a design file. Published figures are from public documents on specific hardware and versions: treat them as starting points to replace with your own measurements.".into()),
        Block::Table(Table {
            header: vec![
                "cost".into(),
                "ztsim default".into(),
                "published figure".into(),
                "source".into(),
            ],
            rows: DEFAULT_COSTS
                .iter()
                .map(|&(a, b, c, d)| vec![a.into(), b.into(), c.into(), d.into()])
                .collect(),
        }),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_minus_zero() {
        assert_eq!(signed(-0.001), "0.00");
        assert_eq!(signed(0.0), "0.00");
        assert_eq!(signed(-0.4), "-0.40");
        assert_eq!(signed(1.254), "+1.25");
        assert_eq!(ms(-0.001), "0.00 ms");
        assert_eq!(ms(-120.0), "-120 ms");
    }
}
