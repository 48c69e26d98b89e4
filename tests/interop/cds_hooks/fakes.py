"""In-memory fakes of the CDS Hooks ports (replay cache, feedback log) for unit tests."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime

from natalizumab_cds.application.cds_hooks import CardFeedback


class MemoryReplayCache:
    def __init__(self) -> None:
        self.seen: dict[tuple[str, str], datetime] = {}
        self._lock = threading.Lock()

    def first_use(self, issuer: str, jti: str, expires_at: datetime, now: datetime) -> bool:
        with self._lock:
            known = self.seen.get((issuer, jti))
            if known is not None and known >= now:
                return False
            self.seen[(issuer, jti)] = expires_at
            return True

    def first_use_at_once(
        self, issuer: str, jti: str, expires_at: datetime, now: datetime
    ) -> bool | None:
        return self.first_use(issuer, jti, expires_at, now)  # memory never waits


class MemoryFeedbackLog:
    def __init__(self) -> None:
        self.items: list[CardFeedback] = []

    def record(self, feedback: Sequence[CardFeedback]) -> None:
        self.items.extend(feedback)

    def for_card(self, card: str) -> list[CardFeedback]:
        return [item for item in self.items if item.card == card]
