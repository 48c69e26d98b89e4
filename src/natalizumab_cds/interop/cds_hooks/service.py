"""The CDS Hooks service: a hook call in, cards out; feedback in, recorded.

A call is answered in five steps: parse the request (400 on anything that is
not a hook request for a hook we serve), decide what it is about and when
(``focus``), gather the record from the prefetch and fetch what is missing
(412 if it cannot be had), read it into a timeline and assess it with the
domain, render the cards. The translation between wire and domain lives here,
in ``interop``, because it needs the FHIR reader; the ports it uses (replay
cache, feedback log) are the application's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, tzinfo

import orjson
from pydantic import ValidationError

from natalizumab_cds.application.cds_hooks import (
    CardFeedback,
    FeedbackLog,
    FeedbackOutcome,
    record_feedback,
)
from natalizumab_cds.domain.assessment import assess, assess_next_infusion
from natalizumab_cds.domain.protocol import Protocol
from natalizumab_cds.interop.cds_hooks.cards import render_cards
from natalizumab_cds.interop.cds_hooks.discovery import discovery
from natalizumab_cds.interop.cds_hooks.errors import BadHookRequest
from natalizumab_cds.interop.cds_hooks.fetch import FhirFetcher
from natalizumab_cds.interop.cds_hooks.focus import focus_of
from natalizumab_cds.interop.cds_hooks.prefetch import Record, read_prefetch
from natalizumab_cds.interop.cds_hooks.tokens import Caller, TokenVerifier
from natalizumab_cds.interop.cds_hooks.wire import (
    CONTEXTS,
    CdsResponse,
    Discovery,
    Feedback,
    FeedbackRequest,
    Hook,
    HookRequest,
    PatientContext,
    describe,
)
from natalizumab_cds.interop.fhir.reader import read_resources


class CdsHooksService:
    def __init__(
        self,
        protocol: Protocol,
        tz: tzinfo,
        verifier: TokenVerifier,
        fetcher: FhirFetcher,
        feedback_log: FeedbackLog,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        audience: str = "",
        max_body_bytes: int = 16_777_216,
    ) -> None:
        #: This service's base URL as the EHR names it in ``aud`` ("" = the URL called).
        self.audience = audience
        self.max_body_bytes = max_body_bytes
        self.protocol = protocol
        self.tz = tz
        self.verifier = verifier
        self.fetcher = fetcher
        self.feedback_log = feedback_log
        self.clock = clock

    def discovery(self) -> Discovery:
        return discovery()

    async def authenticate(self, authorization: str | None, audiences: Sequence[str]) -> Caller:
        return await self.verifier.verify(authorization, audiences)

    async def call(self, body: bytes) -> CdsResponse:
        """The cards for one hook call (see the module docstring for the steps)."""
        request = parse_request(body)
        hook, context = parse_context(request)
        focus = focus_of(hook, context, self.protocol)
        if not focus.concerns_natalizumab:
            return CdsResponse(cards=[])
        record = Record(context.patient_id)
        pending = read_prefetch(request.prefetch, record)
        if pending:
            token = request.fhir_authorization.access_token if request.fhir_authorization else None
            await self.fetcher.complete(record, pending, request.fhir_server, token)
        timeline = read_resources(record.resources(), self.protocol)
        at = focus.planned or self.clock()
        assessment = assess(timeline, self.protocol, at, self.tz)
        if hook is Hook.PATIENT_VIEW:  # a chart opened between infusions: the next one
            assessment = assess_next_infusion(timeline, self.protocol, assessment, self.tz)
        show_warnings = hook is Hook.PATIENT_VIEW
        return CdsResponse(
            cards=render_cards(assessment, self.protocol, self.tz, show_warnings=show_warnings)
        )

    async def feedback(self, body: bytes, caller: Caller) -> int:
        """Record the EHR's feedback on cards; returns how many items were stored."""
        try:
            request = FeedbackRequest.model_validate_json(body)
        except ValidationError as error:
            raise BadHookRequest(describe(error, "the feedback request")) from None
        received = self.clock()
        items = [card_feedback(item, received, caller.issuer) for item in request.feedback]
        return await asyncio.to_thread(record_feedback, self.feedback_log, items)


def parse_request(body: bytes) -> HookRequest:
    """The request envelope, validated; the FHIR inside is checked where it is read.

    orjson first: pydantic's own JSON parsing of a large prefetch costs several
    times more, and the resources are plain JSON to the FHIR reader anyway.
    """
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise BadHookRequest(f"the hook request is not valid JSON ({error})") from None
    try:
        return HookRequest.model_validate(data)
    except ValidationError as error:
        raise BadHookRequest(describe(error, "the hook request")) from None


def parse_context(request: HookRequest) -> tuple[Hook, PatientContext]:
    try:
        hook = Hook(request.hook)
    except ValueError:
        served = ", ".join(h.value for h in Hook)
        raise BadHookRequest(
            f"hook {request.hook!r} is not served here (served: {served})"
        ) from None
    try:
        return hook, CONTEXTS[hook].model_validate(request.context)
    except ValidationError as error:
        raise BadHookRequest(describe(error, f"the {hook} context")) from None


def card_feedback(item: Feedback, received: datetime, client: str) -> CardFeedback:
    override = item.override_reason
    reason = override.reason if override is not None else None
    return CardFeedback(
        card=item.card,
        outcome=FeedbackOutcome(item.outcome.value),
        outcome_at=item.outcome_timestamp,
        received_at=received,
        client=client,
        accepted_suggestions=tuple(s.id for s in item.accepted_suggestions or ()),
        override_system=reason.system if reason else None,
        override_code=reason.code if reason else None,
        override_display=reason.display if reason else None,
        user_comment=override.user_comment if override else None,
    )
