//! Study files (a grid of designs x loads x parameters) and parameter
//! overrides by path. A study resolves into [`Study`]: every grid point's
//! topology and design, already validated, with its seed.
//!
//! Parameters are applied to the *files* before they are validated, so a
//! swept value goes through exactly the checks a hand-written one would:
//! `services.cart.replicas = 0` is refused as "replicas must be at least 1".

use std::collections::BTreeSet;
use std::path::Path;

mod checks;
mod params;
mod same;
mod spec;

use self::checks::{check_against_topology, check_grid, check_keys, check_names};
pub use self::params::parse_param_flag;
use self::params::{Target, about_param, display, set_path, target};
pub(crate) use self::spec::StudyFile;
pub use self::spec::{DESIGN_KEYS, Input, StudySpec, TOPOLOGY_KEYS};
use super::design::parse_design_with_costs;
use super::diag::{Diagnostic, KeyPath, Source};
use super::parse_topology;
use crate::engine::rng::derive;
use crate::model::Design;
use crate::model::slo::Slo;
use crate::model::topology::{Arrivals, MAX_REPLICATIONS, Topology, Window};

/// One grid point, ready to run.
#[derive(Debug, Clone)]
pub struct Point {
    /// Design name.
    pub design: String,
    /// Offered load, if open loop.
    pub rate: Option<f64>,
    /// Other parameters as (path, value as written).
    pub params: Vec<(String, String)>,
    /// The topology with this point's load, parameters and seed.
    pub topology: Topology,
    /// The design with this point's parameters.
    pub design_model: Design,
    /// The first point in grid order (its index) that is the same system:
    /// same design, load, topology and effective design
    /// ([`Design::effective`]), only its swept values and seed differ. Such a
    /// point is not simulated: its results are that point's, so an identical
    /// system shows identically rather than with another seed's noise.
    pub same_as: Option<usize>,
    /// Swept parameters whose values differ among the points that are one
    /// system with this one (they do not apply to it), in `params` order;
    /// empty for a point that is one system with no other.
    pub not_applying: Vec<String>,
}

/// A resolved study.
#[derive(Debug, Clone)]
pub struct Study {
    /// Output folder name.
    pub name: String,
    /// The question (empty until `expand` makes one of the designs).
    pub title: String,
    /// Topology name.
    pub topology: String,
    /// Design names in order.
    pub designs: Vec<String>,
    /// Loads, ascending: the `rates` swept, else the topology's own (empty
    /// for closed loops).
    pub rates: Vec<f64>,
    /// Load for per-design charts.
    pub focus_rate: Option<f64>,
    /// Latency charts over all entry endpoints together.
    pub blend_entries: bool,
    /// Swept parameter paths.
    pub params: Vec<String>,
    /// Replications per point.
    pub replications: u32,
    /// Points in grid order: parameters outermost, then load, then design.
    pub points: Vec<Point>,
    /// The design files as given (before parameters), in `designs` order,
    /// for the report's parameter table.
    pub design_inputs: Vec<Input>,
    /// Latency objectives the report judges points against.
    pub slos: Vec<Slo>,
    /// Keys the design files set to no effect: warned about as written,
    /// when they have none at any point either (a swept value may turn
    /// their part on). Shown, never part of the results.
    pub warnings: Vec<Diagnostic>,
}

impl Study {
    /// A fingerprint of everything the results depend on: every point's
    /// resolved topology, design, coordinates and seed, and the ztsim version.
    /// An interrupted study may only be resumed into a folder with the same.
    pub fn fingerprint(&self) -> String {
        // FNV-1a over the Debug form: deterministic (no HashMaps inside) and
        // it changes with any resolved value, not just the input text.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let text = format!(
            "{}{:?}{:?}{:?}",
            env!("CARGO_PKG_VERSION"),
            self.rates,
            self.params,
            self.points
        );
        for b in text.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        format!("{h:016x}")
    }
}

