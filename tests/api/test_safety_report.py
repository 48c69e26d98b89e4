"""The safety report adds up a small known clinic correctly, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from natalizumab_cds.api.app import create_app
from natalizumab_cds.application.clinic import Clinic
from natalizumab_cds.application.security.passwords import Cost, Passwords
from natalizumab_cds.application.security.permissions import Role, operator
from natalizumab_cds.bootstrap import security_for
from natalizumab_cds.domain.confidence import garwood, wilson
from tests.api.safety_dataset import EXPOSURE_DAYS, for_patient, safety_bundles
from tests.interop.cds_hooks.servers import LiveApp
from tests.interop.fhir.builders import (
    ANTIBODY_NEGATIVE,
    ANTIBODY_POSITIVE,
    a_drug_level,
    an_antibody_result,
    an_infusion,
)


@pytest.fixture
def stocked_clinic(clinic: Clinic) -> Clinic:
    for bundle in safety_bundles():
        clinic.importer.one(bundle)
    return clinic


def _on_time(clinic: Clinic) -> tuple[int, int]:
    today = clinic.context.today()
    with clinic.database.reading() as uow:
        dues = [
            d
            for pid in ("p1", "p2", "p3")
            if (s := uow.summaries.summary(pid)) is not None
            for d in s.dues
            if d.item != "infusion"
        ]
    return sum(1 for d in dues if d.due >= today), len(dues)


def test_the_counts_are_those_worked_out_by_hand(stocked_clinic: Clinic) -> None:
    counts = stocked_clinic.safety.report().counts
    assert (counts.patients, counts.treated) == (3, 2)
    assert counts.severe_reactions == 1
    assert counts.exposure_days == pytest.approx(EXPOSURE_DAYS)
    assert counts.infections == 2
    assert (counts.thyroid_abnormal, counts.thyroid_tested) == (1, 2)
    assert (counts.antibody_positive, counts.antibody_persistent, counts.antibody_tested) == (
        1,
        1,
        2,
    )
    assert (counts.monitoring_on_time, counts.monitoring_items) == _on_time(stocked_clinic)


def test_each_measure_has_its_rate_interval_and_the_protocols_expected_rate(
    stocked_clinic: Clinic,
) -> None:
    measures = {m.key: m for m in stocked_clinic.safety.report().measures}
    severe = measures["severe-reactions"]
    assert severe.observed == pytest.approx(0.5)
    assert severe.interval == wilson(1, 2)
    assert severe.expected == pytest.approx(0.013)
    infections = measures["infections"]
    years = EXPOSURE_DAYS / 365.25
    assert infections.observed == pytest.approx(2 / years)
    interval = garwood(2, years)
    assert interval is not None
    assert infections.interval is not None
    assert infections.interval.low == pytest.approx(interval.low)
    assert infections.expected == pytest.approx(1.0)
    assert measures["thyroid-abnormal"].expected == pytest.approx(0.06)
    assert measures["antibody-positive"].observed == pytest.approx(0.5)
    assert measures["antibody-persistent"].expected == pytest.approx(0.06)
    assert measures["monitoring-on-time"].expected is None


def test_serum_levels_are_the_latest_on_treatment_of_treated_patients(
    stocked_clinic: Clinic,
) -> None:
    positive, negative = stocked_clinic.safety.report().levels
    assert (positive.key, positive.patients, positive.median) == ("with-antibodies", 1, 0.8)
    assert positive.below_threshold == 1
    assert positive.expected == pytest.approx(1.0)
    assert (negative.key, negative.patients, negative.median) == ("without-antibodies", 1, 18.0)
    assert negative.below_threshold == 0  # p3's level is left out: never treated
    assert negative.expected == pytest.approx(17.0)


def test_serum_levels_give_median_and_quartiles_per_antibody_group(clinic: Clinic) -> None:
    at = "2026-11-10T08:00:00+00:00"
    groups = {"n": [10.0, 14.0, 17.0, 20.0, 40.0], "a": [0.5, 3.0]}
    for group, levels in groups.items():
        for index, level in enumerate(levels):
            pid = f"{group}{index}"
            answer = ANTIBODY_NEGATIVE if group == "n" else ANTIBODY_POSITIVE
            resources = (
                an_infusion("2026-10-27T09:00:00+00:00", "2026-10-27T10:00:00+00:00"),
                an_antibody_result(answer, at=at),
                a_drug_level(level, at=at),
            )
            clinic.importer.one(for_patient(pid, f"MRN-{pid}", *resources))
    positive, negative = clinic.safety.report().levels
    assert (negative.patients, negative.median, negative.quartiles) == (5, 17.0, (14.0, 20.0))
    assert negative.below_threshold == 0
    assert positive.patients == 2
    assert positive.median == pytest.approx(1.75)
    assert positive.quartiles == pytest.approx((1.125, 2.375))
    assert positive.below_threshold == 1


def test_an_empty_clinic_reports_no_rates_rather_than_zeros(clinic: Clinic) -> None:
    report = clinic.safety.report()
    assert report.counts.patients == 0
    assert all(m.observed is None and m.interval is None for m in report.measures)
    assert all(g.patients == 0 and g.median is None and g.quartiles is None for g in report.levels)


@pytest.fixture
def api_for(stocked_clinic: Clinic) -> Iterator[dict[Role, httpx.Client]]:
    security = security_for(
        stocked_clinic, passwords=Passwords(Cost(time_cost=1, memory_kib=8, parallelism=1))
    )
    tokens = {}
    for role in (Role.NURSE, Role.ADMINISTRATOR):
        name = f"safety-{role.value}"
        security.accounts.add(operator(), name, role, "a long synthetic passphrase")
        tokens[role] = security.accounts.create_token(operator(), name, "safety tests").secret
    with LiveApp(create_app(stocked_clinic, security=security)) as server:
        clients = {
            role: httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {t}"})
            for role, t in tokens.items()
        }
        yield clients
        for client in clients.values():
            client.close()


def test_the_api_serves_the_report_to_clinicians_only(api_for: dict[Role, httpx.Client]) -> None:
    answer = api_for[Role.NURSE].get("/api/safety-report")
    assert answer.status_code == 200
    body = answer.json()
    assert body["treated_patients"] == 2
    severe = next(m for m in body["measures"] if m["key"] == "severe-reactions")
    assert severe["numerator"] == 1
    assert severe["denominator"] == 2
    assert 0 < severe["ci95_low"] < 0.5 < severe["ci95_high"] < 1
    levels = {g["key"]: g for g in body["serum_levels"]}
    assert levels["with-antibodies"]["median"] == 0.8
    assert levels["without-antibodies"]["patients"] == 1
    assert api_for[Role.ADMINISTRATOR].get("/api/safety-report").status_code == 403
