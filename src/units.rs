//! Parsing and printing of quantities with units: durations, byte sizes,
//! request rates and cores (`cores.rs`). Every other module goes through here so that input syntax
//! and error wording stay consistent.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, Visitor};

mod cores;
pub use cores::{
    CORES_PATTERN, CoresText, MAX_CORES, MILLIS_PER_CORE, Millicores, cores_of_f64, parse_cores,
};

/// Simulated time in integer nanoseconds.
pub type Nanos = u64;

/// Nanoseconds in one second.
pub const NANOS_PER_SEC: u64 = 1_000_000_000;

/// A malformed quantity. The message says what was wrong and what would be
/// valid, so callers can show it to users verbatim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitError {
    /// Human-readable explanation, including an example of valid input.
    pub message: String,
}

impl UnitError {
    fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

impl fmt::Display for UnitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for UnitError {}

/// Describes one family of quantities so durations and byte sizes can share
/// the parser and produce parallel error messages.
struct Quantity {
    what: &'static str,
    examples: &'static str,
    /// Unit names shown in errors.
    unit_list: &'static str,
    /// Unit appended to a bare number to suggest a fix.
    example_unit: &'static str,
    units: &'static [(&'static str, u64)],
    case_insensitive: bool,
    max: &'static str,
}

const DURATION: Quantity = Quantity {
    what: "duration",
    examples: r#""250us", "1.5ms", "2s", "5m" or "24h""#,
    unit_list: "ns, us, ms, s, m (minutes) or h",
    example_unit: "ms",
    units: &[
        ("ns", 1),
        ("us", 1_000),
        ("µs", 1_000), // micro sign U+00B5
        ("μs", 1_000), // Greek mu U+03BC, which some keyboards produce instead
        ("ms", 1_000_000),
        ("s", NANOS_PER_SEC),
        ("m", 60 * NANOS_PER_SEC),
        ("h", 3_600 * NANOS_PER_SEC),
    ],
    case_insensitive: false,
    max: "18446744073709551615ns (about 584 years)",
};

const BYTES: Quantity = Quantity {
    what: "byte size",
    examples: r#""512B", "4KiB", "1MB" or "1GiB""#,
    unit_list: "B, KB, KiB, MB, MiB, GB, GiB, TB or TiB",
    example_unit: "KiB",
    units: &[
        ("b", 1),
        ("kb", 1_000),
        ("kib", 1 << 10),
        ("mb", 1_000_000),
        ("mib", 1 << 20),
        ("gb", 1_000_000_000),
        ("gib", 1 << 30),
        ("tb", 1_000_000_000_000),
        ("tib", 1 << 40),
    ],
    case_insensitive: true,
    max: "18446744073709551615B",
};

/// Fractional digits that take part in the exact arithmetic. With
/// power-of-ten multipliers (ns..s, B..TB) rounding only depends on the first
/// few digits, so results are exact; for minutes, hours and KiB-style units the
/// dropped tail can move the value by less than 1e-7 of the smallest unit.
/// The bound also keeps `fraction * multiplier` inside u128.
const FRAC_DIGITS: usize = 20;

impl Quantity {
    fn parse(&self, s: &str) -> Result<u64, UnitError> {
        let Self { what, examples, .. } = self;
        let t = s.trim();
        if t.is_empty() {
            return Err(UnitError::new(format!(
                "empty {what}; write a {what} such as {examples}"
            )));
        }
        if t.starts_with('-') {
            return Err(UnitError::new(format!(
                "{s:?} is negative; a {what} must be zero or more, such as {examples}"
            )));
        }
        let split = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(t.len());
        let (number, unit) = (&t[..split], t[split..].trim_start());
        let (int, frac) = number.split_once('.').unwrap_or((number, ""));
        let all_digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(int) || (number.contains('.') && !all_digits(frac)) {
            return Err(UnitError::new(format!(
                "{s:?} is not a number followed by a unit; write a {what} such as {examples}"
            )));
        }
        if unit.is_empty() {
            return Err(UnitError::new(format!(
                "{s:?} has no unit; write e.g. \"{number}{}\" (units: {})",
                self.example_unit, self.unit_list
            )));
        }
        let found = self.units.iter().find(|(name, _)| {
            *name == unit || (self.case_insensitive && name.eq_ignore_ascii_case(unit))
        });
        let Some(&(_, mult)) = found else {
            return Err(UnitError::new(format!(
                "unknown unit {unit:?} in {s:?}; use one of {}, e.g. {examples}",
                self.unit_list
            )));
        };
        scale(int, frac, mult).ok_or_else(|| {
            UnitError::new(format!(
                "{s:?} is too large; a {what} can be at most {}",
                self.max
            ))
        })
    }
}

