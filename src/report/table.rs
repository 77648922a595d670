//! The summary as a plain-text table for the terminal.

use std::fmt::Write;

use super::columns;
use super::stats::Estimate;
use super::summary::{CpuShare, LatencySummary, Summary};
use super::words;

fn ms(e: &Estimate) -> String {
    let v = e.mean;
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn pm(e: &Estimate) -> String {
    match e.ci95 {
        Some(c) => format!(
            "{} ±{}",
            ms(e),
            ms(&Estimate {
                mean: c,
                ci95: None
            })
        ),
        None => ms(e),
    }
}

fn pct(v: f64) -> String {
    format!("{:.1}%", v * 100.0)
}

/// The latency columns: mean, p50, p90, p99, p99.9, max.
const LATENCY_HEADER: [&str; 6] = ["mean", "p50", "p90", "p99", "p99.9", "max"];

fn latency_cells(l: &Option<LatencySummary>) -> Vec<String> {
    match l {
        Some(l) => vec![
            pm(&l.mean),
            ms(&l.p50),
            ms(&l.p90),
            pm(&l.p99),
            ms(&l.p999),
            ms(&l.max),
        ],
        None => vec!["saturated".into()],
    }
}

/// A latency table: a name, two counts, then the latency columns.
fn latency_table(out: &mut String, header: [&str; 3], rows: Vec<Vec<String>>) {
    let mut all = vec![
        header
            .iter()
            .chain(&LATENCY_HEADER)
            .map(|h| h.to_string())
            .collect(),
    ];
    all.extend(rows);
    out.push_str(&columns::layout(
        &all,
        &[false, true, true, true, true, true, true, true, true],
        "",
    ));
}

/// Renders `s` for a terminal, 100 columns wide at most for typical names.
pub fn render(s: &Summary) -> String {
    let mut out = String::new();
    heading(&mut out, s);
    requests(&mut out, s);
    edges(&mut out, s);
    asynchronous(&mut out, s);
    cores(&mut out, s);
    attribution(&mut out, s);
    security(&mut out, s);
    out
}

/// What ran (topology, design, load, window, seed) and any saturation.
fn heading(out: &mut String, s: &Summary) {
    let w = &s.workload;
    let load = match (w.rate_rps, w.users) {
        (Some(r), _) if w.arrivals == "replay" => {
            format!("replay of recorded arrivals, mean {r:.1} rps")
        }
        (Some(r), _) if w.arrivals == "profile" => {
            format!("rate profile, mean {}", words::rate(r))
        }
        (Some(r), _) => format!("{} {r} rps", w.arrivals),
        (None, Some(u)) => format!("closed loop, {u} users"),
        _ => w.arrivals.to_string(),
    };
    let span = match (w.duration_s, w.requests) {
        // A replay's window is the recording's span, to the nanosecond.
        (Some(d), _) => words::seconds(d),
        (None, Some(n)) => format!("{n} requests"),
        _ => String::new(),
    };
    let _ = writeln!(
        out,
        "{} under {}: {load}; {} of {span} after {} warm-up; seed {}",
        s.topology,
        s.design,
        words::count(w.replications as usize, "replication"),
        words::seconds(w.warmup_s),
        w.seed
    );
    if let Some(sat) = &s.saturated {
        // The message reads "saturated at ...": one "saturated", in capitals.
        let rest = sat
            .message
            .strip_prefix("saturated ")
            .unwrap_or(&sat.message);
        let _ = writeln!(out, "\nSATURATED {rest}");
        let _ = writeln!(
            out,
            "(no percentiles: they would describe a queue that only grows)"
        );
    }
}

/// Throughput and the latency of each entry endpoint (and of all together).
fn requests(out: &mut String, s: &Summary) {
    let t = &s.throughput;
    let _ = writeln!(
        out,
        "throughput: offered {} rps, completed {} rps; {} requests in system on average\n",
        pm(&t.offered_rps),
        pm(&t.completed_rps),
        pm(&t.mean_in_system)
    );
    let rows = s
        .endpoints
        .iter()
        .chain((s.endpoints.len() > 1).then_some(&s.requests))
        .map(|r| {
            let mut row = vec![
                r.name.clone(),
                format!("{:.0}", r.requests.mean),
                pct(r.failed_ratio.mean),
            ];
            if r.latency_ms.is_none() && r.requests.mean == 0.0 && s.saturated.is_none() {
                // An entry of a tiny weight that drew no request: not saturated.
                row.push("no requests".into());
            } else {
                row.extend(latency_cells(&r.latency_ms));
            }
            row
        })
        .collect();
    latency_table(
        out,
        ["entry endpoint (latency in ms)", "requests", "failed"],
        rows,
    );
    if let Some(m) = &s.internal_calls.latency_ms_mean {
        let _ = writeln!(
            out,
            "\ninternal calls: {:.1} per request, {} ms on average as their callers see them",
            s.internal_calls.per_request.mean,
            pm(m)
        );
    }
}

/// Internal calls by edge, as their callers see them.
fn edges(out: &mut String, s: &Summary) {
    if !s.edges.is_empty() {
        let rows = s
            .edges
            .iter()
            .map(|e| {
                let mut row = vec![
                    format!("{} -> {}", e.caller, e.callee),
                    format!("{:.2}", e.calls_per_request.mean),
                    pct(e.failed_ratio.mean),
                ];
                if e.latency_ms.is_none()
                    && e.calls_per_request.mean == 0.0
                    && s.saturated.is_none()
                {
                    // Never called (its caller failed first): not saturated.
                    // A saturated run may have finished no request at all.
                    row.push("no calls".into());
                } else {
                    row.extend(latency_cells(&e.latency_ms));
                }
                row
            })
            .collect();
        out.push('\n');
        latency_table(
            out,
            ["internal call, caller-seen (ms)", "calls/req", "failed"],
            rows,
        );
        for e in &s.edges {
            if let Some(r) = &e.refused_ratio {
                let _ = writeln!(
                    out,
                    "refused: {} of {} -> {} calls, by a strict callee (the caller is outside its mesh)",
                    pct(r.mean),
                    e.caller,
                    e.callee
                );
            }
        }
    }
}

/// Asynchronous calls: off every request's path, with their own figures.
fn asynchronous(out: &mut String, s: &Summary) {
    if s.asynchronous.is_empty() {
        return;
    }
    let rows = s
        .asynchronous
        .iter()
        .map(|a| {
            let mut row = vec![
                format!("{} -> {}", a.caller, a.callee),
                format!("{:.2}", a.calls_per_request.mean),
                pct(a.failed_ratio.mean),
            ];
            row.extend(latency_cells(&a.latency_ms));
            row
        })
        .collect();
    out.push('\n');
    latency_table(out, ["asynchronous call (ms)", "calls/req", "failed"], rows);
    for a in &s.asynchronous {
        let _ = writeln!(
            out,
            "asynchronous {} -> {}: {:.1} completed/s, not in any request's latency",
            a.caller, a.callee, a.completed_per_s.mean
        );
    }
}

/// Each service's and proxy's cores: utilisation, waiting, CPU by category.
fn cores(out: &mut String, s: &Summary) {
    let mut rows = vec![
        [
            "cores (CPU % of capacity)",
            "instances",
            "utilisation",
            "offered",
            "core wait ms",
            "busy by category",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for v in &s.services {
        rows.push(vec![
            v.name.clone(),
            if v.nodes.is_empty() {
                format!("{} x {}c", v.replicas, v.cores)
            } else {
                format!("{} on {}", v.replicas, v.nodes.join(", "))
            },
            pct(v.utilisation.mean),
            v.offered_utilisation.map_or("-".into(), pct),
            pm(&v.queueing_ms),
            with_paused(categories(&v.cpu), &v.paused),
        ]);
    }
    for p in &s.proxies {
        rows.push(vec![
            p.name.clone(),
            p.instances.to_string(),
            pct(p.utilisation.mean),
            "-".into(),
            pm(&p.queueing_ms),
            with_paused(categories(&p.cpu), &p.paused),
        ]);
    }
    out.push('\n');
    out.push_str(&columns::layout(
        &rows,
        &[false, true, true, true, true, false],
        "",
    ));
}

/// Where the time goes on the critical path, on average and over the slowest
/// 1% (each at or above the p99).
fn attribution(out: &mut String, s: &Summary) {
    if s.attribution.iter().any(|a| a.mean_ms.mean > 0.0) {
        let _ = writeln!(out, "\nwhere the time goes (critical path, ms per request)");
        let mut rows = vec![vec![String::new(), "mean".into(), "slowest 1%".into()]];
        rows.extend(
            s.attribution
                .iter()
                .filter(|a| a.mean_ms.mean > 0.0 || a.p99_ms.is_some_and(|p| p.mean > 0.0))
                .map(|a| {
                    vec![
                        a.span.replace('_', " "),
                        ms(&a.mean_ms),
                        a.p99_ms.as_ref().map_or("-".into(), ms),
                    ]
                }),
        );
        out.push_str(&columns::layout(&rows, &[false, true, true], ""));
    }
}

/// Zero Trust work per request.
fn security(out: &mut String, s: &Summary) {
    let k = &s.security;
    let per = |e: &Estimate| format!("{:.2}", e.mean);
    if k.connections_opened.mean > 0.0
        || k.authz_decisions.mean > 0.0
        || k.jwt_verifications.mean > 0.0
    {
        let _ = writeln!(
            out,
            "\nper request: {} connections opened, {} full / {} resumed / {} 0-RTT handshakes{}; {} policy decisions{}; {} JWT verifications; {} token fetches",
            per(&k.connections_opened),
            per(&k.handshakes_full),
            per(&k.handshakes_resumed),
            per(&k.handshakes_zero_rtt),
            k.resumption_rate.map_or(String::new(), |r| format!(
                " (resumption rate {})",
                pct(r.mean)
            )),
            per(&k.authz_decisions),
            k.authz_cache_hit_rate
                .map_or(String::new(), |r| format!(" ({} from cache)", pct(r.mean))),
            per(&k.jwt_verifications),
            per(&k.token_fetches),
        );
    }
    if let Some(f) = &s.failures {
        let parts: Vec<String> = [
            (f.timeouts, "timed out"),
            (f.shed, "shed (queue full)"),
            (f.limited, "rate-limited"),
            (f.errors, "answered with an error"),
            (f.retries, "retries sent"),
            (f.slow, "slowed (slow)"),
            (f.down, "lost to a replica down"),
        ]
        .iter()
        .filter_map(|(e, what)| e.map(|e| format!("{:.3} {what}", e.mean)))
        .collect();
        let _ = writeln!(out, "failures per request: {}", parts.join(", "));
    }
    if let Some(o) = &s.outages {
        super::outages::render(out, o);
    }
    if let Some(p) = &s.pools {
        super::pools::render(out, p);
    }
    if let Some(q) = &s.queues {
        super::queues::render(out, q);
    }
}

/// "business 40.1%, handshake 3.2%" for the non-zero categories.
/// The busy categories, then the share paused for cores that pause.
fn with_paused(busy: String, paused: &Option<Estimate>) -> String {
    match paused {
        Some(p) if busy.is_empty() => format!("(paused {})", pct(p.mean)),
        Some(p) => format!("{busy} (paused {})", pct(p.mean)),
        None => busy,
    }
}

fn categories(cpu: &[CpuShare]) -> String {
    cpu.iter()
        .filter(|c| c.share.mean > 0.0005)
        .map(|c| format!("{} {}", c.category.replace('_', " "), pct(c.share.mean)))
        .collect::<Vec<_>>()
        .join(", ")
}
