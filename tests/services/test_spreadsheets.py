"""Reading the spreadsheets networks keep: encodings and delimiters sniffed, headers of
Google Forms exports (English and Spanish) mapped to fields, --map overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from mutualaid.services.errors import Refused
from mutualaid.services.spreadsheets import map_headers, parse_overrides, read_table

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "imports"


@pytest.mark.parametrize(
    ("name", "encoding", "delimiter", "rows", "first_header"),
    [
        ("google_forms_volunteers_en.csv", "utf-8", ",", 4, "Timestamp"),
        ("google_forms_volunteers_es.csv", "utf-8", ",", 3, "Marca temporal"),
        ("excel_requests_semicolon_bom.csv", "utf-8-sig", ";", 3, "Name"),
        ("requests_cp1252_es.csv", "cp1252", ",", 1, "Nombre"),
    ],
)
def test_real_exports_are_read_whatever_their_encoding_and_delimiter(
    name: str, encoding: str, delimiter: str, rows: int, first_header: str
) -> None:
    table = read_table((FIXTURES / name).read_bytes())
    assert (table.encoding, table.delimiter, len(table.rows)) == (encoding, delimiter, rows)
    assert table.headers[0] == first_header  # no BOM left on the first header
    assert all(len(row) == len(table.headers) for row in table.rows)


def test_a_quoted_cell_keeps_its_delimiters() -> None:
    table = read_table((FIXTURES / "excel_requests_semicolon_bom.csv").read_bytes())
    assert table.rows[0][4] == "Milk, eggs; bread"


def test_cp1252_text_is_read_as_written() -> None:
    table = read_table((FIXTURES / "requests_cp1252_es.csv").read_bytes())
    assert table.headers[1] == "Teléfono" and table.rows[0][0] == "María Núñez"


def test_utf16_from_excel_unicode_text() -> None:
    data = "Name\tPhone\r\nRosa\t718 555 0101\r\n".encode("utf-16")
    table = read_table(data)
    assert (table.encoding, table.delimiter, table.rows) == (
        "utf-16",
        "\t",
        [["Rosa", "718 555 0101"]],
    )


@pytest.mark.parametrize("data", [b"", b"\n\n", b"\xef\xbb\xbf"])
def test_an_empty_file_is_refused(data: bytes) -> None:
    with pytest.raises(Refused, match="empty"):
        read_table(data)


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Phone number", "phone"),
        ("Número de teléfono", "phone"),
        ("PHONE NUMBER (mobile, for texts)", "phone"),
        ("ZIP code", "location"),
        ("Código postal", "location"),
        ("What can you help with?", "categories"),
        ("What can you help with? (check all that apply)", "categories"),
        ("¿En qué puedes ayudar?", "categories"),
        ("How far can you travel?", "radius_km"),
        ("¿Qué tan lejos puedes ir?", "radius_km"),
        ("Languages", "language"),
        ("Idiomas", "language"),
        ("Timestamp", "timestamp"),
        ("Marca temporal", "timestamp"),
    ],
)
def test_volunteer_headers_people_use(header: str, field: str) -> None:
    assert map_headers([header], "volunteers").columns == {field: 0}


def test_unknown_columns_are_ignored_and_named() -> None:
    mapped = map_headers(["Name", "Favourite colour", "Phone"], "requests")
    assert mapped.columns == {"name": 0, "phone": 2}
    assert mapped.ignored == ["Favourite colour"]


def test_map_overrides_the_headers() -> None:
    overrides = parse_overrides(["Cell=phone", "Name=ignore"])
    mapped = map_headers(["Name", "Cell", "Barrio"], "requests", overrides=overrides)
    assert mapped.columns == {"phone": 1, "location": 2}


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        (["phone"], "COLUMN=field"),
        (["Cell=telephone_number"], "unknown field"),
        (["Mobile=phone"], "no column named"),
    ],
)
def test_a_bad_map_is_refused_with_why(pairs: list[str], message: str) -> None:
    with pytest.raises(Refused, match=message):
        map_headers(["Name", "Cell"], "requests", overrides=parse_overrides(pairs))
