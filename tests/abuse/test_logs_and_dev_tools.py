"""Item 10: what the service prints and the developer's tools give nothing away outside
development, or to anyone but the developer at the machine."""

from __future__ import annotations

import io

import pytest

from mutualaid.adapters import build_sender
from tests.abuse.helpers import ROSA, VERA, accepted_task, volunteer
from tests.sms_helpers import text


def test_the_console_backend_prints_no_bodies_outside_development(app, client, session) -> None:
    """The default backend, in production mode, writes to a log: an address or a working
    proposal link printed there is readable by anyone who reads logs."""
    assert app.config["ENV"] == "production" and app.config["SMS_BACKEND"] == "console"
    vera = volunteer(session, VERA)
    accepted_task(session, ROSA, vera)
    session.commit()
    text(client, app, ROSA, "I am home now at 12 Canon Dr, door code 4417")

    from mutualaid.services.sending import OutboxSettings, send_due
    from mutualaid.unit_of_work import transaction

    printed = io.StringIO()
    sender = build_sender(app.config, stream=printed)
    report = send_due(transaction, sender, OutboxSettings.from_config(app.config, batch_size=50))
    assert report.sent >= 1
    log = printed.getvalue()
    assert "Canon" not in log and "4417" not in log, log
    assert "relay_from_requester" in log  # what was sent, by its template
    assert "1 segment" in log


class TestTheSimulator:
    @pytest.fixture
    def app_config(self) -> dict:
        return {"ENV": "development"}

    def test_is_not_reachable_from_another_machine(self, app, session) -> None:
        vera = volunteer(session, VERA)
        accepted_task(session, ROSA, vera)
        session.commit()
        text(app.test_client(), app, ROSA, "I am home now at 12 Canon Dr, door code 4417")
        remote = app.test_client()
        here = {"REMOTE_ADDR": "203.0.113.9"}
        page = remote.get("/dev/sms?phone=%2B17185550101", environ_base=here)
        assert page.status_code == 404
        assert "Canon" not in page.get_data(as_text=True)
        sent = remote.post("/dev/sms", data={"phone": ROSA, "body": "CANCEL"}, environ_base=here)
        assert sent.status_code == 404
        # From the developer's own machine it works.
        assert app.test_client().get("/dev/sms?phone=%2B17185550101").status_code == 200


def test_the_simulator_is_off_in_production(client) -> None:
    assert client.get("/dev/sms").status_code == 404
