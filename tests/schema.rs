//! `ztsim schema`: the JSON Schemas of topologies, designs and studies. Each
//! is a valid draft-07 schema, has the keys of its file kind, refuses unknown
//! keys as the parser does, accepts every shipped file and refuses the
//! structural mistakes of the bad-input corpora.

mod common;

use std::path::{Path, PathBuf};

use common::{root, ztsim};

use serde_json::Value;
use ztsim::config::schema::{SchemaKind, schema, schema_json};

fn schema_value(kind: SchemaKind) -> Value {
    serde_json::from_str(&schema_json(kind)).expect("the schema is valid JSON")
}

/// A TOML file as the JSON document a schema validator sees.
fn toml_as_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    let doc: toml::Value =
        toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::to_value(doc).unwrap()
}

fn files(dir: &str, keep: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.extension().is_some_and(|x| x == "toml")
                && keep(p.file_name().unwrap().to_str().unwrap())
        })
        .collect();
    out.sort();
    out
}

fn topologies() -> Vec<PathBuf> {
    files("topologies", |n| !n.ends_with(".study.toml"))
}

fn designs() -> Vec<PathBuf> {
    let mut v = files("models", |_| true);
    v.extend(files("topologies/migration", |n| {
        n.ends_with(".design.toml")
    }));
    v.extend(files("topologies/day", |n| n.ends_with(".design.toml")));
    v
}

fn studies() -> Vec<PathBuf> {
    files("topologies", |n| n.ends_with(".study.toml"))
}

fn validator(kind: SchemaKind) -> jsonschema::Validator {
    jsonschema::validator_for(&schema_value(kind)).expect("the schema compiles")
}

