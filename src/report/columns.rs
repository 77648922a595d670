//! Terminal tables: column widths from the cells, so a long service or
//! endpoint name widens its column instead of shifting the rest; a name
//! beyond `MAX_CELL` characters is shortened in the middle, where names
//! from generated or imported topologies repeat least.

/// The widest a cell may be before it is shortened.
pub const MAX_CELL: usize = 48;

/// `rows` (the header first) as lines indented by `indent`, each column as
/// wide as its widest cell; `right[c]` aligns column `c` to the right.
pub fn layout(rows: &[Vec<String>], right: &[bool], indent: &str) -> String {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|c| shorten(c, MAX_CELL)).collect())
        .collect();
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for r in &rows {
        let cells: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(c, s)| {
                let pad = " ".repeat(widths[c] - s.chars().count());
                if right.get(c).copied().unwrap_or(false) {
                    format!("{pad}{s}")
                } else {
                    format!("{s}{pad}")
                }
            })
            .collect();
        out.push_str(indent);
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// `text` if it fits in `max` characters, else its start and end joined by
/// an ellipsis.
pub fn shorten(text: &str, max: usize) -> String {
    let n = text.chars().count();
    if n <= max {
        return text.to_string();
    }
    let head = (max - 1) / 2;
    let tail = max - 1 - head;
    let start: String = text.chars().take(head).collect();
    let end: String = text.chars().skip(n - tail).collect();
    format!("{start}…{end}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_follow_the_widest_cell() {
        let rows = vec![
            vec!["name".to_string(), "p99".into()],
            vec!["a-very-long-service-name.endpoint".into(), "12.5".into()],
            vec!["b".into(), "3.25".into()],
        ];
        let t = layout(&rows, &[false, true], "");
        let lines: Vec<&str> = t.lines().collect();
        // Every row's last column ends at the same column.
        let ends: Vec<usize> = lines.iter().map(|l| l.chars().count()).collect();
        assert_eq!(ends, vec![ends[0]; 3], "{t}");
        assert_eq!(lines[2], "b                                  3.25");
    }

    #[test]
    fn long_names_are_shortened_in_the_middle() {
        let long = format!("{}-{}", "x".repeat(40), "y".repeat(40));
        let s = shorten(&long, 20);
        assert_eq!(s.chars().count(), 20);
        assert!(s.starts_with("xxxxxxxxx") && s.ends_with("yyyyyyyyyy") && s.contains('…'));
        assert_eq!(shorten("short", 20), "short");
    }
}
