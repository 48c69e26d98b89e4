"""Preparation rules: dose, diluent and volume, double check, vial expiry, frozen or shaken."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from typing import Any

import pytest

from natalizumab_cds.domain.errors import InvalidInput, WorkflowRefused
from natalizumab_cds.domain.infusion import VisitState, prepare
from natalizumab_cds.domain.preparation import (
    SODIUM_CHLORIDE_0_9,
    Storage,
    StorageMove,
    normalized_diluent,
)
from tests.domain.infusion.builders import (
    DILUTED,
    PHARMACIST,
    a_cleared_visit,
    a_preparation,
    hours,
    minutes,
    protocol,
)


def refusal(preparation_fields: dict[str, Any], tz: tzinfo = UTC) -> WorkflowRefused:
    with pytest.raises(WorkflowRefused) as refused:
        prepare(a_cleared_visit(), a_preparation(**preparation_fields), protocol(), tz)
    return refused.value


def test_a_correct_bag_prepares_the_cleared_visit() -> None:
    visit = prepare(a_cleared_visit(), a_preparation(), protocol())
    assert visit.state is VisitState.PREPARED
    assert visit.preparation == a_preparation()


@pytest.mark.parametrize("dose", [299.0, 301.0, 150.0, 600.0, 299.99])
def test_a_dose_other_than_300_mg_is_refused(dose: float) -> None:
    refused = refusal({"dose_mg": dose})
    assert refused.rule == "preparation.dose"
    assert refused.field == "preparation.dose_mg"
    assert f"{dose:g} mg" in refused.reason
    assert "300 mg" in refused.reason


def test_a_dose_of_exactly_300_mg_is_accepted() -> None:
    visit = prepare(a_cleared_visit(), a_preparation(dose_mg=300), protocol())
    assert visit.preparation is not None
    assert visit.preparation.dose_mg == 300


@pytest.mark.parametrize("volume", [99.0, 101.0, 99.9, 250.0])
def test_a_volume_other_than_100_ml_is_refused(volume: float) -> None:
    refused = refusal({"volume_ml": volume})
    assert refused.rule == "preparation.diluent"
    assert "100 mL" in refused.reason


def test_a_volume_of_exactly_100_ml_is_accepted() -> None:
    visit = prepare(a_cleared_visit(), a_preparation(volume_ml=100), protocol())
    assert visit.state is VisitState.PREPARED


ACCEPTED_SPELLINGS = [
    "0.9% sodium chloride",
    "0.9 % sodium chloride",
    "0.9 %  Sodium  Chloride",
    "  0.9% SODIUM CHLORIDE ",
    "0,9 % sodium chloride",
    "sodium chloride 0.9%",
    "Sodium chloride 0.9 %",
    "0.9% sodium chloride injection",
    "NaCl 0.9%",
    "NaCl 0.9 %",
    "0.9% NaCl",
    "normal saline",
    "Normal Saline",
    "0.9% saline",
]


@pytest.mark.parametrize("spelling", ACCEPTED_SPELLINGS)
def test_each_spelling_of_normal_saline_is_accepted_and_stored_normalized(spelling: str) -> None:
    visit = prepare(a_cleared_visit(), a_preparation(diluent=spelling), protocol())
    assert visit.preparation is not None
    assert visit.preparation.diluent == SODIUM_CHLORIDE_0_9
    assert normalized_diluent(spelling) == SODIUM_CHLORIDE_0_9


REFUSED_SPELLINGS = [
    "5% dextrose",
    "D5W",
    "glucose 5%",
    "water for injection",
    "sterile water",
    "0.45% sodium chloride",
    "3% sodium chloride",
    "9% sodium chloride",
    "sodium chloride",
    "saline",
    "Ringer's lactate",
    "0.9% sodium chloride and 5% dextrose",
]


@pytest.mark.parametrize("spelling", REFUSED_SPELLINGS)
def test_any_other_solvent_is_refused(spelling: str) -> None:
    refused = refusal({"diluent": spelling})
    assert refused.rule == "preparation.diluent"
    assert spelling in refused.reason
    assert normalized_diluent(spelling) is None


def test_the_same_person_cannot_prepare_and_check_the_bag() -> None:
    refused = refusal({"checked_by": PHARMACIST})
    assert refused.rule == "preparation.double-check"
    assert PHARMACIST in refused.reason


def test_the_double_check_ignores_case_and_spaces_in_the_name() -> None:
    refused = refusal({"checked_by": f"  {PHARMACIST.upper()} "})
    assert refused.rule == "preparation.double-check"


def test_a_vial_used_on_its_expiry_date_is_accepted() -> None:
    visit = prepare(a_cleared_visit(), a_preparation(vial_expiry=DILUTED.date()), protocol())
    assert visit.state is VisitState.PREPARED


def test_a_vial_used_the_day_after_its_expiry_date_is_refused() -> None:
    refused = refusal({"vial_expiry": DILUTED.date() - timedelta(days=1)})
    assert refused.rule == "preparation.expired"
    assert "LOT-SYN-001" in refused.reason
    assert "2026-11-23" in refused.reason


def test_the_vial_expiry_is_read_on_the_clinic_calendar() -> None:
    # 23:30 UTC on the expiry date is already the next day in Berlin (UTC+1).
    late = datetime(2026, 11, 23, 23, 30, tzinfo=UTC)
    expiring: dict[str, Any] = {"vial_expiry": date(2026, 11, 23)}
    accepted = prepare(a_cleared_visit(), a_preparation(late, **expiring), protocol())
    assert accepted.preparation is not None
    refused = refusal({"diluted_at": late, **expiring}, tz=timezone(timedelta(hours=1)))
    assert refused.rule == "preparation.expired"


@pytest.mark.parametrize(
    ("flags", "word"),
    [
        ({"frozen": True}, "frozen"),
        ({"shaken": True}, "shaken"),
        ({"frozen": True, "shaken": True}, "frozen and shaken"),
    ],
)
def test_a_frozen_or_shaken_bag_is_refused(flags: dict[str, bool], word: str) -> None:
    refused = refusal(dict[str, Any](flags))
    assert refused.rule == "preparation.frozen-or-shaken"
    assert f"was {word}" in refused.reason
    assert "discard" in refused.reason


def test_a_bag_already_past_its_room_temperature_limit_when_recorded_is_refused() -> None:
    refused = refusal({"checked_at": DILUTED + hours(8) + timedelta(seconds=1)})
    assert refused.rule == "preparation.expired"
    assert "room temperature" in refused.reason


def test_a_bag_whose_log_reaches_exactly_the_room_temperature_limit_is_accepted() -> None:
    visit = prepare(a_cleared_visit(), a_preparation(checked_at=DILUTED + hours(8)), protocol())
    assert visit.state is VisitState.PREPARED


def test_the_storage_log_must_start_at_the_dilution() -> None:
    with pytest.raises(InvalidInput, match="starts at the dilution"):
        a_preparation(moves=((minutes(1), Storage.REFRIGERATOR),))


def test_the_storage_log_must_not_be_empty() -> None:
    with pytest.raises(InvalidInput, match="starts at the dilution"):
        a_preparation(moves=())


def test_storage_moves_out_of_chronological_order_are_refused() -> None:
    with pytest.raises(InvalidInput, match="is not after"):
        a_preparation(
            moves=(
                (timedelta(0), Storage.REFRIGERATOR),
                (hours(2), Storage.ROOM_TEMPERATURE),
                (hours(1), Storage.REFRIGERATOR),
            )
        )


def test_two_storage_moves_at_the_same_moment_are_refused() -> None:
    with pytest.raises(InvalidInput, match="is not after"):
        a_preparation(
            moves=((timedelta(0), Storage.REFRIGERATOR), (timedelta(0), Storage.ROOM_TEMPERATURE))
        )


def test_a_check_dated_before_the_dilution_is_refused() -> None:
    with pytest.raises(InvalidInput, match="before the dilution"):
        a_preparation(checked_at=DILUTED - minutes(1))


def test_a_naive_dilution_time_is_refused() -> None:
    naive = datetime(2026, 11, 24, 8, 0)
    with pytest.raises(InvalidInput, match="no time zone"):
        a_preparation(naive, moves=())


def test_a_naive_storage_move_is_refused() -> None:
    with pytest.raises(InvalidInput, match=r"storage_move\.at"):
        StorageMove(datetime(2026, 11, 24, 8, 0), Storage.REFRIGERATOR)


@pytest.mark.parametrize("field", ["vial_lot", "prepared_by", "checked_by", "diluent"])
def test_a_blank_preparation_field_is_refused(field: str) -> None:
    with pytest.raises(InvalidInput, match=rf"preparation\.{field}"):
        a_preparation(**dict[str, Any]({field: "  "}))
