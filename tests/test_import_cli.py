"""`mutualaid import volunteers|requests FILE.csv`: the dry run's row-by-row report, the
import's counts, refusal of a file with bad rows (exit status 1, nothing written), --map."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from mutualaid.cli import import_, places_load
from mutualaid.models import Offer, Person

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "imports"


@pytest.fixture(autouse=True)
def places(runner) -> None:
    runner.invoke(places_load, [])


def _people(session) -> int:
    return session.scalar(select(func.count()).select_from(Person))


def test_dry_run_then_import_then_again(runner, session) -> None:
    path = str(FIXTURES / "google_forms_volunteers_en.csv")
    dry = runner.invoke(import_, ["volunteers", path, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert (
        "line 2: create — Rosa Díaz · groceries, pharmacy · 11216 Brooklyn · 3.2 km" in dry.output
    )
    assert "dry run: nothing written" in dry.output and _people(session) == 0
    done = runner.invoke(import_, ["volunteers", path])
    assert done.exit_code == 0 and "4 created" in done.output and "imported." in done.output
    again = runner.invoke(import_, ["volunteers", path])
    assert again.exit_code == 0 and "0 created, 0 updated, 4 unchanged" in again.output
    assert _people(session) == 4


def test_a_file_with_bad_rows_is_refused_whole(runner, session) -> None:
    result = runner.invoke(import_, ["volunteers", str(FIXTURES / "volunteers_bad_rows.csv")])
    assert result.exit_code == 1
    assert "line 3: refused (bad phone number" in result.output
    assert "line 4: refused (unknown category 'Dog walking')" in result.output
    assert "line 5: refused (unresolvable place 'Atlantis')" in result.output
    assert "nothing imported" in result.output and _people(session) == 0


def test_map_names_a_column_by_hand(runner, session, tmp_path) -> None:
    sheet = tmp_path / "sheet.csv"
    sheet.write_text("Who,Digits,Where,Skills\nRosa,718 555 0101,11216,Groceries\n")
    bare = runner.invoke(import_, ["volunteers", str(sheet)])
    assert bare.exit_code == 1 and "no column for phone, location" in bare.output
    mapped = runner.invoke(
        import_,
        [
            "volunteers",
            str(sheet),
            "--map",
            "Digits=phone",
            "--map",
            "Where=location",
            "--map",
            "Skills=categories",
            "--map",
            "Who=name",
        ],
    )
    assert mapped.exit_code == 0, mapped.output
    assert session.scalars(select(Offer)).one().person.name == "Rosa"


def test_requests_taken_by_phone(runner, session) -> None:
    path = str(FIXTURES / "excel_requests_semicolon_bom.csv")
    result = runner.invoke(import_, ["requests", path, "--taken-by-phone"])
    assert result.exit_code == 0, result.output
    assert not any(p.awaiting_opt_in for p in session.scalars(select(Person)))
    wrong = runner.invoke(import_, ["volunteers", path, "--taken-by-phone"])
    assert wrong.exit_code == 2
