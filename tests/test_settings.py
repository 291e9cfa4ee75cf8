"""Configuration: defaults, overrides, and start-up refusing bad settings by name."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mutualaid import create_app
from mutualaid.settings import ConfigError, database_url, load_settings

DATA_KEY = "ab" * 64  # 64 bytes in hex
GOOD = {"MUTUALAID_SECRET_KEY": "a-long-enough-secret-key", "MUTUALAID_DATA_KEY": DATA_KEY}


def test_defaults_load_with_a_secret(tmp_path: Path) -> None:
    settings = load_settings(environ=GOOD, instance_path=tmp_path)
    assert settings["ENV"] == "production"
    assert settings["MAX_KM"] == 25.0
    assert settings["DATABASE_URL"] == f"sqlite:///{tmp_path.resolve()}/mutualaid.db"


def test_missing_secret_key_outside_development_stops_start_up() -> None:
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_settings(environ={})


def test_development_may_run_without_a_secret_key() -> None:
    settings = load_settings(environ={"MUTUALAID_ENV": "development"})
    assert len(settings["SECRET_KEY"]) >= 32


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MUTUALAID_MAX_KM", "far"),
        ("MUTUALAID_MAX_KM", "-3"),
        ("MUTUALAID_ENV", "staging"),
        ("MUTUALAID_TIMEZONE", "Mars/Olympus_Mons"),
        ("MUTUALAID_PHONE_REGION", "XX"),
        ("MUTUALAID_LANGUAGES", "en,tlh"),
        ("MUTUALAID_GEOCODER", "google"),
        ("MUTUALAID_DEMO", "maybe"),
        ("MUTUALAID_WORKER_POLL_SECONDS", "0"),
        ("MUTUALAID_PUBLIC_BASE_URL", "https://aid.example.org/"),
        ("MUTUALAID_PLACES_FILE", "places/nowhere.toml"),
        ("MUTUALAID_MAX_KMS", "3"),  # a typo is not silently ignored
        ("DATABASE_URL", "mysql://u@h/db"),
    ],
)
def test_invalid_value_names_the_setting(name: str, value: str) -> None:
    setting = name.removeprefix("MUTUALAID_")
    with pytest.raises(ConfigError, match=setting):
        load_settings(environ={**GOOD, name: value})


def test_environment_values_are_typed() -> None:
    settings = load_settings(
        environ={
            **GOOD,
            "MUTUALAID_MAX_KM": "12.5",
            "MUTUALAID_DEMO": "0",
            "MUTUALAID_LANGUAGES": "es, en",
            "MUTUALAID_GEOCODER_CACHE_SIZE": "10",
        }
    )
    assert settings["MAX_KM"] == 12.5
    assert settings["DEMO"] is False
    assert settings["LANGUAGES"] == ["es", "en"]
    assert settings["GEOCODER_CACHE_SIZE"] == 10


def test_config_file_then_environment_then_overrides(tmp_path: Path) -> None:
    config = tmp_path / "network.toml"
    config.write_text('NETWORK_NAME = "Flatbush Aid"\nMAX_KM = 8\nTIMEZONE = "America/Chicago"\n')
    environ = {**GOOD, "MUTUALAID_CONFIG_FILE": str(config), "MUTUALAID_MAX_KM": "9"}
    settings = load_settings(environ=environ, overrides={"TIMEZONE": "UTC"})
    assert settings["NETWORK_NAME"] == "Flatbush Aid"
    assert settings["MAX_KM"] == 9.0
    assert settings["TIMEZONE"] == "UTC"


def test_config_file_with_an_unknown_setting_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "network.toml"
    config.write_text("MAXKM = 8\n")
    with pytest.raises(ConfigError, match="MAXKM"):
        load_settings(environ={**GOOD, "MUTUALAID_CONFIG_FILE": str(config)})


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@db.example.org/aid", "postgresql+psycopg://u:p@db.example.org/aid"),
        ("postgresql://u@localhost/aid", "postgresql+psycopg://u@localhost/aid"),
        ("postgresql+psycopg://u@localhost/aid", "postgresql+psycopg://u@localhost/aid"),
        ("sqlite:////var/lib/aid.db", "sqlite:////var/lib/aid.db"),
    ],
)
def test_database_url_is_fixed_to_the_driver_we_ship(given: str, expected: str) -> None:
    assert database_url(given, Path("instance")) == expected


def test_unprefixed_database_url_and_secret_key_are_read() -> None:
    settings = load_settings(
        environ={
            "SECRET_KEY": "another-long-secret-key",
            "DATABASE_URL": "postgres://h/db",
            "MUTUALAID_DATA_KEY": DATA_KEY,
        }
    )
    assert settings["SECRET_KEY"] == "another-long-secret-key"
    assert settings["DATABASE_URL"] == "postgresql+psycopg://h/db"


def test_create_app_refuses_an_invalid_test_override() -> None:
    with pytest.raises(ConfigError, match="ENV"):
        create_app({"ENV": "staging", "SECRET_KEY": "x" * 20})


@pytest.mark.parametrize(
    ("given", "named"),
    [({}, "SECRET_KEY"), ({"MUTUALAID_SECRET_KEY": "a-long-enough-secret-key"}, "DATA_KEY")],
)
def test_the_command_line_stops_with_a_message_naming_the_setting(
    tmp_path: Path, given: dict[str, str], named: str
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MUTUALAID_")}
    env.pop("SECRET_KEY", None)
    env.update(given)
    env["MUTUALAID_DATABASE_URL"] = f"sqlite:///{tmp_path}/x.db"
    result = subprocess.run(
        [sys.executable, "-m", "mutualaid", "db", "current"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert f"{named}: missing" in result.stderr
