"""What happens at an infusion visit, one value per step, as the clinic records it.

Each value is immutable and refuses, on construction, what can never be read
as a step (``InvalidInput``): a date-time without a time zone, a blank name.
Whether a well-formed step is *allowed* is the workflow's question
(``domain/infusion.py``), answered with ``WorkflowRefused``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from natalizumab_cds.domain.errors import InvalidInput
from natalizumab_cds.domain.findings import Decision
from natalizumab_cds.domain.protocol import Match, Protocol
from natalizumab_cds.domain.timeline import Allergy, Coding


def require_aware(what: str, moment: datetime) -> None:
    """Every moment of the workflow is timezone-aware; a naive one is refused."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidInput(f"{what}: date-time {moment.isoformat()} has no time zone")


def require_text(what: str, value: str) -> None:
    if not value.strip():
        raise InvalidInput(f"{what}: must not be blank")


def stamp(moment: datetime) -> str:
    """``2026-11-24 10:46 UTC``: a moment in a reason, to the minute, in UTC.

    Reasons go to the API, the terminal and the pages alike; seconds and
    microseconds mean nothing at the chair, and the pages rewrite this form
    into the clinic's zone."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def in_words(duration: timedelta) -> str:
    """``8 h 0 min 1 s`` style, for reasons shown to the nurse."""
    seconds = int(duration.total_seconds())
    sign, seconds = ("-" if seconds < 0 else ""), abs(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours} h"] if hours else []
    if minutes or hours:
        parts.append(f"{minutes} min")
    if secs:
        parts.append(f"{secs} s")
    return sign + (" ".join(parts) or "0 min")


#: The screening questions as ``Screening`` names them, with their words for people.
SCREENING_QUESTIONS: dict[str, str] = {
    "neurological_symptoms": "Neurological symptoms",
    "active_infection": "Active infection",
    "pregnant": "Pregnant",
    "breastfeeding": "Breastfeeding",
    "new_medicines": "New medicines",
}


@dataclass(frozen=True, slots=True)
class Withdrawal:
    """An earlier "yes" at this visit that a later screening answered "no".

    Kept on every later screening of the visit, so the visit always shows what
    was said, by whom, and who took it back.
    """

    question: str  # a key of SCREENING_QUESTIONS
    answered_at: datetime
    answered_by: str
    withdrawn_at: datetime
    withdrawn_by: str

    def __post_init__(self) -> None:
        if self.question not in SCREENING_QUESTIONS:
            raise InvalidInput(
                f"withdrawal.question: {self.question!r} is not a screening question"
            )
        require_aware("withdrawal.answered_at", self.answered_at)
        require_aware("withdrawal.withdrawn_at", self.withdrawn_at)
        require_text("withdrawal.answered_by", self.answered_by)
        require_text("withdrawal.withdrawn_by", self.withdrawn_by)

    @property
    def label(self) -> str:
        return SCREENING_QUESTIONS[self.question]


@dataclass(frozen=True, slots=True)
class Screening:
    """The pre-infusion questions, answered by the patient, asked by ``screened_by``.

    The application records the answers as observations (``screen-*`` status
    kinds, pregnancy, breastfeeding) so that the assessment used for clearance
    sees them; ``new_medicines_detail`` names the medicines when there are any.
    ``withdrawn`` lists the earlier "yes" answers at the same visit that were
    answered "no" since (set by ``infusion.record_screening``).
    """

    at: datetime
    screened_by: str
    neurological_symptoms: bool
    active_infection: bool
    pregnant: bool
    breastfeeding: bool
    new_medicines: bool
    new_medicines_detail: str = ""
    withdrawn: tuple[Withdrawal, ...] = ()

    def __post_init__(self) -> None:
        require_aware("screening.at", self.at)
        require_text("screening.screened_by", self.screened_by)
        if self.new_medicines:
            require_text("screening.new_medicines_detail", self.new_medicines_detail)

    @property
    def concerns(self) -> tuple[str, ...]:
        """The answers that need a clinician's attention, in plain words."""
        answers = (
            (self.neurological_symptoms, "new or worsening neurological symptoms"),
            (self.active_infection, "active infection"),
            (self.pregnant, "pregnant"),
            (self.breastfeeding, "breastfeeding"),
            (self.new_medicines, f"new medicines: {self.new_medicines_detail.strip()}"),
        )
        return tuple(words for answer, words in answers if answer)

    @property
    def answers(self) -> tuple[tuple[str, str, bool], ...]:
        """Each question (key, words) and its answer, in the order they are asked."""
        return tuple(
            (name, label, self.answer(name)) for name, label in SCREENING_QUESTIONS.items()
        )

    def answer(self, question: str) -> bool:
        """The answer to one of ``SCREENING_QUESTIONS`` (by its key)."""
        return bool(getattr(self, question))


def withdrawals(earlier: Screening | None, later: Screening) -> tuple[Withdrawal, ...]:
    """The "yes" answers of ``earlier`` that ``later`` answers "no", in question order."""
    if earlier is None:
        return ()
    return tuple(
        Withdrawal(question, earlier.at, earlier.screened_by, later.at, later.screened_by)
        for question in SCREENING_QUESTIONS
        if earlier.answer(question) and not later.answer(question)
    )


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    """A clinician's acknowledgement of a ``caution`` decision."""

    by: str
    at: datetime

    def __post_init__(self) -> None:
        require_aware("acknowledgement.at", self.at)
        require_text("acknowledgement.by", self.by)


