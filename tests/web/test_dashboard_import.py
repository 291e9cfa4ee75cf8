"""The dashboard's Import page: the same service as `mutualaid import`, for coordinators
and admins (not viewers), a preview that writes nothing, an import that is audited,
refusals said in the page's language, a spreadsheet bigger than MAX_CONTENT_LENGTH."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from mutualaid.models import AuditEvent, Offer, Person, Role
from tests.web.dashboard_helpers import logged_in

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "imports"


@pytest.fixture(autouse=True)
def places(runner) -> None:
    from mutualaid.cli import places_load

    runner.invoke(places_load, [])


def _post(client, name: str, go: str, kind: str = "volunteers", **form):
    data = {
        "kind": kind,
        "go": go,
        "file": (io.BytesIO((FIXTURES / name).read_bytes()), name),
        **form,
    }
    return client.post("/dashboard/import", data=data, content_type="multipart/form-data")


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_preview_then_import(app, session) -> None:
    coordinator = logged_in(app, session, Role.COORDINATOR)
    assert "Import a spreadsheet" in coordinator.get("/dashboard/import").get_data(as_text=True)
    preview = _post(coordinator, "google_forms_volunteers_en.csv", "preview")
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "nothing written" in page
    assert "4 to create" in page and "Rosa Díaz" in page
    assert _count(session, Person) == 0
    done = _post(coordinator, "google_forms_volunteers_en.csv", "import")
    assert "google_forms_volunteers_en.csv: imported" in done.get_data(as_text=True)
    assert _count(session, Offer) == 4
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "import.done")).one()
    assert event.actor_type == "coordinator" and event.detail["create"] == 4


def test_refused_rows_are_said_in_the_pages_language(app, session) -> None:
    coordinator = logged_in(app, session, Role.COORDINATOR)
    assert coordinator.get("/dashboard/import?lang=es").status_code == 200  # kept in a cookie
    page = _post(coordinator, "volunteers_bad_rows.csv", "import").get_data(as_text=True)
    assert "no se importó nada" in page and "categoría desconocida «Dog walking»" in page
    assert _count(session, Person) == 0


def test_a_file_it_cannot_read_is_said_and_nothing_written(app, session) -> None:
    coordinator = logged_in(app, session, Role.COORDINATOR)
    response = coordinator.post(
        "/dashboard/import",
        data={
            "kind": "volunteers",
            "go": "import",
            "file": (io.BytesIO(b"Name,Skills\nRosa,x\n"), "x.csv"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "No column for phone, location (the file has: Name, Skills)" in response.get_data(
        as_text=True
    )


def test_a_spreadsheet_bigger_than_a_form(app, session) -> None:
    rows = "".join(f"Person {i},(718) 555-{i % 100:04d},11216,Groceries\n" for i in range(3000))
    data = ("Name,Phone number,ZIP code,What can you help with?\n" + rows).encode()
    assert len(data) > app.config["MAX_CONTENT_LENGTH"]
    coordinator = logged_in(app, session, Role.COORDINATOR)
    response = coordinator.post(
        "/dashboard/import",
        data={"kind": "volunteers", "go": "preview", "file": (io.BytesIO(data), "big.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200 and "3000 rows" not in response.get_data(as_text=True)
    assert "skipped" in response.get_data(as_text=True)  # 100 numbers, many rows each


def test_viewers_cannot_import(app, session) -> None:
    viewer = logged_in(app, session, Role.VIEWER)
    assert viewer.get("/dashboard/import").status_code == 403
    assert _post(viewer, "google_forms_volunteers_en.csv", "import").status_code in (403, 413)
    assert _count(session, Person) == 0
    assert 'href="/dashboard/import"' not in viewer.get("/dashboard/").get_data(as_text=True)
