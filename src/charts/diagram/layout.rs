//! Where the topology diagram puts everything, as plain geometry: a box per
//! service and one for the clients, a band per zone (set), and every arrow
//! as a polyline that passes only the boxes at its two ends.
//!
//! Columns follow call depth (the longest chain of calls from the clients);
//! an arrow that skips columns gets a slot of its own in each column it
//! passes ([`super::order`]), and runs through it there. Between columns a
//! route is drawn as a curve inside the bounding box of its two points, and
//! the gaps between columns hold no boxes, so no drawn arrow crosses a box
//! it does not connect.

use super::order::{Kind, Layered, layered};
use crate::report::review::setup::TopologyGraph;

pub(super) const BOX_W: f64 = 165.0;
pub(super) const BOX_H: f64 = 66.0;
/// Width of the clients' box.
pub(super) const CLIENTS_W: f64 = BOX_W * 0.7;
const COL_GAP: f64 = 90.0;
/// Between two boxes of a column.
const ROW_GAP: f64 = 22.0;
/// Between an arrow passing a column and what is above or below it.
const ROUTE_GAP: f64 = 14.0;
pub(super) const MARGIN: f64 = 20.0;
/// Top of the first band (titles above).
pub(super) const TOP: f64 = 56.0;
/// Height of a band's label strip.
pub(super) const BAND_HEAD: f64 = 22.0;
const BAND_FOOT: f64 = 12.0;
const BAND_GAP: f64 = 6.0;

/// An axis-aligned rectangle.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    /// Left edge.
    pub x: f64,
    /// Top edge (y grows downwards).
    pub y: f64,
    /// Width.
    pub w: f64,
    /// Height.
    pub h: f64,
}

/// One arrow: caller (`None`: the clients) to callee, calls per user
/// request, and its route from the caller's box to the callee's.
#[derive(Debug, Clone, PartialEq)]
pub struct Edge {
    /// The calling service (`None`: the clients).
    pub from: Option<usize>,
    /// The called service.
    pub to: usize,
    /// Calls per user request (entry arrows: the share of requests).
    pub per_request: f64,
    /// At least two points. Consecutive points are joined by a straight
    /// line or a curve inside their bounding box.
    pub points: Vec<(f64, f64)>,
}

/// The background band of the services running in one set of zones.
#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    /// The zones its services run in.
    pub zones: Vec<String>,
    /// Where it is drawn.
    pub rect: Rect,
}

/// The whole diagram's geometry.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    /// Width of the drawing (the SVG widens it, and the bands, to fit its
    /// titles).
    pub width: f64,
    /// Height of the drawing.
    pub height: f64,
    /// The clients' box.
    pub clients: Rect,
    /// Each service's box, by service index.
    pub services: Vec<Rect>,
    /// Services no call path from the clients reaches (drawn in a last
    /// column of their own).
    pub outside: Vec<bool>,
    /// Left edge of the column of services outside the call graph, if any.
    pub outside_x: Option<f64>,
    /// Entry arrows (summed per service), then calls between services,
    /// in the order of `TopologyGraph::calls` (calls to itself left out).
    pub edges: Vec<Edge>,
    /// Top to bottom.
    pub bands: Vec<Band>,
}

impl Layout {
    /// The boxes an edge connects and every other box, clients as `None`.
    pub fn boxes(&self) -> impl Iterator<Item = (Option<usize>, Rect)> + '_ {
        std::iter::once((None, self.clients))
            .chain(self.services.iter().enumerate().map(|(s, r)| (Some(s), *r)))
    }
}

