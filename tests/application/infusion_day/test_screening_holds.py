"""A screening "yes" that holds the infusion is taken back only by a physician.

Synthetic patient ``p1`` (routine, would proceed); the clinic clock is a fake
moved a minute between the screenings.
"""

from __future__ import annotations

import pytest

from natalizumab_cds.application.clinic import Clinic
from natalizumab_cds.application.security.permissions import Principal, Role
from natalizumab_cds.application.visit_steps import AssessmentRefused
from natalizumab_cds.domain.errors import WorkflowRefused
from natalizumab_cds.domain.findings import Decision
from natalizumab_cds.domain.infusion_visit import VisitState
from tests.clinic_db import FakeClock
from tests.infusion_day_builders import a_patient_on_file, minutes, no_concerns, record_of

NURSE = Principal(11, "nurse.ana", Role.NURSE)
PHYSICIAN = Principal(12, "dr.dara", Role.PHYSICIAN)


def _answered_yes(clinic: Clinic, clock: FakeClock, question: str) -> str:
    a_patient_on_file(clinic)
    visit = clinic.infusion_day.open("p1").visit.id
    clinic.infusion_day.screen(visit, NURSE, no_concerns(**{question: True}))
    clock.moment += minutes(1)
    return visit


def _neuro_answer(clinic: Clinic, visit: str) -> dict[str, object]:
    """The visit's own answer to the neurological question, as stored in the record."""
    (observation,) = [
        r for r in record_of(clinic, "p1", "Observation") if r["id"] == f"{visit}-screen-neuro"
    ]
    return observation


def test_a_nurse_may_not_answer_no_after_a_yes_to_neurological_symptoms(
    clinic: Clinic, clock: FakeClock
) -> None:
    visit = _answered_yes(clinic, clock, "neurological_symptoms")
    before = clinic.infusion_day.show(visit)

    with pytest.raises(WorkflowRefused) as refused:
        clinic.infusion_day.screen(visit, NURSE, no_concerns())

    assert refused.value.rule == "pml.suspected"
    assert "answered yes to new or worsening neurological symptoms" in refused.value.reason
    assert "only a physician who has evaluated the patient" in refused.value.reason
    assert "cancel the visit with its reason" in refused.value.reason
    after = clinic.infusion_day.show(visit)
    assert after.version == before.version
    assert after.visit.screening == before.visit.screening
    assert _neuro_answer(clinic, visit)["valueBoolean"] is True  # the hold is still on record
    with pytest.raises(AssessmentRefused) as held:
        clinic.infusion_day.clear(visit, PHYSICIAN.username)
    assert [f.rule for f in held.value.findings] == ["pml.suspected"]


def test_a_name_alone_takes_back_no_hold(clinic: Clinic, clock: FakeClock) -> None:
    visit = _answered_yes(clinic, clock, "neurological_symptoms")

    with pytest.raises(WorkflowRefused) as refused:
        clinic.infusion_day.screen(visit, "dr.dara", no_concerns())

    assert refused.value.rule == "pml.suspected"


def test_a_physician_answers_no_and_the_withdrawal_stays_on_the_visit(
    clinic: Clinic, clock: FakeClock
) -> None:
    visit = _answered_yes(clinic, clock, "neurological_symptoms")

    view = clinic.infusion_day.screen(visit, PHYSICIAN, no_concerns())

    screening = view.visit.screening
    assert screening is not None
    assert screening.screened_by == "dr.dara"
    (withdrawal,) = screening.withdrawn
    assert (withdrawal.question, withdrawal.answered_by, withdrawal.withdrawn_by) == (
        "neurological_symptoms",
        "nurse.ana",
        "dr.dara",
    )
    assert withdrawal.withdrawn_at - withdrawal.answered_at == minutes(1)
    assert clinic.infusion_day.show(visit).visit.screening == screening  # stored as shown
    observation = _neuro_answer(clinic, visit)
    assert observation["valueBoolean"] is False
    assert observation["note"] == [
        {
            "text": "Withdraws the earlier answer yes (asked 2026-11-24T09:00:00+00:00 by "
            "nurse.ana): answered no 2026-11-24T09:01:00+00:00 by dr.dara"
        }
    ]
    assert clinic.infusion_day.clear(visit, "dr.dara").state is VisitState.CLEARED


