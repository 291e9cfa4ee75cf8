"""Benchmark of the matching engine against dense LSA, first-come-first-served and greedy.

Each measurement runs in its own process (so peak memory is its own) on the
same synthetic instance (same seed). Prints one table row per method and size,
the engine's advantage over first-come-first-served, and the whole-process
time of ``python -m matching solve`` on a metro instance.

    python bench/matching.py                                # the default set
    python bench/matching.py --sizes 1000,10000 --cities metro
    python bench/matching.py --sizes 1000000 --cities country --methods engine,fcfs
    python bench/matching.py --summary out.json   # also the goals table rows, as JSON

By default a country of 1M needs x 1M volunteers runs last (engine and FCFS);
``--million 0`` skips it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
METHODS = ("engine", "dense", "fcfs", "greedy")


def _rss_mb() -> float:
    """Current resident set size of this process, MB (Linux)."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _worker(method: str, city: str, n: int, seed: int, ratio: float) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from matching import (
        dense_assign,
        first_come_first_served,
        generate_instance,
        greedy_cheapest_first,
        parse_instance,
        solve,
        to_arrays,
        to_problem,
    )

    needs, vols, settings = parse_instance(generate_instance(n, round(n * ratio), city, seed))
    arr = to_arrays(needs, vols, settings)
    rss_before = _rss_mb()
    urgent = np.array([x.urgency == "urgent" for x in arr.needs])
    row: dict[str, Any] = {"method": method, "city": city, "n": n, "rss_before_mb": rss_before}
    if method == "engine":
        result = solve(needs, vols, settings)
        s = result.stats
        served = {p.need for p in result.pairs}
        row |= {
            "candidate_s": s.candidate_seconds,
            "solve_s": s.seconds,
            "served": s.matched,
            "weight": s.served_weight,
            "km": s.total_km,
            "proven": s.proven_optimal,
            "rounds": s.rounds,
            "urgent": sum(1 for k, x in enumerate(arr.needs) if urgent[k] and x.id in served),
        }
    else:
        problem = to_problem(arr, settings)
        t0 = time.perf_counter()
        if method == "dense":
            need, vol = dense_assign(problem)
        elif method == "fcfs":
            arrival = -np.array([x.waited_hours for x in arr.needs])
            need, vol = first_come_first_served(problem, arrival=arrival)
        else:
            need, vol = greedy_cheapest_first(problem)
        seconds = time.perf_counter() - t0
        row |= {
            "candidate_s": float("nan"),
            "solve_s": seconds,
            "served": len(need),
            "weight": int(arr.need_weight[need].sum()),
            "km": float(problem.pair_km(need, vol).sum()),
            "proven": method == "dense",
            "rounds": 0,
            "urgent": int(urgent[need].sum()),
        }
    row["urgent_total"] = int(urgent.sum())
    row["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return row


def _run(
    method: str, city: str, n: int, seed: int, ratio: float, timeout: float
) -> dict[str, Any] | None:
    cmd = [sys.executable, __file__, "--worker", method, city, str(n), str(seed), str(ratio)]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        print(f"  {method} {city} {n}: timed out after {timeout:.0f} s", flush=True)
        return None
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1:] or ["?"]
        print(f"  {method} {city} {n}: failed ({tail[0]})", flush=True)
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def _cli_seconds(n: int, seed: int) -> tuple[float, float, bool]:
    """Whole-process wall and CPU time of `python -m matching solve` on an n x n metro."""
    # As installed: byte-compiled (this machine sets PYTHONDONTWRITEBYTECODE).
    subprocess.run([sys.executable, "-m", "compileall", "-q", "matching"], check=True, cwd=ROOT)
    with tempfile.TemporaryDirectory() as tmp:
        inst, out = os.path.join(tmp, "inst.json"), os.path.join(tmp, "out.json")
        gen = [sys.executable, "-m", "matching", "generate", "--needs", str(n)]
        gen += ["--volunteers", str(n), "--city", "metro", "--seed", str(seed), "-o", inst]
        subprocess.run(gen, check=True, cwd=ROOT)
        best = best_cpu = float("inf")
        for _ in range(3):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            cmd = [sys.executable, "-m", "matching", "solve", inst, "-o", out]
            subprocess.run(cmd, check=True, cwd=ROOT)
            best = min(best, time.perf_counter() - t0)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
            best_cpu = min(best_cpu, cpu)
        with open(out, encoding="utf-8") as fh:
            proven = json.load(fh)["stats"]["proven_optimal"]
    return best, best_cpu, proven


def _km_saved_per_need(engine: dict[str, Any], other: dict[str, Any]) -> float:
    """How much less the engine drives per need served than ``other``, in percent."""
    per_need = engine["km"] / max(engine["served"], 1)
    return 100 * (1 - per_need / max(other["km"] / max(other["served"], 1), 1e-12))


