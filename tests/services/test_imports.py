"""Importing a network's spreadsheet: real-looking exports (Google Forms in English and
Spanish, an Excel ; export with a BOM, cp1252, a file with bad rows) planned row by row,
imported all or nothing, matched by phone, idempotent; imported people wait for their
opt-in."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from mutualaid import adapters
from mutualaid.models import AidRequest, AuditEvent, Offer, Person, Urgency
from mutualaid.services.audit import Actor
from mutualaid.services.errors import Refused
from mutualaid.services.imports import ImportSettings, import_file
from tests import builders

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "imports"


@pytest.fixture(autouse=True)
def places(runner) -> None:
    from mutualaid.cli import places_load

    runner.invoke(places_load, [])


def _import(app, session, name: str, kind: str, data: bytes | None = None, **kwargs):
    report = import_file(
        session,
        data if data is not None else (FIXTURES / name).read_bytes(),
        kind,
        filename=name,
        settings=ImportSettings.from_config(app.config, app.extensions["categories"]),
        resolver=adapters.resolver(),
        actor=kwargs.pop("actor", Actor.system()),
        **kwargs,
    )
    session.commit()
    return report


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_a_google_forms_export_in_english(app, session) -> None:
    report = _import(app, session, "google_forms_volunteers_en.csv", "volunteers")
    assert report.applied and report.counts["create"] == 4 and not report.refused
    rosa = session.scalars(select(Person).where(Person.phone == "+17185550101")).one()
    offer = session.scalars(select(Offer).where(Offer.person_id == rosa.id)).one()
    assert (rosa.name, rosa.language, rosa.imported_from) == (
        "Rosa Díaz",
        "en",
        "google_forms_volunteers_en.csv",
    )
    assert offer.categories == ["groceries", "pharmacy"]
    assert offer.radius_km == pytest.approx(3.2)  # "2 miles"
    assert (offer.capacity, offer.availability) == (2, "Weekday evenings")
    assert offer.location_label == "11216 Brooklyn"
    mei = session.scalars(select(Person).where(Person.phone == "+17185550103")).one()
    mei_offer = session.scalars(select(Offer).where(Offer.person_id == mei.id)).one()
    assert mei_offer.categories == ["rides"] and mei_offer.radius_km == 10  # "Rides (I have a car)"


def test_a_google_forms_export_in_spanish(app, session) -> None:
    report = _import(app, session, "google_forms_volunteers_es.csv", "volunteers")
    assert report.counts["create"] == 3
    jose = session.scalars(select(Person).where(Person.phone == "+13475550112")).one()
    offer = session.scalars(select(Offer).where(Offer.person_id == jose.id)).one()
    assert jose.language == "es"  # "Español, Inglés": the first the network speaks
    assert offer.categories == ["errands", "meals"] and offer.location_label == "Crown Heights"


def test_an_excel_semicolon_export_of_requests_with_a_bom(app, session) -> None:
    report = _import(app, session, "excel_requests_semicolon_bom.csv", "requests")
    assert report.counts["create"] == 3
    # "Hot meals, Check-in call or visit": one request per need
    assert _count(session, AidRequest) == 4
    gloria = session.scalars(
        select(AidRequest).join(Person).where(Person.phone == "+17185550121")
    ).one()
    assert (gloria.category, gloria.urgency, gloria.details) == (
        "groceries",
        Urgency.URGENT,
        "Milk, eggs; bread",
    )


def test_a_cp1252_spanish_file(app, session) -> None:
    report = _import(app, session, "requests_cp1252_es.csv", "requests")
    assert report.encoding == "cp1252" and report.counts["create"] == 1
    (req,) = session.scalars(select(AidRequest)).all()
    assert req.category == "pharmacy" and req.requester.language == "es"


def test_a_dry_run_says_what_each_row_would_do_and_writes_nothing(app, session) -> None:
    report = _import(app, session, "volunteers_bad_rows.csv", "volunteers", dry_run=True)
    assert [(row.line, row.action) for row in report.rows] == [
        (2, "create"),
        (3, "refused"),
        (4, "refused"),
        (5, "refused"),
    ]
    reasons = [row.reasons for row in report.rows]
    assert "bad phone number" in reasons[1][0]
    assert reasons[2] == ["unknown category 'Dog walking'"]
    assert reasons[3] == ["unresolvable place 'Atlantis'"]
    assert (_count(session, Person), _count(session, Offer), _count(session, AuditEvent)) == (
        0,
        0,
        0,
    )
    assert "555" not in "\n".join(report.describe())  # no phone number in the report


def test_a_file_with_refused_rows_imports_nothing(app, session) -> None:
    report = _import(app, session, "volunteers_bad_rows.csv", "volunteers")
    assert not report.applied and len(report.refused) == 3
    assert _count(session, Person) == 0
    assert "nothing imported" in report.summary()


def test_skip_refused_imports_the_other_rows(app, session) -> None:
    report = _import(app, session, "volunteers_bad_rows.csv", "volunteers", skip_refused=True)
    assert report.applied and report.counts["create"] == 1 and _count(session, Offer) == 1


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("google_forms_volunteers_en.csv", "volunteers"),
        ("google_forms_volunteers_es.csv", "volunteers"),
        ("excel_requests_semicolon_bom.csv", "requests"),
    ],
)
def test_importing_twice_changes_nothing(app, session, name: str, kind: str) -> None:
    _import(app, session, name, kind)
    counts = (_count(session, Person), _count(session, Offer), _count(session, AidRequest))
    events = _count(session, AuditEvent)
    again = _import(app, session, name, kind)
    assert {a: n for a, n in again.counts.items() if n} == {"unchanged": len(again.rows)}
    assert (_count(session, Person), _count(session, Offer), _count(session, AidRequest)) == counts
    assert _count(session, AuditEvent) == events + 1  # only the import itself


def test_people_are_matched_by_phone_however_written(app, session) -> None:
    existing = builders.person(session, phone="+17185550101", name="Rosa")
    session.commit()
    _import(app, session, "google_forms_volunteers_en.csv", "volunteers")
    assert _count(session, Person) == 4
    assert session.scalars(select(Offer).where(Offer.person_id == existing.id)).one()


def test_a_volunteers_own_offer_changes_only_by_their_texts(app, session) -> None:
    own = builders.offer(
        session, person=builders.person(session, phone="+17185550101"), categories=("meals",)
    )
    session.commit()
    report = _import(app, session, "google_forms_volunteers_en.csv", "volunteers")
    assert report.rows[0].action == "unchanged"
    assert "their own offer" in report.rows[0].reasons[0]
    session.refresh(own)
    assert own.categories == ["meals"] and not own.person.awaiting_opt_in


def test_an_updated_sheet_updates_an_imported_offer_not_yet_confirmed(app, session) -> None:
    _import(app, session, "google_forms_volunteers_en.csv", "volunteers")
    data = (
        (FIXTURES / "google_forms_volunteers_en.csv").read_bytes().replace(b'"2 miles"', b'"4 km"')
    )
    report = _import(app, session, "google_forms_volunteers_en.csv", "volunteers", data=data)
    assert [row.action for row in report.rows] == ["update", "unchanged", "unchanged", "unchanged"]
    rosa = session.scalars(select(Offer).join(Person).where(Person.phone == "+17185550101")).one()
    assert rosa.radius_km == 4


def test_the_same_person_twice_in_a_file_counts_once(app, session) -> None:
    data = (
        b"Name,Phone number,ZIP code,What can you help with?\n"
        b"Rosa,(718) 555-0101,11216,Groceries\n"
        b'Rosa D,718-555-0101,11216,"Groceries, Errands"\n'
    )
    report = _import(app, session, "twice.csv", "volunteers", data=data)
    assert [row.action for row in report.rows] == ["skipped", "create"]
    offer = session.scalars(select(Offer)).one()
    assert offer.categories == ["errands", "groceries"]


def test_imported_people_wait_for_their_opt_in(app, session) -> None:
    _import(app, session, "google_forms_volunteers_en.csv", "volunteers")
    people = session.scalars(select(Person)).all()
    assert all(p.awaiting_opt_in and p.opt_in_source.startswith("import:") for p in people)


def test_requests_taken_by_phone_need_no_opt_in(app, session) -> None:
    actor = builders.coordinator(session)
    session.commit()
    _import(
        app,
        session,
        "excel_requests_semicolon_bom.csv",
        "requests",
        taken_by_phone=True,
        actor=actor,
    )
    people = session.scalars(select(Person)).all()
    assert people and all(not p.awaiting_opt_in and p.opted_in_at for p in people)
    assert all(p.opt_in_source == f"phone:coordinator:{actor.id}" for p in people)


def test_a_file_without_a_phone_column_is_refused_with_its_headers(app, session) -> None:
    with pytest.raises(Refused, match=r"no column for phone.*--map"):
        _import(
            app, session, "x.csv", "volunteers", data=b"Name,ZIP,Skills\nRosa,11216,Groceries\n"
        )


def test_the_import_is_audited_with_its_counts(app, session) -> None:
    _import(app, session, "google_forms_volunteers_en.csv", "volunteers")
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "import.done")).one()
    assert event.detail["create"] == 4 and event.detail["kind"] == "volunteers"
