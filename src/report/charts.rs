//! Charts of a study's results, drawn from [`StudyResults`] alone (so `ztsim
//! plot` can redraw them from `results.json`): each as an SVG (text kept as
//! text, the bundled DejaVu Sans embedded as an `@font-face` data URI so it
//! looks the same everywhere; about 1 MB each, nearly all of it the font)
//! and a 1200x750 PNG typeset with the same font and layout.
//!
//! Conventions shared by every chart:
//! - one colour per design, fixed by the design's position in
//!   [`StudyResults::designs`] (then first appearance among the points);
//!   combinations of extra swept parameters get shades of their design's
//!   colour and their own marker shape;
//! - the *load* charts ([`Chart::LatencyVsLoad`], [`Chart::ThroughputVsLoad`])
//!   draw every point, at its configured rate (closed-loop points: at their
//!   measured arrival rate); the *focus* charts (the others) draw one point
//!   per design at the load [`focus_rate`] picks and the first combination of
//!   extra parameters found there;
//! - a latency axis turns logarithmic when the values drawn span more than
//!   30x (the CDF's latency axis always is); confidence bounds never decide
//!   the scale;
//! - saturated points have no latency: the load charts mark them with an X,
//!   the focus charts say so in the legend or in place of the bar.

use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Once, OnceLock};

use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::prelude::*;
use plotters::style::FontStyle;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::study::{PointResult, SeriesPoint, StudyResults};
use super::summary::Summary;
use super::write_atomic;
use crate::model::cost::{CPU_NAMES, SPAN_NAMES};

/// Width and height of every chart, pixels.
pub const SIZE: (u32, u32) = (1200, 750);

/// Which chart, with its file stem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Chart {
    /// p50 and p99 latency (95% CI band on p99) against offered load, one
    /// line per design (and combination of extra parameters); saturated
    /// points as an X along the top.
    LatencyVsLoad,
    /// Completed against offered throughput per design, with the ideal
    /// diagonal: where a line leaves it is the knee.
    ThroughputVsLoad,
    /// At the focus load: CPU per request on the services' cores and the
    /// busy share of the proxies' cores, split by CPU category.
    CpuByCategory,
    /// At the focus load: the latency distribution per design (latency on a
    /// log axis, percentiles on a "nines" axis).
    LatencyCdf,
    /// At the focus load: the critical path of the mean request (and of the
    /// requests at or above p99) split by span, per design.
    Attribution,
    /// At the focus load: mean latency per interval and full TLS handshakes
    /// per second over simulated time, warm-up included and shaded.
    LatencyOverTime,
}

impl Chart {
    /// Every chart, in the order [`render_all`] draws them.
    pub const ALL: [Chart; 6] = [
        Chart::LatencyVsLoad,
        Chart::ThroughputVsLoad,
        Chart::CpuByCategory,
        Chart::LatencyCdf,
        Chart::Attribution,
        Chart::LatencyOverTime,
    ];

    /// File name without extension.
    pub fn stem(&self) -> &'static str {
        match self {
            Chart::LatencyVsLoad => "latency-vs-load",
            Chart::ThroughputVsLoad => "throughput-vs-load",
            Chart::CpuByCategory => "cpu-by-category",
            Chart::LatencyCdf => "latency-cdf",
            Chart::Attribution => "attribution",
            Chart::LatencyOverTime => "latency-over-time",
        }
    }

    /// The title drawn at the top of the chart (plain text, no markup).
    pub fn title(&self) -> &'static str {
        match self {
            Chart::LatencyVsLoad => "Latency percentiles vs offered load",
            Chart::ThroughputVsLoad => "Completed throughput vs offered load",
            Chart::CpuByCategory => "CPU by category",
            Chart::LatencyCdf => "Latency distribution",
            Chart::Attribution => "Where the time goes",
            Chart::LatencyOverTime => "Latency over time",
        }
    }
}

/// Renders every chart that the results can support into `dir` (created if
/// missing) as `<stem>.svg` and `<stem>.png`; returns the paths written, SVG
/// then PNG for each chart, in [`Chart::ALL`] order. Each file is written
/// through a temporary file and a rename.
///
/// A chart is skipped when it would have nothing to draw:
/// - no points at all: nothing is written;
/// - [`Chart::LatencyCdf`] and [`Chart::Attribution`]: when every design is
///   saturated at the focus load (no latency figures exist);
/// - [`Chart::CpuByCategory`]: when no design at the focus load completed a
///   request;
/// - [`Chart::LatencyOverTime`]: when no point at the focus load has a time
///   series. Otherwise it is always drawn, saturated designs included (their
///   climbing latency is the point), so warm-up, rotations and token expiry
///   show; intervals past the end of the measured window (the drain of
///   requests in flight) are left out.
///
/// The load charts are drawn whenever there are points, even with a single
/// load (lone markers) or every point saturated (only the X marks, and a
/// note). With more than four lines the p99 confidence interval is drawn as
/// error bars rather than shaded bands, which would turn to mud.
pub fn render_all(results: &StudyResults, dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    if results.points.is_empty() {
        return Ok(written);
    }
    std::fs::create_dir_all(dir)?;
    let cx = Ctx::new(results);
    for chart in Chart::ALL {
        written.extend(render_with(&cx, chart, dir)?);
    }
    Ok(written)
}

/// Renders one chart into `dir` (created if missing) as `<stem>.svg` and
/// `<stem>.png`; returns the paths written, none if the results cannot
/// support the chart (see [`render_all`]).
pub fn render(chart: Chart, results: &StudyResults, dir: &Path) -> io::Result<Vec<PathBuf>> {
    if results.points.is_empty() {
        return Ok(Vec::new());
    }
    std::fs::create_dir_all(dir)?;
    render_with(&Ctx::new(results), chart, dir)
}

/// The load at which the focus charts are drawn: the study's `focus_rate` if
/// some point has it; otherwise the highest load at which no design
/// saturated; otherwise the lowest load. None for closed-loop studies (points
/// without a rate), and when there are no points.
pub fn focus_rate(results: &StudyResults) -> Option<f64> {
    if let Some(f) = results.focus_rate
        && results
            .points
            .iter()
            .any(|p| same_rate(p.at.rate_rps, Some(f)))
    {
        return Some(f);
    }
    let mut rates: Vec<f64> = results
        .points
        .iter()
        .filter_map(|p| p.at.rate_rps)
        .filter(|r| r.is_finite())
        .collect();
    rates.sort_by(f64::total_cmp);
    rates.dedup_by(|a, b| same_rate(Some(*a), Some(*b)));
    let stable = rates.iter().rev().find(|&&r| {
        results
            .points
            .iter()
            .filter(|p| same_rate(p.at.rate_rps, Some(r)))
            .all(|p| p.summary.saturated.is_none())
    });
    stable.or(rates.first()).copied()
}

fn render_with(cx: &Ctx, chart: Chart, dir: &Path) -> io::Result<Vec<PathBuf>> {
    if !cx.supports(chart) {
        return Ok(Vec::new());
    }
    save(dir, chart.stem(), &StudyChart(cx, chart))
}

/// Something drawn on any plotters backend, so that one routine writes it
/// as SVG and as PNG.
pub(crate) trait Drawing {
    /// Draws on `root` (of [`SIZE`]); `ink` says how text is set.
    fn draw<DB: DrawingBackend>(&self, root: &Area<DB>, ink: Ink) -> Res<(), DB>;
}

struct StudyChart<'a>(&'a Ctx<'a>, Chart);

impl Drawing for StudyChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &Area<DB>, ink: Ink) -> Res<(), DB> {
        draw(self.0, self.1, root, ink)
    }
}

/// Writes `chart` into `dir` as `<stem>.svg` (font embedded) and
/// `<stem>.png`, each through a temporary file and a rename.
pub(crate) fn save(dir: &Path, stem: &str, chart: &impl Drawing) -> io::Result<Vec<PathBuf>> {
    register_font();
    let err = |e: &dyn std::fmt::Display| io::Error::other(format!("drawing {stem}: {e}"));

    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        chart.draw(&root, Ink::Svg).map_err(|e| err(&e))?;
        root.present().map_err(|e| err(&e))?;
    }
    let svg_path = dir.join(format!("{stem}.svg"));
    write_atomic(&svg_path, embed_font(&svg).as_bytes())?;

    // The encoder picks the format from the extension, so the temporary file
    // must end in .png too.
    let png_path = dir.join(format!("{stem}.png"));
    let tmp = dir.join(format!(".{stem}.tmp.png"));
    {
        let root = BitMapBackend::new(&tmp, SIZE).into_drawing_area();
        chart.draw(&root, Ink::Bitmap).map_err(|e| err(&e))?;
        root.present().map_err(|e| err(&e))?;
    }
    std::fs::rename(&tmp, &png_path)?;
    Ok(vec![svg_path, png_path])
}

fn draw<DB: DrawingBackend>(cx: &Ctx, chart: Chart, root: &Area<DB>, ink: Ink) -> Res<(), DB> {
    match chart {
        Chart::LatencyVsLoad => latency_vs_load(cx, root, ink),
        Chart::ThroughputVsLoad => throughput_vs_load(cx, root, ink),
        Chart::CpuByCategory => cpu_by_category(cx, root, ink),
        Chart::LatencyCdf => latency_cdf(cx, root, ink),
        Chart::Attribution => attribution(cx, root, ink),
        Chart::LatencyOverTime => latency_over_time(cx, root, ink),
    }
}

// ---------------------------------------------------------------------------
// Fonts

const FONT: &str = "sans-serif";
const FONT_BYTES: &[u8] = include_bytes!("fonts/DejaVuSans.ttf");
/// Family name the SVGs' embedded @font-face is declared under.
const SVG_FONT: &str = "ztsim DejaVu Sans";

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // A font that fails to parse makes every text draw return an error,
        // which render_all reports; nothing to do here.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES);
    });
}

/// `svg` with the bundled font embedded as a data URI and applied to every
/// text (a style rule outranks the `font-family` attribute plotters writes).
fn embed_font(svg: &str) -> String {
    static STYLE: OnceLock<String> = OnceLock::new();
    let style = STYLE.get_or_init(|| {
        format!(
            "<defs><style>@font-face{{font-family:'{SVG_FONT}';src:url(data:font/ttf;base64,{}) \
             format('truetype');}}text{{font-family:'{SVG_FONT}',sans-serif;}}</style></defs>\n",
            base64(FONT_BYTES)
        )
    });
    let Some(open) = svg.find("<svg") else {
        return svg.to_string();
    };
    let Some(end) = svg[open..].find('>') else {
        return svg.to_string();
    };
    let at = open + end + 1;
    let mut out = String::with_capacity(svg.len() + style.len() + 1);
    out.push_str(&svg[..at]);
    out.push('\n');
    out.push_str(style);
    out.push_str(&svg[at..]);
    out
}

/// Standard base64 (RFC 4648) with padding, for data URIs.
pub(crate) fn base64(bytes: &[u8]) -> String {
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

fn font(size: f64, color: RGBColor) -> TextStyle<'static> {
    (FONT, size).into_font().color(&color)
}

