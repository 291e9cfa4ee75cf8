"""`make bench`: run the load, chaos and matching benchmarks, then print all their figures
in one table with the goals beside them.

Each benchmark script is run with ``--summary PATH`` and writes there a JSON list of rows
``{"benchmark", "figure", "value", "goal", "met"}`` (met: true, false, or null for a
figure without a goal). Its own output streams through as it runs. A script that does
not offer ``--summary`` yet, or fails, gets one row saying so; the table is printed
anyway. The exit status is 0 even when a goal is missed: this reports, it does not gate.

    python bench/report.py                    # everything, the issue's full goals (~1 h)
    python bench/report.py --quick            # shorter runs (also BENCH_QUICK=1)
    python bench/report.py --only load,chaos
    python bench/report.py --from load=a.json,matching=b.json   # the table of runs made
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# name: (script, arguments for the full run, arguments for --quick)
BENCHMARKS: dict[str, tuple[str, list[str], list[str]]] = {
    "load": (
        "bench/load.py",
        [],
        ["--seconds", "60", "--burst-seconds", "20"],
    ),
    "chaos": ("bench/chaos.py", [], ["--db", "sqlite"]),
    # Quick: no 100k or 1M instance (their goal rows then say "not run").
    "matching": ("bench/matching.py", [], ["--sizes", "1000,10000", "--million", "0"]),
}
COLUMNS = ("benchmark", "figure", "value", "goal", "met")


def offers_summary(script: Path) -> bool:
    """Whether ``script --help`` mentions ``--summary``."""
    try:
        shown = subprocess.run(
            [sys.executable, str(script), "--help"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return shown.returncode == 0 and "--summary" in shown.stdout


def note(name: str, value: str) -> dict[str, object]:
    return {"benchmark": name, "figure": "-", "value": value, "goal": "", "met": None}


def read_rows(path: Path, name: str) -> list[dict[str, object]]:
    """The rows a benchmark wrote, or one row saying why there are none."""
    try:
        rows = json.loads(path.read_text())
    except (OSError, ValueError):
        return [note(name, f"{name}: no summary")]
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        return [note(name, f"{name}: summary is not a list of rows")]
    return [{c: r.get(c, "" if c != "met" else None) for c in COLUMNS} for r in rows] or [
        note(name, f"{name}: empty summary")
    ]


def run(name: str, quick: bool) -> list[dict[str, object]]:
    script, full, short = BENCHMARKS[name]
    path = ROOT / script
    if not path.exists():
        return [note(name, f"{name}: {script} not found")]
    args = short if quick else full
    has_summary = offers_summary(path)
    print(f"\n=== {name}: {script} {' '.join(args)}", flush=True)
    with tempfile.TemporaryDirectory(prefix="mutualaid-bench-") as tmp:
        summary = Path(tmp) / f"{name}.json"
        command = [sys.executable, str(path), *args]
        if has_summary:
            command += ["--summary", str(summary)]
        started = time.monotonic()
        code = subprocess.run(command, cwd=ROOT).returncode
        took = time.monotonic() - started
        print(f"=== {name}: exit {code} after {took:.0f} s", flush=True)
        if not has_summary:
            return [note(name, f"{name}: no summary")]
        rows = read_rows(summary, name)
    if code != 0:
        rows.append(note(name, f"{name}: exited with status {code}"))
    return rows


def mark(met: object) -> str:
    return "yes" if met is True else "NO" if met is False else ""


def table(rows: list[dict[str, object]]) -> str:
    """One aligned table: benchmark, figure, value, goal, met."""
    cells = [["benchmark", "figure", "value", "goal", "met"]] + [
        [str(r["benchmark"]), str(r["figure"]), str(r["value"]), str(r["goal"]), mark(r["met"])]
        for r in rows
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(COLUMNS))]
    lines = []
    for n, row in enumerate(cells):
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        default=os.environ.get("BENCH_QUICK", "") not in ("", "0"),
        help="shorter runs (default when BENCH_QUICK=1)",
    )
    parser.add_argument("--only", default=",".join(BENCHMARKS), help="comma-separated")
    parser.add_argument(
        "--from",
        dest="saved",
        default="",
        help="name=PATH,...: print the table of summaries already written, run nothing",
    )
    args = parser.parse_args(argv)
    if args.saved:
        saved = [item.split("=", 1) for item in args.saved.split(",") if item]
        if any(len(item) != 2 or item[0] not in BENCHMARKS for item in saved):
            parser.error(f"--from takes name=PATH pairs, names among {', '.join(BENCHMARKS)}")
        rows = [row for name, path in saved for row in read_rows(Path(path), name)]
        print(table(rows))
        print(f"\n{goals_met(rows)}")
        return 0
    chosen = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = sorted(set(chosen) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmarks {unknown}; choose from {', '.join(BENCHMARKS)}")
    rows: list[dict[str, object]] = []
    for name in chosen:
        rows += run(name, args.quick)
    print(f"\n{'Quick' if args.quick else 'Full'} benchmark figures and their goals\n")
    print(table(rows))
    print(f"\n{goals_met(rows)}")
    return 0


def goals_met(rows: list[dict[str, object]]) -> str:
    judged = [r for r in rows if isinstance(r["met"], bool)]
    missed = [r for r in judged if not r["met"]]
    summary = f"{len(judged) - len(missed)} of {len(judged)} goals met"
    if missed:
        summary += "; missed: " + "; ".join(f"{r['benchmark']}: {r['figure']}" for r in missed)
    return summary


if __name__ == "__main__":
    sys.exit(main())
