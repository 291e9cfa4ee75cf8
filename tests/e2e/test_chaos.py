"""Chaos, quick enough for the suite (bench/chaos.py runs the same scenarios bigger and
prints their figures): the real service — gunicorn with 2 workers and the worker —
driven with signed webhooks while a web worker is killed with -9, and while PostgreSQL
restarts. Whatever got no 200 is retried as Twilio retries; then every text is stored
exactly once. Inbound rows are counted, not replies: handling is the worker's business.

The outbox worker's kill -9 is tests/e2e/test_worker_kill.py; the recovery job after an
outage is tests/services/test_recovery.py."""

from __future__ import annotations

import pytest

from bench.chaos import (
    RECOVERY_GOAL_SECONDS,
    postgres_bin,
    postgres_restart,
    throwaway_postgres,
    web_worker_kill,
)
from tests.conftest import IN_CI

# Whole services started, killed and restarted: minutes on a loaded machine.
pytestmark = [pytest.mark.slow(seconds=40), pytest.mark.e2e, pytest.mark.timeout(900)]


def test_kill_9_of_a_web_worker_loses_and_doubles_no_text(database_url: str) -> None:
    result = web_worker_kill(database_url, messages=300, rate=50, kills=20, enough=2)

    figures = (
        f"{result.kills} kills, first answers {result.first_answers}, "
        f"{result.without_200} retried; {result.stored}"
    )
    print("\n" + figures)
    # The kills cut deliveries off (or the test proves nothing) …
    assert result.kills >= 1, figures
    assert result.without_200 >= 1, figures
    # … and once retried, each of the 300 texts is stored once: none lost, none twice.
    assert result.stored.exact, figures


def test_postgres_restart_under_load_recovers_in_seconds_and_loses_nothing() -> None:
    """On a PostgreSQL cluster of its own (initdb in a temporary folder, a free port): the
    shared server is never restarted."""
    if postgres_bin() is None:
        if IN_CI:
            pytest.fail("CI=true but no PostgreSQL server binaries under /usr/lib/postgresql")
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl)")
    with throwaway_postgres() as cluster:
        result = postgres_restart(cluster, messages=150, rate=20, restart_at=3.0, mode="fast")

    figures = (
        f"recovered in {result.recovery_seconds:.1f} s, {result.failed} webhooks failed; "
        f"{result.stored}; replies {result.replies_sent} sent, {result.replies_pending} "
        f"texts or replies pending, {result.duplicate_sends} sent twice"
    )
    print("\n" + figures)
    assert result.recovery_seconds < RECOVERY_GOAL_SECONDS, figures
    assert result.stored.exact, figures
    assert result.worker_alive, figures
    assert result.replies_sent > 0, figures
    assert (result.replies_pending, result.duplicate_sends) == (0, 0), figures
