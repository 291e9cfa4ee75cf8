"""`make run`: prepare the database and start the web server and the worker together.

Honours PORT (default 5000), HOST (default 127.0.0.1), WEB_CONCURRENCY (gunicorn
workers, default 2), DATABASE_URL and MUTUALAID_DEMO=0 (no demo data, production
mode), like a real deployment on one machine. With demo data it runs in development
mode unless MUTUALAID_ENV says otherwise, which turns on the SMS simulator (/dev/sms).
Without a SECRET_KEY in the environment it generates one once into instance/secret_key
(mode 0600), so sessions survive restarts; likewise a MUTUALAID_DATA_KEY into
instance/data_key, which encrypts phone numbers and addresses: losing that file loses them
(see mutualaid.keys: every `mutualaid` command finds them the same way).

Once the service answers and the worker has done its first round (the demo's first
proposals sent), it prints where it runs and, for a new demo, the organiser's login,
in a box: the last thing on the screen rather than lost above the worker's log.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from flask import Flask

from mutualaid.keys import use_instance_keys

# No query strings (they may carry what was searched for). Letters between the status and
# the duration: "200 0.001234" would read as a phone number and be scrubbed from the log.
ACCESS_LOG_FORMAT = '%(t)s "%(m)s %(U)s" %(s)s in %(M)s ms'
# How long the box waits for the worker's first round after the web answers.
SETTLE_SECONDS = 30.0


def prepare() -> tuple[Flask, list[str]]:
    """Migrate, check that DATA_KEY reads what is stored, load the places file, and seed
    the demo network into an empty database. Returns the app and the lines for the box
    (the demo organiser's login, shown once; or how to create the first account)."""
    from flask_migrate import upgrade

    from mutualaid import create_app
    from mutualaid.cli import places_load, seed_demo_data
    from mutualaid.extensions import db
    from mutualaid.models import Account, Base
    from mutualaid.models.crypto import check_key
    from mutualaid.unit_of_work import unit_of_work

    app = create_app()
    notice: list[str] = []
    with app.app_context():
        upgrade()
        with unit_of_work() as unit:
            check_key(unit.session.connection(), Base.metadata, app.extensions["data_cipher"])
        if app.config["DEMO"]:
            summary = seed_demo_data(if_empty=True)
            if summary is None:
                print("Database already has data; demo not seeded.")
            else:
                print(
                    f"Demo network seeded: {summary.volunteers} volunteers, "
                    f"{summary.requests} requests."
                )
                notice = [
                    f"Organiser login: {summary.admin_email}",
                    f"Password: {summary.admin_password}",
                    "(shown once; lost it? mutualaid reset-password EMAIL)",
                ]
        elif app.config["PLACES_FILE"]:
            result = app.test_cli_runner().invoke(places_load, [])
            print(result.output, end="")
            if result.exit_code:
                raise SystemExit(result.exit_code)
        with unit_of_work() as unit:
            no_account = unit.session.scalar(db.select(Account.id).limit(1)) is None
        if not notice and no_account:
            notice = [
                "No dashboard account yet. In another shell, in this folder:",
                "  mutualaid create-user you@example.org --role admin",
            ]
    return app, notice


def box(lines: list[str]) -> str:
    """``lines`` framed, to stand out from the log above them."""
    width = max(len(line) for line in lines)
    rule = "+" + "-" * (width + 4) + "+"
    return "\n".join([rule, *(f"|  {line.ljust(width)}  |" for line in lines), rule])


def settled(app: Flask) -> bool:
    """Whether the worker has done its first round: a matching run recorded, no received
    text waiting, no text due to be sent."""
    from sqlalchemy import func, or_, select

    from mutualaid.extensions import db
    from mutualaid.models import (
        MatchingRun,
        Message,
        MessageDirection,
        MessageStatus,
        utcnow,
    )

    with app.app_context():
        try:
            ran = db.session.scalar(select(MatchingRun.id).limit(1)) is not None
            waiting = db.session.scalar(
                select(func.count())
                .select_from(Message)
                .where(
                    or_(
                        Message.status == MessageStatus.RECEIVED,
                        (Message.direction == MessageDirection.OUTBOUND)
                        & Message.status.in_([MessageStatus.QUEUED, MessageStatus.SENDING])
                        & (
                            Message.next_attempt_at.is_(None)
                            | (Message.next_attempt_at <= utcnow())
                        ),
                    )
                )
            )
        finally:
            db.session.remove()
    return ran and not waiting


def main() -> int:
    use_instance_keys(generate=True)
    if os.environ.get("MUTUALAID_DEMO", "1") != "0":
        # Trying it out: the SMS simulator at /dev/sms is on. MUTUALAID_DEMO=0 runs production.
        os.environ.setdefault("MUTUALAID_ENV", "development")
    host = os.environ.get("HOST", "127.0.0.1")
    port = os.environ.get("PORT", "5000")
    try:
        app, notice = prepare()
    except Exception as exc:  # a ConfigError, a wrong DATA_KEY, an unreachable database …
        print(f"mutualaid: cannot start: {exc}", file=sys.stderr)
        return 1
    bin_dir = Path(sys.executable).parent
    web = subprocess.Popen(
        [
            str(bin_dir / "gunicorn"),
            "--config", "python:mutualaid.gunicorn_config",
            "--bind", f"{host}:{port}",
            "--workers", os.environ.get("WEB_CONCURRENCY", "2"),
            "--access-logfile", "-",
            "--access-logformat", ACCESS_LOG_FORMAT,
            "mutualaid.wsgi:app",
        ]
    )  # fmt: skip
    worker = subprocess.Popen([str(bin_dir / "mutualaid"), "worker"])
    children = [web, worker]

    def stop(*_: object) -> None:
        for child in children:
            if child.poll() is None:
                child.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    url = f"http://{host}:{port}/"
    for _ in range(100):
        if web.poll() is not None:
            break
        try:
            urllib.request.urlopen(url + "healthz", timeout=1).close()
        except OSError:
            time.sleep(0.2)
            continue
        deadline = time.monotonic() + SETTLE_SECONDS
        while worker.poll() is None and time.monotonic() < deadline and not settled(app):
            time.sleep(0.5)
        lines = [f"Mutual aid is running: {url}", "Press Ctrl+C to stop."]
        print("\n" + box([*lines, *(["", *notice] if notice else [])]) + "\n", flush=True)
        break
    while all(child.poll() is None for child in children):
        time.sleep(0.5)
    stop()
    codes = [child.wait() for child in children]
    return max(codes) if any(codes) else 0


if __name__ == "__main__":
    raise SystemExit(main())
