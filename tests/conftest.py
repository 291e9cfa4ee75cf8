"""Fixtures shared by the app's tests: the app on each database, client, runner, session.

Tests that take ``app`` (or anything built on it) run once on SQLite and once on
PostgreSQL. PostgreSQL comes from MUTUALAID_TEST_DATABASE_URL; without it those runs
are skipped on a laptop, and fail under CI=true, where they must run.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import flask_sqlalchemy as fsa
import jinja2
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from werkzeug.routing import Rule

from mutualaid import create_app
from mutualaid.extensions import db

SECRET = "test-secret-key-not-for-production"
IN_CI = os.environ.get("CI", "").lower() == "true"


class _TemplatesCompiledOnce(jinja2.BytecodeCache):
    """Jinja's bytecode cache (its documented way to skip compiling a template again), kept
    in memory for the whole session: the suite builds an app per test, and each app's
    environment compiled every template it rendered afresh, a fifth of a dashboard test.
    The bucket checks the template's source, so an edited template is compiled again."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if (code := self._code.get(bucket.key)) is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


Flask.jinja_options = {**Flask.jinja_options, "bytecode_cache": _TemplatesCompiledOnce()}

_url_builders: dict[tuple[object, ...], object] = {}
_compile_url_builder = Rule._compile_builder


def _url_builder_compiled_once(rule: Rule, append_unknown: bool = True):  # type: ignore[no-untyped-def]
    """Werkzeug compiles a URL builder for each route of each app with ``compile()``: two
    thirds of ``create_app``, paid by every test. The builder is a function of the route's
    parsed parts alone (``self`` is passed at call time), so one compiled per route text is
    the same function; a route with defaults (baked into its builder) is not shared."""
    if rule.defaults:
        return _compile_url_builder(rule, append_unknown)
    key = (rule.rule, tuple(rule._trace), append_unknown)
    if (builder := _url_builders.get(key)) is None:
        builder = _url_builders[key] = _compile_url_builder(rule, append_unknown)
    return builder


Rule._compile_builder = _url_builder_compiled_once  # type: ignore[method-assign]

# SQLAlchemy keeps each statement it has compiled, keyed by the dialect object it compiled
# for, in its engine's cache (and the ORM's in each mapper). The suite builds an engine per
# test, whose new dialect found nothing there: every statement of every test was compiled
# afresh, a quarter of a dashboard test. Engines of one backend now share the first one's
# dialect and one statement cache. Dialects of one driver differ only in what they learn
# from the server on first connect, the same for every database of this one server (and
# of this one sqlite3 library) — and in the cipher that mutualaid.models.crypto keeps per
# dialect, so only apps with the same data keys share one.
_dialects: dict[tuple[object, ...], sa.Dialect] = {}
_not_yet_shared: dict[tuple[object, ...], list[sa.Dialect]] = {}
_statements = sa.util.LRUCache(20_000)
_make_engine = fsa.SQLAlchemy._make_engine


def _engine_sharing_compiled_statements(self, bind_key, options, app):  # type: ignore[no-untyped-def]
    engine = _make_engine(self, bind_key, options, app)
    name = (engine.url.drivername, app.config.get("DATA_KEY"), app.config.get("DATA_KEY_OLD"))
    if (shared := _dialects.get(name)) is None:
        # The first dialect of a driver that has met its server (initialize() ran).
        seen = _not_yet_shared.setdefault(name, [])
        shared = next((d for d in seen if d.server_version_info is not None), None)
        if shared is None:
            seen.append(engine.dialect)
            return engine
        _dialects[name] = shared
        del _not_yet_shared[name]
    engine.dialect = shared
    engine._compiled_cache = _statements
    return engine


fsa.SQLAlchemy._make_engine = _engine_sharing_compiled_statements  # type: ignore[method-assign]


def base_config(database_url: str, **extra: object) -> dict[str, object]:
    return {
        "ENV": "production",
        "SECRET_KEY": SECRET,
        "DATABASE_URL": database_url,
        "WTF_CSRF_ENABLED": False,
        "TESTING": True,
        **extra,
    }


def postgres_url() -> str | None:
    """The test database; under pytest-xdist each worker gets its own (<name>_gw0 …),
    created on first use, because every test empties the database it runs on."""
    url = os.environ.get("MUTUALAID_TEST_DATABASE_URL")
    if not url:
        if IN_CI:
            pytest.fail(
                "CI=true but MUTUALAID_TEST_DATABASE_URL is not set: PostgreSQL tests must run"
            )
        return None
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    return _database_for_worker(url, worker) if worker else url


