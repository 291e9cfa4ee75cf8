"""Command line: ``python -m matching solve`` and ``python -m matching generate``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from typing import Any

from ._collector import collector_paused
from ._generate import generate_instance
from ._instance import columns_to_dict, loads_instance
from ._solve import solve_columns

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


#: List items encoded at a time by `_write`.
_SLICE = 10_000


def _pieces(doc: object, **encoding: Any) -> Iterator[str]:
    """``json.dumps(doc, **encoding)`` in pieces, each made by the C encoder: a top-level
    object's lists `_SLICE` items at a time. (``json.dump`` writes in pieces too, but
    with the encoder written in Python: a million matches took 5 s, now 1.)"""
    if not isinstance(doc, dict):
        yield json.dumps(doc, **encoding)
        return
    item, key = encoding.get("separators") or (", ", ": ")
    yield "{"
    for k, (name, value) in enumerate(doc.items()):
        yield (item if k else "") + json.dumps(str(name), **encoding) + key
        if not isinstance(value, list) or not value:
            yield json.dumps(value, **encoding)
            continue
        yield "["
        for start in range(0, len(value), _SLICE):
            part = json.dumps(value[start : start + _SLICE], **encoding)[1:-1]
            yield (item if start else "") + part
        yield "]"
    yield "}"


def _write(doc: object, path: str | None, **encoding: Any) -> None:
    """``doc`` as one line of JSON to ``path`` (stdout if None), written in pieces (not
    first built as one string: a million matches' result is as large as its records)."""
    if path is None:
        sys.stdout.writelines(_pieces(doc, **encoding))
        sys.stdout.write("\n")
        return
    with open(path, "w", encoding="utf-8") as fh:
        fh.writelines(_pieces(doc, **encoding))
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
        done = solve_columns(needs, volunteers, settings, checked=True)
    except ValueError as exc:
        print(f"error: invalid instance: {exc}", file=sys.stderr)
        return 1
    del needs, volunteers
    out = columns_to_dict(done.need, done.volunteer, done.km, done.why, done.unmatched, done.stats)
    del done
    _write(out, args.output, ensure_ascii=False)
    return 0
