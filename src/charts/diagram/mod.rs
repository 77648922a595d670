//! The topology as an SVG diagram: clients on the left, then services in
//! columns by call depth (the longest chain of calls that reaches them), an
//! arrow per caller -> callee pair labelled with calls per user request,
//! over a background band per zone (or set of zones a service runs in).
//! Services outside the call graph (a policy or token service that only
//! designs call) sit in a last column of their own. Where everything goes
//! is [`layout`]'s (plain geometry, routes around boxes); this file writes
//! it as plain SVG text with every name escaped, inlined in report.html and
//! written as topology.svg.

mod layout;
mod order;

use std::fmt::Write;

pub use layout::{Band, Edge, Layout, Rect, layout};

use crate::charts::text::text_width;
use crate::report::review::escape;
use crate::report::review::setup::TopologyGraph;
use crate::report::words;
use layout::{BAND_HEAD, MARGIN, TOP};

/// Bold text is about this much wider than regular (DejaVu Sans).
const BOLD: f64 = 1.12;

/// Band fills, top to bottom (repeating), and their outlines.
const BAND_FILLS: [(&str, &str); 6] = [
    ("#f2f6fb", "#d5e0ee"),
    ("#f3f8f0", "#d6e5cf"),
    ("#faf4fa", "#e7d5e7"),
    ("#fbf7ee", "#ebdfc4"),
    ("#eff7f7", "#cfe3e3"),
    ("#f5f3fa", "#ddd7ec"),
];

/// The SVG text of the diagram (no XML prolog, so it can sit inline in HTML
/// or in a file of its own).
pub fn svg(g: &TopologyGraph) -> String {
    let mut lay = layout(g);
    // Wide enough for the titles (a system of one or two services is not).
    let need = MARGIN * 2.0
        + (f64::from(text_width(&title(g), 16.0 * 1.24)) * BOLD)
            .max(f64::from(text_width(&subtitle(g), 12.0 * 1.24)));
    if need > lay.width {
        for b in &mut lay.bands {
            b.rect.w += need - lay.width;
        }
        lay.width = need.ceil();
    }
    let mut out = String::new();
    header(&mut out, g, &lay);
    bands(&mut out, g, &lay);
    let calls_in = draw_arrows(&mut out, &lay);
    clients(&mut out, g, &lay);
    services(&mut out, g, &lay, &calls_in);
    out += "</svg>";
    out
}

/// The root element, the arrowhead and the titles.
fn header(out: &mut String, g: &TopologyGraph, lay: &Layout) {
    let (width, height) = (lay.width, lay.height);
    let _ = write!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" class="topology" viewBox="0 0 {width:.0} {height:.0}" width="{width:.0}" height="{height:.0}" role="img" aria-label="Topology {name}: services and calls per user request" font-family="DejaVu Sans, Verdana, Arial, sans-serif">"##,
        name = escape(&g.name)
    );
    *out += r##"<defs><marker id="ztsim-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#555"/></marker></defs>"##;
    let _ = write!(
        out,
        r##"<text x="{MARGIN}" y="24" font-size="16" font-weight="bold">{}</text>"##,
        escape(&title(g))
    );
    let _ = write!(
        out,
        r##"<text x="{MARGIN}" y="42" font-size="12" fill="#555">{}</text>"##,
        escape(&subtitle(g))
    );
    if let Some(x) = lay.outside_x {
        let _ = write!(
            out,
            r##"<text x="{x:.0}" y="{:.0}" font-size="12" fill="#555">not in the call graph</text>"##,
            TOP - 6.0
        );
    }
}

/// The diagram's title.
fn title(g: &TopologyGraph) -> String {
    format!("Topology {} — arrows: calls per user request", g.name)
}

/// The line under the title.
fn subtitle(g: &TopologyGraph) -> String {
    format!(
        "{} in {}; {:.1} internal calls per user request; bands: zones",
        words::count(g.services.len(), "service"),
        words::count(g.zones.len(), "zone"),
        // + 0.0: an empty sum of floats is -0.0, printed "-0.0".
        g.calls_per_request() + 0.0
    )
}

