"""A coordinator's morning in a real browser, against the real service: log in, find the
unmatched requests, preview a matching run, send it, assign one by hand, export CSV;
watch a proposal get accepted by SMS without reloading; screenshots of the main pages go
to test-artifacts/."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from mutualaid.adapters import sms_auth_token
from sms.signature import compute_signature
from tests.e2e.conftest import LiveServer, running_service, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.slow(seconds=45)]

EMAIL = "coord@example.org"
PASSWORD = "a long coordinator password"


@pytest.fixture(scope="module")
def quiet_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Like conftest's live_server (`python -m mutualaid.launcher`, web and worker, fresh
    SQLite), but the worker's own matching runs only once a day, so the coordinator's
    preview and send are what this test sees (not the worker racing them)."""
    with running_service(
        tmp_path_factory.mktemp("dash"),
        MUTUALAID_MATCH_INTERVAL_SECONDS="86400",
        MUTUALAID_MATCH_DEBOUNCE_SECONDS="86400",
    ) as server:
        created = subprocess.run(
            [sys.executable, "-m", "mutualaid", "create-user", EMAIL, "--role", "coordinator"],
            input=PASSWORD + "\n",
            env={**server.env, "MUTUALAID_ENV": "development"},
            cwd=server.log.parent,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert created.returncode == 0, created.stderr
        yield server


def _rows(database_url: str, sql: str, **params) -> list[dict]:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            return [dict(r) for r in conn.execute(sa.text(sql), params).mappings()]
    finally:
        engine.dispose()


def _text(server: LiveServer, sender: str, body: str) -> None:
    """An SMS arrives, signed as Twilio signs it for the console backend (a key derived from
    the SECRET_KEY the launcher generated)."""
    secret = (server.log.parent / "instance" / "secret_key").read_text().strip()
    token = sms_auth_token({"TWILIO_AUTH_TOKEN": "", "SECRET_KEY": secret})
    params = {
        "MessageSid": f"SM{uuid.uuid4().hex}",
        "AccountSid": "AC" + "0" * 32,
        "From": sender,
        "To": "+15005550006",
        "Body": body,
        "NumMedia": "0",
    }
    endpoint = server.url + "/sms/inbound"
    request = urllib.request.Request(
        endpoint,
        data=urllib.parse.urlencode(params).encode(),
        headers={"X-Twilio-Signature": compute_signature(token, endpoint, params)},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


def _confirm_from_phone(server: LiveServer, page, phone: str, table: str) -> None:
    """The person answers the text the form sent their phone ("YES 12345", shown on the
    page too), and the worker turns the submission into a row of ``table``."""
    import re
    import time

    answer = page.get_by_role("status").locator(".ref strong").inner_text()
    assert re.fullmatch(r"YES \d{5}", answer), answer
    before = _rows(server.database_url, f"SELECT count(*) AS n FROM {table}")[0]["n"]
    _text(server, "+1" + "".join(ch for ch in phone if ch.isdigit()), answer)
    deadline = time.monotonic() + 25
    while _rows(server.database_url, f"SELECT count(*) AS n FROM {table}")[0]["n"] == before:
        assert time.monotonic() < deadline, f"the confirmation of {phone} was not handled"
        time.sleep(0.2)


def _ask_for_groceries(page, url: str, phone: str) -> None:
    page.goto(url + "/request")
    page.get_by_label("Groceries").check()
    page.get_by_label("Anything the volunteer should know").fill("Milk <b>and</b> bread")
    page.get_by_label("Where, roughly?").fill("11216")
    page.get_by_label("Phone number").fill(phone)
    page.get_by_role("button", name="Send my request").click()
    page.wait_for_url("**/thanks")


def _offer_groceries(page, url: str, phone: str) -> None:
    page.goto(url + "/volunteer")
    page.get_by_label("Groceries").check()
    page.get_by_label("Where are you based?").fill("11216")
    page.get_by_label("How far can you go? (km)").select_option("8")
    page.get_by_label("How many tasks at once?").fill("1")
    page.get_by_label("Phone number").fill(phone)
    page.get_by_role("button", name="Sign me up").click()
    page.wait_for_url("**/thanks")


def test_a_coordinators_round(quiet_server, browser) -> None:
    url = quiet_server.url
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    try:
        for phone in ("(718) 555-0142", "(718) 555-0143"):
            _ask_for_groceries(page, url, phone)
            _confirm_from_phone(quiet_server, page, phone, "aid_requests")
        _offer_groceries(page, url, "718 555 0177")
        _confirm_from_phone(quiet_server, page, "718 555 0177", "offers")
        context.clear_cookies()

        # Log in (a wrong password first: one message, nothing learned).
        page.goto(url + "/dashboard/")
        page.wait_for_url("**/login**")
        page.get_by_label("Email").fill(EMAIL)
        page.get_by_label("Password").fill("not the password")
        page.get_by_role("button", name="Log in").click()
        assert "do not match an active account" in page.get_by_role("alert").inner_text()
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url("**/dashboard/")
        assert "open with no volunteer asked" in page.content()
        screenshot(page, "dashboard-overview")

        # Find the unmatched requests.
        page.get_by_role("link", name="Requests", exact=True).click()
        page.get_by_label("State").select_option("open")
        page.get_by_role("button", name="Filter").click()
        refs = page.locator("table tbody tr td a[href*='/dashboard/requests/']").all_inner_texts()
        assert len(refs) == 2
        body = page.content()
        assert "555-0142" not in body and "7185550142" not in body  # masked
        screenshot(page, "dashboard-requests")

        # Preview the next run: one pair, one unmatched with its reason; nothing sent.
        page.get_by_role("link", name="Matching").click()
        page.get_by_role("button", name="Preview the next run").click()
        heading = page.get_by_role("heading", name="Preview")
        assert "1 proposals, 1 unmatched" in heading.inner_text()
        assert _rows(quiet_server.database_url, "SELECT id FROM matches") == []
        screenshot(page, "dashboard-matching-preview")

        # Send it.
        page.get_by_role("button", name="Send the checked proposals").click()
        sent = page.locator(".notice[role=status]").inner_text()
        assert "Sent 1 of the 1 checked proposals as previewed" in sent
        proposed = _rows(quiet_server.database_url, "SELECT request_id, status FROM matches")
        assert [m["status"] for m in proposed] == ["proposed"]
        screenshot(page, "dashboard-matching-sent")

        # The volunteer answers YES by SMS (a signed webhook): the open request page shows
        # the acceptance by itself, without a reload.
        match = _rows(quiet_server.database_url, "SELECT request_id, code FROM matches")[0]
        page.goto(url + f"/dashboard/requests/{match['request_id']}")
        assert "proposed" in page.locator('[data-live="matches"]').inner_text()
        page.evaluate("window.notReloaded = true")
        _text(quiet_server, "+17185550177", f"YES {match['code']}")
        page.locator('[data-live="status"]').get_by_text("matched").wait_for(timeout=25_000)
        assert "accepted" in page.locator('[data-live="matches"]').inner_text()
        assert page.evaluate("window.notReloaded") is True
        screenshot(page, "dashboard-request-accepted-live")

        # A second volunteer signs up; assign the still unmatched request by hand.
        context.clear_cookies()
        _offer_groceries(page, url, "718 555 0178")
        _confirm_from_phone(quiet_server, page, "718 555 0178", "offers")
        page.goto(url + "/login")
        page.get_by_label("Email").fill(EMAIL)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url("**/dashboard/")
        waiting = _rows(
            quiet_server.database_url,
            "SELECT id, ref FROM aid_requests WHERE id NOT IN (SELECT request_id FROM matches)",
        )
        assert len(waiting) == 1
        page.goto(url + f"/dashboard/requests/{waiting[0]['id']}")
        assert waiting[0]["ref"] in page.title()
        choice = page.get_by_role("radio")
        assert choice.count() == 1 and " km" in page.locator("label.choice").inner_text()
        screenshot(page, "dashboard-request")
        page.get_by_label("They already agreed").check()  # told the coordinator on the phone
        page.get_by_role("button", name="Assign").click()
        assert "Assigned to volunteer" in page.locator(".notice[role=status]").inner_text()
        assigned = _rows(
            quiet_server.database_url,
            "SELECT status, km, assigned_by FROM matches WHERE request_id = :id",
            id=waiting[0]["id"],
        )
        assert assigned[0]["status"] == "accepted" and assigned[0]["assigned_by"] is not None

        # Export CSV (masked).
        page.get_by_role("link", name="Export").click()
        with page.expect_download() as download:
            page.get_by_role("link", name="Requests (CSV)").click()
        content = Path(download.value.path()).read_text()
        rows = list(csv.DictReader(io.StringIO(content)))
        assert [r["status"] for r in rows] == ["matched", "matched"]
        assert all(r["phone"].endswith(("42", "43")) and "555" not in r["phone"] for r in rows)

        for name in ("volunteers", "map", "figures", "audit"):
            page.goto(url + f"/dashboard/{name}")
            screenshot(page, f"dashboard-{name}")
    finally:
        context.close()
