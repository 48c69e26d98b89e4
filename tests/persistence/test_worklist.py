"""The clinic worklist, computed in SQL over the summary rows, on both engines."""

from __future__ import annotations

import copy
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest

from natalizumab_cds.application.clinic import Clinic
from natalizumab_cds.application.worklist_query import EntryKind
from natalizumab_cds.bootstrap import DEMO_SEED, load_demo_clinic
from natalizumab_cds.domain.errors import InvalidInput
from natalizumab_cds.interop.fhir.synthetic import ROUTINE, choose_scenario
from tests.clinic_db import NOW, FakeClock, a_patient, resources_of

TODAY = NOW.date()


@pytest.fixture
def clinic_of_five(clinic: Clinic) -> Clinic:
    """A routine patient due today, one on hold, one discontinued, two with overdue tests."""
    clinic.importer.many(
        [
            ("routine", a_patient(0)),
            ("liver", a_patient(1, "liver-elevated")),
            ("antibodies", a_patient(2, "antibody-persistent")),
            ("overdue", a_patient(3, "overdue-monitoring")),
            ("mri", a_patient(4, "overdue-mri")),
        ]
    )
    return clinic


def _rows(clinic: Clinic, **filters: object) -> set[tuple[str, str, str | None]]:
    page = clinic.worklist.entries(size=0, **filters)  # type: ignore[arg-type]
    return {(e.patient_id, e.kind.value, e.item) for e in page.items}


def test_lists_this_weeks_infusions_with_their_decisions(clinic_of_five: Clinic) -> None:
    page = clinic_of_five.worklist.entries(kinds=["infusion"], size=0)

    decisions = {e.patient_id: e.decision for e in page.items}
    assert decisions["p0"] == "proceed"
    assert decisions["p1"] == "hold"
    assert all(e.item == "infusion" and e.due <= TODAY + timedelta(days=6) for e in page.items)


def test_an_infusion_due_after_the_window_is_not_listed(clinic: Clinic) -> None:
    clinic.importer.one(a_patient(0))  # last dose 28 days ago: due today
    assert ("p0", "infusion", "infusion") in _rows(clinic, days=1)
    assert ("p0", "infusion", "infusion") not in _rows(clinic, days=1, today=TODAY - timedelta(1))


def test_lists_every_overdue_monitoring_item_with_its_status(clinic_of_five: Clinic) -> None:
    page = clinic_of_five.worklist.entries(kinds=["monitoring"], statuses=["overdue"], size=0)

    overdue = {(e.patient_id, e.item) for e in page.items}
    assert {("p3", "liver"), ("p3", "thyroid"), ("p4", "mri")} <= overdue
    assert all(e.status == "overdue" and e.due < TODAY for e in page.items)


def test_lists_every_hold_and_discontinue_whatever_is_due(clinic_of_five: Clinic) -> None:
    page = clinic_of_five.worklist.entries(kinds=["decision"], size=0)

    assert {(e.patient_id, e.decision) for e in page.items} == {
        ("p1", "hold"),
        ("p2", "discontinue"),
    }
    hold = next(e for e in page.items if e.patient_id == "p1")
    assert "liver.elevated" in hold.attention


def test_filters_by_decision_item_name_and_mrn(clinic_of_five: Clinic) -> None:
    assert {p for p, _, _ in _rows(clinic_of_five, decisions=["discontinue"])} == {"p2"}
    assert _rows(clinic_of_five, items=["mri"]) == {("p4", "monitoring", "mri")}
    assert {p for p, _, _ in _rows(clinic_of_five, text="MRN0000003")} == {"p3"}
    name = clinic_of_five.patients.patient("p4")[0].name
    assert "p4" in {p for p, _, _ in _rows(clinic_of_five, text=name.split()[-1].lower())}


def test_filters_by_due_date_range(clinic_of_five: Clinic) -> None:
    page = clinic_of_five.worklist.entries(due_to=TODAY - timedelta(days=1), size=0)

    assert page.items
    assert all(e.due is not None and e.due < TODAY for e in page.items)


def test_sorts_by_decision_worst_first_and_pages_with_a_total(clinic_of_five: Clinic) -> None:
    everything = clinic_of_five.worklist.entries(sort=[("decision", False)], size=0)
    first = clinic_of_five.worklist.entries(sort=[("decision", False)], size=2)
    second = clinic_of_five.worklist.entries(sort=[("decision", False)], size=2, page=2)

    assert everything.items[0].decision == "discontinue"
    assert first.total == second.total == len(everything.items)
    assert first.items + second.items == everything.items[:4]


def test_a_due_date_becomes_overdue_on_the_next_day_without_a_refresh(clinic: Clinic) -> None:
    clinic.importer.one(a_patient(0))
    due_today = clinic.worklist.entries(items=["infusion"], size=0).items[0]
    tomorrow = clinic.worklist.entries(items=["infusion"], today=TODAY + timedelta(1), size=0)

    assert due_today.status == "due-soon"
    assert tomorrow.items[0].status == "overdue"


