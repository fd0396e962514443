#!/usr/bin/env python3
"""Makespan and efficiency of minima's MPI run pool (src/dist/mpi.c) on many
ranks, simulated from measured per-run times.

The simulation follows the pool event by event: N ranks of T threads; rank 0's
threads take runs from the list one at a time, the other ranks ask rank 0 for
chunks of min(T, max(1, left // (2 N))) runs whenever fewer than T runs wait in
their queue (runs here are long: the pool's larger chunks for runs under 5 ms
are left out); every message takes `latency` seconds one way; rank 0's serving
thread is one server: it answers asks (`ask` seconds each) and commits every
result (`commit` seconds each), one at a time in arrival order, and the job
ends at the last commit. Efficiency = total run time / (N T makespan).

Input: `minima export DB` CSVs (column `seconds`, the measured wall time of
each run; `options` names its setting). A job of --runs runs is drawn from
them: every setting gets runs / settings runs, each a measured time of that
setting drawn at random (seeded), in the runner's order (the Safran-Shamir
runner: largest rows first; --order ascending: smallest first, the worst
case for the tail; --order shuffled).

usage: bench/mpi_sim.py EXPORT.csv [...] [--runs 100000] [--ranks 16,64,256,1024]
       [--threads 1] [--latency 2e-4] [--commit 2e-5] [--ask 5e-6] [--order runner]
"""
import argparse
import csv
import heapq
import random
import re
import sys


def load(paths):
    """{setting options: [seconds]} and a size key per setting (n * k, else 0)."""
    rows = {}
    for p in paths:
        with open(p, newline="") as f:
            for r in csv.DictReader(f):
                rows.setdefault(r["options"], []).append(float(r["seconds"]))
    size = {}
    for o in rows:
        k = re.search(r"\bk=(\d+)", o)
        n = re.search(r"\bn=(\d+)", o)
        size[o] = int(k.group(1)) * int(n.group(1)) if k and n else 0
    return rows, size


def job(rows, size, runs, order, seed):
    rng = random.Random(seed)
    settings = sorted(rows, key=lambda o: (-size[o], o))  # the runner: largest first, stable
    if order == "ascending":
        settings.reverse()
    per = max(1, runs // len(settings))
    times = []
    for o in settings:
        times += [rng.choice(rows[o]) for _ in range(per)]
    if order == "shuffled":
        rng.shuffle(times)
    return times


def simulate(times, N, T, latency, commit, ask):
    """Makespan of the pool of src/dist/mpi.c on N ranks of T threads."""
    n = len(times)
    nxt = 0  # next run of the list
    ev = []  # (time, seq, kind, data)
    seq = 0

    def push(t, kind, data):
        nonlocal seq
        heapq.heappush(ev, (t, seq, kind, data))
        seq += 1

    queue = [[] for _ in range(N)]  # runs waiting on each rank (rank > 0)
    idle = [T] * N  # idle threads per rank
    asked = [False] * N
    stopped = [False] * N
    server_free = 0.0
    last_commit = 0.0

    def take(want):
        nonlocal nxt
        left = n - nxt
        c = min(want, max(1, left // (2 * N)), left)
        out = list(range(nxt, nxt + c))
        nxt += c
        return out

    def start(r, t):
        """Idle threads of rank r start what they can; rank r asks when short."""
        nonlocal nxt
        while idle[r] > 0:
            if r == 0:
                if nxt >= n:
                    break
                task = nxt
                nxt += 1
            else:
                if not queue[r]:
                    break
                task = queue[r].pop(0)
            idle[r] -= 1
            push(t + times[task], "done", r)
        if r > 0 and not asked[r] and not stopped[r] and len(queue[r]) < T:
            asked[r] = True
            push(t + latency, "ask", r)

    for r in range(N):
        start(r, 0.0)
    while ev:
        t, _, kind, r = heapq.heappop(ev)
        if kind == "done":  # a thread of rank r finished a run
            idle[r] += 1
            push(t + (0.0 if r == 0 else latency), "result", r)
            start(r, t)
        elif kind == "result":  # rank 0 commits, one at a time
            s = max(t, server_free)
            server_free = s + commit
            last_commit = server_free
        elif kind == "ask":
            s = max(t, server_free)
            server_free = s + ask
            push(server_free + latency, "chunk", (r, take(T)))
        elif kind == "chunk":
            rr, tasks = r
            asked[rr] = False
            if not tasks:
                stopped[rr] = True
            queue[rr] += tasks
            start(rr, t)
    return last_commit


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("csv", nargs="+")
    ap.add_argument("--runs", type=int, default=100000)
    ap.add_argument("--ranks", default="16,64,256,1024")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--latency", type=float, default=2e-4, help="one-way message time, s (100 us poll nap + network)")
    ap.add_argument("--commit", type=float, default=2e-5, help="rank 0's time to commit one result, s")
    ap.add_argument("--ask", type=float, default=5e-6, help="rank 0's time to answer one ask, s")
    ap.add_argument("--order", choices=["runner", "ascending", "shuffled"], default="runner")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rows, size = load(a.csv)
    times = job(rows, size, a.runs, a.order, a.seed)
    work = sum(times)
    print(f"# {len(times)} runs drawn from {sum(map(len, rows.values()))} measured runs of {len(rows)} settings "
          f"({a.order} order); run time min {min(times):.3g} s, mean {work / len(times):.3g} s, "
          f"max {max(times):.3g} s (max/min {max(times) / min(times):.0f}x); total {work:.4g} s")
    print(f"# {a.threads} thread(s) per rank; latency {a.latency:g} s, commit {a.commit:g} s, ask {a.ask:g} s")
    print(f"{'ranks':>6} {'threads':>8} {'ideal_s':>10} {'makespan_s':>11} {'efficiency':>10}")
    for N in map(int, a.ranks.split(",")):
        m = simulate(times, N, a.threads, a.latency, a.commit, a.ask)
        ideal = work / (N * a.threads)
        print(f"{N:>6} {N * a.threads:>8} {ideal:>10.4g} {m:>11.4g} {ideal / m:>10.1%}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
