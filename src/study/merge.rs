//! `ztsim merge`'s work: the shard results of a study run as a batch job's
//! tasks (`ztsim sweep STUDY --shard I/N`) found, checked against each other
//! (same version, same study, same split, every shard and point once, all
//! complete) and reassembled into the study's results in grid order.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::config::Diagnostic;
use crate::config::study::MAX_POINTS;
use crate::report;
use crate::report::study::{
    PointResult, SHARD_MANIFEST, ShardManifest, StudyResults, read_points, read_shard_manifest,
};
use crate::study::folder::{StudyError, rerun_args, resume_command_of};
use crate::study::shard::Shard;

/// A study reassembled from its shards.
pub struct Merged {
    /// The study's results, every point in grid order.
    pub results: StudyResults,
    /// The study's name (its default output folder).
    pub name: String,
    /// How many shards it was split into.
    pub shards: usize,
}

/// Finds the shard results `args` name (shard folders, or folders holding
/// them), checks that they make up one whole study and reassembles it.
pub fn gather(args: &[PathBuf]) -> Result<Merged, StudyError> {
    let shards = find(args).map_err(a_few)?;
    check_consistent(&shards).map_err(a_few)?;
    let points = collect_points(&shards).map_err(a_few)?;
    let first = &shards[0];
    let results = StudyResults::from_metadata(&first.manifest.study, points)
        .map_err(|m| StudyError::BadInput(vec![problem(&first.dir.join(SHARD_MANIFEST), m)]))?;
    Ok(Merged {
        results,
        name: first.manifest.name.clone(),
        shards: first.manifest.shards,
    })
}

/// One shard result found on disk.
struct Found {
    dir: PathBuf,
    manifest: ShardManifest,
}

impl Found {
    fn shard(&self) -> Shard {
        Shard {
            index: self.manifest.shard,
            count: self.manifest.shards,
        }
    }
}

fn problem(file: &Path, message: impl Into<String>) -> Diagnostic {
    Diagnostic::new(file.display().to_string(), message)
}

