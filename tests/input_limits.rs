//! Limits and locations the bad-input corpora cannot express (flags, the
//! size guard, files written on the fly): each is refused with exit 2 and
//! a message that says where.

mod common;

use common::{Run, TempDir, root, ztsim};

fn run(args: &[&str]) -> Run {
    ztsim(args).into()
}

#[test]
fn a_negative_seed_names_the_flag() {
    let topology = root().join("topologies/minimal.toml");
    let r = run(&["run", topology.to_str().unwrap(), "--seed", "-1"]);
    r.expect_code(2);
    assert!(
        r.stderr.contains("--seed") && r.stderr.contains("a seed is a whole number from 0 to"),
        "{}",
        r.show()
    );
}

#[test]
fn a_vanishing_rate_flag_is_refused() {
    let topology = root().join("topologies/minimal.toml");
    let r = run(&["run", topology.to_str().unwrap(), "--rate", "1e-300"]);
    r.expect_code(2);
    assert!(
        r.stderr.contains("--rate") && r.stderr.contains("at least 0.001"),
        "{}",
        r.show()
    );
}

#[test]
fn a_duration_flag_past_100_days_is_refused() {
    let topology = root().join("topologies/minimal.toml");
    let r = run(&["run", topology.to_str().unwrap(), "--warmup", "2401h"]);
    r.expect_code(2);
    assert!(
        r.stderr.contains("--warmup") && r.stderr.contains("100 days"),
        "{}",
        r.show()
    );
}

#[test]
fn sweep_rate_flags_over_a_replay_are_refused() {
    let dir = TempDir::new("sweep-replay");
    let topology = root().join("topologies/minimal-replay.toml");
    let model = root().join("models/plaintext.toml");
    let out = dir.path().join("out");
    let r = run(&[
        "sweep",
        "--topology",
        topology.to_str().unwrap(),
        "-m",
        model.to_str().unwrap(),
        "--rate",
        "50,100",
        "--out",
        out.to_str().unwrap(),
    ]);
    r.expect_code(2);
    assert!(
        r.stderr.contains("replays recorded arrivals"),
        "{}",
        r.show()
    );
    assert!(!out.join("results.csv").exists());
}

#[test]
fn the_same_design_twice_is_refused_naming_both() {
    let dir = TempDir::new("sweep-twice");
    let topology = root().join("topologies/minimal.toml");
    let model = root().join("models/plaintext.toml");
    let m = model.to_str().unwrap();
    let out = dir.path().join("out");
    let r = run(&[
        "sweep",
        "--topology",
        topology.to_str().unwrap(),
        "-m",
        m,
        "-m",
        m,
        "--out",
        out.to_str().unwrap(),
    ]);
    r.expect_code(2);
    let at = format!("{m}:17:1");
    assert!(
        r.stderr.matches(&at).count() == 2
            && r.stderr
                .contains("two designs of the study are named `plaintext`"),
        "{}",
        r.show()
    );
}

#[test]
fn a_guard_refusal_names_the_topology_file_and_workload_line() {
    let dir = TempDir::new("guard-located");
    let path = dir.path().join("huge.toml");
    std::fs::write(
        &path,
        r#"name = "huge"

[zones.az1]
rtt = "0.4ms"

[services.api]
endpoints.get = { cpu = "1us" }

[workload]
arrivals = "poisson"
rate = 1000000
duration = "2000h"
entry = [{ endpoint = "api.get" }]
"#,
    )
    .unwrap();
    let r = run(&[
        "run",
        path.to_str().unwrap(),
        "--out",
        dir.path().join("o").to_str().unwrap(),
    ]);
    r.expect_code(2);
    let want = format!("{}:9:2: workload: this run would", path.display());
    assert!(r.stderr.contains(&want), "want {want}\n{}", r.show());

    // `validate` finds the files valid and says the run would be refused,
    // for the topology and for a study of it.
    let warned = |file: &std::path::Path, want: &str| {
        let r = run(&["validate", file.to_str().unwrap()]);
        r.expect_code(0);
        let want = format!(
            "warning: {}:9:2: workload: valid, but a run would be refused without --no-guard: {want}",
            path.display()
        );
        assert!(r.stderr.contains(&want), "want {want}\n{}", r.show());
    };
    warned(&path, "this run would");
    let model = root().join("models/plaintext.toml");
    let study = dir.path().join("huge.study.toml");
    std::fs::write(
        &study,
        format!("topology = \"huge.toml\"\ndesigns = [{model:?}]\nrates = [10, 1000000]\n"),
    )
    .unwrap();
    warned(&study, "the point at 1000000 rps");
    let r = run(&[
        "validate",
        root().join("topologies/chatty.toml").to_str().unwrap(),
    ]);
    r.expect_code(0);
    assert!(!r.stderr.contains("warning"), "{}", r.show());
}

