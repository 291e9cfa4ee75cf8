"""Fixtures for the sms tests: the fake Twilio API and senders; keyword tables and catalogues."""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sms.catalog import Catalogue
from sms.parse import Keywords
from sms.transport import TwilioSender
from tests.fakes.twilio import FakeTwilio

SERVICE_FROM = "+15005550006"  # Twilio's magic "valid sender" number
MESSAGING_SERVICE_SID = "MG" + "1" * 32
# Short so the timeout tests stay fast; the fake's stalls are longer than this.
TEST_TIMEOUT = 0.5


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    """Twilio's Messages API, served for real on a random local port."""
    with FakeTwilio() as fake:
        yield fake


@pytest.fixture
def make_twilio_sender(fake_twilio: FakeTwilio) -> Iterator[Callable[..., TwilioSender]]:
    """Build TwilioSenders against the fake (closed at teardown); keywords override defaults."""
    senders: list[TwilioSender] = []

    def make(**overrides: Any) -> TwilioSender:
        settings: dict[str, Any] = {
            "account_sid": fake_twilio.account_sid,
            "auth_token": fake_twilio.auth_token,
            "api_base_url": fake_twilio.base_url,
            "connect_timeout": TEST_TIMEOUT,
            "read_timeout": TEST_TIMEOUT,
        }
        if "messaging_service_sid" not in overrides:
            settings["from_number"] = SERVICE_FROM
        settings.update(overrides)
        sender = TwilioSender(settings.pop("account_sid"), settings.pop("auth_token"), **settings)
        senders.append(sender)
        return sender

    yield make
    for sender in senders:
        sender.close()


@pytest.fixture
def twilio_sender(make_twilio_sender: Callable[..., TwilioSender]) -> TwilioSender:
    """The real twilio client, sending from a number, through the fake API."""
    return make_twilio_sender()


# The language half: keyword tables, categories and catalogues from config/.

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"


def load_categories(
    config_dir: Path = CONFIG_DIR, languages: tuple[str, ...] = ("en", "es")
) -> dict[str, list[str]]:
    """Category key -> SMS aliases of ``languages`` (config/languages/<lang>.toml), as the
    app passes them to sms.parse.parse."""
    aliases: dict[str, list[str]] = {}
    for lang in languages:
        with (config_dir / "languages" / f"{lang}.toml").open("rb") as f:
            for key, table in tomllib.load(f).get("categories", {}).items():
                aliases.setdefault(key, []).extend(table.get("aliases", []))
    return aliases


@pytest.fixture(scope="session")
def keywords() -> Keywords:
    return Keywords.load(CONFIG_DIR)


@pytest.fixture(scope="session")
def categories() -> dict[str, list[str]]:
    return load_categories()


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return Catalogue.load(CONFIG_DIR)
