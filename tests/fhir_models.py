"""Validating what the product sends out against FHIR models, in two editions.

* **R4 (4.0.1)**, the version INTERFACES.md names: the SMART on FHIR client's
  models (``fhirclient``, generated from the R4 4.0.1 StructureDefinitions),
  read strictly: every element must exist in R4 with its type, every required
  element must be present, dates must have FHIR's format. An element that only
  a later version has (R4B, R5) is refused as superfluous.
* **R4B (4.3.0)** with ``fhir.resources`` (pydantic models), whose newest
  releases no longer ship R4 itself; it checks primitives more closely
  (ids, codes, URIs).

Neither checks required terminology bindings; the export tests check the ones
that matter to us.
"""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.bundle import Bundle as R4BBundle
from fhirclient.models.fhirabstractbase import FHIRValidationError
from fhirclient.models.fhirelementfactory import FHIRElementFactory


def validate_r4(resource: dict[str, Any]) -> None:
    """Raise ``AssertionError`` naming every problem unless ``resource`` is valid FHIR R4."""
    kind = resource.get("resourceType")
    model = FHIRElementFactory.instantiate(kind, None)
    if type(model).__name__ != kind:  # the factory falls back to a generic element
        raise AssertionError(f"{kind!r} is not an R4 resource type")
    try:
        type(model)(resource, strict=True)
    except FHIRValidationError as error:
        raise AssertionError(f"not valid FHIR R4: {error}") from None


def validate_r4_and_r4b(bundle: dict[str, Any]) -> R4BBundle:
    """Both editions' checks on a Bundle; the R4B model, for a test to look into."""
    validate_r4(bundle)
    return R4BBundle.model_validate(bundle)