/// Which backend the text goes to: SVG keeps text as text; for bitmaps
/// glyphs are placed here (see [`typeset`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ink {
    Svg,
    Bitmap,
}

/// How a piece of text is drawn: size (plotters' convention: the SVG font
/// size is size / 1.24), colour, anchor, and whether it reads bottom to top.
#[derive(Clone, Copy)]
pub(crate) struct Style {
    size: f64,
    colour: RGBColor,
    h: HPos,
    v: VPos,
    rotated: bool,
}

pub(crate) fn style(size: f64, colour: RGBColor) -> Style {
    Style {
        size,
        colour,
        h: HPos::Left,
        v: VPos::Top,
        rotated: false,
    }
}

impl Style {
    pub(crate) fn at(self, h: HPos, v: VPos) -> Style {
        Style { h, v, ..self }
    }
    fn rotated(self) -> Style {
        Style {
            rotated: true,
            ..self
        }
    }
}

/// Draws `text` at `pos` (pixels, relative to `area`) anchored as `st` says.
pub(crate) fn put<DB: DrawingBackend>(
    area: &Area<DB>,
    ink: Ink,
    text: &str,
    pos: (i32, i32),
    st: Style,
) -> Res<(), DB> {
    if text.is_empty() {
        return Ok(());
    }
    match (ink, metrics()) {
        (Ink::Bitmap, Some(m)) => typeset(area, m, text, pos, st),
        _ => {
            let mut ts = font(st.size, st.colour).pos(Pos::new(st.h, st.v));
            if st.rotated {
                ts = ts.transform(FontTransform::Rotate270);
            }
            area.draw(&Text::new(text.to_string(), pos, ts))
        }
    }
}

/// The em of text drawn at `size`, in pixels (as the SVG backend sets it).
fn em(size: f64) -> f64 {
    size / 1.24
}

/// Width of `text` at `size` in pixels, from the font's advances and kerning.
pub(crate) fn text_width(text: &str, size: f64) -> u32 {
    match metrics() {
        Some(m) => {
            let unit = em(size) / m.upem;
            (m.advance_of(text) * unit).ceil().max(0.0) as u32
        }
        None => (text.chars().count() as f64 * em(size) * 0.6) as u32,
    }
}

/// `text`, shortened with an ellipsis to fit `width` pixels.
pub(crate) fn fit(text: &str, size: f64, width: u32) -> String {
    if text_width(text, size) <= width {
        return text.to_string();
    }
    let chars: Vec<char> = text.chars().collect();
    let mut n = chars.len();
    while n > 1 {
        n -= 1;
        let s: String = chars[..n].iter().collect::<String>().trim_end().to_string() + "…";
        if text_width(&s, size) <= width {
            return s;
        }
    }
    "…".into()
}

/// Places glyphs for bitmaps. plotters' own ab_glyph path drops each glyph's
/// left side bearing and rounds each glyph's baseline separately, which makes
/// letters dance; here every glyph is rasterised alone by plotters and put
/// where the font's metrics say, with the SVG's anchor conventions (top:
/// baseline 0.76 em down; centre: 0.5 ex; bottom: -0.5 ex).
fn typeset<DB: DrawingBackend>(
    area: &Area<DB>,
    m: &Metrics,
    text: &str,
    pos: (i32, i32),
    st: Style,
) -> Res<(), DB> {
    let em = em(st.size);
    let unit = em / m.upem;
    let fd = FontDesc::new(FontFamily::Name(FONT), unit * m.height, FontStyle::Normal);
    let glyphs: Vec<u16> = text.chars().map(|c| m.glyph(c)).collect();
    let width = m.advance_of_glyphs(&glyphs) * unit;
    let x0 = match st.h {
        HPos::Left => 0.0,
        HPos::Center => -width / 2.0,
        HPos::Right => -width,
    };
    let base = match st.v {
        VPos::Top => 0.76 * em,
        VPos::Center => 0.5 * m.x_height * unit,
        VPos::Bottom => -0.5 * m.x_height * unit,
    };
    let mut pen = 0.0;
    let mut pixels: Vec<(i32, i32, f32)> = Vec::new();
    let mut buf = [0u8; 4];
    for (i, (c, &g)) in text.chars().zip(&glyphs).enumerate() {
        if i > 0 {
            pen += m.kern(glyphs[i - 1], g);
        }
        if let Some((xmin, ymax)) = m.bbox(g) {
            // plotters reports glyph pixels from the glyph box's corner, its
            // rows shifted by a rounded half size: undo both.
            let mut cell: Vec<(i32, i32, f32)> = Vec::new();
            let drawn = fd.draw(c.encode_utf8(&mut buf), (0, 0), |x, y, a| {
                cell.push((x, y, a));
                Ok::<(), ()>(())
            });
            if matches!(drawn, Ok(Ok(()))) && !cell.is_empty() {
                let shift = cell.iter().map(|p| p.1).min().unwrap_or(0);
                let left =
                    (x0 + pen * unit).round() as i32 + (f64::from(xmin) * unit).floor() as i32;
                let top = base.round() as i32 + (-f64::from(ymax) * unit).floor() as i32 - shift;
                pixels.extend(
                    cell.into_iter()
                        .filter(|p| p.2 > 0.0)
                        .map(|(x, y, a)| (left + x, top + y, a)),
                );
            }
        }
        pen += m.advance(g);
    }
    for (x, y, a) in pixels {
        let (dx, dy) = if st.rotated { (y, -x) } else { (x, y) };
        area.draw(&Pixel::new(
            (pos.0 + dx, pos.1 + dy),
            st.colour.mix(f64::from(a.min(1.0))),
        ))?;
    }
    Ok(())
}

/// What the bitmap typesetter needs from the bundled TrueType font: glyph
/// lookup, advances, glyph boxes and pair kerning, read straight from its
/// tables (every read bounds-checked; a font that does not parse falls back
/// to plotters' own text drawing).
struct Metrics {
    data: &'static [u8],
    upem: f64,
    /// Ascender minus descender (hhea), font units: ab_glyph's pixel scale.
    height: f64,
    x_height: f64,
    hmtx: usize,
    n_hmetrics: usize,
    loca: usize,
    long_loca: bool,
    glyf: usize,
    /// cmap subtable offset and format (4 or 12).
    cmap: (usize, u16),
    /// Format-0 kerning pairs: offset of the first and their count.
    kern: Option<(usize, usize)>,
}

fn metrics() -> Option<&'static Metrics> {
    static M: OnceLock<Option<Metrics>> = OnceLock::new();
    M.get_or_init(|| Metrics::parse(FONT_BYTES)).as_ref()
}

impl Metrics {
    fn u16(&self, o: usize) -> Option<u16> {
        Some(u16::from_be_bytes(
            self.data.get(o..o + 2)?.try_into().ok()?,
        ))
    }
    fn i16(&self, o: usize) -> Option<i16> {
        self.u16(o).map(|v| v as i16)
    }
    fn u32(&self, o: usize) -> Option<u32> {
        Some(u32::from_be_bytes(
            self.data.get(o..o + 4)?.try_into().ok()?,
        ))
    }

    fn parse(data: &'static [u8]) -> Option<Metrics> {
        let mut m = Metrics {
            data,
            upem: 0.0,
            height: 0.0,
            x_height: 0.0,
            hmtx: 0,
            n_hmetrics: 0,
            loca: 0,
            long_loca: false,
            glyf: 0,
            cmap: (0, 0),
            kern: None,
        };
        let n = usize::from(m.u16(4)?);
        let table = |tag: &[u8; 4]| -> Option<usize> {
            (0..n).find_map(|i| {
                let r = 12 + 16 * i;
                if data.get(r..r + 4)? == tag {
                    m.u32(r + 8).map(|o| o as usize)
                } else {
                    None
                }
            })
        };
        let head = table(b"head")?;
        let hhea = table(b"hhea")?;
        let (hmtx, loca, glyf, cmap) = (
            table(b"hmtx")?,
            table(b"loca")?,
            table(b"glyf")?,
            table(b"cmap")?,
        );
        let kern = table(b"kern");
        m.upem = f64::from(m.u16(head + 18)?);
        m.long_loca = m.i16(head + 50)? == 1;
        m.height = f64::from(m.i16(hhea + 4)?) - f64::from(m.i16(hhea + 6)?);
        m.n_hmetrics = usize::from(m.u16(hhea + 34)?);
        (m.hmtx, m.loca, m.glyf) = (hmtx, loca, glyf);
        let mut best: Option<(usize, u16)> = None;
        for i in 0..usize::from(m.u16(cmap + 2)?) {
            let r = cmap + 4 + 8 * i;
            let (platform, encoding) = (m.u16(r)?, m.u16(r + 2)?);
            let sub = cmap + m.u32(r + 4)? as usize;
            let format = m.u16(sub)?;
            let unicode = platform == 0 || (platform == 3 && (encoding == 1 || encoding == 10));
            if unicode && (format == 12 || (format == 4 && best.is_none())) {
                best = Some((sub, format));
            }
        }
        m.cmap = best?;
        if let Some(k) = kern
            && m.u16(k)? == 0
            && m.u16(k + 2)? >= 1
            && m.u16(k + 4 + 4)? & 0xff07 == 0x0001
        {
            // First subtable: format 0, horizontal.
            m.kern = Some((k + 4 + 14, usize::from(m.u16(k + 4 + 6)?)));
        }
        if m.upem <= 0.0 || m.height <= 0.0 {
            return None;
        }
        m.x_height = m
            .bbox(m.glyph('x'))
            .map_or(m.upem * 0.55, |(_, ymax)| f64::from(ymax));
        Some(m)
    }

    /// Glyph id of `c` (0, the missing glyph, if the font lacks it).
    fn glyph(&self, c: char) -> u16 {
        self.lookup(u32::from(c)).unwrap_or(0)
    }

    fn lookup(&self, c: u32) -> Option<u16> {
        let (sub, format) = self.cmap;
        if format == 12 {
            let groups = self.u32(sub + 12)? as usize;
            for i in 0..groups {
                let g = sub + 16 + 12 * i;
                let (start, end) = (self.u32(g)?, self.u32(g + 4)?);
                if (start..=end).contains(&c) {
                    return u16::try_from(self.u32(g + 8)?.checked_add(c - start)?).ok();
                }
            }
            return None;
        }
        let c = u16::try_from(c).ok()?;
        let seg_x2 = usize::from(self.u16(sub + 6)?);
        let ends = sub + 14;
        let starts = ends + seg_x2 + 2;
        let deltas = starts + seg_x2;
        let ranges = deltas + seg_x2;
        for i in 0..seg_x2 / 2 {
            if c > self.u16(ends + 2 * i)? {
                continue;
            }
            let start = self.u16(starts + 2 * i)?;
            if c < start {
                return None;
            }
            let delta = self.u16(deltas + 2 * i)?;
            let ro = usize::from(self.u16(ranges + 2 * i)?);
            if ro == 0 {
                return Some(c.wrapping_add(delta));
            }
            let g = self.u16(ranges + 2 * i + ro + 2 * usize::from(c - start))?;
            return (g != 0).then(|| g.wrapping_add(delta));
        }
        None
    }

