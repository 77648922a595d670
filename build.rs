//! The version `ztsim --version` prints: the package version and the commit
//! it was built from (`0.1.0 (3f2a9c1d0b7e)`: HEAD, whatever uncommitted
//! changes the tree had), read with git when the source is a clone; the
//! package version alone when it is not (a tarball without .git) or git is
//! missing. Nothing else reads it: every output file keeps the package
//! version, so results do not change from one commit to the next.

use std::process::Command;

/// git's answer to `args` in the package's folder, if git ran and said yes.
fn git(args: &[&str]) -> Option<String> {
    let dir = std::env::var("CARGO_MANIFEST_DIR").ok()?;
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    out.status.success().then(|| text.trim().to_string())
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let package = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let version = match git(&["rev-parse", "--short=12", "HEAD"]) {
        Some(commit) if !commit.is_empty() => {
            // Built again when HEAD moves: a commit, a checkout, a fetch
            // that updates packed refs.
            for path in ["HEAD", "packed-refs"] {
                if let Some(p) = git(&["rev-parse", "--git-path", path]) {
                    println!("cargo:rerun-if-changed={p}");
                }
            }
            if let Some(r) = git(&["symbolic-ref", "-q", "HEAD"])
                .and_then(|r| git(&["rev-parse", "--git-path", &r]))
            {
                println!("cargo:rerun-if-changed={r}");
            }
            format!("{package} ({commit})")
        }
        _ => package,
    };
    println!("cargo:rustc-env=ZTSIM_VERSION={version}");
}
