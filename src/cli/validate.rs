//! `ztsim validate`: topology, design and study files checked, every
//! problem reported with its file, line and key; designs are checked
//! against each topology given with them.

use std::path::PathBuf;

use clap::Args;

use ztsim::config;
use ztsim::model::Topology;
use ztsim::report::words;

use super::failure::Failure;

/// Flags of `ztsim validate`.
#[derive(Args)]
pub struct ValidateArgs {
    /// Files to check (topologies/*.toml, models/*.toml).
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

/// `ztsim validate`.
pub fn command(args: ValidateArgs) -> Result<(), Failure> {
    let files = &args.files;
    let mut problems = Vec::new();
    let mut topologies = Vec::new();
    let mut designs = Vec::new();
    for f in files {
        match config::file_kind(f) {
            Ok(config::FileKind::Design) => designs.push(f),
            Ok(config::FileKind::Study) => {
                match config::study::read_study(f).and_then(|spec| config::study::expand(&spec)) {
                    Ok(study) => {
                        let same = study.points.len() - study.distinct_points();
                        outln!(
                            "{}: ok (study: {} points x {} replications{})",
                            f.display(),
                            study.points.len(),
                            study.replications,
                            if same > 0 {
                                format!(
                                    "; {same} are the same system as another point and will not run"
                                )
                            } else {
                                String::new()
                            }
                        )
                    }
                    Err(d) => problems.extend(d),
                }
            }
            Ok(config::FileKind::Topology) => match config::load_topology(f) {
                Ok(t) => {
                    outln!(
                        "{}: ok ({}, {}, {})",
                        f.display(),
                        words::count(t.services.len(), "service"),
                        words::count(t.endpoints.len(), "endpoint"),
                        words::count(t.calls.len(), "call site")
                    );
                    topologies.push(t);
                }
                Err(d) => problems.extend(d),
            },
            Err(d) => problems.extend(d),
        }
    }
    for f in designs {
        let against: Vec<Option<&Topology>> = if topologies.is_empty() {
            vec![None]
        } else {
            topologies.iter().map(Some).collect()
        };
        let mut ok = true;
        for t in against {
            if let Err(d) = config::check_design(f, t) {
                ok = false;
                problems.extend(d);
            }
        }
        if ok {
            outln!("{}: ok (design)", f.display());
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Failure::BadInput(problems))
    }
}
