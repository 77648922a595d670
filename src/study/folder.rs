//! A study folder's life: a study run into it (or one shard of it), resumed
//! from its saved points, and its outputs written. [`write_study_outputs`]
//! is the one writer of a finished study's files, so a sweep, a resumed
//! sweep and merged shards write the same bytes.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::charts;
use crate::config::study::{self, Study, StudySpec};
use crate::config::{self, Diagnostic, KeyPath};
use crate::model::guard::Size;
use crate::report::output::{self, FolderLock, LockError};
use crate::report::study::{
    Manifest, PointResult, SHARD_MANIFEST, Sameness, ShardManifest, StudyResults,
    clear_point_store, points_dir, read_manifest, read_points, read_shard_manifest,
    remove_saved_points, same_system_notes, write_manifest, write_point, write_results,
    write_shard_manifest,
};
use crate::report::{self, review};
pub use crate::study::progress::Progress;
use crate::study::shard::{self, Shard};
use crate::study::sweep;

/// Why a study run or a merge did not finish.
#[derive(Debug)]
pub enum StudyError {
    /// Bad files, flags or folders.
    BadInput(Vec<Diagnostic>),
    /// Results could not be written.
    Write(String),
    /// Stopped after saving what was done; the message says how to continue.
    Interrupted(String),
}

fn bad(d: Diagnostic) -> StudyError {
    StudyError::BadInput(vec![d])
}

/// What to do with a study folder that already holds results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Keep it; write to a new folder beside it (`name-2`, `name-3`, ...).
    NewFolder,
    /// Replace it (`--force`).
    Overwrite,
    /// Continue it: reuse its finished points (`--resume`).
    Resume,
    /// The default study: continue if it is the same study, else replace.
    ResumeOrOverwrite,
}

/// Whether `dir` holds a study's results or saved points.
pub fn has_results(dir: &Path) -> bool {
    dir.join("results.json").exists() || points_dir(dir).exists()
}

/// Refuses up front an output folder that cannot be written, rather than
/// after the whole sweep has run.
pub fn check_writable(dir: &Path) -> Result<(), Diagnostic> {
    output::check_writable(dir).map_err(|e| folder_error(dir, &LockError::Io(e)))
}

/// Why an output folder cannot be used: another run holds it, or it cannot
/// be written.
pub fn folder_error(dir: &Path, e: &LockError) -> Diagnostic {
    let message = match e {
        LockError::Busy(holder) => format!(
            "the output folder is in use by another ztsim run ({holder}); add --wait to wait for it to finish, or choose another folder with --out"
        ),
        LockError::Nested {
            folder,
            holder,
            inside,
        } => format!(
            "the output folder {} {}, which another ztsim run is writing ({holder}): their files would mix, and --force would remove that run's; add --wait to wait for it to finish, or choose a folder neither inside nor around it with --out",
            if *inside { "is inside" } else { "contains" },
            folder.display()
        ),
        LockError::Io(e) => {
            format!("the output folder cannot be written: {e}; choose another with --out")
        }
    };
    Diagnostic::new(dir.display().to_string(), message)
}

/// `command` without the flags that choose what to do with existing
/// results and where they go (`--out`, `--force`, `--resume`), and with
/// `--shard` set to `shard` when given.
pub fn rerun_args(command: &[String], shard: Option<Shard>) -> Vec<String> {
    let mut out = Vec::new();
    let mut skip = false;
    for a in command {
        if skip {
            skip = false;
            continue;
        }
        if a == "--out" || (a == "--shard" && shard.is_some()) {
            skip = true;
            continue;
        }
        if a.starts_with("--out=")
            || (a.starts_with("--shard=") && shard.is_some())
            || a == "--force"
            || a == "--resume"
        {
            continue;
        }
        out.push(a.clone());
    }
    if let Some(s) = shard {
        out.extend(["--shard".to_string(), s.to_string()]);
    }
    out
}

/// The command that continues `command`, interrupted, in `dir`.
pub fn resume_command_of(command: &[String], dir: &Path) -> String {
    let out = rerun_args(command, None);
    if out.len() <= 1 {
        // The default study has no command: resuming it is running it again.
        return "ztsim   (or cargo run --release)".into();
    }
    format!("{} --resume --out {}", out.join(" "), dir.display())
}

/// What [`write_study_outputs`] wrote.
pub struct Written {
    /// Charts drawn (each as SVG and PNG).
    pub charts: usize,
}

