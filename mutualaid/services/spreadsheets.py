"""Reading the spreadsheets networks keep: a CSV file's bytes into rows (its encoding and
delimiter sniffed: UTF-8 with or without a BOM, UTF-16 from Excel's "Unicode text", Excel's
``;`` exports, cp1252 when nothing else reads), and its headers mapped to our fields with
the vocabulary of config/imports.toml (Google Forms exports in English and Spanish)."""

from __future__ import annotations

import csv
import functools
import io
import re
import tomllib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mutualaid.services.errors import Refused
from mutualaid.services.location import fold

KINDS = ("volunteers", "requests")
DELIMITERS = ",;\t|"
MAX_ROWS = 20_000
MAX_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class Table:
    """A spreadsheet's header and rows (every row as long as the header), and how it was read."""

    headers: list[str]
    rows: list[list[str]]
    encoding: str
    delimiter: str


@dataclass(frozen=True)
class Vocabulary:
    """The words of config/imports.toml: header aliases per kind and field, and answers."""

    headers: dict[str, dict[str, tuple[str, ...]]]
    languages: dict[str, tuple[str, ...]]
    urgency: dict[str, tuple[str, ...]]
    distance: dict[str, tuple[str, ...]]
    header_words: dict[str, tuple[str, ...]]

    def form_language(self, headers: Sequence[str]) -> str | None:
        """The language most of ``headers`` are written in, if any says."""
        hits = Counter(
            language
            for header in headers
            for language, words in self.header_words.items()
            if set(fold(header).split()) & set(words)
        )
        ranked = hits.most_common(2)
        if not ranked or (len(ranked) == 2 and ranked[0][1] == ranked[1][1]):
            return None
        return ranked[0][0]

    @classmethod
    def load(cls, path: Path) -> Vocabulary:
        with open(path, "rb") as f:
            data = tomllib.load(f)

        def table(name: str) -> dict[str, tuple[str, ...]]:
            entries = data.get(name)
            if not isinstance(entries, dict):
                raise ValueError(f"{path.name}: [{name}] is missing")
            return {key: tuple(fold(w) for w in words) for key, words in entries.items()}

        return cls(
            headers={kind: table(kind) for kind in KINDS},
            languages=table("languages"),
            urgency=table("urgency"),
            distance=table("distance"),
            header_words=table("header_words"),
        )


@functools.cache
def vocabulary() -> Vocabulary:
    """config/imports.toml, read once."""
    from mutualaid.settings import CONFIG_DIR

    return Vocabulary.load(CONFIG_DIR / "imports.toml")


def decode(data: bytes) -> tuple[str, str]:
    """The text of a file and the encoding it was read with."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel on Windows saves "CSV" in the machine's code page.
        return data.decode("cp1252", errors="replace"), "cp1252"
    return text, "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"


def sniff_delimiter(text: str) -> str:
    """The delimiter of a CSV text: csv.Sniffer on its first lines, else the one of
    DELIMITERS the header line holds most of (outside quotes)."""
    sample = "\n".join(text.splitlines()[:20])
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        pass
    header = re.sub(r'"[^"]*"', "", text.splitlines()[0] if text else "")
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def read_table(data: bytes) -> Table:
    """A CSV file's bytes as a Table. Refused when empty, too big, or without a header."""
    if len(data) > MAX_BYTES:
        limit = f"{MAX_BYTES // (1024 * 1024)} MB"
        raise Refused("import_too_big", f"the file is over {limit}", limit=limit)
    text, encoding = decode(data)
    text = text.replace("\x00", "")
    if not text.strip():
        raise Refused("import_empty", "the file is empty")
    delimiter = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    lines = [row for row in reader if any(cell.strip() for cell in row)]
    if not lines:
        raise Refused("import_empty", "the file is empty")
    headers = [h.strip() for h in lines[0]]
    if len(lines) - 1 > MAX_ROWS:
        raise Refused("import_too_big", f"more than {MAX_ROWS} rows", limit=f"{MAX_ROWS} rows")
    width = len(headers)
    rows = [[c.strip() for c in (row + [""] * width)[:width]] for row in lines[1:]]
    return Table(headers, rows, encoding, delimiter)


@dataclass(frozen=True)
class ColumnMap:
    """Which column holds which field (column indexes), and the columns left unread."""

    columns: dict[str, int]
    ignored: list[str] = field(default_factory=list)


def parse_overrides(pairs: Sequence[str]) -> dict[str, str]:
    """``["Cell=phone", "Barrio=location"]`` → ``{"Cell": "phone", …}``."""
    out: dict[str, str] = {}
    for pair in pairs:
        column, sep, name = pair.rpartition("=")
        if not sep or not column.strip() or not name.strip():
            problem = f"{pair!r}: write it COLUMN=field"
            raise Refused("import_bad_map", f"--map {problem}", problem=problem)
        out[column.strip()] = name.strip()
    return out


def map_headers(
    headers: Sequence[str],
    kind: str,
    *,
    overrides: Mapping[str, str] | None = None,
    words: Vocabulary | None = None,
) -> ColumnMap:
    """Map each header to a field of ``kind``: an override first (``{"Cell": "phone"}``;
    field ``ignore`` skips a column), else the vocabulary's alias the header is, else the
    longest alias it starts with. A field is taken by the first column that claims it."""
    words = words or vocabulary()
    if kind not in words.headers:
        raise Refused("import_kind", f"unknown import {kind!r}: volunteers or requests", kind=kind)
    fields = words.headers[kind]
    overrides = dict(overrides or {})
    folded_overrides = {fold(k): v for k, v in overrides.items()}
    for name in folded_overrides.values():
        if name != "ignore" and name not in fields:
            problem = f"unknown field {name!r} (one of: {', '.join(fields)}, ignore)"
            raise Refused("import_bad_map", f"--map: {problem}", problem=problem)
    known = {fold(h) for h in headers}
    missing = [k for k in overrides if fold(k) not in known]
    if missing:
        problem = f"no column named {', '.join(repr(k) for k in missing)} in the file"
        raise Refused("import_bad_map", f"--map: {problem}", problem=problem)
    columns: dict[str, int] = {}
    ignored: list[str] = []
    for index, header in enumerate(headers):
        folded = fold(header)
        name = (
            folded_overrides.get(folded)
            if folded in folded_overrides
            else _field_for(folded, fields)
        )
        if name is None or name == "ignore" or name in columns:
            ignored.append(header)
            continue
        columns[name] = index
    return ColumnMap(columns, ignored)


def _field_for(header: str, fields: Mapping[str, tuple[str, ...]]) -> str | None:
    if not header:
        return None
    for name, aliases in fields.items():
        if header in aliases:
            return name
    best: tuple[int, str] | None = None
    for name, aliases in fields.items():
        for alias in aliases:
            if alias and header.startswith(alias + " ") and (best is None or len(alias) > best[0]):
                best = (len(alias), name)
    return best[1] if best else None
