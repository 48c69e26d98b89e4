"""Whatever arrives, the reader answers with a Timeline or InvalidInput, never a traceback.

A valid synthetic record holding every kind of resource is mangled at random
places (values replaced by arbitrary JSON, keys deleted, plausible but wrong
strings put in) and read again. Derandomized, so the examples are the same on
every run.
"""

from __future__ import annotations

import copy
from typing import Any

import orjson
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from natalizumab_cds.application.protocol_source import packaged_protocol
from natalizumab_cds.domain.errors import InvalidInput
from natalizumab_cds.domain.timeline import Timeline
from natalizumab_cds.interop.fhir.reader import read_bundle, read_resources
from tests.interop.fhir.builders import (
    a_breastfeeding_status,
    a_bundle,
    a_condition,
    a_drug_level,
    a_medication_request,
    a_medication_statement,
    a_neutrophil_count,
    a_pregnancy_status,
    a_relapse,
    an_allergy,
    an_alt,
    an_antibody_result,
    an_edss,
    an_infusion,
    an_mri,
    an_override,
)

PROTOCOL = packaged_protocol()
MANGLING = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=200,
    suppress_health_check=[HealthCheck.too_slow],
)

#: Strings that are almost right: the edges the reader has to refuse or accept.
NEAR_MISSES = [
    "2026", "2026-02-30", "2026-13", "2026-11-01T08:00:00", "2026-11-01T08:00:00Z",
    "20261101", "0001-01-01", "mg", "/uL", "ukat/L", "", "final", "entered-in-error",
    "registered", "active", "Bundle", "Patient", "Observation", "Medication", "Patient/p2",
    "Medication/x", "#m", "http://loinc.org", "1742-6", "urn:natalizumab-cds:local",
    "mri-brain", "http://snomed.info/sct", "77386006", "354770",
]  # fmt: skip
FIELDS = [
    "resourceType", "id", "status", "code", "coding", "system", "value", "unit", "subject",
    "reference", "valueQuantity", "valueBoolean", "valueInteger", "component", "entry",
    "resource", "effectiveDateTime", "effectivePeriod", "start", "end", "referenceRange",
]  # fmt: skip

leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=6),
    st.sampled_from(NEAR_MISSES),
)
json_values = st.recursive(
    leaves,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=4), children, max_size=3)
    ),
    max_leaves=8,
)


def a_full_record() -> dict[str, Any]:
    return a_bundle(
        an_alt(150, high=40, low=5),
        a_neutrophil_count(4500, "/uL", low=1.5, high=7.0, range_unit="10*9/L"),
        a_drug_level(2500, "ng/mL"),
        an_edss(3.5),
        a_pregnancy_status(),
        an_antibody_result(),
        a_breastfeeding_status(False),
        an_mri(1, 0),
        a_relapse(),
        a_condition(),
        an_allergy(),
        a_medication_statement(),
        a_medication_request(),
        an_infusion(),
        an_override(),
    )


def places(node: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into a JSON tree, the root included."""
    found = [here]
    if isinstance(node, dict):
        for key, child in node.items():
            found += places(child, (*here, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            found += places(child, (*here, index))
    return found


def mangle(root: Any, path: tuple[Any, ...], value: Any, delete: bool) -> Any:
    if not path:
        return value
    parent = root
    for step in path[:-1]:
        parent = parent[step]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return root


@st.composite
def mangled_records(draw: st.DrawFn) -> Any:
    record: Any = a_full_record()  # fresh each time, so it can be changed in place
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(places(record)))
        value = copy.deepcopy(draw(json_values))  # later steps may change it in place
        record = mangle(record, path, value, draw(st.booleans()))
    return record


def reads_or_refuses(read: Any, data: Any) -> None:
    try:
        outcome: object = read(data, PROTOCOL)
    except InvalidInput as refusal:
        outcome = str(refusal)
    assert isinstance(outcome, Timeline) or (isinstance(outcome, str) and outcome)


def test_the_unmangled_record_is_read() -> None:
    assert isinstance(read_bundle(a_full_record(), PROTOCOL), Timeline)


@MANGLING
@given(mangled_records())
def test_a_mangled_bundle_is_read_or_refused_never_crashes(record: Any) -> None:
    reads_or_refuses(read_bundle, record)


@MANGLING
@given(mangled_records())
def test_a_mangled_bundle_sent_as_json_is_read_or_refused_never_crashes(record: Any) -> None:
    try:
        data = orjson.dumps(record)
    except orjson.JSONEncodeError:  # integers beyond 64 bits have no orjson encoding
        assume(False)
    reads_or_refuses(read_bundle, data)


@MANGLING
@given(mangled_records())
def test_mangled_stored_resources_are_read_or_refused_never_crash(record: Any) -> None:
    entries = record.get("entry") if isinstance(record, dict) else None
    assume(isinstance(entries, list))
    assert isinstance(entries, list)
    resources = [e.get("resource") if isinstance(e, dict) else e for e in entries]
    reads_or_refuses(read_resources, resources)


@settings(derandomize=True, database=None, deadline=None, max_examples=200)
@given(st.binary(max_size=64) | st.text(max_size=64))
def test_arbitrary_bytes_are_refused_never_crash(data: bytes | str) -> None:
    reads_or_refuses(read_bundle, data)
