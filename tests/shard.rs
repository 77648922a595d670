//! Big sweeps split across a batch job's tasks: `ztsim sweep --shard I/N` in
//! separate processes, then `ztsim merge`, must give the bytes of one
//! unsharded sweep; the split must cover every point once and balance the
//! estimated cost; a merge must refuse (exit 2, naming the culprit) a
//! missing, duplicated, foreign or unfinished shard.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};

use common::{TempDir, root, ztsim_in};

use ztsim::config::study::{expand, read_study};
use ztsim::study::shard::{Shard, costs, owned, partition};

/// A study of 2 designs x 4 loads = 8 points, a fraction of a second each.
fn study_args(seed: &str) -> Vec<String> {
    let p = |rel: &str| root().join(rel).display().to_string();
    [
        "sweep",
        "--topology",
        &p("topologies/minimal.toml"),
        "-m",
        &p("models/plaintext.toml"),
        "-m",
        &p("models/naive-mtls.toml"),
        "--rate",
        "100,200,400,800",
        "--duration",
        "0.5s",
        "--warmup",
        "0s",
        "--replications",
        "2",
        "--seed",
        seed,
        "--name",
        "mini",
        "--threads",
        "1",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// `args` with the value of `flag` replaced.
fn set(mut args: Vec<String>, flag: &str, value: &str) -> Vec<String> {
    let at = args.iter().position(|a| a == flag).unwrap();
    args[at + 1] = value.into();
    args
}

fn with(mut args: Vec<String>, extra: &[&str]) -> Vec<String> {
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn spawn(args: &[String], cwd: &Path) -> Child {
    common::spawn(Some(cwd), args)
}

fn ztsim(args: &[String], cwd: &Path) -> Output {
    ztsim_in(cwd, args)
}

#[track_caller]
fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\n{}\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The stderr of a run that must exit 2.
#[track_caller]
fn refused(out: &Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

/// Runs shards 0..n of the study as separate, concurrent processes (the
/// way a batch job's tasks run), each into `dir/shards/I-of-N`.
fn run_shards(dir: &Path, n: usize, seed: &str) {
    let children: Vec<Child> = (0..n)
        .map(|i| {
            spawn(
                &with(study_args(seed), &["--shard", &format!("{i}/{n}")]),
                dir,
            )
        })
        .collect();
    for c in children {
        ok(&c.wait_with_output().unwrap());
    }
}

/// Every file of a study folder but the saved points, with its bytes.
fn outputs(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_file())
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

#[track_caller]
fn assert_same_outputs(merged: &Path, full: &Path) {
    let (m, f) = (outputs(merged), outputs(full));
    let names = |v: &[(String, Vec<u8>)]| v.iter().map(|x| x.0.clone()).collect::<Vec<_>>();
    assert_eq!(names(&m), names(&f));
    // results.json, results.csv, six charts as SVG and PNG, and the report
    // (report.html, report.md, topology.svg).
    assert_eq!(f.len(), 17, "{:?}", names(&f));
    for ((name, a), (_, b)) in m.iter().zip(&f) {
        assert!(a == b, "{name} differs between the merge and the sweep");
    }
}

#[test]
fn sharded_processes_merge_to_the_bytes_of_one_sweep() {
    let tmp = TempDir::new("shard-merge");
    let dir = tmp.path();
    let full = dir.join("full");
    ok(&ztsim(
        &with(study_args("7"), &["--out", &full.display().to_string()]),
        dir,
    ));

    run_shards(dir, 3, "7");
    let shards = dir.join("output/mini/shards");
    let names: Vec<String> = (0..3)
        .map(|i| shards.join(format!("{i}-of-3")).display().to_string())
        .collect();
    // Each shard owns its share and nothing else; together, all 8 points.
    let mut all = Vec::new();
    for n in &names {
        let manifest: serde_json::Value =
            serde_json::from_slice(&std::fs::read(Path::new(n).join("shard.json")).unwrap())
                .unwrap();
        let points: Vec<u64> = manifest["points"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_u64().unwrap())
            .collect();
        let saved = std::fs::read_dir(Path::new(n).join("points"))
            .unwrap()
            .filter(|e| e.as_ref().unwrap().file_name() != "manifest.json")
            .count();
        assert_eq!(saved, points.len(), "{n}");
        assert_eq!(manifest["study_points"], 8);
        assert_eq!(manifest["shards"], 3);
        assert_eq!(manifest["study"]["name"], "mini");
        assert!(manifest["study"].get("points").is_none());
        all.extend(points);
    }
    all.sort_unstable();
    assert_eq!(all, (0..8).collect::<Vec<u64>>());

    // The shard folders one by one (as a shell expands shards/*).
    let merged = dir.join("merged");
    let mut args = vec!["merge".to_string()];
    args.extend(names.iter().cloned());
    args.extend(["--out".to_string(), merged.display().to_string()]);
    let stdout = ok(&ztsim(&args, dir));
    assert!(stdout.contains("merged 3 shards (8 points)"), "{stdout}");
    assert_same_outputs(&merged, &full);

    // Their parent folder, into the default output/<study>/.
    ok(&ztsim(&["merge".into(), shards.display().to_string()], dir));
    assert_same_outputs(&dir.join("output/mini"), &full);

    // A retried task continues its shard instead of redoing it.
    let again = ok(&ztsim(&with(study_args("7"), &["--shard", "1/3"]), dir));
    assert!(again.contains("0 computed"), "{again}");

    // More shards than points: the empty shards still merge.
    let many = dir.join("many");
    std::fs::create_dir_all(&many).unwrap();
    run_shards(&many, 10, "7");
    let empty = (0..10)
        .filter(|i| {
            let m = std::fs::read_to_string(
                many.join(format!("output/mini/shards/{i}-of-10/shard.json")),
            )
            .unwrap();
            m.contains("\"points\": []")
        })
        .count();
    assert_eq!(empty, 2);
    let merged = many.join("merged");
    ok(&ztsim(
        &[
            "merge".into(),
            many.join("output/mini").display().to_string(),
            "--out".into(),
            merged.display().to_string(),
        ],
        &many,
    ));
    assert_same_outputs(&merged, &full);
    // But not past a study's most points: the split holds a list per shard
    // (a count of 1e9 once took 8 GB, and 2^64-1 overflowed).
    for n in ["10001", "1000000000", "18446744073709551615"] {
        let err = refused(&ztsim(
            &with(study_args("7"), &["--shard", &format!("0/{n}")]),
            dir,
        ));
        assert!(err.contains("at most 10000 shards"), "{err}");
    }
}

#[test]
fn merge_names_the_shard_that_is_missing_doubled_foreign_or_unfinished() {
    let tmp = TempDir::new("shard-refuse");
    let dir = tmp.path();
    run_shards(dir, 3, "7");
    let shard = |i: usize| dir.join(format!("output/mini/shards/{i}-of-3"));
    let merge = |dirs: &[PathBuf]| {
        let mut a = vec!["merge".to_string()];
        a.extend(dirs.iter().map(|d| d.display().to_string()));
        a.extend(["--out".into(), dir.join("merged").display().to_string()]);
        ztsim(&a, dir)
    };

    let err = refused(&merge(&[shard(0), shard(2)]));
    assert!(err.contains("shard 1/3 is missing"), "{err}");
    assert!(err.contains("--shard 1/3`"), "{err}");
    assert!(!err.contains("shard 0/3 is missing"), "{err}");

    let copy = dir.join("copy-of-2");
    copy_dir(&shard(2), &copy);
    let err = refused(&merge(&[shard(0), shard(1), shard(2), copy.clone()]));
    assert!(err.contains("shard 2/3 is given 2 times"), "{err}");
    assert!(
        err.contains(&shard(2).display().to_string()) && err.contains(&copy.display().to_string()),
        "{err}"
    );

    // Shard 1 of a study with another seed: same grid, other inputs.
    let foreign = dir.join("foreign");
    ok(&ztsim(
        &with(
            study_args("8"),
            &["--shard", "1/3", "--out", &foreign.display().to_string()],
        ),
        dir,
    ));
    let err = refused(&merge(&[shard(0), foreign.clone(), shard(2)]));
    assert!(err.contains("different study"), "{err}");
    assert!(err.contains("inputs differ"), "{err}");
    assert!(
        err.contains(&foreign.display().to_string())
            && err.contains(&shard(0).display().to_string()),
        "{err}"
    );
    // Another rate list changes the grid itself.
    let rates = dir.join("rates");
    let args = set(study_args("7"), "--rate", "100,200,400,900");
    ok(&ztsim(
        &with(
            args,
            &["--shard", "1/3", "--out", &rates.display().to_string()],
        ),
        dir,
    ));
    let err = refused(&merge(&[shard(0), rates, shard(2)]));
    assert!(err.contains("different study"), "{err}");

    // A shard whose task died: the missing point and how to finish it.
    let points = std::fs::read_dir(shard(1).join("points"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.file_name().unwrap() != "manifest.json")
        .unwrap();
    let index: usize = points
        .file_stem()
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    std::fs::remove_file(&points).unwrap();
    let err = refused(&merge(&[shard(0), shard(1), shard(2)]));
    assert!(err.contains("shard 1/3 is incomplete"), "{err}");
    assert!(
        err.contains(&format!("missing are points {index};")),
        "{err}"
    );
    // The command it prints finishes the shard; then the merge succeeds.
    let resume = err
        .lines()
        .find(|l| l.trim_start().starts_with("ztsim sweep"))
        .unwrap();
    assert!(resume.contains("--shard 1/3 --resume --out"), "{resume}");
    let resume: Vec<String> = resume
        .split_whitespace()
        .skip(1)
        .map(String::from)
        .collect();
    let out = ok(&ztsim(&resume, dir));
    assert!(out.contains("1 computed"), "{out}");
    ok(&merge(&[shard(0), shard(1), shard(2)]));

    let not_shard = dir.join("empty");
    std::fs::create_dir_all(&not_shard).unwrap();
    let err = refused(&merge(&[not_shard]));
    assert!(err.contains("not a shard result"), "{err}");

    // A shard's folder is not resumed as another shard.
    let err = refused(&ztsim(
        &with(
            study_args("7"),
            &["--shard", "2/3", "--out", &shard(0).display().to_string()],
        ),
        dir,
    ));
    assert!(err.contains("another shard"), "{err}");
}

/// Finished points saved in a shard folder.
fn saved(shard: &Path) -> usize {
    std::fs::read_dir(shard.join("points"))
        .map(|d| {
            d.flatten()
                .filter(|e| e.file_name() != "manifest.json")
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn an_interrupted_shard_resumes_to_the_same_bytes() {
    let tmp = TempDir::new("shard-interrupt");
    let dir = tmp.path();
    // Points of about a second each, so that a shard can be interrupted.
    let slow = || {
        set(
            set(study_args("7"), "--rate", "300,400,500,600"),
            "--duration",
            "200s",
        )
    };
    let full = dir.join("full");
    ok(&ztsim(
        &with(slow(), &["--out", &full.display().to_string()]),
        dir,
    ));

    let shard0 = dir.join("output/mini/shards/0-of-2");
    let mut child = spawn(&with(slow(), &["--shard", "0/2"]), dir);
    let t0 = std::time::Instant::now();
    while saved(&shard0) < 1 {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the shard ended before it could be interrupted"
        );
        assert!(t0.elapsed().as_secs() < 120, "no point saved in 120 s");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(
        err.contains("interrupted") && err.contains("of shard 0/2"),
        "{err}"
    );
    let done = saved(&shard0);
    assert!((1..4).contains(&done), "{done} of 4 points saved");
    // A shard writes no partial study results: only the merge does.
    assert!(!shard0.join("results.json").exists());

    ok(&ztsim(&with(slow(), &["--shard", "1/2"]), dir));
    let merge = || {
        ztsim(
            &[
                "merge".into(),
                "output/mini/shards".into(),
                "--out".into(),
                "merged".into(),
            ],
            dir,
        )
    };
    let err = refused(&merge());
    assert!(err.contains("shard 0/2 is incomplete"), "{err}");

    // The same command again (a retried task) resumes the shard.
    let out = ok(&ztsim(&with(slow(), &["--shard", "0/2"]), dir));
    assert!(out.contains(&format!("{done} reused")), "{out}");
    ok(&merge());
    assert_same_outputs(&dir.join("merged"), &full);
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        if e.path().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

#[test]
fn bad_shard_flags_exit_2_with_the_valid_range() {
    let tmp = TempDir::new("shard-flags");
    for (flag, says) in [
        ("3/3", "shard indices run from 0 to 2"),
        ("4/4", "if your task ids start at 1, pass $((ID - 1))/4"),
        ("-1/2", "the shard index `-1` is not a whole number"),
        ("1/0", "the shard count must be at least 1"),
        ("x/y", "the shard index `x` is not a whole number"),
        ("2", "write it as I/N"),
    ] {
        let err = refused(&ztsim(
            &with(study_args("7"), &["--shard", flag]),
            tmp.path(),
        ));
        assert!(
            err.contains("--shard") && err.contains(says),
            "{flag}: {err}"
        );
    }
    // Nothing was run or written.
    assert!(!tmp.path().join("output").exists());
}

/// The chatty study's 48 points: costs grow with the load, so a split by
/// position would overload the last shards.
fn chatty_costs() -> Vec<f64> {
    let spec = read_study(&root().join("topologies/chatty.study.toml")).unwrap();
    costs(&expand(&spec).unwrap())
}

/// Max shard load within the costliest point of the mean load.
fn balanced(costs: &[f64], shards: &[Vec<usize>]) -> bool {
    let loads: Vec<f64> = shards
        .iter()
        .map(|s| s.iter().map(|&i| costs[i]).sum())
        .collect();
    let mean = costs.iter().sum::<f64>() / shards.len() as f64;
    let largest = costs.iter().copied().fold(0.0, f64::max);
    loads.iter().all(|&l| l <= mean + largest + 1e-9 * mean)
}

#[test]
fn the_split_covers_every_point_once_deterministically_and_balanced() {
    let chatty = chatty_costs();
    assert_eq!(chatty.len(), 48);
    // The costliest point is several times the cheapest: the split matters.
    let (lo, hi) = (
        chatty.iter().copied().fold(f64::INFINITY, f64::min),
        chatty.iter().copied().fold(0.0, f64::max),
    );
    assert!(hi > 5.0 * lo, "{lo} {hi}");
    let skewed: Vec<f64> = (0..40).map(|i| f64::from(i * i % 37 + 1)).collect();
    for costs in [&chatty, &skewed] {
        for n in [1, 2, 3, 4, 7, 16, 47, 48, 64] {
            let shards = partition(costs, n);
            assert_eq!(shards.len(), n);
            let mut all: Vec<usize> = shards.iter().flatten().copied().collect();
            all.sort_unstable();
            assert_eq!(all, (0..costs.len()).collect::<Vec<_>>(), "n = {n}");
            assert!(shards.iter().all(|s| s.is_sorted()), "grid order");
            assert_eq!(shards, partition(costs, n), "deterministic");
            assert!(balanced(costs, &shards), "n = {n}: {shards:?}");
            if n > costs.len() {
                assert_eq!(
                    shards.iter().filter(|s| s.is_empty()).count(),
                    n - costs.len()
                );
            }
        }
    }
    // The bound has teeth: equal-count chunks in grid order fail it.
    let chunks: Vec<Vec<usize>> = (0..4).map(|k| (k * 12..(k + 1) * 12).collect()).collect();
    assert!(!balanced(&chatty, &chunks));
    // LPT does better than the bound on this grid: within 5% of the mean.
    let shards = partition(&chatty, 4);
    let mean = chatty.iter().sum::<f64>() / 4.0;
    for s in &shards {
        let load: f64 = s.iter().map(|&i| chatty[i]).sum();
        assert!((load / mean - 1.0).abs() < 0.05, "{load} vs {mean}");
    }
    // Equal costs: dealt out in index order.
    assert_eq!(
        partition(&[1.0; 7], 3),
        vec![vec![0, 3, 6], vec![1, 4], vec![2, 5]]
    );
    // `owned` is the same split, seen from one shard.
    let spec = read_study(&root().join("topologies/chatty.study.toml")).unwrap();
    let study = expand(&spec).unwrap();
    assert_eq!(
        owned(&study, Shard { index: 2, count: 4 }),
        partition(&chatty, 4)[2]
    );
}

/// The shipped batch-job examples agree with each other and with the study
/// they run: the same N everywhere, and a study that resolves.
#[test]
fn the_cluster_examples_agree() {
    let cluster = root().join("topologies/cluster");
    let read = |f: &str| std::fs::read_to_string(cluster.join(f)).unwrap();
    let spec = read_study(&cluster.join("big.study.toml")).unwrap();
    let study = expand(&spec).unwrap();
    assert_eq!(study.points.len(), 120);
    assert_eq!(study.name, "big");

    let job = read("k8s-indexed-job.yaml");
    for line in [
        "completionMode: Indexed",
        "completions: 8",
        "parallelism: 8",
        "value: \"8\"",
        "--shard \"${JOB_COMPLETION_INDEX}/${SHARDS}\"",
        "/ztsim/topologies/cluster/big.study.toml",
        "claimName: ztsim-results",
    ] {
        assert!(job.contains(line), "k8s-indexed-job.yaml lacks {line}");
    }
    let merge = read("k8s-merge-job.yaml");
    assert!(merge.contains("claimName: ztsim-results"));
    assert!(merge.contains("\"merge\", \"output/big/shards\""));

    let array = read("slurm-sweep.sbatch");
    assert!(array.contains("#SBATCH --array=0-7\n"));
    assert!(array.contains("--shard \"${SLURM_ARRAY_TASK_ID}/${SLURM_ARRAY_TASK_COUNT}\""));
    let submit = read("slurm-submit.sh");
    assert!(submit.contains("--dependency=afterok:"));
    assert!(submit.contains("NAME=${NAME:-big}"));
    assert!(read("parallel-ssh.sh").contains("NAME=${NAME:-big}"));
    // The image holds what the study's relative paths reach.
    let docker = read("Dockerfile");
    assert!(docker.contains("COPY topologies /ztsim/topologies"));
    assert!(docker.contains("COPY models /ztsim/models"));
}

/// Runs `args` (a merge that must not hang), killed after a minute.
fn bounded(args: &[String], cwd: &Path) -> Output {
    let mut child = common::spawn(Some(cwd), args);
    let t0 = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if t0.elapsed().as_secs() > 60 {
            let _ = child.kill();
            panic!("`ztsim {}` hangs", args.join(" "));
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn tampered_shard_files_are_refused_naming_them() {
    let tmp = TempDir::new("shard-tampered");
    let dir = tmp.path();
    run_shards(dir, 2, "7");
    let shards = dir.join("output/mini/shards");
    let merge = |d: &Path| bounded(&["merge".into(), d.display().to_string()], dir);
    let copy = |name: &str| {
        let to = dir.join(name);
        copy_dir(&shards, &to);
        to
    };
    let edit = |file: &Path, f: &dyn Fn(&mut serde_json::Value)| {
        let mut v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
        f(&mut v);
        std::fs::write(file, serde_json::to_vec(&v).unwrap()).unwrap();
    };
    // A point's replication count sizes what is read: bounded first.
    let t = copy("count");
    let point = std::fs::read_dir(t.join("0-of-2/points"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| !p.ends_with("manifest.json"))
        .unwrap();
    edit(&point, &|v| {
        v["replications"]["count"] = 1_000_000_000_000u64.into()
    });
    let err = refused(&merge(&t));
    assert!(
        err.contains(&point.display().to_string()) && err.contains("replications.count"),
        "{err}"
    );
    // The shard's resume recomputes the point.
    let resumed = ztsim(
        &with(
            study_args("7"),
            &[
                "--shard",
                "0/2",
                "--resume",
                "--out",
                &t.join("0-of-2").display().to_string(),
            ],
        ),
        dir,
    );
    ok(&resumed);
    ok(&merge(&t));
    // Counts in shard.json no study could have.
    for (key, value) in [
        ("study_points", serde_json::json!(1_000_000_000_000u64)),
        ("study_points", serde_json::json!(u64::MAX)),
        (
            "points",
            serde_json::json!((0..2_000_000).collect::<Vec<u32>>()),
        ),
    ] {
        let t = copy(&format!("manifest-{key}"));
        edit(&t.join("1-of-2/shard.json"), &|v| v[key] = value.clone());
        let err = refused(&merge(&t));
        assert!(err.contains("shard.json") && err.contains(key), "{err}");
        assert!(err.len() < 2000, "{} bytes of errors", err.len());
        let _ = std::fs::remove_dir_all(&t);
    }
    // A FIFO planted for a point is refused, not waited on.
    let t = copy("fifo");
    let fifo = t.join("0-of-2/points").join(point.file_name().unwrap());
    std::fs::remove_file(&fifo).unwrap();
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let err = refused(&merge(&t));
    assert!(
        err.contains(&fifo.display().to_string()) && err.contains("not a regular file"),
        "{err}"
    );
}