/// A band per zone set, labelled with its zones (and "external" when only
/// services outside the system run there).
fn bands(out: &mut String, g: &TopologyGraph, lay: &Layout) {
    for (b, band) in lay.bands.iter().enumerate() {
        let (fill, stroke) = BAND_FILLS[b % BAND_FILLS.len()];
        let r = band.rect;
        let members: Vec<_> = g
            .services
            .iter()
            .filter(|s| layout::band_zones(g, &s.zones) == band.zones)
            .collect();
        let external = !members.is_empty() && members.iter().all(|s| s.external);
        let label = format!(
            "zone{} {}{}",
            if band.zones.len() == 1 { "" } else { "s" },
            band.zones.join(", "),
            if external {
                " (outside the system)"
            } else {
                ""
            }
        );
        let _ = write!(
            out,
            r##"<g><rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" rx="8" fill="{fill}" stroke="{stroke}"/><text x="{:.1}" y="{:.1}" font-size="11" fill="#556">{}</text></g>"##,
            r.x,
            r.y,
            r.w,
            r.h,
            r.x + 8.0,
            r.y + BAND_HEAD - 8.0,
            escape(&label)
        );
    }
}

/// The SVG path of a route: straight where it runs along or across a
/// column, an S-curve between columns (inside the two points' bounding
/// box, where no box is).
fn path(points: &[(f64, f64)]) -> String {
    let mut d = String::new();
    let (x0, y0) = points[0];
    let _ = write!(d, "M {x0:.1} {y0:.1}");
    for w in points.windows(2) {
        let ((x1, y1), (x2, y2)) = (w[0], w[1]);
        if (y1 - y2).abs() < 0.05 || (x1 - x2).abs() < 0.05 {
            let _ = write!(d, " L {x2:.1} {y2:.1}");
        } else {
            let mx = (x1 + x2) / 2.0;
            let _ = write!(d, " C {mx:.1} {y1:.1}, {mx:.1} {y2:.1}, {x2:.1} {y2:.1}");
        }
    }
    d
}

/// Draws the arrows with their labels; returns the calls per request into
/// each service.
fn draw_arrows(out: &mut String, lay: &Layout) -> Vec<f64> {
    let mut calls_in = vec![0.0; lay.services.len()];
    let mut arrows_in = vec![0usize; lay.services.len()];
    for e in &lay.edges {
        calls_in[e.to] += e.per_request;
        arrows_in[e.to] += 1;
    }
    for e in &lay.edges {
        let _ = write!(
            out,
            r##"<path d="{}" fill="none" stroke="#777" stroke-width="1.3" marker-end="url(#ztsim-arrow)"/>"##,
            path(&e.points)
        );
        // Labels only where they cannot be confused: a target with at most
        // two arrows in; otherwise its box says how often it is called.
        if arrows_in[e.to] <= 2 {
            let label = match e.from {
                None => format!("{:.0}%", e.per_request * 100.0),
                Some(_) => format!("×{}", per_request(e.per_request)),
            };
            // Beside the arrowhead, on the side the arrow comes from.
            let (x2, y2) = e.points[e.points.len() - 1];
            let from_left = e.points[e.points.len() - 2].0 < x2;
            let _ = write!(
                out,
                r##"<text x="{:.1}" y="{:.1}" font-size="11" text-anchor="middle" fill="#222" stroke="#fff" stroke-width="3" paint-order="stroke">{}</text>"##,
                if from_left { x2 - 34.0 } else { x2 + 34.0 },
                y2 - 5.0,
                escape(&label)
            );
        }
    }
    calls_in
}

/// The clients' box.
fn clients(out: &mut String, g: &TopologyGraph, lay: &Layout) {
    let Rect { x, y, w, h } = lay.clients;
    let _ = write!(
        out,
        r##"<rect x="{x:.1}" y="{y:.1}" width="{w:.0}" height="{h}" rx="33" fill="#eef3f8" stroke="#4a6fa5"/><text x="{:.1}" y="{:.1}" font-size="14" text-anchor="middle" font-weight="bold">clients</text><text x="{:.1}" y="{:.1}" font-size="11" text-anchor="middle" fill="#444">in {}</text>"##,
        x + w / 2.0,
        y + 28.0,
        x + w / 2.0,
        y + 46.0,
        escape(&g.client_zone)
    );
}