/// Writes everything a finished study produces from its results: tables,
/// charts. The one place that decides a study folder's contents, so a sweep
/// and anything that rebuilds results from saved points write the same bytes.
pub fn write_study_outputs(
    dir: &Path,
    results: &StudyResults,
    pretty: bool,
) -> Result<Written, StudyError> {
    write_results(dir, results, pretty).map_err(|e| {
        StudyError::Write(format!("cannot write results to {}: {e}", dir.display()))
    })?;
    let charts = charts::render_all(results, dir)
        .map_err(|e| StudyError::Write(format!("cannot write charts to {}: {e}", dir.display())))?;
    review::write(
        dir,
        results,
        &[],
        charts::topology_diagram(results).as_deref(),
    )
    .map_err(|e| StudyError::Write(format!("cannot write the report to {}: {e}", dir.display())))?;
    Ok(Written {
        charts: charts.len() / 2,
    })
}

/// How to run a study into a folder.
pub struct Run<'a> {
    /// The folder asked for.
    pub dir: &'a Path,
    /// What to do if it already holds results.
    pub existing: Existing,
    /// Refuse a study whose largest point is beyond the size guard's budget.
    pub guarded: bool,
    /// Run only this shard's points.
    pub shard: Option<Shard>,
    /// If another run holds the folder, wait for it (else refuse at once).
    pub wait: bool,
    /// The command line that started the run, `ztsim` first: kept in a
    /// shard's manifest and the base of the command that resumes it.
    pub command: &'a [String],
    /// Write `results.json` indented for reading (else compact).
    pub pretty: bool,
}

/// A study resolved and its folder chosen, before any point runs.
struct Opened {
    study: Study,
    manifest: Manifest,
    dir: PathBuf,
    /// The points this run owns (all, or a shard's), in grid order.
    owned: Vec<usize>,
    previous: Vec<PointResult>,
    /// Held until the run ends.
    _lock: FolderLock,
}

/// Runs the study `spec` into a folder as `run` says: resumes or replaces
/// what is there, saves each point as soon as it is done (stopping cleanly
/// once `stop` is set), and writes the outputs of a finished study (a
/// shard's only its points: `ztsim merge` writes the rest). Returns the
/// folder it wrote (`name-2`, ... when the named one held results).
pub fn run_study(
    spec: &StudySpec,
    run: &Run,
    progress: &dyn Progress,
    stop: &AtomicBool,
) -> Result<PathBuf, StudyError> {
    let opened = open(spec, run)?;
    let (study, dir) = (&opened.study, opened.dir.as_path());
    progress.say(&plan(study));
    for w in &study.warnings {
        progress.warn(w);
    }
    if let Some(w) = same_system_warning(study) {
        progress.warn(&w);
    }
    if let Some(s) = run.shard {
        progress.say(&shard_plan(study, &opened.owned, s, dir));
        // Written before any point runs, so that a merge of a shard that
        // never finished says "incomplete" rather than "not a shard".
        let results = sweep::results_of(study, Vec::new());
        let shard_manifest = ShardManifest {
            ztsim_version: env!("CARGO_PKG_VERSION").to_string(),
            fingerprint: shard::fingerprint(
                &opened.manifest.fingerprint,
                &results.metadata().to_string(),
            ),
            name: study.name.clone(),
            shard: s.index,
            shards: s.count,
            study_points: study.points.len(),
            points: opened.owned.clone(),
            command: run.command.to_vec(),
            study: results.metadata(),
        };
        write_shard_manifest(dir, &shard_manifest)
            .map_err(|e| StudyError::Write(format!("cannot write to {}: {e}", dir.display())))?;
    } else {
        // A folder that held a shard result before no longer does.
        let _ = std::fs::remove_file(dir.join(SHARD_MANIFEST));
    }
    let owned = &opened.owned;
    let previous: Vec<_> = opened
        .previous
        .into_iter()
        .filter(|p| owned.binary_search(&p.index).is_ok())
        .collect();
    if !previous.is_empty() {
        progress.say(&format!(
            "resuming {}: {} of {} points already done\n",
            dir.display(),
            previous.len(),
            owned.len()
        ));
    }
    // The bar counts simulations: points that are the same system as
    // another are not run.
    let runs = |i: &usize| study.points[*i].same_as.is_none();
    progress.start(
        Some(owned.iter().filter(|i| runs(i)).count() as u64),
        previous.iter().filter(|p| runs(&p.index)).count() as u64,
    );
    let t0 = std::time::Instant::now();
    let write_error = Mutex::new(None);
    let outcome = sweep::run_subset(
        study,
        owned,
        previous,
        &|p| {
            if let Err(e) = write_point(dir, p) {
                write_error
                    .lock()
                    .map(|mut w| *w = Some(e.to_string()))
                    .ok();
                stop.store(true, Ordering::SeqCst);
            }
            if p.same_as.is_none() {
                progress.point_done();
            }
        },
        stop,
    );
    progress.finish();
    if let Some(e) = write_error.into_inner().ok().flatten() {
        return Err(StudyError::Write(format!(
            "cannot save a finished point in {}: {e}",
            dir.display()
        )));
    }
    let ended = Ended {
        outcome,
        seconds: t0.elapsed().as_secs_f64(),
    };
    match run.shard {
        Some(s) => ended.shard(s, owned.len(), dir, run.command, progress),
        None => ended.study(study.points.len(), dir, run, progress),
    }?;
    Ok(dir.to_path_buf())
}

