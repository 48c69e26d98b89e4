"""The HL7 v2 lab-results endpoint shared by the MLLP listener and ``POST /hl7``.

It runs the lab-feed use case and encodes its answer as an ER7 ACK, so both
transports answer a message identically.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from natalizumab_cds.application.lab_feed import LabFeed
from natalizumab_cds.application.lab_messages import Ack, ErrorCode
from natalizumab_cds.interop.hl7v2.ack import encode_ack
from natalizumab_cds.interop.hl7v2.errors import rejected
from natalizumab_cds.interop.hl7v2.header import guess_header
from natalizumab_cds.interop.hl7v2.message import normalise


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Hl7Endpoint:
    """Bytes of one message in, ``(Ack, ER7 ACK text)`` out; implements ``MessageHandler``."""

    def __init__(
        self,
        feed: LabFeed,
        clock: Callable[[], datetime] = _utc_now,
        max_message_bytes: int = 1_048_576,
    ) -> None:
        self.feed = feed
        self.max_message_bytes = max_message_bytes
        self._clock = clock

    def receive(self, raw: bytes) -> tuple[Ack, str]:
        ack = self.feed.receive_lab_message(raw)
        return ack, encode_ack(ack, self._clock())

    def receive_many(self, raws: Sequence[bytes]) -> list[tuple[Ack, str]]:
        """Messages that arrived together, applied in one commit; each answered."""
        now = self._clock()
        return [(ack, encode_ack(ack, now)) for ack in self.feed.receive_many(raws)]

    def refuse_oversized(self, prefix: bytes, limit: int) -> tuple[Ack, str]:
        """AR for a message over ``limit`` bytes; the part read is kept as a dead letter."""
        header = guess_header(normalise(prefix.decode("latin-1")))
        rejection = rejected(
            f"the message is larger than {limit} bytes and was not read; "
            f"the first {len(prefix)} bytes are kept",
            ErrorCode.DATA_TYPE,
            "",
            header,
        )
        ack = self.feed.refuse(prefix, rejection)
        return ack, encode_ack(ack, self._clock())

    # MessageHandler (MLLP): bytes in, bytes out.
    def handle_many(self, raws: Sequence[bytes]) -> list[bytes]:
        return [text.encode("utf-8") for _, text in self.receive_many(raws)]

    def oversized(self, prefix: bytes, limit: int) -> bytes:
        return self.refuse_oversized(prefix, limit)[1].encode("utf-8")