/// Reads a study file; relative paths in it are relative to its folder.
pub fn read_study(path: &Path) -> Result<StudySpec, Vec<Diagnostic>> {
    let input = Input::read(path).map_err(|d| vec![d])?;
    let src = Source::parse(&input.name, &input.text).map_err(|d| vec![d])?;
    let raw: StudyFile = src.deserialize().map_err(|d| vec![d])?;
    let base = path.parent().unwrap_or(Path::new("."));
    let mut errors = Vec::new();
    let topology = study_topology(&src, &raw, base);
    let designs = study_designs(&src, &raw, base, &mut errors);
    check_keys(&src, &raw, &mut errors);
    let replications = match raw.replications {
        Some(n) if (1..=i64::from(MAX_REPLICATIONS)).contains(&n) => Some(n as u32),
        Some(n) => {
            errors.push(src.error(
                &KeyPath::root().key("replications"),
                format!("replications must be from 1 to {MAX_REPLICATIONS}, got {n}"),
            ));
            None
        }
        None => None,
    };
    let mut slos = Vec::new();
    for (i, text) in raw.slo.iter().enumerate() {
        match Slo::parse(text) {
            Ok(o) => slos.push(o),
            Err(m) => errors.push(src.error(&KeyPath::root().key("slo").index(i), m)),
        }
    }
    for (k, v) in &raw.params {
        if v.is_empty() {
            errors.push(src.error(
                &KeyPath::root().key("params").key(k),
                "give at least one value to sweep",
            ));
        }
    }
    let topology = match topology {
        Ok(t) => t,
        Err(d) => {
            errors.push(d);
            return Err(errors);
        }
    };
    check_against_topology(&src, &raw, &topology, &designs, &mut errors);
    if !errors.is_empty() {
        return Err(errors);
    }
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("study");
    let name = raw
        .name
        .unwrap_or_else(|| stem.trim_end_matches(".study").to_string());
    Ok(StudySpec {
        // Filled in by `expand` once the designs have names.
        title: raw.title.unwrap_or_default(),
        name,
        topology,
        designs,
        rates: raw.rates,
        focus_rate: raw.focus_rate,
        blend_entries: raw.blend_entries.unwrap_or(false),
        params: raw.params.into_iter().collect(),
        replications,
        seed: raw.seed,
        duration: raw.duration.map(|d| d.0),
        requests: None,
        warmup: raw.warmup.map(|d| d.0),
        slos,
        costs: None,
    })
}

/// The study's topology file, read (a problem located at `topology`).
fn study_topology(src: &Source, raw: &StudyFile, base: &Path) -> Result<Input, Diagnostic> {
    match &raw.topology {
        Some(t) => Input::read(&base.join(t)).map_err(|d| {
            // Not UTF-8: located in the topology itself.
            if d.line.is_some() {
                return d;
            }
            src.error(
                &KeyPath::root().key("topology"),
                format!("topology `{t}`: {}", d.message),
            )
        }),
        None => Err(src.missing(
            &KeyPath::root().key("topology"),
            "a study names its topology: topology = \"chatty.toml\"",
        )),
    }
}

/// The study's design files, read and checked for TOML syntax.
fn study_designs(
    src: &Source,
    raw: &StudyFile,
    base: &Path,
    errors: &mut Vec<Diagnostic>,
) -> Vec<Input> {
    let mut designs = Vec::new();
    if raw.designs.is_empty() {
        errors.push(src.missing(&KeyPath::root().key("designs"), "the study has no designs: list design files, e.g. designs = [\"../models/plaintext.toml\"]"));
    }
    for (i, d) in raw.designs.iter().enumerate() {
        match Input::read(&base.join(d)) {
            // A syntax error is best shown in the design's own lines, before
            // any parameter rewrites the file.
            Ok(x) => match Source::parse(&x.name, &x.text) {
                Ok(_) => designs.push(x),
                Err(e) => errors.push(e),
            },
            Err(e) if e.line.is_some() => errors.push(e),
            Err(e) => errors.push(src.error(
                &KeyPath::root().key("designs").index(i),
                format!("design `{d}`: {}", e.message),
            )),
        }
    }
    designs
}

