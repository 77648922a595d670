//! The house rules of ARCHITECTURE.md, checked on the source itself: layers
//! point one way, no two files import each other (nor close a longer cycle),
//! no file runs past about 800 lines without saying why, and every relative
//! link in the Markdown docs resolves. A rule written only in prose drifts;
//! these fail the build instead.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use common::root;

/// Every `.rs` file under `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The module path of a source file: `src/model/sim/mod.rs` -> [model, sim].
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into()).collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The code of a file without comments, string contents and unit tests.
fn code_of(text: &str) -> String {
    let body = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => text,
    };
    let mut out = String::with_capacity(body.len());
    for line in body.lines() {
        let mut in_str = false;
        let mut prev = ' ';
        let mut kept = String::new();
        for (i, c) in line.char_indices() {
            if !in_str && c == '/' && line[i..].starts_with("//") {
                break;
            }
            if c == '"' && prev != '\\' {
                in_str = !in_str;
            } else if !in_str {
                kept.push(c);
            }
            prev = c;
        }
        out.push_str(&kept);
        out.push('\n');
    }
    out
}

/// The paths a file names (`use` trees expanded, plus inline `crate::a::b`,
/// `super::x`), as module paths from the crate root.
fn named_paths(me: &[String], code: &str) -> Vec<Vec<String>> {
    let mut raw = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("use ") {
        let before = rest[..i].chars().last();
        let tail = &rest[i + 4..];
        let end = tail.find(';').unwrap_or(tail.len());
        if before.is_none_or(|c| !c.is_alphanumeric() && c != '_') {
            let tree: String = tail[..end].chars().filter(|c| !c.is_whitespace()).collect();
            expand(&tree, "", &mut raw);
        }
        rest = &tail[end..];
    }
    let text = code;
    for start in ["crate::", "super::", "self::"] {
        let mut from = 0;
        while let Some(i) = text[from..].find(start) {
            let at = from + i;
            let ok = at == 0 || {
                let c = text[..at].chars().last().unwrap();
                !c.is_alphanumeric() && c != '_' && c != ':'
            };
            let path: String = text[at..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            if ok {
                raw.push(path.trim_end_matches(':').to_string());
            }
            from = at + start.len();
        }
    }
    raw.iter()
        .filter_map(|p| {
            let parts: Vec<&str> = p.split("::").filter(|s| !s.is_empty()).collect();
            let (base, skip): (Vec<String>, usize) = match parts.first() {
                Some(&"crate") => (Vec::new(), 1),
                Some(&"super") => {
                    let mut b = me.to_vec();
                    let mut k = 0;
                    while parts.get(k) == Some(&"super") {
                        b.pop();
                        k += 1;
                    }
                    (b, k)
                }
                Some(&"self") => (me.to_vec(), 1),
                _ => return None,
            };
            let mut full = base;
            full.extend(parts[skip..].iter().map(|s| s.to_string()));
            Some(full)
        })
        .collect()
}

/// Expands a `use` tree (`a::{b, c::{d, e}}`) into its paths.
fn expand(tree: &str, prefix: &str, out: &mut Vec<String>) {
    match tree.find('{') {
        None => out.push(format!("{prefix}{tree}")),
        Some(open) => {
            let head = &tree[..open];
            let close = tree.rfind('}').unwrap_or(tree.len());
            let body = &tree[open + 1..close];
            let (mut depth, mut start) = (0, 0);
            for (i, c) in body.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        expand(&body[start..i], &format!("{prefix}{head}"), out);
                        start = i + 1;
                    }
                    _ => {}
                }
            }
            if start < body.len() {
                expand(&body[start..], &format!("{prefix}{head}"), out);
            }
        }
    }
}

/// The crate's files and, for each, the files it imports.
fn import_graph() -> BTreeMap<PathBuf, BTreeSet<PathBuf>> {
    let src = root().join("src");
    let files = rust_files(&src);
    let by_module: BTreeMap<Vec<String>, PathBuf> = files
        .iter()
        .filter(|f| !f.ends_with("main.rs"))
        .map(|f| (module_of(&src, f), f.clone()))
        .collect();
    let mut graph = BTreeMap::new();
    for f in &files {
        let me = module_of(&src, f);
        let code = code_of(&fs::read_to_string(f).unwrap());
        let mut deps = BTreeSet::new();
        for path in named_paths(&me, &code) {
            // The longest prefix of the path that is a file of the crate.
            let target = (1..=path.len())
                .rev()
                .find_map(|k| by_module.get(&path[..k]));
            if let Some(t) = target.filter(|t| *t != f) {
                deps.insert(t.clone());
            }
        }
        graph.insert(f.clone(), deps);
    }
    graph
}

#[test]
fn no_two_files_import_each_other_nor_close_a_cycle() {
    let graph = import_graph();
    // Depth-first search for a back edge, iteratively.
    let mut state: BTreeMap<&PathBuf, u8> = BTreeMap::new(); // 1 on the stack, 2 done
    let mut cycles = Vec::new();
    for start in graph.keys() {
        if state.contains_key(start) {
            continue;
        }
        let mut stack: Vec<(&PathBuf, Vec<&PathBuf>)> =
            vec![(start, graph[start].iter().collect())];
        state.insert(start, 1);
        while let Some((node, next)) = stack.last_mut() {
            match next.pop() {
                Some(n) => match state.get(n) {
                    None => {
                        state.insert(n, 1);
                        stack.push((n, graph[n].iter().collect()));
                    }
                    Some(1) => {
                        let from = stack.iter().position(|(p, _)| *p == n).unwrap();
                        let ring: Vec<String> = stack[from..]
                            .iter()
                            .map(|(p, _)| p.display().to_string())
                            .collect();
                        cycles.push(ring.join(" -> "));
                    }
                    _ => {}
                },
                None => {
                    state.insert(node, 2);
                    stack.pop();
                }
            }
        }
    }
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}

