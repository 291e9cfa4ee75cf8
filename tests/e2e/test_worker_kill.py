"""`kill -9` the worker again and again while it sends a few hundred messages to the fake
Twilio API: nothing is lost, and every duplicate is counted (the target is zero).

The worker is the real command (`python -m mutualaid worker`) in its own process, with
SMS_BACKEND=twilio and the real twilio client pointed at FakeTwilio, on a real SQLite
file (and PostgreSQL when MUTUALAID_TEST_DATABASE_URL is set). Up to three workers
run at once and the oldest is killed while it sends. The fake answers each create 20 ms
after storing the message, so some kills land between Twilio accepting a message and the
worker recording it: the case that needs reconciliation, not a resend.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa

from mutualaid import create_app
from mutualaid.extensions import db
from mutualaid.models import Message
from mutualaid.models.crypto import Cipher, derive_key, encode_key, use_cipher
from mutualaid.services.outbox import enqueue
from tests import builders
from tests.conftest import SECRET, base_config
from tests.e2e.conftest import ARTIFACTS
from tests.fakes.twilio import FakeTwilio

# A real service and worker, killed mid-send: minutes on a loaded machine.
pytestmark = [pytest.mark.slow(seconds=30), pytest.mark.e2e, pytest.mark.timeout(900)]

MESSAGES = 300
PEOPLE = 60  # five messages each: reconciliation must tell a person's messages apart
KILLS = 6
LEASE_SECONDS = 5  # the shortest the settings allow: reclaimed rows wait this long
FROM = "+15005550006"
DATA_KEY = derive_key(SECRET)  # what the test apps use without a DATA_KEY of their own


def _seed(database_url: str) -> None:
    app = create_app(base_config(database_url))
    with app.app_context():
        people = [builders.person(db.session) for _ in range(PEOPLE)]
        for n in range(MESSAGES):
            person = people[n % PEOPLE]
            enqueue(
                db.session,
                phone=person.phone,
                body=f"Message {n} for you: reply YES {1000 + n}",
                person_id=person.id,
                dedupe_key=f"kill-test:{n}",
            )
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


def _worker_env(database_url: str, fake: FakeTwilio) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("MUTUALAID_") and k not in ("SECRET_KEY", "DATABASE_URL")
    }
    env.update(
        DATABASE_URL=database_url,
        MUTUALAID_SECRET_KEY=SECRET,
        MUTUALAID_DATA_KEY=encode_key(DATA_KEY),
        MUTUALAID_SMS_BACKEND="twilio",
        MUTUALAID_TWILIO_ACCOUNT_SID=fake.account_sid,
        MUTUALAID_TWILIO_AUTH_TOKEN=fake.auth_token,
        MUTUALAID_TWILIO_FROM=FROM,
        MUTUALAID_TWILIO_API_BASE_URL=fake.base_url,
        MUTUALAID_TWILIO_CONNECT_TIMEOUT="2",
        MUTUALAID_TWILIO_READ_TIMEOUT="5",
        MUTUALAID_PUBLIC_BASE_URL="https://aid.example.org",
        MUTUALAID_OUTBOX_LEASE_SECONDS=str(LEASE_SECONDS),
        MUTUALAID_WORKER_POLL_SECONDS="0.2",
        MUTUALAID_LOG_LEVEL="DEBUG",  # "outbox: message … sent as …" shows it is sending
        # Not niced: in the suite three other test processes share the two cores, and a
        # worker at nice 10 among them gets a few per cent of one (slow to send, to stop).
        MUTUALAID_WORKER_NICE="0",
    )
    return env


def _pending(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(
            sa.text("SELECT count(*) FROM messages WHERE status IN ('queued', 'sending')")
        ).scalar_one()


def _rows(engine: sa.Engine) -> list[sa.Row]:
    """Bodies decrypted (they are stored encrypted)."""
    t = Message.__table__
    with engine.connect() as conn:
        return list(conn.execute(sa.select(t.c.body, t.c.status, t.c.provider_sid)))


class Workers:
    """Worker processes, each logging to its own file."""

    def __init__(self, env: dict[str, str], folder: Path) -> None:
        self.env = env
        self.folder = folder
        self.started: list[tuple[subprocess.Popen[bytes], Path]] = []

    def start(self) -> tuple[subprocess.Popen[bytes], Path]:
        log = self.folder / f"worker-{len(self.started)}.log"
        with open(log, "wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "mutualaid", "worker"],
                cwd=self.folder,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.started.append((process, log))
        return process, log

    def logs(self) -> str:
        return "".join(log.read_text() for _, log in self.started)

    def stop_all(self) -> None:
        for process, _ in self.started:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process, _ in self.started:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_sending(process: subprocess.Popen[bytes], log: Path) -> None:
    # Generous: a worker imports the app and scipy, slow on a loaded 2-core machine.
    deadline = time.monotonic() + 90
    while " sent as " not in log.read_text():
        assert process.poll() is None, log.read_text()[-3000:]
        assert time.monotonic() < deadline, "the worker did not start"
        time.sleep(0.02)


def test_kill_9_while_sending_loses_nothing_and_duplicates_nothing(
    database_url: str, tmp_path: Path
) -> None:
    _seed(database_url)
    engine = sa.create_engine(database_url)
    use_cipher(engine, Cipher(DATA_KEY))
    try:
        _kill_while_sending(database_url, engine, tmp_path)
    finally:
        engine.dispose()  # even when the test fails: a leaked connection warns later


def _kill_while_sending(database_url: str, engine: sa.Engine, tmp_path: Path) -> None:
    rng = random.Random(9)
    kills = 0
    started = time.monotonic()
    with FakeTwilio() as fake:
        fake.timeout_next(0.01, times=10 * MESSAGES, after_create=True)
        workers = Workers(_worker_env(database_url, fake), tmp_path)
        try:
            # Up to three workers at once, as several run in a deployment: the oldest is
            # killed while it sends, the younger ones are starting (imports take seconds).
            alive = [workers.start(), workers.start()]
            while kills < KILLS and _pending(engine):
                alive.append(workers.start())
                victim, log = alive.pop(0)
                _wait_until_sending(victim, log)
                time.sleep(rng.uniform(0.0, 0.4))
                victim.send_signal(signal.SIGKILL)  # kill -9: no cleanup at all
                victim.wait(timeout=10)
                kills += 1
            # The survivors finish: reclaimed rows wait out their lease first.
            deadline = time.monotonic() + 60
            while _pending(engine) and time.monotonic() < deadline:
                assert any(p.poll() is None for p, _ in alive), workers.logs()[-3000:]
                time.sleep(0.1)
        finally:
            workers.stop_all()
        created = fake.messages
        logs = workers.logs()

    rows = _rows(engine)
    elapsed = time.monotonic() - started
    bodies = Counter(m["body"] for m in created)
    duplicates = sum(n - 1 for n in bodies.values())
    sid_of = {m["body"]: m["sid"] for m in reversed(created)}  # the first one created
    lost = [r.body for r in rows if r.status != "sent" or r.body not in bodies]
    # Each row records the provider's id of its own message.
    mismatched = [r.body for r in rows if r.body in sid_of and r.provider_sid != sid_of[r.body]]
    reconciled = logs.count("was already sent")
    figures = (
        f"{MESSAGES} messages, {kills} kills, {len(lost)} lost, {duplicates} duplicates, "
        f"{reconciled} found at the provider after a kill, {elapsed:.1f} s"
    )
    report = f"worker kill -9 on {engine.dialect.name}: {figures}"
    print("\n" + report)
    ARTIFACTS.mkdir(exist_ok=True)
    with open(ARTIFACTS / "worker-kill.txt", "a") as out:
        out.write(report + "\n")
    assert kills == KILLS, figures
    assert len(rows) == MESSAGES, figures
    assert lost == [], figures
    assert duplicates == 0, figures
    assert mismatched == [], figures
