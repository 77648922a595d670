//! `ztsim validate`: topology, design and study files checked, every
//! problem reported with its file, line and key; designs are checked
//! against each topology given with them. `-` is standard input (a
//! topology or a design).

use std::path::PathBuf;

use clap::Args;
use serde_json::{Value, json};

use ztsim::config::{self, Diagnostic, FileKind};
use ztsim::model::{Design, Topology};
use ztsim::report::words;
use ztsim::study::folder::size_refusal;

use super::failure::Failure;
use super::flags::{self, OutputFlags};
use super::{input, print};

/// Flags of `ztsim validate`.
#[derive(Args)]
pub struct ValidateArgs {
    /// Files to check (topologies/*.toml, models/*.toml, studies); `-`
    /// reads one (a topology or a design) from standard input.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    #[command(flatten)]
    output: OutputFlags,
}

/// One file checked: its name, kind and verdict, for `--json`.
fn checked(file: &str, kind: &str, ok: bool) -> Value {
    json!({ "file": file, "kind": kind, "ok": ok })
}

/// The kind of a file (or of standard input), and its name in diagnostics.
fn kind(f: &std::path::Path) -> Result<(FileKind, String), Vec<Diagnostic>> {
    if !input::is_stdin(f) {
        return config::file_kind(f).map(|k| (k, f.display().to_string()));
    }
    let i = input::read(f).map_err(|d| vec![d])?;
    config::kind_of(&i.name, &i.text).map(|k| (k, i.name))
}

/// `ztsim validate`.
pub fn command(args: ValidateArgs) -> Result<(), Failure> {
    args.output.apply();
    input::one_stdin(args.files.iter().map(|f| ("FILES", f.as_path())))?;
    let mut problems = Vec::new();
    let mut topologies = Vec::new();
    let mut designs = Vec::new();
    let mut report = Vec::new();
    for f in &args.files {
        match kind(f) {
            Ok((FileKind::Design, _)) => designs.push(f),
            Ok((FileKind::Study, name)) if input::is_stdin(f) => {
                problems.push(Diagnostic::new(
                    name.clone(),
                    "a study cannot come from standard input: the files it names are relative to its own file; save it to a file",
                ));
                report.push(checked(&name, "study", false));
            }
            Ok((FileKind::Study, name)) => {
                let expanded = config::study::read_study(f)
                    .and_then(|spec| config::study::expand(&spec).map(|study| (spec, study)));
                match expanded {
                    Ok((spec, study)) => {
                        print::warnings(&study.warnings);
                        print::warnings(
                            guard_warning(size_refusal(&spec, &study), None).as_slice(),
                        );
                        let same = study.points.len() - study.distinct_points();
                        let repeats = match same {
                            0 => String::new(),
                            1 => "; 1 is the same system as another point and will not run".into(),
                            n => format!(
                                "; {n} are the same system as another point and will not run"
                            ),
                        };
                        outln!(
                            "{name}: ok (study: {} x {}{repeats})",
                            words::count(study.points.len(), "point"),
                            words::count(study.replications as usize, "replication"),
                        );
                        report.push(checked(&name, "study", true));
                    }
                    Err(d) => {
                        problems.extend(d);
                        report.push(checked(&name, "study", false));
                    }
                }
            }
            Ok((FileKind::Topology, name)) => match input::topology(f) {
                Ok(t) => {
                    // Plaintext costs the fewest events: refused under it,
                    // refused under every design.
                    let refused = flags::size_refusal(&t, &Design::plaintext(), f);
                    let too_large = refused.is_some();
                    print::warnings(guard_warning(refused, None).as_slice());
                    outln!(
                        "{name}: ok ({}, {}, {})",
                        words::count(t.services.len(), "service"),
                        words::count(t.endpoints.len(), "endpoint"),
                        words::count(t.calls.len(), "call site")
                    );
                    report.push(checked(&name, "topology", true));
                    topologies.push(Against {
                        topology: t,
                        file: f,
                        too_large,
                    });
                }
                Err(Failure::BadInput(d)) => {
                    problems.extend(d);
                    report.push(checked(&name, "topology", false));
                }
                Err(other) => return Err(other),
            },
            Err(d) => {
                problems.extend(d);
                report.push(checked(
                    &input::shown(f).display().to_string(),
                    "unknown",
                    false,
                ));
            }
        }
    }
    for f in designs {
        let against: Vec<Option<&Against>> = if topologies.is_empty() {
            vec![None]
        } else {
            topologies.iter().map(Some).collect()
        };
        let mut ok = true;
        for t in against {
            match check_design(f, t) {
                Ok(w) => print::warnings(&w),
                Err(d) => {
                    ok = false;
                    problems.extend(d);
                }
            }
        }
        let name = input::shown(f).display().to_string();
        if ok {
            outln!("{name}: ok (design)");
        }
        report.push(checked(&name, "design", ok));
    }
    print::json(json!({
        "command": "validate",
        "ok": problems.is_empty(),
        "files": report,
        "problems": problems.iter().map(print::diagnostic).collect::<Vec<_>>(),
    }));
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Failure::BadInput(problems))
    }
}

/// A design file (or standard input) checked on its own or against a
/// topology: its warnings, and the run's size guard's if it would refuse
/// the pair.
fn check_design(
    f: &std::path::Path,
    against: Option<&Against>,
) -> Result<Vec<Diagnostic>, Vec<Diagnostic>> {
    let t = against.map(|a| &a.topology);
    let parsed = if input::is_stdin(f) {
        let i = input::read(f).map_err(|d| vec![d])?;
        config::design::parse_design_with_costs(&i.name, &i.text, t, None)?
    } else {
        config::check_design(f, t)?
    };
    let mut warnings = parsed.warnings;
    // A topology too large alone was said to be so once.
    if let Some(a) = against.filter(|a| !a.too_large) {
        let refused = flags::size_refusal(&a.topology, &parsed.design, a.file);
        warnings.extend(guard_warning(refused, Some(f)));
    }
    Ok(warnings)
}

/// A valid topology checked, and the file it came from.
struct Against<'a> {
    topology: Topology,
    file: &'a PathBuf,
    /// The run's size guard refuses it under any design.
    too_large: bool,
}

/// The size guard's refusal, if any, as a warning: the files are valid,
/// but `run` (and `sweep`, `capacity`, ...) would not start without
/// --no-guard.
fn guard_warning(
    refused: Option<Diagnostic>,
    design: Option<&std::path::Path>,
) -> Option<Diagnostic> {
    let mut refused = refused?;
    let under = design.map_or(String::new(), |d| {
        format!(" under {}", input::shown(d).display())
    });
    refused.message = format!(
        "valid, but a run{under} would be refused without --no-guard: {}",
        refused.message
    );
    Some(refused)
}
