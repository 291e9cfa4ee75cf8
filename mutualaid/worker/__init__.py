"""The background worker: runs its jobs (mutualaid.worker.jobs) in a loop.

Each job is a function ``job(app) -> int`` returning how much work it did; it opens a
unit of work for each step of its work. When a job did something, all run again at
once. When none did, the worker waits WORKER_POLL_SECONDS, but looks for received texts
every INBOUND_POLL_SECONDS meanwhile (the webhook only stores them): a text is answered
within a fraction of a second, while the periodic jobs still poll at their own pace.
SIGTERM and SIGINT stop it between jobs.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable

import click
from flask import Flask, current_app

from mutualaid.extensions import db
from mutualaid.unit_of_work import unit_of_work
from mutualaid.worker import jobs

log = logging.getLogger(__name__)

Job = Callable[[Flask], int]

# How often an idle worker looks for received texts (at most WORKER_POLL_SECONDS).
INBOUND_POLL_SECONDS = 0.2


def jobs_in_order() -> list[Job]:
    """The jobs the worker runs, in order: first what people are waiting for."""
    return [
        jobs.poll_twilio,
        jobs.handle_received,
        jobs.send_outbox,
        jobs.expire_proposals,
        jobs.forget_conversations,
        jobs.match_if_due,
        _every(60, jobs.escalate),
        _every(30, jobs.notify_coordinators),
        _every(6 * 3600, jobs.purge_expired),
        _every(15 * 60, jobs.recover_inbound),
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


def run(app: Flask, *, once: bool = False, stop: threading.Event | None = None) -> None:
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():  # the worker process itself
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        if not once:
            _lower_priority(app)
    poll = app.config["WORKER_POLL_SECONDS"]
    inbound_poll = min(poll, INBOUND_POLL_SECONDS)
    log.info("worker started")
    while not stop.is_set():
        done = _run_jobs(app, jobs_in_order())
        if once:
            break
        if done:
            continue
        idle_until = time.monotonic() + poll
        while not stop.wait(min(inbound_poll, max(0.0, idle_until - time.monotonic()))):
            if time.monotonic() >= idle_until or _run_jobs(app, [jobs.handle_received]):
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
                log.exception("worker job %s failed", job.__name__)
    return done


@click.command("worker")
@click.option("--once", is_flag=True, help="Run every job once and exit.")
def command(once: bool) -> None:
    """Run the background worker: sends the outbox and runs periodic jobs."""
    from mutualaid.models import Base
    from mutualaid.models.crypto import check_key

    # A wrong DATA_KEY stops it here, in one line, rather than failing every job.
    with unit_of_work() as unit:
        check_key(unit.session.connection(), Base.metadata, current_app.extensions["data_cipher"])
    run(current_app._get_current_object(), once=once)  # type: ignore[attr-defined]
