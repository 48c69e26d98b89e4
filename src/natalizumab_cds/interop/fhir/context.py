"""What every resource mapper needs besides the resource itself.

Built once per read: the protocol's value sets (looked up once, not per
resource) and the ``Medication`` resources of the record, so that a
``medicationReference`` can be resolved to codes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from natalizumab_cds.domain.protocol import Protocol, ValueSet
from natalizumab_cds.domain.timeline import Coding
from natalizumab_cds.interop.fhir.fields import JsonObject


@dataclass(frozen=True, slots=True)
class Context:
    natalizumab: ValueSet
    infections: tuple[ValueSet, ...]
    #: Medication resources by reference ("Medication/m1", or an entry's fullUrl).
    medications: Mapping[str, JsonObject]

    @classmethod
    def for_protocol(cls, protocol: Protocol, medications: Mapping[str, JsonObject]) -> Context:
        return cls(
            natalizumab=protocol.value_set("natalizumab"),
            infections=(
                protocol.value_set("active_infections"),
                protocol.value_set("opportunistic_infections"),
            ),
            medications=medications,
        )

    def is_natalizumab(self, codes: tuple[Coding, ...]) -> bool:
        return self.natalizumab.first_match(codes) is not None

    def is_infection(self, codes: tuple[Coding, ...]) -> bool:
        return any(value_set.first_match(codes) for value_set in self.infections)
