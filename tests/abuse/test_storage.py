"""Item 6: encrypt and forget. What a person types in the middle of a dialogue is on disk
only encrypted, and gone from disk once the question has expired."""

from __future__ import annotations

import datetime as dt
import signal
from pathlib import Path

import sqlalchemy as sa

from mutualaid.extensions import db
from mutualaid.models import utcnow
from mutualaid.models.base import set_clock
from tests.abuse.helpers import ROSA
from tests.sms_helpers import text

HALF_A_DIALOGUE = "necesito ayuda, vivo en 12 Canon Dr, el código es 4417"


def _stored_conversation_data() -> list[str]:
    with db.engine.connect() as conn:
        return [
            row[0] or ""
            for row in conn.execute(sa.text("SELECT CAST(data AS TEXT) FROM conversations"))
        ]


def test_a_dialogue_in_progress_is_not_stored_in_clear(app, client, session) -> None:
    text(client, app, ROSA, HALF_A_DIALOGUE)  # no category yet: we ask what she needs
    stored = _stored_conversation_data()
    assert stored and any(stored)
    assert not any("Canon" in data or "4417" in data for data in stored), stored


def _on_disk(database_url: str) -> bytes:
    path = Path(database_url.removeprefix("sqlite:///"))
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


def test_an_expired_dialogue_is_cleared_by_the_worker_and_gone_from_the_file(
    app, client, session, database_url
) -> None:
    text(client, app, ROSA, HALF_A_DIALOGUE)
    (stored,) = _stored_conversation_data()
    assert stored not in ("", "{}")
    session.close()

    later = utcnow() + dt.timedelta(minutes=app.config["CONVERSATION_TTL_MINUTES"] + 1)
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    set_clock(lambda: later)
    try:
        result = app.test_cli_runner().invoke(args=["worker", "--once"])
        assert result.exit_code == 0, result.output
    finally:
        set_clock(None)
        for sig, handler in handlers.items():  # the worker takes them over
            signal.signal(sig, handler)

    assert _stored_conversation_data() in ([""], ["{}"], ["null"])
    if database_url.startswith("sqlite"):
        db.session.remove()
        db.engine.dispose()
        raw = _on_disk(database_url)
        for trace in (b"Canon", stored.encode()):
            assert trace not in raw
