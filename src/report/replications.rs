//! A study point's replications as `results.json` and saved points hold
//! them: one object per point instead of one summary per replication, its
//! keys written once and each figure an array of the replications' values
//! (`"p99": [18.8, 18.8, 19.2]`), or a single value when every replication
//! has the same (`"replicas": 2`). Per-replication figures are kept to 6
//! decimals, as `results.csv` prints them (their only other use), so the
//! CSV rebuilt from this form is byte for byte the one written before.
//! Where replications differ in shape (one saturated, one not) the subtree
//! holds each replication's own value under `"$each"`. Results written one
//! summary per replication still read.

use serde::de::Error as _;
use serde::ser::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::summary::Summary;
use crate::model::topology::MAX_REPLICATIONS;

/// The key of a subtree whose replications differ in shape.
const EACH: &str = "$each";

#[derive(Serialize, Deserialize)]
struct ByReplication {
    /// How many replications.
    count: usize,
    /// Their figures, keys once (null without replications).
    figures: Value,
}

/// Serialises `reps` as one object (`#[serde(with)]`).
pub fn serialize<S: Serializer>(reps: &[Summary], s: S) -> Result<S::Ok, S::Error> {
    let values = reps
        .iter()
        .map(|r| serde_json::to_value(r).map(plain))
        .collect::<Result<Vec<_>, _>>()
        .map_err(S::Error::custom)?;
    let figures = if values.is_empty() {
        Value::Null
    } else {
        zip(&values, true)
    };
    ByReplication {
        count: reps.len(),
        figures,
    }
    .serialize(s)
}

/// Reads either form back (`#[serde(with)]`).
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Summary>, D::Error> {
    let values = match Value::deserialize(d)? {
        // Written before: one summary per replication.
        Value::Array(old) => old,
        other => {
            let b: ByReplication = serde_json::from_value(other).map_err(D::Error::custom)?;
            // The count sizes what is unzipped: bounded before any of it is.
            if b.count > MAX_REPLICATIONS as usize {
                return Err(D::Error::custom(format!(
                    "replications.count is {}, beyond the {MAX_REPLICATIONS} replications a point may have",
                    b.count
                )));
            }
            if b.count == 0 {
                Vec::new()
            } else {
                unzip(b.figures, b.count, true).map_err(D::Error::custom)?
            }
        }
    };
    values
        .into_iter()
        .map(|v| serde_json::from_value(v).map_err(D::Error::custom))
        .collect()
}

/// One replication's summary with its estimates as bare numbers (a single
/// replication has no interval) and its numbers to 6 decimals.
fn plain(v: Value) -> Value {
    match v {
        Value::Object(m) => {
            let estimate = m.len() == 2
                && m.get("ci95").is_some_and(Value::is_null)
                && m.get("mean").is_some_and(Value::is_number);
            if estimate {
                return plain(m["mean"].clone());
            }
            Value::Object(m.into_iter().map(|(k, v)| (k, plain(v))).collect())
        }
        Value::Array(a) => Value::Array(a.into_iter().map(plain).collect()),
        Value::Number(n) if n.is_f64() => n
            .as_f64()
            .and_then(|x| format!("{x:.6}").parse::<f64>().ok())
            .and_then(serde_json::Number::from_f64)
            .map_or(Value::Number(n), Value::Number),
        other => other,
    }
}

fn scalar(v: &Value) -> bool {
    !matches!(v, Value::Object(_) | Value::Array(_))
}

/// The replications' values `vs` (same length, at least one) as one value.
/// `field`: a value of an object's key (where one value may stand for all).
fn zip(vs: &[Value], field: bool) -> Value {
    let first = &vs[0];
    match first {
        Value::Object(m)
            if vs.iter().all(|v| {
                v.as_object()
                    .is_some_and(|o| o.len() == m.len() && o.keys().all(|k| m.contains_key(k)))
            }) =>
        {
            let out: Map<String, Value> = m
                .keys()
                .map(|k| {
                    let children: Vec<Value> = vs.iter().map(|v| v[k].clone()).collect();
                    (k.clone(), zip(&children, true))
                })
                .collect();
            Value::Object(out)
        }
        Value::Array(a)
            if vs
                .iter()
                .all(|v| v.as_array().is_some_and(|b| b.len() == a.len())) =>
        {
            Value::Array(
                (0..a.len())
                    .map(|i| {
                        let children: Vec<Value> = vs.iter().map(|v| v[i].clone()).collect();
                        zip(&children, false)
                    })
                    .collect(),
            )
        }
        _ if vs.iter().all(scalar) => {
            if field && vs.iter().all(|v| v == first) {
                first.clone()
            } else {
                Value::Array(vs.to_vec())
            }
        }
        _ => Value::Object(Map::from_iter([(
            EACH.to_string(),
            Value::Array(vs.to_vec()),
        )])),
    }
}

