"""``/api/lab-messages``: the HL7 lab messages that were not applied, for a clinician to resolve.

A message answered ``AE`` or ``AR`` (no patient with that MRN, a unit that
cannot be read, not an ORU^R01 …) is kept as a dead letter (docs/hl7.md). A
result kept there is in no patient's record, so no rule sees it: an ALT of
three times the limit filed under a mistyped MRN would not hold anyone. These
routes let the people allowed to (``resolve-lab-messages``: physicians and
nurses; the letters hold patient data) see them, retry one once its patient is
on file, or discard it with a reason. Every listing, showing, retry and discard
is audited. The same use case serves ``ntz hl7 dead-letters`` and the web page.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from natalizumab_cds import bootstrap
from natalizumab_cds.api.access import require
from natalizumab_cds.application.lab_feed import LabFeed
from natalizumab_cds.application.lab_messages import (
    DeadLetter,
    DeadLetterClosed,
    DeadLetterRefused,
    UnknownDeadLetter,
)
from natalizumab_cds.application.security.permissions import Action, Principal
from natalizumab_cds.interop.hl7v2.outline import outline

router = APIRouter(prefix="/api/lab-messages", tags=["hl7"])
RESOLVE = require(Action.RESOLVE_LAB_MESSAGES)
Status = Literal["open", "resolved", "discarded", "all"]
LetterId = Annotated[int, Path(ge=1, le=2**62, description="The dead letter's number")]


def lab_messages(request: Request, principal: Annotated[Principal, RESOLVE]) -> LabFeed:
    """The lab feed, audited under the caller and ``resolve-lab-messages``."""
    return bootstrap.lab_feed(request.app.state.clinic, principal, Action.RESOLVE_LAB_MESSAGES)


FeedDep = Annotated[LabFeed, Depends(lab_messages)]


class LabTestOut(BaseModel):
    code: str = Field(description="OBX-3 code as sent (the LOINC coding when it has one)")
    system: str = Field(description="Its coding system as sent, e.g. LN")
    text: str = Field(description="The laboratory's name for the test")
    analyte: str | None = Field(description="The analyte the feed files it as; null if none")


class LabMessageOut(BaseModel):
    id: int
    received_at: datetime
    code: str = Field(description="The answer the laboratory got: AE or AR")
    reason: str
    sender: str = Field(description="MSH-3^MSH-4, when the header could be read")
    control_id: str = Field(description="MSH-10, when the header could be read")
    attempts: int
    status: str = Field(description="open, resolved or discarded")
    resolution: str
    mrn: str = Field(description="PID-3 (the MR repetition, else the first); '' if unreadable")
    tests: list[LabTestOut] = Field(description="The OBX tests, in order, as far as readable")

    @classmethod
    def of(cls, letter: DeadLetter) -> LabMessageOut:
        seen = outline(letter.raw)
        return cls(
            id=letter.id,
            received_at=letter.received_at,
            code=str(letter.code),
            reason=letter.reason,
            sender=letter.sender,
            control_id=letter.control_id,
            attempts=letter.attempts,
            status=letter.status,
            resolution=letter.resolution,
            mrn=seen.mrn,
            tests=[
                LabTestOut(
                    code=t.code,
                    system=t.system,
                    text=t.text,
                    analyte=t.analyte.value if t.analyte else None,
                )
                for t in seen.tests
            ],
        )


class LabMessageDetailOut(LabMessageOut):
    segments: list[str] = Field(description="The message as received, one segment per item")

    @classmethod
    def of(cls, letter: DeadLetter) -> LabMessageDetailOut:
        return cls(
            **LabMessageOut.of(letter).model_dump(),
            segments=message_segments(letter.raw),
        )


class RetryOut(BaseModel):
    code: str = Field(description="AA when the results are now in the record, else AE or AR")
    text: str
    resolved: bool


class DiscardIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000, description="Why no action is needed")


def message_segments(raw: bytes) -> list[str]:
    """The kept bytes as readable segments (never fails: bad bytes are shown as such)."""
    text = raw.decode("utf-8", "replace")
    return [s for s in text.replace("\r\n", "\r").replace("\n", "\r").split("\r") if s]


def _refused(error: DeadLetterRefused) -> HTTPException:
    if isinstance(error, UnknownDeadLetter):
        return HTTPException(404, str(error))
    return HTTPException(409 if isinstance(error, DeadLetterClosed) else 422, str(error))


@router.get("", response_model=list[LabMessageOut], dependencies=[RESOLVE])
async def listed(
    feed: FeedDep,
    status: Annotated[Status, Query(description="Which letters")] = "open",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[LabMessageOut]:
    """Lab messages kept because they were not applied, newest first."""
    letters = await run_in_threadpool(feed.dead_letters, None if status == "all" else status, limit)
    return [LabMessageOut.of(letter) for letter in letters]


@router.get("/{letter_id}", response_model=LabMessageDetailOut, dependencies=[RESOLVE])
async def shown(feed: FeedDep, letter_id: LetterId) -> LabMessageDetailOut:
    """One kept message: why it was not applied, and the message as received."""
    letter = await run_in_threadpool(feed.dead_letter, letter_id)
    if letter is None:
        raise HTTPException(404, f"dead letter {letter_id} does not exist")
    return LabMessageDetailOut.of(letter)


@router.post("/{letter_id}/retry", response_model=RetryOut, dependencies=[RESOLVE])
async def retried(feed: FeedDep, letter_id: LetterId) -> RetryOut:
    """Apply the message again (e.g. once its patient is on file); resolved if applied."""
    try:
        ack = await run_in_threadpool(feed.retry_dead_letter, letter_id)
    except DeadLetterRefused as error:
        raise _refused(error) from error
    return RetryOut(code=str(ack.code), text=ack.text, resolved=ack.dead_letter is None)


@router.post("/{letter_id}/discard", response_model=LabMessageOut, dependencies=[RESOLVE])
async def discarded(feed: FeedDep, letter_id: LetterId, body: DiscardIn) -> LabMessageOut:
    """Close a message that needs no action; it is kept, with the reason."""
    try:
        await run_in_threadpool(feed.discard_dead_letter, letter_id, body.reason)
    except DeadLetterRefused as error:
        raise _refused(error) from error
    letter = await run_in_threadpool(feed.dead_letter, letter_id)
    assert letter is not None  # it was there a moment ago, and letters are never deleted
    return LabMessageOut.of(letter)
