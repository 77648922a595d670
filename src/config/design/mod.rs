//! Design files (`models/*.toml`): their serde form, the defaults (each traced
//! to a published figure in `docs/sources.md`), and resolution into a
//! validated [`Design`] against the topology it will run on.
//!
//! `file.rs` owns the serde form (every key of a design file); `costs.rs`
//! the published default handshake costs; `resolve.rs` the resolver that
//! turns the file form into a checked [`Design`]; `overrides.rs` the
//! services that run another design or mode; `no_effect.rs` the keys set
//! to no effect (warnings); this file the entry point.

mod costs;
mod file;
mod no_effect;
mod overrides;
mod resolve;

pub use costs::{default_handshake_cpu, handshake_cpu};
pub(super) use file::DesignFile;

use self::resolve::Resolver;
use super::diag::{Diagnostic, KeyPath, Source};
use super::profile::{CostProfile, load_profile};
use crate::model::design::Design;
use crate::model::topology::Topology;

/// A design file resolved, and what it sets to no effect.
#[derive(Debug)]
pub struct Parsed {
    /// The design.
    pub design: Design,
    /// Keys the file (or a design its overrides name) sets in a part of
    /// its design that is off: warnings located at each key, for the
    /// caller to show; they change nothing.
    pub warnings: Vec<Diagnostic>,
}

/// Resolves a design file into a [`Design`] for `topo`, without its
/// warnings ([`parse_design_with_costs`] has them).
/// With `topo` None, endpoint names are not resolved (the design is checked
/// on its own, as `ztsim validate` does without a topology).
pub fn parse_design(
    file: &str,
    text: &str,
    topo: Option<&Topology>,
) -> Result<Design, Vec<Diagnostic>> {
    parse_design_with_costs(file, text, topo, None).map(|p| p.design)
}

/// Resolves a design file with the profile given on the command line
/// (`--costs`), which replaces the file's own `costs` key, and finds the
/// keys it sets to no effect.
pub fn parse_design_with_costs(
    file: &str,
    text: &str,
    topo: Option<&Topology>,
    costs: Option<&CostProfile>,
) -> Result<Parsed, Vec<Diagnostic>> {
    let src = Source::parse(file, text).map_err(|d| vec![d])?;
    let mut raw: DesignFile = src.deserialize().map_err(|d| vec![d])?;
    let entries = std::mem::take(&mut raw.overrides);
    let own;
    let profile = match (costs, &raw.costs) {
        (Some(p), _) => Some(p),
        (None, None) => None,
        (None, Some(rel)) => {
            own = design_profile(&src, rel)?;
            Some(&own)
        }
    };
    let stem = std::path::Path::new(file)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("design")
        .to_string();
    let mut r = Resolver {
        src: &src,
        errors: Vec::new(),
        profile,
    };
    let mut design = r.resolve(raw, stem, topo);
    if !r.errors.is_empty() {
        return Err(r.errors);
    }
    let mut warnings = no_effect::warnings(&src, &design);
    if !entries.is_empty() {
        let (o, mut more) = overrides::resolve(&src, &design, &entries, topo, costs)?;
        design.overrides = Some(Box::new(o));
        warnings.append(&mut more);
    }
    Ok(Parsed { design, warnings })
}

/// Reads the profile a design's `costs` key names, relative to the design's
/// folder. An unreadable profile is reported at the key; a bad one with its
/// own located problems.
fn design_profile(src: &Source, rel: &str) -> Result<CostProfile, Vec<Diagnostic>> {
    let base = std::path::Path::new(src.file())
        .parent()
        .unwrap_or(std::path::Path::new("."));
    let path = base.join(rel);
    if !path.is_file() {
        let mut d = src.error(
            &KeyPath::root().key("costs"),
            format!("the cost profile `{}` does not exist", path.display()),
        );
        d.help = Some(
            "the path is relative to this design's folder; make a profile with `ztsim calibrate`"
                .into(),
        );
        return Err(vec![d]);
    }
    load_profile(&path)
}