    /// Advance width of glyph `g`, font units.
    fn advance(&self, g: u16) -> f64 {
        let i = usize::from(g).min(self.n_hmetrics.saturating_sub(1));
        self.u16(self.hmtx + 4 * i).map_or(0.0, f64::from)
    }

    /// Kerning between `a` and `b`, font units.
    fn kern(&self, a: u16, b: u16) -> f64 {
        let Some((pairs, n)) = self.kern else {
            return 0.0;
        };
        let key = (u32::from(a) << 16) | u32::from(b);
        let (mut lo, mut hi) = (0, n);
        while lo < hi {
            let mid = (lo + hi) / 2;
            let Some(k) = self.u32(pairs + 6 * mid) else {
                return 0.0;
            };
            match k.cmp(&key) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => {
                    return self.i16(pairs + 6 * mid + 4).map_or(0.0, f64::from);
                }
            }
        }
        0.0
    }

    fn advance_of_glyphs(&self, glyphs: &[u16]) -> f64 {
        let adv: f64 = glyphs.iter().map(|g| self.advance(*g)).sum();
        let kern: f64 = glyphs.windows(2).map(|w| self.kern(w[0], w[1])).sum();
        adv + kern
    }

    /// Advance of a whole string, font units.
    fn advance_of(&self, text: &str) -> f64 {
        let glyphs: Vec<u16> = text.chars().map(|c| self.glyph(c)).collect();
        self.advance_of_glyphs(&glyphs)
    }

    /// Left edge and top of glyph `g`'s box, font units; None when empty.
    fn bbox(&self, g: u16) -> Option<(i16, i16)> {
        let g = usize::from(g);
        let (start, end) = if self.long_loca {
            (
                self.u32(self.loca + 4 * g)? as usize,
                self.u32(self.loca + 4 * g + 4)? as usize,
            )
        } else {
            (
                2 * usize::from(self.u16(self.loca + 2 * g)?),
                2 * usize::from(self.u16(self.loca + 2 * g + 2)?),
            )
        };
        if end <= start {
            return None;
        }
        let o = self.glyf + start;
        Some((self.i16(o + 2)?, self.i16(o + 8)?))
    }
}

// ---------------------------------------------------------------------------
// Colours and markers

pub(crate) const INK: RGBColor = RGBColor(30, 30, 30);
pub(crate) const MUTED: RGBColor = RGBColor(95, 95, 95);
const KEY: RGBColor = RGBColor(70, 70, 70);
pub(crate) const GRID_BOLD: RGBColor = RGBColor(200, 200, 200);
const GRID_LIGHT: RGBColor = RGBColor(235, 235, 235);

/// Tableau 10: distinct, readable on white, familiar.
const DESIGN_COLOURS: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

pub(crate) fn mix(a: RGBColor, b: RGBColor, t: f64) -> RGBColor {
    let f = |x: u8, y: u8| (f64::from(x) * (1.0 - t) + f64::from(y) * t).round() as u8;
    RGBColor(f(a.0, b.0), f(a.1, b.1), f(a.2, b.2))
}

/// A design's colour; past ten designs the palette repeats darker.
fn design_colour(i: usize) -> RGBColor {
    let base = DESIGN_COLOURS[i % DESIGN_COLOURS.len()];
    match (i / DESIGN_COLOURS.len()) % 3 {
        0 => base,
        1 => mix(base, BLACK, 0.4),
        _ => mix(base, WHITE, 0.4),
    }
}

/// Shade of a design's colour for the `combo`-th combination of extra
/// parameters.
fn line_colour(design: usize, combo: usize) -> RGBColor {
    let base = design_colour(design);
    match combo % 5 {
        0 => base,
        1 => mix(base, BLACK, 0.4),
        2 => mix(base, WHITE, 0.45),
        3 => mix(base, BLACK, 0.65),
        _ => mix(base, WHITE, 0.7),
    }
}

/// CPU categories: business is neutral, the Zero Trust costs stand out.
fn cpu_colour(name: &str, i: usize) -> RGBColor {
    match name {
        "business" => RGBColor(160, 174, 192),
        "handshake" => RGBColor(214, 39, 40),
        "bulk_crypto" => RGBColor(255, 150, 60),
        "jwt" => RGBColor(148, 103, 189),
        "authz" => RGBColor(44, 160, 44),
        "proxy" => RGBColor(23, 150, 170),
        _ => DESIGN_COLOURS[(i + 5) % DESIGN_COLOURS.len()],
    }
}

fn cpu_label(name: &str) -> String {
    match name {
        "business" => "business logic".into(),
        "handshake" => "TLS handshakes".into(),
        "bulk_crypto" => "bulk encryption".into(),
        "jwt" => "JWT".into(),
        "authz" => "authorization".into(),
        "proxy" => "proxy processing".into(),
        other => other.replace('_', " "),
    }
}

/// Spans: same hues as the CPU categories they correspond to.
fn span_colour(name: &str, i: usize) -> RGBColor {
    match name {
        "network" => RGBColor(100, 143, 200),
        "handshake_rtt" => RGBColor(240, 130, 130),
        "queueing" => RGBColor(237, 201, 72),
        "business_cpu" => RGBColor(160, 174, 192),
        "crypto_cpu" => RGBColor(214, 39, 40),
        "proxy" => RGBColor(23, 150, 170),
        "authz" => RGBColor(44, 160, 44),
        "authn" => RGBColor(148, 103, 189),
        "retry" => RGBColor(60, 60, 60),
        _ => DESIGN_COLOURS[(i + 3) % DESIGN_COLOURS.len()],
    }
}

