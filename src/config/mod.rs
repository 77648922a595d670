//! Input files: TOML in, validated model out. Every problem becomes a
//! [`Diagnostic`] naming file, line, column and key; nothing here panics on
//! input, and nothing downstream re-validates.

pub mod diag;
pub mod dist;
pub mod topology;

pub use diag::{Diagnostic, KeyPath, Source};
pub use topology::parse_topology;

use crate::model::topology::Topology;
use std::path::Path;

/// Reads and validates a topology file.
pub fn load_topology(path: &Path) -> Result<Topology, Vec<Diagnostic>> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        vec![Diagnostic {
            file: file.clone(),
            line: None,
            column: None,
            key: None,
            message: format!("cannot read the file: {e}"),
            help: None,
        }]
    })?;
    parse_topology(&file, &text)
}
