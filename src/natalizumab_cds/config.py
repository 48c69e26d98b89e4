"""Settings, in one place: environment variables prefixed ``NTZ_`` and an optional file.

The file is ``NTZ_SETTINGS_FILE`` (dotenv syntax) if set, else ``.env`` in the
working directory when present. Production refuses placeholder secrets.
"""

from __future__ import annotations

import json
import os
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from natalizumab_cds.domain.errors import NtzError

PLACEHOLDER_SECRETS = frozenset({"", "change-me", "changeme", "secret", "dev-only-secret"})


class ConfigError(NtzError):
    """Raised at start-up when the settings are unusable (e.g. placeholder secrets)."""


class Environment(StrEnum):
    DEVELOPMENT = "development"
    DEMO = "demo"
    TEST = "test"
    PRODUCTION = "production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="NTZ_",
        env_file=os.environ.get("NTZ_SETTINGS_FILE", ".env"),
        env_file_encoding="utf-8",
        extra="ignore",
    )

    environment: Environment = Environment.DEVELOPMENT
    database_url: str = Field(default="sqlite:///var/ntz.sqlite3")
    secret_key: str = "dev-only-secret"
    clinic_timezone: str = "UTC"
    protocol_dir: Path | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    session_idle_minutes: int = 30
    session_absolute_hours: int = 12
    sign_in_window_minutes: int = Field(default=15, gt=0)
    sign_in_max_failures_per_user: int = Field(default=5, gt=0)
    sign_in_max_failures_per_client: int = Field(default=20, gt=0)
    cds_hooks_trusted_issuers: str = ""  # JSON: {"issuer": "jwks-url-or-file"}
    cds_hooks_audience: str = ""  # this service's base URL as the EHR names it in ``aud``
    cds_hooks_jwks_max_age_seconds: float = Field(default=3600.0, gt=0)
    cds_hooks_jwks_min_refresh_seconds: float = Field(default=5.0, ge=0)
    cds_hooks_clock_skew_seconds: int = Field(default=60, ge=0, le=300)
    cds_hooks_max_token_lifetime_seconds: int = Field(default=3600, gt=0)
    cds_hooks_max_body_bytes: int = Field(default=16_777_216, gt=0)
    fhir_fetch_timeout_seconds: float = Field(default=3.0, gt=0)
    mllp_host: str = "127.0.0.1"
    mllp_port: int = 2575
    max_message_bytes: int = 1_048_576

    @field_validator("clinic_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone '{value}'") from None
        return value

    @field_validator("cds_hooks_trusted_issuers")
    @classmethod
    def _issuer_map(cls, value: str) -> str:
        parse_trusted_issuers(value)
        return value

    @model_validator(mode="after")
    def _no_placeholder_secrets_in_production(self) -> Settings:
        if self.environment is Environment.PRODUCTION and self.secret_key in PLACEHOLDER_SECRETS:
            raise ValueError(
                "NTZ_SECRET_KEY is a placeholder: set a long random secret before "
                "starting in production"
            )
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.clinic_timezone)

    @property
    def cds_hooks_issuers(self) -> dict[str, str]:
        """Trusted EHR issuers (``iss``) and where each publishes its JWK Set."""
        return parse_trusted_issuers(self.cds_hooks_trusted_issuers)


def parse_trusted_issuers(text: str) -> dict[str, str]:
    """``{"issuer": "https://ehr.example/jwks.json" | "/path/jwks.json"}``; empty = none."""
    if not text.strip():
        return {}
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"not valid JSON ({error.msg})") from None
    if not isinstance(parsed, dict) or not all(
        isinstance(k, str) and k and isinstance(v, str) and v for k, v in parsed.items()
    ):
        raise ValueError('expected a JSON object {"issuer": "JWK Set URL or file", ...}')
    return parsed


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once; invalid settings raise ``ConfigError``."""
    from pydantic import ValidationError

    try:
        return Settings()
    except ValidationError as error:
        problems = "; ".join(
            f"NTZ_{'_'.join(str(p) for p in e['loc']).upper() or 'SETTINGS'}: {e['msg']}"
            for e in error.errors()
        )
        raise ConfigError(f"invalid settings: {problems}") from None
