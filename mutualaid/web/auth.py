"""Dashboard login, logout, password change and the admin's accounts page; roles and
sessions that really end (a per-account token in the session, idle and absolute timeouts)."""

from __future__ import annotations

import functools
import hmac
import ipaddress
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import UserMixin, current_user, login_user, logout_user

from mutualaid.extensions import db, login_manager
from mutualaid.models import Account, Role, utcnow
from mutualaid.services import accounts
from mutualaid.services.audit import Actor
from mutualaid.services.limits import Limit, allowed, limit_key
from mutualaid.web.i18n import N_, label
from mutualaid.web.i18n import gettext as _

bp = Blueprint("auth", __name__)

FAILED_LOGIN = N_("That email and password do not match an active account.")
THROTTLED = N_("Too many attempts from here. Wait a few minutes and try again.")


class User(UserMixin):
    """The logged-in account as Flask-Login sees it. The id carries the session token, so
    rotating the token (logout, password change, disabling) ends every copy of the cookie."""

    def __init__(self, account: Account) -> None:
        self.account = account

    def get_id(self) -> str:
        return f"{self.account.id}:{self.account.session_token}"

    @property
    def id(self) -> int:
        return self.account.id

    @property
    def role(self) -> Role:
        return self.account.role

    @property
    def email(self) -> str:
        return self.account.email

    @property
    def actor(self) -> Actor:
        return Actor.coordinator(self.account.id)

    def can(self, action: str) -> bool:
        """ "act" for coordinators and admins, "admin" for admins only."""
        if action == "admin":
            return self.account.role is Role.ADMIN
        if action == "act":
            return self.account.role in (Role.ADMIN, Role.COORDINATOR)
        return True


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = None  # the session token does this job, exactly
    login_manager.user_loader(_load_user)
    login_manager.unauthorized_handler(_unauthorized)
    app.before_request(_forget_loaded_user)


def _forget_loaded_user() -> None:
    """Load the user from this request's cookie, never from an app context that outlived
    an earlier request (tests and CLI code can hold one open across requests)."""
    g.pop("_login_user", None)


def _load_user(user_id: str) -> User | None:
    account_id, _, token = user_id.partition(":")
    if not account_id.isdigit() or not token:
        return None
    account = db.session.get(Account, int(account_id))
    if (
        account is None
        or not account.active
        or not hmac.compare_digest(account.session_token.encode(), token.encode())
    ):
        session.clear()
        return None
    now = utcnow().timestamp()
    config = current_app.config
    login_at, seen_at = session.get("login_at", 0.0), session.get("seen_at", 0.0)
    if (
        now - login_at > config["SESSION_MAX_HOURS"] * 3600
        or now - seen_at > config["SESSION_IDLE_MINUTES"] * 60
    ):
        session.clear()
        return None
    if request.headers.get("X-Live-Refresh") != "1":
        # A page refreshing itself is not a person at the keyboard: it keeps nobody logged in.
        session["seen_at"] = now
    return User(account)


def _unauthorized():
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def require(action: str) -> Callable:
    """A view decorator: logged in (else to the login page) and allowed ``action``
    ("read", "act" or "admin"; else 403)."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.can(action):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def _safe_next(target: str | None) -> str:
    """Only a path on this site (never another host) is followed after login."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and "\\" not in target:
            return target
    return url_for("dashboard.overview")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        return render_template("auth/login.html", next=request.args.get("next", ""))
    email = request.form.get("email", "")[:254]
    password = request.form.get("password", "")[:1024]
    now = utcnow()
    if not _login_allowed(email, now=now):
        return _login_again(email, THROTTLED, 429)  # the attempt counts (it is committed)
    account = accounts.authenticate(db.session, email, password, now=now)
    if account is None:
        return _login_again(email, FAILED_LOGIN, 401)
    session.clear()  # a new session: nothing from before the login survives
    login_user(User(account))
    session["login_at"] = session["seen_at"] = now.timestamp()
    return redirect(_safe_next(request.form.get("next")), code=303)


def _login_allowed(email: str, *, now) -> bool:
    """Two limits, both counted in the database (every web process sees one total): the
    attempts from one address over every account (so one address cannot try a password
    on many accounts), and the attempts on one account from one address (so guessing one
    account's password is slow, while a stranger elsewhere cannot lock its owner out).
    Counted per email typed, known or not, so throttling reveals nothing either."""
    config = current_app.config
    secret, window = config["SECRET_KEY"], config["LOGIN_RATE_WINDOW_SECONDS"]
    address = client_network(request.remote_addr)
    from_here = allowed(
        db.session,
        limit_key(secret, "login-address", address),
        Limit(config["LOGIN_ADDRESS_RATE_LIMIT"], window),
        now=now,
    )
    on_account = allowed(
        db.session,
        limit_key(secret, "login", f"{email.strip().lower()} {address}"),
        Limit(config["LOGIN_RATE_LIMIT"], window),
        now=now,
    )
    return from_here and on_account


