"""What an assessment says: effects, severities, decisions, citations, findings.

The words of every enum are the catalogue's words (CLINICAL_RULES.md); they go
out unchanged in JSON, cards, exports and audit records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Effect(StrEnum):
    """What a finding does to today's infusion, from harmless to final."""

    NONE = "none"
    CAUTION = "caution"
    HOLD = "hold"
    DISCONTINUE = "discontinue"

    @property
    def rank(self) -> int:
        return _EFFECT_RANK[self]


_EFFECT_RANK = {Effect.NONE: 0, Effect.CAUTION: 1, Effect.HOLD: 2, Effect.DISCONTINUE: 3}


class Severity(StrEnum):
    """How loudly a finding is shown (CDS Hooks ``indicator``)."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class Decision(StrEnum):
    """The answer before an infusion: the worst effect among the findings."""

    PROCEED = "proceed"
    CAUTION = "caution"
    HOLD = "hold"
    DISCONTINUE = "discontinue"

    @classmethod
    def from_effect(cls, effect: Effect) -> Decision:
        return _DECISION_OF_EFFECT[effect]


_DECISION_OF_EFFECT = {
    Effect.NONE: Decision.PROCEED,
    Effect.CAUTION: Decision.CAUTION,
    Effect.HOLD: Decision.HOLD,
    Effect.DISCONTINUE: Decision.DISCONTINUE,
}


def severity_of(effect: Effect, quiet: Severity = Severity.INFO) -> Severity:
    """Severity follows the effect; an effect-none finding keeps its listed severity."""
    if effect in (Effect.HOLD, Effect.DISCONTINUE):
        return Severity.CRITICAL
    if effect is Effect.CAUTION:
        return Severity.WARNING
    return quiet


@dataclass(frozen=True, slots=True)
class Citation:
    """Where a rule comes from: the protocol text, a label, or the product itself.

    ``source`` names the document ("Protocol text", "US PI", "EU SmPC",
    "Product"), ``section`` the heading in it, ``statement`` the rule in a few
    words and ``quote`` the sentence it rests on (shown on one click).
    """

    source: str
    section: str
    statement: str
    quote: str = ""

    @property
    def basis(self) -> str:
        return f"{self.source}, {self.section}: {self.statement}"


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """A rule's identity: stable id, title, citation, and whether it accepts an override."""

    id: str
    title: str
    citation: Citation
    overridable: bool = False


@dataclass(frozen=True, slots=True)
class Override:
    """A clinician's documented decision on one finding (a FHIR ``DetectedIssue``)."""

    id: str
    rule: str
    author: str
    at: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule that fired, with the values and dates it used and what it rests on.

    ``evidence`` holds resource references ("Observation/alt-1"); ``data_at`` is
    the newest date among the data used, so an override older than that data
    does not silence it. ``suggestions`` are follow-up actions in plain words.
    """

    rule: str
    effect: Effect
    severity: Severity
    summary: str
    basis: str
    evidence: tuple[str, ...] = ()
    data_at: datetime | None = None
    suggestions: tuple[str, ...] = ()
    overridden: bool = False
    override: Override | None = field(default=None)
    original_effect: Effect | None = None


def worst_first(findings: list[Finding]) -> list[Finding]:
    """Findings ordered worst effect first, then by rule id for a stable order."""
    return sorted(findings, key=lambda f: (-f.effect.rank, -_SEVERITY_RANK[f.severity], f.rule))


_SEVERITY_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}
