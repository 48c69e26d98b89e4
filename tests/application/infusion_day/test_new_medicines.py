"""New medicines named at the screening: reviewed before clearing, never a prohibited one.

Synthetic patient ``p1`` (routine, would proceed): only the screening's answer
about new medicines stands between it and a clearance.
"""

from __future__ import annotations

import pytest

from natalizumab_cds.application.clinic import Clinic
from natalizumab_cds.application.visit_steps import AssessmentRefused
from natalizumab_cds.domain.errors import WorkflowRefused
from natalizumab_cds.domain.infusion_visit import VisitState
from tests.infusion_day_builders import DOCTOR, NURSE, a_patient_on_file, no_concerns


def _screened(clinic: Clinic, medicines: str) -> str:
    a_patient_on_file(clinic)
    visit = clinic.infusion_day.open("p1").visit.id
    answers = no_concerns(new_medicines=True, new_medicines_detail=medicines)
    clinic.infusion_day.screen(visit, NURSE, answers)
    return visit


@pytest.mark.parametrize("reviewed", [False, True])
def test_an_immunosuppressant_named_at_screening_refuses_the_clearance(
    clinic: Clinic, reviewed: bool
) -> None:
    visit = _screened(clinic, "Azathioprine 50 mg daily")
    before = clinic.infusion_day.show(visit)

    with pytest.raises(WorkflowRefused) as refused:
        clinic.infusion_day.clear(visit, DOCTOR, medicines_reviewed=reviewed)

    assert not isinstance(refused.value, AssessmentRefused)  # the screening's, not a finding
    assert refused.value.rule == "immunosuppression.concurrent"
    assert refused.value.reason.startswith(
        "the screening names Azathioprine (azathioprine, 1256): immunosuppressants, "
        "antineoplastic and immunomodulating agents must not be given with natalizumab; "
    )
    assert "record it in the patient's medication list" in refused.value.reason
    assert "or correct the screening answer" in refused.value.reason
    after = clinic.infusion_day.show(visit)
    assert (after.version, after.state) == (before.version, VisitState.SCREENING)


def test_other_new_medicines_need_the_review_confirmed(clinic: Clinic) -> None:
    visit = _screened(clinic, "vitamin D 1000 IU daily")

    with pytest.raises(WorkflowRefused) as refused:
        clinic.infusion_day.clear(visit, DOCTOR)

    assert refused.value.rule == "administration.requires-clearance"
    assert "new medicines (vitamin D 1000 IU daily)" in refused.value.reason
    assert "reviewed against the prohibited list" in refused.value.reason
    cleared = clinic.infusion_day.clear(visit, DOCTOR, medicines_reviewed=True)
    assert cleared.state is VisitState.CLEARED
    assert cleared.visit.clearance is not None
    assert cleared.visit.clearance.medicines_reviewed
    assert clinic.infusion_day.show(visit).visit.clearance == cleared.visit.clearance


def test_with_no_new_medicines_there_is_nothing_to_review(clinic: Clinic) -> None:
    a_patient_on_file(clinic)
    visit = clinic.infusion_day.open("p1").visit.id
    clinic.infusion_day.screen(visit, NURSE, no_concerns())

    cleared = clinic.infusion_day.clear(visit, DOCTOR, medicines_reviewed=True)

    assert cleared.visit.clearance is not None
    assert not cleared.visit.clearance.medicines_reviewed
