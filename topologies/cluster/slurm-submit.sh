#!/bin/bash
# Submits the sharded sweep (slurm-sweep.sbatch) and a merge that Slurm
# starts only once every array task has finished successfully
# (--dependency=afterok on the array's job id). Run from the repository
# root, on the shared filesystem:
#
#   topologies/cluster/slurm-submit.sh                      # big.study.toml, 8 shards
#   STUDY=my.study.toml NAME=my topologies/cluster/slurm-submit.sh  # another study
#
# Results: output/<study name>/ (results.csv, results.json, charts), next to
# its shards in output/<study name>/shards/.
set -euo pipefail

here=$(dirname "$0")
export STUDY=${STUDY:-topologies/cluster/big.study.toml}
# The study's `name` (its output folder under output/).
NAME=${NAME:-big}
# Refuse a broken study now, not after it waited in the queue.
ztsim validate "$STUDY"

sweep=$(sbatch --parsable --export=ALL "$here/slurm-sweep.sbatch")
sweep=${sweep%%;*}   # --parsable prints "jobid[;cluster]"
merge=$(sbatch --parsable \
  --job-name=ztsim-merge \
  --dependency=afterok:"$sweep" \
  --kill-on-invalid-dep=yes \
  --cpus-per-task=2 --mem=2G --time=00:30:00 \
  --output=ztsim-merge-%j.out \
  --wrap "ztsim merge output/$NAME/shards --out output/$NAME --force")
echo "sweep: job array $sweep; merge: job $merge (after all of $sweep succeed)"
echo "watch with: squeue -j $sweep,$merge"
