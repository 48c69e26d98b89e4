"""HL7 v2 ``TS``/``DTM`` values as timezone-aware datetimes.

The form is ``YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+/-ZZZZ]``. A value without
an offset is local time at the clinic (the zone is passed in; the settings name
it), because that is what a lab on site sends. A partial value stands for the
start of its period. python-hl7 has a parser too, but it gets offsets such as
``-0030`` wrong (the sign of a zero hour is lost), so this small one is used.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone, tzinfo

#: Years outside these are typing errors (the same bounds as the FHIR reader).
EARLIEST_YEAR = 1800
LATEST_YEAR = 2999

_TS = re.compile(
    r"(?P<year>\d{4})(?:(?P<month>\d{2})(?:(?P<day>\d{2})(?:(?P<hour>\d{2})"
    r"(?:(?P<minute>\d{2})(?:(?P<second>\d{2})(?:\.(?P<fraction>\d{1,4}))?)?)?)?)?)?"
    r"(?P<offset>[+-]\d{4})?"
)


class BadTimestamp(ValueError):
    """The text is not an HL7 timestamp; the message says why."""


def parse_timestamp(text: str, clinic_tz: tzinfo) -> datetime:
    """An HL7 timestamp as an aware datetime; see the module docstring."""
    match = _TS.fullmatch(text.strip())
    if match is None:
        raise BadTimestamp(f"{text!r} is not an HL7 timestamp (YYYYMMDDHHMM[SS][+/-ZZZZ])")
    parts = match.groupdict()
    year = int(parts["year"])
    if not EARLIEST_YEAR <= year <= LATEST_YEAR:
        raise BadTimestamp(f"{text!r} is outside the years {EARLIEST_YEAR}-{LATEST_YEAR}")
    fraction = parts["fraction"] or ""
    zone = _zone(parts["offset"], text) or clinic_tz
    try:
        return datetime(
            year,
            int(parts["month"] or 1),
            int(parts["day"] or 1),
            int(parts["hour"] or 0),
            int(parts["minute"] or 0),
            int(parts["second"] or 0),
            int(fraction.ljust(6, "0")) if fraction else 0,
            tzinfo=zone,
        )
    except ValueError:
        raise BadTimestamp(f"{text!r} is not a valid date and time") from None


def _zone(offset: str | None, text: str) -> tzinfo | None:
    if offset is None:
        return None
    hours, minutes = int(offset[1:3]), int(offset[3:5])
    if hours > 14 or minutes > 59:
        raise BadTimestamp(f"{text!r} has an impossible UTC offset {offset}")
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone(-delta if offset[0] == "-" else delta)