fn span_label(name: &str) -> String {
    match name {
        "network" => "network transfer".into(),
        "handshake_rtt" => "handshake round trips".into(),
        "queueing" => "queueing".into(),
        "business_cpu" => "business CPU".into(),
        "crypto_cpu" => "crypto CPU".into(),
        "proxy" => "proxy".into(),
        "authz" => "authorization".into(),
        "authn" => "authentication (JWT, tokens)".into(),
        "retry" => "timeouts and retries".into(),
        other => other.replace('_', " "),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Marker {
    Circle,
    Triangle,
    Square,
    Diamond,
}

impl Marker {
    fn of(combo: usize) -> Marker {
        [
            Marker::Circle,
            Marker::Triangle,
            Marker::Square,
            Marker::Diamond,
        ][combo % 4]
    }
}

pub(crate) type Res<T, DB> = Result<T, DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;
pub(crate) type Area<DB> = DrawingArea<DB, Shift>;
pub(crate) type Plot<'a, DB> = ChartContext<'a, DB, Cartesian2d<Axis, Axis>>;

/// Draws a marker of radius `r` pixels centred on `at` (data coordinates).
fn marker<DB: DrawingBackend>(
    chart: &Plot<'_, DB>,
    at: (f64, f64),
    m: Marker,
    r: i32,
    style: ShapeStyle,
) -> Res<(), DB> {
    let area = chart.plotting_area();
    let base = EmptyElement::at(at);
    match m {
        Marker::Circle => area.draw(&(base + Circle::new((0, 0), r, style))),
        Marker::Triangle => {
            let h = r + 1;
            area.draw(&(base + Polygon::new(vec![(0, -h), (h, h * 2 / 3), (-h, h * 2 / 3)], style)))
        }
        Marker::Square => {
            let s = r * 4 / 5;
            area.draw(&(base + Rectangle::new([(-s, -s), (s, s)], style)))
        }
        Marker::Diamond => {
            let d = r + 1;
            area.draw(&(base + Polygon::new(vec![(0, -d), (d, 0), (0, d), (-d, 0)], style)))
        }
    }
}

/// The same marker in pixel coordinates of a plain area (legends).
fn marker_px<DB: DrawingBackend>(
    area: &Area<DB>,
    at: (i32, i32),
    m: Marker,
    r: i32,
    style: ShapeStyle,
) -> Res<(), DB> {
    let (x, y) = at;
    match m {
        Marker::Circle => area.draw(&Circle::new(at, r, style)),
        Marker::Triangle => {
            let h = r + 1;
            area.draw(&Polygon::new(
                vec![(x, y - h), (x + h, y + h * 2 / 3), (x - h, y + h * 2 / 3)],
                style,
            ))
        }
        Marker::Square => {
            let s = r * 4 / 5;
            area.draw(&Rectangle::new([(x - s, y - s), (x + s, y + s)], style))
        }
        Marker::Diamond => {
            let d = r + 1;
            area.draw(&Polygon::new(
                vec![(x, y - d), (x + d, y), (x, y + d), (x - d, y)],
                style,
            ))
        }
    }
}

// ---------------------------------------------------------------------------
// Axes

#[derive(Debug, Clone)]
enum Scale {
    Linear {
        decimals: usize,
    },
    Log,
    Category(Vec<String>),
    /// Linear, with the tick labels given.
    Fixed(Vec<(f64, String)>),
}

/// A numeric axis with its own tick placement and labels. Log axes hold
/// log10 of the data; [`Axis::to`] converts.
#[derive(Debug, Clone)]
pub(crate) struct Axis {
    pub(crate) lo: f64,
    pub(crate) hi: f64,
    scale: Scale,
    pub(crate) ticks: Vec<f64>,
    pub(crate) minor: Vec<f64>,
}

impl Ranged for Axis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let f = (value - self.lo) / (self.hi - self.lo);
        let p = f64::from(limit.0) + f * f64::from(limit.1 - limit.0);
        if p.is_finite() {
            p.round().clamp(-100_000.0, 100_000.0) as i32
        } else {
            limit.0
        }
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            self.minor.clone()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

fn nice_step(span: f64, target: f64) -> f64 {
    let raw = span / target;
    let mag = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw * 0.999)
        .unwrap_or(10.0 * mag)
}

/// Shortest readable form: up to three significant digits, no trailing zeros.
pub(crate) fn fmt_num(v: f64) -> String {
    if !v.is_finite() {
        return String::new();
    }
    let a = v.abs();
    let decimals = if a >= 100.0 || a == 0.0 {
        0
    } else {
        (2 - a.log10().floor() as i64).clamp(0, 9) as usize
    };
    trim_zeros(format!("{v:.decimals$}"))
}

fn trim_zeros(s: String) -> String {
    if s.contains('.') {
        let t = s.trim_end_matches('0').trim_end_matches('.');
        if t == "-0" { "0".into() } else { t.into() }
    } else {
        s
    }
}

impl Axis {
    /// Linear over `lo..hi`, ticks at round steps; `snap` widens the range to
    /// whole steps.
    pub(crate) fn linear(lo: f64, hi: f64, snap: bool) -> Axis {
        let (mut lo, mut hi) = if lo.is_finite() && hi.is_finite() {
            (lo.min(hi), lo.max(hi))
        } else {
            (0.0, 1.0)
        };
        if hi - lo <= f64::EPSILON * hi.abs().max(1.0) {
            let d = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
            (lo, hi) = if lo >= 0.0 && lo - d < 0.0 {
                (0.0, hi + d)
            } else {
                (lo - d, hi + d)
            };
        }
        let step = nice_step(hi - lo, 6.0);
        if snap {
            lo = (lo / step).floor() * step;
            hi = (hi / step).ceil() * step;
        }
        let first = (lo / step - 1e-9).ceil() as i64;
        let last = (hi / step + 1e-9).floor() as i64;
        let ticks: Vec<f64> = (first..=last.min(first + 40))
            .map(|k| k as f64 * step)
            .collect();
        let minor = (first - 1..=last.min(first + 40))
            .map(|k| (k as f64 + 0.5) * step)
            .filter(|t| *t > lo && *t < hi)
            .collect();
        let decimals = (-(step.log10().floor()) as i64
            + i64::from(step / 10f64.powf(step.log10().floor()) == 2.5))
        .clamp(0, 9) as usize;
        Axis {
            lo,
            hi,
            scale: Scale::Linear { decimals },
            ticks,
            minor,
        }
    }

    /// Logarithmic over the positive `lo..hi` (data units).
    fn log(lo: f64, hi: f64) -> Axis {
        let (lo, hi) = if lo > 0.0 && hi.is_finite() && lo.is_finite() {
            (lo.min(hi), lo.max(hi))
        } else {
            (1.0, 10.0)
        };
        let (a, b) = (lo.log10(), hi.log10());
        let pad = ((b - a) * 0.04).max(0.03);
        let (tlo, thi) = (a - pad, b + pad);
        let decades = thi - tlo;
        let mults: &[f64] = if decades > 5.0 {
            &[1.0]
        } else if decades > 1.3 {
            &[1.0, 2.0, 5.0]
        } else {
            &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]
        };
        let k0 = tlo.floor() as i64;
        let k1 = (thi.ceil() as i64).min(k0 + 60);
        let grid = |ms: &[f64]| -> Vec<f64> {
            (k0..=k1)
                .flat_map(|k| ms.iter().map(move |m| m.log10() + k as f64))
                .filter(|t| *t >= tlo && *t <= thi)
                .collect()
        };
        let mut ticks = grid(mults);
        if ticks.len() > 12 {
            let keep = ticks.len().div_ceil(10);
            ticks = ticks.into_iter().step_by(keep).collect();
        }
        if ticks.len() < 3 {
            // A narrow range: round linear steps, placed on the log axis.
            let (dlo, dhi) = (10f64.powf(tlo), 10f64.powf(thi));
            let step = nice_step(dhi - dlo, 5.0);
            ticks = ((dlo / step).ceil() as i64..=(dhi / step).floor() as i64)
                .map(|k| k as f64 * step)
                .filter(|v| *v > 0.0)
                .map(f64::log10)
                .collect();
        }
        let minor = if decades <= 5.0 {
            grid(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0])
        } else {
            Vec::new()
        };
        Axis {
            lo: tlo,
            hi: thi,
            scale: Scale::Log,
            ticks,
            minor,
        }
    }

    /// Linear from zero (or log when the positive values span more than 30x),
    /// with headroom above the largest value.
    fn values(values: &[f64], zero_based: bool, headroom: f64) -> Axis {
        let v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        let (min, max) = v
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
                (a.min(x), b.max(x))
            });
        if v.is_empty() {
            return Axis::linear(0.0, 1.0, true);
        }
        if min > 0.0 && max / min > 30.0 {
            return Axis::log(min, max);
        }
        let lo = if zero_based { min.min(0.0) } else { min };
        Axis::linear(lo, max + (max - lo).abs() * headroom, true)
    }

    /// Like [`Axis::values`], the log-or-linear choice made on `decide`
    /// alone and the range covering `range` too.
    fn scaled(decide: &[f64], range: &[f64], headroom: f64) -> Axis {
        let pos = |v: &[f64]| -> (f64, f64) {
            v.iter()
                .copied()
                .filter(|x| x.is_finite() && *x > 0.0)
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
                    (a.min(x), b.max(x))
                })
        };
        let (dmin, dmax) = pos(decide);
        let (_, rmax) = pos(range);
        if !dmin.is_finite() {
            return Axis::linear(0.0, 1.0, true);
        }
        let max = dmax.max(rmax);
        if dmax / dmin > 30.0 {
            Axis::log(dmin, max)
        } else {
            Axis::linear(0.0, max * (1.0 + headroom), true)
        }
    }

    /// `n` categories, the first at the top.
    pub(crate) fn categories(names: Vec<String>) -> Axis {
        let n = names.len().max(1) as f64;
        Axis {
            lo: 0.0,
            hi: n,
            ticks: (0..names.len()).map(|i| n - i as f64 - 0.5).collect(),
            minor: Vec::new(),
            scale: Scale::Category(names),
        }
    }

    /// Centre of category `i`.
    pub(crate) fn slot(&self, i: usize) -> f64 {
        self.hi - i as f64 - 0.5
    }

    fn is_log(&self) -> bool {
        matches!(self.scale, Scale::Log)
    }

    /// Data value to axis coordinate.
    fn to(&self, v: f64) -> f64 {
        if self.is_log() {
            if v > 0.0 { v.log10() } else { self.lo - 1.0 }
        } else {
            v
        }
    }

    /// Axis coordinate back to data value.
    fn from(&self, t: f64) -> f64 {
        if self.is_log() { 10f64.powf(t) } else { t }
    }

    /// Clamps a data value into the axis' range (for bands and bars).
    fn clamp(&self, v: f64) -> f64 {
        self.to(v).clamp(self.lo, self.hi)
    }

    fn label(&self, t: f64) -> String {
        match &self.scale {
            Scale::Linear { decimals } => trim_zeros(format!("{t:.decimals$}")),
            Scale::Log => fmt_num(10f64.powf(t)),
            Scale::Fixed(labels) => labels
                .iter()
                .find(|(v, _)| (v - t).abs() < 1e-6)
                .map(|(_, l)| l.clone())
                .unwrap_or_default(),
            Scale::Category(names) => {
                let i = (self.hi - 0.5 - t).round();
                if i >= 0.0 && (self.hi - 0.5 - t - i).abs() < 0.25 {
                    names.get(i as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            }
        }
    }

    /// The widest tick label in pixels at `size`.
    fn label_width(&self, size: f64) -> u32 {
        self.ticks
            .iter()
            .map(|t| text_width(&self.label(*t), size))
            .max()
            .unwrap_or(0)
    }
}

pub(crate) const TICK_FONT: f64 = 16.0;
const DESC_FONT: f64 = 18.0;
pub(crate) const LEGEND_FONT: f64 = 16.0;
pub(crate) const LEGEND_W: u32 = 290;
const WARMUP: RGBColor = RGBColor(236, 236, 236);

/// Width of the area left of a plot: tick labels, plus the axis title.
fn y_label_area(y: &Axis, desc: bool) -> u32 {
    y.label_width(TICK_FONT).min(300) + if desc { 50 } else { 20 }
}

/// Height of the area under a plot: tick labels, plus the axis title.
pub(crate) fn x_label_area(desc: bool) -> u32 {
    if desc { 64 } else { 34 }
}

/// A plot on `area` with the given label areas, nothing drawn yet.
pub(crate) fn build<'a, DB: DrawingBackend>(
    area: &'a Area<DB>,
    x: &Axis,
    y: &Axis,
    y_label_w: u32,
    x_label_h: u32,
) -> Res<Plot<'a, DB>, DB> {
    ChartBuilder::on(area)
        .margin_top(12)
        .margin_right(24)
        .x_label_area_size(x_label_h)
        .y_label_area_size(y_label_w)
        .build_cartesian_2d(x.clone(), y.clone())
}

/// Grid, axes, tick labels and axis titles. The labels are drawn here
/// rather than by plotters so that both formats share one typesetting.
pub(crate) fn axes<DB: DrawingBackend>(
    area: &Area<DB>,
    ink: Ink,
    chart: &mut Plot<'_, DB>,
    (x, y): (&Axis, &Axis),
    x_desc: &str,
    y_desc: &str,
) -> Res<(), DB> {
    let mut mesh = chart.configure_mesh();
    mesh.label_style((FONT, TICK_FONT).into_font().color(&TRANSPARENT))
        .bold_line_style(GRID_BOLD.stroke_width(1))
        .light_line_style(GRID_LIGHT.stroke_width(1))
        .axis_style(MUTED.stroke_width(1))
        .set_all_tick_mark_size(5);
    if matches!(y.scale, Scale::Category(_)) {
        mesh.disable_y_mesh();
    }
    mesh.draw()?;

    let (bx, by) = area.get_base_pixel();
    let (_, h) = area.dim_in_pixel();
    let (xr, yr) = chart.plotting_area().get_pixel_range();
    let inside = |t: f64, a: &Axis| t >= a.lo - 1e-9 && t <= a.hi + 1e-9;
    let tick = style(TICK_FONT, INK);
    for &t in x.ticks.iter().filter(|t| inside(**t, x)) {
        let (px, py) = chart.backend_coord(&(t, y.lo));
        put(
            area,
            ink,
            &x.label(t),
            (px - bx, py - by + 9),
            tick.at(HPos::Center, VPos::Top),
        )?;
    }
    let room = (xr.start - bx - if y_desc.is_empty() { 14 } else { 44 }).max(20) as u32;
    for &t in y.ticks.iter().filter(|t| inside(**t, y)) {
        let (px, py) = chart.backend_coord(&(x.lo, t));
        put(
            area,
            ink,
            &fit(&y.label(t), TICK_FONT, room),
            (px - bx - 9, py - by),
            tick.at(HPos::Right, VPos::Center),
        )?;
    }
    if !x_desc.is_empty() {
        let w = (xr.end - xr.start).max(40) as u32 + 100;
        put(
            area,
            ink,
            &fit(x_desc, DESC_FONT, w),
            ((xr.start + xr.end) / 2 - bx, h as i32 - 10),
            style(DESC_FONT, INK).at(HPos::Center, VPos::Bottom),
        )?;
    }
    if !y_desc.is_empty() {
        let len = (yr.end - yr.start).max(40) as u32;
        put(
            area,
            ink,
            &fit(y_desc, DESC_FONT, len),
            (6, (yr.start + yr.end) / 2 - by),
            style(DESC_FONT, INK).at(HPos::Center, VPos::Top).rotated(),
        )?;
    }
    Ok(())
}

/// A plot with its axes drawn, label areas sized to fit.
fn plot<'a, DB: DrawingBackend>(
    area: &'a Area<DB>,
    ink: Ink,
    x: &Axis,
    y: &Axis,
    x_desc: &str,
    y_desc: &str,
) -> Res<Plot<'a, DB>, DB> {
    let mut chart = build(
        area,
        x,
        y,
        y_label_area(y, !y_desc.is_empty()),
        x_label_area(!x_desc.is_empty()),
    )?;
    axes(area, ink, &mut chart, (x, y), x_desc, y_desc)?;
    Ok(chart)
}

/// `at` in data coordinates as pixels relative to `area`.
pub(crate) fn local<DB: DrawingBackend>(
    area: &Area<DB>,
    chart: &Plot<'_, DB>,
    at: (f64, f64),
) -> (i32, i32) {
    let (px, py) = chart.backend_coord(&at);
    let (bx, by) = area.get_base_pixel();
    (px - bx, py - by)
}

