"""`make run`: prepare the database and start the web server and the worker together.

Honours PORT (default 5000), HOST (default 127.0.0.1), WEB_CONCURRENCY (gunicorn
workers, default 2), DATABASE_URL and MUTUALAID_DEMO=0 (no demo data, production
mode), like a real deployment on one machine. With demo data it runs in development
mode unless MUTUALAID_ENV says otherwise, which turns on the SMS simulator (/dev/sms).
Without a SECRET_KEY in the environment it generates one once into instance/secret_key
(mode 0600), so sessions survive restarts; likewise a MUTUALAID_DATA_KEY into
instance/data_key, which encrypts phone numbers and addresses: losing that file loses them.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

INSTANCE = Path("instance")

# No query strings (they may carry what was searched for). Letters between the status and
# the duration: "200 0.001234" would read as a phone number and be scrubbed from the log.
ACCESS_LOG_FORMAT = '%(t)s "%(m)s %(U)s" %(s)s in %(M)s ms'


def _kept(name: str, generate: Callable[[], str]) -> str:
    """instance/<name>, written once (mode 0600) with ``generate()`` and read ever after."""
    path = INSTANCE / name
    if not path.exists():
        INSTANCE.mkdir(exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(generate())
    return path.read_text().strip()


def prepare() -> None:
    """Migrate, load the places file, and seed the demo network into an empty database."""
    from flask_migrate import upgrade

    from mutualaid import create_app
    from mutualaid.cli import places_load, seed_demo

    app = create_app()
    with app.app_context():
        upgrade()
        runner = app.test_cli_runner()
        if app.config["DEMO"]:
            result = runner.invoke(seed_demo, ["--if-empty"])
        elif app.config["PLACES_FILE"]:
            result = runner.invoke(places_load, [])
        else:
            return
        print(result.output, end="")
        if result.exit_code:
            raise SystemExit(result.exit_code)


def main() -> int:
    if not (os.environ.get("SECRET_KEY") or os.environ.get("MUTUALAID_SECRET_KEY")):
        os.environ["MUTUALAID_SECRET_KEY"] = _kept("secret_key", lambda: secrets.token_urlsafe(48))
    if not os.environ.get("MUTUALAID_DATA_KEY"):
        from mutualaid.models.crypto import generate_key

        os.environ["MUTUALAID_DATA_KEY"] = _kept("data_key", generate_key)
    if os.environ.get("MUTUALAID_DEMO", "1") != "0":
        # Trying it out: the SMS simulator at /dev/sms is on. MUTUALAID_DEMO=0 runs production.
        os.environ.setdefault("MUTUALAID_ENV", "development")
    host = os.environ.get("HOST", "127.0.0.1")
    port = os.environ.get("PORT", "5000")
    try:
        prepare()
    except Exception as exc:  # a ConfigError, an unreachable database …
        print(f"mutualaid: cannot start: {exc}", file=sys.stderr)
        return 1
    bin_dir = Path(sys.executable).parent
    web = subprocess.Popen(
        [
            str(bin_dir / "gunicorn"),
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
            print(f"\n  Mutual aid is running: {url}\n  Press Ctrl+C to stop.\n", flush=True)
            break
        except OSError:
            time.sleep(0.2)
    while all(child.poll() is None for child in children):
        time.sleep(0.5)
    stop()
    codes = [child.wait() for child in children]
    return max(codes) if any(codes) else 0


if __name__ == "__main__":
    raise SystemExit(main())
