//! Rollout order files (`ztsim migrate --order FILE`): the steps of a
//! migration by hand, each a list of services and namespaces, checked
//! against the topology: every service of the system moves in exactly one
//! step, and services outside the system in none.

use std::path::Path;

use schemars::JsonSchema;
use serde::Deserialize;

use super::diag::{Diagnostic, KeyPath, Source};
use super::{names, read_text};
use crate::model::topology::Topology;

/// The steps of a rollout, in order (docs/migration.md).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RolloutFile {
    /// Free text; not used.
    #[allow(dead_code)]
    description: Option<String>,
    /// The steps, first to last.
    #[serde(default)]
    step: Vec<StepFile>,
}

/// One step: the services it moves, by name or namespace.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct StepFile {
    /// Services by name.
    services: Option<Vec<String>>,
    /// Every service of these namespaces.
    namespaces: Option<Vec<String>>,
}

/// Reads the order file at `path`: each step's name (what it moves, for
/// tables) and services.
pub fn load_rollout(
    path: &Path,
    topo: &Topology,
) -> Result<Vec<(String, Vec<usize>)>, Vec<Diagnostic>> {
    let file = path.display().to_string();
    let text = read_text(path).map_err(|d| vec![d])?;
    let src = Source::parse(&file, &text).map_err(|d| vec![d])?;
    let raw: RolloutFile = src.deserialize().map_err(|d| vec![d])?;
    let mut errors = Vec::new();
    if raw.step.is_empty() {
        errors.push(
            Diagnostic::new(&file, "has no steps").with_help(
                "write one [[step]] per step, e.g. [[step]] namespaces = [\"payments\"]",
            ),
        );
    }
    let mut step_of: Vec<Option<usize>> = vec![None; topo.services.len()];
    let mut steps = Vec::new();
    for (i, step) in raw.step.iter().enumerate() {
        let at = KeyPath::root().key("step").index(i);
        let mut services = Vec::new();
        let mut title = Vec::new();
        for (j, name) in step.services.iter().flatten().enumerate() {
            let key = at.key("services").index(j);
            match names::service(&src, &key, topo, name) {
                Ok(s) if topo.services[s].external.is_some() => errors.push(src.error(
                    &key,
                    format!("`{name}` is outside the system: it never moves"),
                )),
                Ok(s) => {
                    services.push(s);
                    title.push(name.clone());
                }
                Err(d) => errors.push(d),
            }
        }
        for (j, ns) in step.namespaces.iter().flatten().enumerate() {
            let of: Vec<usize> = (0..topo.services.len())
                .filter(|&s| {
                    topo.services[s].external.is_none()
                        && topo.services[s].namespace.as_deref() == Some(ns)
                })
                .collect();
            if let Err(d) = names::namespace(&src, &at.key("namespaces").index(j), topo, ns) {
                errors.push(d);
            }
            services.extend(of);
            title.push(ns.clone());
        }
        if step.services.is_none() && step.namespaces.is_none() {
            errors.push(src.error(&at, "moves nothing: give `services` or `namespaces`"));
        }
        for &s in &services {
            if let Some(earlier) = step_of[s]
                && earlier != i
            {
                errors.push(src.error(
                    &at,
                    format!(
                        "moves `{}`, which step[{earlier}] moves already",
                        topo.services[s].name
                    ),
                ));
            }
            step_of[s] = Some(i);
        }
        services.sort_unstable();
        services.dedup();
        steps.push((title.join(", "), services));
    }
    let left: Vec<&str> = (0..topo.services.len())
        .filter(|&s| topo.services[s].external.is_none() && step_of[s].is_none())
        .map(|s| topo.services[s].name.as_str())
        .collect();
    if !left.is_empty() && !raw.step.is_empty() {
        errors.push(
            Diagnostic::new(&file, format!("no step moves {}", left.join(", ")))
                .with_help("every service of the system moves in one step: add them to a step"),
        );
    }
    if errors.is_empty() {
        Ok(steps)
    } else {
        Err(errors)
    }
}