#[test]
fn a_design_that_is_not_utf8_gets_its_byte_and_line() {
    let dir = TempDir::new("design-utf8");
    let path = dir.path().join("latin1.toml");
    std::fs::write(
        &path,
        b"name = \"x\"\n[transport]\nsecurity = \"mtls\" # caf\xe9\n",
    )
    .unwrap();
    let r = run(&["validate", path.to_str().unwrap()]);
    r.expect_code(2);
    let want = format!(
        "{}:3:24: the file is not UTF-8 text: byte 46",
        path.display()
    );
    assert!(r.stderr.contains(&want), "want {want}\n{}", r.show());
}

#[test]
fn a_huge_export_count_is_refused_before_running() {
    let topology = root().join("topologies/minimal.toml");
    let tmp = TempDir::new("export-count");
    let traces = tmp.path().join("traces");
    let r = run(&[
        "run",
        topology.to_str().unwrap(),
        "--export-traces",
        traces.to_str().unwrap(),
        "--export-sample",
        "18446744073709551615",
    ]);
    r.expect_code(2);
    assert!(
        r.stderr.contains("--export-sample") && r.stderr.contains("from 0 to 1000"),
        "{}",
        r.show()
    );
}

#[test]
fn a_rate_or_parameter_value_listed_twice_is_refused_where_it_repeats() {
    let dir = TempDir::new("study-repeats");
    for f in ["topologies/minimal.toml", "models/plaintext.toml"] {
        let from = root().join(f);
        std::fs::copy(&from, dir.path().join(from.file_name().unwrap())).unwrap();
    }
    let study = dir.path().join("s.study.toml");
    std::fs::write(
        &study,
        "topology = \"minimal.toml\"\ndesigns = [\"plaintext.toml\"]\n\
         rates = [100, 150, 100.0]\n[params]\n\"connections.prewarm\" = [true, false, true]\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let (s, o) = (study.to_str().unwrap(), out.to_str().unwrap());
    let r = run(&["sweep", s, "--out", o]);
    r.expect_code(2);
    for line in [
        ":3:20: rates[2]: 100 rps is listed twice (rates[0] and rates[2])",
        ":5:39: params.\"connections.prewarm\"[2]: `true` is listed twice ([0] and [2])",
    ] {
        assert!(
            r.stderr.contains(&format!("{s}{line}")),
            "{line}\n{}",
            r.show()
        );
    }
    assert!(!out.exists(), "{}", r.show());
    run(&["validate", s]).expect_code(2);

    // The same from flags, where no line can be named.
    std::fs::write(
        &study,
        "topology = \"minimal.toml\"\ndesigns = [\"plaintext.toml\"]\n",
    )
    .unwrap();
    let (t, m) = (
        root().join("topologies/minimal.toml"),
        root().join("models/plaintext.toml"),
    );
    let (t, m) = (t.to_str().unwrap(), m.to_str().unwrap());
    for (args, want) in [
        (
            vec!["sweep", s, "--rate", "100,0.1k"],
            "--rate: 100 rps is given twice",
        ),
        (
            vec!["sweep", s, "--param", "connections.prewarm=true,true"],
            "--param connections.prewarm: `true` is given twice",
        ),
        (
            vec!["migrate", t, "--from", m, "--to", m, "--rates", "50,100,50"],
            "--rates: 50 rps is given twice",
        ),
    ] {
        let r = run(&[&args[..], &["--out", o]].concat());
        r.expect_code(2);
        assert!(r.stderr.contains(want), "{want}\n{}", r.show());
    }
    assert!(!out.exists());
}