/// `int.frac * mult`, rounded half-up, in integer arithmetic so that decimal
/// inputs like "0.3ms" are exact. Both parts must be ASCII digits.
fn scale(int: &str, frac: &str, mult: u64) -> Option<u64> {
    let mult = u128::from(mult);
    let whole = int
        .bytes()
        .try_fold(0u128, |acc, b| {
            acc.checked_mul(10)?.checked_add(u128::from(b - b'0'))
        })?
        .checked_mul(mult)?;
    // Digits are ASCII, so byte slicing stays on a char boundary.
    let frac = &frac[..frac.len().min(FRAC_DIGITS)];
    let (num, den) = frac.bytes().fold((0u128, 1u128), |(n, d), b| {
        (n * 10 + u128::from(b - b'0'), d * 10)
    });
    let num = num * mult;
    let rounded = num / den + u128::from(num % den * 2 >= den);
    u64::try_from(whole.checked_add(rounded)?).ok()
}

/// Largest payload a file may give: 1 TiB.
pub const MAX_CONFIG_BYTES: u64 = 1 << 40;

/// Longest duration a file may give: 100 years (about 2^61.5 ns), so that
/// simulated time plus any configured duration stays far from overflow.
pub const MAX_CONFIG_DURATION: Nanos = 100 * 365 * 86_400 * NANOS_PER_SEC;

/// Parses a duration such as "250us", "1.5ms", "2s", "5m", "24h" or "100ns"
/// into nanoseconds, rounding to the nearest nanosecond.
///
/// Units are `ns`, `us` (or `µs`), `ms`, `s`, `m` (minutes) and `h`, and one
/// is required. Whitespace between number and unit is tolerated.
pub fn parse_duration(s: &str) -> Result<Nanos, UnitError> {
    DURATION.parse(s)
}

/// Parses a byte size such as "512B", "1KB" (1000), "1KiB" (1024), "4MB",
/// "1MiB", "1GB" or "1GiB". Units are case-insensitive and required; decimal
/// fractions are rounded to the nearest byte.
pub fn parse_bytes(s: &str) -> Result<u64, UnitError> {
    BYTES.parse(s)
}

/// Parses a rate in requests per second: "1000", "1000rps", "1.5k", "2krps".
/// The result is finite and greater than zero.
pub fn parse_rate(s: &str) -> Result<f64, UnitError> {
    const EXAMPLES: &str = r#""1000", "1000rps", "1.5k" or "2krps""#;
    let lower = s.trim().to_ascii_lowercase();
    let body = lower.strip_suffix("rps").unwrap_or(&lower).trim_end();
    let (number, mult) = match body.strip_suffix('k') {
        Some(n) => (n.trim_end(), 1000.0),
        None => (body, 1.0),
    };
    let value = number.parse::<f64>().map(|v| v * mult).map_err(|_| {
        UnitError::new(format!(
            "{s:?} is not a rate; write requests per second such as {EXAMPLES}"
        ))
    })?;
    // `f64::from_str` accepts "inf" and "NaN", so range-check after parsing.
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(UnitError::new(format!(
            "rate {s:?} must be a finite number greater than 0, such as {EXAMPLES}"
        )))
    }
}

