//! Knobs: a design parameter with a low and a high setting, the edits that
//! make each setting, and the catalogue that collects them (used by the
//! default knobs in `defaults.rs`), or one given as `--param`.

use crate::config::study::Input;
use crate::report::sensitivity::Skipped;
use crate::units::Nanos;

/// How a knob's low and high settings were chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KnobKind {
    /// A number: halved and doubled (TTLs / 10 and x 10).
    Numeric,
    /// A choice: its alternatives (or the base and its one alternative).
    Choice,
    /// Given with `--param PATH=LOW,HIGH`.
    Explicit,
}

impl KnobKind {
    /// Its name in the outputs.
    pub fn name(self) -> &'static str {
        match self {
            KnobKind::Numeric => "numeric",
            KnobKind::Choice => "choice",
            KnobKind::Explicit => "explicit",
        }
    }
}

/// One change to the input files: set a parameter path to a value, or (for
/// design keys) remove it, leaving it to its default.
#[derive(Debug, Clone, PartialEq)]
pub struct Edit {
    /// Parameter path, as in a study's `params`.
    pub path: String,
    /// The new value; None removes the key from the design file.
    pub value: Option<toml::Value>,
}

/// One side of a knob: what it shows as, and the edits that make it.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    /// The value as shown (e.g. `100us`, `per-request`).
    pub label: String,
    /// Edits; none for the base design itself.
    pub edits: Vec<Edit>,
}

/// A parameter varied one at a time.
#[derive(Debug, Clone, PartialEq)]
pub struct Knob {
    /// Parameter path (`transport.cpu.server_full`).
    pub path: String,
    /// How its settings were chosen.
    pub kind: KnobKind,
    /// Its value in the base design, as shown.
    pub base: String,
    /// The low setting (the first alternative for a choice).
    pub low: Setting,
    /// The high setting (the second alternative for a choice).
    pub high: Setting,
}

pub(super) const NS_PER_S: Nanos = 1_000_000_000;

/// A duration as a design file writes it, exactly and briefly: in the
/// largest unit that holds it whole (`5m`, `250us`) or with up to three
/// decimals (`1.5ms`, `15.5us`; s, ms and us only), else in nanoseconds.
pub fn duration_text(ns: Nanos) -> String {
    const UNITS: [(&str, Nanos); 5] = [
        ("h", 3600 * NS_PER_S),
        ("m", 60 * NS_PER_S),
        ("s", NS_PER_S),
        ("ms", 1_000_000),
        ("us", 1_000),
    ];
    if ns == 0 {
        return "0s".into();
    }
    for (i, (unit, per)) in UNITS.iter().enumerate() {
        if ns.is_multiple_of(*per) {
            return format!("{}{unit}", ns / per);
        }
        // Fractions of hours and minutes read badly: only s, ms and us.
        if i >= 2 && ns >= *per && ns.is_multiple_of(per / 1000) {
            let frac = format!("{:03}", (ns % per) / (per / 1000));
            return format!("{}.{}{unit}", ns / per, frac.trim_end_matches('0'));
        }
    }
    format!("{ns}ns")
}

pub(super) fn dur(ns: Nanos) -> toml::Value {
    toml::Value::String(duration_text(ns))
}

pub(super) fn text(s: &str) -> toml::Value {
    toml::Value::String(s.into())
}

pub(super) fn set(path: &str, value: toml::Value) -> Edit {
    Edit {
        path: path.into(),
        value: Some(value),
    }
}

pub(super) fn shown(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub(super) fn setting(edits: Vec<Edit>) -> Setting {
    Setting {
        label: edits
            .first()
            .and_then(|e| e.value.as_ref())
            .map_or_else(|| "(default)".into(), shown),
        edits,
    }
}

pub(super) fn base_setting(label: &str) -> Setting {
    Setting {
        label: label.into(),
        edits: Vec::new(),
    }
}

/// The value at `path` in a TOML document, if written.
pub(super) fn lookup<'a>(doc: &'a toml::Table, path: &str) -> Option<&'a toml::Value> {
    let mut segs = path.split('.');
    let mut v = doc.get(segs.next()?)?;
    for s in segs {
        v = v.as_table()?.get(s)?;
    }
    Some(v)
}

/// Every duration string inside a distribution spec multiplied by `factor`:
/// constants, means, medians, percentiles, bounds, edges and values all
/// scale, so the distribution keeps its shape and its mean scales.
pub(super) fn scale_durations(v: &toml::Value, factor: f64) -> toml::Value {
    match v {
        toml::Value::String(s) => match crate::units::parse_duration(s) {
            // Zero (a histogram's first edge) stays zero; others stay above it.
            Ok(0) => v.clone(),
            Ok(ns) => dur((ns as f64 * factor).round().max(1.0) as Nanos),
            Err(_) => v.clone(),
        },
        toml::Value::Array(a) => {
            toml::Value::Array(a.iter().map(|x| scale_durations(x, factor)).collect())
        }
        toml::Value::Table(t) => toml::Value::Table(
            t.iter()
                .map(|(k, x)| (k.clone(), scale_durations(x, factor)))
                .collect(),
        ),
        other => other.clone(),
    }
}

