"""The clearance gate on the screening's new medicines, and the names it recognizes."""

from __future__ import annotations

import pytest

from natalizumab_cds.domain.errors import WorkflowRefused
from natalizumab_cds.domain.findings import Decision
from natalizumab_cds.domain.infusion import Visit, VisitState, clear, record_screening
from natalizumab_cds.domain.infusion_events import Clearance
from natalizumab_cds.domain.screening_medicines import immunosuppressants_named
from tests.domain.infusion.builders import (
    CLEARED,
    DOCTOR,
    a_clearance,
    a_screening,
    a_visit,
    protocol,
)


def _named(text: str) -> list[str]:
    return [str(m) for m in immunosuppressants_named(text, protocol())]


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("azathioprine 50 mg daily", ["azathioprine (azathioprine, 1256)"]),
        ("Started AZATHIOPRINE last week", ["AZATHIOPRINE (azathioprine, 1256)"]),
        ("imuran 50mg", ["imuran (azathioprine, 1256)"]),
        ("Interferon beta 1a weekly", ["Interferon beta 1a (interferon beta-1a, 72257)"]),
        (
            "6-MP and methotrexate",
            ["6-MP (mercaptopurine, 103)", "methotrexate (methotrexate, 6851)"],
        ),
        ("ofatumumab monthly", ["ofatumumab (Immunosuppressants (ATC group), L04)"]),
    ],
)
def test_prohibited_medicines_are_found_by_name_whatever_the_case(
    text: str, named: list[str]
) -> None:
    assert _named(text) == named


@pytest.mark.parametrize(
    "text",
    ["vitamin D 1000 IU", "mesalamine", "natalizumab", "azathioprines", "paracetamol; ibuprofen"],
)
def test_other_medicines_and_parts_of_words_are_not_prohibited_names(text: str) -> None:
    assert _named(text) == []


def _screened(detail: str) -> Visit:
    screening = a_screening(new_medicines=True, new_medicines_detail=detail)
    return record_screening(a_visit(), screening, protocol())


def test_a_prohibited_medicine_named_at_screening_refuses_the_clearance_even_if_reviewed() -> None:
    reviewed = Clearance(CLEARED, DOCTOR, Decision.PROCEED, medicines_reviewed=True)
    with pytest.raises(WorkflowRefused) as refused:
        clear(_screened("azathioprine 50 mg daily"), reviewed, protocol())
    assert refused.value.rule == "immunosuppression.concurrent"
    assert "azathioprine (azathioprine, 1256)" in refused.value.reason
    assert "medication list" in refused.value.reason


def test_other_new_medicines_clear_only_once_reviewed() -> None:
    visit = _screened("vitamin D 1000 IU")
    with pytest.raises(WorkflowRefused) as refused:
        clear(visit, a_clearance(Decision.PROCEED), protocol())
    assert refused.value.rule == "administration.requires-clearance"
    assert "reviewed against the prohibited list" in refused.value.reason

    reviewed = Clearance(CLEARED, DOCTOR, Decision.PROCEED, medicines_reviewed=True)
    assert clear(visit, reviewed, protocol()).state is VisitState.CLEARED
