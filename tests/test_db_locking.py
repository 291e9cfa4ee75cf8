"""SQLite has one writer at a time and every transaction takes the write lock up front,
except a read-only one (a matching run's snapshot): that one must not hold up writers
(the webhooks storing texts) at all."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from mutualaid.db import READ_ONLY, configure_engine


@pytest.fixture
def engines(tmp_path):
    url = f"sqlite:///{tmp_path}/lock.db"
    made = []
    for _ in range(2):
        engine = sa.create_engine(url)
        configure_engine(engine)
        made.append(engine)
    with made[0].begin() as conn:
        conn.execute(sa.text("CREATE TABLE t (id INTEGER PRIMARY KEY, who TEXT)"))
    yield made
    for engine in made:
        engine.dispose()


def test_a_read_only_transaction_does_not_block_writers(engines) -> None:
    reader, writer = engines
    with reader.connect() as conn:
        conn = conn.execution_options(**READ_ONLY)
        with conn.begin():
            conn.execute(sa.text("SELECT count(*) FROM t")).scalar()
            started = time.monotonic()
            with writer.begin() as other:
                other.execute(sa.text("INSERT INTO t (who) VALUES ('webhook')"))
            assert time.monotonic() - started < 0.5
            # A snapshot: the reader still sees the table as it was when it began reading.
            assert conn.execute(sa.text("SELECT count(*) FROM t")).scalar() == 0
