//! Keys a design file sets that have no effect on the design it resolves
//! to: those of a part the simulation never reads ([`Design::off`], the rule
//! `Design::effective` resets by). They are warnings, never errors: a
//! design may be a template, and a study sweeps one parameter over every
//! design, applying or not.

use crate::config::diag::{Diagnostic, KeyPath, Source};
use crate::model::design::{AuthzMode, Design, Off, Part, Reuse};

/// Where a part's keys are in a design file: the table that holds them,
/// and either its one key or every key of the table but those read anyway.
struct Place {
    table: &'static [&'static str],
    only: Option<&'static str>,
    read_anyway: &'static [&'static str],
}

fn place(part: Part) -> Place {
    let table = |table| Place {
        table,
        only: None,
        read_anyway: &[],
    };
    let key = |table, key| Place {
        table,
        only: Some(key),
        read_anyway: &[],
    };
    match part {
        Part::Tls => Place {
            table: &["transport"],
            only: None,
            read_anyway: &["security", "terminate"],
        },
        Part::ClientFinish => key(&["transport", "cpu"], "client_finish"),
        Part::Streams => key(&["connections"], "max_concurrent_streams"),
        Part::PoolSize => key(&["connections"], "max_per_destination"),
        Part::Resumption => table(&["resumption"]),
        Part::Proxy => table(&["proxy"]),
        Part::Authz => table(&["authz"]),
        Part::PolicySidecar => key(&["authz"], "sidecar_cores"),
        Part::PolicyCpu => key(&["authz"], "eval_cpu"),
        Part::Authn => table(&["authn"]),
    }
}

/// The key that turns a part off for `off`, what it is, and the values that
/// would turn the part on (the file form's other choices).
pub(super) fn switch(off: Off) -> (&'static str, String, &'static str) {
    let quoted = |word: &str| format!("\"{word}\"");
    match off {
        Off::Plaintext => (
            "transport.security",
            quoted("plaintext"),
            "\"tls\" or \"mtls\"",
        ),
        Off::Tls13 => ("transport.tls_version", quoted("1.3"), "\"1.2\""),
        Off::OneStream(r) => ("connections.reuse", quoted(r.word()), "\"multiplex\""),
        Off::PerRequest => (
            "connections.reuse",
            quoted(Reuse::PerRequest.word()),
            "\"pool\" or \"multiplex\"",
        ),
        Off::NoTickets => ("resumption.tickets", "false".into(), "true"),
        Off::NoProxy => ("proxy.mode", quoted("none"), "\"sidecar\" or \"node\""),
        Off::NoPolicy => (
            "authz.mode",
            quoted(AuthzMode::None.word()),
            "\"in-process\", \"proxy\", \"sidecar\" or \"remote\"",
        ),
        Off::NoPolicySidecar(m) => ("authz.mode", quoted(m.word()), "\"sidecar\""),
        Off::RemotePolicy => (
            "authz.mode",
            quoted(AuthzMode::Remote.word()),
            "\"in-process\", \"proxy\" or \"sidecar\"",
        ),
        Off::NoJwt => (
            "authn.jwt",
            quoted("none"),
            "\"rs256\", \"es256\", \"eddsa\" or \"hs256\"",
        ),
    }
}

/// A warning for every key `src` sets in a part of `design` that is off,
/// located at its line: why it has no effect and what would make it apply.
/// A key that itself turns its part off (`authz.mode = "none"`) says what
/// is so, and is not warned about.
pub(super) fn warnings(src: &Source, design: &Design) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    for part in Part::ALL {
        let off = design.off(part);
        if off.is_empty() {
            continue;
        }
        let switches: Vec<_> = off.iter().map(|&o| switch(o)).collect();
        let is = switches
            .iter()
            .map(|(k, v, _)| format!("{k} is {v}"))
            .collect::<Vec<_>>()
            .join(" and ");
        let on = switches
            .iter()
            .map(|(k, _, v)| format!("{k} = {v}"))
            .collect::<Vec<_>>()
            .join(" and ");
        let place = place(part);
        let at = place
            .table
            .iter()
            .fold(KeyPath::root(), |path, k| path.key(k));
        for k in src.keys(&at) {
            if place.only.is_some_and(|only| only != k) || place.read_anyway.contains(&k) {
                continue;
            }
            let path = at.key(k);
            if switches.iter().any(|(s, _, _)| *s == path.to_string()) {
                continue;
            }
            let mut d = src.error(&path, format!("has no effect: {is} (it applies with {on})"));
            d.column = None;
            found.push(d);
        }
    }
    // In the file's order, as a reader goes through it.
    found.sort_by_key(|d| d.line);
    found
}

