//! A study's checks: its own values (located in the study file), those that
//! need its topology and designs (each parameter value tried on its own, so a
//! refused value is located at its line in `[params]`), the checks `expand`
//! makes once on a spec that may come from flags, and design names.

use super::params::{Target, display, set_path, target};
use super::spec::{Input, StudyFile, StudySpec};
use crate::config::diag::{Diagnostic, KeyPath, Source};
use crate::config::topology::{MAX_SIMULATED_NS, MIN_RATE};
use crate::config::{entry_names, entry_scope, first_repeat, parse_design, parse_topology};
use crate::model::slo::Slo;
use crate::model::topology::{Arrivals, Topology};

/// Why `rates` cannot apply to `topo`'s workload, if they cannot.
fn rates_refused(topo: &Topology) -> Option<&'static str> {
    match topo.workload.arrivals {
        Arrivals::Replay { .. } => Some(
            "the topology replays recorded arrivals, which come at their recorded times whatever the rate; `rates` sweep open-loop arrival rates (play a recording faster with `ztsim run --replay-speed`)",
        ),
        Arrivals::Closed { .. } => Some(
            "the topology's workload is a closed loop (users and think time); `rates` sweep open-loop arrival rates",
        ),
        // A profile is scaled so that its mean over the window is the rate.
        Arrivals::Poisson { .. } | Arrivals::Constant { .. } | Arrivals::Profile { .. } => None,
    }
}

/// Why a swept rate is refused, if it is: the topology's own bounds.
fn rate_refused(r: f64) -> Option<String> {
    (!(r.is_finite() && r >= MIN_RATE)).then(|| {
        format!("a rate must be a positive number of requests per second, at least {MIN_RATE}, got {r:?}")
    })
}

/// Checks of the study's own values: durations, focus rate, parameter paths,
/// rates.
pub(super) fn check_keys(src: &Source, raw: &StudyFile, errors: &mut Vec<Diagnostic>) {
    if raw.duration.is_some_and(|d| d.0 == 0) {
        errors.push(src.error(
            &KeyPath::root().key("duration"),
            "the measured duration must be above zero",
        ));
    }
    let span = raw
        .duration
        .map_or(0, |d| d.0)
        .checked_add(raw.warmup.map_or(0, |w| w.0));
    if span.is_none_or(|s| s > MAX_SIMULATED_NS) {
        let key = if raw.duration.is_some() {
            "duration"
        } else {
            "warmup"
        };
        errors.push(src.error(
            &KeyPath::root().key(key),
            "warm-up plus duration is beyond 100 days of simulated time: shorten them",
        ));
    }
    if let Some(f) = raw.focus_rate
        && (!(f.is_finite() && f > 0.0) || (!raw.rates.is_empty() && !raw.rates.contains(&f)))
    {
        errors.push(src.error(
            &KeyPath::root().key("focus_rate"),
            format!("the focus rate must be one of `rates` ({f} is not)"),
        ));
    }
    for (k, _) in &raw.params {
        if let Err(mut d) = target(k) {
            let help = d.help.take();
            let mut located = src.error(&KeyPath::root().key("params").key(k), d.message);
            located.help = help;
            errors.push(located);
        }
    }
    for (i, r) in raw.rates.iter().enumerate() {
        if let Some(why) = rate_refused(*r) {
            errors.push(src.error(&KeyPath::root().key("rates").index(i), why));
        }
    }
    if let Some((i, j)) = rate_repeat(&raw.rates) {
        errors.push(src.error(
            &KeyPath::root().key("rates").index(j),
            format!(
                "{} rps is listed twice (rates[{i}] and rates[{j}]): each rate is one load of the study; remove the repeat",
                raw.rates[j]
            ),
        ));
    }
    for (k, values) in &raw.params {
        if let Some((i, j)) = value_repeat(values) {
            errors.push(src.error(
                &KeyPath::root().key("params").key(k).index(j),
                format!(
                    "`{}` is listed twice ([{i}] and [{j}]): each value is one setting of the study; remove the repeat",
                    display(&values[j]),
                ),
            ));
        }
    }
}