def client_network(remote_addr: str | None) -> str:
    """The address a limit counts: an IPv4 address, or an IPv6 address's /64 (one
    household or phone gets a whole /64 and could otherwise change address at will)."""
    try:
        ip = ipaddress.ip_address(remote_addr or "")
    except ValueError:
        return "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _sentence(exc: accounts.AccountError) -> str:
    """What was refused, as a sentence in the reader's language."""
    text = label("dash.error", exc.key, **exc.values)
    return text[:1].upper() + text[1:] + "."


def _login_again(email: str, error: str, status: int):
    page = render_template(
        "auth/login.html", email=email, error=_(error), next=request.form.get("next", "")
    )
    return page, status


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        accounts.logout(db.session, current_user.account)
        logout_user()
    session.clear()
    return redirect(url_for("auth.login"), code=303)


@bp.route("/account/password", methods=["GET", "POST"])
@require("read")
def password():
    if request.method == "GET":
        return render_template("auth/password.html")
    new = request.form.get("new", "")
    if new != request.form.get("confirm", ""):
        return render_template("auth/password.html", error=_("The two new passwords differ.")), 422
    account = current_user.account
    try:
        accounts.change_password(db.session, account, request.form.get("current", ""), new)
    except accounts.AccountError as exc:
        return render_template("auth/password.html", error=_sentence(exc)), 422
    had_token = account.api_token_hash is not None
    login_at = session.get("login_at")
    session.clear()
    login_user(User(account))  # this session goes on with the new token; all others end
    session["login_at"], session["seen_at"] = login_at, utcnow().timestamp()
    return render_template("auth/password.html", done=True, token_revoked=had_token)


@bp.get("/admin/accounts")
@require("admin")
def account_list():
    return _accounts_page()


def _accounts_page(status: int = 200, **extra: Any):
    return render_template(
        "auth/accounts.html", accounts=accounts.list_accounts(db.session), roles=list(Role), **extra
    ), status


@bp.post("/admin/accounts")
@require("admin")
def invite():
    role = request.form.get("role", "")
    if role not in {r.value for r in Role}:
        return _accounts_page(422, error=_("Choose a role."))
    first_password = accounts.new_password()
    try:
        with db.session.begin_nested():  # a refused invitation leaves nothing behind
            account = accounts.create_account(
                db.session,
                request.form.get("email", "")[:254],
                first_password,
                Role(role),
                actor=current_user.actor,
            )
    except accounts.AccountError as exc:
        return _accounts_page(422, error=_sentence(exc))
    # Shown once, on this page only (never in a URL or a log line).
    return _accounts_page(201, invited=account, first_password=first_password)


def _other_account(account_id: int) -> Account:
    account = db.session.get(Account, account_id)
    if account is None:
        abort(404)
    if account.id == current_user.id:
        abort(409)  # an admin cannot lock themselves out
    return account


@bp.post("/admin/accounts/<int:account_id>/role")
@require("admin")
def change_role(account_id: int):
    account = _other_account(account_id)
    role = request.form.get("role", "")
    if role not in {r.value for r in Role}:
        abort(422)
    accounts.set_role(db.session, account, Role(role), actor=current_user.actor)
    return redirect(url_for("auth.account_list"), code=303)


@bp.post("/admin/accounts/<int:account_id>/active")
@require("admin")
def change_active(account_id: int):
    account = _other_account(account_id)
    active = request.form.get("active") == "1"
    accounts.set_active(db.session, account, active, actor=current_user.actor)
    return redirect(url_for("auth.account_list"), code=303)


@bp.get("/account/api-token")
@require("read")
def api_token():
    return render_template(
        "auth/api_token.html", has_token=bool(current_user.account.api_token_hash)
    )


@bp.post("/account/api-token")
@require("read")
def api_token_new():
    token = accounts.new_api_token(db.session, current_user.account)
    # Shown once, on this page only (never in a URL or a log line).
    return render_template("auth/api_token.html", has_token=True, token=token), 201


@bp.post("/account/api-token/revoke")
@require("read")
def api_token_revoke():
    accounts.revoke_api_token(db.session, current_user.account)
    return redirect(url_for("auth.api_token"), code=303)
