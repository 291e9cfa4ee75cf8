"""The background worker: runs jobs (outbox sending, periodic runs) in a loop.

Each job is a function ``job(app) -> int`` returning how much work it did; it opens and
commits its own transactions. When no job did anything, the worker sleeps for
WORKER_POLL_SECONDS. SIGTERM and SIGINT stop it between jobs.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from flask import Flask
from sqlalchemy.orm import Session

from mutualaid.extensions import db
from mutualaid.ports import build_sender
from sms.transport import Sender

log = logging.getLogger(__name__)

Job = Callable[[Flask], int]

# Messages claimed at a time: a batch is sent one by one, each with its own lease.
OUTBOX_BATCH_SIZE = 50


def jobs() -> list[Job]:
    """The jobs the worker runs, in order: first what people are waiting for."""
    from mutualaid import jobs as lifecycle

    return [
        send_outbox,
        _every(30, lifecycle.retry_stuck_inbound),
        lifecycle.expire_proposals,
        lifecycle.match_if_due,
        _every(60, lifecycle.escalate),
        _every(6 * 3600, lifecycle.purge_expired),
        _every(15 * 60, lifecycle.recover_inbound),
    ]


_last_run: dict[str, float] = {}


def _every(seconds: float, job: Job) -> Job:
    """``job`` at most once per ``seconds`` in this process (a sweep, not a queue)."""

    def throttled(app: Flask) -> int:
        now = time.monotonic()
        if now - _last_run.get(job.__name__, float("-inf")) < seconds:
            return 0
        _last_run[job.__name__] = now
        return job(app)

    throttled.__name__ = job.__name__
    return throttled


def send_outbox(app: Flask, sender: Sender | None = None) -> int:
    """Send one batch of due outbound SMS; the number of messages handled.

    The sender is built once per process from the settings (``sender`` replaces it)."""
    from mutualaid.services.sending import OutboxSettings, send_due

    if sender is None:
        sender = app.extensions.get("mutualaid.sms_sender")
        if sender is None:
            sender = app.extensions["mutualaid.sms_sender"] = build_sender(app.config)
            # twilio logs every request at INFO (headers, URL with the account): too much.
            logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
    settings = OutboxSettings.from_config(app.config, batch_size=OUTBOX_BATCH_SIZE)
    report = send_due(transaction, sender, settings)
    if report.claimed:
        log.info(
            "outbox: %d claimed, %d sent, %d already sent, %d to retry, %d unknown, "
            "%d failed, %d suppressed",
            report.claimed,
            report.sent,
            report.found,
            report.retrying,
            report.unknown,
            report.failed,
            report.suppressed,
        )
    return report.handled


@contextmanager
def transaction() -> Iterator[Session]:
    """One unit of work on the app's session: commit at the end, roll back on error."""
    session = db.session
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


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
