//! The canvas every chart shares: the plotters types, the [`Drawing`] trait
//! and [`save`] (one drawing written as SVG and as PNG), the frame (white
//! background, title, subtitle lines) and the markers of the load charts.

use std::io;
use std::path::{Path, PathBuf};

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::backend::{Area, Res};
use super::font::register_font;
use super::palette::{INK, MUTED};
use super::plot::Plot;
use super::svg_text;
use super::text::{Ink, fit, put, style};
use crate::report::output::{write_atomic, write_atomic_with};

/// Width and height of every chart, pixels (small multiples of many entry
/// endpoints grow taller).
pub const SIZE: (u32, u32) = (1200, 750);

/// Something drawn on any plotters backend, so that one routine writes it
/// as SVG and as PNG.
pub(crate) trait Drawing {
    /// Draws on `root` (of [`Drawing::size`]); `ink` says how text is set.
    fn draw<DB: DrawingBackend>(&self, root: &Area<DB>, ink: Ink) -> Res<(), DB>;

    /// Width and height, pixels.
    fn size(&self) -> (u32, u32) {
        SIZE
    }
}

/// Writes `chart` into `dir` as `<stem>.svg` (text as glyph outlines) and
/// `<stem>.png`, each through a temporary file and a rename.
pub(crate) fn save(dir: &Path, stem: &str, chart: &impl Drawing) -> io::Result<Vec<PathBuf>> {
    register_font();
    let err = |e: &dyn std::fmt::Display| io::Error::other(format!("drawing {stem}: {e}"));

    let mut svg = String::new();
    svg_text::begin();
    {
        let root = SVGBackend::with_string(&mut svg, chart.size()).into_drawing_area();
        chart.draw(&root, Ink::Svg).map_err(|e| err(&e))?;
        root.present().map_err(|e| err(&e))?;
    }
    let svg_path = dir.join(format!("{stem}.svg"));
    write_atomic(&svg_path, svg_text::finish(&svg).as_bytes())?;

    // The encoder picks the format from the extension, so the temporary file
    // must end in .png too.
    let png_path = dir.join(format!("{stem}.png"));
    write_atomic_with(&png_path, ".png", |tmp| {
        let root = BitMapBackend::new(tmp, chart.size()).into_drawing_area();
        chart.draw(&root, Ink::Bitmap).map_err(|e| err(&e))?;
        root.present().map_err(|e| err(&e))
    })?;
    Ok(vec![svg_path, png_path])
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Marker {
    Circle,
    Triangle,
    Square,
    Diamond,
}

impl Marker {
    pub(crate) fn of(combo: usize) -> Marker {
        [
            Marker::Circle,
            Marker::Triangle,
            Marker::Square,
            Marker::Diamond,
        ][combo % 4]
    }
}

/// Draws a marker of radius `r` pixels centred on `at` (data coordinates).
pub(crate) fn marker<DB: DrawingBackend>(
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
pub(crate) fn marker_px<DB: DrawingBackend>(
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

/// Fills the background, draws the title and subtitle lines, and returns the
/// area below them.
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
