"""Phone numbers: E.164 from any common writing, numbers found in free text, masking."""

from __future__ import annotations

import pytest

from sms.phones import InvalidPhoneNumber, find_numbers, is_valid, mask, normalize


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
