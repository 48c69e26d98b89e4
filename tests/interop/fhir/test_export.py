"""FHIR R4 export: valid bundles that carry the record unchanged and read back the same.

Every record here is synthetic (``synthesize_patient``), one per scenario.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest

from natalizumab_cds.application.protocol_source import packaged_protocol
from natalizumab_cds.application.report import assessment_to_dict
from natalizumab_cds.domain.assessment import Assessment, assess
from natalizumab_cds.domain.protocol import RULE_SYSTEM
from natalizumab_cds.domain.schedule import DueStatus
from natalizumab_cds.interop.fhir.decisions import decision_of
from natalizumab_cds.interop.fhir.export import (
    FhirExporter,
    export_bundle,
    export_received_bundle,
)
from natalizumab_cds.interop.fhir.export_terms import (
    DERIVED_TAG,
    DUE_STATUS_EXTENSION,
    EFFECT_EXTENSION,
    FINDING_SYSTEM,
    ITEM_EXTENSION,
    LAST_DONE_EXTENSION,
    ORIGINAL_EFFECT_EXTENSION,
    OVERRIDE_EXTENSION,
)
from natalizumab_cds.interop.fhir.reader import read_bundle
from natalizumab_cds.interop.fhir.synthetic import SCENARIOS, synthesize_patient
from tests.fhir_models import validate_r4, validate_r4_and_r4b

AT = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
JSON = dict[str, Any]
DERIVED = ("GuidanceResponse", "DetectedIssue", "CarePlan", "ServiceRequest")


@cache
def record(scenario: str) -> JSON:
    return synthesize_patient(0, 11, AT, scenario)


@cache
def assessment(scenario: str, at: datetime = AT) -> Assessment:
    protocol = packaged_protocol()
    return assess(read_bundle(record(scenario), protocol), protocol, at)


@cache
def _exported_bytes(scenario: str, at: datetime = AT) -> bytes:
    return orjson.dumps(export_received_bundle(record(scenario), assessment(scenario, at)))


def exported(scenario: str, at: datetime = AT) -> JSON:
    """A fresh copy each time: a test may not change what another one reads."""
    parsed: JSON = orjson.loads(_exported_bytes(scenario, at))
    return parsed


def reassessed(bundle: JSON, at: datetime = AT) -> Assessment:
    protocol = packaged_protocol()
    return assess(read_bundle(bundle, protocol), protocol, at)


def of_type(bundle: JSON, kind: str) -> list[JSON]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def derived(bundle: JSON) -> list[JSON]:
    return [
        e["resource"]
        for e in bundle["entry"]
        if DERIVED_TAG in e["resource"].get("meta", {}).get("tag", [])
    ]


def issue_for(bundle: JSON, rule: str) -> JSON:
    found = [
        issue
        for issue in of_type(bundle, "DetectedIssue")
        if (issue["code"]["coding"][0]["system"], issue["code"]["coding"][0]["code"])
        == (FINDING_SYSTEM, rule)
    ]
    assert len(found) == 1, rule
    return found[0]


def extension(element: JSON, url: str) -> Any:
    values = [
        value
        for ext in element.get("extension", [])
        if ext["url"] == url
        for key, value in ext.items()
        if key.startswith("value")
    ]
    return values[0] if len(values) == 1 else values or None


def by_reference(bundle: JSON) -> dict[str, JSON]:
    return {
        f"{e['resource']['resourceType']}/{e['resource']['id']}": e["resource"]
        for e in bundle["entry"]
    }


def references(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "reference" and "resourceType" in node:
                continue  # DetectedIssue.reference: a uri, not a Reference
            if key == "reference" and isinstance(value, str):
                yield value
            else:
                yield from references(value)
    elif isinstance(node, list):
        for item in node:
            yield from references(item)


# --- the bundle as a whole -----------------------------------------------------


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_scenario_exports_a_bundle_that_validates_as_fhir_r4(scenario: str) -> None:
    bundle = validate_r4_and_r4b(exported(scenario))
    assert bundle.type == "collection"


def test_an_element_that_only_later_fhir_versions_have_is_refused_as_r4() -> None:
    bundle = exported("liver-elevated")
    issue = issue_for(bundle, "liver.elevated")
    issue["subject"] = issue["patient"]  # DetectedIssue.subject is new in R5

    with pytest.raises(AssertionError, match='Superfluous entry "subject"'):
        validate_r4(bundle)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_reading_an_export_back_gives_the_same_assessment(scenario: str) -> None:
    back = reassessed(exported(scenario))
    assert assessment_to_dict(back) == assessment_to_dict(assessment(scenario))


def test_the_record_goes_out_unchanged_with_its_full_urls_and_the_patient_first() -> None:
    received = record("liver-elevated")
    bundle = exported("liver-elevated")
    kept = [e for e in bundle["entry"] if e["resource"] not in derived(bundle)]
    assert kept[0]["resource"]["resourceType"] == "Patient"
    assert sorted(orjson.dumps(e).decode() for e in kept) == sorted(
        orjson.dumps({"fullUrl": e["fullUrl"], "resource": e["resource"]}).decode()
        for e in received["entry"]
    )


def test_the_same_record_and_moment_export_byte_for_byte_the_same() -> None:
    first = export_received_bundle(record("thyroid-abnormal"), assessment("thyroid-abnormal"))
    second = export_received_bundle(record("thyroid-abnormal"), assessment("thyroid-abnormal"))
    assert orjson.dumps(first) == orjson.dumps(second)


def test_another_moment_gives_the_derived_resources_other_ids() -> None:
    later = AT + timedelta(hours=1)
    ids = {r["id"] for r in derived(exported("routine-proceed"))}
    later_ids = {r["id"] for r in derived(exported("routine-proceed", later))}
    assert ids.isdisjoint(later_ids)


def test_the_same_instant_in_another_offset_gives_the_same_ids() -> None:
    elsewhere = AT.astimezone(ZoneInfo("Europe/Zurich"))
    ids = [r["id"] for r in derived(exported("routine-proceed"))]
    assert [r["id"] for r in derived(exported("routine-proceed", elsewhere))] == ids


def test_exporting_an_export_again_replaces_the_derived_resources_instead_of_doubling_them() -> (
    None
):
    once = exported("pediatric-overridden")
    twice = export_received_bundle(once, reassessed(once))
    assert orjson.dumps(twice) == orjson.dumps(once)


def test_every_reference_the_export_adds_resolves_within_the_bundle() -> None:
    bundle = exported("overdue-monitoring")
    known = by_reference(bundle)
    for resource in derived(bundle):
        for ref in references(resource):
            assert ref.startswith("#") or ref in known, (resource["id"], ref)


def test_stored_resources_without_full_urls_get_stable_distinct_urns() -> None:
    resources = [e["resource"] for e in record("routine-proceed")["entry"]]
    bundle = export_bundle(resources, assessment("routine-proceed"))
    urls = [e["fullUrl"] for e in bundle["entry"]]
    assert all(re.fullmatch(r"urn:uuid:[0-9a-f-]{36}", url) for url in urls)
    assert len(set(urls)) == len(urls)
    assert export_bundle(resources, assessment("routine-proceed")) == bundle
    validate_r4_and_r4b(bundle)


def test_the_exporter_port_gives_the_bundle_of_the_stored_record() -> None:
    resources = [e["resource"] for e in record("elderly")["entry"]]
    bundle = FhirExporter().bundle(resources, assessment("elderly"))
    assert reassessed(bundle).decision.value == "caution"


# --- the decision ----------------------------------------------------------------


@pytest.mark.parametrize(
    "scenario", ["routine-proceed", "elderly", "liver-elevated", "prior-reaction"]
)
def test_the_decision_is_the_output_of_one_guidance_response(scenario: str) -> None:
    bundle = exported(scenario)
    [guidance] = of_type(bundle, "GuidanceResponse")
    [parameters] = guidance["contained"]
    values = {p["name"]: p for p in parameters["parameter"]}
    assert guidance["outputParameters"] == {"reference": "#output"}
    assert values["decision"]["valueCode"] == assessment(scenario).decision.value
    assert guidance["note"][0]["text"].startswith(f"Decision at {AT.isoformat()}: ")
    assert guidance["moduleUri"] == "urn:natalizumab-cds:protocol:natalizumab-institutional:" + (
        packaged_protocol().version
    )
    [plan] = of_type(bundle, "CarePlan")
    assert guidance["result"] == {"reference": f"CarePlan/{plan['id']}"}
    findings = [
        p["valueReference"]["reference"] for p in parameters["parameter"] if p["name"] == "finding"
    ]
    assert findings == [f"DetectedIssue/{i['id']}" for i in of_type(bundle, "DetectedIssue")]


# --- findings ----------------------------------------------------------------------


def test_a_hold_finding_is_a_high_severity_issue_with_its_evidence_and_basis() -> None:
    bundle = exported("liver-elevated")
    finding = assessment("liver-elevated").finding("liver.elevated")
    assert finding is not None
    issue = issue_for(bundle, "liver.elevated")
    assert issue["status"] == "final"
    assert issue["severity"] == "high"
    assert issue["patient"] == {"reference": "Patient/p0"}
    assert issue["identifiedDateTime"] == AT.isoformat()
    assert issue["detail"] == finding.summary
    assert issue["reference"] == "urn:natalizumab-cds:rule:liver.elevated"
    assert extension(issue, EFFECT_EXTENSION) == "hold"
    assert issue["evidence"] == [{"detail": [{"reference": ref} for ref in finding.evidence]}]
    [plan] = of_type(bundle, "CarePlan")
    assert issue["implicated"] == [{"reference": f"CarePlan/{plan['id']}"}]


def test_severities_map_critical_to_high_warning_to_moderate_and_info_to_low() -> None:
    bundle = exported("elderly")
    assert issue_for(bundle, "population.elderly")["severity"] == "moderate"
    assert issue_for(exported("neda3"), "activity.neda3")["severity"] == "low"


def test_a_finding_that_does_not_act_on_the_infusion_implicates_nothing() -> None:
    issue = issue_for(exported("mri-activity"), "mri.activity")
    assert extension(issue, EFFECT_EXTENSION) == "none"
    assert "implicated" not in issue


def test_an_overridden_finding_carries_the_override_as_its_mitigation() -> None:
    finding = assessment("pediatric-overridden").finding("population.pediatric")
    assert finding is not None
    assert finding.override is not None
    issue = issue_for(exported("pediatric-overridden"), "population.pediatric")
    assert extension(issue, EFFECT_EXTENSION) == "caution"
    assert extension(issue, ORIGINAL_EFFECT_EXTENSION) == "hold"
    [mitigation] = issue["mitigation"]
    assert mitigation["action"]["text"] == finding.override.reason
    assert mitigation["author"] == {"display": finding.override.author}
    assert mitigation["date"] == finding.override.at.isoformat()
    assert extension(mitigation, OVERRIDE_EXTENSION) == {"reference": finding.override.id}


def test_exported_findings_never_read_back_as_overrides() -> None:
    bundle = exported("pediatric")
    assert issue_for(bundle, "population.pediatric")["status"] == "final"
    assert all(
        coding["system"] != RULE_SYSTEM
        for issue in derived(bundle)
        if issue["resourceType"] == "DetectedIssue"
        for coding in issue["code"]["coding"]
    )
    back = read_bundle(bundle, packaged_protocol())
    assert back.overrides_known(AT) == []
    assert reassessed(bundle).decision.value == "hold"


def test_exported_findings_are_not_taken_for_clinicians_decisions_when_stored() -> None:
    issues = [r for r in derived(exported("pediatric-overridden")) if "mitigation" in r]
    assert issues
    assert all(decision_of("p0", issue) is None for issue in issues)


def test_the_clinicians_override_travels_unchanged_and_still_applies() -> None:
    bundle = exported("pediatric-overridden")
    overrides = read_bundle(bundle, packaged_protocol()).overrides_known(AT)
    assert [o.id for o in overrides] == ["DetectedIssue/override-0-1"]
    assert reassessed(bundle).decision.value == "caution"


# --- the monitoring plan -----------------------------------------------------------


def test_the_care_plan_has_one_activity_per_schedule_item_with_its_due_status() -> None:
    schedule = assessment("routine-proceed").monitoring
    [plan] = of_type(exported("routine-proceed"), "CarePlan")
    assert (plan["status"], plan["intent"]) == ("active", "plan")
    assert plan["subject"] == {"reference": "Patient/p0"}
    assert [extension(a, ITEM_EXTENSION)["code"] for a in plan["activity"]] == [
        e.item.value for e in schedule
    ]
    for activity, entry in zip(plan["activity"], schedule, strict=True):
        assert extension(activity, DUE_STATUS_EXTENSION) == entry.status.value
        assert extension(activity, LAST_DONE_EXTENSION) == (
            entry.last.isoformat() if entry.last else None
        )


def test_an_item_not_ordered_is_described_inline_with_its_due_date() -> None:
    [plan] = of_type(exported("overdue-mri"), "CarePlan")
    [mri] = [a for a in plan["activity"] if extension(a, ITEM_EXTENSION)["code"] == "mri"]
    entry = next(e for e in assessment("overdue-mri").monitoring if e.item.value == "mri")
    assert entry.status is DueStatus.OVERDUE
    assert "reference" not in mri
    detail = mri["detail"]
    assert detail["status"] == "not-started"
    assert detail["code"]["coding"][0]["code"] == "mri-brain"
    assert detail["scheduledPeriod"] == {
        "start": entry.due.isoformat(),
        "end": entry.due.isoformat(),
    }
    assert detail["description"].startswith("Brain MRI: overdue, due ")


def test_the_next_infusion_is_a_natalizumab_activity() -> None:
    [plan] = of_type(exported("routine-proceed"), "CarePlan")
    [infusion] = [a for a in plan["activity"] if extension(a, ITEM_EXTENSION)["code"] == "infusion"]
    assert infusion["detail"]["kind"] == "MedicationRequest"
    assert infusion["detail"]["productCodeableConcept"]["coding"][0]["code"] == "354770"


@pytest.mark.parametrize(
    ("scenario", "status", "rule"),
    [
        ("liver-elevated", "on-hold", "liver.elevated"),
        ("prior-reaction", "cancelled", "hypersensitivity.prior-reaction"),
        ("elderly", "scheduled", None),
    ],
)
def test_the_next_infusion_follows_the_decision(
    scenario: str, status: str, rule: str | None
) -> None:
    [plan] = of_type(exported(scenario), "CarePlan")
    [infusion] = [a for a in plan["activity"] if extension(a, ITEM_EXTENSION)["code"] == "infusion"]
    assert infusion["detail"]["status"] == status
    if rule is None:
        assert "statusReason" not in infusion["detail"]
    else:
        assert rule in infusion["detail"]["statusReason"]["text"]


def test_overdue_labs_get_proposed_orders_that_the_plan_refers_to() -> None:
    bundle = exported("overdue-monitoring")
    schedule = {e.item.value: e for e in assessment("overdue-monitoring").monitoring}
    [plan] = of_type(bundle, "CarePlan")
    requests = {f"ServiceRequest/{r['id']}": r for r in of_type(bundle, "ServiceRequest")}
    ordered = {
        extension(a, ITEM_EXTENSION)["code"]: a for a in plan["activity"] if "reference" in a
    }
    labs = {"liver", "blood", "thyroid", "antibody"}
    assert set(ordered) == {
        item
        for item, e in schedule.items()
        if item in labs and e.status in (DueStatus.OVERDUE, DueStatus.DUE_SOON)
    }
    assert "liver" in ordered
    for item, activity in ordered.items():
        assert "detail" not in activity  # R4 cpl-3: a reference or a detail, not both
        request = requests[activity["reference"]["reference"]]
        assert (request["status"], request["intent"]) == ("active", "proposal")
        assert request["occurrenceDateTime"] == schedule[item].due.isoformat()
        assert request["basedOn"] == [{"reference": f"CarePlan/{plan['id']}"}]
    liver = requests[ordered["liver"]["reference"]["reference"]]
    assert liver["code"]["coding"][0]["code"] == "24325-3"
    assert liver["reasonCode"][0]["coding"][0]["code"] == "monitoring.liver-overdue"
    assert "every 3 months" in liver["reasonCode"][0]["text"]
    assert liver["supportingInfo"] == [
        {"reference": f"DetectedIssue/{issue_for(bundle, 'monitoring.liver-overdue')['id']}"}
    ]


def test_nothing_is_ordered_when_every_lab_is_up_to_date() -> None:
    schedule = assessment("routine-proceed").monitoring
    labs = [e for e in schedule if e.item.value in ("liver", "blood", "thyroid", "antibody")]
    assert all(e.status is DueStatus.OK for e in labs)
    assert of_type(exported("routine-proceed"), "ServiceRequest") == []


# fhir.resources checks structure, not required bindings: these are the R4 value sets.
REQUIRED_CODES: dict[tuple[str, str], frozenset[str]] = {
    ("DetectedIssue", "status"): frozenset(
        {"registered", "preliminary", "final", "amended", "corrected", "cancelled"}
        | {"entered-in-error", "unknown"}
    ),
    ("DetectedIssue", "severity"): frozenset({"high", "moderate", "low"}),
    ("CarePlan", "status"): frozenset(
        {"draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown"}
    ),
    ("CarePlan", "intent"): frozenset({"proposal", "plan", "order", "option"}),
    ("ServiceRequest", "status"): frozenset(
        {"draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown"}
    ),
    ("ServiceRequest", "intent"): frozenset(
        {"proposal", "plan", "directive", "order", "original-order", "reflex-order"}
        | {"filler-order", "instance-order", "option"}
    ),
    ("GuidanceResponse", "status"): frozenset(
        {"success", "data-requested", "data-required", "in-progress", "failure"}
        | {"entered-in-error"}
    ),
}
ACTIVITY_STATUS = frozenset(
    {"not-started", "scheduled", "in-progress", "on-hold", "completed", "cancelled", "stopped"}
    | {"unknown", "entered-in-error"}
)
ACTIVITY_KIND = frozenset(
    {"Appointment", "CommunicationRequest", "DeviceRequest", "MedicationRequest"}
    | {"NutritionOrder", "Task", "ServiceRequest", "VisionPrescription"}
)


@pytest.mark.parametrize(
    "scenario", ["overdue-monitoring", "pediatric-overridden", "new-patient-no-baseline"]
)
def test_every_required_code_is_from_its_fhir_value_set(scenario: str) -> None:
    for resource in derived(exported(scenario)):
        for (kind, element), allowed in REQUIRED_CODES.items():
            if resource["resourceType"] == kind:
                assert resource[element] in allowed, (kind, element)
        for activity in resource.get("activity", []):
            if "detail" in activity:
                assert activity["detail"]["status"] in ACTIVITY_STATUS
                assert activity["detail"]["kind"] in ACTIVITY_KIND


def test_a_transaction_that_refers_by_urn_keeps_its_full_urls_and_reads_back() -> None:
    received = orjson.loads(orjson.dumps(record("liver-elevated")))
    patient_urn = "urn:uuid:8c1f6d6e-0d7e-4d0a-9a53-3c2f7f0f4b11"
    received["type"] = "transaction"
    for entry in received["entry"]:
        resource = entry["resource"]
        entry["request"] = {"method": "PUT", "url": f"{resource['resourceType']}/{resource['id']}"}
        if resource["resourceType"] == "Patient":
            entry["fullUrl"] = patient_urn
        elif resource.get("subject") == {"reference": "Patient/p0"}:
            resource["subject"] = {"reference": patient_urn}
    protocol = packaged_protocol()
    before = assess(read_bundle(received, protocol), protocol, AT)
    bundle = export_received_bundle(received, before)
    assert bundle["entry"][0]["fullUrl"] == patient_urn
    assert all("request" not in entry for entry in bundle["entry"])
    validate_r4_and_r4b(bundle)
    assert assessment_to_dict(reassessed(bundle)) == assessment_to_dict(before)
