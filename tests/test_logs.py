"""Structured logs: with LOG_FORMAT = "json" a real process writes one JSON object a line
(time, level, logger, message, request_id, exception), phone numbers scrubbed; the request
id is the caller's when sane and never a phone number."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mutualaid import logs
from mutualaid.settings import ConfigError, load_settings

PHONE = "+17185550123"

SCRIPT = textwrap.dedent(
    f"""
    import logging
    from mutualaid import create_app

    app = create_app()
    logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)  # lines inside a request
    answer = app.test_client().get("/healthz", headers={{"X-Request-ID": "probe-42"}})
    assert answer.headers["X-Request-ID"] == "probe-42"
    log = logging.getLogger("mutualaid.probe")
    log.warning("texted by %s", "{PHONE}")
    try:
        raise ValueError("bad number {PHONE}")
    except ValueError:
        log.exception("could not handle {PHONE[2:]}")
    """
)


def _run(tmp_path: Path, log_format: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MUTUALAID_")}
    env.update(
        MUTUALAID_ENV="development",
        DATABASE_URL=f"sqlite:///{tmp_path}/logs.db",
        MUTUALAID_LOG_FORMAT=log_format,
    )
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stderr


def test_json_lines_parse_and_carry_the_request_id(tmp_path: Path) -> None:
    lines = [json.loads(line) for line in _run(tmp_path, "json").splitlines()]

    assert {"time", "level", "logger", "message", "request_id"} <= set(lines[0])
    in_request = [line for line in lines if line["logger"].startswith("sqlalchemy.engine")]
    assert in_request, lines
    assert {line["request_id"] for line in in_request} == {"probe-42"}
    warning, error = (line for line in lines if line["logger"] == "mutualaid.probe")
    assert (warning["level"], warning["message"]) == ("WARNING", "texted by [number]")
    assert warning["request_id"] == "-"  # outside a request
    assert warning["time"].endswith("+00:00")
    assert error["level"] == "ERROR"
    assert error["message"] == "could not handle [number]"
    assert "Traceback" in error["exception"]
    assert "ValueError: bad number [number]" in error["exception"]


def test_text_lines_stay_text(tmp_path: Path) -> None:
    out = _run(tmp_path, "text")
    probe = [line for line in out.splitlines() if "mutualaid.probe" in line]
    assert probe[0].endswith("WARNING mutualaid.probe [req=-] texted by [number]")
    assert "ValueError: bad number [number]" in out
    assert "[req=probe-42]" in out
    assert PHONE[2:] not in out


def test_a_request_id_that_looks_like_a_phone_number_is_replaced(client) -> None:
    kept = client.get("/healthz", headers={"X-Request-ID": "lb-7f3a.2"})
    assert kept.headers["X-Request-ID"] == "lb-7f3a.2"
    for given in (PHONE, "71855501234", "bad id with spaces", "x" * 65):
        answer = client.get("/healthz", headers={"X-Request-ID": given})
        assert answer.headers["X-Request-ID"] != given
        assert logs.redact(answer.headers["X-Request-ID"]) == answer.headers["X-Request-ID"]


def test_new_request_ids_never_read_as_phone_numbers() -> None:
    ids = {logs._new_id() for _ in range(3000)}
    assert len(ids) == 3000
    assert all(logs.redact(i) == i for i in ids)


def test_an_unknown_log_format_is_refused() -> None:
    with pytest.raises(ConfigError, match="LOG_FORMAT"):
        load_settings(environ={"MUTUALAID_LOG_FORMAT": "xml", "MUTUALAID_ENV": "development"})


def test_access_log_lines_keep_their_status_and_duration() -> None:
    # gunicorn's access line passes through the scrubber like every other line.
    from pathlib import Path

    from mutualaid.launcher import ACCESS_LOG_FORMAT
    from mutualaid.logs import redact

    assert ACCESS_LOG_FORMAT in (Path(__file__).parent.parent / "Procfile").read_text()
    line = ACCESS_LOG_FORMAT % {
        "t": "[26/Nov/2026:10:40:29 +0000]",
        "m": "GET",
        "U": "/healthz",
        "s": "200",
        "M": "1234",
    }
    assert redact(line) == line
    assert line.endswith('"GET /healthz" 200 in 1234 ms')
