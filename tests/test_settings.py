"""Settings: production refuses placeholder secrets; the clinic database is chosen by URL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from natalizumab_cds.config import ConfigError, Settings, get_settings
from natalizumab_cds.persistence.engine import normalized_url


@pytest.fixture(autouse=True)
def _fresh_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("NTZ_SECRET_KEY", raising=False)
    monkeypatch.setenv("NTZ_SETTINGS_FILE", "/nonexistent/ntz.env")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.parametrize("secret", ["dev-only-secret", "change-me", ""])
def test_production_refuses_to_start_with_a_placeholder_secret(
    monkeypatch: pytest.MonkeyPatch, secret: str
) -> None:
    monkeypatch.setenv("NTZ_ENVIRONMENT", "production")
    monkeypatch.setenv("NTZ_SECRET_KEY", secret)

    with pytest.raises(ConfigError, match="NTZ_SECRET_KEY is a placeholder"):
        get_settings()


def test_production_starts_with_a_real_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NTZ_ENVIRONMENT", "production")
    monkeypatch.setenv("NTZ_SECRET_KEY", "x7Lq" * 12)

    assert get_settings().secret_key == "x7Lq" * 12


def test_development_runs_on_an_sqlite_file_under_var_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("NTZ_DATABASE_URL", raising=False)

    assert Settings().database_url == "sqlite:///var/ntz.sqlite3"


@pytest.mark.parametrize("url", ["postgresql://u@h/db", "postgres://u@h/db"])
def test_a_plain_postgresql_url_means_psycopg_3(url: str) -> None:
    assert normalized_url(url).drivername == "postgresql+psycopg"
