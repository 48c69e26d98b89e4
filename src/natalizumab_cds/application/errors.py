"""Errors the clinic service's use cases raise (all subclass ``NtzError``).

- ``UnknownPatient``: a patient id that is not on file (the API answers 404).
- ``DecisionRefused``: a clinician's decision that does not fit the patient's
  current findings, e.g. acknowledging a caution that is not there (409).
- ``NotOverridable``: an override of a rule the catalogue does not mark
  overridable (422).
- ``ConcurrentUpdate``: another writer changed the same patient first; use cases
  retry a few times before letting it out (409).
- ``DatabaseUnavailable``: the database cannot be reached or stays locked (503).
"""

from __future__ import annotations

from natalizumab_cds.domain.errors import NtzError


class UnknownPatient(NtzError):
    def __init__(self, patient_id: str) -> None:
        super().__init__(f"patient {patient_id!r} is not on file")
        self.patient_id = patient_id


class DecisionRefused(NtzError):
    """A decision that contradicts the patient's current assessment."""


class NotOverridable(NtzError):
    def __init__(self, rule: str) -> None:
        super().__init__(
            f"rule {rule!r} cannot be overridden: the catalogue marks it as not overridable"
        )
        self.rule = rule


class ConcurrentUpdate(NtzError):
    """Another writer changed the same patient's record in the meantime."""


class DatabaseUnavailable(NtzError):
    """The database cannot be reached, or stayed locked past the busy timeout."""