/// Formats nanoseconds for tables, choosing ns, us, ms or s and keeping three
/// significant digits: 4_000_000 -> "4 ms", 1_234_567 -> "1.23 ms",
/// 250_000 -> "250 us", 1_500_000_000 -> "1.5 s". Takes f64 because means and
/// percentile interpolations are fractional.
pub fn format_nanos(ns: f64) -> String {
    const UNITS: [(&str, f64); 4] = [("ns", 1.0), ("us", 1e3), ("ms", 1e6), ("s", 1e9)];
    if !ns.is_finite() {
        return format!("{ns} ns");
    }
    let mut text = String::new();
    for (name, per) in UNITS {
        let v = ns / per;
        let mag = v.abs();
        let int_digits = if mag < 1.0 {
            1
        } else {
            mag.log10() as usize + 1
        };
        let mut digits = format!("{v:.*}", 3usize.saturating_sub(int_digits));
        if digits.contains('.') {
            digits.truncate(digits.trim_end_matches('0').trim_end_matches('.').len());
        }
        if digits == "-0" {
            digits.remove(0);
        }
        text = format!("{digits} {name}");
        // Decide on the rounded text so 999.7us becomes "1 ms", not "1000 us".
        if digits
            .trim_start_matches('-')
            .parse::<f64>()
            .is_ok_and(|r| r < 1000.0)
        {
            break;
        }
    }
    text
}

/// A duration in config files, written as a string with a unit ("1.5ms").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Dur(pub Nanos);

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Dur;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(r#"a duration string with a unit, such as "1.5ms""#)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Dur, E> {
                let d = parse_duration(v).map_err(E::custom)?;
                // Anything longer is a mistake, and keeping every duration
                // far below u64::MAX means `now + duration` cannot overflow.
                if d > MAX_CONFIG_DURATION {
                    return Err(E::custom(format!(
                        "\"{v}\" is longer than 100 years; durations in ztsim files go up to \"876000h\""
                    )));
                }
                Ok(Dur(d))
            }
            // Bare numbers are the most likely mistake, so name the fix.
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Dur, E> {
                Err(E::custom(format!(
                    "a duration must be a string with a unit, e.g. \"{v}ms\" or \"{v}s\", not the bare number {v}"
                )))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Dur, E> {
                self.visit_i64(i64::try_from(v).unwrap_or(i64::MAX))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Dur, E> {
                Err(E::custom(format!(
                    "a duration must be a string with a unit, e.g. \"{v}ms\", not the bare number {v}"
                )))
            }
        }
        d.deserialize_any(V)
    }
}

/// A byte size in config files: a non-negative integer (bytes) or a string
/// with a unit ("4KiB").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bytes(pub u64);

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Bytes;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(r#"a byte count such as 4096 or a string such as "4KiB""#)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Bytes, E> {
                parse_bytes(v)
                    .map_err(E::custom)
                    .and_then(|b| self.visit_u64(b))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Bytes, E> {
                // A message beyond a tebibyte is a mistake, and the cap keeps
                // byte arithmetic (request + response, x ns per byte) exact.
                if v > MAX_CONFIG_BYTES {
                    return Err(E::custom(format!(
                        "{v} bytes is more than 1 TiB; payload sizes go up to \"1TiB\""
                    )));
                }
                Ok(Bytes(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Bytes, E> {
                u64::try_from(v)
                    .map_err(|_| E::custom(format!("a byte size must be zero or more, got {v}")))
                    .and_then(|b| self.visit_u64(b))
            }
        }
        d.deserialize_any(V)
    }
}

/// The JSON Schema `pattern` of a duration as the parser accepts it: a number, an optional
/// decimal part and a unit, spaces allowed around and between them.
pub const DURATION_PATTERN: &str = r"^\s*[0-9]+(\.[0-9]+)?\s*(ns|us|µs|μs|ms|s|m|h)\s*$";

/// The JSON Schema `pattern` of a byte size string: like a duration, with the byte units
/// in any letter case (JSON Schema regexes have no case-insensitive flag).
pub const BYTES_PATTERN: &str = r"^\s*[0-9]+(\.[0-9]+)?\s*([bB]|[kKmMgGtT][iI]?[bB])\s*$";

impl schemars::JsonSchema for Dur {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Duration".into()
    }

    fn schema_id() -> std::borrow::Cow<'static, str> {
        concat!(module_path!(), "::Dur").into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A duration: a string with a unit, e.g. \"250us\", \"1.5ms\", \"2s\", \"5m\", \"24h\". Units: ns, us (or µs), ms, s, m (minutes), h. A bare number is refused.",
            "type": "string",
            "pattern": DURATION_PATTERN,
            "examples": ["250us", "1.5ms", "2s"],
        })
    }
}

