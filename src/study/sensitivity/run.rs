//! Running an analysis: every setting of every knob resolved into a
//! validated case (through the study machinery, so it meets the same
//! checks as a written value), all cases run in parallel on the base seed,
//! and the knobs ranked.

use crate::config::profile::CostProfile;
use rayon::prelude::*;

use super::knob::{Edit, Knob, KnobKind, Setting};
use crate::config::Diagnostic;
use crate::config::study::{self, Input, StudySpec};
use crate::model::{self, Design, Topology};
use crate::report::sensitivity::Skipped;
use crate::report::sensitivity::{
    CapacityOutcome, Effect, KnobResult, Outcome, SensitivityResults,
};
use crate::report::slo::Slo;
use crate::report::summarize;
use crate::study::capacity::{Search, rate_capacity};
use crate::study::progress::{Progress, Silent};
use crate::units::Nanos;

/// What a sensitivity analysis runs on.
#[derive(Debug, Clone)]
pub struct Spec {
    /// The topology file.
    pub topology: Input,
    /// The base design file.
    pub design: Input,
    /// Offered load, requests per second.
    pub rate: f64,
    /// Replications (None: the topology's).
    pub replications: Option<u32>,
    /// Base seed (None: the topology's).
    pub seed: Option<u64>,
    /// Measured duration (None: the topology's).
    pub duration: Option<Nanos>,
    /// Measured requests instead of a duration (None: the duration).
    pub requests: Option<u64>,
    /// Warm-up (None: the topology's).
    pub warmup: Option<Nanos>,
    /// The `--costs` profile, replacing the design's own `costs` key.
    pub costs: Option<CostProfile>,
}

/// A validated topology and design, ready to run.
#[derive(Debug, Clone)]
pub struct Case {
    /// The topology at the analysis' rate and seed.
    pub topology: Topology,
    /// The design with the variation applied.
    pub design: Design,
}

/// Every run of an analysis, validated before any starts.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The base design.
    pub base: Case,
    /// Each knob with its low and high cases (None: the base itself).
    pub knobs: Vec<(Knob, Option<Case>, Option<Case>)>,
}

impl Case {
    /// Whether `other` simulates the same system: the same topology and the
    /// same design once what does not apply is set aside.
    fn is_same_system(&self, other: &Case) -> bool {
        self.topology == other.topology && self.design.effective() == other.design.effective()
    }
}

impl Prepared {
    /// Every case to run: the base, then each knob's low and high.
    pub fn cases(&self) -> impl Iterator<Item = &Case> {
        std::iter::once(&self.base).chain(
            self.knobs
                .iter()
                .flat_map(|(_, l, h)| l.iter().chain(h.iter())),
        )
    }
}

/// The base design file with `edits`' removals applied.
fn without(design: &Input, edits: &[Edit]) -> Result<Input, Diagnostic> {
    let removals: Vec<&str> = edits
        .iter()
        .filter(|e| e.value.is_none())
        .map(|e| e.path.as_str())
        .collect();
    if removals.is_empty() {
        return Ok(design.clone());
    }
    let mut doc: toml::Table = toml::from_str(&design.text)
        .map_err(|e| Diagnostic::new(&design.name, format!("invalid TOML: {}", e.message())))?;
    for path in removals {
        let (parent, key) = path.rsplit_once('.').unwrap_or(("", path));
        let mut table = Some(&mut doc);
        for seg in parent.split('.').filter(|s| !s.is_empty()) {
            table = table.and_then(|t| t.get_mut(seg).and_then(toml::Value::as_table_mut));
        }
        if let Some(t) = table {
            t.remove(key);
        }
    }
    toml::to_string(&doc)
        .map(|text| Input {
            name: design.name.clone(),
            text,
        })
        .map_err(|e| Diagnostic::new(&design.name, e.to_string()))
}

