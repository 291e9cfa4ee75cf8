"""Journeys of issue 14 end to end, in Chromium against the real service (web and worker):
a request that starts without a location and ends matched; review-first matching, where
the worker prepares a preview and a coordinator sends it."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import LiveServer, dashboard_pages, running_service, screenshot
from tests.e2e.test_dashboard_browser import EMAIL, PASSWORD, _rows, _text

pytestmark = [pytest.mark.e2e, pytest.mark.slow(seconds=20), pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The service with its worker, whose own matching runs wait a day: what a coordinator
    does is what the test sees."""
    with running_service(
        tmp_path_factory.mktemp("journeys"),
        MUTUALAID_MATCH_INTERVAL_SECONDS="86400",
        MUTUALAID_MATCH_DEBOUNCE_SECONDS="86400",
    ) as live:
        created = subprocess.run(
            [sys.executable, "-m", "mutualaid", "create-user", EMAIL, "--role", "coordinator"],
            input=PASSWORD + "\n",
            env={**live.env, "MUTUALAID_ENV": "development"},
            cwd=live.log.parent,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert created.returncode == 0, created.stderr
        yield live


class Phone:
    """Someone texting the service; what it queued for them, by template (bodies and
    numbers are encrypted at rest, so they are told apart by their person id)."""

    def __init__(self, server: LiveServer, number: str) -> None:
        self.server, self.number, self.person_id = server, number, None

    def text(self, body: str, expect: str, timeout: float = 30) -> None:
        before = len(self.replies())
        _text(self.server, self.number, body)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.person_id is None:
                # The text just sent is the latest inbound; handled, it names its sender.
                rows = _rows(
                    self.server.database_url,
                    "SELECT person_id FROM messages WHERE direction = 'inbound'"
                    " ORDER BY id DESC LIMIT 1",
                )
                self.person_id = rows[0]["person_id"]
            # A new number's first text is answered after the carrier notice (first_notice).
            new = [t for t in self.replies()[before:] if t != "first_notice"]
            if new:
                assert new[0] == expect, (body, new)
                return
            time.sleep(0.2)
        pytest.fail(f"no reply to {body!r}")

    def replies(self) -> list[str]:
        if self.person_id is None:
            return []
        rows = _rows(
            self.server.database_url,
            "SELECT template FROM messages WHERE direction = 'outbound' AND person_id = :id"
            " ORDER BY id",
            id=self.person_id,
        )
        return [r["template"] for r in rows]

    def wait_for(self, template: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while template not in self.replies():
            if time.monotonic() > deadline:
                pytest.fail(f"{template} never sent: {self.replies()}")
            time.sleep(0.2)


def login(page, url: str) -> None:
    page.goto(url + "/login")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/dashboard/")


def test_a_request_without_a_location_ends_matched(server, page) -> None:
    """By SMS the place is asked once more and still not found; the coordinator finds it
    in the gazetteer from the request page (on a phone), assigns the volunteer, and the
    request is matched."""
    volunteer = Phone(server, "+17185550177")
    volunteer.text("offer groceries 11216 5km", "offer_confirmed")
    rosa = Phone(server, "+17185550150")
    rosa.text("necesito comida", "need_ask_location")
    rosa.text("cerca de Nostrand", "need_location_again")
    rosa.text("por el parque", "need_no_location_stored")
    (req,) = _rows(server.database_url, "SELECT id, ref, flagged, lat FROM aid_requests")
    assert req["flagged"] and req["lat"] is None

    login(page, server.url)
    page.goto(server.url + f"/dashboard/requests/{req['id']}")
    assert "needs a location" in page.get_by_role("note").inner_text()
    assert page.get_by_role("radio").count() == 0
    screenshot(page, "journey-request-needs-location")
    place = page.get_by_label("Place", exact=True)
    place.fill("Crown")
    options = page.locator("#gazetteer option")
    assert "Crown Heights" in options.evaluate_all("os => os.map(o => o.value)")
    place.fill("Crown Heights")
    page.get_by_role("button", name="Save").click()
    assert "Request updated" in page.locator(".notice[role=status]").inner_text()
    assert page.get_by_role("note").count() == 0  # no longer flagged
    assert "Crown Heights" in page.locator("dl").inner_text()

    # Now the volunteer is within reach: assign by hand, which asks them by SMS first.
    assert page.get_by_role("radio").count() == 1
    page.get_by_role("button", name="Assign").click()
    assert "Proposed to volunteer" in page.locator(".notice[role=status]").inner_text()
    volunteer.wait_for("proposal")
    (match,) = _rows(server.database_url, "SELECT code, status FROM matches")
    assert match["status"] == "proposed"
    volunteer.text(f"YES {match['code']}", "accepted_volunteer")
    rosa.wait_for("accepted_requester_unnamed")
    page.locator('[data-live="status"]').get_by_text("matched").wait_for(timeout=25_000)
    screenshot(page, "journey-request-placed-and-matched")


@pytest.fixture(scope="module")
def review_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """MATCH_MODE = review, the worker's runs soon after each change."""
    with running_service(
        tmp_path_factory.mktemp("review"),
        MUTUALAID_MATCH_MODE="review",
        MUTUALAID_MATCH_INTERVAL_SECONDS="86400",
        MUTUALAID_MATCH_DEBOUNCE_SECONDS="1",
    ) as live:
        created = subprocess.run(
            [sys.executable, "-m", "mutualaid", "create-user", EMAIL, "--role", "coordinator"],
            input=PASSWORD + "\n",
            env={**live.env, "MUTUALAID_ENV": "development"},
            cwd=live.log.parent,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert created.returncode == 0, created.stderr
        yield live


def test_review_mode_the_worker_prepares_a_coordinator_sends(review_server, page) -> None:
    server = review_server
    volunteer = Phone(server, "+17185550188")
    volunteer.text("offer groceries 11216 5km", "offer_confirmed")
    rosa = Phone(server, "+17185550151")
    rosa.text("need groceries 11216", "need_confirmed")
    deadline = time.monotonic() + 60
    while not _rows(
        server.database_url,
        "SELECT id FROM matching_runs WHERE trigger = 'review' AND preview IS NOT NULL"
        " AND requests_considered = 1 AND volunteers_considered = 1",
    ):
        assert time.monotonic() < deadline, "the worker prepared no preview"
        time.sleep(0.5)
    assert _rows(server.database_url, "SELECT id FROM matches") == []  # nothing proposed

    login(page, server.url)
    page.get_by_role("link", name="Matching").click()
    assert "Review mode" in page.get_by_role("note").first.inner_text()
    assert "Prepared by the worker" in page.content()
    heading = page.get_by_role("heading", name="Preview")
    assert "1 proposals, 0 unmatched" in heading.inner_text()
    screenshot(page, "journey-review-prepared")
    page.get_by_role("button", name="Send the checked proposals").click()
    assert "Sent 1 of the 1 checked proposals" in page.locator(".notice[role=status]").inner_text()
    volunteer.wait_for("proposal")
    (match,) = _rows(server.database_url, "SELECT code FROM matches")
    volunteer.text(f"YES {match['code']}", "accepted_volunteer")
    rosa.wait_for("accepted_requester_unnamed")
    (req,) = _rows(server.database_url, "SELECT status FROM aid_requests")
    assert req["status"] == "matched"


def test_a_person_asking_for_a_person_is_answered_through_a_thread(server, page) -> None:
    """HUMAN puts them in the overview's queue; the coordinator texts them from their page,
    their reply reaches the page (not "didn't understand"), and "handled" closes it."""
    sam = Phone(server, "+17185550160")
    sam.text("need a ride 11216", "need_confirmed")
    sam.text("HUMAN", "human_ack")
    login(page, server.url)
    queue = page.locator("section[aria-labelledby=humans-h]")
    assert "Asked for a person (1)" in queue.inner_text()
    assert "Rides" in queue.inner_text()  # linked to their request
    queue.get_by_role("link", name="Someone").click()
    page.wait_for_url("**/dashboard/people/**")
    page.get_by_label("Text this person").fill("Hi, this is Ana from the network. How can I help?")
    page.get_by_role("button", name="Send the text").click()
    assert "queued" in page.locator(".notice[role=status]").inner_text().lower()
    _text(server, sam.number, "my landlord turned off the heat, can you help")
    deadline = time.monotonic() + 30
    while "thread.replied" not in {
        r["action"] for r in _rows(server.database_url, "SELECT action FROM audit_events")
    }:
        assert time.monotonic() < deadline, "the reply never reached the thread"
        time.sleep(0.3)
    assert sam.replies()[-1] != "unknown"  # no "didn't understand"
    page.reload()
    page.get_by_role("button", name="Show contact details").click()
    thread = page.locator("#thread")
    assert "landlord turned off the heat" in thread.inner_text()
    assert "How can I help?" in thread.inner_text()
    screenshot(page, "journey-thread")
    thread.get_by_role("button", name="Mark handled").click()
    assert "Marked handled" in page.locator(".notice[role=status]").inner_text()
    page.goto(server.url + "/dashboard/")
    assert (
        "Asked for a person (0)" in page.locator("section[aria-labelledby=humans-h]").inner_text()
    )
    sam.text("blah blah", "unknown")  # commands again


def test_the_dashboard_fits_a_phone(server, page) -> None:
    """At 390 px no page scrolls sideways (wide tables scroll in their own box, filters
    stack); each page's screenshot goes to test-artifacts/phone-*.png."""
    assert page.viewport_size["width"] == 390
    Phone(server, "+17185550190").text("offer meals groceries 11238 3km", "offer_confirmed")
    Phone(server, "+17185550191").text("need hot meals 11238 urgent", "need_confirmed")
    page.goto(server.url + "/login")
    pages = {"login": "/login"}
    login(page, server.url)
    (req,) = _rows(server.database_url, "SELECT max(id) AS id FROM aid_requests")
    (offer,) = _rows(
        server.database_url, "SELECT id, person_id FROM offers ORDER BY id DESC LIMIT 1"
    )
    pages |= dashboard_pages(req["id"], offer["id"], offer["person_id"])
    too_wide = {}
    for name, path in pages.items():
        response = page.goto(server.url + path, wait_until="load")
        assert response.ok, (path, response.status)
        width = page.evaluate("document.documentElement.scrollWidth")
        screenshot(page, f"phone-{name}")
        if width > 390:
            too_wide[name] = width
    page.goto(server.url + "/dashboard/matching")
    page.get_by_role("button", name="Preview the next run").click()
    page.get_by_role("heading", name="Preview").wait_for()
    page.wait_for_load_state("load")  # its stylesheet applied before measuring
    width = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate(
        "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 391"
        " && !e.closest('.scroll')).map(e => e.tagName + '.' + e.className).slice(0, 8)"
    )
    screenshot(page, "phone-matching-preview")
    if width > 390:
        too_wide["matching-preview"] = (width, wide)
    assert too_wide == {}
    # The wide tables scroll inside their box instead.
    page.goto(server.url + "/dashboard/requests")
    box = page.locator(".scroll").first
    assert box.evaluate("e => getComputedStyle(e).overflowX") == "auto"
    assert page.request.get(server.url + "/favicon.ico").ok
