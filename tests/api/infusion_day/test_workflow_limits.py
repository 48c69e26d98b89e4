"""Each infusion-day rule through the API, at its exact limit: allowed on it, refused past it.

The arithmetic is the domain's (tests/domain/infusion); here a refusal must come
back as a 422 problem document naming the rule, and leave the visit and the
patient's record exactly as they were.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any, ClassVar

import httpx
import pytest

from natalizumab_cds.application.clinic import Clinic
from tests.api.infusion_day.conftest import Team
from tests.api.infusion_day.steps import (
    NO_CONCERNS,
    a_bag,
    a_patient_on_file,
    infusing,
    observing,
    ok,
    open_visit,
    prepared,
    refused,
    screened_and_cleared,
    unchanged,
)
from tests.clinic_db import NOW, FakeClock
from tests.infusion_day_builders import hours, minutes

SECOND = timedelta(seconds=1)


@pytest.fixture
def on_file(team: Team) -> None:
    a_patient_on_file(team)


def _refused_and_untouched(
    clinic: Clinic, team: Team, visit: str, step: Callable[[], httpx.Response], rule: str
) -> dict[str, Any]:
    before = unchanged(clinic, team, visit)
    body = refused(step(), rule)
    assert body["visit"] == visit
    assert unchanged(clinic, team, visit) == before
    return body


def _start(team: Team, visit: str, **pump: Any) -> httpx.Response:
    return team.nurse.post(f"/api/visits/{visit}/start", json={"rate_ml_per_hour": 100} | pump)


@pytest.mark.usefixtures("on_file")
class TestAdministrationTooFast:
    def test_an_infusion_that_ran_59_minutes_cannot_end(
        self, clinic: Clinic, team: Team, clock: FakeClock
    ) -> None:
        visit = infusing(team, clock)
        clock.moment += minutes(59)
        body = _refused_and_untouched(
            clinic,
            team,
            visit,
            lambda: team.nurse.post(f"/api/visits/{visit}/end"),
            "administration.too-fast",
        )
        assert body["reason"] == "the infusion ran 59 min; it must run at least 60 minutes"
        clock.moment += minutes(1)
        assert ok(team.nurse.post(f"/api/visits/{visit}/end"))["state"] == "observing"

    def test_the_pump_runs_at_most_100_ml_an_hour(
        self, clinic: Clinic, team: Team, clock: FakeClock
    ) -> None:
        visit = prepared(team, clock)
        body = _refused_and_untouched(
            clinic,
            team,
            visit,
            lambda: _start(team, visit, rate_ml_per_hour=101),
            "administration.too-fast",
        )
        assert "at most 100 mL/h" in body["reason"]
        assert ok(_start(team, visit, rate_ml_per_hour=100))["state"] == "infusing"

    def test_a_planned_duration_under_an_hour_is_too_fast(
        self, clinic: Clinic, team: Team, clock: FakeClock
    ) -> None:
        visit = prepared(team, clock)
        _refused_and_untouched(
            clinic,
            team,
            visit,
            lambda: _start(team, visit, rate_ml_per_hour=None, planned_duration_minutes=59),
            "administration.too-fast",
        )
        started = ok(_start(team, visit, rate_ml_per_hour=None, planned_duration_minutes=60))
        assert started["steps"]["start"]["planned_duration_minutes"] == 60

    @pytest.mark.parametrize("method", ["iv-push", "iv-bolus"])
    def test_a_push_or_bolus_is_refused(
        self, clinic: Clinic, team: Team, clock: FakeClock, method: str
    ) -> None:
        visit = prepared(team, clock)
        body = _refused_and_untouched(
            clinic,
            team,
            visit,
            lambda: _start(team, visit, method=method),
            "administration.too-fast",
        )
        assert method in body["reason"]


@pytest.mark.usefixtures("on_file")
class TestPreparationExpired:
    def test_a_bag_left_out_exactly_8_hours_may_still_be_started(
        self, team: Team, clock: FakeClock
    ) -> None:
        visit = prepared(team, clock)
        clock.moment = NOW + hours(8)
        assert ok(_start(team, visit))["state"] == "infusing"

    def test_a_bag_left_out_8_hours_and_a_second_is_refused(
        self, clinic: Clinic, team: Team, clock: FakeClock
    ) -> None:
        visit = prepared(team, clock)
        clock.moment = NOW + hours(8) + SECOND
        body = _refused_and_untouched(
            clinic, team, visit, lambda: _start(team, visit), "preparation.expired"
        )
        assert "at room temperature" in body["reason"]

    @pytest.mark.parametrize(("after", "allowed"), [(hours(24), True), (hours(24) + SECOND, False)])
    def test_a_refrigerated_bag_is_usable_for_24_hours_after_dilution(
        self, clinic: Clinic, team: Team, clock: FakeClock, after: timedelta, allowed: bool
    ) -> None:
        diluted = NOW - hours(20)
        visit = prepared(team, clock, diluted_at=diluted.isoformat(), location="refrigerator")
        clock.moment = diluted + after
        if allowed:
            assert ok(_start(team, visit))["state"] == "infusing"
        else:
            body = _refused_and_untouched(
                clinic, team, visit, lambda: _start(team, visit), "preparation.expired"
            )
            assert "usable for 24 hours after dilution" in body["reason"]

    def test_a_bag_already_past_its_limit_when_recorded_is_refused(
        self, clinic: Clinic, team: Team, clock: FakeClock
    ) -> None:
        visit = screened_and_cleared(team, clock)
        stale = a_bag(diluted_at=(NOW - hours(25)).isoformat(), location="refrigerator")
        _refused_and_untouched(
            clinic,
            team,
            visit,
            lambda: team.pharmacist.post(f"/api/visits/{visit}/preparation", json=stale),
            "preparation.expired",
        )


@pytest.mark.usefixtures("on_file")
class TestPreparation:
    @pytest.mark.parametrize(
        ("bag", "rule", "field"),
        [
            ({"dose_mg": 299}, "preparation.dose", "preparation.dose_mg"),
            ({"dose_mg": 600}, "preparation.dose", "preparation.dose_mg"),
            ({"diluent": "5% glucose"}, "preparation.diluent", "preparation.diluent"),
            ({"volume_ml": 250}, "preparation.diluent", "preparation.volume_ml"),
            ({"frozen": True}, "preparation.frozen-or-shaken", None),
            ({"shaken": True}, "preparation.frozen-or-shaken", None),
            ({"checked_by": "pharm.ben"}, "preparation.double-check", "preparation.checked_by"),
            ({"vial_expiry": "2026-11-23"}, "preparation.expired", "preparation.vial_expiry"),
        ],
    )
    def test_a_bag_that_breaks_a_preparation_rule_is_refused_naming_the_field(
        self,
        clinic: Clinic,
        team: Team,
        clock: FakeClock,
        bag: dict[str, Any],
        rule: str,
        field: str | None,
    ) -> None:
        visit = screened_and_cleared(team, clock)
        body = _refused_and_untouched(
            clinic,
            team,
            visit,
            lambda: team.pharmacist.post(f"/api/visits/{visit}/preparation", json=a_bag(**bag)),
            rule,
        )
        assert body.get("field") == field

    @pytest.mark.parametrize(
        ("checker", "why"),
        [
            ({"checker_password": "guessed"}, "unknown username or wrong password"),
            ({"checked_by": "pharm.chloe"}, "unknown username or wrong password"),
            ({"checked_by": "dr.dara"}, "dr.dara (physician) may not check-preparation"),
        ],
    )
    def test_a_bag_without_a_real_second_signature_is_not_recorded(
        self, clinic: Clinic, team: Team, clock: FakeClock, checker: dict[str, str], why: str
    ) -> None:
        visit = screened_and_cleared(team, clock)
        before = unchanged(clinic, team, visit)
        answer = team.pharmacist.post(f"/api/visits/{visit}/preparation", json=a_bag(**checker))
        assert answer.status_code == 422, answer.text
        body = answer.json()
        assert body["errors"][0]["field"] == "checked_by"
        assert why in body["detail"]
        assert "guessed" not in answer.text
        assert unchanged(clinic, team, visit) == before

    def test_the_second_signature_is_throttled_like_a_sign_in(
        self, clinic: Clinic, team: Team, clock: FakeClock
    ) -> None:
        visit = screened_and_cleared(team, clock)
        for attempt in range(5):
            wrong = a_bag(checker_password=f"guess {attempt}")
            answer = team.pharmacist.post(f"/api/visits/{visit}/preparation", json=wrong)
            assert "wrong password" in answer.json()["detail"]
        answer = team.pharmacist.post(f"/api/visits/{visit}/preparation", json=a_bag())
        assert answer.status_code == 422
        assert "too many failed sign-ins" in answer.json()["detail"]
        assert "preparation" not in team.nurse.get(f"/api/visits/{visit}").json()["steps"]

    def test_normal_saline_in_any_usual_spelling_is_accepted_and_stored_normalized(
        self, team: Team, clock: FakeClock
    ) -> None:
        visit = screened_and_cleared(team, clock)
        bag = ok(
            team.pharmacist.post(
                f"/api/visits/{visit}/preparation", json=a_bag(diluent="NaCl 0,9 %")
            )
        )
        assert bag["steps"]["preparation"]["diluent"] == "0.9% sodium chloride"

    def test_a_bag_found_shaken_at_the_bedside_is_not_started(
        self, clinic: Clinic, team: Team, clock: FakeClock
    ) -> None:
        visit = prepared(team, clock)
        _refused_and_untouched(
            clinic,
            team,
            visit,
            lambda: _start(team, visit, found_shaken=True),
            "preparation.frozen-or-shaken",
        )


@pytest.mark.usefixtures("on_file")
class TestRequiresClearance:
    def test_a_bag_ready_for_a_patient_not_yet_cleared_is_not_started(
        self, clinic: Clinic, team: Team, clock: FakeClock
    ) -> None:
        visit = open_visit(team)
        ok(team.nurse.post(f"/api/visits/{visit}/screening", json=NO_CONCERNS))
        ok(team.pharmacist.post(f"/api/visits/{visit}/preparation", json=a_bag()))
        body = _refused_and_untouched(
            clinic, team, visit, lambda: _start(team, visit), "administration.requires-clearance"
        )
        assert body["reason"] == "the patient has not been cleared to infuse"

    def test_new_neurological_symptoms_at_screening_hold_the_clearance(
        self, clinic: Clinic, team: Team, clock: FakeClock
    ) -> None:
        visit = open_visit(team)
        answers = NO_CONCERNS | {"neurological_symptoms": True}
        ok(team.nurse.post(f"/api/visits/{visit}/screening", json=answers))
        body = _refused_and_untouched(
            clinic,
            team,
            visit,
            lambda: team.physician.post(f"/api/visits/{visit}/clearance", json={}),
            "administration.requires-clearance",
        )
        assert [f["rule"] for f in body["findings"]] == ["pml.suspected"]


@pytest.mark.usefixtures("on_file")
class TestObservation:
    def test_discharge_59_minutes_after_the_end_is_refused_and_60_allowed(
        self, clinic: Clinic, team: Team, clock: FakeClock
    ) -> None:
        visit = observing(team, clock)
        clock.moment += minutes(59)
        body = _refused_and_untouched(
            clinic,
            team,
            visit,
            lambda: team.nurse.post(f"/api/visits/{visit}/discharge"),
            "observation.incomplete",
        )
        assert body["reason"].startswith("1 minute of observation remain")
        clock.moment += minutes(1)
        assert ok(team.nurse.post(f"/api/visits/{visit}/discharge"))["state"] == "discharged"

    def test_a_patient_still_infusing_is_not_discharged(
        self, clinic: Clinic, team: Team, clock: FakeClock
    ) -> None:
        visit = infusing(team, clock)
        _refused_and_untouched(
            clinic,
            team,
            visit,
            lambda: team.nurse.post(f"/api/visits/{visit}/discharge"),
            "observation.incomplete",
        )


@pytest.mark.usefixtures("on_file")
class TestReactionWindow:
    REACTION: ClassVar[dict[str, Any]] = {
        "symptoms": ["urticaria"],
        "severity": "mild",
        "treatment": "cetirizine 10 mg",
    }

    @pytest.mark.parametrize(
        ("after", "allowed"), [(hours(2), True), (hours(2) + minutes(1), False)]
    )
    def test_a_reaction_is_recorded_up_to_2_hours_after_the_end(
        self, clinic: Clinic, team: Team, clock: FakeClock, after: timedelta, allowed: bool
    ) -> None:
        visit = observing(team, clock)
        clock.moment += after
        react = lambda: team.nurse.post(f"/api/visits/{visit}/reaction", json=self.REACTION)  # noqa: E731
        if allowed:
            assert ok(react())["state"] == "stopped-for-reaction"
        else:
            body = _refused_and_untouched(clinic, team, visit, react, "reaction.hypersensitivity")
            assert "record the reaction in the patient's allergies instead" in body["reason"]

    def test_a_reaction_before_the_infusion_starts_is_refused(
        self, clinic: Clinic, team: Team, clock: FakeClock
    ) -> None:
        visit = prepared(team, clock)
        _refused_and_untouched(
            clinic,
            team,
            visit,
            lambda: team.nurse.post(f"/api/visits/{visit}/reaction", json=self.REACTION),
            "reaction.hypersensitivity",
        )

    def test_after_a_reaction_the_patient_is_assessed_discontinue(
        self, team: Team, clock: FakeClock
    ) -> None:
        visit = infusing(team, clock)
        clock.moment += minutes(10)
        stopped = ok(
            team.nurse.post(
                f"/api/visits/{visit}/reaction",
                json={
                    "symptoms": ["anaphylaxis", "hypotension"],
                    "severity": "life-threatening",
                    "treatment": "adrenaline 0.5 mg IM; fluids",
                },
            )
        )
        assert (stopped["state"], stopped["administration_status"]) == (
            "stopped-for-reaction",
            "stopped",
        )
        assessment = team.reader.get("/api/patients/p1/assessment").json()
        assert assessment["decision"] == "discontinue"
        assert "hypersensitivity.prior-reaction" in [f["rule"] for f in assessment["findings"]]
        assert ok(team.nurse.post(f"/api/visits/{visit}/discharge"))["state"] == "discharged"


@pytest.mark.usefixtures("on_file")
def test_ending_an_infusion_that_never_started_is_out_of_order(
    clinic: Clinic, team: Team, clock: FakeClock
) -> None:
    visit = prepared(team, clock)
    _refused_and_untouched(
        clinic,
        team,
        visit,
        lambda: team.nurse.post(f"/api/visits/{visit}/end"),
        "workflow.out-of-order",
    )


@pytest.mark.usefixtures("on_file")
def test_the_next_visit_after_a_completed_infusion_is_held_as_too_soon(
    team: Team, clock: FakeClock
) -> None:
    visit = observing(team, clock)
    clock.moment += hours(1)
    ok(team.nurse.post(f"/api/visits/{visit}/discharge"))
    clock.moment += timedelta(days=14)
    second = open_visit(team)
    ok(team.nurse.post(f"/api/visits/{second}/screening", json=NO_CONCERNS))

    body = refused(
        team.physician.post(f"/api/visits/{second}/clearance", json={}),
        "administration.requires-clearance",
    )

    assert "dosing.too-soon" in [f["rule"] for f in body["findings"]]
