"""Assessments rendered as cards, and the wire models' own rules."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError

from natalizumab_cds.bootstrap import active_protocol
from natalizumab_cds.domain.assessment import Assessment, assess
from natalizumab_cds.domain.rules.catalogue import OVERRIDABLE
from natalizumab_cds.interop.cds_hooks.cards import card_uuid, render_cards, shorten
from natalizumab_cds.interop.cds_hooks.wire import (
    Card,
    FeedbackRequest,
    Indicator,
    Source,
    Suggestion,
    error_document,
)
from natalizumab_cds.interop.fhir.reader import read_resources
from tests.interop.cds_hooks.hooks import ANCHOR, a_record


def assessed(scenario: str, at: datetime = ANCHOR) -> Assessment:
    protocol = active_protocol()
    return assess(read_resources(a_record(scenario), protocol), protocol, at, UTC)


def test_the_catalogue_marks_exactly_the_child_and_pregnancy_rules_overridable() -> None:
    assert frozenset({"population.pediatric", "population.pregnancy"}) == OVERRIDABLE


def test_card_ids_are_stable_for_a_day_and_differ_by_rule_patient_and_day() -> None:
    day = date(2026, 11, 24)

    same = card_uuid("p0", "liver.elevated", day)

    assert same == card_uuid("p0", "liver.elevated", day)
    assert same != card_uuid("p1", "liver.elevated", day)
    assert same != card_uuid("p0", "liver.baseline-missing", day)
    assert same != card_uuid("p0", "liver.elevated", day + timedelta(days=1))


def test_a_card_is_made_for_every_finding_with_effect_caution_or_worse() -> None:
    assessment = assessed("liver-elevated")

    cards = render_cards(assessment, active_protocol(), UTC, show_warnings=False)

    acting = [f for f in assessment.findings if f.effect.value != "none"]
    assert len(cards) == 1 + len(acting)
    assert [c.source.topic.code for c in cards[1:] if c.source.topic] == [f.rule for f in acting]


def test_effect_none_warnings_become_info_cards_only_when_asked() -> None:
    assessment = assessed("mri-activity")

    quiet = render_cards(assessment, active_protocol(), UTC, show_warnings=False)
    shown = render_cards(assessment, active_protocol(), UTC, show_warnings=True)

    assert len(quiet) == 1
    [mri] = [c for c in shown if c.source.topic and c.source.topic.code == "mri.activity"]
    assert mri.indicator is Indicator.INFO


def test_every_rendered_card_has_a_summary_of_at_most_140_characters() -> None:
    for scenario in ("pediatric", "liver-elevated", "overdue-monitoring", "antibody-positive"):
        for card in render_cards(assessed(scenario), active_protocol(), UTC, show_warnings=True):
            assert len(card.summary) <= 140


def test_a_long_summary_is_cut_with_an_ellipsis() -> None:
    assert shorten("x" * 200) == "x" * 139 + "…"
    assert shorten("short") == "short"


def test_a_card_refuses_a_summary_over_140_characters() -> None:
    with pytest.raises(ValidationError):
        Card(summary="x" * 141, indicator=Indicator.INFO, source=Source(label="l"))


def test_a_card_with_suggestions_needs_a_selection_behavior() -> None:
    with pytest.raises(ValidationError, match="selectionBehavior"):
        Card(
            summary="s",
            indicator=Indicator.INFO,
            source=Source(label="l"),
            suggestions=[Suggestion(label="do")],
        )


def test_cards_go_out_in_camel_case_without_empty_fields() -> None:
    card = render_cards(assessed("pregnant"), active_protocol(), UTC, show_warnings=False)[1]

    wire = card.wire()

    assert "overrideReasons" in wire
    assert "override_reasons" not in wire
    assert "suggestions" not in wire
    assert "links" not in wire


def test_feedback_card_ids_may_carry_the_urn_uuid_prefix() -> None:
    request = FeedbackRequest.model_validate(
        {
            "feedback": [
                {
                    "card": "urn:uuid:0b6c5f1e-0000-5000-8000-000000000000",
                    "outcome": "accepted",
                    "outcomeTimestamp": "2026-11-24T09:00:00Z",
                }
            ]
        }
    )

    assert request.feedback[0].card == "0b6c5f1e-0000-5000-8000-000000000000"


def test_an_error_is_a_problem_document_or_an_operation_outcome_as_the_client_asks() -> None:
    media, problem = error_document(412, "Patient data unavailable", "no fhirServer")
    fhir_media, outcome = error_document(
        412, "Patient data unavailable", "no fhirServer", "application/fhir+json"
    )

    assert media == "application/problem+json"
    assert problem == {
        "type": "about:blank",
        "title": "Patient data unavailable",
        "status": 412,
        "detail": "no fhirServer",
    }
    assert fhir_media == "application/fhir+json"
    assert outcome["issue"][0] == {
        "severity": "error",
        "code": "incomplete",
        "diagnostics": "no fhirServer",
        "details": {"text": "Patient data unavailable"},
    }
