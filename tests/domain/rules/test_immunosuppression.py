"""immunosuppression.concurrent: no other immunosuppressive medicine (synthetic records)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from natalizumab_cds.domain.findings import Decision, Effect, Severity
from natalizumab_cds.domain.protocol import ATC, RXNORM
from tests.domain.builders import AT, a_medication, day, on
from tests.domain.rules.expectations import assert_not_fired, assessed_with, the_finding

RULE = "immunosuppression.concurrent"


def test_holds_while_azathioprine_is_active_and_names_it_and_its_start() -> None:
    med = a_medication("1256", RXNORM, start=on(date(2026, 9, 1)), name="Imuran 50 mg")
    result = assessed_with(medications=[med])

    finding = the_finding(result, RULE)
    assert result.decision is Decision.HOLD
    assert finding.effect is Effect.HOLD
    assert finding.severity is Severity.CRITICAL
    assert "Imuran 50 mg" in finding.summary
    assert "since 2026-09-01" in finding.summary
    assert "azathioprine" in finding.summary
    assert finding.evidence == (med.id,)


def test_holds_for_an_atc_code_inside_an_immunosuppressant_group() -> None:
    med = a_medication("L04AX01", ATC, start=day(40))  # azathioprine, by ATC
    result = assessed_with(medications=[med])

    finding = the_finding(result, RULE)
    assert finding.effect is Effect.HOLD
    assert "L04" in finding.summary
    assert finding.evidence == (med.id,)


@pytest.mark.parametrize(
    ("code", "system"),
    [
        ("6851", RXNORM),  # methotrexate
        ("1012892", RXNORM),  # fingolimod
        ("121191", RXNORM),  # rituximab
        ("72257", RXNORM),  # interferon beta-1a
        ("L01FA01", ATC),  # rituximab, antineoplastic group
        ("L03AB07", ATC),  # interferon beta-1a, interferon group
        ("L03AX13", ATC),  # glatiramer acetate
    ],
)
def test_holds_for_listed_immunosuppressants_antineoplastics_and_immunomodulators(
    code: str, system: str
) -> None:
    result = assessed_with(medications=[a_medication(code, system, start=day(40))])

    assert the_finding(result, RULE).effect is Effect.HOLD


@pytest.mark.parametrize(
    ("code", "system"),
    [
        ("354770", RXNORM),  # natalizumab
        ("L04AA23", ATC),  # natalizumab, ATC until 2024 (inside the L04 group)
        ("L04AG03", ATC),  # natalizumab, ATC from 2024 (inside the L04 group)
        ("52582", RXNORM),  # mesalamine
        ("A07EC02", ATC),  # mesalazine
        ("9524", RXNORM),  # sulfasalazine
    ],
)
def test_natalizumab_itself_and_aminosalicylates_never_fire(code: str, system: str) -> None:
    result = assessed_with(medications=[a_medication(code, system, start=day(40))])

    assert_not_fired(result, RULE)
    assert result.decision is Decision.PROCEED


@pytest.mark.parametrize(
    ("code", "system"),
    [("6902", RXNORM), ("1292", RXNORM), ("H02AB04", ATC)],
    ids=["methylprednisolone", "baclofen", "methylprednisolone-atc"],
)
def test_medicines_outside_the_value_set_do_not_fire(code: str, system: str) -> None:
    assert_not_fired(assessed_with(medications=[a_medication(code, system)]), RULE)


def test_no_medication_recorded_does_not_fire() -> None:
    assert_not_fired(assessed_with(), RULE)


def test_a_course_that_ended_the_day_before_does_not_fire() -> None:
    med = a_medication("1256", start=day(200), end=day(1))

    assert_not_fired(assessed_with(medications=[med]), RULE)


def test_a_course_ending_at_the_assessed_moment_still_fires() -> None:
    med = a_medication("1256", start=day(200), end=AT)

    assert the_finding(assessed_with(medications=[med]), RULE).effect is Effect.HOLD


def test_a_course_ending_the_day_after_still_fires() -> None:
    med = a_medication("1256", start=day(200), end=day(-1))

    assert the_finding(assessed_with(medications=[med]), RULE).effect is Effect.HOLD


def test_a_course_starting_after_the_assessed_moment_does_not_fire() -> None:
    med = a_medication("1256", start=AT + timedelta(hours=3))

    assert_not_fired(assessed_with(medications=[med]), RULE)


def test_a_course_starting_at_the_assessed_moment_fires() -> None:
    assert the_finding(assessed_with(medications=[a_medication("1256", start=AT)]), RULE)


def test_an_active_medicine_without_dates_fires_and_gives_no_start() -> None:
    result = assessed_with(medications=[a_medication("6851")])

    finding = the_finding(result, RULE)
    assert "methotrexate" in finding.summary
    assert "since" not in finding.summary


@pytest.mark.parametrize(
    "status", ["completed", "stopped", "on-hold", "entered-in-error", "not-taken", "intended"]
)
def test_a_medicine_whose_status_is_not_active_does_not_fire(status: str) -> None:
    med = a_medication("1256", start=day(100), status=status)

    assert_not_fired(assessed_with(medications=[med]), RULE)


def test_every_active_immunosuppressant_is_cited_and_stopped_ones_are_not() -> None:
    aza = a_medication("1256", start=on(date(2026, 6, 1)))
    mtx = a_medication("6851", start=on(date(2026, 10, 2)))
    stopped = a_medication("3008", start=day(400), end=day(200))
    mesalamine = a_medication("52582", start=day(400))
    result = assessed_with(medications=[aza, mtx, stopped, mesalamine])

    finding = the_finding(result, RULE)
    assert set(finding.evidence) == {aza.id, mtx.id}
    assert "azathioprine" in finding.summary
    assert "methotrexate" in finding.summary
    assert "cyclosporine" not in finding.summary
