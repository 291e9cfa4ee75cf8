"""Rate limits that hold across processes: fixed-window counters in the database.

One atomic upsert per hit (``INSERT … ON CONFLICT DO UPDATE SET count = count + 1
RETURNING count``), so two web workers counting the same sender see one total.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass

from sqlalchemy import delete
from sqlalchemy.orm import Session

from mutualaid.models.limits import RateCounter


@dataclass(frozen=True)
class Limit:
    """At most ``count`` hits per ``seconds`` for one key."""

    count: int
    seconds: int


def limit_key(secret: str, kind: str, value: str) -> str:
    """A stable key for ``value`` (a phone, an email, an address) that does not reveal it."""
    digest = hmac.new(secret.encode(), f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()
    return f"{kind}:{digest[:40]}"


def hit(session: Session, key: str, limit: Limit, *, now: dt.datetime) -> int:
    """Count one hit of ``key`` in the current window; returns the count so far (the hit
    is allowed when it is <= limit.count)."""
    epoch = int(now.timestamp())
    window_start = dt.datetime.fromtimestamp(epoch - epoch % limit.seconds, dt.UTC)
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(RateCounter).values(key=key, window_start=window_start, count=1)
    statement = statement.on_conflict_do_update(
        index_elements=["key", "window_start"], set_={"count": RateCounter.count + 1}
    ).returning(RateCounter.count)
    return int(session.execute(statement).scalar_one())


def allowed(session: Session, key: str, limit: Limit, *, now: dt.datetime) -> bool:
    return hit(session, key, limit, now=now) <= limit.count


def forget_old(session: Session, *, now: dt.datetime, older_than: dt.timedelta) -> int:
    """Delete counters of windows that started before ``now - older_than``."""
    result = session.execute(delete(RateCounter).where(RateCounter.window_start < now - older_than))
    return result.rowcount or 0
