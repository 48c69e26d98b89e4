"""Importing FHIR keeps the raw resources, versions them, and is all or nothing per bundle."""

from __future__ import annotations

import copy

import pytest

from natalizumab_cds.application.clinic import Clinic
from natalizumab_cds.bootstrap import clinic_service
from natalizumab_cds.domain.errors import InvalidInput
from tests.clinic_db import FakeClock, a_patient, resources_of


def _stored_count(clinic: Clinic, patient_id: str) -> int:
    return clinic.patients.timeline(patient_id, (), 1, 1).total


def test_importing_a_bundle_stores_every_resource_and_the_patient(clinic: Clinic) -> None:
    bundle = a_patient(1)

    report = clinic.importer.one(bundle)

    assert (report.patients, report.created) == (1, len(bundle["entry"]))
    entry, summary = clinic.patients.patient("p1")
    assert entry.mrn == "MRN0000001"
    assert entry.name
    assert entry.birth_date is not None
    assert summary is not None
    assert summary.decision == "proceed"
    assert _stored_count(clinic, "p1") == len(bundle["entry"])


def test_importing_the_same_bundle_twice_keeps_one_record(clinic: Clinic) -> None:
    bundle = a_patient(2)
    clinic.importer.one(bundle)

    again = clinic.importer.one(bundle)

    assert (again.created, again.updated, again.unchanged) == (0, 0, len(bundle["entry"]))
    assert _stored_count(clinic, "p2") == len(bundle["entry"])
    assert clinic.patients.patient("p2")[0].version == 1


def test_a_changed_resource_becomes_a_new_version_and_the_old_one_goes_to_history(
    clinic: Clinic,
) -> None:
    bundle = a_patient(3)
    clinic.importer.one(bundle)
    alt = copy.deepcopy(resources_of(bundle, "Observation")[-1])
    alt["status"] = "amended"

    report = clinic.importer.one(alt)

    assert (report.created, report.updated) == (0, 1)
    current = clinic.patients.timeline("p3", ["Observation"], 1, 500).items
    stored = next(r for r in current if r.resource_id == alt["id"])
    assert (stored.version, stored.content["status"]) == (2, "amended")
    older = clinic.patients.history("p3", "Observation", alt["id"])
    assert [(r.version, r.content["status"]) for r in older] == [(1, "final")]
    assert clinic.patients.patient("p3")[0].version == 2


def test_an_older_version_arriving_late_does_not_replace_the_newer_one(clinic: Clinic) -> None:
    bundle = a_patient(4)
    clinic.importer.one(bundle)
    newer = copy.deepcopy(resources_of(bundle, "Observation")[-1])
    newer["meta"] = {"lastUpdated": "2026-11-24T08:00:00+00:00"}
    newer["status"] = "amended"
    clinic.importer.one(newer)
    older = copy.deepcopy(newer)
    older["meta"] = {"lastUpdated": "2026-11-23T08:00:00+00:00"}
    older["status"] = "preliminary"

    report = clinic.importer.one(older)

    assert report.stale == 1
    current = clinic.patients.timeline("p4", ["Observation"], 1, 500).items
    assert next(r for r in current if r.resource_id == newer["id"]).content["status"] == "amended"


def test_an_invalid_bundle_writes_nothing_and_names_the_resource_and_field(
    clinic: Clinic,
) -> None:
    bundle = a_patient(5)
    broken = resources_of(bundle, "Observation")[3]
    broken["effectiveDateTime"] = "yesterday"

    with pytest.raises(InvalidInput, match=rf"Observation/{broken['id']}.*effectiveDateTime"):
        clinic.importer.one(bundle)

    assert clinic.patients.search(None).total == 0


def test_a_resource_for_a_patient_not_on_file_is_refused(clinic: Clinic) -> None:
    observation = resources_of(a_patient(6), "Observation")[0]

    with pytest.raises(InvalidInput, match="Patient/p6, who is not on file"):
        clinic.importer.one(observation)


def test_a_resource_already_in_another_patients_record_is_refused(clinic: Clinic) -> None:
    first = a_patient(7)
    clinic.importer.one(first)
    second = a_patient(8)
    stolen = copy.deepcopy(resources_of(first, "Observation")[0])
    stolen["subject"] = {"reference": "Patient/p8"}
    second["entry"].append({"resource": stolen})

    with pytest.raises(InvalidInput, match="belongs to the record of Patient/p7"):
        clinic.importer.one(second)
    assert clinic.patients.search("MRN0000008").total == 0


def test_a_single_resource_joins_its_patients_record_and_the_decision_follows(
    clinic: Clinic,
) -> None:
    clinic.importer.one(a_patient(9))
    pregnant = copy.deepcopy(resources_of(a_patient(10, "pregnant"), "Observation")[-1])
    assert pregnant["code"]["coding"][0]["code"] == "82810-3"
    pregnant["subject"] = {"reference": "Patient/p9"}
    pregnant["id"] = "pregnancy-p9"

    clinic.importer.one(pregnant)

    assert clinic.patients.patient("p9")[1].decision == "hold"  # type: ignore[union-attr]
    assert clinic.patients.assessment("p9").decision == "hold"


