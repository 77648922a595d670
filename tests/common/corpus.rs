//! The malformed-input corpora (`tests/data/bad*/`): loading a case's
//! header and checking a diagnostic against it.

use std::path::{Path, PathBuf};

use ztsim::config::Diagnostic;

/// The corpus folder `tests/data/<name>`.
pub fn corpus_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// The case files of a corpus: names ending in `suffix`, sorted.
pub fn corpus(name: &str, suffix: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus_dir(name))
        .unwrap_or_else(|e| panic!("tests/data/{name}: {e}"))
        .map(|e| e.expect("readable directory entry").path())
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    files.sort();
    files
}

/// A file's name, for NEEDS_FIX lists.
pub fn file_name(p: &Path) -> &str {
    p.file_name().and_then(|n| n.to_str()).unwrap_or("")
}

/// What a corpus file's header asks for (see tests/data/bad/README.md).
#[derive(Debug)]
pub struct Case {
    /// Where it is.
    pub path: PathBuf,
    /// Its path as shown, expected back in `Diagnostic::file`.
    pub file: String,
    /// Its contents.
    pub text: String,
    /// Texts the diagnostic must contain.
    pub expects: Vec<String>,
    /// Texts its help must contain.
    pub helps: Vec<String>,
    /// The line it must report; `None` for `-` (no line: not in a file).
    pub line: Option<usize>,
    /// The key path it must report; `None` for `*` (not checked).
    pub key: Option<String>,
    /// `# file:`: the diagnostic names this file (relative to the corpus)
    /// rather than the case itself.
    pub other_file: Option<String>,
}

impl Case {
    /// Reads `path` and its header.
    pub fn load(path: &Path) -> Case {
        // Lossy: a case may be a file that is not UTF-8 (its header is);
        // such a case is parsed from its path, not from this text.
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let mut case = Case {
            path: path.to_path_buf(),
            file: path.display().to_string(),
            text: text.clone(),
            expects: Vec::new(),
            helps: Vec::new(),
            line: None,
            key: None,
            other_file: None,
        };
        let mut at = 0;
        for l in text.lines().take_while(|l| l.starts_with('#')) {
            if let Some(v) = l.strip_prefix("# expect: ") {
                case.expects.push(v.to_string());
            } else if let Some(v) = l.strip_prefix("# help: ") {
                case.helps.push(v.to_string());
            } else if let Some(v) = l.strip_prefix("# file: ") {
                case.other_file = Some(v.to_string());
            } else if let Some(v) = l.strip_prefix("# at: ") {
                at += 1;
                let (line, key) = v
                    .split_once(':')
                    .unwrap_or_else(|| panic!("{}: `# at:` needs LINE:KEY", case.file));
                case.line = (line != "-").then(|| {
                    line.parse()
                        .unwrap_or_else(|_| panic!("{}: bad line number in `# at:`", case.file))
                });
                case.key = (key != "*").then(|| key.to_string());
            }
        }
        assert!(
            !case.expects.is_empty() && at == 1,
            "{}: the header needs at least one `# expect:` and exactly one `# at:` line (see tests/data/bad/README.md)",
            case.file
        );
        case
    }

    /// The file the diagnostic must name.
    pub fn want_file(&self) -> String {
        match &self.other_file {
            Some(f) => self
                .path
                .parent()
                .unwrap_or(Path::new("."))
                .join(f)
                .display()
                .to_string(),
            None => self.file.clone(),
        }
    }

    /// Whether `d` is the diagnostic the header asks for: its texts, file,
    /// line (with a column) and key.
    pub fn matches(&self, d: &Diagnostic) -> bool {
        let shown = d.to_string();
        let help = d.help.as_deref().unwrap_or("");
        self.expects.iter().all(|e| shown.contains(e.as_str()))
            && self.helps.iter().all(|h| help.contains(h.as_str()))
            && d.file == self.want_file()
            && d.line == self.line
            && (self.line.is_none() || d.column.is_some())
            && self
                .key
                .as_ref()
                .is_none_or(|k| d.key.as_ref().map(|p| p.to_string()).as_ref() == Some(k))
    }

    /// Ok if some diagnostic matches; else what was wanted and what came.
    pub fn check(&self, diags: &[Diagnostic]) -> Result<(), String> {
        if diags.iter().any(|d| self.matches(d)) {
            return Ok(());
        }
        Err(format!(
            "{}:\n  no diagnostic matches: file {}, line {}, key {}, containing {:?}{}\n  got:\n{}",
            self.file,
            self.want_file(),
            self.line.map_or("(none)".to_string(), |l| l.to_string()),
            self.key.as_deref().unwrap_or("*"),
            self.expects,
            if self.helps.is_empty() {
                String::new()
            } else {
                format!(" with help containing {:?}", self.helps)
            },
            diags.iter().map(describe).collect::<Vec<_>>().join("\n")
        ))
    }
}

/// A diagnostic with its location fields spelled out, for failure messages.
pub fn describe(d: &Diagnostic) -> String {
    format!(
        "    {d}\n      [file {:?}, line {:?}, column {:?}, key {:?}]",
        d.file,
        d.line,
        d.column,
        d.key.as_ref().map(|k| k.to_string())
    )
}

/// Runs `check` on every case of corpus `tests/data/<name>` (files ending in
/// `suffix`, at least `min_files` of them) and fails with every failure at
/// once. `check` gets each case and whether to check it fully: cases named
/// in `needs_fix` (each of which must exist) are only required to be
/// refused without a panic.
pub fn check_corpus(
    name: &str,
    suffix: &str,
    min_files: usize,
    needs_fix: &[&str],
    check: impl Fn(&Case, bool) -> Result<(), String>,
) {
    let files = corpus(name, suffix);
    assert!(
        files.len() >= min_files,
        "corpus went missing: {} files",
        files.len()
    );
    for known in needs_fix {
        assert!(
            files.iter().any(|f| file_name(f) == *known),
            "the NEEDS_FIX list names {known}, which is not in tests/data/{name}"
        );
    }
    let failures: Vec<String> = files
        .iter()
        .filter_map(|p| check(&Case::load(p), !needs_fix.contains(&file_name(p))).err())
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases of tests/data/{name} failed:\n\n{}",
        failures.len(),
        files.len(),
        failures.join("\n\n")
    );
}

/// Every diagnostic of a refusal, one per line, for assertion messages.
pub fn show_all(diags: &[Diagnostic]) -> String {
    diags
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}
