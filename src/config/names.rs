//! Services named in files other than the topology (design overrides,
//! rollout order files), by name or namespace, with the same errors
//! wherever they are named: the key, a did-you-mean, or what exists.

use super::diag::{Diagnostic, KeyPath, Source, did_you_mean};
use crate::model::topology::Topology;

/// The index of the service `name` of `topo`, or an error at `key`.
pub(crate) fn service(
    src: &Source,
    key: &KeyPath,
    topo: &Topology,
    name: &str,
) -> Result<usize, Diagnostic> {
    topo.services
        .iter()
        .position(|s| s.name == name)
        .ok_or_else(|| {
            let mut d = src.error(key, format!("the topology has no service `{name}`"));
            let names = || topo.services.iter().map(|s| s.name.as_str());
            d.help = Some(match did_you_mean(name, names()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("services: {}", list(names())),
            });
            d
        })
}

/// Whether a service of `topo` is in namespace `ns`; if none is, the
/// error at `key`.
pub(crate) fn namespace(
    src: &Source,
    key: &KeyPath,
    topo: &Topology,
    ns: &str,
) -> Result<(), Diagnostic> {
    if topo
        .services
        .iter()
        .any(|s| s.namespace.as_deref() == Some(ns))
    {
        return Ok(());
    }
    let mut known: Vec<&str> = topo
        .services
        .iter()
        .filter_map(|s| s.namespace.as_deref())
        .collect();
    known.sort_unstable();
    known.dedup();
    let mut d = src.error(
        key,
        format!("no service of the topology is in namespace `{ns}`"),
    );
    d.help = Some(match did_you_mean(ns, known.iter().copied()) {
        Some(n) => format!("did you mean `{n}`?"),
        None if known.is_empty() => "give services a `namespace` in the topology".into(),
        None => format!("namespaces: {}", list(known.into_iter())),
    });
    Err(d)
}

/// `` `a`, `b` ``.
pub(crate) fn list<'a>(names: impl Iterator<Item = &'a str>) -> String {
    names
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
