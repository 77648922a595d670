//! The layered graph behind the topology diagram, as a layered graph layout
//! (Sugiyama) builds it: the clients and the services in columns, a dummy
//! node in every column an arrow passes without stopping (so the arrow has a
//! slot of its own there and no box sits on its route), and the order within
//! each column chosen by barycenter sweeps to cross fewer arrows. A column
//! lists each zone band's members together, bands in one order for every
//! column, so each band is a rectangle across the diagram. Deterministic: a
//! fixed number of sweeps, ties kept in their previous order.

/// What sits in a slot of a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// The clients (always column 0).
    Clients,
    /// A service, by index.
    Service(usize),
    /// A point on the route of arrow `n`, in a column it passes.
    Dummy(usize),
}

/// A node of the layered graph.
#[derive(Debug, Clone)]
pub(super) struct Node {
    pub kind: Kind,
    pub layer: usize,
    /// Index into [`Layered::bands`].
    pub band: usize,
}

/// An arrow's nodes from its lower column to its higher one: its two ends
/// with the dummies between. Both ends in one column (services calling each
/// other round a cycle, or outside the call graph) is two nodes.
#[derive(Debug, Clone)]
pub(super) struct Chain {
    pub nodes: Vec<usize>,
    /// The arrow points from the higher column to the lower (a call back).
    pub backwards: bool,
}

/// The graph in columns, ordered.
#[derive(Debug, Clone)]
pub(super) struct Layered {
    /// Node 0 is the clients, node 1 + s service s, then the dummies.
    pub nodes: Vec<Node>,
    /// Each column's nodes, top to bottom.
    pub layers: Vec<Vec<usize>>,
    /// One per arrow, in the arrows' order.
    pub chains: Vec<Chain>,
    /// The zone set of each band, top to bottom.
    pub bands: Vec<Vec<String>>,
}

/// Down-and-up sweeps of barycenter ordering.
const SWEEPS: usize = 6;
/// Every order of the bands is tried up to this many bands ...
const MAX_BANDS_PERMUTED: usize = 6;
/// ... and this many nodes (beyond, bands in order of first appearance).
const MAX_NODES_PERMUTED: usize = 300;

/// Builds and orders the layered graph. `layer_of[s]` is service s's column
/// (at least 1), `zones_of[s]` its zones; `arrows` are (caller, callee)
/// with `None` the clients.
pub(super) fn layered(
    layer_of: &[usize],
    zones_of: &[Vec<String>],
    client_zone: &str,
    arrows: &[(Option<usize>, usize)],
) -> Layered {
    let mut bands: Vec<Vec<String>> = vec![vec![client_zone.to_string()]];
    let mut band_of = |z: &Vec<String>| match bands.iter().position(|b| b == z) {
        Some(b) => b,
        None => {
            bands.push(z.clone());
            bands.len() - 1
        }
    };
    let mut nodes = vec![Node {
        kind: Kind::Clients,
        layer: 0,
        band: 0,
    }];
    // Bands in order of first appearance: column by column.
    let mut by_layer: Vec<usize> = (0..layer_of.len()).collect();
    by_layer.sort_by_key(|&s| (layer_of[s], s));
    let mut service_band = vec![0; layer_of.len()];
    for &s in &by_layer {
        service_band[s] = band_of(&zones_of[s]);
    }
    for (s, &layer) in layer_of.iter().enumerate() {
        nodes.push(Node {
            kind: Kind::Service(s),
            layer,
            band: service_band[s],
        });
    }
    let chains = chains(&mut nodes, arrows);
    let columns = nodes.iter().map(|n| n.layer).max().unwrap_or(0) + 1;
    let graph = Graph::new(&nodes, &chains);
    let rank = band_order(&nodes, &graph, bands.len(), columns);
    let layers = sweeps(&nodes, &graph, &rank, columns).1;
    // Renumber the bands top to bottom.
    let mut order: Vec<usize> = (0..bands.len()).collect();
    order.sort_by_key(|&b| rank[b]);
    for n in &mut nodes {
        n.band = rank[n.band];
    }
    let bands = order.into_iter().map(|b| bands[b].clone()).collect();
    Layered {
        nodes,
        layers,
        chains,
        bands,
    }
}