/// Why the size guard refuses a study's run, if it does: the point with the
/// most events first, then any other too large; located at the workload of
/// the study's topology file, whose window and rate, with the study's, make
/// the size.
pub fn size_refusal(spec: &StudySpec, study: &Study) -> Option<Diagnostic> {
    let sizes: Vec<Size> = study
        .points
        .iter()
        .map(|p| Size::of(&p.topology, &p.design_model))
        .collect();
    let largest = (0..sizes.len()).max_by(|&a, &b| sizes[a].events.total_cmp(&sizes[b].events));
    let (i, why) = largest
        .into_iter()
        .chain(0..sizes.len())
        .find_map(|i| sizes[i].refusal().map(|why| (i, why)))?;
    let p = &study.points[i];
    let point = match p.rate {
        Some(r) => format!("the point at {r} rps, design `{}`", p.design),
        None => format!("the point of design `{}`", p.design),
    };
    Some(config::locate(
        Path::new(&spec.topology.name),
        &KeyPath::root().key("workload"),
        format!("{point}: {why}"),
    ))
}

/// Resolves the study, guards its size, chooses the folder (resuming,
/// replacing or beside what is there) and writes its manifest.
fn open(spec: &StudySpec, run: &Run) -> Result<Opened, StudyError> {
    let study = study::expand(spec).map_err(StudyError::BadInput)?;
    if run.guarded
        && let Some(refused) = size_refusal(spec, &study)
    {
        return Err(bad(refused));
    }
    let manifest = Manifest {
        fingerprint: study.fingerprint(),
        points: study.points.len(),
        name: study.name.clone(),
    };
    let owned: Vec<usize> = match run.shard {
        Some(s) => shard::owned(&study, s),
        None => (0..study.points.len()).collect(),
    };
    // The folder is ours alone from here to the end of the run.
    let (dir, lock) = match run.existing {
        Existing::NewFolder => FolderLock::acquire_fresh(run.dir, has_results),
        _ => FolderLock::acquire(run.dir, run.wait).map(|l| (run.dir.to_path_buf(), l)),
    }
    .map_err(|e| bad(folder_error(run.dir, &e)))?;
    let dir = dir.as_path();
    // A shard folder continues only the same shard of the same study.
    let same_shard = || match (run.shard, read_shard_manifest(dir)) {
        (None, Ok(None)) => true,
        (Some(s), Ok(Some(m))) => m.shard == s.index && m.shards == s.count,
        _ => false,
    };
    let same = read_manifest(dir).is_some_and(|m| m == manifest) && same_shard();
    let previous = match run.existing {
        Existing::Resume if has_results(dir) && !same => {
            return Err(bad(Diagnostic::new(
                dir.display().to_string(),
                format!(
                    "this folder holds results of a different study{} (or of another ztsim version), so it cannot be resumed; use --force to replace it, or another --out",
                    if run.shard.is_some() {
                        " or another shard"
                    } else {
                        ""
                    }
                ),
            )));
        }
        Existing::Resume | Existing::ResumeOrOverwrite if same => read_points(dir).0,
        _ => Vec::new(),
    };
    check_writable(dir).map_err(bad)?;
    if previous.is_empty() {
        // A fresh start: forget points of whatever ran here before.
        clear_point_store(dir);
    }
    write_manifest(dir, &manifest)
        .map_err(|e| StudyError::Write(format!("cannot write to {}: {e}", dir.display())))?;
    let dir = dir.to_path_buf();
    Ok(Opened {
        study,
        manifest,
        dir,
        owned,
        previous,
        _lock: lock,
    })
}

/// What runs once for several points, said before the study starts: each
/// design's parameters that do not apply, and how many points run.
fn same_system_warning(study: &Study) -> Option<Diagnostic> {
    let distinct = study.distinct_points();
    if distinct == study.points.len() {
        return None;
    }
    let points: Vec<Sameness> = study
        .points
        .iter()
        .enumerate()
        .map(|(index, p)| Sameness {
            index,
            design: &p.design,
            params: &p.params,
            same_as: p.same_as,
            not_applying: &p.not_applying,
        })
        .collect();
    let same = study.points.len() - distinct;
    let (are, take) = if same == 1 {
        ("is", "the other takes its results")
    } else {
        ("are", "the others take their results")
    };
    let runs = if distinct == 1 { "runs" } else { "run" };
    let mut text = format!(
        "{same} of {} points {are} the same system as another point (a swept parameter does not apply to their design), so {} {runs} and {take}, seed included:",
        study.points.len(),
        report::words::count(distinct, "point"),
    );
    for note in same_system_notes(&points) {
        text += &format!("\n  {note}");
    }
    // Of the study as a whole: no file, line or key.
    Some(Diagnostic::new("", text))
}

