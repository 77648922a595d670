//! Design files (`models/*.toml`): their serde form, the defaults (each traced
//! to a published figure in `docs/sources.md`), and resolution into a
//! validated [`Design`] against the topology it will run on.
//!
//! `file.rs` owns the serde form (every key of a design file); `costs.rs`
//! the published default handshake costs; `resolve.rs` the resolver that
//! turns the file form into a checked [`Design`]; this file the entry point.

mod costs;
mod file;
mod resolve;

pub use costs::default_handshake_cpu;
pub(super) use file::DesignFile;

use self::resolve::Resolver;
use super::diag::{Diagnostic, Source};
use crate::model::design::Design;
use crate::model::topology::Topology;

/// Resolves a design file into a [`Design`] for `topo`.
/// With `topo` None, endpoint names are not resolved (the design is checked
/// on its own, as `ztsim validate` does without a topology).
pub fn parse_design(
    file: &str,
    text: &str,
    topo: Option<&Topology>,
) -> Result<Design, Vec<Diagnostic>> {
    let src = Source::parse(file, text).map_err(|d| vec![d])?;
    let raw: DesignFile = src.deserialize().map_err(|d| vec![d])?;
    let stem = std::path::Path::new(file)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("design")
        .to_string();
    let mut r = Resolver {
        src: &src,
        errors: Vec::new(),
    };
    let design = r.resolve(raw, stem, topo);
    if r.errors.is_empty() {
        Ok(design)
    } else {
        Err(r.errors)
    }
}
