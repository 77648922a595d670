//! Unit tests of the diagnostics: positions, keys and the rewritten messages.

use super::*;
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Doc {
    services: BTreeMap<String, Service>,
    workload: Option<Workload>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Service {
    replicas: u32,
    #[serde(default)]
    protocol: Option<Protocol>,
    #[serde(default)]
    timeout: Option<crate::units::Dur>,
}

#[derive(Deserialize, Debug)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
enum Protocol {
    Http,
    Grpc,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Workload {
    entry: Vec<Entry>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Entry {
    weight: f64,
    #[serde(default)]
    stages: Vec<Vec<u32>>,
}

fn path(s: &str) -> KeyPath {
    // Test helper: "a.b[1][0].c" -> segments.
    let mut p = KeyPath::root();
    for part in s.split('.') {
        let (key, idx) = part.split_once('[').unwrap_or((part, ""));
        if !key.is_empty() {
            p = p.key(key);
        }
        for i in idx.split(['[', ']']).filter(|i| !i.is_empty()) {
            p = p.index(i.parse().unwrap());
        }
    }
    p
}

fn de_err(text: &str) -> Diagnostic {
    let src = Source::parse("t.toml", text).unwrap();
    src.deserialize::<Doc>().unwrap_err()
}

const DOC: &str = r#"[services.cart]
replicas = 2

[services.web]
replicas = 1
limits = { cpu = 2, tags = ["a", "b"] }

[[workload.entry]]
weight = 1.0
stages = [[1, 2], [3]]

[[workload.entry]]
weight = 2.0
"#;

#[test]
fn syntax_error_has_position_and_key() {
    let d = Source::parse("t.toml", "[a]\nx = 1\nname = cart\n").unwrap_err();
    assert_eq!((d.line, d.column), (Some(3), Some(8)));
    assert!(
        d.message
            .starts_with("invalid TOML: string values must be quoted"),
        "{d}"
    );
    assert!(d.help.is_some());

    let d =
        Source::parse("t.toml", "[services.cart]\nreplicas = 2\n[services.cart]\n").unwrap_err();
    assert_eq!(
        d.to_string().lines().next(),
        Some("t.toml:3:11: services.cart: invalid TOML: duplicate key `cart`")
    );
}

#[test]
fn unknown_field_gets_suggestion() {
    let d = de_err("[services.cart]\nreplcas = 2\n");
    assert_eq!((d.line, d.column), (Some(2), Some(1)));
    assert_eq!(d.key, Some(path("services.cart.replcas")));
    assert_eq!(
        d.message,
        "unknown key `replcas`; valid keys here are `replicas`, `protocol`, `timeout`"
    );
    assert_eq!(d.help.as_deref(), Some("did you mean `replicas`?"));

    // Inline tables and far-off names: listed, but no suggestion.
    let d = de_err("services = { cart = { replicas = 1, zzzzzz = 2 } }\n");
    assert_eq!(d.key, Some(path("services.cart.zzzzzz")));
    assert_eq!((d.line, d.column), (Some(1), Some(37)));
    assert_eq!(d.help, None);
}

#[test]
fn unknown_variant_gets_suggestion() {
    let d = de_err("[services.cart]\nreplicas = 1\nprotocol = \"htp\"\n");
    assert_eq!(d.key, Some(path("services.cart.protocol")));
    assert_eq!((d.line, d.column), (Some(3), Some(12)));
    assert_eq!(
        d.message,
        "unknown choice `htp`; valid choices here are `http`, `grpc`"
    );
    assert_eq!(d.help.as_deref(), Some("did you mean `http`?"));
}

#[test]
fn wrong_type_and_value_messages() {
    let d = de_err("[services.cart]\nreplicas = \"2\"\n");
    assert_eq!(d.key, Some(path("services.cart.replicas")));
    assert_eq!((d.line, d.column), (Some(2), Some(12)));
    assert_eq!(
        d.message,
        "wrong type: found string \"2\", expected an integer from 0 to 4294967295"
    );

    let d = de_err("services = 3\n");
    assert_eq!(d.message, "wrong type: found integer `3`, expected a table");

    let d = de_err("[services.cart]\nreplicas = 99999999999999999999\n");
    assert_eq!((d.line, d.column), (Some(2), Some(12)));
    assert_eq!(
        d.message,
        "out of range: 99999999999999999999 is beyond the integers a TOML file holds (-9223372036854775808 to 9223372036854775807), expected an integer from 0 to 4294967295"
    );

    let d = de_err(
        "[services.a]\nreplicas = 1\n[[workload.entry]]\nweight = 1\n[[workload.entry]]\nweight = 2\nstages = [[1, -2]]\n",
    );
    assert_eq!(d.key, Some(path("workload.entry[1].stages[0][1]")));
    assert_eq!((d.line, d.column), (Some(7), Some(15)));
    assert!(
        d.message.starts_with("invalid value: found integer `-2`"),
        "{}",
        d.message
    );

    // Custom errors from unit parsing keep their wording and position.
    let d = de_err("[services.cart]\nreplicas = 1\ntimeout = \"5\"\n");
    assert_eq!(d.key, Some(path("services.cart.timeout")));
    assert_eq!((d.line, d.column), (Some(3), Some(11)));
    assert!(d.message.contains("has no unit"), "{}", d.message);
}

#[test]
fn enum_struct_variant_extra_key() {
    #[derive(Deserialize, Debug)]
    #[serde(rename_all = "snake_case")]
    #[allow(dead_code)]
    enum Dist {
        Fixed { value: u32 },
    }
    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct D {
        d: Dist,
    }
    let src = Source::parse("t.toml", "[d.fixed]\nvalu = 2\n").unwrap();
    let d = src.deserialize::<D>().unwrap_err();
    assert_eq!(d.key, Some(path("d.fixed.valu")));
    assert_eq!(d.message, "unknown key `valu`; valid keys here are `value`");
    assert_eq!(d.help.as_deref(), Some("did you mean `value`?"));
}

#[test]
fn missing_field_points_at_table() {
    let d = de_err("[services.cart]\nprotocol = \"http\"\n");
    assert_eq!(d.key, Some(path("services.cart")));
    assert_eq!((d.line, d.column), (Some(1), Some(1)));
    assert_eq!(d.message, "missing required key `replicas`");

    let d =
        de_err("[services.a]\nreplicas = 1\n[[workload.entry]]\nweight = 1\n[[workload.entry]]\n");
    assert_eq!(d.key, Some(path("workload.entry[1]")));
    assert_eq!(d.line, Some(5));

    let d = de_err("[services.a]\nreplicas = 1\n[workload]\n");
    assert_eq!(d.key, Some(path("workload")));
    assert_eq!(d.message, "missing required key `entry`");
}

#[test]
fn locate_paths() {
    let src = Source::parse("t.toml", DOC).unwrap();
    let at = |p: &str| src.locate(&path(p));
    assert_eq!(at("services"), Some((1, 2)));
    assert_eq!(at("services.cart"), Some((1, 11)));
    assert_eq!(at("services.cart.replicas"), Some((2, 1)));
    assert_eq!(at("services.web.limits.cpu"), Some((6, 12)));
    assert_eq!(at("services.web.limits.tags[1]"), Some((6, 34)));
    assert_eq!(at("workload.entry[0]"), Some((8, 1)));
    assert_eq!(at("workload.entry[1]"), Some((12, 1)));
    assert_eq!(at("workload.entry[1].weight"), Some((13, 1)));
    assert_eq!(at("workload.entry[0].stages[1][0]"), Some((10, 20)));
    // Missing tails fall back to the longest existing prefix.
    assert_eq!(at("workload.entry[7].weight"), Some((8, 12)));
    assert_eq!(at("services.cart.nope.deeper"), Some((1, 11)));
    assert_eq!(at("services.cart.replicas[0]"), Some((2, 1)));
    assert_eq!(at("nope"), None);
    assert_eq!(src.locate(&KeyPath::root()), None);
}

#[test]
fn columns_count_characters() {
    let src = Source::parse("t.toml", "\"é ü\" = { \"ключ\" = 1 }\n").unwrap();
    assert_eq!(src.locate(&path("é ü").key("ключ")), Some((1, 11)));
}

#[test]
fn semantic_error_at_path() {
    let src = Source::parse("topologies/shop.toml", DOC).unwrap();
    let d = src
        .error(&path("services.web.replicas"), "must be at least 1, got 0")
        .with_help("did you mean `replicas`?");
    assert_eq!(
        d.to_string(),
        "topologies/shop.toml:5:1: services.web.replicas: must be at least 1, got 0\n  help: did you mean `replicas`?"
    );
}

#[test]
fn display_omits_missing_parts() {
    let mut d = Diagnostic::new("f.toml", "cannot read file");
    assert_eq!(d.to_string(), "f.toml: cannot read file");
    d.line = Some(3);
    assert_eq!(d.to_string(), "f.toml:3: cannot read file");
    d.column = Some(7);
    d.key = Some(KeyPath::root());
    assert_eq!(d.to_string(), "f.toml:3:7: cannot read file");
    d.file.clear();
    d.key = Some(path("a"));
    assert_eq!(d.to_string(), "3:7: a: cannot read file");
}

#[test]
fn keypath_display() {
    let p = path("services.cart.endpoints.get.stages[1][0].call");
    assert_eq!(
        p.to_string(),
        "services.cart.endpoints.get.stages[1][0].call"
    );
    let p = KeyPath::root()
        .key("a b")
        .key("x\"y")
        .index(2)
        .key("ok_1-2")
        .key("");
    assert_eq!(p.to_string(), r#""a b"."x\"y"[2].ok_1-2."""#);
    assert_eq!(KeyPath::root().index(0).key("a").to_string(), "[0].a");
}

#[test]
fn did_you_mean_hits_and_misses() {
    let names = ["replicas", "protocol", "timeout_ms", "cpu"];
    assert_eq!(did_you_mean("replcas", names), Some("replicas"));
    assert_eq!(did_you_mean("Replicas", names), Some("replicas"));
    assert_eq!(did_you_mean("timeout", names), Some("timeout_ms"));
    assert_eq!(did_you_mean("gpu", names), Some("cpu"));
    assert_eq!(did_you_mean("zone", names), None);
    assert_eq!(did_you_mean("x", names), None);
    assert_eq!(did_you_mean("", names), None);
    assert_eq!(did_you_mean("cart", []), None);
}
