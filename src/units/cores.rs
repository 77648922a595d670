//! Cores as files give them: a whole number (`2`), a decimal (`0.5`,
//! `"1.5"`) or Kubernetes millicores (`"500m"`), held as an integer count of
//! millicores so that a fraction is exact and never drifts.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde::{Serialize, Serializer};

/// Millicores in one core.
pub const MILLIS_PER_CORE: u32 = 1000;

/// Most cores a file may give one replica or proxy: a million (10^9
/// millicores, inside u32 with room for the arithmetic on them).
pub const MAX_CORES: u32 = 1_000_000;

/// A CPU allowance in millicores (1000 = one core), at least 1m.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Millicores(pub u32);

impl Millicores {
    /// One core.
    pub const ONE: Millicores = Millicores(MILLIS_PER_CORE);

    /// `n` whole cores (saturating at [`MAX_CORES`]).
    pub fn whole(n: u32) -> Millicores {
        Millicores(n.min(MAX_CORES) * MILLIS_PER_CORE)
    }

    /// The whole number of cores, if it is one.
    pub fn as_whole(self) -> Option<u32> {
        self.0
            .is_multiple_of(MILLIS_PER_CORE)
            .then_some(self.0 / MILLIS_PER_CORE)
    }

    /// Cores as a number (0.5 for 500m).
    pub fn cores(self) -> f64 {
        f64::from(self.0) / f64::from(MILLIS_PER_CORE)
    }

    /// Servers of the station: the cores rounded up (a 0.5-core container
    /// is one server, 2.5 cores are three).
    pub fn servers(self) -> u32 {
        self.0.div_ceil(MILLIS_PER_CORE).max(1)
    }

    /// Core-nanoseconds this allowance offers over `ns` nanoseconds
    /// (rounded down).
    pub fn capacity(self, ns: u64) -> u64 {
        match self.as_whole() {
            Some(n) => u64::from(n).saturating_mul(ns),
            None => (u128::from(self.0) * u128::from(ns) / u128::from(MILLIS_PER_CORE))
                .min(u128::from(u64::MAX)) as u64,
        }
    }
}

impl fmt::Display for Millicores {
    /// `2`, `0.5`, `2.25`, `0.125`: the shortest exact decimal.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (int, frac) = (self.0 / MILLIS_PER_CORE, self.0 % MILLIS_PER_CORE);
        if frac == 0 {
            return write!(f, "{int}");
        }
        let digits = format!("{frac:03}");
        write!(f, "{int}.{}", digits.trim_end_matches('0'))
    }
}

/// Parses cores from text: `"2"`, `"1.5"`, `"0.125"` (at most three
/// decimals: a millicore) or `"500m"` (whole millicores). At least 1m, at
/// most [`MAX_CORES`].
pub fn parse_cores(s: &str) -> Result<Millicores, String> {
    let t = s.trim();
    let help = r#"give cores as a number (2, 0.5) or in millicores ("500m")"#;
    let millis: u64 = if let Some(m) = t.strip_suffix('m') {
        let m = m.trim_end();
        if m.is_empty() || !m.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!(
                "\"{s}\" is not a whole number of millicores; {help}"
            ));
        }
        m.parse().unwrap_or(u64::MAX)
    } else {
        let (int, frac) = t.split_once('.').unwrap_or((t, ""));
        let digits = |x: &str| x.bytes().all(|b| b.is_ascii_digit());
        if int.is_empty() || !digits(int) || !digits(frac) || (t.contains('.') && frac.is_empty()) {
            return Err(format!("\"{s}\" is not a number of cores; {help}"));
        }
        if frac.len() > 3 {
            return Err(format!(
                "\"{s}\" has more than three decimals: cores are counted in whole millicores (0.001); round it, e.g. \"{}\"",
                round_text(int, frac)
            ));
        }
        let whole: u64 = int.parse().unwrap_or(u64::MAX);
        let frac_millis: u64 = format!("{frac:0<3}").parse().unwrap_or(0);
        whole.saturating_mul(1000).saturating_add(frac_millis)
    };
    bounded(millis, s)
}

