//! Points of a study that are one system: the same design at the same load
//! on the same topology with the same effective design
//! ([`Design::effective`]), differing only in swept values that do not apply
//! to them (and so, without this, in their seed). Simulating each with its
//! own seed would show one system with several results, noise alone telling
//! them apart; so the first of them in grid order runs and the others are
//! marked `same_as` it, to share its results (common random numbers kept
//! honest).

use std::collections::{BTreeMap, HashMap};

use super::{Point, Study};
use crate::model::{Design, Topology};

impl Study {
    /// Points that run: those that are not the same system as an earlier one.
    pub fn distinct_points(&self) -> usize {
        self.points.iter().filter(|p| p.same_as.is_none()).count()
    }
}

/// Marks every point that is one system with an earlier one (`same_as`) and,
/// on every point of such a group, the swept parameters whose values differ
/// inside it (`not_applying`).
pub(super) fn mark(points: &mut [Point]) {
    let designs: Vec<Design> = points.iter().map(|p| p.design_model.effective()).collect();
    // Buckets by coordinates and a hash of the resolved configuration; within
    // a bucket, equality decides (a hash collision never merges two systems).
    let mut buckets: HashMap<(&str, Option<u64>, u64), Vec<usize>> = HashMap::new();
    let mut same_as = vec![None; points.len()];
    for (i, p) in points.iter().enumerate() {
        let key = (
            p.design.as_str(),
            p.rate.map(f64::to_bits),
            hash(&designs[i], &p.topology),
        );
        let bucket = buckets.entry(key).or_default();
        match bucket
            .iter()
            .copied()
            .find(|&j| designs[j] == designs[i] && same_topology(&points[j].topology, &p.topology))
        {
            Some(j) => same_as[i] = Some(j),
            None => bucket.push(i),
        }
    }
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, s) in same_as.iter().enumerate() {
        if let Some(j) = *s {
            groups.entry(j).or_insert_with(|| vec![j]).push(i);
        }
    }
    for (i, s) in same_as.into_iter().enumerate() {
        points[i].same_as = s;
    }
    for group in groups.values() {
        let first = &points[group[0]].params;
        let differing: Vec<String> = first
            .iter()
            .enumerate()
            .filter(|(k, (_, v))| group.iter().any(|&i| points[i].params[*k].1 != *v))
            .map(|(_, (path, _))| path.clone())
            .collect();
        for &i in group {
            points[i].not_applying = differing.clone();
        }
    }
}

/// Equal topologies but for the workload's seed.
fn same_topology(a: &Topology, b: &Topology) -> bool {
    if a.workload.seed == b.workload.seed {
        return a == b;
    }
    let mut a = a.clone();
    a.workload.seed = b.workload.seed;
    a == *b
}

/// FNV-1a over the Debug form of the effective design and of the topology
/// with its seed cleared: equal configurations hash alike.
fn hash(design: &Design, topology: &Topology) -> u64 {
    let mut t = topology.clone();
    t.workload.seed = 0;
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in format!("{design:?}{t:?}").bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    h
}
