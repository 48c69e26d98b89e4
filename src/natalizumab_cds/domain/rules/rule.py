"""What every rule shares: its context, its shape, and how it reports a finding."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from natalizumab_cds.domain.findings import Effect, Finding, RuleSpec, Severity, severity_of
from natalizumab_cds.domain.protocol import Protocol
from natalizumab_cds.domain.timeline import Timeline


@dataclass(frozen=True, slots=True)
class Context:
    """One assessment's inputs: the record, the protocol, the moment and its clinic day."""

    timeline: Timeline
    protocol: Protocol
    at: datetime
    tz: tzinfo

    @property
    def today(self) -> date:
        return self.at.astimezone(self.tz).date()

    def day_of(self, moment: datetime) -> date:
        return moment.astimezone(self.tz).date()


Evaluate = Callable[[Context], list[Finding]]


@dataclass(frozen=True, slots=True)
class Rule:
    spec: RuleSpec
    evaluate: Evaluate


def fire(
    spec: RuleSpec,
    effect: Effect,
    summary: str,
    *,
    evidence: Iterable[str] = (),
    data_at: datetime | None = None,
    quiet: Severity = Severity.INFO,
    suggestions: Iterable[str] = (),
) -> list[Finding]:
    """The one finding a rule returns when it fires (a list, so rules can ``return fire(...)``)."""
    return [
        Finding(
            rule=spec.id,
            effect=effect,
            severity=severity_of(effect, quiet),
            summary=summary,
            basis=spec.citation.basis,
            evidence=tuple(evidence),
            data_at=data_at,
            suggestions=tuple(suggestions),
        )
    ]


#: From this size on, a value is written in significant digits, not in full.
LARGE = 1_000_000.0


def number(value: float) -> str:
    """A value as a clinician writes it: 150, 3.8, 0.25 (no trailing zeros).

    No lab result reaches ``LARGE``, but a record may say one does (a typing slip
    in a feed): that is written in six significant digits, ``1e+308``, not in
    309 digits across a finding, a card or a printed summary.
    """
    if not abs(value) < LARGE:  # also infinity and NaN
        return f"{value:g}"
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text if text != "-0" else "0"


def newest(*moments: datetime | None) -> datetime | None:
    known = [m for m in moments if m is not None]
    return max(known) if known else None
