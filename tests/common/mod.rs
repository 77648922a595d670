//! Helpers shared by the test binaries: the malformed-input corpora
//! (`corpus.rs`), running the built binary (`bin.rs`), the repository's
//! files and scratch folders (`files.rs`), and designs with constant costs
//! (`designs.rs`). Each test binary uses part of it.
#![allow(dead_code, unused_imports)]

mod bin;
mod corpus;
mod designs;
pub mod exact;
mod files;
pub mod queueing;

pub use bin::{Run, spawn, ztsim, ztsim_in};
pub use corpus::*;
pub use designs::{MTLS, PLAIN};
pub use files::{TempDir, root, scratch};
