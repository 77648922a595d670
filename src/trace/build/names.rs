//! Names of services and endpoints made safe for the topology format and
//! unique within their scope.

use rustc_hash::FxHashMap;

/// Names made safe for the topology format (TOML keys joined by a dot in
/// `service.endpoint`): letters, digits, `_` and `-` only, at most 64
/// characters; names that become equal get `-2`, `-3`...
#[derive(Default)]
pub(super) struct Names {
    taken: FxHashMap<String, ()>,
}

impl Names {
    pub(super) fn unique(&mut self, raw: &str) -> String {
        let base = safe_name(raw);
        let mut name = base.clone();
        let mut n = 2;
        while self.taken.contains_key(&name) {
            name = format!("{base}-{n}");
            n += 1;
        }
        self.taken.insert(name.clone(), ());
        name
    }
}

/// `raw` with every run of other characters turned into one `_`, trimmed
/// of `_`, at most 64 characters; "unnamed" if nothing is left.
pub fn safe_name(raw: &str) -> String {
    let mut out = String::new();
    for c in raw.chars() {
        if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
            out.push(c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let out = out.trim_matches('_');
    let out: String = out.chars().take(64).collect();
    let out = out.trim_end_matches('_');
    if out.is_empty() {
        "unnamed".into()
    } else {
        out.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_safe_and_unique() {
        assert_eq!(safe_name("GET /api/cart/{id}"), "GET_api_cart_id");
        assert_eq!(
            safe_name("oteldemo.CartService/GetCart"),
            "oteldemo_CartService_GetCart"
        );
        assert_eq!(safe_name("..."), "unnamed");
        let mut n = Names::default();
        assert_eq!(n.unique("a b"), "a_b");
        assert_eq!(n.unique("a/b"), "a_b-2");
        assert_eq!(safe_name(&"x".repeat(100)).len(), 64);
    }
}
