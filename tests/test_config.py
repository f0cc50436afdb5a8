"""Settings from SKK_* variables: defaults, path resolution, refusals."""

from __future__ import annotations

from pathlib import Path

import pytest
from limits import parse_many

from verifier.config import (
    DEFAULT_RATE_LIMITS,
    INSTANCE_DIR,
    PROJECT_ROOT,
    RateLimit,
    Settings,
    load_settings,
)
from verifier.core.errors import ConfigurationError


def test_defaults() -> None:
    settings = load_settings({})
    assert settings.database_url == f"sqlite:///{INSTANCE_DIR / 'skk.sqlite3'}"
    assert settings.keys_dir == PROJECT_ROOT / "keys"
    assert settings.base_url == "http://127.0.0.1:8000"
    assert settings.leeway_seconds == 60
    assert settings.key_passphrase is None and settings.nik_pepper is None
    assert settings.offline_max_age == 604_800


def test_relative_paths_resolve_against_fixed_folders(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # the working directory must not matter
    settings = load_settings({"SKK_DATABASE_URL": "sqlite:///data/x.db", "SKK_KEYS_DIR": "k"})
    assert settings.database_url == f"sqlite:///{INSTANCE_DIR / 'data/x.db'}"
    assert settings.keys_dir == PROJECT_ROOT / "k"


def test_absolute_and_postgres_urls_kept() -> None:
    assert load_settings({"SKK_DATABASE_URL": "sqlite:////tmp/a.db"}).database_url == (
        "sqlite:////tmp/a.db"
    )
    url = "postgresql://u@db:5432/skk"
    assert load_settings({"SKK_DATABASE_URL": url}).database_url == url


def test_secrets_are_raw_strings_and_hidden_from_repr() -> None:
    settings = load_settings({"SKK_KEY_PASSPHRASE": '"quoted" {json}', "SKK_NIK_PEPPER": "123"})
    assert settings.key_passphrase == '"quoted" {json}' and settings.nik_pepper == "123"
    assert "quoted" not in repr(settings) and "123" not in repr(settings)


@pytest.mark.parametrize(
    "env, message",
    [
        ({"SKK_LEEWAY_SECONDS": "61"}, "between 0 and 60"),
        ({"SKK_LEEWAY_SECONDS": "-1"}, "between 0 and 60"),
        ({"SKK_LEEWAY_SECONDS": "1.5"}, "whole number"),
        ({"SKK_BASE_URL": "http://sertifikat.example.id"}, "https"),
        ({"SKK_BASE_URL": "ftp://x.id"}, "http(s)"),
        ({"SKK_BASE_URL": "https://x.id/?a=1"}, "query"),
        ({"SKK_DATABASE_URL": "skk.sqlite3"}, "database URL"),
        ({"SKK_OFFLINE_MAX_AGE": "9"}, "between 10 and 7776000"),
        ({"SKK_OFFLINE_MAX_AGE": "7776001"}, "between 10 and 7776000"),
        ({"SKK_OFFLINE_MAX_AGE": "7d"}, "whole number"),
    ],
)
def test_bad_values_refused(env, message) -> None:
    with pytest.raises(ConfigurationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_settings(env)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000", "http://localhost:5000/", "http://[::1]"])
def test_plain_http_only_on_loopback(url) -> None:
    assert load_settings({"SKK_BASE_URL": url}).base_url == url.rstrip("/")


def test_rate_limits_are_settings_parsed_once() -> None:
    defaults = load_settings({})
    assert defaults.rate_limits == Settings().rate_limits
    assert {
        limit: [str(item) for item in items] for limit, items in defaults.rate_limits.items()
    } == {
        limit: [str(item) for item in parse_many(text)]
        for limit, text in DEFAULT_RATE_LIMITS.items()
    }
    assert defaults.rate_limit_storage_uri is None
    settings = load_settings(
        {
            "SKK_RATELIMIT_MANUAL_CHECK": "3 per hour;9 per day",
            "SKK_RATELIMIT_STORAGE_URI": " redis://cache:6379/0 ",
        }
    )
    manual = settings.rate_limits[RateLimit.MANUAL_CHECK]
    assert [(item.amount, item.get_expiry()) for item in manual] == [(3, 3600), (9, 86400)]
    assert settings.rate_limit_storage_uri == "redis://cache:6379/0"


@pytest.mark.parametrize("limit", list(RateLimit))
def test_a_bad_rate_limit_names_its_variable(limit: RateLimit) -> None:
    with pytest.raises(ConfigurationError, match=f"{limit.variable}: not a rate limit"):
        load_settings({limit.variable: "often"})
