"""A broken protocol file is refused when loaded, with the entry named."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from natalizumab_cds.application.protocol_source import load_protocol_from, packaged_protocol
from natalizumab_cds.domain.errors import ProtocolError
from natalizumab_cds.domain.protocol import REQUIRED_PARAMETERS, parse_protocol

PACKAGED = resources.files("natalizumab_cds.protocol")


def _files() -> tuple[dict[str, Any], dict[str, Any]]:
    return (
        tomllib.loads(PACKAGED.joinpath("parameters.toml").read_text("utf-8")),
        tomllib.loads(PACKAGED.joinpath("value_sets.toml").read_text("utf-8")),
    )


def test_the_packaged_protocol_has_every_parameter_a_rule_reads_with_its_source() -> None:
    protocol = packaged_protocol()
    assert protocol.name == "natalizumab-institutional"
    assert set(REQUIRED_PARAMETERS) <= set(protocol.parameters)
    assert all(p.source.strip() for p in protocol.parameters.values())
    assert all(e.source for vs in protocol.value_sets.values() for e in vs.entries)


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (
            lambda p, v: p["parameters"]["liver_uln_multiple"].update(value="three"),
            "parameters.liver_uln_multiple.value",
        ),
        (
            lambda p, v: p["parameters"]["interval_liver"].update(unit="fortnights"),
            "parameters.interval_liver.unit",
        ),
        (lambda p, v: p["parameters"]["dose"].update(source=""), "parameters.dose.source"),
        (lambda p, v: p["parameters"].pop("elderly_age"), "parameters.elderly_age"),
        (
            lambda p, v: p["parameters"]["min_dosing_gap"].update(value=-21),
            "parameters.min_dosing_gap.value",
        ),
        (
            lambda p, v: v["immunosuppressants"][3].pop("source"),
            "value_sets.immunosuppressants[3].source",
        ),
        (
            lambda p, v: v["active_infections"][0].update(match="fuzzy"),
            "value_sets.active_infections[0].match",
        ),
        (
            lambda p, v: v["immunosuppressants"].append(
                {
                    "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                    "code": "354770",
                    "display": "natalizumab",
                    "source": "mistake",
                }
            ),
            "354770 (natalizumab) is excluded",
        ),
        (lambda p, v: v.pop("opportunistic_infections"), "value_sets.opportunistic_infections"),
        (
            lambda p, v: v["immunosuppressants"][4].update(names=["Imuran", ""]),
            "value_sets.immunosuppressants[4].names",
        ),
    ],
    ids=[
        "not-a-number",
        "bad-unit",
        "no-source",
        "missing",
        "negative",
        "entry-no-source",
        "bad-match",
        "natalizumab-listed",
        "value-set-missing",
        "blank-name",
    ],
)
def test_a_broken_entry_is_refused_with_its_name(change: Any, named: str) -> None:
    parameters, value_sets = _files()
    change(parameters, value_sets)
    with pytest.raises(ProtocolError) as refused:
        parse_protocol(parameters, value_sets)
    assert named in str(refused.value)


def _copy_protocol(folder: Path) -> Path:
    for name in ("parameters.toml", "value_sets.toml"):
        shutil.copy(str(PACKAGED.joinpath(name)), folder / name)
    return folder


def test_an_institution_folder_is_loaded_and_its_values_used(tmp_path: Path) -> None:
    folder = _copy_protocol(tmp_path)
    text = (
        (folder / "parameters.toml")
        .read_text()
        .replace('version = "2026.11.0"', 'version = "local-7"')
    )
    (folder / "parameters.toml").write_text(text)
    assert load_protocol_from(folder).version == "local-7"


def test_a_file_that_is_not_toml_is_refused_naming_the_file(tmp_path: Path) -> None:
    folder = _copy_protocol(tmp_path)
    (folder / "value_sets.toml").write_text("[[immunosuppressants]\nbroken")
    with pytest.raises(ProtocolError, match=r"value_sets\.toml: not valid TOML"):
        load_protocol_from(folder)


def test_ntz_refuses_to_start_on_a_broken_protocol_folder(tmp_path: Path) -> None:
    (tmp_path / "protocol").mkdir()
    folder = _copy_protocol(tmp_path / "protocol")
    text = (folder / "parameters.toml").read_text().replace("value = 3.0", 'value = "three"', 1)
    (folder / "parameters.toml").write_text(text)
    bundle = tmp_path / "p.json"
    bundle.write_text(
        '{"resourceType": "Bundle", "type": "collection", "entry": '
        '[{"resource": {"resourceType": "Patient", "id": "p1"}}]}'
    )
    done = subprocess.run(
        [sys.executable, "-m", "natalizumab_cds.cli", "assess", str(bundle)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env={**os.environ, "NTZ_PROTOCOL_DIR": str(folder)},
    )
    assert done.returncode == 2
    assert "parameters.liver_uln_multiple.value" in done.stderr
    assert "Traceback" not in done.stderr
