"""`make bench`'s report: every benchmark's rows in one table with the goals beside them,
and a benchmark without a summary (or one that fails) said so, never a crash."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def report(monkeypatch, tmp_path):
    spec = importlib.util.spec_from_file_location("bench_report", ROOT / "bench" / "report.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    row = {"benchmark": "load (sqlite)"}
    rows = [
        {**row, "figure": "p99", "value": "12 ms", "goal": "< 250 ms", "met": True},
        {**row, "figure": "errors", "value": "3", "goal": "0", "met": False},
        {**row, "figure": "backlog", "value": "40 texts", "goal": "", "met": None},
    ]
    scripts = {
        "with_summary": (
            "import argparse, json, pathlib\n"
            "p = argparse.ArgumentParser(); p.add_argument('--summary', type=pathlib.Path)\n"
            "p.add_argument('--quick-flag', action='store_true')\n"
            f"a = p.parse_args(); a.summary.write_text(json.dumps({rows!r}))\n"
        ),
        "without_summary": (
            "import argparse; argparse.ArgumentParser().parse_args(); print('figures')\n"
        ),
        "crashing": (
            "import argparse, pathlib\n"
            "p = argparse.ArgumentParser(); p.add_argument('--summary', type=pathlib.Path)\n"
            "p.parse_args(); raise SystemExit(3)\n"
        ),
    }
    benchmarks = {}
    for name, code in scripts.items():
        path = tmp_path / f"{name}.py"
        path.write_text(code)
        benchmarks[name] = (str(path), [], ["--quick-flag"] if name == "with_summary" else [])
    monkeypatch.setattr(module, "BENCHMARKS", benchmarks)
    return module


def test_one_table_with_goals_and_no_crash_for_missing_summaries(report, capsys) -> None:
    assert report.main(["--only", "with_summary,without_summary,crashing", "--quick"]) == 0
    out = capsys.readouterr().out
    table = out[out.index("benchmark  ") :]
    lines = table.splitlines()
    header, rule = lines[0], lines[1]
    assert header.split() == ["benchmark", "figure", "value", "goal", "met"]
    assert set(rule.replace(" ", "")) == {"-"}
    # Columns line up: every value starts where the header's "value" does.
    start = header.index("value")
    p99 = next(line for line in lines if " p99 " in line)
    assert p99[start:].startswith("12 ms") and p99.rstrip().endswith("yes")
    assert next(line for line in lines if " errors " in line).rstrip().endswith("NO")
    assert "without_summary: no summary" in table
    assert "crashing: no summary" in table and "crashing: exited with status 3" in table
    assert "1 of 2 goals met; missed: load (sqlite): errors" in out
    assert "figures" in out  # a script's own output still shows


def test_unknown_benchmarks_are_refused(report) -> None:
    with pytest.raises(SystemExit):
        report.main(["--only", "nonesuch"])


def test_a_summary_that_is_not_rows_is_said_so(report, tmp_path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"not": "a list"}))
    (row,) = report.read_rows(bad, "chaos")
    assert row["value"] == "chaos: summary is not a list of rows" and row["met"] is None


def test_the_table_of_summaries_already_written(report, tmp_path, capsys) -> None:
    saved = tmp_path / "load.json"
    saved.write_text(
        json.dumps(
            [
                {
                    "benchmark": "load",
                    "figure": "p99",
                    "value": "9 ms",
                    "goal": "< 250 ms",
                    "met": True,
                }
            ]
        )
    )
    assert report.main(["--from", f"with_summary={saved},crashing={tmp_path / 'none.json'}"]) == 0
    out = capsys.readouterr().out
    assert "9 ms" in out and "crashing: no summary" in out and "1 of 1 goals met" in out
    with pytest.raises(SystemExit):
        report.main(["--from", "nonesuch=x.json"])


@pytest.mark.parametrize("script", ["load.py", "chaos.py"])
def test_a_benchmark_run_as_a_script_finds_the_fake_twilio(script, tmp_path) -> None:
    """`make bench` runs `python bench/<script>`: the project is not on the path then, yet
    the scripts import the fake Twilio from tests/fakes (load.py once failed right there)."""
    import subprocess
    import sys

    probe = (
        "import runpy, sys; "
        f"sys.path[0] = {str(ROOT / 'bench')!r}; "
        f"runpy.run_path({str(ROOT / 'bench' / script)!r}, run_name='probe'); "
        "import tests.fakes.twilio"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-2000:]
