//! Records the versions of the measured libraries, as the workspace's
//! Cargo.lock resolved them, so a cost profile says what it measured.

use std::path::Path;

const LIBRARIES: [&str; 6] = [
    "rustls",
    "aws-lc-rs",
    "rcgen",
    "jsonwebtoken",
    "regorus",
    "cedar-policy",
];

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let lock = Path::new(&dir).join("..").join("Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock.display());
    let text = std::fs::read_to_string(&lock)
        .unwrap_or_else(|e| panic!("ztsim-lab reads {}: {e}", lock.display()));
    let mut out = String::from(
        "/// (library, version) as Cargo.lock resolved them.\npub const LIBRARIES: &[(&str, &str)] = &[\n",
    );
    for lib in LIBRARIES {
        let version = text
            .split("[[package]]")
            .find_map(|p| {
                let mut lines = p.lines().map(str::trim);
                let name = lines.find(|l| l.starts_with("name = "))?;
                if name != format!("name = \"{lib}\"") {
                    return None;
                }
                let v = p
                    .lines()
                    .map(str::trim)
                    .find(|l| l.starts_with("version = "))?;
                Some(
                    v.trim_start_matches("version = ")
                        .trim_matches('"')
                        .to_string(),
                )
            })
            .unwrap_or_else(|| panic!("{} has no package `{lib}`", lock.display()));
        out.push_str(&format!("    (\"{lib}\", \"{version}\"),\n"));
    }
    out.push_str("];\n");
    let dest =
        Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("libraries.rs");
    std::fs::write(dest, out).expect("OUT_DIR is writable");
}
