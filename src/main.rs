//! The `ztsim` command line: the commands and the exit codes. Each command's
//! flags and its call into the library are in `cli/`; the work lives in the
//! library. Exit codes: 0 ok, 1 failure, 2 bad input, 3 an SLO missed or a
//! run saturated (with `--fail-on-slo`), 130 interrupted.

// Diagnostics are large but travel only the cold error path (see lib.rs).
#![allow(clippy::result_large_err)]

#[macro_use]
mod cli;

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

use cli::examples as ex;
use cli::failure::Failure;
use cli::{
    bench, capacity, default_study, import, merge, migrate, plot, published, report, run, schema,
    sensitivity, shell, sweep, validate,
};

#[derive(Parser)]
#[command(
    name = "ztsim",
    version = env!("ZTSIM_VERSION"),
    after_help = ex::EXIT_CODES,
    about = "Discrete-event simulator of Zero Trust overhead: handshakes, policy checks and CPU saturation across call graphs.",
    long_about = "Discrete-event simulator of Zero Trust overhead.\n\nWith no command, runs the built-in default study (topologies/chatty.toml under six designs across loads) and writes its results and charts to output/default/.\n\nEvery command ends by printing the paths it wrote; with --json (run, sweep, capacity, sensitivity, migrate, validate) stdout holds one JSON document instead and the text goes to stderr; with --quiet only errors are printed. A file argument `-` reads standard input."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Simulate a topology and report latency, throughput and utilisation; with several -m, compare the designs on the same seeds.
    #[command(after_help = ex::RUN)]
    Run(run::RunArgs),
    /// Check topology and design files and report every problem found, with file, line and key.
    /// Designs are checked against each topology given with them.
    #[command(after_help = ex::VALIDATE)]
    Validate(validate::ValidateArgs),
    /// Sweep designs x loads x parameters in parallel; write results.csv, results.json and charts.
    #[command(after_help = ex::SWEEP)]
    Sweep(sweep::SweepArgs),
    /// Combine the shard results of `ztsim sweep STUDY --shard I/N` into the study's results and charts.
    #[command(after_help = ex::MERGE)]
    Merge(merge::MergeArgs),
    /// Vary each parameter of a design one at a time around it; rank their
    /// effect on p99 latency (and, with --slo, on capacity); draw tornado charts.
    #[command(after_help = ex::SENSITIVITY)]
    Sensitivity(sensitivity::SensitivityArgs),
    /// Redraw a study's charts from its results.json, without rerunning it.
    #[command(after_help = ex::PLOT)]
    Plot(plot::PlotArgs),
    /// Write a study's design-review report: report.html (self-contained, charts inline) and report.md.
    #[command(
        after_help = ex::REPORT,
        long_about = "Write the design-review report of a finished study: report.html, one self-contained file (charts inline, no network needed) and report.md for pasting into a design document, with topology.svg beside it. `ztsim sweep` writes them at its end; use this to rewrite them, e.g. against other objectives.\n\nSections: the question, the topology as a diagram, the designs and their parameters, the charts, capacity per design (highest load within the SLOs), the attribution of added latency, the assumptions, and the sources of the default costs."
    )]
    Report(report::ReportArgs),
    /// Build a topology from recorded traces (Jaeger, Zipkin or OTLP JSON) and
    /// write it with the recorded request arrivals.
    #[command(after_help = ex::IMPORT)]
    Import(import::ImportArgs),
    /// Find each design's highest offered rate within SLOs (--slo p99=50ms), or size services for a rate (--target-rate).
    #[command(after_help = ex::CAPACITY)]
    Capacity(capacity::CapacityArgs),
    /// Simulate each step of a rollout from one design to another (--from, --to), a namespace or service at a time: latency per entry, SLO verdict, capacity and cores added per step.
    #[command(after_help = ex::MIGRATE)]
    Migrate(migrate::MigrateArgs),
    /// Measure this host's TLS, JWT and policy CPU costs with real libraries and write a cost profile (costs/<host>.toml).
    #[cfg(feature = "lab")]
    #[command(after_help = ex::CALIBRATE)]
    Calibrate(cli::calibrate::CalibrateArgs),
    /// Run a real rustls server on loopback (one pinned core) under open-loop load, and print ztsim's prediction of the same system beside what was measured.
    #[cfg(feature = "lab")]
    #[command(after_help = ex::TESTBED)]
    Testbed(cli::testbed::TestbedArgs),
    /// Run the presets as the published benchmarks were set up (Istio's sidecar benchmark, Linkerd vs Istio 2021) and print reference, ztsim and error; write published.csv.
    #[command(after_help = ex::PUBLISHED)]
    Published(published::PublishedArgs),
    /// Measure the simulator's speed: events and calls per second, against a bare heap.
    #[command(after_help = ex::BENCH)]
    Bench(bench::BenchArgs),
    /// Print the JSON Schema of a kind of input file, for editors that validate and complete TOML.
    #[command(
        after_help = ex::SCHEMA,
        long_about = "Print the JSON Schema (draft-07) of a kind of input file, so that editors with TOML schema support (Taplo, and VS Code's Even Better TOML, which uses it) validate and complete the files as you type.\n\nSave one schema per kind, e.g.\n  ztsim schema topology --out topology.schema.json\n  ztsim schema design --out design.schema.json\n  ztsim schema study --out study.schema.json\n\nthen point a file at its schema with a directive on its first line (the path is relative to the TOML file):\n  #:schema ../topology.schema.json\n\nor map files to schemas once in a .taplo.toml at the workspace root:\n  [[rule]]\n  include = [\"models/*.toml\"]\n  schema.path = \"./design.schema.json\"\n\nThe schema checks keys, value types, units and choices; `ztsim validate` also checks names, the call graph and everything that needs the whole file."
    )]
    Schema(schema::SchemaArgs),
    /// Print a shell completion script (bash, zsh or fish) for every command and flag.
    #[command(after_help = ex::COMPLETIONS)]
    Completions(shell::CompletionsArgs),
    /// Print the manual page (roff), or write one per command into a folder.
    #[command(after_help = ex::MAN)]
    Man(shell::ManArgs),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // Help and --version print as clap does; a bad flag is bad input,
        // printed through `errln!` so that control characters in the value
        // someone typed or pasted are shown escaped, never executed.
        Err(e) if !e.use_stderr() => e.exit(),
        Err(e) => {
            // Rendered without clap's colours, whose plain form would strip
            // the user's escape sequences along with its own and show `''`.
            let plain = Cli::command()
                .styles(clap::builder::Styles::plain())
                .try_get_matches()
                .err()
                .unwrap_or(e);
            errln!("{}", plain.render().ansi().to_string().trim_end());
            return ExitCode::from(2);
        }
    };
    let outcome = match cli.command {
        None => default_study::command(),
        Some(Command::Sweep(args)) => sweep::command(args),
        Some(Command::Merge(args)) => merge::command(args),
        Some(Command::Sensitivity(args)) => sensitivity::command(args),
        Some(Command::Plot(args)) => plot::command(args),
        Some(Command::Report(args)) => report::command(args),
        Some(Command::Run(args)) => run::command(args),
        Some(Command::Import(args)) => import::command(args),
        Some(Command::Capacity(args)) => capacity::command(args),
        Some(Command::Migrate(args)) => migrate::command(args),
        Some(Command::Validate(args)) => validate::command(args),
        Some(Command::Schema(args)) => schema::command(args),
        Some(Command::Bench(args)) => bench::command(args),
        Some(Command::Completions(args)) => shell::completions(args, Cli::command()),
        Some(Command::Man(args)) => shell::man(args, Cli::command()),
        Some(Command::Published(args)) => published::command(args),
        #[cfg(feature = "lab")]
        Some(Command::Calibrate(args)) => cli::calibrate::command(args),
        #[cfg(feature = "lab")]
        Some(Command::Testbed(args)) => cli::testbed::command(args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::BadInput(diags)) => {
            for d in &diags {
                cli::print::error(&format!("error: {d}\n"));
            }
            ExitCode::from(2)
        }
        Err(Failure::Other(msg)) => {
            cli::print::error(&format!("error: {msg}\n"));
            ExitCode::from(1)
        }
        Err(Failure::Gate(reasons)) => {
            for r in &reasons {
                cli::print::error(&format!("fail-on-slo: {r}\n"));
            }
            ExitCode::from(3)
        }
        Err(Failure::Interrupted(msg)) => {
            cli::print::error(&format!("{msg}\n"));
            ExitCode::from(130)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::{CommandFactory, Parser};
    use std::collections::BTreeMap;

    /// Flags that must be on several commands (a rename would empty the
    /// check for them).
    const SHARED: &[&str] = &[
        "topology",
        "model",
        "no-baseline",
        "requests",
        "duration",
        "warmup",
        "seed",
        "replications",
        "max-replications",
        "no-guard",
        "fail-on-slo",
        "rate",
        "price-per-vcpu-hour",
        "resolution",
        "force",
        "wait",
        "json",
        "quiet",
        "threads",
        "costs",
        "pretty",
    ];

    /// Flags whose help is each command's own by nature, and why.
    const OWN_HELP: &[&str] = &[
        // Each command writes its own files to its own default folder.
        "out",
        // What a command does with an objective differs: a verdict, a
        // capacity table, the bound of a search, a rollout's check.
        "slo", // Each lab command's short mode shortens its own measurement.
        "quick",
    ];

    /// Where a shared flag's name means something else, and why.
    const OTHER_MEANING: &[(&str, &str)] = &[
        // The base design whose parameters are varied.
        ("sensitivity", "model"),
        // A list of loads to sweep, not one rate.
        ("sweep", "rate"),
        // PATH=LOW,HIGH around a base, not values to sweep.
        ("sensitivity", "param"),
        // The imported topology's name, not a study's.
        ("import", "name"),
        // A file named explicitly, not an output folder.
        ("calibrate", "force"),
        // Files rewritten inside a study folder, not a results folder.
        ("plot", "force"),
        // The manual's pages in the folder given, not results.
        ("man", "force"),
        ("report", "force"),
        // Real time on loopback, not simulated time.
        ("testbed", "duration"),
        ("testbed", "warmup"),
        ("testbed", "seed"),
        ("testbed", "replications"),
        ("testbed", "rates"),
    ];

    /// Every long flag on two or more commands reads the same in every
    /// command's --help (one definition in `cli/flags.rs`, flattened, or
    /// one help text there), but for [`OWN_HELP`] and [`OTHER_MEANING`].
    #[test]
    fn shared_flags_read_the_same_in_every_command() {
        let cli = Cli::command();
        // flag -> help text -> the commands that give it that text
        let mut helps: BTreeMap<String, BTreeMap<String, Vec<String>>> = BTreeMap::new();
        for sub in cli.get_subcommands() {
            for a in sub.get_arguments() {
                let Some(long) = a.get_long() else { continue };
                if ["help", "version"].contains(&long)
                    || OWN_HELP.contains(&long)
                    || OTHER_MEANING.contains(&(sub.get_name(), long))
                {
                    continue;
                }
                let help = a.get_long_help().or(a.get_help());
                helps
                    .entry(long.to_string())
                    .or_default()
                    .entry(help.map(|h| h.to_string()).unwrap_or_default())
                    .or_default()
                    .push(sub.get_name().to_string());
            }
        }
        let differ: Vec<String> = helps
            .iter()
            .filter(|(_, texts)| texts.len() > 1)
            .map(|(flag, texts)| format!("--{flag}: {texts:#?}"))
            .collect();
        assert!(differ.is_empty(), "{}", differ.join("\n"));
        // The flags are there at all, on several commands.
        for flag in SHARED {
            let on: usize = helps
                .get(*flag)
                .map_or(0, |t| t.values().map(Vec::len).sum());
            assert!(on >= 2, "--{flag} is on {on} command(s)");
        }
        let topology = &helps["topology"];
        let given: Vec<&String> = topology.values().flatten().collect();
        for command in ["run", "capacity", "sensitivity", "migrate", "sweep"] {
            assert!(
                given.iter().any(|c| *c == command),
                "{command} takes no --topology"
            );
        }
        // The window, seed and replications on every command that simulates.
        for flag in ["duration", "requests", "warmup", "seed", "replications"] {
            for command in ["run", "sweep", "sensitivity", "capacity", "migrate"] {
                assert!(
                    helps[flag].values().flatten().any(|c| c == command),
                    "{command} has no --{flag}"
                );
            }
        }
    }

    #[test]
    fn the_topology_is_taken_first_or_with_the_flag_alike() {
        for args in [
            vec!["ztsim", "capacity", "t.toml", "--slo", "p99=1s"],
            vec![
                "ztsim",
                "capacity",
                "--topology",
                "t.toml",
                "--slo",
                "p99=1s",
            ],
        ] {
            assert!(Cli::try_parse_from(&args).is_ok(), "{args:?}");
        }
        for bad in [
            vec!["ztsim", "run", "a.toml", "--topology", "b.toml"],
            vec!["ztsim", "migrate", "--from", "a.toml", "--to", "b.toml"],
        ] {
            assert!(Cli::try_parse_from(&bad).is_err(), "{bad:?}");
        }
    }
}
