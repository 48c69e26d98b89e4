"""The CDS Hooks 2.0 wire format as typed models: discovery, requests, cards, feedback, errors.

Everything that crosses the wire is declared here and nowhere else, so moving to
CDS Hooks 3.0 is a change to this module: field names follow the specification
(camelCase on the wire, snake_case in Python), unknown request fields are kept
(extensions), and responses leave out absent optional fields. The error
documents (RFC 7807 problem details today, FHIR OperationOutcome as CDS Hooks
3.0 asks) are built by ``error_document`` only.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

SUMMARY_MAX = 140
FHIR_ID = r"^[A-Za-z0-9\-.]{1,64}$"
JsonObject = dict[str, Any]


class WireModel(BaseModel):
    """camelCase on the wire; requests keep unknown fields (CDS Hooks extensions)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow")

    def wire(self) -> JsonObject:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class Hook(StrEnum):
    PATIENT_VIEW = "patient-view"
    ORDER_SIGN = "order-sign"
    APPOINTMENT_BOOK = "appointment-book"
    MEDICATION_PRESCRIBE = "medication-prescribe"  # CDS Hooks 1.x; kept as an alias


class Indicator(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    OVERRIDDEN = "overridden"


# --- discovery ------------------------------------------------------------------------


class ServiceDescription(WireModel):
    hook: Hook
    id: str
    title: str
    description: str
    prefetch: dict[str, str] = Field(default_factory=dict)
    usage_requirements: str | None = None
    extension: JsonObject | None = None


class Discovery(WireModel):
    services: list[ServiceDescription]


# --- requests -------------------------------------------------------------------------


class FhirAuthorization(BaseModel):
    """OAuth 2.0 details for the EHR's FHIR server (snake_case on the wire, as specified)."""

    model_config = ConfigDict(extra="allow")

    access_token: str = Field(min_length=1)
    token_type: str = "Bearer"
    expires_in: int | None = None
    scope: str | None = None
    subject: str | None = None
    patient: str | None = None


class HookRequest(WireModel):
    hook: str
    hook_instance: str = Field(min_length=1)
    fhir_server: str | None = None
    fhir_authorization: FhirAuthorization | None = None
    context: JsonObject
    prefetch: dict[str, JsonObject | None] | None = None

    @model_validator(mode="after")
    def _authorization_needs_server(self) -> HookRequest:
        if self.fhir_authorization is not None and not self.fhir_server:
            raise ValueError("fhirAuthorization is given but fhirServer is not")
        return self


class PatientContext(WireModel):
    user_id: str | None = None
    patient_id: Annotated[str, Field(pattern=FHIR_ID)]
    encounter_id: str | None = None


class FhirBundle(WireModel):
    """A Bundle as it appears in a hook's context (draft orders, appointments)."""

    resource_type: Literal["Bundle"]
    entry: list[JsonObject] = Field(default_factory=list)

    def resources(self) -> list[JsonObject]:
        found = []
        for index, entry in enumerate(self.entry):
            resource = entry.get("resource")
            if not isinstance(resource, dict):
                raise ValueError(f"entry[{index}].resource must be a FHIR resource object")
            found.append(resource)
        return found


class OrderSignContext(PatientContext):
    draft_orders: FhirBundle


class MedicationPrescribeContext(PatientContext):
    medications: FhirBundle


class AppointmentBookContext(PatientContext):
    appointments: FhirBundle


CONTEXTS: dict[Hook, type[PatientContext]] = {
    Hook.PATIENT_VIEW: PatientContext,
    Hook.ORDER_SIGN: OrderSignContext,
    Hook.MEDICATION_PRESCRIBE: MedicationPrescribeContext,
    Hook.APPOINTMENT_BOOK: AppointmentBookContext,
}


# --- cards ----------------------------------------------------------------------------


class Coding(WireModel):
    system: str | None = Field(default=None, max_length=500)
    code: str = Field(max_length=200)
    display: str | None = Field(default=None, max_length=2000)


class Source(WireModel):
    label: str
    url: str | None = None
    icon: str | None = None
    topic: Coding | None = None


class Action(WireModel):
    type: Literal["create", "update", "delete"]
    description: str
    resource: JsonObject | None = None
    resource_id: str | None = None


class Suggestion(WireModel):
    label: str
    uuid: str | None = None
    is_recommended: bool | None = None
    actions: list[Action] = Field(default_factory=list)


class Link(WireModel):
    label: str
    url: str
    type: Literal["absolute", "smart"]
    app_context: str | None = None


class Card(WireModel):
    uuid: str | None = None
    summary: str = Field(max_length=SUMMARY_MAX)
    detail: str | None = None
    indicator: Indicator
    source: Source
    suggestions: list[Suggestion] | None = None
    selection_behavior: Literal["at-most-one", "any"] | None = None
    override_reasons: list[Coding] | None = None
    links: list[Link] | None = None

    @model_validator(mode="after")
    def _suggestions_need_selection_behavior(self) -> Card:
        if self.suggestions and self.selection_behavior is None:
            raise ValueError("a card with suggestions needs a selectionBehavior")
        return self


class CdsResponse(WireModel):
    cards: list[Card]
    system_actions: list[Action] | None = None


# --- feedback -------------------------------------------------------------------------


class OverrideReason(WireModel):
    reason: Coding | None = None
    user_comment: str | None = Field(default=None, max_length=10_000)


class AcceptedSuggestion(WireModel):
    id: str = Field(max_length=200)


class Feedback(WireModel):
    card: str = Field(min_length=1, max_length=200)
    outcome: Outcome
    accepted_suggestions: list[AcceptedSuggestion] | None = None
    override_reason: OverrideReason | None = None
    outcome_timestamp: AwareDatetime

    @field_validator("card")
    @classmethod
    def _bare_uuid(cls, value: str) -> str:
        return value.removeprefix("urn:uuid:")


class FeedbackRequest(WireModel):
    feedback: list[Feedback] = Field(min_length=1, max_length=1000)


# --- errors ---------------------------------------------------------------------------

PROBLEM_MEDIA_TYPE = "application/problem+json"
FHIR_MEDIA_TYPE = "application/fhir+json"
_ISSUE_CODES = {400: "invalid", 401: "login", 404: "not-found", 412: "incomplete", 413: "too-long"}


def error_document(
    status: int, title: str, detail: str, accept: str = ""
) -> tuple[str, JsonObject]:
    """The media type and body of an error answer.

    RFC 7807 problem details by default; a client that asks for FHIR JSON (as CDS
    Hooks 3.0 does) gets an OperationOutcome carrying the same words.
    """
    if FHIR_MEDIA_TYPE in accept:
        issue = {
            "severity": "error",
            "code": _ISSUE_CODES.get(status, "processing"),
            "diagnostics": detail,
            "details": {"text": title},
        }
        return FHIR_MEDIA_TYPE, {"resourceType": "OperationOutcome", "issue": [issue]}
    return PROBLEM_MEDIA_TYPE, {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
    }


def describe(error: ValidationError, what: str) -> str:
    """A pydantic validation error as one readable sentence naming the fields."""
    problems = []
    for item in error.errors(include_url=False)[:5]:
        location = ".".join(str(part) for part in item["loc"])
        problems.append(f"{location}: {item['msg']}" if location else item["msg"])
    more = error.error_count() - len(problems)
    suffix = f" (and {more} more)" if more > 0 else ""
    return f"{what} is not valid: " + "; ".join(problems) + suffix
