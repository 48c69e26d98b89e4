"""Clinicians acknowledge cautions and override overridable rules; the record keeps both."""

from __future__ import annotations

from datetime import timedelta

import pytest

from natalizumab_cds.application.errors import DecisionRefused, NotOverridable, UnknownPatient
from natalizumab_cds.application.records import DecisionKind
from natalizumab_cds.domain.errors import InvalidInput
from tests.application.clinic_fakes import a_fake_clinic
from tests.clinic_db import NOW, FakeClock, a_patient

OVERRIDE, ACKNOWLEDGE = DecisionKind.OVERRIDE, DecisionKind.ACKNOWLEDGE


def test_an_override_lowers_a_pregnancy_hold_to_caution_and_stays_visible() -> None:
    clinic, _ = a_fake_clinic()
    clinic.importer.one(a_patient(1, "pregnant"))

    decision = clinic.decisions.record(
        "p1", OVERRIDE, "population.pregnancy", "Dr. Synthwell", "benefit outweighs risk"
    )

    assessment = clinic.patients.assessment("p1")
    finding = assessment.finding("population.pregnancy")
    assert finding is not None
    assert finding.overridden
    assert finding.override is not None
    assert finding.override.reason == "benefit outweighs risk"
    assert assessment.decision == "caution"
    assert clinic.decisions.listed("p1") == [decision]


def test_a_rule_the_catalogue_does_not_mark_overridable_cannot_be_overridden() -> None:
    clinic, database = a_fake_clinic()
    clinic.importer.one(a_patient(1, "liver-elevated"))

    with pytest.raises(NotOverridable, match=r"liver\.elevated"):
        clinic.decisions.record("p1", OVERRIDE, "liver.elevated", "Dr. A", "looks fine")
    assert clinic.patients.assessment("p1").decision == "hold"
    assert database.state.commits == 1  # the import only


def test_an_override_needs_a_reason_and_an_author() -> None:
    clinic, _ = a_fake_clinic()
    clinic.importer.one(a_patient(1, "pregnant"))

    with pytest.raises(InvalidInput, match="reason: is required"):
        clinic.decisions.record("p1", OVERRIDE, "population.pregnancy", "Dr. A", "  ")
    with pytest.raises(InvalidInput, match="author: is required"):
        clinic.decisions.record("p1", OVERRIDE, "population.pregnancy", "", "why")


def test_overriding_a_rule_that_does_not_fire_now_is_refused() -> None:
    clinic, _ = a_fake_clinic()
    clinic.importer.one(a_patient(1))

    with pytest.raises(DecisionRefused, match="does not fire"):
        clinic.decisions.record("p1", OVERRIDE, "population.pregnancy", "Dr. A", "why")


def test_only_cautions_are_acknowledged_a_hold_is_not() -> None:
    clinic, _ = a_fake_clinic()
    clinic.importer.one(a_patient(1, "pregnant"))

    with pytest.raises(DecisionRefused, match=r"not a caution.*takes an override"):
        clinic.decisions.record("p1", ACKNOWLEDGE, "population.pregnancy", "Dr. A")


def test_an_acknowledged_caution_counts_on_the_day_it_was_acknowledged_only() -> None:
    clock = FakeClock()
    clinic, database = a_fake_clinic(clock)
    clinic.importer.one(a_patient(1, "platelets-low"))

    clinic.decisions.record("p1", ACKNOWLEDGE, "blood.platelets-low", "Nurse Demoford")

    assert database.state.summaries["p1"].acknowledged == ("blood.platelets-low",)
    assert clinic.patients.assessment("p1").decision == "caution"  # still a caution
    clock.moment = NOW + timedelta(days=1)
    clinic.worklist.refresh()
    assert database.state.summaries["p1"].acknowledged == ()


def test_an_acknowledgement_never_acts_as_an_override() -> None:
    clinic, _ = a_fake_clinic()
    clinic.importer.one(a_patient(1, "pediatric-overridden"))
    clinic.decisions.record("p1", ACKNOWLEDGE, "population.pediatric", "Dr. A")

    kinds = [d.kind for d in clinic.decisions.listed("p1")]

    assert kinds[0] is ACKNOWLEDGE
    finding = clinic.patients.assessment("p1").finding("population.pediatric")
    assert finding is not None
    assert finding.override is not None
    assert finding.override.id != clinic.decisions.listed("p1")[0].id


def test_a_decision_for_a_patient_not_on_file_names_the_patient() -> None:
    clinic, _ = a_fake_clinic()

    with pytest.raises(UnknownPatient, match="p404"):
        clinic.decisions.record("p404", ACKNOWLEDGE, "blood.platelets-low", "Dr. A")
    with pytest.raises(UnknownPatient):
        clinic.decisions.listed("p404")


def test_a_rule_id_outside_the_catalogue_is_refused_naming_the_field() -> None:
    clinic, _ = a_fake_clinic()
    clinic.importer.one(a_patient(1))

    with pytest.raises(InvalidInput, match=r"rule: 'liver\.fine'"):
        clinic.decisions.record("p1", ACKNOWLEDGE, "liver.fine", "Dr. A")
