"""The clinic's safety report: what it observes beside what the protocol expects.

Counts come from one SQL aggregate over the summary rows (``Summaries.safety_counts``);
this use case only turns them into rates with 95 % confidence intervals
(``domain/confidence.py``) and puts the protocol's expected rate (``expected_*``
parameters, with their source) beside each. Definitions: docs/safety-report.md.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, datetime

from natalizumab_cds.application.assessing import ClinicContext
from natalizumab_cds.application.ports import Database
from natalizumab_cds.application.safety_counts import SafetyCounts
from natalizumab_cds.domain.confidence import Interval, garwood, wilson

DAYS_PER_YEAR = 365.25


@dataclass(frozen=True, slots=True)
class SafetyMeasure:
    """One line of the report: observed ``numerator / denominator`` and the expected rate."""

    key: str
    title: str
    numerator: float
    denominator: float
    unit: str  # "proportion" (of patients / items) or "per patient-year"
    observed: float | None
    interval: Interval | None
    expected: float | None
    expected_source: str
    denominator_label: str


@dataclass(frozen=True, slots=True)
class SerumLevels:
    """Latest serum natalizumab levels on treatment of one group of patients (µg/mL)."""

    key: str
    title: str
    patients: int  # treated patients of the group with a level on treatment
    median: float | None
    quartiles: tuple[float, float] | None  # lower and upper quartile (inclusive method)
    below_threshold: int  # patients whose level is below ``threshold``
    threshold: float  # the low-level rule's parameter, µg/mL
    expected: float
    expected_source: str


@dataclass(frozen=True, slots=True)
class SafetyReport:
    generated_at: datetime
    today: date
    protocol_name: str
    protocol_version: str
    counts: SafetyCounts
    measures: tuple[SafetyMeasure, ...]
    levels: tuple[SerumLevels, ...] = ()


class ClinicSafetyReport:
    def __init__(self, database: Database, context: ClinicContext) -> None:
        self._database = database
        self._context = context

    def report(self) -> SafetyReport:
        today = self._context.today()
        with self._database.reading() as uow:
            counts = uow.summaries.safety_counts(today)
            levels = uow.summaries.serum_levels()
        protocol = self._context.protocol
        return SafetyReport(
            generated_at=self._context.now(),
            today=today,
            protocol_name=protocol.name,
            protocol_version=protocol.version,
            counts=counts,
            measures=self._measures(counts),
            levels=(
                self._levels(
                    "with-antibodies",
                    "Ever antibody-positive",
                    [level for level, positive in levels if positive],
                    "expected_level_with_antibodies",
                ),
                self._levels(
                    "without-antibodies",
                    "Never antibody-positive",
                    [level for level, positive in levels if not positive],
                    "expected_level_without_antibodies",
                ),
            ),
        )

    def _levels(self, key: str, title: str, levels: list[float], expected: str) -> SerumLevels:
        value, source = self._expected(expected)
        assert value is not None  # a named parameter always has a value
        threshold = self._context.protocol.number("low_drug_level")
        quartiles = None
        if len(levels) >= 2:
            lower, _, upper = statistics.quantiles(levels, n=4, method="inclusive")
            quartiles = (lower, upper)
        elif levels:
            quartiles = (levels[0], levels[0])
        return SerumLevels(
            key=key,
            title=title,
            patients=len(levels),
            median=statistics.median(levels) if levels else None,
            quartiles=quartiles,
            below_threshold=sum(1 for level in levels if level < threshold),
            threshold=threshold,
            expected=value,
            expected_source=source,
        )

    def _expected(self, name: str | None) -> tuple[float | None, str]:
        if name is None:
            return None, ""
        parameter = self._context.protocol.parameters[name]
        return parameter.value, parameter.source

    def _share(
        self, key: str, title: str, k: int, n: int, label: str, expected: str | None
    ) -> SafetyMeasure:
        value, source = self._expected(expected)
        return SafetyMeasure(
            key, title, k, n, "proportion", k / n if n else None, wilson(k, n), value, source, label
        )

    def _measures(self, c: SafetyCounts) -> tuple[SafetyMeasure, ...]:
        years = c.exposure_days / DAYS_PER_YEAR
        value, source = self._expected("expected_infections_per_patient_year")
        infections = SafetyMeasure(
            "infections",
            "Infections per patient-year on treatment",
            c.infections,
            years,
            "per patient-year",
            c.infections / years if years > 0 else None,
            garwood(c.infections, years),
            value,
            source,
            "patient-years on treatment",
        )
        return (
            self._share(
                "severe-reactions",
                "Severe infusion reactions",
                c.severe_reactions,
                c.treated,
                "treated patients",
                "expected_severe_reaction_rate",
            ),
            infections,
            self._share(
                "thyroid-abnormal",
                "Abnormal TSH or free T4 on treatment",
                c.thyroid_abnormal,
                c.thyroid_tested,
                "treated patients with a thyroid test",
                "expected_thyroiditis_rate",
            ),
            self._share(
                "antibody-positive",
                "Anti-natalizumab antibodies positive",
                c.antibody_positive,
                c.antibody_tested,
                "patients tested",
                "expected_antibody_rate",
            ),
            self._share(
                "antibody-persistent",
                "Anti-natalizumab antibodies persistent",
                c.antibody_persistent,
                c.antibody_tested,
                "patients tested",
                "expected_persistent_antibody_rate",
            ),
            self._share(
                "monitoring-on-time",
                "Monitoring items not overdue",
                c.monitoring_on_time,
                c.monitoring_items,
                "monitoring items due",
                None,
            ),
        )
