"""Phone numbers: normalised to E.164, found inside free text, masked for display."""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberMatcher

__all__ = ["InvalidPhoneNumber", "find_numbers", "is_valid", "mask", "normalize"]

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


# Seven or more digits, possibly split by spaces, dots, dashes or brackets: a number
# the matcher would not call valid (no area code, a typo) is still someone's number.
_DIGIT_RUN = re.compile(r"\+?\(?\d(?:[\s.()\-]{0,2}\d){6,}")


def find_number_spans(text: str, region: str | None = "US") -> list[tuple[int, int]]:
    """Where phone numbers (valid ones, and any run of 7+ digits) stand in ``text``, as
    non-overlapping (start, end) offsets in order: for removing them before a message is
    shown to someone else.

    >>> text = "I'm at 718-555-0101, or 5550199"
    >>> [text[a:b] for a, b in find_number_spans(text)]
    ['718-555-0101', '5550199']
    """
    code = _check_region(region)
    spans = [(m.start, m.end) for m in PhoneNumberMatcher(text, code)]
    spans += [m.span() for m in _DIGIT_RUN.finditer(text)]
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def mask(number: str, visible: int = 2) -> str:
    """A phone number with every digit but the last ``visible`` hidden.

    >>> mask("+17185550101")
    '•••••••••01'
    """
    digits = [ch for ch in number if ch.isdigit()]
    shown = max(0, min(visible, len(digits)))
    return _MASK * (len(digits) - shown) + "".join(digits[len(digits) - shown :])