/// Text centred in the plotting area, for plots with no data to draw.
fn note_in_plot<DB: DrawingBackend>(
    area: &Area<DB>,
    ink: Ink,
    chart: &Plot<'_, DB>,
    text: &str,
) -> Res<(), DB> {
    let (xr, yr) = chart.plotting_area().get_pixel_range();
    let (bx, by) = area.get_base_pixel();
    put(
        area,
        ink,
        text,
        ((xr.start + xr.end) / 2 - bx, (yr.start + yr.end) / 2 - by),
        style(18.0, MUTED).at(HPos::Center, VPos::Center),
    )
}

// ---------------------------------------------------------------------------
// Frame and legend

/// Fills the background, draws the title and subtitle lines, and returns the
/// area below them.
fn frame<DB: DrawingBackend>(
    root: &Area<DB>,
    ink: Ink,
    chart: Chart,
    lines: &[String],
) -> Res<Area<DB>, DB> {
    frame_titled(root, ink, chart.title(), lines)
}

/// [`frame`] with any title.
pub(crate) fn frame_titled<DB: DrawingBackend>(
    root: &Area<DB>,
    ink: Ink,
    title: &str,
    lines: &[String],
) -> Res<Area<DB>, DB> {
    root.fill(&WHITE)?;
    let (w, _) = root.dim_in_pixel();
    let mid = w as i32 / 2;
    put(
        root,
        ink,
        &fit(title, 30.0, w.saturating_sub(40)),
        (mid, 16),
        style(30.0, INK).at(HPos::Center, VPos::Top),
    )?;
    let mut y = 58;
    for line in lines {
        put(
            root,
            ink,
            &fit(line, 17.0, w.saturating_sub(40)),
            (mid, y),
            style(17.0, MUTED).at(HPos::Center, VPos::Top),
        )?;
        y += 23;
    }
    Ok(root.split_vertically(y + 8).1)
}

/// What a legend row shows left of its label.
#[derive(Debug, Clone)]
pub(crate) enum Swatch {
    Line {
        colour: RGBColor,
        dashed: bool,
        marker: Option<Marker>,
    },
    Band(RGBColor),
    ErrorBar(RGBColor),
    Cross(RGBColor),
    Block(RGBColor),
    Shade,
}

#[derive(Debug, Clone)]
pub(crate) enum Row {
    Heading(String),
    Item(Swatch, String),
    Note(String),
}

pub(crate) fn item(s: Swatch, label: impl Into<String>) -> Row {
    Row::Item(s, label.into())
}

fn line_swatch(colour: RGBColor, marker: Option<Marker>) -> Swatch {
    Swatch::Line {
        colour,
        dashed: false,
        marker,
    }
}

fn draw_swatch<DB: DrawingBackend>(area: &Area<DB>, swatch: &Swatch, y: i32) -> Res<(), DB> {
    let (x0, x1) = (12, 48);
    match swatch {
        Swatch::Line {
            colour,
            dashed,
            marker,
        } => {
            if *dashed {
                for k in 0..3 {
                    let a = x0 + k * 13;
                    area.draw(&PathElement::new(
                        vec![(a, y), ((a + 8).min(x1), y)],
                        colour.stroke_width(2),
                    ))?;
                }
            } else {
                area.draw(&PathElement::new(
                    vec![(x0, y), (x1, y)],
                    colour.stroke_width(3),
                ))?;
            }
            if let Some(m) = marker {
                marker_px(area, ((x0 + x1) / 2, y), *m, 5, colour.filled())?;
            }
        }
        Swatch::Band(c) => {
            area.draw(&Rectangle::new(
                [(x0, y - 8), (x1, y + 8)],
                c.mix(0.2).filled(),
            ))?;
            area.draw(&PathElement::new(vec![(x0, y), (x1, y)], c.stroke_width(2)))?;
        }
        Swatch::ErrorBar(c) => {
            let (m, st) = ((x0 + x1) / 2, c.stroke_width(2));
            area.draw(&PathElement::new(vec![(m, y - 9), (m, y + 9)], st))?;
            area.draw(&PathElement::new(vec![(m - 4, y - 9), (m + 4, y - 9)], st))?;
            area.draw(&PathElement::new(vec![(m - 4, y + 9), (m + 4, y + 9)], st))?;
        }
        Swatch::Cross(c) => {
            area.draw(&Cross::new(((x0 + x1) / 2, y), 7, c.stroke_width(3)))?;
        }
        Swatch::Block(c) => {
            area.draw(&Rectangle::new(
                [(x0 + 6, y - 8), (x1 - 6, y + 8)],
                c.filled(),
            ))?;
        }
        Swatch::Shade => {
            let r = [(x0 + 6, y - 8), (x1 - 6, y + 8)];
            area.draw(&Rectangle::new(r, WARMUP.filled()))?;
            area.draw(&Rectangle::new(r, GRID_BOLD.stroke_width(1)))?;
        }
    }
    Ok(())
}

/// The legend column: headings, swatches with labels, notes; rows that do
/// not fit are counted in a last line.
pub(crate) fn draw_legend<DB: DrawingBackend>(
    area: &Area<DB>,
    ink: Ink,
    rows: &[Row],
) -> Res<(), DB> {
    let (w, h) = area.dim_in_pixel();
    let text_x = 58;
    let label_w = w.saturating_sub(text_x as u32 + 8);
    let row_h = 27;
    let mut y = 26;
    for (i, row) in rows.iter().enumerate() {
        if matches!(row, Row::Heading(_)) && i > 0 {
            y += 8;
        }
        if y + row_h > h as i32 - 8 && i + 1 < rows.len() {
            put(
                area,
                ink,
                &format!("… and {} more", rows.len() - i),
                (12, y),
                style(LEGEND_FONT, MUTED).at(HPos::Left, VPos::Center),
            )?;
            break;
        }
        match row {
            Row::Heading(t) => put(
                area,
                ink,
                &fit(t, LEGEND_FONT, w.saturating_sub(20)),
                (12, y),
                style(LEGEND_FONT, MUTED).at(HPos::Left, VPos::Center),
            )?,
            Row::Note(t) => {
                put(
                    area,
                    ink,
                    &fit(t, 14.5, w.saturating_sub(20)),
                    (12, y),
                    style(14.5, MUTED).at(HPos::Left, VPos::Center),
                )?;
                y -= 4;
            }
            Row::Item(swatch, label) => {
                draw_swatch(area, swatch, y)?;
                put(
                    area,
                    ink,
                    &fit(label, LEGEND_FONT, label_w),
                    (text_x, y),
                    style(LEGEND_FONT, INK).at(HPos::Left, VPos::Center),
                )?;
            }
        }
        y += row_h;
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// The data, organised for drawing

fn same_rate(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(x), Some(y)) => (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0),
        _ => false,
    }
}

fn fmt_params(params: &[(String, String)]) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One line of the load charts: a design and a combination of extra
/// parameters, its points in increasing load.
struct LoadLine<'a> {
    design: usize,
    combo: usize,
    label: String,
    points: Vec<(f64, &'a PointResult)>,
}

impl LoadLine<'_> {
    fn colour(&self) -> RGBColor {
        line_colour(self.design, self.combo)
    }
    fn marker(&self) -> Marker {
        Marker::of(self.combo)
    }
}

/// What every chart draws from, worked out once per study: design colours,
/// the load lines, and the points at the focus load.
struct Ctx<'a> {
    r: &'a StudyResults,
    designs: Vec<String>,
    lines: Vec<LoadLine<'a>>,
    /// Some point has no configured rate (closed loop): its x is the
    /// measured arrival rate.
    closed_loop: bool,
    focus: Option<f64>,
    focus_params: Vec<(String, String)>,
    /// (design index, point) at the focus load, in design order.
    focus_points: Vec<(usize, &'a PointResult)>,
}

impl<'a> Ctx<'a> {
    fn new(r: &'a StudyResults) -> Ctx<'a> {
        let mut designs = r.designs.clone();
        for p in &r.points {
            if !designs.contains(&p.at.design) {
                designs.push(p.at.design.clone());
            }
        }
        let design_of =
            |p: &PointResult| designs.iter().position(|d| *d == p.at.design).unwrap_or(0);
        let mut combos: Vec<&Vec<(String, String)>> = Vec::new();
        for p in &r.points {
            if !combos.contains(&&p.at.params) {
                combos.push(&p.at.params);
            }
        }
        let label_params = combos.len() > 1;
        let mut lines: Vec<LoadLine> = Vec::new();
        for p in &r.points {
            let x =
                p.at.rate_rps
                    .unwrap_or(p.summary.throughput.offered_rps.mean);
            if !x.is_finite() {
                continue;
            }
            let design = design_of(p);
            let combo = combos.iter().position(|c| **c == p.at.params).unwrap_or(0);
            match lines
                .iter_mut()
                .find(|l| l.design == design && l.combo == combo)
            {
                Some(l) => l.points.push((x, p)),
                None => lines.push(LoadLine {
                    design,
                    combo,
                    label: if label_params && !p.at.params.is_empty() {
                        format!("{}, {}", p.at.design, fmt_params(&p.at.params))
                    } else {
                        p.at.design.clone()
                    },
                    points: vec![(x, p)],
                }),
            }
        }
        lines.sort_by_key(|l| (l.design, l.combo));
        for l in &mut lines {
            l.points.sort_by(|a, b| a.0.total_cmp(&b.0));
        }

        let focus = focus_rate(r);
        let at_focus: Vec<&PointResult> = r
            .points
            .iter()
            .filter(|p| same_rate(p.at.rate_rps, focus))
            .collect();
        let focus_params = at_focus
            .first()
            .map(|p| p.at.params.clone())
            .unwrap_or_default();
        let mut focus_points: Vec<(usize, &PointResult)> = Vec::new();
        for p in at_focus {
            let d = design_of(p);
            if p.at.params == focus_params && !focus_points.iter().any(|(e, _)| *e == d) {
                focus_points.push((d, p));
            }
        }
        focus_points.sort_by_key(|(d, _)| *d);
        Ctx {
            r,
            designs,
            lines,
            closed_loop: r.points.iter().any(|p| p.at.rate_rps.is_none()),
            focus,
            focus_params,
            focus_points,
        }
    }

    fn supports(&self, chart: Chart) -> bool {
        let ok = |p: &&(usize, &PointResult)| p.1.summary.saturated.is_none();
        match chart {
            Chart::LatencyVsLoad | Chart::ThroughputVsLoad => !self.lines.is_empty(),
            Chart::CpuByCategory => self
                .focus_points
                .iter()
                .any(|(_, p)| p.summary.throughput.completed_rps.mean > 0.0),
            Chart::LatencyCdf => self.focus_points.iter().filter(ok).any(|(_, p)| {
                p.cdf
                    .iter()
                    .any(|c| c.ms > 0.0 && c.ms.is_finite() && c.q < 1.0)
            }),
            Chart::Attribution => self
                .focus_points
                .iter()
                .filter(ok)
                .any(|(_, p)| !p.summary.attribution.is_empty()),
            Chart::LatencyOverTime => self.focus_points.iter().any(|(_, p)| !p.series.is_empty()),
        }
    }

    fn study_line(&self) -> String {
        let t = if self.r.title.trim().is_empty() {
            &self.r.name
        } else {
            &self.r.title
        };
        t.trim().to_string()
    }

    fn reps(&self) -> String {
        let n = self.r.replications;
        format!("{n} replication{} per point", if n == 1 { "" } else { "s" })
    }

    /// Title of the load axis.
    fn load_desc(&self) -> &'static str {
        if self.r.points.iter().all(|p| p.at.rate_rps.is_none()) {
            "Arrival rate, measured (requests/s)"
        } else {
            "Offered load (requests/s)"
        }
    }