pub(super) fn dist_label(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Table(t) => t
            .iter()
            .map(|(k, x)| {
                if k == "dist" {
                    shown(x)
                } else {
                    format!("{k} {}", shown(x))
                }
            })
            .collect::<Vec<_>>()
            .join(" "),
        other => other.to_string(),
    }
}

/// Collects knobs and the reasons for leaving parameters out.
pub(super) struct Catalogue<'a> {
    pub(super) doc: &'a toml::Table,
    pub(super) knobs: Vec<Knob>,
    pub(super) skipped: Vec<Skipped>,
}

impl Catalogue<'_> {
    pub(super) fn skip(&mut self, paths: &[&str], why: &str) {
        for p in paths {
            self.skipped.push(Skipped {
                path: (*p).into(),
                why: why.into(),
            });
        }
    }

    pub(super) fn knob(
        &mut self,
        path: &str,
        kind: KnobKind,
        base: String,
        low: Setting,
        high: Setting,
    ) {
        self.knobs.push(Knob {
            path: path.into(),
            kind,
            base,
            low,
            high,
        });
    }

    /// A CPU cost or other duration: x0.5 and x2.
    pub(super) fn cost(&mut self, path: &str, ns: Nanos) {
        if ns == 0 {
            self.skip(
                &[path],
                "zero in the base design: halving or doubling it changes nothing",
            );
            return;
        }
        self.knob(
            path,
            KnobKind::Numeric,
            duration_text(ns),
            setting(vec![set(path, dur((ns / 2).max(1)))]),
            setting(vec![set(path, dur(ns.saturating_mul(2)))]),
        );
    }

    /// A lifetime: / 10 and x 10, since its effects are rarely linear.
    pub(super) fn ttl(&mut self, path: &str, ns: Nanos) {
        self.knob(
            path,
            KnobKind::Numeric,
            duration_text(ns),
            setting(vec![set(path, dur((ns / 10).max(1)))]),
            setting(vec![set(path, dur(ns.saturating_mul(10)))]),
        );
    }

    /// A cache lifetime: as a TTL, or, with the cache off, 1 s and 1 min.
    pub(super) fn cache_ttl(&mut self, path: &str, ns: Nanos) {
        if ns == 0 {
            self.knob(
                path,
                KnobKind::Numeric,
                "0s (no cache)".into(),
                setting(vec![set(path, dur(NS_PER_S))]),
                setting(vec![set(path, dur(60 * NS_PER_S))]),
            );
        } else {
            self.ttl(path, ns);
        }
    }

    /// Cores: a whole number as a count; a fraction halved (at least 1m)
    /// and doubled, in millicores.
    pub(super) fn cores(&mut self, path: &str, m: crate::units::Millicores) {
        if let Some(n) = m.as_whole() {
            return self.count(path, n);
        }
        let milli = |v: u32| toml::Value::String(format!("{v}m"));
        self.knob(
            path,
            KnobKind::Numeric,
            m.to_string(),
            setting(vec![set(path, milli((m.0 / 2).max(1)))]),
            setting(vec![set(path, milli(m.0.saturating_mul(2)))]),
        );
    }

    /// A count: halved (at least 1) and doubled.
    pub(super) fn count(&mut self, path: &str, n: u32) {
        let low = (n / 2).max(1);
        let low = if low == n {
            base_setting(&n.to_string())
        } else {
            setting(vec![set(path, toml::Value::Integer(i64::from(low)))])
        };
        self.knob(
            path,
            KnobKind::Numeric,
            n.to_string(),
            low,
            setting(vec![set(
                path,
                toml::Value::Integer(i64::from(n).saturating_mul(2)),
            )]),
        );
    }

    /// A share in [0, 1]: halved and doubled (capped at `top`); from zero,
    /// 0 and `from_zero`.
    pub(super) fn fraction(&mut self, path: &str, f: f64, top: f64, from_zero: f64) {
        let (low, high) = if f == 0.0 {
            (base_setting("0"), from_zero)
        } else {
            (
                setting(vec![set(path, toml::Value::Float(f / 2.0))]),
                (f * 2.0).min(top),
            )
        };
        let high = if high == f {
            base_setting(&shown(&toml::Value::Float(f)))
        } else {
            setting(vec![set(path, toml::Value::Float(high))])
        };
        self.knob(
            path,
            KnobKind::Numeric,
            shown(&toml::Value::Float(f)),
            low,
            high,
        );
    }

    /// A throughput or other positive float: x0.5 and x2.
    pub(super) fn float(&mut self, path: &str, v: f64) {
        self.knob(
            path,
            KnobKind::Numeric,
            shown(&toml::Value::Float(v)),
            setting(vec![set(path, toml::Value::Float(v / 2.0))]),
            setting(vec![set(path, toml::Value::Float(v * 2.0))]),
        );
    }

    /// A distribution of CPU: every duration in it x0.5 and x2.
    pub(super) fn dist(&mut self, path: &str, default: toml::Value) {
        let spec = lookup(self.doc, path).cloned().unwrap_or(default);
        let side = |f: f64| {
            let v = scale_durations(&spec, f);
            Setting {
                label: match &v {
                    toml::Value::String(s) => s.clone(),
                    _ => format!("x{f}"),
                },
                edits: vec![set(path, v)],
            }
        };
        self.knob(
            path,
            KnobKind::Numeric,
            dist_label(&spec),
            side(0.5),
            side(2.0),
        );
    }

    /// A choice among `alternatives` (the base's value excluded): the first
    /// two, or the base and the only one. Each alternative is a label and its
    /// edits.
    pub(super) fn choice(
        &mut self,
        path: &str,
        base: &str,
        alternatives: Vec<(String, Vec<Edit>)>,
    ) {
        let mut alts = alternatives.into_iter().filter(|(l, _)| l != base);
        let Some((l1, e1)) = alts.next() else {
            return;
        };
        let first = Setting {
            label: l1,
            edits: e1,
        };
        let (low, high) = match alts.next() {
            Some((l2, e2)) => (
                first,
                Setting {
                    label: l2,
                    edits: e2,
                },
            ),
            None => (base_setting(base), first),
        };
        self.knob(path, KnobKind::Choice, base.into(), low, high);
    }
}

