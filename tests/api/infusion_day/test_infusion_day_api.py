"""A whole infusion day through the REST API, as the infusion chair's screen would drive it."""

from __future__ import annotations

import threading
from typing import Any

import httpx

from natalizumab_cds.application.clinic import Clinic
from tests.api.infusion_day.conftest import Team
from tests.api.infusion_day.steps import (
    NO_CONCERNS,
    PROBLEM,
    a_bag,
    a_patient_on_file,
    ok,
    open_visit,
    prepared,
    refused,
    unchanged,
)
from tests.clinic_db import FakeClock
from tests.infusion_day_builders import hours, minutes


def test_a_visit_goes_from_screening_to_discharge_and_says_what_can_come_next(
    clinic: Clinic, team: Team, clock: FakeClock
) -> None:
    a_patient_on_file(team)
    opened = team.nurse.post("/api/patients/p1/visits")
    body = ok(opened, 201)
    visit = body["id"]
    assert opened.headers["location"] == f"/api/visits/{visit}"
    assert (body["state"], body["version"]) == ("screening", 1)
    assert body["next_steps"] == ["screening", "preparation", "cancel"]

    clock.moment += minutes(5)
    screened = ok(team.nurse.post(f"/api/visits/{visit}/screening", json=NO_CONCERNS))
    assert screened["steps"]["screening"]["by"] == "nurse.ana"
    cleared = ok(team.physician.post(f"/api/visits/{visit}/clearance", json={}))
    assert cleared["steps"]["clearance"]["decision"] == "proceed"
    clock.moment += minutes(5)
    bag = ok(team.pharmacist.post(f"/api/visits/{visit}/preparation", json=a_bag()))
    assert bag["state"] == "prepared"
    assert bag["steps"]["preparation"]["prepared_by"] == "pharm.ben"
    assert bag["expires_at"] == "2026-11-24T17:00:00Z"
    assert bag["room_temperature_remaining_seconds"] == 7 * 3600 + 50 * 60
    assert bag["next_steps"] == [
        "screening",
        "clearance",
        "preparation",
        "storage-moves",
        "start",
        "cancel",
    ]

    clock.moment += minutes(10)
    running = ok(team.nurse.post(f"/api/visits/{visit}/start", json={"rate_ml_per_hour": 100}))
    assert (running["state"], running["administration_status"]) == ("infusing", "in-progress")
    assert running["next_steps"] == ["end", "reaction"]
    clock.moment += minutes(60)
    ended = ok(team.nurse.post(f"/api/visits/{visit}/end"))
    assert ended["observation_remaining_seconds"] == 3600
    assert ended["observation_ends_at"] == "2026-11-24T11:20:00Z"
    assert ended["next_steps"] == ["reaction"]

    clock.moment += minutes(30)
    halfway = ok(team.reader.get(f"/api/visits/{visit}"))
    assert halfway["observation_remaining_seconds"] == 1800
    clock.moment += minutes(30)
    assert ok(team.reader.get(f"/api/visits/{visit}"))["next_steps"] == ["reaction", "discharge"]
    done = ok(team.nurse.post(f"/api/visits/{visit}/discharge", json={}))
    assert (done["state"], done["version"], done["next_steps"]) == ("discharged", 7, [])
    assert [v["id"] for v in ok_list(team.reader.get("/api/patients/p1/visits"))] == [visit]

    given = clinic.patients.timeline("p1", ["MedicationAdministration"], 1, 1).items[0]
    assert given.resource_id == f"{visit}-administration"
    assert given.content["status"] == "completed"


