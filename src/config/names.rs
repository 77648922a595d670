//! Services named in files other than the topology (design overrides,
//! rollout order files), by name or namespace, and the entry endpoints SLOs
//! are scoped to, with the same errors wherever they are named: the key, a
//! did-you-mean, or what exists.

use super::diag::{Diagnostic, KeyPath, Source, did_you_mean};
use crate::model::slo::Slo;
use crate::model::topology::Topology;

/// Longest name a file may give (a topology's or design's `name`, a
/// service's or endpoint's key): names become folder names and table cells.
pub const MAX_NAME_CHARS: usize = 200;

/// What is wrong with `name` as the name of a `what` (`"service"`), if
/// anything: empty, over [`MAX_NAME_CHARS`], holding a control character
/// (a newline would break every table it is printed in) or, where `dotted`
/// names are ambiguous (services and endpoints, which calls join as
/// `service.endpoint`), a `.`.
pub fn name_problem(what: &str, name: &str, dotted: bool) -> Option<String> {
    if name.is_empty() {
        Some(format!("{what} names cannot be empty"))
    } else if name.chars().count() > MAX_NAME_CHARS {
        Some(format!(
            "{what} names are at most {MAX_NAME_CHARS} characters, got {}",
            name.chars().count()
        ))
    } else if name.chars().any(char::is_control) {
        Some(format!(
            "{what} names cannot hold control characters (a newline, a tab), got {name:?}"
        ))
    } else if dotted && name.contains('.') {
        Some(format!(
            "{what} names cannot contain `.`: calls name endpoints as `service.endpoint`, so service `a.b` with endpoint `get` and service `a` with endpoint `b.get` would both be `a.b.get`; use `-` or `_`"
        ))
    } else {
        None
    }
}

/// The names of `topo`'s entry endpoints, in workload order.
pub fn entry_names(topo: &Topology) -> Vec<&str> {
    topo.workload
        .entries
        .iter()
        .map(|&(e, _)| topo.endpoints[e as usize].name.as_str())
        .collect()
}

/// Whether the endpoint `slo` is scoped to (if any) is one of `entries`
/// (the entry endpoints of the topology it is judged on; `endpoints` are
/// all of its endpoints, for a better message): otherwise what is wrong and
/// a did-you-mean or the list of entry endpoints.
pub fn entry_scope(
    slo: &Slo,
    entries: &[&str],
    endpoints: &[&str],
) -> Result<(), (String, String)> {
    let Some(name) = slo.endpoint.as_deref() else {
        return Ok(());
    };
    if entries.contains(&name) {
        return Ok(());
    }
    let message = if endpoints.contains(&name) {
        format!(
            "`{name}` is not an entry endpoint: users do not call it, so no SLO bounds its requests (an SLO is on user requests, end to end, where they enter)"
        )
    } else {
        format!("the topology has no entry endpoint `{name}`")
    };
    let help = match did_you_mean(name, entries.iter().copied()) {
        Some(s) => format!(
            "did you mean `{s}`? entry endpoints: {}",
            list(entries.iter().copied())
        ),
        None => format!("entry endpoints: {}", list(entries.iter().copied())),
    };
    Err((message, help))
}

/// [`entry_scope`] of every SLO against `topo`: the first problem with the
/// index of its SLO.
pub fn entry_scopes(topo: &Topology, slos: &[Slo]) -> Result<(), (usize, String, String)> {
    let entries = entry_names(topo);
    let endpoints: Vec<&str> = topo.endpoints.iter().map(|e| e.name.as_str()).collect();
    for (i, s) in slos.iter().enumerate() {
        entry_scope(s, &entries, &endpoints).map_err(|(m, h)| (i, m, h))?;
    }
    Ok(())
}

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
