"""Personal data at rest: a dump of the database alone shows no phone number and no street
address, while the service, the dashboard and the volunteer who accepted still read them;
lookups by phone number still work; a wrong DATA_KEY fails loudly; DATA_KEY is validated."""

from __future__ import annotations

import base64
import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import phonenumbers
import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, StatementError

from mutualaid import create_app
from mutualaid.extensions import db
from mutualaid.models import AidRequest, Message, MessageDirection, Person, Role
from mutualaid.models.crypto import Cipher, DecryptionError, derive_key, parse_key
from mutualaid.settings import ConfigError, load_settings
from tests import builders
from tests.conftest import SECRET, base_config
from tests.sms_helpers import confirm_by_sms, outbox, text
from tests.web.dashboard_helpers import logged_in

FORM_PHONE = "+17185550142"  # asks by the web form, with an address
TEXTER = "+13475550163"  # asks by SMS
VOLUNTEER = "+19295550177"
ADDRESS = "12 Canarywood Lane"
DETAILS = "buzzer canary-detail-XYZ"
KEY = os.urandom(64)


def spellings(e164: str) -> list[str]:
    """The ways a number shows up in text: +17185550142, 17185550142, 7185550142,
    (718) 555-0142, 718-555-0142, 718.555.0142, 555-0142, 5550142."""
    number = phonenumbers.parse(e164)
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    digits = str(number.national_number)
    area, exchange, line = digits[:3], digits[3:6], digits[6:]
    return [
        e164,
        e164.lstrip("+"),
        digits,
        national,
        f"{area}-{exchange}-{line}",
        f"{area}.{exchange}.{line}",
        f"{exchange}-{line}",
        exchange + line,
    ]


CANARIES = [
    *spellings(FORM_PHONE),
    *spellings(TEXTER),
    *spellings(VOLUNTEER),
    ADDRESS,
    "Canarywood",
    "canary-detail-XYZ",
]


def raw_dump(engine: sa.Engine) -> str:
    """Every row of every table as the database stores it: plain SQL, no model types."""
    rows = []
    with engine.connect() as conn:
        for table in sa.inspect(conn).get_table_names():
            rows += [repr(tuple(r)) for r in conn.exec_driver_sql(f'SELECT * FROM "{table}"')]
    return "\n".join(rows)


def backup_bytes(database_url: str) -> bytes:
    """What a stolen backup holds: the SQLite files themselves, or pg_dump's output."""
    url = sa.engine.make_url(database_url)
    if url.get_backend_name() == "sqlite":
        files = [Path(url.database), Path(url.database + "-wal")]
        return b"".join(f.read_bytes() for f in files if f.exists())
    if shutil.which("pg_dump") is None:
        pytest.skip("pg_dump not installed")
    libpq = url.set(drivername="postgresql").render_as_string(hide_password=False)
    return subprocess.run(
        ["pg_dump", "--data-only", libpq], capture_output=True, check=True, timeout=60
    ).stdout


@pytest.fixture
def story(app, client, session):
    """One requester asks by the web form with her address, another by SMS; a volunteer
    texts YES and gets the address."""
    from mutualaid.cli import places_load

    app.test_cli_runner().invoke(places_load, [])
    response = client.post(
        "/request",
        data={
            "category": "groceries",
            "details": DETAILS,
            "location_text": "11216",
            "address": ADDRESS,
            "urgency": "normal",
            "name": "Rosa",
            "phone": "(718) 555-0142",
        },
    )
    assert response.status_code == 303
    confirm_by_sms(client, app, session, "+17185550142")  # her number proves the form hers
    text(client, app, TEXTER, "need groceries in 11216")
    req = session.scalars(select(AidRequest).where(AidRequest.address.is_not(None))).one()
    volunteer = builders.person(session, phone=VOLUNTEER, name="Helper")
    builders.match(
        session, request=req, offer=builders.offer(session, person=volunteer), code="4821"
    )
    session.commit()
    text(client, app, VOLUNTEER, "YES 4821")
    return req


def test_a_dump_shows_no_phone_number_and_no_address(app, session, story) -> None:
    dump = raw_dump(db.engine)
    assert story.ref in dump and dump.count("v1:") >= 10  # the rows are there, encrypted
    for canary in CANARIES:
        assert canary not in dump, canary
    backup = backup_bytes(app.config["DATABASE_URL"])
    assert story.ref.encode() in backup
    for canary in CANARIES:
        assert canary.encode() not in backup, canary


def test_the_volunteer_and_the_dashboard_still_read_them(app, session, story) -> None:
    accepted = [m for m in outbox(session, VOLUNTEER) if m.template == "accepted_volunteer"]
    assert len(accepted) == 1 and ADDRESS in accepted[0].body
    coordinator = logged_in(app, session, Role.COORDINATOR)
    page = coordinator.post(f"/dashboard/requests/{story.id}/reveal").get_data(as_text=True)
    assert ADDRESS in page and "canary-detail-XYZ" in page
    assert any(spelling in page for spelling in spellings(FORM_PHONE))