    fn load_subtitle(&self) -> Vec<String> {
        let mut second = format!("topology {}, {}", self.r.topology, self.reps());
        if self.closed_loop {
            second.push_str("; closed-loop points at their measured arrival rate");
        }
        vec![self.study_line(), second]
    }

    fn focus_subtitle(&self) -> Vec<String> {
        let mut at = match self.focus {
            Some(r) => format!("at {} requests/s offered", fmt_num(r)),
            None => "closed loop".to_string(),
        };
        if !self.focus_params.is_empty() {
            at.push_str(&format!(" with {}", fmt_params(&self.focus_params)));
        }
        vec![
            self.study_line(),
            format!("{at}; topology {}, {}", self.r.topology, self.reps()),
        ]
    }

    fn design_rows(&self, saturated_note: bool) -> Vec<Row> {
        let mut rows = vec![Row::Heading("Designs".into())];
        for (d, p) in &self.focus_points {
            let sat = saturated_note && p.summary.saturated.is_some();
            rows.push(item(
                if sat {
                    Swatch::Cross(design_colour(*d))
                } else {
                    Swatch::Line {
                        colour: design_colour(*d),
                        dashed: false,
                        marker: None,
                    }
                },
                if sat {
                    format!("{} (saturated)", self.designs[*d])
                } else {
                    self.designs[*d].clone()
                },
            ));
        }
        rows
    }
}

fn latency(s: &Summary) -> Option<&super::summary::LatencySummary> {
    if s.saturated.is_some() {
        None
    } else {
        s.requests.latency_ms.as_ref()
    }
}