#[cfg(test)]
mod tests {
    use crate::config::design::parse_design_with_costs;

    /// The warnings of a design file's text, as printed.
    fn warned(text: &str) -> Vec<String> {
        let parsed =
            parse_design_with_costs("d.toml", text, None, None).unwrap_or_else(|e| panic!("{e:?}"));
        parsed.warnings.iter().map(|w| w.warning()).collect()
    }

    #[test]
    fn proxy_keys_without_a_proxy_warn() {
        assert_eq!(
            warned("[proxy]\nmode = \"none\"\nrequest_cpu = \"1ms\"\ncores = 4\n"),
            [
                "warning: d.toml:3: proxy.request_cpu: has no effect: proxy.mode is \"none\" (it applies with proxy.mode = \"sidecar\" or \"node\")",
                "warning: d.toml:4: proxy.cores: has no effect: proxy.mode is \"none\" (it applies with proxy.mode = \"sidecar\" or \"node\")",
            ]
        );
        assert!(warned("[proxy]\nmode = \"sidecar\"\nrequest_cpu = \"1ms\"\n").is_empty());
    }

    #[test]
    fn resumption_keys_warn_without_tickets_or_without_tls() {
        assert_eq!(
            warned(
                "[transport]\nsecurity = \"tls\"\n[resumption]\ntickets = false\nticket_ttl = \"1m\"\n"
            ),
            [
                "warning: d.toml:5: resumption.ticket_ttl: has no effect: resumption.tickets is false (it applies with resumption.tickets = true)"
            ]
        );
        // Tickets on a plaintext design: the switch itself has no effect.
        assert_eq!(
            warned("[resumption]\ntickets = true\n"),
            [
                "warning: d.toml:2: resumption.tickets: has no effect: transport.security is \"plaintext\" (it applies with transport.security = \"tls\" or \"mtls\")"
            ]
        );
        assert_eq!(
            warned("[resumption]\ntickets = false\ncache = \"per-service\"\n"),
            [
                "warning: d.toml:3: resumption.cache: has no effect: transport.security is \"plaintext\" and resumption.tickets is false (it applies with transport.security = \"tls\" or \"mtls\" and resumption.tickets = true)"
            ]
        );
        assert!(
            warned("[transport]\nsecurity = \"mtls\"\n[resumption]\ntickets = true\nticket_ttl = \"1m\"\n")
                .is_empty()
        );
    }

    #[test]
    fn authz_keys_without_policy_warn() {
        assert_eq!(
            warned("authz = { scope = \"edge\", cache_ttl = \"1s\" }\n"),
            [
                "warning: d.toml:1: authz.scope: has no effect: authz.mode is \"none\" (it applies with authz.mode = \"in-process\", \"proxy\", \"sidecar\" or \"remote\")",
                "warning: d.toml:1: authz.cache_ttl: has no effect: authz.mode is \"none\" (it applies with authz.mode = \"in-process\", \"proxy\", \"sidecar\" or \"remote\")",
            ]
        );
        assert!(warned("[authz]\nmode = \"in-process\"\ncache_ttl = \"1s\"\n").is_empty());
    }

    #[test]
    fn authn_keys_without_jwt_warn() {
        assert_eq!(
            warned("[authn]\njwt = \"none\"\nverify_cpu = \"10us\"\n"),
            [
                "warning: d.toml:3: authn.verify_cpu: has no effect: authn.jwt is \"none\" (it applies with authn.jwt = \"rs256\", \"es256\", \"eddsa\" or \"hs256\")"
            ]
        );
        assert!(warned("[authn]\njwt = \"hs256\"\nverify_cpu = \"10us\"\n").is_empty());
    }

    #[test]
    fn tls_keys_of_a_plaintext_design_warn_but_who_terminates() {
        let on = "(it applies with transport.security = \"tls\" or \"mtls\")";
        assert_eq!(
            warned(
                "[transport]\nsecurity = \"plaintext\"\nterminate = \"sidecar\"\nscope = \"edge\"\ntls_version = \"1.2\"\n[transport.cpu]\nserver_full = \"1ms\"\n[proxy]\nmode = \"sidecar\"\n"
            ),
            [
                format!(
                    "warning: d.toml:4: transport.scope: has no effect: transport.security is \"plaintext\" {on}"
                ),
                format!(
                    "warning: d.toml:5: transport.tls_version: has no effect: transport.security is \"plaintext\" {on}"
                ),
                format!(
                    "warning: d.toml:6: transport.cpu: has no effect: transport.security is \"plaintext\" {on}"
                ),
            ]
        );
        assert!(warned("[transport]\nsecurity = \"tls\"\nscope = \"edge\"\n").is_empty());
    }

