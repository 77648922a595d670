//! Diagnostics for hand-written TOML inputs. Every problem names the file,
//! line, column and dotted key, says what is wrong and what would be valid.
//! This file owns the types and the location of problems in the source;
//! `explain.rs` rewrites serde's messages and suggests names
//! (`did_you_mean`); `tests.rs` holds the unit tests.

mod explain;

use std::fmt::{self, Write as _};
use std::ops::Range;

use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

pub use self::explain::did_you_mean;
use self::explain::{explain, unknown_field};

/// One step of a key path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    /// A table key.
    Key(String),
    /// A zero-based array index (also used for `[[array.of.tables]]`).
    Index(usize),
}

/// A key path such as `services.cart.replicas` or `workload.entry[2].weight`.
///
/// Displays as dotted keys and `[i]` indices; keys that are not bare TOML keys
/// are quoted (`"a b"`) so the output can be pasted back into a file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KeyPath(pub Vec<Seg>);

impl KeyPath {
    /// The document root (empty path).
    pub fn root() -> Self {
        Self::default()
    }

    /// A copy of this path extended by table key `k`.
    pub fn key(&self, k: &str) -> Self {
        self.with(Seg::Key(k.to_owned()))
    }

    /// A copy of this path extended by array index `i`.
    pub fn index(&self, i: usize) -> Self {
        self.with(Seg::Index(i))
    }

    /// Whether this is the document root.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    fn with(&self, seg: Seg) -> Self {
        let mut path = self.clone();
        path.0.push(seg);
        path
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Index(i) => write!(f, "[{i}]")?,
                Seg::Key(k) => {
                    if n > 0 {
                        f.write_char('.')?;
                    }
                    let bare = !k.is_empty()
                        && k.chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                    if bare {
                        f.write_str(k)?;
                    } else {
                        write_basic_string(f, k)?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// Writes `s` as a TOML basic string.
fn write_basic_string(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            c if c.is_control() => write!(f, "\\u{:04X}", u32::from(c))?,
            c => f.write_char(c)?,
        }
    }
    f.write_char('"')
}

/// A problem in an input file.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    /// File name as given by the user.
    pub file: String,
    /// 1-based line.
    pub line: Option<usize>,
    /// 1-based column, counted in characters.
    pub column: Option<usize>,
    /// Key the problem is about.
    pub key: Option<KeyPath>,
    /// What is wrong and what would be valid.
    pub message: String,
    /// An extra hint such as "did you mean `replicas`?".
    pub help: Option<String>,
}

impl Diagnostic {
    /// A diagnostic about a whole file (no position or key), e.g. an I/O error.
    pub fn new(file: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            file: file.into(),
            line: None,
            column: None,
            key: None,
            message: message.into(),
            help: None,
        }
    }

    /// The diagnostic as a warning: `warning: ` and the diagnostic (a key
    /// that has no effect, which the file may keep; nothing is refused).
    pub fn warning(&self) -> String {
        format!("warning: {self}")
    }

    /// Adds a help line.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// `file:line:col: key: message`, then `  help: ...` on a second line; absent
