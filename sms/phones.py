"""Phone numbers: normalised to E.164, found inside free text however they are written,
masked for display."""

from __future__ import annotations

import tomllib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberMatcher

from sms.text import fold

__all__ = [
    "MIN_DIGITS",
    "InvalidPhoneNumber",
    "NumberScan",
    "NumberWords",
    "find_number_spans",
    "find_numbers",
    "is_valid",
    "mask",
    "normalize",
    "scan_numbers",
    "without_numbers",
]

_MASK = "•"


class InvalidPhoneNumber(ValueError):
    """A text that is not a valid phone number for the given region."""


def _check_region(region: str | None) -> str | None:
    if region is None:
        return None
    code = region.upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"unknown phone region {region!r}: expected an ISO 3166 code like 'US'")
    return code


def normalize(raw: str, region: str | None = "US") -> str:
    """The E.164 form of a phone number written any common way.

    ``region`` is the default country for numbers written without "+" (the
    network's configured region); numbers with "+" or "00" ignore it.

    >>> normalize("(718) 555-0101")
    '+17185550101'
    >>> normalize("+52 55 1234 5678", region="US")
    '+525512345678'
    >>> normalize("555-0101")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
      ...
    sms.phones.InvalidPhoneNumber: '555-0101' is not a valid phone number for region US
    """
    code = _check_region(region)
    text = raw.strip()
    if not text:
        raise InvalidPhoneNumber("empty phone number")
    try:
        number = phonenumbers.parse(text, code)
    except NumberParseException:
        where = f" for region {code}" if code else " (no default region: start it with +)"
        raise InvalidPhoneNumber(f"{raw!r} is not a phone number{where}") from None
    if not phonenumbers.is_valid_number(number):
        where = f" for region {code}" if code else ""
        raise InvalidPhoneNumber(f"{raw!r} is not a valid phone number{where}")
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def display(number: str, region: str | None = "US") -> str:
    """An E.164 number as people write it where they live (national format at home).

    >>> display("+17185550101")
    '(718) 555-0101'
    >>> display("+525512345678")
    '+52 55 1234 5678'
    """
    parsed = phonenumbers.parse(number, None)
    home = region and phonenumbers.region_code_for_number(parsed) == region.upper()
    style = PhoneNumberFormat.NATIONAL if home else PhoneNumberFormat.INTERNATIONAL
    return phonenumbers.format_number(parsed, style)


def is_valid(raw: str, region: str | None = "US") -> bool:
    """Whether `normalize` would accept ``raw``."""
    try:
        normalize(raw, region)
    except InvalidPhoneNumber:
        return False
    return True


def find_numbers(text: str, region: str | None = "US") -> list[str]:
    """Valid phone numbers written inside free text, in E.164, first occurrence order.

    Uses phonenumbers' matcher, so "thx" after a number is not read as digits.

    >>> find_numbers("call me 718.555.0101 thx, or my son at +1 (347) 555-0199")
    ['+17185550101', '+13475550199']
    """
    code = _check_region(region)
    found: dict[str, None] = {}
    for match in PhoneNumberMatcher(text, code):
        found[phonenumbers.format_number(match.number, PhoneNumberFormat.E164)] = None
    return list(found)


# A run of this many digits is someone's phone number (or enough of one to be).
MIN_DIGITS = 7
# Characters that may stand between two digits of one number: "718 555-0101",
# "7 1 8 . 5 5 5", "718_555|0101" (anything but letters and digits, at most this many).
_MAX_GAP = 3
# Letters that pass for digits inside a run of digits ("7l8-555-O1O1").
_LOOKALIKE_DIGITS = {"o": 1, "l": 1, "i": 1}


@dataclass(frozen=True)
class NumberWords:
    """Number words of every language (``config/keywords/<lang>.toml``, [numbers]): how
    many digits of a phone number each stands for ("seven" 1, "twenty" 2, "mil" 3), and
    the words that may join them ("and", "y")."""

    digits: Mapping[str, int] = field(default_factory=dict)
    glue: frozenset[str] = frozenset()

    @classmethod
    def from_tables(cls, tables: Iterable[Mapping[str, object]]) -> NumberWords:
        digits: dict[str, int] = {}
        glue: set[str] = set()
        for table in tables:
            words = table.get("words", {})
            joins = table.get("glue", [])
            if not isinstance(words, Mapping) or not isinstance(joins, list):
                raise ValueError("[numbers]: expected words = {word = digits} and glue = [...]")
            for word, count in words.items():
                if not isinstance(count, int) or isinstance(count, bool) or not 0 < count < 10:
                    raise ValueError(f"[numbers.words] {word}: expected 1 to 9 digits")
                digits[fold(word)] = count
            glue.update(fold(str(w)) for w in joins)
        return cls(digits, frozenset(glue))

    @classmethod
    def load(cls, config_dir: str | Path) -> NumberWords:
        """The [numbers] tables of ``<config_dir>/keywords/*.toml``."""
        tables = []
        for path in sorted((Path(config_dir) / "keywords").glob("*.toml")):
            with path.open("rb") as f:
                numbers = tomllib.load(f).get("numbers", {})
            if not isinstance(numbers, Mapping):
                raise ValueError(f"{path}: [numbers] must be a table")
            tables.append(numbers)
        return cls.from_tables(tables)


@dataclass(frozen=True)
class NumberScan:
    """Where numbers stand in a text, and how many digits a reader has just read in a row
    at its end (``trailing``), to carry into the next text of the same conversation."""

    spans: list[tuple[int, int]]
    trailing: int


@dataclass
class _Run:
    start: int
    end: int
    digits: int
    leading: bool  # nothing but separators before it in the text
    trailing: bool = False  # nothing but separators after it