def _database_for_worker(url: str, worker: str) -> str:
    base = sa.engine.make_url(url.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"{base.database}_{worker}"
    admin = sa.create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.scalar(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
            )
            if not exists:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError:
        return url  # unreachable: postgres_migrated reports it
    finally:
        admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def _upgrade(database_url: str) -> None:
    from flask_migrate import upgrade

    app = create_app(base_config(database_url))
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file migrated once; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    _upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_migrated() -> str:
    url = postgres_url()
    if url is None:
        pytest.skip("PostgreSQL not configured (set MUTUALAID_TEST_DATABASE_URL)")
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
    except sa.exc.OperationalError as exc:
        if IN_CI:
            pytest.fail(f"PostgreSQL unreachable under CI=true: {exc}")
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    finally:
        engine.dispose()
    _upgrade(url)
    return url


def _empty_all(database_url: str) -> None:
    """Empty every table and restart every sequence, as TRUNCATE … RESTART IDENTITY would.

    DELETE, not TRUNCATE: a test leaves a few rows, and deleting them takes ~20 ms where
    TRUNCATE of every table takes ~500 ms on a loaded machine (it swaps each table's files),
    paid by every PostgreSQL test. The foreign keys (some between tables that point at each
    other) are not checked while the whole database is emptied, which needs a superuser, as
    CI's is; another role gets TRUNCATE.
    """
    from mutualaid.models import Base

    engine = sa.create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    tables = [t.name for t in Base.metadata.sorted_tables]
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
            conn.execute(sa.text("; ".join(f"DELETE FROM {name}" for name in tables)))
            conn.execute(sa.text("SELECT setval(oid, 1, false) FROM pg_class WHERE relkind = 'S'"))
    except sa.exc.ProgrammingError:  # not a superuser
        with engine.begin() as conn:
            conn.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    finally:
        engine.dispose()


def sqlite_copy(template: Path, tmp_path: Path) -> str:
    """A fresh copy of the migrated SQLite template. A module whose behaviour does not
    depend on the database (who may open a route, what a text says) overrides
    ``database_url`` with it and runs once, not on each database."""
    path = tmp_path / "test.db"
    shutil.copy(template, path)
    return f"sqlite:///{path}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A freshly migrated, empty database of each kind."""
    if request.param == "sqlite":
        return sqlite_copy(request.getfixturevalue("sqlite_template"), tmp_path)
    url = request.getfixturevalue("postgres_migrated")
    _empty_all(url)
    return url


@pytest.fixture(autouse=True)
def cheap_password_hashes(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheap scrypt parameters for the suite's accounts, as Django's test settings advise:
    the real ones cost ~0.1 s a hash and another a login, paid by every dashboard test. The
    checks read the parameters from each hash, so logging in is cheap too, and the hash of
    an unknown email is cheap alike. A test of the real cost says
    @pytest.mark.real_password_hashes."""
    if request.node.get_closest_marker("real_password_hashes"):
        return
    from werkzeug.security import generate_password_hash

    from mutualaid.services import accounts

    def cheap(password: str, method: str = "scrypt") -> str:
        return generate_password_hash(password, method="scrypt:1024:8:1")

    monkeypatch.setattr(accounts, "generate_password_hash", cheap)
    monkeypatch.setattr(accounts, "_DUMMY_HASH", cheap("an unknown email's password"))


@pytest.fixture(autouse=True)
def no_pause_for_webhooks(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process tests store a text and handle it in one thread: no webhook waits for
    SQLite's write lock meanwhile, so the worker's pause for them (as long as each text's
    handling took) is only time lost. The end-to-end tests run the real worker, pauses
    and all."""
    from mutualaid.worker import jobs

    monkeypatch.setattr(jobs, "SHARE_SQLITE_WRITE_LOCK", False)


@pytest.fixture
def app_config() -> dict[str, object]:
    """Extra settings for the ``app`` fixture; override in a module or test."""
    return {}


@pytest.fixture
def app(database_url: str, app_config: dict[str, object]) -> Iterator[Flask]:
    app = create_app(base_config(database_url, **app_config))
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def session(app: Flask):
    return db.session


@pytest.fixture
def gazetteer_loaded(runner: FlaskCliRunner) -> None:
    """The shipped gazetteer of places loaded, as `mutualaid places load` (and `make run`)
    does: texts naming a ZIP or a neighbourhood are placed."""
    from mutualaid.cli import places_load

    assert runner.invoke(places_load, []).exit_code == 0


def _expected_seconds(item: pytest.Item) -> float:
    """A test's expected time: ``@pytest.mark.slow(seconds=N)`` says it, a test that starts
    the service and says nothing is taken for 30 s, any other for nothing."""
    if (slow := item.get_closest_marker("slow")) is not None:
        return float(slow.kwargs.get("seconds", 10))
    return 30.0 if item.get_closest_marker("e2e") else 0.0


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-xdist, deal the long modules out first, one share per process.

    The work-stealing scheduler gives each process an equal, contiguous slice of the
    collection and then moves the tail of the longest queue to whichever runs dry; a
    process never gives away the head of its queue. Collected in file order, the long
    end-to-end modules sit together at the head of the first slice, and that one process
    ran them all one after the other while the others finished and waited. Here the long
    modules (each kept whole: they share a started service) are spread over the slices,
    longest first to the least loaded (LPT), each slice's at its head; the quick tests
    fill the slices after them, and stealing evens out the end. Every process computes
    the same order, as xdist requires."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "0") or 0)
    if workers < 2 or len(items) < 2 * workers:
        return
    modules: dict[str, list[pytest.Item]] = {}
    for item in items:
        modules.setdefault(item.nodeid.split("::", 1)[0], []).append(item)
    long_modules = sorted(
        (
            (sum(map(_expected_seconds, tests)), name, tests)
            for name, tests in modules.items()
            if any(_expected_seconds(t) > 0 for t in tests)
        ),
        key=lambda m: (-m[0], m[1]),
    )
    if not long_modules:
        return
    shares: list[list[pytest.Item]] = [[] for _ in range(workers)]
    loads = [0.0] * workers
    for seconds, _, tests in long_modules:
        least = loads.index(min(loads))
        shares[least] += tests
        loads[least] += seconds
    long_ids = {id(t) for _, _, tests in long_modules for t in tests}
    quick = [item for item in items if id(item) not in long_ids]
    # The slices xdist will cut: the first process gets len // workers, the next the rest
    # divided by those left, and so on (WorkStealingScheduling.check_schedule).
    ordered: list[pytest.Item] = []
    left = len(items)
    for k, share in enumerate(shares):
        size = left // (workers - k)
        fill = max(0, size - len(share))
        ordered += share + quick[:fill]
        del quick[:fill]
        left -= size
    ordered += quick
    items[:] = ordered