/// parts are left out together with their separators.
impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut location = self.file.clone();
        if let Some(line) = self.line {
            write!(location, ":{line}")?;
            if let Some(col) = self.column {
                write!(location, ":{col}")?;
            }
        }
        let location = location.trim_start_matches(':');
        if !location.is_empty() {
            write!(f, "{location}: ")?;
        }
        if let Some(key) = self.key.as_ref().filter(|k| !k.is_root()) {
            write!(f, "{key}: ")?;
        }
        f.write_str(&self.message)?;
        if let Some(help) = &self.help {
            write!(f, "\n  help: {help}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostic {}

/// Owned skeleton of the parsed document: just keys, spans and nesting, which
/// is all that locating paths needs. Copying it out of `DeTable` keeps
/// `Source` free of the borrow on the text.
#[derive(Debug)]
struct Node {
    span: Range<usize>,
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    Table(Vec<Entry>),
    Array(Vec<Node>),
    Scalar,
}

#[derive(Debug)]
struct Entry {
    key: String,
    key_span: Range<usize>,
    value: Node,
}

impl Node {
    fn table(t: &DeTable<'_>, span: Range<usize>) -> Self {
        let entries = t
            .iter()
            .map(|(k, v)| Entry {
                key: k.get_ref().to_string(),
                key_span: k.span(),
                value: Node::value(v),
            })
            .collect();
        Node {
            span,
            kind: Kind::Table(entries),
        }
    }

    fn value(v: &Spanned<DeValue<'_>>) -> Self {
        match v.get_ref() {
            DeValue::Table(t) => Node::table(t, v.span()),
            DeValue::Array(a) => Node {
                span: v.span(),
                kind: Kind::Array(a.iter().map(Node::value).collect()),
            },
            _ => Node {
                span: v.span(),
                kind: Kind::Scalar,
            },
        }
    }
}

/// A parsed input file, kept so that key paths reported by semantic validation
/// after deserialization can be turned back into positions.
#[derive(Debug)]
pub struct Source {
    file: String,
    text: String,
    root: Node,
}

impl Source {
    /// Parses `text` (the contents of `file`; nothing is read from disk).
    /// A syntax error comes back as a positioned [`Diagnostic`].
    pub fn parse(file: &str, text: &str) -> Result<Source, Diagnostic> {
        // The recoverable parser still yields a tree on error, which lets a
        // syntax error name the key it is in.
        let (root, errors) = DeTable::parse_recoverable(text);
        let source = Source {
            file: file.to_owned(),
            text: text.to_owned(),
            root: Node::table(root.get_ref(), root.span()),
        };
        match errors.first() {
            None => Ok(source),
            Some(e) => Err(source.syntax_error(e)),
        }
    }

    /// The file name as given.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The full text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Line and column (1-based) of the key at `path`, or of the value for
    /// array elements. For a path that does not exist, the position of its
    /// longest existing prefix; `None` if not even the first step exists.
    pub fn locate(&self, path: &KeyPath) -> Option<(usize, usize)> {
        self.resolve(path).0.map(|offset| self.position(offset))
    }

    /// True if every segment of `path` exists in the document.
    pub fn contains(&self, path: &KeyPath) -> bool {
        self.resolve(path).1.is_some()
    }

    /// The keys of the table at `path`, in file order (none when `path` is
    /// not a table of the document).
    pub fn keys(&self, path: &KeyPath) -> Vec<&str> {
        match self.resolve(path) {
            (
                _,
                Some(Node {
                    kind: Kind::Table(entries),
                    ..
                }),
            ) => entries.iter().map(|e| e.key.as_str()).collect(),
            _ => Vec::new(),
        }
    }

    /// Byte offset of the deepest existing prefix of `path`, and the node at
    /// `path` when the whole path exists.
    fn resolve(&self, path: &KeyPath) -> (Option<usize>, Option<&Node>) {
        let mut node = &self.root;
        let mut found = None;
        for seg in &path.0 {
            let step = match (seg, &node.kind) {
                (Seg::Key(k), Kind::Table(entries)) => entries
                    .iter()
                    .find(|e| e.key == *k)
                    .map(|e| (e.key_span.start, &e.value)),
                (Seg::Index(i), Kind::Array(items)) => items.get(*i).map(|n| (n.span.start, n)),
                _ => None,
            };
            let Some((start, next)) = step else {
                return (found, None);
            };
            found = Some(start);
            node = next;
        }
        (found, Some(node))
    }

    /// A problem with a required key the file lacks: it has no line of its
    /// own, so the diagnostic points at the file's start.
    pub fn missing(&self, path: &KeyPath, message: impl Into<String>) -> Diagnostic {
        let mut d = self.error(path, message);
        d.line = d.line.or(Some(1));
        d.column = d.column.or(Some(1));
        d
    }

    /// A diagnostic about `path`, positioned with [`Source::locate`].
    pub fn error(&self, path: &KeyPath, message: impl Into<String>) -> Diagnostic {
        let (line, column) = self.locate(path).unzip();
        Diagnostic {
            line,
            column,
            key: Some(path.clone()),
            ..Diagnostic::new(&self.file, message)
        }
    }

    /// Deserializes the whole document into `T`. Errors are positioned, carry
    /// the key path, use TOML terms instead of Rust ones, and unknown keys or
    /// variants get a "did you mean" hint when a valid name is close.
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, Diagnostic> {
        toml::from_str(&self.text).map_err(|e| {
            let (message, help) = explain(e.message());
            let mut d = self.at_span(e.span(), message, help);
            // Tables deserialized through a buffer (tagged enums) report
            // unknown keys at the table: point at the key itself instead.
            if let (Some(table), Some(name)) = (&d.key, unknown_field(e.message())) {
                let key = table.key(name);
                if self.contains(&key) {
                    (d.line, d.column) = self.locate(&key).unzip();
                    d.key = Some(key);
                }
            }
            d
        })
    }

    fn syntax_error(&self, e: &toml::de::Error) -> Diagnostic {
        let span = e.span();
        let mut message = format!("invalid TOML: {}", e.message().trim_end());
        let mut help = None;
        if e.message() == "duplicate key" {
            if let Some(name) = span.clone().and_then(|s| self.text.get(s)) {
                message = format!("invalid TOML: duplicate key `{name}`");
            }
            help = Some("each key and [table] may be defined only once per table".to_owned());
        } else if e.message().starts_with("string values must be quoted") {
            help = Some(r#"put text in quotes, e.g. timeout = "5ms""#.to_owned());
        }
        self.at_span(span, message, help)
    }

    fn at_span(
        &self,
        span: Option<Range<usize>>,
        message: String,
        help: Option<String>,
    ) -> Diagnostic {
        let (line, column) = span.as_ref().map(|s| self.position(s.start)).unzip();
        Diagnostic {
            line,
            column,
            key: span.and_then(|s| self.innermost(&s)),
            help,
            ..Diagnostic::new(&self.file, message)
        }
    }

    /// 1-based line and character column of a byte offset.
    fn position(&self, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &self.text[..offset];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        (
            before.matches('\n').count() + 1,
            before[line_start..].chars().count() + 1,
        )
    }

    /// The key path of the tightest key or value span containing `err`.
    ///
    /// Every node is visited because spans do not nest the way keys do: the
    /// value span of a `[table]` is its header, and its keys follow it.
    fn innermost(&self, err: &Range<usize>) -> Option<KeyPath> {
        let mut best = None;
        walk(&self.root, err, &mut Vec::new(), &mut best);
        best.map(|(path, _)| KeyPath(path))
    }
}

type Best = Option<(Vec<Seg>, usize)>;

fn walk(node: &Node, err: &Range<usize>, path: &mut Vec<Seg>, best: &mut Best) {
    match &node.kind {
        Kind::Table(entries) => {
            for e in entries {
                path.push(Seg::Key(e.key.clone()));
                consider(Some(&e.key_span), &e.value, err, path, best);
                path.pop();
            }
        }
        Kind::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(Seg::Index(i));
                consider(None, item, err, path, best);
                path.pop();
            }
        }
        Kind::Scalar => {}
    }
}

/// Records `path` if its key or value span contains `err` more tightly than
/// the best so far. On equal width the deeper path wins, so an
/// `[[array.of.tables]]` header maps to the element rather than the array.
fn consider(
    key_span: Option<&Range<usize>>,
    node: &Node,
    err: &Range<usize>,
    path: &mut Vec<Seg>,
    best: &mut Best,
) {
    let width = key_span
        .into_iter()
        .chain([&node.span])
        .filter(|s| s.start <= err.start && err.end <= s.end)
        .map(|s| s.len())
        .min();
    if let Some(width) = width {
        let better = best
            .as_ref()
            .is_none_or(|(p, w)| width < *w || (width == *w && path.len() > p.len()));
        if better {
            *best = Some((path.clone(), width));
        }
    }
    walk(node, err, path, best);
}

#[cfg(test)]
mod tests;
