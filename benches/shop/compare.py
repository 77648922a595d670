#!/usr/bin/env python3
"""ztsim against SimPy on the shop scenario: the same work, whole processes.

    python3 benches/shop/compare.py [--rounds 5] [--requests 100000] [--rate 1000]

Run from anywhere; it works in the repository holding it. It
1. creates a virtual environment (under the cargo target dir, `shop-venv`)
   and pip-installs SimPy into it, once;
2. builds ztsim (`cargo build --release`; `--no-build` uses the binary as it
   is, `ZTSIM=path` another one);
3. runs, ROUNDS times and interleaved (the order alternating each round),
   `simpy_shop.py RATE N SEED` and
   `ztsim run shop.toml --requests N --seed SEED --threads 1 --json`
   (which writes summary.json, latency.csv and timeseries.csv, as a user's
   run does), with seeds 1..ROUNDS on both sides, timing each whole process;
4. checks that the two simulate the same system: for the latency mean, p50
   and p99, the ROUNDS independent seeds of each side give a mean and a
   standard error; the two agree when the difference of their means is within
   the 99% Welch t interval of that difference (a 99% interval, so that two
   equal systems fail one check in a hundred by chance; with 5 seeds of
   100,000 requests it detects a difference of about 1% in the mean);
5. prints each side's median wall time and calls per second (6 calls per
   request on both sides: the user's call to frontend and its 5 internal
   calls) and the ratio of the medians; and the same of the processes' CPU
   time (user + system), which a busy machine disturbs less.
Exit status 1 when the two disagree. A benchmark: not part of `cargo test`.
"""
import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import venv

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
CALLS_PER_REQUEST = 6
# Two-sided 99% Student t quantiles by degrees of freedom (Welch's df rounded down).
T99 = {1: 63.657, 2: 9.925, 3: 5.841, 4: 4.604, 5: 4.032, 6: 3.707, 7: 3.499,
       8: 3.355, 9: 3.250, 10: 3.169, 12: 3.055, 15: 2.947, 20: 2.845, 30: 2.750}


def t99(df):
    keys = [k for k in sorted(T99) if k <= max(1, int(df))]
    return T99[keys[-1]]


def target_dir():
    return os.environ.get("CARGO_TARGET_DIR") or os.path.join(REPO, "target")


def simpy_python():
    env_dir = os.path.join(target_dir(), "shop-venv")
    python = os.path.join(env_dir, "bin", "python")
    if not os.path.exists(python):
        print(f"creating {env_dir} and installing simpy", file=sys.stderr)
        venv.create(env_dir, with_pip=True)
    check = subprocess.run([python, "-c", "import simpy"], capture_output=True)
    if check.returncode != 0:
        subprocess.run([python, "-m", "pip", "install", "-q", "simpy>=4,<5"], check=True)
    return python


def ztsim_binary(build):
    if os.environ.get("ZTSIM"):
        return os.environ["ZTSIM"]
    if build:
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=REPO, check=True)
    return os.path.join(target_dir(), "release", "ztsim")


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed(cmd, cwd):
    """Runs `cmd`; returns its wall and CPU seconds and what it printed."""
    cpu0, t0 = children_cpu(), time.perf_counter()
    out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    wall, cpu = time.perf_counter() - t0, children_cpu() - cpu0
    if out.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({out.returncode}):\n{out.stderr}")
    return (wall, cpu), out.stdout


def run_simpy(python, rate, n, seed):
    took, text = timed([python, os.path.join(HERE, "simpy_shop.py"), str(rate), str(n), str(seed)], HERE)
    fields = dict(kv.split("=") for kv in text.split())
    assert int(fields["requests"]) == n and int(fields["calls"]) == CALLS_PER_REQUEST * n, text
    return took, {k: float(fields[k + "_ms"]) for k in ("mean", "p50", "p99")}


def run_ztsim(binary, rate, n, seed, out_dir):
    cmd = [binary, "run", os.path.join(HERE, "shop.toml"), "--requests", str(n), "--rate", str(rate),
           "--seed", str(seed), "--threads", "1", "--json", "--out", out_dir, "--force"]
    took, text = timed(cmd, REPO)
    summary = json.loads(text)["summary"]
    assert summary["saturated"] is None, "ztsim reports the shop saturated"
    lat = summary["requests"]["latency_ms"]
    return took, {k: lat[k]["mean"] for k in ("mean", "p50", "p99")}


def agreement(simpy, ztsim):
    """Welch's 99% interval of the difference, per statistic; True if all agree."""
    ok = True
    print("agreement (ms; mean of the seeds +- standard error; 99% Welch interval of the difference):")
    for stat in ("mean", "p50", "p99"):
        a = [r[stat] for r in simpy]
        b = [r[stat] for r in ztsim]
        va, vb = statistics.variance(a) / len(a), statistics.variance(b) / len(b)
        se = (va + vb) ** 0.5
        df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1)) if se > 0 else 1
        diff = statistics.fmean(b) - statistics.fmean(a)
        half = t99(df) * se
        agree = abs(diff) <= half
        ok &= agree
        print(f"  {stat:>4}: SimPy {statistics.fmean(a):7.3f} +- {va**0.5:.3f}   "
              f"ztsim {statistics.fmean(b):7.3f} +- {vb**0.5:.3f}   "
              f"difference {diff:+.3f} within +-{half:.3f}: {'yes' if agree else 'NO'}")
    return ok


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--requests", type=int, default=100_000)
    p.add_argument("--rate", type=float, default=1000)
    p.add_argument("--no-build", action="store_true")
    args = p.parse_args()
    if args.rounds < 2:
        sys.exit("--rounds must be at least 2 (the agreement check needs a spread)")
    python = simpy_python()
    binary = ztsim_binary(not args.no_build)
    out_dir = tempfile.mkdtemp(prefix="ztsim-shop-")
    times = {"SimPy": [], "ztsim": []}
    cpus = {"SimPy": [], "ztsim": []}
    stats = {"SimPy": [], "ztsim": []}
    try:
        for r in range(args.rounds):
            seed = r + 1
            sides = [("SimPy", lambda: run_simpy(python, args.rate, args.requests, seed)),
                     ("ztsim", lambda: run_ztsim(binary, args.rate, args.requests, seed, out_dir))]
            for name, run in sides if r % 2 == 0 else reversed(sides):
                (wall, cpu), figures = run()
                times[name].append(wall)
                cpus[name].append(cpu)
                stats[name].append(figures)
            print(f"round {r + 1}/{args.rounds}: SimPy {times['SimPy'][-1]:.2f} s, "
                  f"ztsim {times['ztsim'][-1]:.3f} s", file=sys.stderr)
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)
    ok = agreement(stats["SimPy"], stats["ztsim"])
    calls = CALLS_PER_REQUEST * args.requests
    print(f"shop at {args.rate:g} rps, {args.requests} requests ({calls} calls), one thread, "
          f"whole processes, {args.rounds} interleaved rounds:")
    medians, cpu = {}, {}
    for name in ("SimPy", "ztsim"):
        medians[name] = statistics.median(times[name])
        cpu[name] = statistics.median(cpus[name])
        print(f"  {name:<5}  median {medians[name]:8.3f} s   {calls / medians[name] / 1e6:7.3f} M calls/s"
              f"   (CPU {cpu[name]:.3f} s)")
    print(f"ratio: ztsim is {medians['SimPy'] / medians['ztsim']:.1f}x SimPy (target >= 150x); "
          f"of CPU time, {cpu['SimPy'] / cpu['ztsim']:.1f}x (steadier on a busy machine)")
    if not ok:
        print("the two DISAGREE: the ratio compares different systems", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
