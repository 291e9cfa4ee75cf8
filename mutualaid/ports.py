"""Adapters built from the settings alone, without Flask: the SMS sender.

The worker builds one sender per process; tests with ``SMS_BACKEND = "fake"`` read what
was "sent" from :func:`fake_sender`, the one FakeSender of this process.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any, TextIO

from sms.transport import FakeSender, Sender, make_sender

_fake_lock = threading.Lock()
_fake: FakeSender | None = None


def build_sender(config: Mapping[str, Any], *, stream: TextIO | None = None) -> Sender:
    """The sender named by SMS_BACKEND: ``console`` prints each text to ``stream``
    (stdout by default, so `make run` shows them; outside development only its template
    key and segment count), ``twilio`` sends through Twilio (or
    TWILIO_API_BASE_URL) with the configured timeouts, ``fake`` is :func:`fake_sender`."""
    backend = str(config["SMS_BACKEND"])
    if backend == "fake":
        return fake_sender()
    if backend == "console":
        # Bodies only in development: elsewhere console output ends up in logs.
        return make_sender("console", stream=stream, show_bodies=config.get("ENV") == "development")
    return make_sender(
        backend,
        account_sid=config["TWILIO_ACCOUNT_SID"] or None,
        auth_token=config["TWILIO_AUTH_TOKEN"] or None,
        from_number=config["TWILIO_FROM"] or None,
        messaging_service_sid=config["TWILIO_MESSAGING_SERVICE_SID"] or None,
        api_base_url=config["TWILIO_API_BASE_URL"] or None,
        connect_timeout=float(config["TWILIO_CONNECT_TIMEOUT"]),
        read_timeout=float(config["TWILIO_READ_TIMEOUT"]),
    )


def fake_sender() -> FakeSender:
    """This process's FakeSender (created on first use)."""
    global _fake
    with _fake_lock:
        if _fake is None:
            _fake = FakeSender()
        return _fake


def reset_fake_sender() -> FakeSender:
    """Forget what the process's FakeSender recorded (between tests); the new one."""
    global _fake
    with _fake_lock:
        _fake = FakeSender()
        return _fake
