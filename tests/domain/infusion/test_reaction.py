"""A reaction during the infusion or within 2 h of its end stops it and ends treatment."""

from __future__ import annotations

from datetime import timedelta

import pytest

from natalizumab_cds.domain.errors import InvalidInput, WorkflowRefused
from natalizumab_cds.domain.findings import Decision
from natalizumab_cds.domain.infusion import (
    VisitState,
    discharge,
    end_infusion,
    record_reaction,
    start_infusion,
)
from natalizumab_cds.domain.infusion_events import Discharge, ReactionSeverity, Symptom
from tests.domain.builders import a_timeline, a_well_monitored_record, assess_at, with_facts
from tests.domain.infusion.builders import (
    END,
    NURSE,
    START,
    a_prepared_visit,
    a_reaction,
    a_start,
    an_end,
    an_infusing_visit,
    an_observing_visit,
    hours,
    minutes,
    protocol,
)

SECOND = timedelta(seconds=1)


def refused_reaction(visit: object, at: object) -> WorkflowRefused:
    with pytest.raises(WorkflowRefused) as refused:
        record_reaction(visit, a_reaction(at), protocol())  # type: ignore[arg-type]
    return refused.value


def test_a_reaction_during_the_infusion_stops_it() -> None:
    visit = record_reaction(an_infusing_visit(), a_reaction(START + minutes(20)), protocol())
    assert visit.state is VisitState.STOPPED_FOR_REACTION
    assert visit.administration_status == "stopped"
    assert visit.end is None


def test_a_reaction_at_the_very_start_is_recorded() -> None:
    visit = record_reaction(an_infusing_visit(), a_reaction(START), protocol())
    assert visit.state is VisitState.STOPPED_FOR_REACTION


def test_a_reaction_exactly_2_hours_after_the_end_is_recorded() -> None:
    visit = record_reaction(an_observing_visit(), a_reaction(END + hours(2)), protocol())
    assert visit.state is VisitState.STOPPED_FOR_REACTION
    assert visit.administration_status == "completed"


def test_a_reaction_2_hours_and_1_second_after_the_end_is_refused() -> None:
    refused = refused_reaction(an_observing_visit(), END + hours(2) + SECOND)
    assert refused.rule == "reaction.hypersensitivity"
    assert "2 h 0 min 1 s after the infusion ended" in refused.reason
    assert "allergies" in refused.reason


def test_a_reaction_before_any_infusion_is_refused() -> None:
    refused = refused_reaction(a_prepared_visit(), START)
    assert refused.rule == "reaction.hypersensitivity"
    assert "no infusion has started" in refused.reason


def test_a_reaction_after_discharge_is_refused() -> None:
    gone = discharge(
        an_observing_visit(), Discharge(END + hours(1), discharged_by=NURSE), protocol()
    )
    refused = refused_reaction(gone, END + minutes(90))
    assert refused.rule == "reaction.hypersensitivity"
    assert "discharged" in refused.reason


def test_a_reaction_dated_before_the_start_is_refused() -> None:
    refused = refused_reaction(an_infusing_visit(), START - minutes(1))
    assert refused.rule == "workflow.out-of-order"


def test_a_reaction_dated_before_the_recorded_end_is_refused() -> None:
    refused = refused_reaction(an_observing_visit(), END - minutes(5))
    assert refused.rule == "workflow.out-of-order"


def test_a_second_reaction_is_refused() -> None:
    stopped = record_reaction(an_infusing_visit(), a_reaction(START + minutes(20)), protocol())
    refused = refused_reaction(stopped, START + minutes(30))
    assert refused.rule == "workflow.out-of-order"


def test_after_a_reaction_the_infusion_cannot_go_on() -> None:
    stopped = record_reaction(an_infusing_visit(), a_reaction(START + minutes(20)), protocol())
    with pytest.raises(WorkflowRefused) as ended:
        end_infusion(stopped, an_end(START + minutes(60)), protocol())
    assert ended.value.rule == "workflow.out-of-order"
    with pytest.raises(WorkflowRefused) as restarted:
        start_infusion(stopped, a_start(START + minutes(40)), protocol())
    assert restarted.value.rule == "workflow.out-of-order"


def test_after_a_reaction_the_patient_can_be_discharged_once_treated() -> None:
    reacted_at = START + minutes(20)
    stopped = record_reaction(an_infusing_visit(), a_reaction(reacted_at), protocol())
    visit = discharge(stopped, Discharge(reacted_at + minutes(5), NURSE), protocol())
    assert visit.state is VisitState.DISCHARGED
    assert visit.reaction is not None


def test_a_discharge_dated_before_the_reaction_is_refused() -> None:
    stopped = record_reaction(an_infusing_visit(), a_reaction(START + minutes(20)), protocol())
    with pytest.raises(WorkflowRefused) as refused:
        discharge(stopped, Discharge(START + minutes(10), NURSE), protocol())
    assert refused.value.rule == "workflow.out-of-order"


def test_the_reaction_becomes_an_allergy_that_stops_treatment_from_then_on() -> None:
    reaction = a_reaction(
        START + minutes(20),
        symptoms=frozenset({Symptom.ANAPHYLAXIS, Symptom.HYPOTENSION}),
        severity=ReactionSeverity.LIFE_THREATENING,
        treatment="adrenaline 0.5 mg IM",
    )
    allergy = reaction.as_allergy("AllergyIntolerance/ntz-reaction-1", protocol())
    assert allergy.verification_status == "confirmed"
    assert allergy.at == reaction.at
    assert allergy.reaction == (
        "hypotension, anaphylaxis (life-threatening); treated with adrenaline 0.5 mg IM"
    )
    later = reaction.at + timedelta(days=28)
    record = with_facts(a_well_monitored_record(later), allergies=[allergy])
    result = assess_at(a_timeline(None, **record), later)
    assert "hypersensitivity.prior-reaction" in result.rules_fired
    assert result.decision is Decision.DISCONTINUE


def test_other_symptoms_must_be_described() -> None:
    with pytest.raises(InvalidInput, match="description"):
        a_reaction(START, symptoms=frozenset({Symptom.OTHER}))
    described = a_reaction(START, symptoms=frozenset({Symptom.OTHER}), description="flushing")
    assert described.summary.startswith("flushing (moderate)")


def test_a_reaction_needs_a_symptom_and_a_treatment() -> None:
    with pytest.raises(InvalidInput, match="symptoms"):
        a_reaction(START, symptoms=frozenset())
    with pytest.raises(InvalidInput, match="treatment"):
        a_reaction(START, treatment=" ")
