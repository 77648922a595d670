//! The topology as an SVG diagram: clients on the left, then services in
//! columns by call depth (the longest chain of calls that reaches them), an
//! arrow per caller -> callee pair labelled with calls per user request.
//! Services outside the call graph (a policy or token service that only
//! designs call) sit in a last column of their own. Plain SVG text with
//! every name escaped, inlined in report.html and written as topology.svg.

use std::fmt::Write;

use crate::report::review::escape;
use crate::report::review::setup::TopologyGraph;

const BOX_W: f64 = 165.0;
const BOX_H: f64 = 66.0;
const COL_GAP: f64 = 90.0;
const ROW_GAP: f64 = 22.0;
const MARGIN: f64 = 20.0;
const TOP: f64 = 56.0;

/// Column of each service (0 = called by clients), `None` when nothing in
/// the call graph reaches it: the longest call path from an entry, in one
/// pass over the services in topological order (linear, so a 100,000-deep
/// chain lays out at once). Self-calls keep a service in its column; where
/// services call each other in a cycle, the call back to a service already
/// placed is ignored.
fn depths(g: &TopologyGraph) -> Vec<Option<usize>> {
    let n = g.services.len();
    let mut depth: Vec<Option<usize>> = vec![None; n];
    for (entry, _) in &g.entries {
        if let Some(s) = g.services.iter().position(|s| {
            entry
                .strip_prefix(&s.name)
                .is_some_and(|r| r.starts_with('.'))
        }) {
            depth[s] = Some(0);
        }
    }
    let mut callees: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut waiting = vec![0usize; n];
    for c in g.calls.iter().filter(|c| c.from != c.to) {
        callees[c.from].push(c.to);
        waiting[c.to] += 1;
    }
    let mut placed = vec![false; n];
    let mut ready: Vec<usize> = (0..n).rev().filter(|&s| waiting[s] == 0).collect();
    let mut next_in_cycle = 0;
    for _ in 0..n {
        // Every caller placed first; in a cycle, the first service left.
        let s = match ready.pop() {
            Some(s) => s,
            None => {
                while placed[next_in_cycle] {
                    next_in_cycle += 1;
                }
                next_in_cycle
            }
        };
        placed[s] = true;
        for &t in &callees[s] {
            if placed[t] {
                continue;
            }
            if let Some(d) = depth[s] {
                depth[t] = Some(depth[t].map_or(d + 1, |x| x.max(d + 1)));
            }
            waiting[t] -= 1;
            if waiting[t] == 0 {
                ready.push(t);
            }
        }
    }
    depth
}

/// Where everything goes: each service's column (clients are left of
/// column 0) and its place in it.
struct Layout {
    depth: Vec<Option<usize>>,
    /// Columns reached by the call graph; one more holds the services
    /// outside it, if any.
    reached: usize,
    has_outside: bool,
    col_of: Vec<usize>,
    cols: Vec<Vec<usize>>,
    /// Most services in a column.
    rows: usize,
    width: f64,
    height: f64,
    /// Top of the clients' box.
    cy: f64,
    /// Width of the clients' box.
    cw: f64,
    /// Width of the clients' column, gap included.
    client_col_w: f64,
}

impl Layout {
    fn new(g: &TopologyGraph) -> Layout {
        let depth = depths(g);
        let reached = depth.iter().flatten().max().map_or(0, |d| d + 1);
        let has_outside = depth.iter().any(Option::is_none);
        let columns = reached + usize::from(has_outside);
        let mut col_of: Vec<usize> = depth.iter().map(|d| d.unwrap_or(reached)).collect();
        if !has_outside {
            col_of
                .iter_mut()
                .for_each(|c| *c = (*c).min(columns.saturating_sub(1)));
        }
        let cols = columns_ordered(g, &col_of, columns);
        let rows = cols.iter().map(Vec::len).max().unwrap_or(0).max(1);
        let client_col_w = BOX_W * 0.7 + COL_GAP;
        Layout {
            depth,
            reached,
            has_outside,
            col_of,
            cols,
            rows,
            width: MARGIN * 2.0 + client_col_w + columns as f64 * (BOX_W + COL_GAP) - COL_GAP,
            height: TOP + rows as f64 * (BOX_H + ROW_GAP) + MARGIN + 20.0,
            cy: TOP + rows as f64 * (BOX_H + ROW_GAP) / 2.0 - BOX_H / 2.0,
            cw: BOX_W * 0.7,
            client_col_w,
        }
    }

    /// Left edge of column `col`.
    fn x_of(&self, col: usize) -> f64 {
        MARGIN + self.client_col_w + col as f64 * (BOX_W + COL_GAP)
    }