/// The shard folders `arg` names: itself if it is one, else the shard
/// folders directly inside it, or inside its `shards/` (a study folder).
fn shard_dirs(arg: &Path) -> Result<Vec<PathBuf>, Diagnostic> {
    if !arg.is_dir() {
        return Err(problem(
            arg,
            "no such folder: give shard result folders written by `ztsim sweep STUDY --shard I/N` (by default output/<study>/shards/I-of-N), or a folder holding them",
        ));
    }
    if arg.join(SHARD_MANIFEST).exists() {
        return Ok(vec![arg.to_path_buf()]);
    }
    let children = |dir: &Path| -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
            .map(|d| {
                d.flatten()
                    .map(|e| e.path())
                    .filter(|p| p.join(SHARD_MANIFEST).is_file())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    };
    let mut found = children(arg);
    if found.is_empty() {
        found = children(&arg.join("shards"));
    }
    if found.is_empty() {
        return Err(problem(
            arg,
            format!(
                "not a shard result: neither this folder nor any folder in it (or in its shards/) holds a {SHARD_MANIFEST}; expected a folder written by `ztsim sweep STUDY --shard I/N` (by default output/<study>/shards/I-of-N)"
            ),
        ));
    }
    Ok(found)
}

/// How to run or finish a shard, from the command line of a sibling.
fn sweep_command_for(template: &ShardManifest, shard: Shard) -> String {
    rerun_args(&template.command, Some(shard)).join(" ")
}

/// The shard results the arguments name, each once, with their manifests.
fn find(args: &[PathBuf]) -> Result<Vec<Found>, StudyError> {
    let mut problems = Vec::new();
    let mut dirs: Vec<PathBuf> = Vec::new();
    for arg in args {
        match shard_dirs(arg) {
            Ok(found) => {
                for d in found {
                    // The same folder named twice (`shards/*` and `shards`)
                    // is one shard, not a duplicate.
                    let key = d.canonicalize().unwrap_or_else(|_| d.clone());
                    if !dirs
                        .iter()
                        .any(|x| x.canonicalize().unwrap_or_else(|_| x.clone()) == key)
                    {
                        dirs.push(d);
                    }
                }
            }
            Err(d) => problems.push(d),
        }
    }
    let mut shards = Vec::new();
    for dir in dirs {
        match read_shard_manifest(&dir) {
            Ok(Some(manifest)) => match in_bounds(&manifest) {
                Ok(()) => shards.push(Found { dir, manifest }),
                Err(m) => problems.push(problem(&dir.join(SHARD_MANIFEST), m)),
            },
            Ok(None) => problems.push(problem(&dir, "not a shard result: no shard.json")),
            Err(m) => problems.push(problem(&dir, format!("not a shard result: {m}"))),
        }
    }
    if problems.is_empty() {
        Ok(shards)
    } else {
        Err(StudyError::BadInput(problems))
    }
}

/// Refuses a `shard.json` whose counts no study could have: they size
/// what the checks allocate and list, so they are bounded first (by the
/// grid limit, which also bounds a sweep's shard count).
fn in_bounds(m: &ShardManifest) -> Result<(), String> {
    let why = if m.study_points == 0 || m.study_points > MAX_POINTS {
        format!(
            "study_points is {}: a study has from 1 to {MAX_POINTS} points",
            m.study_points
        )
    } else if m.shards == 0 || m.shards > MAX_POINTS {
        format!(
            "shards is {}: a study splits into 1 to {MAX_POINTS} shards",
            m.shards
        )
    } else if m.shard >= m.shards {
        format!(
            "shard is {}: shards of {} run from 0 to {}",
            m.shard,
            m.shards,
            m.shards - 1
        )
    } else if m.points.len() > m.study_points {
        format!(
            "points lists {} points, more than the study's {}",
            m.points.len(),
            m.study_points
        )
    } else {
        return Ok(());
    };
    Err(format!(
        "not a valid shard manifest: {why}; rerun the shard with `ztsim sweep STUDY --shard I/N --force`"
    ))
}

/// The first few problems and how many more: a tampered manifest must not
/// flood the terminal with one line per point.
fn a_few(e: StudyError) -> StudyError {
    const SHOWN: usize = 10;
    match e {
        StudyError::BadInput(mut problems) if problems.len() > SHOWN => {
            let more = problems.len() - SHOWN;
            problems.truncate(SHOWN);
            problems.push(Diagnostic::new(
                "ztsim merge",
                format!("and {more} more problems like these"),
            ));
            StudyError::BadInput(problems)
        }
        other => other,
    }
}

/// One consistency check: the problems it finds.
type Check = fn(&[Found]) -> Vec<Diagnostic>;

/// Refuses shards that do not make up one whole study: another ztsim
/// version, another study, another N, a shard missing or given twice, a
/// point owned by none or by two. Each check runs only if the ones before
/// it passed: another version's fingerprints differ anyway, so only why
/// is said.
fn check_consistent(shards: &[Found]) -> Result<(), StudyError> {
    let checks: [Check; 4] = [same_version, same_study, every_shard_once, every_point_once];
    for check in checks {
        let problems = check(shards);
        if !problems.is_empty() {
            return Err(StudyError::BadInput(problems));
        }
    }
    Ok(())
}

/// Shards written by another ztsim version.
fn same_version(shards: &[Found]) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    let ours = env!("CARGO_PKG_VERSION");
    for s in shards {
        if s.manifest.ztsim_version != ours {
            problems.push(problem(
                &s.dir,
                format!(
                    "this shard was written by ztsim {}, this is ztsim {ours}: merge shards with the version that ran them, or rerun the shard",
                    s.manifest.ztsim_version
                ),
            ));
        }
    }
    problems
}

/// Shards of another study, or split into another N.
fn same_study(shards: &[Found]) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    let first = &shards[0];
    for s in &shards[1..] {
        if s.manifest.fingerprint != first.manifest.fingerprint {
            problems.push(problem(
                &s.dir,
                format!(
                    "shard {} is from a different study than {} (shard {}): their fingerprints differ ({} and {}), so the study's inputs differ between the two runs (topology, designs, rates, parameters, seed, replications, duration, warm-up, name, title or focus load); rerun it with the same study files and flags as the others",
                    s.shard(),
                    first.dir.display(),
                    first.shard(),
                    s.manifest.fingerprint,
                    first.manifest.fingerprint
                ),
            ));
        } else if s.manifest.shards != first.manifest.shards {
            problems.push(problem(
                &s.dir,
                format!(
                    "this is shard {} but {} is shard {}: all shards of a study must be split the same way (the same N in --shard I/N)",
                    s.shard(),
                    first.dir.display(),
                    first.shard()
                ),
            ));
        }
    }
    problems
}

