"""The one place that wires settings, protocol, database and use cases together."""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import ZoneInfo

from natalizumab_cds.application.protocol_source import load_protocol_from, packaged_protocol
from natalizumab_cds.config import get_settings
from natalizumab_cds.domain.protocol import Protocol


@lru_cache(maxsize=1)
def active_protocol() -> Protocol:
    """The institution's protocol folder if configured, else the packaged default.

    Loaded and validated once; a broken file stops start-up with the entry named.
    """
    folder = get_settings().protocol_dir
    return load_protocol_from(folder) if folder else packaged_protocol()


def clinic_tz() -> ZoneInfo:
    return get_settings().tz
