"""What the screening answers demand before a clearance, through the REST API.

A "yes" that holds the infusion is taken back only by a physician; new
medicines named at the screening must be reviewed, and a prohibited one
refuses the clearance. Synthetic patient ``p1`` (routine, would proceed).
"""

from __future__ import annotations

from natalizumab_cds.application.clinic import Clinic
from tests.api.infusion_day.conftest import Team
from tests.api.infusion_day.steps import (
    NO_CONCERNS,
    a_patient_on_file,
    ok,
    open_visit,
    refused,
    unchanged,
)
from tests.clinic_db import FakeClock
from tests.infusion_day_builders import minutes


def test_only_a_physician_takes_back_a_yes_to_neurological_symptoms(
    clinic: Clinic, team: Team, clock: FakeClock
) -> None:
    a_patient_on_file(team)
    visit = open_visit(team)
    neuro = NO_CONCERNS | {"neurological_symptoms": True}
    ok(team.nurse.post(f"/api/visits/{visit}/screening", json=neuro))
    clock.moment += minutes(1)
    before = unchanged(clinic, team, visit)

    body = refused(
        team.nurse.post(f"/api/visits/{visit}/screening", json=NO_CONCERNS), "pml.suspected"
    )

    assert "only a physician who has evaluated the patient" in body["reason"]
    assert unchanged(clinic, team, visit) == before
    taken_back = ok(team.physician.post(f"/api/visits/{visit}/screening", json=NO_CONCERNS))
    (withdrawal,) = taken_back["steps"]["screening"]["withdrawn"]
    assert withdrawal == {
        "question": "neurological_symptoms",
        "answered_at": "2026-11-24T09:00:00Z",
        "answered_by": "nurse.ana",
        "withdrawn_at": "2026-11-24T09:01:00Z",
        "withdrawn_by": "dr.dara",
    }
    assert ok(team.physician.post(f"/api/visits/{visit}/clearance", json={}))["state"] == "cleared"


def test_new_medicines_are_reviewed_and_an_immunosuppressant_refuses_the_clearance(
    clinic: Clinic, team: Team, clock: FakeClock
) -> None:
    a_patient_on_file(team)
    visit = open_visit(team)
    azathioprine = NO_CONCERNS | {
        "new_medicines": True,
        "new_medicines_detail": "azathioprine 50 mg daily",
    }
    ok(team.nurse.post(f"/api/visits/{visit}/screening", json=azathioprine))

    body = refused(
        team.physician.post(f"/api/visits/{visit}/clearance", json={"medicines_reviewed": True}),
        "immunosuppression.concurrent",
    )
    assert "azathioprine (azathioprine, 1256)" in body["reason"]
    assert "findings" not in body

    vitamin = azathioprine | {"new_medicines_detail": "vitamin D"}
    ok(team.nurse.post(f"/api/visits/{visit}/screening", json=vitamin))
    unreviewed = team.physician.post(f"/api/visits/{visit}/clearance", json={})
    assert (
        "reviewed against the prohibited list"
        in refused(unreviewed, "administration.requires-clearance")["reason"]
    )
    cleared = ok(
        team.physician.post(f"/api/visits/{visit}/clearance", json={"medicines_reviewed": True})
    )
    assert cleared["steps"]["clearance"]["medicines_reviewed"] is True
