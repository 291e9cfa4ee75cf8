"""One unit of work per boundary: a web request, a CLI command or a worker job runs in one
transaction of the app's session, committed when it ends and rolled back when it raises
(a service's ``Refused`` included: the boundary's error handler then says why). Services
flush and never commit; this module is the only place that does.

Web views need nothing: the app (:class:`App`) runs every view inside
:func:`unit_of_work`. A CLI command is decorated with :func:`one_unit_of_work`; a worker
job opens one per step of its work.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import ParamSpec, TypeVar

from flask import Flask
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from mutualaid.extensions import db

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")


class UnitOfWork:
    """The open unit: its session, and what it holds until its commit or rollback."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._held = contextlib.ExitStack()

    def hold(self, resource: AbstractContextManager[T]) -> T:
        """Enter ``resource`` now and leave it only after this unit's commit or rollback:
        for a lock that must cover the commit (the matching run lock)."""
        return self._held.enter_context(resource)

    def commit_step(self) -> None:
        """Commit what is done so far and go on in a new transaction. Only for work designed
        to commit in steps (a worker job proposing a whole matching run): every step must
        stand on its own."""
        self.session.commit()


_current: contextvars.ContextVar[UnitOfWork | None] = contextvars.ContextVar(
    "unit_of_work", default=None
)


@contextlib.contextmanager
def unit_of_work() -> Iterator[UnitOfWork]:
    """Run the block as one unit of work on the app's session: commit when it ends, roll
    back when it raises; what it holds is released after either."""
    unit = UnitOfWork(db.session)
    token = _current.set(unit)
    try:
        with unit._held:
            try:
                yield unit
            except BaseException:
                unit.session.rollback()
                raise
            unit.session.commit()
    finally:
        _current.reset(token)


@contextlib.contextmanager
def transaction() -> Iterator[Session]:
    """A unit of work as services designed to commit in steps take it (``sending``): a
    context manager yielding the session."""
    with unit_of_work() as unit:
        yield unit.session


def current() -> UnitOfWork:
    """The unit of work this code runs in."""
    unit = _current.get()
    if unit is None:
        raise RuntimeError("no unit of work is open here")
    return unit


def one_unit_of_work(command: Callable[P, R]) -> Callable[P, R]:
    """Run ``command`` (a CLI command) as one unit of work."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with unit_of_work():
            return command(*args, **kwargs)

    return run


class App(Flask):
    """Flask, running each view as one unit of work (before-request hooks, such as loading
    the logged-in account, read in the same transaction)."""

    def dispatch_request(self) -> ResponseReturnValue:
        with unit_of_work():
            return super().dispatch_request()
