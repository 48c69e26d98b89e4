"""The clearance gate on a screening's "new medicines" answer.

The rule ``immunosuppression.concurrent`` judges *coded* medication
statements; a medicine only named in the screening's free text is not in the
record, so the assessment cannot see it. Clearing the patient therefore asks,
when the screening says there are new medicines:

- if the text names a medicine of the protocol's ``immunosuppressants`` value
  set (an exact entry's display, or any of an entry's ``names``: INN
  spellings, brand names, members of an ATC group; case-insensitive, whole
  words), the clearance is refused outright under that rule's id: record the
  medicine in the medication list, where the assessment judges it, or correct
  the answer;
- otherwise the clinician clearing must confirm the new medicines were
  reviewed against the prohibited list (``administration.requires-clearance``
  until they do).

No finding is made here: this is a gate on the clearance, not a rule of the
assessment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from natalizumab_cds.domain.errors import WorkflowRefused
from natalizumab_cds.domain.infusion_events import Screening
from natalizumab_cds.domain.infusion_rules import ADMINISTRATION_REQUIRES_CLEARANCE
from natalizumab_cds.domain.protocol import CodeEntry, Match, Protocol
from natalizumab_cds.domain.rules.immunosuppression import CONCURRENT

#: What the prohibited list covers, in the words the refusals use.
PROHIBITED = "immunosuppressants, antineoplastic and immunomodulating agents"


@dataclass(frozen=True, slots=True)
class NamedMedicine:
    """A prohibited medicine found in free text: as written, and the entry it matched."""

    written: str
    entry: CodeEntry

    def __str__(self) -> str:
        return f"{self.written} ({self.entry.display}, {self.entry.code})"


def _pattern(name: str) -> re.Pattern[str]:
    """``name`` as whole words: no letter right before or after; spaces and hyphens alike."""
    words = [re.escape(word) for word in re.split(r"[\s\-]+", name.strip()) if word]
    return re.compile(r"(?<![^\W\d_])" + r"[\s\-]+".join(words) + r"(?![^\W\d_])", re.IGNORECASE)


def immunosuppressants_named(text: str, protocol: Protocol) -> tuple[NamedMedicine, ...]:
    """The prohibited medicines ``text`` names, in the order written; the longest name wins."""
    found: list[tuple[int, int, CodeEntry]] = []
    for entry in protocol.value_set("immunosuppressants").entries:
        names = ([entry.display] if entry.match is Match.EXACT else []) + list(entry.names)
        for name in names:
            found += [(m.start(), m.end(), entry) for m in _pattern(name).finditer(text)]
    found.sort(key=lambda hit: (hit[0], -(hit[1] - hit[0])))
    named: list[NamedMedicine] = []
    covered = 0
    for start, end, entry in found:
        if start >= covered:
            named.append(NamedMedicine(text[start:end], entry))
            covered = end
    return tuple(named)


def check_new_medicines(screening: Screening, reviewed: bool, protocol: Protocol) -> None:
    """Refuse a clearance the screening's new medicines do not allow (see the module)."""
    if not screening.new_medicines:
        return
    detail = screening.new_medicines_detail.strip()
    named = immunosuppressants_named(detail, protocol)
    if named:
        medicines = "; ".join(str(medicine) for medicine in named)
        raise WorkflowRefused(
            CONCURRENT.id,
            f"the screening names {medicines}: {PROHIBITED} must not be given with "
            "natalizumab; record it in the patient's medication list, where the assessment "
            "judges it, or correct the screening answer",
        )
    if not reviewed:
        raise WorkflowRefused(
            ADMINISTRATION_REQUIRES_CLEARANCE.id,
            f"the screening names new medicines ({detail}): the clinician clearing must "
            f"confirm they were reviewed against the prohibited list ({PROHIBITED})",
            "clearance.medicines_reviewed",
        )