def test_once_a_physician_took_the_hold_back_a_nurse_may_screen_again_and_it_is_kept(
    clinic: Clinic, clock: FakeClock
) -> None:
    visit = _answered_yes(clinic, clock, "neurological_symptoms")
    clinic.infusion_day.screen(visit, PHYSICIAN, no_concerns())
    clock.moment += minutes(1)

    again = clinic.infusion_day.screen(visit, NURSE, no_concerns(pregnant=False))

    assert again.visit.screening is not None
    assert [w.withdrawn_by for w in again.visit.screening.withdrawn] == ["dr.dara"]


def test_a_yes_to_an_active_infection_is_taken_back_only_by_a_physician(
    clinic: Clinic, clock: FakeClock
) -> None:
    visit = _answered_yes(clinic, clock, "active_infection")

    with pytest.raises(WorkflowRefused) as refused:
        clinic.infusion_day.screen(visit, NURSE, no_concerns())
    assert refused.value.rule == "infection.active"
    assert "answered yes to an active infection" in refused.value.reason

    view = clinic.infusion_day.screen(visit, PHYSICIAN, no_concerns())
    assert view.visit.screening is not None
    assert [w.question for w in view.visit.screening.withdrawn] == ["active_infection"]


def test_a_nurse_may_still_take_back_other_answers_and_keep_a_yes(
    clinic: Clinic, clock: FakeClock
) -> None:
    visit = _answered_yes(clinic, clock, "breastfeeding")
    view = clinic.infusion_day.screen(visit, NURSE, no_concerns(neurological_symptoms=True))
    assert view.visit.screening is not None
    assert [w.question for w in view.visit.screening.withdrawn] == ["breastfeeding"]

    clock.moment += minutes(1)
    still = clinic.infusion_day.screen(visit, NURSE, no_concerns(neurological_symptoms=True))
    assert still.visit.screening is not None
    assert still.visit.screening.neurological_symptoms
    with pytest.raises(AssessmentRefused) as held:
        clinic.infusion_day.clear(visit, "dr.dara")
    assert held.value.decision is Decision.HOLD


def _reopened_after_cancelling(clinic: Clinic, clock: FakeClock) -> str:
    """A "yes" at a visit cancelled since, and a new visit opened the same day."""
    first = _answered_yes(clinic, clock, "neurological_symptoms")
    clinic.infusion_day.cancel(first, NURSE.username, "patient to see the neurologist")
    clock.moment += minutes(1)
    return clinic.infusion_day.open("p1").visit.id


def test_a_new_visit_the_same_day_does_not_let_a_nurse_lift_the_hold(
    clinic: Clinic, clock: FakeClock
) -> None:
    """The rules read the day's latest answer whatever visit gave it; so does the check."""
    second = _reopened_after_cancelling(clinic, clock)

    with pytest.raises(WorkflowRefused) as refused:
        clinic.infusion_day.screen(second, NURSE, no_concerns())

    assert refused.value.rule == "pml.suspected"
    assert clinic.infusion_day.show(second).visit.screening is None


def test_a_physician_may_screen_no_at_the_new_visit(clinic: Clinic, clock: FakeClock) -> None:
    second = _reopened_after_cancelling(clinic, clock)
    view = clinic.infusion_day.screen(second, PHYSICIAN, no_concerns())
    assert view.visit.screening is not None
    assert view.visit.screening.screened_by == "dr.dara"


def test_a_yes_of_an_earlier_day_needs_no_physician_to_answer_no(
    clinic: Clinic, clock: FakeClock
) -> None:
    """A new day is a new screening: yesterday's answer no longer counts for the rules."""
    first = _answered_yes(clinic, clock, "neurological_symptoms")
    clinic.infusion_day.cancel(first, NURSE.username, "patient to see the neurologist")
    clock.moment += minutes(24 * 60)
    second = clinic.infusion_day.open("p1").visit.id
    view = clinic.infusion_day.screen(second, NURSE, no_concerns())
    assert view.visit.screening is not None