/// One box per service: name, size, zones, how often it is called.
fn services(out: &mut String, g: &TopologyGraph, lay: &Layout, calls_in: &[f64]) {
    for (s, node) in g.services.iter().enumerate() {
        let Rect { x, y, w, h } = lay.services[s];
        let outside = lay.outside[s];
        let (fill, stroke) = if outside {
            ("#f6f6f6", "#999")
        } else {
            ("#fdf6e9", "#c08a2d")
        };
        let self_calls = g
            .calls
            .iter()
            .find(|c| c.from == s && c.to == s)
            .map(|c| format!(", calls itself ×{}", per_request(c.per_request)))
            .unwrap_or_default();
        let _ = write!(
            out,
            r##"<g><title>{title}</title><rect x="{x:.1}" y="{y:.1}" width="{w}" height="{h}" rx="6" fill="{fill}" stroke="{stroke}"/><text x="{tx:.1}" y="{ty1:.1}" font-size="14" text-anchor="middle" font-weight="bold">{name}</text><text x="{tx:.1}" y="{ty2:.1}" font-size="11" text-anchor="middle" fill="#444">{detail}</text><text x="{tx:.1}" y="{ty3:.1}" font-size="11" text-anchor="middle" fill="#444">{called}</text></g>"##,
            title = escape(&format!(
                "{}: endpoints {}{self_calls}",
                node.name,
                node.endpoints.join(", ")
            )),
            tx = x + w / 2.0,
            ty1 = y + 21.0,
            ty2 = y + 39.0,
            ty3 = y + 55.0,
            called = if outside {
                "called by designs only".to_string()
            } else {
                format!("called ×{} per request", per_request(calls_in[s]))
            },
            name = escape(&clip(&node.name, 18)),
            detail = escape(&clip(
                &if node.external {
                    format!("external · {}", node.zones.join(","))
                } else {
                    format!(
                        "{} × {} core{} · {}",
                        node.replicas,
                        node.cores,
                        if node.cores == crate::units::Millicores::ONE {
                            ""
                        } else {
                            "s"
                        },
                        node.zones.join(",")
                    )
                },
                25
            )),
        );
    }
}

/// Calls per request as a short label: `3`, `0.5`, `2.25`.
fn per_request(n: f64) -> String {
    let s = format!("{n:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// At most `n` characters, with an ellipsis when cut.
fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n - 1).collect::<String>() + "…"
    }
}

#[cfg(test)]
mod tests {
    use super::layout::depths;
    use super::*;
    use crate::report::review::setup::{ServiceCall, ServiceNode};

    fn node(name: &str) -> ServiceNode {
        ServiceNode {
            name: name.into(),
            replicas: 2,
            cores: crate::units::Millicores::ONE,
            external: false,
            zones: vec!["az1".into()],
            endpoints: vec!["get".into()],
        }
    }

    fn graph() -> TopologyGraph {
        TopologyGraph {
            name: "t".into(),
            zones: vec!["az1".into()],
            services: vec![node("web"), node("db"), node("cache"), node("policy")],
            // web -> cache -> db and web -> db: db goes to column 2.
            calls: vec![
                ServiceCall {
                    from: 0,
                    to: 2,
                    per_request: 1.0,
                },
                ServiceCall {
                    from: 2,
                    to: 1,
                    per_request: 0.5,
                },
                ServiceCall {
                    from: 0,
                    to: 1,
                    per_request: 3.0,
                },
            ],
            entries: vec![("web.get".into(), 1.0)],
            client_zone: "az1".into(),
            arrivals: "open loop".into(),
        }
    }

    #[test]
    fn columns_follow_the_longest_call_chain() {
        assert_eq!(depths(&graph()), vec![Some(0), Some(2), Some(1), None]);
    }

    /// A chain of 100,000 services listed callee first, the order in which
    /// relaxing every call until nothing changes takes 10^10 steps.
    #[test]
    fn a_deep_chain_lays_out_in_linear_time() {
        let n = 100_000;
        let mut g = graph();
        g.services = (0..n)
            .map(|i| ServiceNode {
                name: format!("s{i}"),
                ..g.services[0].clone()
            })
            .collect();
        g.calls = (0..n - 1)
            .rev()
            .map(|i| ServiceCall {
                from: i,
                to: i + 1,
                ..g.calls[0].clone()
            })
            .collect();
        g.entries = vec![("s0.get".into(), 1.0)];
        let d = depths(&g);
        assert!(d.iter().enumerate().all(|(i, &x)| x == Some(i)));
        // And so does the whole layout, with a call from the first to the
        // last service passing every column between.
        g.calls.push(ServiceCall {
            from: 0,
            to: n - 1,
            ..g.calls[0].clone()
        });
        let lay = layout(&g);
        assert_eq!(lay.edges.len(), n + 1);
        assert_eq!(lay.edges[n].points.len(), 2 * (n - 2) + 2);
    }

    /// The interiors of `r` and the box spanned by `p` and `q` overlap.
    fn enters(p: (f64, f64), q: (f64, f64), r: Rect) -> bool {
        p.0.min(q.0) < r.x + r.w - 0.5
            && p.0.max(q.0) > r.x + 0.5
            && p.1.min(q.1) < r.y + r.h - 0.5
            && p.1.max(q.1) > r.y + 0.5
    }

