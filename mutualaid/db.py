"""Database engine set-up that must be the same for the app, the CLI, the worker and the tests."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from sqlalchemy import Engine, event

# How long a SQLite transaction waits for the write lock before "database is locked", and
# how often it tries meanwhile.
SQLITE_LOCK_TIMEOUT = 15.0
SQLITE_LOCK_POLL = 0.0005
# The execution option that makes a read-only transaction begin without the write lock.
READ_ONLY = {"sqlite_begin": "DEFERRED"}


def configure_engine(engine: Engine) -> None:
    """Make SQLite safe for several processes: WAL, a busy timeout, foreign keys, and
    ``BEGIN IMMEDIATE`` so a transaction takes the write lock up front (otherwise two
    readers that both decide to write deadlock, and one gets "database is locked").
    A transaction begun with the READ_ONLY execution option takes no write lock (WAL
    readers never block the writer): for long reads such as a matching run's snapshot.

    SQLite's own busy handler waits longer and longer between tries (up to 100 ms), so
    a writer that is busy all the time — the worker handling a queue of texts — would
    starve a webhook's one insert. BEGIN IMMEDIATE is therefore tried every half
    millisecond instead, for up to SQLITE_LOCK_TIMEOUT; and a loop of write
    transactions leaves a gap between them (:func:`let_writers_in`).
    PostgreSQL needs nothing here."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_LOCK_TIMEOUT * 1000)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get("sqlite_begin") == "DEFERRED":
            connection.exec_driver_sql("BEGIN")
            return
        raw = connection.connection.driver_connection
        raw.execute("PRAGMA busy_timeout=0")  # other statements keep SQLite's own waiting
        try:
            deadline = time.monotonic() + SQLITE_LOCK_TIMEOUT
            while time.monotonic() < deadline:
                try:
                    raw.execute("BEGIN IMMEDIATE")
                    return
                except sqlite3.OperationalError as exc:
                    if "locked" not in str(exc):
                        break
                time.sleep(SQLITE_LOCK_POLL)
        finally:
            raw.execute(f"PRAGMA busy_timeout={int(SQLITE_LOCK_TIMEOUT * 1000)}")
        connection.exec_driver_sql("BEGIN IMMEDIATE")  # a last try; its error as SQLAlchemy's


def let_writers_in(engine: Engine) -> None:
    """Between two write transactions of a loop, on SQLite: a moment in which a waiting
    writer (a webhook storing a text) takes the write lock first."""
    if engine.dialect.name == "sqlite":
        time.sleep(4 * SQLITE_LOCK_POLL)


def insert_or_ignore(
    session: Any, model: Any, values: dict[str, Any], conflict_columns: list[str]
) -> int | None:
    """``INSERT … ON CONFLICT DO NOTHING RETURNING pk``: the new row's key, or None when a
    row with the same ``conflict_columns`` exists. Atomic on SQLite and PostgreSQL, so two
    processes storing the same thing at once store it once."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = (
        insert(model)
        .values(**values)
        .on_conflict_do_nothing(index_elements=conflict_columns)
        .returning(*model.__table__.primary_key.columns)
    )
    return session.execute(statement).scalar()
