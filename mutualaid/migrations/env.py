"""Alembic environment: migrations run against the app's own engine (Flask-Migrate)."""

import logging

from alembic import context
from flask import current_app

from mutualaid.models.base import UTCDateTime

config = context.config
log = logging.getLogger("alembic.env")
target_db = current_app.extensions["migrate"].db


def render_item(type_, obj, autogen_context):
    """Write our UTC datetime type as the plain timezone-aware DateTime it stores."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
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
        context.configure(
            connection=connection,
            target_metadata=target_db.metadata,
            render_item=render_item,
            **conf_args,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit(
        "Offline (SQL script) migrations are not supported; run `mutualaid db upgrade`."
    )
run_migrations_online()
