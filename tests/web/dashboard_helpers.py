"""Helpers of the dashboard and auth tests: accounts of each role, logging in."""

from __future__ import annotations

import itertools

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from mutualaid.models import Account, Role
from mutualaid.services.accounts import create_account

PASSWORD = "correct horse battery staple"
_seq = itertools.count(1)


def account(session: Session, role: Role | str = Role.COORDINATOR, **fields: object) -> Account:
    role = Role(role)
    email = fields.pop("email", None) or f"{role.value}{next(_seq)}@example.org"
    created = create_account(session, str(email), str(fields.pop("password", PASSWORD)), role)
    for name, value in fields.items():
        setattr(created, name, value)
    session.commit()
    return created


def login(client: FlaskClient, email: str, password: str = PASSWORD, **extra: str):
    return client.post("/login", data={"email": email, "password": password, **extra})


def logged_in(app, session: Session, role: Role | str) -> FlaskClient:
    """A fresh client logged in as a new account of ``role``."""
    client = app.test_client()
    acct = account(session, role)
    response = login(client, acct.email)
    assert response.status_code == 303, response.get_data(as_text=True)
    return client
