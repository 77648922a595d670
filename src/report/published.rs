//! `ztsim published`: the presets against published measurements, as rows
//! of plain data (`Row`), `published.csv` and the table printed
//! ([docs/validation.md](../../docs/validation.md)).

use std::io;
use std::path::Path;

use super::csv_text;
use super::output::{create_dir, write_atomic};

/// One published figure and what ztsim made of the same setup.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The reference's tag in docs/sources.md (`istio-perf`, `linkerd-bench`).
    pub reference: &'static str,
    /// What is compared.
    pub row: String,
    /// Its unit (`ms`, `vCPU`, `ratio`).
    pub unit: &'static str,
    /// The published value.
    pub reference_value: f64,
    /// ztsim's value.
    pub ztsim: f64,
}

impl Row {
    /// (ztsim - reference) / reference.
    pub fn error(&self) -> f64 {
        (self.ztsim - self.reference_value) / self.reference_value
    }
}

/// The columns of `published.csv`.
pub const CSV_HEADER: &str = "reference,row,unit,reference_value,ztsim,error";

/// `published.csv`: one line per row, numbers to 4 significant decimals.
pub fn published_csv(rows: &[Row]) -> String {
    let mut out = format!("{CSV_HEADER}\n");
    for r in rows {
        let cells = [
            csv_text(r.reference),
            csv_text(&r.row),
            csv_text(r.unit),
            format!("{:.4}", r.reference_value),
            format!("{:.4}", r.ztsim),
            format!("{:.4}", r.error()),
        ];
        let quoted: Vec<String> = cells.iter().map(|c| quote(c)).collect();
        out.push_str(&quoted.join(","));
        out.push('\n');
    }
    out
}

fn quote(cell: &str) -> String {
    if cell.contains([',', '"', '\n']) {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell.to_string()
    }
}

/// Writes `published.csv` into `dir` (created if need be).
pub fn write_published(dir: &Path, rows: &[Row]) -> io::Result<()> {
    create_dir(dir)?;
    write_atomic(&dir.join("published.csv"), published_csv(rows).as_bytes())
}

/// The table printed on the terminal.
pub fn render_published(rows: &[Row]) -> String {
    let width = rows.iter().map(|r| r.row.len()).max().unwrap_or(3).max(3);
    let mut out = format!(
        "{:<14} {:<width$} {:>6} {:>10} {:>10} {:>8}\n",
        "reference", "row", "unit", "published", "ztsim", "error"
    );
    for r in rows {
        out.push_str(&format!(
            "{:<14} {:<width$} {:>6} {:>10.3} {:>10.3} {:>+7.0}%\n",
            r.reference,
            r.row,
            r.unit,
            r.reference_value,
            r.ztsim,
            r.error() * 100.0
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_become_csv_lines_with_their_error() {
        let rows = [Row {
            reference: "istio-perf",
            row: "added p90, two sidecars".into(),
            unit: "ms",
            reference_value: 0.2,
            ztsim: 0.25,
        }];
        assert_eq!(
            published_csv(&rows),
            format!(
                "{CSV_HEADER}\nistio-perf,\"added p90, two sidecars\",ms,0.2000,0.2500,0.2500\n"
            )
        );
        assert!(render_published(&rows).contains("+25%"));
    }
}