/// Resolves one setting of `spec` into a case: edits applied to the files,
/// then validated, at the analysis' rate, duration and seed.
fn resolve(spec: &Spec, edits: &[Edit]) -> Result<Case, Vec<Diagnostic>> {
    let design = without(&spec.design, edits).map_err(|d| vec![d])?;
    let study = StudySpec {
        name: "sensitivity".into(),
        title: String::new(),
        topology: spec.topology.clone(),
        designs: vec![design],
        rates: vec![spec.rate],
        focus_rate: None,
        blend_entries: false,
        params: edits
            .iter()
            .filter_map(|e| e.value.as_ref().map(|v| (e.path.clone(), vec![v.clone()])))
            .collect(),
        replications: spec.replications,
        seed: spec.seed,
        duration: spec.duration,
        requests: spec.requests,
        warmup: spec.warmup,
        slos: Vec::new(),
        costs: spec.costs.clone(),
    };
    // One combination at one load: expand gives it the base seed itself,
    // so every variation shares the base's random numbers.
    let mut points = study::expand(&study)?.points;
    let p = points.remove(0);
    Ok(Case {
        topology: p.topology,
        design: p.design_model,
    })
}

/// Validates the base and every variation of `knobs`; all problems at once.
/// A knob whose variation fails names its path and value in the message.
pub fn prepare(spec: &Spec, knobs: Vec<Knob>) -> Result<Prepared, Vec<Diagnostic>> {
    let base = resolve(spec, &[])?;
    let mut errors = Vec::new();
    let mut out = Vec::new();
    for knob in knobs {
        let refused = errors.len();
        let mut side = |s: &Setting| -> Option<Case> {
            if s.edits.is_empty() {
                return None;
            }
            match resolve(spec, &s.edits) {
                Ok(c) => Some(c),
                Err(ds) => {
                    errors.extend(ds.into_iter().map(|mut d| {
                        d.message =
                            format!("varying `{}` to {}: {}", knob.path, s.label, d.message);
                        d
                    }));
                    None
                }
            }
        };
        let low = side(&knob.low);
        let high = side(&knob.high);
        // A --param whose two values simulate the base system would show a
        // spread of zero that looks like a finding: the key does not apply
        // (a proxy's CPU with no proxy) or the analysis sets it (the workload).
        let same = |c: &Option<Case>| c.as_ref().is_none_or(|c| base.is_same_system(c));
        if knob.kind == KnobKind::Explicit && errors.len() == refused && same(&low) && same(&high) {
            errors.push(Diagnostic::new(
                "command line",
                format!(
                    "--param {}: neither value changes the system simulated, so it would show no effect: the key does not apply to this design (such as a proxy's CPU with proxy.mode = \"none\"), or the analysis sets it (the workload's rate, window, replications and seed come from --rate, --duration or --requests, --warmup, --replications and --seed)",
                    knob.path
                ),
            ));
        }
        out.push((knob, low, high));
    }
    errors.dedup_by(|a, b| a.to_string() == b.to_string());
    if errors.is_empty() {
        Ok(Prepared { base, knobs: out })
    } else {
        Err(errors)
    }
}

/// What a capacity search says about one case (see `report::sensitivity`).
pub type CapacityFn<'a> = &'a (dyn Fn(&Case) -> CapacityOutcome + Sync);

/// Runs one case: its replications, the p99 per replication, and its
/// capacity if asked.
fn measure(case: &Case, capacity: Option<CapacityFn>) -> Outcome {
    let runs = model::Replications::of(&case.topology, &case.design);
    let summary = summarize(&case.topology, &case.design, &runs.runs);
    let p99_ms = summary.requests.latency_ms.as_ref().map(|l| l.p99);
    let per_replication = if p99_ms.is_some() {
        runs.runs
            .iter()
            .map(|r| {
                r.all
                    .latency
                    .quantile(0.99)
                    .map_or(f64::NAN, |ns| ns * 1e-6)
            })
            .collect()
    } else {
        Vec::new()
    };
    Outcome {
        p99_ms,
        p99_ms_replications: per_replication,
        saturated: summary.saturated.as_ref().map(|s| {
            s.bottleneck
                .clone()
                .unwrap_or_else(|| "unknown bottleneck".into())
        }),
        capacity: capacity.map(|f| f(case)),
    }
}

