"""Reading a moment given on the command line."""

from __future__ import annotations

from datetime import UTC, datetime

from natalizumab_cds.domain.errors import InvalidInput


def parse_at(text: str | None) -> datetime:
    """ISO 8601; no offset means UTC; none at all means now."""
    if text is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            f"--at: '{text}' is not an ISO 8601 date-time (e.g. 2026-11-24T09:00:00Z)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