def test_lookups_by_phone_number_still_work(app, client, session, story) -> None:
    text(client, app, TEXTER, "need a ride in 11216")
    session.expire_all()
    texter = session.scalars(select(Person).where(Person.phone == TEXTER)).one()
    inbound = session.scalars(
        select(Message).where(
            Message.phone == TEXTER, Message.direction == MessageDirection.INBOUND
        )
    ).all()
    assert len(inbound) == 2 and {m.person_id for m in inbound} == {texter.id}
    assert session.scalar(select(func.count()).where(Person.phone.in_([TEXTER, FORM_PHONE]))) == 2
    # The unique constraint still holds on the encrypted values.
    session.add(Person(phone=TEXTER))
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()


def test_one_number_looks_different_in_each_column(app, session) -> None:
    person = builders.person(session, phone=TEXTER)
    session.add(
        Message(
            direction=MessageDirection.INBOUND,
            phone=TEXTER,
            body=TEXTER,
            status="received",
            person_id=person.id,
        )
    )
    session.commit()
    with db.engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT phone FROM people").scalar_one()
        phone, body = conn.exec_driver_sql("SELECT phone, body FROM messages").one()
    assert stored.startswith("v1:") and len({stored, phone, body}) == 3


@contextlib.contextmanager
def other_app(database_url: str, **keys: str) -> Iterator[Flask]:
    """Another app on the same database with other keys, its context pushed."""
    other = create_app(base_config(database_url, **keys))
    try:
        with other.app_context():
            yield other
            db.session.remove()
    finally:
        with other.app_context():
            db.engine.dispose()


def test_a_wrong_data_key_fails_loudly(app, session, database_url) -> None:
    builders.person(session, phone=TEXTER)
    session.commit()
    with other_app(database_url, DATA_KEY=base64.urlsafe_b64encode(KEY).decode()):
        with pytest.raises(DecryptionError, match="not the key the data was encrypted with"):
            db.session.scalars(select(Person)).all()
        db.session.rollback()


def test_check_key_finds_a_wrong_data_key_before_any_page_or_job(app, session, database_url):
    from mutualaid.models import Base
    from mutualaid.models.crypto import check_key

    check_key(session.connection(), Base.metadata, app.extensions["data_cipher"])  # empty
    session.rollback()
    builders.person(session, phone=TEXTER)
    session.commit()
    check_key(session.connection(), Base.metadata, app.extensions["data_cipher"])
    session.rollback()
    with other_app(database_url, DATA_KEY=base64.urlsafe_b64encode(KEY).decode()) as other:
        with pytest.raises(DecryptionError, match=r"people\.phone: .* DATA_KEY"):
            check_key(db.session.connection(), Base.metadata, other.extensions["data_cipher"])
        db.session.rollback()


def test_a_tampered_or_unencrypted_value_is_refused(app, session) -> None:
    person = builders.person(session, phone=TEXTER)
    session.commit()
    with db.engine.begin() as conn:
        stored = conn.exec_driver_sql("SELECT phone FROM people").scalar_one()
        flipped = stored[:-3] + ("A" if stored[-3] != "A" else "B") + stored[-2:]
        conn.execute(sa.text("UPDATE people SET phone = :p"), {"p": flipped})
    session.expire_all()
    with pytest.raises(DecryptionError, match=r"people\.phone"):
        session.get(Person, person.id)
    session.rollback()
    with db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE people SET phone = :p"), {"p": TEXTER})
    session.expire_all()
    with pytest.raises(DecryptionError, match="not encrypted"):
        session.get(Person, person.id)
    session.rollback()


def test_too_long_a_value_is_refused_before_it_is_stored(app, session) -> None:
    with pytest.raises(StatementError, match=r"aid_requests\.address: longer than 200"):
        builders.aid_request(session, address="x" * 201)
    session.rollback()


def test_rotating_the_data_key(app, session, database_url) -> None:
    """Rotation: with the new key as DATA_KEY and the old one as DATA_KEY_OLD, values are
    still read; `mutualaid rotate-data-key` rewrites them; then the new key alone finds
    people by phone and the old one reads nothing."""
    from mutualaid.cli import rotate_data_key

    builders.aid_request(session, requester=builders.person(session, phone=TEXTER), address=ADDRESS)
    session.commit()
    new = base64.urlsafe_b64encode(KEY).decode()
    old = base64.urlsafe_b64encode(derive_key(SECRET)).decode()  # what the app used
    with other_app(database_url, DATA_KEY=new, DATA_KEY_OLD=old) as rotating:
        assert db.session.scalars(select(AidRequest.address)).all() == [ADDRESS]
        result = rotating.test_cli_runner().invoke(rotate_data_key, [])
        assert result.exit_code == 0 and "Re-encrypted 2 values" in result.output, result.output
    with other_app(database_url, DATA_KEY=new) as rotated:
        found = db.session.scalars(select(Person).where(Person.phone == TEXTER)).one()
        assert db.session.scalars(select(AidRequest.address)).all() == [ADDRESS]
        assert found.phone == TEXTER
        result = rotated.test_cli_runner().invoke(rotate_data_key, [])
        assert result.exit_code != 0 and "DATA_KEY_OLD" in result.output
    session.expire_all()
    with pytest.raises(DecryptionError):
        session.scalars(select(Person)).all()
    session.rollback()


