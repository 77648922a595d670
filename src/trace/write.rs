//! The imported model as text: a topology TOML file (the format of
//! docs/topology.md, so the ordinary loader validates it) and the CSV of
//! recorded root arrivals that replay reads.

use std::fmt::Write as _;

use super::build::{CallModel, EndpointModel, Model, ServiceModel, TARGET_UTILISATION};

/// Header of the arrivals CSV (agreed with replay; do not change).
pub const ARRIVALS_HEADER: &str = "at_ns,entry";

/// The file name of the arrivals CSV beside topology `name`.
pub fn arrivals_file_name(name: &str) -> String {
    format!("{name}.arrivals.csv")
}

/// The topology text. `sources` is written in a comment only, so the same
/// traces in different formats give the same topology.
pub fn topology_toml(model: &Model, name: &str, sources: &str) -> String {
    let mut t = String::new();
    let c = &model.cleanup;
    let _ = writeln!(t, "# Imported by `ztsim import` from {sources}.");
    let _ = writeln!(
        t,
        "# One zone and a free network (traces do not say where services run); one replica"
    );
    let _ = writeln!(
        t,
        "# per service with cores for the recorded load at most {:.0}% busy; CPU demand =",
        TARGET_UTILISATION * 100.0
    );
    let _ = writeln!(
        t,
        "# recorded self time. docs/traces.md, \"Import traces\", says how each key was derived."
    );
    let _ = writeln!(t, "name = {}", quote(name));
    let _ = writeln!(
        t,
        "description = {}",
        quote(&format!(
            "Imported from {} recorded requests over {}",
            c.roots,
            crate::units::format_nanos(model.span_ns as f64)
        ))
    );
    t.push_str("\n[network]\nsame_host = \"0s\"\n\n[zones.traced]\nrtt = \"0s\"\n");
    for (sid, s) in model.services.iter().enumerate() {
        let _ = writeln!(t, "\n[services.{}]", s.name);
        if s.raw != s.name {
            let _ = writeln!(t, "# traced as {}", quote(&s.raw));
        }
        let _ = writeln!(
            t,
            "cores = {}            # recorded load: {:.3} cores busy",
            s.cores, s.busy_cores
        );
        for e in model.endpoints.iter().filter(|e| e.service == sid) {
            endpoint(&mut t, model, s, e);
        }
    }
    workload(&mut t, model, name);
    t
}

/// One endpoint's table: sizes, call stages and its self-time samples.
fn endpoint(t: &mut String, model: &Model, s: &ServiceModel, e: &EndpointModel) {
    let _ = writeln!(t, "\n[services.{}.endpoints.{}]", s.name, e.name);
    if e.raw != e.name {
        let _ = writeln!(t, "# traced as {}", quote(&e.raw));
    }
    let _ = writeln!(
        t,
        "# {} calls recorded, mean self time {}",
        e.invocations,
        duration(e.mean_self.round() as u64)
    );
    if let Some(n) = e.request_size {
        let _ = writeln!(t, "request_size = {n}");
    }
    if let Some(n) = e.response_size {
        let _ = writeln!(t, "response_size = {n}");
    }
    if !e.stages.is_empty() {
        t.push_str("stages = [\n");
        for stage in &e.stages {
            let calls: Vec<String> = stage.iter().map(|call| call_entry(model, call)).collect();
            let _ = writeln!(t, "  [{}],", calls.join(", "));
        }
        t.push_str("]\n");
    }
    if e.cpu.iter().any(|&v| v > 0) {
        let _ = writeln!(
            t,
            "\n[services.{}.endpoints.{}.cpu]   # self time, {} samples",
            s.name,
            e.name,
            e.cpu.len()
        );
        t.push_str("dist = \"empirical\"\nvalues = [\n");
        for chunk in e.cpu.chunks(8) {
            let vals: Vec<String> = chunk.iter().map(|&v| quote(&duration(v))).collect();
            let _ = writeln!(t, "  {},", vals.join(", "));
        }
        t.push_str("]\n");
    }
}

/// One call of a stage as an inline table.
fn call_entry(model: &Model, call: &CallModel) -> String {
    let target = &model.endpoints[call.target];
    let mut s = format!(
        "{{ call = \"{}.{}\"",
        model.services[target.service].name, target.name
    );
    if call.times > 1 {
        let _ = write!(s, ", times = {}", call.times);
        if call.parallel {
            s.push_str(", parallel = true");
        }
    }
    if call.probability < 1.0 {
        let _ = write!(s, ", probability = {}", probability(call.probability));
    }
    s.push_str(" }");
    s
}

/// The workload: the recorded rate as Poisson arrivals, the recording to
/// replay, the window and the entry mix.
fn workload(t: &mut String, model: &Model, name: &str) {
    let rate = if model.arrivals.len() >= 2 && model.span_ns > 0 {
        model.arrivals.len() as f64 / (model.span_ns as f64 * 1e-9)
    } else {
        1.0
    };
    let rate = ((rate * 1e6).round() / 1e6).max(crate::config::topology::MIN_RATE);
    t.push_str("\n[workload]\narrivals = \"poisson\"\n");
    let _ = writeln!(
        t,
        "rate = {rate}            # {} recorded requests / their span",
        model.arrivals.len()
    );
    // `ztsim run --replay` plays these instead of the Poisson process.
    let _ = writeln!(
        t,
        "replay = {}   # the recorded arrivals",
        quote(&arrivals_file_name(name))
    );
    let window = if model.span_ns > 0 {
        model.span_ns
    } else {
        1_000_000_000
    };
    let _ = writeln!(t, "duration = {}", quote(&duration(window)));
    t.push_str("warmup = \"0s\"\nseed = 1\nreplications = 1\nentry = [\n");
    for &(ep, count) in &model.entries {
        let e = &model.endpoints[ep];
        let _ = writeln!(
            t,
            "  {{ endpoint = \"{}.{}\", weight = {count} }},",
            model.services[e.service].name, e.name
        );
    }
    t.push_str("]\n");
}

/// The arrivals CSV: `at_ns,entry`, one row per recorded root span in time
/// order, `at_ns` since the first root's start.
pub fn arrivals_csv(model: &Model) -> String {
    let mut t = String::with_capacity(32 * model.arrivals.len() + 16);
    t.push_str(ARRIVALS_HEADER);
    t.push('\n');
    for &(at, ep) in &model.arrivals {
        let e = &model.endpoints[ep];
        let _ = writeln!(t, "{at},{}.{}", model.services[e.service].name, e.name);
    }
    t
}

/// A duration in the topology format, exact: whole milliseconds, microseconds
/// or nanoseconds.
fn duration(ns: u64) -> String {
    if ns == 0 {
        "0s".into()
    } else if ns.is_multiple_of(1_000_000) {
        format!("{}ms", ns / 1_000_000)
    } else if ns.is_multiple_of(1_000) {
        format!("{}us", ns / 1_000)
    } else {
        format!("{ns}ns")
    }
}

/// A probability to four decimals, kept strictly between 0 and 1.
fn probability(p: f64) -> String {
    let r = ((p * 1e4).round() / 1e4).clamp(1e-4, 0.9999);
    format!("{r}")
}

/// A TOML basic string.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_exact() {
        assert_eq!(duration(0), "0s");
        assert_eq!(duration(3_000_000), "3ms");
        assert_eq!(duration(1_500), "1500ns");
        assert_eq!(duration(2_000), "2us");
        assert_eq!(probability(0.33333), "0.3333");
        assert_eq!(probability(0.999999), "0.9999");
        assert_eq!(quote("a\"b"), "\"a\\\"b\"");
    }
}