/// The first rate listed again (as numbers: `100` and `100.0` are one).
fn rate_repeat(rates: &[f64]) -> Option<(usize, usize)> {
    first_repeat(rates.iter().map(|r| r.to_bits()))
}

/// The first parameter value listed again, as TOML writes it.
fn value_repeat(values: &[toml::Value]) -> Option<(usize, usize)> {
    first_repeat(values.iter().map(toml::Value::to_string))
}

/// Checks that need the topology and designs, located at the study's own
/// keys: `rates` on a workload they cannot drive, and every parameter value
/// applied on its own to the file it changes. A design refused before any
/// parameter is reported in its own lines.
pub(super) fn check_against_topology(
    src: &Source,
    raw: &StudyFile,
    topology: &Input,
    designs: &[Input],
    errors: &mut Vec<Diagnostic>,
) {
    let Ok(topo) = parse_topology(&topology.name, &topology.text) else {
        // `expand` reports the topology's own problems, in its lines.
        return;
    };
    if !raw.rates.is_empty()
        && let Some(why) = rates_refused(&topo)
    {
        errors.push(src.error(&KeyPath::root().key("rates"), why));
    }
    check_slo_scopes(src, raw, &topo, errors);
    let mut valid_designs = Vec::new();
    for d in designs {
        match parse_design(&d.name, &d.text, Some(&topo)) {
            Ok(_) => valid_designs.push(d),
            Err(ds) => errors.extend(ds),
        }
    }
    for (k, values) in &raw.params {
        let at = KeyPath::root().key("params").key(k);
        match target(k) {
            Ok(Target::Topology) => {
                for (i, v) in values.iter().enumerate() {
                    let refused = set_path(topology, k, v, false)
                        .map_err(|d| vec![d])
                        .and_then(|text| parse_topology(&topology.name, &text).map(|_| ()));
                    match refused {
                        Ok(()) => {}
                        // A path that does not fit the file fails every value alike.
                        Err(ds) if ds.iter().any(|d| d.message.starts_with("parameter `")) => {
                            errors.extend(ds.into_iter().map(|d| {
                                let help = d.help.clone();
                                let mut located = src.error(&at, d.message);
                                located.help = help;
                                located
                            }));
                            break;
                        }
                        Err(ds) => errors
                            .extend(ds.into_iter().map(|d| value_refused(src, &at, i, k, v, d))),
                    }
                }
            }
            Ok(Target::Design) => {
                for (i, v) in values.iter().enumerate() {
                    for d in &valid_designs {
                        let refused = set_path(d, k, v, true)
                            .map_err(|e| vec![e])
                            .and_then(|text| parse_design(&d.name, &text, Some(&topo)).map(|_| ()));
                        if let Err(ds) = refused {
                            errors.extend(
                                ds.into_iter().map(|e| value_refused(src, &at, i, k, v, e)),
                            );
                        }
                    }
                }
            }
            // Reported by `check_keys`.
            Err(_) => {}
        }
    }
}

/// Each `slo` scoped to an endpoint names an entry endpoint of the topology
/// (an SLO that does not parse is reported by `read_study`).
fn check_slo_scopes(src: &Source, raw: &StudyFile, topo: &Topology, errors: &mut Vec<Diagnostic>) {
    let entries = entry_names(topo);
    let endpoints: Vec<&str> = topo.endpoints.iter().map(|e| e.name.as_str()).collect();
    for (i, text) in raw.slo.iter().enumerate() {
        if let Ok(slo) = Slo::parse(text)
            && let Err((message, help)) = entry_scope(&slo, &entries, &endpoints)
        {
            let mut d = src.error(&KeyPath::root().key("slo").index(i), message);
            d.help = Some(help);
            errors.push(d);
        }
    }
}

