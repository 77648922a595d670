//! What a study file says (`StudyFile`, its serde form and schema) and what
//! it asks for once read (`StudySpec`, with its topology and designs as
//! `Input`s): the types the study's reading, checks and expansion share.

use std::path::Path;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::config::diag::Diagnostic;
use crate::config::profile::CostProfile;
use crate::model::slo::Slo;
use crate::units::Dur;

/// Top-level keys of a topology file: a parameter path starting with one of
/// these changes the topology.
pub const TOPOLOGY_KEYS: [&str; 6] = [
    "network", "zones", "nodes", "services", "queues", "workload",
];
/// Top-level tables of a design file, and its `mode` (its `[[override]]`
/// entries are not parameters: a list of tables is not swept).
pub const DESIGN_KEYS: [&str; 8] = [
    "transport",
    "connections",
    "resumption",
    "identity",
    "proxy",
    "authn",
    "authz",
    "mode",
];

/// A study (`*.study.toml`, run with `ztsim sweep FILE`): a grid of designs x
/// offered loads x parameters on one topology. Paths in it are relative to
/// its folder. Reference: topologies/chatty.study.toml and docs/study.md.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "ztsim study")]
pub(crate) struct StudyFile {
    /// Output folder under output/. Default: the file name without .study.toml.
    pub(super) name: Option<String>,
    /// The question, shown on charts. Default: one made of the designs and
    /// the topology ("How do plaintext and mtls compare on shop?").
    pub(super) title: Option<String>,
    /// The topology file, relative to this file.
    #[schemars(required)]
    pub(super) topology: Option<String>,
    /// Design files (models/*.toml), relative to this file, in legend order. Required unless given with --model.
    #[serde(default)]
    pub(super) designs: Vec<String>,
    /// Offered loads in requests per second (open-loop topologies only). Default: the topology's own rate.
    #[serde(default)]
    #[schemars(extend("items" = { "type": "number", "exclusiveMinimum": 0 }))]
    pub(super) rates: Vec<f64>,
    /// The load, in requests per second, at which the per-design charts are drawn.
    pub(super) focus_rate: Option<f64>,
    /// With several entry endpoints, draw the latency charts over all their requests together instead of one panel per entry endpoint. Default: false (per entry: a 4 ms lookup and a 200 ms payment blended into one p99 describe neither).
    pub(super) blend_entries: Option<bool>,
    /// Replications per point, from 1 to 10000. Default: the topology's.
    #[schemars(range(min = 1, max = 10000))]
    pub(super) replications: Option<i64>,
    /// Base seed. Default: the topology's.
    pub(super) seed: Option<u64>,
    /// Measured duration of every point. Default: the topology's.
    pub(super) duration: Option<Dur>,
    /// Warm-up of every point. Default: the topology's.
    pub(super) warmup: Option<Dur>,
    /// Service-level objectives on end-to-end latency, e.g. ["p99=50ms"], or on one entry endpoint's requests, e.g. ["gateway.balance:p99=20ms"]: the design-review report's capacity table says, per design, the highest load that meets them all (a point meets an SLO only when its whole 95% interval does).
    #[serde(default)]
    #[schemars(extend("items" = { "type": "string", "pattern": "^\\s*([^\\s:=<]+\\s*:\\s*)?([Mm][Ee][Aa][Nn]|[Pp](50|90|95|99|999|99\\.9))\\s*(<=|=)\\s*[0-9]" }))]
    pub(super) slo: Vec<String>,
    /// Any other parameter by path into the topology (network, zones, nodes, services, workload) or the design (transport, connections, resumption, identity, proxy, authn, authz), each a list of values to sweep, e.g. "resumption.ticket_ttl" = ["1m", "5m"]. The grid is their product with designs and rates.
    #[serde(default)]
    #[schemars(schema_with = "params_schema")]
    pub(super) params: indexmap::IndexMap<String, Vec<toml::Value>>,
}

/// `params`: any TOML value may be swept, so only the paths' first table and
/// the lists' length are checked.
fn params_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let tables = TOPOLOGY_KEYS
        .iter()
        .chain(DESIGN_KEYS.iter())
        .copied()
        .collect::<Vec<_>>()
        .join("|");
    schemars::json_schema!({
        "type": "object",
        "propertyNames": { "pattern": format!("^({tables})(\\..+)?$") },
        "additionalProperties": { "type": "array", "minItems": 1 },
    })
}

/// A file given by path or built in (name, text).
#[derive(Debug, Clone)]
pub struct Input {
    /// Shown in diagnostics.
    pub name: String,
    /// Contents.
    pub text: String,
}

impl Input {
    /// Reads `path`.
    pub fn read(path: &Path) -> Result<Input, Diagnostic> {
        let name = path.display().to_string();
        crate::config::read_text(path).map(|text| Input { name, text })
    }
}

/// What a study asks for, before the grid is expanded.
#[derive(Debug, Clone)]
pub struct StudySpec {
    /// Output folder name.
    pub name: String,
    /// The question, for titles.
    pub title: String,
    /// The topology.
    pub topology: Input,
    /// The designs, in order.
    pub designs: Vec<Input>,
    /// Offered loads (open loop), ascending; empty: the topology's own.
    pub rates: Vec<f64>,
    /// Load for the per-design charts.
    pub focus_rate: Option<f64>,
    /// Latency charts over all entry endpoints together rather than one
    /// panel per entry.
    pub blend_entries: bool,
    /// Swept parameters: path and values.
    pub params: Vec<(String, Vec<toml::Value>)>,
    /// Replications per point (None: the topology's).
    pub replications: Option<u32>,
    /// Base seed (None: the topology's).
    pub seed: Option<u64>,
    /// Measured duration (None: the topology's).
    pub duration: Option<u64>,
    /// Measured requests instead of a duration (`--requests`; it wins over
    /// `duration`).
    pub requests: Option<u64>,
    /// Warm-up (None: the topology's).
    pub warmup: Option<u64>,
    /// Latency objectives the report judges points against.
    pub slos: Vec<Slo>,
    /// The `--costs` profile, replacing every design's own `costs` key.
    pub costs: Option<CostProfile>,
}