/// `int.frac` rounded to three decimals, for a message: never below the
/// least count, a millicore, which rounding a tiny value to 0.000 would
/// suggest.
fn round_text(int: &str, frac: &str) -> String {
    let v: f64 = format!("{int}.{frac}").parse().unwrap_or(0.0);
    format!("{:.3}", v.max(0.001))
}

fn bounded(millis: u64, given: impl fmt::Display) -> Result<Millicores, String> {
    if millis == 0 {
        return Err(format!(
            "cores must be more than zero, got {given}; the least is \"1m\" (a thousandth of a core)"
        ));
    }
    if millis > u64::from(MAX_CORES) * u64::from(MILLIS_PER_CORE) {
        return Err(format!("{given} cores is more than {MAX_CORES}"));
    }
    Ok(Millicores(millis as u32))
}

/// Cores from a TOML number: a whole number, or a decimal with at most
/// three decimals.
pub fn cores_of_f64(v: f64) -> Result<Millicores, String> {
    if !v.is_finite() || v <= 0.0 {
        return Err(format!(
            "cores must be more than zero, got {v}; the least is \"1m\" (a thousandth of a core)"
        ));
    }
    let millis = v * 1000.0;
    if millis > f64::from(MAX_CORES) * 1000.0 {
        return Err(format!("{v} cores is more than {MAX_CORES}"));
    }
    let rounded = millis.round();
    if (millis - rounded).abs() > 1e-6 * rounded.max(1.0) {
        return Err(format!(
            "{v} has more than three decimals: cores are counted in whole millicores (0.001); round it, e.g. {:.3}",
            v.max(0.001)
        ));
    }
    bounded(rounded as u64, v)
}

/// Cores as a file gives them, before they are checked: a TOML integer,
/// float or string. Reading accepts any of the three, so that a bad value
/// is reported at its key by the validation that reports every problem
/// ([`CoresText::check`]), not as the one error that stops reading.
#[derive(Debug, Clone, PartialEq)]
pub enum CoresText {
    /// `2`, `-1`.
    Int(i64),
    /// `0.5`.
    Float(f64),
    /// `"500m"`, `"1.5"`.
    Text(String),
}

impl CoresText {
    /// The allowance, or why it is not one.
    pub fn check(&self) -> Result<Millicores, String> {
        match self {
            CoresText::Int(v) if *v <= 0 => bounded(0, v),
            CoresText::Int(v) => bounded((*v as u64).saturating_mul(1000), v),
            CoresText::Float(v) => cores_of_f64(*v),
            CoresText::Text(s) => parse_cores(s),
        }
    }
}

