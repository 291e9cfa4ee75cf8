"""The web server's settings: the app is imported once by gunicorn's master and each worker
forked from it starts its own database connections (tests/e2e start the real gunicorn
with them, and tests/e2e/test_chaos.py kills its workers mid-request)."""

from __future__ import annotations

import sys
import types

import sqlalchemy as sa

from mutualaid import gunicorn_config
from mutualaid.extensions import db


def test_a_forked_worker_does_not_share_the_masters_connections(app, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "mutualaid.wsgi", types.SimpleNamespace(app=app))
    assert gunicorn_config.preload_app is True
    with db.engine.connect() as conn:  # the master held a connection before the fork
        conn.execute(sa.text("SELECT 1"))
    masters = db.engine.pool
    assert masters.checkedin() == 1

    gunicorn_config.post_fork(server=None, worker=None)

    assert db.engine.pool is not masters
    assert db.engine.pool.checkedin() == 0
    with db.engine.connect() as conn:  # and the worker connects afresh
        assert conn.execute(sa.text("SELECT 1")).scalar() == 1
    masters.dispose()