/// The inverse of [`zip`]: `n` values.
fn unzip(z: Value, n: usize, field: bool) -> Result<Vec<Value>, String> {
    match z {
        Value::Object(m) if m.len() == 1 && m.contains_key(EACH) => match m.into_iter().next() {
            Some((_, Value::Array(a))) if a.len() == n => Ok(a),
            _ => Err(format!("`{EACH}` must hold {n} values")),
        },
        Value::Object(m) => {
            let mut out = vec![Map::new(); n];
            for (k, child) in m {
                for (o, v) in out.iter_mut().zip(unzip(child, n, true)?) {
                    o.insert(k.clone(), v);
                }
            }
            Ok(out.into_iter().map(Value::Object).collect())
        }
        // A figure: one value per replication.
        Value::Array(a) if a.first().is_some_and(scalar) => {
            if a.len() == n && a.iter().all(scalar) {
                Ok(a)
            } else {
                Err(format!(
                    "a figure must have {n} values, one per replication"
                ))
            }
        }
        Value::Array(a) => {
            let mut out = vec![Vec::with_capacity(a.len()); n];
            for item in a {
                for (o, v) in out.iter_mut().zip(unzip(item, n, false)?) {
                    o.push(v);
                }
            }
            Ok(out.into_iter().map(Value::Array).collect())
        }
        v if field => Ok(vec![v; n]),
        _ => Err("a list item must have one value per replication".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn round_trip(vs: &[Value]) -> Vec<Value> {
        unzip(zip(vs, true), vs.len(), true).unwrap()
    }

    #[test]
    fn zipped_figures_unzip_to_the_same_values() {
        let a = json!({"name": "a", "n": [1.5, 2.0], "e": [], "x": {"p": 1.0, "q": null},
                       "l": [{"k": "e1", "v": 3.0}, {"k": "e2", "v": 4.0}], "s": ["n1"]});
        let b = json!({"name": "a", "n": [1.5, 2.5], "e": [], "x": null,
                       "l": [{"k": "e1", "v": 3.5}, {"k": "e2", "v": 4.0}], "s": ["n1"]});
        let c = json!({"name": "a", "n": [1.5], "e": [], "x": {"p": 2.0, "q": 1.0},
                       "l": [{"k": "e1", "v": 3.0}, {"k": "e2", "v": 4.0}], "s": ["n1"]});
        let vs = [a, b, c];
        assert_eq!(round_trip(&vs), vs);
        let z = zip(&vs, true);
        // Keys once, equal values once, differing shapes each its own.
        assert_eq!(z["name"], json!("a"));
        assert_eq!(z["l"][0]["v"], json!([3.0, 3.5, 3.0]));
        assert_eq!(z["l"][1]["v"], json!(4.0));
        assert_eq!(z["s"], json!([["n1", "n1", "n1"]]));
        assert_eq!(z["x"][EACH].as_array().map(Vec::len), Some(3));
        assert_eq!(round_trip(&vs[..1]), vs[..1]);
    }

    #[test]
    fn estimates_of_one_replication_are_bare_numbers_to_6_decimals() {
        let v = json!({"e": {"mean": 1.2287989999999998, "ci95": null},
                       "u": {"mean": null, "ci95": null}, "k": 3});
        assert_eq!(
            plain(v),
            json!({"e": 1.228799, "u": {"mean": null, "ci95": null}, "k": 3})
        );
        // The CSV's 6 decimals survive the rounding exactly.
        for x in [1.2287989999999998, 0.0000004999, 2.5e-7, 1e12 + 0.1, -0.0] {
            let y: f64 = format!("{x:.6}").parse().unwrap();
            assert_eq!(format!("{y:.6}"), format!("{x:.6}"));
        }
    }
}
