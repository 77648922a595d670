//! The report as one self-contained HTML file: styles inline, charts as
//! data URIs, the topology diagram as inline SVG, no script and a content
//! security policy that forbids any network access, so it opens anywhere,
//! offline, and cannot run anything a name in an input file smuggles in.

use std::fmt::Write;
use std::io;
use std::path::Path;

use super::document::{Block, Document, Table, escape};

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;margin:0;color:#1d1d1f;background:#fff;line-height:1.5}\
main{max-width:1200px;margin:0 auto;padding:24px 32px 64px}\
h1{font-size:1.9em;margin:0 0 4px}h2{font-size:1.35em;margin:40px 0 12px;padding-bottom:4px;border-bottom:2px solid #e3e3e3}\
.subtitle{color:#555;margin:0 0 16px}nav ol{columns:2;padding-left:20px;color:#555}\
table{border-collapse:collapse;margin:12px 0;font-size:.92em;display:block;overflow-x:auto}\
th,td{border:1px solid #d9d9d9;padding:4px 8px;text-align:left;vertical-align:top}th{background:#f4f6f8}\
tr:nth-child(even) td{background:#fafafa}\
figure{margin:16px 0 28px}figure img{max-width:100%;height:auto;border:1px solid #eee}figcaption{color:#444;font-size:.92em;margin-top:4px}\
.diagram{overflow-x:auto;border:1px solid #eee;padding:8px}.diagram svg{max-width:100%;height:auto}\
footer{margin-top:48px;color:#777;font-size:.85em}code{background:#f4f4f4;padding:0 3px;border-radius:3px}";

/// Renders `doc`; chart images are read from `dir` (`<stem>.png`).
pub fn render(doc: &Document, dir: &Path) -> io::Result<String> {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n\
         <h1>{}</h1>\n<p class=\"subtitle\">{}</p>\n<nav><ol>",
        escape(&doc.title),
        escape(&doc.title),
        code_spans(&escape(&doc.subtitle))
    );
    for s in &doc.sections {
        let _ = write!(
            out,
            "<li><a href=\"#{}\">{}</a></li>",
            s.id,
            escape(&s.heading)
        );
    }
    out += "</ol></nav>\n";
    for s in &doc.sections {
        let _ = writeln!(
            out,
            "<section id=\"{}\">\n<h2>{}</h2>",
            s.id,
            escape(&s.heading)
        );
        for b in &s.blocks {
            block(&mut out, b, dir)?;
        }
        out += "</section>\n";
    }
    let _ = write!(
        out,
        "<footer>{} Self-contained: no network access is needed or allowed.</footer>\n</main>\n</body>\n</html>\n",
        code_spans(&escape(&doc.footer))
    );
    Ok(out)
}

fn block(out: &mut String, b: &Block, dir: &Path) -> io::Result<()> {
    match b {
        Block::Text(t) => {
            let _ = writeln!(out, "<p>{}</p>", code_spans(&escape(t)));
        }
        Block::List(items) => {
            out.push_str("<ul>");
            for i in items {
                let _ = write!(out, "<li>{}</li>", code_spans(&escape(i)));
            }
            out.push_str("</ul>\n");
        }
        Block::Table(t) => table(out, t),
        Block::Chart { chart, caption } => {
            figure(out, dir, chart.stem(), chart.title(), caption)?;
        }
        Block::Diagram(svg) => {
            let _ = writeln!(out, "<div class=\"diagram\">{svg}</div>");
        }
        Block::Figure {
            stem,
            title,
            caption,
        } => figure(out, dir, stem, title, caption)?,
    }
    Ok(())
}

/// A chart's PNG from `dir` inlined as a figure, at its own size (charts
/// of many entry endpoints are taller than the usual 1200 x 750).
fn figure(out: &mut String, dir: &Path, stem: &str, title: &str, caption: &str) -> io::Result<()> {
    let png = std::fs::read(dir.join(format!("{stem}.png")))?;
    let (w, h) = png_size(&png).unwrap_or((1200, 750));
    let _ = writeln!(
        out,
        "<figure class=\"chart\" id=\"chart-{}\"><img alt=\"{}\" width=\"{w}\" height=\"{h}\" src=\"data:image/png;base64,{}\"><figcaption><b>{}.</b> {}</figcaption></figure>",
        escape(stem),
        escape(title),
        base64(&png),
        escape(title),
        escape(caption)
    );
    Ok(())
}

/// Width and height from a PNG's header.
fn png_size(png: &[u8]) -> Option<(u32, u32)> {
    let dim = |i: usize| Some(u32::from_be_bytes(png.get(i..i + 4)?.try_into().ok()?));
    (png.get(12..16)? == b"IHDR").then_some(())?;
    Some((dim(16)?, dim(20)?))
}

fn table(out: &mut String, t: &Table) {
    out.push_str("<table><thead><tr>");
    for h in &t.header {
        let _ = write!(out, "<th>{}</th>", escape(h));
    }
    out.push_str("</tr></thead><tbody>");
    for r in &t.rows {
        out.push_str("<tr>");
        for c in r {
            let _ = write!(out, "<td>{}</td>", escape(c));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>\n");
}

/// `name` in backticks as <code>, on text already escaped (backticks are
/// not special to HTML, so escaping first cannot be undone by this).
fn code_spans(escaped: &str) -> String {
    let mut out = String::with_capacity(escaped.len());
    for (i, part) in escaped.split('`').enumerate() {
        if i % 2 == 1 {
            let _ = write!(out, "<code>{part}</code>");
        } else {
            out.push_str(part);
        }
    }
    out
}

/// Standard base64 (RFC 4648) with padding, for data URIs.
fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (input, want) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), want);
        }
    }

    #[test]
    fn code_spans_wrap_backticked_names() {
        assert_eq!(
            code_spans("topology `a&amp;b` ok"),
            "topology <code>a&amp;b</code> ok"
        );
    }
}