def _fmt(x: float, digits: int = 2) -> str:
    return "-" if x != x else f"{x:.{digits}f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="n (= needs = volunteers)")
    parser.add_argument("--cities", default="metro,country")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--dense-max", type=int, default=10000, help="largest n for dense LSA")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--ratio", type=float, default=1.0, help="volunteers per need")
    parser.add_argument("--timeout", type=float, default=600.0, help="per measurement, s")
    parser.add_argument("--cli-n", type=int, default=10000, help="0 skips the CLI timing")
    parser.add_argument("--million", type=int, default=1_000_000, help="country n; 0 skips")
    parser.add_argument("--summary", help="write the goal rows (JSON) for bench/report.py")
    parser.add_argument("--worker", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        method, city, n, seed, ratio = args.worker
        print(json.dumps(_worker(method, city, int(n), int(seed), float(ratio))))
        return 0
    sizes = [int(s) for s in args.sizes.split(",") if s]
    cities = [c for c in args.cities.split(",") if c]
    methods = [m for m in args.methods.split(",") if m]
    header = (
        f"{'city':8} {'n':>8} {'method':7} {'cand s':>7} {'total s':>8} {'peak MB':>8} "
        f"{'served':>8} {'weight':>9} {'km':>11} {'urgent':>11} {'optimal':>8}"
    )
    print(f"volunteers per need: {args.ratio:g}; seed {args.seed}")
    print(header)
    print("-" * len(header), flush=True)
    rows: list[dict[str, Any]] = []
    runs = [(city, n, methods) for city in cities for n in sizes]
    if args.million:
        runs.append(("country", args.million, [m for m in ("engine", "fcfs") if m in methods]))
    for city, n, run_methods in runs:
        got: dict[str, dict[str, Any]] = {}
        for method in run_methods:
            if method == "dense" and n > args.dense_max:
                continue
            row = _run(method, city, n, args.seed, args.ratio, args.timeout)
            if row is None:
                continue
            got[method] = row
            rows.append(row)
            print(
                f"{city:8} {n:>8} {method:7} {_fmt(row['candidate_s']):>7} "
                f"{_fmt(row['solve_s']):>8} {row['peak_mb']:>8.0f} {row['served']:>8} "
                f"{row['weight']:>9} {row['km']:>11.1f} "
                f"{row['urgent']:>5}/{row['urgent_total']:<5} "
                f"{('proven' if row['proven'] else 'no'):>8}",
                flush=True,
            )
        if "engine" in got and "fcfs" in got:
            e, f = got["engine"], got["fcfs"]
            saved = _km_saved_per_need(e, f)
            print(
                f"  engine vs FCFS: {e['served'] - f['served']:+d} needs served, "
                f"{e['weight'] - f['weight']:+d} weight, {e['urgent'] - f['urgent']:+d} urgent "
                f"served, {f['km'] - e['km']:+.1f} km less in total "
                f"({saved:.1f} % less per need served)",
                flush=True,
            )
        if "engine" in got and "dense" in got:
            e, d = got["engine"], got["dense"]
            print(
                f"  engine vs dense LSA: weight {e['weight'] - d['weight']:+d}, "
                f"km {e['km'] - d['km']:+.6f}, {d['solve_s'] / e['solve_s']:.1f}x faster",
                flush=True,
            )
    cli = None
    if args.cli_n:
        cli = _cli_seconds(args.cli_n, args.seed)
        seconds, cpu, proven = cli
        print(
            f"\n`python -m matching solve` on a {args.cli_n} x {args.cli_n} metro, whole process "
            f"(best of 3): {seconds:.2f} s wall, {cpu:.2f} s CPU, proven optimal: {proven}"
        )
    if args.summary:
        with open(args.summary, "w", encoding="utf-8") as fh:
            json.dump(_summary(rows, cli, args.cli_n), fh, indent=1)
    return 0


# The goals on this 2-core machine: (city, n, seconds, MB).
GOALS = [("metro", 100_000, 20.0, 3072.0), ("country", 1_000_000, 180.0, None)]


def _summary(
    rows: list[dict[str, Any]], cli: tuple[float, float, bool] | None, cli_n: int
) -> list[dict[str, Any]]:
    """Rows for the one table of `make bench`: figure, value, goal, met."""
    out: list[dict[str, Any]] = []
    if cli is not None:
        seconds, _, proven = cli
        out.append(
            {
                "benchmark": "matching",
                "figure": f"metro {cli_n:,} x {cli_n:,}: whole `python -m matching solve`",
                "value": f"{seconds:.2f} s, {'proven optimal' if proven else 'NOT proven'}",
                "goal": "<= 1 s, proven optimal",
                "met": seconds <= 1.0 and proven,
            }
        )
    engine = {(r["city"], r["n"]): r for r in rows if r["method"] == "engine"}
    for city, n, goal_s, goal_mb in GOALS:
        r = engine.get((city, n))
        goal = f"<= {goal_s:g} s" + (f", <= {goal_mb / 1024:g} GB" if goal_mb else "")
        figure = f"{city} {n:,} x {n:,}: engine"
        if r is None:
            out.append(
                {
                    "benchmark": "matching",
                    "figure": figure,
                    "value": "not run or failed",
                    "goal": goal + ", proven optimal",
                    "met": False,
                }
            )
            continue
        met = (
            r["solve_s"] <= goal_s and r["proven"] and (goal_mb is None or r["peak_mb"] <= goal_mb)
        )
        out.append(
            {
                "benchmark": "matching",
                "figure": figure,
                "value": f"{r['solve_s']:.1f} s, {r['peak_mb']:.0f} MB, "
                + ("proven optimal" if r["proven"] else "NOT proven"),
                "goal": goal + ", proven optimal",
                "met": bool(met),
            }
        )
    fcfs = {(r["city"], r["n"]): r for r in rows if r["method"] == "fcfs"}
    for key, e in sorted(engine.items()):
        f = fcfs.get(key)
        if f is None or key[1] < 10_000:
            continue
        saved = _km_saved_per_need(e, f)
        out.append(
            {
                "benchmark": "matching",
                "figure": f"{key[0]} {key[1]:,}: engine vs first-come-first-served",
                "value": f"{e['served'] - f['served']:+d} served, {e['urgent'] - f['urgent']:+d} "
                f"urgent, {saved:.1f} % less km per need",
                "goal": "more served, less travel",
                "met": e["weight"] >= f["weight"] and saved >= 0,
            }
        )
    return out


if __name__ == "__main__":
    sys.exit(main())
