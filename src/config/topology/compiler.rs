//! The [`Compiler`]'s state (the source and every problem found so far),
//! its checks of single values (counts, distributions, zone and endpoint
//! names) and the limits a topology must stay within.

use std::collections::HashMap;

use indexmap::IndexMap;

use super::file::ZoneFile;
use crate::config::diag::{Diagnostic, KeyPath, Source, did_you_mean};
use crate::config::dist::DistSpec;
use crate::model::dist::Dist;
use crate::model::topology::{EndpointId, ZoneId};
use crate::units::{CoresText, Millicores};

/// Expected internal calls per request beyond which a topology is refused:
/// the call graph almost certainly has a runaway `times`.
pub const MAX_EXPECTED_CALLS: f64 = 1e6;
/// Slowest open-loop rate accepted: one request every ~17 minutes.
pub const MIN_RATE: f64 = 1e-3;
/// The simulated time a run may span (warm-up plus duration) and the
/// latest recorded arrival: 100 days, as documented.
pub const MAX_SIMULATED_NS: u64 = 100 * 86_400 * 1_000_000_000;

/// Collects every problem instead of stopping at the first.
pub(super) struct Compiler<'s> {
    pub(super) src: &'s Source,
    pub(super) errors: Vec<Diagnostic>,
    /// Each qualified endpoint name's id, once the names are known.
    pub(super) endpoint_ids: HashMap<String, EndpointId>,
}

impl Compiler<'_> {
    pub(super) fn error(&mut self, path: &KeyPath, message: impl Into<String>) {
        self.errors.push(self.src.error(path, message));
    }

    pub(super) fn error_help(
        &mut self,
        path: &KeyPath,
        message: impl Into<String>,
        help: Option<String>,
    ) {
        let mut d = self.src.error(path, message);
        d.help = help;
        self.errors.push(d);
    }

    pub(super) fn dist(&mut self, spec: &DistSpec, path: &KeyPath) -> Dist {
        spec.compile(self.src, path).unwrap_or_else(|d| {
            self.errors.push(d);
            Dist::ZERO
        })
    }

    /// Cores (`2`, `0.5`, `"500m"`), refused at `path` when they are not
    /// an allowance (one core stands in, so checking goes on).
    pub(super) fn cores(&mut self, raw: &CoresText, path: &KeyPath) -> Millicores {
        raw.check().unwrap_or_else(|why| {
            self.error(path, why);
            Millicores::ONE
        })
    }

    /// An integer that must be at least `min`.
    pub(super) fn count(&mut self, value: i64, min: i64, path: &KeyPath, what: &str) -> u32 {
        self.bounded(value, min, u32::MAX, path, what)
    }

    /// A count from `min` to `max`.
    pub(super) fn bounded(
        &mut self,
        value: i64,
        min: i64,
        max: u32,
        path: &KeyPath,
        what: &str,
    ) -> u32 {
        match u32::try_from(value) {
            Ok(v) if value >= min && v <= max => v,
            _ => {
                self.error(
                    path,
                    format!("{what} must be a whole number from {min} to {max}, got {value}"),
                );
                min.max(0) as u32
            }
        }
    }

    pub(super) fn zone(
        &mut self,
        zones: &IndexMap<String, ZoneFile>,
        name: &str,
        path: &KeyPath,
    ) -> ZoneId {
        match zones.get_index_of(name) {
            Some(i) => i as ZoneId,
            None => {
                let help = did_you_mean(name, zones.keys().map(String::as_str))
                    .map(|s| format!("did you mean `{s}`?"))
                    .or_else(|| Some(format!("zones defined: {}", list(zones.keys()))));
                self.error_help(path, format!("unknown zone `{name}`"), help);
                0
            }
        }
    }

    pub(super) fn endpoint_ref(
        &mut self,
        name: &str,
        path: &KeyPath,
        names: &[String],
    ) -> Option<EndpointId> {
        if let Some(&i) = self.endpoint_ids.get(name) {
            return Some(i);
        }
        let (svc, _) = name.split_once('.').unwrap_or((name, ""));
        let prefix = format!("{svc}.");
        let of_service: Vec<&str> = names
            .iter()
            .filter(|n| n.starts_with(&prefix))
            .map(String::as_str)
            .collect();
        let (message, help) = if !name.contains('.') {
            (
                format!("`{name}` is not an endpoint name"),
                format!(
                    "name an endpoint as `service.endpoint`, e.g. `{}`",
                    names.first().map_or("api.get", String::as_str)
                ),
            )
        } else if of_service.is_empty() {
            let mut services: Vec<&str> = names
                .iter()
                .filter_map(|n| n.split_once('.').map(|p| p.0))
                .collect();
            services.dedup();
            let listed = services
                .iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let help = match did_you_mean(name, names.iter().map(String::as_str)) {
                Some(s) => format!("there is no service `{svc}`; did you mean `{s}`?"),
                None => format!("there is no service `{svc}`; services defined: {listed}"),
            };
            (format!("unknown endpoint `{name}`"), help)
        } else {
            let help = did_you_mean(name, of_service.iter().copied())
                .map(|s| format!("did you mean `{s}`?"))
                .unwrap_or_else(|| format!("endpoints of `{svc}`: {}", of_service.join(", ")));
            (format!("unknown endpoint `{name}`"), help)
        };
        self.error_help(path, message, Some(help));
        None
    }
}

/// The names as a list for a message: `a`, `b`, `c`.
fn list<'a>(names: impl Iterator<Item = &'a String>) -> String {
    names
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
