//! Service-level objectives on end-to-end latency (`p99=50ms`, or on one
//! entry endpoint, `gateway.balance:p99=20ms`): what users write on the
//! command line and in study files. Verdicts of runs against
//! them live in `report::slo`, beside the summaries they judge.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::units;

/// Which latency figure an SLO bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Statistic {
    /// Mean latency.
    Mean,
    /// Median.
    P50,
    /// 90th percentile.
    P90,
    /// 95th percentile.
    P95,
    /// 99th percentile.
    P99,
    /// 99.9th percentile.
    P999,
}

/// The names accepted for each statistic, for parsing and messages.
const STATISTICS: [(&str, Statistic); 7] = [
    ("mean", Statistic::Mean),
    ("p50", Statistic::P50),
    ("p90", Statistic::P90),
    ("p95", Statistic::P95),
    ("p99", Statistic::P99),
    ("p999", Statistic::P999),
    ("p99.9", Statistic::P999),
];

impl Statistic {
    /// Its name as written in an SLO.
    pub fn name(self) -> &'static str {
        match self {
            Statistic::Mean => "mean",
            Statistic::P50 => "p50",
            Statistic::P90 => "p90",
            Statistic::P95 => "p95",
            Statistic::P99 => "p99",
            Statistic::P999 => "p99.9",
        }
    }
}

/// An objective on the end-to-end latency of user requests:
/// `statistic <= limit`, on all entry endpoints together or on one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Slo {
    /// The entry endpoint (`service.endpoint`) whose requests it bounds;
    /// None: all user requests together. Resolved against a topology by
    /// `config::entry_scope` where the topology is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// The bounded figure.
    pub statistic: Statistic,
    /// The bound in milliseconds.
    pub limit_ms: f64,
}

impl fmt::Display for Slo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(e) = &self.endpoint {
            write!(f, "{e} ")?;
        }
        write!(
            f,
            "{} <= {}",
            self.statistic.name(),
            units::format_nanos(self.limit_ms * 1e6)
        )
    }
}

/// Several SLOs as one phrase: `p99 <= 50 ms, mean <= 10 ms`.
pub fn list(slos: &[Slo]) -> String {
    slos.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// How an SLO is written, for messages.
pub const SYNTAX: &str = "write [ENDPOINT:]STATISTIC=LIMIT with STATISTIC one of mean, p50, p90, p95, p99, p99.9 (or p999), LIMIT a duration and ENDPOINT an entry endpoint (service.endpoint; without it, all requests together), e.g. p99=50ms or gateway.balance:p99=20ms";

impl Slo {
    /// Its figure's name: `p99`, or `gateway.balance p99` when scoped.
    pub fn label(&self) -> String {
        match &self.endpoint {
            Some(e) => format!("{e} {}", self.statistic.name()),
            None => self.statistic.name().to_string(),
        }
    }

    /// Its figure's name in a column name: `p99`, or `gateway.balance_p99`.
    pub fn column(&self) -> String {
        match &self.endpoint {
            Some(e) => format!("{e}_{}", self.statistic.name()),
            None => self.statistic.name().to_string(),
        }
    }

    /// Parses `p99=50ms` (also `p99<=50ms`, `mean=2.5ms`, `p99.9=1s`) and
    /// the same on one entry endpoint, `gateway.balance:p99=20ms`.
    pub fn parse(text: &str) -> Result<Slo, String> {
        let valid = SYNTAX;
        let (stat, limit) = text
            .split_once("<=")
            .or_else(|| text.split_once('='))
            .ok_or_else(|| format!("`{text}` is not an SLO; {valid}"))?;
        let (endpoint, stat) = match stat.rsplit_once(':') {
            Some((e, s)) => {
                let e = e.trim();
                if e.is_empty() || e.chars().any(char::is_whitespace) {
                    return Err(format!(
                        "`{e}` in `{text}` is not an endpoint name; {valid}"
                    ));
                }
                (Some(e.to_string()), s)
            }
            None => (None, stat),
        };
        let stat = stat.trim().to_ascii_lowercase();
        let statistic = STATISTICS
            .iter()
            .find(|(n, _)| *n == stat)
            .map(|&(_, s)| s)
            .ok_or_else(|| format!("`{stat}` is not a latency statistic; {valid}"))?;
        let ns = units::parse_duration(limit.trim())
            .map_err(|e| format!("`{}` in `{text}`: {e}; {valid}", limit.trim()))?;
        if ns == 0 {
            return Err(format!("`{text}`: a limit of zero cannot be met; {valid}"));
        }
        Ok(Slo {
            endpoint,
            statistic,
            limit_ms: ns as f64 * 1e-6,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms_users_write() {
        let s = Slo::parse("p99=50ms").unwrap();
        assert_eq!(s.statistic, Statistic::P99);
        assert!((s.limit_ms - 50.0).abs() < 1e-12);
        assert_eq!(Slo::parse("P99.9<=1s").unwrap().statistic, Statistic::P999);
        assert!((Slo::parse("mean = 2.5ms").unwrap().limit_ms - 2.5).abs() < 1e-12);
        assert_eq!(Slo::parse("p99=50ms").unwrap().to_string(), "p99 <= 50 ms");
    }

    #[test]
    fn parses_p95_and_endpoint_scopes() {
        let s = Slo::parse("p95=7ms").unwrap();
        assert_eq!((s.statistic, s.endpoint.as_deref()), (Statistic::P95, None));
        assert_eq!(s.to_string(), "p95 <= 7 ms");
        let s = Slo::parse("gateway.balance:p99=20ms").unwrap();
        assert_eq!(s.endpoint.as_deref(), Some("gateway.balance"));
        assert_eq!(s.statistic, Statistic::P99);
        assert!((s.limit_ms - 20.0).abs() < 1e-12);
        assert_eq!(s.to_string(), "gateway.balance p99 <= 20 ms");
        assert_eq!(s.label(), "gateway.balance p99");
        assert_eq!(s.column(), "gateway.balance_p99");
        let s = Slo::parse(" gateway.pay : P99.9 <= 1s").unwrap();
        assert_eq!(s.endpoint.as_deref(), Some("gateway.pay"));
        assert_eq!(s.statistic, Statistic::P999);
        assert_eq!(s.to_string(), "gateway.pay p99.9 <= 1 s");
        // Unscoped SLOs serialise as before; scoped ones carry the endpoint.
        let j = serde_json::to_string(&Slo::parse("p99=50ms").unwrap()).unwrap();
        assert_eq!(j, r#"{"statistic":"p99","limit_ms":50.0}"#);
        let back: Slo = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn refuses_what_is_not_an_slo() {
        for bad in [
            "p99",
            "p98=5ms",
            "p99=50",
            "p99=fast",
            "p99=0ms",
            "=5ms",
            ":p99=5ms",
            "a b:p99=5ms",
            "gateway.pay:=5ms",
            "gateway.pay:p97=5ms",
        ] {
            let e = Slo::parse(bad).unwrap_err();
            assert!(e.contains("p99=50ms"), "{bad}: {e}");
        }
    }
}