impl<'de> Deserialize<'de> for CoresText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = CoresText;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(r#"cores: a number such as 2 or 0.5, or millicores such as "500m""#)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<CoresText, E> {
                Ok(CoresText::Text(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<CoresText, E> {
                Ok(CoresText::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<CoresText, E> {
                Ok(CoresText::Int(i64::try_from(v).unwrap_or(i64::MAX)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<CoresText, E> {
                Ok(CoresText::Float(v))
            }
        }
        d.deserialize_any(V)
    }
}

impl schemars::JsonSchema for CoresText {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Cores".into()
    }

    fn schema_id() -> std::borrow::Cow<'static, str> {
        concat!(module_path!(), "::Millicores").into()
    }

    fn json_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
        Millicores::json_schema(g)
    }
}

impl<'de> Deserialize<'de> for Millicores {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Millicores;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(r#"cores: a number such as 2 or 0.5, or millicores such as "500m""#)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Millicores, E> {
                parse_cores(v).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Millicores, E> {
                if v <= 0 {
                    return bounded(0, v).map_err(E::custom);
                }
                bounded(u64::try_from(v).unwrap_or(0).saturating_mul(1000), v).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Millicores, E> {
                bounded(v.saturating_mul(1000), v).map_err(E::custom)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Millicores, E> {
                cores_of_f64(v).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

impl Serialize for Millicores {
    /// A whole number of cores as an integer (`2`, as before fractions
    /// existed), a fraction as a number (`0.5`).
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.as_whole() {
            Some(n) => s.serialize_u32(n),
            None => s.serialize_f64(self.cores()),
        }
    }
}

/// The JSON Schema `pattern` of cores written as text.
/// A positive number of cores with at most three decimals, or a positive
/// count of millicores: a nonzero digit somewhere, without lookahead (JSON
/// Schema's regex dialects differ in it).
pub const CORES_PATTERN: &str = r"^\s*([0-9]*[1-9][0-9]*(\.[0-9]{1,3})?|[0-9]+\.([1-9][0-9]{0,2}|[0-9][1-9][0-9]?|[0-9]{2}[1-9])|[0-9]*[1-9][0-9]*\s*m)\s*$";

impl schemars::JsonSchema for Millicores {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Cores".into()
    }

    fn schema_id() -> std::borrow::Cow<'static, str> {
        concat!(module_path!(), "::Millicores").into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "Cores: a number (2, 0.5; at most three decimals) or Kubernetes millicores (\"500m\"). At least 0.001 (\"1m\"), at most 1000000.",
            "anyOf": [
                { "type": "number", "exclusiveMinimum": 0, "maximum": MAX_CORES },
                { "type": "string", "pattern": CORES_PATTERN },
            ],
            "examples": [2, 0.5, "500m"],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_is_the_same_millicores() {
        for (text, m) in [
            ("500m", 500),
            ("1500m", 1500),
            ("1m", 1),
            ("2", 2000),
            ("1.5", 1500),
            ("0.125", 125),
            ("0.5", 500),
            (" 250 m ", 250),
        ] {
            assert_eq!(parse_cores(text), Ok(Millicores(m)), "{text}");
        }
        assert_eq!(cores_of_f64(0.5), Ok(Millicores(500)));
        assert_eq!(cores_of_f64(0.1), Ok(Millicores(100)));
        assert_eq!(cores_of_f64(2.0), Ok(Millicores(2000)));
        assert_eq!(cores_of_f64(0.001), Ok(Millicores(1)));
    }

    #[test]
    fn refusals_say_why() {
        assert!(
            parse_cores("500x")
                .unwrap_err()
                .contains("not a number of cores")
        );
        assert!(parse_cores("m").unwrap_err().contains("millicores"));
        assert!(parse_cores("1.5m").unwrap_err().contains("millicores"));
        assert!(parse_cores("0m").unwrap_err().contains("more than zero"));
        assert!(parse_cores("0").unwrap_err().contains("more than zero"));
        assert!(parse_cores("-1").unwrap_err().contains("not a number"));
        assert!(
            parse_cores("0.0005")
                .unwrap_err()
                .contains("three decimals")
        );
        assert!(cores_of_f64(0.0005).unwrap_err().contains("three decimals"));
        // The value suggested is one a file may give: not 0.000.
        assert!(
            parse_cores("0.0001")
                .unwrap_err()
                .ends_with("e.g. \"0.001\"")
        );
        assert!(cores_of_f64(0.0001).unwrap_err().ends_with("e.g. 0.001"));
        assert!(cores_of_f64(-0.5).unwrap_err().contains("more than zero"));
        assert!(parse_cores("1000001").unwrap_err().contains("more than"));
    }

    #[test]
    fn printed_as_the_shortest_exact_decimal() {
        let p = |m| Millicores(m).to_string();
        assert_eq!(
            (p(2000), p(500), p(2250), p(125), p(1)),
            (
                "2".into(),
                "0.5".into(),
                "2.25".into(),
                "0.125".into(),
                "0.001".into()
            )
        );
        assert_eq!(
            (
                Millicores(500).servers(),
                Millicores(2500).servers(),
                Millicores(3000).servers()
            ),
            (1, 3, 3)
        );
        assert_eq!(Millicores(500).capacity(1_000_001), 500_000);
        assert_eq!(Millicores(3000).capacity(7), 21);
    }
}