    /// A service outside the call graph calling one inside (an arrow back
    /// to the left) and another outside one (both in the last column): each
    /// routed beside the boxes, into the callee's right side.
    #[test]
    fn calls_back_and_within_a_column_pass_no_box() {
        let mut g = graph();
        g.services.push(node("admin"));
        for (from, to) in [(3, 1), (4, 3), (4, 0)] {
            g.calls.push(ServiceCall {
                from,
                to,
                per_request: 1.0,
            });
        }
        let lay = layout(&g);
        assert!(lay.outside[3] && lay.outside[4]);
        assert_eq!(lay.services[3].x, lay.services[4].x);
        for e in &lay.edges {
            for (b, r) in lay.boxes() {
                if b != e.from && b != Some(e.to) {
                    assert!(
                        !e.points.windows(2).any(|w| enters(w[0], w[1], r)),
                        "{e:?} enters {b:?}"
                    );
                }
            }
        }
        for e in &lay.edges[lay.edges.len() - 3..] {
            let (x, _) = e.points[e.points.len() - 1];
            let to = lay.services[e.to];
            assert!((x - (to.x + to.w)).abs() < 1e-9, "{e:?}");
        }
    }

    /// web -> cache -> db -> cache: the call back is ignored, and nothing
    /// grows with the number of times round the cycle.
    #[test]
    fn a_cycle_between_services_keeps_finite_columns() {
        let mut g = graph();
        g.calls.push(ServiceCall {
            from: 1,
            to: 2,
            ..g.calls[0].clone()
        });
        let d = depths(&g);
        assert_eq!(d[0], Some(0));
        assert!(
            d[1..3]
                .iter()
                .all(|x| x.is_some_and(|x| (1..=2).contains(&x))),
            "{d:?}"
        );
        assert_eq!(d[3], None);
    }

    #[test]
    fn every_service_and_call_is_drawn() {
        let s = svg(&graph());
        for name in [
            "web", "db", "cache", "policy", "clients", "×3", "×0.5", "100%",
        ] {
            assert!(s.contains(&format!(">{name}<")), "{name} missing");
        }
        assert_eq!(s.matches("marker-end").count(), 4);
        assert!(s.contains("not in the call graph"));
        // Each box says how often it is called: db 3 + 0.5 times.
        assert!(s.contains(">called ×3.5 per request<"));
        assert!(s.contains(">called ×1 per request<"));
        assert!(s.contains(">called by designs only<"));
    }

    #[test]
    fn zones_listed_in_another_order_share_a_band() {
        let mut g = graph();
        g.zones = vec!["az1".into(), "az2".into()];
        g.services[0].zones = vec!["az2".into(), "az1".into()];
        g.services[2].zones = vec!["az1".into(), "az2".into()];
        let lay = layout(&g);
        assert_eq!(lay.bands.len(), 2, "{:?}", lay.bands);
        let s = svg(&g);
        assert!(s.contains(">zones az1, az2<") && s.contains(">zone az1<"));
    }

    /// One service: the drawing is as wide as its title, and no call
    /// reads "0.0", not "-0.0".
    #[test]
    fn a_lone_service_keeps_its_title_in_the_drawing() {
        let mut g = graph();
        g.name = "a-long-topology-name-here".into();
        g.services.truncate(1);
        g.calls.clear();
        let lay = layout(&g);
        let s = svg(&g);
        let width = f64::from(text_width(&title(&g), 16.0 * 1.24)) * BOLD + MARGIN * 2.0;
        assert!(lay.width < width);
        assert!(s.contains(&format!("width=\"{:.0}\"", width.ceil())), "{s}");
        assert!(s.contains("; 0.0 internal calls per user request"), "{s}");
    }

    #[test]
    fn entries_of_one_service_are_one_arrow() {
        let mut g = graph();
        g.services[0].endpoints.push("post".into());
        g.entries = vec![("web.get".into(), 0.75), ("web.post".into(), 0.25)];
        let s = svg(&g);
        assert_eq!(s.matches("marker-end").count(), 4);
        assert!(s.contains(">100%<"));
    }

    #[test]
    fn names_are_text_not_markup() {
        let mut g = graph();
        g.services[0].name = "<script>alert(1)</script>".into();
        g.entries[0].0 = "<script>alert(1)</script>.get".into();
        let s = svg(&g);
        assert!(!s.contains("<script>"));
        assert!(s.contains("&lt;script&gt;"));
    }
}
