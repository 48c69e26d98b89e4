"""FHIR ``date`` and ``dateTime`` values as dates and timezone-aware datetimes.

FHIR allows a dateTime to be only a year (``2026``), a month (``2026-03``), a day
(``2026-03-14``), or a full date-time that then must carry an offset. A partial
value stands for the start of its period at 00:00 UTC; the end of a ``Period``
stands for the end of its period, because FHIR defines a period's end as
including every moment that matches it. A time without an offset is refused
rather than guessed, and so is an impossible date such as 2026-02-30.

``datetime.fromisoformat`` does the parsing (Python 3.11 accepts ``Z``); the
length and separator checks in front of it keep out the ISO 8601 forms FHIR does
not allow (``20260314``, week dates).
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time
from functools import lru_cache

from natalizumab_cds.interop.fhir.fields import JsonObject, get_object, invalid, show

#: Dates outside these years are typing errors, and date arithmetic near
#: ``datetime``'s limits (year 1, year 9999) overflows in the rules.
EARLIEST_YEAR = 1800
LATEST_YEAR = 2999

_FORMS = "YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss+zz:zz"


def parse_datetime(ref: str, path: str, raw: object, *, period_end: bool = False) -> datetime:
    """A FHIR dateTime (or instant) as an aware datetime; see the module docstring."""
    if type(raw) is str and len(raw) > 10:
        moment = _full_datetime(raw)
        if moment is not None:
            return moment
    if not isinstance(raw, str):
        raise invalid(ref, path, f"must be a date-time string, got {show(raw)}")
    if len(raw) <= 10:
        first, last = _calendar_span(ref, path, raw)
        if period_end:
            return datetime.combine(last, time.max, UTC)
        return datetime.combine(first, time.min, UTC)
    if raw[4] != "-" or raw[7] != "-" or raw[10] != "T":
        raise invalid(ref, path, f"{raw!r} is not a FHIR date-time ({_FORMS})")
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise invalid(ref, path, f"{raw!r} is not a valid date-time") from None
    if moment.tzinfo is None:
        raise invalid(ref, path, f"{raw!r} has a time but no time-zone offset")
    _check_year(ref, path, raw, moment.year)
    return moment


@lru_cache(maxsize=4096)
def _full_datetime(raw: str) -> datetime | None:
    """A full date-time that passes every check of ``parse_datetime``, else None.

    Remembered by its text: the results of one blood draw share a time, and a
    record is read again on every hook call. A value that fails is not explained
    here; ``parse_datetime`` then says what is wrong with it, naming the resource.
    """
    if raw[4] != "-" or raw[7] != "-" or raw[10] != "T":
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return None
    if moment.tzinfo is None or not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        return None
    return moment


def parse_date(ref: str, path: str, raw: object) -> date:
    """A FHIR date (``Patient.birthDate``); a partial date stands for its first day."""
    return parse_date_span(ref, path, raw)[0]


def parse_date_span(ref: str, path: str, raw: object) -> tuple[date, date]:
    """The first and last day a FHIR date allows (the same day for a full date)."""
    if not isinstance(raw, str):
        raise invalid(ref, path, f"must be a date string, got {show(raw)}")
    return _calendar_span(ref, path, raw)


def _calendar_span(ref: str, path: str, raw: str) -> tuple[date, date]:
    """First and last day of a year, month or day written as YYYY[-MM[-DD]]."""
    length = len(raw)
    digits = raw.replace("-", "")
    well_formed = (
        digits.isascii()
        and digits.isdigit()
        and length in (4, 7, 10)
        and all(raw[i] == "-" for i in (4, 7) if i < length)
        and len(digits) == length - (length - 4) // 3
    )
    if not well_formed:
        raise invalid(ref, path, f"{raw!r} is not a FHIR date ({_FORMS})")
    year = int(raw[:4])
    _check_year(ref, path, raw, year)
    try:
        if length == 4:
            return date(year, 1, 1), date(year, 12, 31)
        month = int(raw[5:7])
        if length == 7:
            return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
        day = date(year, month, int(raw[8:10]))
    except ValueError:
        raise invalid(ref, path, f"{raw!r} is not a valid date") from None
    return day, day


def _check_year(ref: str, path: str, raw: str, year: int) -> None:
    if not EARLIEST_YEAR <= year <= LATEST_YEAR:
        raise invalid(ref, path, f"{raw!r} is outside the years {EARLIEST_YEAR}-{LATEST_YEAR}")


def optional_datetime(ref: str, node: JsonObject, key: str) -> datetime | None:
    """A dateTime element that may be absent."""
    raw = node.get(key)
    return None if raw is None else parse_datetime(ref, key, raw)


def read_period(ref: str, node: JsonObject, key: str) -> tuple[datetime | None, datetime | None]:
    """Start and end of a Period element; the end covers its whole day, month or year."""
    period = get_object(ref, node, key)
    if period is None:
        return None, None
    start, end = period.get("start"), period.get("end")
    return (
        None if start is None else parse_datetime(ref, f"{key}.start", start),
        None if end is None else parse_datetime(ref, f"{key}.end", end, period_end=True),
    )
