//! `ztsim run` with several designs (`-m a.toml -m b.toml`): the terminal
//! table that compares them, design by design, against the baseline.

use ztsim::report::Summary;

/// A figure in ms as the tables print it, or `-`.
fn ms(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{v:.2}"))
}

/// Added ms against the baseline, signed, or `-`.
fn added(v: Option<f64>, base: Option<f64>) -> String {
    match (v, base) {
        // Rounded first, so that a difference below 0.005 ms is `+0.00`,
        // never `-0.00`.
        (Some(v), Some(b)) => {
            let d = ((v - b) * 100.0).round() / 100.0;
            if d < 0.0 {
                format!("{d:.2}")
            } else {
                format!("+{:.2}", d.abs())
            }
        }
        _ => "-".into(),
    }
}

/// One row per design: p50, p99, mean, throughput, CPU per request, and the
/// added p50 and p99 against `summaries[base]` (same seeds); a saturated
/// design says so instead of percentiles. Column widths fit the longest
/// cell.
pub fn table(summaries: &[Summary], base: Option<usize>) -> String {
    let lat = |s: &Summary, f: fn(&ztsim::report::summary::LatencySummary) -> f64| {
        s.requests.latency_ms.as_ref().map(f)
    };
    let p50 = |s: &Summary| lat(s, |l| l.p50.mean);
    let p99 = |s: &Summary| lat(s, |l| l.p99.mean);
    let mut rows = vec![[
        "design".to_string(),
        "p50 ms".into(),
        "p99 ms".into(),
        "mean ms".into(),
        "throughput rps".into(),
        "CPU ms/request".into(),
        "added p50 ms".into(),
        "added p99 ms".into(),
    ]];
    let b = base.map(|i| &summaries[i]);
    for (i, s) in summaries.iter().enumerate() {
        let name = if Some(i) == base {
            format!("{} (baseline)", s.design)
        } else {
            s.design.clone()
        };
        let cpu: f64 = s.cpu_per_request.iter().map(|c| c.ms.mean).sum();
        let (add50, add99) = match b {
            Some(b) if Some(i) != base => (added(p50(s), p50(b)), added(p99(s), p99(b))),
            _ => ("-".into(), "-".into()),
        };
        let mut row = [
            name,
            ms(p50(s)),
            ms(p99(s)),
            ms(lat(s, |l| l.mean.mean)),
            format!("{:.1}", s.throughput.completed_rps.mean),
            format!("{cpu:.3}"),
            add50,
            add99,
        ];
        if s.saturated.is_some() {
            for cell in &mut row[1..4] {
                *cell = "saturated".into();
            }
        }
        rows.push(row);
    }
    let widths: Vec<usize> = (0..8)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for r in &rows {
        let mut line = format!("{:<w$}", r[0], w = widths[0]);
        for (cell, w) in r.iter().zip(&widths).skip(1) {
            line.push_str(&format!("  {cell:>w$}"));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
