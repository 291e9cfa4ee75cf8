"""Canary: texts from forty known phone numbers, SQL logging on, errors with numbers
in them, numbers as request ids — and no number in any log line, as text or as JSON."""

from __future__ import annotations

import json
import logging
import re

import pytest

from mutualaid import logs as app_logs
from mutualaid.worker.jobs import send_outbox
from sms.transport import FakeSender, SendError
from tests.sms_helpers import text

# ~140 texts with every SQL statement logged, twice over.
pytestmark = pytest.mark.slow(seconds=12)


class Collect(logging.Handler):
    """Every line as the app writes it, in its LOG_FORMAT."""

    def __init__(self, log_format: str) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(app_logs.formatter(log_format))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def app_config() -> dict:
    return {"LOG_LEVEL": "DEBUG", "SMS_RATE_LIMIT": 3}


@pytest.fixture
def logs(app):
    """Every line written twice, as text and as JSON (the two LOG_FORMATs)."""
    handlers = {name: Collect(name) for name in ("text", "json")}
    root = logging.getLogger()
    sql = logging.getLogger("sqlalchemy.engine")
    for handler in handlers.values():
        root.addHandler(handler)
    old = sql.level
    sql.setLevel(logging.INFO)  # every statement, as an operator debugging might turn on
    yield handlers
    sql.setLevel(old)
    for handler in handlers.values():
        root.removeHandler(handler)


def test_no_phone_number_reaches_a_log_line(app, client, session, logs) -> None:
    from mutualaid.cli import places_load

    app.test_cli_runner().invoke(places_load, [])
    numbers = [f"+1718555{100 + i:04d}" for i in range(24)] + [
        f"+1347555{100 + i:04d}" for i in range(16)
    ]
    bodies = [
        "need groceries 11216 call me at {n}",
        "offer rides 11216 5km",
        "HELP",
        "my number is {n} STOP texting",
        "START",
    ]
    for i, number in enumerate(numbers):
        for body in bodies[: 2 + i % 4]:
            assert text(client, app, number, body.format(n=number)).status_code == 200
    # A caller may send anything as its request id, a number too.
    for number in numbers[:5]:
        client.get("/healthz", headers={"X-Request-ID": number[1:]})
    sender = FakeSender()
    sender.fail_for(
        numbers[0], SendError.from_code(21211, f"The 'To' number {numbers[0]} is not valid")
    )
    while send_outbox(app, sender):
        pass
    # A crash with a number in its message.
    logging.getLogger("mutualaid.test").exception(
        "boom for %s", numbers[1], exc_info=ValueError(numbers[2])
    )

    assert len(logs["text"].lines) == len(logs["json"].lines) > 120
    assert all(json.loads(line)["message"] for line in logs["json"].lines)
    digits = {re.sub(r"\D", "", n)[-10:] for n in numbers}
    for line in logs["text"].lines + logs["json"].lines:
        flat = re.sub(r"\D", "", line)
        leaked = [d for d in digits if d in flat]
        assert not leaked, line[:300]
