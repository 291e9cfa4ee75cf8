"""End-to-end fixtures: the service started as `make run` starts it, and a real Chromium."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LiveServer:
    url: str
    database_url: str
    log: Path
    env: dict[str, str]


@contextlib.contextmanager
def running_service(home: Path, **settings: str) -> Iterator[LiveServer]:
    """`python -m mutualaid.launcher` (what `make run` runs): migrations, places, gunicorn
    and the worker, on a fresh SQLite database in ``home``; ``settings`` are extra
    environment variables (e.g. MUTUALAID_MATCH_INTERVAL_SECONDS)."""
    port = free_port()
    database_url = f"sqlite:///{home}/instance/mutualaid.db"
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("MUTUALAID_") and k != "SECRET_KEY"
    }
    env.update(
        {
            "PORT": str(port),
            "HOST": "127.0.0.1",
            "DATABASE_URL": database_url,
            "MUTUALAID_DEMO": "0",
            "WEB_CONCURRENCY": "2",
            "PATH": f"{Path(sys.executable).parent}:{env.get('PATH', '')}",
            **settings,
        }
    )
    log = home / "server.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "mutualaid.launcher"],
            cwd=home,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url + "/healthz", timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                proc.wait()
                pytest.fail(f"the service did not start:\n{log.read_text()}")
            time.sleep(0.2)
    try:
        yield LiveServer(url, database_url, log, env)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with running_service(tmp_path_factory.mktemp("live")) as server:
        yield server


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser"):
        if found := shutil.which(name):
            return found
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Debian's Chromium, headless, driven by Playwright (never a downloaded browser)."""
    executable = chromium_path()
    if executable is None:
        if IN_CI:
            pytest.fail("CI=true but Chromium is not installed (apt-get install chromium)")
        pytest.skip("Chromium not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=executable,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 390, "height": 844})  # a phone
    page = context.new_page()
    yield page
    context.close()


def dashboard_pages(request_id: int, offer_id: int, person_id: int) -> dict[str, str]:
    """Name → path of each dashboard page a coordinator reads (one request, volunteer and
    person page among them)."""
    return {
        "overview": "/dashboard/",
        "requests": "/dashboard/requests",
        "request": f"/dashboard/requests/{request_id}",
        "volunteers": "/dashboard/volunteers",
        "volunteer": f"/dashboard/volunteers/{offer_id}",
        "person": f"/dashboard/people/{person_id}",
        "matching": "/dashboard/matching",
        "map": "/dashboard/map",
        "texts": "/dashboard/messages",
        "figures": "/dashboard/figures",
        "export": "/dashboard/export",
        "audit": "/dashboard/audit",
        "password": "/account/password",
        "api-token": "/account/api-token",
    }


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