def test_references_to_a_bundles_urn_uuids_are_stored_as_type_and_id(clinic: Clinic) -> None:
    bundle = a_patient(11)
    bundle["type"] = "transaction"
    for entry in bundle["entry"]:
        entry["fullUrl"] = f"urn:uuid:{entry['resource']['resourceType']}-{entry['resource']['id']}"
        subject = entry["resource"].get("subject")
        if subject:
            subject["reference"] = "urn:uuid:Patient-p11"

    clinic.importer.one(bundle)

    stored = clinic.patients.timeline("p11", ["Observation"], 1, 1).items[0]
    assert stored.content["subject"] == {"reference": "Patient/p11"}
    assert clinic.patients.assessment("p11").decision == "proceed"


def _conditional(bundle: dict[str, object], search: str) -> None:
    """Every subject in the bundle names its patient by search instead of by id."""
    for entry in bundle["entry"]:  # type: ignore[attr-defined]
        subject = entry["resource"].get("subject")
        if subject:
            subject["reference"] = search


def test_a_patient_named_by_identifier_in_the_bundle_is_resolved(clinic: Clinic) -> None:
    bundle = a_patient(12, "liver-elevated")
    bundle["type"] = "transaction"
    _conditional(bundle, "Patient?identifier=urn:natalizumab-cds:synthetic-mrn|MRN0000012")

    clinic.importer.one(bundle)

    stored = clinic.patients.timeline("p12", ["Observation"], 1, 1).items[0]
    assert stored.content["subject"] == {"reference": "Patient/p12"}
    assert clinic.patients.assessment("p12").decision == "hold"


@pytest.mark.parametrize(
    "search",
    [
        "Patient?identifier=urn:natalizumab-cds:synthetic-mrn|MRN9999999",  # nobody has it
        "Patient?identifier=urn:other-hospital|MRN0000013",  # another system's number
        "Patient?name=Synthetic",  # not a search by identifier
    ],
)
def test_a_search_that_names_no_patient_of_the_bundle_refuses_it(
    clinic: Clinic, search: str
) -> None:
    bundle = a_patient(13)
    _conditional(bundle, search)

    with pytest.raises(InvalidInput, match="does not name a Patient"):
        clinic.importer.one(bundle)
    assert clinic.patients.search(None).total == 0


@pytest.mark.parametrize("method", ["DELETE", "PATCH", "GET"])
def test_a_request_that_is_not_applied_refuses_the_bundle_instead_of_passing_over_it(
    clinic: Clinic, method: str
) -> None:
    """A sender must never believe a deletion (or a patch) was applied when it was not."""
    bundle = a_patient(14)
    bundle["type"] = "transaction"
    bundle["entry"].append({"request": {"method": method, "url": "Observation/alt-1"}})

    with pytest.raises(InvalidInput) as refused:
        clinic.importer.one(bundle)

    entry = len(bundle["entry"]) - 1
    assert str(refused.value).startswith(
        f"Bundle: entry[{entry}].request.method: {method} is not applied here, "
        "only POST and PUT entries are (to withdraw a resource recorded in error, "
        "PUT it with status entered-in-error)"
    )
    assert clinic.patients.search(None).total == 0


def test_a_bulk_import_leaves_out_bad_bundles_whole_and_keeps_the_good_ones(
    clinic: Clinic,
) -> None:
    bad = a_patient(21)
    lab = next(r for r in resources_of(bad, "Observation") if "valueQuantity" in r)
    lab["valueQuantity"] = {"value": "high", "unit": "U/L"}
    sources = [("good-20", a_patient(20)), ("bad-21", bad), ("good-22", a_patient(22))]

    report = clinic.importer.many(sources)

    assert report.patients == 2
    assert [label for label, _ in report.failures] == ["bad-21"]
    assert "valueQuantity" in report.failures[0][1]
    assert {p.patient.id for p in clinic.patients.search(None).items} == {"p20", "p22"}


def test_records_survive_a_restart(clinic: Clinic, database_url: str) -> None:
    bundle = a_patient(30, "liver-elevated")
    clinic.importer.one(bundle)
    clinic.database.close()

    restarted = clinic_service(database_url, clock=FakeClock())
    try:
        assert restarted.patients.assessment("p30").decision == "hold"
        assert _stored_count(restarted, "p30") == len(bundle["entry"])
    finally:
        restarted.database.close()


def test_a_result_sent_again_as_entered_in_error_no_longer_counts(clinic: Clinic) -> None:
    """How a sender withdraws a result (DELETE is refused): the same id, marked in error."""
    bundle = a_patient(15, "liver-elevated")
    clinic.importer.one(bundle)
    hold = clinic.patients.assessment("p15")
    assert hold.decision == "hold"
    liver = next(f for f in hold.findings if f.rule == "liver.elevated")
    used = {ref.removeprefix("Observation/") for ref in liver.evidence}
    withdrawn = copy.deepcopy(bundle)
    for resource in resources_of(withdrawn, "Observation"):
        if resource["id"] in used:
            resource["status"] = "entered-in-error"

    report = clinic.importer.one(withdrawn)

    assert report.updated == len(used)
    after = clinic.patients.assessment("p15")
    assert "liver.elevated" not in {f.rule for f in after.findings if f.effect.value == "hold"}
    current = clinic.patients.timeline("p15", ["Observation"], 1, 500).items
    for resource_id in used:  # the withdrawn version is current, the first one kept
        (now,) = [r for r in current if r.resource_id == resource_id]
        assert (now.version, now.content["status"]) == (2, "entered-in-error")
        (before,) = clinic.patients.history("p15", "Observation", resource_id)
        assert (before.version, before.content["status"]) == (1, "final")
