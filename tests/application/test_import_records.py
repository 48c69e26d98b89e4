"""The import use case over fake storage: idempotent, versioned, all or nothing, retried."""

from __future__ import annotations

import copy

import pytest

from natalizumab_cds.application.errors import ConcurrentUpdate
from natalizumab_cds.domain.errors import InvalidInput
from tests.application.clinic_fakes import a_fake_clinic
from tests.clinic_db import a_patient, resources_of


def test_the_same_bundle_twice_changes_nothing_the_second_time() -> None:
    clinic, database = a_fake_clinic()
    bundle = a_patient(1)
    clinic.importer.one(bundle)
    before = copy.deepcopy(database.state.resources)

    report = clinic.importer.one(bundle)

    assert report.unchanged == len(bundle["entry"])
    assert database.state.resources == before
    assert database.state.patients["p1"].version == 1


def test_a_resource_resent_with_new_metadata_only_is_the_same_resource() -> None:
    clinic, _ = a_fake_clinic()
    bundle = a_patient(1)
    clinic.importer.one(bundle)
    again = copy.deepcopy(resources_of(bundle, "Observation")[0])
    again["meta"] = {"versionId": "7", "lastUpdated": "2026-11-24T08:59:00+00:00"}

    assert clinic.importer.one(again).unchanged == 1


def test_a_bundle_with_one_bad_resource_is_refused_whole() -> None:
    clinic, database = a_fake_clinic()
    bundle = a_patient(1)
    resources_of(bundle, "Patient")[0]["birthDate"] = "1980-02-30"

    with pytest.raises(InvalidInput, match=r"Patient/p1.*birthDate"):
        clinic.importer.one(bundle)
    assert database.state.patients == {}
    assert database.state.resources == {}


def test_malformed_json_is_refused_naming_the_body() -> None:
    clinic, _ = a_fake_clinic()

    with pytest.raises(InvalidInput, match="body: not valid JSON"):
        clinic.importer.one(b'{"resourceType": "Bundle", ')


def test_a_write_that_loses_a_race_is_retried_from_the_start() -> None:
    clinic, database = a_fake_clinic()
    clinic.importer.one(a_patient(1))
    database.conflicts = ["another writer", "another writer"]
    changed = copy.deepcopy(resources_of(a_patient(1), "Observation")[0])
    changed["status"] = "amended"

    report = clinic.importer.one(changed)

    assert report.updated == 1
    assert database.state.patients["p1"].version == 2


def test_a_write_that_keeps_losing_the_race_says_so() -> None:
    clinic, database = a_fake_clinic()
    clinic.importer.one(a_patient(1))
    database.conflicts = ["another writer"] * 10
    changed = copy.deepcopy(resources_of(a_patient(1), "Observation")[0])
    changed["status"] = "amended"

    with pytest.raises(ConcurrentUpdate):
        clinic.importer.one(changed)
    assert database.state.patients["p1"].version == 1


def test_a_record_that_no_longer_reads_keeps_a_summary_that_says_why() -> None:
    clinic, database = a_fake_clinic()
    clinic.importer.one(a_patient(1))
    stored = list(database.state.resources.values())
    broken = copy.deepcopy(stored)
    observation = next(r for r in broken if r.resource_type == "Observation")
    observation.content["effectiveDateTime"] = "not a date"  # type: ignore[index]

    summary = clinic.context.summarise("p1", 1, broken)

    assert summary.decision is None
    assert summary.problem is not None
    assert "effectiveDateTime" in summary.problem
