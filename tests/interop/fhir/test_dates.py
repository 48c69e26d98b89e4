"""FHIR date and dateTime values: partial dates, offsets, impossible dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from natalizumab_cds.domain.errors import InvalidInput
from natalizumab_cds.interop.fhir.dates import parse_date, parse_datetime

REF = "Observation/x"


def moment(raw: object, *, period_end: bool = False) -> datetime:
    return parse_datetime(REF, "effectiveDateTime", raw, period_end=period_end)


def test_reads_a_full_date_time_with_its_offset() -> None:
    assert moment("2026-11-01T08:30:00+02:00") == datetime(
        2026, 11, 1, 8, 30, tzinfo=timezone(timedelta(hours=2))
    )


def test_reads_z_as_utc() -> None:
    assert moment("2026-11-01T08:30:00Z") == datetime(2026, 11, 1, 8, 30, tzinfo=UTC)


def test_reads_fractional_seconds() -> None:
    assert moment("2026-11-01T08:30:00.250Z").microsecond == 250000


@pytest.mark.parametrize(("raw", "expected"), [
    ("2026", datetime(2026, 1, 1, tzinfo=UTC)),
    ("2026-02", datetime(2026, 2, 1, tzinfo=UTC)),
    ("2026-02-14", datetime(2026, 2, 14, tzinfo=UTC)),
])  # fmt: skip
def test_reads_a_partial_date_as_the_start_of_its_period_in_utc(
    raw: str, expected: datetime
) -> None:
    assert moment(raw) == expected


@pytest.mark.parametrize(("raw", "last_day"), [
    ("2026", date(2026, 12, 31)),
    ("2024-02", date(2024, 2, 29)),
    ("2026-02-14", date(2026, 2, 14)),
])  # fmt: skip
def test_reads_a_partial_period_end_as_the_end_of_its_period(raw: str, last_day: date) -> None:
    end = moment(raw, period_end=True)
    assert end.date() == last_day
    assert (end + timedelta(microseconds=1)).time() == datetime.min.time()


def test_refuses_a_date_time_without_offset_naming_resource_and_field() -> None:
    with pytest.raises(InvalidInput) as refused:
        moment("2026-11-01T08:30:00")
    assert str(refused.value) == (
        "Observation/x: effectiveDateTime '2026-11-01T08:30:00' has a time but no time-zone offset"
    )


@pytest.mark.parametrize("raw", ["2026-02-30", "2026-13", "2026-13-01", "2026-04-31T10:00:00Z"])
def test_refuses_impossible_dates(raw: str) -> None:
    with pytest.raises(InvalidInput, match=r"^Observation/x: effectiveDateTime .* not a valid"):
        moment(raw)


@pytest.mark.parametrize(
    "raw", ["20261101", "2026-W44-1", "26-11-01", "2026/11/01", "", "２０２６", "2026-1-1", "later"]
)
def test_refuses_what_fhir_does_not_allow_as_a_date(raw: str) -> None:
    with pytest.raises(InvalidInput, match=r"^Observation/x: effectiveDateTime"):
        moment(raw)


@pytest.mark.parametrize("raw", ["0001-01-01", "9999-12-31T23:59:59+00:00", "1799"])
def test_refuses_dates_outside_plausible_years(raw: str) -> None:
    with pytest.raises(InvalidInput, match="outside the years"):
        moment(raw)


@pytest.mark.parametrize("raw", [20261101, None, ["2026"], {"value": "2026"}, True])
def test_refuses_a_date_that_is_not_a_string(raw: object) -> None:
    with pytest.raises(InvalidInput, match="effectiveDateTime must be a date-time string"):
        moment(raw)


def test_a_date_time_read_before_is_refused_again_naming_the_resource_at_hand() -> None:
    """Full date-times are remembered by their text; a bad one never becomes good."""
    for ref in ("Observation/a", "Observation/b"):
        with pytest.raises(InvalidInput) as refused:
            parse_datetime(ref, "issued", "2026-11-01T08:30:00")
        assert str(refused.value).startswith(f"{ref}: issued '2026-11-01T08:30:00' has a time")


def test_reads_a_birth_date_and_a_partial_birth_date() -> None:
    assert parse_date("Patient/p1", "birthDate", "1980-05-01") == date(1980, 5, 1)
    assert parse_date("Patient/p1", "birthDate", "1980-05") == date(1980, 5, 1)


def test_refuses_an_impossible_birth_date() -> None:
    with pytest.raises(InvalidInput, match=r"^Patient/p1: birthDate '1980-02-30' is not a valid"):
        parse_date("Patient/p1", "birthDate", "1980-02-30")
