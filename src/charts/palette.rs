//! Colours: ink and grid greys, one colour per design (Tableau 10, shaded
//! per combination of extra parameters), and the colours and legend labels
//! of the CPU categories and critical-path spans.

use plotters::prelude::*;

pub(crate) const INK: RGBColor = RGBColor(30, 30, 30);
pub(crate) const MUTED: RGBColor = RGBColor(95, 95, 95);
pub(crate) const KEY: RGBColor = RGBColor(70, 70, 70);
pub(crate) const GRID_BOLD: RGBColor = RGBColor(200, 200, 200);
/// The warm-up shade of the over-time chart.
pub(crate) const WARMUP: RGBColor = RGBColor(236, 236, 236);
pub(crate) const GRID_LIGHT: RGBColor = RGBColor(235, 235, 235);

/// Tableau 10: distinct, readable on white, familiar.
pub(crate) const DESIGN_COLOURS: [RGBColor; 10] = [
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
pub(crate) fn design_colour(i: usize) -> RGBColor {
    let base = DESIGN_COLOURS[i % DESIGN_COLOURS.len()];
    match (i / DESIGN_COLOURS.len()) % 3 {
        0 => base,
        1 => mix(base, BLACK, 0.4),
        _ => mix(base, WHITE, 0.4),
    }
}

/// Shade of a design's colour for the `combo`-th combination of extra
/// parameters.
pub(crate) fn line_colour(design: usize, combo: usize) -> RGBColor {
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
pub(crate) fn cpu_colour(name: &str, i: usize) -> RGBColor {
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

pub(crate) fn cpu_label(name: &str) -> String {
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
pub(crate) fn span_colour(name: &str, i: usize) -> RGBColor {
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
        // Not ours: a muted tan that no design's cost is drawn in.
        "external" => RGBColor(205, 170, 125),
        _ => DESIGN_COLOURS[(i + 3) % DESIGN_COLOURS.len()],
    }
}

pub(crate) fn span_label(name: &str) -> String {
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
        "external" => "external services".into(),
        other => other.replace('_', " "),
    }
}
