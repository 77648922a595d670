//! Capacity and sizing results out: the terminal tables, `capacity.json`,
//! `capacity.csv`, `sizing.json` and `sizing.csv` (fields documented in
//! `output/README.md`).

use std::fmt::Write;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::columns;
use super::slo::{Slo, any_scoped};
use super::stats::Estimate;
use super::{csv_text, safe_name, write_atomic};

mod outcome;
pub use outcome::{HOURS_PER_MONTH, Point, RateCapacity, ServiceSize, SizeBy, Sizing, SizingStep};

/// What each point's verdict rests on, said in every output.
pub const CONFIDENCE: &str = "each point is judged on the 95% confidence interval of each SLO figure over its replications: met only if the whole interval is within the limit; undecided points get more replications, and count as not met if still undecided";

/// How each point was run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointSettings {
    /// Warm-up per replication, seconds.
    pub warmup_s: f64,
    /// Measured duration per replication, seconds (if set by duration).
    pub duration_s: Option<f64>,
    /// Measured requests per replication (if set by count).
    pub requests: Option<u64>,
    /// Base seed; each rate derives its own.
    pub seed: u64,
    /// Replications of a point at first.
    pub replications: u32,
    /// Replications an undecided point may grow to.
    pub max_replications: u32,
}

/// Everything `capacity.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapacityReport {
    /// Version of ztsim that produced it.
    pub ztsim_version: String,
    /// Topology name.
    pub topology: String,
    /// The objectives.
    pub slos: Vec<Slo>,
    /// Relative bracket width at which the search stops.
    pub resolution: f64,
    /// How points were run.
    pub settings: PointSettings,
    /// What a verdict means.
    pub confidence: String,
    /// One per design, the plaintext baseline first when it was run.
    pub designs: Vec<RateCapacity>,
}

/// One design's sizing against the baseline's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SizingComparison {
    /// Design name.
    pub design: String,
    /// Its vCPUs after sizing (fixed proxies included).
    pub vcpu: u64,
    /// The baseline's.
    pub baseline_vcpu: u64,
    /// The difference.
    pub vcpu_difference: i64,
    /// The difference in money per month, if a price was given.
    pub monthly_cost_difference: Option<f64>,
    /// Whether both sizes meet the SLOs (otherwise the difference is only
    /// what keeps the cores below 100% busy, not a price of the SLOs).
    pub both_met: bool,
}

/// Everything `sizing.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SizingReport {
    /// Version of ztsim that produced it.
    pub ztsim_version: String,
    /// Topology name.
    pub topology: String,
    /// The objectives.
    pub slos: Vec<Slo>,
    /// The offered rate sized for, requests per second.
    pub target_rps: f64,
    /// What was sized.
    pub size_by: SizeBy,
    /// Price of one vCPU for one hour, if given.
    pub price_per_vcpu_hour: Option<f64>,
    /// Hours in the month the monthly figures use.
    pub hours_per_month: f64,
    /// How points were run.
    pub settings: PointSettings,
    /// What a verdict means.
    pub confidence: String,
    /// One per design, the plaintext baseline first when it was run.
    pub designs: Vec<Sizing>,
    /// Each design against the baseline (empty without one).
    pub versus_baseline: Vec<SizingComparison>,
}

impl SizingReport {
    /// Money per month for `vcpu` vCPUs, if a price was given.
    pub fn monthly(&self, vcpu: f64) -> Option<f64> {
        self.price_per_vcpu_hour
            .map(|p| p * vcpu * self.hours_per_month)
    }

