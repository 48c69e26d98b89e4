"""Registering EHRs in the settings: the trusted-issuer map is checked at start-up."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from natalizumab_cds.config import ConfigError, get_settings


@pytest.fixture(autouse=True)
def _fresh_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("NTZ_SETTINGS_FILE", "/nonexistent/ntz.env")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_trusted_issuers_are_read_as_a_map_of_issuer_to_key_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(
        "NTZ_CDS_HOOKS_TRUSTED_ISSUERS",
        '{"https://ehr.example.org": "https://ehr.example.org/jwks.json"}',
    )

    assert get_settings().cds_hooks_issuers == {
        "https://ehr.example.org": "https://ehr.example.org/jwks.json"
    }


def test_no_trusted_issuer_is_configured_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NTZ_CDS_HOOKS_TRUSTED_ISSUERS", raising=False)

    assert get_settings().cds_hooks_issuers == {}


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("{not json", "not valid JSON"),
        ('["https://ehr.example.org"]', "expected a JSON object"),
        ('{"https://ehr.example.org": 42}', "expected a JSON object"),
        ('{"": "https://ehr.example.org/jwks.json"}', "expected a JSON object"),
    ],
)
def test_a_malformed_issuer_map_stops_start_up_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, value: str, problem: str
) -> None:
    monkeypatch.setenv("NTZ_CDS_HOOKS_TRUSTED_ISSUERS", value)

    with pytest.raises(ConfigError, match=f"NTZ_CDS_HOOKS_TRUSTED_ISSUERS.*{problem}"):
        get_settings()
