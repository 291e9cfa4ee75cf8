"""Segment counting, exactly as carriers split: GSM-7 160/153, UCS-2 70/67, nothing straddles."""

from __future__ import annotations

import pytest

from sms.segments import GSM7_BASIC, GSM7_EXTENSION, Segments, segments

EMOJI = "😀"  # outside the BMP: two UTF-16 code units


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", Segments("GSM-7", 0, 0)),
        ("YES 4821", Segments("GSM-7", 8, 1)),
        ("a" * 160, Segments("GSM-7", 160, 1)),
        ("a" * 161, Segments("GSM-7", 161, 2)),
        ("a" * 306, Segments("GSM-7", 306, 2)),
        ("a" * 307, Segments("GSM-7", 307, 3)),
        ("a" * 459, Segments("GSM-7", 459, 3)),
        ("a" * 1600, Segments("GSM-7", 1600, 11)),
        # extension characters cost two septets
        ("^{}\\[~]|€", Segments("GSM-7", 18, 1)),
        ("€" * 80, Segments("GSM-7", 160, 1)),
        ("€" * 81, Segments("GSM-7", 162, 2)),
        ("a" * 159 + "€", Segments("GSM-7", 161, 2)),
        # an escape sequence never straddles two parts: 152 + [€ moves] -> 3 parts, not 2
        ("a" * 152 + "€" + "a" * 152, Segments("GSM-7", 306, 3)),
        # Spanish letters in the GSM-7 alphabet
        ("¿Niño? ¡Sí, señor! é ü Ñ", Segments("UCS-2", 24, 1)),  # í is not GSM-7
        ("¿Niño? ¡Si, señor! é ü Ñ à ò ù ì è Ç Ø å ß Æ", Segments("GSM-7", 44, 1)),
        ("Ayuda para el niño", Segments("GSM-7", 18, 1)),
        ("Tarea lista. ¡Gracias!\n", Segments("GSM-7", 23, 1)),
        # one character outside GSM-7 turns the whole message into UCS-2
        ("á" * 70, Segments("UCS-2", 70, 1)),
        ("á" * 71, Segments("UCS-2", 71, 2)),
        ("á" * 134, Segments("UCS-2", 134, 2)),
        ("á" * 135, Segments("UCS-2", 135, 3)),
        ("a" * 69 + "’", Segments("UCS-2", 70, 1)),
        ("a" * 70 + "’", Segments("UCS-2", 71, 2)),
        ("Thanks — see you", Segments("UCS-2", 16, 1)),
        ("tab\there", Segments("UCS-2", 8, 1)),
        ("ç", Segments("UCS-2", 1, 1)),
        # emoji count two code units
        (EMOJI, Segments("UCS-2", 2, 1)),
        (EMOJI * 35, Segments("UCS-2", 70, 1)),
        (EMOJI * 36, Segments("UCS-2", 72, 2)),
        ("👍🏽", Segments("UCS-2", 4, 1)),
        ("❤", Segments("UCS-2", 1, 1)),
        # a surrogate pair never straddles two parts: 66 + [😀 moves] -> 3 parts, not 2
        ("a" * 66 + EMOJI + "a" * 66, Segments("UCS-2", 134, 3)),
        ("ЅТОР", Segments("UCS-2", 4, 1)),
        ("مرحبا", Segments("UCS-2", 5, 1)),
    ],
)
def test_segments(text: str, expected: Segments) -> None:
    assert segments(text) == expected


def test_the_alphabets() -> None:
    assert len(GSM7_BASIC) == 127  # 128 positions, one of them the escape
    assert frozenset("\f^{}\\[~]|€") == GSM7_EXTENSION
    assert not GSM7_BASIC & GSM7_EXTENSION
    assert set("ñéü¿¡") <= GSM7_BASIC
    assert not set("áíóú’“”") & GSM7_BASIC


@pytest.mark.parametrize("length", [1, 70, 152, 153, 154, 160, 161, 305, 306, 307, 1000])
def test_gsm_count_without_extension_matches_the_formula(length: int) -> None:
    count = 1 if length <= 160 else -(-length // 153)
    assert segments("x" * length).count == count


@pytest.mark.parametrize("length", [1, 66, 67, 68, 70, 71, 134, 135, 500])
def test_ucs2_count_without_pairs_matches_the_formula(length: int) -> None:
    count = 1 if length <= 70 else -(-length // 67)
    assert segments("й" * length).count == count