@dataclass(frozen=True, slots=True)
class Clearance:
    """Clearing the patient to infuse, on the decision of the assessment run at ``at``."""

    at: datetime
    cleared_by: str
    decision: Decision
    acknowledgement: Acknowledgement | None = None
    #: The screening named new medicines and ``cleared_by`` confirms they were
    #: reviewed against the prohibited list (``infusion.check_new_medicines``).
    medicines_reviewed: bool = False

    def __post_init__(self) -> None:
        require_aware("clearance.at", self.at)
        require_text("clearance.cleared_by", self.cleared_by)


class Method(StrEnum):
    """How the drug goes in; only an intravenous infusion is allowed."""

    INFUSION = "iv-infusion"
    PUSH = "iv-push"
    BOLUS = "iv-bolus"


@dataclass(frozen=True, slots=True)
class InfusionStart:
    """Starting the infusion.

    ``decision`` is the assessment's decision at ``at`` (the caller runs it
    again at the start: the catalogue asks for the assessment "at that
    moment"). ``found_frozen`` / ``found_shaken`` are the bedside inspection
    of the bag. The pump setting is given as ``rate_ml_per_hour``, as
    ``planned_duration``, or both; each is checked.
    """

    at: datetime
    started_by: str
    method: Method
    decision: Decision
    found_frozen: bool
    found_shaken: bool
    rate_ml_per_hour: float | None = None
    planned_duration: timedelta | None = None

    def __post_init__(self) -> None:
        require_aware("infusion_start.at", self.at)
        require_text("infusion_start.started_by", self.started_by)
        if self.rate_ml_per_hour is None and self.planned_duration is None:
            raise InvalidInput("infusion_start: give the rate (mL/h) or the planned duration")
        if self.rate_ml_per_hour is not None and not self.rate_ml_per_hour > 0:
            raise InvalidInput("infusion_start.rate_ml_per_hour: must be positive")
        if self.planned_duration is not None and self.planned_duration <= timedelta(0):
            raise InvalidInput("infusion_start.planned_duration: must be positive")


@dataclass(frozen=True, slots=True)
class InfusionEnd:
    at: datetime
    ended_by: str

    def __post_init__(self) -> None:
        require_aware("infusion_end.at", self.at)
        require_text("infusion_end.ended_by", self.ended_by)


class Symptom(StrEnum):
    URTICARIA = "urticaria"
    HYPOTENSION = "hypotension"
    DYSPNEA = "dyspnea"
    ANAPHYLAXIS = "anaphylaxis"
    OTHER = "other"


class ReactionSeverity(StrEnum):
    MILD = "mild"
    MODERATE = "moderate"
    SEVERE = "severe"
    LIFE_THREATENING = "life-threatening"


@dataclass(frozen=True, slots=True)
class Reaction:
    """A hypersensitivity / infusion reaction and the emergency treatment given.

    ``description`` is free text; it is required when ``other`` is among the
    symptoms. ``as_allergy`` is what the application records in the patient's
    record (as an AllergyIntolerance) so that ``hypersensitivity.prior-reaction``
    fires at every later assessment.
    """

    at: datetime
    recorded_by: str
    symptoms: frozenset[Symptom]
    severity: ReactionSeverity
    treatment: str
    description: str = ""

    def __post_init__(self) -> None:
        require_aware("reaction.at", self.at)
        require_text("reaction.recorded_by", self.recorded_by)
        require_text("reaction.treatment", self.treatment)
        if not self.symptoms:
            raise InvalidInput("reaction.symptoms: name at least one symptom")
        if Symptom.OTHER in self.symptoms and not self.description.strip():
            raise InvalidInput(
                "reaction.description: describe the reaction when a symptom is 'other'"
            )

    @property
    def summary(self) -> str:
        """``urticaria, hypotension (severe); treated with …``: the allergy's reaction text."""
        names = [s.value for s in Symptom if s in self.symptoms and s is not Symptom.OTHER]
        if Symptom.OTHER in self.symptoms:
            names.append(self.description.strip())
        return f"{', '.join(names)} ({self.severity.value}); treated with {self.treatment.strip()}"

    def as_allergy(self, ident: str, protocol: Protocol) -> Allergy:
        """The confirmed allergy to natalizumab the rule ``hypersensitivity.prior-reaction`` reads.

        Its codes are every exact code of the protocol's ``natalizumab`` value
        set, so the rule matches it whichever code system the record favours.
        """
        codes = tuple(
            Coding(entry.system, entry.code, entry.display)
            for entry in protocol.value_set("natalizumab").entries
            if entry.match is Match.EXACT
        )
        return Allergy(
            id=ident,
            codes=codes,
            verification_status="confirmed",
            at=self.at,
            reaction=self.summary,
            severe=self.severity in (ReactionSeverity.SEVERE, ReactionSeverity.LIFE_THREATENING)
            or Symptom.ANAPHYLAXIS in self.symptoms,
        )


@dataclass(frozen=True, slots=True)
class Discharge:
    at: datetime
    discharged_by: str

    def __post_init__(self) -> None:
        require_aware("discharge.at", self.at)
        require_text("discharge.discharged_by", self.discharged_by)


@dataclass(frozen=True, slots=True)
class Cancellation:
    """Calling off a visit before the infusion starts (a hold, a spoiled bag, …)."""

    at: datetime
    cancelled_by: str
    reason: str

    def __post_init__(self) -> None:
        require_aware("cancellation.at", self.at)
        require_text("cancellation.cancelled_by", self.cancelled_by)
        require_text("cancellation.reason", self.reason)
