"""Coordinator accounts: creation, password hashing, login, roles and ending sessions."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from mutualaid.models import Account, Role
from mutualaid.services.audit import Actor, record
from mutualaid.services.errors import Refused

MIN_PASSWORD_LENGTH = 12
#: How passwords are hashed: scrypt with werkzeug's parameters (N 2**15, r 8, p 1), named
#: in full so that the dummy hash below costs exactly what a real one does.
PASSWORD_METHOD = "scrypt:32768:8:1"


class AccountError(Refused):
    """An account cannot be made or changed as asked; ``key`` names the sentence."""


def _too_short() -> AccountError:
    return AccountError(
        "short_password",
        f"the password must have at least {MIN_PASSWORD_LENGTH} characters",
        min=MIN_PASSWORD_LENGTH,
    )


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    local, at, domain = email.partition("@")
    if not (local and at and "." in domain) or len(email) > 254 or " " in email:
        raise AccountError("not_an_email", f"not an email address: {email!r}")
    return email


def create_account(
    session: Session, email: str, password: str, role: Role, *, actor: Actor | None = None
) -> Account:
    """Add an account (scrypt-hashed password). Flushes; the caller commits."""
    email = normalise_email(email)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise _too_short()
    if session.scalar(select(Account.id).where(func.lower(Account.email) == email)):
        raise AccountError("account_exists", f"an account for {email} already exists", email=email)
    account = Account(
        email=email,
        password_hash=generate_password_hash(password, method=PASSWORD_METHOD),
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


# Checked against when the email is unknown, so that a wrong email costs the same scrypt
# work as a wrong password and the two cannot be told apart by timing: the hash of a
# random password nobody kept, made with PASSWORD_METHOD (written here rather than made at
# import, which cost every process that imports the app 0.15 s of scrypt).
_DUMMY_HASH = (
    "scrypt:32768:8:1$CQ7ogQmCHwNhxOeb$fbdae58f1c64cab11c18e0744cbeedce45533d60992325ef271f"
    "42d92878c42cf9327a946192966203ba1f308fdf82d9c28f6fb5750e909edab01275f3d64c39"
)


def find_account(session: Session, email: str) -> Account | None:
    try:
        email = normalise_email(email)
    except AccountError:
        return None
    return session.scalar(select(Account).where(func.lower(Account.email) == email))


def authenticate(
    session: Session, email: str, password: str, *, now: dt.datetime
) -> Account | None:
    """The active account with this email and password, its login recorded; None for an
    unknown email, a wrong password or a disabled account alike (same work for each)."""
    account = find_account(session, email)
    if account is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password(account, password) or not account.active:
        return None
    account.last_login_at = now
    record(
        session,
        Actor.coordinator(account.id),
        "account.login",
        subject_type="accounts",
        subject_id=account.id,
    )
    return account


def rotate_session(account: Account) -> None:
    """Give the account a new session token: every cookie issued before stops working."""
    account.session_token = secrets.token_hex(16)


def logout(session: Session, account: Account) -> None:
    rotate_session(account)
    record(
        session,
        Actor.coordinator(account.id),
        "account.logout",
        subject_type="accounts",
        subject_id=account.id,
    )


def change_password(session: Session, account: Account, current: str, new: str) -> None:
    """Raises AccountError for a wrong current password or a too short new one; ends every
    other session of the account and revokes its API token."""
    if not check_password(account, current):
        raise AccountError("wrong_password", "the current password is wrong")
    _set_password(session, account, new, Actor.coordinator(account.id), "account.password_changed")


def reset_password(session: Session, email: str, new: str) -> Account:
    """An operator's reset from the command line (no current password): the account with
    this email gets ``new``, every session of it ends, and the reset is audited. Raises
    AccountError for an unknown email or a too short password. Flushes."""
    account = find_account(session, email)
    if account is None:
        raise AccountError("no_account", f"no account for {email.strip().lower()!r}")
    _set_password(session, account, new, Actor.system(), "account.password_reset")
    return account


def _set_password(session: Session, account: Account, new: str, actor: Actor, action: str):
    if len(new) < MIN_PASSWORD_LENGTH:
        raise _too_short()
    account.password_hash = generate_password_hash(new, method=PASSWORD_METHOD)
    rotate_session(account)
    # Whoever knew the old password (or held a session) may have made a token with it.
    revoke_api_token(session, account, reason=action.removeprefix("account."), actor=actor)
    record(session, actor, action, subject_type="accounts", subject_id=account.id)


def set_role(session: Session, account: Account, role: Role, *, actor: Actor) -> None:
    if account.role is role:
        return
    before = account.role
    account.role = role
    rotate_session(account)  # a demoted account logs in again with its new rights
    record(
        session,
        actor,
        "account.role_changed",
        subject_type="accounts",
        subject_id=account.id,
        from_state=before.value,
        to_state=role.value,
    )


def set_active(session: Session, account: Account, active: bool, *, actor: Actor) -> None:
    if account.active is active:
        return
    account.active = active
    rotate_session(account)
    if not active:
        account.api_token_hash = None
    record(
        session,
        actor,
        "account.enabled" if active else "account.disabled",
        subject_type="accounts",
        subject_id=account.id,
    )


def list_accounts(session: Session) -> list[Account]:
    return list(session.scalars(select(Account).order_by(Account.email)))


def new_password() -> str:
    """A first password for an invited account (to be changed at first login)."""
    return secrets.token_urlsafe(12)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_api_token(session: Session, account: Account) -> str:
    """Give the account a new JSON API token (any earlier one stops working); returns the
    token, which is stored only as its hash and shown once."""
    token = "ma_" + secrets.token_urlsafe(32)
    account.api_token_hash = _token_hash(token)
    record(
        session,
        Actor.coordinator(account.id),
        "account.api_token_created",
        subject_type="accounts",
        subject_id=account.id,
    )
    return token


def revoke_api_token(
    session: Session, account: Account, *, reason: str = "revoked", actor: Actor | None = None
) -> None:
    """Revoke the account's API token, audited as ``actor``'s doing (the account's own
    unless said: an operator's reset from the command line is the system's)."""
    if account.api_token_hash is None:
        return
    account.api_token_hash = None
    record(
        session,
        actor or Actor.coordinator(account.id),
        "account.api_token_revoked",
        subject_type="accounts",
        subject_id=account.id,
        reason=reason,
    )


def account_for_token(session: Session, token: str) -> Account | None:
    """The active account holding this API token, or None."""
    if not token.startswith("ma_") or len(token) > 100:
        return None
    account = session.scalar(select(Account).where(Account.api_token_hash == _token_hash(token)))
    return account if account is not None and account.active else None