/// Each arrow's chain, adding its dummies to `nodes` (in the band of the
/// called service, where the arrow is headed).
fn chains(nodes: &mut Vec<Node>, arrows: &[(Option<usize>, usize)]) -> Vec<Chain> {
    let mut chains = Vec::with_capacity(arrows.len());
    for (a, &(from, to)) in arrows.iter().enumerate() {
        let (u, v) = (from.map_or(0, |s| s + 1), to + 1);
        let backwards = nodes[u].layer > nodes[v].layer;
        let (lo, hi) = if backwards { (v, u) } else { (u, v) };
        let mut chain = vec![lo];
        for layer in nodes[lo].layer + 1..nodes[hi].layer {
            nodes.push(Node {
                kind: Kind::Dummy(a),
                layer,
                band: nodes[v].band,
            });
            chain.push(nodes.len() - 1);
        }
        chain.push(hi);
        chains.push(Chain {
            nodes: chain,
            backwards,
        });
    }
    chains
}

/// Who is next to whom in the neighbouring columns.
struct Graph {
    /// Neighbours one column left, one entry per arrow.
    left: Vec<Vec<usize>>,
    /// Neighbours one column right.
    right: Vec<Vec<usize>>,
}

impl Graph {
    fn new(nodes: &[Node], chains: &[Chain]) -> Graph {
        let mut left = vec![Vec::new(); nodes.len()];
        let mut right = vec![Vec::new(); nodes.len()];
        for c in chains {
            for w in c.nodes.windows(2) {
                if nodes[w[1]].layer == nodes[w[0]].layer + 1 {
                    right[w[0]].push(w[1]);
                    left[w[1]].push(w[0]);
                }
            }
        }
        Graph { left, right }
    }
}

/// The rank (top to bottom) of each band: of every order of few bands, the
/// one whose sweeps cross fewest arrows (the first such in lexicographic
/// order, which starts from the order of first appearance).
fn band_order(nodes: &[Node], graph: &Graph, bands: usize, columns: usize) -> Vec<usize> {
    let mut rank: Vec<usize> = (0..bands).collect();
    if bands > MAX_BANDS_PERMUTED || nodes.len() > MAX_NODES_PERMUTED {
        return rank;
    }
    let mut best = (usize::MAX, rank.clone());
    loop {
        let crossings = sweeps(nodes, graph, &rank, columns).0;
        if crossings < best.0 {
            best = (crossings, rank.clone());
        }
        if !next_permutation(&mut rank) {
            return best.1;
        }
    }
}

/// The next permutation in lexicographic order; false after the last.
fn next_permutation(p: &mut [usize]) -> bool {
    let Some(i) = (1..p.len()).rev().find(|&i| p[i - 1] < p[i]) else {
        return false;
    };
    let j = (i..p.len()).rev().find(|&j| p[j] > p[i - 1]).unwrap_or(i);
    p.swap(i - 1, j);
    p[i..].reverse();
    true
}

/// Orders the columns with bands ranked `rank`: start from node order,
/// then sweep right and left by barycenter; returns the order with fewest
/// crossings seen and their count.
fn sweeps(
    nodes: &[Node],
    graph: &Graph,
    rank: &[usize],
    columns: usize,
) -> (usize, Vec<Vec<usize>>) {
    let mut layers: Vec<Vec<usize>> = vec![Vec::new(); columns];
    for (i, n) in nodes.iter().enumerate() {
        layers[n.layer].push(i);
    }
    for layer in &mut layers {
        layer.sort_by_key(|&i| rank[nodes[i].band]);
    }
    let mut pos = vec![0.0f64; nodes.len()];
    for layer in &layers {
        place(layer, &mut pos);
    }
    let mut best = (crossings(&layers, graph), layers.clone());
    for _ in 0..SWEEPS {
        for layer in layers.iter_mut().skip(1) {
            reorder(layer, &graph.left, nodes, rank, &mut pos);
        }
        for layer in layers.iter_mut().rev().skip(1) {
            reorder(layer, &graph.right, nodes, rank, &mut pos);
        }
        let c = crossings(&layers, graph);
        if c < best.0 {
            best = (c, layers.clone());
        }
    }
    best
}

/// Each node's position in its column, scaled to 0..=1.
fn place(layer: &[usize], pos: &mut [f64]) {
    let span = layer.len().saturating_sub(1).max(1) as f64;
    for (k, &i) in layer.iter().enumerate() {
        pos[i] = k as f64 / span;
    }
}

