"""A person asks for help and offers help in a real browser, against the real service."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from mutualaid.models.crypto import Cipher, parse_key
from tests.e2e.conftest import screenshot
from tests.e2e.test_dashboard_browser import _text  # a signed SMS to the service

pytestmark = [pytest.mark.e2e, pytest.mark.slow(seconds=9)]


def _one(database_url: str, sql: str, **params):
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(sql), params).mappings().one()
    finally:
        engine.dispose()


def _encrypted(database_url: str, value: str, column: str) -> str:
    """``value`` as stored, encrypted with the DATA_KEY the launcher generated."""
    instance = Path(database_url.removeprefix("sqlite:///")).parent
    return Cipher(parse_key((instance / "data_key").read_text())).encrypt(value, column)


def _eventually(database_url: str, sql: str, **params):
    """The one row ``sql`` finds once the worker has handled what was texted."""
    import time

    deadline = time.monotonic() + 25
    while True:
        try:
            return _one(database_url, sql, **params)
        except sa.exc.NoResultFound:
            assert time.monotonic() < deadline, sql
            time.sleep(0.2)


def test_request_form_in_a_browser_stores_a_located_request(live_server, page) -> None:
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="I need help").click()
    page.get_by_label("Pharmacy pickup").check()
    page.get_by_label("Anything the volunteer should know").fill("Insulin, ready at 5pm")
    page.get_by_label("Where, roughly?").fill("cerca de Fulton St")
    page.get_by_label("Today").check()
    page.get_by_label("Phone number").fill("(718) 555-0142")
    screenshot(page, "request-form")
    page.get_by_role("button", name="Send my request").click()

    page.wait_for_url("**/thanks")
    status = page.get_by_role("status")
    # Nothing is stored in that number's name until the phone confirms.
    assert "confirm it is your phone" in status.inner_text()
    answer = status.locator(".ref strong").inner_text()
    assert answer.startswith("YES ")
    screenshot(page, "request-thanks")
    count = "SELECT count(*) AS n FROM aid_requests"
    assert _one(live_server.database_url, count)["n"] == 0

    _text(live_server, "+17185550142", answer)  # the phone answers our text
    row = _eventually(
        live_server.database_url,
        "SELECT category, urgency, lat, lon, location_label, location_precision, flagged "
        "FROM aid_requests",
    )
    assert row["category"] == "pharmacy" and row["urgency"] == "urgent"
    assert row["location_label"] == "Fulton St & Nostrand Ave"
    assert row["location_precision"] == "place"
    assert row["lat"] == pytest.approx(40.68, abs=0.01) and not row["flagged"]


def test_errors_are_announced_and_nothing_typed_is_lost(live_server, page) -> None:
    page.goto(live_server.url + "/request?lang=es")
    page.get_by_label("Comestibles").check()
    page.get_by_label("Nombre").fill("Rosa")
    page.get_by_label("Número de teléfono").fill("12")
    page.get_by_role("button", name="Enviar mi pedido").click()

    alert = page.get_by_role("alert")
    assert "Revise el formulario" in alert.inner_text()
    assert "no parece un número de teléfono" in alert.inner_text()
    phone = page.get_by_label("Número de teléfono")
    assert phone.input_value() == "12"
    assert phone.get_attribute("aria-invalid") == "true"
    assert page.get_by_label("Nombre").input_value() == "Rosa"
    assert page.get_by_label("Comestibles").is_checked()
    screenshot(page, "request-errors-es")


def test_offer_form_in_a_browser_with_javascript_off(live_server, browser) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(live_server.url + "/volunteer")
        page.get_by_label("Groceries").check()
        page.get_by_label("Rides").check()
        page.get_by_label("Where are you based?").fill("11216")
        page.get_by_label("How far can you go? (km)").select_option("8")
        page.get_by_label("How many tasks at once?").fill("2")
        page.get_by_label("Phone number").fill("718 555 0177")
        page.get_by_role("button", name="Sign me up").click()
        page.wait_for_url("**/thanks")
        assert "confirm it is your phone" in page.content()
        answer = page.get_by_role("status").locator(".ref strong").inner_text()
    finally:
        context.close()
    _text(live_server, "+17185550177", answer)
    row = _eventually(
        live_server.database_url,
        "SELECT o.radius_km, o.capacity, o.location_precision, "
        "(SELECT count(*) FROM offer_categories c WHERE c.offer_id = o.id) AS n "
        "FROM offers o JOIN people p ON p.id = o.person_id WHERE p.phone = :phone",
        phone=_encrypted(live_server.database_url, "+17185550177", "people.phone"),
    )
    assert (row["radius_km"], row["capacity"], row["n"]) == (8.0, 2, 2)
    assert row["location_precision"] == "postcode"