    /// Fills `versus_baseline` from the design at `baseline` (if any).
    pub fn compare_with(&mut self, baseline: Option<usize>) {
        let Some(b) = baseline.and_then(|b| self.designs.get(b)) else {
            self.versus_baseline.clear();
            return;
        };
        let base = b.total_vcpu();
        let base_name = b.design.clone();
        self.versus_baseline = self
            .designs
            .iter()
            .filter(|d| d.design != base_name)
            .map(|d| {
                let diff = d.total_vcpu() as i64 - base as i64;
                SizingComparison {
                    design: d.design.clone(),
                    vcpu: d.total_vcpu(),
                    baseline_vcpu: base,
                    vcpu_difference: diff,
                    monthly_cost_difference: self
                        .price_per_vcpu_hour
                        .map(|p| p * diff as f64 * HOURS_PER_MONTH),
                    both_met: d.met && b.met,
                }
            })
            .collect();
    }
}

/// Where `ztsim capacity` writes unless told otherwise.
pub fn capacity_dir(root: &Path, topology_name: &str) -> PathBuf {
    root.join("capacity").join(safe_name(topology_name))
}

fn rps(v: Option<f64>) -> String {
    v.map_or("-".into(), |r| {
        if r >= 100.0 {
            format!("{r:.0}")
        } else if r >= 10.0 {
            format!("{r:.1}")
        } else {
            format!("{r:.3}")
        }
    })
}

fn ms(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn figure(e: &Option<Estimate>) -> String {
    match e {
        Some(e) => match e.ci95 {
            Some(c) => format!("{} ±{}", ms(e.mean), ms(c)),
            None => ms(e.mean),
        },
        None => "saturated".into(),
    }
}

fn slo_list(slos: &[Slo]) -> String {
    slos.iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn settings_line(s: &PointSettings) -> String {
    let span = match (s.duration_s, s.requests) {
        (Some(d), _) => format!("{d} s"),
        (None, Some(n)) => format!("{n} requests"),
        _ => String::new(),
    };
    format!(
        "each point: {}-{} replications of {span} after {} s warm-up; seed {} (each rate derives its own, shared by every design)",
        s.replications, s.max_replications, s.warmup_s, s.seed
    )
}

fn saturation_cell(c: &RateCapacity) -> String {
    match (c.saturation_rps, c.saturation_estimate_rps) {
        (Some(s), Some(e)) if e < s => {
            format!("~{} est.; {} saturated", rps(Some(e)), rps(Some(s)))
        }
        (Some(s), _) => format!("{} saturated", rps(Some(s))),
        (None, Some(e)) => format!("~{} est.", rps(Some(e))),
        _ => "-".into(),
    }
}

/// The capacity table for a terminal.
pub fn render_capacity(r: &CapacityReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Capacity of {}: the highest offered rate meeting {} (bracket to {:.0}%)",
        r.topology,
        slo_list(&r.slos),
        r.resolution * 100.0
    );
    let _ = writeln!(out, "{}", settings_line(&r.settings));
    let _ = writeln!(
        out,
        "confidence: 95% per point; a rate is `met` only when every SLO's interval is within its limit\n"
    );
    let mut header = vec!["design".to_string(), "met rps".into(), "not met rps".into()];
    header.extend(r.slos.iter().map(|s| format!("{} at met (ms)", s.label())));
    header.extend([
        "saturates at rps".into(),
        "bottleneck".into(),
        "runs".into(),
    ]);
    let mut rows = vec![header];
    for c in &r.designs {
        let mut row = vec![c.design.clone(), rps(c.met_rps), rps(c.limit_rps)];
        for i in 0..r.slos.len() {
            row.push(
                c.at_met
                    .as_ref()
                    .map_or("-".into(), |p| figure(&p.figures_ms[i])),
            );
        }
        row.extend([
            saturation_cell(c),
            c.bottleneck.clone().unwrap_or("-".into()),
            c.runs.to_string(),
        ]);
        rows.push(row);
    }
    let mut right = vec![false, true, true];
    right.extend(r.slos.iter().map(|_| true));
    right.extend([true, false, true]);
    out.push_str(&columns::layout(&rows, &right, "  "));
    let _ = writeln!(
        out,
        "\nsaturates at: `~N est.` is where the busiest cores' measured utilisation would reach 100%; `N saturated` is the lowest rate tried whose run saturated"
    );
    binding_lines(&mut out, r.designs.iter().map(|c| (&c.design, &c.binding)));
    for c in &r.designs {
        if !c.unsure.is_empty() {
            let _ = writeln!(
                out,
                "\n{}: undecided at {} rps even with {} replications (counted as not met)",
                c.design,
                c.unsure
                    .iter()
                    .map(|u| rps(Some(*u)))
                    .collect::<Vec<_>>()
                    .join(", "),
                r.settings.max_replications
            );
        }
        if let Some(n) = &c.note {
            let _ = writeln!(out, "\n{}: {n}", c.design);
        }
    }
    let base = r.designs.iter().find(|d| d.design == "plaintext");
    if let Some(b) = base.and_then(|b| b.met_rps) {
        for c in r.designs.iter().filter(|d| d.design != "plaintext") {
            if let Some(m) = c.met_rps {
                let _ = writeln!(
                    out,
                    "\n{} sustains {} rps within the SLOs, {:.0}% of plaintext's {} rps",
                    c.design,
                    rps(Some(m)),
                    100.0 * m / b,
                    rps(Some(b))
                );
            }
        }
    }
    out
}

/// Under the table, `  plaintext: gateway.pay p99 <= 20 ms` for each
/// design with a binding objective (only when an SLO names an endpoint).
fn binding_lines<'a>(
    out: &mut String,
    designs: impl Iterator<Item = (&'a String, &'a Option<Slo>)>,
) {
    let lines: Vec<String> = designs
        .filter_map(|(d, b)| b.as_ref().map(|b| format!("  {d}: {b}")))
        .collect();
    if !lines.is_empty() {
        let _ = writeln!(
            out,
            "\nthe objective that binds (least headroom where the SLOs stop being met):\n{}",
            lines.join("\n")
        );
    }
}