/// Expands `spec` into validated grid points. Points are ordered with the
/// parameters outermost, then the load, then the design; each (load,
/// parameters) combination gets one seed that all designs share, so they see
/// the same workload (common random numbers). Points that are one system
/// (a swept parameter that does not apply to a design) are marked: the
/// first of them in grid order runs, the others are `same_as` it.
pub fn expand(spec: &StudySpec) -> Result<Study, Vec<Diagnostic>> {
    check_grid_size(spec)?;
    let base_topo = parse_topology(&spec.topology.name, &spec.topology.text)?;
    check_grid(spec, &base_topo)?;
    let mut rates = spec.rates.clone();
    rates.sort_by(f64::total_cmp);
    let loads: Vec<Option<f64>> = if rates.is_empty() {
        vec![base_topo.workload.arrivals.rate()]
    } else {
        rates.iter().map(|&r| Some(r)).collect()
    };
    let mut grid = Grid {
        spec,
        loads: &loads,
        base_seed: spec.seed.unwrap_or(base_topo.workload.seed),
        errors: Vec::new(),
        points: Vec::new(),
        design_names: Vec::new(),
        unapplied: vec![None; spec.designs.len()],
    };
    for (ci, combo) in combinations(&spec.params).iter().enumerate() {
        grid.combination(ci, combo);
    }
    let Grid {
        mut errors,
        points,
        design_names,
        unapplied,
        ..
    } = grid;
    // One error per distinct message: a bad parameter fails every point.
    errors.dedup_by(|a, b| a.to_string() == b.to_string());
    if !errors.is_empty() {
        return Err(errors);
    }
    let named: Vec<(String, &Input)> = design_names.iter().cloned().zip(&spec.designs).collect();
    let errors = check_names(&named);
    if !errors.is_empty() {
        return Err(errors);
    }
    if points.is_empty() {
        return Err(vec![Diagnostic::new(
            &spec.name,
            "the grid is empty: nothing to run",
        )]);
    }
    let warnings = spec
        .designs
        .iter()
        .zip(unapplied)
        .flat_map(|(input, keys)| {
            let keys = keys.unwrap_or_default();
            // As written, so that each warning's line is the file's.
            parse_design_with_costs(
                &input.name,
                &input.text,
                Some(&base_topo),
                spec.costs.as_ref(),
            )
            .map(|p| p.warnings)
            .unwrap_or_default()
            .into_iter()
            .filter(move |w| keys.contains(&warned_key(w)))
        })
        .collect();
    let mut points = points;
    same::mark(&mut points);
    let replications = points[0].topology.workload.replications;
    Ok(Study {
        name: spec.name.clone(),
        title: if spec.title.trim().is_empty() {
            default_title(&base_topo.name, &design_names)
        } else {
            spec.title.clone()
        },
        topology: base_topo.name.clone(),
        designs: design_names,
        // Without `rates` the points run at the topology's own load (a
        // profile's mean over the window, a replay's mean rate): that is
        // the load swept, for the tables and charts that go by load.
        rates: if rates.is_empty() {
            loads.iter().flatten().copied().collect()
        } else {
            rates
        },
        focus_rate: spec.focus_rate,
        blend_entries: spec.blend_entries,
        params: spec.params.iter().map(|(p, _)| p.clone()).collect(),
        replications,
        points,
        design_inputs: spec.designs.clone(),
        slos: spec.slos.clone(),
        warnings,
    })
}

/// What a warning is about: its file and key, whatever its line.
fn warned_key(w: &Diagnostic) -> (String, String) {
    (
        w.file.clone(),
        w.key.as_ref().map(ToString::to_string).unwrap_or_default(),
    )
}

/// The question a study without a title answers, from what it compares.
fn default_title(topology: &str, designs: &[String]) -> String {
    match designs {
        [d] => format!("How does {d} perform on {topology}?"),
        [a, b] => format!("How do {a} and {b} compare on {topology}?"),
        [a, b, c] => format!("How do {a}, {b} and {c} compare on {topology}?"),
        _ => format!(
            "How do {} Zero Trust designs compare on {topology}?",
            designs.len()
        ),
    }
}

/// Most points a study may expand to: each holds its own topology and
/// design, so the grid is counted before a single point is built.
pub const MAX_POINTS: usize = 10_000;

/// Refuses a grid (designs x rates x each parameter's values) beyond
/// [`MAX_POINTS`], from the counts alone.
fn check_grid_size(spec: &StudySpec) -> Result<(), Vec<Diagnostic>> {
    let rates = spec.rates.len().max(1) as f64;
    let product: f64 = spec.params.iter().map(|(_, v)| v.len() as f64).product();
    let points = spec.designs.len() as f64 * rates * product;
    if points <= MAX_POINTS as f64 {
        return Ok(());
    }
    let factors: Vec<String> = spec
        .params
        .iter()
        .map(|(p, v)| format!("{} `{p}`", v.len()))
        .collect();
    Err(vec![Diagnostic::new(
        &spec.name,
        format!(
            "the study's grid has {points:.0} points ({} designs x {} rates{}{}), beyond the limit of {MAX_POINTS}: sweep fewer values, or split it into several studies",
            spec.designs.len(),
            spec.rates.len().max(1),
            if factors.is_empty() { "" } else { " x " },
            factors.join(" x ")
        ),
    )])
}

/// The Cartesian product of parameter values, first parameter outermost.
fn combinations(params: &[(String, Vec<toml::Value>)]) -> Vec<Vec<(String, toml::Value)>> {
    let mut combos: Vec<Vec<(String, toml::Value)>> = vec![Vec::new()];
    for (path, values) in params {
        combos = combos
            .into_iter()
            .flat_map(|c| {
                values.iter().map(move |v| {
                    let mut c = c.clone();
                    c.push((path.clone(), v.clone()));
                    c
                })
            })
            .collect();
    }
    combos
}

/// The grid as it is expanded: points in order and every problem met.
struct Grid<'a> {
    spec: &'a StudySpec,
    loads: &'a [Option<f64>],
    base_seed: u64,
    errors: Vec<Diagnostic>,
    points: Vec<Point>,
    design_names: Vec<String>,
    /// Per design file, the keys warned about at every point so far (None
    /// before its first point).
    unapplied: Vec<Option<BTreeSet<(String, String)>>>,
}

