//! Two or three examples per command, shown at the end of its `--help`
//! (clap's `after_help`), and the exit codes at the end of the top-level
//! help. Every example runs as written from the repository's root.

/// The exit codes, for the top-level help.
pub const EXIT_CODES: &str = "\
Exit codes:
  0    success
  1    failure while running (e.g. a disk full mid-run)
  2    bad input: files, flags, or an output folder that cannot be used
       (in use, unwritable, or holding results without --force); refused
       before anything runs
  3    with --fail-on-slo (run, sweep, capacity): every result was written,
       but an SLO was missed or a run saturated
  130  interrupted (Ctrl-C, SIGTERM); what was done is saved";

pub const RUN: &str = "\
Examples:
  ztsim run topologies/chatty.toml -m models/istio-sidecar.toml -m models/linkerd-like.toml
  ztsim run topologies/minimal.toml --requests 5000 --slo p99=20ms --fail-on-slo --json
  generate-topology | ztsim run - --out output/generated";

pub const VALIDATE: &str = "\
Examples:
  ztsim validate topologies/*.toml models/*.toml
  ztsim validate topologies/payments.toml models/istio-ambient.toml --json
  generate-topology | ztsim validate -";

pub const SWEEP: &str = "\
Examples:
  ztsim sweep topologies/chatty.study.toml
  ztsim sweep --topology topologies/minimal.toml -m models/plaintext.toml -m models/istio-sidecar.toml --rate 100,200,400 --duration 5s
  ztsim sweep topologies/chatty.study.toml --slo p99=50ms --fail-on-slo --quiet";

pub const MERGE: &str = "\
Examples:
  ztsim sweep topologies/chatty.study.toml --shard 0/2   (and 1/2, e.g. on two machines)
  ztsim merge output/chatty/shards";

pub const SENSITIVITY: &str = "\
Examples:
  ztsim sensitivity topologies/chatty.toml -m models/istio-sidecar.toml
  ztsim sensitivity topologies/chatty.toml -m models/istio-sidecar.toml --slo p99=50ms --json";

pub const PLOT: &str = "\
Examples:
  ztsim plot output/chatty/results.json
  ztsim plot output/chatty/results.json --out charts/chatty";

pub const REPORT: &str = "\
Examples:
  ztsim report output/chatty
  ztsim report output/chatty --slo p99=40ms --out review/chatty";

pub const IMPORT: &str = "\
Examples:
  ztsim import topologies/traces/checkout.jaeger.json
  ztsim import topologies/traces/checkout.otlp.jsonl --name checkout --out imported";

pub const CAPACITY: &str = "\
Examples:
  ztsim capacity topologies/chatty.toml -m models/istio-sidecar.toml --slo p99=50ms
  ztsim capacity topologies/payments.toml -m models/istio-ambient.toml --slo p99=80ms --target-rate 2k --price-per-vcpu-hour 0.04
  ztsim capacity topologies/chatty.toml --slo p99=50ms --fail-on-slo --json";

pub const MIGRATE: &str = "\
Examples:
  ztsim migrate topologies/payments.toml --from models/plaintext.toml --to models/istio-ambient.toml --slo p99=80ms
  ztsim migrate topologies/payments.toml --from models/plaintext.toml --to models/istio-sidecar.toml --order topologies/migration/payments.order.toml --json";

// The lab's commands exist only with the `lab` feature.
#[cfg(feature = "lab")]
pub const CALIBRATE: &str = "\
Examples:
  ztsim calibrate --quick
  ztsim calibrate --out costs/laptop.toml";

#[cfg(feature = "lab")]
pub const TESTBED: &str = "\
Examples:
  ztsim testbed --quick
  ztsim testbed --rates 200,400,800";

pub const PUBLISHED: &str = "\
Examples:
  ztsim published --quick
  ztsim published --out output/published";

pub const BENCH: &str = "\
Examples:
  ztsim bench
  ztsim bench topologies/chatty.toml -m models/istio-sidecar.toml --requests 50000";

pub const SCHEMA: &str = "\
Examples:
  ztsim schema topology --out topology.schema.json
  ztsim schema design > design.schema.json";

pub const COMPLETIONS: &str = "\
Examples:
  ztsim completions bash > ~/.local/share/bash-completion/completions/ztsim
  ztsim completions zsh > ~/.zfunc/_ztsim   (with fpath+=~/.zfunc before compinit)
  ztsim completions fish > ~/.config/fish/completions/ztsim.fish";

pub const MAN: &str = "\
Examples:
  ztsim man > ztsim.1 && man ./ztsim.1
  ztsim man --out share/man/man1   (ztsim.1 and one page per command, ztsim-run.1, ...)";
