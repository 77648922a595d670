//! serde and toml error messages rewritten in the user's terms: TOML keys
//! and types rather than Rust fields and types, with the valid names listed
//! and the likeliest one suggested (the suggestion, [`did_you_mean`], is
//! shared by every check that names something).

/// The key named by serde's "unknown field `x`, ..." message.
pub(super) fn unknown_field(msg: &str) -> Option<&str> {
    msg.strip_prefix("unknown field `")?
        .split_once('`')
        .map(|(name, _)| name)
}

/// Rewrites a serde/toml error message in the user's terms: TOML keys and
/// types rather than Rust fields and types. Returns the message and a help line.
pub(super) fn explain(msg: &str) -> (String, Option<String>) {
    let msg = msg.trim_end();
    for (prefix, choices) in [("unknown field `", false), ("unknown variant `", true)] {
        if let Some((name, rest)) = msg.strip_prefix(prefix).and_then(|r| r.split_once("`, ")) {
            // serde lists the alternatives in backticks: odd pieces of a split.
            let valid: Vec<&str> = rest.split('`').skip(1).step_by(2).collect();
            return unknown(choices, &[name], &valid);
        }
    }
    // toml's own wording when a struct variant of an enum has extra keys.
    if let Some((extra, valid)) = msg
        .strip_prefix("unexpected keys in table: ")
        .and_then(|r| r.split_once(", available keys: "))
    {
        let extra: Vec<&str> = extra.split(", ").collect();
        let valid: Vec<&str> = valid.split(", ").filter(|v| !v.is_empty()).collect();
        return unknown(false, &extra, &valid);
    }
    if let Some(name) = msg.strip_prefix("missing field ") {
        return (format!("missing required key {name}"), None);
    }
    for (prefix, lead) in [
        ("invalid type: ", "wrong type: found "),
        ("invalid value: ", "invalid value: found "),
    ] {
        if let Some((found, expected)) = msg
            .strip_prefix(prefix)
            .and_then(|r| r.rsplit_once(", expected "))
        {
            // Only the leading type word is serde's; the rest may quote user text.
            let found = [
                ("sequence", "array"),
                ("map", "table"),
                ("floating point", "float"),
                ("unit variant", "string"),
            ]
            .iter()
            .find_map(|(from, to)| found.strip_prefix(from).map(|rest| format!("{to}{rest}")))
            .unwrap_or_else(|| found.to_owned());
            // toml reads an integer past 64 bits as a wider one, which no
            // key accepts: its type is right and its size is not.
            if let Some(n) = found
                .strip_prefix("integer `")
                .and_then(|r| r.strip_suffix("` as i128").or(r.strip_suffix("` as u128")))
            {
                return (
                    format!(
                        "out of range: {n} is beyond the integers a TOML file holds ({} to {}), expected {}",
                        i64::MIN,
                        i64::MAX,
                        toml_expected(expected)
                    ),
                    None,
                );
            }
            return (
                format!("{lead}{found}, expected {}", toml_expected(expected)),
                None,
            );
        }
    }
    (msg.to_owned(), None)
}

/// Message and "did you mean" help for unknown keys (or enum choices).
fn unknown(choices: bool, names: &[&str], valid: &[&str]) -> (String, Option<String>) {
    let (noun, plural) = if choices {
        ("choice", "choices")
    } else {
        ("key", "keys")
    };
    let quote = |v: &[&str]| {
        v.iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let one = if names.len() == 1 { noun } else { plural };
    let head = format!("unknown {one} {}", quote(names));
    if valid.is_empty() {
        return (format!("{head}; no {plural} are allowed here"), None);
    }
    let help = names
        .first()
        .and_then(|n| did_you_mean(n, valid.iter().copied()))
        .map(|m| format!("did you mean `{m}`?"));
    (
        format!("{head}; valid {plural} here are {}", quote(valid)),
        help,
    )
}

/// Translates serde's "expected ..." wording for primitive Rust types.
fn toml_expected(expected: &str) -> &str {
    match expected {
        "u8" => "an integer from 0 to 255",
        "u16" => "an integer from 0 to 65535",
        "u32" => "an integer from 0 to 4294967295",
        "u64" | "u128" | "usize" => "a non-negative integer",
        "i8" => "an integer from -128 to 127",
        "i16" => "an integer from -32768 to 32767",
        "i32" => "an integer from -2147483648 to 2147483647",
        "i64" | "i128" | "isize" => "an integer",
        "f32" | "f64" => "a number",
        "a boolean" => "true or false",
        "a borrowed string" | "a character" => "a string",
        "a sequence" => "an array",
        "a map" => "a table",
        e if e.starts_with("struct ") => "a table",
        e => e,
    }
}

/// The candidate closest to a misspelt `name`, or `None` if nothing is close
/// enough to be a plausible typo. Case is ignored.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let name = name.to_lowercase();
    let len = name.chars().count();
    if len == 0 {
        return None;
    }
    // Jaro-Winkler favours shared prefixes (`timeout` vs `timeout_ms`); the
    // edit-distance bound catches short names (`cpu` vs `gpu`) that it scores
    // low. Requiring fewer edits than characters stops `a` matching `b`.
    let max_edits = (len / 3).max(1);
    candidates
        .into_iter()
        .filter_map(|c| {
            let lc = c.to_lowercase();
            let score = strsim::jaro_winkler(&name, &lc);
            let edits = strsim::damerau_levenshtein(&name, &lc);
            (score >= 0.85 || (edits <= max_edits && edits < len)).then_some((c, score))
        })
        // min_by keeps the first of equal scores, so candidate order breaks ties.
        .min_by(|a, b| b.1.total_cmp(&a.1))
        .map(|(c, _)| c)
}
