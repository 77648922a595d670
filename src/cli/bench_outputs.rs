//! `ztsim bench --sweep`: the default study's outputs measured, against the
//! sizes people can handle (`results.json` at most 2 MB, the folder at most
//! 5 MB).

use std::path::Path;

use ztsim::report::study::StudyResults;
use ztsim::study::folder::write_study_outputs;

/// Largest `results.json` of the default study, bytes.
pub const RESULTS_LIMIT: u64 = 2_000_000;
/// Largest folder of the default study, bytes.
pub const FOLDER_LIMIT: u64 = 5_000_000;

/// Writes `results` as the default study writes them into a scratch folder
/// under `root` and prints the sizes, largest kinds first.
pub fn sizes(results: &StudyResults, root: &Path) -> Result<(), String> {
    let dir = root.join(format!("ztsim-bench-outputs-{}", std::process::id()));
    let written = write_study_outputs(&dir, results, false).map_err(|e| format!("{e:?}"));
    let measured = written.and_then(|_| {
        let mut by_kind = std::collections::BTreeMap::<String, u64>::new();
        for e in std::fs::read_dir(&dir).map_err(|e| e.to_string())? {
            let path = e.map_err(|e| e.to_string())?.path();
            let size = std::fs::metadata(&path).map_err(|e| e.to_string())?.len();
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            let kind = match path.extension().and_then(|x| x.to_str()) {
                _ if name == "results.json" => "results.json".to_string(),
                Some(x) => format!("*.{x}"),
                None => name.to_string(),
            };
            *by_kind.entry(kind).or_default() += size;
        }
        Ok(by_kind)
    });
    let _ = std::fs::remove_dir_all(&dir);
    let by_kind = measured?;
    let total: u64 = by_kind.values().sum();
    let mut kinds: Vec<_> = by_kind.into_iter().collect();
    kinds.sort_by_key(|k| std::cmp::Reverse(k.1));
    let list: Vec<String> = kinds
        .iter()
        .map(|(k, n)| format!("{k} {:.2} MB", *n as f64 / 1e6))
        .collect();
    let json = kinds
        .iter()
        .find(|(k, _)| k == "results.json")
        .map_or(0, |(_, n)| *n);
    outln!(
        "default study's outputs: {:.2} MB in all (target <= {:.0} MB); results.json {:.2} MB (target <= {:.0} MB); {}",
        total as f64 / 1e6,
        FOLDER_LIMIT as f64 / 1e6,
        json as f64 / 1e6,
        RESULTS_LIMIT as f64 / 1e6,
        list.join(", ")
    );
    Ok(())
}