/// Columns of `capacity.csv`, before two per SLO (`<stat>_ms`,
/// `<stat>_ci95_ms`, the figure at the met rate; `<endpoint>_<stat>_ms` for
/// an SLO on one endpoint) and, when an SLO names an endpoint, `binding`.
pub const CAPACITY_CSV_COLUMNS: [&str; 10] = [
    "design",
    "met_rps",
    "not_met_rps",
    "missed_rps",
    "width",
    "saturation_rps",
    "saturation_estimate_rps",
    "bottleneck",
    "unsure_rps",
    "runs",
];

fn num(v: Option<f64>) -> String {
    v.map_or(String::new(), |x| format!("{x}"))
}

/// `capacity.csv`: one row per design.
pub fn capacity_csv(r: &CapacityReport) -> io::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = CAPACITY_CSV_COLUMNS.iter().map(|s| s.to_string()).collect();
    for s in &r.slos {
        header.push(format!("{}_ms", s.column()));
        header.push(format!("{}_ci95_ms", s.column()));
    }
    let scoped = any_scoped(&r.slos);
    if scoped {
        header.push("binding".into());
    }
    w.write_record(&header)?;
    for c in &r.designs {
        let mut rec = vec![
            csv_text(&c.design),
            num(c.met_rps),
            num(c.limit_rps),
            num(c.missed_rps),
            num(c.width()),
            num(c.saturation_rps),
            num(c.saturation_estimate_rps),
            csv_text(c.bottleneck.as_deref().unwrap_or_default()),
            csv_text(
                &c.unsure
                    .iter()
                    .map(|u| u.to_string())
                    .collect::<Vec<_>>()
                    .join(";"),
            ),
            c.runs.to_string(),
        ];
        for i in 0..r.slos.len() {
            let f = c.at_met.as_ref().and_then(|p: &Point| p.figures_ms[i]);
            rec.push(num(f.map(|e| e.mean)));
            rec.push(num(f.and_then(|e| e.ci95)));
        }
        if scoped {
            rec.push(csv_text(
                &c.binding.as_ref().map_or(String::new(), |b| b.to_string()),
            ));
        }
        w.write_record(&rec)?;
    }
    w.into_inner().map_err(|e| io::Error::other(e.to_string()))
}

