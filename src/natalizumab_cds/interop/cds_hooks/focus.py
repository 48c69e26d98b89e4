"""What a hook call is about: whether it concerns natalizumab, and the moment to assess.

- ``patient-view``: always, at the time of the call; between infusions (the next
  one due after today) at that due date instead, see ``next_infusion_moment``.
- ``order-sign`` (and its deprecated alias ``medication-prescribe``): only when a
  draft order is for natalizumab (a MedicationRequest or ServiceRequest coded
  with the protocol's natalizumab value set, or naming natalizumab / Tysabri);
  at the earliest planned time of those orders, else the time of the call.
  Other orders get no cards: the service has nothing to say about them.
- ``appointment-book``: the EHR registers the service for infusion
  appointments; at the earliest appointment start, else the time of the call.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from natalizumab_cds.domain.protocol import Protocol, ValueSet
from natalizumab_cds.interop.cds_hooks.errors import BadHookRequest
from natalizumab_cds.interop.cds_hooks.wire import (
    AppointmentBookContext,
    FhirBundle,
    Hook,
    MedicationPrescribeContext,
    OrderSignContext,
    PatientContext,
)
from natalizumab_cds.interop.fhir.dates import parse_datetime
from natalizumab_cds.interop.fhir.fields import (
    MALFORMED,
    JsonObject,
    codings,
    concept_text,
    get_list,
    get_object,
    get_str,
)

NATALIZUMAB_NAMES = ("natalizumab", "tysabri")


@dataclass(frozen=True, slots=True)
class Focus:
    concerns_natalizumab: bool
    planned: datetime | None = None


def focus_of(hook: Hook, context: PatientContext, protocol: Protocol) -> Focus:
    try:
        return _focus(hook, context, protocol.value_set("natalizumab"))
    except MALFORMED as error:
        raise BadHookRequest(f"context: malformed FHIR ({type(error).__name__}: {error})") from None


def _focus(hook: Hook, context: PatientContext, natalizumab: ValueSet) -> Focus:
    if isinstance(context, OrderSignContext | MedicationPrescribeContext):
        bundle = (
            context.draft_orders if isinstance(context, OrderSignContext) else context.medications
        )
        orders = _natalizumab_orders(bundle, natalizumab)
        if not orders:
            return Focus(concerns_natalizumab=False)
        return Focus(True, _earliest(t for ref, order in orders for t in _order_times(ref, order)))
    if isinstance(context, AppointmentBookContext):
        starts = []
        for ref, resource in _resources(context.appointments, "appointments"):
            if resource.get("resourceType") == "Appointment" and "start" in resource:
                starts.append(parse_datetime(ref, "start", resource["start"]))
        return Focus(True, _earliest(starts))
    return Focus(True)


def _resources(bundle: FhirBundle, name: str) -> Iterator[tuple[str, JsonObject]]:
    try:
        resources = bundle.resources()
    except ValueError as error:
        raise BadHookRequest(f"context.{name}: {error}") from None
    for index, resource in enumerate(resources):
        kind, identity = resource.get("resourceType"), resource.get("id")
        yield f"{kind}/{identity}" if identity else f"context.{name}.entry[{index}]", resource


def _natalizumab_orders(bundle: FhirBundle, natalizumab: ValueSet) -> list[tuple[str, JsonObject]]:
    resources = list(_resources(bundle, "draftOrders"))
    medications = {
        ref: resource for ref, resource in resources if resource.get("resourceType") == "Medication"
    }
    found = []
    for ref, resource in resources:
        kind = resource.get("resourceType")
        if kind == "MedicationRequest":
            concepts = _medication_concepts(ref, resource, medications)
        elif kind == "ServiceRequest":
            concepts = [(get_object(ref, resource, "code"), "code")]
        else:
            continue
        if any(_is_natalizumab(ref, concept, path, natalizumab) for concept, path in concepts):
            found.append((ref, resource))
    return found


def _medication_concepts(
    ref: str, request: JsonObject, medications: Mapping[str, JsonObject]
) -> list[tuple[JsonObject | None, str]]:
    concepts: list[tuple[JsonObject | None, str]] = [
        (get_object(ref, request, "medicationCodeableConcept"), "medicationCodeableConcept")
    ]
    reference = get_object(ref, request, "medicationReference")
    if reference is None:
        return concepts
    concepts.append(
        (
            {"text": get_str(ref, reference, "display", "medicationReference") or ""},
            "medicationReference",
        )
    )
    target = get_str(ref, reference, "reference", "medicationReference") or ""
    contained = {
        f"#{item.get('id')}": item
        for item in get_list(ref, request, "contained")
        if isinstance(item, Mapping)
    }
    medication = contained.get(target) or medications.get(target)
    if medication is not None:
        concepts.append((get_object(ref, medication, "code"), "medicationReference→code"))
    return concepts


def _is_natalizumab(ref: str, concept: JsonObject | None, path: str, natalizumab: ValueSet) -> bool:
    if concept is None:
        return False
    if natalizumab.first_match(codings(ref, concept, path)) is not None:
        return True
    text = concept_text(ref, concept, path).casefold()
    return any(name in text for name in NATALIZUMAB_NAMES)


def _order_times(ref: str, order: JsonObject) -> Iterator[datetime]:
    """When the ordered infusion is planned: dosage timing, or the request's occurrence."""
    if "occurrenceDateTime" in order:
        yield parse_datetime(ref, "occurrenceDateTime", order["occurrenceDateTime"])
    period = get_object(ref, order, "occurrencePeriod")
    if period is not None and "start" in period:
        yield parse_datetime(ref, "occurrencePeriod.start", period["start"])
    timings: list[tuple[Any, str]] = [(order.get("occurrenceTiming"), "occurrenceTiming")]
    for index, dosage in enumerate(get_list(ref, order, "dosageInstruction")):
        timings.append((dosage.get("timing"), f"dosageInstruction[{index}].timing"))
    for timing, path in timings:
        if isinstance(timing, Mapping):
            yield from _timing_starts(ref, timing, path)


def _timing_starts(ref: str, timing: JsonObject, path: str) -> Iterator[datetime]:
    for index, event in enumerate(get_list(ref, timing, "event", path)):
        yield parse_datetime(ref, f"{path}.event[{index}]", event)
    repeat = get_object(ref, timing, "repeat", path)
    bounds = get_object(ref, repeat, "boundsPeriod", f"{path}.repeat") if repeat else None
    if bounds is not None and "start" in bounds:
        yield parse_datetime(ref, f"{path}.repeat.boundsPeriod.start", bounds["start"])


def _earliest(moments: Iterator[datetime] | list[datetime]) -> datetime | None:
    return min(moments, default=None)
