"""The background worker: runs jobs (outbox sending, periodic runs) in a loop.

Each job is a function ``job(app) -> int`` returning how much work it did; it opens and
commits its own transactions. When no job did anything, the worker sleeps for
WORKER_POLL_SECONDS. SIGTERM and SIGINT stop it between jobs.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable

from flask import Flask

from mutualaid.extensions import db

log = logging.getLogger(__name__)

Job = Callable[[Flask], int]


def jobs() -> list[Job]:
    """The jobs the worker runs, in order."""
    return []


def run(app: Flask, *, once: bool = False, stop: threading.Event | None = None) -> None:
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    poll = app.config["WORKER_POLL_SECONDS"]
    log.info("worker started")
    while not stop.is_set():
        done = 0
        for job in jobs():
            with app.app_context():
                try:
                    done += job(app)
                except Exception:
                    db.session.rollback()
                    log.exception("worker job %s failed", job.__name__)
        if once:
            break
        if not done:
            stop.wait(poll)
    log.info("worker stopped")