pub(super) fn alt(path: &str, value: &str, more: Vec<Edit>) -> (String, Vec<Edit>) {
    let mut edits = vec![set(path, text(value))];
    edits.extend(more);
    (value.into(), edits)
}

pub(super) fn flag(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

pub(super) fn toggle(path: &str, base: bool, more: Vec<Edit>) -> (String, Vec<Edit>) {
    let mut edits = vec![set(path, toml::Value::Boolean(!base))];
    edits.extend(more);
    (flag(!base).into(), edits)
}

/// A knob from `--param PATH=LOW,HIGH` (values already parsed as TOML): two
/// values are its low and high settings; one value is compared with the
/// base design. `file` is the design (or topology) file the path reaches
/// into, for the base value shown.
pub fn explicit_knob(path: &str, values: &[toml::Value], file: &Input) -> Result<Knob, String> {
    let doc: toml::Table = toml::from_str(&file.text).unwrap_or_default();
    let base = lookup(&doc, path).map_or_else(|| "(default)".into(), dist_label);
    let side = |v: &toml::Value| setting(vec![set(path, v.clone())]);
    let (low, high) = match values {
        [v] => (base_setting(&base), side(v)),
        [lo, hi] => (side(lo), side(hi)),
        _ => {
            return Err(format!(
                "`{path}`: give one value (compared with the base design) or two, low and high, e.g. {path}=LOW,HIGH; got {}",
                values.len()
            ));
        }
    };
    Ok(Knob {
        path: path.into(),
        kind: KnobKind::Explicit,
        base,
        low,
        high,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_written_exactly_in_the_largest_unit() {
        assert_eq!(duration_text(300_000_000_000), "5m");
        assert_eq!(duration_text(250_000), "250us");
        assert_eq!(duration_text(1_500_000), "1.5ms");
        assert_eq!(duration_text(15_500), "15.5us");
        assert_eq!(duration_text(30 * NS_PER_S), "30s");
        assert_eq!(duration_text(7), "7ns");
        assert_eq!(duration_text(0), "0s");
        for ns in [1, 999, 1_234_567, 86_400 * NS_PER_S, 115_000] {
            assert_eq!(
                crate::units::parse_duration(&duration_text(ns)).unwrap(),
                ns
            );
        }
    }

    #[test]
    fn scaling_a_distribution_keeps_its_shape() {
        let spec: toml::Table =
            toml::from_str(r#"v = { dist = "lognormal", median = "300us", p99 = "2ms" }"#).unwrap();
        let half = scale_durations(&spec["v"], 0.5);
        assert_eq!(half["median"].as_str(), Some("150us"));
        assert_eq!(half["p99"].as_str(), Some("1ms"));
        assert_eq!(half["dist"].as_str(), Some("lognormal"));
        let hist: toml::Table =
            toml::from_str(r#"v = { dist = "histogram", edges = ["0ms", "1ms"], counts = [3] }"#)
                .unwrap();
        let double = scale_durations(&hist["v"], 2.0);
        assert_eq!(double["edges"][1].as_str(), Some("2ms"));
        assert_eq!(double["counts"][0].as_integer(), Some(3));
    }
}
