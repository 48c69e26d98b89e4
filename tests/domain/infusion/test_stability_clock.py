"""The stability clock: 24 h after dilution in total, at most 8 h of it at room temperature."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from natalizumab_cds.domain.errors import InvalidInput, WorkflowRefused
from natalizumab_cds.domain.preparation import (
    Storage,
    check_usable,
    expires_at,
    is_usable,
    room_temperature_remaining,
    room_temperature_time,
)
from tests.domain.infusion.builders import DILUTED, a_preparation, hours, minutes, protocol

SECOND = timedelta(seconds=1)
FRIDGE = Storage.REFRIGERATOR
ROOM = Storage.ROOM_TEMPERATURE


def test_a_bag_kept_at_room_temperature_is_usable_for_exactly_8_hours() -> None:
    bag = a_preparation()
    assert expires_at(bag, protocol()) == DILUTED + hours(8)
    assert is_usable(bag, DILUTED + hours(8), protocol())
    assert not is_usable(bag, DILUTED + hours(8) + SECOND, protocol())


def test_a_bag_kept_in_the_refrigerator_is_usable_for_exactly_24_hours() -> None:
    bag = a_preparation(moves=((timedelta(0), FRIDGE),))
    assert expires_at(bag, protocol()) == DILUTED + hours(24)
    assert is_usable(bag, DILUTED + hours(24), protocol())
    assert not is_usable(bag, DILUTED + hours(24) + SECOND, protocol())


def test_room_temperature_time_adds_up_across_separate_periods() -> None:
    bag = a_preparation(
        moves=(
            (timedelta(0), ROOM),
            (hours(3), FRIDGE),
            (hours(10), ROOM),
            (hours(12), FRIDGE),
            (hours(20), ROOM),
        )
    )
    assert room_temperature_time(bag, DILUTED + hours(20)) == hours(5)
    # 5 h spent, 3 h left from the last move at 20 h: 23 h after dilution.
    assert expires_at(bag, protocol()) == DILUTED + hours(23)
    assert is_usable(bag, DILUTED + hours(23), protocol())
    assert not is_usable(bag, DILUTED + hours(23) + SECOND, protocol())


def test_exactly_8_hours_at_room_temperature_then_refrigerated_stays_usable_to_24_hours() -> None:
    bag = a_preparation(moves=((timedelta(0), ROOM), (hours(8), FRIDGE)))
    assert expires_at(bag, protocol()) == DILUTED + hours(24)
    assert is_usable(bag, DILUTED + hours(20), protocol())


def test_8_hours_and_1_second_at_room_temperature_before_refrigeration_expires_it() -> None:
    bag = a_preparation(moves=((timedelta(0), ROOM), (hours(8) + SECOND, FRIDGE)))
    assert expires_at(bag, protocol()) == DILUTED + hours(8)
    assert not is_usable(bag, DILUTED + hours(20), protocol())


def test_the_24_hour_limit_wins_when_room_temperature_time_would_last_longer() -> None:
    bag = a_preparation(moves=((timedelta(0), FRIDGE), (hours(20), ROOM)))
    assert expires_at(bag, protocol()) == DILUTED + hours(24)
    assert room_temperature_time(bag, DILUTED + hours(24)) == hours(4)


def test_a_bag_now_refrigerated_is_forecast_to_last_to_the_24_hour_limit() -> None:
    bag = a_preparation(moves=((timedelta(0), ROOM), (hours(6), FRIDGE)))
    assert expires_at(bag, protocol()) == DILUTED + hours(24)
    back_out = a_preparation(moves=((timedelta(0), ROOM), (hours(6), FRIDGE), (hours(10), ROOM)))
    assert expires_at(back_out, protocol()) == DILUTED + hours(12)


def test_moves_recorded_later_do_not_change_usability_at_an_earlier_moment() -> None:
    bag = a_preparation(moves=((timedelta(0), FRIDGE), (hours(23), ROOM)))
    assert room_temperature_time(bag, DILUTED + hours(10)) == timedelta(0)
    assert is_usable(bag, DILUTED + hours(10), protocol())


def test_a_bag_is_not_usable_before_it_was_diluted() -> None:
    assert not is_usable(a_preparation(), DILUTED - SECOND, protocol())
    assert room_temperature_time(a_preparation(), DILUTED - hours(1)) == timedelta(0)


def test_the_room_temperature_allowance_left_is_shown_and_never_negative() -> None:
    bag = a_preparation(moves=((timedelta(0), ROOM), (minutes(90), FRIDGE)))
    assert room_temperature_remaining(bag, DILUTED + hours(2), protocol()) == minutes(390)
    spent = a_preparation()
    assert room_temperature_remaining(spent, DILUTED + hours(9), protocol()) == timedelta(0)


def test_the_refusal_says_which_limit_was_passed() -> None:
    with pytest.raises(WorkflowRefused) as room:
        check_usable(a_preparation(), DILUTED + hours(8) + SECOND, protocol())
    assert room.value.rule == "preparation.expired"
    assert room.value.reason == (
        "8 h 0 min 1 s at room temperature; usable for 8 hours at room temperature"
    )
    with pytest.raises(WorkflowRefused) as total:
        check_usable(
            a_preparation(moves=((timedelta(0), FRIDGE),)), DILUTED + hours(25), protocol()
        )
    assert total.value.reason == "diluted 25 h 0 min ago; usable for 24 hours after dilution"


def test_exact_limits_pass_the_check() -> None:
    check_usable(a_preparation(), DILUTED + hours(8), protocol())
    check_usable(a_preparation(moves=((timedelta(0), FRIDGE),)), DILUTED + hours(24), protocol())


def test_a_naive_moment_is_refused_by_the_clock() -> None:
    with pytest.raises(InvalidInput, match="no time zone"):
        room_temperature_time(a_preparation(), datetime(2026, 11, 24, 9, 0))