/// Which top-level modules each layer may name (ARCHITECTURE.md, Layers).
const LAYERS: [(&str, &[&str]); 9] = [
    ("units", &[]),
    ("engine", &["units"]),
    ("model", &["units", "engine"]),
    ("config", &["units", "engine", "model"]),
    ("trace", &["units", "engine", "model", "config"]),
    ("report", &["units", "engine", "model", "config"]),
    ("charts", &["units", "engine", "model", "config", "report"]),
    (
        "study",
        &[
            "units", "engine", "model", "config", "report", "charts", "trace",
        ],
    ),
    ("cli", &[]), // the binary: anything
];

#[test]
fn layers_point_one_way() {
    let src = root().join("src");
    let graph = import_graph();
    let mut wrong = Vec::new();
    for (file, deps) in &graph {
        let me = module_of(&src, file);
        let Some(layer) = me.first() else { continue };
        let Some((_, allowed)) = LAYERS.iter().find(|(l, _)| l == layer) else {
            continue;
        };
        if layer == "cli" {
            continue;
        }
        for d in deps {
            let theirs = module_of(&src, d);
            let Some(top) = theirs.first() else { continue };
            if top != layer && !allowed.contains(&top.as_str()) {
                wrong.push(format!("{} imports {}", file.display(), d.display()));
            }
        }
    }
    assert!(wrong.is_empty(), "layer violations:\n{}", wrong.join("\n"));
    // The check itself sees imports: the state machine names the engine.
    let sim = src.join("model/sim/mod.rs");
    assert!(
        graph[&sim]
            .iter()
            .any(|d| d.starts_with(src.join("engine")))
    );
}

#[test]
fn no_source_file_runs_past_800_lines_without_saying_why() {
    let long: Vec<String> = rust_files(&root().join("src"))
        .into_iter()
        .filter_map(|f| {
            let text = fs::read_to_string(&f).unwrap();
            let n = text.lines().count();
            (n > 800 && !text.contains("This file is long because"))
                .then(|| format!("{} ({n} lines)", f.display()))
        })
        .collect();
    assert!(long.is_empty(), "split these files: {long:?}");
}

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces
/// to hyphens, repeats numbered.
fn anchors(markdown: &str) -> BTreeSet<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = BTreeSet::new();
    let mut fenced = false;
    for line in markdown.lines() {
        if line.starts_with("```") {
            fenced = !fenced;
        }
        let Some(h) = line.strip_prefix('#').filter(|_| !fenced) else {
            continue;
        };
        let h = h.trim_start_matches('#').trim();
        let mut text = String::new();
        let mut chars = h.chars().peekable();
        // Link text only: [text](target) -> text.
        while let Some(c) = chars.next() {
            if c == ']' && chars.peek() == Some(&'(') {
                for c in chars.by_ref() {
                    if c == ')' {
                        break;
                    }
                }
            } else if c != '[' {
                text.push(c);
            }
        }
        let slug: String = text
            .to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric() || *c == '-' || *c == ' ' || *c == '_')
            .map(|c| if c == ' ' { '-' } else { c })
            .collect();
        let n = seen.entry(slug.clone()).or_insert(0);
        out.insert(if *n == 0 {
            slug.clone()
        } else {
            format!("{slug}-{n}")
        });
        *n += 1;
    }
    out
}

#[test]
fn every_relative_link_in_the_docs_resolves_inside_the_repository() {
    let repo = root();
    let mut docs: Vec<PathBuf> = ["README.md", "ARCHITECTURE.md"]
        .iter()
        .map(|f| repo.join(f))
        .collect();
    for dir in ["docs", "models", "topologies", "output"] {
        let mut stack = vec![repo.join(dir)];
        while let Some(d) = stack.pop() {
            for e in fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "md") {
                    docs.push(p);
                }
            }
        }
    }
    let repo_real = repo.canonicalize().unwrap();
    let mut broken = Vec::new();
    let mut checked = 0;
    for doc in &docs {
        let text = fs::read_to_string(doc).unwrap();
        let mut fenced = false;
        for line in text.lines() {
            if line.starts_with("```") {
                fenced = !fenced;
            }
            if fenced {
                continue;
            }
            let mut rest = line;
            while let Some(i) = rest.find("](") {
                let tail = &rest[i + 2..];
                let end = tail.find(')').unwrap_or(tail.len());
                let target = &tail[..end];
                rest = &tail[end..];
                if target.contains("://") || target.starts_with("mailto:") || target.contains(' ') {
                    continue;
                }
                checked += 1;
                let (path, anchor) = target.split_once('#').unwrap_or((target, ""));
                let file = if path.is_empty() {
                    doc.clone()
                } else {
                    doc.parent().unwrap().join(path)
                };
                let real = file.canonicalize();
                let ok = match &real {
                    Ok(r) if !r.starts_with(&repo_real) => false,
                    Ok(r) if !anchor.is_empty() => {
                        anchors(&fs::read_to_string(r).unwrap_or_default()).contains(anchor)
                    }
                    Ok(_) => true,
                    Err(_) => false,
                };
                if !ok {
                    broken.push(format!("{}: {target}", doc.display()));
                }
            }
        }
    }
    assert!(
        checked > 100,
        "only {checked} links found: is the scan broken?"
    );
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}
