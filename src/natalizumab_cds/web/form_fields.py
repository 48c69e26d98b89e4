"""Reading the infusion-day forms: each field to a value, or ``InvalidInput`` naming it.

Nothing is defaulted that the clinician must answer: a yes/no question left
unanswered is refused, never read as "no". A message starts with the field's
form name (``rate_ml_per_hour: …``); the page shows it under that field, by
its label (``visit_refusals.py``).
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from enum import StrEnum
from typing import TypeVar

from starlette.datastructures import FormData

from natalizumab_cds.domain.errors import InvalidInput

E = TypeVar("E", bound=StrEnum)


def text(form: FormData, name: str, required: bool = True) -> str:
    value = form.get(name)
    value = value.strip() if isinstance(value, str) else ""
    if required and not value:
        raise InvalidInput(f"{name}: required")
    return value


def yes_no(form: FormData, name: str) -> bool:
    value = form.get(name)
    if value not in ("yes", "no"):
        raise InvalidInput(f"{name}: answer yes or no")
    return value == "yes"


def number(form: FormData, name: str, required: bool = True) -> float | None:
    value = text(form, name, required)
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        raise InvalidInput(f"{name}: {value!r} is not a number") from None


def moment(form: FormData, name: str, tz: tzinfo, required: bool = False) -> datetime | None:
    """A ``datetime-local`` value, read in the clinic's zone (blank: now)."""
    value = text(form, name, required)
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{name}: {value!r} is not a date and time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)


def version(form: FormData) -> int | None:
    value = form.get("version")
    return int(value) if isinstance(value, str) and value.isdigit() else None


def choice(kind: type[E], value: str, name: str) -> E:
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(k.value for k in kind)
        raise InvalidInput(f"{name}: {value!r} is not one of {allowed}") from None