def test_refresh_reassesses_the_patients_summarised_on_an_earlier_day(
    clinic: Clinic, clock: FakeClock
) -> None:
    clinic.importer.one(a_patient(0))
    assert clinic.worklist.refresh() == 0
    clock.moment = NOW + timedelta(days=1)

    assert clinic.worklist.refresh() == 1

    summary = clinic.patients.patient("p0")[1]
    assert summary is not None
    assert summary.assessed_on == TODAY + timedelta(days=1)
    assert clinic.worklist.refresh() == 0


def test_a_filter_word_outside_the_catalogue_is_refused_naming_the_parameter(
    clinic: Clinic,
) -> None:
    with pytest.raises(InvalidInput, match="decision: 'paused'"):
        clinic.worklist.entries(decisions=["paused"])
    with pytest.raises(InvalidInput, match="sort: 'age'"):
        clinic.worklist.entries(sort=[("age", False)])


def test_every_row_carries_the_patients_name_mrn_and_day_assessed(
    clinic_of_five: Clinic,
) -> None:
    page = clinic_of_five.worklist.entries(size=0)

    assert {e.kind for e in page.items} == set(EntryKind)
    assert all(e.name and e.mrn and e.assessed_on == TODAY for e in page.items)


def _infused(bundle: dict[str, Any], days_ago: int) -> dict[str, Any]:
    """The bundle with one more completed infusion, ``days_ago`` days before ``NOW``."""
    last = resources_of(bundle, "MedicationAdministration")[-1]
    extra = copy.deepcopy(last)
    start = NOW - timedelta(days=days_ago)
    extra["id"] = f"{last['id']}-extra"
    extra["effectivePeriod"] = {
        "start": start.isoformat(),
        "end": (start + timedelta(hours=1)).isoformat(),
    }
    bundle["entry"].append({"resource": extra})
    return bundle


def test_a_patient_mid_cycle_is_not_on_hold_for_being_mid_cycle(clinic: Clinic) -> None:
    """The worklist's decision is for the next infusion, on its due date."""
    clinic.importer.one(_infused(a_patient(0), days_ago=10))

    now = clinic.patients.assessment("p0")  # may she be infused right now? no: too soon
    assert now.decision == "hold"
    assert [f.rule for f in now.findings if f.effect.value == "hold"] == ["dosing.too-soon"]
    _, summary = clinic.patients.patient("p0")
    assert summary is not None
    assert (summary.decision, summary.attention) == ("proceed", ())  # for the 18th day from now
    assert ("p0", "decision", None) not in _rows(clinic)
    (infusion,) = clinic.worklist.entries(days=28, kinds=["infusion"], size=0).items
    assert (infusion.due, infusion.decision) == (TODAY + timedelta(days=18), "proceed")


def test_a_real_hold_still_shows_mid_cycle(clinic: Clinic) -> None:
    clinic.importer.one(_infused(a_patient(1, "liver-elevated"), days_ago=5))

    (held,) = clinic.worklist.entries(kinds=["decision"], size=0).items
    assert (held.patient_id, held.decision) == ("p1", "hold")
    assert "liver.elevated" in held.attention
    assert "dosing.too-soon" not in held.attention


def test_the_demo_clinics_infusions_are_spread_over_the_four_week_cycle(clinic: Clinic) -> None:
    """A real centre has a handful due each day, not the whole clinic today."""
    load_demo_clinic(clinic, patients=84)

    due = clinic.worklist.entries(days=28, kinds=["infusion"], size=0).items
    routine = {f"p{i}" for i in range(84) if choose_scenario(i, DEMO_SEED) == ROUTINE}
    days = Counter(e.due for e in due if e.patient_id in routine)
    assert sum(days.values()) == len(routine)
    assert len(days) >= 20  # routine infusions on most days of the cycle, a few a day
    assert max(days.values()) <= 4
    assert all(day is not None and TODAY <= day < TODAY + timedelta(days=28) for day in days)
    holds = clinic.worklist.entries(kinds=["decision"], size=0).items
    assert holds  # every kind of problem is still there, on the day
    assert all("dosing.too-soon" not in e.attention for e in holds)


def test_a_snapshot_reads_every_list_from_one_state_of_the_clinic(clinic: Clinic) -> None:
    """The worklist page's lists agree: a patient imported meanwhile shows in none of them."""
    clinic.importer.one(a_patient(0))
    with clinic.worklist.snapshot() as worklist:
        first = worklist.entries(kinds=["infusion"], size=0)
        clinic.importer.one(a_patient(1, "liver-elevated"))  # committed by another writer
        second = worklist.entries(kinds=["decision"], size=0)
        assert [e.patient_id for e in first.items] == ["p0"]
        assert second.total == 0
    after = clinic.worklist.entries(kinds=["decision"], size=0)
    assert [e.patient_id for e in after.items] == ["p1"]
