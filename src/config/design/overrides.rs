//! A design's `[[override]]` entries: which services run another design or
//! mode, chosen by name, namespace or labels, resolved into
//! [`Overrides`]. Each entry's design file is read relative to the design
//! that names it and must have no overrides of its own (one level: no
//! cycles to follow). Designs that share node proxies or waypoints must
//! agree on them: a node runs one node proxy whatever its pods' designs.

use std::path::Path;

use super::file::{ModeFile, OverrideFile};
use crate::config::diag::{Diagnostic, KeyPath, Source};
use crate::config::names;
use crate::config::profile::CostProfile;
use crate::config::read_text;
use crate::model::design::{Design, Mode, Overrides, ProxyMode};
use crate::model::topology::Topology;

/// Resolves `entries` of the design `base` (read from `src`) for `topo`,
/// with the warnings of the design files they name.
/// Without a topology the designs are checked but no service is chosen.
pub(super) fn resolve(
    src: &Source,
    base: &Design,
    entries: &[OverrideFile],
    topo: Option<&Topology>,
    costs: Option<&CostProfile>,
) -> Result<(Overrides, Vec<Diagnostic>), Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let mut designs = Vec::new();
    let services = topo.map_or(0, |t| t.services.len());
    let mut of_service = vec![None; services];
    for (i, entry) in entries.iter().enumerate() {
        let at = KeyPath::root().key("override").index(i);
        let design = match &entry.design {
            None => Ok(Design {
                overrides: None,
                ..base.clone()
            }),
            Some(rel) => read_design(src, rel, &at.key("design"), topo, costs).map(|p| {
                warnings.extend(p.warnings);
                p.design
            }),
        };
        let mut design = match design {
            Ok(d) => d,
            Err(mut e) => {
                errors.append(&mut e);
                continue;
            }
        };
        if let Some(m) = entry.mode {
            design.mode = match m {
                ModeFile::Permissive => Mode::Permissive,
                ModeFile::Strict => Mode::Strict,
            };
        }
        if let Some(t) = topo {
            match chosen(src, entry, &at, t) {
                Ok(list) => {
                    for s in list {
                        of_service[s] = Some(designs.len() as u32);
                    }
                }
                Err(mut e) => errors.append(&mut e),
            }
        }
        if let Some(e) = shared_proxies(src, base, &designs, &design, &at) {
            errors.push(e);
        }
        designs.push(design);
    }
    if errors.is_empty() {
        let o = Overrides {
            designs,
            of_service,
        };
        Ok((o, warnings))
    } else {
        Err(errors)
    }
}

/// Reads the design file `rel` names, relative to `src`'s folder.
fn read_design(
    src: &Source,
    rel: &str,
    at: &KeyPath,
    topo: Option<&Topology>,
    costs: Option<&CostProfile>,
) -> Result<super::Parsed, Vec<Diagnostic>> {
    let base = Path::new(src.file()).parent().unwrap_or(Path::new("."));
    let path = base.join(rel);
    if !path.is_file() {
        let mut d = src.error(
            at,
            format!("the design `{}` does not exist", path.display()),
        );
        d.help = Some(
            "the path is relative to this design's folder, e.g. \"istio-sidecar.toml\"".into(),
        );
        return Err(vec![d]);
    }
    let file = path.display().to_string();
    let text = read_text(&path).map_err(|d| vec![d])?;
    let inner = Source::parse(&file, &text).map_err(|d| vec![d])?;
    if inner.contains(&KeyPath::root().key("override")) {
        let mut d = src.error(
            at,
            format!("the design `{file}` has overrides of its own; a design named here must not"),
        );
        d.help =
            Some("name a design without [[override]] entries: overrides are one level deep".into());
        return Err(vec![d]);
    }
    super::parse_design_with_costs(&file, &text, topo, costs)
}

/// The services `entry` chooses: those that match every selector it gives.
fn chosen(
    src: &Source,
    entry: &OverrideFile,
    at: &KeyPath,
    topo: &Topology,
) -> Result<Vec<usize>, Vec<Diagnostic>> {
    if entry.services.is_none() && entry.namespace.is_none() && entry.labels.is_none() {
        let mut d = src.error(at, "says no services it applies to");
        d.help = Some(
            "give `services = [\"cart\"]`, `namespace = \"payments\"` or `labels = { tier = \"backend\" }`"
                .into(),
        );
        return Err(vec![d]);
    }
    let mut errors = Vec::new();
    let mut pick = vec![true; topo.services.len()];
    if let Some(wanted) = &entry.services {
        let mut named = vec![false; pick.len()];
        for (j, name) in wanted.iter().enumerate() {
            match names::service(src, &at.key("services").index(j), topo, name) {
                Ok(s) => named[s] = true,
                Err(d) => errors.push(d),
            }
        }
        pick.iter_mut().zip(named).for_each(|(p, n)| *p &= n);
    }
    if let Some(ns) = &entry.namespace {
        let has = |s: &crate::model::topology::Service| s.namespace.as_deref() == Some(ns);
        if let Err(d) = names::namespace(src, &at.key("namespace"), topo, ns) {
            errors.push(d);
        }
        pick.iter_mut()
            .zip(&topo.services)
            .for_each(|(p, s)| *p &= has(s));
    }
    if let Some(labels) = &entry.labels {
        for (k, v) in labels {
            let has = |s: &crate::model::topology::Service| {
                s.labels.iter().any(|(a, b)| a == k && b == v)
            };
            if !topo.services.iter().any(has) {
                errors.push(src.error(
                    &at.key("labels").key(k),
                    format!("no service of the topology has the label {k} = \"{v}\""),
                ));
            }
            pick.iter_mut()
                .zip(&topo.services)
                .for_each(|(p, s)| *p &= has(s));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let chosen: Vec<usize> = (0..pick.len()).filter(|&s| pick[s]).collect();
    if chosen.is_empty() {
        return Err(vec![src.error(
            at,
            "chooses no service: no service matches all of its selectors together",
        )]);
    }
    Ok(chosen)
}

/// A problem if `design` runs node proxies or a waypoint other than the
/// ones `base` or an earlier override runs: one node proxy per node and one
/// waypoint deployment serve every design.
fn shared_proxies(
    src: &Source,
    base: &Design,
    earlier: &[Design],
    design: &Design,
    at: &KeyPath,
) -> Option<Diagnostic> {
    let others = || std::iter::once(base).chain(earlier);
    let node = |d: &&Design| d.proxy.mode == ProxyMode::Node;
    if design.proxy.mode == ProxyMode::Node
        && let Some(other) = others().find(node)
        && (other.proxy.cost != design.proxy.cost
            || other.proxy.nodes_per_zone != design.proxy.nodes_per_zone)
    {
        let mut d = src.error(
            at,
            format!("runs node proxies unlike design `{}`'s", other.name),
        );
        d.help = Some("a node runs one node proxy whatever its pods' designs: give both the same [proxy] costs and nodes_per_zone".into());
        return Some(d);
    }
    if let Some(w) = &design.proxy.waypoint
        && let Some(other) = others().find(|d| d.proxy.waypoint.is_some())
        && other.proxy.waypoint.as_ref() != Some(w)
    {
        let mut d = src.error(
            at,
            format!("runs a waypoint unlike design `{}`'s", other.name),
        );
        d.help = Some(
            "one waypoint deployment serves every design: give both the same [proxy.waypoint]"
                .into(),
        );
        return Some(d);
    }
    None
}
