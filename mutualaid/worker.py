"""The background worker: runs jobs (outbox sending, periodic runs) in a loop.

Each job is a function ``job(app) -> int`` returning how much work it did; it opens and
commits its own transactions. When a job did something, all run again at once. When
none did, the worker waits WORKER_POLL_SECONDS, but looks for received texts every
INBOUND_POLL_SECONDS meanwhile (the webhook only stores them): a text is answered
within a fraction of a second, while the periodic jobs still poll at their own pace.
SIGTERM and SIGINT stop it between jobs.
"""

from __future__ import annotations

import logging
import os
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
# How often an idle worker looks for received texts (at most WORKER_POLL_SECONDS).
INBOUND_POLL_SECONDS = 0.2


def jobs() -> list[Job]:
    """The jobs the worker runs, in order: first what people are waiting for."""
    from mutualaid import jobs as lifecycle

    return [
        lifecycle.handle_received,
        send_outbox,
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
    if threading.current_thread() is threading.main_thread():  # the worker process itself
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        if not once:
            _lower_priority(app)
    from mutualaid.jobs import handle_received

    poll = app.config["WORKER_POLL_SECONDS"]
    inbound_poll = min(poll, INBOUND_POLL_SECONDS)
    log.info("worker started")
    while not stop.is_set():
        done = _run_jobs(app, jobs())
        if once:
            break
        if done:
            continue
        idle_until = time.monotonic() + poll
        while not stop.wait(min(inbound_poll, max(0.0, idle_until - time.monotonic()))):
            if time.monotonic() >= idle_until or _run_jobs(app, [handle_received]):
                break  # time for every job, or texts were handled: send their replies now
    log.info("worker stopped")


def _lower_priority(app: Flask) -> None:
    """Let the web processes have the CPU first (WORKER_NICE). Not on SQLite: there the
    worker often holds the one write lock, and a worker waiting for the CPU while holding
    it would hold up every webhook (priority inversion)."""
    nice = app.config["WORKER_NICE"]
    with app.app_context():
        sqlite = db.engine.dialect.name == "sqlite"
    if nice and not sqlite and hasattr(os, "nice"):
        os.nice(nice)


def _run_jobs(app: Flask, to_run: list[Job]) -> int:
    done = 0
    for job in to_run:
        with app.app_context():
            try:
                done += job(app)
            except Exception:
                db.session.rollback()
                log.exception("worker job %s failed", job.__name__)
    return done