/// A problem of the file rebuilt with `k = v` (element `i` of `params.k`),
/// located at that element in the study and naming the file it was applied to.
fn value_refused(
    src: &Source,
    at: &KeyPath,
    i: usize,
    k: &str,
    v: &toml::Value,
    d: Diagnostic,
) -> Diagnostic {
    // The rebuilt file's lines are in no file the user has: keep its key only.
    let key = d.key.as_ref().map_or(String::new(), |k| format!("{k}: "));
    let mut located = src.error(
        &at.index(i),
        format!(
            "with {k} = {}: {} refuses it: {key}{}",
            display(v),
            d.file,
            d.message
        ),
    );
    located.help = d.help;
    located
}

/// Checks made once, before any point, on a spec that may come from flags
/// (so without lines): parameter paths, designs, and rates only for an
/// open-loop workload.
pub(super) fn check_grid(spec: &StudySpec, base_topo: &Topology) -> Result<(), Vec<Diagnostic>> {
    let mut errors = Vec::new();
    // Check every parameter path once, up front. A study file's paths were
    // checked at their lines when it was read, so one refused here came from
    // a `--param` flag.
    for (path, _) in &spec.params {
        if let Err(d) = target(path) {
            errors.push(Diagnostic {
                help: d.help,
                ..Diagnostic::new("command line", format!("--param {path}: {}", d.message))
            });
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    if spec.designs.is_empty() {
        return Err(vec![Diagnostic::new(
            &spec.name,
            "the study has no designs: list model files in `designs` or give --model",
        )]);
    }
    if !spec.rates.is_empty()
        && let Some(why) = rates_refused(base_topo)
    {
        return Err(vec![Diagnostic::new(&spec.topology.name, why)]);
    }
    let mut errors: Vec<Diagnostic> = spec
        .rates
        .iter()
        .filter_map(|&r| rate_refused(r))
        .map(|why| Diagnostic::new(&spec.name, format!("rates: {why}")))
        .collect();
    // A study file's repeats were refused at their lines; these came from
    // flags.
    if let Some((_, j)) = rate_repeat(&spec.rates) {
        errors.push(Diagnostic::new(
            "command line",
            format!(
                "--rate: {} rps is given twice: each rate is one load of the study; remove the repeat",
                spec.rates[j]
            ),
        ));
    }
    for (path, values) in &spec.params {
        if let Some((_, j)) = value_repeat(values) {
            errors.push(Diagnostic::new(
                "command line",
                format!(
                    "--param {path}: `{}` is given twice: each value is one setting of the study; remove the repeat",
                    display(&values[j])
                ),
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Refuses a design whose name an earlier design of the study already has:
/// their rows in the table and in `results.csv` could not be told apart.
/// Names both files, each at its `name` key when it has one.
pub(super) fn check_names(designs: &[(String, &Input)]) -> Vec<Diagnostic> {
    let mut errors = Vec::new();
    for (j, (name, input)) in designs.iter().enumerate() {
        if let Some((_, first)) = designs[..j].iter().find(|(n, _)| n == name) {
            let (mut d, first_at) = (name_site(input), name_site(first));
            d.message = format!(
                "two designs of the study are named `{name}`: this one and {}",
                shown(&first_at)
            );
            d.help = Some(
                "give each design its own `name` (a study's table and results.csv tell designs apart by name)"
                    .into(),
            );
            errors.push(d);
        }
    }
    errors
}

/// Where a design's `name` is (the file's start if it has none: the name
/// then comes from the file name).
fn name_site(input: &Input) -> Diagnostic {
    let key = KeyPath::root().key("name");
    let mut d = match Source::parse(&input.name, &input.text) {
        Ok(src) if src.contains(&key) => src.error(&key, ""),
        _ => Diagnostic::new(&input.name, ""),
    };
    d.line = d.line.or(Some(1));
    d.column = d.column.or(Some(1));
    d
}

/// `file:line:col` of a located diagnostic.
fn shown(d: &Diagnostic) -> String {
    match (d.line, d.column) {
        (Some(l), Some(c)) => format!("{}:{l}:{c}", d.file),
        _ => d.file.clone(),
    }
}
