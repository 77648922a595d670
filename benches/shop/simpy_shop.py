"""The peer's "shop" scenario, written for SimPy 4: the same work as
shop.toml, so that ztsim's speed can be compared with a general-purpose
Python discrete-event library on identical semantics (compare.py runs both).

    python simpy_shop.py RATE_RPS N_REQUESTS [SEED]

Semantics (the same as ztsim's plaintext baseline on shop.toml):
- requests arrive as a Poisson process at RATE_RPS; N_REQUESTS of them are
  simulated, each measured from its arrival to the end of its response;
- every call, the user's call to frontend included, spends RTT/2 in transit,
  queues FIFO for one of its service's cores, holds that core for an
  exponential CPU time, lets it go, runs its stages in order (the calls of
  one stage in parallel, the stage ending when all of them have), and spends
  RTT/2 again on the way back;
- RTT is 0.5 ms between any two services (and between the user and frontend).

It prints one line of key=value pairs: requests, calls, the wall time of the
simulation, calls per wall-clock second, and latency mean, p50 and p99 in ms
(the quantile q is the sorted latency at index floor(q * n)).
"""
import random
import statistics
import sys
import time

import simpy

RTT_S = 0.0005
# service: (cores, mean CPU seconds per call)
SERVICES = {
    "frontend": (4, 0.001),
    "catalog": (4, 0.002),
    "cart": (2, 0.0005),
    "db": (8, 0.0005),
}
# A call is (service, stages); a stage is a list of calls made in parallel.
DB = ("db", [])
CATALOG = ("catalog", [[DB], [DB], [DB]])
CART = ("cart", [])
ROOT = ("frontend", [[CATALOG, CART]])


def simulate(rate, n_requests, seed):
    rng = random.Random(seed)
    env = simpy.Environment()
    cores = {name: simpy.Resource(env, capacity=c) for name, (c, _) in SERVICES.items()}
    latencies = []
    calls = 0

    def call(node):
        nonlocal calls
        service, stages = node
        calls += 1
        yield env.timeout(RTT_S / 2)
        with cores[service].request() as core:
            yield core
            yield env.timeout(rng.expovariate(1.0 / SERVICES[service][1]))
        for stage in stages:
            yield simpy.AllOf(env, [env.process(call(child)) for child in stage])
        yield env.timeout(RTT_S / 2)

    def request():
        start = env.now
        yield env.process(call(ROOT))
        latencies.append(env.now - start)

    def arrivals():
        for _ in range(n_requests):
            yield env.timeout(rng.expovariate(rate))
            env.process(request())

    env.process(arrivals())
    t0 = time.perf_counter()
    env.run()
    return latencies, calls, time.perf_counter() - t0


def main():
    rate = float(sys.argv[1])
    n = int(sys.argv[2])
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    latencies, calls, wall = simulate(rate, n, seed)
    latencies.sort()

    def quantile_ms(q):
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1e3

    print(
        f"requests={len(latencies)} calls={calls} wall_s={wall:.3f} "
        f"calls_per_wall_s={calls / wall:.0f} "
        f"mean_ms={statistics.fmean(latencies) * 1e3:.4f} "
        f"p50_ms={quantile_ms(0.5):.4f} p99_ms={quantile_ms(0.99):.4f}"
    )


if __name__ == "__main__":
    main()
