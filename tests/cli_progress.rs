//! Progress on the terminal (issue 17): the long commands draw a bar with
//! the time left on standard error only when it is a terminal. Piped, as
//! here and in every log, they print nothing progress-like; on a terminal
//! (a pseudo-terminal from `script`, where there is one) the files they
//! write are byte for byte those written without one.
//!
//! Every command runs in a fresh temporary folder on tiny workloads.

mod common;

use std::path::Path;
use std::process::Command;

use common::{Run, TempDir, root};

fn file(rel: &str) -> String {
    root().join(rel).display().to_string()
}

/// What a progress bar or spinner leaves in a stream: carriage returns,
/// escape sequences, its words.
#[track_caller]
fn assert_no_progress(what: &str, r: &Run) {
    for stream in [&r.stdout, &r.stderr] {
        for mark in ["\r", "\u{1b}", "elapsed", "ETA", "⠁"] {
            assert!(
                !stream.contains(mark),
                "{what}: {mark:?} printed without a terminal\n{}",
                r.show()
            );
        }
    }
}

/// Every file under `dir`, by path relative to it, with its bytes.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if !p.ends_with(".ztsim-lock") {
                let rel = p.strip_prefix(dir).unwrap().display().to_string();
                out.push((rel, std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// The long commands, each with a tiny workload, writing into `out`.
fn commands(out: &Path) -> Vec<(&'static str, Vec<String>)> {
    let o = |name: &str| out.join(name).display().to_string();
    // --requests where a command has it; sweeps and sensitivity measure a
    // duration (a study has no request count).
    let small = |what: &str| -> Vec<String> {
        let w = if ["sweep", "sensitivity"].contains(&what) {
            ["--duration", "2s"]
        } else {
            ["--requests", "300"]
        };
        w.iter()
            .chain(&["--warmup", "0s"])
            .map(|s| s.to_string())
            .collect()
    };
    let mut list = vec![
        (
            "capacity",
            [
                "capacity",
                &file("topologies/minimal.toml"),
                "-m",
                &file("models/naive-mtls.toml"),
                "--slo",
                "p99=20ms",
                "--replications",
                "2",
                "--max-replications",
                "2",
                "--out",
                &o("capacity"),
            ]
            .map(String::from)
            .to_vec(),
        ),
        (
            "capacity --target-rate",
            [
                "capacity",
                &file("topologies/minimal.toml"),
                "--slo",
                "p99=20ms",
                "--target-rate",
                "200",
                "--replications",
                "2",
                "--max-replications",
                "2",
                "--out",
                &o("sizing"),
            ]
            .map(String::from)
            .to_vec(),
        ),
        (
            "sensitivity",
            [
                "sensitivity",
                &file("topologies/minimal.toml"),
                "-m",
                &file("models/naive-mtls.toml"),
                "--rate",
                "50",
                "--param",
                "identity.cert_ttl=1h,24h",
                "--out",
                &o("sensitivity"),
            ]
            .map(String::from)
            .to_vec(),
        ),
        (
            "migrate",
            [
                "migrate",
                &file("topologies/minimal.toml"),
                "--from",
                &file("models/plaintext.toml"),
                "--to",
                &file("models/naive-mtls.toml"),
                "--out",
                &o("migrate"),
            ]
            .map(String::from)
            .to_vec(),
        ),
        (
            "sweep",
            [
                "sweep",
                "--topology",
                &file("topologies/minimal.toml"),
                "-m",
                &file("models/plaintext.toml"),
                "--rate",
                "50,100",
                "--out",
                &o("sweep"),
            ]
            .map(String::from)
            .to_vec(),
        ),
    ];
    for (what, args) in &mut list {
        args.extend(small(what));
    }
    list.push((
        "import",
        [
            "import",
            &file("topologies/traces/checkout.jaeger.json"),
            "--out",
            &o("import"),
        ]
        .map(String::from)
        .to_vec(),
    ));
    list
}

#[test]
fn piped_commands_print_nothing_progress_like() {
    let tmp = TempDir::new("progress-piped");
    for (what, args) in commands(tmp.path()) {
        let r = Run::from(common::ztsim_in(tmp.path(), &args));
        assert_eq!(r.code, Some(0), "{what}\n{}", r.show());
        assert_no_progress(what, &r);
        // --json: stdout is the document alone, progress or not.
        if what == "capacity" {
            let mut json = args.clone();
            json.extend(["--json", "--force"].map(String::from));
            let r = Run::from(common::ztsim_in(tmp.path(), &json));
            assert_eq!(r.code, Some(0), "{}", r.show());
            assert_no_progress("capacity --json", &r);
            serde_json::from_str::<serde_json::Value>(&r.stdout).expect("one JSON document");
        }
    }
}

/// Runs `args` with a pseudo-terminal as stdin, stdout and stderr, through
/// util-linux `script`; None where it is not installed.
fn on_a_terminal(dir: &Path, args: &[String]) -> Option<(bool, String)> {
    let line = std::iter::once(env!("CARGO_BIN_EXE_ztsim").to_string())
        .chain(args.iter().map(|a| format!("'{a}'")))
        .collect::<Vec<_>>()
        .join(" ");
    let out = Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .current_dir(dir)
        .env("TERM", "xterm")
        .output()
        .ok()?;
    Some((
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    ))
}

#[test]
fn files_are_the_same_with_and_without_a_terminal() {
    let piped = TempDir::new("progress-pipe");
    let tty = TempDir::new("progress-tty");
    for (what, args) in commands(piped.path())
        .into_iter()
        .zip(commands(tty.path()))
        .map(|((w, a), (_, t))| (w, (a, t)))
        .filter(|(w, _)| ["capacity", "sensitivity", "migrate"].contains(w))
    {
        let (args, tty_args) = args;
        let Some((ok, transcript)) = on_a_terminal(tty.path(), &tty_args) else {
            eprintln!("no `script` to make a terminal: skipped");
            return;
        };
        assert!(ok, "{what} on a terminal failed:\n{transcript}");
        assert!(
            transcript.contains("elapsed"),
            "{what}: no progress drawn on a terminal:\n{transcript}"
        );
        let r = Run::from(common::ztsim_in(piped.path(), &args));
        assert_eq!(r.code, Some(0), "{}", r.show());
        let name = args[args.iter().position(|a| a == "--out").unwrap() + 1].clone();
        let (a, b) = (
            files(Path::new(&name)),
            files(&tty.path().join(Path::new(&name).file_name().unwrap())),
        );
        assert!(!a.is_empty());
        assert_eq!(
            a.iter().map(|f| &f.0).collect::<Vec<_>>(),
            b.iter().map(|f| &f.0).collect::<Vec<_>>(),
            "{what}: other files"
        );
        for ((name, x), (_, y)) in a.iter().zip(&b) {
            assert!(x == y, "{what}: {name} differs with a terminal");
        }
    }
}
