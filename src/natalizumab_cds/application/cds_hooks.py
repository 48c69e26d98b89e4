"""CDS Hooks use cases and the ports they need: the token replay cache and the feedback log.

Both must be shared by every process that serves the API (ARCHITECTURE.md,
Scale), so production wires the SQL implementations in
``persistence/cds_hooks_store.py``; tests use in-memory fakes.

Feedback is the EHR telling us what a clinician did with a card (accepted a
suggestion, or overrode the card with a reason). It is recorded for review and
for the clinic's safety report; it changes no assessment: the binding record of
an override is the DetectedIssue the EHR stores in the patient's record.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class ReplayCache(Protocol):
    def first_use(self, issuer: str, jti: str, expires_at: datetime, now: datetime) -> bool:
        """Remember ``(issuer, jti)`` until ``expires_at``; False if it is already remembered.

        Atomic across processes: of two concurrent calls with the same pair exactly
        one gets True. Pairs whose ``expires_at`` is before ``now`` may be forgotten.
        """
        ...

    def first_use_at_once(
        self, issuer: str, jti: str, expires_at: datetime, now: datetime
    ) -> bool | None:
        """``first_use``'s answer if it can be had without waiting, else None.

        Without waiting means: no wait for another writer's lock, no network round
        trip. On None the caller asks ``first_use`` where waiting does no harm (a
        thread, not the event loop).
        """
        ...


class FeedbackOutcome(StrEnum):
    ACCEPTED = "accepted"
    OVERRIDDEN = "overridden"


@dataclass(frozen=True, slots=True)
class CardFeedback:
    """What a clinician did with one card, as the EHR reported it."""

    card: str
    outcome: FeedbackOutcome
    outcome_at: datetime
    received_at: datetime
    client: str  # the EHR (token issuer) that reported it
    accepted_suggestions: tuple[str, ...] = ()
    override_system: str | None = None
    override_code: str | None = None
    override_display: str | None = None
    user_comment: str | None = None


class FeedbackLog(Protocol):
    def record(self, feedback: Sequence[CardFeedback]) -> None:
        """Store every item, all or none."""
        ...

    def for_card(self, card: str) -> list[CardFeedback]:
        """Everything reported about one card, oldest first."""
        ...


def record_feedback(log: FeedbackLog, feedback: Sequence[CardFeedback]) -> int:
    """Record the EHR's feedback; returns how many items were stored."""
    if feedback:
        log.record(feedback)
    return len(feedback)
