//! Text in the SVG files, drawn as the bundled font's glyph outlines so a
//! chart looks the same in every viewer without embedding the 760 KB font:
//! each glyph used is one `<path>` in `<defs>` (in font units), each line of
//! text a group of `<use>`s placed exactly as the bitmap typesetter places
//! them. plotters' own `<text>` element stays, invisible
//! (`fill-opacity="0"`), so the text can still be searched, selected and
//! read by a screen reader; the outlines are `aria-hidden`.
//!
//! While an SVG is being drawn, [`super::text::put`] hands every line it
//! draws to [`collect`]; [`finish`] then puts the outlines in: the k-th line
//! collected belongs to the k-th `<text>` element, which every text of a
//! chart is (plotters' own tick labels are drawn transparent, so skipped).

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::fmt::Write;

use plotters::style::RGBColor;
use ttf_parser::{GlyphId, OutlineBuilder};

use super::font::{Line, metrics};

/// One line of text as the SVG will draw it.
struct Run {
    /// The group's transform: font units to SVG pixels.
    matrix: [f64; 6],
    colour: RGBColor,
    glyphs: Vec<(GlyphId, f64)>,
}

thread_local! {
    /// The lines of the SVG being drawn on this thread; None when no SVG is.
    static RUNS: RefCell<Option<Vec<Run>>> = const { RefCell::new(None) };
}

/// Starts collecting the lines of an SVG drawn on this thread.
pub(crate) fn begin() {
    RUNS.with(|r| *r.borrow_mut() = Some(Vec::new()));
}

/// Records a line of text anchored at `at` (pixels of the whole drawing).
pub(crate) fn collect(line: &Line, at: (i32, i32), rotated: bool, colour: RGBColor) {
    let (x, y) = (f64::from(at.0), f64::from(at.1));
    let u = line.unit;
    // Font units are y-up; pixels y-down. Rotated text reads bottom to top:
    // rotate(-90) about the anchor, as plotters' rotate(270, x, y).
    let matrix = if rotated {
        [0.0, -u, -u, 0.0, x + line.base, y - line.x0]
    } else {
        [u, 0.0, 0.0, -u, x + line.x0, y + line.base]
    };
    let run = Run {
        matrix,
        colour,
        glyphs: line.glyphs.clone(),
    };
    RUNS.with(|r| {
        if let Some(runs) = r.borrow_mut().as_mut() {
            runs.push(run);
        }
    });
}

/// `svg` (as plotters wrote it, its lines collected since [`begin`]) with
/// the glyphs used defined once and every `<text>` drawn as outlines.
pub(crate) fn finish(svg: &str) -> String {
    let runs = RUNS.with(|r| r.borrow_mut().take()).unwrap_or_default();
    let Some(open) = svg.find("<svg") else {
        return svg.to_string();
    };
    let Some(end) = svg[open..].find('>').map(|e| open + e) else {
        return svg.to_string();
    };
    let mut out = String::with_capacity(svg.len() + 64 * 1024);
    out.push_str(&svg[..end]);
    out.push_str(" xmlns:xlink=\"http://www.w3.org/1999/xlink\">\n");
    out.push_str(&defs(&runs));
    let mut rest = &svg[end + 1..];
    let mut runs = runs.iter();
    while let Some(at) = rest.find("<text ") {
        out.push_str(&rest[..at]);
        if let Some(run) = runs.next() {
            draw_run(&mut out, run);
        }
        out.push_str("<text fill-opacity=\"0\" ");
        rest = &rest[at + "<text ".len()..];
    }
    out.push_str(rest);
    out
}

/// `<defs>` with one path per glyph the runs use (none drawn: a space).
fn defs(runs: &[Run]) -> String {
    let used: BTreeSet<u16> = runs
        .iter()
        .flat_map(|r| r.glyphs.iter().map(|g| g.0.0))
        .collect();
    let mut out = String::from("<defs>");
    if let Some(m) = metrics() {
        for g in used {
            let mut path = PathData(String::new());
            if m.face.outline_glyph(GlyphId(g), &mut path).is_some() {
                let _ = write!(out, "<path id=\"g{g}\" d=\"{}\"/>", path.0);
            }
        }
    }
    out.push_str("</defs>\n");
    out
}

/// Whether glyph `g` has an outline, i.e. a path in `<defs>`.
fn drawn(g: GlyphId) -> bool {
    metrics().is_some_and(|m| m.face.tables().glyf.is_some_and(|t| t.bbox(g).is_some()))
}

fn draw_run(out: &mut String, run: &Run) {
    let m = run.matrix.map(num);
    let RGBColor(r, g, b) = run.colour;
    let _ = write!(
        out,
        "<g aria-hidden=\"true\" fill=\"#{r:02X}{g:02X}{b:02X}\" transform=\"matrix({} {} {} {} {} {})\">",
        m[0], m[1], m[2], m[3], m[4], m[5]
    );
    for &(glyph, pen) in run.glyphs.iter().filter(|(g, _)| drawn(*g)) {
        let _ = write!(
            out,
            "<use xlink:href=\"#g{}\" x=\"{}\"/>",
            glyph.0,
            num(pen)
        );
    }
    out.push_str("</g>\n");
}

/// A number in the shortest form that keeps 1/10000 of its precision.
fn num(v: f64) -> String {
    let s = format!("{v:.4}");
    let t = s.trim_end_matches('0').trim_end_matches('.');
    if t == "-0" { "0".into() } else { t.into() }
}

/// A glyph outline as SVG path data, in font units (y up).
struct PathData(String);

impl OutlineBuilder for PathData {
    fn move_to(&mut self, x: f32, y: f32) {
        let _ = write!(self.0, "M{x} {y}");
    }
    fn line_to(&mut self, x: f32, y: f32) {
        let _ = write!(self.0, "L{x} {y}");
    }
    fn quad_to(&mut self, x1: f32, y1: f32, x: f32, y: f32) {
        let _ = write!(self.0, "Q{x1} {y1} {x} {y}");
    }
    fn curve_to(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, x: f32, y: f32) {
        let _ = write!(self.0, "C{x1} {y1} {x2} {y2} {x} {y}");
    }
    fn close(&mut self) {
        self.0.push('Z');
    }
}