def test_each_encrypted_column_is_bound_to_its_own_name() -> None:
    """Rotation and the migration address values by "table.column": the models must too."""
    from mutualaid.models import Base
    from mutualaid.models.crypto import Encrypted

    bound = {
        (table.name, c.name): c.type.column
        for table in Base.metadata.sorted_tables
        for c in table.c
        if isinstance(c.type, Encrypted)
    }
    assert [v for (t, c), v in bound.items() if v != f"{t}.{c}"] == []
    assert {"people.phone", "messages.phone", "aid_requests.address"} <= set(bound.values())


# --- The DATA_KEY setting --------------------------------------------------------------

PRODUCTION = {"MUTUALAID_SECRET_KEY": "a-long-enough-secret-key"}


def test_production_without_a_data_key_stops_start_up() -> None:
    with pytest.raises(ConfigError, match=r"^DATA_KEY: missing"):
        load_settings(environ=PRODUCTION)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MUTUALAID_DATA_KEY", "too-short"),
        ("MUTUALAID_DATA_KEY", "ab" * 32),  # 32 bytes: AES-SIV-256 needs 64
        ("MUTUALAID_DATA_KEY", "!" * 86),
        ("MUTUALAID_DATA_KEY_OLD", "ab" * 63),
    ],
)
def test_a_malformed_data_key_is_refused_by_name(name: str, value: str) -> None:
    environ = {**PRODUCTION, "MUTUALAID_DATA_KEY": "cd" * 64, name: value}
    with pytest.raises(ConfigError, match=rf"^{name.removeprefix('MUTUALAID_')}: expected 64"):
        load_settings(environ=environ)


def test_hex_and_base64_give_the_same_key() -> None:
    raw = os.urandom(64)
    as_hex = load_settings(environ={**PRODUCTION, "MUTUALAID_DATA_KEY": raw.hex()})
    as_b64 = load_settings(
        environ={**PRODUCTION, "MUTUALAID_DATA_KEY": base64.urlsafe_b64encode(raw).decode()}
    )
    assert parse_key(as_hex["DATA_KEY"]) == parse_key(as_b64["DATA_KEY"]) == raw


def test_development_derives_the_data_key_from_the_secret_key() -> None:
    def key(secret: str) -> bytes:
        environ = {"MUTUALAID_ENV": "development", "MUTUALAID_SECRET_KEY": secret}
        return parse_key(load_settings(environ=environ)["DATA_KEY"])

    assert (
        key("one-long-secret-key")
        == key("one-long-secret-key")
        == derive_key("one-long-secret-key")
    )
    assert key("one-long-secret-key") != key("another-secret-key")
    sealed = Cipher(key("one-long-secret-key")).encrypt("x", "t.c")
    with pytest.raises(DecryptionError):
        Cipher(key("another-secret-key")).decrypt(sealed, "t.c")


# --- The migration -----------------------------------------------------------------------


def test_the_migration_encrypts_a_previous_release_and_decrypts_on_the_way_down(
    app, client, runner, session
) -> None:
    """The demo network as the previous revision stored it (in plain text) is encrypted in
    place by the upgrade, and the service still finds its people by phone number."""
    from flask_migrate import downgrade, upgrade

    from mutualaid.cli import seed_demo

    assert runner.invoke(seed_demo, []).exit_code == 0
    builders.aid_request(session, address=ADDRESS, details=DETAILS)  # the demo gives none
    session.commit()
    session.remove()
    downgrade(revision="c1a2b3d4e5f6")  # the schema before encryption, values decrypted
    with db.engine.connect() as conn:
        phones = conn.exec_driver_sql("SELECT phone FROM people ORDER BY id").scalars().all()
        places = conn.exec_driver_sql("SELECT location_text FROM aid_requests").scalars().all()
        address, details = conn.exec_driver_sql(
            "SELECT address, details FROM aid_requests WHERE address IS NOT NULL"
        ).one()
    assert len(phones) == 101 and all(p.startswith("+1") for p in phones)
    assert (address, details) == (ADDRESS, DETAILS)
    assert any(p == "behind the old bakery" for p in places)

    upgrade()
    dump = raw_dump(db.engine)
    for value in [*phones, ADDRESS, DETAILS, "behind the old bakery"]:
        assert value not in dump, value
    assert session.scalars(select(Person).where(Person.phone.in_(phones))).all()
    people = session.scalar(select(func.count()).select_from(Person))
    text(client, app, phones[-1], "need groceries in 11216")
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Person)) == people  # found, not new
    assert session.scalars(
        select(AidRequest.address).where(AidRequest.address.is_not(None))
    ).all() == [ADDRESS]
