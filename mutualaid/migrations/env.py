"""Alembic environment: migrations run against the app's own engine (Flask-Migrate)."""

import logging

from alembic import context
from flask import current_app

from mutualaid.models.base import UTCDateTime
from mutualaid.models.crypto import Encrypted

config = context.config
log = logging.getLogger("alembic.env")
target_db = current_app.extensions["migrate"].db


def render_item(type_, obj, autogen_context):
    """Write our own types as the plain types they store."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(obj, Encrypted):
        return "sa.Text()"  # holds ciphertext; a migration must also encrypt existing rows
    return False


def process_revision_directives(context_, revision, directives):
    # `mutualaid db migrate` with no model change writes no empty revision.
    if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
        directives[:] = []
        log.info("No changes in schema detected.")


def run_migrations_online():
    conf_args = dict(current_app.extensions["migrate"].configure_args)
    conf_args.setdefault("process_revision_directives", process_revision_directives)
    engine = target_db.engine
    conf_args["compare_type"] = True
    # SQLite cannot ALTER most things: rebuild tables in batch mode there.
    conf_args["render_as_batch"] = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        sqlite = None
        if engine.dialect.name == "sqlite":
            sqlite = connection.connection.driver_connection
        if sqlite is not None:
            # Rebuilding a table that others reference (people) drops it first, which
            # foreign keys forbid; SQLite lets them be switched off only outside a
            # transaction, so before the first statement. Checked again below.
            sqlite.execute("PRAGMA foreign_keys=OFF")
        try:
            context.configure(
                connection=connection,
                target_metadata=target_db.metadata,
                render_item=render_item,
                **conf_args,
            )
            with context.begin_transaction():
                context.run_migrations()
                if sqlite is not None:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise RuntimeError(f"migration broke foreign keys: {broken[:5]}")
            if connection.in_transaction():
                connection.commit()
        finally:
            if sqlite is not None:
                sqlite.execute("PRAGMA foreign_keys=ON")


if context.is_offline_mode():
    raise SystemExit(
        "Offline (SQL script) migrations are not supported; run `mutualaid db upgrade`."
    )
run_migrations_online()