    /// Top of service `s`'s box.
    fn y(&self, s: usize) -> f64 {
        let col = self.col_of[s];
        let n = self.cols[col].len() as f64;
        let pos = self.cols[col].iter().position(|&m| m == s).unwrap_or(0) as f64;
        // Centre short columns vertically.
        TOP + (self.rows as f64 - n) * (BOX_H + ROW_GAP) / 2.0 + pos * (BOX_H + ROW_GAP)
    }

    /// Left edge of service `s`'s box.
    fn x(&self, s: usize) -> f64 {
        self.x_of(self.col_of[s])
    }
}

/// Services per column, ordered by the mean row of their callers so that
/// arrows cross less.
fn columns_ordered(g: &TopologyGraph, col_of: &[usize], columns: usize) -> Vec<Vec<usize>> {
    let mut row_of = vec![0.0f64; g.services.len()];
    let mut cols: Vec<Vec<usize>> = vec![Vec::new(); columns];
    for (col, members_of_col) in cols.iter_mut().enumerate() {
        let mut members: Vec<(f64, usize)> = (0..g.services.len())
            .filter(|&s| col_of[s] == col)
            .map(|s| {
                let parents: Vec<f64> = g
                    .calls
                    .iter()
                    .filter(|c| c.to == s && c.from != s && col_of[c.from] < col)
                    .map(|c| row_of[c.from])
                    .collect();
                let key = if parents.is_empty() {
                    s as f64
                } else {
                    parents.iter().sum::<f64>() / parents.len() as f64
                };
                (key, s)
            })
            .collect();
        members.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        for (row, &(_, s)) in members.iter().enumerate() {
            row_of[s] = row as f64;
        }
        *members_of_col = members.into_iter().map(|(_, s)| s).collect();
    }
    cols
}

/// The SVG text of the diagram (no XML prolog, so it can sit inline in HTML
/// or in a file of its own).
pub fn svg(g: &TopologyGraph) -> String {
    let lay = Layout::new(g);
    let mut out = String::new();
    header(&mut out, g, &lay);
    let arrows = arrows(g);
    let calls_in = draw_arrows(&mut out, &lay, &arrows);
    services(&mut out, g, &lay, &calls_in);
    out += "</svg>";
    out
}

/// The root element, the arrowhead, the titles and the clients' box.
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
        r##"<text x="{MARGIN}" y="24" font-size="16" font-weight="bold">Topology {} — arrows: calls per user request</text>"##,
        escape(&g.name)
    );
    let _ = write!(
        out,
        r##"<text x="{MARGIN}" y="42" font-size="12" fill="#555">{} services in {} zone(s); {:.1} internal calls per user request</text>"##,
        g.services.len(),
        g.zones.len(),
        g.calls_per_request()
    );
    if lay.has_outside {
        let _ = write!(
            out,
            r##"<text x="{:.0}" y="{:.0}" font-size="12" fill="#555">not in the call graph</text>"##,
            lay.x_of(lay.reached),
            TOP - 6.0
        );
    }
    let (cy, cw) = (lay.cy, lay.cw);
    let _ = write!(
        out,
        r##"<rect x="{MARGIN}" y="{cy:.1}" width="{cw:.0}" height="{BOX_H}" rx="33" fill="#eef3f8" stroke="#4a6fa5"/><text x="{:.1}" y="{:.1}" font-size="14" text-anchor="middle" font-weight="bold">clients</text><text x="{:.1}" y="{:.1}" font-size="11" text-anchor="middle" fill="#444">in {}</text>"##,
        MARGIN + cw / 2.0,
        cy + 28.0,
        MARGIN + cw / 2.0,
        cy + 46.0,
        escape(&g.client_zone)
    );
}

/// Every arrow as (from, to, calls per request); `None` is the clients.
/// Entry arrows are summed per service (several entry endpoints of one
/// service are one arrow).
fn arrows(g: &TopologyGraph) -> Vec<(Option<usize>, usize, f64)> {
    let mut arrows: Vec<(Option<usize>, usize, f64)> = Vec::new();
    for (entry, weight) in &g.entries {
        if let Some(s) = g.services.iter().position(|s| {
            entry
                .strip_prefix(&s.name)
                .is_some_and(|r| r.starts_with('.'))
        }) {
            match arrows.iter_mut().find(|a| a.0.is_none() && a.1 == s) {
                Some(a) => a.2 += weight,
                None => arrows.push((None, s, *weight)),
            }
        }
    }
    for c in g.calls.iter().filter(|c| c.from != c.to) {
        arrows.push((Some(c.from), c.to, c.per_request));
    }
    arrows
}

