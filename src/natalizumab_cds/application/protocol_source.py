"""Reads the protocol files (packaged, or an institution's own folder) once."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib import resources
from pathlib import Path

from natalizumab_cds.domain.errors import ProtocolError
from natalizumab_cds.domain.protocol import Protocol, parse_protocol

PARAMETERS_FILE = "parameters.toml"
VALUE_SETS_FILE = "value_sets.toml"


def _read_toml(text: str, name: str) -> dict[str, object]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ProtocolError(f"{name}: not valid TOML ({error})") from None


def load_protocol_from(directory: Path) -> Protocol:
    """Load and validate the protocol kept in ``directory``."""
    texts = {}
    for name in (PARAMETERS_FILE, VALUE_SETS_FILE):
        path = directory / name
        try:
            texts[name] = path.read_text(encoding="utf-8")
        except OSError as error:
            raise ProtocolError(f"{path}: cannot be read ({error.strerror})") from None
    return parse_protocol(
        _read_toml(texts[PARAMETERS_FILE], PARAMETERS_FILE),
        _read_toml(texts[VALUE_SETS_FILE], VALUE_SETS_FILE),
    )


@lru_cache(maxsize=1)
def packaged_protocol() -> Protocol:
    """The protocol shipped with the product (the institution's default)."""
    folder = resources.files("natalizumab_cds.protocol")
    return parse_protocol(
        _read_toml(folder.joinpath(PARAMETERS_FILE).read_text("utf-8"), PARAMETERS_FILE),
        _read_toml(folder.joinpath(VALUE_SETS_FILE).read_text("utf-8"), VALUE_SETS_FILE),
    )