impl schemars::JsonSchema for Bytes {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ByteSize".into()
    }

    fn schema_id() -> std::borrow::Cow<'static, str> {
        concat!(module_path!(), "::Bytes").into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A byte size: a whole number of bytes (4096) or a string with a unit, e.g. \"512B\", \"4KiB\", \"1.5MB\". Units (any case): B, KB, KiB, MB, MiB, GB, GiB, TB, TiB; K is 1000, Ki 1024.",
            "anyOf": [
                { "type": "integer", "minimum": 0 },
                { "type": "string", "pattern": BYTES_PATTERN },
            ],
            "examples": ["4KiB", 512],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_every_unit() {
        let cases = [
            ("100ns", 100),
            ("250us", 250_000),
            ("250µs", 250_000),
            ("250μs", 250_000),
            ("4ms", 4_000_000),
            ("2s", 2 * NANOS_PER_SEC),
            ("5m", 300 * NANOS_PER_SEC),
            ("24h", 86_400 * NANOS_PER_SEC),
            ("0s", 0),
            (" 5 ms ", 5_000_000),
            ("18446744073709551615ns", u64::MAX),
        ];
        for (input, want) in cases {
            assert_eq!(parse_duration(input), Ok(want), "{input}");
        }
    }

    #[test]
    fn duration_fractions_are_exact() {
        assert_eq!(parse_duration("1.5ms"), Ok(1_500_000));
        assert_eq!(parse_duration("0.3ms"), Ok(300_000));
        assert_eq!(parse_duration("0.1s"), Ok(100_000_000));
        assert_eq!(parse_duration("2.0000000001s"), Ok(2 * NANOS_PER_SEC));
        assert_eq!(parse_duration("2.0000000005s"), Ok(2 * NANOS_PER_SEC + 1));
        assert_eq!(parse_duration("1.4ns"), Ok(1));
        assert_eq!(parse_duration("0.5ns"), Ok(1));
        assert_eq!(parse_duration("0.25m"), Ok(15 * NANOS_PER_SEC));
        assert_eq!(parse_duration("1.5h"), Ok(5_400 * NANOS_PER_SEC));
        // Digits past FRAC_DIGITS must not overflow or panic.
        assert_eq!(
            parse_duration(&format!("1.{}s", "9".repeat(60))),
            Ok(2 * NANOS_PER_SEC)
        );
    }

    #[test]
    fn duration_errors() {
        let no_unit = parse_duration("5").unwrap_err().message;
        assert!(
            no_unit.contains("has no unit") && no_unit.contains("\"5ms\""),
            "{no_unit}"
        );
        let cases = [
            ("", "empty duration"),
            ("   ", "empty duration"),
            ("-5ms", "negative"),
            ("NaN", "not a number followed by a unit"),
            ("inf", "not a number followed by a unit"),
            ("ms", "not a number followed by a unit"),
            (".5s", "not a number followed by a unit"),
            ("5.s", "not a number followed by a unit"),
            ("1.2.3s", "not a number followed by a unit"),
            ("+5ms", "not a number followed by a unit"),
            ("5sec", "unknown unit \"sec\""),
            ("5MS", "unknown unit"),
            ("5d", "unknown unit"),
            ("18446744073709551616ns", "too large"),
            ("18446744074s", "too large"),
            ("99999999999999999999999999999999999999999h", "too large"),
        ];
        for (input, want) in cases {
            let err = parse_duration(input).unwrap_err();
            assert!(err.message.contains(want), "{input}: {err}");
            // Every error must show what valid input looks like.
            assert!(
                err.message.contains("ms\"") || err.message.contains("at most"),
                "{input}: {err}"
            );
        }
    }

    #[test]
    fn bytes_units() {
        let cases = [
            ("512B", 512),
            ("0B", 0),
            ("1KB", 1_000),
            ("1kb", 1_000),
            ("1KiB", 1_024),
            ("4MB", 4_000_000),
            ("1MiB", 1 << 20),
            ("1GB", 1_000_000_000),
            ("1GiB", 1 << 30),
            ("2TB", 2_000_000_000_000),
            ("1TiB", 1 << 40),
            ("1.5KB", 1_500),
            ("0.5KiB", 512),
        ];
        for (input, want) in cases {
            assert_eq!(parse_bytes(input), Ok(want), "{input}");
        }
        let no_unit = parse_bytes("512").unwrap_err().message;
        assert!(
            no_unit.contains("has no unit") && no_unit.contains("\"512KiB\""),
            "{no_unit}"
        );
        for bad in [
            "",
            "-1KB",
            "KB",
            "1XB",
            "1.KB",
            "18446744073709551616B",
            "20000000TiB",
        ] {
            let err = parse_bytes(bad).unwrap_err();
            assert!(
                err.message.contains("KiB") || err.message.contains("at most"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn rates() {
        assert_eq!(parse_rate("1000"), Ok(1000.0));
        assert_eq!(parse_rate("1000rps"), Ok(1000.0));
        assert_eq!(parse_rate("1.5k"), Ok(1500.0));
        assert_eq!(parse_rate("2krps"), Ok(2000.0));
        assert_eq!(parse_rate(" 2 K RPS "), Ok(2000.0));
        assert_eq!(parse_rate("0.5"), Ok(0.5));
        for bad in [
            "", "0", "-5", "abc", "NaN", "inf", "infk", "1e400", "k", "rps",
        ] {
            let err = parse_rate(bad).unwrap_err();
            assert!(err.message.contains("\"1.5k\""), "{bad}: {err}");
        }
    }

    #[test]
    fn formatting() {
        let cases = [
            (4_000_000.0, "4 ms"),
            (1_234_567.0, "1.23 ms"),
            (250_000.0, "250 us"),
            (1_500_000_000.0, "1.5 s"),
            (0.0, "0 ns"),
            (12.5, "12.5 ns"),
            (999.0, "999 ns"),
            (999_700.0, "1 ms"),
            (99_960.0, "100 us"),
            (12_345.0, "12.3 us"),
            (3_600e9, "3600 s"),
            (-2_500.0, "-2.5 us"),
            (-0.0001, "0 ns"),
        ];
        for (ns, want) in cases {
            assert_eq!(format_nanos(ns), want, "{ns}");
        }
        assert_eq!(format_nanos(f64::NAN), "NaN ns");
    }

    #[derive(serde::Deserialize, Debug)]
    struct Cfg {
        timeout: Dur,
        size: Bytes,
    }

    #[test]
    fn deserialize_from_toml() {
        let cfg: Cfg = toml::from_str("timeout = \"1.5ms\"\nsize = \"4KiB\"").unwrap();
        assert_eq!((cfg.timeout, cfg.size), (Dur(1_500_000), Bytes(4096)));
        let cfg: Cfg = toml::from_str("timeout = \"0s\"\nsize = 512").unwrap();
        assert_eq!((cfg.timeout, cfg.size), (Dur(0), Bytes(512)));

        let bad = |doc: &str| toml::from_str::<Cfg>(doc).unwrap_err().message().to_owned();
        let msg = bad("timeout = 5\nsize = 1");
        assert!(
            msg.contains("\"5ms\"") && msg.contains("string with a unit"),
            "{msg}"
        );
        let msg = bad("timeout = true\nsize = 1");
        assert!(msg.contains("\"1.5ms\""), "{msg}");
        let msg = bad("timeout = \"5\"\nsize = 1");
        assert!(msg.contains("has no unit"), "{msg}");
        let msg = bad("timeout = \"1s\"\nsize = -1");
        assert!(msg.contains("zero or more"), "{msg}");
        let msg = bad("timeout = \"1s\"\nsize = 1.5");
        assert!(msg.contains("\"4KiB\""), "{msg}");
    }
}
