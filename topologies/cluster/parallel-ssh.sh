#!/bin/bash
# ztsim over a few machines with GNU parallel and ssh: shard I of N of a
# study runs on whichever machine is free (`ztsim sweep STUDY --shard I/N`),
# one shard per machine at a time (each uses all its cores), then the shards
# are merged here. Run from the repository root:
#
#   SSHLOGINS=8/alice@node1,8/node2,: topologies/cluster/parallel-ssh.sh
#
# Settings (environment):
#   SSHLOGINS  machines, GNU parallel's --sshlogin list (`:` is this one)
#   SHARDS     N, the number of shards (default 8): more than machines
#              evens out machines of different speeds
#   STUDY      the study file (default topologies/cluster/big.study.toml)
#   NAME       the study's `name`, its folder under output/ (default big)
#   SHARED     yes (default): this folder is on a filesystem every machine
#              mounts at the same path, and ztsim is on their PATH.
#              no: nothing is shared; the study files and the ztsim binary
#              are copied to each machine (--basefile) and each shard comes
#              back as a tar file (--return), removed there (--cleanup).
#
# A shard that fails is retried (--retries); where its folder survived, it
# resumes its saved points. ztsim merge then refuses to combine anything
# incomplete or inconsistent, naming the shard and the command that fixes it.
set -euo pipefail

SSHLOGINS=${SSHLOGINS:?set SSHLOGINS, e.g. SSHLOGINS=node1,node2,: (see the comment at the top)}
SHARDS=${SHARDS:-8}
STUDY=${STUDY:-topologies/cluster/big.study.toml}
NAME=${NAME:-big}
SHARED=${SHARED:-yes}
ZTSIM=${ZTSIM:-target/release/ztsim}

# Refuse a broken study before any machine starts.
"$ZTSIM" validate "$STUDY"

if [ "$SHARED" = yes ]; then
  # --workdir . runs each job in this same folder on every machine.
  seq 0 $((SHARDS - 1)) | parallel \
    --sshlogin "$SSHLOGINS" --jobs 1 --workdir . \
    --retries 2 --joblog ztsim-parallel.log --tag \
    "$ZTSIM" sweep "$STUDY" --shard "{}/$SHARDS"
else
  # The study refers to its topology and designs by relative path: send the
  # files it names (here: big.study.toml's) at the same relative paths.
  inputs=("$STUDY" topologies/chatty.toml models/*.toml "$ZTSIM")
  basefiles=()
  for f in "${inputs[@]}"; do basefiles+=(--basefile "$f"); done
  seq 0 $((SHARDS - 1)) | parallel \
    --sshlogin "$SSHLOGINS" --jobs 1 "${basefiles[@]}" \
    --return "ztsim-shard-{}-of-$SHARDS.tar" --cleanup \
    --retries 2 --joblog ztsim-parallel.log --tag \
    "$ZTSIM sweep $STUDY --shard {}/$SHARDS" \
    "&& tar -cf ztsim-shard-{}-of-$SHARDS.tar output/$NAME/shards/{}-of-$SHARDS" \
    "&& rm -rf output/$NAME/shards/{}-of-$SHARDS"
  for t in ztsim-shard-*-of-"$SHARDS".tar; do
    tar -xf "$t" && rm "$t"
  done
fi

"$ZTSIM" merge "output/$NAME/shards" --out "output/$NAME" --force
