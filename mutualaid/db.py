"""Database engine set-up that must be the same for the app, the CLI, the worker and the tests."""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

# The execution option that makes a read-only transaction begin without the write lock.
READ_ONLY = {"sqlite_begin": "DEFERRED"}


def configure_engine(engine: Engine) -> None:
    """Make SQLite safe for several processes: WAL, a busy timeout, foreign keys, and
    ``BEGIN IMMEDIATE`` so a transaction takes the write lock up front (otherwise two
    readers that both decide to write deadlock, and one gets "database is locked").
    A transaction begun with the READ_ONLY execution option takes no write lock (WAL
    readers never block the writer): for long reads such as a matching run's snapshot.
    PostgreSQL needs nothing here."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Deleted and overwritten content is zeroed, not left in free pages of the file.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get("sqlite_begin") == "DEFERRED":
            connection.exec_driver_sql("BEGIN")
            return
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def insert_or_ignore(
    session: Any, model: Any, values: dict[str, Any], conflict_columns: list[str]
) -> int | None:
    """``INSERT … ON CONFLICT DO NOTHING RETURNING pk``: the new row's key, or None when a
    row with the same ``conflict_columns`` exists. Atomic on SQLite and PostgreSQL, so two
    processes storing the same thing at once store it once. ``values`` are keyed by column
    name. The statement is built once and its values passed as parameters (a Core
    insert): it is the whole of the SMS webhook's work, which a burst repeats 200 times
    a second."""
    dialect = session.get_bind().dialect.name
    statement = _insert_or_ignore(dialect, model.__table__, tuple(conflict_columns))
    return session.execute(statement, values).scalar()


@functools.cache
def _insert_or_ignore(dialect: str, table: Any, conflict_columns: tuple[str, ...]) -> Any:
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return (
        insert(table)
        .on_conflict_do_nothing(index_elements=list(conflict_columns))
        .returning(*table.primary_key.columns)
    )


# Whether a session's transaction has written anything (a flush), for the one service that
# may end a transaction it did not begin (a matching run ends its caller's reads).
_WROTE = "mutualaid.wrote"


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context: Any) -> None:
    session.info[_WROTE] = True


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _after_end(session: Session) -> None:
    session.info.pop(_WROTE, None)


def has_written(session: Session) -> bool:
    """Whether this transaction has changes, flushed or not, that a rollback would lose."""
    return bool(session.info.get(_WROTE) or session.new or session.dirty or session.deleted)
