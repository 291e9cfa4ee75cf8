"""The failures a test asks the fake Twilio for, applied in order to the next message
creations: a Twilio error, a stall, or a dropped connection."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from tests.fakes.twilio.account import ERRORS

# HTTP statuses a test may name instead of Twilio's own codes for them.
HTTP_STATUS_CODES = {429: 20429, 500: 20500, 503: 20503}


@dataclass
class Fault:
    kind: str  # "fail" | "delay" | "drop"
    times: int
    code: int = 0
    http_status: int = 400
    message: str | None = None
    retry_after: float | None = None
    seconds: float = 0.0
    after_create: bool = True


class Faults:
    """A queue of faults, each for its next ``times`` creations."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: list[Fault] = []

    def clear(self) -> None:
        with self._lock:
            self._queue = []

    def fail(
        self,
        code: int,
        times: int = 1,
        *,
        message: str | None = None,
        http_status: int | None = None,
        retry_after: float | None = 1.0,
    ) -> None:
        """``code`` is a Twilio error code (21610, 21211, 30003...) or an HTTP status
        (429, 500, 503), which maps to Twilio's 20429/20500/20503. Rate limiting carries
        ``Retry-After``."""
        code = HTTP_STATUS_CODES.get(code, code)
        status = http_status or ERRORS.get(code, (400, ""))[0]
        self._add(
            Fault(
                "fail",
                times,
                code=code,
                http_status=status,
                message=message,
                retry_after=retry_after if status == 429 else None,
            )
        )

    def delay(self, seconds: float, times: int = 1, *, after_create: bool = True) -> None:
        self._add(Fault("delay", times, seconds=seconds, after_create=after_create))

    def drop(self, times: int = 1, *, after_create: bool = True) -> None:
        self._add(Fault("drop", times, after_create=after_create))

    def next(self) -> Fault | None:
        """The fault for this creation, if any (counting it down)."""
        with self._lock:
            if not self._queue:
                return None
            fault = self._queue[0]
            fault.times -= 1
            if fault.times == 0:
                self._queue.pop(0)
            return fault

    def _add(self, fault: Fault) -> None:
        if fault.times < 1:
            raise ValueError("times must be >= 1")
        with self._lock:
            self._queue.append(fault)
