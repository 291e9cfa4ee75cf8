"""Command line: ``python -m matching solve`` and ``python -m matching generate``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from ._collector import collector_paused
from ._generate import generate_instance
from ._instance import loads_instance, result_to_dict
from ._solve import solve

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m matching", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("solve", help="solve an instance file, write the result JSON")
    s.add_argument("instance", help="instance JSON file ('-' for stdin)")
    s.add_argument("-o", "--output", help="result file (default: stdout)")
    g = sub.add_parser("generate", help="write a synthetic instance")
    g.add_argument("--needs", type=int, required=True)
    g.add_argument("--volunteers", type=int, required=True)
    g.add_argument("--city", choices=("metro", "country"), default="metro")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("-o", "--output", help="instance file (default: stdout)")
    return parser


def _write(doc: object, path: str | None, **encoding: Any) -> None:
    """``doc`` as one line of JSON to ``path`` (stdout if None), written in pieces (not
    first built as one string: a million matches' result is as large as its records)."""
    if path is None:
        json.dump(doc, sys.stdout, **encoding)
        sys.stdout.write("\n")
        return
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, **encoding)
        fh.write("\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 invalid input, 2 usage)."""
    args = _parser().parse_args(argv)
    if args.command == "generate":
        if args.needs < 0 or args.volunteers < 0:
            print("error: --needs and --volunteers must be >= 0", file=sys.stderr)
            return 2
        doc = generate_instance(args.needs, args.volunteers, args.city, args.seed)
        _write(doc, args.output, separators=(",", ":"))
        return 0
    with collector_paused():
        return _solve_file(args)


def _solve_file(args: argparse.Namespace) -> int:
    """``solve``: read, parse, solve, write; the exit status."""
    try:
        if args.instance == "-":
            text = sys.stdin.read()
        else:
            with open(args.instance, encoding="utf-8") as fh:
                text = fh.read()
        needs, volunteers, settings = loads_instance(text)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        print(f"error: cannot read {args.instance}: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"error: invalid instance: {exc}", file=sys.stderr)
        return 1
    del text
    try:
        result = solve(needs, volunteers, settings, checked=True)
    except ValueError as exc:
        print(f"error: invalid instance: {exc}", file=sys.stderr)
        return 1
    del needs, volunteers
    out = result_to_dict(result)
    del result
    _write(out, args.output, ensure_ascii=False)
    return 0