/// Column of each service (0 = called by clients), `None` when nothing in
/// the call graph reaches it: the longest call path from an entry, in one
/// pass over the services in topological order (linear, so a 100,000-deep
/// chain lays out at once). Self-calls keep a service in its column; where
/// services call each other in a cycle, the call back to a service already
/// placed is ignored.
pub(super) fn depths(g: &TopologyGraph) -> Vec<Option<usize>> {
    let n = g.services.len();
    let mut depth: Vec<Option<usize>> = vec![None; n];
    for (entry, _) in &g.entries {
        if let Some(s) = entry_service(g, entry) {
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

/// The service an entry endpoint (`service.endpoint`) belongs to.
fn entry_service(g: &TopologyGraph, entry: &str) -> Option<usize> {
    g.services.iter().position(|s| {
        entry
            .strip_prefix(&s.name)
            .is_some_and(|r| r.starts_with('.'))
    })
}

/// The zones of a band: a service's zones in the topology's order (so
/// services placed in the same zones listed differently share a band).
pub(super) fn band_zones(g: &TopologyGraph, zones: &[String]) -> Vec<String> {
    let mut z = zones.to_vec();
    z.sort_by_key(|z| {
        (
            g.zones.iter().position(|x| x == z).unwrap_or(usize::MAX),
            z.clone(),
        )
    });
    z.dedup();
    z
}

/// Every arrow as (from, to, calls per request); `None` is the clients.
/// Entry arrows are summed per service (several entry endpoints of one
/// service are one arrow).
fn arrows(g: &TopologyGraph) -> Vec<(Option<usize>, usize, f64)> {
    let mut arrows: Vec<(Option<usize>, usize, f64)> = Vec::new();
    for (entry, weight) in &g.entries {
        if let Some(s) = entry_service(g, entry) {
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

/// The diagram's geometry for `g`.
pub fn layout(g: &TopologyGraph) -> Layout {
    let depth = depths(g);
    let reached = depth.iter().flatten().max().map_or(0, |d| d + 1);
    // Column 0 is the clients; services outside the call graph go last.
    let layer_of: Vec<usize> = depth.iter().map(|d| d.unwrap_or(reached) + 1).collect();
    let zones_of: Vec<Vec<String>> = g.services.iter().map(|s| band_zones(g, &s.zones)).collect();
    let arrows = arrows(g);
    let ends: Vec<(Option<usize>, usize)> = arrows.iter().map(|a| (a.0, a.1)).collect();
    let graph = layered(&layer_of, &zones_of, &g.client_zone, &ends);
    let columns = graph.layers.len();
    let same_column = graph
        .chains
        .iter()
        .any(|c| graph.nodes[c.nodes[0]].layer == graph.nodes[c.nodes[c.nodes.len() - 1]].layer);
    let last = col_x(columns - 1) + col_w(columns - 1);
    let width = last + MARGIN + if same_column { COL_GAP / 2.0 } else { 0.0 };
    let (ys, bands, bottom) = rows(&graph);
    let rect = |i: usize| {
        let l = graph.nodes[i].layer;
        Rect {
            x: col_x(l),
            y: ys[i] - BOX_H / 2.0,
            w: col_w(l),
            h: BOX_H,
        }
    };
    let edges = routes(&graph, &ys, &rect)
        .into_iter()
        .zip(&arrows)
        .map(|(points, &(from, to, per_request))| Edge {
            from,
            to,
            per_request,
            points,
        })
        .collect();
    Layout {
        width,
        height: bottom + MARGIN,
        clients: rect(0),
        services: (1..=g.services.len()).map(rect).collect(),
        outside: depth.iter().map(Option::is_none).collect(),
        outside_x: depth
            .iter()
            .any(Option::is_none)
            .then(|| col_x(reached + 1)),
        edges,
        bands: bands
            .into_iter()
            .zip(graph.bands)
            .map(|(rect, zones)| Band { zones, rect })
            .collect(),
    }
}

/// Left edge of column `l` (0: the clients).
fn col_x(l: usize) -> f64 {
    if l == 0 {
        MARGIN
    } else {
        MARGIN + CLIENTS_W + COL_GAP + (l - 1) as f64 * (BOX_W + COL_GAP)
    }
}

/// Width of column `l`.
fn col_w(l: usize) -> f64 {
    if l == 0 { CLIENTS_W } else { BOX_W }
}

/// Height of a node's slot (a route's is a line).
fn height(kind: Kind) -> f64 {
    match kind {
        Kind::Dummy(_) => 0.0,
        _ => BOX_H,
    }
}

/// Space between two neighbours in a column.
fn gap(a: Kind, b: Kind) -> f64 {
    match (a, b) {
        (Kind::Dummy(_), _) | (_, Kind::Dummy(_)) => ROUTE_GAP,
        _ => ROW_GAP,
    }
}

/// Rounds of pulling each node towards its neighbours' heights.
const ALIGN_ROUNDS: usize = 4;

/// The vertical centre of every node, each band's rectangle and the bottom
/// of the last band. A band is as tall as its fullest column. Each column's
/// part of a band starts centred in it, then rounds of sweeps right and left
/// move every node towards the mean height of its neighbours (keeping the
/// order and spacing of the column, inside the band), so that routes run
/// straighter.
fn rows(graph: &Layered) -> (Vec<f64>, Vec<Rect>, f64) {
    let nb = graph.bands.len();
    // Per column, per band: the members top to bottom.
    let runs: Vec<Vec<Vec<usize>>> = graph
        .layers
        .iter()
        .map(|layer| {
            let mut per = vec![Vec::new(); nb];
            for &i in layer {
                per[graph.nodes[i].band].push(i);
            }
            per
        })
        .collect();
    let kinds = |run: &[usize]| -> Vec<Kind> { run.iter().map(|&i| graph.nodes[i].kind).collect() };
    let mut ys = vec![0.0; graph.nodes.len()];
    let mut bands = Vec::with_capacity(nb);
    // Per band: the top and bottom of its content.
    let mut inner = Vec::with_capacity(nb);
    let mut top = TOP;
    let columns = graph.layers.len();
    let width = col_x(columns - 1) + col_w(columns - 1) + MARGIN / 2.0;
    for b in 0..nb {
        let content = runs
            .iter()
            .map(|per| stack(&kinds(&per[b])))
            .fold(0.0, f64::max);
        let (lo, hi) = (top + BAND_HEAD, top + BAND_HEAD + content);
        for per in &runs {
            let centred = fit(
                &kinds(&per[b]),
                &vec![(lo + hi) / 2.0; per[b].len()],
                lo,
                hi,
            );
            for (&i, y) in per[b].iter().zip(centred) {
                ys[i] = y;
            }
        }
        inner.push((lo, hi));
        let h = BAND_HEAD + content + BAND_FOOT;
        bands.push(Rect {
            x: MARGIN / 2.0,
            y: top,
            w: width - MARGIN / 2.0,
            h,
        });
        top += h + BAND_GAP;
    }
    let mut near: Vec<Vec<usize>> = vec![Vec::new(); graph.nodes.len()];
    for c in &graph.chains {
        for w in c.nodes.windows(2) {
            if graph.nodes[w[0]].layer != graph.nodes[w[1]].layer {
                near[w[0]].push(w[1]);
                near[w[1]].push(w[0]);
            }
        }
    }
    let sweep: Vec<usize> = (0..columns).chain((0..columns).rev()).collect();
    for _ in 0..ALIGN_ROUNDS {
        for &l in &sweep {
            for (b, run) in runs[l].iter().enumerate() {
                let wanted: Vec<f64> = run
                    .iter()
                    .map(|&i| {
                        if near[i].is_empty() {
                            ys[i]
                        } else {
                            near[i].iter().map(|&j| ys[j]).sum::<f64>() / near[i].len() as f64
                        }
                    })
                    .collect();
                for (&i, y) in run
                    .iter()
                    .zip(fit(&kinds(run), &wanted, inner[b].0, inner[b].1))
                {
                    ys[i] = y;
                }
            }
        }
    }
    (ys, bands, top - BAND_GAP)
}

/// Height of a column's run of nodes, gaps included.
fn stack(kinds: &[Kind]) -> f64 {
    kinds.iter().map(|&k| height(k)).sum::<f64>()
        + kinds.windows(2).map(|w| gap(w[0], w[1])).sum::<f64>()
}

/// Centres for a run of nodes (in this order, spaced at least their gaps
/// apart, all between `lo` and `hi`, which the run fits) as near as they
/// can be to `wanted` in least squares: pool adjacent violators on the
/// centres less their spacing, then clamp.
fn fit(kinds: &[Kind], wanted: &[f64], lo: f64, hi: f64) -> Vec<f64> {
    let n = kinds.len();
    if n == 0 {
        return Vec::new();
    }
    // offset[k]: the least distance from the first centre to the k-th.
    let mut offset = vec![0.0; n];
    for k in 1..n {
        offset[k] = offset[k - 1]
            + height(kinds[k - 1]) / 2.0
            + gap(kinds[k - 1], kinds[k])
            + height(kinds[k]) / 2.0;
    }
    // Blocks of (sum, count), each block's mean not below the previous.
    let mut blocks: Vec<(f64, usize)> = Vec::with_capacity(n);
    for k in 0..n {
        blocks.push((wanted[k] - offset[k], 1));
        while blocks.len() > 1 {
            let (s2, c2) = blocks[blocks.len() - 1];
            let (s1, c1) = blocks[blocks.len() - 2];
            if s1 / c1 as f64 <= s2 / c2 as f64 {
                break;
            }
            blocks.pop();
            let last = blocks.len() - 1;
            blocks[last] = (s1 + s2, c1 + c2);
        }
    }
    let first_lo = lo + height(kinds[0]) / 2.0;
    let first_hi = (hi - height(kinds[n - 1]) / 2.0 - offset[n - 1]).max(first_lo);
    let mut out = Vec::with_capacity(n);
    for (sum, count) in blocks {
        let z = (sum / count as f64).clamp(first_lo, first_hi);
        for _ in 0..count {
            let k = out.len();
            out.push(z + offset[k]);
        }
    }
    out
}

/// Each arrow's points from caller to callee. An arrow leaves the right side
/// of the box in the lower column and enters the left side of the other,
/// runs straight across each column it passes at its slot, and meets a box
/// at a point spread along the box's side in the order of where the arrows
/// come from, so arrowheads do not pile up. Both ends in one column: out of
/// the right sides, joined in the gap beside the column.
fn routes(graph: &Layered, ys: &[f64], rect: &dyn Fn(usize) -> Rect) -> Vec<Vec<(f64, f64)>> {
    // Ports: per node, per side (0 left, 1 right), (neighbour y, arrow, end).
    let mut ports: Vec<[Vec<(f64, usize, usize)>; 2]> =
        vec![[Vec::new(), Vec::new()]; graph.nodes.len()];
    for (a, c) in graph.chains.iter().enumerate() {
        let (lo, hi) = (c.nodes[0], c.nodes[c.nodes.len() - 1]);
        let same = graph.nodes[lo].layer == graph.nodes[hi].layer;
        let (next, prev) = (c.nodes[1], c.nodes[c.nodes.len() - 2]);
        ports[lo][1].push((ys[next], a, 0));
        ports[hi][usize::from(same)].push((ys[prev], a, 1));
    }
    let mut port_y = vec![[0.0f64; 2]; graph.chains.len()];
    for (i, sides) in ports.iter_mut().enumerate() {
        for side in sides.iter_mut() {
            side.sort_by(|p, q| p.0.total_cmp(&q.0).then(p.1.cmp(&q.1)).then(p.2.cmp(&q.2)));
            let n = side.len();
            for (k, &(_, a, end)) in side.iter().enumerate() {
                let spread = if n <= 1 {
                    0.0
                } else {
                    (k as f64 / (n - 1) as f64 - 0.5) * (BOX_H - 16.0)
                };
                port_y[a][end] = ys[i] + spread;
            }
        }
    }
    graph
        .chains
        .iter()
        .enumerate()
        .map(|(a, c)| {
            let (lo, hi) = (rect(c.nodes[0]), rect(c.nodes[c.nodes.len() - 1]));
            let mut points = vec![(lo.x + lo.w, port_y[a][0])];
            if c.nodes.len() == 2 && graph.nodes[c.nodes[0]].layer == graph.nodes[c.nodes[1]].layer
            {
                let x = lo.x + lo.w + COL_GAP / 3.0;
                points.extend([
                    (x, port_y[a][0]),
                    (x, port_y[a][1]),
                    (hi.x + hi.w, port_y[a][1]),
                ]);
            } else {
                for &d in &c.nodes[1..c.nodes.len() - 1] {
                    let r = rect(d);
                    points.extend([(r.x, ys[d]), (r.x + r.w, ys[d])]);
                }
                points.push((hi.x, port_y[a][1]));
            }
            if c.backwards {
                points.reverse();
            }
            points
        })
        .collect()
}