/// Splits `points` into runs of consecutive elements for which `f` is Some.
fn runs<T: Copy, U>(points: &[T], f: impl Fn(T) -> Option<U>) -> Vec<Vec<U>> {
    let mut out: Vec<Vec<U>> = Vec::new();
    let mut cur: Vec<U> = Vec::new();
    for &p in points {
        match f(p) {
            Some(v) => cur.push(v),
            None => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

/// X axis of the load charts: from zero unless the loads sit far from it;
/// ticks at the loads swept when there are few enough to label.
fn load_axis(cx: &Ctx) -> Axis {
    let mut xs: Vec<f64> = cx
        .lines
        .iter()
        .flat_map(|l| l.points.iter().map(|(x, _)| *x))
        .collect();
    if xs.is_empty() {
        return Axis::linear(0.0, 1.0, true);
    }
    xs.sort_by(f64::total_cmp);
    xs.dedup_by(|a, b| same_rate(Some(*a), Some(*b)));
    let (min, max) = (xs[0], xs[xs.len() - 1]);
    let span = (max - min).max(max.abs() * 0.2).max(1.0);
    let lo = if min >= 0.0 && min <= 0.5 * max {
        0.0
    } else {
        min - span * 0.08
    };
    let axis = Axis::linear(lo.min(min), max + span * 0.06, false);
    let gap = xs
        .windows(2)
        .map(|w| w[1] - w[0])
        .fold(f64::INFINITY, f64::min);
    if cx.closed_loop || xs.len() > 10 || gap < (axis.hi - axis.lo) * 0.07 {
        return axis;
    }
    let mut ticks = xs;
    if axis.lo == 0.0 && ticks[0] > (axis.hi - axis.lo) * 0.07 {
        ticks.insert(0, 0.0);
    }
    Axis {
        scale: Scale::Fixed(ticks.iter().map(|t| (*t, fmt_num(*t))).collect()),
        ticks,
        minor: Vec::new(),
        ..axis
    }
}

/// Horizontal offset, pixels, of line `k`'s error bars among `n` at one
/// load: a few pixels apart, the group never wider than 48 pixels.
fn dodge(k: usize, n: usize) -> i32 {
    if n < 2 {
        return 0;
    }
    let step = (48.0 / (n - 1) as f64).min(7.0);
    ((k as f64 - (n - 1) as f64 / 2.0) * step).round() as i32
}

fn load_legend(cx: &Ctx) -> Vec<Row> {
    let mut rows = vec![Row::Heading(if cx.lines.iter().any(|l| l.combo > 0) {
        "Design, parameters".into()
    } else {
        "Designs".into()
    })];
    for l in &cx.lines {
        rows.push(item(
            line_swatch(l.colour(), Some(l.marker())),
            l.label.clone(),
        ));
    }
    rows
}

// ---------------------------------------------------------------------------
// 1. Latency percentiles vs offered load

fn latency_vs_load<'a, DB: DrawingBackend>(cx: &Ctx<'a>, root: &Area<DB>, ink: Ink) -> Res<(), DB> {
    let body = frame(root, ink, Chart::LatencyVsLoad, &cx.load_subtitle())?;
    let (w, _) = body.dim_in_pixel();
    let (left, legend) = body.split_horizontally(w.saturating_sub(LEGEND_W));

    // The scale follows the percentiles themselves; confidence bounds may
    // widen it a little but never drive it (two replications give t = 12.7).
    let mut ys = Vec::new();
    let mut upper = Vec::new();
    let mut any_ci = false;
    let mut any_sat = false;
    for l in &cx.lines {
        for (_, p) in &l.points {
            match latency(&p.summary) {
                Some(lat) => {
                    ys.push(lat.p50.mean);
                    ys.push(lat.p99.mean);
                    if let Some(ci) = lat.p99.ci95.and_then(finite) {
                        any_ci = true;
                        upper.push(lat.p99.mean + ci);
                    }
                }
                None => any_sat |= p.summary.saturated.is_some(),
            }
        }
    }
    let ys: Vec<f64> = ys
        .into_iter()
        .filter(|v| v.is_finite() && *v > 0.0)
        .collect();
    let top = ys.iter().copied().fold(0.0, f64::max);
    let mut scale = ys.clone();
    scale.extend(upper.iter().map(|u| u.min(top * 1.5)));
    let x = load_axis(cx);
    // Headroom at the top for the saturation marks.
    let y = Axis::scaled(&ys, &scale, if any_sat { 0.14 } else { 0.06 });
    let y_desc = if y.is_log() {
        "Latency (ms, log scale)"
    } else {
        "Latency (ms)"
    };
    let mut chart = plot(&left, ink, &x, &y, cx.load_desc(), y_desc)?;
    if ys.is_empty() {
        note_in_plot(
            &left,
            ink,
            &chart,
            "Every point saturated: no latency figures",
        )?;
    }
    let y_lo_data = y.from(y.lo);
    // Shaded bands while they stay readable; error bars beyond four lines.
    let bands = cx.lines.len() <= 4;
    let n = cx.lines.len();

    for (k, l) in cx.lines.iter().enumerate() {
        let c = l.colour();
        let dodge = dodge(k, n);
        let ok = |(x, p): (f64, &'a PointResult)| latency(&p.summary).map(move |lat| (x, lat));
        for run in runs(&l.points, ok) {
            // 95% CI of p99: a band over consecutive points, a bar for an
            // isolated one.
            let band: Vec<(f64, f64, f64)> = run
                .iter()
                .filter_map(|(x, lat)| {
                    let ci = lat.p99.ci95.and_then(finite)?;
                    let m = lat.p99.mean;
                    Some((*x, y.clamp((m - ci).max(y_lo_data)), y.clamp(m + ci)))
                })
                .collect();
            if bands && band.len() == run.len() && band.len() > 1 {
                let mut poly: Vec<(f64, f64)> = band.iter().map(|b| (b.0, b.2)).collect();
                poly.extend(band.iter().rev().map(|b| (b.0, b.1)));
                chart.draw_series(std::iter::once(Polygon::new(poly, c.mix(0.16).filled())))?;
            } else {
                for (bx, lo, hi) in &band {
                    let (px, plo) = local(&left, &chart, (*bx, *lo));
                    let (_, phi) = local(&left, &chart, (*bx, *hi));
                    let px = px + dodge;
                    let st = c.mix(0.8).stroke_width(2);
                    left.draw(&PathElement::new(vec![(px, plo), (px, phi)], st))?;
                    left.draw(&PathElement::new(vec![(px - 4, plo), (px + 4, plo)], st))?;
                    left.draw(&PathElement::new(vec![(px - 4, phi), (px + 4, phi)], st))?;
                }
            }
            let p99: Vec<(f64, f64)> = run
                .iter()
                .map(|(x, lat)| (*x, y.clamp(lat.p99.mean)))
                .collect();
            let p50: Vec<(f64, f64)> = run
                .iter()
                .map(|(x, lat)| (*x, y.clamp(lat.p50.mean)))
                .collect();
            chart.draw_series(DashedLineSeries::new(p50.clone(), 10, 7, c.stroke_width(2)))?;
            chart.draw_series(LineSeries::new(p99.clone(), c.stroke_width(3)))?;
            for pt in &p50 {
                marker(&chart, *pt, l.marker(), 4, WHITE.filled())?;
                marker(&chart, *pt, l.marker(), 4, c.stroke_width(2))?;
            }
            for pt in &p99 {
                marker(&chart, *pt, l.marker(), 5, c.filled())?;
            }
        }
    }
    // Saturated points: an X along the top, stacked downwards when several
    // lines saturate at the same load.
    let mut stacked: Vec<(f64, i32)> = Vec::new();
    for l in &cx.lines {
        for (x, p) in &l.points {
            if p.summary.saturated.is_none() {
                continue;
            }
            let k = match stacked
                .iter_mut()
                .find(|(sx, _)| same_rate(Some(*sx), Some(*x)))
            {
                Some((_, k)) => {
                    *k += 1;
                    *k
                }
                None => {
                    stacked.push((*x, 0));
                    0
                }
            };
            chart.plotting_area().draw(
                &(EmptyElement::at((*x, y.hi))
                    + Cross::new((0, 14 + 15 * k), 6, l.colour().stroke_width(3))),
            )?;
        }
    }

    let mut rows = load_legend(cx);
    rows.push(Row::Heading("Key".into()));
    rows.push(item(line_swatch(KEY, Some(Marker::Circle)), "p99 latency"));
    rows.push(item(
        Swatch::Line {
            colour: KEY,
            dashed: true,
            marker: None,
        },
        "p50 latency (median)",
    ));
    if any_ci {
        let swatch = if bands {
            Swatch::Band(KEY)
        } else {
            Swatch::ErrorBar(KEY)
        };
        rows.push(item(swatch, "p99, 95% confidence"));
    }
    if any_sat {
        rows.push(item(Swatch::Cross(KEY), "saturated: no latency"));
    }
    draw_legend(&legend, ink, &rows)
}

// ---------------------------------------------------------------------------
// 2. Completed throughput vs offered load

fn throughput_vs_load<DB: DrawingBackend>(cx: &Ctx, root: &Area<DB>, ink: Ink) -> Res<(), DB> {
    let body = frame(root, ink, Chart::ThroughputVsLoad, &cx.load_subtitle())?;
    let (w, _) = body.dim_in_pixel();
    let (left, legend) = body.split_horizontally(w.saturating_sub(LEGEND_W));

    let x = load_axis(cx);
    let mut max = x.hi;
    let mut any_sat = false;
    let mut any_ci = false;
    for l in &cx.lines {
        for (_, p) in &l.points {
            let t = &p.summary.throughput.completed_rps;
            let ci = t.ci95.and_then(finite).unwrap_or(0.0);
            any_ci |= ci > 0.0;
            if (t.mean + ci).is_finite() {
                max = max.max(t.mean + ci);
            }
            any_sat |= p.summary.saturated.is_some();
        }
    }
    let y = Axis::linear(0.0, max * 1.04, true);
    let mut chart = plot(
        &left,
        ink,
        &x,
        &y,
        cx.load_desc(),
        "Completed throughput (requests/s)",
    )?;

    // Ideal: everything offered completes.
    let (d0, d1) = (x.lo.max(y.lo), x.hi.min(y.hi));
    if d1 > d0 {
        chart.draw_series(DashedLineSeries::new(
            vec![(d0, d0), (d1, d1)],
            12,
            8,
            KEY.stroke_width(2),
        ))?;
    }
    // Lines that coincide (every design keeps up at low load) stay visible:
    // earlier lines are drawn wider underneath later ones, and the error
    // bars of one load are spread a few pixels apart.
    let n = cx.lines.len();
    for (k, l) in cx.lines.iter().enumerate() {
        let c = l.colour();
        // Nested widths: generous for a few lines, restrained for many.
        let under = (n - 1 - k).min(3) as u32;
        let (width, r) = if n <= 4 {
            (3 + 2 * under, 5 + 2 * under as i32)
        } else {
            (2 + under, 4 + under as i32)
        };
        let pts: Vec<(f64, f64)> = l
            .points
            .iter()
            .filter_map(|(x, p)| finite(p.summary.throughput.completed_rps.mean).map(|v| (*x, v)))
            .collect();
        chart.draw_series(LineSeries::new(pts, c.stroke_width(width)))?;
        let dodge = dodge(k, n);
        for (x, p) in &l.points {
            let t = &p.summary.throughput.completed_rps;
            if !t.mean.is_finite() {
                continue;
            }
            if let Some(ci) = t.ci95.and_then(finite).filter(|c| *c > 0.0) {
                let (px, lo) = local(&left, &chart, (*x, y.clamp((t.mean - ci).max(0.0))));
                let (_, hi) = local(&left, &chart, (*x, y.clamp(t.mean + ci)));
                let px = px + dodge;
                let bar = c.stroke_width(if n <= 4 { 2 } else { 1 });
                left.draw(&PathElement::new(vec![(px, lo), (px, hi)], bar))?;
                left.draw(&PathElement::new(vec![(px - 5, lo), (px + 5, lo)], bar))?;
                left.draw(&PathElement::new(vec![(px - 5, hi), (px + 5, hi)], bar))?;
            }
            if p.summary.saturated.is_some() {
                chart
                    .plotting_area()
                    .draw(&Cross::new((*x, t.mean), 8, c.stroke_width(3)))?;
            } else {
                marker(&chart, (*x, t.mean), l.marker(), r, c.filled())?;
            }
        }
    }

    let mut rows = load_legend(cx);
    rows.push(Row::Heading("Key".into()));
    rows.push(item(
        Swatch::Line {
            colour: KEY,
            dashed: true,
            marker: None,
        },
        "ideal: completed = offered",
    ));
    if any_sat {
        rows.push(item(Swatch::Cross(KEY), "saturated"));
    }
    if any_ci {
        rows.push(Row::Note("bars: 95% confidence interval".into()));
    }
    draw_legend(&legend, ink, &rows)
}

// ---------------------------------------------------------------------------
// Stacked horizontal bars (CPU, attribution)

/// One bar: segments (category, value) in category order, or a note in its
/// place; `suffix` follows the total printed at its end.
struct Bar {
    segments: Vec<(usize, f64)>,
    note: Option<String>,
    suffix: String,
}

impl Bar {
    fn note(text: &str) -> Bar {
        Bar {
            segments: Vec::new(),
            note: Some(text.into()),
            suffix: String::new(),
        }
    }
}

/// Draws one panel of stacked horizontal bars, one per name, the first at
/// the top.
fn bar_panel<DB: DrawingBackend>(
    area: &Area<DB>,
    ink: Ink,
    (names, bars): (&[String], &[Bar]),
    colour: &dyn Fn(usize) -> RGBColor,
    (x_desc, unit): (&str, &str),
    x_max: Option<f64>,
) -> Res<(), DB> {
    let max = x_max.unwrap_or_else(|| longest(bars));
    let x = Axis::linear(0.0, if max > 0.0 { max * 1.18 } else { 1.0 }, true);
    let y = Axis::categories(names.to_vec());
    let y_w = names_width(names);
    let mut chart = build(area, &x, &y, y_w, x_label_area(true))?;
    axes(area, ink, &mut chart, (&x, &y), x_desc, "")?;
    let half = if names.len() <= 1 { 0.3 } else { 0.34 };
    for (i, b) in bars.iter().enumerate() {
        let c = y.slot(i);
        let mut at = 0.0;
        for &(cat, v) in &b.segments {
            if v <= 0.0 || !v.is_finite() {
                continue;
            }
            let r = [(at, c - half), (at + v, c + half)];
            chart.draw_series(std::iter::once(Rectangle::new(r, colour(cat).filled())))?;
            chart.draw_series(std::iter::once(Rectangle::new(r, WHITE.stroke_width(1))))?;
            at += v;
        }
        let (label, tone) = match &b.note {
            Some(n) => (n.clone(), MUTED),
            None => (format!("{} {unit}{}", fmt_num(at), b.suffix), INK),
        };
        let (px, py) = local(area, &chart, (at, c));
        put(
            area,
            ink,
            &label,
            (px + 8, py),
            style(16.0, tone).at(HPos::Left, VPos::Center),
        )?;
    }
    Ok(())
}

/// The longest bar's length.
fn longest(bars: &[Bar]) -> f64 {
    bars.iter()
        .map(|b| {
            b.segments
                .iter()
                .map(|s| s.1)
                .filter(|v| *v > 0.0)
                .sum::<f64>()
        })
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max)
}

/// Width of the label area for design names left of bars.
fn names_width(names: &[String]) -> u32 {
    names
        .iter()
        .map(|n| text_width(n, TICK_FONT))
        .max()
        .unwrap_or(0)
        .clamp(40, 260)
        + 24
}

/// The rows of `cats` that some bar uses, as legend blocks.
fn used_rows(
    cats: &[String],
    bars: &[&[Bar]],
    colour: &dyn Fn(usize) -> RGBColor,
    label: &dyn Fn(&str) -> String,
) -> Vec<Row> {
    (0..cats.len())
        .filter(|i| {
            bars.iter()
                .flat_map(|b| b.iter())
                .any(|b| b.segments.iter().any(|s| s.0 == *i && s.1 > 0.0))
        })
        .map(|i| item(Swatch::Block(colour(i)), label(&cats[i])))
        .collect()
}

// ---------------------------------------------------------------------------
// 3. CPU by category

fn cpu_by_category<DB: DrawingBackend>(cx: &Ctx, root: &Area<DB>, ink: Ink) -> Res<(), DB> {
    let body = frame(root, ink, Chart::CpuByCategory, &cx.focus_subtitle())?;
    let (w, _) = body.dim_in_pixel();
    let (left, legend) = body.split_horizontally(w.saturating_sub(LEGEND_W));

    // Category order: the model's, then any unknown names as found.
    let mut cats: Vec<String> = CPU_NAMES.iter().map(|s| s.to_string()).collect();
    for (_, p) in &cx.focus_points {
        for c in &p.summary.cpu_per_request {
            if !cats.contains(&c.category) {
                cats.push(c.category.clone());
            }
        }
    }
    let cat = |name: &str| cats.iter().position(|c| c == name).unwrap_or(0);
    let names: Vec<String> = cx
        .focus_points
        .iter()
        .map(|(d, _)| cx.designs[*d].clone())
        .collect();
    // Core-milliseconds per request over every core of the system: services,
    // policy and identity, sidecars, node proxies, waypoints.
    let bars: Vec<Bar> = cx
        .focus_points
        .iter()
        .map(|(_, p)| {
            let s = &p.summary;
            if s.requests.requests.mean <= 0.0 {
                return Bar::note("no completed requests");
            }
            let mut v = vec![0.0; cats.len()];
            for c in &s.cpu_per_request {
                v[cat(&c.category)] += c.ms.mean;
            }
            Bar {
                segments: v.into_iter().enumerate().collect(),
                note: None,
                suffix: if s.saturated.is_some() {
                    " (saturated)".to_string()
                } else {
                    String::new()
                },
            }
        })
        .collect();
    let colour = |i: usize| cpu_colour(&cats[i], i);
    bar_panel(
        &left,
        ink,
        (&names, &bars),
        &colour,
        ("CPU time per request, all cores (core-ms)", "ms"),
        None,
    )?;
    let mut rows = vec![Row::Heading("CPU category".into())];
    rows.extend(used_rows(&cats, &[&bars], &colour, &cpu_label));
    rows.push(Row::Heading("Notes".into()));
    rows.push(Row::Note("Every core counts: services,".into()));
    rows.push(Row::Note("policy and identity services,".into()));
    rows.push(Row::Note("sidecars, node proxies, waypoints.".into()));
    draw_legend(&legend, ink, &rows)
}

// ---------------------------------------------------------------------------
// 4. Latency CDF

/// "Nines": -log10(1 - q), so 90% is 1, 99% is 2, 99.9% is 3.
fn nines(q: f64) -> f64 {
    -(1.0 - q).max(1e-12).log10()
}

fn latency_cdf<DB: DrawingBackend>(cx: &Ctx, root: &Area<DB>, ink: Ink) -> Res<(), DB> {
    let body = frame(root, ink, Chart::LatencyCdf, &cx.focus_subtitle())?;
    let (w, _) = body.dim_in_pixel();
    let (left, legend) = body.split_horizontally(w.saturating_sub(LEGEND_W));

    let curves: Vec<(usize, Vec<(f64, f64)>)> = cx
        .focus_points
        .iter()
        .filter(|(_, p)| p.summary.saturated.is_none())
        .map(|(d, p)| {
            let pts = p
                .cdf
                .iter()
                .filter(|c| c.q >= 0.0 && c.q < 1.0 && c.ms > 0.0 && c.ms.is_finite())
                .map(|c| (c.ms, nines(c.q)))
                .collect::<Vec<_>>();
            (*d, pts)
        })
        .filter(|(_, pts)| !pts.is_empty())
        .collect();
    let (min, max) = curves
        .iter()
        .flat_map(|(_, pts)| pts.iter().map(|p| p.0))
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    let x = Axis::log(min, max);
    let top = curves
        .iter()
        .flat_map(|(_, pts)| pts.iter().map(|p| p.1))
        .fold(1.0, f64::max);
    let marks = [
        (0.0, "0%"),
        (0.5, "50%"),
        (0.9, "90%"),
        (0.99, "99%"),
        (0.999, "99.9%"),
        (0.9999, "99.99%"),
        (0.99999, "99.999%"),
        (0.999999, "99.9999%"),
    ];
    let labels: Vec<(f64, String)> = marks
        .iter()
        .map(|(q, l)| (nines(*q), l.to_string()))
        .filter(|(t, _)| *t <= top + 1e-9)
        .collect();
    let hi = top + 0.15;
    let y = Axis {
        lo: 0.0,
        hi,
        ticks: labels.iter().map(|l| l.0).collect(),
        minor: [0.75, 0.95, 0.995, 0.9995, 0.99995]
            .iter()
            .map(|q| nines(*q))
            .filter(|t| *t < hi)
            .collect(),
        scale: Scale::Fixed(labels),
    };
    let chart = plot(
        &left,
        ink,
        &x,
        &y,
        "Latency (ms, log scale)",
        "Requests at or below (percentile)",
    )?;
    for (d, pts) in &curves {
        let c = design_colour(*d);
        let pts: Vec<(f64, f64)> = pts.iter().map(|(ms, n)| (x.to(*ms), *n)).collect();
        chart
            .plotting_area()
            .draw(&PathElement::new(pts.clone(), c.stroke_width(3)))?;
        for p in &pts {
            chart
                .plotting_area()
                .draw(&Circle::new(*p, 3, c.filled()))?;
        }
    }
    let mut rows = cx.design_rows(true);
    rows.push(Row::Heading("Reading it".into()));
    rows.push(Row::Note("The vertical axis stretches the".into()));
    rows.push(Row::Note("tail: each step up is ten times".into()));
    rows.push(Row::Note("rarer (90%, 99%, 99.9%).".into()));
    if cx
        .focus_points
        .iter()
        .any(|(_, p)| p.summary.saturated.is_some())
    {
        rows.push(Row::Note("Saturated designs have no latency.".into()));
    }
    draw_legend(&legend, ink, &rows)
}

// ---------------------------------------------------------------------------
// 5. Attribution

fn attribution<DB: DrawingBackend>(cx: &Ctx, root: &Area<DB>, ink: Ink) -> Res<(), DB> {
    let body = frame(root, ink, Chart::Attribution, &cx.focus_subtitle())?;
    let (w, h) = body.dim_in_pixel();
    let (left, legend) = body.split_horizontally(w.saturating_sub(LEGEND_W));

    let mut spans: Vec<String> = SPAN_NAMES.iter().map(|s| s.to_string()).collect();
    for (_, p) in &cx.focus_points {
        for a in &p.summary.attribution {
            if !spans.contains(&a.span) {
                spans.push(a.span.clone());
            }
        }
    }
    let span = |name: &str| spans.iter().position(|s| s == name).unwrap_or(0);
    let names: Vec<String> = cx
        .focus_points
        .iter()
        .map(|(d, _)| cx.designs[*d].clone())
        .collect();
    let bars = |tail: bool| -> Vec<Bar> {
        cx.focus_points
            .iter()
            .map(|(_, p)| {
                let s = &p.summary;
                if s.saturated.is_some() {
                    return Bar::note("saturated: no latency breakdown");
                }
                let mut segs: Vec<(usize, f64)> = s
                    .attribution
                    .iter()
                    .filter_map(|a| {
                        let v = if tail {
                            a.p99_ms.map(|e| e.mean)?
                        } else {
                            a.mean_ms.mean
                        };
                        Some((span(&a.span), v))
                    })
                    .collect();
                if segs.is_empty() {
                    return Bar::note("no breakdown");
                }
                segs.sort_by_key(|s| s.0);
                Bar {
                    segments: segs,
                    note: None,
                    suffix: String::new(),
                }
            })
            .collect()
    };
    let mean = bars(false);
    let tail = bars(true);
    let colour = |i: usize| span_colour(&spans[i], i);
    let mean_desc = "Mean request: time on its critical path (ms)";
    if tail.iter().any(|b| b.note.is_none()) {
        // One scale for both panels unless the tail would squash the mean.
        let (m, t) = (longest(&mean), longest(&tail));
        let shared = (t <= 2.5 * m).then_some(m.max(t));
        let (top, bottom) = left.split_vertically(h / 2);
        bar_panel(
            &top,
            ink,
            (&names, &mean),
            &colour,
            (mean_desc, "ms"),
            shared,
        )?;
        bar_panel(
            &bottom,
            ink,
            (&names, &tail),
            &colour,
            (
                "Slowest 1% (requests at or above p99): mean time on the critical path (ms)",
                "ms",
            ),
            shared,
        )?;
    } else {
        bar_panel(
            &left,
            ink,
            (&names, &mean),
            &colour,
            (mean_desc, "ms"),
            None,
        )?;
    }
    let mut rows = vec![Row::Heading("Span".into())];
    rows.extend(used_rows(&spans, &[&mean, &tail], &colour, &span_label));
    rows.push(Row::Heading("Notes".into()));
    rows.push(Row::Note("Successful requests only; spans".into()));
    rows.push(Row::Note("with no time in any design omitted.".into()));
    draw_legend(&legend, ink, &rows)
}

// ---------------------------------------------------------------------------
// 6. Latency over time

fn latency_over_time<DB: DrawingBackend>(cx: &Ctx, root: &Area<DB>, ink: Ink) -> Res<(), DB> {
    let body = frame(root, ink, Chart::LatencyOverTime, &cx.focus_subtitle())?;
    let (w, h) = body.dim_in_pixel();
    let (left, legend) = body.split_horizontally(w.saturating_sub(LEGEND_W));
    let (top, bottom) = left.split_vertically(h * 56 / 100);

    let width = |p: &PointResult| {
        let w = p.summary.series_interval_s;
        if w.is_finite() && w > 0.0 {
            w
        } else {
            let s = &p.series;
            if s.len() > 1 {
                (s[1].t_s - s[0].t_s).abs().max(1e-9)
            } else {
                1.0
            }
        }
    };
    // Intervals past the end of the measured window only hold the drain of
    // requests in flight: left out.
    let end_of = |p: &PointResult| {
        let wl = &p.summary.workload;
        wl.duration_s
            .map(|d| wl.warmup_s + d)
            .filter(|e| e.is_finite())
    };
    let pts: Vec<(usize, &PointResult, Vec<&SeriesPoint>)> = cx
        .focus_points
        .iter()
        .map(|(d, p)| {
            let end = end_of(p);
            let s: Vec<&SeriesPoint> = p
                .series
                .iter()
                .filter(|s| s.t_s.is_finite() && end.is_none_or(|e| s.t_s < e - 1e-9))
                .collect();
            (*d, *p, s)
        })
        .filter(|(_, _, s)| !s.is_empty())
        .collect();
    let t_end = pts
        .iter()
        .filter_map(|(_, p, s)| s.last().map(|l| l.t_s + width(p)))
        .fold(0.0, f64::max);
    let warmup = pts
        .iter()
        .map(|(_, p, _)| p.summary.workload.warmup_s)
        .filter(|w| w.is_finite())
        .fold(0.0, f64::max)
        .min(t_end);
    let x = Axis::linear(0.0, if t_end > 0.0 { t_end } else { 1.0 }, false);

    let lat: Vec<f64> = pts
        .iter()
        .flat_map(|(_, _, s)| s.iter().filter_map(|s| s.mean_ms))
        .filter(|v| v.is_finite() && *v > 0.0)
        .collect();
    let y1 = Axis::values(&lat, true, 0.1);
    let max_hs = pts
        .iter()
        .flat_map(|(_, _, s)| s.iter().map(|s| s.full_handshakes_per_s))
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    let y2 = Axis::linear(0.0, if max_hs > 0.0 { max_hs * 1.08 } else { 1.0 }, true);

    // Both panels share the left edge so their time axes line up.
    let y_w = y_label_area(&y1, true).max(y_label_area(&y2, true));
    let shade = |chart: &mut Plot<'_, DB>, y: &Axis| -> Res<(), DB> {
        if warmup > 0.0 {
            chart.draw_series(std::iter::once(Rectangle::new(
                [(0.0, y.lo), (warmup, y.hi)],
                WARMUP.filled(),
            )))?;
        }
        Ok(())
    };

    let y1_desc = if y1.is_log() {
        "Mean latency (ms, log)"
    } else {
        "Mean latency (ms)"
    };
    let mut chart = build(&top, &x, &y1, y_w, x_label_area(false))?;
    shade(&mut chart, &y1)?;
    axes(&top, ink, &mut chart, (&x, &y1), "", y1_desc)?;
    if warmup > 0.0 {
        let (px, py) = local(&top, &chart, (warmup / 2.0, y1.hi));
        put(
            &top,
            ink,
            "warm-up",
            (px, py + 8),
            style(15.0, MUTED).at(HPos::Center, VPos::Top),
        )?;
    }
    for (d, p, s) in &pts {
        let c = design_colour(*d);
        let half = width(p) / 2.0;
        for run in runs(s, |s| {
            s.mean_ms
                .filter(|v| v.is_finite() && *v > 0.0)
                .map(|v| (s.t_s + half, y1.clamp(v)))
        }) {
            if run.len() == 1 {
                chart
                    .plotting_area()
                    .draw(&Circle::new(run[0], 3, c.filled()))?;
            }
            chart
                .plotting_area()
                .draw(&PathElement::new(run, c.stroke_width(2)))?;
        }
    }
    if lat.is_empty() {
        note_in_plot(&top, ink, &chart, "No request finished")?;
    }

    let mut chart2 = build(&bottom, &x, &y2, y_w, x_label_area(true))?;
    shade(&mut chart2, &y2)?;
    axes(
        &bottom,
        ink,
        &mut chart2,
        (&x, &y2),
        "Simulated time (s), warm-up included",
        "Full TLS handshakes/s",
    )?;
    for (d, p, s) in &pts {
        let c = design_colour(*d);
        let half = width(p) / 2.0;
        let line: Vec<(f64, f64)> = s
            .iter()
            .filter(|s| s.full_handshakes_per_s.is_finite())
            .map(|s| (s.t_s + half, s.full_handshakes_per_s))
            .collect();
        chart2
            .plotting_area()
            .draw(&PathElement::new(line, c.stroke_width(2)))?;
    }

    let mut rows = vec![Row::Heading("Designs".into())];
    for (d, p, _) in &pts {
        let mut label = cx.designs[*d].clone();
        if p.summary.saturated.is_some() {
            label.push_str(" (saturated)");
        }
        rows.push(item(line_swatch(design_colour(*d), None), label));
    }
    if warmup > 0.0 {
        rows.push(Row::Heading("Key".into()));
        rows.push(item(Swatch::Shade, "warm-up (not measured)"));
    }
    rows.push(Row::Heading("Notes".into()));
    rows.push(Row::Note("Averaged over replications, one".into()));
    rows.push(Row::Note(format!(
        "point per {} s of simulated time.",
        fmt_num(pts.first().map_or(1.0, |(_, p, _)| width(p)))
    )));
    draw_legend(&legend, ink, &rows)
}