/// Every schema error for `doc`, one per line; empty when it validates.
fn errors(v: &jsonschema::Validator, doc: &Value) -> String {
    v.iter_errors(doc)
        .map(|e| format!("  at `{}`: {e}", e.instance_path()))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn schemas_are_valid_draft07_json_schemas() {
    for kind in SchemaKind::ALL {
        let s = schema_value(kind);
        assert_eq!(
            s["$schema"], "http://json-schema.org/draft-07/schema#",
            "{kind:?}"
        );
        assert!(s["title"].as_str().unwrap().contains(kind.name()));
        if let Err(e) = jsonschema::meta::validate(&s) {
            panic!("{kind:?}: the schema breaks the draft-07 meta-schema: {e}");
        }
        // The text is what `ztsim schema` prints: pretty, newline-terminated.
        let text = schema_json(kind);
        assert!(text.starts_with("{\n  \"$schema\"") && text.ends_with("}\n"));
        assert_eq!(schema(kind).as_value(), &s);
    }
}

fn top_keys(kind: SchemaKind) -> Vec<String> {
    schema_value(kind)["properties"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect()
}

#[test]
fn top_level_keys_match_the_file_kinds() {
    assert_eq!(
        top_keys(SchemaKind::Topology),
        [
            "name",
            "description",
            "network",
            "zones",
            "nodes",
            "services",
            "queues",
            "workload"
        ]
    );
    // `costs` names a profile file: not a table a study's `params` can sweep.
    let mut design = vec![
        "name".to_string(),
        "description".to_string(),
        "costs".to_string(),
    ];
    design.extend(ztsim::config::study::DESIGN_KEYS.map(String::from));
    // `[[override]]` entries are a list of tables: not swept.
    design.push("override".to_string());
    assert_eq!(top_keys(SchemaKind::Design), design);
    for key in ztsim::config::study::TOPOLOGY_KEYS {
        assert!(top_keys(SchemaKind::Topology).contains(&key.to_string()));
    }
    assert_eq!(
        top_keys(SchemaKind::Study),
        [
            "name",
            "title",
            "topology",
            "designs",
            "rates",
            "focus_rate",
            "blend_entries",
            "replications",
            "seed",
            "duration",
            "warmup",
            "slo",
            "params"
        ]
    );
    let t = schema_value(SchemaKind::Topology);
    assert_eq!(
        t["required"],
        serde_json::json!(["zones", "services", "workload"])
    );
    // A design's keys are all optional: an empty file is the plaintext design.
    assert!(schema_value(SchemaKind::Design).get("required").is_none());
}

/// Every table of the files refuses unknown keys (`deny_unknown_fields`),
/// while the maps of names (zones, services, endpoints, params) take any key.
#[test]
fn tables_refuse_unknown_keys_and_name_maps_do_not() {
    for kind in SchemaKind::ALL {
        let s = schema_value(kind);
        assert_eq!(s["additionalProperties"], false, "{kind:?} top level");
        for (name, def) in s["definitions"].as_object().unwrap() {
            if def["type"] == "object" {
                assert_eq!(def["additionalProperties"], false, "{kind:?} {name}");
            }
        }
    }
    let t = schema_value(SchemaKind::Topology);
    for key in ["zones", "services"] {
        assert_eq!(t["properties"][key]["type"], "object");
        assert!(
            t["properties"][key]["additionalProperties"].is_object(),
            "{key}"
        );
    }
    let endpoints = &t["definitions"]["ServiceFile"]["properties"]["endpoints"];
    assert!(endpoints["additionalProperties"].is_object());
    let s = schema_value(SchemaKind::Study);
    assert!(s["properties"]["params"]["additionalProperties"].is_object());
    // Every variant of a distribution table refuses unknown keys too.
    for variant in t["definitions"]["DistTable"]["oneOf"].as_array().unwrap() {
        assert_eq!(variant["additionalProperties"], false, "{variant}");
    }
}

#[test]
fn every_shipped_file_validates_against_its_schema() {
    let groups = [
        (SchemaKind::Topology, topologies()),
        (SchemaKind::Design, designs()),
        (SchemaKind::Study, studies()),
    ];
    for (kind, paths) in groups {
        assert!(!paths.is_empty(), "no {kind:?} files found");
        let v = validator(kind);
        for p in paths {
            let e = errors(&v, &toml_as_json(&p));
            assert!(
                e.is_empty(),
                "{} breaks the {kind:?} schema:\n{e}",
                p.display()
            );
        }
    }
}

/// The complete example of topologies/README.md validates too.
#[test]
fn the_readme_example_validates() {
    let readme = std::fs::read_to_string(root().join("topologies/README.md")).unwrap();
    let after = readme.split("## A complete example").nth(1).unwrap();
    let block = after.split("```toml\n").nth(1).unwrap();
    let block = block.split("```").next().unwrap();
    let doc: toml::Value = toml::from_str(block).unwrap();
    let e = errors(
        &validator(SchemaKind::Topology),
        &serde_json::to_value(doc).unwrap(),
    );
    assert!(e.is_empty(), "the README example breaks the schema:\n{e}");
}

fn assert_refused(kind: SchemaKind, dir: &str, names: &[&str]) {
    let v = validator(kind);
    for name in names {
        let p = root().join(dir).join(name);
        let doc = toml_as_json(&p);
        assert!(
            !v.is_valid(&doc),
            "{} passes the {kind:?} schema but ztsim refuses it",
            p.display()
        );
    }
}

/// Mistakes a schema can see (keys, types, units, choices, simple ranges
/// and the either/or rules) are refused as the parser refuses them. The
/// rest of the corpus (unknown names, cycles, p99 below the median, ...)
/// needs the whole file, which is `ztsim validate`'s job.
#[test]
fn structural_mistakes_fail_the_schema() {
    assert_refused(
        SchemaKind::Topology,
        "tests/data/bad",
        &[
            "unknown_key_typo.toml",
            "queue_capacity_zero.toml",
            "queue_concurrency_zero.toml",
            "queue_on_full_unknown.toml",
            "unknown_key_top_level.toml",
            "unknown_key_call.toml",
            "unknown_key_dist.toml",
            "unknown_key_endpoint.toml",
            "unknown_arrivals.toml",
            "unknown_balance.toml",
            "unknown_dist.toml",
            "wrong_type_cores.toml",
            "wrong_type_rate.toml",
            "wrong_type_stages.toml",
            "duration_bad_unit.toml",
            "duration_bare_number.toml",
            "duration_without_unit.toml",
            "negative_duration.toml",
            "negative_byte_size.toml",
            "negative_cores.toml",
            "zero_cores.toml",
            "zero_replicas.toml",
            "times_zero.toml",
            "probability_above_one.toml",
            "probability_negative.toml",
            "rate_negative.toml",
            "rate_zero.toml",
            "requests_zero.toml",
            "entry_weight_zero.toml",
            "empty_entry.toml",
            "empirical_empty.toml",
            "lognormal_both_pairs.toml",
            "both_duration_and_requests.toml",
            "no_duration_no_requests.toml",
            "closed_without_users.toml",
            "rate_with_closed_loop.toml",
            "users_with_open_loop.toml",
            "replay_without_file.toml",
            "replay_with_rate.toml",
            "replay_duration_and_requests.toml",
            "crashes_with_down.toml",
        ],
    );
    assert_refused(
        SchemaKind::Design,
        "tests/data/bad-designs",
        &[
            "unknown_key_typo.toml",
            "unknown_key_handshake_cpu.toml",
            "unknown_key_waypoint.toml",
            "unknown_table_typo.toml",
            "security_typo.toml",
            "certificate_typo.toml",
            "scope_typo.toml",
            "reuse_underscore.toml",
            "authz_mode_unknown.toml",
            "jwt_rs512.toml",
            "tls_version_1_1.toml",
            "tls_version_unknown.toml",
            "ticket_ttl_no_unit.toml",
            "verify_cpu_negative.toml",
            "pool_size_string.toml",
            "pool_size_zero.toml",
            "streams_zero.toml",
            "chain_length_zero.toml",
            "proxy_cores_zero.toml",
            "policy_sidecar_cores_zero.toml",
            "waypoint_zero_replicas.toml",
            "hello_retry_rate_above_one.toml",
            "renew_ratio_zero.toml",
            "renew_jitter_one.toml",
            "bulk_zero.toml",
            "token_without_issuer.toml",
            "remote_without_policy.toml",
            "policy_without_remote.toml",
        ],
    );
}

/// The value types by hand: what the custom deserializers accept.
#[test]
fn value_types_follow_the_deserializers() {
    let v = validator(SchemaKind::Topology);
    let topo = |rtt: Value, size: Value| {
        serde_json::json!({
            "zones": { "az1": { "rtt": rtt } },
            "services": { "api": { "endpoints": { "get": { "request_size": size } } } },
            "workload": {
                "arrivals": "poisson", "rate": 10, "duration": "1s",
                "entry": [{ "endpoint": "api.get" }]
            }
        })
    };
    let ok = serde_json::json!("1ms");
    for rtt in [
        "0.4ms", "250us", "250µs", "250μs", "2s", "5m", "24h", "100ns", " 5 ms ", "1.5h",
    ] {
        assert!(v.is_valid(&topo(rtt.into(), 0.into())), "{rtt}");
    }
    for rtt in ["5", "5sec", "5MS", "-5ms", ".5s", "5.s", "ms", ""] {
        assert!(!v.is_valid(&topo(rtt.into(), 0.into())), "{rtt}");
    }
    assert!(!v.is_valid(&topo(5.into(), 0.into())), "a bare number");
    let table = serde_json::json!({ "dist": "lognormal", "median": "1ms", "p99": "4ms" });
    assert!(v.is_valid(&topo(table, 0.into())));
    let table = serde_json::json!({ "dist": "histogram", "edges": ["0ms", "1ms"], "counts": [1] });
    assert!(v.is_valid(&topo(table, 0.into())));
    let table = serde_json::json!({ "dist": "lognormal", "median": "1ms" });
    assert!(!v.is_valid(&topo(table, 0.into())), "half a pair");
    for size in [
        serde_json::json!(4096),
        "4KiB".into(),
        "4kib".into(),
        "1.5MB".into(),
        "512 B".into(),
    ] {
        assert!(v.is_valid(&topo(ok.clone(), size.clone())), "{size}");
    }
    for size in [
        serde_json::json!(-1),
        1.5.into(),
        "4".into(),
        "4KB/s".into(),
        "4XB".into(),
    ] {
        assert!(!v.is_valid(&topo(ok.clone(), size.clone())), "{size}");
    }

    let d = validator(SchemaKind::Design);
    let version = |v: Value| serde_json::json!({ "transport": { "tls_version": v } });
    for good in [
        serde_json::json!("1.2"),
        "1.3".into(),
        1.2.into(),
        1.3.into(),
    ] {
        assert!(d.is_valid(&version(good.clone())), "{good}");
    }
    for bad in [
        serde_json::json!("1.1"),
        1.1.into(),
        1.into(),
        "TLS1.3".into(),
    ] {
        assert!(!d.is_valid(&version(bad.clone())), "{bad}");
    }
    assert!(d.is_valid(&serde_json::json!({})), "an empty design");
}

#[test]
fn the_command_prints_or_writes_each_schema() {
    for kind in SchemaKind::ALL {
        let out = ztsim(&["schema", kind.name()]);
        assert!(out.status.success());
        assert_eq!(String::from_utf8(out.stdout).unwrap(), schema_json(kind));
    }
    let dir = std::env::temp_dir().join(format!("ztsim-schema-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("design.schema.json");
    let out = ztsim(&["schema", "design", "--out", file.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        schema_json(SchemaKind::Design)
    );
    std::fs::remove_dir_all(&dir).unwrap();

    let out = ztsim(&["schema", "topologies"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("topology, design, study"), "{err}");

    let help = String::from_utf8(ztsim(&["schema", "--help"]).stdout).unwrap();
    assert!(
        help.contains("#:schema") && help.contains("Even Better TOML"),
        "{help}"
    );
}

/// A study's `slo` items: the statistics `Slo::parse` takes, optionally
/// after an entry endpoint (`gateway.balance:p99=20ms`).
#[test]
fn study_slo_items_take_endpoint_scopes_and_the_p95() {
    let v = validator(SchemaKind::Study);
    let study = |slo: &str| serde_json::json!({ "topology": "t.toml", "slo": [slo] });
    for good in [
        "p99=50ms",
        "p95=5ms",
        "gateway.balance:p99=20ms",
        " gateway.pay : p99.9 <= 1s",
    ] {
        assert!(
            v.is_valid(&study(good)),
            "{good}: {}",
            errors(&v, &study(good))
        );
    }
    for bad in ["p97=5ms", ":p99=5ms", "a b:p99=5ms", "gateway.pay:"] {
        assert!(!v.is_valid(&study(bad)), "{bad} should be refused");
    }
}