def ok_list(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


def test_moving_the_bag_to_the_refrigerator_pushes_its_expiry_to_the_24_hour_limit(
    team: Team, clock: FakeClock
) -> None:
    a_patient_on_file(team)
    visit = prepared(team, clock)
    moved = ok(
        team.second_nurse.post(
            f"/api/visits/{visit}/storage-moves", json={"location": "refrigerator"}
        )
    )
    assert moved["expires_at"] == "2026-11-25T09:00:00Z"
    assert moved["steps"]["preparation"]["storage"][-1] == {
        "at": "2026-11-24T09:10:00Z",
        "location": "refrigerator",
    }
    clock.moment += hours(2)
    out = ok(
        team.nurse.post(f"/api/visits/{visit}/storage-moves", json={"location": "room-temperature"})
    )
    # 10 min spent at room temperature, 7 h 50 min left from 11:10.
    assert out["expires_at"] == "2026-11-24T19:00:00Z"
    assert out["room_temperature_remaining_seconds"] == 7 * 3600 + 50 * 60


def test_a_clearance_on_hold_is_refused_with_the_findings_behind_it(
    clinic: Clinic, team: Team, clock: FakeClock
) -> None:
    a_patient_on_file(team, scenario="pregnant")
    visit = open_visit(team)
    ok(team.nurse.post(f"/api/visits/{visit}/screening", json=NO_CONCERNS | {"pregnant": True}))
    before = unchanged(clinic, team, visit)

    body = refused(
        team.physician.post(f"/api/visits/{visit}/clearance", json={"acknowledge": True}),
        "administration.requires-clearance",
    )

    assert body["decision"] == "hold"
    assert body["visit"] == visit
    assert [f["rule"] for f in body["findings"]] == ["population.pregnancy"]
    assert "do not infuse today" in body["reason"]
    assert unchanged(clinic, team, visit) == before


def test_a_clinician_acting_on_an_outdated_view_of_the_visit_gets_a_conflict(
    clinic: Clinic, team: Team, clock: FakeClock
) -> None:
    a_patient_on_file(team)
    visit = prepared(team, clock)
    seen = team.nurse.get(f"/api/visits/{visit}").headers["etag"]
    ok(
        team.second_nurse.post(
            f"/api/visits/{visit}/storage-moves", json={"location": "refrigerator"}
        )
    )
    before = unchanged(clinic, team, visit)

    stale = team.nurse.post(
        f"/api/visits/{visit}/start", json={"rate_ml_per_hour": 100}, headers={"If-Match": seen}
    )

    assert stale.status_code == 409
    assert stale.headers["content-type"].startswith(PROBLEM)
    problem = stale.json()
    assert problem["type"] == "urn:natalizumab-cds:problem:visit-conflict"
    assert problem["visit"] == visit
    assert f"visit {visit} was changed by someone else" in problem["detail"]
    assert unchanged(clinic, team, visit) == before


def test_two_nurses_pressing_start_at_once_start_it_once_and_the_other_is_told(
    clinic: Clinic, team: Team, clock: FakeClock
) -> None:
    a_patient_on_file(team)
    visit = prepared(team, clock)
    seen = team.nurse.get(f"/api/visits/{visit}").headers["etag"]
    clock.moment += minutes(10)
    barrier = threading.Barrier(2)
    answers: list[httpx.Response] = []

    def press_start(client: httpx.Client) -> None:
        barrier.wait()
        answers.append(
            client.post(
                f"/api/visits/{visit}/start",
                json={"rate_ml_per_hour": 100},
                headers={"If-Match": seen},
            )
        )

    threads = [
        threading.Thread(target=press_start, args=(c,)) for c in (team.nurse, team.second_nurse)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(a.status_code for a in answers) == [200, 409]
    winner = next(a for a in answers if a.status_code == 200).json()
    shown = ok(team.reader.get(f"/api/visits/{visit}"))
    assert shown["steps"]["start"] == winner["steps"]["start"]
    administrations = clinic.patients.timeline("p1", ["MedicationAdministration"], 1, 500)
    assert [r.resource_id for r in administrations.items].count(f"{visit}-administration") == 1


def test_each_step_is_taken_only_by_the_roles_allowed_to(team: Team, clock: FakeClock) -> None:
    a_patient_on_file(team)
    visit = prepared(team, clock)

    by_nurse = team.nurse.post(f"/api/visits/{visit}/preparation", json=a_bag())
    by_pharmacist = team.pharmacist.post(
        f"/api/visits/{visit}/start", json={"rate_ml_per_hour": 100}
    )
    by_reader = team.reader.post(f"/api/visits/{visit}/cancel", json={"reason": "test"})

    assert [r.status_code for r in (by_nurse, by_pharmacist, by_reader)] == [403, 403, 403]
    assert by_nurse.json()["action"] == "prepare-infusion"
    assert by_pharmacist.json()["action"] == "record-administration"
    assert ok(team.reader.get(f"/api/visits/{visit}"))["state"] == "prepared"


def test_unknown_visits_and_patients_are_404_problem_documents(team: Team) -> None:
    missing_visit = team.reader.get("/api/visits/visit-000000000000")
    missing_patient = team.nurse.post("/api/patients/nobody/visits")

    assert (missing_visit.status_code, missing_patient.status_code) == (404, 404)
    assert missing_visit.json()["type"] == "urn:natalizumab-cds:problem:unknown-visit"
    assert missing_patient.json()["type"] == "urn:natalizumab-cds:problem:unknown-patient"


def test_a_malformed_step_names_the_field(team: Team, clock: FakeClock) -> None:
    a_patient_on_file(team)
    visit = open_visit(team)

    response = team.nurse.post(f"/api/visits/{visit}/screening", json={"pregnant": "perhaps"})
    bad_tag = team.nurse.post(
        f"/api/visits/{visit}/cancel", json={"reason": "x"}, headers={"If-Match": "yesterday"}
    )

    assert response.status_code == 422
    assert "pregnant" in {e["field"] for e in response.json()["errors"]}
    assert bad_tag.status_code == 422
    assert "If-Match" in bad_tag.json()["detail"]


def test_a_running_infusion_says_when_it_may_be_ended(
    clinic: Clinic, team: Team, clock: FakeClock
) -> None:
    a_patient_on_file(team)
    visit = prepared(team, clock)
    assert ok(team.reader.get(f"/api/visits/{visit}"))["earliest_end_at"] is None
    clock.moment += minutes(10)
    started = ok(team.nurse.post(f"/api/visits/{visit}/start", json={"rate_ml_per_hour": 100}))
    assert started["earliest_end_at"] == "2026-11-24T10:20:00Z"
    clock.moment += minutes(60)
    assert ok(team.nurse.post(f"/api/visits/{visit}/end"))["earliest_end_at"] is None
