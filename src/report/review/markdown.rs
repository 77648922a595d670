//! The report as Markdown (GitHub-flavoured tables) for pasting into a
//! design document; the charts and the topology diagram are the image files
//! beside it in the study folder.

use std::fmt::Write;

use super::document::{Block, DIAGRAM_FILE, Document, Table};

/// Renders `doc`.
pub fn render(doc: &Document) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {}\n\n{}\n", text(&doc.title), text(&doc.subtitle));
    for s in &doc.sections {
        let _ = writeln!(out, "## {}\n", text(&s.heading));
        for b in &s.blocks {
            match b {
                Block::Text(t) => {
                    let _ = writeln!(out, "{}\n", text(t));
                }
                Block::List(items) => {
                    for i in items {
                        let _ = writeln!(out, "- {}", text(i));
                    }
                    out.push('\n');
                }
                Block::Table(t) => table(&mut out, t),
                Block::Chart { chart, caption } => {
                    let _ = writeln!(
                        out,
                        "![{}]({}.png)\n\n*{}.* {}\n",
                        text(chart.title()),
                        chart.stem(),
                        text(chart.title()),
                        text(caption)
                    );
                }
                Block::Figure {
                    stem,
                    title,
                    caption,
                } => {
                    let _ = writeln!(
                        out,
                        "![{}]({stem}.png)\n\n*{}.* {}\n",
                        text(title),
                        text(title),
                        text(caption)
                    );
                }
                Block::Diagram(_) => {
                    let _ = writeln!(
                        out,
                        "![The topology's services and calls]({DIAGRAM_FILE})\n"
                    );
                }
            }
        }
    }
    let _ = writeln!(out, "---\n{}", text(&doc.footer));
    out
}

fn table(out: &mut String, t: &Table) {
    let row = |cells: &[String]| {
        let mut line = String::from("|");
        for c in cells {
            let _ = write!(line, " {} |", cell(c));
        }
        line
    };
    let _ = writeln!(out, "{}", row(&t.header));
    let _ = writeln!(out, "|{}", " --- |".repeat(t.header.len()));
    for r in &t.rows {
        let _ = writeln!(out, "{}", row(r));
    }
    out.push('\n');
}

/// Text with Markdown and HTML meaning removed, keeping `code` spans (the
/// report's own backticks) as code. Inside a code span only the backtick
/// itself is special, and the document's text never nests them. `<` and `&`
/// are escaped only where they could start a tag, an autolink or an entity,
/// so `p99 <= 50 ms` reads as written in the Markdown source too.
fn text(t: &str) -> String {
    let mut out = String::with_capacity(t.len());
    for (i, part) in t.split('`').enumerate() {
        if i % 2 == 1 {
            let _ = write!(out, "`{part}`");
            continue;
        }
        let mut chars = part.chars().peekable();
        while let Some(c) = chars.next() {
            let next = chars.peek().copied().unwrap_or(' ');
            let special = match c {
                '<' => next.is_alphanumeric() || matches!(next, '/' | '!' | '?'),
                '&' => next.is_alphanumeric() || next == '#',
                // A quote block only at the start of a line.
                '>' => out.is_empty(),
                '\\' | '*' | '_' | '[' | ']' | '#' | '|' | '!' | '~' => true,
                _ => false,
            };
            if special {
                out.push('\\');
            }
            out.push(if c == '\n' { ' ' } else { c });
        }
    }
    out
}

/// A table cell: text, and a pipe inside a code span escaped too.
fn cell(c: &str) -> String {
    text(c).replace("`|`", "`\\|`")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_names_is_inert() {
        assert_eq!(text("<script>x</script>"), "\\<script>x\\</script>");
        assert_eq!(text("p99 <= 50 ms & p90 > 2"), "p99 <= 50 ms & p90 > 2");
        assert_eq!(text("&amp; &#60; > x"), "\\&amp; \\&\\#60; > x");
        assert_eq!(text("> quote"), "\\> quote");
        assert_eq!(text("a|b *c* [d](e)"), "a\\|b \\*c\\* \\[d\\](e)");
        assert_eq!(text("topology `chatty`"), "topology `chatty`");
    }
}
