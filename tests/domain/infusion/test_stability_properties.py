"""The stability clock against a minute-by-minute simulation of the two limits.

Storage logs are random: chronological moves at whole minutes, random
locations and gaps, spanning up to 30 hours. With moves on whole minutes and
limits in whole minutes, the last usable moment is itself a whole minute, so a
simulation that steps one minute at a time finds it exactly.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from natalizumab_cds.domain.preparation import (
    Preparation,
    Storage,
    StorageMove,
    expires_at,
    is_usable,
)
from tests.domain.infusion.builders import DILUTED, a_preparation, protocol

TOTAL_MINUTES = 24 * 60
ROOM_MINUTES = 8 * 60
LOG_SPAN_MINUTES = 30 * 60

locations = st.sampled_from(list(Storage))


@st.composite
def storage_logs(draw: st.DrawFn) -> tuple[tuple[int, Storage], ...]:
    """(minutes after dilution, location) pairs: the first at 0, then strictly later."""
    gaps = draw(st.lists(st.integers(1, 12 * 60), max_size=8))
    offsets = [0]
    for gap in gaps:
        if offsets[-1] + gap > LOG_SPAN_MINUTES:
            break
        offsets.append(offsets[-1] + gap)
    return tuple((offset, draw(locations)) for offset in offsets)


def bag(log: tuple[tuple[int, Storage], ...]) -> Preparation:
    return a_preparation(moves=tuple((timedelta(minutes=m), where) for m, where in log))


def simulated_last_usable_minute(log: tuple[tuple[int, Storage], ...]) -> int:
    """Step minute by minute; usable while ≤ 24 h elapsed and ≤ 8 h at room temperature."""
    room = 0
    for minute in range(TOTAL_MINUTES):
        where = [location for offset, location in log if offset <= minute][-1]
        room += where is Storage.ROOM_TEMPERATURE
        if room > ROOM_MINUTES:
            return minute  # usable at ``minute``, not at ``minute + 1``
    return TOTAL_MINUTES


@given(storage_logs())
def test_expiry_agrees_with_a_minute_by_minute_simulation(
    log: tuple[tuple[int, Storage], ...],
) -> None:
    expected = DILUTED + timedelta(minutes=simulated_last_usable_minute(log))
    assert expires_at(bag(log), protocol()) == expected


@given(storage_logs(), st.integers(0, LOG_SPAN_MINUTES * 60))
def test_a_bag_is_usable_exactly_up_to_its_expiry(
    log: tuple[tuple[int, Storage], ...], seconds_after_dilution: int
) -> None:
    preparation = bag(log)
    expiry = expires_at(preparation, protocol())
    moment = DILUTED + timedelta(seconds=seconds_after_dilution)
    assert is_usable(preparation, moment, protocol()) == (moment <= expiry)
    assert is_usable(preparation, expiry, protocol())
    assert not is_usable(preparation, expiry + timedelta(microseconds=1), protocol())


@given(storage_logs())
def test_refrigeration_never_makes_a_bag_expire_sooner_than_room_temperature_throughout(
    log: tuple[tuple[int, Storage], ...],
) -> None:
    always_room = bag(((0, Storage.ROOM_TEMPERATURE),))
    assert expires_at(bag(log), protocol()) >= expires_at(always_room, protocol())


@given(storage_logs(), st.data())
def test_refrigerating_any_period_never_brings_the_expiry_forward(
    log: tuple[tuple[int, Storage], ...], data: st.DataObject
) -> None:
    index = data.draw(st.integers(0, len(log) - 1))
    before = bag(log)
    cooled = list(before.storage)
    cooled[index] = StorageMove(cooled[index].at, Storage.REFRIGERATOR)
    after = replace(before, storage=tuple(cooled))
    assert expires_at(after, protocol()) >= expires_at(before, protocol())


@given(storage_logs(), st.integers(1, 12 * 60), locations)
def test_a_later_move_never_changes_whether_the_bag_was_usable_before_it(
    log: tuple[tuple[int, Storage], ...], gap: int, where: Storage
) -> None:
    before = bag(log)
    move_at = before.storage[-1].at + timedelta(minutes=gap)
    after = before.with_move(StorageMove(move_at, where))
    for minutes_after in range(0, int((move_at - DILUTED).total_seconds() // 60) + 1, 37):
        moment = DILUTED + timedelta(minutes=minutes_after)
        assert is_usable(after, moment, protocol()) == is_usable(before, moment, protocol())
