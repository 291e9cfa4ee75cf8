"""The `mutualaid` command: Flask's CLI for this app, plus our own commands.

Each command is one unit of work (``@one_unit_of_work``): it commits when it ends and
rolls back when it fails. ``mutualaid worker`` is the worker's own command
(mutualaid.worker), registered beside these by the app factory."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup

from mutualaid import adapters
from mutualaid.extensions import db
from mutualaid.models import Role
from mutualaid.unit_of_work import current, one_unit_of_work

if TYPE_CHECKING:
    from mutualaid.services.demo import DemoSummary


def main() -> None:
    """The console command. Finds the instance's keys as `make run` does (the environment,
    then instance/secret_key and instance/data_key), so that every command reads the data
    the running service wrote; a stored value the DATA_KEY cannot read is one line that
    says so, not a traceback."""
    from mutualaid.keys import command_folder, use_instance_keys
    from mutualaid.models.crypto import DecryptionError

    use_instance_keys(folder=command_folder())
    cli = FlaskGroup(create_app=_create_app, add_version_option=False, load_dotenv=False)
    try:
        cli.main(prog_name="mutualaid")
    except DecryptionError as exc:
        click.echo(
            f"mutualaid: {exc} (make run keeps the DATA_KEY in instance/data_key: run the "
            "command in the folder it was started in, or set MUTUALAID_DATA_KEY)",
            err=True,
        )
        sys.exit(1)


def _create_app() -> Flask:
    from mutualaid import create_app
    from mutualaid.settings import ConfigError

    try:
        return create_app()
    except ConfigError as exc:
        click.echo(f"mutualaid: configuration error: {exc}", err=True)
        if str(exc).startswith(("SECRET_KEY: missing", "DATA_KEY: missing")):
            from mutualaid.keys import command_folder

            click.echo(
                f"mutualaid: no key file in {command_folder()}: make run keeps the keys it "
                "made in instance/ of the folder it was started in; run the command there",
                err=True,
            )
        sys.exit(2)


def register(app: Flask) -> None:
    app.cli.add_command(create_user)
    app.cli.add_command(reset_password)
    app.cli.add_command(seed_demo)
    app.cli.add_command(places)
    app.cli.add_command(match)
    app.cli.add_command(simulate)
    app.cli.add_command(purge)
    app.cli.add_command(recover_inbound)
    app.cli.add_command(rotate_data_key)
    app.cli.add_command(import_)


@click.command("create-user")
@click.argument("email")
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    default=Role.COORDINATOR.value,
    show_default=True,
)
@one_unit_of_work
def create_user(email: str, role: str) -> None:
    """Create a dashboard account. The password is asked for at a terminal, or read from
    standard input (first line) when that is not a terminal."""
    from mutualaid.services.accounts import AccountError, create_account

    password = _read_password()
    try:
        account = create_account(db.session, email, password, Role(role))
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Created {account.role.value} account {account.email}.")


@click.command("reset-password")
@click.argument("email")
@one_unit_of_work
def reset_password(email: str) -> None:
    """Give an account a new password (a lost one, the demo organiser's): asked for at a
    terminal, or read from standard input (first line). Every session of the account
    ends; the reset is audited."""
    from mutualaid.services.accounts import AccountError
    from mutualaid.services.accounts import reset_password as reset

    password = _read_password()
    try:
        account = reset(db.session, email, password)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"New password set for {account.email}; its sessions have ended.")


def _read_password() -> str:
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\r\n")


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database has data.")
@click.option("--seed", default=7, show_default=True, help="Random seed of the demo city.")
def seed_demo(if_empty: bool, seed: int) -> None:
    """Fill the database with a demo network: places, ~60 volunteers, ~40 requests."""
    summary = seed_demo_data(if_empty=if_empty, seed=seed)
    if summary is None:
        click.echo("Database already has data; demo not seeded.")
        return
    click.echo(
        f"Demo network seeded: {summary.volunteers} volunteers, {summary.requests} requests."
    )
    click.echo(
        f"Coordinator login: {summary.admin_email}  password: {summary.admin_password}\n"
        "(shown once; create your own account with `mutualaid create-user`)"
    )


@one_unit_of_work
def seed_demo_data(*, if_empty: bool, seed: int = 7) -> DemoSummary | None:
    """Seed the demo network in one unit of work (the command's work, also the
    launcher's); None when ``if_empty`` and the database has data."""
    from mutualaid.services.demo import database_is_empty, seed_demo_network
    from mutualaid.services.location import read_places_file

    if if_empty and not database_is_empty(db.session):
        return None
    entries = read_places_file(_places_path())
    summary = seed_demo_network(
        db.session, entries, categories=current_app.extensions["categories"], seed=seed
    )
    return summary


@click.group()
def places() -> None:
    """The network's gazetteer of named places."""


@places.command("load")
@click.argument("path", required=False, type=click.Path(exists=True, dir_okay=False))
@one_unit_of_work
def places_load(path: str | None) -> None:
    """Load places from PATH (default: the PLACES_FILE setting), adding or updating by key."""
    from mutualaid.services.location import load_places, read_places_file

    try:
        entries = read_places_file(Path(path) if path else _places_path())
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    added, updated = load_places(db.session, entries)
    click.echo(f"Places: {added} added, {updated} updated, {len(entries)} in the file.")


def _places_path() -> Path:
    path = Path(current_app.config["PLACES_FILE"])
    return path if path.is_absolute() else Path(current_app.config["CONFIG_DIR"]) / path


@click.command("match")
@click.option(
    "--dry-run", is_flag=True, help="Print what would be proposed and why; change nothing."
)
@one_unit_of_work
def match(dry_run: bool) -> None:
    """Run matching now: propose a volunteer for each open request the engine can serve."""
    from mutualaid.services.matching_runs import RunSettings, describe, run_lock, run_matching

    if not current().hold(run_lock(db.engine)):
        raise click.ClickException("another matching run is in progress; try again shortly")
    run, plan = run_matching(
        db.session,
        adapters.sms_context(),
        RunSettings.from_config(current_app.config),
        trigger="cli",
        dry_run=dry_run,
        link_for=adapters.proposal_links(),
    )
    for line in describe(plan):
        click.echo(line)
    verb = "would propose" if dry_run else "proposed"
    click.echo(
        f"{run.requests_considered} open requests, {run.volunteers_considered} free volunteers: "
        f"{verb} {len(plan.result.pairs) if dry_run else run.proposed}, "
        f"{run.unmatched} unmatched, {plan.result.stats.total_km:.1f} km in all, "
        f"solved in {run.solve_seconds:.3f} s" + (" (proven optimal)" if run.proven_optimal else "")
    )


@click.command("simulate")
@click.option("--requests", default=150, show_default=True)
@click.option("--volunteers", default=60, show_default=True)
@click.option("--p-yes", default=0.55, show_default=True, help="Chance a volunteer says YES.")
@click.option(
    "--p-no", default=0.25, show_default=True, help="Chance of NO; the rest never answer."
)
@click.option("--hours", default=24.0, show_default=True, help="Length of the simulated day.")
@click.option("--seed", default=1, show_default=True)
def simulate(
    requests: int, volunteers: int, p_yes: float, p_no: float, hours: float, seed: int
) -> None:
    """Simulate one day of the demo city on a throw-away SQLite database (never yours):
    requests and offers arriving, volunteers answering, the worker's jobs running."""
    import tempfile

    from flask_migrate import upgrade

    from mutualaid import create_app
    from mutualaid.cli.simulation import DayPlan, simulate_day

    with tempfile.TemporaryDirectory() as folder:
        day_app = create_app(
            {
                "DATABASE_URL": f"sqlite:///{folder}/day.db",
                "LOG_LEVEL": "WARNING",
                "SECRET_KEY": current_app.config["SECRET_KEY"],
                "DATA_KEY": current_app.config["DATA_KEY"],
                "ENV": current_app.config["ENV"],
            }
        )
        with day_app.app_context():
            upgrade()
        plan = DayPlan(
            requests=requests,
            volunteers=volunteers,
            p_yes=p_yes,
            p_no=p_no,
            hours=hours,
            late_volunteers=volunteers // 4,
            seed=seed,
        )
        report = simulate_day(day_app, plan, _places_path())
        with day_app.app_context():
            db.engine.dispose()
    click.echo(report.summary())


@click.command("purge")
@one_unit_of_work
def purge() -> None:
    """Erase contact details and messages of requests closed more than RETENTION_DAYS ago."""
    import datetime as dt

    from mutualaid.models import utcnow
    from mutualaid.services.retention import purge as purge_expired

    report = purge_expired(
        db.session, now=utcnow(), retention=dt.timedelta(days=current_app.config["RETENTION_DAYS"])
    )
    click.echo(
        f"Erased {report.requests} closed requests, {report.people} people, "
        f"{report.messages} messages."
    )


@click.command("rotate-data-key")
@one_unit_of_work
def rotate_data_key() -> None:
    """Re-encrypt phone numbers, addresses and texts with DATA_KEY, reading those still
    under the previous key with DATA_KEY_OLD. Stop the web and the worker first."""
    from mutualaid.models import Base
    from mutualaid.models.crypto import reencrypt

    if not current_app.config["DATA_KEY_OLD"]:
        raise click.ClickException("DATA_KEY_OLD: set it to the previous key to rotate from")
    cipher = current_app.extensions["data_cipher"]
    changed = reencrypt(db.session.connection(), Base.metadata, cipher)
    click.echo(f"Re-encrypted {changed} values with the new DATA_KEY; remove DATA_KEY_OLD now.")


@click.command("recover-inbound")
@click.option("--hours", default=6.0, show_default=True, help="How far back to look.")
@one_unit_of_work
def recover_inbound(hours: float) -> None:
    """Import texts Twilio received that never reached the webhook (after an outage), and
    handle them."""
    import datetime as dt

    from mutualaid.models import utcnow
    from mutualaid.services import handling, inbox
    from mutualaid.services.limits import Limit

    config = current_app.config
    if config["SMS_BACKEND"] != "twilio":
        raise click.ClickException("only the twilio backend can list received messages")
    new_ids = inbox.recover_missed(
        db.session,
        adapters.sms_sender(),
        to=config["TWILIO_FROM"] or None,
        since=utcnow() - dt.timedelta(hours=hours),
        region=config["PHONE_REGION"],
        max_body=config["SMS_MAX_BODY"],
    )
    handling.handle_ready(
        db.session,
        adapters.sms_context(),
        limit=Limit(config["SMS_RATE_LIMIT"], config["SMS_RATE_WINDOW_SECONDS"]),
        secret=config["SECRET_KEY"],
        at_most=len(new_ids),
    )
    click.echo(f"Recovered {len(new_ids)} inbound messages.")


@click.command("import")
@click.argument("kind", type=click.Choice(["volunteers", "requests"]))
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--map",
    "mapping",
    multiple=True,
    metavar="COLUMN=FIELD",
    help="Read the column COLUMN as FIELD (or `ignore` it); repeatable.",
)
@click.option("--dry-run", is_flag=True, help="Say what each row would do; write nothing.")
@click.option("--skip-refused", is_flag=True, help="Import the other rows when some are refused.")
@click.option(
    "--taken-by-phone",
    is_flag=True,
    help="Requests only: a coordinator took them by phone, so they need no YES by text.",
)
@one_unit_of_work
def import_(
    kind: str,
    path: str,
    mapping: tuple[str, ...],
    dry_run: bool,
    skip_refused: bool,
    taken_by_phone: bool,
) -> None:
    """Import volunteers or requests from a CSV file (a Google Forms export, an Excel
    sheet), matching people by phone number. All rows or none: a refused row stops the
    import unless --skip-refused. Importing the same file again changes nothing."""
    from mutualaid.services.audit import Actor
    from mutualaid.services.errors import Refused
    from mutualaid.services.imports import ImportSettings, import_file
    from mutualaid.services.spreadsheets import parse_overrides

    if taken_by_phone and kind != "requests":
        raise click.UsageError("--taken-by-phone is for requests")
    try:
        report = import_file(
            db.session,
            Path(path).read_bytes(),
            kind,
            filename=Path(path).name,
            settings=ImportSettings.from_config(
                current_app.config, current_app.extensions["categories"]
            ),
            resolver=adapters.resolver(),
            actor=Actor.system(),
            overrides=parse_overrides(mapping),
            dry_run=dry_run,
            skip_refused=skip_refused,
            taken_by_phone=taken_by_phone,
            sms=adapters.sms_context(),
        )
    except Refused as exc:
        raise click.ClickException(f"{Path(path).name}: {exc}") from None
    for line in report.describe():
        click.echo(line)
    click.echo(report.summary())
    if report.refused and not report.applied and not dry_run:
        sys.exit(1)
