"""What the database itself guarantees, on SQLite and PostgreSQL, and the migrations."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from mutualaid.extensions import db
from mutualaid.models import (
    AidRequest,
    Base,
    Match,
    MatchStatus,
    Message,
    MessageDirection,
    MessageStatus,
    Precision,
)
from tests import builders


def test_models_match_the_migrations(app) -> None:
    """Autogenerate against the migrated database finds nothing to do."""
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_migrations_are_at_head(app) -> None:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config())
    with db.engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_heads()
    assert set(current) == set(script.get_heads())


@pytest.mark.parametrize("second", [MatchStatus.PROPOSED, MatchStatus.ACCEPTED])
def test_a_request_has_at_most_one_live_match(session, second: MatchStatus) -> None:
    req = builders.aid_request(session)
    builders.match(session, request=req, status=MatchStatus.PROPOSED)
    session.commit()
    with pytest.raises(IntegrityError):
        builders.match(session, request=req, status=second)
    session.rollback()


def test_closed_matches_do_not_count_as_live(session) -> None:
    """Three closed matches and then a live one on one request are all stored, while a
    second live one is still refused: the index counts live matches only."""
    req = builders.aid_request(session)
    for status in (MatchStatus.DECLINED, MatchStatus.EXPIRED, MatchStatus.WITHDRAWN):
        builders.match(session, request=req, status=status)
    live = builders.match(session, request=req, status=MatchStatus.PROPOSED)
    session.commit()
    stored = session.scalars(select(Match.status).where(Match.request_id == req.id)).all()
    assert sorted(stored) == sorted(
        [MatchStatus.DECLINED, MatchStatus.EXPIRED, MatchStatus.WITHDRAWN, MatchStatus.PROPOSED]
    )
    with pytest.raises(IntegrityError):
        builders.match(session, request=req, status=MatchStatus.ACCEPTED)
    session.rollback()
    assert session.get(Match, live.id).status is MatchStatus.PROPOSED


def test_one_inbound_row_per_provider_message_id(session) -> None:
    def inbound() -> Message:
        return Message(
            direction=MessageDirection.INBOUND,
            phone="+17185550101",
            body="need groceries",
            status=MessageStatus.RECEIVED,
            provider_sid="SM" + "a" * 32,
        )

    session.add(inbound())
    session.commit()
    session.add(inbound())
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()


def test_one_outbound_row_per_intent(session) -> None:
    for _ in range(2):
        session.add(
            Message(
                direction=MessageDirection.OUTBOUND,
                phone="+17185550101",
                status=MessageStatus.QUEUED,
                dedupe_key="proposal:42",
            )
        )
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()


def test_times_come_back_as_aware_utc(session) -> None:
    req = builders.aid_request(session)
    session.commit()
    session.expire_all()
    loaded = session.get(AidRequest, req.id)
    assert loaded.created_at.tzinfo is not None
    assert loaded.created_at.utcoffset() == dt.timedelta(0)


def test_naive_datetimes_are_refused(session) -> None:
    req = builders.aid_request(session)
    req.closed_at = dt.datetime(2026, 1, 1)  # naive: ambiguous
    with pytest.raises(Exception, match="naive datetime"):
        session.flush()
    session.rollback()


def test_an_unknown_status_is_refused_by_the_database(session) -> None:
    req = builders.aid_request(session)
    session.commit()
    with pytest.raises(IntegrityError):
        session.execute(
            text("UPDATE aid_requests SET status = 'lost' WHERE id = :id"), {"id": req.id}
        )
        session.commit()
    session.rollback()


def test_migrations_go_down_and_up_again_with_data(app, runner) -> None:
    """The upgrade path: a database holding the demo network migrates down to nothing and
    back up to head, on both databases."""
    from flask_migrate import downgrade, upgrade

    from mutualaid.cli import seed_demo

    assert runner.invoke(seed_demo, []).exit_code == 0
    db.session.remove()
    downgrade(revision="ad512d53fed4")  # the first release's schema, data kept
    upgrade()
    with db.engine.connect() as conn:
        people = conn.scalar(text("SELECT count(*) FROM people"))
    assert people == 100


def test_the_places_migration_rounds_stored_points_to_a_kilometre(app, session) -> None:
    """Labels stored before #12 item 4 held the typed point (~11 m) or a geocoded address's
    house number; the migration leaves the ~1 km point (or a ZIP label) in their place."""
    from flask_migrate import downgrade, upgrade

    typed = builders.aid_request(session, lat=34.0736, lon=-118.4004)
    geocoded = builders.aid_request(session, lat=40.6812, lon=-73.9441)
    zipped = builders.aid_request(session, lat=40.6812, lon=-73.9441)
    named = builders.aid_request(session, lat=40.6812, lon=-73.9441)
    for req, label, precision in (
        (typed, "34.0736, -118.4004", Precision.EXACT),
        (geocoded, "12", Precision.ADDRESS),
        (zipped, "11216", Precision.ADDRESS),
        (named, "Fulton St", Precision.PLACE),
    ):
        req.location_label, req.location_precision = label, precision
    session.commit()
    ids = [typed.id, geocoded.id, zipped.id, named.id]
    db.session.remove()
    downgrade(revision="9a7e51c0d3b2")
    upgrade()
    with db.engine.connect() as conn:
        labels = [
            conn.scalar(text("SELECT location_label FROM aid_requests WHERE id = :i"), {"i": i})
            for i in ids
        ]
    assert labels == ["34.07, -118.40", "40.68, -73.94", "11216", "Fulton St"]


def test_the_conversations_migration_encrypts_what_was_typed(app, session) -> None:
    """conversations.data stored before #12 item 6 in clear is encrypted by the migration
    (and decrypted again by its downgrade)."""
    from flask_migrate import downgrade, upgrade

    from mutualaid.models import Conversation

    person = builders.person(session)
    person_id = person.id
    session.add(Conversation(person_id=person_id, data={"details": "12 Canon Dr, code 4417"}))
    session.commit()
    db.session.remove()

    def raw() -> str:
        with db.engine.connect() as conn:
            return conn.scalar(text("SELECT CAST(data AS TEXT) FROM conversations"))

    assert raw().startswith("v1:")
    downgrade(revision="b4c1d2e3f405")
    assert "Canon" in raw()
    upgrade()
    assert raw().startswith("v1:") and "Canon" not in raw()
    assert db.session.get(Conversation, person_id).data == {"details": "12 Canon Dr, code 4417"}