    #[test]
    fn keys_read_under_one_setting_of_another_warn_under_the_others() {
        assert_eq!(
            warned(
                "[transport]\nsecurity = \"mtls\"\ntls_version = \"1.3\"\n[transport.cpu]\nclient_finish = \"10us\"\n[connections]\nreuse = \"per-request\"\nmax_per_destination = 8\nmax_concurrent_streams = 10\n[authz]\nmode = \"remote\"\npolicy = \"p.check\"\neval_cpu = \"1ms\"\nsidecar_cores = 2\n"
            ),
            [
                "warning: d.toml:5: transport.cpu.client_finish: has no effect: transport.tls_version is \"1.3\" (it applies with transport.tls_version = \"1.2\")",
                "warning: d.toml:8: connections.max_per_destination: has no effect: connections.reuse is \"per-request\" (it applies with connections.reuse = \"pool\" or \"multiplex\")",
                "warning: d.toml:9: connections.max_concurrent_streams: has no effect: connections.reuse is \"per-request\" (it applies with connections.reuse = \"multiplex\")",
                "warning: d.toml:13: authz.eval_cpu: has no effect: authz.mode is \"remote\" (it applies with authz.mode = \"in-process\", \"proxy\" or \"sidecar\")",
                "warning: d.toml:14: authz.sidecar_cores: has no effect: authz.mode is \"remote\" (it applies with authz.mode = \"sidecar\")",
            ]
        );
        // Each applies under the other setting.
        assert!(
            warned(
                "[transport]\nsecurity = \"mtls\"\ntls_version = \"1.2\"\n[transport.cpu]\nclient_finish = \"10us\"\n[connections]\nreuse = \"multiplex\"\nmax_per_destination = 8\nmax_concurrent_streams = 10\n[authz]\nmode = \"sidecar\"\neval_cpu = \"1ms\"\nsidecar_cores = 2\n"
            )
            .is_empty()
        );
    }

    #[test]
    fn switches_set_off_and_other_tables_do_not_warn() {
        let text = "[transport]\nsecurity = \"plaintext\"\nterminate = \"library\"\n[resumption]\ntickets = false\n[proxy]\nmode = \"none\"\n[authz]\nmode = \"none\"\n[authn]\njwt = \"none\"\n";
        assert!(warned(text).is_empty());
    }

    #[test]
    fn the_values_that_turn_a_part_on_are_the_schemas_other_choices() {
        use super::switch;
        use crate::model::design::Off;
        // The values that would turn a part on are every other choice the
        // schema allows for its switch.
        let schema: serde_json::Value = serde_json::from_str(&crate::config::schema::schema_json(
            crate::config::schema::SchemaKind::Design,
        ))
        .unwrap();
        for off in [Off::Plaintext, Off::NoProxy, Off::NoPolicy, Off::NoJwt] {
            let (key, is, on) = switch(off);
            let (t, k) = key.split_once('.').unwrap();
            let choices = schema_choices(&schema, t, k);
            let others: Vec<String> = choices
                .iter()
                .filter(|c| format!("\"{c}\"") != is)
                .map(|c| format!("\"{c}\""))
                .collect();
            assert_eq!(or_list(&others), on, "{key}");
        }
    }

    fn or_list(items: &[String]) -> String {
        match items {
            [] => String::new(),
            [one] => one.clone(),
            [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
        }
    }

    /// The string choices the design schema gives `table.key`.
    fn schema_choices(schema: &serde_json::Value, table: &str, key: &str) -> Vec<String> {
        // Follows a `$ref` (draft-07: `#/definitions/Name`), also one
        // wrapped in `allOf` beside a default.
        let resolve = |v: &serde_json::Value| -> serde_json::Value {
            let v = v.get("allOf").and_then(|a| a.get(0)).unwrap_or(v);
            match v.get("$ref").and_then(|r| r.as_str()) {
                Some(r) => schema.pointer(&r[1..]).unwrap().clone(),
                None => v.clone(),
            }
        };
        let t = resolve(&schema["properties"][table]);
        let mut k = resolve(&t["properties"][key]);
        // Option<T> is `anyOf: [T, null]`.
        if let Some(any) = k.get("anyOf").and_then(|a| a.as_array()) {
            k = resolve(&any[0]);
        }
        k["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("{table}.{key}: {k}"))
            .iter()
            .filter_map(|v| v.as_str().map(String::from))
            .collect()
    }
}