/// Shards given twice or missing.
fn every_shard_once(shards: &[Found]) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    let first = &shards[0];
    let count = first.manifest.shards;
    let mut by_index: BTreeMap<usize, Vec<&Found>> = BTreeMap::new();
    for s in shards {
        by_index.entry(s.manifest.shard).or_default().push(s);
    }
    for (index, copies) in &by_index {
        if copies.len() > 1 {
            let paths: Vec<String> = copies.iter().map(|c| c.dir.display().to_string()).collect();
            problems.push(problem(
                &copies[1].dir,
                format!(
                    "shard {index}/{count} is given {} times: {}; keep one of them",
                    copies.len(),
                    paths.join(" and ")
                ),
            ));
        }
    }
    for index in (0..count).filter(|i| !by_index.contains_key(i)) {
        let shard = Shard { index, count };
        problems.push(Diagnostic::new(
            "ztsim merge",
            format!(
                "shard {shard} is missing (shards run from 0/{count} to {}/{count}): expected a folder written by `{}` (by default output/{}/shards/{})",
                count - 1,
                sweep_command_for(&first.manifest, shard),
                report::safe_name(&first.manifest.name),
                shard.folder_name()
            ),
        ));
    }
    problems
}

/// Points owned by two shards or by none: the shards split the same grid.
fn every_point_once(shards: &[Found]) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    let first = &shards[0];
    let total = first.manifest.study_points;
    let mut owner: Vec<Option<&Found>> = vec![None; total];
    for s in shards {
        for &i in &s.manifest.points {
            match owner.get_mut(i) {
                None => problems.push(problem(
                    &s.dir,
                    format!("shard.json lists point {i}, beyond the study's {total} points"),
                )),
                Some(Some(other)) => problems.push(problem(
                    &s.dir,
                    format!(
                        "point {i} is owned by this shard and by {}: the shards split the study differently; rerun them with the same ztsim",
                        other.dir.display()
                    ),
                )),
                Some(slot) => *slot = Some(s),
            }
        }
    }
    let unowned: Vec<usize> = (0..total).filter(|&i| owner[i].is_none()).collect();
    if !unowned.is_empty() {
        problems.push(Diagnostic::new(
            "ztsim merge",
            format!(
                "no shard owns points {}: the shards split the study differently; rerun them with the same ztsim",
                list(&unowned)
            ),
        ));
    }
    problems
}

/// Every shard's points, in grid order; a shard missing any is incomplete.
fn collect_points(shards: &[Found]) -> Result<Vec<PointResult>, StudyError> {
    let mut problems = Vec::new();
    let mut points: Vec<PointResult> = Vec::new();
    for s in shards {
        let (saved, unreadable) = read_points(&s.dir);
        // Each message names its file.
        problems.extend(unreadable.into_iter().map(|m| Diagnostic::new("", m)));
        let mut saved: BTreeMap<usize, PointResult> =
            saved.into_iter().map(|p| (p.index, p)).collect();
        let mut missing = Vec::new();
        for &i in &s.manifest.points {
            match saved.remove(&i) {
                Some(p) => points.push(p),
                None => missing.push(i),
            }
        }
        if !missing.is_empty() {
            problems.push(problem(
                &s.dir,
                format!(
                    "shard {} is incomplete: {} of its {} points are done, missing are points {}; finish it with:\n  {}",
                    s.shard(),
                    s.manifest.points.len() - missing.len(),
                    s.manifest.points.len(),
                    list(&missing),
                    resume_command_of(&s.manifest.command, &s.dir)
                ),
            ));
        }
    }
    if !problems.is_empty() {
        return Err(StudyError::BadInput(problems));
    }
    points.sort_by_key(|p| p.index);
    Ok(points)
}

/// Point indices for a message: all of a few, the first ones of many.
fn list(indices: &[usize]) -> String {
    const SHOWN: usize = 12;
    let mut s = indices
        .iter()
        .take(SHOWN)
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    if indices.len() > SHOWN {
        s += &format!(" and {} more", indices.len() - SHOWN);
    }
    s
}