/// Draws the arrows with their labels; returns the calls per request into
/// each service.
fn draw_arrows(out: &mut String, lay: &Layout, arrows: &[(Option<usize>, usize, f64)]) -> Vec<f64> {
    let centre_y = |from: Option<usize>| match from {
        None => lay.cy + BOX_H / 2.0,
        Some(f) => lay.y(f) + BOX_H / 2.0,
    };
    // Where an arrow leaves its source and meets its target: spread along
    // the box's edge in the order of the other ends, so arrowheads do not
    // pile up on one point.
    let spread = |k: usize, n: usize| -> f64 {
        if n <= 1 {
            0.0
        } else {
            (k as f64 / (n - 1) as f64 - 0.5) * (BOX_H - 16.0)
        }
    };
    let mut calls_in = vec![0.0; lay.col_of.len()];
    for (a, &(from, to, n)) in arrows.iter().enumerate() {
        calls_in[to] += n;
        let mut incoming: Vec<usize> = (0..arrows.len()).filter(|&b| arrows[b].1 == to).collect();
        incoming.sort_by(|&p, &q| {
            centre_y(arrows[p].0)
                .total_cmp(&centre_y(arrows[q].0))
                .then(p.cmp(&q))
        });
        let mut outgoing: Vec<usize> = (0..arrows.len()).filter(|&b| arrows[b].0 == from).collect();
        outgoing.sort_by(|&p, &q| {
            lay.y(arrows[p].1)
                .total_cmp(&lay.y(arrows[q].1))
                .then(p.cmp(&q))
        });
        let k_in = incoming.iter().position(|&b| b == a).unwrap_or(0);
        let k_out = outgoing.iter().position(|&b| b == a).unwrap_or(0);
        let (x1, y1) = match from {
            None => (
                MARGIN + lay.cw,
                lay.cy + BOX_H / 2.0 + spread(k_out, outgoing.len()),
            ),
            Some(f) => (
                lay.x(f) + BOX_W,
                lay.y(f) + BOX_H / 2.0 + spread(k_out, outgoing.len()),
            ),
        };
        let (x2, y2) = (
            lay.x(to),
            lay.y(to) + BOX_H / 2.0 + spread(k_in, incoming.len()),
        );
        let mx = (x1 + x2) / 2.0;
        let _ = write!(
            out,
            r##"<path d="M {x1:.1} {y1:.1} C {mx:.1} {y1:.1}, {mx:.1} {y2:.1}, {x2:.1} {y2:.1}" fill="none" stroke="#777" stroke-width="1.3" marker-end="url(#ztsim-arrow)"/>"##
        );
        // Labels only where they cannot be confused: a target with at most
        // two arrows in; otherwise its box says how often it is called.
        if incoming.len() <= 2 {
            let label = match from {
                None => format!("{:.0}%", n * 100.0),
                Some(_) => format!("×{}", per_request(n)),
            };
            let _ = write!(
                out,
                r##"<text x="{:.1}" y="{:.1}" font-size="11" text-anchor="middle" fill="#222" stroke="#fff" stroke-width="3" paint-order="stroke">{}</text>"##,
                x2 - 34.0,
                y2 - 5.0,
                escape(&label)
            );
        }
    }
    calls_in
}

/// One box per service: name, size, zones, how often it is called.
fn services(out: &mut String, g: &TopologyGraph, lay: &Layout, calls_in: &[f64]) {
    for (s, node) in g.services.iter().enumerate() {
        let (x, y) = (lay.x(s), lay.y(s));
        let outside = lay.depth[s].is_none();
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
            r##"<g><title>{title}</title><rect x="{x:.1}" y="{y:.1}" width="{BOX_W}" height="{BOX_H}" rx="6" fill="{fill}" stroke="{stroke}"/><text x="{tx:.1}" y="{ty1:.1}" font-size="14" text-anchor="middle" font-weight="bold">{name}</text><text x="{tx:.1}" y="{ty2:.1}" font-size="11" text-anchor="middle" fill="#444">{detail}</text><text x="{tx:.1}" y="{ty3:.1}" font-size="11" text-anchor="middle" fill="#444">{called}</text></g>"##,
            title = escape(&format!(
                "{}: endpoints {}{self_calls}",
                node.name,
                node.endpoints.join(", ")
            )),
            tx = x + BOX_W / 2.0,
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
                        if node.cores == 1 { "" } else { "s" },
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
    use super::*;
    use crate::report::review::setup::{ServiceCall, ServiceNode};

    fn node(name: &str) -> ServiceNode {
        ServiceNode {
            name: name.into(),
            replicas: 2,
            cores: 1,
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
