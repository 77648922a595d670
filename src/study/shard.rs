//! Splitting a study's points across the tasks of a batch job (a Kubernetes
//! Indexed Job, a Slurm job array, GNU parallel): which shard owns which
//! point. The split is a pure function of the resolved study and the shard
//! count, so every task computes the same partition on its own, with no
//! coordinator; `ztsim merge` recomputes nothing, it only checks.

use std::fmt;

use crate::config::study::{MAX_POINTS, Point, Study};
use crate::model::guard::Size;

/// One task's place in a sharded run: shard `index` of `count`, 0-based as
/// Kubernetes' `JOB_COMPLETION_INDEX` and a Slurm `--array=0-(N-1)` give it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Shard {
    /// 0-based index, below `count`.
    pub index: usize,
    /// Number of shards the study is split into.
    pub count: usize,
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// Parses `I/N` (0 <= I < N), explaining an off-by-one index.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let form = "write it as I/N with I from 0 to N-1, e.g. --shard 0/4 ... --shard 3/4";
        let Some((i, n)) = text.split_once('/') else {
            return Err(format!("`{text}` is not a shard: {form}"));
        };
        let whole = |s: &str, what: &str| {
            s.trim().parse::<usize>().map_err(|_| {
                format!("`{text}`: the {what} `{s}` is not a whole number of 0 or more; {form}")
            })
        };
        let (index, count) = (whole(i, "shard index")?, whole(n, "shard count")?);
        if count == 0 {
            return Err(format!(
                "`{text}`: the shard count must be at least 1; {form}"
            ));
        }
        // The split holds a list per shard; past a study's most points
        // every further shard would be empty.
        if count > MAX_POINTS {
            return Err(format!(
                "`{text}`: at most {MAX_POINTS} shards, as many as a study's most points (shards beyond a study's points are empty); {form}"
            ));
        }
        if index >= count {
            return Err(format!(
                "`{text}`: shard indices run from 0 to {} (0-based, as JOB_COMPLETION_INDEX and SLURM_ARRAY_TASK_ID with --array=0-{} give them); if your task ids start at 1, pass $((ID - 1))/{count}",
                count - 1,
                count - 1
            ));
        }
        Ok(Shard { index, count })
    }

    /// The folder name of this shard's results: `I-of-N`.
    pub fn folder_name(&self) -> String {
        format!("{}-of-{}", self.index, self.count)
    }
}

/// A point's estimated cost: simulated events over all its replications.
/// Only ratios matter: it balances shards, it predicts no wall time.
pub fn point_cost(p: &Point) -> f64 {
    Size::of(&p.topology, &p.design_model).events * f64::from(p.topology.workload.replications)
}

/// Every point's estimated cost, in grid order; nothing for a point that
/// is the same system as another (it is not simulated).
pub fn costs(study: &Study) -> Vec<f64> {
    study
        .points
        .iter()
        .map(|p| {
            if p.same_as.is_some() {
                0.0
            } else {
                point_cost(p)
            }
        })
        .collect()
}

/// Splits points of the given costs into `count` shards, balanced by cost:
/// longest processing time first, each point (costliest first, ties by
/// index) onto the least-loaded shard (ties: the lowest shard). Each shard
/// lists its points in grid order. Deterministic; the most loaded shard
/// carries at most the mean load plus the costliest single point (Graham's
/// bound for list scheduling). With more shards than points, some are empty.
pub fn partition(costs: &[f64], count: usize) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..costs.len()).collect();
    order.sort_by(|&a, &b| costs[b].total_cmp(&costs[a]).then(a.cmp(&b)));
    let mut load = vec![0.0f64; count];
    let mut shards: Vec<Vec<usize>> = vec![Vec::new(); count];
    for i in order {
        let lightest = (0..count)
            .min_by(|&a, &b| load[a].total_cmp(&load[b]).then(a.cmp(&b)))
            .expect("at least one shard");
        load[lightest] += costs[i];
        shards[lightest].push(i);
    }
    for s in &mut shards {
        s.sort_unstable();
    }
    shards
}

/// The points `shard` owns in `study`, in grid order: the points that run
/// are split by [`partition`], and a point that is the same system as
/// another (`same_as`) goes with it, so a shard never runs it and its
/// results are in the same shard folder.
pub fn owned(study: &Study, shard: Shard) -> Vec<usize> {
    let all = costs(study);
    let runs: Vec<usize> = (0..all.len())
        .filter(|&i| study.points[i].same_as.is_none())
        .collect();
    let run_costs: Vec<f64> = runs.iter().map(|&i| all[i]).collect();
    let mut mine = vec![false; all.len()];
    for k in partition(&run_costs, shard.count).swap_remove(shard.index) {
        mine[runs[k]] = true;
    }
    (0..all.len())
        .filter(|&i| mine[i] || study.points[i].same_as.is_some_and(|j| mine[j]))
        .collect()
}

/// What a shard result is checked against at merge: the study's resolved
/// points (`Study::fingerprint`) together with everything else its outputs
/// show (`metadata`, e.g. title and focus load), hashed (FNV-1a).
pub fn fingerprint(study_fingerprint: &str, metadata: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in study_fingerprint
        .bytes()
        .chain([0u8])
        .chain(metadata.bytes())
    {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses_shards() {
        assert_eq!(Shard::parse("2/4").unwrap(), Shard { index: 2, count: 4 });
        assert!(Shard::parse("4/4").unwrap_err().contains("from 0 to 3"));
        assert!(Shard::parse("1/0").unwrap_err().contains("at least 1"));
        assert!(Shard::parse("-1/2").unwrap_err().contains("`-1`"));
        assert!(Shard::parse("x/y").unwrap_err().contains("`x`"));
        assert!(Shard::parse("3").unwrap_err().contains("I/N"));
    }

    #[test]
    fn lpt_places_costliest_first_on_the_lightest() {
        // 7 -> s0; 5 -> s1; 4 -> s1 (5 < 7); 3 -> s0 (7 < 9); 1 -> s1 (9 < 10).
        let shards = partition(&[3.0, 7.0, 1.0, 5.0, 4.0], 2);
        assert_eq!(shards, vec![vec![0, 1], vec![2, 3, 4]]);
    }
}
