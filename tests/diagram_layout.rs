//! The topology diagram draws only calls that exist: on the shipped
//! topologies and an imported one, every call is one arrow, no arrow passes
//! through a box it does not connect (a call that skips columns is routed
//! around the boxes between), services sit in the band of their zones, and
//! the same topology draws the same bytes. Each diagram is written to the
//! scratch folder (`target/tmp/diagram-layout/`) for a look.

mod common;

use std::path::Path;

use ztsim::charts::diagram::{self, Layout, Rect};
use ztsim::report::review::setup::TopologyGraph;
use ztsim::trace::{self, write};

/// A shipped topology's shape.
fn shipped(name: &str) -> TopologyGraph {
    let path = common::root()
        .join("topologies")
        .join(format!("{name}.toml"));
    let topo = ztsim::config::load_topology(&path).unwrap_or_else(|d| panic!("{d:?}"));
    TopologyGraph::of(&topo)
}

/// The checkout sample traces imported as `ztsim import` would, then loaded
/// from the files it writes.
fn imported() -> TopologyGraph {
    let sample = common::root().join("topologies/traces/checkout.otlp.jsonl");
    let import = trace::import(&[sample], None).unwrap_or_else(|d| panic!("{d:?}"));
    // A folder per call: the tests run at once, each importing.
    let tmp = common::TempDir::new("diagram-import");
    let dir = tmp.path();
    std::fs::write(
        dir.join("checkout.arrivals.csv"),
        write::arrivals_csv(&import.model),
    )
    .unwrap();
    let path = dir.join("checkout.toml");
    std::fs::write(
        &path,
        write::topology_toml(&import.model, "checkout", "the sample"),
    )
    .unwrap();
    let topo = ztsim::config::load_topology(&path).unwrap_or_else(|d| panic!("{d:?}"));
    TopologyGraph::of(&topo)
}

/// Every topology the tests draw, by name: chatty, ecommerce, payments
/// (external services in zones of their own), the other shipped ones and
/// the imported checkout sample.
fn all() -> Vec<(String, TopologyGraph)> {
    let mut out = Vec::new();
    for folder in ["topologies", "topologies/published"] {
        let mut files: Vec<_> = std::fs::read_dir(common::root().join(folder))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                let name = p.file_name().unwrap().to_string_lossy();
                name.ends_with(".toml")
                    && !name.ends_with(".study.toml")
                    && !name.ends_with(".design.toml")
            })
            .collect();
        files.sort();
        for path in files {
            let topo = ztsim::config::load_topology(&path).unwrap_or_else(|d| panic!("{d:?}"));
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            out.push((name, TopologyGraph::of(&topo)));
        }
    }
    for name in ["chatty", "ecommerce", "payments"] {
        assert!(out.iter().any(|(n, _)| n == name), "{name} missing");
    }
    out.push(("imported-checkout".into(), imported()));
    out
}

/// Writes the diagram where a person can look at it.
fn keep(name: &str, svg: &str) {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("diagram-layout");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.svg")), svg).unwrap();
}

/// The interiors of two rectangles overlap (by more than half a pixel, so
/// a line along a box's side does not count).
fn overlaps(a: Rect, b: Rect) -> bool {
    const EPS: f64 = 0.5;
    a.x < b.x + b.w - EPS && b.x < a.x + a.w - EPS && a.y < b.y + b.h - EPS && b.y < a.y + a.h - EPS
}

/// The segment p-q passes through the interior of `r` (Liang-Barsky
/// clipping against `r` shrunk by half a pixel).
fn segment_hits(p: (f64, f64), q: (f64, f64), r: Rect) -> bool {
    const EPS: f64 = 0.5;
    let (dx, dy) = (q.0 - p.0, q.1 - p.1);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (den, num) in [
        (-dx, p.0 - (r.x + EPS)),
        (dx, (r.x + r.w - EPS) - p.0),
        (-dy, p.1 - (r.y + EPS)),
        (dy, (r.y + r.h - EPS) - p.1),
    ] {
        if den == 0.0 {
            if num < 0.0 {
                return false;
            }
        } else {
            let t = num / den;
            if den < 0.0 {
                t0 = t0.max(t);
            } else {
                t1 = t1.min(t);
            }
        }
    }
    t0 < t1
}

/// The bounding box of a segment, inside which the diagram draws it
/// (straight or as a curve).
fn bbox(p: (f64, f64), q: (f64, f64)) -> Rect {
    Rect {
        x: p.0.min(q.0),
        y: p.1.min(q.1),
        w: (p.0 - q.0).abs(),
        h: (p.1 - q.1).abs(),
    }
}

/// Names a box: the clients or a service.
fn name(g: &TopologyGraph, b: Option<usize>) -> &str {
    b.map_or("clients", |s| &g.services[s].name)
}

/// Every (arrow, box) pair where the arrow's drawing enters a box that is
/// not one of its two ends, as "caller -> callee through box".
fn crossings(g: &TopologyGraph, lay: &Layout) -> Vec<String> {
    let mut out = Vec::new();
    for e in &lay.edges {
        for (b, r) in lay.boxes() {
            if b == e.from || b == Some(e.to) {
                continue;
            }
            let hit = e
                .points
                .windows(2)
                .any(|w| segment_hits(w[0], w[1], r) || overlaps(bbox(w[0], w[1]), r));
            if hit {
                out.push(format!(
                    "{} -> {} through {}",
                    name(g, e.from),
                    name(g, Some(e.to)),
                    name(g, b)
                ));
            }
        }
    }
    out
}

