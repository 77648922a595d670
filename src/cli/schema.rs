//! `ztsim schema KIND`: the JSON Schema of a kind of input file, for
//! editors that validate and complete TOML.

use std::path::PathBuf;

use clap::Args;

use ztsim::config::schema::{SchemaKind, schema_json};

use super::failure::{Failure, flag_error};

/// Flags of `ztsim schema`.
#[derive(Args)]
pub struct SchemaArgs {
    /// Which file: topology (topologies/*.toml), design (models/*.toml) or study (*.study.toml).
    #[arg(value_enum)]
    kind: SchemaKind,
    /// Write the schema to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// `ztsim schema`.
pub fn command(args: SchemaArgs) -> Result<(), Failure> {
    let text = schema_json(args.kind);
    let written = match &args.out {
        None => {
            out!("{text}");
            Ok(())
        }
        // One file, replaced by a rename: concurrent writers cannot mix it
        // and no folder of the user's needs a lock file.
        Some(path) => ztsim::report::write_atomic(path, text.as_bytes()),
    };
    written.map_err(|e| {
        let to = args
            .out
            .map_or("standard output".into(), |p| p.display().to_string());
        let message = format!("cannot write the schema to {to}: {e}");
        // A path that cannot be a file (no such folder, not a folder, not
        // allowed, a name too long) is bad input, like every other command's
        // unusable output path; a disk that fills up is not.
        use std::io::ErrorKind::*;
        match e.kind() {
            NotFound | NotADirectory | IsADirectory | PermissionDenied | InvalidFilename
            | ReadOnlyFilesystem | InvalidInput => flag_error("--out", message),
            _ => Failure::Other(message),
        }
    })
}
