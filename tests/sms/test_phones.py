"""Phone numbers: E.164 from any common writing, numbers found in free text, masking."""

from __future__ import annotations

from pathlib import Path

import pytest

from sms.phones import (
    InvalidPhoneNumber,
    NumberWords,
    find_numbers,
    is_valid,
    mask,
    normalize,
    scan_numbers,
    without_numbers,
)


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("(718) 555-0101", "US", "+17185550101"),
        ("718.555.0101", "US", "+17185550101"),
        ("7185550101", "US", "+17185550101"),
        ("1-718-555-0101", "US", "+17185550101"),
        ("+1 718 555 0101", "US", "+17185550101"),
        ("  +1 (347) 555-0199 ", "US", "+13475550199"),
        ("+1 718 555 0101", None, "+17185550101"),
        ("+52 55 1234 5678", "US", "+525512345678"),  # "+" ignores the default region
        ("011 52 55 1234 5678", "US", "+525512345678"),  # US international prefix
        ("55 1234 5678", "MX", "+525512345678"),
        ("612 34 56 78", "ES", "+34612345678"),
        ("612 34 56 78", "es", "+34612345678"),
        ("０２０ ７９４６ ０９５８", "GB", "+442079460958"),  # fullwidth digits
    ],
)
def test_normalize(raw: str, region: str | None, e164: str) -> None:
    assert normalize(raw, region=region) == e164
    assert is_valid(raw, region=region)


@pytest.mark.parametrize(
    ("raw", "region", "message"),
    [
        ("", "US", "empty phone number"),
        ("   ", "US", "empty phone number"),
        ("555-0101", "US", "'555-0101' is not a valid phone number for region US"),
        ("hello", "US", "'hello' is not a phone number for region US"),
        ("123", "US", "not a"),
        ("+1 555 555 5555", "US", "not a valid phone number"),
        ("718 555 0101", None, "no default region: start it with +"),
    ],
)
def test_invalid_numbers_raise_a_clear_value_error(
    raw: str, region: str | None, message: str
) -> None:
    with pytest.raises(InvalidPhoneNumber, match=message):
        normalize(raw, region=region)
    assert not is_valid(raw, region=region)
    assert issubclass(InvalidPhoneNumber, ValueError)


def test_unknown_region_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="unknown phone region 'XX'"):
        normalize("7185550101", region="XX")


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("call me 718.555.0101 thx", ["+17185550101"]),
        (
            "call me 718.555.0101 thx, or my son at +1 (347) 555-0199",
            ["+17185550101", "+13475550199"],
        ),
        ("(718) 555-0101 or 718-555-0101 again", ["+17185550101"]),
        ("need groceries 11216", []),
        ("YES 4821", []),
        ("meet at 40.6782,-73.9442 at 5pm", []),
        ("mi número es +52 55 1234 5678", ["+525512345678"]),
        ("", []),
    ],
)
def test_find_numbers(text: str, numbers: list[str]) -> None:
    assert find_numbers(text, region="US") == numbers


@pytest.mark.parametrize(
    ("number", "visible", "masked"),
    [
        ("+17185550101", 2, "•••••••••01"),
        ("+525512345678", 2, "••••••••••78"),
        ("+17185550101", 4, "•••••••0101"),
        ("+17185550101", 0, "•••••••••••"),
        ("(718) 555-0101", 2, "••••••••01"),
        ("+1", 2, "1"),
        ("", 2, ""),
    ],
)
def test_mask(number: str, visible: int, masked: str) -> None:
    assert mask(number, visible=visible) == masked


def test_mask_defaults_to_two_digits() -> None:
    assert mask("+17185550101") == "•••••••••01"


# --- numbers however they are written (the relay's filter) ------------------------------

WORDS = NumberWords.load(Path(__file__).resolve().parents[2] / "config")


@pytest.mark.parametrize(
    ("text", "removed"),
    [
        ("call 718-555-0101 thx", ["718-555-0101"]),
        ("seven one eight five five five zero one zero one", ["all"]),
        ("siete uno ocho, cinco cinco cinco, cero uno cero uno", ["all"]),
        ("seven1eight 555 oh one oh one", ["all"]),
        ("⁷¹⁸⁵⁵⁵⁰¹⁰¹", ["all"]),
        ("⑦①⑧-⑤⑤⑤-⓪①⓪①", ["all"]),
        ("❼❶❽❺❺❺⓿❶⓿❶", ["all"]),
        ("٧١٨٥٥٥٠١٠١", ["all"]),
        ("718_555_0101", ["all"]),
        ("718,555,0101", ["all"]),
        ("718|555|0101", ["all"]),
        ("7 1 8 . 5 5 5 . 0 1 0 1", ["all"]),
        ("7l8 555 O1O1", ["all"]),
        ("twenty one thirty four fifty six", ["all"]),
        ("door code 4417, apt 4B, 3rd floor", []),
        ("meet at 10:30 or 11:45 at 12 Canon Dr", []),
        ("I need two or three eggs and one loaf", []),
        ("YES 4821", []),
        ("", []),
    ],
)
def test_numbers_are_found_however_they_are_written(text: str, removed: list[str]) -> None:
    found = [text[a:b] for a, b in scan_numbers(text, words=WORDS).spans]
    assert found == ([text] if removed == ["all"] else removed)


@pytest.mark.parametrize(
    ("texts", "last_removed"),
    [
        (["my number is 718 555", "0101"], "0101"),
        (["718", "555", "0101"], "0101"),
        (["718 555", "0", "101"], "101"),  # a removed part does not break the chain
        (["I'm at 4B", "see you at 5"], None),
        (["718 555 then", "thanks", "0101"], None),  # a word in between breaks it
    ],
)
def test_a_number_split_over_texts_is_caught_in_the_text_that_completes_it(
    texts: list[str], last_removed: str | None
) -> None:
    carried = 0
    for text in texts:
        scan = scan_numbers(text, words=WORDS, carried=carried)
        carried = scan.trailing
    found = [text[a:b] for a, b in scan.spans]
    assert found == ([last_removed] if last_removed else [])


def test_number_words_come_from_every_language_file() -> None:
    assert WORDS.digits["seven"] == WORDS.digits["siete"] == 1
    assert WORDS.digits["mil"] == 3 and "y" in WORDS.glue


@pytest.mark.parametrize(
    "tables",
    [[{"words": {"seven": 0}}], [{"words": {"seven": "7"}}], [{"words": []}], [{"glue": "y"}]],
)
def test_bad_number_tables_are_refused(tables) -> None:
    with pytest.raises(ValueError, match=r"\[numbers"):
        NumberWords.from_tables(tables)


def test_without_numbers_leaves_a_name() -> None:
    assert without_numbers(
        "Rosa ⁷¹⁸ seven one eight five five five oh one", words=WORDS
    ).split() == ["Rosa"]
