"""The clinical-result forms: an antibody test, an MRI read, a relapse.

The lab form (``lab_entry.py``) takes numbers with units. These three take what
it cannot, and what a clinic without an EHR feed would otherwise keep on paper:

- an anti-natalizumab antibody test: positive or negative;
- a brain MRI read: its gadolinium-enhancing and new or enlarging T2 lesion
  counts;
- an MS relapse: the day it began.

Each form is checked field by field. Nothing is defaulted: a blank lesion count
is refused, never read as 0, and a result must be chosen, never assumed
negative. What passes is imported as a FHIR Observation coded as INTERFACES.md
§1 says, through the import use case, so it drives exactly the rules the same
result sent by an EHR would (``antibody.*``, ``mri.activity``,
``relapse.recent``, ``activity.neda3`` and the monitoring schedule).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, tzinfo
from typing import Any

from natalizumab_cds.domain.protocol import LOCAL, SNOMED
from natalizumab_cds.web.lab_entry import KEPT, past_day, recorded_observation, too_long

#: The largest lesion count the form takes: more is a typing slip, not a read.
MAX_LESIONS = 200
ANTIBODY_RESULTS = {
    "positive": (SNOMED, "10828004", "Positive"),
    "negative": (SNOMED, "260385009", "Negative"),
}
LESIONS = {
    "gd": ("gd-enhancing-lesions", "Gadolinium-enhancing lesions"),
    "t2": ("new-or-enlarging-t2-lesions", "New or enlarging T2 lesions"),
}
#: Each field in words, as the messages name it.
LABELS = {
    "date": "The date",
    "result": "The result",
    **{name: f"The number of {display.lower()}" for name, (_, display) in LESIONS.items()},
}


@dataclass(frozen=True, slots=True)
class Kind:
    """One form: its fields, words on the page and how it is coded."""

    key: str
    heading: str
    date_label: str
    date_words: str  # "Enter the date …" in the date field's message
    button: str
    notice: str
    code: str
    category: str
    fields: tuple[str, ...]


KINDS: dict[str, Kind] = {
    kind.key: kind
    for kind in (
        Kind(
            "antibody",
            "Anti-natalizumab antibody test",
            "Sample date",
            "the sample was taken",
            "Record antibody result",
            "Antibody result recorded; the assessment below includes it.",
            "anti-natalizumab-antibody",
            "laboratory",
            ("date", "result"),
        ),
        Kind(
            "mri",
            "Brain MRI read",
            "Scan date",
            "of the scan",
            "Record MRI read",
            "MRI read recorded; the assessment below includes it.",
            "mri-brain",
            "imaging",
            ("date", "gd", "t2"),
        ),
        Kind(
            "relapse",
            "Relapse",
            "Onset date",
            "the relapse began",
            "Record relapse",
            "Relapse recorded; the assessment below includes it.",
            "ms-relapse",
            "exam",
            ("date",),
        ),
    )
}


@dataclass(slots=True)
class ClinicalForm:
    """What was typed into one of the forms, and a message per field that is wrong."""

    kind: Kind
    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def blank(cls, kind: Kind, today: date) -> ClinicalForm:
        values = dict.fromkeys(kind.fields, "")
        values["date"] = today.isoformat()
        return cls(kind, values)

    @classmethod
    def typed(cls, kind: Kind, typed: dict[str, str]) -> ClinicalForm:
        return cls(kind, {name: typed.get(name, "")[:KEPT].strip() for name in kind.fields})


def blank_forms(today: date) -> dict[str, ClinicalForm]:
    return {key: ClinicalForm.blank(kind, today) for key, kind in KINDS.items()}


def _count(form: ClinicalForm, name: str) -> None:
    raw = form.values.get(name, "")
    label = LESIONS[name][1].lower()
    if name in form.errors:
        return
    if not raw:
        form.errors[name] = f"Enter the number of {label} in the report, 0 if none."
    elif not (raw.isascii() and raw.isdigit()):  # "²" is a digit int() cannot read
        form.errors[name] = f"“{raw}” is not a whole number: enter a count, e.g. 0 or 2."
    elif int(raw) > MAX_LESIONS:
        form.errors[name] = f"{raw} lesions is more than a read reports: check the number."


def check(form: ClinicalForm, today: date, born: date | None = None) -> None:
    """Fill ``form.errors`` with a message per wrong field (``born``: the birth date)."""
    too_long(form.values, form.errors, {name: LABELS[name] for name in form.kind.fields})
    past_day(form.values, form.errors, today, form.kind.date_words, born)
    result = form.values.get("result")
    if (
        form.kind.key == "antibody"
        and result not in ANTIBODY_RESULTS
        and "result" not in form.errors
    ):
        form.errors["result"] = "Choose the result the lab reported: positive or negative."
    if form.kind.key == "mri":
        for name in LESIONS:
            _count(form, name)


def observation(form: ClinicalForm, patient_id: str, tz: tzinfo) -> dict[str, Any]:
    """The checked form as a FHIR R4 Observation for ``patient_id``."""
    kind = form.kind
    day = date.fromisoformat(form.values["date"])
    resource = recorded_observation(LOCAL, kind.code, kind.category, patient_id, day, tz)
    if kind.key == "antibody":
        system, code, display = ANTIBODY_RESULTS[form.values["result"]]
        resource["valueCodeableConcept"] = {
            "coding": [{"system": system, "code": code, "display": display}],
            "text": display,
        }
    elif kind.key == "mri":
        resource["component"] = [
            {
                "code": {"coding": [{"system": LOCAL, "code": code, "display": display}]},
                "valueInteger": int(form.values[name]),
            }
            for name, (code, display) in LESIONS.items()
        ]
    return resource


def field_of(form: ClinicalForm, message: str) -> str:
    """The field an import refusal is about (by the FHIR path it names)."""
    lowered = message.lower()
    if "effective" in lowered:
        return "date"
    if "component" in lowered and form.kind.key == "mri":
        return "t2" if "t2" in lowered else "gd"
    return form.kind.fields[-1]