#[test]
fn no_arrow_passes_through_a_box_it_does_not_connect() {
    for (topology, g) in all() {
        let lay = diagram::layout(&g);
        keep(&topology, &diagram::svg(&g));
        assert_eq!(crossings(&g, &lay), Vec::<String>::new(), "{topology}");
        // Each arrow starts on its caller's box and ends on its callee's.
        let on = |p: (f64, f64), r: Rect| {
            (p.0 - r.x).abs() < 0.01 || (p.0 - r.x - r.w).abs() < 0.01
        } && p.1 >= r.y
            && p.1 <= r.y + r.h;
        for e in &lay.edges {
            let from = e.from.map_or(lay.clients, |s| lay.services[s]);
            assert!(e.points.len() >= 2);
            assert!(on(e.points[0], from), "{topology}: {e:?}");
            assert!(
                on(e.points[e.points.len() - 1], lay.services[e.to]),
                "{topology}: {e:?}"
            );
        }
    }
}

/// The check above can fail: drawn straight from end to end, as the diagram
/// once was, chatty's auth -> cache (two columns apart) passes through a box.
#[test]
fn straight_arrows_would_pass_through_boxes() {
    let g = shipped("chatty");
    let mut lay = diagram::layout(&g);
    for e in &mut lay.edges {
        e.points = vec![e.points[0], e.points[e.points.len() - 1]];
    }
    let found = crossings(&g, &lay);
    assert!(
        found
            .iter()
            .any(|c| c.starts_with("auth -> cache through ")),
        "{found:?}"
    );
}

#[test]
fn every_call_is_drawn_exactly_once() {
    for (topology, g) in all() {
        let lay = diagram::layout(&g);
        let calls: Vec<_> = g.calls.iter().filter(|c| c.from != c.to).collect();
        for c in &calls {
            let drawn: Vec<_> = lay
                .edges
                .iter()
                .filter(|e| e.from == Some(c.from) && e.to == c.to)
                .collect();
            assert_eq!(drawn.len(), 1, "{topology}: {c:?}");
            assert_eq!(drawn[0].per_request, c.per_request);
        }
        // Plus one arrow from the clients per entry service, and no other.
        let mut entry_services: Vec<usize> = lay
            .edges
            .iter()
            .filter(|e| e.from.is_none())
            .map(|e| e.to)
            .collect();
        let entries = entry_services.len();
        entry_services.sort_unstable();
        entry_services.dedup();
        assert_eq!(entry_services.len(), entries, "{topology}");
        assert!(entries >= 1);
        assert_eq!(lay.edges.len(), calls.len() + entries, "{topology}");
        let shares: f64 = lay
            .edges
            .iter()
            .filter(|e| e.from.is_none())
            .map(|e| e.per_request)
            .sum();
        assert!((shares - 1.0).abs() < 1e-9, "{topology}: {shares}");
        // And the SVG draws each arrow once.
        assert_eq!(
            diagram::svg(&g).matches("marker-end").count(),
            lay.edges.len()
        );
    }
}

#[test]
fn services_sit_in_the_band_of_their_zones() {
    for (topology, g) in all() {
        let lay = diagram::layout(&g);
        for (s, r) in lay.services.iter().enumerate() {
            let mut zones = g.services[s].zones.clone();
            zones.sort();
            let band = lay.bands.iter().find(|b| {
                let mut z = b.zones.clone();
                z.sort();
                z == zones
            });
            let band =
                band.unwrap_or_else(|| panic!("{topology}: no band for {}", g.services[s].name));
            let inside = r.x >= band.rect.x
                && r.x + r.w <= band.rect.x + band.rect.w
                && r.y >= band.rect.y
                && r.y + r.h <= band.rect.y + band.rect.h;
            assert!(
                inside,
                "{topology}: {} outside its band",
                g.services[s].name
            );
        }
        let clients_band = lay
            .bands
            .iter()
            .find(|b| b.zones == [g.client_zone.clone()])
            .unwrap();
        assert!(overlaps(lay.clients, clients_band.rect), "{topology}");
        // Bands do not overlap one another; boxes do not overlap either.
        for (i, a) in lay.bands.iter().enumerate() {
            assert!(
                lay.bands[i + 1..].iter().all(|b| !overlaps(a.rect, b.rect)),
                "{topology}"
            );
        }
        let boxes: Vec<Rect> = lay.boxes().map(|(_, r)| r).collect();
        for (i, &a) in boxes.iter().enumerate() {
            assert!(
                boxes[i + 1..].iter().all(|&b| !overlaps(a, b)),
                "{topology}"
            );
        }
        // Everything inside the drawing.
        for r in boxes.iter().chain(lay.bands.iter().map(|b| &b.rect)) {
            assert!(r.x >= 0.0 && r.y >= 0.0 && r.x + r.w <= lay.width && r.y + r.h <= lay.height);
        }
    }
}

#[test]
fn the_same_topology_draws_the_same_bytes() {
    for (topology, g) in all() {
        let again: TopologyGraph =
            serde_json::from_str(&serde_json::to_string(&g).unwrap()).unwrap();
        assert_eq!(diagram::svg(&g), diagram::svg(&again), "{topology}");
    }
}