/// The study's size in a line: points, runs, simulated requests.
fn plan(study: &Study) -> String {
    let distinct = study.distinct_points();
    let jobs = distinct as u64 * u64::from(study.replications);
    format!(
        "{} points ({} designs x {} loads{}){} x {} replications = {jobs} runs, about {:.1} M simulated requests\n",
        study.points.len(),
        study.designs.len(),
        study.rates.len().max(1),
        if study.params.is_empty() {
            String::new()
        } else {
            format!(
                " x {} parameter combinations",
                study.points.len() / (study.designs.len() * study.rates.len().max(1)).max(1)
            )
        },
        if distinct < study.points.len() {
            format!(", {distinct} distinct,")
        } else {
            String::new()
        },
        study.replications,
        sweep::estimated_requests(study) / 1e6,
    )
}

/// A shard's share of the study in a line.
fn shard_plan(study: &Study, owned: &[usize], s: Shard, dir: &Path) -> String {
    let costs = shard::costs(study);
    let total: f64 = costs.iter().sum();
    let mine: f64 = owned.iter().map(|&i| costs[i]).sum();
    let requests: f64 = owned
        .iter()
        .map(|&i| sweep::point_requests(&study.points[i]))
        .sum();
    format!(
        "shard {s}: {} of {} points, {:.1}% of the estimated cost (about {:.1} M simulated requests), into {}\n",
        owned.len(),
        study.points.len(),
        if total > 0.0 {
            mine / total * 100.0
        } else {
            0.0
        },
        requests / 1e6,
        dir.display()
    )
}

/// The points given another's results, for a closing line.
fn shared_text(shared: usize) -> String {
    if shared == 0 {
        String::new()
    } else {
        format!(", {shared} the same system as another")
    }
}

/// How the points' run ended, and how long it took.
struct Ended {
    outcome: sweep::Outcome,
    seconds: f64,
}

impl Ended {
    /// A shard's results are a part of the study's: only `ztsim merge`
    /// writes tables and charts, from all of them.
    fn shard(
        self,
        s: Shard,
        owned: usize,
        dir: &Path,
        command: &[String],
        progress: &dyn Progress,
    ) -> Result<(), StudyError> {
        let outcome = self.outcome;
        if !outcome.complete {
            return Err(StudyError::Interrupted(format!(
                "interrupted: {} of {owned} points of shard {s} are done and saved in {}; continue with:\n  {}",
                outcome.results.points.len(),
                dir.display(),
                resume_command_of(command, dir)
            )));
        }
        progress.say(&format!(
            "shard {s} done: {owned} points in {} in {:.1} s ({} computed, {} reused{}); once all {} shards are done, combine them with:\n  ztsim merge {}\n",
            dir.display(),
            self.seconds,
            outcome.computed,
            outcome.reused,
            shared_text(outcome.shared),
            s.count,
            dir.parent().unwrap_or(Path::new(".")).display(),
        ));
        Ok(())
    }

    /// A whole study: its outputs if finished, else what was done.
    fn study(
        self,
        points: usize,
        dir: &Path,
        run: &Run,
        progress: &dyn Progress,
    ) -> Result<(), StudyError> {
        let (outcome, command) = (self.outcome, run.command);
        let mut results = outcome.results;
        if !outcome.complete {
            results.partial_of = Some(points);
            write_results(dir, &results, run.pretty).map_err(|e| {
                StudyError::Write(format!("cannot write results to {}: {e}", dir.display()))
            })?;
            return Err(StudyError::Interrupted(format!(
                "interrupted: {} of {points} points are done and saved in {} (results.csv and results.json hold them); continue with:\n  {}",
                results.points.len(),
                dir.display(),
                resume_command_of(command, dir)
            )));
        }
        let written = write_study_outputs(dir, &results, run.pretty)?;
        // results.json holds every point exactly: the saved points would be
        // a second copy (a resume reads them from results.json).
        remove_saved_points(dir);
        progress.say(&report::study::overview(&results));
        progress.say(&format!(
            "\nwrote {}/results.csv, results.json, {} charts and report.html in {:.1} s ({} points computed, {} reused{})\n",
            dir.display(),
            written.charts,
            self.seconds,
            outcome.computed,
            outcome.reused,
            shared_text(outcome.shared)
        ));
        Ok(())
    }
}
