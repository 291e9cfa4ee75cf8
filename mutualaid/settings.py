"""Settings: defaults from config/defaults.toml, overridden by a file, the environment, tests."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"
ENV_PREFIX = "MUTUALAID_"
# Environment variables with our prefix that are not settings (MUTUALAID_TEST_* are the
# test suite's).
NOT_SETTINGS = {"CONFIG_FILE"}


class ConfigError(ValueError):
    """A setting is missing or invalid; the message names it."""


def load_settings(
    *,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    instance_path: str | Path = "instance",
    config_dir: Path = CONFIG_DIR,
) -> dict[str, Any]:
    """Return the validated settings, highest precedence last.

    Defaults (config/defaults.toml) < the file named by MUTUALAID_CONFIG_FILE
    < MUTUALAID_* environment variables (and DATABASE_URL, SECRET_KEY) <
    ``overrides`` (tests).
    """
    environ = os.environ if environ is None else environ
    with open(config_dir / "defaults.toml", "rb") as f:
        defaults = tomllib.load(f)
    settings = dict(defaults)

    if config_file := environ.get(ENV_PREFIX + "CONFIG_FILE"):
        try:
            with open(config_file, "rb") as f:
                from_file = tomllib.load(f)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"MUTUALAID_CONFIG_FILE: cannot read {config_file}: {exc}") from exc
        for name, value in from_file.items():
            _check_known(name, defaults, f"{config_file}: {name}")
            settings[name] = _coerce(name, value, defaults[name], source=config_file)

    for name in ("DATABASE_URL", "SECRET_KEY"):
        if environ.get(name):
            settings[name] = environ[name]
    for key, raw in environ.items():
        if not key.startswith(ENV_PREFIX):
            continue
        name = key.removeprefix(ENV_PREFIX)
        if name in NOT_SETTINGS or name.startswith("TEST_"):
            continue
        _check_known(name, defaults, key)
        settings[name] = _coerce(name, raw, defaults[name], source=key)

    for name, value in (overrides or {}).items():
        settings[name] = value

    _validate(settings, Path(instance_path))
    return settings


def _check_known(name: str, defaults: Mapping[str, Any], where: str) -> None:
    if name not in defaults:
        raise ConfigError(f"{where}: unknown setting {name!r} (see config/defaults.toml)")


def _coerce(name: str, value: Any, default: Any, *, source: str) -> Any:
    """Read ``value`` as the type of ``default`` (environment values are strings)."""
    where = source if source.startswith(ENV_PREFIX) else f"{source}: {name}"
    if not isinstance(value, str):
        if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if type(value) is not type(default):
            raise ConfigError(f"{where}: expected {type(default).__name__}, got {value!r}")
        return value
    text = value.strip()
    if isinstance(default, bool):
        lowered = text.lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off"}:
            return False
        raise ConfigError(f"{where}: expected true or false, got {value!r}")
    if isinstance(default, int):
        try:
            return int(text)
        except ValueError:
            raise ConfigError(f"{where}: expected a whole number, got {value!r}") from None
    if isinstance(default, float):
        try:
            return float(text)
        except ValueError:
            raise ConfigError(f"{where}: expected a number, got {value!r}") from None
    if isinstance(default, list):
        return [item.strip() for item in text.split(",") if item.strip()]
    return value


def _quiet_hours_ok(value: str) -> bool:
    text = value.strip()
    if not text:
        return True
    start, sep, end = text.partition("-")
    if not (sep and start.strip().isdigit() and end.strip().isdigit()):
        return False
    return 0 <= int(start) <= 23 and 0 <= int(end) <= 23 and int(start) != int(end)


def _validate(settings: dict[str, Any], instance_path: Path) -> None:
    """Check every value; normalise the database URL. Raises ConfigError naming the setting."""

    def require(name: str, ok: Callable[[Any], bool], expected: str) -> None:
        if not ok(settings[name]):
            raise ConfigError(f"{name}: expected {expected}, got {settings[name]!r}")

    require("ENV", lambda v: v in {"production", "development"}, '"production" or "development"')
    if not settings["SECRET_KEY"]:
        if settings["ENV"] != "development":
            raise ConfigError(
                "SECRET_KEY: missing. Set MUTUALAID_SECRET_KEY (or SECRET_KEY) to a long random "
                "string; only ENV=development may run without one."
            )
        settings["SECRET_KEY"] = os.urandom(32).hex()
    elif len(settings["SECRET_KEY"]) < 16:
        raise ConfigError("SECRET_KEY: too short; use at least 16 random characters")

    _validate_data_keys(settings)
    settings["DATABASE_URL"] = database_url(settings["DATABASE_URL"], instance_path)
    require("TIMEZONE", _is_timezone, "an IANA time zone such as America/New_York")
    require(
        "PHONE_REGION",
        lambda v: v in phonenumbers.SUPPORTED_REGIONS,
        "a two-letter region such as US",
    )
    config_dir = Path(settings["CONFIG_DIR"] or CONFIG_DIR)
    settings["CONFIG_DIR"] = str(config_dir)
    if not (config_dir / "categories.toml").exists():
        raise ConfigError(f"CONFIG_DIR: {config_dir} has no categories.toml")
    require(
        "LANGUAGES",
        lambda v: (
            bool(v)
            and len(set(v)) == len(v)
            and all((config_dir / "languages" / f"{lang}.toml").exists() for lang in v)
        ),
        "a non-empty list of languages, each with its file config/languages/<lang>.toml",
    )
    require("GEOCODER", lambda v: v in {"none", "nominatim"}, '"none" or "nominatim"')
    require("GEOCODER_MIN_DELAY_SECONDS", lambda v: v >= 0, "a number >= 0")
    require("GEOCODER_CACHE_SIZE", lambda v: v >= 0, "a whole number >= 0")
    require("MAX_KM", lambda v: 0 < v <= 500, "a distance in km between 0 and 500")
    require("WORKER_POLL_SECONDS", lambda v: 0 < v <= 3600, "seconds between 0 and 3600")
    require("WORKER_NICE", lambda v: 0 <= v <= 19, "a whole number from 0 to 19")
    require(
        "LOG_LEVEL",
        lambda v: v in {"DEBUG", "INFO", "WARNING", "ERROR"},
        "DEBUG, INFO, WARNING or ERROR",
    )
    require("LOG_FORMAT", lambda v: v in {"text", "json"}, '"text" or "json"')
    require("MAX_CONTENT_LENGTH", lambda v: v >= 1024, "at least 1024 bytes")
    require(
        "PUBLIC_BASE_URL",
        lambda v: v == "" or (v.startswith(("http://", "https://")) and not v.endswith("/")),
        "empty, or an http(s):// address without a trailing slash",
    )
    require("TRUSTED_PROXIES", lambda v: 0 <= v <= 5, "a whole number from 0 to 5")
    require("SMS_BACKEND", lambda v: v in {"console", "twilio", "fake"}, "console, twilio or fake")
    if settings["SMS_BACKEND"] == "twilio":
        for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"):
            if not settings[name]:
                raise ConfigError(f"{name}: required when SMS_BACKEND is twilio")
        if bool(settings["TWILIO_FROM"]) == bool(settings["TWILIO_MESSAGING_SERVICE_SID"]):
            raise ConfigError(
                "TWILIO_FROM: set exactly one of TWILIO_FROM and TWILIO_MESSAGING_SERVICE_SID"
            )
    require(
        "SERVICE_NUMBER",
        lambda v: v == "" or _is_e164(v),
        "empty, or a phone number in E.164 (+17185550101)",
    )
    require(
        "WHATSAPP_FROM",
        lambda v: v == "" or _is_e164(v),
        "empty, or the WhatsApp sender's number in E.164 (+14155238886)",
    )
    templates = Path(settings["WHATSAPP_TEMPLATES_FILE"])
    if settings["WHATSAPP_FROM"] and not (config_dir / templates).exists():
        raise ConfigError(f"WHATSAPP_TEMPLATES_FILE: no such file {config_dir / templates}")
    require("INBOUND_MODE", lambda v: v in {"webhook", "poll"}, '"webhook" or "poll"')
    if settings["INBOUND_MODE"] == "poll" and settings["SMS_BACKEND"] != "twilio":
        raise ConfigError("INBOUND_MODE: poll asks Twilio, so it needs SMS_BACKEND twilio")
    require("TWILIO_POLL_SECONDS", lambda v: 1 <= v <= 600, "seconds from 1 to 600")
    require(
        "TWILIO_API_BASE_URL",
        lambda v: v == "" or v.startswith(("http://", "https://")),
        "empty, or an http(s):// base URL",
    )
    require("TWILIO_CONNECT_TIMEOUT", lambda v: 0 < v <= 60, "seconds between 0 and 60")
    require("TWILIO_READ_TIMEOUT", lambda v: 0 < v <= 120, "seconds between 0 and 120")
    require("SMS_MAX_BODY", lambda v: 160 <= v <= 10000, "between 160 and 10000 characters")
    require("RELAY_MAX_SEGMENTS", lambda v: 1 <= v <= 10, "between 1 and 10 segments")
    require("CONVERSATION_TTL_MINUTES", lambda v: 1 <= v <= 24 * 60, "minutes from 1 to 1440")
    require("SUBMISSION_TTL_MINUTES", lambda v: 5 <= v <= 24 * 60, "minutes from 5 to 1440")
    require("OUTBOX_MAX_ATTEMPTS", lambda v: 1 <= v <= 50, "a whole number from 1 to 50")
    require("OUTBOX_RETRY_SECONDS", lambda v: 0 < v <= 3600, "seconds between 0 and 3600")
    require("OUTBOX_LEASE_SECONDS", lambda v: 5 <= v <= 3600, "seconds between 5 and 3600")
    require("MATCH_MODE", lambda v: v in {"auto", "review"}, '"auto" or "review"')
    require("NOTIFY_QUIET_HOURS", _quiet_hours_ok, 'empty or two hours like "22-7"')
    require("NOTIFY_DIGEST_MINUTES", lambda v: 0 <= v <= 1440, "minutes from 0 to 1440")
    require("NOTIFY_BACKLOG_OPEN", lambda v: v >= 0, "0 or more")
    require("SMTP_PORT", lambda v: 0 < v < 65536, "a port number")
    if settings["NOTIFY_EMAIL_TO"] and not (settings["SMTP_HOST"] and settings["SMTP_FROM"]):
        raise ConfigError("NOTIFY_EMAIL_TO: needs SMTP_HOST and SMTP_FROM")
    require(
        "NOTIFY_WEBHOOK_URL",
        lambda v: v == "" or v.startswith(("http://", "https://")),
        "empty, or an http(s):// address",
    )
    for name in ("MATCH_INTERVAL_SECONDS", "MATCH_DEBOUNCE_SECONDS"):
        require(name, lambda v: 1 <= v <= 86400, "whole seconds from 1 to 86400")
    require("PROPOSAL_TTL_MINUTES", lambda v: 1 <= v <= 7 * 24 * 60, "minutes from 1 to 10080")
    for name in ("FOLLOWUP_HOURS", "ESCALATE_AFTER_HOURS", "STILL_LOOKING_HOURS"):
        require(name, lambda v: 1 <= v <= 24 * 30, "hours from 1 to 720")
    require("ESCALATE_AFTER_REFUSALS", lambda v: 1 <= v <= 100, "a whole number from 1 to 100")
    require("PAUSE_AFTER_EXPIRIES", lambda v: 0 <= v <= 100, "a whole number from 0 to 100")
    for name in (
        "URGENCY_POINTS_NORMAL",
        "URGENCY_POINTS_SOON",
        "URGENCY_POINTS_URGENT",
        "WAIT_POINTS_PER_DAY",
        "MAX_WAIT_POINTS",
        "LOAD_PENALTY_KM",
        "UNRELIABILITY_PENALTY_KM",
    ):
        require(name, lambda v: 0 <= v <= 10000, "a number from 0 to 10000")
    if not (
        0
        < settings["URGENCY_POINTS_NORMAL"]
        <= settings["URGENCY_POINTS_SOON"]
        <= settings["URGENCY_POINTS_URGENT"]
    ):
        raise ConfigError("URGENCY_POINTS_SOON: must grow: 0 < normal <= soon <= urgent")
    require("LOAD_WINDOW_DAYS", lambda v: 1 <= v <= 365, "days from 1 to 365")
    for name in ("SMS_RATE_LIMIT", "FORM_RATE_LIMIT"):
        require(name, lambda v: 1 <= v <= 100000, "a whole number from 1 to 100000")
    for name in ("SMS_RATE_WINDOW_SECONDS", "FORM_RATE_WINDOW_SECONDS"):
        require(name, lambda v: 1 <= v <= 86400, "whole seconds from 1 to 86400")
    require("SESSION_IDLE_MINUTES", lambda v: 1 <= v <= 24 * 60, "minutes from 1 to 1440")
    require("SESSION_MAX_HOURS", lambda v: 1 <= v <= 24 * 7, "hours from 1 to 168")
    require("LOGIN_RATE_LIMIT", lambda v: 1 <= v <= 1000, "a whole number from 1 to 1000")
    require("LOGIN_ADDRESS_RATE_LIMIT", lambda v: 1 <= v <= 10000, "a whole number from 1 to 10000")
    require("LOGIN_RATE_WINDOW_SECONDS", lambda v: 1 <= v <= 86400, "whole seconds from 1 to 86400")
    require(
        "MESSAGE_SEARCH_RATE_LIMIT", lambda v: 1 <= v <= 10000, "a whole number from 1 to 10000"
    )
    require(
        "MESSAGE_SEARCH_RATE_WINDOW_SECONDS",
        lambda v: 1 <= v <= 86400,
        "whole seconds from 1 to 86400",
    )
    require("RETENTION_DAYS", lambda v: 1 <= v <= 3650, "days from 1 to 3650")
    places = Path(settings["PLACES_FILE"])
    if not places.is_absolute():
        places = config_dir / places
    if settings["PLACES_FILE"] and not places.exists():
        raise ConfigError(f"PLACES_FILE: no such file {places}")


def _validate_data_keys(settings: dict[str, Any]) -> None:
    """DATA_KEY: required outside development and tests, where it is derived from
    SECRET_KEY; DATA_KEY_OLD: optional. Both become url-safe base64 of the 64 bytes."""
    from mutualaid.models.crypto import DataKeyError, derive_key, encode_key, parse_key

    if not settings["DATA_KEY"]:
        if settings["ENV"] != "development" and not settings.get("TESTING"):
            raise ConfigError(
                "DATA_KEY: missing. Set MUTUALAID_DATA_KEY to 64 random bytes (url-safe base64 "
                "or hex) and keep it safe: it encrypts phone numbers and addresses. Only "
                "ENV=development may run without one."
            )
        settings["DATA_KEY"] = encode_key(derive_key(settings["SECRET_KEY"]))
    for name in ("DATA_KEY", "DATA_KEY_OLD"):
        if settings[name]:
            try:
                settings[name] = encode_key(parse_key(settings[name]))
            except DataKeyError as exc:
                raise ConfigError(f"{name}: {exc}") from None
    if settings["DATA_KEY_OLD"] == settings["DATA_KEY"]:
        settings["DATA_KEY_OLD"] = ""


def _is_timezone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def database_url(url: str, instance_path: Path) -> str:
    """Return a SQLAlchemy URL: the default SQLite file, or ``url`` fixed to a driver we ship."""
    if not url:
        return f"sqlite:///{instance_path.resolve() / 'mutualaid.db'}"
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError("DATABASE_URL: not a database URL") from None
    if parsed.get_backend_name() not in {"sqlite", "postgresql"}:
        raise ConfigError(
            f"DATABASE_URL: unsupported database {parsed.get_backend_name()!r}; "
            "use sqlite or postgresql"
        )
    return url


def _is_e164(value: str) -> bool:
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(number) and value.startswith("+")
