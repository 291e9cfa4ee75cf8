"""Database engine set-up that must be the same for the app, the CLI, the worker and the tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, event


def configure_engine(engine: Engine) -> None:
    """Make SQLite safe for several processes: WAL, a busy timeout, foreign keys, and
    ``BEGIN IMMEDIATE`` so a transaction takes the write lock up front (otherwise two
    readers that both decide to write deadlock, and one gets "database is locked").
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
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


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