/// Sorts a column by band, then by the mean position of each node's
/// neighbours in `next` (a node without any keeps its own), ties in their
/// present order.
fn reorder(
    layer: &mut [usize],
    next: &[Vec<usize>],
    nodes: &[Node],
    rank: &[usize],
    pos: &mut [f64],
) {
    let bary: Vec<(usize, f64, usize)> = layer
        .iter()
        .enumerate()
        .map(|(k, &i)| {
            let b = if next[i].is_empty() {
                pos[i]
            } else {
                next[i].iter().map(|&j| pos[j]).sum::<f64>() / next[i].len() as f64
            };
            (rank[nodes[i].band], b, k)
        })
        .collect();
    let mut keyed: Vec<((usize, f64, usize), usize)> =
        bary.into_iter().zip(layer.iter().copied()).collect();
    keyed.sort_by(|(a, _), (b, _)| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)).then(a.2.cmp(&b.2)));
    for (slot, (_, i)) in layer.iter_mut().zip(keyed) {
        *slot = i;
    }
    place(layer, pos);
}

/// Arrow crossings between neighbouring columns (a Fenwick tree over the
/// right column's slots: n log n per pair of columns).
fn crossings(layers: &[Vec<usize>], graph: &Graph) -> usize {
    let mut slot = vec![0usize; graph.left.len()];
    for layer in layers {
        for (k, &i) in layer.iter().enumerate() {
            slot[i] = k;
        }
    }
    let mut total = 0;
    for pair in layers.windows(2) {
        let mut edges: Vec<(usize, usize)> = pair[0]
            .iter()
            .flat_map(|&i| graph.right[i].iter().map(move |&j| (i, j)))
            .map(|(i, j)| (slot[i], slot[j]))
            .collect();
        edges.sort_unstable();
        let width = pair[1].len();
        let mut tree = vec![0usize; width + 1];
        let mut inserted = 0;
        let mut start = 0;
        while start < edges.len() {
            let end = start
                + edges[start..]
                    .iter()
                    .take_while(|e| e.0 == edges[start].0)
                    .count();
            // Earlier edges (from higher slots on the left) ending lower on
            // the right cross these.
            for &(_, b) in &edges[start..end] {
                let mut not_crossing = 0;
                let mut k = b + 1;
                while k > 0 {
                    not_crossing += tree[k];
                    k -= k & k.wrapping_neg();
                }
                total += inserted - not_crossing;
            }
            for &(_, b) in &edges[start..end] {
                let mut k = b + 1;
                while k <= width {
                    tree[k] += 1;
                    k += k & k.wrapping_neg();
                }
                inserted += 1;
            }
            start = end;
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_zone(n: usize) -> Vec<Vec<String>> {
        vec![vec!["z".to_string()]; n]
    }

    #[test]
    fn a_call_that_skips_columns_has_a_dummy_in_each() {
        // a -> b -> c and a -> c: c in column 3, one dummy in column 2.
        let l = layered(
            &[1, 2, 3],
            &one_zone(3),
            "z",
            &[(None, 0), (Some(0), 1), (Some(1), 2), (Some(0), 2)],
        );
        let chain = &l.chains[3];
        assert_eq!(chain.nodes.len(), 3);
        assert_eq!(l.nodes[chain.nodes[1]].kind, Kind::Dummy(3));
        assert_eq!(l.nodes[chain.nodes[1]].layer, 2);
        assert!(l.layers[2].contains(&chain.nodes[1]));
    }

    #[test]
    fn sweeps_untangle_a_crossing() {
        // a calls d, b calls c; listed c before d, the arrows would cross.
        let l = layered(
            &[1, 1, 2, 2],
            &one_zone(4),
            "z",
            &[(None, 0), (None, 1), (Some(0), 3), (Some(1), 2)],
        );
        let g = Graph::new(&l.nodes, &l.chains);
        assert_eq!(crossings(&l.layers, &g), 0, "{:?}", l.layers);
    }

    #[test]
    fn zones_stay_together_in_every_column() {
        let zones: Vec<Vec<String>> = ["a", "b", "a", "b"]
            .iter()
            .map(|z| vec![z.to_string()])
            .collect();
        let l = layered(
            &[1, 1, 1, 1],
            &zones,
            "a",
            &[(None, 0), (None, 1), (None, 2), (None, 3)],
        );
        let bands: Vec<usize> = l.layers[1].iter().map(|&i| l.nodes[i].band).collect();
        assert!(bands.windows(2).all(|w| w[0] <= w[1]), "{bands:?}");
    }

    #[test]
    fn crossings_are_counted() {
        // Two arrows from slots 0,1 to slots 1,0 cross once.
        let g = Graph {
            left: vec![vec![], vec![], vec![1], vec![0]],
            right: vec![vec![3], vec![2], vec![], vec![]],
        };
        assert_eq!(crossings(&[vec![0, 1], vec![2, 3]], &g), 1);
        assert_eq!(crossings(&[vec![0, 1], vec![3, 2]], &g), 0);
    }
}
