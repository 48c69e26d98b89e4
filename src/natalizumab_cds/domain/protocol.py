"""The protocol as data: parameters with units and sources, and coded value sets.

``parse_protocol`` takes the already-parsed TOML mappings (reading the files is
the application's job) and refuses anything incomplete or inconsistent with a
``ProtocolError`` that names the entry. Rules read numbers only through
``Protocol.number`` / ``Protocol.interval``; names are checked at load, so a
rule can never ask for a parameter the file lacks.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from natalizumab_cds.domain.errors import ProtocolError
from natalizumab_cds.domain.timeline import Coding

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ATC = "http://www.whocc.no/atc"
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
LOCAL = "urn:natalizumab-cds:local"
RULE_SYSTEM = "urn:natalizumab-cds:rule"


class TimeUnit(StrEnum):
    MINUTES = "minutes"
    HOURS = "hours"
    DAYS = "days"
    WEEKS = "weeks"
    MONTHS = "months"
    YEARS = "years"


def add_months(day: date, months: int) -> date:
    """Calendar months: 31 Jan + 1 month = 28/29 Feb."""
    year, month0 = divmod(day.month - 1 + months, 12)
    year += day.year
    last = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(day.day, last))


@dataclass(frozen=True, slots=True)
class Interval:
    count: int
    unit: TimeUnit

    def after(self, day: date) -> date:
        if self.unit is TimeUnit.MONTHS:
            return add_months(day, self.count)
        if self.unit is TimeUnit.YEARS:
            return add_months(day, 12 * self.count)
        return day + self.as_timedelta()

    def before(self, day: date) -> date:
        if self.unit is TimeUnit.MONTHS:
            return add_months(day, -self.count)
        if self.unit is TimeUnit.YEARS:
            return add_months(day, -12 * self.count)
        return day - self.as_timedelta()

    def as_timedelta(self) -> timedelta:
        per_unit = {
            TimeUnit.MINUTES: timedelta(minutes=1),
            TimeUnit.HOURS: timedelta(hours=1),
            TimeUnit.DAYS: timedelta(days=1),
            TimeUnit.WEEKS: timedelta(weeks=1),
        }
        if self.unit not in per_unit:
            raise ProtocolError(f"an interval in {self.unit} has no fixed length")
        return per_unit[self.unit] * self.count

    def __str__(self) -> str:
        unit = self.unit.value if self.count != 1 else self.unit.value.rstrip("s")
        return f"{self.count} {unit}"


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str
    value: float
    unit: str
    source: str


class Match(StrEnum):
    EXACT = "exact"
    PREFIX = "prefix"


@dataclass(frozen=True, slots=True)
class CodeEntry:
    system: str
    code: str
    display: str
    match: Match
    source: str
    #: Other names the medicine is written as in free text (INN spellings,
    #: brand names), for matching a screening answer; optional.
    names: tuple[str, ...] = ()

    def matches(self, coding: Coding) -> bool:
        if coding.system != self.system:
            return False
        if self.match is Match.PREFIX:
            return coding.code.startswith(self.code)
        return coding.code == self.code


@dataclass(frozen=True, slots=True)
class ValueSet:
    name: str
    entries: tuple[CodeEntry, ...]

    def first_match(self, codings: Iterable[Coding]) -> CodeEntry | None:
        for coding in codings:
            for entry in self.entries:
                if entry.matches(coding):
                    return entry
        return None


# Every parameter a rule or workflow uses, with the units it may be written in.
_INTERVAL_UNITS = frozenset(u.value for u in TimeUnit)
REQUIRED_PARAMETERS: dict[str, frozenset[str]] = {
    "pediatric_age": frozenset({"years"}),
    "elderly_age": frozenset({"years"}),
    "liver_uln_multiple": frozenset({"1"}),
    "default_uln_alt": frozenset({"U/L"}),
    "default_uln_ast": frozenset({"U/L"}),
    "liver_baseline_window": _INTERVAL_UNITS,
    "antibody_persistence_gap": _INTERVAL_UNITS,
    "low_drug_level": frozenset({"ug/mL"}),
    "min_dosing_gap": _INTERVAL_UNITS,
    "restart_gap": _INTERVAL_UNITS,
    "restart_max_prior_infusions": frozenset({"1"}),
    "activity_window": _INTERVAL_UNITS,
    "antibody_test_window": _INTERVAL_UNITS,
    "edss_confirmation_gap": _INTERVAL_UNITS,
    "edss_baseline_cutoff": frozenset({"1"}),
    "edss_step_low_baseline": frozenset({"1"}),
    "edss_step_high_baseline": frozenset({"1"}),
    "due_soon_window": _INTERVAL_UNITS,
    "interval_liver": _INTERVAL_UNITS,
    "interval_blood": _INTERVAL_UNITS,
    "interval_thyroid": _INTERVAL_UNITS,
    "interval_antibody": _INTERVAL_UNITS,
    "interval_mri": _INTERVAL_UNITS,
    "interval_edss": _INTERVAL_UNITS,
    "interval_infusion": _INTERVAL_UNITS,
    "dose": frozenset({"mg"}),
    "diluent_volume": frozenset({"mL"}),
    "stability_total": _INTERVAL_UNITS,
    "stability_room_temperature": _INTERVAL_UNITS,
    "min_infusion_duration": _INTERVAL_UNITS,
    "observation_period": _INTERVAL_UNITS,
    "reaction_window": _INTERVAL_UNITS,
    "expected_severe_reaction_rate": frozenset({"1"}),
    "expected_infections_per_patient_year": frozenset({"1/a"}),
    "expected_thyroiditis_rate": frozenset({"1"}),
    "expected_antibody_rate": frozenset({"1"}),
    "expected_persistent_antibody_rate": frozenset({"1"}),
    "expected_level_with_antibodies": frozenset({"ug/mL"}),
    "expected_level_without_antibodies": frozenset({"ug/mL"}),
}

REQUIRED_VALUE_SETS = (
    "immunosuppressants",
    "immunosuppressant_exclusions",
    "natalizumab",
    "active_infections",
    "opportunistic_infections",
)


@dataclass(frozen=True, slots=True)
class Protocol:
    """A validated protocol: name, version, parameters and value sets."""

    name: str
    version: str
    parameters: Mapping[str, Parameter]
    value_sets: Mapping[str, ValueSet]

    def parameter(self, name: str) -> Parameter:
        return self.parameters[name]

    def number(self, name: str) -> float:
        return self.parameters[name].value

    def interval(self, name: str) -> Interval:
        parameter = self.parameters[name]
        return Interval(int(parameter.value), TimeUnit(parameter.unit))

    def value_set(self, name: str) -> ValueSet:
        return self.value_sets[name]


def parse_protocol(parameters: Mapping[str, Any], value_sets: Mapping[str, Any]) -> Protocol:
    """Validate the two parsed protocol files and build the ``Protocol``."""
    header = parameters.get("protocol")
    if not isinstance(header, Mapping):
        raise ProtocolError("parameters file: the [protocol] table (name, version) is missing")
    name, version = header.get("name"), header.get("version")
    if not isinstance(name, str) or not name or not isinstance(version, str) or not version:
        raise ProtocolError("parameters file: [protocol] needs a non-empty name and version")
    table = parameters.get("parameters")
    if not isinstance(table, Mapping):
        raise ProtocolError("parameters file: the [parameters] tables are missing")
    parsed = {key: _parse_parameter(key, raw) for key, raw in table.items()}
    for key, units in REQUIRED_PARAMETERS.items():
        if key not in parsed:
            raise ProtocolError(f"parameters.{key}: required parameter is missing")
        if parsed[key].unit not in units:
            allowed = ", ".join(sorted(units))
            raise ProtocolError(
                f"parameters.{key}.unit: '{parsed[key].unit}' is not one of: {allowed}"
            )
        if parsed[key].unit in _INTERVAL_UNITS and parsed[key].value != int(parsed[key].value):
            raise ProtocolError(f"parameters.{key}.value: an interval must be a whole number")
    sets = {key: _parse_value_set(key, value_sets.get(key)) for key in REQUIRED_VALUE_SETS}
    _check_exclusions(sets["immunosuppressants"], sets["immunosuppressant_exclusions"])
    return Protocol(name=name, version=version, parameters=parsed, value_sets=sets)


def _parse_parameter(key: str, raw: Any) -> Parameter:
    if not isinstance(raw, Mapping):
        raise ProtocolError(f"parameters.{key}: expected a table with value, unit and source")
    value, unit, source = raw.get("value"), raw.get("unit"), raw.get("source")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ProtocolError(f"parameters.{key}.value: expected a number, got {value!r}")
    if value <= 0:
        raise ProtocolError(f"parameters.{key}.value: must be positive, got {value!r}")
    if not isinstance(unit, str) or not unit:
        raise ProtocolError(f"parameters.{key}.unit: missing")
    if not isinstance(source, str) or not source.strip():
        raise ProtocolError(f"parameters.{key}.source: every parameter needs its source")
    return Parameter(name=key, value=float(value), unit=unit, source=source)


def _parse_value_set(key: str, raw: Any) -> ValueSet:
    if not isinstance(raw, list) or not raw:
        raise ProtocolError(f"value_sets.{key}: missing or empty")
    entries = []
    for index, item in enumerate(raw):
        where = f"value_sets.{key}[{index}]"
        if not isinstance(item, Mapping):
            raise ProtocolError(f"{where}: expected a table")
        for field_name in ("system", "code", "display", "source"):
            if not isinstance(item.get(field_name), str) or not item[field_name].strip():
                raise ProtocolError(f"{where}.{field_name}: missing or empty")
        try:
            match = Match(item.get("match", "exact"))
        except ValueError:
            raise ProtocolError(f"{where}.match: must be 'exact' or 'prefix'") from None
        names = item.get("names", [])
        if not isinstance(names, list) or not all(isinstance(n, str) and n.strip() for n in names):
            raise ProtocolError(f"{where}.names: expected a list of non-empty names")
        entries.append(
            CodeEntry(
                item["system"],
                item["code"],
                item["display"],
                match,
                item["source"],
                tuple(n.strip() for n in names),
            )
        )
    return ValueSet(name=key, entries=tuple(entries))


def _check_exclusions(listed: ValueSet, excluded: ValueSet) -> None:
    """An exact entry in the immunosuppressant list must never be an excluded code."""
    for entry in listed.entries:
        if entry.match is Match.EXACT and excluded.first_match([Coding(entry.system, entry.code)]):
            raise ProtocolError(
                f"value_sets.immunosuppressants: {entry.code} ({entry.display}) "
                "is excluded (natalizumab or an aminosalicylate)"
            )