impl Grid<'_> {
    /// The points of parameter combination `ci`: each load, each design.
    fn combination(&mut self, ci: usize, combo: &[(String, toml::Value)]) {
        let spec = self.spec;
        let shown: Vec<(String, String)> =
            combo.iter().map(|(p, v)| (p.clone(), display(v))).collect();
        let Some(topo) = self.topology(combo, &shown) else {
            return;
        };
        for (li, load) in self.loads.iter().enumerate() {
            let mut t = topo.clone();
            if let Some(rate) = load {
                // A profile is scaled to a mean of `rate` over the window;
                // closed loops and replays were refused rates above.
                t.workload.arrivals.set_rate(*rate);
            }
            // The first combination runs on the base seed itself, so a one-point
            // study reproduces `ztsim run` exactly; the others derive theirs.
            let combination = (ci * self.loads.len() + li) as u64;
            t.workload.seed = if combination == 0 {
                self.base_seed
            } else {
                derive(self.base_seed, combination)
            };
            for (di, input) in spec.designs.iter().enumerate() {
                let Some(text) = self.design_text(input, combo) else {
                    continue;
                };
                match parse_design_with_costs(&input.name, &text, Some(&t), spec.costs.as_ref()) {
                    Ok(parsed) => {
                        let keys = parsed.warnings.iter().map(warned_key).collect();
                        let seen = &mut self.unapplied[di];
                        *seen = Some(match seen.take() {
                            None => keys,
                            Some(s) => s.intersection(&keys).cloned().collect(),
                        });
                        let d = parsed.design;
                        if ci == 0 && li == 0 {
                            self.design_names.push(d.name.clone());
                        }
                        self.points.push(Point {
                            design: d.name.clone(),
                            rate: *load,
                            params: shown.clone(),
                            topology: t.clone(),
                            design_model: d,
                            same_as: None,
                            not_applying: Vec::new(),
                        });
                    }
                    Err(ds) => self.errors.extend(ds.into_iter().map(|d| {
                        if combo.is_empty() {
                            d
                        } else {
                            about_param(d, &input.name, &shown)
                        }
                    })),
                }
            }
        }
    }

    /// The topology with this combination's topology parameters and the
    /// study's overrides (none if a parameter does not apply).
    fn topology(
        &mut self,
        combo: &[(String, toml::Value)],
        shown: &[(String, String)],
    ) -> Option<Topology> {
        let spec = self.spec;
        let mut topo_text = spec.topology.text.clone();
        let mut failed = false;
        for (p, v) in combo
            .iter()
            .filter(|(p, _)| target(p) == Ok(Target::Topology))
        {
            let input = Input {
                name: spec.topology.name.clone(),
                text: topo_text.clone(),
            };
            match set_path(&input, p, v, false) {
                Ok(t) => topo_text = t,
                Err(d) => {
                    self.errors.push(d);
                    failed = true;
                }
            }
        }
        if failed {
            return None;
        }
        let mut topo = match parse_topology(&spec.topology.name, &topo_text) {
            Ok(t) => t,
            Err(ds) => {
                self.errors.extend(
                    ds.into_iter()
                        .map(|d| about_param(d, &spec.topology.name, shown)),
                );
                return None;
            }
        };
        if let Some(d) = spec.duration {
            topo.workload.window = Window::Duration(d);
        }
        if let Some(n) = spec.requests {
            // A profile's rate is its mean over a span of time.
            if let Arrivals::Profile { .. } = topo.workload.arrivals {
                self.errors.push(Diagnostic::new(
                    &spec.topology.name,
                    "--requests: the workload follows a rate profile, which needs a measured duration (its mean over the window is the rate); give --duration instead",
                ));
                return None;
            }
            topo.workload.window = Window::Requests(n);
        }
        if let Some(w) = spec.warmup {
            topo.workload.warmup = w;
        }
        if let Some(n) = spec.replications {
            topo.workload.replications = n;
        }
        Some(topo)
    }

    /// A design's text with this combination's design parameters set (none
    /// if a parameter does not apply).
    fn design_text(&mut self, input: &Input, combo: &[(String, toml::Value)]) -> Option<String> {
        let mut text = input.text.clone();
        let mut failed = false;
        for (p, v) in combo
            .iter()
            .filter(|(p, _)| target(p) == Ok(Target::Design))
        {
            match set_path(
                &Input {
                    name: input.name.clone(),
                    text: text.clone(),
                },
                p,
                v,
                true,
            ) {
                Ok(x) => text = x,
                Err(d) => {
                    self.errors.push(d);
                    failed = true;
                }
            }
        }
        if failed {
            return None;
        }
        Some(text)
    }
}
