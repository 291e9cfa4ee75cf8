"""The README's commands, typed verbatim in a second shell while `make run` (the launcher)
runs in the first: they find the keys the launcher made in instance/, the demo
organiser's password is the last thing the launcher printed, a lost password is reset,
and a wrong DATA_KEY is one line naming it, never a traceback."""

from __future__ import annotations

import base64
import http.cookiejar
import os
import re
import shlex
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import LiveServer, running_service

# `make run` in a fresh folder, then commands from a second shell.
pytestmark = [pytest.mark.e2e, pytest.mark.slow(seconds=35), pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def readme_line(starting: str) -> str:
    """The README's command line that starts with ``starting``, its shell comment cut."""
    for line in README.splitlines():
        if line.startswith(starting):
            return line.split("  #", 1)[0].strip()
    raise AssertionError(f"no README line starts with {starting!r}")


def second_shell(server: LiveServer, command: str, *, stdin: str = "", **env: str):
    """``command`` run by a shell in the folder the launcher was started in, with the
    environment of a new terminal: the launcher's own settings (MUTUALAID_*) are not in
    it, DATABASE_URL is (the test's stand-in for the default database file)."""
    environ = {k: v for k, v in server.env.items() if not k.startswith("MUTUALAID_")}
    environ.update(env)
    return subprocess.run(
        ["/bin/sh", "-c", command],
        cwd=server.log.parent,
        env=environ,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def log_in(url: str, email: str, password: str) -> int:
    """The status of a real login at the running service (303 when it worked)."""
    jar = http.cookiejar.CookieJar()

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
    with opener.open(url + "/login", timeout=10) as page:
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.read().decode())[1]
    form = urllib.parse.urlencode({"csrf_token": token, "email": email, "password": password})
    try:
        with opener.open(url + "/login", data=form.encode(), timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as answer:
        return answer.code


def a_data_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(64)).decode()


@pytest.fixture(scope="module")
def production(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """`MUTUALAID_DEMO=0 make run` in a fresh folder: no demo data, no account yet. The
    README's account and import commands are typed in its second shell."""
    with running_service(tmp_path_factory.mktemp("production"), MUTUALAID_DEMO="0") as server:
        yield server


def test_create_user_from_the_readme_in_a_second_shell(
    production: LiveServer, tmp_path: Path
) -> None:
    start = readme_line("MUTUALAID_DEMO=0 PORT=8000 make run")
    assert start.startswith("MUTUALAID_DEMO=0")
    command = readme_line("mutualaid create-user you@example.org --role admin")
    server = production
    assert (server.log.parent / "instance" / "secret_key").exists()
    created = second_shell(server, command, stdin="a long admin password\n")
    assert created.returncode == 0, created.stderr
    assert "Created admin account you@example.org" in created.stdout
    email = shlex.split(command)[2]
    assert log_in(server.url, email, "a long admin password") == 303
    assert log_in(server.url, email, "not the password") == 401

    # Production without the key files (another folder): the missing key is named.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    lost = second_shell(server, f"cd {shlex.quote(str(elsewhere))} && {command}")
    assert lost.returncode == 2
    assert "SECRET_KEY: missing" in lost.stderr and "make run" in lost.stderr
    assert "Traceback" not in lost.stderr


def _box(log: Path, timeout: float = 60) -> list[str]:
    """The lines of the launcher's box, once it is printed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = log.read_text().splitlines()
        if "Password:" in log.read_text():
            rules = [i for i, line in enumerate(lines) if re.fullmatch(r"\+-+\+", line)]
            if len(rules) >= 2:
                return [line.strip("| ") for line in lines[rules[-2] + 1 : rules[-1]]]
        time.sleep(0.2)
    raise AssertionError(f"no box with the password:\n{log.read_text()[-3000:]}")


def test_demo_password_last_then_reset_and_match_from_a_second_shell(tmp_path: Path) -> None:
    with running_service(tmp_path, MUTUALAID_DEMO="1") as server:
        box = _box(server.log)
        email = next(line for line in box if line.startswith("Organiser login:")).split()[-1]
        password = next(line for line in box if line.startswith("Password:")).split()[-1]
        assert any(line.startswith("Mutual aid is running: http://") for line in box)
        log = server.log.read_text()
        # The box comes after the seeding and after the first round of the worker: the
        # demo's first proposals were already printed above it.
        box_at = log.rindex("Password:")
        assert log.index("Demo network seeded") < box_at
        assert "--- SMS to" in log[:box_at]
        assert log_in(server.url, email, password) == 303

        # `mutualaid match --dry-run`, in development mode as the demo runs: it reads the
        # data the service encrypted with instance/data_key.
        dry = second_shell(server, "mutualaid match --dry-run", MUTUALAID_ENV="development")
        assert dry.returncode == 0, dry.stderr
        assert "would propose" in dry.stdout
        assert "Traceback" not in dry.stderr

        reset = second_shell(
            server, f"mutualaid reset-password {email}", stdin="a brand new password\n"
        )
        assert reset.returncode == 0, reset.stderr
        assert log_in(server.url, email, password) == 401
        assert log_in(server.url, email, "a brand new password") == 303

        unknown = second_shell(
            server, "mutualaid reset-password nobody@example.org", stdin="x" * 20 + "\n"
        )
        assert unknown.returncode == 1 and "no account" in unknown.stderr

        # A DATA_KEY that is not the one the data was written with: one line naming it.
        for command in ("mutualaid match --dry-run", "mutualaid worker --once"):
            wrong = second_shell(
                server, command, MUTUALAID_ENV="development", MUTUALAID_DATA_KEY=a_data_key()
            )
            assert wrong.returncode == 1, (command, wrong.stderr)
            assert "Traceback" not in wrong.stderr, (command, wrong.stderr)
            errors = [line for line in wrong.stderr.splitlines() if "DATA_KEY" in line]
            assert len(errors) == 1 and errors[0].startswith("mutualaid: "), wrong.stderr
            assert "cannot be decrypted" in errors[0]

    # And the launcher itself refuses to start on the wrong key, in one line.
    env = {**server.env, "MUTUALAID_DATA_KEY": a_data_key()}
    again = subprocess.run(
        [sys.executable, "-m", "mutualaid.launcher"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 1
    assert "Traceback" not in again.stderr
    last = again.stderr.splitlines()[-1]
    assert last.startswith("mutualaid: cannot start: ") and "DATA_KEY" in last, again.stderr


def test_the_readmes_import_commands_in_a_second_shell(production: LiveServer) -> None:
    """ "Bringing your network in", typed as written: a Google Forms export of volunteers
    previewed (nothing written), imported, imported again (nothing changes), and an Excel
    export of requests imported."""
    fixtures = ROOT / "tests" / "fixtures" / "imports"
    commands = [
        "mutualaid import volunteers volunteers.csv --dry-run",
        "mutualaid import volunteers volunteers.csv",
        "mutualaid import requests requests.csv",
    ]
    lines = {line.strip() for line in README.splitlines()}
    assert all(command in lines for command in commands), "the README shows other commands"
    server = production
    folder = server.log.parent
    (folder / "volunteers.csv").write_bytes(
        (fixtures / "google_forms_volunteers_en.csv").read_bytes()
    )
    (folder / "requests.csv").write_bytes(
        (fixtures / "excel_requests_semicolon_bom.csv").read_bytes()
    )
    dry, done, requests = (second_shell(server, command) for command in commands)
    assert dry.returncode == 0, dry.stderr
    assert "dry run: nothing written" in dry.stdout
    assert done.returncode == 0, done.stderr
    assert "4 created" in done.stdout and "imported." in done.stdout
    assert requests.returncode == 0, requests.stderr + requests.stdout
    assert "created" in requests.stdout and "Traceback" not in requests.stderr
    again = second_shell(server, commands[1])
    assert again.returncode == 0 and "0 created, 0 updated, 4 unchanged" in again.stdout