/// Runs every case of `prepared` in parallel (results identical on any
/// number of threads: each case is a self-contained computation on the base
/// seed) and ranks the knobs. `capacity`, when given, measures each case's
/// capacity against the SLOs the caller has in mind; recording those SLOs,
/// the capacity method and the skipped parameters in the results is the
/// caller's part.
pub fn run(spec: &Spec, prepared: &Prepared, capacity: Option<CapacityFn>) -> SensitivityResults {
    run_told(spec, prepared, capacity, &Silent)
}

/// [`run`], telling `progress` of each case done (capacity search included).
fn run_told(
    spec: &Spec,
    prepared: &Prepared,
    capacity: Option<CapacityFn>,
    progress: &dyn Progress,
) -> SensitivityResults {
    let cases: Vec<&Case> = prepared.cases().collect();
    progress.start(Some(cases.len() as u64), 0);
    let outcomes: Vec<Outcome> = cases
        .par_iter()
        .map(|c| {
            let o = measure(c, capacity);
            progress.point_done();
            o
        })
        .collect();
    progress.finish();
    let mut it = outcomes.into_iter();
    let base = it.next().expect("the base case runs");
    let mut knobs = Vec::new();
    for (knob, low, high) in &prepared.knobs {
        let mut take = |c: &Option<Case>| match c {
            Some(_) => it.next().expect("one outcome per case"),
            None => base.clone(),
        };
        let low_o = take(low);
        let high_o = take(high);
        knobs.push(KnobResult {
            path: knob.path.clone(),
            kind: knob.kind.name().into(),
            base_value: knob.base.clone(),
            low_value: knob.low.label.clone(),
            high_value: knob.high.label.clone(),
            p99: Effect::p99(&low_o, &base, &high_o),
            capacity: Effect::capacity(&low_o, &base, &high_o),
            low: low_o,
            high: high_o,
        });
    }
    let b = &prepared.base.topology.workload;
    let mut results = SensitivityResults {
        ztsim_version: env!("CARGO_PKG_VERSION").into(),
        topology: prepared.base.topology.name.clone(),
        design: prepared.base.design.name.clone(),
        rate_rps: spec.rate,
        replications: b.replications,
        seed: b.seed,
        warmup_s: b.warmup as f64 * 1e-9,
        duration_s: b.window.duration_s(),
        requests: b.window.requests(),
        slos: Vec::new(),
        capacity_method: None,
        base,
        knobs,
        skipped: Vec::new(),
    };
    results.rank();
    results
}

/// Runs the analysis; with SLOs, each case's capacity too: the highest rate
/// meeting every SLO, searched from the analysis' rate on seeds that depend
/// only on the rate, so every variation is searched on the same requests.
/// The results record the SLOs, the capacity method and `skipped`;
/// `progress` counts the runs (a variation with its capacity search).
pub fn analyse(
    spec: &Spec,
    prepared: &Prepared,
    (slos, search): (&[Slo], &Search),
    skipped: Vec<Skipped>,
    progress: &dyn Progress,
) -> SensitivityResults {
    let capacity = |case: &Case| {
        let c = rate_capacity(&case.topology, &case.design, slos, search);
        CapacityOutcome {
            rps: c.met_rps,
            uncertainty_rps: c.met_rps.zip(c.limit_rps).map(|(met, limit)| limit - met),
            bottleneck: c.bottleneck,
        }
    };
    let mut results = run_told(
        spec,
        prepared,
        if slos.is_empty() {
            None
        } else {
            Some(&capacity)
        },
        progress,
    );
    if !slos.is_empty() {
        results.capacity_method = Some(format!(
            "searched to {}%, {} replications a point, an undecided point counted as missed",
            search.resolution * 100.0,
            search.replications
        ));
    }
    results.slos = slos.to_vec();
    results.skipped = skipped;
    results
}
