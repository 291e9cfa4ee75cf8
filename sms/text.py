"""Text normalisation for SMS bodies: cleaning, look-alike folding, tokens and edit distance."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = [
    "Token",
    "clean",
    "fold",
    "prepare",
    "squeeze",
    "tokenize",
    "within_one_edit",
]

# Letters from other scripts that render like Latin letters. NFKC already
# folds fullwidth and mathematical forms; these it leaves alone. Keys are
# checked after NFKD, so precomposed letters (Ё, Ї) arrive as base + mark.
_CONFUSABLES = {
    # Cyrillic
    "А": "a", "а": "a", "В": "b", "Е": "e", "е": "e", "К": "k", "к": "k",
    "М": "m", "м": "m", "Н": "h", "һ": "h", "Һ": "h", "О": "o", "о": "o",
    "Р": "p", "р": "p", "С": "c", "с": "c", "Т": "t", "т": "t", "У": "y",
    "у": "y", "Х": "x", "х": "x", "Ѕ": "s", "ѕ": "s", "І": "i", "і": "i",
    "Ј": "j", "ј": "j", "Ԁ": "d", "ԁ": "d", "Ԛ": "q", "ԛ": "q", "Ԝ": "w",
    "ԝ": "w", "Ү": "y", "ү": "y", "Ӏ": "l", "ӏ": "l", "Ь": "b", "г": "r",
    "п": "n", "ɡ": "g",
    # Greek
    "Α": "a", "α": "a", "Β": "b", "β": "b", "Ε": "e", "ε": "e", "Ζ": "z",
    "Η": "h", "Ι": "i", "ι": "i", "Κ": "k", "κ": "k", "Μ": "m", "Ν": "n",
    "ν": "v", "Ο": "o", "ο": "o", "Ρ": "p", "ρ": "p", "Τ": "t", "τ": "t",
    "Υ": "y", "υ": "u", "Χ": "x", "χ": "x", "ω": "w", "ϲ": "c", "Ϲ": "c",
    "Ϳ": "j", "ϳ": "j",
    # Latin oddities
    "ı": "i", "ȷ": "j", "ʟ": "l", "ɴ": "n", "ᴀ": "a", "ʙ": "b", "ᴄ": "c",
    "ᴅ": "d", "ᴇ": "e", "ʜ": "h", "ɪ": "i", "ᴊ": "j", "ᴋ": "k", "ᴍ": "m",
    "ᴏ": "o", "ᴘ": "p", "ʀ": "r", "ꜱ": "s", "ᴛ": "t", "ᴜ": "u", "ᴠ": "v",
    "ᴡ": "w", "ʏ": "y", "ᴢ": "z",
}  # fmt: skip
_CONFUSABLE_TABLE = str.maketrans(_CONFUSABLES)
_BEFORE_CASE = str.maketrans(
    {k: v for k, v in _CONFUSABLES.items() if not unicodedata.name(k, "").startswith("CYRILLIC")}
)
_APOSTROPHES = str.maketrans("", "", "'’‘`´")

# A number with decimal or list separators ("2.5km", "1,3", "40.7") or a word,
# possibly with inner apostrophes ("don't"); or any single non-space symbol,
# of which only pictographs (emoji) are kept.
# Chinese and Japanese write without spaces: each ideograph or kana is a token, and a
# keyword of two characters ("需要") is a phrase of two. The vowel signs and other marks
# of Bengali, Arabic, Hindi … belong to their word (Python's \w leaves them out).
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"


def _mark_class() -> str:
    marks = [chr(c) for c in range(0x300, 0x10000) if unicodedata.category(chr(c))[0] == "M"]
    ranges: list[list[int]] = []
    for ch in marks:
        if ranges and ord(ch) == ranges[-1][1] + 1:
            ranges[-1][1] = ord(ch)
        else:
            ranges.append([ord(ch), ord(ch)])
    return "".join(f"\\u{a:04x}-\\u{b:04x}" if a != b else f"\\u{a:04x}" for a, b in ranges)


_WORD = rf"(?:(?![{_CJK}])[\w{_mark_class()}])"
_TOKEN_RE = re.compile(rf"[{_CJK}]|\d+(?:[.,]\d+)+[^\W\d_]*|{_WORD}+(?:['’]{_WORD}+)*|[^\w\s]")
_NUMBER_THEN_LETTERS = re.compile(r"^(\d+(?:[.,]\d+)*)([^\W\d_]+)$")
_LETTERS_THEN_NUMBER = re.compile(r"^([^\W\d_]+)(\d+)$")
_LEET_ZERO = re.compile(r"^[a-z0]*[a-z][a-z0]*[a-z][a-z0]*$")
_WHITESPACE = re.compile(r"\s+")
_BREAK_CHARS = frozenset("!?;\n")
# A full stop after these is an abbreviation inside an address, not the end
# of a sentence: "St. Marks Pl", "Av. Central".
_ABBREVIATIONS = frozenset(
    {"st", "ave", "av", "avda", "rd", "dr", "blvd", "pl", "mt", "ln", "ct", "sq", "pkwy", "hwy"}
    | {"apt", "ste", "jr", "sr", "ft", "e", "w", "n", "s", "c", "col"}
)


def clean(body: str) -> str:
    """The body as a person would read it: control characters dropped, whitespace collapsed.

    Format characters (zero-width spaces, direction marks) are kept here so
    the text stays faithful for relaying; `prepare` drops them for matching.

    >>> clean("  need\\x00 food\\r\\n 11216 ")
    'need food 11216'
    """
    kept = [
        " " if ch in "\t\n\r\v\f" else ch
        for ch in body
        if ch in "\t\n\r\v\f" or unicodedata.category(ch) not in ("Cc", "Cs", "Co")
    ]
    return _WHITESPACE.sub(" ", "".join(kept)).strip()


def prepare(text: str) -> str:
    """NFKC with format characters removed: what tokens are cut from.

    >>> prepare("ＳＴＯＰ")
    'STOP'
    """
    without_format = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    return unicodedata.normalize("NFKC", without_format)


def fold(word: str) -> str:
    """The matching key of a word: look-alikes read as Latin, case, accents and apostrophes gone.

    >>> fold("ЅТОР"), fold("Sí"), fold("don’t"), fold("NIÑOS"), fold("st0p")
    ('stop', 'si', 'dont', 'ninos', 'stop')
    """
    # Cyrillic look-alikes after the case: a Russian word reads the same in capitals
    # ("НУЖНО") as in small letters ("нужно"); Greek ones before it (Ν is N, ν is v).
    decomposed = unicodedata.normalize("NFKD", word).translate(_BEFORE_CASE)
    decomposed = decomposed.casefold().translate(_CONFUSABLE_TABLE)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    key = bare.casefold().translate(_APOSTROPHES)
    if "0" in key and _LEET_ZERO.match(key):
        key = key.replace("0", "o")
    return key


def squeeze(word: str) -> str:
    """Collapse repeated letters, so elongated words compare equal ("yesss", "nooo").

    >>> squeeze("yesssss"), squeeze("noo")
    ('yes', 'no')
    """
    return re.sub(r"(.)\1+", r"\1", word)


def within_one_edit(a: str, b: str) -> bool:
    """True when a and b differ by exactly one insertion, deletion, substitution or swap.

    >>> within_one_edit("yse", "yes"), within_one_edit("stpo", "stop"), within_one_edit("ok", "ok")
    (True, True, False)
    """
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        if len(diff) == 1:
            return True
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    short, long = (a, b) if len(a) < len(b) else (b, a)
    for i, ch in enumerate(short):
        if ch != long[i]:
            return short[i:] == long[i + 1 :]
    return True


@dataclass(frozen=True, slots=True)
class Token:
    """A word, number or emoji of a prepared text, with its place in that text.

    `raw` is the text as written, `key` its folded form for matching, and
    `broken` is true when sentence punctuation (! ? ; or a full stop that
    does not end an abbreviation like "St.") or a line break separates it
    from the token before; `paused` when that or a comma does.
    """

    raw: str
    key: str
    start: int
    end: int
    broken: bool = False
    paused: bool = False

    @property
    def is_number(self) -> bool:
        return self.key.replace(".", "").replace(",", "").isdigit()

    @property
    def is_emoji(self) -> bool:
        return len(self.key) == 1 and unicodedata.category(self.key) == "So"


def tokenize(prepared: str) -> list[Token]:
    """Cut a prepared text into words, numbers and emoji.

    Digits glued to letters are separated ("5km" -> "5", "km"; "yes4821" ->
    "yes", "4821"); other punctuation is dropped.

    >>> [t.key for t in tokenize("YES4821!! 5km, don't 👍")]
    ['yes', '4821', '5', 'km', 'dont', '👍']
    """
    tokens: list[Token] = []
    last_end = 0
    for m in _TOKEN_RE.finditer(prepared):
        raw = m.group()
        is_word = raw[0].isalnum() or raw[0] == "_" or unicodedata.category(raw[0])[0] == "M"
        if not is_word and unicodedata.category(raw[0]) != "So":
            continue
        gap = prepared[last_end : m.start()]
        broken = bool(tokens) and (
            any(ch in _BREAK_CHARS for ch in gap)
            or ("." in gap and tokens[-1].key not in _ABBREVIATIONS)
        )
        paused = broken or (bool(tokens) and "," in gap)
        last_end = m.end()
        for part, offset in _split_glued(raw):
            start = m.start() + offset
            tokens.append(Token(part, fold(part), start, start + len(part), broken, paused))
            broken = paused = False
    return tokens


def _split_glued(raw: str) -> list[tuple[str, int]]:
    for pattern in (_NUMBER_THEN_LETTERS, _LETTERS_THEN_NUMBER):
        m = pattern.match(raw)
        if m:
            return [(m.group(1), 0), (m.group(2), m.start(2))]
    return [(raw, 0)]
