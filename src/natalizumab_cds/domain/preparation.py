"""The diluted bag: what it is made of, where it has been kept, and until when it is usable.

**The stability clock.** A preparation is usable at ``t`` when

- ``t - diluted_at`` ≤ ``stability_total`` (24 h in the protocol), and
- the room-temperature time accumulated from dilution up to ``t`` ≤
  ``stability_room_temperature`` (8 h).

Both limits are inclusive: exactly 24 h / exactly 8 h is still usable, one
second more is not. The storage log is a list of moves (moment, location); the
first is at the dilution, each later one strictly after the one before, and a
location holds until the next move. ``expires_at`` is the last usable moment
*assuming the last recorded location continues*: for a bag now in the
refrigerator the room-temperature limit is not reached, so it expires at the
24 h limit; when it later moves to room temperature the new move is recorded
and ``expires_at`` is recomputed (and can only come earlier). Because the
accumulated room-temperature time never decreases, the usable moments are
exactly those from ``diluted_at`` to ``expires_at``. Moves after ``t`` do not
change whether the bag was usable at ``t``.

The protocol's values are the default; the labels differ (US PI: refrigerate
and infuse within 48 h; EU SmPC: within 24 h at 2–8 °C), hence parameters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta, tzinfo
from enum import StrEnum

from natalizumab_cds.domain.errors import InvalidInput, WorkflowRefused
from natalizumab_cds.domain.infusion_events import (
    in_words,
    require_aware,
    require_text,
    stamp,
)
from natalizumab_cds.domain.infusion_rules import (
    PREPARATION_DILUENT,
    PREPARATION_DOSE,
    PREPARATION_DOUBLE_CHECK,
    PREPARATION_EXPIRED,
    PREPARATION_FROZEN_OR_SHAKEN,
)
from natalizumab_cds.domain.protocol import Protocol

#: How a valid diluent is stored, whatever spelling was typed.
SODIUM_CHLORIDE_0_9 = "0.9% sodium chloride"
_DILUENT_SPELLINGS = frozenset(
    {
        "0.9% sodium chloride",
        "sodium chloride 0.9%",
        "0.9% sodium chloride injection",
        "sodium chloride injection 0.9%",
        "0.9% nacl",
        "nacl 0.9%",
        "0.9% saline",
        "normal saline",
        "0.9% normal saline",
    }
)


def normalized_diluent(text: str) -> str | None:
    """``SODIUM_CHLORIDE_0_9`` for an accepted spelling of it, else ``None``.

    Case, spaces (also before ``%``) and a decimal comma do not matter; the
    concentration must be stated unless the words are "normal saline".
    """
    words = re.sub(r"\s+", " ", text.strip().lower().replace(",", "."))
    words = re.sub(r" ?%", "%", words)
    return SODIUM_CHLORIDE_0_9 if words in _DILUENT_SPELLINGS else None


class Storage(StrEnum):
    REFRIGERATOR = "refrigerator"
    ROOM_TEMPERATURE = "room-temperature"


@dataclass(frozen=True, slots=True)
class StorageMove:
    """From ``at`` on, the bag is kept in ``location``."""

    at: datetime
    location: Storage

    def __post_init__(self) -> None:
        require_aware("storage_move.at", self.at)


@dataclass(frozen=True, slots=True)
class Preparation:
    """One diluted bag, made by ``prepared_by`` and checked at ``checked_at`` by ``checked_by``."""

    vial_lot: str
    vial_expiry: date
    dose_mg: float
    diluent: str
    volume_ml: float
    diluted_at: datetime
    storage: tuple[StorageMove, ...]
    prepared_by: str
    checked_by: str
    checked_at: datetime
    frozen: bool = False
    shaken: bool = False

    def __post_init__(self) -> None:
        require_aware("preparation.diluted_at", self.diluted_at)
        require_aware("preparation.checked_at", self.checked_at)
        for what in ("vial_lot", "prepared_by", "checked_by", "diluent"):
            require_text(f"preparation.{what}", getattr(self, what))
        if self.checked_at < self.diluted_at:
            raise InvalidInput("preparation.checked_at: the check is dated before the dilution")
        if not self.storage or self.storage[0].at != self.diluted_at:
            raise InvalidInput(
                "preparation.storage: the log starts at the dilution, with where the bag was put"
            )
        for before, after in zip(self.storage, self.storage[1:], strict=False):
            if after.at <= before.at:
                raise InvalidInput(
                    f"preparation.storage: the move at {stamp(after.at)} is not after "
                    f"the one at {stamp(before.at)}"
                )

    def with_move(self, move: StorageMove) -> Preparation:
        """The same bag with one more storage move (which must come after the last one)."""
        return replace(self, storage=(*self.storage, move))

    @property
    def last_recorded_at(self) -> datetime:
        return max(self.checked_at, self.storage[-1].at)


def room_temperature_time(preparation: Preparation, until: datetime) -> timedelta:
    """Time spent at room temperature from the dilution up to ``until``."""
    require_aware("until", until)
    total = timedelta(0)
    for index, move in enumerate(preparation.storage):
        if move.at >= until:
            break
        following = preparation.storage[index + 1 :]
        segment_end = min(following[0].at, until) if following else until
        if move.location is Storage.ROOM_TEMPERATURE:
            total += segment_end - move.at
    return total


def expires_at(preparation: Preparation, protocol: Protocol) -> datetime:
    """The last usable moment, assuming the last recorded location continues."""
    total_limit = preparation.diluted_at + protocol.interval("stability_total").as_timedelta()
    allowance = protocol.interval("stability_room_temperature").as_timedelta()
    spent = timedelta(0)
    for index, move in enumerate(preparation.storage):
        if move.location is not Storage.ROOM_TEMPERATURE:
            continue
        following = preparation.storage[index + 1 :]
        segment = following[0].at - move.at if following else None
        # Usable while spent ≤ allowance: the limit is passed only inside a
        # segment that takes it strictly beyond the allowance.
        if segment is None or spent + segment > allowance:
            return min(total_limit, move.at + (allowance - spent))
        spent += segment
    return total_limit


def is_usable(preparation: Preparation, at: datetime, protocol: Protocol) -> bool:
    """Within both stability limits at ``at`` (``False`` before the dilution)."""
    return _limit_passed(preparation, at, protocol) is None and at >= preparation.diluted_at


def room_temperature_remaining(
    preparation: Preparation, at: datetime, protocol: Protocol
) -> timedelta:
    """Room-temperature time still allowed at ``at`` (zero once used up)."""
    allowance = protocol.interval("stability_room_temperature").as_timedelta()
    return max(timedelta(0), allowance - room_temperature_time(preparation, at))


def check_usable(preparation: Preparation, at: datetime, protocol: Protocol) -> None:
    """Refuse with ``preparation.expired`` when either stability limit is passed at ``at``."""
    reason = _limit_passed(preparation, at, protocol)
    if reason is not None:
        raise WorkflowRefused(PREPARATION_EXPIRED.id, reason, "preparation.diluted_at")


def check_preparation(preparation: Preparation, protocol: Protocol, tz: tzinfo = UTC) -> None:
    """Every preparation rule, in the order a pharmacist checks a bag.

    The vial is expired when the dilution's calendar date (in ``tz``, the
    clinic's zone) is after the vial's expiry date. Stability is checked at the
    latest moment the preparation record knows of (the check or the last move).
    """
    if preparation.prepared_by.strip().casefold() == preparation.checked_by.strip().casefold():
        raise WorkflowRefused(
            PREPARATION_DOUBLE_CHECK.id,
            f"{preparation.prepared_by} prepared the bag and cannot also check it; "
            "a second person must check it",
            "preparation.checked_by",
        )
    dose = protocol.number("dose")
    if preparation.dose_mg != dose:
        raise WorkflowRefused(
            PREPARATION_DOSE.id,
            f"the dose is {preparation.dose_mg:g} mg; it must be {dose:g} mg",
            "preparation.dose_mg",
        )
    _check_diluent(preparation, protocol)
    diluted_on = preparation.diluted_at.astimezone(tz).date()
    if diluted_on > preparation.vial_expiry:
        raise WorkflowRefused(
            PREPARATION_EXPIRED.id,
            f"vial lot {preparation.vial_lot} expired on {preparation.vial_expiry.isoformat()}, "
            f"before the dilution on {diluted_on.isoformat()}",
            "preparation.vial_expiry",
        )
    check_intact(frozen=preparation.frozen, shaken=preparation.shaken)
    check_usable(preparation, preparation.last_recorded_at, protocol)


def check_intact(*, frozen: bool, shaken: bool) -> None:
    """Refuse with ``preparation.frozen-or-shaken`` a bag that was frozen or shaken."""
    if frozen or shaken:
        what = " and ".join(w for w, flag in (("frozen", frozen), ("shaken", shaken)) if flag)
        raise WorkflowRefused(
            PREPARATION_FROZEN_OR_SHAKEN.id,
            f"the preparation was {what}; discard it and prepare a new one",
        )


def _check_diluent(preparation: Preparation, protocol: Protocol) -> None:
    if normalized_diluent(preparation.diluent) is None:
        raise WorkflowRefused(
            PREPARATION_DILUENT.id,
            f"'{preparation.diluent}' is not 0.9 % sodium chloride; no other solvent may be used",
            "preparation.diluent",
        )
    volume = protocol.number("diluent_volume")
    if preparation.volume_ml != volume:
        raise WorkflowRefused(
            PREPARATION_DILUENT.id,
            f"the volume is {preparation.volume_ml:g} mL; it must be exactly {volume:g} mL",
            "preparation.volume_ml",
        )


def _limit_passed(preparation: Preparation, at: datetime, protocol: Protocol) -> str | None:
    """Which stability limit ``at`` is past, in plain words; ``None`` if neither."""
    total_limit = protocol.interval("stability_total")
    elapsed = at - preparation.diluted_at
    if elapsed > total_limit.as_timedelta():
        return f"diluted {in_words(elapsed)} ago; usable for {total_limit} after dilution"
    room_limit = protocol.interval("stability_room_temperature")
    spent = room_temperature_time(preparation, at)
    if spent > room_limit.as_timedelta():
        return f"{in_words(spent)} at room temperature; usable for {room_limit} at room temperature"
    return None
