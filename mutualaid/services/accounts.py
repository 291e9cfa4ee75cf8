"""Coordinator accounts: creation and password hashing."""

from __future__ import annotations

import secrets

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from mutualaid.models import Account, Role
from mutualaid.services.audit import Actor, record

MIN_PASSWORD_LENGTH = 12


class AccountError(ValueError):
    pass


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    local, at, domain = email.partition("@")
    if not (local and at and "." in domain) or len(email) > 254 or " " in email:
        raise AccountError(f"not an email address: {email!r}")
    return email


def create_account(
    session: Session, email: str, password: str, role: Role, *, actor: Actor | None = None
) -> Account:
    """Add an account (scrypt-hashed password). Flushes; the caller commits."""
    email = normalise_email(email)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    if session.scalar(select(Account.id).where(func.lower(Account.email) == email)):
        raise AccountError(f"an account for {email} already exists")
    account = Account(
        email=email,
        password_hash=generate_password_hash(password, method="scrypt"),
        role=role,
        session_token=secrets.token_hex(16),
    )
    session.add(account)
    session.flush()
    record(
        session,
        actor or Actor.system(),
        "account.created",
        subject_type="accounts",
        subject_id=account.id,
        role=role.value,
    )
    return account


def check_password(account: Account, password: str) -> bool:
    return check_password_hash(account.password_hash, password)
