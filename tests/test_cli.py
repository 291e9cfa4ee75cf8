"""The `mutualaid` command: accounts, demo data, places, health."""

from __future__ import annotations

from sqlalchemy import func, select

from mutualaid.cli import create_user, places_load, seed_demo
from mutualaid.models import (
    Account,
    AidRequest,
    Match,
    MatchStatus,
    Offer,
    Place,
    RequestStatus,
    Role,
)
from mutualaid.services.accounts import check_password


def _count(session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


def test_create_user_reads_the_password_from_stdin(runner, session) -> None:
    result = runner.invoke(
        create_user, ["Ana@Example.org", "--role", "viewer"], input="correct horse battery\n"
    )
    assert result.exit_code == 0, result.output
    account = session.scalars(select(Account)).one()
    assert account.email == "ana@example.org"
    assert account.role is Role.VIEWER
    assert check_password(account, "correct horse battery")
    assert "correct horse" not in account.password_hash


def test_create_user_refuses_a_short_password_and_a_duplicate(runner, session) -> None:
    short = runner.invoke(create_user, ["a@example.org"], input="short\n")
    assert short.exit_code != 0 and "at least 12" in short.output
    runner.invoke(create_user, ["a@example.org"], input="long enough password\n")
    again = runner.invoke(create_user, ["A@example.org"], input="long enough password\n")
    assert again.exit_code != 0 and "already exists" in again.output
    assert _count(session, Account) == 1


def test_create_user_refuses_an_unknown_role(runner) -> None:
    result = runner.invoke(create_user, ["a@example.org", "--role", "god"], input="x" * 12 + "\n")
    assert result.exit_code != 0


def test_seed_demo_builds_a_network_in_every_state(runner, session) -> None:
    result = runner.invoke(seed_demo, [])
    assert result.exit_code == 0, result.output
    assert "password:" in result.output
    assert _count(session, Offer) == 60
    assert _count(session, AidRequest) == 40
    for status in RequestStatus:
        assert _count(session, AidRequest, AidRequest.status == status) > 0, status
    assert _count(session, Match, Match.status == MatchStatus.PROPOSED) > 0
    assert _count(session, AidRequest, AidRequest.lat.is_(None)) >= 1  # needs a location
    assert _count(session, Place) >= 30
    password = result.output.split("password:")[1].split()[0]
    admin = session.scalars(select(Account)).one()
    assert admin.role is Role.ADMIN and check_password(admin, password)


def test_seed_demo_if_empty_does_nothing_the_second_time(runner, session) -> None:
    assert runner.invoke(seed_demo, ["--if-empty"]).exit_code == 0
    second = runner.invoke(seed_demo, ["--if-empty"])
    assert "not seeded" in second.output
    assert _count(session, Offer) == 60


def test_places_load_is_idempotent(runner, session, tmp_path) -> None:
    path = tmp_path / "places.toml"
    path.write_text('[[place]]\nkey = "x"\nname = "X Park"\nkind = "landmark"\nlat = 1\nlon = 2\n')
    assert "1 added" in runner.invoke(places_load, [str(path)]).output
    assert "0 added, 0 updated" in runner.invoke(places_load, [str(path)]).output
    path.write_text('[[place]]\nkey = "x"\nname = "X Gardens"\nlat = 1\nlon = 2\n')
    assert "1 updated" in runner.invoke(places_load, [str(path)]).output
    assert session.scalars(select(Place)).one().name == "X Gardens"


def test_places_load_reports_a_bad_file(runner, tmp_path) -> None:
    path = tmp_path / "places.toml"
    path.write_text('[[place]]\nkey = "x"\n')
    result = runner.invoke(places_load, [str(path)])
    assert result.exit_code != 0 and "place #1" in result.output


def test_healthz_reports_the_database(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_healthz_is_503_when_the_database_is_gone(tmp_path) -> None:
    from mutualaid import create_app
    from tests.conftest import base_config

    app = create_app(base_config("postgresql+psycopg://nobody@127.0.0.1:1/none"))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "unreachable"


def test_readyz_when_migrated(client) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json["migrations"] == "current"


def test_readyz_is_503_when_migrations_are_pending(app, client, session) -> None:
    from sqlalchemy import text

    head = session.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    session.execute(text("UPDATE alembic_version SET version_num = 'ad512d53fed4'"))
    session.commit()
    try:
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json["database"] == "migrations pending"
    finally:
        # PostgreSQL's test database is reused (emptied, not re-migrated) by later tests.
        session.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head})
        session.commit()


def test_reset_password_sets_a_new_one_and_ends_every_session(runner, session) -> None:
    from mutualaid.cli import reset_password
    from mutualaid.models import AuditEvent
    from mutualaid.services.accounts import new_api_token

    runner.invoke(create_user, ["a@example.org"], input="the first long password\n")
    account = session.scalars(select(Account)).one()
    token = account.session_token
    new_api_token(session, account)
    session.commit()
    result = runner.invoke(reset_password, ["A@Example.org"], input="the second long password\n")
    assert result.exit_code == 0, result.output
    session.expire_all()
    account = session.scalars(select(Account)).one()
    assert check_password(account, "the second long password")
    assert not check_password(account, "the first long password")
    assert account.session_token != token
    assert account.api_token_hash is None
    # An operator at the command line did it, not the account's owner: the system acted.
    events = session.scalars(
        select(AuditEvent).where(
            AuditEvent.action.in_(("account.password_reset", "account.api_token_revoked"))
        )
    ).all()
    assert sorted(e.action for e in events) == [
        "account.api_token_revoked",
        "account.password_reset",
    ]
    assert {(e.actor_type, e.actor_id) for e in events} == {("system", None)}


def test_reset_password_refuses_an_unknown_account_and_a_short_password(runner, session) -> None:
    from mutualaid.cli import reset_password

    unknown = runner.invoke(reset_password, ["nobody@example.org"], input="long enough pass\n")
    assert unknown.exit_code == 1 and "no account" in unknown.output
    runner.invoke(create_user, ["a@example.org"], input="the first long password\n")
    short = runner.invoke(reset_password, ["a@example.org"], input="short\n")
    assert short.exit_code == 1 and "at least 12" in short.output
    assert check_password(session.scalars(select(Account)).one(), "the first long password")
