//! Parameters by path: `--param` flags, which file a path changes, setting
//! a path in a file's TOML, and diagnostics about a file rebuilt with a
//! value (which no file the user has holds).

use super::spec::{DESIGN_KEYS, Input, TOPOLOGY_KEYS};
use crate::config::diag::{Diagnostic, did_you_mean};

/// Parses a command-line parameter `path=v1,v2,...`; each value is read as
/// a TOML value (`4`, `0.5`, `true`, `"x"`) or else taken as a string (`5m`).
pub fn parse_param_flag(flag: &str) -> Result<(String, Vec<toml::Value>), String> {
    let (path, values) = flag.split_once('=').ok_or_else(|| {
        format!(
            "`{flag}`: write a parameter as path=value,value (e.g. resumption.ticket_ttl=1m,5m)"
        )
    })?;
    let path = path.trim();
    if path.is_empty() {
        return Err(format!("`{flag}`: the parameter path is empty"));
    }
    let values: Vec<&str> = values.split(',').map(str::trim).collect();
    if values.len() > 1
        && let Some(i) = values.iter().position(|v| v.is_empty())
    {
        return Err(format!(
            "`{flag}`: value {} of {} is empty (a stray comma?); give path=value,value",
            i + 1,
            values.len()
        ));
    }
    let values: Vec<toml::Value> = values
        .into_iter()
        .filter(|v| !v.is_empty())
        .map(|v| {
            toml::from_str::<toml::Table>(&format!("v = {v}"))
                .ok()
                .and_then(|mut t| t.remove("v"))
                .unwrap_or_else(|| toml::Value::String(v.to_string()))
        })
        .collect();
    if values.is_empty() {
        return Err(format!("`{flag}`: no values to sweep"));
    }
    Ok((path.to_string(), values))
}

/// Which file a parameter path changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Target {
    Topology,
    Design,
}

pub(super) fn target(path: &str) -> Result<Target, Diagnostic> {
    let first = path.split('.').next().unwrap_or(path);
    if TOPOLOGY_KEYS.contains(&first) {
        return Ok(Target::Topology);
    }
    if DESIGN_KEYS.contains(&first) {
        return Ok(Target::Design);
    }
    let all = TOPOLOGY_KEYS.iter().chain(DESIGN_KEYS.iter()).copied();
    let mut d = Diagnostic::new(
        "parameters",
        format!(
            "unknown parameter path `{path}`: `{first}` is neither a topology nor a design table"
        ),
    );
    d.help = Some(match did_you_mean(first, all) {
        Some(s) => format!("did you mean `{}`?", path.replacen(first, s, 1)),
        None => format!(
            "paths start with a topology table ({}) or a design table ({})",
            TOPOLOGY_KEYS.join(", "),
            DESIGN_KEYS.join(", ")
        ),
    });
    Err(d)
}

/// Sets `path` to `value` in a TOML document and returns the new text.
/// Every table on the way must exist for topology paths (so a misspelt
/// service is caught here, by name); design tables are created as needed,
/// since a design file may leave a whole table to its defaults.
pub(super) fn set_path(
    input: &Input,
    path: &str,
    value: &toml::Value,
    create: bool,
) -> Result<String, Diagnostic> {
    let mut doc: toml::Table = toml::from_str(&input.text)
        .map_err(|e| Diagnostic::new(&input.name, format!("invalid TOML: {}", e.message())))?;
    let segs: Vec<&str> = path.split('.').collect();
    let mut table = &mut doc;
    for (i, seg) in segs[..segs.len() - 1].iter().enumerate() {
        if !table.contains_key(*seg) {
            if !create {
                let here = segs[..i].join(".");
                let mut d = Diagnostic::new(
                    &input.name,
                    format!(
                        "parameter `{path}`: there is no `{seg}` in `{}`",
                        if here.is_empty() { "the file" } else { &here }
                    ),
                );
                d.help = did_you_mean(seg, table.keys().map(String::as_str))
                    .map(|s| {
                        format!(
                            "did you mean `{}`?",
                            segs.iter()
                                .enumerate()
                                .map(|(j, x)| if j == i { s } else { x })
                                .collect::<Vec<_>>()
                                .join(".")
                        )
                    })
                    .or_else(|| {
                        Some(format!(
                            "keys here: {}",
                            table
                                .keys()
                                .map(|k| format!("`{k}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ))
                    });
                return Err(d);
            }
            table.insert(seg.to_string(), toml::Value::Table(toml::Table::new()));
        }
        table = match table.get_mut(*seg) {
            Some(toml::Value::Table(t)) => t,
            _ => {
                return Err(Diagnostic::new(
                    &input.name,
                    format!(
                        "parameter `{path}`: `{}` is a value, not a table",
                        segs[..=i].join(".")
                    ),
                ));
            }
        };
    }
    table.insert(segs[segs.len() - 1].to_string(), value.clone());
    toml::to_string(&doc)
        .map_err(|e| Diagnostic::new(&input.name, format!("parameter `{path}`: {e}")))
}

/// Rewrites a diagnostic about a regenerated file so it names the parameter
/// that caused it (its line numbers refer to no file the user has).
pub(super) fn about_param(
    mut d: Diagnostic,
    original: &str,
    assignments: &[(String, String)],
) -> Diagnostic {
    let set = assignments
        .iter()
        .map(|(p, v)| format!("{p} = {v}"))
        .collect::<Vec<_>>()
        .join(", ");
    d.message = format!(
        "with {set}: {}{}",
        d.key.as_ref().map_or(String::new(), |k| format!("{k}: ")),
        d.message
    );
    d.file = original.to_string();
    d.line = None;
    d.column = None;
    d.key = None;
    d
}

pub(super) fn display(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
