"""``/lab-messages``: lab messages that were not filed, for physicians and nurses to resolve.

The page is ``/api/lab-messages`` in HTML (the same use case, permission and
audit; docs/hl7.md "Dead letters"): each kept message with whom it is about
(the MRN in PID-3 and, when someone on file has it, their name linking to their
page), the tests it carries (by name, the LOINC code beside), why it was not
applied and the message as received, a *Retry* button (once the patient is on
file) and a *Discard* form that needs a reason. The worklist says how many wait.

Only one reason is kept per message: the reader stops at the first problem, and
a retry replaces the reason with the one it met (each retry's is audited).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from natalizumab_cds.api.dependencies import ClinicDep
from natalizumab_cds.api.lab_messages import LetterId, lab_messages, message_segments
from natalizumab_cds.application.clinic import Clinic
from natalizumab_cds.application.lab_feed import LabFeed
from natalizumab_cds.application.lab_messages import (
    AckCode,
    DeadLetter,
    DeadLetterRefused,
    UnknownDeadLetter,
)
from natalizumab_cds.application.records import PatientEntry
from natalizumab_cds.application.security.permissions import Action, Principal
from natalizumab_cds.domain.timeline import ANALYTE_NAMES
from natalizumab_cds.interop.hl7v2.outline import NamedTest, outline
from natalizumab_cds.web.pages import PageRefused, page_requires, render

router = APIRouter(include_in_schema=False)
Resolver = Annotated[Principal, page_requires(Action.RESOLVE_LAB_MESSAGES)]
SHOWN = 200


@dataclass(frozen=True, slots=True)
class Test:
    """A test as the row names it: ``name`` and, beside it, ``code`` (``LOINC 1742-6``)."""

    name: str
    code: str
    filed: bool  # one of the tests the feed files


@dataclass(frozen=True, slots=True)
class Row:
    """One kept message: the letter, whom it is about and what it carries."""

    letter: DeadLetter
    segments: list[str]
    mrn: str
    patients: tuple[PatientEntry, ...]  # on file with ``mrn`` (two or more: a clash)
    tests: tuple[Test, ...]


def _test(named: NamedTest) -> Test:
    system = "LOINC" if named.system.upper() == "LN" else (named.system or "no coding system")
    code = f"{system} {named.code}"
    if named.analyte is not None:
        return Test(ANALYTE_NAMES[named.analyte], code, filed=True)
    return Test(named.text or "Test not named", code, filed=False)


def _rows(clinic: Clinic, feed: LabFeed, letters: list[DeadLetter]) -> list[Row]:
    """The letters as rows, each with its MRN, the patients on file with it, and its tests."""
    outlines = [outline(letter.raw) for letter in letters]
    owners = feed.patients_with_mrns({seen.mrn for seen in outlines} - {""})
    # each name shown is an audited read of that patient's entry; gone since: MRN alone
    entries = clinic.patients.entries([p for ids in owners.values() for p in ids])
    return [
        Row(
            letter,
            message_segments(letter.raw),
            seen.mrn,
            tuple(entries[p] for p in owners.get(seen.mrn, []) if p in entries),
            tuple(_test(test) for test in seen.tests),
        )
        for letter, seen in zip(letters, outlines, strict=True)
    ]


def _page(
    request: Request,
    principal: Principal,
    clinic: Clinic,
    *,
    everything: bool = False,
    notice: str = "",
    errors: dict[int, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    feed = lab_messages(request, principal)
    letters = feed.dead_letters(None if everything else "open", SHOWN)
    context = {
        "rows": _rows(clinic, feed, letters),
        "everything": everything,
        "notice": notice,
        "errors": errors or {},
        "shown": SHOWN,
    }
    return render(request, "lab_messages.html", context, status=status, active="lab-messages")


@router.get("/lab-messages", response_class=HTMLResponse)
def lab_messages_page(
    request: Request,
    principal: Resolver,
    clinic: ClinicDep,
    show: str = "open",
    retried: int | None = None,
    applied: bool = False,
    discarded: int | None = None,
) -> HTMLResponse:
    """Open kept messages (``?show=all``: every one), newest first."""
    notice = ""
    if retried is not None:
        notice = (
            f"Message {retried} applied: its results are in the patient's record."
            if applied
            else f"Message {retried} still could not be applied; the reason is below."
        )
    elif discarded is not None:
        notice = f"Message {discarded} discarded; it stays on file with the reason."
    return _page(request, principal, clinic, everything=show == "all", notice=notice)


def _refusal(error: DeadLetterRefused) -> PageRefused:
    status = 404 if isinstance(error, UnknownDeadLetter) else 409
    return PageRefused(status, "Lab message not changed", str(error))


@router.post("/lab-messages/{letter_id}/retry")
def retry(request: Request, principal: Resolver, letter_id: LetterId) -> Response:
    """Apply the kept message again; back to the list with how it went."""
    try:
        ack = lab_messages(request, principal).retry_dead_letter(letter_id)
    except DeadLetterRefused as error:
        raise _refusal(error) from error
    applied = "true" if ack.code is AckCode.ACCEPT else "false"
    return RedirectResponse(f"/lab-messages?retried={letter_id}&applied={applied}", 303)


@router.post("/lab-messages/{letter_id}/discard", response_class=HTMLResponse)
def discard(
    request: Request,
    principal: Resolver,
    clinic: ClinicDep,
    letter_id: LetterId,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Close a kept message that needs no action, with the reason (required)."""
    if not reason.strip():
        errors = {letter_id: "Say why this message needs no action, e.g. a test message."}
        return _page(request, principal, clinic, errors=errors, status=422)
    try:
        lab_messages(request, principal).discard_dead_letter(letter_id, reason)
    except DeadLetterRefused as error:
        raise _refusal(error) from error
    return RedirectResponse(f"/lab-messages?discarded={letter_id}", 303)