/// Writes `capacity.json` and `capacity.csv` into `dir`.
pub fn write_capacity(dir: &Path, r: &CapacityReport) -> io::Result<()> {
    super::output::create_dir(dir)?;
    let json = serde_json::to_string_pretty(r).map_err(io::Error::other)?;
    write_atomic(&dir.join("capacity.json"), format!("{json}\n").as_bytes())?;
    write_atomic(&dir.join("capacity.csv"), &capacity_csv(r)?)
}

fn signed(v: i64) -> String {
    if v > 0 {
        format!("+{v}")
    } else {
        v.to_string()
    }
}

fn money(v: f64) -> String {
    let sign = if v < 0.0 { "-" } else { "" };
    format!("{sign}${:.0}", v.abs())
}

fn signed_money(v: f64) -> String {
    if v > 0.0 {
        format!("+{}", money(v))
    } else {
        money(v)
    }
}

/// The sizing tables for a terminal.
pub fn render_sizing(r: &SizingReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Sizing of {} at {} rps: the fewest {} per service meeting {}",
        r.topology,
        rps(Some(r.target_rps)),
        r.size_by.name(),
        slo_list(&r.slos)
    );
    let _ = writeln!(out, "{}", settings_line(&r.settings));
    let _ = writeln!(
        out,
        "confidence: 95% per point; a size is kept only when every SLO's interval is within its limit"
    );
    if let Some(p) = r.price_per_vcpu_hour {
        let _ = writeln!(
            out,
            "money: ${p} per vCPU-hour x {} hours per month; 1 core = 1 vCPU",
            r.hours_per_month
        );
    }
    for d in &r.designs {
        sizing_design(&mut out, r, d);
    }
    for c in &r.versus_baseline {
        if !c.both_met {
            let _ = writeln!(
                out,
                "\n{} vs plaintext: no comparison, since not both meet the SLOs at {} rps",
                c.design,
                rps(Some(r.target_rps))
            );
            continue;
        }
        let cost = c
            .monthly_cost_difference
            .map_or(String::new(), |m| format!(" = {}/month", signed_money(m)));
        let _ = writeln!(
            out,
            "\n{} costs {} vCPU over plaintext ({} vs {} vCPU){cost}",
            c.design,
            signed(c.vcpu_difference),
            c.vcpu,
            c.baseline_vcpu
        );
    }
    out
}