def _atoms(text: str, words: NumberWords) -> Iterable[tuple[str, int, int, int]]:
    """("digit" | "word" | "glue" | "gap", start, end, digits) pieces of ``text``: numerals
    of any script or style (superscript, circled, fullwidth, Arabic-Indic …), number
    words, joining words, and everything else (gaps between them, or other words)."""
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        value = _numeral(ch)
        if value is not None:
            yield "digit", i, i + 1, value
            i += 1
            continue
        if ch.isalpha() or unicodedata.category(ch).startswith("M"):
            j = i + 1
            while (
                j < n
                and _numeral(text[j]) is None
                and (text[j].isalpha() or unicodedata.category(text[j]).startswith("M"))
            ):
                j += 1
            key = fold(text[i:j])
            if key in words.digits:
                yield "word", i, j, words.digits[key]
            elif key in words.glue:
                yield "glue", i, j, 0
            elif key in _LOOKALIKE_DIGITS:
                yield "lookalike", i, j, 1
            else:
                yield "other", i, j, 0
            i = j
            continue
        j = i + 1
        while j < n and _numeral(text[j]) is None and not text[j].isalpha():
            j += 1
        yield "gap", i, j, 0
        i = j


def _numeral(ch: str) -> int | None:
    """How many digits ``ch`` writes, if it is a numeral (⑦ 1, ⑫ 2), else None."""
    if ch.isascii():
        return 1 if ch.isdigit() else None
    try:
        value = unicodedata.numeric(ch)
    except (TypeError, ValueError):
        return None
    if value != int(value) or not 0 <= value < 1000 or unicodedata.category(ch) == "Lo":
        return None  # fractions, large numerals, CJK ideographs read as words
    return len(str(int(value)))


def _runs(text: str, words: NumberWords) -> list[_Run]:
    runs: list[_Run] = []
    run: _Run | None = None
    pending_gap = 0  # separator characters since the last digit of the run
    seen_content = False
    for kind, start, end, digits in _atoms(text, words):
        if kind in ("digit", "word") or (kind == "lookalike" and run is not None):
            if run is not None and pending_gap <= _MAX_GAP:
                run.end, run.digits = end, run.digits + digits
            else:
                if run is not None:
                    runs.append(run)
                run = _Run(start, end, digits, leading=not seen_content)
            pending_gap = 0
            seen_content = True
        elif kind == "gap" or (kind == "glue" and run is not None):
            pending_gap += end - start if kind == "gap" else 1
        else:  # a word that is not a number: the run ends
            if run is not None:
                runs.append(run)
                run = None
            seen_content = True
            pending_gap = 0
    if run is not None:
        run.trailing = pending_gap <= _MAX_GAP
        runs.append(run)
    return runs


def scan_numbers(
    text: str,
    region: str | None = "US",
    *,
    words: NumberWords | None = None,
    carried: int = 0,
) -> NumberScan:
    """Where phone numbers stand in ``text`` — valid ones, and any run of MIN_DIGITS or
    more digits however written (number words, numerals of any script, separators such
    as ``_ , | .`` between them) — as non-overlapping (start, end) offsets in order.

    ``carried`` is how many digits in a row the reader read at the end of the previous
    text (``NumberScan.trailing``): a text that starts with more digits continues that
    number, so "718 555" then "0101" removes the "0101".

    >>> words = NumberWords({"seven": 1, "one": 1, "eight": 1, "five": 1, "oh": 1})
    >>> text = "call seven one eight, five five five, oh one oh one"
    >>> [text[a:b] for a, b in scan_numbers(text, words=words).spans]
    ['seven one eight, five five five, oh one oh one']
    >>> scan_numbers("my number is 718 555").trailing
    6
    >>> scan_numbers("0101", carried=6).spans
    [(0, 4)]
    """
    code = _check_region(region)
    words = words or NumberWords()
    spans = [(m.start, m.end) for m in PhoneNumberMatcher(text, code)]
    trailing = 0
    runs = _runs(text, words)
    for run in runs:
        seen = run.digits + (carried if run.leading else 0)
        removed = seen >= MIN_DIGITS
        if removed:
            spans.append((run.start, run.end))
        if run.trailing:
            # What the reader has read in a row at the end: a removed run shows nothing
            # of its own, but does not break the chain it continued.
            trailing = (carried if run.leading else 0) + (0 if removed else run.digits)
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return NumberScan(merged, trailing)


def without_numbers(text: str, *, words: NumberWords | None = None) -> str:
    """``text`` with every numeral removed, and number words that make up a number
    (for a name: it never needs a digit, and one typed there would head every text).

    >>> without_numbers("Rosa 347-555-0142")
    'Rosa '
    """
    for start, end in sorted(scan_numbers(text, None, words=words).spans, reverse=True):
        text = text[:start] + text[end:]
    return "".join(ch for ch in text if _numeral(ch) is None)


def find_number_spans(
    text: str, region: str | None = "US", *, words: NumberWords | None = None
) -> list[tuple[int, int]]:
    """Where phone numbers stand in ``text`` (see `scan_numbers`), for removing them
    before a message is shown to someone else.

    >>> text = "I'm at 718-555-0101, or 5550199, or 718|555|0102"
    >>> [text[a:b] for a, b in find_number_spans(text)]
    ['718-555-0101', '5550199', '718|555|0102']
    """
    return scan_numbers(text, region, words=words).spans


def mask(number: str, visible: int = 2) -> str:
    """A phone number with every digit but the last ``visible`` hidden.

    >>> mask("+17185550101")
    '•••••••••01'
    """
    digits = [ch for ch in number if ch.isdigit()]
    shown = max(0, min(visible, len(digits)))
    return _MASK * (len(digits) - shown) + "".join(digits[len(digits) - shown :])
