"""Canary: hundreds of texts with known phone numbers, SQL logging on, errors with numbers
in them — and no number in any log line."""

from __future__ import annotations

import logging
import re

import pytest

from mutualaid.worker import send_outbox
from sms.transport import FakeSender, SendError
from tests.sms_helpers import text


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def app_config() -> dict:
    return {"LOG_LEVEL": "DEBUG", "SMS_RATE_LIMIT": 3}


@pytest.fixture
def logs():
    handler = Collect()
    root = logging.getLogger()
    sql = logging.getLogger("sqlalchemy.engine")
    root.addHandler(handler)
    old = sql.level
    sql.setLevel(logging.INFO)  # every statement, as an operator debugging might turn on
    yield handler
    sql.setLevel(old)
    root.removeHandler(handler)


def test_no_phone_number_reaches_a_log_line(app, client, session, logs) -> None:
    from mutualaid.cli import places_load

    app.test_cli_runner().invoke(places_load, [])
    numbers = [f"+1718555{100 + i:04d}" for i in range(60)] + [
        f"+1347555{100 + i:04d}" for i in range(40)
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

    assert len(logs.lines) > 300
    digits = {re.sub(r"\D", "", n)[-10:] for n in numbers}
    for line in logs.lines:
        flat = re.sub(r"\D", "", line)
        leaked = [d for d in digits if d in flat]
        assert not leaked, line[:300]