/// One design's sizing: its verdict, the table by service and the totals.
fn sizing_design(out: &mut String, r: &SizingReport, d: &Sizing) {
    let verdict = match (&d.at_size, d.met) {
        (Some(p), true) => format!(
            "met ({})",
            r.slos
                .iter()
                .zip(&p.figures_ms)
                .map(|(s, f)| format!("{} {} ms", s.label(), figure(f)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        _ => "NOT MET".into(),
    };
    let _ = writeln!(
        out,
        "\n{}: {verdict}; {} configuration{}, {} runs",
        d.design,
        d.steps.len(),
        if d.steps.len() == 1 { "" } else { "s" },
        d.runs
    );
    out.push_str(&sizing_table(r, d));
    let fixed = if d.fixed_vcpu > 0 {
        format!(" + {} vCPU of node proxies and waypoints", d.fixed_vcpu)
    } else {
        String::new()
    };
    let cost = r
        .monthly(d.total_vcpu() as f64)
        .map_or(String::new(), |m| format!(" = {}/month", money(m)));
    let _ = writeln!(
        out,
        "  {} vCPU before -> {} vCPU after{fixed}{cost}",
        d.vcpu_before, d.vcpu_after
    );
    if let Some(b) = &d.binding {
        let _ = writeln!(out, "  the objective that binds (least headroom): {b}");
    }
    if let Some(n) = &d.note {
        let _ = writeln!(out, "  {n}");
    }
    if !d.met {
        let _ = writeln!(
            out,
            "  (the sizes shown are the last tried: they keep every core below 100% busy but do not meet the SLOs)"
        );
    }
}

/// The table of one design's services: sizes before and after, cores added.
fn sizing_table(r: &SizingReport, d: &Sizing) -> String {
    let mut header = vec![
        "service".to_string(),
        "replicas".into(),
        "cores/replica".into(),
        "cores added".into(),
        "vCPU added".into(),
        "busy".into(),
    ];
    if r.price_per_vcpu_hour.is_some() {
        header.push("$/month added".into());
    }
    let mut rows = vec![header];
    let arrow = |a: u32, b: u32| {
        if a == b {
            a.to_string()
        } else {
            format!("{a} -> {b}")
        }
    };
    for s in &d.services {
        let mut row = vec![
            s.service.clone(),
            arrow(s.replicas_before, s.replicas_after),
            arrow(s.cores_before, s.cores_after),
            signed(s.cores_added),
            signed(s.vcpu_added),
            format!("{:.0}%", 100.0 * s.utilisation),
        ];
        if let Some(m) = r.monthly(s.vcpu_added as f64) {
            row.push(signed_money(m));
        }
        rows.push(row);
    }
    let mut total = vec![
        "total".to_string(),
        String::new(),
        String::new(),
        signed(d.cores_added()),
        signed(d.vcpu_added()),
        String::new(),
    ];
    if let Some(m) = r.monthly(d.vcpu_added() as f64) {
        total.push(signed_money(m));
    }
    rows.push(total);
    columns::layout(&rows, &[false, true, true, true, true, true, true], "  ")
}

/// Columns of `sizing.csv`.
pub const SIZING_CSV_COLUMNS: [&str; 12] = [
    "design",
    "service",
    "replicas_before",
    "cores_before",
    "replicas_after",
    "cores_after",
    "cores_added",
    "vcpu_added",
    "utilisation",
    "monthly_cost_added",
    "met",
    "target_rps",
];

/// `sizing.csv`: one row per design and service, then a `total` row per
/// design; when an SLO names an endpoint, a last column `binding`.
pub fn sizing_csv(r: &SizingReport) -> io::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let scoped = any_scoped(&r.slos);
    let mut header: Vec<&str> = SIZING_CSV_COLUMNS.to_vec();
    if scoped {
        header.push("binding");
    }
    w.write_record(&header)?;
    for d in &r.designs {
        let met = d.met.to_string();
        let rate = r.target_rps.to_string();
        let binding =
            scoped.then(|| csv_text(&d.binding.as_ref().map_or(String::new(), |b| b.to_string())));
        for s in &d.services {
            let mut rec = vec![
                csv_text(&d.design),
                csv_text(&s.service),
                s.replicas_before.to_string(),
                s.cores_before.to_string(),
                s.replicas_after.to_string(),
                s.cores_after.to_string(),
                s.cores_added.to_string(),
                s.vcpu_added.to_string(),
                format!("{:.4}", s.utilisation),
                num(r.monthly(s.vcpu_added as f64)),
                met.clone(),
                rate.clone(),
            ];
            rec.extend(binding.clone());
            w.write_record(&rec)?;
        }
        let mut rec = vec![
            csv_text(&d.design),
            "total".into(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            d.cores_added().to_string(),
            d.vcpu_added().to_string(),
            String::new(),
            num(r.monthly(d.vcpu_added() as f64)),
            met,
            rate,
        ];
        rec.extend(binding);
        w.write_record(&rec)?;
    }
    w.into_inner().map_err(|e| io::Error::other(e.to_string()))
}

/// Writes `sizing.json` and `sizing.csv` into `dir`.
pub fn write_sizing(dir: &Path, r: &SizingReport) -> io::Result<()> {
    super::output::create_dir(dir)?;
    let json = serde_json::to_string_pretty(r).map_err(io::Error::other)?;
    write_atomic(&dir.join("sizing.json"), format!("{json}\n").as_bytes())?;
    write_atomic(&dir.join("sizing.csv"), &sizing_csv(r)?)
}
